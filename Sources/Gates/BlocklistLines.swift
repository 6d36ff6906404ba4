import Foundation

/// Streams a list file line by line as byte ranges, without building a String per line: a
/// blocklist has millions of them. Lines end with LF or CRLF; leading and trailing spaces and
/// tabs are trimmed; blank lines and lines whose first character is `#` are skipped (no
/// comment after an entry: `#` belongs to URLs).
enum BlocklistLines {
    /// Calls `body(entry, lineNumber)` for each entry; lineNumber is 1-based.
    static func forEach(path: String, _ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
        guard let file = FileHandle(forReadingAtPath: path) else { throw BlocklistError(path: path, line: nil, "cannot be read") }
        defer { try? file.close() }
        var carry: [UInt8] = []
        var line = 0
        while true {
            let chunk: Data
            do { chunk = try file.read(upToCount: 8 << 20) ?? Data() } catch {
                throw BlocklistError(path: path, line: nil, "cannot be read: \(error.localizedDescription)")
            }
            if chunk.isEmpty { break }
            try chunk.withUnsafeBytes { raw in
                let bytes = raw.bindMemory(to: UInt8.self)
                var start = 0
                for i in 0..<bytes.count where bytes[i] == 10 {
                    line += 1
                    if carry.isEmpty {
                        try entry(UnsafeBufferPointer(rebasing: bytes[start..<i]), line, body)
                    } else {
                        carry.append(contentsOf: bytes[start..<i])
                        try carry.withUnsafeBufferPointer { try entry($0, line, body) }
                        carry.removeAll(keepingCapacity: true)
                    }
                    start = i + 1
                }
                carry.append(contentsOf: bytes[start..<bytes.count])
            }
        }
        if !carry.isEmpty {  // a last line without a newline
            line += 1
            try carry.withUnsafeBufferPointer { try entry($0, line, body) }
        }
    }

    @inline(__always)
    private static func entry(_ bytes: UnsafeBufferPointer<UInt8>, _ line: Int,
                              _ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
        var start = 0, end = bytes.count
        // CR of CRLF, then spaces and tabs, at both ends.
        while end > start, bytes[end - 1] == 13 || bytes[end - 1] == 32 || bytes[end - 1] == 9 { end -= 1 }
        while start < end, bytes[start] == 32 || bytes[start] == 9 { start += 1 }
        if start == end || bytes[start] == 35 { return }
        try body(UnsafeBufferPointer(rebasing: bytes[start..<end]), line)
    }
}

/// A list file that cannot be used: `path:line: problem`.
public struct BlocklistError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var line: Int?
    public var problem: String

    public init(path: String, line: Int?, _ problem: String) { self.path = path; self.line = line; self.problem = problem }

    public var description: String { path + (line.map { ":\($0)" } ?? "") + ": " + problem }
}
