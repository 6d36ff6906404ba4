/// The manifest columns a gate reads from a sample's stored metadata (the JSON object ingest
/// writes: every extra column under its name, LAION's lower-cased): `width`, `height`,
/// `similarity`, `punsafe`, `pwatermark`, matched without case.
public struct ManifestMetadata: Sendable, Equatable {
    public var width: GateValue = .absent
    public var height: GateValue = .absent
    public var similarity: GateValue = .absent
    public var punsafe: GateValue = .absent
    public var pwatermark: GateValue = .absent

    public init() {}

    /// Reads the columns out of `json`; metadata that is not a JSON object has none of them.
    /// A gate reads one per sample (millions), so the object is scanned directly, without
    /// building a dictionary of everything in it.
    public init(json: String) {
        var copy = json
        guard let fields = copy.withUTF8({ FlatJSONObject.fields($0) }) else { return }
        for (name, text) in fields {
            switch name.lowercased() {
            case "width": width = GateValue(text: text)
            case "height": height = GateValue(text: text)
            case "similarity": similarity = GateValue(text: text)
            case "punsafe": punsafe = GateValue(text: text)
            case "pwatermark": pwatermark = GateValue(text: text)
            default: break
            }
        }
    }
}

/// The fields of a JSON object, as (name, text): strings unescaped, other values as written
/// (`null`: nil; a nested object or array as its text, which no number rule accepts); nil when
/// the bytes are not an object.
enum FlatJSONObject {
    static func fields(_ b: UnsafeBufferPointer<UInt8>) -> [(String, String?)]? {
        var i = 0
        func skipSpace() { while i < b.count, b[i] == 32 || b[i] == 9 || b[i] == 10 || b[i] == 13 { i += 1 } }
        /// A string after its opening quote, up to and past the closing one, escapes decoded.
        func string() -> String? {
            let start = i
            while i < b.count, b[i] != 34, b[i] != 92 { i += 1 }
            guard i < b.count else { return nil }
            if b[i] == 34 {  // no escapes: the common case
                defer { i += 1 }
                return String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
            }
            var bytes = Array(b[start..<i])
            while i < b.count, b[i] != 34 {
                guard b[i] == 92 else { bytes.append(b[i]); i += 1; continue }
                guard i + 1 < b.count else { return nil }
                let e = b[i + 1]
                i += 2
                switch e {
                case 34, 92, 47: bytes.append(e)
                case 98: bytes.append(8)
                case 102: bytes.append(12)
                case 110: bytes.append(10)
                case 114: bytes.append(13)
                case 116: bytes.append(9)
                case 117:
                    guard var unit = hex4() else { return nil }
                    // A surrogate pair is two escapes.
                    if unit >= 0xD800, unit < 0xDC00, i + 1 < b.count, b[i] == 92, b[i + 1] == 117 {
                        i += 2
                        guard let low = hex4(), low >= 0xDC00, low < 0xE000 else { return nil }
                        unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    }
                    bytes.append(contentsOf: String(Character(Unicode.Scalar(unit) ?? "\u{FFFD}")).utf8)
                default: return nil
                }
            }
            guard i < b.count else { return nil }
            i += 1
            return String(decoding: bytes, as: UTF8.self)
        }
        func hex4() -> UInt32? {
            guard i + 4 <= b.count else { return nil }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = b[i]
                let d: UInt32
                switch c {
                case 48...57: d = UInt32(c - 48)
                case 97...102: d = UInt32(c - 87)
                case 65...70: d = UInt32(c - 55)
                default: return nil
                }
                v = v << 4 | d
                i += 1
            }
            return v
        }
        skipSpace()
        guard i < b.count, b[i] == 123 else { return nil }  // {
        i += 1
        var out: [(String, String?)] = []
        while true {
            skipSpace()
            guard i < b.count else { return nil }
            if b[i] == 125, out.isEmpty { return out }  // {}
            guard b[i] == 34 else { return nil }
            i += 1
            guard let name = string() else { return nil }
            skipSpace()
            guard i < b.count, b[i] == 58 else { return nil }  // :
            i += 1
            skipSpace()
            guard i < b.count else { return nil }
            let value: String?
            if b[i] == 34 {
                i += 1
                guard let s = string() else { return nil }
                value = s
            } else {
                // A number, true, false, null, or a nested object or array (kept as written).
                let start = i
                var depth = 0
                while i < b.count {
                    let c = b[i]
                    if c == 34 { i += 1; while i < b.count, b[i] != 34 { i += b[i] == 92 ? 2 : 1 } }
                    else if c == 123 || c == 91 { depth += 1 }
                    else if c == 125 || c == 93 { if depth == 0 { break }; depth -= 1 }
                    else if c == 44, depth == 0 { break }
                    i += 1
                }
                var end = i
                while end > start, b[end - 1] == 32 || b[end - 1] == 9 || b[end - 1] == 10 || b[end - 1] == 13 { end -= 1 }
                let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<end]), as: UTF8.self)
                value = text == "null" ? nil : text
            }
            out.append((name, value))
            skipSpace()
            guard i < b.count else { return nil }
            if b[i] == 44 { i += 1; continue }  // ,
            return b[i] == 125 ? out : nil       // }
        }
    }
}
