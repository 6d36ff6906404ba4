/// Exact (erf) GELU, as PyTorch's nn.GELU() / ACT2FN["gelu"]:  out = x · ½ · (1 + erf(x / √2)).
/// x, out: any shape, same count. In place is allowed (x === out).
public func geluForward(_ x: Tensor, out: Tensor) {
    out.resize(x.shape)
    let src = x.data, dst = out.data, n = x.count
    // Chunks of 16 floats, so that a worker boundary never splits a vector.
    Parallel.forRanges(n / 16 + 1, costPerItem: 64) { r in
        let lo = r.lowerBound * 16, hi = min(n, r.upperBound * 16)
        if lo < hi { geluKernel(src + lo, dst + lo, hi - lo) }
    }
}
