#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"

#define EXP_SAT ((int64_t)4000000000000000000LL)

int num_decompose(const char *s, size_t len, struct decnum *dn)
{
	const char *p = s, *end = s + len;
	int64_t exp = 0;
	size_t i, total, last;

	memset(dn, 0, sizeof(*dn));
	if (p < end && *p == '-') {
		dn->neg = 1;
		p++;
	}
	dn->ip = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	dn->in = (size_t)(p - dn->ip);
	if (!dn->in || (dn->in > 1 && dn->ip[0] == '0'))
		return -1;
	if (p < end && *p == '.') {
		dn->fp = ++p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		dn->fn = (size_t)(p - dn->fp);
		if (!dn->fn)
			return -1;
	} else {
		dn->fp = p;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		int eneg = 0;
		const char *e0;

		p++;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		e0 = p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p == e0)
			return -1;
		while (e0 < p - 1 && *e0 == '0')
			e0++;
		if (p - e0 > 18) {
			dn->bigexp = 1;
			dn->eneg = eneg;
			dn->ep = e0;
			dn->en = (size_t)(p - e0);
			exp = EXP_SAT;
		} else {
			for (; e0 < p; e0++)
				exp = exp * 10 + (*e0 - '0');
		}
		if (eneg)
			exp = -exp;
	}
	if (p != end)
		return -1;
	total = dn->in + dn->fn;
	for (i = 0; i < total; i++)
		if ((i < dn->in ? dn->ip[i] : dn->fp[i - dn->in]) != '0')
			break;
	if (i == total) {
		dn->zero = 1;
		dn->neg = 0;
		return 0;
	}
	dn->lead = i;
	for (last = total - 1; last > i; last--)
		if ((last < dn->in ? dn->ip[last] : dn->fp[last - dn->in]) != '0')
			break;
	dn->nsig = last - i + 1;
	dn->shift = (int64_t)dn->in - (int64_t)dn->lead;
	dn->adj = dn->bigexp ? exp : dn->shift + exp;
	return 0;
}

/* Digit k (0: the units) of a digit string p[0..n), 0 past its start. */
static int digit_at(const char *p, size_t n, size_t k)
{
	return k < n ? p[n - 1 - k] - '0' : 0;
}

/*
 * The magnitude of dn's exponent as digits (E for a big one, else the whole
 * adj printed into buf, 24 bytes) and its sign.
 */
static const char *exp_digits(const struct decnum *dn, char *buf, size_t *n, int *sign)
{
	int64_t v;

	if (dn->bigexp) {
		*n = dn->en;
		*sign = dn->eneg ? -1 : 1;
		return dn->ep;
	}
	v = dn->adj < 0 ? -dn->adj : dn->adj;
	*n = (size_t)snprintf(buf, 24, "%lld", (long long)v);
	*sign = dn->adj < 0 ? -1 : 1;
	return buf;
}

/*
 * Compare the exact adjusted exponents of a and b, at least one of them of
 * more than 18 digits.  adj = ±E + shift with |shift| < 2^34, so E alone
 * decides unless the two E agree in every digit above the last 18; then
 * the difference of those last digits, with the shifts, fits an int64.
 */
static int cmp_bigadj(const struct decnum *a, const struct decnum *b)
{
	const char *ap, *bp;
	char abuf[24], bbuf[24];
	size_t an, bn, k, top;
	int as, bs;
	int64_t alo = 0, blo = 0, x, y;

	ap = exp_digits(a, abuf, &an, &as);
	bp = exp_digits(b, bbuf, &bn, &bs);
	/* a non-big side is its whole adj: its shift is already in */
	x = a->bigexp ? a->shift : 0;
	y = b->bigexp ? b->shift : 0;
	if (as != bs) {
		/* the big side's sign decides: |E| >= 10^18 dwarfs every shift */
		const struct decnum *big = a->bigexp ? a : b;
		int sign = big == a ? as : -bs;

		return sign;
	}
	top = an > bn ? an : bn;
	for (k = top; k-- > 18;) {
		int da = digit_at(ap, an, k), db = digit_at(bp, bn, k);

		if (da != db)
			return (da < db ? -1 : 1) * as;
	}
	for (k = 18; k-- > 0;) {
		alo = alo * 10 + digit_at(ap, an, k);
		blo = blo * 10 + digit_at(bp, bn, k);
	}
	x += as * alo;
	y += bs * blo;
	return x < y ? -1 : x > y;
}

/* Append the exact adjusted exponent of dn. */
static int add_adj(struct strbuf *out, const struct decnum *dn)
{
	char *d;
	size_t i, n;
	int64_t s;
	int carry;

	if (!dn->bigexp)
		return strbuf_addf(out, "%lld", (long long)dn->adj);
	/* |E| >= 10^18 > |shift|: the sign is E's, the magnitude E ± |shift| */
	if (!(d = malloc(dn->en + 2)))
		return -1;
	memcpy(d + 1, dn->ep, dn->en);
	d[0] = '0';
	n = dn->en + 1;
	s = dn->eneg ? -dn->shift : dn->shift;	/* what to add to E's magnitude */
	carry = 0;
	if (s >= 0) {
		for (i = n; i-- > 0;) {
			int v = d[i] - '0' + (int)(s % 10) + carry;

			s /= 10;
			carry = v / 10;
			d[i] = (char)('0' + v % 10);
		}
	} else {
		s = -s;
		for (i = n; i-- > 0;) {
			int v = d[i] - '0' - (int)(s % 10) - carry;

			s /= 10;
			carry = v < 0;
			d[i] = (char)('0' + (v + 10) % 10);
		}
	}
	for (i = 0; i < n - 1 && d[i] == '0'; i++)
		;
	if (dn->eneg)
		strbuf_addch(out, '-');
	strbuf_add(out, d + i, n - i);
	free(d);
	return strbuf_failed(out) ? -1 : 0;
}

char num_digit(const struct decnum *dn, size_t i)
{
	size_t j = dn->lead + i;

	return j < dn->in ? dn->ip[j] : dn->fp[j - dn->in];
}

int num_valid(const char *text, size_t len)
{
	struct decnum dn;

	return num_decompose(text, len, &dn) == 0;
}

int num_valid_text(const char *s)
{
	return num_valid(s, strlen(s));
}

static int cmp_mag(const struct decnum *a, const struct decnum *b)
{
	size_t i, n;

	if (a->zero || b->zero)
		return a->zero && b->zero ? 0 : a->zero ? -1 : 1;
	if (a->bigexp || b->bigexp) {
		int c = cmp_bigadj(a, b);

		if (c)
			return c;
	} else if (a->adj != b->adj) {
		return a->adj < b->adj ? -1 : 1;
	}
	n = a->nsig < b->nsig ? a->nsig : b->nsig;
	for (i = 0; i < n; i++) {
		char x = num_digit(a, i), y = num_digit(b, i);

		if (x != y)
			return x < y ? -1 : 1;
	}
	return a->nsig == b->nsig ? 0 : a->nsig < b->nsig ? -1 : 1;
}

int num_cmp_dec(const struct decnum *a, const struct decnum *b)
{
	if (a->neg != b->neg)
		return a->neg ? -1 : 1;
	return a->neg ? -cmp_mag(a, b) : cmp_mag(a, b);
}

/*
 * A JSON number [-]digits[.digits] (no exponent) of at most 18 digits as
 * the integer of its digits, *v, and the number of them after the point,
 * *scale; the digits before the point in *ni.  1, or 0 for any other form.
 */
static int small_dec(const char *s, size_t n, int64_t *v, int *scale, int *ni)
{
	size_t i = s[0] == '-', dot = 0, digits = 0;
	int64_t x = 0;

	for (; i < n; i++) {
		if (s[i] == '.' && !dot) {
			dot = i;
			continue;
		}
		if (s[i] < '0' || s[i] > '9' || ++digits > 18)
			return 0;
		x = x * 10 + (s[i] - '0');
	}
	if (!digits)
		return 0;
	*v = s[0] == '-' ? -x : x;
	*scale = dot ? (int)(n - dot - 1) : 0;
	*ni = (int)digits - *scale;
	return 1;
}

int num_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	struct decnum x, y;
	int64_t i, j;
	int sa, sb, na, nb;

	if (alen && blen && small_dec(a, alen, &i, &sa, &na) && small_dec(b, blen, &j, &sb, &nb)) {
		/* exact in 64 bits when both fit at the finer scale */
		int s = sa > sb ? sa : sb;

		if (na + s <= 18 && nb + s <= 18) {
			for (; sa < s; sa++)
				i *= 10;
			for (; sb < s; sb++)
				j *= 10;
			return i < j ? -1 : i > j;
		}
	}
	num_decompose(a, alen, &x);
	num_decompose(b, blen, &y);
	return num_cmp_dec(&x, &y);
}

/* num_canon of a plain nonzero integer ([-]d+, no leading zero): digits less trailing zeros, "e", count. */
static int canon_int(const char *text, size_t len, struct strbuf *out)
{
	size_t k = text[0] == '-', m = len, nd = len - k;
	char e[24];
	size_t en = sizeof(e);

	while (text[m - 1] == '0')
		m--;
	do
		e[--en] = (char)('0' + nd % 10);
	while (nd /= 10);
	if (strbuf_grow(out, len + 1 + sizeof(e)) < 0)
		return -1;
	memcpy(out->buf + out->len, text, m);
	out->len += m;
	out->buf[out->len++] = 'e';
	memcpy(out->buf + out->len, e + en, sizeof(e) - en);
	out->len += sizeof(e) - en;
	out->buf[out->len] = '\0';
	return 0;
}

int num_canon(const char *text, size_t len, struct strbuf *out)
{
	struct decnum dn;
	size_t i;

	for (i = len && text[0] == '-'; i < len && text[i] >= '0' && text[i] <= '9'; i++)
		;
	if (i == len && len > (size_t)(text[0] == '-') && text[text[0] == '-'] != '0')
		return canon_int(text, len, out);
	if (num_decompose(text, len, &dn) < 0)
		return -1;
	if (dn.zero)
		return strbuf_addch(out, '0');
	if (dn.neg && strbuf_addch(out, '-') < 0)
		return -1;
	if (strbuf_grow(out, dn.nsig) < 0)
		return -1;
	for (i = 0; i < dn.nsig; i++)
		out->buf[out->len++] = num_digit(&dn, i);
	out->buf[out->len] = '\0';
	if (strbuf_addch(out, 'e') < 0)
		return -1;
	return add_adj(out, &dn);
}

int num_to_i64(const char *text, size_t len, int64_t *out)
{
	struct decnum dn;
	uint64_t v = 0;
	size_t i;

	if (num_decompose(text, len, &dn) < 0)
		return -1;
	if (dn.zero) {
		*out = 0;
		return 0;
	}
	if (dn.adj < (int64_t)dn.nsig || dn.adj > 19)
		return -1;	/* has a fraction, or too large */
	for (i = 0; i < (size_t)dn.adj; i++) {
		unsigned d = i < dn.nsig ? (unsigned)(num_digit(&dn, i) - '0') : 0;

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (dn.neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return -1;
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	} else {
		if (v > (uint64_t)INT64_MAX)
			return -1;
		*out = (int64_t)v;
	}
	return 0;
}

int num_parse_u64(const char *s, uint64_t *out, const char *opt, struct aperr *e)
{
	char *end;
	unsigned long long v;

	if (!*s || *s < '0' || *s > '9')
		return aperr_set(e, EX_USAGE, "%s: '%s' is not a whole number", opt, s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return aperr_set(e, EX_USAGE, "%s: '%s' is not a whole number", opt, s);
	*out = v;
	return 0;
}

int num_parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out, const char *opt,
		    struct aperr *e)
{
	if (num_parse_u64(s, out, opt, e) < 0)
		return -1;
	if (*out < min || *out > max)
		return aperr_set(e, EX_USAGE, "%s: '%s' is not a count from %llu to %llu", opt, s,
				 (unsigned long long)min, (unsigned long long)max);
	return 0;
}

int num_parse_real(const char *s, double min, int min_ok, double max, double *out,
		   const char *opt, const char *what, struct aperr *e)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || v != v || v < min || (!min_ok && v <= min) || v > max)
		return aperr_set(e, EX_USAGE, "%s: '%s' is not %s", opt, s, what);
	*out = v;
	return 0;
}

int num_parse_size(const char *s, uint64_t *out, const char *opt, struct aperr *e)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!*s || *s < '0' || *s > '9')
		return aperr_set(e, EX_USAGE, "%s: '%s' is not a size", opt, s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return aperr_set(e, EX_USAGE, "%s: '%s' is too large", opt, s);
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default:
		return aperr_set(e, EX_USAGE, "%s: '%s' is not a size (use K, M or G)", opt, s);
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return aperr_set(e, EX_USAGE, "%s: '%s' is not a size", opt, s);
	*out = (uint64_t)v << shift;
	return 0;
}
