#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/sha.h>

#include "hash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND \
	do { \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
	} while (0)

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
	       (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

static void sip(const uint8_t key[16], const void *data, size_t n, int wide,
		uint64_t out[2])
{
	const uint8_t *p = data, *end = p + (n & ~(size_t)7);
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
	uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
	uint64_t v3 = k1 ^ 0x7465646279746573ULL;
	uint64_t b = (uint64_t)n << 56, m;
	size_t tail;

	if (wide)
		v1 ^= 0xee;
	for (; p != end; p += 8) {
		m = le64(p);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (tail = n & 7; tail > 0; tail--)	/* the last n % 8 bytes, little-endian */
		b |= (uint64_t)p[tail - 1] << (8 * (tail - 1));
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= wide ? 0xee : 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	out[0] = v0 ^ v1 ^ v2 ^ v3;
	if (!wide)
		return;
	v1 ^= 0xdd;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	out[1] = v0 ^ v1 ^ v2 ^ v3;
}

void siphash128(const uint8_t key[16], const void *data, size_t n, struct hash128 *out)
{
	uint64_t o[2];

	sip(key, data, n, 1, o);
	out->lo = o[0];
	out->hi = o[1];
}

uint64_t siphash64(const uint8_t key[16], const void *data, size_t n)
{
	uint64_t o[2];

	sip(key, data, n, 0, o);
	return o[0];
}

int hash_random(void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n) {
		ssize_t k = getrandom(p, n, 0);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

void hash_hex(const void *d, size_t n, char *out)
{
	static const char x[] = "0123456789abcdef";
	const unsigned char *b = d;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = x[b[i] >> 4];
		out[2 * i + 1] = x[b[i] & 15];
	}
	out[2 * n] = '\0';
}

void hash_sha256_hex(const void *data, size_t n, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256(data, n, md);
	hash_hex(md, sizeof(md), out);
}
