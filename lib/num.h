/*
 * num: the project's one number parser.
 *
 * JSON numbers are never converted to double for comparison: a number's
 * source text is decomposed into sign, significant digits and a decimal
 * exponent, and compared exactly, so 1, 1.0 and 10e-1 are equal and
 * 12345678901234567890123 keeps all its digits.  Exponents of any length
 * are exact: 1e9223372036854775807 and 1e9223372036854775808 differ, and
 * 10e9223372036854775806 equals the first.
 *
 * The CLI helpers parse command-line counts and sizes strictly.
 */
#ifndef APIPE_NUM_H
#define APIPE_NUM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "strbuf.h"

/* The value of hex digit c (either case), or -1: JSON's \u escapes, percent-encoding. */
static inline int num_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

struct decnum {
	const char *ip; size_t in;	/* integer digits */
	const char *fp; size_t fn;	/* fraction digits */
	int neg;
	int zero;
	size_t lead;	/* index of the first non-zero digit in ip·fp */
	size_t nsig;	/* significant digits from lead to the last non-zero */
	int64_t adj;	/* value = 0.d1d2d3… × 10^adj, saturated at ±4e18 when bigexp */
	/*
	 * An exponent of more than 18 digits: adj is exactly (eneg ? -E : E) +
	 * shift, E being the digits ep[0..en) (no leading zeros).
	 */
	int bigexp, eneg;
	const char *ep;
	size_t en;
	int64_t shift;
};

/* Decompose a JSON number; returns 0, or -1 when text is not one. */
int num_decompose(const char *text, size_t len, struct decnum *dn);
/* The i-th significant digit (0 ≤ i < nsig) as a character. */
char num_digit(const struct decnum *dn, size_t i);
/* Exact comparison of two JSON numbers: <0, 0, >0.  Both must be valid. */
int num_cmp(const char *a, size_t alen, const char *b, size_t blen);
int num_cmp_dec(const struct decnum *a, const struct decnum *b);
/* Canonical text: "0", or [-]DIGITSeADJ.  Appends to out. */
int num_canon(const char *text, size_t len, struct strbuf *out);
/* Exact integer value of a JSON number that fits int64 (1.0e3 counts). */
int num_to_i64(const char *text, size_t len, int64_t *out);
/* 1 when text is a valid JSON number. */
int num_valid(const char *text, size_t len);
int num_valid_text(const char *s);

/* Command-line values.  Each returns 0, or -1 with EX_USAGE in e naming opt. */
int num_parse_u64(const char *s, uint64_t *out, const char *opt, struct aperr *e);
/* A whole number from min to max. */
int num_parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out, const char *opt,
		    struct aperr *e);
/*
 * A decimal number from min to max (what is named by what: "seconds", "a
 * percentage"); above min only when !min_ok.
 */
int num_parse_real(const char *s, double min, int min_ok, double max, double *out,
		   const char *opt, const char *what, struct aperr *e);
/* A size such as 4096, 64K, 64M, 1G (powers of 1024). */
int num_parse_size(const char *s, uint64_t *out, const char *opt, struct aperr *e);

#endif
