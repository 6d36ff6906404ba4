import Foundation

/// CIDEr-D as the COCO caption evaluation (pycocoevalcap `Cider`) computes it. Each sentence is
/// a tf-idf vector per n-gram order 1...4; document frequencies count the images whose
/// references hold the n-gram, over the evaluated set only, and idf = log(images) - log(max(1, df)).
/// For each reference the per-order similarity is the sum of min(candidate, reference) x reference
/// weights (clipping) over the product of the norms, times a Gaussian length penalty
/// exp(-(delta^2) / (2 sigma^2)); the image's score is the mean over orders and references, x10.
/// The toolkit measures "length" as the number of bigrams (its `n == 1` test is on the 0-based
/// order), and so does this, so that the scores agree.
public struct CIDErScore: Sendable, Equatable {
    /// Mean of `perImage`.
    public let score: Double
    public let perImage: [Double]
}

public enum CIDEr {
    /// CIDEr-D of `candidates[i]` against `references[i]`, after `CaptionTokenizer`.
    public static func compute(candidates: [String], references: [[String]], sigma: Double = 6, maxOrder: Int = 4) -> CIDErScore {
        compute(
            candidateTokens: candidates.map(CaptionTokenizer.tokenize),
            referenceTokens: references.map { $0.map(CaptionTokenizer.tokenize) },
            sigma: sigma, maxOrder: maxOrder)
    }

    /// CIDEr-D of already tokenised sentences.
    public static func compute(
        candidateTokens: [[String]], referenceTokens: [[[String]]], sigma: Double = 6, maxOrder: Int = 4
    ) -> CIDErScore {
        precondition(candidateTokens.count == referenceTokens.count, "one reference list per candidate")
        guard !candidateTokens.isEmpty else { return CIDErScore(score: 0, perImage: []) }
        let referenceCounts = referenceTokens.map { refs -> [NGramCounts] in
            precondition(!refs.isEmpty, "a candidate needs at least one reference")
            return refs.map { NGramCounts(tokens: $0, maxOrder: maxOrder) }
        }
        var documentFrequency: [String: Int] = [:]
        for refs in referenceCounts {
            var seen = Set<String>()
            for ref in refs { for order in ref.orders { seen.formUnion(order.keys) } }
            for gram in seen { documentFrequency[gram, default: 0] += 1 }
        }
        let logImages = log(Double(referenceCounts.count))

        func vector(_ counts: NGramCounts) -> TfIdf {
            var weights: [[String: Double]] = []
            var norms: [Double] = []
            for order in counts.orders {
                var w: [String: Double] = [:]
                var squares = 0.0
                for (gram, tf) in order {
                    let df = log(max(1.0, Double(documentFrequency[gram, default: 0])))
                    let value = Double(tf) * (logImages - df)
                    w[gram] = value
                    squares += value * value
                }
                weights.append(w)
                norms.append(squares.squareRoot())
            }
            let bigrams = counts.orders.count > 1 ? counts.orders[1].values.reduce(0, +) : 0
            return TfIdf(weights: weights, norms: norms, length: bigrams)
        }

        var perImage: [Double] = []
        perImage.reserveCapacity(candidateTokens.count)
        for (candidate, refs) in zip(candidateTokens, referenceCounts) {
            let hyp = vector(NGramCounts(tokens: candidate, maxOrder: maxOrder))
            var sums = [Double](repeating: 0, count: maxOrder)
            for refCounts in refs {
                let ref = vector(refCounts)
                let delta = Double(hyp.length - ref.length)
                let penalty = exp(-(delta * delta) / (2 * sigma * sigma))
                for n in 0..<maxOrder {
                    var value = 0.0
                    for (gram, h) in hyp.weights[n] {
                        let r = ref.weights[n][gram] ?? 0
                        value += min(h, r) * r
                    }
                    if hyp.norms[n] != 0 && ref.norms[n] != 0 { value /= hyp.norms[n] * ref.norms[n] }
                    sums[n] += value * penalty
                }
            }
            let mean = sums.reduce(0, +) / Double(maxOrder)
            perImage.append(mean / Double(refs.count) * 10)
        }
        return CIDErScore(score: perImage.reduce(0, +) / Double(perImage.count), perImage: perImage)
    }

    private struct TfIdf {
        let weights: [[String: Double]]
        let norms: [Double]
        let length: Int
    }
}
