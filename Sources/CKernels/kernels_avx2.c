// The AVX2 + FMA path (Haswell, Zen and later): 16-float vectors take two registers.
#if defined(__x86_64__)
#define CK_HAS_FMA 1
#define CK_NATIVE_LANES 8
#define CK_TABLE_NAME ck_kernels_avx2
#define CK_PATH_VALUE CK_PATH_AVX2
#pragma clang attribute push(__attribute__((target("avx,avx2,fma,f16c"))), apply_to = function)
#include "kernels_body.h"
#pragma clang attribute pop
#endif
