import Foundation
import Tensor

/// AdamW (Loshchilov & Hutter), exactly as PyTorch's `torch.optim.AdamW` single-tensor path:
///   p ← p·(1 − lr·wd)                          (only parameters with `decays`)
///   m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²
///   p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
/// Moments live in buffers laid out like the parameters, allocated once.
public final class AdamW: @unchecked Sendable {
    public let parameters: [Parameter]
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var eps: Float = 1e-8
    /// Applied to parameters whose `decays` is true (weights and embeddings, not biases, LayerNorm or temperature).
    public var weightDecay: Float
    public private(set) var step = 0
    let firstMoments: [Tensor]
    let secondMoments: [Tensor]

    public init(parameters: [Parameter], weightDecay: Float = 0.05) {
        self.parameters = parameters
        self.weightDecay = weightDecay
        firstMoments = parameters.map { Tensor(shape: $0.value.shape) }
        secondMoments = parameters.map { Tensor(shape: $0.value.shape) }
    }

    /// One update of every parameter from its gradient buffer, at learning rate `lr`.
    public func update(learningRate lr: Double) {
        step += 1
        let t = Double(step)
        let correction1 = 1 - pow(Double(beta1), t)
        let correction2Root = (1 - pow(Double(beta2), t)).squareRoot()
        let stepSize = Float(lr / correction1)
        let b1 = beta1, b2 = beta2, eps = eps, c2 = Float(correction2Root)
        for (i, p) in parameters.enumerated() {
            let x = p.value.data, g = p.grad.data, m = firstMoments[i].data, v = secondMoments[i].data
            let decay = p.decays ? Float(1 - lr * Double(weightDecay)) : 1
            Parallel.forRanges(p.count, costPerItem: 8) { r in
                for j in r {
                    if decay != 1 { x[j] *= decay }
                    m[j] = m[j] * b1 + (1 - b1) * g[j]   // torch's lerp(m, g, 1 − β1)
                    v[j] = v[j] * b2 + (1 - b2) * g[j] * g[j]
                    x[j] -= stepSize * m[j] / (v[j].squareRoot() / c2 + eps)
                }
            }
        }
    }

    /// Sets the step count after the moments were restored from a checkpoint.
    func restore(step: Int) { self.step = step }

    /// Scales every gradient so that their global L2 norm is at most `maxNorm`; returns the norm before.
    @discardableResult
    public func clipGradients(maxNorm: Double) -> Double {
        var total = 0.0
        for p in parameters {
            let g = p.grad.data
            for j in 0..<p.count { total += Double(g[j]) * Double(g[j]) }
        }
        let norm = total.squareRoot()
        if norm > maxNorm {
            let factor = Float(maxNorm / (norm + 1e-6))
            for p in parameters { scale(p.grad, by: factor) }
        }
        return norm
    }
}
