import Basics
import XCTest
@testable import SemanticDedup

final class SemanticDedupTests: XCTestCase {
    /// Unit vectors near one of `centres` orthogonal directions, with a little noise.
    private func points(_ counts: [Int], dimension: Int = 16, noise: Float = 0.05, seed: UInt64 = 3) -> (EmbeddingMatrix, [Int]) {
        var rng = SplitMix64(seed: seed)
        var rows: [[Float]] = []
        var group: [Int] = []
        for (g, n) in counts.enumerated() {
            for _ in 0..<n {
                var v = (0..<dimension).map { _ in noise * Float(Double(rng.next() >> 11) * 0x1p-53 - 0.5) }
                v[g] += 1
                rows.append(v)
                group.append(g)
            }
        }
        return (EmbeddingMatrix(rows: rows, dimension: dimension), group)
    }

    func testKMeansSeparatesClearGroupsTheSameWayEveryTime() {
        let (data, group) = points([30, 40, 50])
        let kmeans = SphericalKMeans(clusters: 3, iterations: 10, seed: 9)
        let centroids = kmeans.fit(data)
        let (cluster, similarity) = kmeans.assign(data, to: centroids)
        // One cluster per group: the partition is the same, whatever the cluster numbers.
        var clusterOfGroup: [Int: Int32] = [:]
        for (g, c) in zip(group, cluster) {
            if let known = clusterOfGroup[g] { XCTAssertEqual(known, c) } else { clusterOfGroup[g] = c }
        }
        XCTAssertEqual(Set(clusterOfGroup.values).count, 3)
        XCTAssertTrue(similarity.allSatisfy { $0 > 0.95 })
        XCTAssertEqual(kmeans.fit(data).values, centroids.values, "seeded: the same centroids again")
        for i in 0..<centroids.count {
            XCTAssertEqual(centroids.row(i).reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-5)
        }
    }

    func testNearCopiesAreDroppedForTheFirstInRankAndOthersKept() {
        // Rows 0-2: distinct directions; 3: a near copy of 0; 4: a near copy of 1 ranked above it.
        let data = EmbeddingMatrix(rows: [
            [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [1, 0.02, 0, 0], [0.01, 1, 0, 0],
        ], dimension: 4)
        let cluster: [Int32] = [0, 0, 1, 0, 0]
        let rank = [1, 1, 1, 1, 0]
        let drops = SemanticDuplicates(epsilon: 0.01).find(data, cluster: cluster, rank: rank)
        XCTAssertEqual(drops.map(\.row), [1, 3])
        XCTAssertEqual(drops.map(\.keptRow), [4, 0])
        XCTAssertTrue(drops.allSatisfy { $0.similarity > 0.99 })
        // A looser epsilon still leaves orthogonal rows alone; a tight one drops nothing.
        XCTAssertEqual(SemanticDuplicates(epsilon: 0.5).find(data, cluster: cluster, rank: rank).map(\.row), [1, 3])
        XCTAssertEqual(SemanticDuplicates(epsilon: 0.00001).find(data, cluster: cluster, rank: rank), [])
        // Across clusters nothing is compared.
        XCTAssertEqual(SemanticDuplicates(epsilon: 0.01).find(data, cluster: [0, 1, 2, 3, 4], rank: rank), [])
    }

    /// The kept rows are marked in place with their cluster; the others get -1.
    func testKeptRowsMarkTheKeptRowsInPlace() {
        let rows: [[Float]] = (0..<9).map { i in (0..<4).map { Float(i * 4 + $0 + 1) } }
        let data = EmbeddingMatrix(rows: rows, dimension: 4)
        let kept = KeptRows(data, cluster: [2, 0, 1, 2, -1, 0, 1, 2, 0], keep: { $0 != 3 })
        XCTAssertEqual(kept.cluster, [2, 0, 1, -1, -1, 0, 1, 2, 0])
        XCTAssertEqual(kept.rows, [0, 1, 2, 5, 6, 7, 8])
        XCTAssertEqual(kept.matrix.values, data.values, "the rows stay where they are")
    }

    /// An update never drops a row an earlier pass kept, even for a better-ranked new copy; new
    /// rows are also deduplicated among themselves; rows left out (cluster -1) are not kept rows.
    func testAnUpdateComparesNewRowsWithKeptOnes() {
        let old = EmbeddingMatrix(rows: [[1, 0, 0], [0, 1, 0], [0, 1, 0.01]], dimension: 3)
        // Old row 2 was dropped as a copy of 1: it is no keeper.
        let kept = KeptRows(old, cluster: [0, 0, 0], keep: { $0 != 2 })
        XCTAssertEqual(kept.rows, [0, 1])
        let new = EmbeddingMatrix(rows: [[1, 0.01, 0], [0, 0, 1], [0.01, 0, 1], [0, 0.02, 1]], dimension: 3)
        let drops = SemanticDuplicates(epsilon: 0.01).findUpdate(kept, new: new, cluster: [0, 0, 0, 1], rank: [0, 0, 1, 0])
        XCTAssertEqual(drops.map(\.newRow), [0, 2])
        XCTAssertEqual(drops.map(\.keeper), [.kept(0), .new(1)])
        // Row 3 is a copy of new row 1 too, but in another cluster: not compared.
        let full = SemanticDuplicates(epsilon: 0.01).find(
            EmbeddingMatrix(rows: [[1, 0, 0], [1, 0.01, 0]], dimension: 3), cluster: [0, 0], rank: [1, 0])
        XCTAssertEqual(full.map(\.row), [0], "a full pass keeps the better-ranked copy instead")
    }
}
