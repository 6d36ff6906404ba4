import Foundation

/// The shard files a pattern names, in order: brace ranges (`{00000..00127}`, zero padding kept
/// from the wider bound, as webdataset and braceexpand write them), brace lists (`{a,b}`), and
/// `*` / `?` in the file name (matched against the folder's entries, sorted by name). Relative
/// patterns resolve under `folder`.
public enum ShardPattern {
    /// The longest expansion accepted: a typo such as `{0..99999999}` fails instead of filling
    /// memory.
    public static let maxShards = 1_000_000

    public static func expand(_ pattern: String, in folder: String) throws -> [String] {
        let resolved = pattern.hasPrefix("/") ? pattern : (folder as NSString).appendingPathComponent(pattern)
        var out: [String] = []
        for name in try braces(resolved) {
            if name.contains("*") || name.contains("?") {
                out += try glob(name)
            } else {
                out.append(name)
            }
        }
        return out
    }

    /// Brace expansion, left to right, nested braces included.
    public static func braces(_ pattern: String) throws -> [String] {
        let chars = Array(pattern)
        guard let open = chars.firstIndex(of: "{") else { return [pattern] }
        var depth = 0, close: Int?
        for i in open..<chars.count {
            if chars[i] == "{" { depth += 1 }
            if chars[i] == "}" { depth -= 1; if depth == 0 { close = i; break } }
        }
        guard let close else { throw ShardPatternError("unbalanced `{` in \(pattern)") }
        let head = String(chars[..<open]), body = String(chars[(open + 1)..<close]), tail = String(chars[(close + 1)...])
        let choices = try alternatives(body, in: pattern)
        var out: [String] = []
        for choice in choices {
            for rest in try braces(choice + tail) {
                out.append(head + rest)
                if out.count > maxShards { throw ShardPatternError("\(pattern) names more than \(maxShards) shards") }
            }
        }
        return out
    }

    /// `a..b` as a numeric range, or a comma list split at depth 0.
    private static func alternatives(_ body: String, in pattern: String) throws -> [String] {
        if !body.contains(","), let range = body.range(of: "..") {
            let low = String(body[..<range.lowerBound]), high = String(body[range.upperBound...])
            guard let a = Int(low), let b = Int(high), a >= 0, b >= 0 else {
                throw ShardPatternError("`{\(body)}` in \(pattern) is not a range of whole numbers")
            }
            guard abs(b - a) < maxShards else { throw ShardPatternError("\(pattern) names more than \(maxShards) shards") }
            let width = max(low.count, high.count)
            let padded = low.hasPrefix("0") || high.hasPrefix("0")
            let values = a <= b ? Array(a...b) : Array((b...a).reversed())
            return values.map { v in
                let digits = String(v)
                return padded && digits.count < width ? String(repeating: "0", count: width - digits.count) + digits : digits
            }
        }
        var parts: [String] = [], current = "", depth = 0
        for c in body {
            if c == "{" { depth += 1 }
            if c == "}" { depth -= 1 }
            if c == "," && depth == 0 { parts.append(current); current = ""; continue }
            current.append(c)
        }
        parts.append(current)
        return parts
    }

    /// The entries of the pattern's folder whose names match its last component.
    private static func glob(_ pattern: String) throws -> [String] {
        let folder = (pattern as NSString).deletingLastPathComponent
        let name = (pattern as NSString).lastPathComponent
        if folder.contains("*") || folder.contains("?") {
            throw ShardPatternError("wildcards only in the file name: \(pattern)")
        }
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
            throw ShardPatternError("\(folder): cannot list the folder")
        }
        return entries.filter { matches(Array($0), Array(name)) }.sorted().map { (folder as NSString).appendingPathComponent($0) }
    }

    /// `*` any run of characters, `?` one character.
    static func matches(_ s: [Character], _ p: [Character]) -> Bool {
        var si = 0, pi = 0, star = -1, mark = 0
        while si < s.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == s[si]) { si += 1; pi += 1 }
            else if pi < p.count && p[pi] == "*" { star = pi; mark = si; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; si = mark }
            else { return false }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}

public struct ShardPatternError: Error, CustomStringConvertible, Equatable {
    public var description: String
    init(_ description: String) { self.description = description }
}
