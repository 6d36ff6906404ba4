#include "cjpeg_shim.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

/* libjpeg's default error_exit ends the process; this manager jumps back to the C call
 * that entered libjpeg instead, so every failure becomes a result code. */
typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    int truncated;
    char message[JMSG_LENGTH_MAX];
} shim_error_mgr;

struct cjpeg_decoder {
    struct jpeg_decompress_struct info;
    shim_error_mgr err;
    int created;
    int out_layout;
};

static void copy_message(char *dst, size_t capacity, const char *src) {
    if (dst == NULL || capacity == 0) return;
    snprintf(dst, capacity, "%s", src);
}

static void shim_error_exit(j_common_ptr cinfo) {
    shim_error_mgr *err = (shim_error_mgr *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, err->message);
    longjmp(err->jump, 1);
}

static void shim_emit_message(j_common_ptr cinfo, int level) {
    shim_error_mgr *err = (shim_error_mgr *)cinfo->err;
    /* Running out of data is a warning to libjpeg (it pads with a fake EOI); for us the
     * image is truncated, so stop here rather than decode grey filler. Other warnings
     * (extraneous bytes, early markers) are tolerated, as Pillow does. */
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        err->truncated = 1;
        (*cinfo->err->format_message)(cinfo, err->message);
        longjmp(err->jump, 1);
    }
}

static void shim_output_message(j_common_ptr cinfo) { (void)cinfo; }

static int failure_code(const shim_error_mgr *err) {
    return err->truncated ? CJPEG_ERR_TRUNCATED : CJPEG_ERR_CORRUPT;
}

int cjpeg_open(const uint8_t *data, size_t length, cjpeg_decoder **out_decoder,
               cjpeg_header *header, char *msg, size_t msg_capacity) {
    if (out_decoder == NULL || header == NULL || data == NULL) return CJPEG_ERR_ARGUMENT;
    *out_decoder = NULL;
    memset(header, 0, sizeof(*header));
    if (length == 0) {
        copy_message(msg, msg_capacity, "empty input");
        return CJPEG_ERR_TRUNCATED;
    }
    cjpeg_decoder *d = (cjpeg_decoder *)calloc(1, sizeof(cjpeg_decoder));
    if (d == NULL) {
        copy_message(msg, msg_capacity, "out of memory");
        return CJPEG_ERR_NOMEM;
    }
    d->info.err = jpeg_std_error(&d->err.base);
    d->err.base.error_exit = shim_error_exit;
    d->err.base.emit_message = shim_emit_message;
    d->err.base.output_message = shim_output_message;
    if (setjmp(d->err.jump)) {
        int code = failure_code(&d->err);
        copy_message(msg, msg_capacity, d->err.message);
        cjpeg_destroy(d);
        return code;
    }
    jpeg_create_decompress(&d->info);
    d->created = 1;
    jpeg_mem_src(&d->info, data, (unsigned long)length);
    jpeg_read_header(&d->info, TRUE);

    struct jpeg_decompress_struct *ci = &d->info;
    switch (ci->jpeg_color_space) {
    case JCS_GRAYSCALE:
        ci->out_color_space = JCS_GRAYSCALE;
        d->out_layout = CJPEG_OUT_GRAY;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        ci->out_color_space = JCS_CMYK;
        d->out_layout = CJPEG_OUT_CMYK;
        break;
    case JCS_YCbCr:
    case JCS_RGB:
        ci->out_color_space = JCS_RGB;
        d->out_layout = CJPEG_OUT_RGB;
        break;
    default:
        copy_message(msg, msg_capacity, "unsupported JPEG colour space");
        cjpeg_destroy(d);
        return CJPEG_ERR_UNSUPPORTED;
    }
    /* Library defaults, spelled out because bit-exactness with Pillow depends on them. */
    ci->dct_method = JDCT_ISLOW;
    ci->do_fancy_upsampling = TRUE;
    ci->scale_num = 1;
    ci->scale_denom = 1;

    header->width = (int)ci->image_width;
    header->height = (int)ci->image_height;
    header->components = ci->num_components;
    header->out_layout = d->out_layout;
    header->saw_adobe = ci->saw_Adobe_marker ? 1 : 0;
    header->progressive = jpeg_has_multiple_scans(ci) ? 1 : 0;
    *out_decoder = d;
    return CJPEG_OK;
}

int cjpeg_scaled_size(cjpeg_decoder *d, int denom, int *width, int *height, char *msg,
                      size_t msg_capacity) {
    if (d == NULL || width == NULL || height == NULL) return CJPEG_ERR_ARGUMENT;
    if (denom != 1 && denom != 2 && denom != 4 && denom != 8) {
        copy_message(msg, msg_capacity, "scale denominator must be 1, 2, 4 or 8");
        return CJPEG_ERR_ARGUMENT;
    }
    if (setjmp(d->err.jump)) {
        copy_message(msg, msg_capacity, d->err.message);
        return failure_code(&d->err);
    }
    d->info.scale_num = 1;
    d->info.scale_denom = (unsigned int)denom;
    jpeg_calc_output_dimensions(&d->info);
    *width = (int)d->info.output_width;
    *height = (int)d->info.output_height;
    return CJPEG_OK;
}

int cjpeg_decode(cjpeg_decoder *d, uint8_t *out, size_t out_capacity, char *msg,
                 size_t msg_capacity) {
    if (d == NULL || out == NULL) return CJPEG_ERR_ARGUMENT;
    if (setjmp(d->err.jump)) {
        copy_message(msg, msg_capacity, d->err.message);
        return failure_code(&d->err);
    }
    struct jpeg_decompress_struct *ci = &d->info;
    jpeg_start_decompress(ci);
    size_t stride = (size_t)ci->output_width * (size_t)ci->output_components;
    if (ci->output_components != d->out_layout ||
        stride * (size_t)ci->output_height > out_capacity) {
        copy_message(msg, msg_capacity, "output buffer does not match the decoded size");
        jpeg_abort_decompress(ci);
        return CJPEG_ERR_ARGUMENT;
    }
    /* out: output_height rows of stride bytes, interleaved components. */
    while (ci->output_scanline < ci->output_height) {
        JSAMPROW row = out + (size_t)ci->output_scanline * stride;
        jpeg_read_scanlines(ci, &row, 1);
    }
    jpeg_finish_decompress(ci);
    return CJPEG_OK;
}

void cjpeg_destroy(cjpeg_decoder *d) {
    if (d == NULL) return;
    if (d->created) jpeg_destroy_decompress(&d->info);
    free(d);
}

typedef struct {
    struct jpeg_compress_struct info;
    shim_error_mgr err;
    unsigned char *buffer;
    unsigned long length;
} shim_encoder;

int cjpeg_encode(const uint8_t *pixels, int width, int height, int components, int quality,
                 uint8_t **out_data, size_t *out_length, char *msg, size_t msg_capacity) {
    if (pixels == NULL || out_data == NULL || out_length == NULL || width <= 0 || height <= 0 ||
        (components != 1 && components != 3) || width > JPEG_MAX_DIMENSION ||
        height > JPEG_MAX_DIMENSION) {
        copy_message(msg, msg_capacity, "invalid encoder arguments");
        return CJPEG_ERR_ARGUMENT;
    }
    *out_data = NULL;
    *out_length = 0;
    /* Heap state so nothing that setjmp must preserve lives in registers. */
    shim_encoder *e = (shim_encoder *)calloc(1, sizeof(shim_encoder));
    if (e == NULL) return CJPEG_ERR_NOMEM;
    e->info.err = jpeg_std_error(&e->err.base);
    e->err.base.error_exit = shim_error_exit;
    e->err.base.emit_message = shim_emit_message;
    e->err.base.output_message = shim_output_message;
    if (setjmp(e->err.jump)) {
        copy_message(msg, msg_capacity, e->err.message);
        jpeg_destroy_compress(&e->info);
        free(e->buffer);
        free(e);
        return CJPEG_ERR_CORRUPT;
    }
    jpeg_create_compress(&e->info);
    jpeg_mem_dest(&e->info, &e->buffer, &e->length);
    e->info.image_width = (JDIMENSION)width;
    e->info.image_height = (JDIMENSION)height;
    e->info.input_components = components;
    e->info.in_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&e->info);
    jpeg_set_quality(&e->info, quality, TRUE);
    e->info.dct_method = JDCT_ISLOW;
    jpeg_start_compress(&e->info, TRUE);
    size_t stride = (size_t)width * (size_t)components;
    while (e->info.next_scanline < e->info.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)e->info.next_scanline * stride);
        jpeg_write_scanlines(&e->info, &row, 1);
    }
    jpeg_finish_compress(&e->info);
    jpeg_destroy_compress(&e->info);
    *out_data = e->buffer;
    *out_length = (size_t)e->length;
    free(e);
    return CJPEG_OK;
}

void cjpeg_free(void *pointer) { free(pointer); }
