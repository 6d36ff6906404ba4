import Basics

/// What a CapFilt sample's `KEY.json` holds: where the pair came from, what the filter thought
/// of it, and what was decided. Every field is always present (null when unknown), so all
/// samples of an export have the same columns.
public struct SampleMetadata: ExportedImageFields, Sendable, Equatable {
    /// The catalog key, unescaped (the tar name carries the escaped form).
    public var key: String
    /// The manifest it came from: "coco", "cc3m", "laion", ...
    public var source: String
    /// Who wrote the text: "human", "web" (alt-text) or "synthetic" (the captioner).
    public var origin: String
    /// The exported text.
    public var caption: String
    /// The image's URL, when it came from the web.
    public var url: String?
    /// The image's local path (or blob path), when there is one.
    public var image: String?
    /// SHA-256 of the image bytes as exported.
    public var sha256: String?
    public var width: Int?
    public var height: Int?
    /// The filter's scores: "itm" (match probability), "itc" (cosine), ..., each written with the
    /// shortest digits that read back as the same Double.
    public var scores: [String: Double]
    /// "keep", or whatever the filter decided.
    public var decision: String
    /// Why, when the filter gives a reason.
    public var reason: String?
    /// The manifest's other columns, carried through.
    public var metadata: [String: JSONValue]

    public init(key: String, source: String, origin: String, caption: String, url: String? = nil,
                image: String? = nil, sha256: String? = nil, width: Int? = nil, height: Int? = nil,
                scores: [String: Double] = [:], decision: String = "keep", reason: String? = nil,
                metadata: [String: JSONValue] = [:]) {
        self.key = key; self.source = source; self.origin = origin; self.caption = caption
        self.url = url; self.image = image; self.sha256 = sha256; self.width = width; self.height = height
        self.scores = scores; self.decision = decision; self.reason = reason; self.metadata = metadata
    }

    /// The record, keys sorted when written.
    public var json: JSONValue {
        json(adding: [
            "origin": .string(origin),
            "scores": .object(scores.mapValues { .double($0) }),
            "decision": .string(decision),
            "reason": .optional(reason),
        ])
    }
}
