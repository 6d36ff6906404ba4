import Compression

/// One leaf column's values within a row group, then its pages: an optional dictionary page and
/// one data page (v1: definition levels, RLE, then the values, PLAIN or dictionary indices),
/// each compressed whole, with min / max statistics.
struct ParquetColumnChunk {
    let leaf: ParquetLeaf
    private(set) var levels: [Int] = []
    private(set) var values: [ParquetCell] = []
    private(set) var valueBytes = 0

    init(_ leaf: ParquetLeaf) { self.leaf = leaf }

    mutating func append(level: Int, value: ParquetCell?) {
        levels.append(level)
        guard let value else { return }
        values.append(value)
        switch value {
        case .string(let s): valueBytes += 4 + s.utf8.count
        case .bytes(let b): valueBytes += 4 + b.count
        default: valueBytes += 8
        }
    }

    var nullCount: Int { levels.count - values.count }

    /// What the footer says of a written chunk.
    struct Written {
        var bytes: [UInt8]
        var dictionaryPageOffset: Int?
        var dataPageOffset: Int
        var uncompressedSize: Int
        var encodings: [Int32]
        var statistics: (min: [UInt8], max: [UInt8])?
    }

    /// The chunk's pages, to be written at file offset `offset`.
    func write(at offset: Int, codec: BlockCodec) throws -> Written {
        var out: [UInt8] = []
        var uncompressed = 0
        var dictionaryOffset: Int?
        var valueEncoding: Int32 = Encoding.plain
        var body: [UInt8] = []
        if leaf.maxDefinition > 0 {
            let rle = RLEHybrid.encode(levels.map { UInt32($0) }, bitWidth: bitWidth(leaf.maxDefinition))
            body += littleEndian32(UInt32(rle.count)) + rle
        }
        if let dictionary = dictionaryEncoding() {
            let page = dictionary.page
            let compressed = try codec.compress(page)
            var header = ThriftCompactWriter()
            header.i32(1, PageType.dictionary)
            header.i32(2, Int32(page.count))
            header.i32(3, Int32(compressed.count))
            header.beginStruct(7)
            header.i32(1, Int32(dictionary.count))
            header.i32(2, Encoding.plain)
            header.endStruct()
            header.endStruct()
            dictionaryOffset = offset
            out += header.bytes + compressed
            uncompressed += header.bytes.count + page.count
            valueEncoding = Encoding.rleDictionary
            body += dictionary.indices
        } else {
            body += plainValues(values)
        }
        let compressed = try codec.compress(body)
        var header = ThriftCompactWriter()
        header.i32(1, PageType.data)
        header.i32(2, Int32(body.count))
        header.i32(3, Int32(compressed.count))
        header.beginStruct(5)
        header.i32(1, Int32(levels.count))
        header.i32(2, valueEncoding)
        header.i32(3, Encoding.rle)
        header.i32(4, Encoding.rle)
        header.endStruct()
        header.endStruct()
        let dataOffset = offset + out.count
        out += header.bytes + compressed
        uncompressed += header.bytes.count + body.count
        var encodings: [Int32] = [Encoding.plain, Encoding.rle]
        if valueEncoding == Encoding.rleDictionary { encodings.append(Encoding.rleDictionary) }
        return Written(bytes: out, dictionaryPageOffset: dictionaryOffset, dataPageOffset: dataOffset,
                       uncompressedSize: uncompressed, encodings: encodings.sorted(), statistics: statistics())
    }

    // MARK: - Values

    /// Strings repeat (origins, sources, reasons): a dictionary when at most half the values are
    /// distinct and it stays under 1 MiB. Entries in order of first appearance.
    private func dictionaryEncoding() -> (page: [UInt8], count: Int, indices: [UInt8])? {
        guard leaf.kind == .string, !values.isEmpty else { return nil }
        var positions: [String: UInt32] = [:]
        var entries: [ParquetCell] = []
        var indices: [UInt32] = []
        indices.reserveCapacity(values.count)
        for value in values {
            guard case .string(let s) = value else { return nil }
            if let p = positions[s] {
                indices.append(p)
            } else {
                positions[s] = UInt32(entries.count)
                indices.append(UInt32(entries.count))
                entries.append(value)
                if entries.count * 2 > values.count + 1 { return nil }
            }
        }
        let page = plainValues(entries)
        guard page.count <= 1 << 20 else { return nil }
        // At least 1 bit: a width of 0 (one entry) is legal, but not every reader takes it.
        let width = max(1, bitWidth(entries.count - 1))
        return (page, entries.count, [UInt8(width)] + RLEHybrid.encode(indices, bitWidth: width))
    }

    private func plainValues(_ values: [ParquetCell]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(valueBytes)
        var bits: [UInt32] = []
        for value in values {
            switch value {
            case .int64(let i): out += littleEndian64(UInt64(bitPattern: i))
            case .double(let d): out += littleEndian64(d.bitPattern)
            case .string(let s): out += littleEndian32(UInt32(s.utf8.count)) + Array(s.utf8)
            case .bytes(let b): out += littleEndian32(UInt32(b.count)) + b
            case .boolean(let b): bits.append(b ? 1 : 0)
            case .null, .group: break
            }
        }
        if leaf.kind == .boolean { out = BitPacking.pack(bits, bitWidth: 1, count: bits.count) }
        return out
    }

    /// Min and max as PLAIN bytes (without a length for strings); none for binary columns (the
    /// images), for booleans, and when every value is null or NaN.
    private func statistics() -> (min: [UInt8], max: [UInt8])? {
        switch leaf.kind {
        case .int64:
            let ints = values.compactMap { if case .int64(let i) = $0 { return i } else { return nil } }
            guard let lo = ints.min(), let hi = ints.max() else { return nil }
            return (littleEndian64(UInt64(bitPattern: lo)), littleEndian64(UInt64(bitPattern: hi)))
        case .double:
            let doubles = values.compactMap { if case .double(let d) = $0, !d.isNaN { return d } else { return nil } }
            guard var lo = doubles.min(), var hi = doubles.max() else { return nil }
            // The format asks for -0.0 as a minimum and +0.0 as a maximum when zero is one.
            if lo == 0 { lo = -0.0 }
            if hi == 0 { hi = 0.0 }
            return (littleEndian64(lo.bitPattern), littleEndian64(hi.bitPattern))
        case .string:
            let strings = values.compactMap { if case .string(let s) = $0 { return Array(s.utf8) } else { return nil } }
            guard let lo = strings.min(by: { $0.lexicographicallyPrecedes($1) }),
                  let hi = strings.max(by: { $0.lexicographicallyPrecedes($1) }) else { return nil }
            return (lo, hi)
        case .binary, .boolean:
            return nil
        }
    }
}

enum PageType {
    static let data: Int32 = 0
    static let dictionary: Int32 = 2
}

enum Encoding {
    static let plain: Int32 = 0
    static let rle: Int32 = 3
    static let rleDictionary: Int32 = 8
}

/// Bits needed for values up to `maxValue`.
func bitWidth(_ maxValue: Int) -> Int {
    maxValue <= 0 ? 0 : Int.bitWidth - maxValue.leadingZeroBitCount
}

func littleEndian32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
func littleEndian64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
