import Basics
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Brings a WebDataset export up to date with a changed dataset by writing only what changed:
/// new and changed samples go into new shards, removed ones are listed as excluded in the index
/// (`shards.json`, one generation more), and every existing shard stays as it is. Readers of the
/// index see one consistent generation at every moment: new shards are complete before the
/// index that names them replaces the old one by rename, and the shards of the previous
/// generation stay on disk until the next update, for readers still working from it.
///
/// The dataset is given twice, in the same order: `observe` every sample (nothing is written),
/// then `write` every sample (only those that need it are written), then `finish`. The first
/// pass compares each sample's key and content digest (`ShardSample.contentDigest`) with the
/// sample lists (`NNNNN_samples.tsv`) of the current generation's shards; the second writes.
/// A shard whose excluded share would pass `Policy.compactAbove` is retired: its remaining
/// samples are written again, so exclusions never pile up (0 gives a full compaction).
///
/// Without a usable current generation (no index, or one written without sample lists) every
/// sample is new: the first update writes the whole export.
public final class WebDatasetUpdate {
    public struct Policy: Sendable, Equatable {
        /// A shard whose share of excluded samples would be above this is rewritten; 0 to 1.
        public var compactAbove: Double

        public init(compactAbove: Double = 0.25) { self.compactAbove = compactAbove }
    }

    /// What the update did, beside the new index's summary.
    public struct Outcome: Sendable, Equatable {
        public var summary: WebDatasetSummary
        /// Samples written into new shards: new, changed, and moved out of retired shards.
        public var written: Int
        /// Samples that left the dataset (or changed) in this update.
        public var removed: Int
        /// Shards of the previous generation that the new one no longer lists.
        public var retiredShards: Int
        /// Bytes of new shards, stats, sample lists, sidecars and the index.
        public var bytesWritten: Int
    }

    private struct OldShard {
        var info: ShardInfo
        /// Escaped keys in tar order, and their digests.
        var keys: [String]
        var digests: [String]
        var excluded: Set<String>
    }

    public let directory: String
    private let options: WebDatasetOptions
    private let policy: Policy
    private let indexName: String
    private var oldShards: [OldShard] = []
    private var previousGeneration = 0
    /// Live key of the current generation -> (position in `oldShards`, digest).
    private var live: [String: (shard: Int, digest: String)] = [:]
    /// Keys observed with the digest they already have in a kept shard: not written again.
    private var unchanged = Set<String>()
    private var observed = Set<String>()
    private var retired = Set<Int>()
    private var removed = 0
    private var writer: WebDatasetWriter?
    private var written = 0
    private var phase = Phase.observing

    private enum Phase { case observing, writing, finished, failed }

    /// Reads the current generation of the export in `directory`. `options.indexName` names the
    /// index (required); shard naming, keys and durability are the writer's options.
    public init(directory: String, options: WebDatasetOptions = WebDatasetOptions(), policy: Policy = Policy()) throws {
        try options.validate()
        guard let indexName = options.indexName else { throw ExportError.invalidOption("an update needs an index name") }
        guard (0...1).contains(policy.compactAbove) else { throw ExportError.invalidOption("compactAbove \(policy.compactAbove)") }
        var trimmed = directory
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.directory = trimmed
        self.options = options
        self.policy = policy
        self.indexName = indexName
        try makeDirectory(trimmed)
        if let current = readCurrentGeneration() {
            (previousGeneration, oldShards) = current
            for (i, shard) in oldShards.enumerated() {
                for (key, digest) in zip(shard.keys, shard.digests) where !shard.excluded.contains(key) {
                    live[key] = (i, digest)
                }
            }
        }
    }

    /// The first pass: notes one sample of the dataset as it is now.
    public func observe(_ sample: ShardSample) throws {
        guard phase == .observing else { throw ExportError.closed("update of \(directory): observe after write") }
        let key = try options.writtenKey(sample.key)
        guard observed.insert(key).inserted else { throw ExportError.duplicateKey(sample.key) }
        if let old = live[key], old.digest == (try sample.contentDigest()) { unchanged.insert(key) }
    }

    /// The second pass: writes the sample into a new shard unless a kept shard holds it already.
    /// Returns whether it was written.
    @discardableResult
    public func write(_ sample: ShardSample) throws -> Bool {
        if phase == .observing { try plan() }
        guard phase == .writing else { throw ExportError.closed("update of \(directory)") }
        let key = try options.writtenKey(sample.key)
        guard observed.contains(key) else { throw ExportError.invalidOption("sample \(sample.key) was not observed") }
        if unchanged.contains(key) { return false }
        do {
            if writer == nil { writer = try newShardWriter() }
            try writer!.add(sample)
        } catch {
            phase = .failed
            throw error
        }
        written += 1
        return true
    }

    /// Writes the new shards' last one and the index of the new generation, then removes shards
    /// that neither the new nor the previous generation lists.
    public func finish() throws -> Outcome {
        if phase == .observing { try plan() }
        guard phase == .writing else { throw ExportError.closed("update of \(directory)") }
        do {
            let fresh = try writer?.finish().shards ?? []
            var shards: [ShardInfo] = []
            for (i, old) in oldShards.enumerated() where !retired.contains(i) {
                var info = old.info
                info.excluded = old.keys.filter { !isKept($0, in: i) }.sorted()
                shards.append(info)
            }
            shards += fresh
            let indices = shards.map(\.index)
            let contiguous = indices == Array((indices.first ?? 0)..<((indices.first ?? 0) + indices.count))
            let summary = WebDatasetSummary(
                shards: shards, samples: shards.reduce(0) { $0 + $1.count - $1.excluded.count },
                urls: shards.isEmpty || !contiguous ? nil : options.naming.bracePattern(first: indices.first!, last: indices.last!),
                indexPath: directory + "/" + indexName, generation: previousGeneration + 1)
            let indexBytes = DeterministicJSON(indent: 2).encodeBytes(summary.json) + [UInt8(ascii: "\n")]
            try writeFile(indexBytes, to: directory + "/" + indexName, durable: options.durable)
            try ShardFiles.removeShards(in: directory, naming: options.naming, keeping: Set(indices).union(oldShards.map(\.info.index)),
                                        durable: options.durable)
            phase = .finished
            let freshBytes = fresh.reduce(0) { total, shard in
                total + shard.bytes + fileSize(shard.statsName) + fileSize(shard.samplesName) + fileSize(shard.sidecarName)
            }
            return Outcome(summary: summary, written: written, removed: removed, retiredShards: retired.count,
                           bytesWritten: freshBytes + indexBytes.count)
        } catch {
            phase = .failed
            throw error
        }
    }

    /// Stops without a new generation: the current index and its shards stay as they were.
    public func discard() {
        writer?.discard()
        phase = .failed
    }

    // MARK: - Planning

    /// Whether shard `i` of the current generation still serves `key`: it holds its live copy
    /// and the dataset has that sample with the same content.
    private func isKept(_ key: String, in shard: Int) -> Bool {
        live[key]?.shard == shard && unchanged.contains(key)
    }

    /// After the first pass: which shards are retired, so that their kept samples are written
    /// again; and how many samples left the dataset or changed.
    private func plan() throws {
        removed = live.keys.reduce(0) { $0 + (unchanged.contains($1) ? 0 : 1) }
        for (i, old) in oldShards.enumerated() {
            let excluded = old.keys.reduce(0) { $0 + (isKept($1, in: i) ? 0 : 1) }
            if old.keys.isEmpty || Double(excluded) / Double(old.keys.count) > policy.compactAbove {
                retired.insert(i)
            }
        }
        for i in retired {
            for key in oldShards[i].keys where live[key]?.shard == i { unchanged.remove(key) }
        }
        phase = .writing
    }

    private func newShardWriter() throws -> WebDatasetWriter {
        var options = self.options
        options.indexName = nil
        options.removeStaleShards = false
        options.writeSampleLists = true
        options.firstShardIndex = try highestShardIndex().map { $0 + 1 } ?? 0
        return try WebDatasetWriter(directory: directory, options: options)
    }

    // MARK: - The current generation

    /// The index's generation and shards with their sample lists; nil when any part is missing
    /// or does not add up (then everything is written anew).
    private func readCurrentGeneration() -> (Int, [OldShard])? {
        guard let data = FileManager.default.contents(atPath: directory + "/" + indexName),
              let index = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let generation = index["generation"] as? Int,
              let list = index["shards"] as? [[String: Any]] else { return nil }
        var shards: [OldShard] = []
        for entry in list {
            guard let name = entry["name"] as? String, let number = options.naming.index(ofFileNamed: name),
                  name == options.naming.tarName(number),
                  let samplesName = entry["samples"] as? String, let count = entry["count"] as? Int,
                  let bytes = entry["bytes"] as? Int,
                  let text = FileManager.default.contents(atPath: directory + "/" + samplesName),
                  fileSize(name) == bytes else { return nil }
            var keys: [String] = [], digests: [String] = []
            for line in String(decoding: text, as: UTF8.self).split(separator: "\n") {
                let fields = line.split(separator: "\t")
                guard fields.count == 2 else { return nil }
                keys.append(String(fields[0])); digests.append(String(fields[1]))
            }
            guard keys.count == count else { return nil }
            var info = ShardInfo(index: number, name: name, statsName: entry["stats"] as? String, samplesName: samplesName,
                                 sidecarName: entry["parquet"] as? String,
                                 count: count, bytes: bytes, sha256: entry["sha256"] as? String ?? "",
                                 firstKey: entry["first_key"] as? String ?? "", lastKey: entry["last_key"] as? String ?? "")
            info.excluded = (entry["excluded"] as? [String] ?? []).sorted()
            shards.append(OldShard(info: info, keys: keys, digests: digests, excluded: Set(info.excluded)))
        }
        return (generation, shards)
    }

    // MARK: - Files

    /// The highest shard number of this naming among the files present, listed or not (a killed
    /// update's shards included), so that no file a reader may hold open is ever replaced.
    private func highestShardIndex() throws -> Int? {
        try ShardFiles.list(directory).compactMap { options.naming.index(ofFileNamed: $0) }.max()
    }

    private func fileSize(_ name: String?) -> Int {
        guard let name else { return 0 }
        var info = stat()
        return stat(directory + "/" + name, &info) == 0 ? Int(info.st_size) : 0
    }
}
