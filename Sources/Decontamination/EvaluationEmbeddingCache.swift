import Basics
import Foundation

/// The evaluation images' embeddings kept between runs, one file per (evaluation set content,
/// model) key, so a rerun with the same sets and the same model does not embed them again. A
/// file is written whole and renamed into place: a kill leaves the old file or none, and the
/// embeddings are computed again.
///
/// Layout: `CFEMB1\n`, then little-endian Int64 count and dimension, then count x dimension
/// float32 values; rows follow the order of the images that were embedded.
public struct EvaluationEmbeddingCache: Sendable {
    public let folder: String
    private static let magic = Array("CFEMB1\n".utf8)

    public init(folder: String) { self.folder = folder }

    public func path(key: String) -> String { folder + "/" + key + ".emb" }

    /// The stored embeddings under `key` when there are exactly `count` of them, else nil.
    public func load(key: String, count: Int) -> [[Float]]? {
        guard let data = FileManager.default.contents(atPath: path(key: key)) else { return nil }
        let bytes = [UInt8](data)
        let header = Self.magic.count + 16
        guard bytes.count >= header, Array(bytes[0..<Self.magic.count]) == Self.magic else { return nil }
        func int(at offset: Int) -> Int {
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(bytes[offset + k]) << (8 * UInt64(k)) }
            return Int(truncatingIfNeeded: v)
        }
        let n = int(at: Self.magic.count), d = int(at: Self.magic.count + 8)
        guard n == count, d >= 0, bytes.count == header + 4 * n * d else { return nil }
        var rows: [[Float]] = []
        rows.reserveCapacity(n)
        for i in 0..<n {
            var row = [Float](repeating: 0, count: d)
            for j in 0..<d {
                let o = header + 4 * (i * d + j)
                let bits = UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24
                row[j] = Float(bitPattern: bits)
            }
            rows.append(row)
        }
        return rows
    }

    public func store(key: String, _ rows: [[Float]]) throws {
        let d = rows.first?.count ?? 0
        var out = Self.magic
        for value in [UInt64(rows.count), UInt64(d)] {
            for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(k)))) }
        }
        out.reserveCapacity(out.count + 4 * rows.count * d)
        for row in rows {
            precondition(row.count == d, "embeddings of different sizes")
            for v in row {
                let bits = v.bitPattern
                for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt32(k)))) }
            }
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try DurableFile.write(out, to: path(key: key))
    }
}
