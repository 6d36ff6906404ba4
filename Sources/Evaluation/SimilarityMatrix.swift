/// Image-text similarities for retrieval: `scores[i * textCount + t]` is the score of image `i`
/// with text `t`, higher is more similar. Row-major, images by texts.
public struct SimilarityMatrix: Sendable, Equatable {
    public let imageCount: Int
    public let textCount: Int
    public var scores: [Double]

    public init(imageCount: Int, textCount: Int, scores: [Double]) {
        precondition(imageCount >= 0 && textCount >= 0)
        precondition(scores.count == imageCount * textCount, "scores must be imageCount x textCount")
        self.imageCount = imageCount
        self.textCount = textCount
        self.scores = scores
    }

    /// From rows of per-image scores (all rows the same length).
    public init(rows: [[Double]]) {
        let width = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == width }, "ragged similarity rows")
        self.init(imageCount: rows.count, textCount: width, scores: rows.flatMap { $0 })
    }

    public subscript(image: Int, text: Int) -> Double { scores[image * textCount + text] }
}
