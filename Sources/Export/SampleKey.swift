/// Sample keys as WebDataset reads them back.
///
/// WebDataset groups tar members into samples by name: the key is everything before the first
/// '.' of the file name (and a '/' would make part of it a directory), the rest is the member's
/// extension. So "coco/COCO_val2014_42.jpg" written as a key would come back as key
/// "coco/COCO_val2014_42" with extension "jpg.jpg", or worse. Keys are therefore escaped:
/// ASCII letters, digits, '-' and '_' are kept, every other byte of the key's UTF-8 (including
/// '%' itself) becomes `%XX` with uppercase hex digits.
///
/// The escape is injective on all strings (the escaped text decodes back uniquely, because '%'
/// is escaped too), keys that are already safe are unchanged, and the escaped key is plain ASCII.
public enum SampleKey {
    /// How a writer treats keys that are not already safe.
    public enum Policy: Sendable, Equatable {
        /// Percent-escape them (the default); the original key stays in the sample's json.
        case escape
        /// Refuse them with `ExportError.invalidKey`.
        case reject
    }

    /// The key as written into the tar: unchanged when `isSafe`, percent-escaped otherwise.
    public static func escape(_ key: String) -> String {
        if isSafe(key) { return key }
        let hex = Array("0123456789ABCDEF".utf8)
        var out = [UInt8]()
        out.reserveCapacity(key.utf8.count)
        for byte in key.utf8 {
            if isKept(byte) {
                out.append(byte)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The original key of an escaped one; nil when `escaped` is not something `escape` makes
    /// (a stray '%', lowercase hex, an escaped safe character, or bytes that are not UTF-8).
    public static func unescape(_ escaped: String) -> String? {
        let bytes = Array(escaped.utf8)
        var out = [UInt8]()
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if isKept(byte) {
                out.append(byte)
                i += 1
            } else if byte == UInt8(ascii: "%"), i + 2 < bytes.count, let high = hexValue(bytes[i + 1]), let low = hexValue(bytes[i + 2]) {
                let decoded = high << 4 | low
                if isKept(decoded) { return nil }
                out.append(decoded)
                i += 3
            } else {
                return nil
            }
        }
        // Decoding repairs invalid UTF-8 with U+FFFD, so a repaired result differs in its bytes.
        let key = String(decoding: out, as: UTF8.self)
        return key.utf8.elementsEqual(out) ? key : nil
    }

    /// True when the key needs no escaping: non-empty, ASCII letters, digits, '-' and '_' only.
    public static func isSafe(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.allSatisfy(isKept)
    }

    private static func isKept(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }

    /// Uppercase hex digits only, so each byte has exactly one spelling.
    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
