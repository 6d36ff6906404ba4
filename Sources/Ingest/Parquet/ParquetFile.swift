/// Physical types of Parquet columns.
public enum ParquetPhysicalType: Int32, Sendable {
    case boolean = 0, int32 = 1, int64 = 2, int96 = 3, float = 4, double = 5, byteArray = 6, fixedLenByteArray = 7
}

/// A top-level column of a Parquet file.
public struct ParquetColumn: Sendable, Equatable {
    public let name: String
    /// Position among the file's leaf columns (the order of column chunks in a row group).
    public let index: Int
    public let physicalType: ParquetPhysicalType
    public let isOptional: Bool
    /// What the physical values mean (unsigned, decimal, date, ...): see docs/ingest.md.
    public let logicalType: ParquetLogicalType
    let typeLength: Int
}

/// A Parquet file read from its footer: schema, row groups, and rows on demand. Rows are
/// decoded one page at a time for only the columns asked for, so memory stays at about one
/// page per column whatever the file size.
///
/// Supported: flat (non-nested, non-repeated) columns; data pages v1 and v2; every encoding
/// of the format but BIT_PACKED values (deprecated, never written for values); codecs
/// UNCOMPRESSED, SNAPPY, GZIP, ZSTD, BROTLI, LZ4_RAW and LZ4 (Hadoop framing or a raw block).
/// Values come out as their logical type says (unsigned, decimal, date, timestamp, ...).
public final class ParquetFile {
    public let path: String
    /// The readable columns: top-level leaves that are required or optional. Nested and
    /// repeated columns are left out (`skippedColumns`).
    public let columns: [ParquetColumn]
    public let skippedColumns: [String]
    public let rowCount: Int
    public let createdBy: String?
    let rowGroups: [RowGroupMeta]
    let file: InputFile

    public var rowGroupCount: Int { rowGroups.count }
    public func rowCount(ofRowGroup i: Int) -> Int { Int(rowGroups[i].numRows) }

    public init(path: String) throws {
        self.path = path
        file = try InputFile(path: path)
        let size = file.size
        guard size >= 12 else { throw ManifestError.corrupt(file: path, reason: "too small to be a Parquet file") }
        let head = try file.read(count: 4, offset: 0, what: "magic")
        let tail = try file.read(count: 8, offset: size - 8, what: "footer")
        guard head == Array("PAR1".utf8) else { throw ManifestError.corrupt(file: path, reason: "no PAR1 magic at the start") }
        guard Array(tail[4..<8]) == Array("PAR1".utf8) else {
            if Array(tail[4..<8]) == Array("PARE".utf8) {
                throw ManifestError.unsupported(file: path, reason: "encrypted Parquet footer")
            }
            throw ManifestError.corrupt(file: path, reason: "no PAR1 magic at the end (truncated file?)")
        }
        let footerLength = Int(UInt32(tail[0]) | UInt32(tail[1]) << 8 | UInt32(tail[2]) << 16 | UInt32(tail[3]) << 24)
        guard footerLength > 0, footerLength <= size - 12 else {
            throw ManifestError.corrupt(file: path, reason: "footer length \(footerLength) does not fit the file")
        }
        let footer = try file.read(count: footerLength, offset: size - 8 - footerLength, what: "footer")
        var reader = ThriftCompactReader(footer)
        let meta: FileMetadata
        do {
            meta = try FileMetadata.read(&reader)
        } catch {
            throw ManifestError.corrupt(file: path, reason: "cannot decode the footer (\(error))")
        }
        rowCount = Int(meta.numRows)
        rowGroups = meta.rowGroups
        createdBy = meta.createdBy

        // Walk the schema tree (depth-first, children counts) to find top-level leaves.
        guard let root = meta.schema.first else { throw ManifestError.corrupt(file: path, reason: "empty schema") }
        var columns: [ParquetColumn] = []
        var skipped: [String] = []
        var leafIndex = 0
        var k = 1
        func walk(_ element: SchemaElement, topLevel: Bool, prefix: String) throws {
            let name = prefix.isEmpty ? element.name : prefix + "." + element.name
            if let n = element.numChildren, n > 0 || element.type == nil {
                for _ in 0..<Int(n) {
                    guard k < meta.schema.count else { throw ManifestError.corrupt(file: path, reason: "schema ends early") }
                    let child = meta.schema[k]
                    k += 1
                    try walk(child, topLevel: false, prefix: name)
                }
                return
            }
            defer { leafIndex += 1 }
            guard topLevel, element.repetition != 2, let raw = element.type, let type = ParquetPhysicalType(rawValue: raw) else {
                skipped.append(name)
                return
            }
            let length = Int(element.typeLength ?? 0)
            if type == .fixedLenByteArray, length <= 0 {
                throw ManifestError.corrupt(file: path, reason: "column \(name) is FIXED_LEN_BYTE_ARRAY of length \(length)")
            }
            columns.append(ParquetColumn(name: element.name, index: leafIndex, physicalType: type,
                                         isOptional: element.repetition == 1, logicalType: ParquetLogicalType(element),
                                         typeLength: length))
        }
        for _ in 0..<Int(root.numChildren ?? 0) {
            guard k < meta.schema.count else { throw ManifestError.corrupt(file: path, reason: "schema ends early") }
            let child = meta.schema[k]
            k += 1
            try walk(child, topLevel: true, prefix: "")
        }
        self.columns = columns
        skippedColumns = skipped
        for (g, group) in rowGroups.enumerated() where group.columns.count != leafIndex {
            throw ManifestError.corrupt(file: path, reason: "row group \(g) has \(group.columns.count) column chunks for \(leafIndex) columns")
        }
    }

    /// Rows of the given columns (indices into `columns`), row group after row group.
    public func rows(columns wanted: [Int]) -> ParquetRowReader {
        ParquetRowReader(file: self, columns: wanted.map { columns[$0] })
    }
}

/// Reads rows of some columns of a `ParquetFile`, one row group at a time.
public struct ParquetRowReader {
    private let file: ParquetFile
    private let columns: [ParquetColumn]
    private var cursors: [ColumnCursor] = []
    /// Row group of the row last returned.
    public private(set) var rowGroup = -1
    /// 0-based index in the file of the row last returned.
    public private(set) var row = -1
    private var left = 0   // rows left in the current row group

    init(file: ParquetFile, columns: [ParquetColumn]) {
        self.file = file
        self.columns = columns
    }

    /// The next row's values in the order the columns were asked for; nil after the last row.
    public mutating func next() throws -> [ParquetValue]? {
        while left == 0 {
            cursors = []
            rowGroup += 1
            guard rowGroup < file.rowGroups.count else { rowGroup = file.rowGroups.count - 1; return nil }
            let group = file.rowGroups[rowGroup]
            left = Int(group.numRows)
            cursors = try columns.map { c in
                let chunk = group.columns[c.index]
                if let external = chunk.filePath, !external.isEmpty {
                    throw ManifestError.unsupported(file: file.path, reason: "column chunk in another file (\(external))")
                }
                if chunk.isEncrypted {
                    throw ManifestError.unsupported(file: file.path, reason: "encrypted column \(c.name)")
                }
                do {
                    return try ColumnCursor(file: file.file, column: c, chunk: chunk)
                } catch let f as ParquetFailure {
                    throw ManifestError.corrupt(file: file.path, reason: "column \(c.name), row group \(rowGroup): \(f.message)")
                }
            }
        }
        left -= 1
        row += 1
        var values: [ParquetValue] = []
        values.reserveCapacity(cursors.count)
        for c in cursors {
            do {
                values.append(try c.next())
            } catch let f as ParquetFailure {
                let reason = "column \(c.column.name), row group \(rowGroup): \(f.message)"
                throw f.isUnsupported ? ManifestError.unsupported(file: file.path, reason: reason)
                    : ManifestError.corrupt(file: file.path, reason: reason)
            } catch let f as ThriftCompactReader.Failure {
                throw ManifestError.corrupt(file: file.path,
                                            reason: "column \(c.column.name), row group \(rowGroup): bad page header (\(f))")
            }
        }
        return values
    }
}
