/// A small Parquet writer for the generated img2dataset shards: flat optional columns (UTF-8
/// strings, int32, double), PLAIN values, RLE definition levels, data pages v1, no compression,
/// one row group per `writeRowGroup` (img2dataset flushes its sidecar every 100 rows, so its
/// files have row groups of 100). Enough for any Parquet reader to read (pyarrow reads these
/// files with the schema and values written), no more.
public final class ParquetWriter {
    public enum ColumnType { case string, int32, double }
    public enum Value: Equatable { case null, string(String), int32(Int32), double(Double) }

    public let columns: [(name: String, type: ColumnType)]
    private var bytes: [UInt8] = Array("PAR1".utf8)
    private var rowGroups: [[UInt8]] = []   // each RowGroup struct, encoded
    private var rowCount = 0

    public init(columns: [(name: String, type: ColumnType)]) { self.columns = columns }

    /// Appends one row group; `rows[i][c]` is row i's value of column c.
    public func writeRowGroup(_ rows: [[Value]]) {
        guard !rows.isEmpty else { return }
        var chunks = Thrift()
        chunks.listHeader(count: columns.count, type: Thrift.structType)
        var groupBytes = 0
        for (c, column) in columns.enumerated() {
            // Definition levels (1 = present), as RLE runs, behind their 4-byte length.
            var levels = [UInt8]()
            var i = 0
            while i < rows.count {
                let present = rows[i][c] != .null
                var run = 1
                while i + run < rows.count && (rows[i + run][c] != .null) == present { run += 1 }
                Thrift.varint(UInt64(run << 1), into: &levels)
                levels.append(present ? 1 : 0)
                i += run
            }
            var page = le32(UInt32(levels.count)) + levels
            for row in rows {
                switch row[c] {
                case .null: break
                case .string(let s): page += le32(UInt32(s.utf8.count)) + Array(s.utf8)
                case .int32(let v): page += le32(UInt32(bitPattern: v))
                case .double(let d): page += le32(UInt32(d.bitPattern & 0xFFFF_FFFF)) + le32(UInt32(d.bitPattern >> 32))
                }
            }
            var header = Thrift()
            header.i32(field: 1, 0)                       // DATA_PAGE
            header.i32(field: 2, Int32(page.count))
            header.i32(field: 3, Int32(page.count))
            header.structBegin(field: 5)                  // DataPageHeader
            header.i32(field: 1, Int32(rows.count))
            header.i32(field: 2, 0)                       // PLAIN
            header.i32(field: 3, 3)                       // RLE
            header.i32(field: 4, 3)
            header.structEnd()
            header.stop()
            let offset = bytes.count
            bytes += header.bytes + page
            let size = header.bytes.count + page.count
            groupBytes += size

            chunks.structElementBegin()                   // ColumnChunk
            chunks.i64(field: 2, Int64(offset))
            chunks.structBegin(field: 3)                  // ColumnMetaData
            chunks.i32(field: 1, physicalType(column.type))
            chunks.listBegin(field: 2, count: 2, type: Thrift.i32Type)
            chunks.rawVarintZigzag(0); chunks.rawVarintZigzag(3)
            chunks.listBegin(field: 3, count: 1, type: Thrift.binaryType)
            chunks.rawBinary(Array(column.name.utf8))
            chunks.i32(field: 4, 0)                       // UNCOMPRESSED
            chunks.i64(field: 5, Int64(rows.count))
            chunks.i64(field: 6, Int64(size))
            chunks.i64(field: 7, Int64(size))
            chunks.i64(field: 9, Int64(offset))
            chunks.structEnd()
            chunks.stop()
        }
        var group = Thrift()
        group.listBegin(field: 1, count: columns.count, type: Thrift.structType, headerWritten: chunks.bytes)
        group.i64(field: 2, Int64(groupBytes))
        group.i64(field: 3, Int64(rows.count))
        group.stop()
        rowGroups.append(group.bytes)
        rowCount += rows.count
    }

    /// The whole file: the pages written so far and the footer.
    public func finish() -> [UInt8] {
        var meta = Thrift()
        meta.i32(field: 1, 1)
        meta.listBegin(field: 2, count: columns.count + 1, type: Thrift.structType)
        meta.structElementBegin()
        meta.binary(field: 4, Array("schema".utf8))
        meta.i32(field: 5, Int32(columns.count))
        meta.stop()
        for column in columns {
            meta.structElementBegin()
            meta.i32(field: 1, physicalType(column.type))
            meta.i32(field: 3, 1)                         // OPTIONAL
            meta.binary(field: 4, Array(column.name.utf8))
            if column.type == .string { meta.i32(field: 6, 0) }   // UTF8
            meta.stop()
        }
        meta.i64(field: 3, Int64(rowCount))
        meta.listBegin(field: 4, count: rowGroups.count, type: Thrift.structType)
        for group in rowGroups { meta.raw(group) }
        meta.binary(field: 6, Array("capfilt demo data".utf8))
        meta.stop()
        return bytes + meta.bytes + le32(UInt32(meta.bytes.count)) + Array("PAR1".utf8)
    }

    private func physicalType(_ t: ColumnType) -> Int32 {
        switch t {
        case .string: return 6
        case .int32: return 1
        case .double: return 5
        }
    }

    private func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
}

/// Thrift's compact protocol, the parts a Parquet footer needs.
struct Thrift {
    static let i32Type: UInt8 = 5, i64Type: UInt8 = 6, binaryType: UInt8 = 8, structType: UInt8 = 12
    static let listType: UInt8 = 9
    var bytes: [UInt8] = []
    private var lastField: [Int] = [0]

    mutating func i32(field: Int, _ v: Int32) { fieldHeader(field, Self.i32Type); rawVarintZigzag(Int64(v)) }
    mutating func i64(field: Int, _ v: Int64) { fieldHeader(field, Self.i64Type); rawVarintZigzag(v) }
    mutating func binary(field: Int, _ v: [UInt8]) { fieldHeader(field, Self.binaryType); rawBinary(v) }

    mutating func structBegin(field: Int) { fieldHeader(field, Self.structType); lastField.append(0) }
    mutating func structEnd() { bytes.append(0); lastField.removeLast() }
    /// A struct as a list element: no field header.
    mutating func structElementBegin() { lastField.append(0) }
    /// Ends a struct begun with `structElementBegin` (or the top-level one).
    mutating func stop() { bytes.append(0); if lastField.count > 1 { lastField.removeLast() } }

    mutating func listBegin(field: Int, count: Int, type: UInt8, headerWritten elements: [UInt8]? = nil) {
        fieldHeader(field, Self.listType)
        if let elements { bytes += elements } else { listHeader(count: count, type: type) }
    }

    mutating func listHeader(count: Int, type: UInt8) {
        if count < 15 { bytes.append(UInt8(count << 4) | type) } else { bytes.append(0xF0 | type); Self.varint(UInt64(count), into: &bytes) }
    }

    mutating func raw(_ b: [UInt8]) { bytes += b }
    mutating func rawBinary(_ v: [UInt8]) { Self.varint(UInt64(v.count), into: &bytes); bytes += v }
    mutating func rawVarintZigzag(_ v: Int64) { Self.varint(UInt64(bitPattern: (v << 1) ^ (v >> 63)), into: &bytes) }

    private mutating func fieldHeader(_ field: Int, _ type: UInt8) {
        let delta = field - lastField[lastField.count - 1]
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta << 4) | type)
        } else {
            bytes.append(type)
            rawVarintZigzag(Int64(field))
        }
        lastField[lastField.count - 1] = field
    }

    static func varint(_ value: UInt64, into out: inout [UInt8]) {
        var v = value
        while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        out.append(UInt8(v))
    }
}
