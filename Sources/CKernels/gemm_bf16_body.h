// The bf16 matrix product, written once. gemm_bf16.c includes this file twice:
//   GB_NAME(x)     the suffixed name of each exported function
//   GB_NATIVE      1: AVX512_BF16's vdpbf16ps; 0: the same arithmetic emulated in portable C,
//                  for testing the blocking and packing on any CPU (and for the self-check).
// Shapes: out [rows, cols] (row stride ldo) = bf16(x) [rows, k] · w [cols, k]ᵀ + bias [cols],
// with x rounded to bf16 (nearest even) as it is packed and the sums kept in float32.
//
// vdpbf16ps adds, in each float lane j, two products of bf16 pairs to the accumulator, the odd
// element's first: acc += a[2j+1]·b[2j+1]; acc += a[2j]·b[2j]. A product of two bf16 values is
// exact in float32, so each step rounds once (nearest even); inputs and results below the
// normal range count as zero (DAZ, FTZ). The emulation does exactly that, so both builds give
// the same bits.

#define GB_MR 6        // rows per micro-tile
#define GB_NR 32       // columns per micro-tile and per packed panel (two 16-float vectors)
// Each inclusion's helpers get their own names.
#define gb_acc GB_NAME(gb_acc)
#define gb_zero GB_NAME(gb_zero)
#define gb_dot GB_NAME(gb_dot)
#define gb_lanes GB_NAME(gb_lanes)
#define gb_daz GB_NAME(gb_daz)
#define gb_ftz GB_NAME(gb_ftz)

#if GB_NATIVE
typedef __m512 gb_acc;
INL gb_acc gb_zero(void) { return _mm512_setzero_ps(); }
/// acc += the pair `a` (two bf16 in 32 bits) · 16 pairs of b (32 bf16), one pair a lane.
INL gb_acc gb_dot(gb_acc acc, uint32_t a, const uint16_t *b) {
    __m512i bv = _mm512_loadu_si512((const void *)b);
    return _mm512_dpbf16_ps(acc, (__m512bh)_mm512_set1_epi32((int)a), (__m512bh)bv);
}
INL void gb_lanes(gb_acc acc, float *out) { _mm512_storeu_ps(out, acc); }
#else
typedef struct { float v[16]; } gb_acc;
INL gb_acc gb_zero(void) { gb_acc z; memset(&z, 0, sizeof z); return z; }
/// A value below the normal range becomes a zero of its sign (FTZ on results).
INL float gb_ftz(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7F800000u) == 0) u &= 0x80000000u;
    memcpy(&f, &u, 4);
    return f;
}
/// A bf16 input as float32, below the normal range as zero (DAZ).
INL float gb_daz(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return gb_ftz(f);
}
INL gb_acc gb_dot(gb_acc acc, uint32_t a, const uint16_t *b) {
    float alo = gb_daz((uint16_t)(a & 0xFFFF)), ahi = gb_daz((uint16_t)(a >> 16));
    for (int j = 0; j < 16; j++) {
        float s = gb_ftz(fmaf(ahi, gb_daz(b[2 * j + 1]), acc.v[j]));
        acc.v[j] = gb_ftz(fmaf(alo, gb_daz(b[2 * j]), s));
    }
    return acc;
}
INL void gb_lanes(gb_acc acc, float *out) { memcpy(out, acc.v, sizeof acc.v); }
#endif

/// One micro-tile: out [mr, nc] (mr <= 6, nc <= 32) = a · panel + bias.
///   a: [kp][6] pairs (row r's pair q at a[q·6 + r]); panel: [kp][32 columns][2] bf16;
///   bias: NULL or [nc]. Called with a literal mr for whole tiles, so the row loop unrolls.
INL void GB_NAME(micro)(const uint32_t *a, long mr, long kp, const uint16_t *panel, const float *bias,
                        float *out, long ldo, long nc) {
    gb_acc acc[GB_MR][2];
    for (int r = 0; r < GB_MR; r++) { acc[r][0] = gb_zero(); acc[r][1] = gb_zero(); }
    for (long q = 0; q < kp; q++) {
        const uint16_t *b = panel + q * 2 * GB_NR;
        const uint32_t *pairs = a + q * GB_MR;
        for (int r = 0; r < GB_MR; r++) {
            if (r < mr) {
                acc[r][0] = gb_dot(acc[r][0], pairs[r], b);
                acc[r][1] = gb_dot(acc[r][1], pairs[r], b + GB_NR);
            }
        }
    }
    for (long r = 0; r < mr; r++) {
        float lanes[GB_NR];
        gb_lanes(acc[r][0], lanes);
        gb_lanes(acc[r][1], lanes + 16);
        float *o = out + r * ldo;
        for (long c = 0; c < nc; c++) o[c] = lanes[c] + (bias ? bias[c] : 0.0f);
    }
}

/// x rows [rows, k] -> bf16 pairs in tiles of 6 rows, [tiles][kp][6] (nearest even; an odd k's
/// last pair is (x, 0); the rows past `rows` in the last tile are zeros).
INL void GB_NAME(pack_rows)(const float *x, long rows, long k, uint32_t *a) {
    long kp = (k + 1) / 2, tiles = (rows + GB_MR - 1) / GB_MR;
    for (long t = 0; t < tiles; t++) {
        uint32_t *tile = a + t * kp * GB_MR;
        for (int r = 0; r < GB_MR; r++) {
            long row = t * GB_MR + r;
            const float *xr = x + row * k;
            for (long q = 0; q < kp; q++) {
                uint32_t lo = 0, hi = 0;
                if (row < rows) {
                    lo = ck_round_bf16(xr[2 * q]);
                    hi = 2 * q + 1 < k ? ck_round_bf16(xr[2 * q + 1]) : 0;
                }
                tile[q * GB_MR + r] = lo | (hi << 16);
            }
        }
    }
}

void GB_NAME(ck_gemm_bf16_packed)(const float *x, long rows, long k, const uint16_t *packed, long cols,
                                  const float *bias, float *out, long ldo, void *scratch) {
    long kp = (k + 1) / 2, panels = (cols + GB_NR - 1) / GB_NR;
    long mb = ck_gemm_bf16_block_rows(k);
    uint32_t *a = scratch;
    for (long r0 = 0; r0 < rows; r0 += mb) {
        long mr = rows - r0 < mb ? rows - r0 : mb;
        GB_NAME(pack_rows)(x + r0 * k, mr, k, a);
        for (long p = 0; p < panels; p++) {
            long c0 = p * GB_NR, nc = cols - c0 < GB_NR ? cols - c0 : GB_NR;
            const uint16_t *panel = packed + p * kp * 2 * GB_NR;
            const float *b = bias ? bias + c0 : NULL;
            for (long i = 0; i < mr; i += GB_MR) {
                const uint32_t *tile = a + (i / GB_MR) * kp * GB_MR;
                float *o = out + (r0 + i) * ldo + c0;
                if (mr - i >= GB_MR) GB_NAME(micro)(tile, GB_MR, kp, panel, b, o, ldo, nc);
                else GB_NAME(micro)(tile, mr - i, kp, panel, b, o, ldo, nc);
            }
        }
    }
}

#undef gb_acc
#undef gb_zero
#undef gb_dot
#undef gb_lanes
#undef gb_daz
#undef gb_ftz
#undef GB_MR
#undef GB_NR
