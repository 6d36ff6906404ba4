#include "ccompression_shim.h"

#include <stdlib.h>
#include <string.h>

struct ccomp_inflater {
    z_stream stream;
};

ccomp_inflater *ccomp_inflater_new(void) {
    ccomp_inflater *inflater = calloc(1, sizeof(ccomp_inflater));
    if (!inflater) return NULL;
    /* 15 + 32: accept both gzip and zlib headers. */
    if (inflateInit2(&inflater->stream, 15 + 32) != Z_OK) {
        free(inflater);
        return NULL;
    }
    return inflater;
}

void ccomp_inflater_free(ccomp_inflater *inflater) {
    if (!inflater) return;
    inflateEnd(&inflater->stream);
    free(inflater);
}

int ccomp_inflater_reset(ccomp_inflater *inflater) {
    return inflateReset(&inflater->stream) == Z_OK ? CCOMP_OK : CCOMP_ERR_DATA;
}

int ccomp_inflater_step(ccomp_inflater *inflater, const uint8_t *in, size_t in_length,
                        size_t *consumed, uint8_t *out, size_t out_capacity, size_t *produced) {
    z_stream *s = &inflater->stream;
    uInt in_avail = in_length > 0x40000000u ? 0x40000000u : (uInt)in_length;
    uInt out_avail = out_capacity > 0x40000000u ? 0x40000000u : (uInt)out_capacity;
    s->next_in = (Bytef *)in;
    s->avail_in = in_avail;
    s->next_out = out;
    s->avail_out = out_avail;
    int rc = inflate(s, Z_NO_FLUSH);
    *consumed = in_avail - s->avail_in;
    *produced = out_avail - s->avail_out;
    switch (rc) {
    case Z_OK: return CCOMP_OK;
    case Z_BUF_ERROR: return CCOMP_OK; /* no progress possible with this input; caller feeds more */
    case Z_STREAM_END: return CCOMP_STREAM_END;
    case Z_MEM_ERROR: return CCOMP_ERR_NOMEM;
    default: return CCOMP_ERR_DATA;
    }
}

const char *ccomp_inflater_message(ccomp_inflater *inflater) {
    return inflater->stream.msg ? inflater->stream.msg : "corrupt compressed data";
}

int ccomp_gunzip_exact(const uint8_t *in, size_t in_length, uint8_t *out, size_t out_length) {
    z_stream s;
    memset(&s, 0, sizeof(s));
    if (inflateInit2(&s, 15 + 32) != Z_OK) return CCOMP_ERR_NOMEM;
    s.next_in = (Bytef *)in;
    s.avail_in = (uInt)in_length;
    s.next_out = out;
    s.avail_out = (uInt)out_length;
    int rc = inflate(&s, Z_FINISH);
    size_t produced = out_length - s.avail_out;
    inflateEnd(&s);
    if (rc != Z_STREAM_END) return rc == Z_MEM_ERROR ? CCOMP_ERR_NOMEM : CCOMP_ERR_DATA;
    return produced == out_length ? CCOMP_OK : CCOMP_ERR_SIZE;
}

int ccomp_snappy_exact(const uint8_t *in, size_t in_length, uint8_t *out, size_t out_length) {
    size_t expected = 0;
    if (snappy_uncompressed_length((const char *)in, in_length, &expected) != SNAPPY_OK)
        return CCOMP_ERR_DATA;
    if (expected != out_length) return CCOMP_ERR_SIZE;
    size_t produced = out_length;
    if (snappy_uncompress((const char *)in, in_length, (char *)out, &produced) != SNAPPY_OK)
        return CCOMP_ERR_DATA;
    return produced == out_length ? CCOMP_OK : CCOMP_ERR_SIZE;
}

int ccomp_zstd_exact(const uint8_t *in, size_t in_length, uint8_t *out, size_t out_length) {
    size_t produced = ZSTD_decompress(out, out_length, in, in_length);
    if (ZSTD_isError(produced)) return CCOMP_ERR_DATA;
    return produced == out_length ? CCOMP_OK : CCOMP_ERR_SIZE;
}

int64_t ccomp_snappy_declared_size(const uint8_t *in, size_t in_length) {
    size_t expected = 0;
    if (snappy_uncompressed_length((const char *)in, in_length, &expected) != SNAPPY_OK) return -1;
    return expected > INT64_MAX ? -1 : (int64_t)expected;
}

int64_t ccomp_zstd_declared_size(const uint8_t *in, size_t in_length) {
    unsigned long long size = ZSTD_getFrameContentSize(in, in_length);
    if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR || size > INT64_MAX) return -1;
    return (int64_t)size;
}

int ccomp_brotli_exact(const uint8_t *in, size_t in_length, uint8_t *out, size_t out_length) {
    size_t produced = out_length;
    /* Fails (rather than stopping early) when the output would not fit out_length. */
    if (BrotliDecoderDecompress(in_length, in, &produced, out) != BROTLI_DECODER_RESULT_SUCCESS)
        return CCOMP_ERR_DATA;
    return produced == out_length ? CCOMP_OK : CCOMP_ERR_SIZE;
}

int ccomp_lz4_raw_exact(const uint8_t *in, size_t in_length, uint8_t *out, size_t out_length) {
    if (in_length > LZ4_MAX_INPUT_SIZE || out_length > INT32_MAX) return CCOMP_ERR_SIZE;
    int produced = LZ4_decompress_safe((const char *)in, (char *)out, (int)in_length, (int)out_length);
    if (produced < 0) return CCOMP_ERR_DATA;
    return (size_t)produced == out_length ? CCOMP_OK : CCOMP_ERR_SIZE;
}

static uint32_t read_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Hadoop's BlockCompressorStream: blocks of [uncompressed length][chunk]..., each chunk
 * [compressed length][raw LZ4 block], both lengths 4-byte big-endian; a block's chunks decode
 * to its uncompressed length. Returns CCOMP_ERR_DATA when the bytes are not in this framing. */
static int lz4_hadoop_frames(const uint8_t *in, size_t in_length, uint8_t *out, size_t out_length) {
    size_t at = 0, produced = 0;
    while (at < in_length) {
        if (in_length - at < 4) return CCOMP_ERR_DATA;
        size_t block = read_be32(in + at);
        at += 4;
        if (block > out_length - produced) return CCOMP_ERR_DATA;
        size_t block_end = produced + block;
        while (produced < block_end) {
            if (in_length - at < 4) return CCOMP_ERR_DATA;
            size_t chunk = read_be32(in + at);
            at += 4;
            if (chunk > in_length - at || chunk > LZ4_MAX_INPUT_SIZE) return CCOMP_ERR_DATA;
            int n = LZ4_decompress_safe((const char *)in + at, (char *)out + produced, (int)chunk,
                                        (int)(block_end - produced));
            if (n <= 0) return CCOMP_ERR_DATA;
            produced += (size_t)n;
            at += chunk;
        }
    }
    return produced == out_length ? CCOMP_OK : CCOMP_ERR_DATA;
}

int ccomp_lz4_hadoop_exact(const uint8_t *in, size_t in_length, uint8_t *out, size_t out_length) {
    if (out_length > INT32_MAX) return CCOMP_ERR_SIZE;
    if (lz4_hadoop_frames(in, in_length, out, out_length) == CCOMP_OK) return CCOMP_OK;
    return ccomp_lz4_raw_exact(in, in_length, out, out_length);
}

size_t ccomp_snappy_bound(size_t in_length) { return snappy_max_compressed_length(in_length); }

size_t ccomp_snappy_compress(const uint8_t *in, size_t in_length, uint8_t *out, size_t out_capacity) {
    size_t produced = out_capacity;
    if (snappy_compress((const char *)in, in_length, (char *)out, &produced) != SNAPPY_OK) return 0;
    return produced;
}

size_t ccomp_zstd_bound(size_t in_length) { return ZSTD_compressBound(in_length); }

size_t ccomp_zstd_compress(const uint8_t *in, size_t in_length, uint8_t *out, size_t out_capacity, int level) {
    size_t produced = ZSTD_compress(out, out_capacity, in, in_length, level);
    return ZSTD_isError(produced) ? 0 : produced;
}
