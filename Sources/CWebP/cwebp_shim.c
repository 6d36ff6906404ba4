#include "cwebp_shim.h"

#include <string.h>

#include <webp/decode.h>

static int map_status(VP8StatusCode status) {
    switch (status) {
    case VP8_STATUS_OK: return CWEBP_OK;
    case VP8_STATUS_OUT_OF_MEMORY: return CWEBP_ERR_NOMEM;
    case VP8_STATUS_NOT_ENOUGH_DATA: return CWEBP_ERR_TRUNCATED;
    case VP8_STATUS_UNSUPPORTED_FEATURE: return CWEBP_ERR_UNSUPPORTED;
    case VP8_STATUS_INVALID_PARAM: return CWEBP_ERR_ARGUMENT;
    default: return CWEBP_ERR_CORRUPT;
    }
}

int cwebp_probe(const uint8_t *data, size_t length, cwebp_header *header) {
    if (data == NULL || header == NULL) return CWEBP_ERR_ARGUMENT;
    memset(header, 0, sizeof(*header));
    WebPBitstreamFeatures features;
    VP8StatusCode status = WebPGetFeatures(data, length, &features);
    if (status != VP8_STATUS_OK) return map_status(status);
    header->width = features.width;
    header->height = features.height;
    header->has_alpha = features.has_alpha;
    header->has_animation = features.has_animation;
    header->lossless = features.format == 2;
    return CWEBP_OK;
}

int cwebp_decode(const uint8_t *data, size_t length, int channels, uint8_t *out,
                 size_t out_capacity) {
    if (data == NULL || out == NULL || (channels != 3 && channels != 4)) return CWEBP_ERR_ARGUMENT;
    WebPDecoderConfig config;
    if (!WebPInitDecoderConfig(&config)) return CWEBP_ERR_UNSUPPORTED;
    VP8StatusCode status = WebPGetFeatures(data, length, &config.input);
    if (status != VP8_STATUS_OK) return map_status(status);
    if (config.input.has_animation) return CWEBP_ERR_UNSUPPORTED;
    size_t stride = (size_t)config.input.width * (size_t)channels;
    if (stride * (size_t)config.input.height > out_capacity) return CWEBP_ERR_ARGUMENT;
    /* out: rows of width * channels bytes, no padding. */
    config.output.colorspace = channels == 4 ? MODE_RGBA : MODE_RGB;
    config.output.is_external_memory = 1;
    config.output.u.RGBA.rgba = out;
    config.output.u.RGBA.stride = (int)stride;
    config.output.u.RGBA.size = out_capacity;
    status = WebPDecode(data, length, &config);
    WebPFreeDecBuffer(&config.output);
    return map_status(status);
}
