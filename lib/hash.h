/*
 * hash: SipHash-2-4 with 128-bit output (Aumasson & Bernstein), keyed.
 * Used for key fingerprints: with a random key per seen-set, crafted keys
 * cannot be made to collide.  And the one hex spelling of a digest.
 *
 * Thread-safety: pure functions of their arguments; any thread may call them.
 */
#ifndef APIPE_HASH_H
#define APIPE_HASH_H

#include <stddef.h>
#include <stdint.h>

struct hash128 {
	uint64_t lo, hi;
};

/* SipHash-2-4 of data[0..n) under key: 128 bits into out, or 64 returned. */
void siphash128(const uint8_t key[16], const void *data, size_t n, struct hash128 *out);
uint64_t siphash64(const uint8_t key[16], const void *data, size_t n);
/* The n bytes at d as 2n lower-case hex digits and a NUL, into out (2n + 1 bytes). */
void hash_hex(const void *d, size_t n, char *out);
/* The SHA-256 of data[0..n) as 64 hex digits and a NUL. */
void hash_sha256_hex(const void *data, size_t n, char out[65]);
/* Fill buf with n random bytes from the kernel; 0 or -1. */
int hash_random(void *buf, size_t n);

#endif
