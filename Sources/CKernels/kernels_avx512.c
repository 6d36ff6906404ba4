// The AVX-512 path (F, BW, DQ, VL: Skylake-SP, Ice Lake, Sapphire Rapids, Zen 4 and later):
// a 16-float vector is one register.
#if defined(__x86_64__)
#define CK_HAS_FMA 1
#define CK_NATIVE_LANES 16
#define CK_TABLE_NAME ck_kernels_avx512
#define CK_PATH_VALUE CK_PATH_AVX512
#pragma clang attribute push(__attribute__((target("avx,avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl"))), apply_to = function)
#include "kernels_body.h"
#pragma clang attribute pop
#endif
