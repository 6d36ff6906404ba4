import Foundation

/// One line of a text file: `bytes` is valid until the next call to `LineReader.next()`.
struct Line {
    /// Range in `LineReader.input.buffer`, without the newline and a trailing carriage return.
    var range: Range<Int>
    /// 1-based line number.
    var number: Int
    /// The line was longer than `LineReader.maxLength`; its bytes were skipped.
    var tooLong: Bool
}

/// Splits a (possibly gzipped) file into lines without holding more than one line at a time.
struct LineReader {
    let input: ByteReader
    private(set) var lineNumber = 0
    private var atStart = true
    static let maxLength = 16 << 20

    init(path: String) throws {
        input = try ByteReader(path: path)
    }

    var path: String { input.path }

    mutating func next() throws -> Line? {
        if atStart {
            atStart = false
            // A UTF-8 byte order mark is not part of the first line.
            let head = try input.prefix(3)
            if head.elementsEqual([0xEF, 0xBB, 0xBF]) { input.start += 3 }
        }
        var scanned = 0   // bytes after `start` already known to hold no newline
        var skipping = false
        while true {
            let start = input.start, end = input.end
            let found: Int? = input.buffer.withUnsafeBufferPointer { b in
                guard start + scanned < end else { return nil }
                let base = b.baseAddress! + start + scanned
                guard let hit = memchr(base, 0x0A, end - start - scanned) else { return nil }
                return start + scanned + (UnsafeRawPointer(hit) - UnsafeRawPointer(base))
            }
            if let nl = found {
                lineNumber += 1
                input.start = nl + 1
                if skipping || nl - start > LineReader.maxLength {
                    return Line(range: nl..<nl, number: lineNumber, tooLong: true)
                }
                var stop = nl
                if stop > start && input.buffer[stop - 1] == 0x0D { stop -= 1 }
                return Line(range: start..<stop, number: lineNumber, tooLong: false)
            }
            // No newline in start..<end.
            if skipping {
                input.start = input.end
                scanned = 0
            } else if end - start > LineReader.maxLength {
                skipping = true
                input.start = input.end
                scanned = 0
            } else {
                scanned = end - start
            }
            let more = input.eof ? false : try input.fill()
            if !more {
                let start = input.start, end = input.end
                guard start < end || skipping else { return nil }
                lineNumber += 1
                input.start = end
                if skipping { return Line(range: end..<end, number: lineNumber, tooLong: true) }
                var stop = end
                if input.buffer[stop - 1] == 0x0D { stop -= 1 }
                return Line(range: start..<stop, number: lineNumber, tooLong: false)
            }
        }
    }
}
