// CPU feature detection from CPUID and XGETBV, and the choice of kernel path.
#include "ckernels.h"
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static void cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}

static unsigned long long xgetbv0(void) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

void ck_read_cpu_features(ck_cpu_features *f) {
    memset(f, 0, sizeof *f);
    unsigned r[4];
    cpuid(0, 0, r);
    unsigned maxLeaf = r[0];
    memcpy(f->vendor + 0, &r[1], 4);
    memcpy(f->vendor + 4, &r[3], 4);
    memcpy(f->vendor + 8, &r[2], 4);
    f->vendor[12] = 0;

    cpuid(1, 0, r);
    unsigned baseFamily = (r[0] >> 8) & 0xF, baseModel = (r[0] >> 4) & 0xF;
    f->family = (int)(baseFamily == 0xF ? baseFamily + ((r[0] >> 20) & 0xFF) : baseFamily);
    f->model = (int)((baseFamily == 0x6 || baseFamily == 0xF) ? (((r[0] >> 16) & 0xF) << 4) + baseModel : baseModel);
    f->stepping = (int)(r[0] & 0xF);
    f->logical_processors = (int)((r[1] >> 16) & 0xFF);
    f->sse2 = (r[3] >> 26) & 1;
    f->sse41 = (r[2] >> 19) & 1;
    f->sse42 = (r[2] >> 20) & 1;
    int osxsave = (r[2] >> 27) & 1;
    int cpuAVX = (r[2] >> 28) & 1;
    int cpuFMA = (r[2] >> 12) & 1;
    int cpuF16C = (r[2] >> 29) & 1;

    // The OS must save YMM (XCR0 bits 1-2) for AVX, and opmask/ZMM state (bits 5-7) for AVX-512.
    unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
    int osYMM = (xcr0 & 0x6) == 0x6;
    int osZMM = osYMM && (xcr0 & 0xE0) == 0xE0;

    f->avx = cpuAVX && osYMM;
    f->fma = cpuFMA && osYMM;
    f->f16c = cpuF16C && osYMM;
    if (maxLeaf >= 7) {
        cpuid(7, 0, r);
        unsigned maxSub = r[0];
        f->avx2 = ((r[1] >> 5) & 1) && osYMM;
        f->avx512f = ((r[1] >> 16) & 1) && osZMM;
        f->avx512dq = ((r[1] >> 17) & 1) && osZMM;
        f->avx512cd = ((r[1] >> 28) & 1) && osZMM;
        f->avx512bw = ((r[1] >> 30) & 1) && osZMM;
        f->avx512vl = ((r[1] >> 31) & 1) && osZMM;
        f->avx512_vnni = ((r[2] >> 11) & 1) && osZMM;
        f->avx512_fp16 = ((r[3] >> 23) & 1) && osZMM;
        f->amx_bf16 = (r[3] >> 22) & 1;
        if (maxSub >= 1) {
            cpuid(7, 1, r);
            f->avx_vnni = ((r[0] >> 4) & 1) && osYMM;
            f->avx512_bf16 = ((r[0] >> 5) & 1) && osZMM;
        }
    }

    cpuid(0x80000000u, 0, r);
    if (r[0] >= 0x80000004u) {
        for (unsigned i = 0; i < 3; i++) {
            cpuid(0x80000002u + i, 0, r);
            memcpy(f->brand + 16 * i, r, 16);
        }
        f->brand[48] = 0;
        // Trim the padding some CPUs put around the brand string.
        char *s = f->brand;
        while (*s == ' ') s++;
        memmove(f->brand, s, strlen(s) + 1);
        size_t n = strlen(f->brand);
        while (n > 0 && f->brand[n - 1] == ' ') f->brand[--n] = 0;
    }
}

#else
void ck_read_cpu_features(ck_cpu_features *f) {
    memset(f, 0, sizeof *f);
    strcpy(f->vendor, "unknown");
}
#endif

int ck_path_supported(const ck_cpu_features *f, ck_path path) {
    switch (path) {
    case CK_PATH_BASELINE: return 1;
#if defined(__x86_64__)
    case CK_PATH_AVX2: return f->avx2 && f->fma;
    case CK_PATH_AVX512: return f->avx512f && f->avx512bw && f->avx512dq && f->avx512vl && f->avx2 && f->fma;
#endif
    default: return 0;
    }
}

ck_path ck_best_path(const ck_cpu_features *f) {
    if (ck_path_supported(f, CK_PATH_AVX512)) return CK_PATH_AVX512;
    if (ck_path_supported(f, CK_PATH_AVX2)) return CK_PATH_AVX2;
    return CK_PATH_BASELINE;
}

const char *ck_path_name(ck_path path) {
    switch (path) {
    case CK_PATH_AVX2: return "avx2";
    case CK_PATH_AVX512: return "avx512";
    default: return "baseline";
    }
}

extern const ck_kernels ck_kernels_baseline;
#if defined(__x86_64__)
extern const ck_kernels ck_kernels_avx2;
extern const ck_kernels ck_kernels_avx512;
#endif

const ck_kernels *ck_kernels_for(ck_path path) {
#if defined(__x86_64__)
    if (path == CK_PATH_AVX512) return &ck_kernels_avx512;
    if (path == CK_PATH_AVX2) return &ck_kernels_avx2;
#endif
    return &ck_kernels_baseline;
}
