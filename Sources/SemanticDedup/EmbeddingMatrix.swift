import Tensor

/// Unit-length embeddings, row-major [count, dimension] in one float buffer: what the clustering
/// and the duplicate search read. Rows are normalised on the way in (a zero row stays zero).
public struct EmbeddingMatrix: Sendable {
    public let dimension: Int
    public private(set) var values: [Float]
    public var count: Int { dimension == 0 ? 0 : values.count / dimension }

    public init(dimension: Int, values: [Float] = []) {
        precondition(dimension >= 1 && values.count % dimension == 0, "rows of \(dimension) values")
        self.dimension = dimension
        self.values = values
        normalize(from: 0)
    }

    /// Rows that are unit length already (copied from another matrix, or read back from a state
    /// file): taken as they are, so a round trip keeps every bit.
    init(dimension: Int, normalized values: [Float]) {
        self.dimension = dimension
        self.values = values
    }

    public init(rows: [[Float]], dimension: Int) {
        self.init(dimension: dimension, values: rows.flatMap { $0 })
    }

    public mutating func append<C: Collection>(_ row: C) where C.Element == Float {
        precondition(row.count == dimension)
        values += row
        normalize(from: count - 1)
    }

    public func row(_ i: Int) -> ArraySlice<Float> { values[(i * dimension)..<((i + 1) * dimension)] }

    /// The rows at `indices`, as a new matrix.
    public func gather(_ indices: [Int]) -> EmbeddingMatrix {
        var out = [Float]()
        out.reserveCapacity(indices.count * dimension)
        for i in indices { out += row(i) }
        return EmbeddingMatrix(dimension: dimension, normalized: out)
    }

    private mutating func normalize(from first: Int) {
        let d = dimension
        values.withUnsafeMutableBufferPointer { v in
            for r in first..<(v.count / d) {
                let row = v.baseAddress! + r * d
                let sum = dotProduct(row, row, d)
                guard sum > 0 else { continue }
                let scale = 1 / sum.squareRoot()
                for j in 0..<d { row[j] *= scale }
            }
        }
    }
}

/// Cosine similarities of blocks of rows: S[i, j] = a_i . b_j for unit rows, by sgemm, with the
/// rows of `a` split over the engine's workers (OpenBLAS single-threaded inside each).
enum Similarity {
    /// S [aRows.count, bRows.count] for the rows `aRows` of `a` against the rows `bRows` of `b`
    /// (all of them by default), read in place.
    static func block(_ a: EmbeddingMatrix, rows aRows: Range<Int>, against b: EmbeddingMatrix, rows bRows: Range<Int>? = nil) -> [Float] {
        let bRange = bRows ?? 0..<b.count
        let m = aRows.count, n = bRange.count, k = a.dimension
        var out = [Float](repeating: 0, count: m * n)
        guard m > 0, n > 0 else { return out }
        a.values.withUnsafeBufferPointer { av in
            b.values.withUnsafeBufferPointer { bv in
                out.withUnsafeMutableBufferPointer { ov in
                    let base = UncheckedSendable((av.baseAddress!, bv.baseAddress!, ov.baseAddress!))
                    Parallel.forRanges(m, costPerItem: n * k) { range in
                        let (ap, bp, op) = base.value
                        BLAS.gemm(transA: false, transB: true, m: range.count, n: n, k: k,
                                  a: ap + (aRows.lowerBound + range.lowerBound) * k, lda: k, b: bp + bRange.lowerBound * k, ldb: k,
                                  c: op + range.lowerBound * n, ldc: n)
                    }
                }
            }
        }
        return out
    }
}
