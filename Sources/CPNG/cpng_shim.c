#include "cpng_shim.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

struct cpng_decoder {
    png_structp png;
    png_infop info;
    const uint8_t *data;
    size_t length;
    size_t offset;
    int truncated;
    int clamp_gray16; /* 16-bit grey: read 16 bits and clamp instead of stripping */
    cpng_header header;
    char message[256];
};

static void copy_message(char *dst, size_t capacity, const char *src) {
    if (dst == NULL || capacity == 0) return;
    snprintf(dst, capacity, "%s", src);
}

/* libpng calls this on fatal errors; it must not return. */
static void shim_error(png_structp png, png_const_charp text) {
    cpng_decoder *d = (cpng_decoder *)png_get_error_ptr(png);
    if (d != NULL) snprintf(d->message, sizeof(d->message), "%s", text);
    png_longjmp(png, 1);
}

static void shim_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

static void shim_read(png_structp png, png_bytep out, png_size_t count) {
    cpng_decoder *d = (cpng_decoder *)png_get_io_ptr(png);
    if (count > d->length - d->offset) {
        d->truncated = 1;
        png_error(png, "unexpected end of PNG data");
    }
    memcpy(out, d->data + d->offset, count);
    d->offset += count;
}

void cpng_destroy(cpng_decoder *d) {
    if (d == NULL) return;
    if (d->png != NULL) png_destroy_read_struct(&d->png, d->info ? &d->info : NULL, NULL);
    free(d);
}

int cpng_open(const uint8_t *data, size_t length, cpng_decoder **out_decoder,
              cpng_header *header, char *msg, size_t msg_capacity) {
    if (data == NULL || out_decoder == NULL || header == NULL) return CPNG_ERR_ARGUMENT;
    *out_decoder = NULL;
    memset(header, 0, sizeof(*header));
    if (length < 8) {
        copy_message(msg, msg_capacity, "PNG data shorter than its signature");
        return CPNG_ERR_TRUNCATED;
    }
    if (png_sig_cmp((png_const_bytep)data, 0, 8) != 0) {
        copy_message(msg, msg_capacity, "not a PNG signature");
        return CPNG_ERR_CORRUPT;
    }
    cpng_decoder *d = (cpng_decoder *)calloc(1, sizeof(cpng_decoder));
    if (d == NULL) return CPNG_ERR_NOMEM;
    d->data = data;
    d->length = length;
    d->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, d, shim_error, shim_warning);
    if (d->png == NULL) {
        free(d);
        return CPNG_ERR_NOMEM;
    }
    d->info = png_create_info_struct(d->png);
    if (d->info == NULL) {
        cpng_destroy(d);
        return CPNG_ERR_NOMEM;
    }
    if (setjmp(png_jmpbuf(d->png))) {
        int code = d->truncated ? CPNG_ERR_TRUNCATED : CPNG_ERR_CORRUPT;
        copy_message(msg, msg_capacity, d->message);
        cpng_destroy(d);
        return code;
    }
    png_set_read_fn(d->png, d, shim_read);
    /* Dimensions are checked by the caller before any pixel memory exists; this only caps
     * what libpng itself accepts in the header. */
    png_set_user_limits(d->png, 0x7fffffff, 0x7fffffff);
    png_read_info(d->png, d->info);

    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(d->png, d->info, &width, &height, &bit_depth, &color_type, &interlace, NULL,
                 NULL);
    int has_trns = png_get_valid(d->png, d->info, PNG_INFO_tRNS) ? 1 : 0;

    int channels;
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: channels = has_trns ? 2 : 1; break;
    case PNG_COLOR_TYPE_GRAY_ALPHA: channels = 2; break;
    case PNG_COLOR_TYPE_RGB: channels = has_trns ? 4 : 3; break;
    case PNG_COLOR_TYPE_RGB_ALPHA: channels = 4; break;
    case PNG_COLOR_TYPE_PALETTE: channels = has_trns ? 4 : 3; break;
    default:
        copy_message(msg, msg_capacity, "unsupported PNG colour type");
        cpng_destroy(d);
        return CPNG_ERR_UNSUPPORTED;
    }

    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(d->png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8)
        png_set_expand_gray_1_2_4_to_8(d->png);
    if (has_trns) png_set_tRNS_to_alpha(d->png);
    d->clamp_gray16 = (color_type == PNG_COLOR_TYPE_GRAY && bit_depth == 16);
    if (bit_depth == 16 && !d->clamp_gray16) png_set_strip_16(d->png);
    png_set_interlace_handling(d->png);
    png_read_update_info(d->png, d->info);

    header->width = (int)width;
    header->height = (int)height;
    header->bit_depth = bit_depth;
    header->color_type = color_type;
    header->interlaced = interlace != PNG_INTERLACE_NONE;
    header->has_trns = has_trns;
    header->channels = channels;
    d->header = *header;
    *out_decoder = d;
    return CPNG_OK;
}

int cpng_decode(cpng_decoder *d, uint8_t *out, size_t out_capacity, char *msg,
                size_t msg_capacity) {
    if (d == NULL || out == NULL) return CPNG_ERR_ARGUMENT;
    size_t width = (size_t)d->header.width;
    size_t height = (size_t)d->header.height;
    size_t channels = (size_t)d->header.channels;
    size_t stride = width * channels;
    if (stride * height > out_capacity) {
        copy_message(msg, msg_capacity, "output buffer too small");
        return CPNG_ERR_ARGUMENT;
    }
    size_t row_bytes = png_get_rowbytes(d->png, d->info);
    size_t sample_bytes = d->clamp_gray16 ? 2 : 1;
    if (row_bytes != stride * sample_bytes) {
        copy_message(msg, msg_capacity, "unexpected PNG row layout");
        return CPNG_ERR_UNSUPPORTED;
    }
    /* 16-bit grey needs a wider staging buffer: rows of width * channels big-endian
     * 16-bit samples, narrowed into out after decoding. Otherwise decode in place. */
    uint8_t *wide = NULL;
    png_bytep *rows = (png_bytep *)malloc(height * sizeof(png_bytep));
    if (rows == NULL) return CPNG_ERR_NOMEM;
    if (d->clamp_gray16) {
        wide = (uint8_t *)malloc(row_bytes * height);
        if (wide == NULL) {
            free(rows);
            return CPNG_ERR_NOMEM;
        }
    }
    for (size_t y = 0; y < height; y++)
        rows[y] = wide ? wide + y * row_bytes : out + y * stride;

    /* rows and wide are freed on both paths; volatile keeps them valid after longjmp. */
    png_bytep *volatile rows_v = rows;
    uint8_t *volatile wide_v = wide;
    if (setjmp(png_jmpbuf(d->png))) {
        free(rows_v);
        free(wide_v);
        copy_message(msg, msg_capacity, d->message);
        return d->truncated ? CPNG_ERR_TRUNCATED : CPNG_ERR_CORRUPT;
    }
    png_read_image(d->png, rows_v);
    png_read_end(d->png, NULL);

    if (wide_v != NULL) {
        /* Grey (and grey+alpha from tRNS): the grey sample clamps to 255 like Pillow's
         * I;16 conversion; the alpha produced from tRNS is 0 or 65535, keep its high byte. */
        for (size_t y = 0; y < height; y++) {
            const uint8_t *src = wide_v + y * row_bytes;
            uint8_t *dst = out + y * stride;
            for (size_t i = 0; i < stride; i++) {
                unsigned v = ((unsigned)src[2 * i] << 8) | src[2 * i + 1];
                if (channels == 2 && (i & 1)) dst[i] = (uint8_t)(v >> 8);
                else dst[i] = v > 255 ? 255 : (uint8_t)v;
            }
        }
    }
    free(rows_v);
    free(wide_v);
    return CPNG_OK;
}
