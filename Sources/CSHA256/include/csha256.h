#ifndef CSHA256_H
#define CSHA256_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The SHA-256 compression function over `blocks` consecutive 64-byte blocks, updating `state`
 * (eight words, host order). Basics' SHA256 does the buffering and padding in Swift; the
 * rounds live here so that unoptimised debug builds still hash bodies at a useful speed.
 */
void csha256_blocks(uint32_t state[8], const unsigned char *data, size_t blocks);

#ifdef __cplusplus
}
#endif

#endif
