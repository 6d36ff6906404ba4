/// A share of items with its binomial standard error, sqrt(p (1 - p) / n).
public struct Proportion: Sendable, Equatable {
    public let count: Int
    public let total: Int

    public init(count: Int, total: Int) {
        self.count = count
        self.total = total
    }

    /// 0 when there are no items.
    public var value: Double { total == 0 ? 0 : Double(count) / Double(total) }
    public var standardError: Double {
        guard total > 0 else { return 0 }
        let p = value
        return (p * (1 - p) / Double(total)).squareRoot()
    }
}
