internal import CBLAS

/// The one place that calls OpenBLAS. Every large matrix product in the engine goes through `gemm`.
///
/// Threading: the engine has ONE pool of workers (`Parallel`). OpenBLAS runs single-threaded
/// inside each worker, and the engine splits products itself (rows of a large product, blocks of
/// attention). Two pools on the same cores fight: OpenBLAS's idle threads spin in sched_yield
/// while the element-wise workers wait for a core, which profiling showed as ~20% of the time.
public enum BLAS {
    /// Threads OpenBLAS itself uses for one product (kept at 1 by `setEngineThreads`).
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
