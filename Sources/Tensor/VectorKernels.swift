internal import CKernels

// Thin Swift names for the dispatched C kernels (Sources/CKernels), for this module and the
// training kernels. Each runs on the path `Kernels.path` chose; shapes as in ckernels.h.

/// Σ a[i]·b[i] over n floats.
@inline(__always)
package func dotProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    Kernels.active.dot(a, b, n)
}

/// out[r] = x[r, :] · w[:] for r < rows (x [rows, k], w [k]): a few rows against one vector,
/// the vector read once for all of them (the decoding kernel with one output).
@inline(__always)
package func rowsDot(_ x: UnsafePointer<Float>, rows: Int, _ w: UnsafePointer<Float>, _ k: Int, into out: UnsafeMutablePointer<Float>) {
    Kernels.active.linear_rows(x, rows, k, w, nil, 0, 1, out, 1)
}

/// Masked correlation sums over a window (ckernels.h `masked_sums`): w = ma·mb, x = a·w, y = b,
/// (Σw, Σx, Σy·w, Σx·x, Σy·y·w, Σx·y). a, ma [rows, lda]; b, mb [rows, ldb]; `cols` of each row.
@inline(__always)
package func maskedCorrelationSums(_ a: UnsafePointer<Float>, mask ma: UnsafePointer<Float>, stride lda: Int,
                                   _ b: UnsafePointer<Float>, mask mb: UnsafePointer<Float>, stride ldb: Int,
                                   rows: Int, cols: Int) -> [Double] {
    var out = [Double](repeating: 0, count: 6)
    Kernels.active.masked_sums(a, ma, lda, b, mb, ldb, rows, cols, &out)
    return out
}

/// y[0..<n] += alpha · x[0..<n]
@inline(__always)
package func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    Kernels.active.axpy(alpha, x, y, n)
}

/// max of x[0..<n]
@inline(__always)
package func rowMax(_ x: UnsafePointer<Float>, _ n: Int) -> Float { Kernels.active.max(x, n) }

/// Softmax of row[0..<visible] where valid[j] != 0; every other entry of row[0..<count] becomes 0.
@inline(__always)
package func maskedSoftmaxRow(_ row: UnsafeMutablePointer<Float>, count: Int, visible: Int,
                              valid: UnsafePointer<Float>?) {
    Kernels.active.softmax_row(row, count, visible, valid)
}

/// out [N] = exp(x − shift); returns Σ out (float blocks of 256, added in Float64).
@inline(__always)
package func expShiftedSum(_ x: UnsafePointer<Float>, shift: Float, into out: UnsafeMutablePointer<Float>, _ n: Int) -> Double {
    Kernels.active.exp_shifted_sum(x, shift, out, n)
}

/// Σ x [N]: float blocks of 256 in 16 lanes, the blocks added in Float64 (as `expShiftedSum`).
@inline(__always)
package func blockedSum(_ x: UnsafePointer<Float>, _ n: Int) -> Double { Kernels.active.sum(x, n) }

/// dx [N] += dout [N] · gelu'(x [N])
@inline(__always)
package func geluBackwardKernel(x: UnsafePointer<Float>, dout: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, _ n: Int) {
    Kernels.active.gelu_backward(x, dout, dx, n)
}

/// y [N] = gelu(x [N]); y may alias x.
@inline(__always)
package func geluKernel(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    Kernels.active.gelu(x, y, n)
}

/// Kernels of one path by name, for tests and benchmarks that compare paths on this machine.
package struct PathKernels {
    let table: ck_kernels
    package let path: KernelPath
    package init(_ path: KernelPath) { self.path = path; table = Kernels.table(path) }

    package func exp(_ x: [Float]) -> [Float] { map(x, table.exp_map) }
    package func erf(_ x: [Float]) -> [Float] { map(x, table.erf_map) }
    package func gelu(_ x: [Float]) -> [Float] { map(x, table.gelu) }
    package func dot(_ a: [Float], _ b: [Float]) -> Float { table.dot(a, b, a.count) }
    package func axpy(_ alpha: Float, _ x: [Float], _ y: inout [Float]) { table.axpy(alpha, x, &y, x.count) }
    package func add(_ a: [Float], _ b: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: a.count)
        table.add(a, b, &out, a.count)
        return out
    }
    package func max(_ x: [Float]) -> Float { table.max(x, x.count) }
    package func sum(_ x: [Float]) -> Double { table.sum(x, x.count) }
    package func softmax(_ row: inout [Float], visible: Int, valid: [Float]?) {
        let count = row.count
        if let valid { table.softmax_row(&row, count, visible, valid) } else { table.softmax_row(&row, count, visible, nil) }
    }
    package func expShiftedSum(_ x: [Float], shift: Float) -> (values: [Float], sum: Double) {
        var out = [Float](repeating: 0, count: x.count)
        let s = table.exp_shifted_sum(x, shift, &out, x.count)
        return (out, s)
    }
    package func geluBackward(x: [Float], dout: [Float], dx: inout [Float]) { table.gelu_backward(x, dout, &dx, x.count) }
    package func layerNorm(_ x: [Float], weight: [Float], bias: [Float], eps: Float) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        table.layer_norm_rows(x, weight, bias, eps, &out, nil, nil, x.count / weight.count, weight.count)
        return out
    }
    /// out [rows, outputs] = x [rows, k] · w [outputs, k]ᵀ + bias
    package func linearRows(_ x: [Float], rows: Int, weight: [Float], bias: [Float]?, outputs: Int) -> [Float] {
        var out = [Float](repeating: 0, count: rows * outputs)
        let k = x.count / rows
        if let bias { table.linear_rows(x, rows, k, weight, bias, 0, outputs, &out, outputs) }
        else { table.linear_rows(x, rows, k, weight, nil, 0, outputs, &out, outputs) }
        return out
    }
    /// `masked_sums` over whole rows of [rows, cols] planes.
    package func maskedSums(_ a: [Float], _ ma: [Float], _ b: [Float], _ mb: [Float], rows: Int, cols: Int) -> [Double] {
        var out = [Double](repeating: 0, count: 6)
        table.masked_sums(a, ma, cols, b, mb, cols, rows, cols, &out)
        return out
    }
    package func linearRowsBF16(_ x: [Float], rows: Int, weight: [UInt16], bias: [Float]?, outputs: Int) -> [Float] {
        var out = [Float](repeating: 0, count: rows * outputs)
        let k = x.count / rows
        if let bias { table.linear_rows_bf16(x, rows, k, weight, bias, 0, outputs, &out, outputs) }
        else { table.linear_rows_bf16(x, rows, k, weight, nil, 0, outputs, &out, outputs) }
        return out
    }
    package func toBF16(_ x: [Float]) -> [UInt16] {
        var out = [UInt16](repeating: 0, count: x.count)
        table.f32_to_bf16(x, &out, x.count)
        return out
    }
    package func fromBF16(_ x: [UInt16]) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        table.bf16_to_f32(x, &out, x.count)
        return out
    }

    private func map(_ x: [Float], _ f: (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int) -> Void) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        f(x, &out, x.count)
        return out
    }
}
