import Basics
import Compression

/// How a `ParquetWriter` cuts and compresses.
public struct ParquetWriterOptions: Sendable, Equatable {
    public var codec: BlockCodec
    /// A row group is closed after this many rows...
    public var rowGroupRows: Int
    /// ... or once its values pass this many bytes, whichever comes first. Readers that stream
    /// (`datasets`, DuckDB) hold about one row group in memory.
    public var rowGroupBytes: Int
    /// Key-value pairs for the footer (`datasets` reads its features from "huggingface").
    public var metadata: [(String, String)]
    /// The footer's `created_by`.
    public var createdBy: String
    public var durable: Bool

    public init(codec: BlockCodec = .snappy, rowGroupRows: Int = 10_000, rowGroupBytes: Int = 64 << 20,
                metadata: [(String, String)] = [], createdBy: String = "capfilt", durable: Bool = true) {
        self.codec = codec; self.rowGroupRows = rowGroupRows; self.rowGroupBytes = rowGroupBytes
        self.metadata = metadata; self.createdBy = createdBy; self.durable = durable
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.codec == b.codec && a.rowGroupRows == b.rowGroupRows && a.rowGroupBytes == b.rowGroupBytes
            && a.metadata.map(\.0) == b.metadata.map(\.0) && a.metadata.map(\.1) == b.metadata.map(\.1)
            && a.createdBy == b.createdBy && a.durable == b.durable
    }
}

/// Writes one Parquet file, row by row: format version 1 data pages, PLAIN or dictionary
/// encoding (strings that repeat), snappy or zstd, min / max / null count statistics per column
/// chunk. The file is written under a temporary name and renamed by `finish()`, so a reader
/// never sees a partial file; the same rows and options give the same bytes.
public final class ParquetWriter {
    public let path: String
    public let schema: [ParquetField]
    public let options: ParquetWriterOptions
    public private(set) var rows = 0

    private let file: AtomicFile
    private let leaves: [ParquetLeaf]
    private var chunks: [ParquetColumnChunk]
    private var groupRows = 0
    private var offset = 4
    private var rowGroups: [RowGroupRecord] = []
    private var state = State.open

    private enum State { case open, finished, failed }

    private struct ChunkRecord {
        var leaf: ParquetLeaf
        var written: ParquetColumnChunk.Written
        var values: Int
        var nulls: Int
        var offset: Int
    }

    private struct RowGroupRecord {
        var chunks: [ChunkRecord]
        var rows: Int
    }

    public init(path: String, schema: [ParquetField], options: ParquetWriterOptions = ParquetWriterOptions()) throws {
        guard !schema.isEmpty, options.rowGroupRows >= 1, options.rowGroupBytes >= 1 else {
            throw ExportError.invalidOption("a Parquet file needs columns and positive row group limits")
        }
        guard options.codec.parquetCode != nil else {
            throw ExportError.invalidOption("Parquet pages are written uncompressed, with snappy or with zstd, not \(options.codec)")
        }
        for field in schema {
            if case .group(_, let children, _) = field,
               children.isEmpty || children.contains(where: { if case .group = $0 { return true } else { return false } }) {
                throw ExportError.invalidOption("Parquet group \(field.name): one level of columns only")
            }
        }
        self.path = path
        self.schema = schema
        self.options = options
        leaves = ParquetLeaf.leaves(of: schema)
        chunks = leaves.map(ParquetColumnChunk.init)
        file = try AtomicFile(path: path, durable: options.durable, hashing: false)
        do {
            try file.sink.write(Array("PAR1".utf8))
        } catch {
            file.discard()
            throw error
        }
    }

    /// One row: a value per top-level field, `.group([...])` (a value per child) or `.null` for
    /// a group.
    public func append(_ row: [ParquetCell]) throws {
        guard state == .open else { throw ExportError.closed(path) }
        guard row.count == schema.count else { throw ExportError.invalidOption("row of \(row.count) values for \(schema.count) columns") }
        // Every leaf is checked before any is changed, so a bad row leaves the writer as it was.
        let levels = try leaves.map { try definitionLevel(row, $0) }
        for (i, level) in levels.enumerated() {
            chunks[i].append(level: level, value: level == leaves[i].maxDefinition ? leafValue(row, leaves[i]) : nil)
        }
        rows += 1
        groupRows += 1
        if groupRows >= options.rowGroupRows || chunks.reduce(0, { $0 + $1.valueBytes }) >= options.rowGroupBytes {
            try flushRowGroup()
        }
    }

    /// Writes the last row group and the footer, and renames the file into place.
    @discardableResult
    public func finish() throws -> (rows: Int, bytes: Int) {
        guard state == .open else { throw ExportError.closed(path) }
        do {
            try flushRowGroup()
            let footer = footerBytes()
            try file.sink.write(footer + littleEndian32(UInt32(footer.count)) + Array("PAR1".utf8))
            let (bytes, _) = try file.commit()
            state = .finished
            return (rows, bytes)
        } catch {
            fail()
            throw error
        }
    }

    /// Stops without a file: the temporary one is removed.
    public func discard() { fail() }

    private func fail() {
        if state == .open { file.discard() }
        state = .failed
    }

    // MARK: - Rows into levels

    /// The leaf's definition level in this row (checking the value's type on the way).
    private func definitionLevel(_ row: [ParquetCell], _ leaf: ParquetLeaf) throws -> Int {
        let field = schema[leaf.field]
        var level = 0
        var value = row[leaf.field]
        if case .group(_, let children, let nullable) = field, let child = leaf.child {
            if value == .null {
                guard nullable else { throw ExportError.invalidOption("\(field.name) is not nullable") }
                return 0
            }
            guard case .group(let members) = value, members.count == children.count else {
                throw ExportError.invalidOption("\(field.name): expected a group of \(children.count) values")
            }
            if nullable { level += 1 }
            value = members[child]
            guard children[child].nullable || value != .null else {
                throw ExportError.invalidOption("\(field.name).\(children[child].name) is not nullable")
            }
            if value == .null { return level }
            if children[child].nullable { level += 1 }
        } else {
            if value == .null {
                guard field.nullable else { throw ExportError.invalidOption("\(field.name) is not nullable") }
                return 0
            }
            if field.nullable { level += 1 }
        }
        guard fits(value, leaf.kind) else { throw ExportError.invalidOption("\(leaf.path.joined(separator: ".")): \(value) is not \(leaf.kind)") }
        return level
    }

    private func leafValue(_ row: [ParquetCell], _ leaf: ParquetLeaf) -> ParquetCell {
        if let child = leaf.child, case .group(let members) = row[leaf.field] { return members[child] }
        return row[leaf.field]
    }

    private func fits(_ value: ParquetCell, _ kind: ParquetKind) -> Bool {
        switch (value, kind) {
        case (.int64, .int64), (.double, .double), (.boolean, .boolean), (.string, .string), (.bytes, .binary): return true
        default: return false
        }
    }

    // MARK: - Row groups

    private func flushRowGroup() throws {
        guard groupRows > 0 else { return }
        var records: [ChunkRecord] = []
        for chunk in chunks {
            let written = try chunk.write(at: offset, codec: options.codec)
            try file.sink.write(written.bytes)
            records.append(ChunkRecord(leaf: chunk.leaf, written: written, values: chunk.levels.count, nulls: chunk.nullCount,
                                       offset: offset))
            offset += written.bytes.count
        }
        rowGroups.append(RowGroupRecord(chunks: records, rows: groupRows))
        chunks = leaves.map(ParquetColumnChunk.init)
        groupRows = 0
    }

    // MARK: - Footer

    /// FileMetaData (parquet.thrift), field by field.
    private func footerBytes() -> [UInt8] {
        var t = ThriftCompactWriter()
        t.i32(1, 1)   // version
        // Schema: the root, then each field (a group followed by its children).
        var elements = 1
        for field in schema {
            if case .group(_, let children, _) = field { elements += 1 + children.count } else { elements += 1 }
        }
        t.listOfStructs(2, count: elements)
        t.beginListStruct()
        t.string(4, "schema")
        t.i32(5, Int32(schema.count))
        t.endStruct()
        for field in schema {
            switch field {
            case .column(let name, let kind, let nullable):
                schemaLeaf(&t, name, kind, nullable)
            case .group(let name, let children, let nullable):
                t.beginListStruct()
                t.i32(3, nullable ? 1 : 0)
                t.string(4, name)
                t.i32(5, Int32(children.count))
                t.endStruct()
                for case .column(let childName, let kind, let childNullable) in children {
                    schemaLeaf(&t, childName, kind, childNullable)
                }
            }
        }
        t.i64(3, Int64(rows))
        t.listOfStructs(4, count: rowGroups.count)
        for group in rowGroups {
            t.beginListStruct()
            t.listOfStructs(1, count: group.chunks.count)
            var totalUncompressed = 0, totalCompressed = 0
            for chunk in group.chunks {
                t.beginListStruct()
                t.i64(2, Int64(chunk.offset))
                columnMetaData(&t, chunk)
                t.endStruct()
                totalUncompressed += chunk.written.uncompressedSize
                totalCompressed += chunk.written.bytes.count
            }
            t.i64(2, Int64(totalUncompressed))
            t.i64(3, Int64(group.rows))
            t.i64(5, Int64(group.chunks.first?.offset ?? 4))
            t.i64(6, Int64(totalCompressed))
            t.endStruct()
        }
        if !options.metadata.isEmpty {
            t.listOfStructs(5, count: options.metadata.count)
            for (key, value) in options.metadata {
                t.beginListStruct()
                t.string(1, key)
                t.string(2, value)
                t.endStruct()
            }
        }
        t.string(6, options.createdBy)
        // Column orders: every leaf sorts by its type's order, so readers trust min / max.
        t.listOfStructs(7, count: leaves.count)
        for _ in leaves {
            t.beginListStruct()
            t.emptyStruct(1)
            t.endStruct()
        }
        t.endStruct()
        return t.bytes
    }

    private func schemaLeaf(_ t: inout ThriftCompactWriter, _ name: String, _ kind: ParquetKind, _ nullable: Bool) {
        t.beginListStruct()
        t.i32(1, kind.physicalType)
        t.i32(3, nullable ? 1 : 0)
        t.string(4, name)
        if kind == .string {
            t.i32(6, 0)   // converted type UTF8, for older readers
            t.beginStruct(10)
            t.emptyStruct(1)   // LogicalType.STRING
            t.endStruct()
        }
        t.endStruct()
    }

    private func columnMetaData(_ t: inout ThriftCompactWriter, _ chunk: ChunkRecord) {
        t.beginStruct(3)
        t.i32(1, chunk.leaf.kind.physicalType)
        t.listOfI32(2, chunk.written.encodings)
        t.listOfStrings(3, chunk.leaf.path)
        t.i32(4, options.codec.parquetCode ?? 0)
        t.i64(5, Int64(chunk.values))
        t.i64(6, Int64(chunk.written.uncompressedSize))
        t.i64(7, Int64(chunk.written.bytes.count))
        t.i64(9, Int64(chunk.written.dataPageOffset))
        if let dictionary = chunk.written.dictionaryPageOffset { t.i64(11, Int64(dictionary)) }
        t.beginStruct(12)
        t.i64(3, Int64(chunk.nulls))
        if let stats = chunk.written.statistics {
            t.binary(5, stats.max)
            t.binary(6, stats.min)
        }
        t.endStruct()
        t.endStruct()
    }
}
