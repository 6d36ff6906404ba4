/// Writes `JSONValue`s as RFC 8259 JSON that is the same bytes on every run, machine and locale:
/// object keys sorted by their UTF-8 bytes (code point order; `String`'s own `<` follows
/// Unicode canonical equivalence, which is not a byte order), numbers as in `JSONNumber`,
/// strings as UTF-8 with only what RFC 8259 requires escaped.
///
/// Strings: `"` and `\` are escaped, as are all control characters below U+0020 (by name as
/// `escaping` says, the rest as `\u00XX`); everything else is copied as UTF-8, or, with
/// `escapeNonASCII`, written as `\uXXXX` (surrogate pairs above U+FFFF). A Swift `String` is
/// always valid Unicode, so a lone surrogate cannot reach the encoder: text decoded from broken
/// UTF-8 or UTF-16 already carries U+FFFD in its place, and that is what is written.
public struct DeterministicJSON: Sendable {
    /// nil: compact (`{"a":1,"b":[1,2]}`); n: one member per line, n spaces per level, `": "`
    /// between key and value. Either way no trailing newline.
    public var indent: Int?
    /// Escape every character above U+007F, for readers that expect ASCII.
    public var escapeNonASCII: Bool
    /// Which control characters are escaped by name.
    public var escaping: JSONControlEscapes

    public init(indent: Int? = nil, escapeNonASCII: Bool = false, escaping: JSONControlEscapes = .shortForms) {
        self.indent = indent
        self.escapeNonASCII = escapeNonASCII
        self.escaping = escaping
    }

    public func encode(_ value: JSONValue) -> String {
        String(decoding: encodeBytes(value), as: UTF8.self)
    }

    public func encodeBytes(_ value: JSONValue) -> [UInt8] {
        var out = [UInt8]()
        append(value, to: &out, depth: 0)
        return out
    }

    /// Appends `value` (compact or indented from the first level) to `out`.
    public func append(_ value: JSONValue, to out: inout [UInt8]) {
        append(value, to: &out, depth: 0)
    }

    /// One JSON string literal, quotes included.
    public static func quote(_ string: String, escapeNonASCII: Bool = false,
                             escaping: JSONControlEscapes = .shortForms) -> String {
        var out = [UInt8]()
        appendString(string, to: &out, escapeNonASCII: escapeNonASCII, escaping: escaping)
        return String(decoding: out, as: UTF8.self)
    }

    /// One JSON number: shortest round-tripping digits, ECMAScript layout, `null` if not finite.
    public static func number(_ value: Double) -> String { JSONNumber.format(value) }

    /// One JSON number for a Float, with the Float's own shortest digits.
    public static func number(_ value: Float) -> String { JSONNumber.format(value) }

    func append(_ value: JSONValue, to out: inout [UInt8], depth: Int) {
        switch value {
        case .null: out += Array("null".utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .int(let i): out += Array(String(i).utf8)
        case .double(let d): out += Array(JSONNumber.format(d).utf8)
        case .float(let f): out += Array(JSONNumber.format(f).utf8)
        case .number(let text): out += Array(text.utf8)
        case .string(let s): DeterministicJSON.appendString(s, to: &out, escapeNonASCII: escapeNonASCII, escaping: escaping)
        case .array(let items):
            appendContainer(open: "[", close: "]", count: items.count, to: &out, depth: depth) { i, out in
                append(items[i], to: &out, depth: depth + 1)
            }
        case .object(let members):
            let sorted = members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            appendMembers(sorted.map { ($0.key, $0.value) }, to: &out, depth: depth)
        case .orderedObject(let members):
            appendMembers(members, to: &out, depth: depth)
        }
    }

    private func appendMembers(_ members: [(String, JSONValue)], to out: inout [UInt8], depth: Int) {
        appendContainer(open: "{", close: "}", count: members.count, to: &out, depth: depth) { i, out in
            DeterministicJSON.appendString(members[i].0, to: &out, escapeNonASCII: escapeNonASCII, escaping: escaping)
            out.append(UInt8(ascii: ":"))
            if indent != nil { out.append(UInt8(ascii: " ")) }
            append(members[i].1, to: &out, depth: depth + 1)
        }
    }

    private func appendContainer(open: Unicode.Scalar, close: Unicode.Scalar, count: Int, to out: inout [UInt8],
                                 depth: Int, element: (Int, inout [UInt8]) -> Void) {
        out.append(UInt8(ascii: open))
        guard count > 0 else { out.append(UInt8(ascii: close)); return }
        for i in 0..<count {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            newline(depth + 1, &out)
            element(i, &out)
        }
        newline(depth, &out)
        out.append(UInt8(ascii: close))
    }

    private func newline(_ depth: Int, _ out: inout [UInt8]) {
        guard let indent else { return }
        out.append(UInt8(ascii: "\n"))
        out += repeatElement(UInt8(ascii: " "), count: indent * depth)
    }

    /// Appends one JSON string literal, quotes included.
    public static func appendString(_ string: String, to out: inout [UInt8], escapeNonASCII: Bool = false,
                                    escaping: JSONControlEscapes = .shortForms) {
        out.append(UInt8(ascii: "\""))
        if escapeNonASCII {
            for scalar in string.unicodeScalars {
                if scalar.value < 0x80 {
                    appendEscaped(UInt8(scalar.value), to: &out, escaping)
                } else if scalar.value <= 0xFFFF {
                    appendUnicodeEscape(UInt16(scalar.value), to: &out)
                } else {
                    let v = scalar.value - 0x10000
                    appendUnicodeEscape(UInt16(0xD800 + (v >> 10)), to: &out)
                    appendUnicodeEscape(UInt16(0xDC00 + (v & 0x3FF)), to: &out)
                }
            }
        } else {
            // A String's UTF-8 is always well formed, and no byte of a multi-byte sequence is
            // below 0x80, so bytes can be escaped one at a time; runs between escapes are copied
            // whole (ingest writes every sample through here).
            var string = string
            string.withUTF8 { bytes in
                var plain = 0
                for k in 0..<bytes.count where bytes[k] == 0x22 || bytes[k] == 0x5C || bytes[k] < 0x20 {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[plain..<k]))
                    appendEscaped(bytes[k], to: &out, escaping)
                    plain = k + 1
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[plain...]))
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func appendEscaped(_ byte: UInt8, to out: inout [UInt8], _ escaping: JSONControlEscapes) {
        switch byte {
        case UInt8(ascii: "\""): out += [0x5C, 0x22]
        case UInt8(ascii: "\\"): out += [0x5C, 0x5C]
        case 0x08 where escaping == .shortForms: out += [0x5C, UInt8(ascii: "b")]
        case 0x0C where escaping == .shortForms: out += [0x5C, UInt8(ascii: "f")]
        case 0x0A: out += [0x5C, UInt8(ascii: "n")]
        case 0x0D: out += [0x5C, UInt8(ascii: "r")]
        case 0x09: out += [0x5C, UInt8(ascii: "t")]
        case ..<0x20: appendUnicodeEscape(UInt16(byte), to: &out)
        default: out.append(byte)
        }
    }

    private static func appendUnicodeEscape(_ unit: UInt16, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out += [0x5C, UInt8(ascii: "u"),
                hex[Int(unit >> 12)], hex[Int((unit >> 8) & 0xF)], hex[Int((unit >> 4) & 0xF)], hex[Int(unit & 0xF)]]
    }
}

/// Which control characters a JSON string names with a short escape; every other one below
/// U+0020 is written `\u00XX`. Both are valid JSON; the choice only fixes the bytes.
public enum JSONControlEscapes: Sendable {
    /// `\b \f \n \r \t`, as RFC 8259, serde_json and `JSON.stringify` write them.
    case shortForms
    /// Only `\n \r \t`; backspace and form feed as `\u0008` and `\u000c` (the manifests and
    /// command output that capfilt has always written this way).
    case lineBreaksAndTabs
}
