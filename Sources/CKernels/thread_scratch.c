// Per-thread scratch memory for kernels that need a temporary (bf16 weights widened to fp32,
// bf16 products' packed weights and rows), in two independent slots per thread.
#include "ckernels.h"
#include <pthread.h>
#include <stdlib.h>

typedef struct {
    void *data[2];
    unsigned long capacity[2];
} scratch;

static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void release(void *p) {
    scratch *s = p;
    free(s->data[0]);
    free(s->data[1]);
    free(s);
}

static void makeKey(void) { pthread_key_create(&key, release); }

void *ck_thread_scratch_slot(int slot, unsigned long bytes) {
    if (slot < 0 || slot > 1) return NULL;
    pthread_once(&once, makeKey);
    scratch *s = pthread_getspecific(key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return NULL;
        pthread_setspecific(key, s);
    }
    if (s->capacity[slot] < bytes) {
        void *fresh = NULL;
        if (posix_memalign(&fresh, 64, bytes) != 0) return NULL;
        free(s->data[slot]);
        s->data[slot] = fresh;
        s->capacity[slot] = bytes;
    }
    return s->data[slot];
}

void *ck_thread_scratch(unsigned long bytes) { return ck_thread_scratch_slot(0, bytes); }
