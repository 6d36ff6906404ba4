import Foundation
import XCTest
@testable import Ingest

/// Files written by pyarrow, polars, DuckDB, pandas + fastparquet, Spark and DataFusion
/// (scripts/make_parquet_writer_fixtures.py), each row compared with what pyarrow read from the
/// same file (`<name>.json`, in the convention of docs/ingest.md).
final class ParquetWriterTests: XCTestCase {
    private static let folder = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/manifests/parquet/writers")

    private static func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// Every fixture that has its expected rows.
    private static func names() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }

    private static func expected(_ name: String) throws -> ParsedJSON {
        try JSONParser.parse([UInt8](try Data(contentsOf: folder.appendingPathComponent(name + ".json"))))
    }

    private static func strings(_ json: ParsedJSON?) -> [String] {
        guard case .array(let items)? = json else { return [] }
        return items.compactMap(\.stringValue)
    }

    private static func rows(_ file: ParquetFile) throws -> [[ParquetValue]] {
        var reader = file.rows(columns: Array(file.columns.indices))
        var rows: [[ParquetValue]] = []
        while let row = try reader.next() { rows.append(row) }
        return rows
    }

    /// One value against its expected JSON: integers by their exact text, floats at the
    /// column's precision, bytes as hex.
    static func matches(_ value: ParquetValue, _ expected: ParsedJSON) -> Bool {
        switch (expected, value) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(n), .int(i)): return n == String(i)
        case let (.number(n), .uint(u)): return n == String(u)
        case let (.number(n), .float(f)): return Float(n) == f
        case let (.number(n), .double(d)): return Double(n) == d
        case let (.string(s), .string(t)): return s == t
        case let (.string(s), .bytes): return s == value.text
        default: return false
        }
    }

    func testEveryWriterFileReadsAsPyarrowReadsIt() throws {
        let names = try Self.names()
        XCTAssertGreaterThanOrEqual(names.count, 20)
        for name in names {
            let expected = try Self.expected(name)
            let file = try ParquetFile(path: Self.path(name + ".parquet"))
            XCTAssertEqual(file.columns.map(\.name), Self.strings(expected["columns"]), name)
            XCTAssertEqual(file.skippedColumns, Self.strings(expected["skipped"]), name)
            guard case .array(let rows)? = expected["rows"] else { return XCTFail("\(name): no rows") }
            let got = try Self.rows(file)
            XCTAssertEqual(got.count, rows.count, name)
            for (r, (row, want)) in zip(got, rows).enumerated() {
                guard case .array(let values) = want, values.count == row.count else {
                    XCTFail("\(name) row \(r): \(row.count) values, expected \(want)")
                    continue
                }
                for (c, (value, json)) in zip(row, values).enumerated() where !Self.matches(value, json) {
                    XCTFail("\(name) row \(r) column \(file.columns[c].name): read \(value), expected \(json)")
                }
            }
        }
    }

    /// The fixtures keep covering what they are there for: each writer, codec, v2 encoding and
    /// logical type.
    func testFixturesCoverWritersCodecsEncodingsAndTypes() throws {
        var writers: Set<String> = [], codecs: Set<Int32> = [], encodings: Set<String> = []
        var types: [ParquetLogicalType] = [], physical: Set<ParquetPhysicalType> = []
        for name in try Self.names() {
            let expected = try Self.expected(name)
            let file = try ParquetFile(path: Self.path(name + ".parquet"))
            writers.insert(String((file.createdBy ?? "").prefix { $0 != " " }))
            codecs.formUnion(file.rowGroups.flatMap { $0.columns.map(\.codec) })
            encodings.formUnion(Self.strings(expected["encodings"]))
            types += file.columns.map(\.logicalType)
            physical.formUnion(file.columns.map(\.physicalType))
        }
        XCTAssertEqual(writers, ["parquet-cpp-arrow", "Polars", "DuckDB", "fastparquet-python", "parquet-mr", "datafusion"])
        XCTAssertEqual(codecs, [Codec.snappy, Codec.gzip, Codec.brotli, Codec.lz4, Codec.zstd, Codec.lz4Raw])
        XCTAssertTrue(encodings.isSuperset(of: ["DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
                                                "BYTE_STREAM_SPLIT", "RLE_DICTIONARY", "PLAIN_DICTIONARY"]), "\(encodings)")
        XCTAssertTrue(physical.contains(.int96))
        let wanted: [ParquetLogicalType] = [
            .string, .integer(bitWidth: 32, signed: false), .integer(bitWidth: 64, signed: false),
            .integer(bitWidth: 8, signed: true), .integer(bitWidth: 16, signed: true), .date, .uuid, .float16,
            .time(.millis, adjustedToUTC: false), .time(.micros, adjustedToUTC: false), .time(.nanos, adjustedToUTC: false),
            .timestamp(.millis, adjustedToUTC: false), .timestamp(.micros, adjustedToUTC: true),
            .timestamp(.nanos, adjustedToUTC: false), .timestamp(.nanos, adjustedToUTC: true),
        ]
        for t in wanted { XCTAssertTrue(types.contains(t), "\(t)") }
        XCTAssertTrue(types.contains { if case .decimal = $0 { return true } else { return false } })
    }

    /// A few values spelled out here rather than taken from the expected files.
    func testUnsignedAndLogicalValuesSpelledOut() throws {
        let file = try ParquetFile(path: Self.path("pyarrow_v2_delta_zstd.parquet"))
        let rows = try Self.rows(file)
        func value(_ row: Int, _ column: String) -> ParquetValue? {
            file.columns.firstIndex { $0.name == column }.map { rows[row][$0] }
        }
        XCTAssertEqual(value(1, "u32"), .uint(3_000_000_000))
        XCTAssertEqual(value(2, "u32"), .uint(4_294_967_295))
        XCTAssertEqual(value(2, "u64"), .uint(UInt64.max))
        XCTAssertEqual(value(1, "u64"), .uint(1 << 63 + 5))
        XCTAssertEqual(value(0, "i64"), .int(Int64.min))
        XCTAssertEqual(value(1, "dec"), .string("-0.05"))
        XCTAssertEqual(value(0, "date"), .string("2024-02-29"))
        XCTAssertEqual(value(1, "ts_us_utc"), .string("1969-12-31T23:59:59.500000Z"))
        XCTAssertEqual(value(1, "t_ms"), .string("12:34:56.789"))
        XCTAssertEqual(value(3, "s"), .null)
        XCTAssertEqual(value(0, "b"), .bytes([0x00, 0xFF]))
        XCTAssertEqual(value(0, "f16"), .float(1.5))
        XCTAssertEqual(value(0, "u32")?.text, "0")
        XCTAssertEqual(value(2, "u64")?.text, "18446744073709551615")

        // polars' hash() is a UInt64 column: no negative numbers.
        let polars = try ParquetFile(path: Self.path("polars_lz4.parquet"))
        let phash = try XCTUnwrap(polars.columns.firstIndex { $0.name == "phash" })
        XCTAssertEqual(polars.columns[phash].logicalType, .integer(bitWidth: 64, signed: false))
        for row in try Self.rows(polars) {
            guard case .uint = row[phash] else { return XCTFail("phash read as \(row[phash])") }
        }
    }

    func testMadeUpCodecAndEncodingAreUnsupported() throws {
        for (name, words) in [("unsupported_codec", "codec 42 compression"), ("unsupported_encoding", "encoding 42 encoding")] {
            let path = Self.path(name + ".parquet")
            let file = try ParquetFile(path: path)
            XCTAssertThrowsError(try Self.rows(file), name) { error in
                guard case .unsupported(let f, let reason)? = error as? ManifestError else { return XCTFail("\(name): \(error)") }
                XCTAssertEqual(f, path)
                XCTAssertTrue(reason.contains(words), reason)
            }
        }
    }

    /// The page bodies of every codec overwritten: each decoder must notice, and the error is
    /// damage (`corrupt`), not a missing feature.
    func testDamagedPagesOfEveryCodecAreCorrupt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("capfilt-parquet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let names = ["pyarrow_lz4raw", "pyarrow_brotli", "datafusion_lz4hadoop", "spark_v1_lz4hadoop_int96", "duckdb_zstd",
                     "pyarrow_gzip_v1format", "polars_lz4"]
        for name in names {
            let source = Self.path(name + ".parquet")
            let file = try ParquetFile(path: source)
            let chunk = file.rowGroups[0].columns[file.columns[0].index]
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source)))
            let start = Int(chunk.dictionaryPageOffset.flatMap { $0 > 0 ? $0 : nil } ?? chunk.dataPageOffset)
            var header = ThriftCompactReader(bytes, from: start)
            let page = try PageHeader.read(&header)
            for i in header.position..<header.position + Int(page.compressedSize) { bytes[i] = 0xFF }
            let damaged = dir.appendingPathComponent(name + ".parquet")
            try Data(bytes).write(to: damaged)
            XCTAssertThrowsError(try Self.rows(ParquetFile(path: damaged.path)), name) { error in
                guard case .corrupt? = error as? ManifestError else { return XCTFail("\(name): \(error)") }
            }
            // Cut short inside the data: the footer is gone.
            let cut = dir.appendingPathComponent(name + "-cut.parquet")
            try Data(bytes.prefix(bytes.count - 100)).write(to: cut)
            XCTAssertThrowsError(try ParquetFile(path: cut.path), name) { error in
                guard case .corrupt? = error as? ManifestError else { return XCTFail("\(name): \(error)") }
            }
        }
    }

    /// Bytes changed at random all over each file, footer included: reading ends in a value or a
    /// ManifestError, never a crash (a trap would end the test run).
    func testMutatedFilesNeverCrash() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("capfilt-parquet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random(_ n: Int) -> Int {   // SplitMix64
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(n))
        }
        var outcomes = [String: Int]()
        for name in try Self.names() {
            let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.path(name + ".parquet"))))
            for _ in 0..<30 {
                var bytes = original
                for _ in 0..<1 + random(4) { bytes[4 + random(bytes.count - 12)] = UInt8(random(256)) }
                let path = dir.appendingPathComponent("mutated.parquet").path
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                do {
                    _ = try Self.rows(ParquetFile(path: path))
                    outcomes["read", default: 0] += 1
                } catch let error as ManifestError {
                    switch error {
                    case .corrupt: outcomes["corrupt", default: 0] += 1
                    case .unsupported: outcomes["unsupported", default: 0] += 1
                    default: XCTFail("\(name): \(error)")
                    }
                }
            }
        }
        XCTAssertGreaterThan(outcomes["corrupt"] ?? 0, 200, "\(outcomes)")
    }

    /// The first page of a file's first column: its header and compressed body.
    private static func firstPage(_ name: String) throws -> (PageHeader, [UInt8]) {
        let file = try ParquetFile(path: path(name + ".parquet"))
        let chunk = file.rowGroups[0].columns[0]
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(name + ".parquet"))))
        let start = Int(chunk.dictionaryPageOffset.flatMap { $0 > 0 ? $0 : nil } ?? chunk.dataPageOffset)
        var reader = ThriftCompactReader(bytes, from: start)
        let header = try PageHeader.read(&reader)
        return (header, Array(bytes[reader.position..<reader.position + Int(header.compressedSize)]))
    }

    /// Parquet's LZ4 codec takes Hadoop's framing and, from old writers, a bare LZ4 block.
    func testLZ4AcceptsHadoopFramingAndBareBlocks() throws {
        let (rawHeader, raw) = try Self.firstPage("pyarrow_lz4raw")
        let size = Int(rawHeader.uncompressedSize)
        let fromRaw = try PageCodec.decompress(raw, from: 0, count: raw.count, codec: Codec.lz4Raw, size: size)
        XCTAssertEqual(try PageCodec.decompress(raw, from: 0, count: raw.count, codec: Codec.lz4, size: size), fromRaw)

        let (hadoopHeader, hadoop) = try Self.firstPage("spark_v1_lz4hadoop_int96")
        let framed = try PageCodec.decompress(hadoop, from: 0, count: hadoop.count, codec: Codec.lz4,
                                              size: Int(hadoopHeader.uncompressedSize))
        // The frame is [uncompressed size][compressed size][block], sizes big-endian.
        XCTAssertEqual(Int(hadoop[0]) << 24 | Int(hadoop[1]) << 16 | Int(hadoop[2]) << 8 | Int(hadoop[3]), framed.count)
        XCTAssertEqual(try PageCodec.decompress(hadoop, from: 8, count: hadoop.count - 8, codec: Codec.lz4Raw,
                                                size: framed.count), framed)
    }

    func testPageSizesAreCheckedBeforeAllocating() throws {
        // Snappy and zstd streams state their size: a page header claiming more is refused.
        for (name, codec) in [("pyarrow_snappy", Codec.snappy), ("pyarrow_zstd_int_decimals", Codec.zstd)] {
            let (header, body) = try Self.firstPage(name)
            XCTAssertThrowsError(try PageCodec.decompress(body, from: 0, count: body.count, codec: codec,
                                                          size: Int(header.uncompressedSize) + 1 << 29)) { error in
                XCTAssertTrue((error as? ParquetFailure)?.message.contains("its header says") == true, "\(error)")
            }
        }
        let three: [UInt8] = [1, 2, 3]
        XCTAssertThrowsError(try PageCodec.decompress(three, from: 0, count: 3, codec: Codec.zstd, size: PageCodec.maxPageSize + 1))
        XCTAssertThrowsError(try PageCodec.decompress(three, from: 0, count: 3, codec: Codec.gzip, size: 1 << 20))
        XCTAssertThrowsError(try PageCodec.decompress(three, from: 0, count: 3, codec: Codec.lz4Raw, size: 1 << 20))
        XCTAssertThrowsError(try PageCodec.decompress(three, from: 2, count: 3, codec: Codec.snappy, size: 4))
        XCTAssertThrowsError(try PageCodec.decompress([], from: 0, count: 0, codec: Codec.lz4, size: 8))
        XCTAssertThrowsError(try PageCodec.decompress(three, from: 0, count: 3, codec: Codec.lzo, size: 8)) { error in
            XCTAssertEqual((error as? ParquetFailure)?.isUnsupported, true)
        }
    }
}
