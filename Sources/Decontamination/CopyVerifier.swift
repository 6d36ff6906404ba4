import Basics
import Imaging
import Tensor

/// Finds training images that are edited copies of evaluation images where hashes cannot: the
/// `candidates` evaluation images whose layouts are closest (the thumbnails' Euclidean distances,
/// from one product per batch, Tensor's `linearRaw`) are verified by Imaging's residual correlation, and the best one at or above
/// `threshold` is the match. A look-alike with the same layout ranks high and fails the check;
/// a copy ranks high and passes it.
public struct CopyVerifier: Sendable {
    public let threshold: Float
    public let candidates: Int
    private let signatures: [CopySignature]
    /// Row-major [count, thumbnail length].
    private let thumbnails: [Float]
    /// -|t|^2 / 2 of each evaluation thumbnail t: the bias that turns q.t into a closeness.
    private let halfSquaredNorms: [Float]
    private let names: [(evalSet: String, name: String)]

    public init(images: [(evalSet: String, name: String)], signatures: [CopySignature], threshold: Float, candidates: Int) {
        precondition(images.count == signatures.count, "one signature per evaluation image")
        self.threshold = threshold
        self.candidates = max(1, candidates)
        self.signatures = signatures
        thumbnails = signatures.flatMap(\.thumbnail)
        halfSquaredNorms = signatures.map { -$0.thumbnail.reduce(0) { $0 + $1 * $1 } / 2 }
        names = images
    }

    public var count: Int { names.count }

    /// For each training signature (nil: no image), the verified evaluation image with the highest
    /// correlation (ties: the first), or nil. Runs on all cores.
    public func match(_ training: [CopySignature?]) -> [ContaminationMatch?] {
        let present = training.indices.filter { training[$0] != nil }
        let k = CopySignature.thumbnailSide * CopySignature.thumbnailSide
        guard !names.isEmpty, !present.isEmpty else { return training.map { _ in nil } }
        // Closeness of every present training image's layout q to every evaluation image's t:
        // q.t - |t|^2 / 2, which orders t as -|q - t|^2 does (|q|^2 is the same along a row).
        let queries = present.flatMap { training[$0]!.thumbnail }
        var similarity = [Float](repeating: 0, count: present.count * names.count)
        queries.withUnsafeBufferPointer { q in
            thumbnails.withUnsafeBufferPointer { t in
                halfSquaredNorms.withUnsafeBufferPointer { bias in
                    similarity.withUnsafeMutableBufferPointer { out in
                        linearRaw(q.baseAddress!, rows: present.count, inFeatures: k, weight: t.baseAddress!, bias: bias.baseAddress!,
                                  outFeatures: names.count, out: out.baseAddress!)
                    }
                }
            }
        }
        let results = Locked([ContaminationMatch?](repeating: nil, count: training.count))
        Parallel.forRanges(present.count, costPerItem: candidates * 300_000) { range in
            for row in range {
                let sample = present[row]
                let scores = similarity[(row * names.count)..<((row + 1) * names.count)]
                var best: (index: Int, correlation: Float)?
                for e in Self.top(candidates, of: scores) {
                    let c = training[sample]!.correlation(with: signatures[e])
                    if c >= threshold, best == nil || c > best!.correlation || (c == best!.correlation && e < best!.index) {
                        best = (e, c)
                    }
                }
                if let best {
                    let match = ContaminationMatch(method: .residual, evalSet: names[best.index].evalSet,
                                                   evalImage: names[best.index].name, distance: Double(best.correlation))
                    results.withLock { $0[sample] = match }
                }
            }
        }
        return results.current
    }

    /// The indices (within the row) of the `k` largest scores, largest first, ties to the lower index.
    private static func top(_ k: Int, of scores: ArraySlice<Float>) -> [Int] {
        var kept: [(score: Float, index: Int)] = []
        kept.reserveCapacity(k + 1)
        for (offset, score) in scores.enumerated() {
            if kept.count == k, let last = kept.last, score <= last.score { continue }
            let at = kept.firstIndex { score > $0.score } ?? kept.count
            kept.insert((score, offset), at: at)
            if kept.count > k { kept.removeLast() }
        }
        return kept.map(\.index)
    }
}
