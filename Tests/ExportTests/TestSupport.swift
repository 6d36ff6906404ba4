import Foundation
import XCTest

/// A fresh directory under the system temporary directory.
func scratchDirectory(_ name: String) -> String {
    let path = NSTemporaryDirectory() + "capfilt-export-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.removeItem(atPath: path)
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func readBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

func directoryListing(_ path: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: path).sorted()
}

/// Runs a program and returns its exit status and output.
@discardableResult
func runTool(_ arguments: [String], in directory: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    var environment = ProcessInfo.processInfo.environment
    environment["LC_ALL"] = "C.UTF-8"
    environment["TZ"] = "UTC"
    process.environment = environment
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

/// One member of a tar archive, read back by `parseTar` (written independently of the writer,
/// from the POSIX layout).
struct ParsedTarEntry: Equatable {
    var name: String
    var type: UInt8
    var mode: Int
    var uid: Int
    var gid: Int
    var size: Int
    var mtime: Int
    var uname: String
    var gname: String
    var data: [UInt8]
    /// The pax records that preceded this entry, in order.
    var pax: [(String, String)]

    static func == (a: ParsedTarEntry, b: ParsedTarEntry) -> Bool {
        a.name == b.name && a.type == b.type && a.size == b.size && a.data == b.data
    }
}

enum TarParseError: Error { case bad(String) }

/// Parses an archive, checking every header's checksum, the padding and the two zero blocks at
/// the end; pax `path`, `size` and `mtime` records override the ustar fields.
func parseTar(_ bytes: [UInt8]) throws -> [ParsedTarEntry] {
    func field(_ block: ArraySlice<UInt8>, _ offset: Int, _ width: Int) -> [UInt8] {
        let start = block.startIndex + offset
        let raw = block[start..<start + width]
        return Array(raw.prefix(while: { $0 != 0 }))
    }
    func octal(_ block: ArraySlice<UInt8>, _ offset: Int, _ width: Int) throws -> Int {
        let text = String(decoding: field(block, offset, width), as: UTF8.self).trimmingCharacters(in: .whitespaces)
        guard let value = Int(text.isEmpty ? "0" : text, radix: 8) else { throw TarParseError.bad("octal \(text)") }
        return value
    }
    guard bytes.count % 512 == 0 else { throw TarParseError.bad("size \(bytes.count) is not a multiple of 512") }
    var entries: [ParsedTarEntry] = []
    var offset = 0
    var pending: [(String, String)] = []
    while true {
        guard offset + 512 <= bytes.count else { throw TarParseError.bad("no end-of-archive blocks") }
        let block = bytes[offset..<offset + 512]
        if block.allSatisfy({ $0 == 0 }) {
            guard offset + 1024 == bytes.count, bytes[offset...].allSatisfy({ $0 == 0 }) else {
                throw TarParseError.bad("end-of-archive at \(offset) is not two final zero blocks")
            }
            return entries
        }
        var sum = 0
        for (i, byte) in block.enumerated() { sum += (148..<156).contains(i) ? 32 : Int(byte) }
        let stored = try octal(block, 148, 8)
        guard stored == sum else { throw TarParseError.bad("checksum \(stored) != \(sum) at \(offset)") }
        guard Array(block[(block.startIndex + 257)..<(block.startIndex + 265)]) == Array("ustar\u{0}00".utf8) else {
            throw TarParseError.bad("magic at \(offset)")
        }
        var entry = ParsedTarEntry(
            name: String(decoding: field(block, 0, 100), as: UTF8.self), type: block[block.startIndex + 156],
            mode: try octal(block, 100, 8), uid: try octal(block, 108, 8), gid: try octal(block, 116, 8),
            size: try octal(block, 124, 12), mtime: try octal(block, 136, 12),
            uname: String(decoding: field(block, 265, 32), as: UTF8.self),
            gname: String(decoding: field(block, 297, 32), as: UTF8.self), data: [], pax: pending)
        for (key, value) in pending {
            if key == "path" { entry.name = value }
            if key == "size" { entry.size = Int(value)! }
            if key == "mtime" { entry.mtime = Int(value)! }
        }
        offset += 512
        let padded = (entry.size + 511) / 512 * 512
        guard offset + padded <= bytes.count else { throw TarParseError.bad("truncated data of \(entry.name)") }
        entry.data = Array(bytes[offset..<offset + entry.size])
        guard bytes[(offset + entry.size)..<(offset + padded)].allSatisfy({ $0 == 0 }) else {
            throw TarParseError.bad("padding of \(entry.name) is not zero")
        }
        offset += padded
        if entry.type == UInt8(ascii: "x") {
            pending = try parsePaxRecords(entry.data)
        } else {
            pending = []
            entries.append(entry)
        }
    }
}

/// "LEN key=value\n" records, each length checked against the record it heads.
func parsePaxRecords(_ data: [UInt8]) throws -> [(String, String)] {
    var records: [(String, String)] = []
    var i = 0
    while i < data.count {
        guard let space = data[i...].firstIndex(of: UInt8(ascii: " ")),
              let length = Int(String(decoding: data[i..<space], as: UTF8.self)),
              i + length <= data.count, data[i + length - 1] == UInt8(ascii: "\n"),
              let equals = data[space..<(i + length)].firstIndex(of: UInt8(ascii: "=")) else {
            throw TarParseError.bad("pax record at \(i)")
        }
        records.append((String(decoding: data[(space + 1)..<equals], as: UTF8.self),
                        String(decoding: data[(equals + 1)..<(i + length - 1)], as: UTF8.self)))
        i += length
    }
    return records
}

/// A real 16x16 baseline JPEG (311 bytes), with a comment segment making each one distinct.
func tinyJPEG(_ comment: String) -> [UInt8] {
    let base = [UInt8](Data(base64Encoded: """
        /9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxl\
        Z2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAAQABADASIAAhEB\
        AxEB/8QAFQABAQAAAAAAAAAAAAAAAAAABQb/xAAXEAEAAwAAAAAAAAAAAAAAAAAEACEx/8QAFQEBAQAAAAAAAAAAAAAAAAAAAAL/xAAZEQACAwEAAAAA\
        AAAAAAAAAAAABAMFITH/2gAMAwEAAhEDEQA/AJ84cqJnDlRM4cqJnDlSpWxXvc0//9k=
        """)!)
    let text = Array(comment.utf8)
    let length = text.count + 2
    // SOI, then a COM segment (FF FE, big-endian length counting itself), then the rest.
    return Array(base[0..<2]) + [0xFF, 0xFE, UInt8(length >> 8), UInt8(length & 0xFF)] + text + Array(base[2...])
}

func sha256sum(_ path: String) throws -> String {
    let result = try runTool(["sha256sum", path])
    return String(result.stdout.prefix(64))
}
