/// How well a filter finds noisy pairs: "positive" means noise (the filter drops the pair).
/// Counts are kept so reports can show them; rates with an empty denominator are 0.
public struct DetectionMetrics: Sendable, Equatable {
    public let truePositives: Int
    public let falsePositives: Int
    public let falseNegatives: Int
    public let trueNegatives: Int
    /// Recall per noise kind: the share of that kind's pairs that were dropped.
    public let recallByKind: [String: Double]
    /// Pairs per noise kind, and how many of them were dropped.
    public let countByKind: [String: Int]
    public let droppedByKind: [String: Int]

    /// Of the dropped pairs, the share that were noise.
    public var precision: Double { ratio(truePositives, truePositives + falsePositives) }
    /// Of the noisy pairs, the share that were dropped.
    public var recall: Double { ratio(truePositives, truePositives + falseNegatives) }
    public var f1: Double {
        let p = precision, r = recall
        return p + r == 0 ? 0 : 2 * p * r / (p + r)
    }
    /// Of the clean pairs, the share wrongly dropped.
    public var falseDropRate: Double { ratio(falsePositives, falsePositives + trueNegatives) }
    /// The share of all pairs that were noise.
    public var noiseShare: Double {
        ratio(truePositives + falseNegatives, truePositives + falsePositives + falseNegatives + trueNegatives)
    }

    private func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
}

public enum Detection {
    /// The label of clean pairs in `kinds`.
    public static let clean = "clean"

    /// Scores a filter. `dropped[i]` is the filter's verdict on pair i; `kinds[i]` its true
    /// label: `clean` or the name of a noise kind.
    public static func evaluate(dropped: [Bool], kinds: [String]) -> DetectionMetrics {
        precondition(dropped.count == kinds.count, "one label per verdict")
        var tp = 0, fp = 0, fn = 0, tn = 0
        var count: [String: Int] = [:]
        var hit: [String: Int] = [:]
        for (isDropped, kind) in zip(dropped, kinds) {
            let isNoise = kind != clean
            switch (isNoise, isDropped) {
            case (true, true): tp += 1
            case (true, false): fn += 1
            case (false, true): fp += 1
            case (false, false): tn += 1
            }
            if isNoise {
                count[kind, default: 0] += 1
                if isDropped { hit[kind, default: 0] += 1 }
            }
        }
        var recallByKind: [String: Double] = [:]
        for (kind, n) in count { recallByKind[kind] = Double(hit[kind, default: 0]) / Double(n) }
        return DetectionMetrics(
            truePositives: tp, falsePositives: fp, falseNegatives: fn, trueNegatives: tn,
            recallByKind: recallByKind, countByKind: count,
            droppedByKind: count.mapValues { _ in 0 }.merging(hit) { _, new in new })
    }
}
