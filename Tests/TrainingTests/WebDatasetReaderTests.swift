import Foundation
import XCTest
@testable import Training

/// The grouping of WebDataset members into training pairs (the tar reader itself is tested in
/// BasicsTests, the key split in IngestTests).
final class WebDatasetReaderTests: XCTestCase {
    /// One 512-byte ustar header.
    func header(_ name: String, size: Int, type: UInt8 = UInt8(ascii: "0")) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 512)
        func put(_ s: String, _ at: Int) { for (i, c) in s.utf8.enumerated() { b[at + i] = c } }
        put(String(name.prefix(100)), 0)
        put(String(format: "%07o", 0o644), 100)
        put(String(format: "%011o", size), 124)
        b[156] = type
        put("ustar", 257); put("00", 263)
        for i in 148..<156 { b[i] = 32 }
        put(String(format: "%06o", b.reduce(0) { $0 + Int($1) }), 148)
        b[154] = 0
        return b
    }

    func padded(_ d: [UInt8]) -> [UInt8] { d + [UInt8](repeating: 0, count: (512 - d.count % 512) % 512) }

    func member(_ name: String, _ data: [UInt8]) -> [UInt8] { header(name, size: data.count) + padded(data) }

    func testMembersAndPairs() throws {
        let long = "shard/" + String(repeating: "k", count: 150)
        // "LEN path=VALUE\n", LEN counting itself.
        let body = " path=\(long).txt\n"
        var length = body.utf8.count + 1
        while "\(length)\(body)".utf8.count != length { length += 1 }
        let record = Array("\(length)\(body)".utf8)
        let gnuName = Array("gnu%2Fkey.txt".utf8) + [0]
        var tar: [UInt8] = []
        tar += header("dir/", size: 0, type: UInt8(ascii: "5"))
        tar += member("a%2F1.jpg", [1, 2, 3]) + member("a%2F1.txt", Array("first caption".utf8))
        tar += member("a%2F1.json", Array("{\"sha256\":\"x\"}".utf8))
        tar += member("lonely.png", [9, 9])
        tar += header("PaxHeaders/long", size: record.count, type: UInt8(ascii: "x")) + padded(record)
        tar += member(String(long.prefix(100)), Array("second".utf8))
        tar += header("././@LongLink", size: gnuName.count, type: UInt8(ascii: "L")) + padded(gnuName)
        tar += member("gnu%2Fkey.t", Array("no image".utf8))
        tar += [UInt8](repeating: 0, count: 1024)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("capfilt-tar-\(UUID().uuidString).tar")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(tar).write(to: url)

        let (pairs, skipped) = try TrainingPair.webDataset(shards: [url])
        XCTAssertEqual(pairs.count, 1)
        XCTAssertEqual(pairs[0].caption, "first caption")
        XCTAssertEqual(pairs[0].imageBytes.map { Array(tar[$0]) }, [1, 2, 3])
        XCTAssertEqual(skipped, 3)   // the png without a caption, the caption without an image, the GNU one
    }

    func testNotATar() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("capfilt-notar-\(UUID().uuidString).tar")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(repeating: 7, count: 1024).write(to: url)
        XCTAssertThrowsError(try TrainingPair.webDataset(shards: [url]))
    }
}
