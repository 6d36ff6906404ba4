import Basics
import Foundation
import XCTest

/// Tar bytes for the tests: ustar headers written field by field.
enum TarBytes {
    static func header(_ name: String, size: Int, type: UInt8 = UInt8(ascii: "0")) -> [UInt8] {
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

    static func padded(_ d: [UInt8]) -> [UInt8] { d + [UInt8](repeating: 0, count: (512 - d.count % 512) % 512) }

    static func member(_ name: String, _ data: [UInt8]) -> [UInt8] { header(name, size: data.count) + padded(data) }

    /// A pax record "LEN key=value\n", LEN counting itself.
    static func paxRecord(_ key: String, _ value: String) -> [UInt8] {
        let body = " \(key)=\(value)\n"
        var length = body.utf8.count + 1
        while "\(length)\(body)".utf8.count != length { length += 1 }
        return Array("\(length)\(body)".utf8)
    }

    static let end = [UInt8](repeating: 0, count: 1024)
}

/// The one tar reader: ustar fields, pax and GNU long names, and damage (bad checksums,
/// truncation, garbage) reported without losing the members that are intact.
final class TarReaderTests: XCTestCase {
    var files: [URL] = []
    override func tearDown() { files.forEach { try? FileManager.default.removeItem(at: $0) } }

    func write(_ bytes: [UInt8]) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("capfilt-tar-\(UUID().uuidString).tar")
        try Data(bytes).write(to: url)
        files.append(url)
        return url.path
    }

    func entries(_ path: String, from offset: Int = 0) throws -> [TarEntry] {
        let reader = try TarReader(path: path, startingAt: offset)
        var out: [TarEntry] = []
        while let e = reader.next() { out.append(e) }
        return out
    }

    func names(_ entries: [TarEntry]) -> [String] {
        entries.compactMap { if case .member(let m) = $0 { return m.name }; return nil }
    }

    func problems(_ entries: [TarEntry]) -> [TarProblem] {
        entries.compactMap { if case .problem(let p) = $0 { return p }; return nil }
    }

    func testNamesFromUstarPaxAndGNUHeaders() throws {
        let long = "shard/" + String(repeating: "k", count: 150)
        let record = TarBytes.paxRecord("path", long + ".txt")
        let gnuName = Array("gnu%2Fkey.txt".utf8) + [0]
        var tar: [UInt8] = []
        tar += TarBytes.header("dir/", size: 0, type: UInt8(ascii: "5"))
        tar += TarBytes.member("a%2F1.jpg", [1, 2, 3]) + TarBytes.member("a%2F1.txt", Array("first caption".utf8))
        let paxAt = tar.count
        tar += TarBytes.header("PaxHeaders/long", size: record.count, type: UInt8(ascii: "x")) + TarBytes.padded(record)
        tar += TarBytes.member(String(long.prefix(100)), Array("second".utf8))
        tar += TarBytes.header("././@LongLink", size: gnuName.count, type: UInt8(ascii: "L")) + TarBytes.padded(gnuName)
        tar += TarBytes.member("gnu%2Fkey.t", Array("no image".utf8))
        tar += TarBytes.end
        let path = try write(tar)

        let all = try entries(path)
        XCTAssertEqual(names(all), ["a%2F1.jpg", "a%2F1.txt", long + ".txt", "gnu%2Fkey.txt"])
        XCTAssertTrue(problems(all).isEmpty)
        let reader = try TarReader(path: path)
        let first = try XCTUnwrap(try reader.nextMember())
        XCTAssertEqual(reader.read(first), [1, 2, 3])
        XCTAssertEqual(Array(tar[first.byteRange]), [1, 2, 3])
        // A member's entry starts at its pax header: reading from there gives it again.
        _ = try reader.nextMember()
        let paxMember = try XCTUnwrap(try reader.nextMember())
        XCTAssertEqual(paxMember.entryOffset, paxAt)
        XCTAssertEqual(names(try entries(path, from: paxMember.entryOffset)), [long + ".txt", "gnu%2Fkey.txt"])
    }

    func testBadChecksumIsReportedAndLaterMembersAreKept() throws {
        var tar = TarBytes.member("a.jpg", [1]) + TarBytes.member("a.txt", Array("x".utf8))
        let damaged = tar.count
        tar += TarBytes.member("b.jpg", [2, 2]) + TarBytes.member("b.txt", Array("y".utf8))
        tar[damaged + 3] ^= 0x55   // the name of b.jpg: its checksum no longer matches
        tar += TarBytes.member("c.jpg", [3]) + TarBytes.end
        let all = try entries(try write(tar))
        // b.jpg's data block holds no header; b.txt's header is intact and is found again.
        XCTAssertEqual(names(all), ["a.jpg", "a.txt", "b.txt", "c.jpg"])
        XCTAssertEqual(problems(all).count, 1)
        XCTAssertEqual(problems(all).first?.offset, damaged)
        XCTAssertEqual(problems(all).first?.kind, .badChecksum)
    }

    func testTruncatedMemberEndsTheArchiveWithAProblem() throws {
        let big = [UInt8](repeating: 7, count: 3000)
        let full = TarBytes.member("a.jpg", [1]) + TarBytes.member("b.jpg", big) + TarBytes.member("c.jpg", [3]) + TarBytes.end
        let cut = Array(full[0..<(1024 + 512 + 1000)])   // inside b.jpg's data
        let all = try entries(try write(cut))
        XCTAssertEqual(names(all), ["a.jpg"])
        XCTAssertEqual(problems(all).map(\.member), ["b.jpg"])
        XCTAssertEqual(problems(all)[0].kind, .truncatedMember)
        XCTAssertEqual(problems(all)[0].reason, "3000 bytes of data, 1000 left in the file")
    }

    func testTruncatedHeaderAndMissingEndBlocks() throws {
        let tar = TarBytes.member("a.jpg", [1]) + Array(TarBytes.header("b.jpg", size: 1).prefix(300))
        let all = try entries(try write(tar))
        XCTAssertEqual(names(all), ["a.jpg"])
        XCTAssertEqual(problems(all).count, 1)
        XCTAssertEqual(problems(all)[0].kind, .truncatedHeader)
        // No end-of-archive blocks at all is a clean end.
        XCTAssertEqual(try entries(try write(TarBytes.member("a.jpg", [1]))), try entries(try write(TarBytes.member("a.jpg", [1]) + TarBytes.end)))
    }

    func testGarbageGivesProblemsNeverACrash() throws {
        let path = try write([UInt8](repeating: 7, count: 4096))
        let all = try entries(path)
        XCTAssertEqual(names(all), [])
        XCTAssertEqual(problems(all).count, 1)
        XCTAssertThrowsError(try TarReader(path: path).nextMember())
        // A header claiming a huge base-256 size is a truncated member, not an overflow.
        var huge = TarBytes.header("x.jpg", size: 0)
        huge[124] = 0x80
        for i in 125..<136 { huge[i] = 0xFF }
        for i in 148..<156 { huge[i] = 32 }
        let sum = String(format: "%06o", huge.reduce(0) { $0 + Int($1) })
        for (i, c) in sum.utf8.enumerated() { huge[148 + i] = c }
        huge[154] = 0
        let hugeEntries = try entries(try write(huge + TarBytes.end))
        XCTAssertEqual(names(hugeEntries), [])
        XCTAssertEqual(problems(hugeEntries).first?.kind, .truncatedMember)
        // Random bytes of every length: no crash, and the reader always ends.
        var state: UInt64 = 12345
        for length in stride(from: 0, to: 5000, by: 97) {
            var bytes = TarBytes.member("a.txt", [1, 2])
            for _ in 0..<length { state = state &* 6364136223846793005 &+ 1442695040888963407; bytes.append(UInt8(state >> 56)) }
            _ = try entries(try write(bytes))
        }
        XCTAssertThrowsError(try TarReader(path: "/nonexistent/capfilt.tar"))
    }
}
