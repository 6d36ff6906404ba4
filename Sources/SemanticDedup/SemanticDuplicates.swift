import Tensor

/// SemDeDup's rule within each cluster: two rows whose cosine similarity is above
/// `1 - epsilon` are near-duplicates, and of every such group one row is kept. Rows are visited
/// in priority order (the caller's: capfilt keeps the highest ITM, ties by key); a row not yet
/// dropped is kept and drops every later row of its cluster within the threshold.
public struct SemanticDuplicates: Sendable {
    /// A dropped row and the kept row it duplicates.
    public struct Drop: Sendable, Equatable {
        public var row: Int
        public var keptRow: Int
        public var similarity: Float

        public init(row: Int, keptRow: Int, similarity: Float) {
            self.row = row; self.keptRow = keptRow; self.similarity = similarity
        }
    }

    public var epsilon: Float

    public init(epsilon: Float) { self.epsilon = epsilon }

    /// The drops among `data` (a full pass), given each row's cluster (negative: leave the row
    /// out) and rank (lower rank = kept first). Updates go through `findUpdate`.
    public func find(_ data: EmbeddingMatrix, cluster: [Int32], rank: [Int]) -> [Drop] {
        precondition(cluster.count == data.count && rank.count == data.count)
        var members: [Int32: [Int]] = [:]
        for (i, c) in cluster.enumerated() where c >= 0 { members[c, default: []].append(i) }
        var drops: [Drop] = []
        for c in members.keys.sorted() {
            let rows = members[c]!.sorted { rank[$0] < rank[$1] || (rank[$0] == rank[$1] && $0 < $1) }
            drops += findInCluster(data, rows: rows)
        }
        return drops.sorted { $0.row < $1.row }
    }

    private func findInCluster(_ data: EmbeddingMatrix, rows: [Int]) -> [Drop] {
        guard rows.count > 1 else { return [] }
        var dropped = [Bool](repeating: false, count: rows.count)
        return greedyDrops(data.gather(rows), positions: 0..<rows.count, dropped: &dropped).map {
            Drop(row: rows[$0.row], keptRow: rows[$0.keeper], similarity: $0.similarity)
        }
    }

    /// SemDeDup's rule over the rows `positions` of `local`, in rank order: a row not yet
    /// dropped is kept and drops every later one above the threshold. `dropped` (indexed by row
    /// of `local`) marks rows already out, which neither keep nor are compared, and is updated.
    /// Similarities are computed a block of rows at a time (bounded memory). Returns rows of `local`.
    func greedyDrops(_ local: EmbeddingMatrix, positions: Range<Int>, dropped: inout [Bool])
        -> [(row: Int, keeper: Int, similarity: Float)] {
        let threshold = 1 - epsilon
        let n = positions.count
        var out: [(row: Int, keeper: Int, similarity: Float)] = []
        let block = max(1, (1 << 22) / max(1, n))
        var start = positions.lowerBound
        while start < positions.upperBound {
            let end = min(positions.upperBound, start + block)
            let s = Similarity.block(local, rows: start..<end, against: local, rows: positions)
            for i in start..<end where !dropped[i] {
                let base = (i - start) * n - positions.lowerBound
                for j in (i + 1)..<positions.upperBound where !dropped[j] && s[base + j] > threshold {
                    dropped[j] = true
                    out.append((j, i, s[base + j]))
                }
            }
            start = end
        }
        return out
    }
}
