import Catalog
/// Counts of scores in equal-width bins over `lowerBound ... upperBound`, with an optional
/// decision threshold to mark.
///
/// Bin `i` covers `[edge(i), edge(i + 1))`, where `edge(i) = lowerBound + (upperBound −
/// lowerBound) · i / binCount`; the last bin also holds `upperBound`. A score equal to an edge
/// goes to the bin that starts there, so with a threshold on an edge, every score in a bin left
/// of the threshold is below it. Scores outside the range go to the first or last bin (and are
/// counted in `clamped`); NaN is not binned (counted in `skipped`).
public struct ScoreHistogram: Sendable, Codable, Equatable {
    /// Shown above the chart, e.g. "Web texts: ITM probability".
    public var title: String
    /// The origin whose colour the chart uses; nil for a neutral colour.
    public var origin: TextOrigin?
    public var lowerBound: Double
    public var upperBound: Double
    public var counts: [Int]
    public var threshold: Double?
    /// Scores strictly below the threshold, when known exactly (binned from raw scores, or given).
    public var belowThreshold: Int?
    public var clamped: Int
    public var skipped: Int

    /// Takes counts that are already binned (e.g. by a SQL query).
    public init(
        title: String, origin: TextOrigin? = nil, counts: [Int], range: ClosedRange<Double> = 0...1,
        threshold: Double? = nil, belowThreshold: Int? = nil
    ) {
        precondition(!counts.isEmpty, "a histogram needs at least one bin")
        precondition(range.upperBound > range.lowerBound, "empty histogram range")
        self.title = title
        self.origin = origin
        self.lowerBound = range.lowerBound
        self.upperBound = range.upperBound
        self.counts = counts
        self.threshold = threshold
        self.belowThreshold = belowThreshold
        clamped = 0
        skipped = 0
    }

    /// Bins raw scores.
    public init(
        title: String, origin: TextOrigin? = nil, scores: some Sequence<Double>, binCount: Int = 20,
        range: ClosedRange<Double> = 0...1, threshold: Double? = nil
    ) {
        precondition(binCount > 0, "a histogram needs at least one bin")
        self.init(title: title, origin: origin, counts: [Int](repeating: 0, count: binCount), range: range, threshold: threshold)
        var below = 0
        for score in scores {
            guard let bin = bin(of: score) else {
                skipped += 1
                continue
            }
            counts[bin] += 1
            if score < lowerBound || score > upperBound { clamped += 1 }
            if let threshold, score < threshold { below += 1 }
        }
        if threshold != nil { belowThreshold = below }
    }

    public var binCount: Int { counts.count }
    /// Scores binned (NaN excluded).
    public var total: Int { counts.reduce(0, +) }

    /// The lower edge of bin `i`; `edge(binCount)` is `upperBound`.
    public func edge(_ i: Int) -> Double {
        i >= binCount ? upperBound : lowerBound + (upperBound - lowerBound) * Double(i) / Double(binCount)
    }

    /// The bin a score falls in; nil for NaN.
    public func bin(of score: Double) -> Int? {
        guard !score.isNaN else { return nil }
        if score <= lowerBound { return 0 }
        if score >= upperBound { return binCount - 1 }
        var i = min(binCount - 1, max(0, Int((score - lowerBound) / (upperBound - lowerBound) * Double(binCount))))
        // The division may round across an edge; settle against the edges as `edge` computes them.
        while i + 1 < binCount && score >= edge(i + 1) { i += 1 }
        while i > 0 && score < edge(i) { i -= 1 }
        return i
    }
}
