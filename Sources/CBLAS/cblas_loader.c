#define _GNU_SOURCE
#include "cblas_loader.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// CBLAS's enum values (cblas.h), restated so that no OpenBLAS header is needed at build time.
enum { kRowMajor = 101, kNoTrans = 111, kTrans = 112 };

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int,
                         float, float *, int);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);
typedef char *(*string_fn)(void);

static pthread_mutex_t loadLock = PTHREAD_MUTEX_INITIALIZER;
static int loaded = 0;          // 1 loaded, -1 failed
static char loadError[512];
static char loadedPath[1024];
static sgemm_fn sgemm;
static set_threads_fn setThreads;
static get_threads_fn getThreads;
static string_fn corename, config;

int capfilt_blas_load(const char *library, const char *coretype, char *error, int errorSize) {
    pthread_mutex_lock(&loadLock);
    if (loaded == 0) {
        if (coretype && coretype[0] && !getenv("OPENBLAS_CORETYPE")) setenv("OPENBLAS_CORETYPE", coretype, 1);
        const char *candidates[] = {library, "libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"};
        void *handle = NULL;
        const char *tried = "";
        for (int i = library ? 0 : 1; i < 4 && !handle; i++) {
            tried = candidates[i];
            handle = dlopen(candidates[i], RTLD_NOW | RTLD_LOCAL);
            if (library) break;  // an explicit library is not second-guessed
        }
        if (!handle) {
            const char *why = dlerror();
            snprintf(loadError, sizeof loadError, "cannot load OpenBLAS (%s): %s; install libopenblas0 (Debian) or set CAPFILT_OPENBLAS",
                     tried, why ? why : "not found");
            __atomic_store_n(&loaded, -1, __ATOMIC_RELEASE);
        } else {
            sgemm = (sgemm_fn)dlsym(handle, "cblas_sgemm");
            setThreads = (set_threads_fn)dlsym(handle, "openblas_set_num_threads");
            getThreads = (get_threads_fn)dlsym(handle, "openblas_get_num_threads");
            corename = (string_fn)dlsym(handle, "openblas_get_corename");
            config = (string_fn)dlsym(handle, "openblas_get_config");
            if (!sgemm || !setThreads || !getThreads) {
                snprintf(loadError, sizeof loadError, "%s is not OpenBLAS: cblas_sgemm or openblas_set_num_threads missing", tried);
                __atomic_store_n(&loaded, -1, __ATOMIC_RELEASE);
            } else {
                Dl_info info;
                if (dladdr((void *)sgemm, &info) && info.dli_fname) snprintf(loadedPath, sizeof loadedPath, "%s", info.dli_fname);
                else snprintf(loadedPath, sizeof loadedPath, "%s", tried);
                __atomic_store_n(&loaded, 1, __ATOMIC_RELEASE);
            }
        }
    }
    int result = loaded == 1 ? 0 : -1;
    if (result != 0 && error && errorSize > 0) snprintf(error, (size_t)errorSize, "%s", loadError);
    pthread_mutex_unlock(&loadLock);
    return result;
}

static void ensureLoaded(void) {
    if (__atomic_load_n(&loaded, __ATOMIC_ACQUIRE) == 1) return;
    char error[512];
    if (capfilt_blas_load(NULL, NULL, error, sizeof error) != 0) {
        fprintf(stderr, "capfilt: %s\n", error);
        abort();
    }
}

void capfilt_sgemm(int transA, int transB, int m, int n, int k, float alpha,
                   const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    ensureLoaded();
    sgemm(kRowMajor, transA ? kTrans : kNoTrans, transB ? kTrans : kNoTrans, m, n, k, alpha, a, lda, b, ldb,
          beta, c, ldc);
}

void capfilt_blas_set_threads(int n) { ensureLoaded(); setThreads(n); }
int capfilt_blas_get_threads(void) { ensureLoaded(); return getThreads(); }
const char *capfilt_blas_corename(void) { ensureLoaded(); return corename ? corename() : "unknown"; }
const char *capfilt_blas_config(void) { ensureLoaded(); return config ? config() : "unknown"; }
const char *capfilt_blas_path(void) { return loadedPath; }
