/// The generator's random numbers: SplitMix64, integers only, so a seed gives the same stream on
/// every machine and Swift version (the standard library's generators promise neither).
/// Every image draws from its own stream, derived from (seed, split, index), so an image does not
/// change when the sizes of other splits do.
public struct DemoRandom: Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// An independent stream for one (split, index) under a seed.
    public init(seed: UInt64, stream: UInt64, index: UInt64) {
        var s = DemoRandom(seed: seed ^ 0x5DEE_CE66_D1CE_4E5B)
        let a = s.next() ^ DemoRandom.mix(stream &+ 0x632B_E59B_D9B4_E019)
        state = DemoRandom.mix(a ^ DemoRandom.mix(index &+ 0x8CB9_2BA7_2F3D_8DD7))
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return DemoRandom.mix(state)
    }

    /// Uniform in 0..<bound (rejection sampling, no modulo bias).
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0)
        let b = UInt64(bound)
        let limit = UInt64.max - UInt64.max % b
        while true {
            let x = next()
            if x < limit { return Int(x % b) }
        }
    }

    /// Uniform in the closed range.
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    /// True with probability numerator / denominator.
    public mutating func chance(_ numerator: Int, in denominator: Int) -> Bool {
        below(denominator) < numerator
    }

    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// Fisher-Yates.
    public mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, to: 0, by: -1) {
            items.swapAt(i, below(i + 1))
        }
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
