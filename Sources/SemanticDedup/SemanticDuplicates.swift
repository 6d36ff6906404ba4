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
        let local = data.gather(rows)
        let threshold = 1 - epsilon
        let n = rows.count
        var dropped = [Bool](repeating: false, count: n)
        var out: [Drop] = []
        // Similarities a block of rows at a time against the whole cluster (bounded memory).
        let block = max(1, (1 << 22) / n)
        var start = 0
        while start < n {
            let end = min(n, start + block)
            let s = Similarity.block(local, rows: start..<end, against: local)
            for i in start..<end where !dropped[i] {
                let base = (i - start) * n
                for j in (i + 1)..<n where !dropped[j] && s[base + j] > threshold {
                    dropped[j] = true
                    out.append(Drop(row: rows[j], keptRow: rows[i], similarity: s[base + j]))
                }
            }
            start = end
        }
        return out
    }
}
