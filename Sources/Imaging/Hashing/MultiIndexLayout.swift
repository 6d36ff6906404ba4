/// How a multi-index splits 64-bit hashes into disjoint substrings and how far each substring is
/// searched.
///
/// Pigeonhole: with `m` substrings and `r = m·q + a` (`0 ≤ a < m`), two hashes within Hamming
/// distance `r` are within `q` of each other on one of the first `a + 1` substrings or within
/// `q − 1` on one of the others (otherwise the distance would be at least `m·q + a + 1`).
/// Substrings whose radius comes out negative are never searched, so with `m = r + 1` every
/// searched substring needs an exact match only.
public struct MultiIndexLayout: Sendable, Equatable, CustomStringConvertible {
    /// One searched substring: bits `offset ..< offset + width` of the hash (bit 0 = least
    /// significant), searched within `radius`.
    public struct Part: Sendable, Equatable {
        public let offset: Int
        public let width: Int
        public let radius: Int
    }

    /// Largest Hamming distance reported as a match.
    public let radius: Int
    /// Number of disjoint substrings the 64 bits are split into (`m`).
    public let substrings: Int
    /// The substrings that are searched (those with a non-negative radius), widest first.
    public let parts: [Part]

    /// Radii outside this range would make every layout enumerate huge Hamming balls.
    public static let supportedRadii = 0...32

    /// Splits 64 bits into `substrings` parts of 64/m bits each (the wider ones first). Parts are
    /// at most 32 bits wide, so `substrings` is in 2...64.
    public init(radius: Int, substrings m: Int) {
        precondition(Self.supportedRadii.contains(radius), "radius \(radius) outside \(Self.supportedRadii)")
        precondition((2...64).contains(m), "substring count \(m) outside 2...64")
        self.radius = radius
        self.substrings = m
        let q = radius / m
        let a = radius % m
        var parts: [Part] = []
        var offset = 0
        for k in 0..<m {
            let width = 64 / m + (k < 64 % m ? 1 : 0)
            let partRadius = k <= a ? q : q - 1
            if partRadius >= 0 { parts.append(Part(offset: offset, width: width, radius: min(partRadius, width))) }
            offset += width
        }
        self.parts = parts
    }

    /// The layout with the smallest estimated query cost for an index of `count` hashes: each
    /// probe of a substring table costs one lookup, and each probe is expected to return
    /// `count / 2^width` random candidates that each cost one verification. Ties go to fewer
    /// substrings (less memory).
    public static func automatic(radius: Int, count: Int) -> MultiIndexLayout {
        precondition(supportedRadii.contains(radius), "radius \(radius) outside \(supportedRadii)")
        var best: (cost: Double, layout: MultiIndexLayout)?
        for m in 2...64 {
            let layout = MultiIndexLayout(radius: radius, substrings: m)
            let cost = layout.estimatedQueryCost(count: count)
            if best == nil || cost < best!.cost { best = (cost, layout) }
        }
        return best!.layout
    }

    /// Expected lookups plus candidate verifications for one query against `count` random hashes.
    public func estimatedQueryCost(count: Int) -> Double {
        var cost = 0.0
        for part in parts {
            let probes = Double(hammingBallSize(width: part.width, radius: part.radius))
            cost += probes * (1 + Double(count) / Double(UInt64(1) << UInt64(part.width)))
        }
        return cost
    }

    public var description: String {
        let widths = parts.map { "\($0.width)b/r\($0.radius)" }.joined(separator: ", ")
        return "m=\(substrings) radius=\(radius) searched=[\(widths)]"
    }
}

/// Number of `width`-bit values within Hamming distance `radius` of a given one.
func hammingBallSize(width: Int, radius: Int) -> Int {
    var total = 0
    var binomial = 1  // C(width, k)
    for k in 0...min(radius, width) {
        total += binomial
        binomial = binomial * (width - k) / (k + 1)
    }
    return total
}

/// Every `width`-bit mask with at most `radius` bits set, fewest bits first.
func hammingBallMasks(width: Int, radius: Int) -> [UInt32] {
    var masks: [UInt32] = [0]
    masks.reserveCapacity(hammingBallSize(width: width, radius: radius))
    guard radius > 0, width > 0 else { return masks }
    // Combinations of k bit positions in increasing order, for k = 1 ... radius.
    for k in 1...min(radius, width) {
        var positions = Array(0..<k)
        while true {
            var mask: UInt32 = 0
            for p in positions { mask |= 1 << UInt32(p) }
            masks.append(mask)
            var i = k - 1
            while i >= 0 && positions[i] == width - k + i { i -= 1 }
            if i < 0 { break }
            positions[i] += 1
            for j in (i + 1)..<k { positions[j] = positions[j - 1] + 1 }
        }
    }
    return masks
}
