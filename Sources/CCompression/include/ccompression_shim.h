#ifndef CCOMPRESSION_SHIM_H
#define CCOMPRESSION_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>
#include <snappy-c.h>
#include <zstd.h>
#include <lz4.h>
#include <brotli/decode.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Result codes of the calls below. */
enum {
    CCOMP_OK = 0,          /* progress was made; call again */
    CCOMP_STREAM_END = 1,  /* one gzip member ended (more may follow) */
    CCOMP_ERR_DATA = -1,   /* corrupt input */
    CCOMP_ERR_NOMEM = -2,
    CCOMP_ERR_SIZE = -3    /* output did not match the expected size */
};

/* Streaming gzip / zlib decoder. zlib's init functions are macros Swift cannot call, and the
 * z_stream must not move while in use, so it lives on the C heap behind an opaque pointer. */
typedef struct ccomp_inflater ccomp_inflater;

ccomp_inflater *ccomp_inflater_new(void);
void ccomp_inflater_free(ccomp_inflater *inflater);
/* Starts a new member (used after CCOMP_STREAM_END when more input follows). */
int ccomp_inflater_reset(ccomp_inflater *inflater);
/* Decodes from in into out; *consumed and *produced report what was used. */
int ccomp_inflater_step(ccomp_inflater *inflater, const uint8_t *in, size_t in_length,
                        size_t *consumed, uint8_t *out, size_t out_capacity, size_t *produced);
const char *ccomp_inflater_message(ccomp_inflater *inflater);

/* One-shot decoders for Parquet pages: the uncompressed size is known up front. */
int ccomp_gunzip_exact(const uint8_t *in, size_t in_length, uint8_t *out, size_t out_length);
int ccomp_snappy_exact(const uint8_t *in, size_t in_length, uint8_t *out, size_t out_length);
int ccomp_zstd_exact(const uint8_t *in, size_t in_length, uint8_t *out, size_t out_length);
/* The uncompressed size a snappy or zstd stream declares in its header, so that a damaged
 * Parquet page header is caught before the output is allocated; -1 when the stream does not
 * say (zstd written in streaming mode) or cannot be parsed. */
int64_t ccomp_snappy_declared_size(const uint8_t *in, size_t in_length);
int64_t ccomp_zstd_declared_size(const uint8_t *in, size_t in_length);
int ccomp_brotli_exact(const uint8_t *in, size_t in_length, uint8_t *out, size_t out_length);
/* Parquet's LZ4_RAW: one raw LZ4 block, no framing. */
int ccomp_lz4_raw_exact(const uint8_t *in, size_t in_length, uint8_t *out, size_t out_length);
/* Parquet's deprecated LZ4: Hadoop's block framing (what parquet-mr writes), or, from some old
 * writers, one raw block; the framing is tried first, as Arrow does. */
int ccomp_lz4_hadoop_exact(const uint8_t *in, size_t in_length, uint8_t *out, size_t out_length);

/* One-shot encoders for Parquet pages. *_bound gives the largest output for in_length bytes;
 * the encoders return the bytes written, or 0 on failure. */
size_t ccomp_snappy_bound(size_t in_length);
size_t ccomp_snappy_compress(const uint8_t *in, size_t in_length, uint8_t *out, size_t out_capacity);
size_t ccomp_zstd_bound(size_t in_length);
size_t ccomp_zstd_compress(const uint8_t *in, size_t in_length, uint8_t *out, size_t out_capacity, int level);

#ifdef __cplusplus
}
#endif

#endif
