import Foundation
import Imaging
import Tensor

/// Random initialisation for training from scratch, as BERT / BLIP initialise: weights and
/// embeddings ~ N(0, std²) (initializer_range 0.02), biases 0, LayerNorm weights 1. (Hugging
/// Face's BlipVisionConfig defaults initializer_range to 1e-10, which makes every image's
/// features identical; one range is used for both towers here.)
func initializeRandomly(_ parameters: [Parameter], seed: UInt64, std: Float) {
    var rng = SplitMix64(seed: seed)
    for p in parameters {
        let name = p.parts[0]
        if p.decays {
            fillNormal(p.value, std: std, using: &rng)
        } else if name.hasSuffix(".bias") || name == "temp" {
            p.value.fill(0)
        } else {
            p.value.fill(1)   // LayerNorm weights: the only other parameters without decay
        }
    }
}

/// x ~ N(0, std²), Box-Muller from a seeded generator.
func fillNormal(_ x: Tensor, std: Float, using rng: inout SplitMix64) {
    let p = x.data
    var i = 0
    while i < x.count {
        let u1 = max(Double(rng.next() >> 11) / Double(1 << 53), 1e-300), u2 = Double(rng.next() >> 11) / Double(1 << 53)
        let r = (-2 * log(u1)).squareRoot()
        p[i] = Float(r * cos(2 * .pi * u2)) * std
        if i + 1 < x.count { p[i + 1] = Float(r * sin(2 * .pi * u2)) * std }
        i += 2
    }
}

extension BlipPretrainingModel {
    /// From scratch: every parameter initialised (temperature 0.07), momentum encoders copied,
    /// queues filled with random unit rows (BLIP's `normalize(randn)`).
    public func initializeRandomly(seed: UInt64, std: Float = 0.02) {
        Training.initializeRandomly(parameters, seed: seed, std: std)
        temperature.value.fill(0.07)
        copyParametersToMomentum()
        initializeQueues(seed: seed)
    }

    /// Fills both feature queues with random unit rows (BLIP's `normalize(randn)`), ids none.
    public func initializeQueues(seed: UInt64) {
        var rng = SplitMix64(seed: seed ^ 0x5155_4555)
        for queue in [imageQueue, textQueue] {
            fillNormal(queue, std: 1, using: &rng)
            let q = queue.dim(0), p = queue.dim(1), d = queue.data
            for r in 0..<q {
                var s: Float = 0
                for j in 0..<p { s += d[r * p + j] * d[r * p + j] }
                let inv = 1 / max(s.squareRoot(), 1e-12)
                for j in 0..<p { d[r * p + j] *= inv }
            }
        }
    }
}

extension BlipCaptionerTrainingModel {
    /// From scratch: every parameter initialised.
    public func initializeRandomly(seed: UInt64, std: Float = 0.02) {
        Training.initializeRandomly(parameters, seed: seed, std: std)
    }
}
