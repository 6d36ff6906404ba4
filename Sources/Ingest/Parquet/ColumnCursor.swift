/// Walks the pages of one column chunk and hands out its values one row at a time. Only the
/// current page's bytes (and the chunk's dictionary) are held: levels, indices and plain values
/// are decoded as they are asked for.
final class ColumnCursor {
    let column: ParquetColumn
    private let file: InputFile
    private let chunk: ColumnChunkMeta
    private var offset: Int
    private let end: Int
    private var dictionary: [ParquetValue]?
    private var levelsRead: Int64 = 0

    // The current data page.
    private enum Source { case plain, dictionary, rleBoolean }
    private var left = 0
    private var levels: RLEHybridStream?
    private var source = Source.plain
    private var plain = PageBytes([])
    private var plainBit = 0
    private var indices: RLEHybridStream?

    init(file: InputFile, column: ParquetColumn, chunk: ColumnChunkMeta) {
        self.file = file
        self.column = column
        self.chunk = chunk
        var start = Int(chunk.dataPageOffset)
        // Some writers leave dictionary_page_offset at 0 when there is none.
        if let d = chunk.dictionaryPageOffset, d > 0, d < start { start = Int(d) }
        offset = start
        end = start + Int(chunk.totalCompressedSize)
    }

    func next() throws -> ParquetValue {
        while left == 0 { try loadPage() }
        left -= 1
        if levels != nil, try levels!.next() == 0 { return .null }
        switch source {
        case .plain: return try nextPlain()
        case .dictionary:
            let i = Int(try indices!.next())
            guard let dictionary, i < dictionary.count else { throw ParquetFailure("dictionary index \(i) out of range") }
            return dictionary[i]
        case .rleBoolean: return .bool(try indices!.next() != 0)
        }
    }

    private var maxDefinition: Int { column.isOptional ? 1 : 0 }

    private func loadPage() throws {
        guard levelsRead < chunk.numValues, offset < end else {
            throw ParquetFailure("column chunk has fewer values than the row group has rows")
        }
        let (header, headerLength) = try readHeader()
        let bodyStart = offset + headerLength
        let body = try file.read(count: Int(header.compressedSize), offset: bodyStart, what: "page")
        offset = bodyStart + Int(header.compressedSize)
        switch header.type {
        case PageType.dictionary:
            let data = try PageCodec.decompress(body, from: 0, count: body.count, codec: chunk.codec,
                                                size: Int(header.uncompressedSize))
            plain = PageBytes(data)
            plainBit = 0
            dictionary = try (0..<Int(header.numValues)).map { _ in try nextPlain() }
        case PageType.data:
            let data = try PageCodec.decompress(body, from: 0, count: body.count, codec: chunk.codec,
                                                size: Int(header.uncompressedSize))
            var input = PageBytes(data)
            levels = nil
            if maxDefinition > 0 {
                guard header.definitionLevelEncoding == Encoding.rle else {
                    throw ParquetFailure("definition levels in \(Encoding.name(header.definitionLevelEncoding))")
                }
                let length = Int(try input.u32())
                let r = try input.take(length)
                levels = try RLEHybridStream(PageBytes(data, from: r.lowerBound, to: r.upperBound), bitWidth: 1)
            }
            try startValues(input, encoding: header.encoding, count: Int(header.numValues))
        case PageType.dataV2:
            let levelsLength = Int(header.repetitionLevelsLength) + Int(header.definitionLevelsLength)
            guard header.repetitionLevelsLength >= 0, header.definitionLevelsLength >= 0, levelsLength <= body.count else {
                throw ParquetFailure("page v2 level lengths exceed the page")
            }
            levels = nil
            if maxDefinition > 0 {
                levels = try RLEHybridStream(PageBytes(body, from: Int(header.repetitionLevelsLength), to: levelsLength),
                                             bitWidth: 1)
            }
            let data: [UInt8]
            if header.isCompressed {
                data = try PageCodec.decompress(body, from: levelsLength, count: body.count - levelsLength,
                                                codec: chunk.codec, size: Int(header.uncompressedSize) - levelsLength)
            } else {
                data = Array(body[levelsLength...])
            }
            try startValues(PageBytes(data), encoding: header.encoding, count: Int(header.numValues))
        default:
            break   // index pages carry nothing a reader needs
        }
    }

    /// Reads a page header at `offset`: headers have no length prefix, so read a window and
    /// grow it if the header (statistics can be long) does not fit.
    private func readHeader() throws -> (PageHeader, Int) {
        var window = 256
        while true {
            let n = min(window, end - offset)
            let bytes = try file.read(count: n, offset: offset, what: "page header")
            var r = ThriftCompactReader(bytes)
            do {
                let h = try PageHeader.read(&r)
                guard h.compressedSize >= 0, h.uncompressedSize >= 0, h.numValues >= 0 else {
                    throw ParquetFailure("negative size in page header")
                }
                return (h, r.position)
            } catch ThriftCompactReader.Failure.endOfInput {
                if n == end - offset || window >= 64 << 20 { throw ParquetFailure("page header runs past the column chunk") }
                window *= 4
            }
        }
    }

    private func startValues(_ input: PageBytes, encoding: Int32, count: Int) throws {
        var input = input
        switch encoding {
        case Encoding.plain:
            source = .plain
            plain = input
            plainBit = 0
        case Encoding.plainDictionary, Encoding.rleDictionary:
            guard dictionary != nil else { throw ParquetFailure("dictionary-encoded page without a dictionary page") }
            source = .dictionary
            // A page of nulls only may hold no index data at all.
            let width = input.remaining > 0 ? Int(input.bytes[try input.take(1).lowerBound]) : 0
            indices = try RLEHybridStream(input, bitWidth: width)
        case Encoding.rle where column.physicalType == .boolean:
            source = .rleBoolean
            let length = Int(try input.u32())
            let r = try input.take(length)
            indices = try RLEHybridStream(PageBytes(input.bytes, from: r.lowerBound, to: r.upperBound), bitWidth: 1)
        default:
            throw ParquetFailure("\(Encoding.name(encoding)) encoding is not supported")
        }
        levelsRead += Int64(count)
        left = count
    }

    private func nextPlain() throws -> ParquetValue {
        switch column.physicalType {
        case .boolean:
            if plainBit == 8 { plainBit = 0 }
            if plainBit == 0 { _ = try plain.take(1) }
            let byte = plain.bytes[plain.position - 1]
            defer { plainBit += 1 }
            return .bool(byte >> UInt8(plainBit) & 1 == 1)
        case .int32: return .int(Int64(Int32(bitPattern: try plain.u32())))
        case .int64: return .int(Int64(bitPattern: try plain.u64()))
        case .float: return .float(Float(bitPattern: try plain.u32()))
        case .double: return .double(Double(bitPattern: try plain.u64()))
        case .byteArray:
            let n = Int(try plain.u32())
            return .string(String(decoding: plain.bytes[try plain.take(n)], as: UTF8.self))
        case .int96: return .bytes(Array(plain.bytes[try plain.take(12)]))
        case .fixedLenByteArray: return .bytes(Array(plain.bytes[try plain.take(column.typeLength)]))
        }
    }
}
