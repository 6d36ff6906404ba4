import Compression

/// Page decompression (the Compression module's block codecs). The page header gives the uncompressed
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
        let block: BlockCodec
        switch codec {
        case Codec.snappy: block = .snappy
        case Codec.gzip: block = .gzip
        case Codec.zstd: block = .zstd
        case Codec.brotli: block = .brotli
        case Codec.lz4Raw: block = .lz4Raw
        case Codec.lz4: block = .lz4Hadoop
        default: throw ParquetFailure.unsupported("\(codecName(codec)) compression")
        }
        do {
            return try input.withUnsafeBufferPointer { inp in
                try block.decompress(UnsafeBufferPointer(rebasing: inp[from..<from + count]), size: size)
            }
        } catch BlockCodecError.wrongSize {
            throw ParquetFailure("\(codecName(codec)) page has the wrong size")
        } catch {
            throw ParquetFailure("corrupt \(codecName(codec)) page")
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
        let block: BlockCodec? = codec == Codec.snappy ? .snappy : codec == Codec.zstd ? .zstd : nil
        return block.flatMap { b in input.withUnsafeBufferPointer { b.declaredSize(UnsafeBufferPointer(rebasing: $0[from..<from + count])) } }
    }

    static func codecName(_ c: Int32) -> String {
        let names = ["UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"]
        return (0..<names.count).contains(Int(c)) ? names[Int(c)] : "codec \(c)"
    }
}
