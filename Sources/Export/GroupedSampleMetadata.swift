import Basics

/// What `KEY.json` holds when an export writes one sample per image (`group_by_image`): the
/// image's fields once, and every kept text of that image with its own origin, scores and
/// decision. `caption` repeats the first text, the one written to `KEY.txt`, so a loader that
/// reads `.txt` alone still gets a valid pair. Every field is always present (null when unknown).
public struct GroupedSampleMetadata: ExportedImageFields, Sendable, Equatable {
    /// One kept text of the image.
    public struct Text: Sendable, Equatable {
        /// "human", "web" or "synthetic".
        public var origin: String
        public var caption: String
        /// "itm", "itc", ..., as in `SampleMetadata.scores`.
        public var scores: [String: Double]
        public var decision: String
        public var reason: String?

        public init(origin: String, caption: String, scores: [String: Double] = [:], decision: String = "keep",
                    reason: String? = nil) {
            self.origin = origin; self.caption = caption; self.scores = scores
            self.decision = decision; self.reason = reason
        }

        var json: JSONValue {
            .object([
                "origin": .string(origin),
                "caption": .string(caption),
                "scores": .object(scores.mapValues { .double($0) }),
                "decision": .string(decision),
                "reason": .optional(reason),
            ])
        }
    }

    /// The image's catalog key (source and manifest key), unescaped.
    public var key: String
    public var source: String
    public var url: String?
    public var image: String?
    public var sha256: String?
    public var width: Int?
    public var height: Int?
    /// The manifest's other columns, carried through.
    public var metadata: [String: JSONValue]
    /// In export order; never empty for an exported sample.
    public var texts: [Text]

    public init(key: String, source: String, url: String? = nil, image: String? = nil, sha256: String? = nil,
                width: Int? = nil, height: Int? = nil, metadata: [String: JSONValue] = [:], texts: [Text]) {
        self.key = key; self.source = source; self.url = url; self.image = image; self.sha256 = sha256
        self.width = width; self.height = height; self.metadata = metadata; self.texts = texts
    }

    /// The text written to `KEY.txt`: the first one.
    public var caption: String { texts.first?.caption ?? "" }

    /// The record, keys sorted when written.
    public var json: JSONValue { json(adding: ["texts": .array(texts.map(\.json))]) }
}
