/// Linear layer: out[N, O] = x[N, I] · W[O, I]^T + b[O]  (PyTorch's nn.Linear weight layout).
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, out: Tensor) {
    let o = weight.dim(0), i = weight.dim(1)
    precondition(x.count % i == 0, "linear: input width does not match weight \(weight.shape)")
    let n = x.count / i
    out.resize(Array(x.shape.dropLast()) + [o])
    linearRaw(x.data, rows: n, inFeatures: i, weight: weight.data, bias: bias?.data, outFeatures: o, out: out.data)
}

/// Rows at or below this count take the weight-streaming kernel instead of sgemm.
let skinnyRowLimit = 16

/// Pointer form of `linear`, for callers that address sub-blocks (KV caches, strided rows).
///   x [N, I] (row stride I), weight [O, I], bias [O], out [N, O] with row stride ldOut (default O).
package func linearRaw(
    _ x: UnsafePointer<Float>, rows n: Int, inFeatures i: Int,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outFeatures o: Int,
    out: UnsafeMutablePointer<Float>, ldOut: Int? = nil
) {
    let ldc = ldOut ?? o
    if n <= skinnyRowLimit {
        // Decoding: a handful of rows against a large weight. sgemm would pack (copy) the whole
        // weight on every call; streaming each weight row once is memory-bound and optimal.
        Parallel.forRanges(o, costPerItem: n * i) { cols in
            skinnyLinear(x, rows: n, inFeatures: i, weight: weight, bias: bias, outputs: cols, out: out, ldOut: ldc)
        }
        return
    }
    // Large products: split the rows over the workers, one single-threaded sgemm each.
    let workers = min(Parallel.threads, n / 32)
    let chunk = (n + max(workers, 1) - 1) / max(workers, 1)
    Parallel.forRanges(max(workers, 1), costPerItem: 1 << 20) { ws in
        for w in ws {
            let lo = w * chunk, hi = min(n, lo + chunk)
            if lo >= hi { continue }
            if let bias {
                // Seed C with the bias so that sgemm's beta = 1 adds the product in one pass.
                for r in lo..<hi { (out + r * ldc).update(from: bias, count: o) }
            }
            BLAS.gemm(transA: false, transB: true, m: hi - lo, n: o, k: i, a: x + lo * i, lda: i,
                      b: weight, ldb: i, beta: bias == nil ? 0 : 1, c: out + lo * ldc, ldc: ldc)
        }
    }
}

/// out[r, c] = dot(x[r, :], W[c, :]) + b[c] for c in `outputs`, every r < N (N <= 16).
/// Each weight row is read once and applied to four input rows at a time from registers
/// (fused multiply-adds; the weight row stays in L1 for the next four rows).
@inline(__always)
private func skinnyLinear(
    _ x: UnsafePointer<Float>, rows n: Int, inFeatures k: Int, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>?, outputs: Range<Int>, out: UnsafeMutablePointer<Float>, ldOut: Int
) {
    let vectorEnd = k & ~15
    @inline(__always) func load(_ p: UnsafePointer<Float>) -> Float16x { UnsafeRawPointer(p).loadUnaligned(as: Float16x.self) }
    for c in outputs {
        let w = weight + c * k
        let b = bias?[c] ?? 0
        var r = 0
        while r + 4 <= n {
            let x0 = x + r * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k
            var a0 = Float16x(repeating: 0), a1 = a0, a2 = a0, a3 = a0
            var j = 0
            while j < vectorEnd {
                let wv = load(w + j)
                a0.addProduct(wv, load(x0 + j)); a1.addProduct(wv, load(x1 + j))
                a2.addProduct(wv, load(x2 + j)); a3.addProduct(wv, load(x3 + j))
                j += 16
            }
            var s0 = a0.sum(), s1 = a1.sum(), s2 = a2.sum(), s3 = a3.sum()
            while j < k {
                s0 += w[j] * x0[j]; s1 += w[j] * x1[j]; s2 += w[j] * x2[j]; s3 += w[j] * x3[j]
                j += 1
            }
            out[r * ldOut + c] = s0 + b; out[(r + 1) * ldOut + c] = s1 + b
            out[(r + 2) * ldOut + c] = s2 + b; out[(r + 3) * ldOut + c] = s3 + b
            r += 4
        }
        while r < n {
            let xr = x + r * k
            var a = Float16x(repeating: 0)
            var j = 0
            while j < vectorEnd { a.addProduct(load(w + j), load(xr + j)); j += 16 }
            var s = a.sum()
            while j < k { s += w[j] * xr[j]; j += 1 }
            out[r * ldOut + c] = s + b
            r += 1
        }
    }
}
