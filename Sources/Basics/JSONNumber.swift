/// Number formatting for `DeterministicJSON`: the shortest digits that round-trip (Swift's
/// own `description` finds them, locale-free), laid out as ECMAScript's Number-to-String does
/// (what `JSON.stringify` prints): no exponent from 1e-6 up to 1e21, `1e-7` / `1.5e+21`
/// beyond, no trailing `.0`, `-0` as `0`. Not finite values have no JSON form and become `null`.
public enum JSONNumber {
    public static func format(_ value: Double) -> String {
        value.isFinite ? layout(value.description) : "null"
    }

    public static func format(_ value: Float) -> String {
        value.isFinite ? layout(value.description) : "null"
    }

    /// Re-lays a finite decimal description ("-1.25e-07", "100.0", "5e-324") in ECMAScript form.
    static func layout(_ description: String) -> String {
        var text = Substring(description)
        let negative = text.hasPrefix("-")
        if negative { text = text.dropFirst() }
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = text[..<e]
        }
        var digits = [UInt8]()
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") { continue }
            digits.append(byte)
        }
        if let point = text.firstIndex(of: ".") { exponent -= text.distance(from: text.index(after: point), to: text.endIndex) }
        // Now value = digits × 10^exponent; keep only significant digits.
        while let first = digits.first, first == UInt8(ascii: "0") { digits.removeFirst() }
        while let last = digits.last, last == UInt8(ascii: "0") { digits.removeLast(); exponent += 1 }
        if digits.isEmpty { return "0" }
        let k = digits.count
        let n = k + exponent // value = 0.d1…dk × 10^n
        var out = negative ? "-" : ""
        let all = String(decoding: digits, as: UTF8.self)
        if k <= n && n <= 21 {
            out += all + String(repeating: "0", count: n - k)
        } else if 0 < n && n <= 21 {
            out += String(all.prefix(n)) + "." + String(all.dropFirst(n))
        } else if -6 < n && n <= 0 {
            out += "0." + String(repeating: "0", count: -n) + all
        } else {
            let e = n - 1
            out += String(all.prefix(1))
            if k > 1 { out += "." + String(all.dropFirst()) }
            out += (e < 0 ? "e-" : "e+") + String(abs(e))
        }
        return out
    }
}
