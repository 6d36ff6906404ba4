// bf16 matrix products with float32 sums: AVX512_BF16's vdpbf16ps, and the same arithmetic in
// portable C (tests, and the self-check that the native build gives the same bits on the CPU
// at hand). The blocking and packing are shared (gemm_bf16_body.h).
#include "ckernels.h"
#pragma clang diagnostic ignored "-Wpsabi"
#include <math.h>
#include <string.h>

#define INL static inline __attribute__((always_inline))

uint16_t ck_round_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x40u);  // NaN stays NaN
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

long ck_gemm_bf16_block_rows(long k) {
    // A block of packed rows of at most 256 KB, re-read from L2 for every panel; whole micro-tiles.
    long kp = (k + 1) / 2;
    long rows = (256 * 1024 / 4) / (kp > 0 ? kp : 1);
    rows -= rows % 6;
    return rows < 6 ? 6 : rows;  // whole tiles of 6 rows: the scratch holds them padded
}

unsigned long ck_gemm_bf16_scratch_bytes(long k) {
    return (unsigned long)ck_gemm_bf16_block_rows(k) * (unsigned long)((k + 1) / 2) * 4;
}

unsigned long ck_bf16_panels_count(long k, long cols) {
    return (unsigned long)((cols + 31) / 32) * (unsigned long)((k + 1) / 2) * 64;
}

void ck_bf16_pack_panels(const uint16_t *w, long k, long cols, long p0, long p1, uint16_t *packed) {
    long kp = (k + 1) / 2;
    for (long p = p0; p < p1; p++) {
        uint16_t *panel = packed + p * kp * 64;
        for (long q = 0; q < kp; q++) {
            uint16_t *dst = panel + q * 64;
            for (long c = 0; c < 32; c++) {
                long j = p * 32 + c;
                const uint16_t *row = w + j * k;
                dst[2 * c] = j < cols ? row[2 * q] : 0;
                dst[2 * c + 1] = j < cols && 2 * q + 1 < k ? row[2 * q + 1] : 0;
            }
        }
    }
}

#define GB_NATIVE 0
#define GB_NAME(x) x##_emulated
#include "gemm_bf16_body.h"
#undef GB_NATIVE
#undef GB_NAME

#if defined(__x86_64__)
#include <immintrin.h>
#pragma clang attribute push(__attribute__((target("avx,avx2,fma,avx512f,avx512bw,avx512dq,avx512vl,avx512bf16"))), apply_to = function)
#define GB_NATIVE 1
#define GB_NAME(x) x##_avx512bf16
#include "gemm_bf16_body.h"
#pragma clang attribute pop
#else
void ck_gemm_bf16_packed_avx512bf16(const float *x, long rows, long k, const uint16_t *packed, long cols,
                                    const float *bias, float *out, long ldo, void *scratch) {
    ck_gemm_bf16_packed_emulated(x, rows, k, packed, cols, bias, out, ldo, scratch);
}
#endif
