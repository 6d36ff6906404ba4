/// Exact (erf) GELU, as PyTorch's nn.GELU() / ACT2FN["gelu"]:  out = x · ½ · (1 + erf(x / √2)).
/// x, out: any shape, same count. In place is allowed (x === out).
public func geluForward(_ x: Tensor, out: Tensor) {
    out.resize(x.shape)
    let src = x.data, dst = out.data
    Parallel.forRanges(x.count / 16 + 1, costPerItem: 64) { r in
        let lo = r.lowerBound * 16, hi = min(x.count, r.upperBound * 16)
        if lo < hi {
            mapVector(src + lo, dst + lo, hi - lo) { v in v * 0.5 * (1 + verf(v * 0.70710678118654752)) }
        }
    }
}
