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
    if workers < Parallel.threads && o >= 32 * Parallel.threads && n * i * o >= 1 << 22 {
        // Too few rows for every worker (a decoding step of 17 to 63 beams, a short text batch):
        // split the outputs instead, each worker one sgemm of all rows against its weight rows.
        Parallel.forRanges(o, costPerItem: n * i) { cols in
            if let bias {
                for r in 0..<n { (out + r * ldc + cols.lowerBound).update(from: bias + cols.lowerBound, count: cols.count) }
            }
            BLAS.gemm(transA: false, transB: true, m: n, n: cols.count, k: i, a: x, lda: i, b: weight + cols.lowerBound * i,
                      ldb: i, beta: bias == nil ? 0 : 1, c: out + cols.lowerBound, ldc: ldc)
        }
        return
    }
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

/// Bytes of bf16 weights widened to float32 at a time (tests lower it to cover tiling). 16 MB
/// holds any BLIP-base layer but the LM head whole (3,072 x 768 floats: 9.4 MB).
nonisolated(unsafe) package var bf16WidenTileBytes = 16 << 20

/// `linearRaw` with bfloat16 weights [O, I]: the products accumulate in float32.
///   Few rows (decoding): the streaming kernel reads the bf16 weights directly, half the bytes.
///   Many rows on an AVX512_BF16 CPU: vdpbf16ps over packed weights (`BF16Products`).
///   Many rows elsewhere: a tile of weight rows (at most `bf16WidenTileBytes`, in the calling thread's
///   buffer) is widened to float32 by all workers, then `linearRaw` runs the float32 product for
///   those outputs, its rows split over the workers as for float32 weights: O·I conversions
///   against N·O·I multiply-adds, and the same packing as float32. (Splitting the outputs
///   instead made every worker pack all of x: ITM ran 5 to 7% slower than float32 on AVX2.)
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
    let products = BF16Products.active
    if products != .widened {
        return linearBF16Packed(x, rows: n, inFeatures: i, weight: weight, bias: bias, outFeatures: o, out: out,
                                ldOut: o, products: products)
    }
    let tile = min(o, max(16, bf16WidenTileBytes / 4 / max(i, 1)))   // weight rows widened at a time
    guard let raw = ck_thread_scratch(UInt(tile * i * 4)) else { preconditionFailure("out of memory widening bf16 weights") }
    let widened = UncheckedSendable(raw.bindMemory(to: Float.self, capacity: tile * i))   // [tile, I]
    var c0 = 0
    while c0 < o {
        let first = c0, cols = min(o, c0 + tile) - c0
        Parallel.forRanges(cols, costPerItem: i) { rows in
            Kernels.active.bf16_to_f32(weight + (first + rows.lowerBound) * i, widened.value + rows.lowerBound * i, rows.count * i)
        }
        linearRaw(x, rows: n, inFeatures: i, weight: widened.value, bias: bias.map { $0 + c0 }, outFeatures: cols,
                  out: out + c0, ldOut: o)
        c0 += cols
    }
}
