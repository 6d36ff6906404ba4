/// The difference of two recall rates and its standard error.
///
/// Paired (the same queries scored by two models, the case of the demo): with per-query hits
/// x_i (first model) and y_i (second), d_i = y_i - x_i, the difference is mean(d) and its standard
/// error is sd(d) / sqrt(n) with the sample standard deviation (n - 1). This is the binomial
/// formula for paired proportions, (b + c - (c - b)^2 / n) / (n (n - 1)) under the root, where b
/// and c count the queries only the first and only the second model hits; queries both hit or
/// both miss add nothing, which is why pairing gives a much smaller error than two independent
/// samples.
public struct RecallDifference: Sendable, Equatable {
    /// Second minus first, as a fraction (x100 for points of R@K).
    public let difference: Double
    public let standardError: Double
    /// Queries only the first hits, only the second hits, and all queries.
    public let onlyFirst: Int
    public let onlySecond: Int
    public let queries: Int

    /// difference / standardError (0 when both are 0).
    public var zScore: Double {
        standardError == 0 ? (difference == 0 ? 0 : (difference > 0 ? .infinity : -.infinity)) : difference / standardError
    }

    /// Paired difference of per-query hits (same queries, same order).
    public static func paired(first: [Bool], second: [Bool]) -> RecallDifference {
        precondition(first.count == second.count, "paired hits need the same queries")
        let n = first.count
        var b = 0, c = 0
        for (x, y) in zip(first, second) where x != y {
            if x { b += 1 } else { c += 1 }
        }
        guard n > 0 else { return RecallDifference(difference: 0, standardError: 0, onlyFirst: 0, onlySecond: 0, queries: 0) }
        let nd = Double(n)
        let mean = Double(c - b) / nd
        var se = 0.0
        if n > 1 {
            // sum (d_i - mean)^2 = (b + c) - n mean^2, since d_i^2 is 1 exactly for the b + c discordant queries.
            let squares = Double(b + c) - nd * mean * mean
            se = (max(0, squares) / (nd - 1) / nd).squareRoot()
        }
        return RecallDifference(difference: mean, standardError: se, onlyFirst: b, onlySecond: c, queries: n)
    }

    /// Standard error of p2 - p1 for two independent samples of sizes n1 and n2 (the binomial
    /// formula sqrt(p1 (1 - p1) / n1 + p2 (1 - p2) / n2)); an upper bound for paired data whose
    /// outcomes are positively correlated.
    public static func independentStandardError(p1: Double, n1: Int, p2: Double, n2: Int) -> Double {
        precondition(n1 > 0 && n2 > 0)
        return (p1 * (1 - p1) / Double(n1) + p2 * (1 - p2) / Double(n2)).squareRoot()
    }
}
