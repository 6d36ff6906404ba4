/// Recall@K of image-to-text and text-to-image retrieval, as BLIP's retrieval evaluation defines
/// it: an image query is a hit at K when any of its ground-truth texts ranks in the top K; a text
/// query is a hit when its one image does. Ties count against the query: the rank of the correct
/// item is the number of wrong items scoring at least as high, so a model that scores everything
/// alike gets chance-level recall, not 100%. With distinct scores this is the plain rank.
public struct RetrievalRecall: Sendable, Equatable {
    /// The K values evaluated, ascending.
    public let ks: [Int]
    /// `imageToText[j]` is image-to-text R@ks[j] in percent; likewise `textToImage`.
    public let imageToText: [Double]
    public let textToImage: [Double]
    /// 0-based rank of the best correct text for each image query, and of the image for each
    /// text query (hits at K are ranks < K: the per-query outcomes the standard errors need).
    public let imageRanks: [Int]
    public let textRanks: [Int]

    /// Image-to-text R@k in percent (k must be one of `ks`).
    public func imageToText(at k: Int) -> Double { imageToText[index(k)] }
    public func textToImage(at k: Int) -> Double { textToImage[index(k)] }
    /// Per-query hits at k, for paired comparisons.
    public func imageHits(at k: Int) -> [Bool] { imageRanks.map { $0 < k } }
    public func textHits(at k: Int) -> [Bool] { textRanks.map { $0 < k } }

    private func index(_ k: Int) -> Int {
        guard let i = ks.firstIndex(of: k) else { preconditionFailure("R@\(k) was not computed (have \(ks))") }
        return i
    }
}

public enum Retrieval {
    /// Recall@K from a similarity matrix. `textImage[t]` is the image that text `t` describes;
    /// every image must have at least one text.
    public static func recall(_ similarity: SimilarityMatrix, textImage: [Int], ks: [Int] = [1, 5, 10]) -> RetrievalRecall {
        precondition(textImage.count == similarity.textCount, "one image per text")
        precondition(textImage.allSatisfy { $0 >= 0 && $0 < similarity.imageCount }, "text points at a missing image")
        let n = similarity.imageCount
        let m = similarity.textCount
        var isCorrect = [Bool](repeating: false, count: m)
        var imageRanks: [Int] = []
        imageRanks.reserveCapacity(n)
        var textsOf = [[Int]](repeating: [], count: n)
        for (t, i) in textImage.enumerated() { textsOf[i].append(t) }
        for i in 0..<n {
            let correct = textsOf[i]
            precondition(!correct.isEmpty, "image \(i) has no text")
            for t in correct { isCorrect[t] = true }
            var best = -Double.infinity
            for t in correct { best = max(best, similarity[i, t]) }
            var rank = 0
            for t in 0..<m where !isCorrect[t] && similarity[i, t] >= best { rank += 1 }
            imageRanks.append(rank)
            for t in correct { isCorrect[t] = false }
        }
        var textRanks: [Int] = []
        textRanks.reserveCapacity(m)
        for t in 0..<m {
            let own = textImage[t]
            let score = similarity[own, t]
            var rank = 0
            for i in 0..<n where i != own && similarity[i, t] >= score { rank += 1 }
            textRanks.append(rank)
        }
        let sortedKs = ks.sorted()
        func percent(_ ranks: [Int], _ k: Int) -> Double {
            ranks.isEmpty ? 0 : 100 * Double(ranks.filter { $0 < k }.count) / Double(ranks.count)
        }
        return RetrievalRecall(
            ks: sortedKs,
            imageToText: sortedKs.map { percent(imageRanks, $0) },
            textToImage: sortedKs.map { percent(textRanks, $0) },
            imageRanks: imageRanks, textRanks: textRanks)
    }
}
