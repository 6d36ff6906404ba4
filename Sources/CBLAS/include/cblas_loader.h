// OpenBLAS, loaded at run time so that capfilt, not the library's table of CPU models, picks its
// kernels: OPENBLAS_CORETYPE must be in the environment before OpenBLAS's constructor runs, and
// a library linked at build time runs its constructor before main. Only the three entry points
// the engine uses are resolved.
#ifndef CAPFILT_CBLAS_LOADER_H
#define CAPFILT_CBLAS_LOADER_H

#ifdef __cplusplus
extern "C" {
#endif

/// Loads OpenBLAS once (later calls return the first result). `library` is a file name or path
/// (NULL: libopenblas.so.0, then libopenblas.so); `coretype` (NULL: leave the environment as it
/// is) is written to OPENBLAS_CORETYPE first unless that variable is already set. Returns 0, or
/// -1 with a message in `error`.
int capfilt_blas_load(const char *library, const char *coretype, char *error, int errorSize);

/// Row-major single-precision GEMM: C[M,N] = alpha·op(A)·op(B) + beta·C.
/// Loads the library with the defaults if nothing loaded it yet.
void capfilt_sgemm(int transA, int transB, int m, int n, int k, float alpha,
                   const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

void capfilt_blas_set_threads(int n);
int capfilt_blas_get_threads(void);
/// The kernel family OpenBLAS runs ("Haswell", "SkylakeX", ...), and its build configuration.
const char *capfilt_blas_corename(void);
const char *capfilt_blas_config(void);
/// The file that was loaded (dladdr), or "" before loading.
const char *capfilt_blas_path(void);

#ifdef __cplusplus
}
#endif
#endif
