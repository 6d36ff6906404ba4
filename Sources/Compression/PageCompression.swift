internal import CCompression

/// The block codecs capfilt writes Parquet pages with. (Ingest's Parquet reader decodes these
/// and more.)
public enum PageCodec: String, Sendable, CaseIterable {
    case uncompressed, snappy, zstd

    /// Parquet's `CompressionCodec` number.
    public var parquetCode: Int32 {
        switch self {
        case .uncompressed: return 0
        case .snappy: return 1
        case .zstd: return 6
        }
    }

    /// `bytes` compressed whole. zstd at level 3 (its default, as pyarrow writes it).
    public func compress(_ bytes: [UInt8]) throws -> [UInt8] {
        switch self {
        case .uncompressed:
            return bytes
        case .snappy:
            return try encode(bytes, bound: ccomp_snappy_bound) { ccomp_snappy_compress($0, $1, $2, $3) }
        case .zstd:
            return try encode(bytes, bound: ccomp_zstd_bound) { ccomp_zstd_compress($0, $1, $2, $3, 3) }
        }
    }

    private func encode(_ bytes: [UInt8], bound: (Int) -> Int,
                        _ call: (UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<UInt8>?, Int) -> Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: max(1, bound(bytes.count)))
        let capacity = out.count
        let produced = bytes.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in call(input.baseAddress, input.count, output.baseAddress, capacity) }
        }
        guard produced > 0 || bytes.isEmpty && self == .snappy else { throw CompressionError(codec: self) }
        out.removeSubrange(produced...)
        return out
    }
}

/// A codec refused its input (out of memory, in practice).
public struct CompressionError: Error, CustomStringConvertible, Sendable {
    public let codec: PageCodec
    public var description: String { "\(codec.rawValue) compression failed" }
}
