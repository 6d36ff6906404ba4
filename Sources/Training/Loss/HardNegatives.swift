import MED
import Tensor

extension BlipPretrainingModel {
    /// ITM's negatives for a batch of B pairs, after the ITC similarities of this step exist.
    /// Sampled as BLIP samples them (torch.multinomial on unnormalised weights), from a generator
    /// seeded per step so that a resumed run draws the same negatives.
    func chooseNegatives(_ source: NegativeSource, batch b: Int, columns n: Int,
                         imageIDs: [Int]? = nil) -> (imageForText: [Int], textForImage: [Int]) {
        switch source.kind {
        case .fixed(let images, let texts):
            precondition(images.count == b && texts.count == b, "negatives: one image and one text per pair")
            return (images, texts)
        case .sampled(let seed):
            var rng = SeededGenerator(seed: seed)
            // Draws one column per row of weights [B, B] (rows need not sum to 1).
            func draw(_ weights: [[Float]]) -> [Int] {
                weights.enumerated().map { i, row in
                    let total = row.reduce(0, +)
                    var u = rng.nextUnitFloat() * total
                    for (j, wj) in row.enumerated() where wj > 0 {
                        u -= wj
                        if u < 0 { return j }
                    }
                    return row.lastIndex { $0 > 0 } ?? (i + 1) % b
                }
            }
            func softmaxRows(_ sim: (Int, Int) -> Float) -> [[Float]] {
                (0..<b).map { i in
                    var row = (0..<b).map { sim(i, $0) }
                    row.withUnsafeMutableBufferPointer { softmaxRow($0.baseAddress!, b) }
                    return row
                }
            }
            let w = work
            if let ids = imageIDs {
                // blip_retrieval.py: softmax of the online in-batch similarities, same-id pairs zeroed.
                let p = w.imageFeatures.dim(1), temp = temperature.value[flat: 0]
                func dot(_ a: Tensor, _ i: Int, _ c: Tensor, _ j: Int) -> Float {
                    var s: Float = 0
                    for k in 0..<p { s += a[flat: i * p + k] * c[flat: j * p + k] }
                    return s / temp
                }
                let t2i = softmaxRows { dot(w.textFeatures, $0, w.imageFeatures, $1) }
                let i2t = softmaxRows { dot(w.imageFeatures, $0, w.textFeatures, $1) }
                let masked = { (m: [[Float]]) in
                    m.enumerated().map { i, row in row.enumerated().map { j, v in ids[j] == ids[i] ? 0 : v } }
                }
                return (draw(masked(t2i)), draw(masked(i2t)))
            }
            // blip_pretrain.py: softmax(sim[:, :B]) + 1e-4 with the own pair zeroed.
            let pre = { (sim: Tensor) in
                softmaxRows { sim[flat: $0 * n + $1] }.enumerated().map { i, row in
                    row.enumerated().map { j, v in j == i ? 0 : v + 1e-4 }
                }
            }
            return (draw(pre(w.simT2I)), draw(pre(w.simI2T)))
        }
    }
}
