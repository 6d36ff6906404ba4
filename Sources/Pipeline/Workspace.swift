import Basics
import Foundation

/// A run split into `count` shards by a stable hash of each sample's `(source, key)`; this
/// process works on shard `index`. One machine is `0/1`.
public struct ShardSpec: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) { self.index = index; self.count = count }

    /// Parses "I/N" (0-based I).
    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 0, i < n else { return nil }
        self.init(index: i, count: n)
    }

    public var description: String { "\(index)/\(count)" }
    public var folderName: String { String(format: "%05d-of-%05d", index, count) }

    /// Whether a sample belongs to this shard: FNV-1a 64 over "source\0key", so the split never
    /// depends on the order of rows, the machine or the Swift version.
    public func owns(source: String, key: String) -> Bool {
        count == 1 || Int(Self.hash(source: source, key: key) % UInt64(count)) == index
    }

    public static func hash(source: String, key: String) -> UInt64 {
        var h = FNV1a()
        h.update(source.utf8)
        h.update([0])
        h.update(key.utf8)
        return h.value
    }
}

/// Where a dataset's files live:
///
///     <workdir>/shards/00000-of-00004/catalog.sqlite   one catalog per shard
///     <workdir>/shards/00000-of-00004/blobs/           that shard's downloaded images
///     <workdir>/export/                                  shards and json for researchers
///     <workdir>/report/                                  HTML reports
///     <workdir>/runs/                                    one JSON summary per run
///     <workdir>/semantic/<stage>/state.bin               a dedup stage's semantic clustering
public struct Workspace: Sendable {
    public var root: String
    public var shardCount: Int

    public init(root: String, shardCount: Int) { self.root = root; self.shardCount = shardCount }

    public func shardFolder(_ shard: ShardSpec) -> String { root + "/shards/" + shard.folderName }
    public func catalogPath(_ shard: ShardSpec) -> String { shardFolder(shard) + "/catalog.sqlite" }
    public func blobFolder(_ shard: ShardSpec) -> String { shardFolder(shard) + "/blobs" }
    public func lockPath(_ shard: ShardSpec) -> String { shardFolder(shard) + "/lock" }
    /// A stage's embedding store in one shard (Catalog's `EmbeddingStore`).
    public func embeddingFolder(_ shard: ShardSpec, stage: String) -> String { shardFolder(shard) + "/embeddings/" + stage }
    /// A dedup stage's semantic dedup state: one file for all shards (its centroids are global).
    public func semanticDedupState(stage: String) -> String { root + "/semantic/" + stage + "/state.bin" }
    public var exportFolder: String { root + "/export" }
    public var reportFolder: String { root + "/report" }
    public var runsFolder: String { root + "/runs" }
    public var globalLockPath: String { root + "/lock" }
    public var shards: [ShardSpec] { (0..<shardCount).map { ShardSpec(index: $0, count: shardCount) } }

    public func create(_ shard: ShardSpec?) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
        if let shard { try fm.createDirectory(atPath: blobFolder(shard), withIntermediateDirectories: true) }
        try fm.createDirectory(atPath: runsFolder, withIntermediateDirectories: true)
    }
}
