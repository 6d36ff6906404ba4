import Basics
import Tensor

/// k-means on the unit sphere (cosine similarity), as SemDeDup clusters image embeddings:
/// centroids fitted by Lloyd's iterations on a seeded sample of the rows (all of them when
/// `sampleSize` covers the set), then every row assigned to its most similar centroid. The
/// same rows, seed and settings give the same centroids.
public struct SphericalKMeans: Sendable {
    public var clusters: Int
    public var iterations: Int
    /// Rows the centroids are fitted on; the rest are only assigned.
    public var sampleSize: Int
    public var seed: UInt64

    public init(clusters: Int, iterations: Int = 20, sampleSize: Int = 200_000, seed: UInt64 = 0) {
        self.clusters = max(1, clusters); self.iterations = max(1, iterations)
        self.sampleSize = max(1, sampleSize); self.seed = seed
    }

    /// Centroids [clusters, dimension], unit length (fewer when there are fewer rows).
    public func fit(_ data: EmbeddingMatrix) -> EmbeddingMatrix {
        var rng = SplitMix64(seed: seed)
        let sample = data.count <= sampleSize ? data : data.gather(rng.sample(sampleSize, of: data.count).sorted())
        let k = min(clusters, sample.count)
        guard k > 0 else { return EmbeddingMatrix(dimension: data.dimension) }
        var centroids = sample.gather(rng.sample(k, of: sample.count).sorted())
        for _ in 0..<iterations {
            let (assignment, _) = assign(sample, to: centroids)
            var sums = [Float](repeating: 0, count: k * data.dimension)
            var counts = [Int](repeating: 0, count: k)
            for (i, c) in assignment.enumerated() {
                counts[Int(c)] += 1
                let row = sample.row(i)
                for (j, x) in row.enumerated() { sums[Int(c) * data.dimension + j] += x }
            }
            // An empty cluster keeps its centroid (it may win rows again next time).
            for c in 0..<k where counts[c] == 0 {
                for (j, x) in centroids.row(c).enumerated() { sums[c * data.dimension + j] = x }
            }
            let next = EmbeddingMatrix(dimension: data.dimension, values: sums)
            if next.values == centroids.values { break }
            centroids = next
        }
        return centroids
    }

    /// Each row's most similar centroid (the lower index on a tie) and that similarity.
    public func assign(_ data: EmbeddingMatrix, to centroids: EmbeddingMatrix) -> (cluster: [Int32], similarity: [Float]) {
        var cluster = [Int32](repeating: 0, count: data.count)
        var best = [Float](repeating: -2, count: data.count)
        let k = centroids.count
        guard k > 0 else { return (cluster, best) }
        let block = max(1, (1 << 22) / k)   // 16 MiB of similarities at a time
        var start = 0
        while start < data.count {
            let end = min(data.count, start + block)
            let s = Similarity.block(data, rows: start..<end, against: centroids)
            for i in 0..<(end - start) {
                var arg = 0
                var top = s[i * k]
                for c in 1..<k where s[i * k + c] > top { top = s[i * k + c]; arg = c }
                cluster[start + i] = Int32(arg)
                best[start + i] = top
            }
            start = end
        }
        return (cluster, best)
    }
}
