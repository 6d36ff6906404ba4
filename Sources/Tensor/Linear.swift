internal import CKernels

/// Linear layer: out[N, O] = x[N, I] · W[O, I]^T + b[O]  (PyTorch's nn.Linear weight layout).
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, out: Tensor) {
    let o = weight.dim(0), i = weight.dim(1)
    precondition(x.count % i == 0, "linear: input width does not match weight \(weight.shape)")
    let n = x.count / i
    out.resize(Array(x.shape.dropLast()) + [o])
    if let half = weight.bf16 {
        return linearBF16(x.data, rows: n, inFeatures: i, weight: half, bias: bias?.data, outFeatures: o, out: out.data)
    }
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
        // Each weight row is read once and applied to four input rows at a time from registers.
        Parallel.forRanges(o, costPerItem: n * i) { cols in
            Kernels.active.linear_rows(x, n, i, weight, bias, cols.lowerBound, cols.upperBound, out, ldc)
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

/// Bytes of bf16 weights widened to float32 at a time by one worker (tests lower it to cover tiling).
nonisolated(unsafe) package var bf16WidenTileBytes = 4 << 20

/// `linearRaw` with bfloat16 weights [O, I]: the products accumulate in float32.
///   Few rows (decoding): the streaming kernel reads the bf16 weights directly, half the bytes.
///   Many rows: the outputs are split over the workers; each widens its weight rows to float32
///   a tile at a time (at most 4 MB, in a buffer the thread keeps) and runs sgemm over all rows
///   for that tile: O·I conversions against N·O·I multiply-adds.
func linearBF16(
    _ x: UnsafePointer<Float>, rows n: Int, inFeatures i: Int,
    weight: UnsafePointer<UInt16>, bias: UnsafePointer<Float>?, outFeatures o: Int,
    out: UnsafeMutablePointer<Float>
) {
    if n <= skinnyRowLimit {
        Parallel.forRanges(o, costPerItem: n * i) { cols in
            Kernels.active.linear_rows_bf16(x, n, i, weight, bias, cols.lowerBound, cols.upperBound, out, o)
        }
        return
    }
    let workers = max(1, min(Parallel.threads, o / 64))
    let chunk = (o + workers - 1) / workers
    let tile = max(16, min(chunk, bf16WidenTileBytes / 4 / max(i, 1)))   // weight rows widened at a time
    Parallel.forRanges(workers, costPerItem: 1 << 20) { ws in
        for w in ws {
            let lo = w * chunk, hi = min(o, lo + chunk)
            if lo >= hi { continue }
            guard let raw = ck_thread_scratch(UInt(min(tile, hi - lo) * i * 4)) else {
                preconditionFailure("out of memory widening bf16 weights")
            }
            let widened = raw.bindMemory(to: Float.self, capacity: min(tile, hi - lo) * i)   // [tile, I]
            var c0 = lo
            while c0 < hi {
                let c1 = min(hi, c0 + tile), cols = c1 - c0
                Kernels.active.bf16_to_f32(weight + c0 * i, widened, cols * i)
                if let bias {
                    for r in 0..<n { (out + r * o + c0).update(from: bias + c0, count: cols) }
                }
                BLAS.gemm(transA: false, transB: true, m: n, n: cols, k: i, a: x, lda: i,
                          b: widened, ldb: i, beta: bias == nil ? 0 : 1, c: out + c0, ldc: o)
                c0 = c1
            }
        }
    }
}
