/// The rows a dedup pass kept, stored cluster by cluster (each cluster's rows contiguous), so
/// that an update compares its new rows with a cluster in place, without gathering it: the
/// layout a full pass leaves for the updates after it.
public struct ClusteredRows: Sendable {
    /// Kept rows in cluster order.
    public let matrix: EmbeddingMatrix
    /// Where each cluster's rows are in `matrix`.
    public let ranges: [Int32: Range<Int>]
    /// The row number (in the data the pass saw) of each row of `matrix`.
    public let ids: [Int]

    /// The rows of `data` whose cluster is not negative and that `keep` accepts, grouped by
    /// cluster. The rows are moved within `data`'s own buffer (no second copy of the embeddings,
    /// which at a million rows is a gigabyte), so pass the matrix with `consume` where it is not
    /// needed after.
    public init(_ data: consuming EmbeddingMatrix, cluster: [Int32], keep: (Int) -> Bool) {
        // A counting sort by cluster, rows in ascending order within each: the order of a sort
        // by (cluster, row) in one pass over a million rows instead of n log n comparisons.
        let clusters = Int(cluster.max() ?? -1) + 1
        var counts = [Int](repeating: 0, count: clusters + 1)
        var chosen = [Bool](repeating: false, count: data.count)
        for i in 0..<data.count where cluster[i] >= 0 && keep(i) {
            chosen[i] = true
            counts[Int(cluster[i]) + 1] += 1
        }
        for c in 0..<clusters { counts[c + 1] += counts[c] }
        var ranges: [Int32: Range<Int>] = [:]
        for c in 0..<clusters where counts[c + 1] > counts[c] { ranges[Int32(c)] = counts[c]..<counts[c + 1] }
        var order = [Int](repeating: 0, count: counts[clusters])
        var next = counts
        for i in 0..<data.count where chosen[i] {
            let c = Int(cluster[i])
            order[next[c]] = i
            next[c] += 1
        }
        data.permuteRows(order)
        matrix = data
        self.ranges = ranges
        ids = order
    }
}

extension SemanticDuplicates {
    /// What an update decided about one new row.
    public struct UpdateDrop: Sendable, Equatable {
        public enum Keeper: Sendable, Equatable {
            /// A row an earlier pass kept (its id in `ClusteredRows.ids`).
            case kept(Int)
            /// Another new row, ranked before it.
            case new(Int)
        }
        public var newRow: Int
        public var keeper: Keeper
        public var similarity: Float
    }

    /// An update: `new` rows (clustered by the same centroids) against the kept rows of earlier
    /// passes. A new row within the threshold of a kept row is dropped (kept rows never are, so
    /// an update never removes what was exported before); the remaining new rows are
    /// deduplicated among themselves in `rank` order. Costs new x cluster products only.
    public func findUpdate(_ kept: ClusteredRows, new: EmbeddingMatrix, cluster: [Int32], rank: [Int]) -> [UpdateDrop] {
        precondition(cluster.count == new.count && rank.count == new.count)
        let threshold = 1 - epsilon
        var members: [Int32: [Int]] = [:]
        for (i, c) in cluster.enumerated() where c >= 0 { members[c, default: []].append(i) }
        var out: [UpdateDrop] = []
        for c in members.keys.sorted() {
            let rows = members[c]!.sorted { rank[$0] < rank[$1] || (rank[$0] == rank[$1] && $0 < $1) }
            let local = new.gather(rows)
            var dropped = [Bool](repeating: false, count: rows.count)
            // Against the kept rows of the cluster, in place.
            if let range = kept.ranges[c] {
                let s = Similarity.block(local, rows: 0..<rows.count, against: kept.matrix, rows: range)
                for i in rows.indices {
                    var best = -1
                    for j in 0..<range.count where s[i * range.count + j] > threshold {
                        if best < 0 || s[i * range.count + j] > s[i * range.count + best] { best = j }
                    }
                    if best >= 0 {
                        dropped[i] = true
                        out.append(UpdateDrop(newRow: rows[i], keeper: .kept(kept.ids[range.lowerBound + best]),
                                              similarity: s[i * range.count + best]))
                    }
                }
            }
            // Among the new rows of the cluster.
            let s = Similarity.block(local, rows: 0..<rows.count, against: local)
            for i in rows.indices where !dropped[i] {
                for j in (i + 1)..<rows.count where !dropped[j] && s[i * rows.count + j] > threshold {
                    dropped[j] = true
                    out.append(UpdateDrop(newRow: rows[j], keeper: .new(rows[i]), similarity: s[i * rows.count + j]))
                }
            }
        }
        return out.sorted { $0.newRow < $1.newRow }
    }
}
