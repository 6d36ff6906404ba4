internal import CKernels

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
        let lo = rows.lowerBound
        Kernels.active.layer_norm_rows(xp + lo * c, w, b, eps, op + lo * c, mp.map { $0 + lo }, rp.map { $0 + lo },
                                       rows.count, c)
    }
}
