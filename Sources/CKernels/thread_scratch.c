// Per-thread scratch memory for kernels that need a temporary (bf16 weights widened to fp32).
#include "ckernels.h"
#include <pthread.h>
#include <stdlib.h>

typedef struct {
    void *data;
    unsigned long capacity;
} scratch;

static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void release(void *p) {
    scratch *s = p;
    free(s->data);
    free(s);
}

static void makeKey(void) { pthread_key_create(&key, release); }

void *ck_thread_scratch(unsigned long bytes) {
    pthread_once(&once, makeKey);
    scratch *s = pthread_getspecific(key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return NULL;
        pthread_setspecific(key, s);
    }
    if (s->capacity < bytes) {
        void *fresh = NULL;
        if (posix_memalign(&fresh, 64, bytes) != 0) return NULL;
        free(s->data);
        s->data = fresh;
        s->capacity = bytes;
    }
    return s->data;
}
