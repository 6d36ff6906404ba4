import Basics

/// What every CapFilt `KEY.json` says about where a sample came from and about its image,
/// whether the export writes one sample per text (`SampleMetadata`) or one per image
/// (`GroupedSampleMetadata`). These fields are written to `KEY.json` and to the Parquet sidecar
/// here, once, so the two layouts cannot drift apart.
public protocol ExportedImageFields {
    /// The catalog key, unescaped (the tar name carries the escaped form).
    var key: String { get }
    /// The manifest it came from: "coco", "cc3m", "laion", ...
    var source: String { get }
    /// The text written to `KEY.txt`.
    var caption: String { get }
    /// The image's URL, when it came from the web.
    var url: String? { get }
    /// The image's local path (or blob path), when there is one.
    var image: String? { get }
    /// SHA-256 of the image bytes as exported.
    var sha256: String? { get }
    var width: Int? { get }
    var height: Int? { get }
    /// The manifest's other columns, carried through.
    var metadata: [String: JSONValue] { get }
}

extension ExportedImageFields {
    /// `KEY.json`: these fields and the record's `own` (keys sorted when written).
    func json(adding own: [String: JSONValue]) -> JSONValue {
        let shared: [String: JSONValue] = [
            "key": .string(key),
            "source": .string(source),
            "caption": .string(caption),
            "url": .optional(url),
            "image": .optional(image),
            "sha256": .optional(sha256),
            "width": width.map { .int($0) } ?? .null,
            "height": height.map { .int($0) } ?? .null,
            "metadata": .object(metadata),
        ]
        return .object(shared.merging(own) { _, own in own })
    }

    /// The sidecar row (`ShardSample.capfiltSidecarSchema`) with the text-side columns given.
    func sidecarRow(origin: String, texts: Int, scores: [String: Double], reason: String?) -> [ParquetCell] {
        [.string(source), .string(caption), .string(origin), .int64(Int64(texts)), .optional(url), .optional(sha256),
         .optional(width), .optional(height), .optional(scores["itm"]), .optional(scores["itc"]), .optional(reason)]
    }
}
