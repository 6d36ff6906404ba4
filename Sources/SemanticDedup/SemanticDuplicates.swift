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

    /// The drops among `data`, given each row's cluster (negative: leave the row out, e.g. one an
    /// earlier pass dropped) and rank (lower rank = kept first).
    /// Only rows of `candidates` may be dropped or compared as new (nil: all rows); the other
    /// rows are the kept rows of an earlier pass, compared against but never dropped.
    public func find(_ data: EmbeddingMatrix, cluster: [Int32], rank: [Int], candidates: Set<Int>? = nil) -> [Drop] {
        precondition(cluster.count == data.count && rank.count == data.count)
        var members: [Int32: [Int]] = [:]
        for (i, c) in cluster.enumerated() where c >= 0 { members[c, default: []].append(i) }
        // An update looks only at the clusters its new rows joined.
        let touched = candidates.map { Set($0.map { cluster[$0] }) }
        var drops: [Drop] = []
        for c in members.keys.sorted() where touched?.contains(c) ?? true {
            let rows = members[c]!.sorted { rank[$0] < rank[$1] || (rank[$0] == rank[$1] && $0 < $1) }
            drops += findInCluster(data, rows: rows, candidates: candidates)
        }
        return drops.sorted { $0.row < $1.row }
    }

    private func findInCluster(_ data: EmbeddingMatrix, rows: [Int], candidates: Set<Int>?) -> [Drop] {
        guard rows.count > 1 else { return [] }
        let local = data.gather(rows)
        if let candidates { return findNew(local, rows: rows, candidates: candidates) }
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

    /// An update: only the new rows' similarities are computed (new x cluster), so its cost
    /// follows the new rows, not the cluster. Old rows (kept by an earlier pass) are never
    /// dropped: a new row within the threshold of one goes, whatever its rank; otherwise the
    /// new rows are deduplicated among themselves in rank order.
    private func findNew(_ local: EmbeddingMatrix, rows: [Int], candidates: Set<Int>) -> [Drop] {
        let threshold = 1 - epsilon
        let n = rows.count
        let newPositions = (0..<n).filter { candidates.contains(rows[$0]) }
        guard !newPositions.isEmpty else { return [] }
        var newIndex = [Int](repeating: -1, count: n)
        for (k, p) in newPositions.enumerated() { newIndex[p] = k }
        let s = Similarity.block(local.gather(newPositions), rows: 0..<newPositions.count, against: local)
        func similarity(_ i: Int, _ j: Int) -> Float {
            newIndex[i] >= 0 ? s[newIndex[i] * n + j] : s[newIndex[j] * n + i]
        }
        var dropped = [Bool](repeating: false, count: n)
        var out: [Drop] = []
        for i in newPositions where !dropped[i] {
            var keeper: Int?
            for j in 0..<n where newIndex[j] < 0 && similarity(i, j) > threshold {
                if keeper == nil || similarity(i, j) > similarity(i, keeper!) { keeper = j }
            }
            if let keeper {
                dropped[i] = true
                out.append(Drop(row: rows[i], keptRow: rows[keeper], similarity: similarity(i, keeper)))
                continue
            }
            for j in newPositions where j > i && !dropped[j] && similarity(i, j) > threshold {
                dropped[j] = true
                out.append(Drop(row: rows[j], keptRow: rows[i], similarity: similarity(i, j)))
            }
        }
        return out
    }
}
