import Basics

/// What a semantic dedup pass leaves for the next one: the centroids, each row's cluster and
/// whether it was kept or dropped (and for which kept row), and the settings it was built with,
/// so that a change of embedding model, dimension, cluster count or epsilon is noticed and the
/// rows are clustered again instead of being compared against centroids of another space.
///
/// Stored as one binary file (`encoded()`), little-endian, ending in the SHA-256 of everything
/// before it: a file cut short or damaged fails `init(decoding:)` instead of being half-read.
public struct SemanticDedupState: Sendable, Equatable {
    /// What the clustering was built with; a state with other settings is not updated but rebuilt.
    public struct Settings: Sendable, Equatable {
        public var dimension: Int
        /// The requested cluster count (0: the square root of the row count at the full pass).
        public var clusters: Int
        public var epsilon: Double
        /// Names the embedding model (a digest of its files, say).
        public var model: String

        public init(dimension: Int, clusters: Int, epsilon: Double, model: String) {
            self.dimension = dimension; self.clusters = clusters; self.epsilon = epsilon; self.model = model
        }
    }

    /// A row, as the caller names it: its shard and its id there.
    public struct RowKey: Sendable, Hashable, Comparable {
        public var shard: Int32
        public var id: Int64

        public init(shard: Int32, id: Int64) { self.shard = shard; self.id = id }

        public static func < (a: RowKey, b: RowKey) -> Bool { (a.shard, a.id) < (b.shard, b.id) }
    }

    /// One row's decision.
    public struct Row: Sendable, Equatable {
        public var key: RowKey
        public var cluster: Int32
        /// The kept row this one duplicates; nil when the row is kept.
        public var keeper: RowKey?
        public var similarity: Float

        public init(key: RowKey, cluster: Int32, keeper: RowKey?, similarity: Float) {
            self.key = key; self.cluster = cluster; self.keeper = keeper; self.similarity = similarity
        }
    }

    /// How the decisions were made: a full pass (k-means, then every cluster) or an update of an
    /// earlier state. A run that finds the state already holding every row reports this, so a
    /// run resumed after a kill reports what an uninterrupted one did.
    public enum Pass: UInt32, Sendable {
        case full = 0
        case update = 1
    }

    public var settings: Settings
    public var centroids: EmbeddingMatrix
    /// In key order.
    public var rows: [Row]
    public var pass: Pass

    public init(settings: Settings, centroids: EmbeddingMatrix, rows: [Row], pass: Pass = .full) {
        self.settings = settings; self.centroids = centroids; self.rows = rows; self.pass = pass
    }

    public static func == (a: SemanticDedupState, b: SemanticDedupState) -> Bool {
        a.settings == b.settings && a.centroids.dimension == b.centroids.dimension
            && a.centroids.values == b.centroids.values && a.rows == b.rows && a.pass == b.pass
    }

    /// Version 2 adds the pass after the settings; version 1 files read as full passes.
    private static let magic = Array("capfilt-semdedup-2\n".utf8)
    static let magicVersion1 = Array("capfilt-semdedup-1\n".utf8)

    /// The file's bytes.
    public func encoded() -> [UInt8] {
        var out = LittleEndianWriter()
        out.bytes.reserveCapacity(Self.magic.count + 64 + settings.model.utf8.count + centroids.values.count * 4 + rows.count * 32 + 32)
        out.bytes += Self.magic
        out.int(settings.dimension)
        out.int(settings.clusters)
        out.uint64(settings.epsilon.bitPattern)
        out.string(settings.model)
        out.uint32(pass.rawValue)
        out.int(centroids.dimension)
        out.int(centroids.count)
        for x in centroids.values { out.uint32(x.bitPattern) }
        out.int(rows.count)
        for row in rows {
            out.uint32(UInt32(bitPattern: row.key.shard))
            out.uint64(UInt64(bitPattern: row.key.id))
            out.uint32(UInt32(bitPattern: row.cluster))
            out.uint32(UInt32(bitPattern: row.keeper?.shard ?? -1))
            out.uint64(UInt64(bitPattern: row.keeper?.id ?? -1))
            out.uint32(row.similarity.bitPattern)
        }
        var digest = SHA256()
        digest.update(out.bytes)
        out.bytes += digest.finalize()
        return out.bytes
    }

    /// Reads `encoded()`'s bytes; throws on anything else (a torn or damaged file).
    public init(decoding bytes: [UInt8]) throws(SemanticDedupStateError) {
        let version1 = bytes.starts(with: Self.magicVersion1)
        guard bytes.count >= Self.magic.count + 32, bytes.starts(with: Self.magic) || version1 else {
            throw SemanticDedupStateError("not a semantic dedup state (\(bytes.count) bytes)")
        }
        var digest = SHA256()
        digest.update(bytes[..<(bytes.count - 32)])
        guard digest.finalize() == Array(bytes.suffix(32)) else { throw SemanticDedupStateError("checksum mismatch: torn or damaged") }
        var input = LittleEndianReader(bytes: bytes[Self.magic.count..<(bytes.count - 32)])
        let settings = Settings(dimension: try input.int(), clusters: try input.int(),
                                epsilon: Double(bitPattern: try input.uint64()), model: try input.string())
        var pass = Pass.full
        if !version1 {
            let raw = try input.uint32()
            guard let stored = Pass(rawValue: raw) else { throw SemanticDedupStateError("a pass of \(raw)") }
            pass = stored
        }
        let dimension = try input.int(), count = try input.int()
        guard dimension >= 1, count >= 0, count <= input.remaining / (4 * dimension) else {
            throw SemanticDedupStateError("\(count) centroids of \(dimension) values")
        }
        var values = [Float](repeating: 0, count: count * dimension)
        for i in values.indices { values[i] = Float(bitPattern: try input.uint32()) }
        let rowCount = try input.int()
        guard rowCount >= 0, rowCount == input.remaining / 32, input.remaining % 32 == 0 else {
            throw SemanticDedupStateError("\(rowCount) rows in \(input.remaining) bytes")
        }
        var rows: [Row] = []
        rows.reserveCapacity(rowCount)
        for _ in 0..<rowCount {
            let key = RowKey(shard: Int32(bitPattern: try input.uint32()), id: Int64(bitPattern: try input.uint64()))
            let cluster = Int32(bitPattern: try input.uint32())
            let keeper = RowKey(shard: Int32(bitPattern: try input.uint32()), id: Int64(bitPattern: try input.uint64()))
            let similarity = Float(bitPattern: try input.uint32())
            guard cluster >= 0, Int(cluster) < count else { throw SemanticDedupStateError("row in cluster \(cluster) of \(count)") }
            rows.append(Row(key: key, cluster: cluster, keeper: keeper.shard < 0 ? nil : keeper, similarity: similarity))
        }
        self.init(settings: settings, centroids: EmbeddingMatrix(dimension: dimension, normalized: values), rows: rows, pass: pass)
    }
}

public struct SemanticDedupStateError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

private struct LittleEndianWriter {
    var bytes: [UInt8] = []

    mutating func uint32(_ x: UInt32) { withUnsafeBytes(of: x.littleEndian) { bytes += $0 } }
    mutating func uint64(_ x: UInt64) { withUnsafeBytes(of: x.littleEndian) { bytes += $0 } }
    mutating func int(_ x: Int) { uint64(UInt64(bitPattern: Int64(x))) }
    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        int(utf8.count)
        bytes += utf8
    }
}

private struct LittleEndianReader {
    let bytes: ArraySlice<UInt8>
    var position: Int

    init(bytes: ArraySlice<UInt8>) { self.bytes = bytes; position = bytes.startIndex }

    var remaining: Int { bytes.endIndex - position }

    mutating func take(_ n: Int) throws(SemanticDedupStateError) -> ArraySlice<UInt8> {
        guard n >= 0, n <= remaining else { throw SemanticDedupStateError("ends early") }
        defer { position += n }
        return bytes[position..<(position + n)]
    }

    mutating func uint64() throws(SemanticDedupStateError) -> UInt64 {
        UInt64(littleEndian: try take(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
    }

    mutating func uint32() throws(SemanticDedupStateError) -> UInt32 {
        UInt32(littleEndian: try take(4).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })
    }

    mutating func int() throws(SemanticDedupStateError) -> Int {
        let x = Int64(bitPattern: try uint64())
        guard x >= 0, x <= Int64(Int32.max) * 64 else { throw SemanticDedupStateError("a count of \(x)") }
        return Int(x)
    }

    mutating func string() throws(SemanticDedupStateError) -> String {
        String(decoding: try take(try int()), as: UTF8.self)
    }
}
