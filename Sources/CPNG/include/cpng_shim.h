#ifndef CPNG_SHIM_H
#define CPNG_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    CPNG_OK = 0,
    CPNG_ERR_CORRUPT = 1,
    CPNG_ERR_TRUNCATED = 2,
    CPNG_ERR_UNSUPPORTED = 3,
    CPNG_ERR_NOMEM = 4,
    CPNG_ERR_ARGUMENT = 5
};

typedef struct cpng_decoder cpng_decoder;

typedef struct {
    int width;
    int height;
    int bit_depth;    /* as stored: 1, 2, 4, 8 or 16 */
    int color_type;   /* as stored: PNG colour type 0, 2, 3, 4 or 6 */
    int interlaced;
    int has_trns;     /* a tRNS chunk was present */
    int channels;     /* 8-bit channels cpng_decode writes: 1 (L), 2 (LA), 3 (RGB), 4 (RGBA) */
} cpng_header;

/* Reads the signature and every chunk up to the first IDAT. The data must stay alive until
 * cpng_destroy. */
int cpng_open(const uint8_t *data, size_t length, cpng_decoder **out_decoder,
              cpng_header *header, char *msg, size_t msg_capacity);

/* Decodes into out: height rows of width * channels bytes.
 * Palette and tRNS become RGB(A); 1/2/4-bit grey is scaled to 0..255; 16-bit samples keep
 * their high byte, except 16-bit grey without alpha, which is clamped to 255 as Pillow's
 * I;16 -> L conversion does. */
int cpng_decode(cpng_decoder *decoder, uint8_t *out, size_t out_capacity, char *msg,
                size_t msg_capacity);

void cpng_destroy(cpng_decoder *decoder);

#ifdef __cplusplus
}
#endif

#endif
