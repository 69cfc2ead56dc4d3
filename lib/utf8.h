/* utf8: validation and encoding (RFC 3629: no overlongs, no surrogates, ≤ U+10FFFF). */
#ifndef APIPE_UTF8_H
#define APIPE_UTF8_H

#include <stddef.h>

/*
 * Length of the valid UTF-8 sequence at p (p[0] may be any byte), or 0 when
 * the bytes there are not valid UTF-8.  Never reads past p + n.
 */
size_t utf8_valid_seq(const unsigned char *p, size_t n);
/* 1 when all of p[0..n) is valid UTF-8. */
int utf8_valid(const char *p, size_t n);
/* Encode code point cp into out (up to 4 bytes); returns the length. */
size_t utf8_encode(unsigned cp, char *out);
/* Number of code points in valid UTF-8 text. */
size_t utf8_count(const char *p, size_t n);

#endif
