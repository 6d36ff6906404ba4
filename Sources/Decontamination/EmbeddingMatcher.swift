/// Cosine matching of normalised image embeddings: a training image is contaminated when its
/// cosine with some evaluation image reaches the threshold. Embeddings are unit vectors (the
/// ITC projections), so the cosine is a plain dot product; one training vector against every
/// evaluation vector is a matrix-vector product, cheap next to the model that made them.
public struct EmbeddingMatcher: Sendable {
    public let dimension: Int
    public let threshold: Float
    /// Row-major `[count, dimension]`.
    private let vectors: [Float]
    private let names: [(evalSet: String, name: String)]

    /// `vectors[i]` is the embedding of `images[i]`; every vector has `dimension` values.
    public init(images: [(evalSet: String, name: String)], vectors: [[Float]], threshold: Float) {
        precondition(images.count == vectors.count, "one embedding per evaluation image")
        let dimension = vectors.first?.count ?? 0
        precondition(vectors.allSatisfy { $0.count == dimension }, "embeddings of different sizes")
        self.dimension = dimension
        self.threshold = threshold
        self.vectors = vectors.flatMap { $0 }
        names = images
    }

    public var count: Int { names.count }

    /// The evaluation image with the highest cosine at or above the threshold (ties: the first), or nil.
    public func match(_ embedding: [Float]) -> ContaminationMatch? {
        guard embedding.count == dimension, dimension > 0 else { return nil }
        var best: (index: Int, cosine: Float)?
        vectors.withUnsafeBufferPointer { all in
            embedding.withUnsafeBufferPointer { v in
                for i in 0..<names.count {
                    var dot: Float = 0
                    let row = i * dimension
                    for j in 0..<dimension { dot += all[row + j] * v[j] }
                    if dot >= threshold, best == nil || dot > best!.cosine { best = (i, dot) }
                }
            }
        }
        return best.map {
            ContaminationMatch(method: .cosine, evalSet: names[$0.index].evalSet, evalImage: names[$0.index].name,
                               distance: Double($0.cosine))
        }
    }
}
