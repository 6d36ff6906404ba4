import Tensor

// LayerNorm over the last dimension. The forward is the engine's kernel (two-pass, as PyTorch's
// CPU kernel), saving mean and 1/std per row for the backward.

/// x [N, C], weight [C], bias [C] -> out [N, C]; mean [N], rstd [N] saved. x and out must differ.
func layerNormForward(out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                      rstd: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                      bias: UnsafePointer<Float>, rows n: Int, width c: Int, eps: Float) {
    Parallel.forRanges(n, costPerItem: c * 4) { rows in
        for r in rows {
            let row = x + r * c, o = out + r * c
            var mu: Float = 0
            for j in 0..<c { mu += row[j] }
            mu /= Float(c)
            var v: Float = 0
            for j in 0..<c { let d = row[j] - mu; v += d * d }
            let inv = 1 / (v / Float(c) + eps).squareRoot()
            mean[r] = mu; rstd[r] = inv
            for j in 0..<c { o[j] = (row[j] - mu) * inv * weight[j] + bias[j] }
        }
    }
}

/// dx [N, C] += ∂L/∂x;  dweight [C] += Σ_n dout·x̂;  dbias [C] += Σ_n dout
/// with x̂ = (x - mean)·rstd:  ∂L/∂x = rstd · (g - mean(g) - x̂ · mean(g·x̂)),  g = dout·weight.
func layerNormBackward(dx: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>,
                       dbias: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, x: UnsafePointer<Float>,
                       mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                       rows n: Int, width c: Int) {
    Parallel.forRanges(n, costPerItem: c * 6) { rows in
        for r in rows {
            let xr = x + r * c, dr = dout + r * c, dxr = dx + r * c
            let mu = mean[r], rs = rstd[r]
            var gMean: Float = 0, gxMean: Float = 0
            for j in 0..<c {
                let g = dr[j] * weight[j]
                gMean += g
                gxMean += g * (xr[j] - mu) * rs
            }
            gMean /= Float(c); gxMean /= Float(c)
            for j in 0..<c {
                let xhat = (xr[j] - mu) * rs
                dxr[j] += rs * (dr[j] * weight[j] - gMean - xhat * gxMean)
            }
        }
    }
    // Parameter gradients reduce over rows: columns are independent.
    Parallel.forRanges(c, costPerItem: n * 3) { cols in
        for r in 0..<n {
            let xr = x + r * c, dr = dout + r * c
            let mu = mean[r], rs = rstd[r]
            for j in cols {
                dweight[j] += dr[j] * (xr[j] - mu) * rs
                dbias[j] += dr[j]
            }
        }
    }
}
