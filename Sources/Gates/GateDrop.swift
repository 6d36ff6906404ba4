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
/// (`min_side: 180 < 200`).
public struct GateDrop: Sendable, Equatable, CustomStringConvertible {
    public var rule: GateRule
    public var reason: String

    public init(_ rule: GateRule, _ detail: String) { self.rule = rule; reason = "\(rule.rawValue): \(detail)" }

    public var description: String { reason }
}

/// Numbers in reasons: integers without a decimal point, others with up to six significant
/// digits (enough to tell 0.49999 from 0.5).
func gateNumber(_ x: Double) -> String {
    if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
    let short = "\(x)"
    return short.count <= 8 ? short : String(format: "%.6g", x)
}
