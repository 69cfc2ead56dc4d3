/*
 * base64: RFC 4648 encoding and decoding, the standard alphabet padded
 * and the URL-safe alphabet unpadded (as JWTs use it).
 */
#ifndef APIPE_BASE64_H
#define APIPE_BASE64_H

#include <stddef.h>

#include "strbuf.h"

/* Append data[0..n) in base64 with padding (RFC 4648 section 4).  0, or -1 on no room. */
int base64_encode(struct strbuf *out, const void *data, size_t n);
/* Decode; whitespace is not allowed.  0, or -1 on bad input or no room. */
int base64_decode(struct strbuf *out, const char *s, size_t n);
/* base64url without padding (RFC 4648 section 5). */
int base64url_encode(struct strbuf *out, const void *data, size_t n);
/* Decode base64url, padded or not; 0, or -1 on bad input. */
int base64url_decode(struct strbuf *out, const char *s, size_t n);

#endif
