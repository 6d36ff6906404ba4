import Tensor

// Exact (erf) GELU, as BERT and the ViT use it: gelu(x) = x·Φ(x), Φ(x) = ½(1 + erf(x/√2)).

/// out [N] = gelu(x [N]); the engine's vectorised kernel.
func geluForward(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, count n: Int) {
    Parallel.forRanges(n / 16 + 1, costPerItem: 64) { r in
        let lo = r.lowerBound * 16, hi = min(n, r.upperBound * 16)
        if lo < hi { mapGELU(x + lo, nil, out + lo, hi - lo) }
    }
}

/// dx [N] += dout [N] · gelu'(x),  gelu'(x) = Φ(x) + x·φ(x),  φ(x) = e^(-x²/2) / √(2π).
func geluBackward(dx: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, x: UnsafePointer<Float>, count n: Int) {
    Parallel.forRanges(n / 16 + 1, costPerItem: 96) { r in
        let lo = r.lowerBound * 16, hi = min(n, r.upperBound * 16)
        if lo < hi { mapGELU(x + lo, dout + lo, dx + lo, hi - lo) }
    }
}

/// Forward (dout nil: y = gelu(x)) or backward (y += dout · gelu'(x)) over n floats, 16 lanes at a
/// time; the tail is padded with zeros so that every element takes the same code path.
@inline(__always)
private func mapGELU(_ x: UnsafePointer<Float>, _ dout: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    @inline(__always) func apply(_ v: Float16x, _ g: Float16x, _ acc: Float16x) -> Float16x {
        let cdf = 0.5 * (1 + verf(v * 0.70710678118654752))
        if dout == nil { return v * cdf }
        let pdf = vexp(-0.5 * v * v) * 0.39894228040143268
        return acc + g * (cdf + v * pdf)
    }
    @inline(__always) func load(_ p: UnsafePointer<Float>) -> Float16x { UnsafeRawPointer(p).loadUnaligned(as: Float16x.self) }
    let zero = Float16x(repeating: 0)
    var i = 0
    while i + 16 <= n {
        let r = dout.map { apply(load(x + i), load($0 + i), load(y + i)) } ?? apply(load(x + i), zero, zero)
        UnsafeMutableRawPointer(y + i).storeBytes(of: r, as: Float16x.self)
        i += 16
    }
    if i < n {
        var v = zero, g = zero, acc = zero
        for j in 0..<(n - i) { v[j] = x[i + j]; g[j] = dout?[i + j] ?? 0; acc[j] = y[i + j] }
        let r = apply(v, g, acc)
        for j in 0..<(n - i) { y[i + j] = r[j] }
    }
}
