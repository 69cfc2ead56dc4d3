#include <stdint.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "idna.h"
#include "utf8.h"

/* ---- Punycode (RFC 3492 section 6.2) ---- */

enum { BASE = 36, TMIN = 1, TMAX = 26, SKEW = 38, DAMP = 700, INITIAL_BIAS = 72, INITIAL_N = 128 };
#define MAX_CP 64	/* a label is at most 63 octets, so at most 63 code points */

static uint32_t adapt(uint32_t delta, uint32_t npoints, int first)
{
	uint32_t k = 0;

	delta = first ? delta / DAMP : delta / 2;
	delta += delta / npoints;
	while (delta > ((BASE - TMIN) * TMAX) / 2) {
		delta /= BASE - TMIN;
		k += BASE;
	}
	return k + (BASE - TMIN + 1) * delta / (delta + SKEW);
}

static int digit_of(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0' + 26;
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	return -1;
}

long idna_punycode_decode(const char *s, size_t n, char *out, size_t outsz)
{
	uint32_t cp[MAX_CP], nout = 0, i = 0, code = INITIAL_N, bias = INITIAL_BIAS;
	size_t b = 0, in, k, len = 0;

	for (k = 0; k < n; k++)
		if (s[k] == '-')
			b = k;
	if (b > MAX_CP)
		return -1;
	for (k = 0; k < b; k++) {
		if ((unsigned char)s[k] >= 0x80)
			return -1;
		cp[nout++] = (unsigned char)s[k];
	}
	for (in = b > 0 ? b + 1 : 0; in < n;) {
		uint32_t oldi = i, w = 1, t, kk;

		for (kk = BASE;; kk += BASE) {
			int dg;

			if (in >= n || (dg = digit_of(s[in++])) < 0)
				return -1;
			if ((uint32_t)dg > (UINT32_MAX - i) / w)
				return -1;
			i += (uint32_t)dg * w;
			t = kk <= bias ? TMIN : kk >= bias + TMAX ? TMAX : kk - bias;
			if ((uint32_t)dg < t)
				break;
			if (w > UINT32_MAX / (BASE - t))
				return -1;
			w *= BASE - t;
		}
		bias = adapt(i - oldi, nout + 1, oldi == 0);
		if (i / (nout + 1) > UINT32_MAX - code)
			return -1;
		code += i / (nout + 1);
		i %= nout + 1;
		if (code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF) || nout >= MAX_CP)
			return -1;
		memmove(cp + i + 1, cp + i, (nout - i) * sizeof(*cp));
		cp[i++] = code;
		nout++;
	}
	for (k = 0; k < nout; k++) {
		char u[4];
		size_t ul = utf8_encode(cp[k], u);

		if (len + ul >= outsz)
			return -1;
		memcpy(out + len, u, ul);
		len += ul;
	}
	out[len] = '\0';
	return (long)len;
}

/* ---- U-label rules ---- */

#define VIRAMA "[\\x{94D}\\x{9CD}\\x{A4D}\\x{ACD}\\x{B4D}\\x{BCD}\\x{C4D}\\x{CCD}\\x{D3B}\\x{D3C}" \
	"\\x{D4D}\\x{DCA}\\x{E3A}\\x{EBA}\\x{F84}\\x{1039}\\x{103A}\\x{1714}\\x{1715}\\x{1734}" \
	"\\x{17D2}\\x{1A60}\\x{1B44}\\x{1BAA}\\x{1BAB}\\x{1BF2}\\x{1BF3}\\x{2D7F}\\x{A806}" \
	"\\x{A82C}\\x{A8C4}\\x{A953}\\x{A9C0}\\x{AAF6}\\x{ABED}\\x{10A3F}\\x{11046}\\x{11070}" \
	"\\x{1107F}\\x{110B9}\\x{11133}\\x{11134}\\x{111C0}\\x{11235}\\x{112EA}\\x{1134D}" \
	"\\x{11442}\\x{114C2}\\x{115BF}\\x{1163F}\\x{116B6}\\x{1172B}\\x{11839}\\x{1193D}" \
	"\\x{1193E}\\x{119E0}\\x{11A34}\\x{11A47}\\x{11A99}\\x{11C3F}\\x{11D44}\\x{11D45}\\x{11D97}]"
/* letters of the scripts whose letters join (Joining_Type L, D or R), approximately */
#define JOINING "(?=\\p{L})[\\p{Arabic}\\p{Syriac}\\p{Nko}\\p{Mongolian}\\p{Mandaic}" \
	"\\p{Manichaean}\\p{Psalter_Pahlavi}\\p{Adlam}\\p{Hanifi_Rohingya}\\p{Sogdian}\\p{Phags_Pa}]"

/* Any match makes the label invalid. */
static const char bad_src[] =
	"^\\p{M}"				/* starts with a combining mark */
	"|^-|-$|^..--"				/* hyphen rules (RFC 5891 4.2.3.1) */
	/* PVALID: letters without case or lower case, marks, digits, '-', the
	 * CONTEXT code points and RFC 5892's PVALID exceptions */
	"|[^\\p{Ll}\\p{Lo}\\p{Lm}\\p{Mn}\\p{Mc}\\p{Nd}\\-\\x{B7}\\x{375}\\x{5F3}\\x{5F4}\\x{30FB}"
	"\\x{200C}\\x{200D}\\x{660}-\\x{669}\\x{6F0}-\\x{6F9}\\x{DF}\\x{3C2}\\x{6FD}\\x{6FE}"
	"\\x{F0B}\\x{3007}]"
	"|[\\x{640}\\x{7FA}\\x{302E}\\x{302F}\\x{3031}-\\x{3035}\\x{303B}]"	/* DISALLOWED exceptions */
	"|(?<!l)\\x{B7}|\\x{B7}(?!l)"		/* MIDDLE DOT between two l */
	"|\\x{375}(?!\\p{Greek})"		/* KERAIA before Greek */
	"|(?<!\\p{Hebrew})[\\x{5F3}\\x{5F4}]"	/* GERESH, GERSHAYIM after Hebrew */
	"|[\\x{660}-\\x{669}].*[\\x{6F0}-\\x{6F9}]|[\\x{6F0}-\\x{6F9}].*[\\x{660}-\\x{669}]"
	"|(?<!" VIRAMA ")\\x{200D}";		/* ZERO WIDTH JOINER after a virama */
/* Each ZERO WIDTH NON-JOINER must be one of these. */
static const char zwnj_src[] = VIRAMA "\\x{200C}|" JOINING "\\p{Mn}*\\x{200C}(?=\\p{Mn}*" JOINING ")";
static const char kana_src[] = "(?!\\x{30FB})[\\p{Hiragana}\\p{Katakana}\\p{Han}]";

static pcre2_code *compile(const char *src)
{
	int err;
	PCRE2_SIZE off;

	return pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP |
			     PCRE2_DOTALL | PCRE2_NO_UTF_CHECK, &err, &off, NULL);
}

/* Matches of re in s[0..n) (non-overlapping), or -1. */
static int matches(pcre2_code *re, const char *s, size_t n, int all)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	PCRE2_SIZE at = 0;
	int count = 0, rc;

	if (!md)
		return -1;
	while (at <= n && (rc = pcre2_match(re, (PCRE2_SPTR)s, n, at, 0, md, NULL)) >= 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);

		count++;
		if (!all)
			break;
		at = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
	}
	pcre2_match_data_free(md);
	return count;
}

static size_t count_bytes(const char *s, size_t n, const char *needle)
{
	size_t c = 0, m = strlen(needle);
	const char *p = s, *end = s + n;

	while ((p = memmem(p, (size_t)(end - p), needle, m))) {
		c++;
		p += m;
	}
	return c;
}

int idna_ulabel_ok(const char *s, size_t n)
{
	static pcre2_code *bad, *zwnj, *kana;
	size_t nzwnj;

	if (!bad && (!(bad = compile(bad_src)) || !(zwnj = compile(zwnj_src)) ||
		     !(kana = compile(kana_src))))
		return 0;
	if (n == 0 || !utf8_valid(s, n) || matches(bad, s, n, 0) != 0)
		return 0;
	nzwnj = count_bytes(s, n, "\xe2\x80\x8c");	/* U+200C */
	if (nzwnj && (size_t)matches(zwnj, s, n, 1) != nzwnj)
		return 0;
	if (memmem(s, n, "\xe3\x83\xbb", 3) && matches(kana, s, n, 0) != 1)	/* U+30FB */
		return 0;
	return 1;
}

int idna_alabel_ok(const char *s, size_t n)
{
	char u[MAX_CP * 4 + 1];
	long len;
	long k;

	len = idna_punycode_decode(s + 4, n - 4, u, sizeof(u));
	if (len <= 0)
		return 0;
	for (k = 0; k < len && !((unsigned char)u[k] & 0x80); k++)
		;
	return k < len && idna_ulabel_ok(u, (size_t)len);	/* all ASCII: not an A-label */
}
