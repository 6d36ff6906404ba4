#ifndef CJPEG_SHIM_H
#define CJPEG_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Result codes shared by every call below. */
enum {
    CJPEG_OK = 0,
    CJPEG_ERR_CORRUPT = 1,   /* libjpeg reported a fatal error */
    CJPEG_ERR_TRUNCATED = 2, /* the data ended before the image did */
    CJPEG_ERR_UNSUPPORTED = 3,
    CJPEG_ERR_NOMEM = 4,
    CJPEG_ERR_ARGUMENT = 5
};

/* Colour layouts the decoder can hand back. */
enum {
    CJPEG_OUT_GRAY = 1, /* 1 byte per pixel */
    CJPEG_OUT_RGB = 3,  /* 3 bytes per pixel */
    CJPEG_OUT_CMYK = 4  /* 4 bytes per pixel, as stored (Adobe files store inverted CMYK) */
};

typedef struct cjpeg_decoder cjpeg_decoder;

typedef struct {
    int width;          /* full-size dimensions from the frame header */
    int height;
    int components;     /* components in the file */
    int out_layout;     /* one of CJPEG_OUT_* */
    int saw_adobe;      /* an Adobe APP14 marker was present */
    int progressive;
} cjpeg_header;

/* Parses the headers of an in-memory JPEG. The data must stay alive until cjpeg_destroy.
 * On failure *out_decoder is NULL and msg holds the reason. */
int cjpeg_open(const uint8_t *data, size_t length, cjpeg_decoder **out_decoder,
               cjpeg_header *header, char *msg, size_t msg_capacity);

/* Output size for a DCT-domain scale of 1/denom (denom 1, 2, 4 or 8). */
int cjpeg_scaled_size(cjpeg_decoder *decoder, int denom, int *width, int *height,
                      char *msg, size_t msg_capacity);

/* Decodes into out (rows of width * out_layout bytes, no padding). The scale must match the
 * last cjpeg_scaled_size call. */
int cjpeg_decode(cjpeg_decoder *decoder, uint8_t *out, size_t out_capacity,
                 char *msg, size_t msg_capacity);

void cjpeg_destroy(cjpeg_decoder *decoder);

/* Encodes interleaved 8-bit pixels (components 1 or 3) with 4:2:0 chroma and ISLOW DCT.
 * On success *out_data is a malloc'd buffer the caller frees with cjpeg_free. */
int cjpeg_encode(const uint8_t *pixels, int width, int height, int components, int quality,
                 uint8_t **out_data, size_t *out_length, char *msg, size_t msg_capacity);

void cjpeg_free(void *pointer);

#ifdef __cplusplus
}
#endif

#endif
