import Compression
import Foundation
import XCTest
@testable import Export
import Ingest

/// The Parquet writer read back by the project's own reader (itself checked against files that
/// pyarrow, polars, DuckDB and others wrote); `make interop-export` also reads the writer's
/// files with pyarrow, `datasets` and DuckDB.
final class ParquetWriterRoundTripTests: XCTestCase {
    private var root: String!

    override func setUp() { root = scratchDirectory("parquet") }
    override func tearDown() { if let root { try? FileManager.default.removeItem(atPath: root) } }

    private let schema: [ParquetField] = [
        .column("key", .string, nullable: false),
        .column("origin", .string, nullable: true),
        .column("itm", .double, nullable: true),
        .column("width", .int64, nullable: true),
        .column("kept", .boolean, nullable: false),
        .group("image", [.column("bytes", .binary, nullable: true), .column("path", .string, nullable: true)], nullable: true),
    ]

    private func row(_ i: Int) -> [ParquetCell] {
        [
            .string("key \(i) é"),
            i % 5 == 4 ? .null : .string(["web", "synthetic"][i % 2]),
            i % 7 == 3 ? .null : .double(Double(i) / 8 - 3),
            i % 3 == 2 ? .null : .int64(Int64(i * 1000 - 70_000)),
            .boolean(i % 4 == 0),
            i % 11 == 10 ? .null : .group([i % 13 == 0 ? .null : .bytes(Array(repeating: UInt8(i & 0xFF), count: i % 9)),
                                           .string("images/\(i).jpg")]),
        ]
    }

    /// Each row's flat columns as the reader gives them (it reads flat columns only; the image
    /// group is checked with pyarrow and `datasets` by `make interop-export`).
    private func expected(_ i: Int) -> [Ingest.ParquetValue] {
        let r = row(i)
        func leaf(_ c: ParquetCell) -> Ingest.ParquetValue {
            switch c {
            case .null, .group: return .null
            case .string(let s): return .string(s)
            case .double(let d): return .double(d)
            case .int64(let v): return .int(v)
            case .boolean(let b): return .bool(b)
            case .bytes(let b): return .string(String(decoding: b, as: UTF8.self))
            }
        }
        return r[0..<5].map(leaf)
    }

    func testRowsReadBackExactlyWithEveryCodecAndRowGroupSize() throws {
        for codec in [BlockCodec.uncompressed, .snappy, .zstd] {
            for rowGroupRows in [1, 7, 1000] {
                let path = root + "/t-\(codec)-\(rowGroupRows).parquet"
                let writer = try ParquetWriter(path: path, schema: schema,
                                               options: ParquetWriterOptions(codec: codec, rowGroupRows: rowGroupRows, durable: false))
                for i in 0..<100 { try writer.append(row(i)) }
                XCTAssertFalse(FileManager.default.fileExists(atPath: path), "no file before finish")
                XCTAssertEqual(try writer.finish().rows, 100)

                let file = try ParquetFile(path: path)
                XCTAssertEqual(file.rowCount, 100)
                XCTAssertEqual(file.rowGroupCount, (100 + rowGroupRows - 1) / rowGroupRows)
                XCTAssertEqual(file.createdBy, "capfilt")
                XCTAssertEqual(file.columns.map(\.name), ["key", "origin", "itm", "width", "kept"])
                var reader = file.rows(columns: Array(file.columns.indices))
                var i = 0
                while let values = try reader.next() {
                    XCTAssertEqual(values, expected(i), "\(codec), \(rowGroupRows) rows a group, row \(i)")
                    i += 1
                }
                XCTAssertEqual(i, 100)
            }
        }
    }

    func testSameRowsSameBytesAndABadRowChangesNothing() throws {
        var files: [[UInt8]] = []
        for name in ["a", "b"] {
            let writer = try ParquetWriter(path: root + "/\(name).parquet", schema: schema, options: ParquetWriterOptions(durable: false))
            for i in 0..<20 { try writer.append(row(i)) }
            XCTAssertThrowsError(try writer.append([.null] + row(0).dropFirst()), "key is not nullable")
            XCTAssertThrowsError(try writer.append([.int64(1)] + row(0).dropFirst()), "key is a string")
            XCTAssertThrowsError(try writer.append(Array(row(0).prefix(3))), "too few values")
            try writer.finish()
            files.append(try readBytes(root + "/\(name).parquet"))
        }
        XCTAssertEqual(files[0], files[1])
        XCTAssertEqual(try ParquetFile(path: root + "/a.parquet").rowCount, 20)
    }

    func testDiscardLeavesNoFile() throws {
        let writer = try ParquetWriter(path: root + "/gone.parquet", schema: schema, options: ParquetWriterOptions(durable: false))
        try writer.append(row(1))
        writer.discard()
        XCTAssertEqual(try directoryListing(root), [])
    }

    func testRLEHybridRunsAndPackedGroups() {
        // 3 packed values, then a run of 10 (5 join the packed group to fill it, 5 are too few
        // for a run of their own)... as the decoder sees it, any split decodes to the same values.
        let values: [UInt32] = [1, 2, 3] + Array(repeating: 7, count: 20) + [0, 1]
        let encoded = RLEHybrid.encode(values, bitWidth: 3)
        XCTAssertEqual(decodeHybrid(encoded, bitWidth: 3, count: values.count), values)
        XCTAssertEqual(RLEHybrid.encode(Array(repeating: 1, count: 100), bitWidth: 1), [200, 1, 1], "one RLE run: 100 << 1, value 1")
    }

    /// An independent decoder of the hybrid, from the format's description.
    private func decodeHybrid(_ bytes: [UInt8], bitWidth: Int, count: Int) -> [UInt32] {
        var out: [UInt32] = [], i = 0
        while out.count < count && i < bytes.count {
            var header = 0, shift = 0
            while true { let b = bytes[i]; i += 1; header |= Int(b & 0x7F) << shift; shift += 7; if b < 0x80 { break } }
            if header & 1 == 1 {
                let n = (header >> 1) * 8
                for k in 0..<n {
                    var v: UInt32 = 0
                    for b in 0..<bitWidth {
                        let bit = k * bitWidth + b
                        if bytes[i + bit / 8] >> (bit % 8) & 1 == 1 { v |= 1 << b }
                    }
                    out.append(v)
                }
                i += (n * bitWidth + 7) / 8
            } else {
                var v: UInt32 = 0
                for b in 0..<(bitWidth + 7) / 8 { v |= UInt32(bytes[i + b]) << (8 * b) }
                i += (bitWidth + 7) / 8
                out += Array(repeating: v, count: header >> 1)
            }
        }
        return Array(out.prefix(count))
    }
}
