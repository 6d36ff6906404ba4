/// DELTA_BINARY_PACKED: a header (block size, miniblocks per block, value count, first value),
/// then blocks of (minimum delta, one bit width per miniblock, the miniblocks bit-packed least
/// significant bit first). Each value is the previous one plus the minimum delta plus its packed
/// number. Arithmetic wraps, as the format specifies; INT32 columns keep the low 32 bits.
struct DeltaBinaryPackedStream {
    /// Values in the stream.
    let count: Int
    private var input: PageBytes
    private let valuesPerMiniblock: Int
    private let miniblocksPerBlock: Int
    private var produced = 0
    private var last: Int64
    private var minDelta: Int64 = 0
    private var widths: Range<Int> = 0..<0   // the current block's bit widths in `input`
    private var miniblock = 0
    private var width = 0
    private var miniblockStart = 0            // byte offset of the current miniblock
    private var left = 0                      // values left in the current miniblock
    private var bitOffset = 0

    /// `maxCount` bounds the value count the header may claim (the page's value count).
    init(_ input: PageBytes, maxCount: Int) throws {
        self.input = input
        let blockSize = try self.input.uleb(), miniblocks = try self.input.uleb(), total = try self.input.uleb()
        guard blockSize > 0, blockSize % 128 == 0, blockSize <= 1 << 20, miniblocks > 0, blockSize % miniblocks == 0,
              (blockSize / miniblocks) % 32 == 0 else {
            throw ParquetFailure("DELTA_BINARY_PACKED header with block size \(blockSize), \(miniblocks) miniblocks")
        }
        guard total <= UInt64(maxCount) else {
            throw ParquetFailure("DELTA_BINARY_PACKED stream of \(total) values in a page of \(maxCount)")
        }
        count = Int(total)
        valuesPerMiniblock = Int(blockSize / miniblocks)
        miniblocksPerBlock = Int(miniblocks)
        miniblock = miniblocksPerBlock
        last = try self.input.zigzag()
    }

    mutating func next() throws -> Int64 {
        guard produced < count else { throw ParquetFailure("DELTA_BINARY_PACKED stream ends early") }
        produced += 1
        if produced == 1 { return last }
        while left == 0 { try startMiniblock() }
        let bytes = input.bytes
        var raw: UInt64 = 0, got = 0
        var at = miniblockStart * 8 + bitOffset
        guard (at + width + 7) / 8 <= input.end else { throw ParquetFailure("DELTA_BINARY_PACKED miniblock ends early") }
        while got < width {
            let shift = at & 7, n = min(8 - shift, width - got)
            raw |= (UInt64(bytes[at >> 3] >> UInt8(shift)) & ((1 << UInt64(n)) - 1)) << UInt64(got)
            got += n
            at += n
        }
        bitOffset += width
        left -= 1
        last = last &+ minDelta &+ Int64(bitPattern: raw)
        return last
    }

    /// Byte offset just past the stream, once every value has been read: the last miniblock is
    /// padded to full length.
    mutating func end() throws -> Int {
        guard produced == count else { throw ParquetFailure("DELTA_BINARY_PACKED stream not read to its end") }
        if count <= 1 { return input.position }
        try skipMiniblock()
        return input.position
    }

    private mutating func startMiniblock() throws {
        if miniblock < miniblocksPerBlock { try skipMiniblock() }
        miniblock += 1
        if miniblock >= miniblocksPerBlock {
            minDelta = try input.zigzag()
            widths = try input.take(miniblocksPerBlock)
            miniblock = 0
        }
        width = Int(input.bytes[widths.lowerBound + miniblock])
        guard width <= 64 else { throw ParquetFailure("DELTA_BINARY_PACKED bit width \(width)") }
        miniblockStart = input.position
        bitOffset = 0
        left = valuesPerMiniblock
    }

    /// Moves `input` past the current miniblock (values per miniblock is a multiple of 32, so
    /// its length is a whole number of bytes).
    private mutating func skipMiniblock() throws {
        guard miniblock < miniblocksPerBlock else { return }
        _ = try input.take(miniblockStart + valuesPerMiniblock * width / 8 - input.position)
    }

    /// Every value of a stream of lengths (the delta byte array encodings), checked.
    static func lengths(_ input: PageBytes, maxCount: Int) throws -> (lengths: [Int], end: Int) {
        var stream = try DeltaBinaryPackedStream(input, maxCount: maxCount)
        var lengths: [Int] = []
        lengths.reserveCapacity(stream.count)
        for _ in 0..<stream.count {
            let n = try stream.next()
            guard n >= 0, n <= Int64(input.end) else { throw ParquetFailure("byte array length \(n)") }
            lengths.append(Int(n))
        }
        return (lengths, try stream.end())
    }
}

/// DELTA_BINARY_PACKED values of an INT32 or INT64 column.
final class DeltaBinaryPackedDecoder: PageValueDecoder {
    private let column: ParquetColumn
    private var stream: DeltaBinaryPackedStream

    init(column: ParquetColumn, input: PageBytes, maxCount: Int) throws {
        guard column.physicalType == .int32 || column.physicalType == .int64 else {
            throw ParquetFailure("DELTA_BINARY_PACKED in a \(column.physicalType) column")
        }
        self.column = column
        stream = try DeltaBinaryPackedStream(input, maxCount: maxCount)
    }

    func next() throws -> ParquetValue {
        let v = try stream.next()
        return column.physicalType == .int32 ? column.value(int32: Int32(truncatingIfNeeded: v)) : column.value(int64: v)
    }
}

/// DELTA_LENGTH_BYTE_ARRAY: every length (DELTA_BINARY_PACKED), then the bytes back to back.
final class DeltaLengthByteArrayDecoder: PageValueDecoder {
    private let column: ParquetColumn
    private let lengths: [Int]
    private var data: PageBytes
    private var index = 0

    init(column: ParquetColumn, input: PageBytes, maxCount: Int) throws {
        self.column = column
        let (lengths, end) = try DeltaBinaryPackedStream.lengths(input, maxCount: maxCount)
        self.lengths = lengths
        data = PageBytes(input.bytes, from: end, to: input.end)
    }

    /// The raw bytes of the next value (DELTA_BYTE_ARRAY's suffixes).
    func nextBytes() throws -> ArraySlice<UInt8> {
        guard index < lengths.count else { throw ParquetFailure("DELTA_LENGTH_BYTE_ARRAY data ends early") }
        defer { index += 1 }
        return data.bytes[try data.take(lengths[index])]
    }

    func next() throws -> ParquetValue { column.value(bytes: try nextBytes()) }
}

/// DELTA_BYTE_ARRAY: prefix lengths (DELTA_BINARY_PACKED), then suffixes (DELTA_LENGTH_BYTE_ARRAY);
/// each value is that many leading bytes of the value before it, then its suffix.
final class DeltaByteArrayDecoder: PageValueDecoder {
    private let column: ParquetColumn
    private let prefixes: [Int]
    private let suffixes: DeltaLengthByteArrayDecoder
    private var previous: [UInt8] = []
    private var index = 0

    init(column: ParquetColumn, input: PageBytes, maxCount: Int) throws {
        guard column.physicalType == .byteArray || column.physicalType == .fixedLenByteArray else {
            throw ParquetFailure("DELTA_BYTE_ARRAY in a \(column.physicalType) column")
        }
        self.column = column
        let (prefixes, end) = try DeltaBinaryPackedStream.lengths(input, maxCount: maxCount)
        self.prefixes = prefixes
        suffixes = try DeltaLengthByteArrayDecoder(column: column, input: PageBytes(input.bytes, from: end, to: input.end),
                                                   maxCount: maxCount)
    }

    func next() throws -> ParquetValue {
        guard index < prefixes.count else { throw ParquetFailure("DELTA_BYTE_ARRAY data ends early") }
        let prefix = prefixes[index]
        guard prefix <= previous.count else { throw ParquetFailure("DELTA_BYTE_ARRAY prefix longer than the value before") }
        index += 1
        previous = Array(previous[..<prefix]) + (try suffixes.nextBytes())
        return column.value(bytes: previous[...])
    }
}

/// BYTE_STREAM_SPLIT: the k-th bytes of every value together, stream after stream; the value
/// count is the page's data size over the value width.
final class ByteStreamSplitDecoder: PageValueDecoder {
    private let column: ParquetColumn
    private let input: PageBytes
    private let width: Int
    private let count: Int
    private var index = 0
    private var scratch: [UInt8]

    init(column: ParquetColumn, input: PageBytes) throws {
        guard column.physicalType != .boolean, column.physicalType != .byteArray, column.physicalType != .int96,
              let width = column.fixedWidth, width > 0 else {
            throw ParquetFailure("BYTE_STREAM_SPLIT in a \(column.physicalType) column")
        }
        guard input.remaining % width == 0 else { throw ParquetFailure("BYTE_STREAM_SPLIT data is not whole values") }
        self.column = column
        self.input = input
        self.width = width
        count = input.remaining / width
        scratch = [UInt8](repeating: 0, count: width)
    }

    func next() throws -> ParquetValue {
        guard index < count else { throw ParquetFailure("BYTE_STREAM_SPLIT data ends early") }
        for k in 0..<width { scratch[k] = input.bytes[input.position + k * count + index] }
        index += 1
        return column.value(fixed: scratch[...])
    }
}
