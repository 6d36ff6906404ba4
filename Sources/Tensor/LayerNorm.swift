/// LayerNorm over the last dimension.
/// x [N, C], weight [C], bias [C] -> out [N, C]; optionally saves mean [N] and rstd [N] for backward.
/// In place is allowed (x === out).
public func layerNormForward(
    _ x: Tensor, weight: Tensor, bias: Tensor, eps: Float, out: Tensor,
    mean: Tensor? = nil, rstd: Tensor? = nil
) {
    let c = weight.count
    precondition(x.count % c == 0, "layerNorm: width \(c) does not divide \(x.shape)")
    let n = x.count / c
    out.resize(x.shape)
    mean?.resize([n]); rstd?.resize([n])
    let xp = x.data, op = out.data, w = weight.data, b = bias.data
    let mp = mean?.data, rp = rstd?.data
    Parallel.forRanges(n, costPerItem: c * 4) { rows in
        for r in rows {
            let row = xp + r * c, o = op + r * c
            // Two passes (mean, then centred variance) as PyTorch's CPU kernel, for its rounding.
            var s = Float16x(repeating: 0); var i = 0; var tail: Float = 0
            while i + 16 <= c { s += UnsafeRawPointer(row + i).loadUnaligned(as: Float16x.self); i += 16 }
            while i < c { tail += row[i]; i += 1 }
            let mu = (s.sum() + tail) / Float(c)
            var v = Float16x(repeating: 0); i = 0; tail = 0
            while i + 16 <= c {
                let d = UnsafeRawPointer(row + i).loadUnaligned(as: Float16x.self) - mu
                v += d * d; i += 16
            }
            while i < c { let d = row[i] - mu; tail += d * d; i += 1 }
            let inv = 1 / (((v.sum() + tail) / Float(c)) + eps).squareRoot()
            mp?[r] = mu; rp?[r] = inv
            for j in 0..<c { o[j] = (row[j] - mu) * inv * w[j] + b[j] }
        }
    }
}
