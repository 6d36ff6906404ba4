import Basics
import Compression
import Foundation

/// How a `WebDatasetWriter` cuts and names its shards.
public struct WebDatasetOptions: Sendable, Equatable {
    /// At most this many samples per shard.
    public var samplesPerShard: Int
    /// When set, a shard is closed before a sample that would take it past this many bytes
    /// (end-of-archive blocks included). A sample larger than the limit gets a shard of its own.
    public var maxShardBytes: Int?
    public var naming: ShardNaming
    /// The number of the first shard; several writers can fill one directory with disjoint
    /// ranges (give each its own `naming.prefix`, or turn `removeStaleShards` off and
    /// `indexName` to nil, since each writer otherwise treats the directory as its own).
    public var firstShardIndex: Int
    public var keys: SampleKey.Policy
    /// The mtime of every tar member.
    public var mtime: Int
    /// fsync every file and the directory after each rename. Off trades crash safety for speed.
    public var durable: Bool
    /// Write `NNNNN_stats.json` beside each shard.
    public var writeStats: Bool
    /// Write `NNNNN_samples.tsv` beside each shard: every sample's escaped key and content digest
    /// (`ShardSample.contentDigest`), what `WebDatasetUpdate` needs to update the export later.
    public var writeSampleLists: Bool
    /// The export's index (shard names, counts, sha256), written last by `finish()`; nil for none.
    public var indexName: String?
    /// `finish()` removes shards and stats of this naming that this export did not write (left
    /// by an earlier, larger export into the same directory).
    public var removeStaleShards: Bool
    /// When set, `NNNNN.parquet` beside each shard: one row per sample, the escaped key (as
    /// webdataset's `__key__`) then these columns, filled from `ShardSample.sidecarRow`.
    public var sidecarSchema: [ParquetField]?
    /// The sidecars' page compression.
    public var sidecarCodec: BlockCodec = .snappy
    /// The generation `finish()` writes into the index (see `WebDatasetSummary.generation`).
    public var generation: Int?

    public init(samplesPerShard: Int = 10_000, maxShardBytes: Int? = nil, naming: ShardNaming = ShardNaming(),
                firstShardIndex: Int = 0, keys: SampleKey.Policy = .escape, mtime: Int = 0, durable: Bool = true,
                writeStats: Bool = true, writeSampleLists: Bool = false, indexName: String? = "shards.json",
                removeStaleShards: Bool = true) {
        self.samplesPerShard = samplesPerShard
        self.maxShardBytes = maxShardBytes
        self.naming = naming
        self.firstShardIndex = firstShardIndex
        self.keys = keys
        self.mtime = mtime
        self.durable = durable
        self.writeStats = writeStats
        self.writeSampleLists = writeSampleLists
        self.indexName = indexName
        self.removeStaleShards = removeStaleShards
    }

    /// The key as a tar member name: escaped, or checked (`keys`).
    func writtenKey(_ key: String) throws -> String {
        switch keys {
        case .escape:
            guard !key.isEmpty else { throw ExportError.invalidKey(key) }
            return SampleKey.escape(key)
        case .reject:
            guard SampleKey.isSafe(key) else { throw ExportError.invalidKey(key) }
            return key
        }
    }

    func validate() throws {
        try naming.validate()
        guard samplesPerShard >= 1 else { throw ExportError.invalidOption("samplesPerShard \(samplesPerShard)") }
        if let maxShardBytes, maxShardBytes < 1 { throw ExportError.invalidOption("maxShardBytes \(maxShardBytes)") }
        guard firstShardIndex >= 0, firstShardIndex < naming.limit else {
            throw ExportError.invalidOption("firstShardIndex \(firstShardIndex)")
        }
        guard mtime >= 0 else { throw ExportError.invalidOption("mtime \(mtime)") }
        if let indexName, indexName.isEmpty || indexName.contains("/") || naming.index(ofFileNamed: indexName) != nil {
            throw ExportError.invalidOption("indexName \(indexName.debugDescription)")
        }
    }
}

/// A finished shard, as listed in the index.
public struct ShardInfo: Sendable, Equatable {
    public var index: Int
    /// The tar's file name in the export directory.
    public var name: String
    /// Its stats file's name, when one was written.
    public var statsName: String?
    /// Its sample list's name, when one was written.
    public var samplesName: String?
    /// Its Parquet sidecar's name, when one was written.
    public var sidecarName: String?
    public var count: Int
    /// The tar's size.
    public var bytes: Int
    /// SHA-256 of the tar, lowercase hex.
    public var sha256: String
    /// Escaped keys, as in the tar.
    public var firstKey: String
    public var lastKey: String
    /// Escaped keys of samples in the tar that are no longer in the dataset (an incremental
    /// export's removals), sorted; readers skip them (docs/export.md).
    public var excluded: [String] = []

    var json: JSONValue {
        var fields: [String: JSONValue] = [
            "name": .string(name), "stats": .optional(statsName), "count": .int(count), "bytes": .int(bytes),
            "sha256": .string(sha256), "first_key": .string(firstKey), "last_key": .string(lastKey),
        ]
        if let samplesName { fields["samples"] = .string(samplesName) }
        if let sidecarName { fields["parquet"] = .string(sidecarName) }
        if !excluded.isEmpty { fields["excluded"] = .array(excluded.map { .string($0) }) }
        return .object(fields)
    }
}

/// Where `WebDatasetWriter.add` put a sample.
public struct SampleLocation: Sendable, Equatable {
    /// The shard's file name.
    public var shard: String
    /// The key as written (escaped).
    public var key: String
}

/// What a finished export holds.
public struct WebDatasetSummary: Sendable, Equatable {
    public var shards: [ShardInfo]
    /// Samples a reader sees: those in the shards less the excluded ones.
    public var samples: Int
    /// The brace pattern that names every shard, e.g. "{00000..00003}.tar"; nil for no shards.
    public var urls: String?
    /// The index file's path, when one was written.
    public var indexPath: String?
    /// The index's generation: 1 for a first export, one more at every later one that keeps
    /// sample lists (`writeSampleLists`); nil for an export without them.
    public var generation: Int?

    var json: JSONValue {
        var fields: [String: JSONValue] = [
            "format": "webdataset",
            "samples": .int(samples),
            "shard_count": .int(shards.count),
            "urls": .optional(urls),
            "shards": .array(shards.map(\.json)),
        ]
        if let generation { fields["generation"] = .int(generation) }
        return .object(fields)
    }

    /// The generation of the index file at `path`; nil when there is none or it has none.
    public static func generation(ofIndexAt path: String) -> Int? {
        guard let data = FileManager.default.contents(atPath: path),
              let index = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return index["generation"] as? Int
    }
}
