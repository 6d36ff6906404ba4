internal import CCompression

/// The block codecs of Parquet pages (and of anything else compressed whole): decoding into a
/// buffer of a size known up front, and encoding for the ones capfilt writes (snappy, zstd).
public enum BlockCodec: String, Sendable, CaseIterable {
    case uncompressed, snappy, gzip, zstd, brotli
    /// An LZ4 block with no framing (Parquet's LZ4_RAW).
    case lz4Raw
    /// Hadoop's framing of LZ4 blocks (Parquet's LZ4 as parquet-mr writes it); a raw block is
    /// accepted too, as some writers put one there.
    case lz4Hadoop

    /// Decodes `input` into exactly `size` bytes; throws when it is corrupt or of another size.
    public func decompress(_ input: UnsafeBufferPointer<UInt8>, size: Int) throws -> [UInt8] {
        if self == .uncompressed {
            guard input.count == size else { throw BlockCodecError.wrongSize(self) }
            return Array(input)
        }
        let decode: (UnsafePointer<UInt8>, Int, UnsafeMutablePointer<UInt8>, Int) -> Int32
        switch self {
        case .snappy: decode = ccomp_snappy_exact
        case .gzip: decode = ccomp_gunzip_exact
        case .zstd: decode = ccomp_zstd_exact
        case .brotli: decode = ccomp_brotli_exact
        case .lz4Raw: decode = ccomp_lz4_raw_exact
        case .lz4Hadoop: decode = ccomp_lz4_hadoop_exact
        case .uncompressed: preconditionFailure("handled above")
        }
        if size == 0 { return [] }
        // An empty input has no base address; a one-byte stand-in lets the codec report it corrupt.
        let standIn: [UInt8] = [0]
        var out = [UInt8](repeating: 0, count: size)
        let rc: Int32 = standIn.withUnsafeBufferPointer { fallback in
            out.withUnsafeMutableBufferPointer { o in
                guard let src = input.count == 0 ? fallback.baseAddress : input.baseAddress, let dst = o.baseAddress else {
                    return Int32(CCOMP_ERR_DATA)
                }
                return decode(src, input.count, dst, size)
            }
        }
        switch Int(rc) {
        case CCOMP_OK: return out
        case CCOMP_ERR_SIZE: throw BlockCodecError.wrongSize(self)
        default: throw BlockCodecError.corrupt(self)
        }
    }

    /// The size a snappy or zstd stream states in its own header; nil for the other codecs and
    /// for streams that state none.
    public func declaredSize(_ input: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let base = input.baseAddress, input.count > 0 else { return nil }
        let size: Int64
        switch self {
        case .snappy: size = ccomp_snappy_declared_size(base, input.count)
        case .zstd: size = ccomp_zstd_declared_size(base, input.count)
        default: return nil
        }
        return size < 0 ? nil : Int(size)
    }

    /// `bytes` compressed whole: snappy, or zstd at level 3 (its default, as pyarrow writes it).
    public func compress(_ bytes: [UInt8]) throws -> [UInt8] {
        switch self {
        case .uncompressed:
            return bytes
        case .snappy:
            return try encode(bytes, bound: ccomp_snappy_bound) { ccomp_snappy_compress($0, $1, $2, $3) }
        case .zstd:
            return try encode(bytes, bound: ccomp_zstd_bound) { ccomp_zstd_compress($0, $1, $2, $3, 3) }
        case .gzip, .brotli, .lz4Raw, .lz4Hadoop:
            throw BlockCodecError.cannotEncode(self)
        }
    }

    private func encode(_ bytes: [UInt8], bound: (Int) -> Int,
                        _ call: (UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<UInt8>?, Int) -> Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: max(1, bound(bytes.count)))
        let capacity = out.count
        let produced = bytes.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in call(input.baseAddress, input.count, output.baseAddress, capacity) }
        }
        guard produced > 0 else { throw BlockCodecError.cannotEncode(self) }
        out.removeSubrange(produced...)
        return out
    }
}

public enum BlockCodecError: Error, Equatable, Sendable {
    case corrupt(BlockCodec)
    case wrongSize(BlockCodec)
    case cannotEncode(BlockCodec)
}
