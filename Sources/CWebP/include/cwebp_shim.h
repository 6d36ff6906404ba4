#ifndef CWEBP_SHIM_H
#define CWEBP_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    CWEBP_OK = 0,
    CWEBP_ERR_CORRUPT = 1,
    CWEBP_ERR_TRUNCATED = 2,
    CWEBP_ERR_UNSUPPORTED = 3,
    CWEBP_ERR_NOMEM = 4,
    CWEBP_ERR_ARGUMENT = 5
};

typedef struct {
    int width;
    int height;
    int has_alpha;
    int has_animation;
    int lossless;
} cwebp_header;

/* Reads the bitstream features without decoding pixels. */
int cwebp_probe(const uint8_t *data, size_t length, cwebp_header *header);

/* Decodes the first frame into out: height rows of width * channels bytes,
 * channels 3 (RGB) or 4 (RGBA, straight alpha). */
int cwebp_decode(const uint8_t *data, size_t length, int channels, uint8_t *out,
                 size_t out_capacity);

#ifdef __cplusplus
}
#endif

#endif
