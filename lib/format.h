/*
 * format: the JSON Schema "format" values validate can assert.
 *
 * date-time, date and time (RFC 3339, leap seconds only at 23:59:60 UTC),
 * duration (RFC 3339 appendix A), email (RFC 5321 addresses: dot-atom or
 * quoted local part, a hostname or an address literal), hostname
 * (RFC 1123; xn-- labels must be valid A-labels, lib/idna), idn-hostname
 * (U-labels or host name labels, lib/idna), ipv4 (dotted decimal, no leading zeros), ipv6 (RFC 4291, no
 * zone), uri and uri-reference (RFC 3986 characters and shape), uuid
 * (RFC 4122 text form), regex (compiles as validate's patterns do),
 * json-pointer (RFC 6901) and relative-json-pointer.
 */
#ifndef APIPE_FORMAT_H
#define APIPE_FORMAT_H

#include <stddef.h>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

/*
 * A JSON Schema pattern as a PCRE2 regular expression, as close to
 * ECMA-262 as PCRE2 goes: UTF and Unicode properties (long property names
 * mapped to PCRE2's), '$' only at the end, no implicit anchoring, JIT
 * compiled.  NULL with the reason in err when it does not compile.
 */
pcre2_code *format_regex(const char *src, size_t n, char *err, size_t errn);
/* A format's check: 1 when s[0..n) is of the format, 0 when not. */
typedef int (*format_fn)(const char *s, size_t n);
/* The check of format name, or NULL for a format not known here. */
format_fn format_lookup(const char *name);
/* 1 when s[0..n) is of format name, 0 when not, -1 for a format not known here. */
int format_check(const char *name, const char *s, size_t n);

#endif
