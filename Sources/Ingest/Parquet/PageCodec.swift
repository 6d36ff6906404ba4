internal import CCompression

/// Page decompression through the CCompression shim. The page header gives the uncompressed
/// size, so each page is decoded in one call into a buffer of exactly that size.
enum PageCodec {
    /// Largest uncompressed page accepted. Writers make pages of about 1 MiB (a page holding one
    /// big image may reach tens of MiB); the cap bounds what a damaged header can make us allocate.
    static let maxPageSize = 1 << 30

    static func decompress(_ input: [UInt8], from: Int, count: Int, codec: Int32, size: Int) throws -> [UInt8] {
        guard from >= 0, count >= 0, from <= input.count - count else { throw ParquetFailure("page data ends early") }
        if codec == Codec.uncompressed {
            guard count == size else { throw ParquetFailure("page size mismatch") }
            return Array(input[from..<from + count])
        }
        guard size >= 0, size <= maxPageSize else {
            throw ParquetFailure("page claims \(size) bytes uncompressed (more than \(maxPageSize))")
        }
        // Formats with a known worst case ratio refuse sizes they cannot reach, and streams that
        // declare their size must agree, before anything is allocated.
        if let ratio = maxRatio(codec), size > count * ratio + 64 {
            throw ParquetFailure("\(codecName(codec)) page of \(count) bytes cannot hold \(size) bytes")
        }
        if count > 0, let declared = declaredSize(input, from: from, count: count, codec: codec), declared != size {
            throw ParquetFailure("\(codecName(codec)) page holds \(declared) bytes, its header says \(size)")
        }
        let decode: ((UnsafePointer<UInt8>, Int, UnsafeMutablePointer<UInt8>, Int) -> Int32)
        switch codec {
        case Codec.snappy: decode = ccomp_snappy_exact
        case Codec.gzip: decode = ccomp_gunzip_exact
        case Codec.zstd: decode = ccomp_zstd_exact
        case Codec.brotli: decode = ccomp_brotli_exact
        case Codec.lz4Raw: decode = ccomp_lz4_raw_exact
        case Codec.lz4: decode = ccomp_lz4_hadoop_exact
        default: throw ParquetFailure.unsupported("\(codecName(codec)) compression")
        }
        if size == 0 { return [] }
        // An empty input has no base address; a one-byte stand-in lets the codec report it corrupt.
        let source = count == 0 ? [0] : input
        let start = count == 0 ? 0 : from
        var out = [UInt8](repeating: 0, count: size)
        let rc: Int32 = source.withUnsafeBufferPointer { inp in
            out.withUnsafeMutableBufferPointer { o in
                guard let src = inp.baseAddress, let dst = o.baseAddress else { return Int32(CCOMP_ERR_DATA) }
                return decode(src + start, count, dst, size)
            }
        }
        switch Int(rc) {
        case CCOMP_OK: return out
        case CCOMP_ERR_SIZE: throw ParquetFailure("\(codecName(codec)) page has the wrong size")
        default: throw ParquetFailure("corrupt \(codecName(codec)) page")
        }
    }

    /// Worst case expansion: deflate 1032:1, an LZ4 block about 255:1 (Hadoop framing only adds
    /// bytes). Snappy, zstd and brotli have no such small bound: snappy and zstd state their size
    /// instead; for brotli (and zstd streams that do not) only the page cap applies.
    private static func maxRatio(_ codec: Int32) -> Int? {
        switch codec {
        case Codec.gzip: return 1032
        case Codec.lz4, Codec.lz4Raw: return 256
        default: return nil
        }
    }

    /// The size a snappy or zstd stream states in its own header (nil when it states none).
    private static func declaredSize(_ input: [UInt8], from: Int, count: Int, codec: Int32) -> Int? {
        guard codec == Codec.snappy || codec == Codec.zstd else { return nil }
        let size: Int64 = input.withUnsafeBufferPointer { inp in
            guard let base = inp.baseAddress else { return -1 }
            return codec == Codec.snappy ? ccomp_snappy_declared_size(base + from, count)
                : ccomp_zstd_declared_size(base + from, count)
        }
        return size < 0 ? nil : Int(size)
    }

    static func codecName(_ c: Int32) -> String {
        let names = ["UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"]
        return (0..<names.count).contains(Int(c)) ? names[Int(c)] : "codec \(c)"
    }
}
