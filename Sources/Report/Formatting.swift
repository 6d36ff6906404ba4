import Foundation

/// Number and date formatting that does not depend on the locale or time zone, so the same
/// report renders to the same bytes everywhere.
enum Format {
    /// 1234567 -> "1,234,567".
    static func count(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }

    /// Fixed decimals; NaN and infinities as text.
    static func fixed(_ x: Double, _ decimals: Int) -> String {
        if x.isNaN { return "NaN" }
        if x.isInfinite { return x < 0 ? "-∞" : "∞" }
        let s = String(format: "%.\(decimals)f", x)
        // "-0.000" reads as a bug.
        return s.hasPrefix("-") && s.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) ? String(s.dropFirst()) : s
    }

    static func percent(_ ratio: Double?) -> String {
        guard let ratio else { return "–" }
        return fixed(ratio * 100, 1) + "%"
    }

    static func score(_ x: Double?) -> String { x.map { fixed($0, 3) } ?? "–" }

    /// Metric values: 4 significant decimals for small numbers, fewer for large ones.
    static func metric(_ x: Double?) -> String {
        guard let x else { return "n/a" }
        if x.magnitude >= 1000 { return fixed(x, 0) }
        if x.magnitude >= 10 { return fixed(x, 2) }
        return fixed(x, 4)
    }

    /// "2025-01-31 23:59:07 UTC" (Gregorian calendar, UTC, whatever the machine's settings).
    static func date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ v: Int?) -> String { let v = v ?? 0; return v < 10 ? "0\(v)" : "\(v)" }
        return "\(c.year ?? 0)-\(two(c.month))-\(two(c.day)) \(two(c.hour)):\(two(c.minute)):\(two(c.second)) UTC"
    }

    /// 7.25 -> "7.3 s", 125 -> "2 min 05 s", 7384 -> "2 h 03 min".
    static func duration(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite, seconds >= 0 else { return "–" }
        if seconds < 60 { return fixed(seconds, 1) + " s" }
        let whole = Int(seconds.rounded())
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        if whole < 3600 { return "\(whole / 60) min \(two(whole % 60)) s" }
        return "\(whole / 3600) h \(two(whole / 60 % 60)) min"
    }
}
