// capfilt's element-wise and decoding kernels, compiled three times from one source
// (kernels_body.h) for three instruction sets and chosen at run time from CPUID:
//
//   baseline  x86-64 SSE2 (or the compiler's default elsewhere)
//   avx2      AVX2 + FMA (Haswell, Zen and later)
//   avx512    AVX-512 F/BW/DQ/VL (Skylake-SP, Ice Lake, Sapphire Rapids, Zen 4 and later)
//
// Every kernel works on 16-float logical vectors whatever the path, so the three paths add in
// the same order; they differ only in how many instructions a vector takes and in whether
// a·b + c is fused (FMA paths). Shapes are written next to each entry.
#ifndef CAPFILT_CKERNELS_H
#define CAPFILT_CKERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// What CPUID and XGETBV report. A vector extension counts only when the operating system also
/// saves its registers (XCR0), as a virtual machine may hide them.
typedef struct {
    char vendor[13];
    char brand[49];
    int family, model, stepping;
    int sse2, sse41, sse42, avx, avx2, fma, f16c;
    int avx512f, avx512bw, avx512dq, avx512vl, avx512cd;
    int avx512_bf16, avx512_fp16, avx512_vnni, avx_vnni, amx_bf16;
    int logical_processors;  // CPUID leaf 1, EBX[23:16]: advisory only
} ck_cpu_features;

void ck_read_cpu_features(ck_cpu_features *out);

typedef enum { CK_PATH_BASELINE = 0, CK_PATH_AVX2 = 1, CK_PATH_AVX512 = 2 } ck_path;

/// The widest path the features allow.
ck_path ck_best_path(const ck_cpu_features *f);
/// Whether this CPU can run `path`.
int ck_path_supported(const ck_cpu_features *f, ck_path path);
const char *ck_path_name(ck_path path);

typedef struct {
    /// Σ a[i]·b[i], a, b [n]
    float (*dot)(const float *a, const float *b, long n);
    /// y[n] += alpha · x[n]
    void (*axpy)(float alpha, const float *x, float *y, long n);
    /// out[n] = a[n] + b[n] (out may alias a or b)
    void (*add)(const float *a, const float *b, float *out, long n);
    /// max of x[n] (−inf for n = 0)
    float (*max)(const float *x, long n);
    /// Softmax in place over row[0..visible) where valid[j] != 0 (valid may be NULL); every other
    /// entry of row[0..count) becomes 0. All-masked rows become all zeros.
    void (*softmax_row)(float *row, long count, long visible, const float *valid);
    /// out[n] = exp(x[n] − shift); returns Σ out (float blocks of 256 summed in double).
    double (*exp_shifted_sum)(const float *x, float shift, float *out, long n);
    /// Σ x[n], added as exp_shifted_sum adds (float blocks of 256 in 16 lanes, blocks in double).
    double (*sum)(const float *x, long n);
    /// y[n] = exp(x[n]), y[n] = erf(x[n]): the vector approximations themselves, for tests.
    void (*exp_map)(const float *x, float *y, long n);
    void (*erf_map)(const float *x, float *y, long n);
    /// y[n] = gelu(x[n]) (exact erf form); y may alias x.
    void (*gelu)(const float *x, float *y, long n);
    /// dx[n] += dout[n] · gelu'(x[n])
    void (*gelu_backward)(const float *x, const float *dout, float *dx, long n);
    /// LayerNorm of rows x[rows, c] -> out[rows, c] with weight/bias [c]; mean/rstd [rows] may be
    /// NULL. out may alias x.
    void (*layer_norm_rows)(const float *x, const float *weight, const float *bias, float eps,
                            float *out, float *mean, float *rstd, long rows, long c);
    /// Decoding products with few rows: out[r, j] = x[r, :] · w[j, :] + bias[j] for
    /// j in [j0, j1) and r < rows. x [rows, k], w [outputs, k] (fp32 or bf16), bias NULL or
    /// [outputs], out row stride ldo. Each weight row is streamed once for all rows.
    void (*linear_rows)(const float *x, long rows, long k, const float *w, const float *bias,
                        long j0, long j1, float *out, long ldo);
    void (*linear_rows_bf16)(const float *x, long rows, long k, const uint16_t *w, const float *bias,
                             long j0, long j1, float *out, long ldo);
    /// bf16 [n] -> fp32 [n] (exact), fp32 [n] -> bf16 [n] (round to nearest even, NaN kept NaN)
    void (*bf16_to_f32)(const uint16_t *x, float *y, long n);
    void (*f32_to_bf16)(const float *x, uint16_t *y, long n);
    /// Masked correlation sums over a window of rows x cols, rows lda and ldb floats apart: with
    /// w = ma·mb (masks of 0 and 1), x = a·w and y = b, out[6] = {Σw, Σx, Σy·w, Σx·x, Σy·y·w, Σx·y}.
    /// What copy detection's residual correlation sums at each shift (Decontamination).
    void (*masked_sums)(const float *a, const float *ma, long lda, const float *b, const float *mb, long ldb,
                        long rows, long cols, double *out);
    /// Runs `iterations` rounds of independent multiply-adds in registers, the widest this path
    /// has; returns the floating-point operations done (for the machine's peak).
    double (*fma_peak)(long iterations);
    /// Float lanes of one native register on this path (4, 8 or 16).
    int native_lanes;
    ck_path path;
} ck_kernels;

/// The kernels of `path` (whether or not this CPU can run them: check ck_path_supported).
const ck_kernels *ck_kernels_for(ck_path path);

// MARK: bf16 products (gemm_bf16.c)
//
// out [rows, cols] (row stride ldo) = bf16(x) [rows, k] · w [cols, k]ᵀ + bias [cols] (bias may be
// NULL): the activations are rounded to bf16 (nearest even) and every sum is float32, as
// AVX512_BF16's vdpbf16ps computes it. The weights are first packed into panels of 32 columns,
// [kp = ceil(k/2) pairs][32 columns][2] bf16 each, the last panel and an odd k padded with zeros.

/// bf16 values of `packed` for panels of `cols` columns of k inputs.
unsigned long ck_bf16_panels_count(long k, long cols);
/// Packs panels p0 ..< p1 of w [cols, k] (bf16, row-major) into packed (whole panels).
void ck_bf16_pack_panels(const uint16_t *w, long k, long cols, long p0, long p1, uint16_t *packed);
/// Rows of x packed at a time, and the scratch bytes the product needs for them.
long ck_gemm_bf16_block_rows(long k);
unsigned long ck_gemm_bf16_scratch_bytes(long k);
/// The product over packed panels: vdpbf16ps (only where the CPU has AVX512_BF16 and the
/// AVX-512 path runs: Swift's BF16Products.nativeAvailable), or
/// the same arithmetic in portable C, bit for bit (inputs and results below the normal range
/// count as zero in both).
void ck_gemm_bf16_packed_avx512bf16(const float *x, long rows, long k, const uint16_t *packed, long cols,
                                    const float *bias, float *out, long ldo, void *scratch);
void ck_gemm_bf16_packed_emulated(const float *x, long rows, long k, const uint16_t *packed, long cols,
                                  const float *bias, float *out, long ldo, void *scratch);
/// float32 -> bf16, nearest even (NaN stays NaN).
uint16_t ck_round_bf16(float f);

/// A buffer of at least `bytes` (64-byte aligned) owned by the calling thread and reused by its
/// next call, so that a kernel's temporary does not cost fresh pages on every call. Valid until
/// the same thread calls again; freed when the thread exits. NULL when memory runs out.
void *ck_thread_scratch(unsigned long bytes);
/// The same with two independent buffers per thread (slot 0 is ck_thread_scratch's): a caller
/// that keeps one while its workers, itself among them, use the other.
void *ck_thread_scratch_slot(int slot, unsigned long bytes);

#ifdef __cplusplus
}
#endif
#endif
