import Basics

/// One file of a WebDataset sample: written as `KEY.NAME` in the tar.
public struct ShardMember: Sendable, Equatable {
    public enum Content: Sendable, Equatable {
        case bytes([UInt8])
        /// Copied from this file in chunks when the sample is written, never loaded whole.
        case file(String)
    }

    /// The extension after the key: "jpg", "txt", "json", or anything else ("seg.png" too).
    /// WebDataset lowercases extensions when it reads, so lowercase ones are the safe choice.
    public var name: String
    public var content: Content

    public init(name: String, content: Content) {
        self.name = name
        self.content = content
    }

    public static func bytes(_ name: String, _ bytes: [UInt8]) -> ShardMember {
        ShardMember(name: name, content: .bytes(bytes))
    }

    /// Text as UTF-8, exactly as given (no newline added).
    public static func text(_ name: String, _ text: String) -> ShardMember {
        ShardMember(name: name, content: .bytes(Array(text.utf8)))
    }

    /// A JSON value in compact deterministic form.
    public static func json(_ name: String, _ value: JSONValue) -> ShardMember {
        ShardMember(name: name, content: .bytes(DeterministicJSON().encodeBytes(value)))
    }

    public static func file(_ name: String, path: String) -> ShardMember {
        ShardMember(name: name, content: .file(path))
    }
}

/// One sample of a WebDataset export: a key, its members in the order they are written, and
/// what the shard's `_stats.json` should count about it.
public struct ShardSample: Sendable, Equatable {
    /// The catalog's key; escaped by `SampleKey` on the way into the tar.
    public var key: String
    public var members: [ShardMember]
    /// Counted per shard in the stats, per label and value: ["origin": "web"] adds one to
    /// `labels.origin.web`.
    public var labels: [String: String]
    /// Summarised per shard in the stats (count, min, max, mean of the finite ones):
    /// ["itm": 0.93] feeds `values.itm`.
    public var values: [String: Double]
    /// The sample's row in the shard's Parquet sidecar (`WebDatasetOptions.sidecar`), after the
    /// key: one value per column of that schema.
    public var sidecarRow: [ParquetCell]

    public init(key: String, members: [ShardMember], labels: [String: String] = [:], values: [String: Double] = [:],
                sidecarRow: [ParquetCell] = []) {
        self.sidecarRow = sidecarRow
        self.key = key
        self.members = members
        self.labels = labels
        self.values = values
    }

    /// A CapFilt sample: `KEY.<imageExtension>` (the image bytes as stored), `KEY.txt` (the
    /// caption), `KEY.json` (the metadata); the stats count its source, origin and decision and
    /// summarise its scores.
    public static func capfilt(_ metadata: SampleMetadata, image: ShardMember.Content,
                               imageExtension: String = "jpg") -> ShardSample {
        ShardSample(
            key: metadata.key,
            members: [
                ShardMember(name: imageExtension, content: image),
                .text("txt", metadata.caption),
                .json("json", metadata.json),
            ],
            labels: ["source": metadata.source, "origin": metadata.origin, "decision": metadata.decision],
            values: metadata.scores,
            sidecarRow: metadata.sidecarRow(origin: metadata.origin, texts: 1, scores: metadata.scores, reason: metadata.reason))
    }

    /// The columns of a CapFilt shard's Parquet sidecar after `key` (img2dataset's sidecar, with
    /// the filter's view of each sample).
    public static let capfiltSidecarSchema: [ParquetField] = [
        .column("source", .string, nullable: false),
        .column("caption", .string, nullable: false),
        .column("origin", .string, nullable: false),
        .column("texts", .int64, nullable: false),
        .column("url", .string, nullable: true),
        .column("sha256", .string, nullable: true),
        .column("width", .int64, nullable: true),
        .column("height", .int64, nullable: true),
        .column("itm", .double, nullable: true),
        .column("itc", .double, nullable: true),
        .column("reason", .string, nullable: true),
    ]

    /// One image with all of its kept texts (`group_by_image`): `KEY.<imageExtension>`, `KEY.txt`
    /// (the first text), `KEY.json` (`GroupedSampleMetadata`, every text). The stats count its
    /// source and the origins it holds ("synthetic+web"), and summarise how many texts it has and
    /// the scores of the text in `KEY.txt`.
    public static func capfilt(_ metadata: GroupedSampleMetadata, image: ShardMember.Content,
                               imageExtension: String = "jpg") -> ShardSample {
        var values = metadata.texts.first?.scores ?? [:]
        values["texts"] = Double(metadata.texts.count)
        let origins = Set(metadata.texts.map(\.origin)).sorted().joined(separator: "+")
        return ShardSample(
            key: metadata.key,
            members: [
                ShardMember(name: imageExtension, content: image),
                .text("txt", metadata.caption),
                .json("json", metadata.json),
            ],
            labels: ["source": metadata.source, "origins": origins],
            values: values,
            sidecarRow: metadata.sidecarRow(origin: origins, texts: metadata.texts.count,
                                            scores: metadata.texts.first?.scores ?? [:], reason: metadata.texts.first?.reason))
    }
}
