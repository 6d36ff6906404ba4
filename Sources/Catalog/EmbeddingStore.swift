import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Normalised embeddings kept beside a shard's catalog, in columns numpy reads as they are
/// (never a SQLite row per float): per kind, `<kind>.f16` (or `.f32`), rows of `dimension`
/// little-endian floats, and `<kind>_ids.i64`, the row's id (a sample id for `image`, a text id
/// for `text`), plus `meta.json` naming dtype and dimension.
///
/// Append-only and idempotent by id: a batch appends its rows, and a batch that is run again
/// (a kill before its catalog commit, a rerun) appends them again with the same values; readers
/// keep the last row of each id. Opening the store cuts a torn tail (a kill in mid-write) back
/// to the last whole row present in both files, so the files always line up.
///
///     import numpy as np, json
///     meta = json.load(open("meta.json"))
///     vectors = np.fromfile("image.f16", dtype=meta["dtype"]).reshape(-1, meta["dimension"])
///     ids = np.fromfile("image_ids.i64", dtype="<i8")
///     last = len(ids) - 1 - np.unique(ids[::-1], return_index=True)[1]   # last row per id
public final class EmbeddingStore: @unchecked Sendable {
    public enum Kind: String, Sendable, CaseIterable { case image, text }

    public enum Scalar: String, Sendable, CaseIterable {
        case float16, float32
        var bytes: Int { self == .float16 ? 2 : 4 }
        var fileExtension: String { self == .float16 ? "f16" : "f32" }
        var numpyType: String { self == .float16 ? "<f2" : "<f4" }
    }

    public let folder: String
    public let dimension: Int
    public let scalar: Scalar

    public init(folder: String, dimension: Int, scalar: Scalar) throws {
        guard dimension >= 1 else { throw EmbeddingStoreError("dimension \(dimension)") }
        self.folder = folder
        self.dimension = dimension
        self.scalar = scalar
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let meta = "{\"dimension\":\(dimension),\"dtype\":\"\(scalar.numpyType)\",\"ids\":\"<i8\","
            + "\"kinds\":{\"image\":\"sample id\",\"text\":\"text id\"}}\n"
        let metaPath = folder + "/meta.json"
        if let existing = FileManager.default.contents(atPath: metaPath) {
            guard String(decoding: existing, as: UTF8.self) == meta else {
                throw EmbeddingStoreError("\(metaPath) holds another dtype or dimension; remove the folder to start again")
            }
        } else {
            try Data(meta.utf8).write(to: URL(fileURLWithPath: metaPath), options: .atomic)
        }
        for kind in Kind.allCases { try trimTornTail(kind) }
    }

    /// The store a stage wrote, with the dtype and dimension its `meta.json` names.
    public convenience init(existing folder: String) throws {
        guard let data = FileManager.default.contents(atPath: folder + "/meta.json"),
              let meta = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let dimension = meta["dimension"] as? Int, let dtype = meta["dtype"] as? String,
              let scalar = Scalar.allCases.first(where: { $0.numpyType == dtype }) else {
            throw EmbeddingStoreError("\(folder): no readable meta.json")
        }
        try self.init(folder: folder, dimension: dimension, scalar: scalar)
    }

    public func dataPath(_ kind: Kind) -> String { folder + "/" + kind.rawValue + "." + scalar.fileExtension }
    public func idsPath(_ kind: Kind) -> String { folder + "/" + kind.rawValue + "_ids.i64" }

    /// Appends rows and flushes them to disk. `vectors[i]` has `dimension` values.
    public func append(_ kind: Kind, ids: [Int64], vectors: [[Float]]) throws {
        guard ids.count == vectors.count else { throw EmbeddingStoreError("\(ids.count) ids for \(vectors.count) vectors") }
        guard !ids.isEmpty else { return }
        var data: [UInt8] = []
        data.reserveCapacity(ids.count * dimension * scalar.bytes)
        for v in vectors {
            guard v.count == dimension else { throw EmbeddingStoreError("a vector of \(v.count) values, not \(dimension)") }
            for x in v {
                switch scalar {
                case .float16: withUnsafeBytes(of: Float16(x).bitPattern.littleEndian) { data += $0 }
                case .float32: withUnsafeBytes(of: x.bitPattern.littleEndian) { data += $0 }
                }
            }
        }
        var idBytes: [UInt8] = []
        for id in ids { withUnsafeBytes(of: id.littleEndian) { idBytes += $0 } }
        // Vectors first: a kill between the two leaves extra vectors, which the next open cuts.
        try appendDurably(data, to: dataPath(kind))
        try appendDurably(idBytes, to: idsPath(kind))
    }

    /// Every stored row's id of a kind, in file order (an id repeats where a batch was run again).
    public func ids(_ kind: Kind) throws -> [Int64] {
        let data = try mapped(idsPath(kind))
        return data.withUnsafeBytes { raw in
            (0..<raw.count / 8).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
        }
    }

    /// The last row of each id that `keep` accepts, in id order, decoded into one contiguous
    /// buffer (a million rows are one allocation, not a million arrays). The data file is
    /// mapped, not read whole.
    public func latestRows(_ kind: Kind, where keep: (Int64) -> Bool = { _ in true }) throws -> EmbeddingRows {
        let stored = try ids(kind)
        var last: [Int64: Int] = [:]
        for (row, id) in stored.enumerated() where keep(id) { last[id] = row }
        let ids = last.keys.sorted()
        var values = [Float](repeating: 0, count: ids.count * dimension)
        let data = try mapped(dataPath(kind))
        guard data.count >= stored.count * dimension * scalar.bytes else {
            throw EmbeddingStoreError("\(dataPath(kind)) is shorter than its ids")
        }
        data.withUnsafeBytes { raw in
            values.withUnsafeMutableBufferPointer { out in
                for (k, id) in ids.enumerated() {
                    let source = last[id]! * dimension * scalar.bytes
                    for j in 0..<dimension {
                        let offset = source + j * scalar.bytes
                        out[k * dimension + j] = switch scalar {
                        case .float16: Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
                        case .float32: Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                        }
                    }
                }
            }
        }
        return EmbeddingRows(dimension: dimension, ids: ids, values: values)
    }

    private func mapped(_ path: String) throws -> Data {
        guard FileManager.default.fileExists(atPath: path) else { return Data() }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw EmbeddingStoreError("read \(path): \(error)")
        }
    }

    private func trimTornTail(_ kind: Kind) throws {
        let rowBytes = dimension * scalar.bytes
        let rows = min(fileSize(dataPath(kind)) / rowBytes, fileSize(idsPath(kind)) / 8)
        try truncate(dataPath(kind), to: rows * rowBytes)
        try truncate(idsPath(kind), to: rows * 8)
    }

    private func fileSize(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }

    private func truncate(_ path: String, to size: Int) throws {
        guard FileManager.default.fileExists(atPath: path), fileSize(path) != size else { return }
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            try handle.truncate(atOffset: UInt64(size))
            try handle.synchronize()
        } catch {
            throw EmbeddingStoreError("truncate \(path): \(error)")
        }
    }

    private func appendDurably(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw EmbeddingStoreError("open \(path): errno \(errno)") }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw EmbeddingStoreError("write \(path): errno \(errno)") }
            written += n
        }
        guard fsync(fd) == 0 else { throw EmbeddingStoreError("fsync \(path): errno \(errno)") }
    }
}

/// Rows read from an `EmbeddingStore`: `ids[i]`'s vector is `values[i * dimension ..< (i + 1) * dimension]`.
public struct EmbeddingRows: Sendable {
    public let dimension: Int
    public let ids: [Int64]
    public var values: [Float]

    public var count: Int { ids.count }
    public func vector(_ i: Int) -> ArraySlice<Float> { values[(i * dimension)..<((i + 1) * dimension)] }
}

public struct EmbeddingStoreError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
