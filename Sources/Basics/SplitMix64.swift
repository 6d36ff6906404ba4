/// SplitMix64 (Steele, Lea and Flood, 2014): the seeded generator the training transforms are
/// specified with. Each `next()` adds 0x9E3779B97F4A7C15 to the state and mixes it with
/// (z ^ z >> 30) * 0xBF58476D1CE4E5B9, (z ^ z >> 27) * 0x94D049BB133111EB, z ^ z >> 31.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SplitMix64 {
    /// `count` distinct indices below `n`, in the order drawn (Floyd's algorithm).
    public mutating func sample(_ count: Int, of n: Int) -> [Int] {
        var chosen = Set<Int>()
        var out: [Int] = []
        for j in (n - min(count, n))..<n {
            let t = Int(next() % UInt64(j + 1))
            let pick = chosen.contains(t) ? j : t
            chosen.insert(pick)
            out.append(pick)
        }
        return out
    }
}
