import Foundation

/// Walks a JSON document of any size one value at a time: the big formats (BLIP's ~1 GB
/// CapFilt lists, Visual Genome's regions, COCO) are never parsed whole. Values are found by
/// a scanner that only tracks strings and nesting, then parsed one by one with `JSONParser`.
final class JSONStream {
    let input: ByteReader
    /// 1-based line of the next unread byte.
    private(set) var line = 1
    static let maxValueSize = 64 << 20

    init(path: String) throws {
        input = try ByteReader(path: path)
        let head = try input.prefix(3)
        if head.elementsEqual([0xEF, 0xBB, 0xBF]) { input.start += 3 }
    }

    var path: String { input.path }

    /// The next byte that is not whitespace (whitespace is consumed), or nil at the end.
    func peek() throws -> UInt8? {
        while true {
            while input.start < input.end {
                let c = input.buffer[input.start]
                switch c {
                case 0x0A: line += 1; input.start += 1
                case 0x20, 0x09, 0x0D: input.start += 1
                default: return c
                }
            }
            if !(try input.fill()) { return nil }
        }
    }

    func consumeByte() { input.start += 1 }

    func expect(_ c: UInt8, _ what: String) throws {
        guard try peek() == c else {
            throw ManifestError.corrupt(file: path, reason: "expected \(what) at line \(line)")
        }
        consumeByte()
    }

    enum Scan { case complete, truncated }

    private enum Kind { case container, string, scalar }

    /// Scans the value that starts at the next byte (call `peek()` first). Its raw bytes are
    /// appended to `capture` when `capturing`.
    func scanValue(capturing: Bool, into capture: inout [UInt8]) throws -> Scan {
        guard try input.start < input.end || input.fill() else { return .truncated }
        let first = input.buffer[input.start]
        let kind: Kind
        switch first {
        case UInt8(ascii: "{"), UInt8(ascii: "["): kind = .container
        case UInt8(ascii: "\""): kind = .string
        default: kind = .scalar
        }
        var depth = 0
        var inString = false
        var escape = false
        var newlines = 0
        var captured = 0
        while true {
            let from = input.start, end = input.end
            let stop: Int? = input.buffer.withUnsafeBufferPointer { b in
                var j = from
                while j < end {
                    let c = b[j]
                    if inString {
                        if escape {
                            escape = false
                        } else if c == 0x5C {
                            escape = true
                        } else if c == 0x22 {
                            inString = false
                            if kind == .string { return j + 1 }
                        } else if c == 0x0A {
                            newlines += 1
                        }
                    } else {
                        switch kind {
                        case .container:
                            switch c {
                            case 0x22: inString = true
                            case 0x7B, 0x5B: depth += 1
                            case 0x7D, 0x5D:
                                depth -= 1
                                if depth == 0 { return j + 1 }
                            case 0x0A: newlines += 1
                            default: break
                            }
                        case .string:
                            if c == 0x22 { inString = true }
                        case .scalar:
                            switch c {
                            case 0x2C, 0x5D, 0x7D, 0x20, 0x0A, 0x0D, 0x09: return j
                            default: break
                            }
                        }
                    }
                    j += 1
                }
                return nil
            }
            let upTo = stop ?? end
            if capturing {
                capture.append(contentsOf: input.buffer[from..<upTo])
            }
            captured += upTo - from
            input.start = upTo
            if stop != nil { line += newlines; return .complete }
            if captured > JSONStream.maxValueSize {
                throw ManifestError.corrupt(
                    file: path, reason: "a JSON value starting at line \(line) is larger than 64 MiB")
            }
            if !(try input.fill()) {
                line += newlines
                return kind == .scalar ? .complete : .truncated
            }
        }
    }

    /// Parses the string at the next byte (an object key).
    func readString() throws -> String {
        var raw: [UInt8] = []
        guard try peek() == 0x22, try scanValue(capturing: true, into: &raw) == .complete,
              let key = (try? JSONParser.parse(raw))?.stringValue
        else { throw ManifestError.corrupt(file: path, reason: "expected a string at line \(line)") }
        return key
    }

    /// Skips the value at the next byte.
    func skipValue() throws {
        var none: [UInt8] = []
        guard try peek() != nil, try scanValue(capturing: false, into: &none) == .complete else {
            throw ManifestError.corrupt(file: path, reason: ManifestReason.truncatedJSON)
        }
    }
}

/// One element of a streamed JSON array.
struct JSONElement {
    var index: Int
    var line: Int
    /// The parsed value, or a malformed-row reason.
    var value: Result<ParsedJSON, Refusal>
    var raw: ArraySlice<UInt8>
}

/// Reads the elements of the array at the stream's next byte, one at a time. A syntax error
/// inside an element makes that element malformed; the array goes on after it.
struct JSONArrayReader {
    let stream: JSONStream
    private var started = false
    private var done = false
    private var index = 0
    private var scratch: [UInt8] = []

    init(stream: JSONStream) { self.stream = stream }

    var path: String { stream.path }

    mutating func next() throws -> JSONElement? {
        if done { return nil }
        var missingComma = false
        if !started {
            started = true
            guard try stream.peek() == UInt8(ascii: "[") else {
                throw ManifestError.corrupt(file: stream.path, reason: "expected a JSON array at line \(stream.line)")
            }
            stream.consumeByte()
            if try stream.peek() == UInt8(ascii: "]") { stream.consumeByte(); done = true; return nil }
        } else {
            switch try stream.peek() {
            case nil:
                done = true
                return truncated()
            case UInt8(ascii: ","):
                stream.consumeByte()
                // A trailing comma before the closing bracket ends the array.
                if try stream.peek() == UInt8(ascii: "]") { stream.consumeByte(); done = true; return nil }
            case UInt8(ascii: "]"):
                stream.consumeByte()
                done = true
                return nil
            default:
                missingComma = true
            }
        }
        guard try stream.peek() != nil else { done = true; return truncated() }
        let line = stream.line
        scratch.removeAll(keepingCapacity: true)
        if try stream.scanValue(capturing: true, into: &scratch) == .truncated {
            done = true
            return truncated(line: line)
        }
        defer { index += 1 }
        if missingComma {
            return JSONElement(index: index, line: line,
                               value: .failure(Refusal("invalid JSON: missing ',' before this element")),
                               raw: scratch[...])
        }
        do {
            return JSONElement(index: index, line: line, value: .success(try JSONParser.parse(scratch)), raw: scratch[...])
        } catch let e as JSONSyntaxError {
            return JSONElement(index: index, line: line, value: .failure(Refusal("invalid JSON: \(e.message)")),
                               raw: scratch[...])
        }
    }

    private mutating func truncated(line: Int? = nil) -> JSONElement {
        defer { index += 1 }
        return JSONElement(index: index, line: line ?? stream.line,
                           value: .failure(Refusal(ManifestReason.truncatedJSON)), raw: scratch[...])
    }
}

/// Reads the members of the object at the stream's next byte: `nextKey()` leaves the stream at
/// the member's value, which the caller must read or skip before asking for the next key.
struct JSONObjectReader {
    let stream: JSONStream
    private var started = false
    private var done = false

    init(stream: JSONStream) { self.stream = stream }

    mutating func nextKey() throws -> String? {
        if done { return nil }
        if !started {
            started = true
            guard try stream.peek() == UInt8(ascii: "{") else {
                throw ManifestError.corrupt(file: stream.path, reason: "expected a JSON object at line \(stream.line)")
            }
            stream.consumeByte()
            if try stream.peek() == UInt8(ascii: "}") { stream.consumeByte(); done = true; return nil }
        } else {
            switch try stream.peek() {
            case UInt8(ascii: ","): stream.consumeByte()
            case UInt8(ascii: "}"): stream.consumeByte(); done = true; return nil
            case nil: throw ManifestError.corrupt(file: stream.path, reason: ManifestReason.truncatedJSON)
            default:
                throw ManifestError.corrupt(file: stream.path, reason: "expected ',' or '}' at line \(stream.line)")
            }
        }
        let key = try stream.readString()
        try stream.expect(UInt8(ascii: ":"), "':'")
        return key
    }

    /// Positions the stream at the value of `key` (skipping the members before it); false if
    /// the object has no such key.
    mutating func seek(_ key: String, seen: inout [String]) throws -> Bool {
        while let k = try nextKey() {
            seen.append(k)
            if k == key { return true }
            try stream.skipValue()
        }
        return false
    }
}
