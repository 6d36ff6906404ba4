import Foundation
import Tensor

// Cross-entropy losses of the three BLIP objectives, each returning the loss and writing the
// gradient of its logits. Exponentials are the engine's 16-lane float kernel (~2 ulp); sums are added in
// float over blocks of 256 and the blocks in Float64: a vocabulary-wide sum in one float32
// accumulator loses digits the 1e-4 parity budget needs. Rows are split over the workers and
// their losses added in row order, so the result does not depend on the thread count.

/// Soft-target cross-entropy, mean over rows: L = −(1/N) Σ_n Σ_c targets [n, c] · log softmax(logits [n])_c
/// logits, targets [N, C]; dlogits [N, C] = scale · (softmax · Σ_c targets − targets) / N (overwritten).
/// (ITC with soft targets, ITM with one-hot targets.)
func softTargetCrossEntropy(logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, rows n: Int, classes c: Int,
                            dlogits: UnsafeMutablePointer<Float>, scale: Float = 1) -> Double {
    perRowLoss(rows: n, cost: c) { r in
        let z = logits + r * c, t = targets + r * c, g = dlogits + r * c
        let mx = rowMax(z, c)
        let sum = expShiftedSum(z, shift: mx, into: g, c)
        let logZ = Double(mx) + log(sum)
        let tsum = blockSum(c) { i in t[i] }
        let tz = blockSum(c) { i in t[i] * z[i] }
        // Σ_c t·(z − logZ) = Σ t·z − logZ·Σ t
        let loss = -(tz - logZ * tsum)
        let a = Float(Double(scale) * tsum / (sum * Double(n))), b = scale / Float(n)
        for j in 0..<c { g[j] = g[j] * a - t[j] * b }
        return loss
    } / Double(n)
}

/// PyTorch's CrossEntropyLoss(label_smoothing: ε, ignore_index: -100, reduction: mean):
///   per row, L_n = (1 − ε)·(−log p_y) + ε · mean_c(−log p_c); the mean is over rows with y ≠ -100.
/// logits [N, V], labels [N]; dlogits [N, V] = (p − (1 − ε)·onehot(y) − ε/V) / valid (overwritten; 0 on ignored rows).
/// dlogits may be logits itself: the LM head writes the gradient over its logits, which nothing
/// reads afterwards (a vocabulary-wide buffer less to write back to memory).
func labelSmoothedCrossEntropy(logits: UnsafePointer<Float>, labels: [Int], vocabulary v: Int, smoothing eps: Float,
                               dlogits: UnsafeMutablePointer<Float>) -> Double {
    let valid = labels.filter { $0 != -100 }.count
    let e = Double(eps)
    let total = labels.withUnsafeBufferPointer { labelsBuffer in
        perRowLoss(rows: labelsBuffer.count, cost: v) { r in
            let y = labelsBuffer[r], z = logits + r * v, g = dlogits + r * v
            if y == -100 || valid == 0 { g.update(repeating: 0, count: v); return 0 }
            // Everything read from z before the exponentials, which may overwrite it.
            let mx = rowMax(z, v)
            let zsum = eps == 0 ? 0 : blockedSum(z, v), zy = Double(z[y])
            let sum = expShiftedSum(z, shift: mx, into: g, v)
            let logZ = Double(mx) + log(sum)
            let inv = 1 / Double(valid)
            let a = Float(inv / sum), b = Float(e / Double(v) * inv)
            for j in 0..<v { g[j] = g[j] * a - b }
            g[y] -= Float((1 - e) * inv)
            return (1 - e) * (logZ - zy) + e * (logZ - zsum / Double(v))
        }
    }
    return valid == 0 ? 0 : total / Double(valid)
}

/// Σ_r body(r) over rows split across the workers, added in row order.
private func perRowLoss(rows n: Int, cost: Int, _ body: (Int) -> Double) -> Double {
    var losses = [Double](repeating: 0, count: n)
    losses.withUnsafeMutableBufferPointer { out in
        let base = out.baseAddress!
        Parallel.forRanges(n, costPerItem: cost * 8) { range in
            for r in range { base[r] = body(r) }
        }
    }
    return losses.reduce(0, +)
}

/// Σ_i f(i) for i < n: float blocks of 256, added in Float64.
@inline(__always)
func blockSum(_ n: Int, _ f: (Int) -> Float) -> Double {
    var total = 0.0, i = 0
    while i < n {
        var block: Float = 0
        let end = min(n, i + 256)
        while i < end { block += f(i); i += 1 }
        total += Double(block)
    }
    return total
}
