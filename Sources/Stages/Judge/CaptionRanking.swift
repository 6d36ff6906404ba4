import Catalog

/// Best-of-N captioning (LAION-COCO kept the best of 40 BLIP captions by CLIP similarity, BLIP-2
/// the top 2 of 10): ranks one sample's synthetic captions by their match with the image and
/// keeps only the best `keepTop` of those that pass the filter's threshold.
struct CaptionRanking: Sendable {
    /// What the captions are ranked by.
    enum Score: String, CaseIterable, Sendable {
        /// The ITM match probability.
        case itm
        /// The ITC cosine similarity.
        case itc
        /// ITM probability times ITC cosine.
        case product
    }

    /// One caption's place: `position` 1 is the best; `withinTop` says whether it is among the
    /// best `keepTop` of the captions that pass (always true when `keepTop` is 0).
    struct Place: Equatable, Sendable {
        var position: Int
        var score: Double
        var withinTop: Bool
    }

    let by: Score
    /// 0: every passing caption is kept.
    let keepTop: Int

    func value(_ s: TextScore) -> Double {
        switch by {
        case .itm: s.itmProbability
        case .itc: s.itcSimilarity
        case .product: s.itmProbability * s.itcSimilarity
        }
    }

    /// The place of each of one sample's synthetic captions, by text id. Ties go to the lower
    /// text id (the earlier caption), so the ranking never depends on input order. A caption
    /// that does not pass still has a place, but never takes one of the `keepTop` slots.
    func places(_ scores: [TextScore], passes: (TextScore) -> Bool) -> [Int64: Place] {
        let ranked = scores.map { ($0, value($0)) }.sorted { a, b in
            a.1 != b.1 ? a.1 > b.1 : a.0.textID < b.0.textID
        }
        var out: [Int64: Place] = [:]
        var passingAbove = 0
        for (i, (score, v)) in ranked.enumerated() {
            let pass = passes(score)
            out[score.textID] = Place(position: i + 1, score: v, withinTop: keepTop == 0 || (pass && passingAbove < keepTop))
            if pass { passingAbove += 1 }
        }
        return out
    }
}
