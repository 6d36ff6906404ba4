import Foundation
import XCTest
@testable import Ingest

/// Reads the pyarrow-written fixtures of scripts/make_ingest_fixtures.py and compares every row
/// with the rows pyarrow wrote (laion_expected.json, lowercase_expected.json).
final class ParquetTests: XCTestCase {
    private struct Expected: Decodable {
        let columns: [String]
        let types: [String: String]
        let rows: [[String: Value]]
    }

    private enum Value: Decodable, Equatable {
        case null, bool(Bool), number(Double), string(String)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null }
            else if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let d = try? c.decode(Double.self) { self = .number(d) }
            else { self = .string(try c.decode(String.self)) }
        }
    }

    private static let fixtures: URL = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/manifests/parquet")

    private func fixture(_ name: String) -> String { Self.fixtures.appendingPathComponent(name).path }

    private func expected(_ name: String) throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent(name)))
    }

    private func records(_ path: String, options: ManifestOptions = ManifestOptions()) throws -> [ManifestRecord] {
        var reader = try openManifest(path: path, options: options)
        var out: [ManifestRecord] = []
        while let r = try reader.next() { out.append(r) }
        return out
    }

    /// The record the reader must produce for one expected row, metadata compared per type.
    private func check(_ record: ManifestRecord, row: [String: Value], index: Int, rowGroupSize: Int, expected: Expected,
                       urlColumn: String, captionColumn: String, file: String, line: UInt = #line) {
        let context = "\((file as NSString).lastPathComponent) row \(index)"
        func text(_ v: Value?) -> String? {
            if case .string(let s)? = v { return s }
            return nil
        }
        let url = text(row[urlColumn]).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        let caption = text(row[captionColumn]).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        let reason: String? = url.isEmpty ? "missing url"
            : !(url.hasPrefix("http://") || url.hasPrefix("https://")) ? "url is not http(s)"
            : caption.isEmpty ? "missing caption" : nil
        if let reason {
            XCTAssertEqual(record.problem?.reason, reason, context, line: line)
            XCTAssertEqual(record.problem?.record, index, context, line: line)
            XCTAssertEqual(record.problem?.rowGroup, index / rowGroupSize, context, line: line)
            return
        }
        guard let s = record.sample else { return XCTFail("\(context): expected a sample, got \(record)", line: line) }
        XCTAssertEqual(s.key, String(index), context, line: line)
        XCTAssertEqual(s.url, url, context, line: line)
        XCTAssertEqual(s.captions, [caption], context, line: line)
        XCTAssertEqual(s.source, "laion", context, line: line)
        XCTAssertEqual(s.origin, .web, context, line: line)
        var keys: Set<String> = []
        for column in expected.columns where column != urlColumn && column != captionColumn {
            let key = column.lowercased()
            let got = s.metadata[key]
            switch row[column] ?? .null {
            case .null:
                XCTAssertNil(got, "\(context) \(column)", line: line)
            case .bool(let b):
                keys.insert(key)
                XCTAssertEqual(got, b ? "true" : "false", "\(context) \(column)", line: line)
            case .string(let v):
                keys.insert(key)
                XCTAssertEqual(got, v, "\(context) \(column)", line: line)
            case .number(let d):
                keys.insert(key)
                switch expected.types[column] {
                case "float":
                    XCTAssertEqual(got.flatMap(Float.init), Float(d), "\(context) \(column)", line: line)
                case "double":
                    XCTAssertEqual(got.flatMap(Double.init), d, "\(context) \(column)", line: line)
                default:
                    // JSON numbers decode as Double here; testHashesAreExactInt64 checks all 64 bits.
                    XCTAssertEqual(got.flatMap { Int64($0) }.map(Double.init), d, "\(context) \(column)", line: line)
                }
            }
        }
        XCTAssertEqual(Set(s.metadata.keys), keys, context, line: line)
    }

    func testLAIONVariantsMatchPyarrow() throws {
        let expected = try expected("laion_expected.json")
        XCTAssertEqual(expected.rows.count, 70)
        let variants = ["laion_snappy", "laion_gzip", "laion_zstd", "laion_none", "laion_v2", "laion_v2_gzip_plain",
                        "laion_plain", "laion_v1format", "laion_small_pages"]
        for name in variants {
            let path = fixture(name + ".parquet")
            let got = try records(path)
            XCTAssertEqual(got.count, expected.rows.count, name)
            for (i, (record, row)) in zip(got, expected.rows).enumerated() {
                check(record, row: row, index: i, rowGroupSize: 16, expected: expected, urlColumn: "URL",
                      captionColumn: "TEXT", file: path)
            }
        }
    }

    func testHashesAreExactInt64() throws {
        // Doubles lose int64 precision, so compare the hash column through the raw JSON text.
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("laion_expected.json"))
        let rows = (try JSONSerialization.jsonObject(with: data) as! [String: Any])["rows"] as! [[String: Any]]
        let got = try records(fixture("laion_zstd.parquet"))
        var compared = 0
        for (record, row) in zip(got, rows) {
            guard let s = record.sample else { continue }
            XCTAssertEqual(s.metadata["hash"], "\((row["hash"] as! NSNumber).int64Value)")
            compared += 1
        }
        XCTAssertGreaterThan(compared, 50)
    }

    func testLowercaseColumns() throws {
        let expected = try expected("lowercase_expected.json")
        let path = fixture("lowercase_zstd.parquet")
        let got = try records(path)
        XCTAssertEqual(got.count, 24)
        for (i, (record, row)) in zip(got, expected.rows).enumerated() {
            check(record, row: row, index: i, rowGroupSize: 10, expected: expected, urlColumn: "url",
                  captionColumn: "caption", file: path)
        }
        XCTAssertEqual(got[9].problem?.reason, "missing caption")
        XCTAssertEqual(got[0].sample?.metadata["status"], "failed_to_download")
    }

    func testFileStructure() throws {
        let file = try ParquetFile(path: fixture("laion_snappy.parquet"))
        XCTAssertEqual(file.rowCount, 70)
        XCTAssertEqual(file.rowGroupCount, 5)
        XCTAssertEqual((0..<5).map(file.rowCount(ofRowGroup:)), [16, 16, 16, 16, 6])
        XCTAssertEqual(file.columns.map(\.name), ["URL", "TEXT", "WIDTH", "HEIGHT", "similarity", "punsafe", "pwatermark",
                                                  "LICENSE", "NSFW", "hash", "aesthetic_ok"])
        XCTAssertEqual(file.columns.map(\.physicalType), [.byteArray, .byteArray, .int32, .int32, .double, .float, .float,
                                                          .byteArray, .byteArray, .int64, .boolean])
        XCTAssertTrue(file.columns.allSatisfy(\.isOptional))
        // Reading two columns only.
        var rows = file.rows(columns: [9, 2])
        var n = 0
        while let r = try rows.next() {
            XCTAssertEqual(r.count, 2)
            n += 1
        }
        XCTAssertEqual(n, 70)
        XCTAssertEqual(rows.rowGroup, 4)
    }

    func testMetadataColumnsLimitWhatIsRead() throws {
        let got = try records(fixture("laion_snappy.parquet"), options: ManifestOptions(metadataColumns: ["similarity", "NSFW"]))
        let keys = Set(got.compactMap(\.sample).flatMap(\.metadata.keys))
        XCTAssertEqual(keys, ["similarity", "nsfw"])
    }

    func testColumnOptions() throws {
        // url_col / caption_col pick other columns; here LICENSE as "caption" to show the choice.
        let got = try records(fixture("laion_snappy.parquet"), options: ManifestOptions(captionColumn: "NSFW"))
        let captions = Set(got.compactMap(\.sample).flatMap(\.captions))
        XCTAssertTrue(captions.isSubset(of: ["UNLIKELY", "UNSURE", "NSFW"]), "\(captions)")
        XCTAssertNotNil(got.compactMap(\.sample).first?.metadata["text"])
    }

    func testWrongColumnsNameExpectedAndFound() throws {
        let path = fixture("wrong_columns.parquet")
        XCTAssertThrowsError(try records(path)) { error in
            XCTAssertEqual(error as? ManifestError, .missingColumns(
                file: path, missing: ["URL or url"], expected: ["URL or url", "TEXT or caption"], found: ["image", "text"]))
        }
    }

    func testEmptyParquet() throws {
        XCTAssertEqual(try records(fixture("empty_rows.parquet")), [])
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("capfilt-empty-\(UUID().uuidString).parquet")
        try Data().write(to: empty)
        defer { try? FileManager.default.removeItem(at: empty) }
        XCTAssertEqual(try records(empty.path), [])
    }

    func testDamagedFilesAreErrors() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture("laion_snappy.parquet")))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("capfilt-parquet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        let truncated = dir.appendingPathComponent("truncated.parquet")
        try data.prefix(data.count / 2).write(to: truncated)
        XCTAssertThrowsError(try ParquetFile(path: truncated.path)) { error in
            XCTAssertEqual(error as? ManifestError,
                           .corrupt(file: truncated.path, reason: "no PAR1 magic at the end (truncated file?)"))
        }

        // A page body overwritten with noise: the codec or the decoder must notice.
        var noisy = data
        for i in 400..<700 { noisy[i] = UInt8(truncatingIfNeeded: i &* 31) }
        let damaged = dir.appendingPathComponent("damaged.parquet")
        try noisy.write(to: damaged)
        XCTAssertThrowsError(try records(damaged.path)) { error in
            guard case .corrupt? = error as? ManifestError else { return XCTFail("\(error)") }
        }
    }

    func testRLEHybrid() throws {
        // RLE run of 5 x 3 (width 2), then a bit-packed group of 8 values 0...7 (width 3).
        var bytes = PageBytes([0x0A, 0x03, 0x03, 0x88, 0xC6, 0xFA])
        XCTAssertEqual(try RLEHybrid.decode(&bytes, bitWidth: 3, count: 13), [3, 3, 3, 3, 3, 0, 1, 2, 3, 4, 5, 6, 7])
        var run = PageBytes([0x0A, 0x03])
        XCTAssertEqual(try RLEHybrid.decode(&run, bitWidth: 2, count: 5), [3, 3, 3, 3, 3])
        var packed = PageBytes([0x03, 0x88, 0xC6, 0xFA])
        XCTAssertEqual(try RLEHybrid.decode(&packed, bitWidth: 3, count: 8), [0, 1, 2, 3, 4, 5, 6, 7])
        var short = PageBytes([0x03, 0x88])
        XCTAssertThrowsError(try RLEHybrid.decode(&short, bitWidth: 3, count: 8))
    }
}
