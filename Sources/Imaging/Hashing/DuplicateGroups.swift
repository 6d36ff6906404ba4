/// Near-duplicate groups: the connected components of a set of pairs (so grouping is
/// transitive: a chain of close hashes forms one group even if its ends are far apart).
public struct DuplicateGroups: Sendable, Equatable {
    /// `representative[i]` is the smallest id in i's group; `i` itself when i has no pair.
    public let representative: [Int]
    /// Every group of two or more ids, each ascending (so its first id is the representative),
    /// ordered by representative.
    public let groups: [[Int]]

    /// Groups ids `0 ..< count` linked by `pairs`.
    public init(count: Int, pairs: some Sequence<HammingPair>) {
        // Union-find that always links the larger root under the smaller one, so every root is
        // the smallest id of its component; path halving keeps the trees shallow.
        var parent = Array(0..<count)
        func root(_ x: Int) -> Int {
            var x = x
            while parent[x] != x {
                parent[x] = parent[parent[x]]
                x = parent[x]
            }
            return x
        }
        for pair in pairs {
            precondition(pair.first >= 0 && pair.second < count, "pair \(pair) outside 0..<\(count)")
            let a = root(pair.first)
            let b = root(pair.second)
            if a < b { parent[b] = a } else if b < a { parent[a] = b }
        }
        var representative = [Int](repeating: 0, count: count)
        var members: [Int: [Int]] = [:]
        for id in 0..<count {
            let r = root(id)
            representative[id] = r
            if r != id { members[r, default: [r]].append(id) }
        }
        self.representative = representative
        groups = members.keys.sorted().map { members[$0]! }
    }

    /// Ids that are the representative of their group or have no near-duplicate: the ones a
    /// dedup keeps. Ascending.
    public var keptIDs: [Int] { representative.indices.filter { representative[$0] == $0 } }
}
