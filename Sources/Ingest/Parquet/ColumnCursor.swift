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
    private var left = 0
    private var levels: RLEHybridStream?
    private var values: PageValueDecoder?

    /// Checks the chunk's byte range against the file: offsets come from the footer.
    init(file: InputFile, column: ParquetColumn, chunk: ColumnChunkMeta) throws {
        self.file = file
        self.column = column
        self.chunk = chunk
        var start = chunk.dataPageOffset
        // Some writers leave dictionary_page_offset at 0 when there is none.
        if let d = chunk.dictionaryPageOffset, d > 0, d < start { start = d }
        guard start >= 0, chunk.totalCompressedSize >= 0, start <= Int64(file.size),
              chunk.totalCompressedSize <= Int64(file.size) - start else {
            throw ParquetFailure("column chunk at \(start) of \(chunk.totalCompressedSize) bytes lies outside the file")
        }
        offset = Int(start)
        end = Int(start + chunk.totalCompressedSize)
    }

    func next() throws -> ParquetValue {
        while left == 0 { try loadPage() }
        left -= 1
        if levels != nil, try levels!.next() == 0 { return .null }
        guard let values else { throw ParquetFailure("data page without values") }
        return try values.next()
    }

    private var maxDefinition: Int { column.isOptional ? 1 : 0 }

    private func loadPage() throws {
        guard levelsRead < chunk.numValues, offset < end else {
            throw ParquetFailure("column chunk has fewer values than the row group has rows")
        }
        let (header, headerLength) = try readHeader()
        let bodyStart = offset + headerLength
        guard Int(header.compressedSize) <= end - bodyStart else { throw ParquetFailure("page runs past the column chunk") }
        let body = try file.read(count: Int(header.compressedSize), offset: bodyStart, what: "page")
        offset = bodyStart + Int(header.compressedSize)
        switch header.type {
        case PageType.dictionary:
            let data = try PageCodec.decompress(body, from: 0, count: body.count, codec: chunk.codec,
                                                size: Int(header.uncompressedSize))
            guard header.encoding == Encoding.plain || header.encoding == Encoding.plainDictionary else {
                throw ParquetFailure.unsupported("dictionary page in \(Encoding.name(header.encoding))")
            }
            // Every value takes at least a bit: a count past that is damage, not a reason to allocate.
            guard Int(header.numValues) <= data.count * 8 else { throw ParquetFailure("dictionary claims \(header.numValues) values") }
            let plain = PlainDecoder(column: column, input: PageBytes(data))
            var entries: [ParquetValue] = []
            for _ in 0..<Int(header.numValues) { entries.append(try plain.next()) }
            dictionary = entries
        case PageType.data:
            let data = try PageCodec.decompress(body, from: 0, count: body.count, codec: chunk.codec,
                                                size: Int(header.uncompressedSize))
            var input = PageBytes(data)
            levels = nil
            if maxDefinition > 0 {
                guard header.definitionLevelEncoding == Encoding.rle else {
                    throw ParquetFailure.unsupported("definition levels in \(Encoding.name(header.definitionLevelEncoding))")
                }
                let length = Int(try input.u32())
                let r = try input.take(length)
                levels = try RLEHybridStream(PageBytes(data, from: r.lowerBound, to: r.upperBound), bitWidth: 1)
            }
            try startValues(input, encoding: header.encoding, count: Int(header.numValues))
        case PageType.dataV2:
            let levelsLength = Int(header.repetitionLevelsLength) + Int(header.definitionLevelsLength)
            guard header.repetitionLevelsLength >= 0, header.definitionLevelsLength >= 0, levelsLength <= body.count,
                  levelsLength <= Int(header.uncompressedSize) else {
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
        switch encoding {
        case Encoding.plain:
            values = PlainDecoder(column: column, input: input)
        case Encoding.plainDictionary, Encoding.rleDictionary:
            guard let dictionary else { throw ParquetFailure("dictionary-encoded page without a dictionary page") }
            values = try DictionaryDecoder(dictionary: dictionary, input: input)
        case Encoding.rle where column.physicalType == .boolean:
            values = try RLEBooleanDecoder(input: input)
        case Encoding.deltaBinaryPacked:
            values = try DeltaBinaryPackedDecoder(column: column, input: input, maxCount: count)
        case Encoding.deltaLengthByteArray:
            values = try DeltaLengthByteArrayDecoder(column: column, input: input, maxCount: count)
        case Encoding.deltaByteArray:
            values = try DeltaByteArrayDecoder(column: column, input: input, maxCount: count)
        case Encoding.byteStreamSplit:
            values = try ByteStreamSplitDecoder(column: column, input: input)
        default:
            throw ParquetFailure.unsupported("\(Encoding.name(encoding)) encoding of \(column.physicalType) values")
        }
        levelsRead += Int64(count)
        left = count
    }
}
