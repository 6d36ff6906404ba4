import Basics
import Tensor

/// The rows earlier passes kept, marked in place: each row of `matrix` has its cluster, or -1
/// when it was not kept. An update streams the matrix once in memory order, so its cost is one
/// sequential read of the embeddings (a gigabyte at a million rows) and no copy or reordering of
/// them: reading each cluster's rows where they lie, cluster after cluster, waited on memory for
/// most of its time.
public struct KeptRows: Sendable {
    /// The embeddings (shared, not copied).
    public let matrix: EmbeddingMatrix
    /// Per row of `matrix`: its cluster if kept, else -1.
    public let cluster: [Int32]

    /// The rows of `matrix` whose cluster is not negative and that `keep` accepts.
    public init(_ matrix: EmbeddingMatrix, cluster: [Int32], keep: (Int) -> Bool) {
        precondition(cluster.count == matrix.count, "one cluster per row")
        self.matrix = matrix
        self.cluster = cluster.indices.map { cluster[$0] >= 0 && keep($0) ? cluster[$0] : -1 }
    }

    /// The kept rows, ascending.
    public var rows: [Int] { cluster.indices.filter { cluster[$0] >= 0 } }
}

extension SemanticDuplicates {
    /// What an update decided about one new row.
    public struct UpdateDrop: Sendable, Equatable {
        public enum Keeper: Sendable, Equatable {
            /// A row an earlier pass kept (its row number in `KeptRows.matrix`).
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
    /// deduplicated among themselves in `rank` order. Costs new x cluster products only, the
    /// clusters split over the engine's workers.
    public func findUpdate(_ kept: KeptRows, new: EmbeddingMatrix, cluster: [Int32], rank: [Int]) -> [UpdateDrop] {
        precondition(cluster.count == new.count && rank.count == new.count)
        precondition(kept.matrix.dimension == new.dimension || new.count == 0, "rows of one dimension")
        let threshold = 1 - epsilon
        let d = new.dimension
        // The new rows cluster by cluster, in rank order within each: `order[p]` is the new row
        // at position p, and cluster c's rows are positions `start[c]..<start[c + 1]`.
        let clusters = Int(max(cluster.max() ?? -1, kept.cluster.max() ?? -1)) + 1
        var start = [Int](repeating: 0, count: clusters + 1)
        for c in cluster where c >= 0 { start[Int(c) + 1] += 1 }
        for c in 0..<clusters { start[c + 1] += start[c] }
        var order = [Int](repeating: 0, count: start[clusters])
        var next = start
        for i in (0..<new.count).sorted(by: { rank[$0] < rank[$1] || (rank[$0] == rank[$1] && $0 < $1) }) where cluster[i] >= 0 {
            order[next[Int(cluster[i])]] = i
            next[Int(cluster[i])] += 1
        }
        let local = new.gather(order)
        let largest = (0..<clusters).map { start[$0 + 1] - start[$0] }.max() ?? 0

        // The best kept row of each new row above the threshold: the kept rows streamed once in
        // memory order, split over the workers; on equal similarity the lower row wins.
        let workers = max(1, min(Parallel.threads, kept.matrix.count))
        let chunk = (kept.matrix.count + workers - 1) / workers
        let found = Locked([[(row: Int, similarity: Float)?]](repeating: [], count: workers))
        kept.matrix.values.withUnsafeBufferPointer { keptValues in
            local.values.withUnsafeBufferPointer { localValues in
                let base = UncheckedSendable((keptValues.baseAddress, localValues.baseAddress))
                Parallel.forRanges(workers, costPerItem: 1 << 20) { range in
                    for w in range {
                        var best = [(row: Int, similarity: Float)?](repeating: nil, count: order.count)
                        guard let keptPointer = base.value.0, let localPointer = base.value.1 else { continue }
                        let similarity = UnsafeMutablePointer<Float>.allocate(capacity: max(1, largest))
                        defer { similarity.deallocate() }
                        kept.cluster.withUnsafeBufferPointer { clusterOf in
                            start.withUnsafeBufferPointer { first in
                                for row in (w * chunk)..<min(kept.matrix.count, (w + 1) * chunk) {
                                    let c = Int(clusterOf[row])
                                    guard c >= 0, c < clusters else { continue }
                                    let lo = first[c], count = first[c + 1] - lo
                                    guard count > 0 else { continue }
                                    // The cluster's new rows against this kept row, read once.
                                    rowsDot(localPointer + lo * d, rows: count, keptPointer + row * d, d, into: similarity)
                                    for q in 0..<count where similarity[q] > threshold {
                                        if best[lo + q] == nil || similarity[q] > best[lo + q]!.similarity { best[lo + q] = (row, similarity[q]) }
                                    }
                                }
                            }
                        }
                        found.withLock { $0[w] = best }
                    }
                }
            }
        }
        var best = [(row: Int, similarity: Float)?](repeating: nil, count: order.count)
        for part in found.current {
            for (p, candidate) in part.enumerated() {
                if let candidate, best[p] == nil || candidate.similarity > best[p]!.similarity { best[p] = candidate }
            }
        }

        // Then each cluster's remaining new rows among themselves, in rank order.
        var out: [UpdateDrop] = []
        var dropped = best.map { $0 != nil }
        for p in order.indices { if let b = best[p] { out.append(UpdateDrop(newRow: order[p], keeper: .kept(b.row), similarity: b.similarity)) } }
        for c in 0..<clusters where start[c + 1] - start[c] > 1 {
            for drop in greedyDrops(local, positions: start[c]..<start[c + 1], dropped: &dropped) {
                out.append(UpdateDrop(newRow: order[drop.row], keeper: .new(order[drop.keeper]), similarity: drop.similarity))
            }
        }
        return out.sorted { $0.newRow < $1.newRow }
    }
}
