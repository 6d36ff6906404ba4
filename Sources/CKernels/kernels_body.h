// The kernels, written once. Each kernels_<path>.c includes this file after defining
//   CK_NATIVE_LANES  floats in one native register (4 SSE2, 8 AVX2, 16 AVX-512)
//   CK_TABLE_NAME    the exported table, CK_PATH_VALUE its ck_path
// and after switching on its instruction set for every function that follows (#pragma clang
// attribute), so the compiler lowers the same 16-lane vector code to that instruction set.
// Every helper is always_inline: a 64-byte vector must never cross a call boundary whose
// calling convention differs between paths.
#include "ckernels.h"
// Every helper below is always_inline, so no 64-byte vector crosses a call: the ABI note is moot.
#pragma clang diagnostic ignored "-Wpsabi"
#include <math.h>
#include <string.h>

typedef float vf __attribute__((vector_size(64)));     // 16 floats: the logical vector
typedef int32_t vi __attribute__((vector_size(64)));
typedef uint32_t vu __attribute__((vector_size(64)));
typedef uint16_t vh __attribute__((vector_size(32)));  // 16 bf16 values
typedef float vn __attribute__((vector_size(CK_NATIVE_LANES * 4)));  // one native register

#define INL static inline __attribute__((always_inline))
#define LANES 16

INL vf splat(float x) { vf v = {0}; return v + x; }
INL vf ld(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
INL void st(float *p, vf v) { memcpy(p, &v, sizeof v); }
/// The first n (< 16) floats of p, the other lanes `fill`.
INL vf ld_tail(const float *p, long n, float fill) {
    float buf[LANES];
    for (int i = 0; i < LANES; i++) buf[i] = i < n ? p[i] : fill;
    return ld(buf);
}
INL void st_tail(float *p, vf v, long n) {
    float buf[LANES];
    st(buf, v);
    for (long i = 0; i < n; i++) p[i] = buf[i];
}
/// bf16 [16] -> fp32 lanes (a bf16 is the top half of a float)
INL vf ld_bf16(const uint16_t *p) {
    vh h;
    memcpy(&h, p, sizeof h);
    return (vf)(__builtin_convertvector(h, vu) << 16);
}

/// m ? a : b, lane by lane (m from a vector comparison: all ones or all zeros)
INL vf vsel(vi m, vf a, vf b) { return (vf)(((vi)a & m) | ((vi)b & ~m)); }
INL vf vmax(vf a, vf b) { return vsel(b > a, b, a); }
INL vf vmin(vf a, vf b) { return vsel(b < a, b, a); }

/// Sum of the 16 lanes, first to last (the order of Swift's SIMD `sum()`, which these kernels
/// replaced: the same order keeps every earlier result, fixtures and trained demo models alike).
INL float hsum(vf v) {
    float s = v[0];
    for (int i = 1; i < LANES; i++) s += v[i];
    return s;
}

/// a·b + c in one rounding where the path has FMA (the Swift kernels' `addProduct`), else two.
/// Everything else is compiled with -ffp-contract=off: no other multiply-add is fused, so the
/// AVX2 and AVX-512 paths round exactly as the Swift kernels did.
#if CK_HAS_FMA
#define vfma(a, b, c) __builtin_elementwise_fma((a), (b), (c))
#else
#define vfma(a, b, c) ((a) * (b) + (c))
#endif
INL float hmax(vf v) {
    float m = v[0];
    for (int i = 1; i < LANES; i++) m = v[i] > m ? v[i] : m;
    return m;
}

/// e^x, Cephes-style: x = n·ln2 + r with |r| <= ln2/2, e^r by a degree-6 polynomial, 2^n built
/// in the exponent bits. Relative error ~2 ulp on [-87, 88]; inputs below -87.3 give 0.
INL vf v_exp(vf x) {
    vi tooSmall = x < -87.3f;
    vf v = vmin(vmax(x, splat(-87.3f)), splat(88.7f));
    // Adding 1.5·2^23 rounds v·log2(e) to an integer that lands in the low mantissa bits.
    const float magic = 12582912.0f;
    vf shifted = v * 1.44269504088896341f + magic;
    vf n = shifted - magic;
    v = v - n * 0.693359375f;
    v = v - n * -2.12194440e-4f;
    vf p = splat(1.9875691500e-4f);
    p = p * v + 1.3981999507e-3f;
    p = p * v + 8.3334519073e-3f;
    p = p * v + 4.1665795894e-2f;
    p = p * v + 1.6666665459e-1f;
    p = p * v + 5.0000001201e-1f;
    p = p * (v * v) + v + 1.0f;
    vi integer = (vi)shifted - 0x4B400000;
    vf scale = (vf)((integer + 127) << 23);
    return vsel(tooSmall, splat(0), p * scale);
}

/// erf(x) by Abramowitz & Stegun 7.1.26 (1.5e-7 exact, ~5e-7 in float32).
INL vf v_erf(vf x) {
    vf ax = (vf)((vi)x & 0x7FFFFFFF);
    vf t = 1.0f / (1.0f + 0.3275911f * ax);
    vf poly = splat(1.061405429f);
    poly = poly * t - 1.453152027f;
    poly = poly * t + 1.421413741f;
    poly = poly * t - 0.284496736f;
    poly = poly * t + 0.254829592f;
    poly = poly * t;
    vf y = 1.0f - poly * v_exp(0.0f - ax * ax);
    return vsel(x < 0.0f, 0.0f - y, y);
}

INL vf v_gelu(vf v) { return v * 0.5f * (1.0f + v_erf(v * 0.70710678118654752f)); }

// MARK: reductions and BLAS-1

static float k_dot(const float *a, const float *b, long n) {
    vf acc = splat(0);
    long i = 0;
    for (; i + LANES <= n; i += LANES) acc = vfma(ld(a + i), ld(b + i), acc);
    float s = hsum(acc);
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static void k_axpy(float alpha, const float *x, float *y, long n) {
    long i = 0;
    for (; i + LANES <= n; i += LANES) st(y + i, vfma(splat(alpha), ld(x + i), ld(y + i)));
    for (; i < n; i++) y[i] += alpha * x[i];
}

static void k_add(const float *a, const float *b, float *out, long n) {
    long i = 0;
    for (; i + LANES <= n; i += LANES) st(out + i, ld(a + i) + ld(b + i));
    for (; i < n; i++) out[i] = a[i] + b[i];
}

static float k_max(const float *x, long n) {
    vf m = splat(-INFINITY);
    long i = 0;
    for (; i + LANES <= n; i += LANES) m = vmax(m, ld(x + i));
    float mx = hmax(m);
    for (; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    return mx;
}

// MARK: exponentials

static void k_exp_map(const float *x, float *y, long n) {
    long i = 0;
    for (; i + LANES <= n; i += LANES) st(y + i, v_exp(ld(x + i)));
    if (i < n) st_tail(y + i, v_exp(ld_tail(x + i, n - i, 0)), n - i);
}

static void k_erf_map(const float *x, float *y, long n) {
    long i = 0;
    for (; i + LANES <= n; i += LANES) st(y + i, v_erf(ld(x + i)));
    if (i < n) st_tail(y + i, v_erf(ld_tail(x + i, n - i, 0)), n - i);
}

static void k_softmax_row(float *row, long count, long visible, const float *valid) {
    float mx = -INFINITY;
    if (valid) {
        for (long j = 0; j < visible; j++)
            if (valid[j] != 0 && row[j] > mx) mx = row[j];
    } else {
        mx = k_max(row, visible);
    }
    if (mx == -INFINITY) {  // nothing to attend to: all-zero weights
        memset(row, 0, (size_t)count * sizeof(float));
        return;
    }
    long j = 0;
    for (; j + LANES <= visible; j += LANES) st(row + j, v_exp(ld(row + j) - mx));
    if (j < visible) st_tail(row + j, v_exp(ld_tail(row + j, visible - j, 0) - mx), visible - j);
    if (valid)
        for (long q = 0; q < visible; q++)
            if (valid[q] == 0) row[q] = 0;
    vf s = splat(0);
    float tail = 0;
    j = 0;
    for (; j + LANES <= visible; j += LANES) s += ld(row + j);
    for (; j < visible; j++) tail += row[j];
    float inv = 1.0f / (hsum(s) + tail);
    j = 0;
    for (; j + LANES <= visible; j += LANES) st(row + j, ld(row + j) * inv);
    for (; j < visible; j++) row[j] *= inv;
    if (visible < count) memset(row + visible, 0, (size_t)(count - visible) * sizeof(float));
}

static double k_exp_shifted_sum(const float *x, float shift, float *out, long n) {
    double total = 0;
    long i = 0, whole = n - n % LANES;
    while (i < whole) {
        vf block = splat(0);
        long end = i + 256 < whole ? i + 256 : whole;
        for (; i < end; i += LANES) {
            vf e = v_exp(ld(x + i) - shift);
            st(out + i, e);
            block += e;
        }
        total += (double)hsum(block);
    }
    if (i < n) {
        vf e = v_exp(ld_tail(x + i, n - i, -INFINITY) - shift);  // padded lanes: exp(−inf) = 0
        st_tail(out + i, e, n - i);
        total += (double)hsum(e);
    }
    return total;
}

/// Σ x[n] as exp_shifted_sum adds its values: float blocks of 256 summed in 16 lanes (lanes
/// added first to last), the blocks in double. Independent lanes, so no chain of dependent
/// additions: a vocabulary-wide row sums at vector speed.
static double k_sum(const float *x, long n) {
    double total = 0;
    long i = 0, whole = n - n % LANES;
    while (i < whole) {
        vf block = splat(0);
        long end = i + 256 < whole ? i + 256 : whole;
        for (; i < end; i += LANES) block += ld(x + i);
        total += (double)hsum(block);
    }
    if (i < n) total += (double)hsum(ld_tail(x + i, n - i, 0));
    return total;
}

// MARK: GELU

static void k_gelu(const float *x, float *y, long n) {
    long i = 0;
    for (; i + LANES <= n; i += LANES) st(y + i, v_gelu(ld(x + i)));
    if (i < n) st_tail(y + i, v_gelu(ld_tail(x + i, n - i, 0)), n - i);
}

/// dx += dout · gelu'(x),  gelu'(x) = Φ(x) + x·φ(x),  φ(x) = e^(−x²/2) / √(2π)
INL vf v_gelu_backward(vf v, vf g, vf acc) {
    vf cdf = 0.5f * (1.0f + v_erf(v * 0.70710678118654752f));
    vf pdf = v_exp(-0.5f * v * v) * 0.39894228040143268f;
    return acc + g * (cdf + v * pdf);
}

static void k_gelu_backward(const float *x, const float *dout, float *dx, long n) {
    long i = 0;
    for (; i + LANES <= n; i += LANES) st(dx + i, v_gelu_backward(ld(x + i), ld(dout + i), ld(dx + i)));
    if (i < n) {
        long r = n - i;
        st_tail(dx + i, v_gelu_backward(ld_tail(x + i, r, 0), ld_tail(dout + i, r, 0), ld_tail(dx + i, r, 0)), r);
    }
}

// MARK: LayerNorm

static void k_layer_norm_rows(const float *x, const float *w, const float *b, float eps,
                              float *out, float *mean, float *rstd, long rows, long c) {
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * c;
        float *o = out + r * c;
        // Two passes (mean, then centred variance) as PyTorch's CPU kernel, for its rounding.
        vf s = splat(0);
        float tail = 0;
        long i = 0;
        for (; i + LANES <= c; i += LANES) s += ld(row + i);
        for (; i < c; i++) tail += row[i];
        float mu = (hsum(s) + tail) / (float)c;
        vf v = splat(0);
        tail = 0;
        i = 0;
        for (; i + LANES <= c; i += LANES) { vf d = ld(row + i) - mu; v += d * d; }
        for (; i < c; i++) { float d = row[i] - mu; tail += d * d; }
        float inv = 1.0f / sqrtf((hsum(v) + tail) / (float)c + eps);
        if (mean) mean[r] = mu;
        if (rstd) rstd[r] = inv;
        i = 0;
        for (; i + LANES <= c; i += LANES) st(o + i, (ld(row + i) - mu) * inv * ld(w + i) + ld(b + i));
        for (; i < c; i++) o[i] = (row[i] - mu) * inv * w[i] + b[i];
    }
}

// MARK: decoding products

/// out[r, j] = x[r, :] · w[j, :] + bias[j]. Each weight row is read once and applied to four
/// input rows at a time from registers; the weight row stays in L1 for the next four rows.
/// LOAD_W(p) reads 16 weights as floats (fp32 or bf16 storage).
#define LINEAR_ROWS_BODY(LOAD_W, W_AT)                                                          \
    long vend = k & ~(long)(LANES - 1);                                                         \
    for (long c = j0; c < j1; c++) {                                                            \
        float bc = bias ? bias[c] : 0.0f;                                                       \
        long r = 0;                                                                             \
        for (; r + 4 <= rows; r += 4) {                                                         \
            const float *x0 = x + r * k, *x1 = x0 + k, *x2 = x1 + k, *x3 = x2 + k;              \
            vf a0 = splat(0), a1 = a0, a2 = a0, a3 = a0;                                        \
            long j = 0;                                                                         \
            for (; j < vend; j += LANES) {                                                      \
                vf wv = LOAD_W(c * k + j);                                                      \
                a0 = vfma(wv, ld(x0 + j), a0); a1 = vfma(wv, ld(x1 + j), a1);                   \
                a2 = vfma(wv, ld(x2 + j), a2); a3 = vfma(wv, ld(x3 + j), a3);                   \
            }                                                                                   \
            float s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);                   \
            for (; j < k; j++) {                                                                \
                float wj = W_AT(c * k + j);                                                     \
                s0 += wj * x0[j]; s1 += wj * x1[j]; s2 += wj * x2[j]; s3 += wj * x3[j];         \
            }                                                                                   \
            out[r * ldo + c] = s0 + bc; out[(r + 1) * ldo + c] = s1 + bc;                       \
            out[(r + 2) * ldo + c] = s2 + bc; out[(r + 3) * ldo + c] = s3 + bc;                 \
        }                                                                                       \
        for (; r < rows; r++) {                                                                 \
            const float *xr = x + r * k;                                                        \
            vf a = splat(0);                                                                    \
            long j = 0;                                                                         \
            for (; j < vend; j += LANES) a = vfma(LOAD_W(c * k + j), ld(xr + j), a);            \
            float s = hsum(a);                                                                  \
            for (; j < k; j++) s += W_AT(c * k + j) * xr[j];                                    \
            out[r * ldo + c] = s + bc;                                                          \
        }                                                                                       \
    }

INL float bf16_at(const uint16_t *w, long i) {
    uint32_t u = (uint32_t)w[i] << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void k_linear_rows(const float *x, long rows, long k, const float *w, const float *bias,
                          long j0, long j1, float *out, long ldo) {
#define LOAD_F32(i) ld(w + (i))
#define AT_F32(i) w[(i)]
    LINEAR_ROWS_BODY(LOAD_F32, AT_F32)
#undef LOAD_F32
#undef AT_F32
}

static void k_linear_rows_bf16(const float *x, long rows, long k, const uint16_t *w, const float *bias,
                               long j0, long j1, float *out, long ldo) {
#define LOAD_BF16(i) ld_bf16(w + (i))
#define AT_BF16(i) bf16_at(w, (i))
    LINEAR_ROWS_BODY(LOAD_BF16, AT_BF16)
#undef LOAD_BF16
#undef AT_BF16
}

// MARK: masked correlation sums

static void k_masked_sums(const float *a, const float *ma, long lda, const float *b, const float *mb, long ldb,
                          long rows, long cols, double *out) {
    vf n = splat(0), sx = n, sy = n, sxx = n, syy = n, sxy = n;
    float tn = 0, tsx = 0, tsy = 0, tsxx = 0, tsyy = 0, tsxy = 0;
    for (long r = 0; r < rows; r++) {
        const float *ar = a + r * lda, *mar = ma + r * lda, *br = b + r * ldb, *mbr = mb + r * ldb;
        long c = 0;
        for (; c + LANES <= cols; c += LANES) {
            vf w = ld(mar + c) * ld(mbr + c);
            vf x = ld(ar + c) * w;
            vf y = ld(br + c);
            vf yw = y * w;
            n += w; sx += x; sy += yw; sxx += x * x; syy += y * yw; sxy += x * y;
        }
        for (; c < cols; c++) {
            float w = mar[c] * mbr[c], x = ar[c] * w, y = br[c], yw = y * w;
            tn += w; tsx += x; tsy += yw; tsxx += x * x; tsyy += y * yw; tsxy += x * y;
        }
    }
    out[0] = (double)hsum(n) + tn; out[1] = (double)hsum(sx) + tsx; out[2] = (double)hsum(sy) + tsy;
    out[3] = (double)hsum(sxx) + tsxx; out[4] = (double)hsum(syy) + tsyy; out[5] = (double)hsum(sxy) + tsxy;
}

// MARK: bf16 conversion

static void k_bf16_to_f32(const uint16_t *x, float *y, long n) {
    long i = 0;
    for (; i + LANES <= n; i += LANES) st(y + i, ld_bf16(x + i));
    for (; i < n; i++) y[i] = bf16_at(x, i);
}

INL vh to_bf16(vf v) {
    vu u = (vu)v;
    vu rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
    vi isNaN = (vi)((u & 0x7FFFFFFFu) > 0x7F800000u);
    vu quiet = (u >> 16) | 0x40u;
    vu r = (vu)(((vi)quiet & isNaN) | ((vi)rounded & ~isNaN));
    return __builtin_convertvector(r, vh);
}

static void k_f32_to_bf16(const float *x, uint16_t *y, long n) {
    long i = 0;
    for (; i + LANES <= n; i += LANES) {
        vh h = to_bf16(ld(x + i));
        memcpy(y + i, &h, sizeof h);
    }
    if (i < n) {
        vh h = to_bf16(ld_tail(x + i, n - i, 0));
        for (long j = 0; j < n - i; j++) y[i + j] = h[j];
    }
}

// MARK: peak

static double k_fma_peak(long iterations) {
    vn m = (vn){0} + 0.999f, c = (vn){0} + 0.001f;
    vn a0 = {0}, a1 = a0 + 0.1f, a2 = a0 + 0.2f, a3 = a0 + 0.3f, a4 = a0 + 0.4f;
    vn a5 = a0 + 0.5f, a6 = a0 + 0.6f, a7 = a0 + 0.7f, a8 = a0 + 0.8f, a9 = a0 + 0.9f;
    for (long i = 0; i < iterations; i++) {
        a0 = vfma(a0, m, c); a1 = vfma(a1, m, c); a2 = vfma(a2, m, c); a3 = vfma(a3, m, c); a4 = vfma(a4, m, c);
        a5 = vfma(a5, m, c); a6 = vfma(a6, m, c); a7 = vfma(a7, m, c); a8 = vfma(a8, m, c); a9 = vfma(a9, m, c);
        __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4));
    }
    vn s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9;
    volatile float sink = s[0];
    (void)sink;
    return 2.0 * CK_NATIVE_LANES * 10.0 * (double)iterations;
}

const ck_kernels CK_TABLE_NAME = {
    .dot = k_dot,
    .axpy = k_axpy,
    .add = k_add,
    .max = k_max,
    .softmax_row = k_softmax_row,
    .exp_shifted_sum = k_exp_shifted_sum,
    .sum = k_sum,
    .exp_map = k_exp_map,
    .erf_map = k_erf_map,
    .gelu = k_gelu,
    .gelu_backward = k_gelu_backward,
    .layer_norm_rows = k_layer_norm_rows,
    .linear_rows = k_linear_rows,
    .linear_rows_bf16 = k_linear_rows_bf16,
    .bf16_to_f32 = k_bf16_to_f32,
    .f32_to_bf16 = k_f32_to_bf16,
    .masked_sums = k_masked_sums,
    .fma_peak = k_fma_peak,
    .native_lanes = CK_NATIVE_LANES,
    .path = CK_PATH_VALUE,
};
