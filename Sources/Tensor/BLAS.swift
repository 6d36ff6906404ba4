internal import CBLAS

/// The one place that calls OpenBLAS. Every matrix product in the engine goes through `gemm`.
///
/// Threading: OpenBLAS parallelises each product itself with its own pool (`BLAS.threads`); the
/// element-wise kernels use `Parallel` with the same count, so the process never has more busy
/// threads than the user asked for.
public enum BLAS {
    /// Number of threads OpenBLAS uses for one product.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, row-major, with explicit leading dims.
    /// op(A) = A [M,K] (lda >= K) or A^T where A is [K,M] (lda >= M); likewise for B.
    @inline(__always)
    package static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

/// Linear layer: out[N, O] = x[N, I] · W[O, I]^T + b[O]  (PyTorch's nn.Linear weight layout).
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, out: Tensor) {
    let o = weight.dim(0), i = weight.dim(1)
    precondition(x.count % i == 0, "linear: input width does not match weight \(weight.shape)")
    let n = x.count / i
    out.resize(Array(x.shape.dropLast()) + [o])
    linearRaw(x.data, rows: n, inFeatures: i, weight: weight.data, bias: bias?.data, outFeatures: o, out: out.data)
}

/// Pointer form of `linear`, for callers that address sub-blocks (KV caches, strided rows).
package func linearRaw(
    _ x: UnsafePointer<Float>, rows n: Int, inFeatures i: Int,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outFeatures o: Int,
    out: UnsafeMutablePointer<Float>, ldOut: Int? = nil
) {
    let ldc = ldOut ?? o
    if let bias {
        // Seed C with the bias so that sgemm's beta = 1 adds the product in one pass.
        for r in 0..<n { (out + r * ldc).update(from: bias, count: o) }
    }
    BLAS.gemm(transA: false, transB: true, m: n, n: o, k: i, a: x, lda: i, b: weight, ldb: i,
              beta: bias == nil ? 0 : 1, c: out, ldc: ldc)
}
