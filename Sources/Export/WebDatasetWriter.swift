import Basics
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes samples into WebDataset tar shards: `00000.tar`, `00001.tar`, ... in one directory,
/// each with at most `samplesPerShard` samples (and `maxShardBytes` bytes when set), each
/// sample as `KEY.NAME` members in the order given, a `NNNNN_stats.json` after each shard and
/// an index (`shards.json`) at the end.
///
/// Atomic: a shard is written as `.NNNNN.tar.partial`, fsynced, renamed, and the directory
/// fsynced; its stats file follows the same way, so a stats file means its tar is complete.
/// A killed export leaves at most one `.partial` per file kind, never a truncated tar under a
/// final name; opening a writer removes those leftovers and the old index, and `finish()`
/// writes the index last, so `shards.json` present means the export completed.
///
/// Deterministic: the same samples in the same order with the same options give byte-identical
/// files (fixed tar headers, no timestamps, sorted JSON keys).
///
/// Not for concurrent use; one writer per directory and naming prefix at a time. A writer
/// dropped without `finish()` leaves its current `.partial`, like a kill.
public final class WebDatasetWriter {
    public let directory: String
    public let options: WebDatasetOptions
    /// The shards finished so far.
    public private(set) var shards: [ShardInfo] = []
    public private(set) var samplesWritten = 0

    private var shard: OpenShard?
    private var nextIndex: Int
    private var state = State.open

    private enum State { case open, finished, failed }

    private struct OpenShard {
        let index: Int
        let tar: TarWriter
        var stats = ShardStats()
        var keys = Set<String>()
        /// (escaped key, content digest) in tar order, when sample lists are written.
        var digests: [(String, String)] = []
        var sidecar: ParquetWriter?
    }

    /// Opens `directory` (created when missing) for an export: removes `.partial` files that a
    /// killed export of this naming left, and the previous index.
    public init(directory: String, options: WebDatasetOptions = WebDatasetOptions()) throws {
        try options.validate()
        var trimmed = directory
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.directory = trimmed
        self.options = options
        self.nextIndex = options.firstShardIndex
        try makeDirectory(trimmed)
        try removeLeftovers()
    }

    /// Adds one sample; closes the current shard first when the sample would overflow it.
    @discardableResult
    public func add(_ sample: ShardSample) throws -> SampleLocation {
        guard state == .open else { throw ExportError.closed("export to \(directory)") }
        let key = try options.writtenKey(sample.key)
        let sizes = try memberSizes(sample, key: key)
        let digest = options.writeSampleLists ? try sample.contentDigest() : nil
        if let schema = options.sidecarSchema, sample.sidecarRow.count != schema.count {
            throw ExportError.invalidOption("sample \(sample.key): \(sample.sidecarRow.count) sidecar values for \(schema.count) columns")
        }
        let sampleBytes = sizes.reduce(0) { $0 + TarWriter.memberSize(name: key + "." + $1.0, size: $1.1, mtime: options.mtime) }

        if let current = shard {
            let full = current.stats.count >= options.samplesPerShard
            let tooBig = options.maxShardBytes.map {
                current.tar.bytesWritten + sampleBytes + TarWriter.endOfArchiveSize > $0
            } ?? false
            if full || tooBig { try closeShard() }
        }
        if shard == nil { try openShard() }
        guard !shard!.keys.contains(key) else { throw ExportError.duplicateKey(sample.key) }

        do {
            let tar = shard!.tar
            for member in sample.members {
                let name = key + "." + member.name
                switch member.content {
                case .bytes(let bytes): try tar.addFile(name: name, bytes: bytes)
                case .file(let path): try tar.addFile(name: name, contentsOfFile: path)
                }
            }
        } catch {
            state = .failed
            throw error
        }
        shard!.keys.insert(key)
        if let digest { shard!.digests.append((key, digest)) }
        do {
            try shard!.sidecar?.append([.string(key)] + sample.sidecarRow)
        } catch {
            state = .failed
            throw error
        }
        shard!.stats.add(key: key, memberSizes: sizes, labels: sample.labels, values: sample.values)
        samplesWritten += 1
        return SampleLocation(shard: options.naming.tarName(shard!.index), key: key)
    }

    /// Closes the last shard, removes stale shards (see `removeStaleShards`) and writes the index.
    @discardableResult
    public func finish() throws -> WebDatasetSummary {
        guard state == .open else { throw ExportError.closed("export to \(directory)") }
        do {
            if shard != nil { try closeShard() }
            if options.removeStaleShards { try removeStaleShards() }
            var summary = WebDatasetSummary(
                shards: shards, samples: samplesWritten,
                urls: shards.isEmpty ? nil : options.naming.bracePattern(first: shards.first!.index, last: shards.last!.index),
                indexPath: nil, generation: options.generation)
            if let indexName = options.indexName {
                let path = directory + "/" + indexName
                try writeJSONFile(summary.json, to: path)
                summary.indexPath = path
            }
            state = .finished
            return summary
        } catch {
            state = .failed
            throw error
        }
    }

    /// Stops without finishing: the current shard's temporary file is removed, finished shards
    /// stay, and no index is written.
    public func discard() {
        shard?.tar.discard()
        shard?.sidecar?.discard()
        shard = nil
        state = .failed
    }

    // MARK: - Shards

    private func openShard() throws {
        guard nextIndex < options.naming.limit else { throw ExportError.tooManyShards(limit: options.naming.limit) }
        let path = directory + "/" + options.naming.tarName(nextIndex)
        let file = try AtomicFile(path: path, durable: options.durable, hashing: true)
        shard = OpenShard(index: nextIndex, tar: TarWriter(sink: file.sink, file: file, mtime: options.mtime))
        if let schema = options.sidecarSchema {
            shard!.sidecar = try ParquetWriter(
                path: directory + "/" + options.naming.sidecarName(nextIndex), schema: [.column("key", .string, nullable: false)] + schema,
                options: ParquetWriterOptions(codec: options.sidecarCodec, durable: options.durable))
        }
        nextIndex += 1
    }

    private func closeShard() throws {
        guard let current = shard else { return }
        shard = nil
        do {
            let (bytes, digest) = try current.tar.finishArchive()
            let name = options.naming.tarName(current.index)
            var sidecarName: String?
            if let sidecar = current.sidecar {
                try sidecar.finish()
                sidecarName = options.naming.sidecarName(current.index)
            }
            var samplesName: String?
            if options.writeSampleLists {
                samplesName = options.naming.samplesName(current.index)
                let lines = current.digests.map { $0.0 + "\t" + $0.1 + "\n" }.joined()
                try writeFile(Array(lines.utf8), to: directory + "/" + samplesName!)
            }
            var statsName: String?
            if options.writeStats {
                statsName = options.naming.statsName(current.index)
                try writeJSONFile(current.stats.json(name: name, bytes: bytes, sha256: digest), to: directory + "/" + statsName!)
            }
            shards.append(ShardInfo(
                index: current.index, name: name, statsName: statsName, samplesName: samplesName, sidecarName: sidecarName, count: current.stats.count, bytes: bytes,
                sha256: digest ?? "", firstKey: current.stats.firstKey ?? "", lastKey: current.stats.lastKey ?? ""))
        } catch {
            state = .failed
            throw error
        }
    }

    private func writeJSONFile(_ value: JSONValue, to path: String) throws {
        try Export.writeJSONFile(value, to: path, durable: options.durable)
    }

    private func writeFile(_ bytes: [UInt8], to path: String) throws {
        try Export.writeFile(bytes, to: path, durable: options.durable)
    }

    // MARK: - Samples

    /// Checks the member names and finds every member's size before anything is written, so
    /// that a bad sample leaves the shard untouched.
    private func memberSizes(_ sample: ShardSample, key: String) throws -> [(String, Int)] {
        guard !sample.members.isEmpty else { throw ExportError.invalidMemberName(key: sample.key, name: "") }
        var seen = Set<String>()
        var sizes: [(String, Int)] = []
        for member in sample.members {
            guard !member.name.isEmpty, !member.name.contains("/"), !member.name.utf8.contains(0) else {
                throw ExportError.invalidMemberName(key: sample.key, name: member.name)
            }
            guard seen.insert(member.name).inserted else { throw ExportError.duplicateMember(key: sample.key, name: member.name) }
            switch member.content {
            case .bytes(let bytes):
                sizes.append((member.name, bytes.count))
            case .file(let path):
                var info = stat()
                guard stat(path, &info) == 0 else { throw ExportError.io("stat \(path)", errno) }
                guard (info.st_mode & S_IFMT) == S_IFREG else { throw ExportError.io("not a regular file: \(path)", 0) }
                sizes.append((member.name, Int(info.st_size)))
            }
        }
        return sizes
    }

    // MARK: - Directory upkeep

    private func removeLeftovers() throws {
        var removed = false
        for name in try listDirectory() where name.hasPrefix(".") && name.hasSuffix(".partial") {
            let target = String(name.dropFirst().dropLast(".partial".count))
            if options.naming.index(ofFileNamed: target) != nil || target == options.indexName {
                try remove(name)
                removed = true
            }
        }
        if let indexName = options.indexName, access(directory + "/" + indexName, F_OK) == 0 {
            try remove(indexName)
            removed = true
        }
        if removed && options.durable { try syncDirectory(directory) }
    }

    private func removeStaleShards() throws {
        try ShardFiles.removeShards(in: directory, naming: options.naming, keeping: Set(shards.map(\.index)),
                                    durable: options.durable)
    }

    private func listDirectory() throws -> [String] { try ShardFiles.list(directory) }

    private func remove(_ name: String) throws { try ShardFiles.remove(name, in: directory) }
}
