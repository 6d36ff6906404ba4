/// Two hashes of an indexed set within the index's radius: `first < second` are their positions
/// in the array the index was built from.
public struct HammingPair: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let first: Int
    public let second: Int
    public let distance: Int

    public init(_ first: Int, _ second: Int, distance: Int) {
        self.first = min(first, second)
        self.second = max(first, second)
        self.distance = distance
    }

    public static func < (a: HammingPair, b: HammingPair) -> Bool {
        (a.first, a.second) < (b.first, b.second)
    }

    public var description: String { "(\(first), \(second), d=\(distance))" }
}
