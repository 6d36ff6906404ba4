import Foundation

/// The rules a gate has, named as their pipeline keys. A dropped sample's status is its rule's
/// name, and a dropped text's rule is recorded with it.
public enum GateRule: String, Sendable, CaseIterable, Comparable {
    // Sample rules, in the order they are checked (the first that fails is recorded).
    case urlBlocklist = "url_blocklist"
    case domainBlocklist = "domain_blocklist"
    case sha256Blocklist = "sha256_blocklist"
    case minSide = "min_side"
    case minPixels = "min_pixels"
    case minAspectRatio = "min_aspect_ratio"
    case maxAspectRatio = "max_aspect_ratio"
    case minSimilarity = "min_similarity"
    case maxPunsafe = "max_punsafe"
    case maxPwatermark = "max_pwatermark"
    // Text rules.
    case minWords = "min_words"
    case maxWords = "max_words"
    case minChars = "min_chars"
    case maxChars = "max_chars"

    public static func < (a: GateRule, b: GateRule) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// Why a gate dropped a sample or a text: the rule, and the value against the bound
/// (`min_side: 180 < 200`). The catalog keeps the two apart (the rule is a dropped sample's
/// status, or a dropped text's `rule`), so `reason` does not repeat the rule.
public struct GateDrop: Sendable, Equatable, CustomStringConvertible {
    public var rule: GateRule
    /// The value against the bound: `180 < 200 (180x320)`.
    public var reason: String

    public init(_ rule: GateRule, _ reason: String) { self.rule = rule; self.reason = reason }

    /// Rule and reason as one line: `min_side: 180 < 200 (180x320)`.
    public var description: String { "\(rule.rawValue): \(reason)" }
}

/// Numbers in reasons: integers without a decimal point, others with up to six significant
/// digits (enough to tell 0.49999 from 0.5).
func gateNumber(_ x: Double) -> String {
    if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
    let short = "\(x)"
    return short.count <= 8 ? short : String(format: "%.6g", x)
}
