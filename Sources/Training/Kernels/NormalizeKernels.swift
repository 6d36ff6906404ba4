// Row-wise L2 normalisation (torch.nn.functional.normalize, eps 1e-12) of the ITC features.

/// out [N, C] = x / max(‖x‖, 1e-12) per row; norms [N] saved (out may not alias x)
func l2NormalizeForward(out: UnsafeMutablePointer<Float>, norms: UnsafeMutablePointer<Float>,
                        x: UnsafePointer<Float>, rows n: Int, width c: Int) {
    for r in 0..<n {
        let xr = x + r * c, o = out + r * c
        var s: Float = 0
        for j in 0..<c { s += xr[j] * xr[j] }
        let norm = s.squareRoot()
        norms[r] = norm
        let inv = 1 / max(norm, 1e-12)
        for j in 0..<c { o[j] = xr[j] * inv }
    }
}

/// dx [N, C] += (dout − y·⟨y, dout⟩) / ‖x‖ with y = out (the clamped case: dout / 1e-12)
func l2NormalizeBackward(dx: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, out: UnsafePointer<Float>,
                         norms: UnsafePointer<Float>, rows n: Int, width c: Int) {
    for r in 0..<n {
        let y = out + r * c, d = dout + r * c, g = dx + r * c
        if norms[r] <= 1e-12 {
            for j in 0..<c { g[j] += d[j] / 1e-12 }
            continue
        }
        var dot: Float = 0
        for j in 0..<c { dot += y[j] * d[j] }
        let inv = 1 / norms[r]
        for j in 0..<c { g[j] += (d[j] - y[j] * dot) * inv }
    }
}
