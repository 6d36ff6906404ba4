import Foundation

/// Corpus BLEU as the COCO caption evaluation (pycocoevalcap `Bleu(4)`) computes it: clipped
/// n-gram matches (a candidate n-gram counts at most as often as in the reference that has it
/// most), summed over the corpus before dividing; the reference length of each candidate is the
/// reference length closest to it (ties: the shorter); one brevity penalty on the corpus totals.
public struct BLEUScore: Sendable, Equatable {
    /// `scores[k]` is BLEU-(k+1): the geometric mean of the 1...(k+1)-gram precisions times the
    /// brevity penalty.
    public let scores: [Double]
    /// Clipped matches and candidate n-grams per order, over the corpus.
    public let matches: [Int]
    public let candidateNGrams: [Int]
    public let candidateLength: Int
    public let referenceLength: Int

    /// BLEU-4 (or the highest order computed).
    public var bleu4: Double { scores[scores.count - 1] }
    /// `exp(1 - r/c)` when the candidates are shorter than the references, else 1.
    public var brevityPenalty: Double {
        let ratio = BLEU.ratio(candidateLength, referenceLength)
        return ratio < 1 ? exp(1 - 1 / ratio) : 1
    }
}

public enum BLEU {
    /// BLEU of `candidates[i]` against `references[i]` (one or more each), after
    /// `CaptionTokenizer`. Both arrays must have the same length.
    public static func corpus(candidates: [String], references: [[String]], maxOrder: Int = 4) -> BLEUScore {
        corpus(
            candidateTokens: candidates.map(CaptionTokenizer.tokenize),
            referenceTokens: references.map { $0.map(CaptionTokenizer.tokenize) },
            maxOrder: maxOrder)
    }

    /// BLEU of already tokenised sentences.
    public static func corpus(candidateTokens: [[String]], referenceTokens: [[[String]]], maxOrder: Int = 4) -> BLEUScore {
        precondition(candidateTokens.count == referenceTokens.count, "one reference list per candidate")
        precondition(maxOrder >= 1)
        var matches = [Int](repeating: 0, count: maxOrder)
        var guesses = [Int](repeating: 0, count: maxOrder)
        var candidateLength = 0
        var referenceLength = 0
        for (candidate, references) in zip(candidateTokens, referenceTokens) {
            precondition(!references.isEmpty, "a candidate needs at least one reference")
            // The most times each n-gram occurs in any one reference.
            var maxCounts = [[String: Int]](repeating: [:], count: maxOrder)
            var closest = Int.max
            for reference in references {
                let counts = NGramCounts(tokens: reference, maxOrder: maxOrder)
                for k in 0..<maxOrder {
                    for (gram, count) in counts.orders[k] where count > maxCounts[k][gram, default: 0] {
                        maxCounts[k][gram] = count
                    }
                }
                let distance = abs(reference.count - candidate.count)
                let best = abs(closest - candidate.count)
                if closest == Int.max || distance < best || (distance == best && reference.count < closest) {
                    closest = reference.count
                }
            }
            let counts = NGramCounts(tokens: candidate, maxOrder: maxOrder)
            for k in 0..<maxOrder {
                guesses[k] += max(0, candidate.count - k)
                for (gram, count) in counts.orders[k] {
                    matches[k] += min(count, maxCounts[k][gram, default: 0])
                }
            }
            candidateLength += candidate.count
            referenceLength += closest
        }
        // The toolkit's smoothing constants: a zero count gives ~0, not a division by zero.
        let tiny = 1e-15
        let small = 1e-9
        var scores: [Double] = []
        var product = 1.0
        for k in 0..<maxOrder {
            product *= (Double(matches[k]) + tiny) / (Double(guesses[k]) + small)
            scores.append(pow(product, 1 / Double(k + 1)))
        }
        let r = ratio(candidateLength, referenceLength)
        if r < 1 {
            let penalty = exp(1 - 1 / r)
            scores = scores.map { $0 * penalty }
        }
        return BLEUScore(
            scores: scores, matches: matches, candidateNGrams: guesses,
            candidateLength: candidateLength, referenceLength: referenceLength)
    }

    static func ratio(_ candidateLength: Int, _ referenceLength: Int) -> Double {
        (Double(candidateLength) + 1e-15) / (Double(referenceLength) + 1e-9)
    }
}
