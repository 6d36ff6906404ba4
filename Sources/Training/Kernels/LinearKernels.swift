import Tensor

// Linear layer, PyTorch's nn.Linear layout. Forward and backward are a pair; the backward ADDS
// into its gradient buffers (llm.c convention), so a weight used by several passes (the text
// encoder run as ITC encoder, ITM encoder and decoder) accumulates without extra copies.

/// out [N, O] = x [N, I] · w [O, I]ᵀ + b [O]
func linearForward(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                   bias: UnsafePointer<Float>?, rows n: Int, inFeatures i: Int, outFeatures o: Int) {
    linearRaw(x, rows: n, inFeatures: i, weight: weight, bias: bias, outFeatures: o, out: out)
}

/// dx [N, I] += dout [N, O] · w [O, I]     (skipped when dx is nil: an input, not an activation)
/// dw [O, I] += doutᵀ [O, N] · x [N, I]
/// db [O]    += Σ_n dout [n, :]
func linearBackward(dx: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>,
                    dbias: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>, x: UnsafePointer<Float>,
                    weight: UnsafePointer<Float>, rows n: Int, inFeatures i: Int, outFeatures o: Int) {
    if n == 0 { return }
    if let dx {
        // Rows of dx are independent: one single-threaded sgemm per worker.
        let workers = max(1, min(Parallel.threads, n / 32))
        let chunk = (n + workers - 1) / workers
        Parallel.forRanges(workers, costPerItem: 1 << 20) { ws in
            for w in ws {
                let lo = w * chunk, hi = min(n, lo + chunk)
                if lo >= hi { continue }
                BLAS.gemm(transA: false, transB: false, m: hi - lo, n: i, k: o, a: dout + lo * o, lda: o,
                          b: weight, ldb: i, beta: 1, c: dx + lo * i, ldc: i)
            }
        }
    }
    // Rows of dw (output features) are independent: split them over the workers.
    let workers = max(1, min(Parallel.threads, o / 16))
    let chunk = (o + workers - 1) / workers
    Parallel.forRanges(workers, costPerItem: 1 << 20) { ws in
        for w in ws {
            let lo = w * chunk, hi = min(o, lo + chunk)
            if lo >= hi { continue }
            BLAS.gemm(transA: true, transB: false, m: hi - lo, n: i, k: n, a: dout + lo, lda: o,
                      b: x, ldb: i, beta: 1, c: dweight + lo * i, ldc: i)
            if let dbias {
                for r in 0..<n {
                    let row = dout + r * o
                    for c in lo..<hi { dbias[c] += row[c] }
                }
            }
        }
    }
}
