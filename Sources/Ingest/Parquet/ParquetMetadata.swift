/// The parts of Parquet's Thrift definitions (parquet.thrift) this reader uses. Field ids are
/// the ones in the format's specification.
struct SchemaElement {
    var type: Int32?
    var typeLength: Int32?
    var repetition: Int32?          // 0 required, 1 optional, 2 repeated
    var name = ""
    var numChildren: Int32?
    var convertedType: Int32?
    var scale: Int32?
    var precision: Int32?
    var logicalType: ParquetLogicalType?

    static func read(_ r: inout ThriftCompactReader) throws -> SchemaElement {
        var e = SchemaElement()
        try r.structure { r, id, t in
            switch (id, t) {
            case (1, .i32): e.type = try r.i32()
            case (2, .i32): e.typeLength = try r.i32()
            case (3, .i32): e.repetition = try r.i32()
            case (4, .binary): e.name = try r.string()
            case (5, .i32): e.numChildren = try r.i32()
            case (6, .i32): e.convertedType = try r.i32()
            case (7, .i32): e.scale = try r.i32()
            case (8, .i32): e.precision = try r.i32()
            case (10, .structure): e.logicalType = try ParquetLogicalType.read(&r)
            default: return false
            }
            return true
        }
        return e
    }
}

struct ColumnChunkMeta {
    var filePath: String?
    var type: Int32 = 0
    var path: [String] = []
    var codec: Int32 = 0
    var numValues: Int64 = 0
    var totalCompressedSize: Int64 = 0
    var dataPageOffset: Int64 = 0
    var dictionaryPageOffset: Int64?
    /// Set when the chunk's metadata is encrypted (ColumnChunk.crypto_metadata).
    var isEncrypted = false

    static func read(_ r: inout ThriftCompactReader) throws -> ColumnChunkMeta {
        var c = ColumnChunkMeta()
        try r.structure { r, id, t in
            switch (id, t) {
            case (1, .binary): c.filePath = try r.string()
            case (3, .structure):
                try r.structure { r, id, t in
                    switch (id, t) {
                    case (1, .i32): c.type = try r.i32()
                    case (3, .list):
                        let (et, n) = try r.listHeader()
                        guard et == .binary else { return false }
                        for _ in 0..<n { c.path.append(try r.string()) }
                    case (4, .i32): c.codec = try r.i32()
                    case (5, .i64): c.numValues = try r.i64()
                    case (7, .i64): c.totalCompressedSize = try r.i64()
                    case (9, .i64): c.dataPageOffset = try r.i64()
                    case (11, .i64): c.dictionaryPageOffset = try r.i64()
                    default: return false
                    }
                    return true
                }
            case (8, .structure), (9, .binary):
                c.isEncrypted = true
                try r.skip(t)
            default: return false
            }
            return true
        }
        return c
    }
}

struct RowGroupMeta {
    var columns: [ColumnChunkMeta] = []
    var numRows: Int64 = 0

    static func read(_ r: inout ThriftCompactReader) throws -> RowGroupMeta {
        var g = RowGroupMeta()
        try r.structure { r, id, t in
            switch (id, t) {
            case (1, .list):
                let (et, n) = try r.listHeader()
                guard et == .structure else { throw ThriftCompactReader.Failure.invalid("bad column chunk list") }
                for _ in 0..<n { g.columns.append(try ColumnChunkMeta.read(&r)) }
            case (3, .i64): g.numRows = try r.i64()
            default: return false
            }
            return true
        }
        return g
    }
}

struct FileMetadata {
    var schema: [SchemaElement] = []
    var numRows: Int64 = 0
    var rowGroups: [RowGroupMeta] = []
    var createdBy: String?

    static func read(_ r: inout ThriftCompactReader) throws -> FileMetadata {
        var m = FileMetadata()
        try r.structure { r, id, t in
            switch (id, t) {
            case (2, .list):
                let (et, n) = try r.listHeader()
                guard et == .structure else { throw ThriftCompactReader.Failure.invalid("bad schema list") }
                for _ in 0..<n { m.schema.append(try SchemaElement.read(&r)) }
            case (3, .i64): m.numRows = try r.i64()
            case (4, .list):
                let (et, n) = try r.listHeader()
                guard et == .structure else { throw ThriftCompactReader.Failure.invalid("bad row group list") }
                for _ in 0..<n { m.rowGroups.append(try RowGroupMeta.read(&r)) }
            case (6, .binary): m.createdBy = try r.string()
            default: return false
            }
            return true
        }
        return m
    }
}

/// Page types, codecs and encodings (numbers from parquet.thrift).
enum PageType { static let data: Int32 = 0, index: Int32 = 1, dictionary: Int32 = 2, dataV2: Int32 = 3 }
enum Codec {
    static let uncompressed: Int32 = 0, snappy: Int32 = 1, gzip: Int32 = 2, lzo: Int32 = 3, brotli: Int32 = 4
    static let lz4: Int32 = 5, zstd: Int32 = 6, lz4Raw: Int32 = 7
}
enum Encoding {
    static let plain: Int32 = 0, plainDictionary: Int32 = 2, rle: Int32 = 3, bitPacked: Int32 = 4
    static let deltaBinaryPacked: Int32 = 5, deltaLengthByteArray: Int32 = 6, deltaByteArray: Int32 = 7
    static let rleDictionary: Int32 = 8, byteStreamSplit: Int32 = 9

    static func name(_ e: Int32) -> String {
        let names = [0: "PLAIN", 2: "PLAIN_DICTIONARY", 3: "RLE", 4: "BIT_PACKED", 5: "DELTA_BINARY_PACKED",
                     6: "DELTA_LENGTH_BYTE_ARRAY", 7: "DELTA_BYTE_ARRAY", 8: "RLE_DICTIONARY", 9: "BYTE_STREAM_SPLIT"]
        return names[Int(e)] ?? "encoding \(e)"
    }
}

struct PageHeader {
    var type: Int32 = -1
    var uncompressedSize: Int32 = 0
    var compressedSize: Int32 = 0
    var numValues: Int32 = 0
    var encoding: Int32 = 0
    var definitionLevelEncoding: Int32 = Encoding.rle
    // Data page v2 only.
    var definitionLevelsLength: Int32 = 0
    var repetitionLevelsLength: Int32 = 0
    var isCompressed = true

    static func read(_ r: inout ThriftCompactReader) throws -> PageHeader {
        var h = PageHeader()
        try r.structure { r, id, t in
            switch (id, t) {
            case (1, .i32): h.type = try r.i32()
            case (2, .i32): h.uncompressedSize = try r.i32()
            case (3, .i32): h.compressedSize = try r.i32()
            case (5, .structure):   // DataPageHeader
                try r.structure { r, id, t in
                    switch (id, t) {
                    case (1, .i32): h.numValues = try r.i32()
                    case (2, .i32): h.encoding = try r.i32()
                    case (3, .i32): h.definitionLevelEncoding = try r.i32()
                    default: return false
                    }
                    return true
                }
            case (7, .structure):   // DictionaryPageHeader
                try r.structure { r, id, t in
                    switch (id, t) {
                    case (1, .i32): h.numValues = try r.i32()
                    case (2, .i32): h.encoding = try r.i32()
                    default: return false
                    }
                    return true
                }
            case (8, .structure):   // DataPageHeaderV2
                try r.structure { r, id, t in
                    switch (id, t) {
                    case (1, .i32): h.numValues = try r.i32()
                    case (4, .i32): h.encoding = try r.i32()
                    case (5, .i32): h.definitionLevelsLength = try r.i32()
                    case (6, .i32): h.repetitionLevelsLength = try r.i32()
                    case (7, .boolTrue), (7, .boolFalse): h.isCompressed = r.bool(t)
                    default: return false
                    }
                    return true
                }
            default: return false
            }
            return true
        }
        return h
    }
}
