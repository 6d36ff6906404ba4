import Foundation
import XCTest
@testable import Export

final class TarWriterTests: XCTestCase {
    private var root: String!

    override func setUp() { root = scratchDirectory("tar") }
    override func tearDown() { if let root { try? FileManager.default.removeItem(atPath: root) } }

    /// The reference block for a regular file, built field by field from POSIX's table.
    private func referenceHeader(name: String, size: Int, mtime: Int = 0) -> [UInt8] {
        func octal(_ value: Int, _ width: Int) -> [UInt8] {
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: width - 1 - digits.count) + digits).utf8) + [0]
        }
        var block = [UInt8]()
        block += Array(name.utf8) + [UInt8](repeating: 0, count: 100 - name.utf8.count) // name
        block += octal(0o644, 8) + octal(0, 8) + octal(0, 8)                            // mode uid gid
        block += octal(size, 12) + octal(mtime, 12)                                     // size mtime
        block += Array("        ".utf8)                                                 // chksum (blank)
        block += [UInt8(ascii: "0")] + [UInt8](repeating: 0, count: 100)                // type linkname
        block += Array("ustar".utf8) + [0] + Array("00".utf8)                           // magic version
        block += [UInt8](repeating: 0, count: 64)                                       // uname gname
        block += octal(0, 8) + octal(0, 8)                                              // devmajor devminor
        block += [UInt8](repeating: 0, count: 155 + 12)                                 // prefix, pad
        XCTAssertEqual(block.count, 512)
        let sum = block.reduce(0) { $0 + Int($1) }
        let checksum = String(sum, radix: 8)
        block.replaceSubrange(148..<156, with: Array((String(repeating: "0", count: 6 - checksum.count) + checksum).utf8) + [0, 32])
        return block
    }

    func testLayoutMatchesReferenceByteForByte() throws {
        let path = root + "/one.tar"
        let tar = try TarWriter(path: path)
        try tar.addFile(name: "a.txt", bytes: Array("hello".utf8))
        try tar.addFile(name: "empty.json", bytes: [])
        try tar.addFile(name: "block.bin", bytes: [UInt8](repeating: 7, count: 512))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "nothing under the final name before finish")
        try tar.finish()

        var expected = referenceHeader(name: "a.txt", size: 5)
        expected += Array("hello".utf8) + [UInt8](repeating: 0, count: 507)
        expected += referenceHeader(name: "empty.json", size: 0)
        expected += referenceHeader(name: "block.bin", size: 512) + [UInt8](repeating: 7, count: 512)
        expected += [UInt8](repeating: 0, count: 1024)
        XCTAssertEqual(try readBytes(path), expected)
        XCTAssertEqual(try directoryListing(root), ["one.tar"])
    }

    func testGNUTarListsAndExtractsEverything() throws {
        let longName = String(repeating: "k", count: 150) + ".json"
        let files: [(String, [UInt8])] = [
            ("short.txt", Array("a caption\n".utf8)),
            ("zero.bin", []),
            ("exact.bin", [UInt8](repeating: 1, count: 1024)),
            (longName, Array("{\"a\":1}".utf8)),
            ("caf\u{e9}-\u{1F600}.txt", Array("unicode name".utf8)),
            ("name-of-exactly-100-bytes-" + String(repeating: "x", count: 70) + ".txt", [42]),
        ]
        XCTAssertEqual(files.last!.0.utf8.count, 100)
        let path = root + "/all.tar"
        let tar = try TarWriter(path: path, mtime: 1_700_000_000)
        for (name, bytes) in files { try tar.addFile(name: name, bytes: bytes) }
        try tar.finish()

        let listing = try runTool(["tar", "--utc", "--numeric-owner", "-tvf", path])
        XCTAssertEqual(listing.status, 0, listing.stderr)
        XCTAssertEqual(listing.stderr, "", "GNU tar warns about nothing")
        let lines = listing.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, files.count)
        for (line, (name, bytes)) in zip(lines, files) {
            let columns = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            XCTAssertEqual(columns[0], "-rw-r--r--")
            XCTAssertEqual(columns[1], "0/0")
            XCTAssertEqual(columns[2], String(bytes.count))
            XCTAssertEqual(columns[3] + " " + columns[4], "2023-11-14 22:13")
            XCTAssertEqual(columns[5...].joined(separator: " "), name)
        }

        let out = root + "/x"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let extract = try runTool(["tar", "-xf", path, "-C", out])
        XCTAssertEqual(extract.status, 0, extract.stderr)
        for (name, bytes) in files { XCTAssertEqual(try readBytes(out + "/" + name), bytes, name) }
    }

    func testLongAndNonASCIINamesGoThroughPax() throws {
        // Names of every length around the pax record's own length boundaries.
        let path = root + "/pax.tar"
        let tar = try TarWriter(path: path)
        var names: [String] = []
        for length in [99, 100, 101, 150, 255, 256, 1000] {
            names.append(String(repeating: "n", count: length - 4) + ".txt")
        }
        names.append("\u{e9}.txt")
        for name in names { try tar.addFile(name: name, bytes: Array(name.utf8)) }
        try tar.finish()

        let entries = try parseTar(try readBytes(path))
        XCTAssertEqual(entries.map(\.name), names)
        for entry in entries {
            XCTAssertEqual(entry.data, Array(entry.name.utf8))
            let needsPax = entry.name.utf8.count > 100 || entry.name.utf8.contains { $0 >= 0x80 }
            XCTAssertEqual(entry.pax.map(\.0), needsPax ? ["path"] : [], entry.name)
        }
        let listing = try runTool(["tar", "-tf", path])
        XCTAssertEqual(listing.stdout, names.map { $0 + "\n" }.joined())
    }

    func testSizesAndTimesBeyondUstarUsePax() throws {
        let size = 9_000_000_000 // over 8 GiB: too large for 11 octal digits
        let header = TarHeader.encode(name: "big.bin", size: size, mtime: 0o100000000000)
        XCTAssertEqual(header.count, 1536, "pax header, its records, then the ustar header")
        XCTAssertEqual(header[156], UInt8(ascii: "x"))
        let records = try parsePaxRecords(Array(header[512..<1024].prefix(while: { $0 != 0 })))
        XCTAssertEqual(records.map(\.0), ["size", "mtime"])
        XCTAssertEqual(records.map(\.1), [String(size), String(0o100000000000)])
        let ustar = Array(header[1024..<1536])
        XCTAssertEqual(ustar[156], UInt8(ascii: "0"))
        XCTAssertEqual(Array(ustar[124..<136]), Array("00000000000".utf8) + [0], "size field left to pax")
        XCTAssertEqual(Array(ustar[136..<148]), Array("00000000000".utf8) + [0], "mtime field left to pax")
        XCTAssertEqual(TarHeader.memberSize(name: "big.bin", size: size, mtime: 0o100000000000),
                       1536 + (size + 511) / 512 * 512)
        XCTAssertEqual(TarHeader.memberSize(name: "big.bin", size: 8 << 30 - 1, mtime: 0), 512 + 8 << 30)
    }

    func testStreamsMembersFromFiles() throws {
        // Larger than the write buffer, and not a multiple of 512.
        let big = (0..<(3 << 20) + 77).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let source = root + "/source.bin"
        _ = FileManager.default.createFile(atPath: source, contents: Data(big))
        let path = root + "/stream.tar"
        let tar = try TarWriter(path: path)
        try tar.addFile(name: "big.bin", contentsOfFile: source)
        try tar.beginFile(name: "pieces.txt", size: 11)
        try tar.write(Array("hello ".utf8))
        try tar.write(Array("world".utf8))
        try tar.endFile()
        try tar.finish()
        let entries = try parseTar(try readBytes(path))
        XCTAssertEqual(entries.map(\.name), ["big.bin", "pieces.txt"])
        XCTAssertEqual(entries[0].data, big)
        XCTAssertEqual(entries[1].data, Array("hello world".utf8))
    }

    func testWrongSizesPoisonTheWriter() throws {
        let path = root + "/bad.tar"
        let tar = try TarWriter(path: path)
        try tar.beginFile(name: "short.bin", size: 10)
        try tar.write([1, 2, 3])
        XCTAssertThrowsError(try tar.endFile()) { XCTAssertEqual($0 as? ExportError, .sizeMismatch(name: "short.bin", expected: 10, actual: 3)) }
        XCTAssertThrowsError(try tar.addFile(name: "next", bytes: [1]))
        XCTAssertThrowsError(try tar.finish())
        tar.discard()
        XCTAssertEqual(try directoryListing(root), [])

        let other = try TarWriter(path: root + "/over.tar")
        try other.beginFile(name: "two.bin", size: 2)
        XCTAssertThrowsError(try other.write([1, 2, 3]))
        XCTAssertThrowsError(try other.addFile(name: "", bytes: []))
        XCTAssertThrowsError(try TarWriter(path: root + "/neg.tar", mtime: -1))
    }

    func testSameMembersGiveSameBytes() throws {
        for name in ["a.tar", "b.tar"] {
            let tar = try TarWriter(path: root + "/" + name, durable: false)
            for i in 0..<20 { try tar.addFile(name: "k\(i).txt", bytes: Array(String(repeating: "x", count: i * 37).utf8)) }
            try tar.finish()
        }
        XCTAssertEqual(try readBytes(root + "/a.tar"), try readBytes(root + "/b.tar"))
    }

    func testWritesToACallerOwnedDescriptor() throws {
        let path = root + "/fd.tar"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let tar = try TarWriter(fileDescriptor: fd)
        try tar.addFile(name: "a.txt", bytes: Array("hello".utf8))
        try tar.finish()
        XCTAssertEqual(tar.bytesWritten, 2048)
        XCTAssertEqual(close(fd), 0)
        XCTAssertEqual(try parseTar(try readBytes(path)).map(\.name), ["a.txt"])
    }
}
