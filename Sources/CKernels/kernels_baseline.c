// The portable path: the compiler's default instruction set (SSE2 on x86-64).
#define CK_HAS_FMA 0
#define CK_NATIVE_LANES 4
#define CK_TABLE_NAME ck_kernels_baseline
#define CK_PATH_VALUE CK_PATH_BASELINE
#include "kernels_body.h"
