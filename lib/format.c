#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <strings.h>
#include <string.h>

#include "format.h"
#include "idna.h"
#include "strbuf.h"
#include "utf8.h"

static int digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int num(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int full_date(const char *s, size_t n)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d;

	if (n != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4) || !digits(s + 5, 2) ||
	    !digits(s + 8, 2))
		return 0;
	y = num(s, 4);
	m = num(s + 5, 2);
	d = num(s + 8, 2);
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	return !(m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

/* hh:mm:ss[.frac](Z|±hh:mm); a leap second only where UTC is 23:59:60. */
static int full_time(const char *s, size_t n)
{
	int h, m, sec, oh = 0, om = 0, sign = 0;
	size_t i = 8;

	if (n < 9 || s[2] != ':' || s[5] != ':' || !digits(s, 2) || !digits(s + 3, 2) ||
	    !digits(s + 6, 2))
		return 0;
	h = num(s, 2);
	m = num(s + 3, 2);
	sec = num(s + 6, 2);
	if (i < n && s[i] == '.') {
		size_t f = ++i;

		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == f)
			return 0;
	}
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		if (i + 1 != n)
			return 0;
	} else if (i < n && (s[i] == '+' || s[i] == '-')) {
		if (n - i != 6 || s[i + 3] != ':' || !digits(s + i + 1, 2) || !digits(s + i + 4, 2))
			return 0;
		sign = s[i] == '+' ? 1 : -1;
		oh = num(s + i + 1, 2);
		om = num(s + i + 4, 2);
		if (oh > 23 || om > 59)
			return 0;
	} else {
		return 0;
	}
	if (h > 23 || m > 59 || sec > 60)
		return 0;
	if (sec == 60) {
		int utc = ((h * 60 + m - sign * (oh * 60 + om)) % 1440 + 1440) % 1440;

		return utc == 23 * 60 + 59;
	}
	return 1;
}

static int date_time(const char *s, size_t n)
{
	return n > 11 && (s[10] == 'T' || s[10] == 't') && full_date(s, 10) &&
	       full_time(s + 11, n - 11);
}

/* P[nY][nM][nD][T[nH][nM][nS]] with at least one part, or PnW alone. */
static int duration(const char *s, size_t n)
{
	static const char date_units[] = "YMD", time_units[] = "HMS";
	size_t i = 1;
	int any = 0, in_time = 0;
	const char *units = date_units;

	if (n < 2 || s[0] != 'P')
		return 0;
	if (s[n - 1] == 'W')
		return n > 2 && digits(s + 1, n - 2);
	while (i < n) {
		size_t start = i;
		const char *u;

		if (s[i] == 'T') {
			if (in_time || i + 1 >= n)
				return 0;
			in_time = 1;
			units = time_units;
			i++;
			continue;
		}
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start || i >= n || !(u = strchr(units, s[i])) || !*u)
			return 0;
		/* the first unit of a part may be any; then each the next one (Y M D, H M S) */
		if (units != date_units && units != time_units && u != units)
			return 0;
		units = u + 1;
		any = 1;
		i++;
	}
	return any && s[n - 1] != 'T';
}

/* An "xn--" label must be a valid A-label. */
static int alabel(const char *s, size_t n)
{
	return n < 4 || strncasecmp(s, "xn--", 4) || idna_alabel_ok(s, n);
}

static int hostname(const char *s, size_t n)
{
	size_t i, label = 0;

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-' || !alabel(s + i - label, label))
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return 0;
		if (c == '-' && label == 0)
			return 0;
		if (++label > 63)
			return 0;
		/* "--" in the 3rd and 4th place is for A-labels (xn--) only */
		if (label == 4 && c == '-' && s[i - 1] == '-' &&
		    !((s[i - 3] | 32) == 'x' && (s[i - 2] | 32) == 'n'))
			return 0;
	}
	return label > 0 && s[n - 1] != '-' && alabel(s + n - label, label);
}

/*
 * An internationalised host name: labels separated by '.' or the
 * ideographic and full-width full stops, each an ASCII host name label
 * (an xn-- one a valid A-label) or a valid U-label.
 */
static int idn_hostname(const char *s, size_t n)
{
	size_t i = 0, start = 0, total = 0;

	if (n == 0 || !utf8_valid(s, n))
		return 0;
	while (i <= n) {
		size_t dot = 0;

		if (i < n && s[i] == '.')
			dot = 1;
		else if (i + 3 <= n && (!memcmp(s + i, "\xe3\x80\x82", 3) ||	/* U+3002 */
					!memcmp(s + i, "\xef\xbc\x8e", 3) ||	/* U+FF0E */
					!memcmp(s + i, "\xef\xbd\xa1", 3)))	/* U+FF61 */
			dot = 3;
		if (i == n || dot) {
			const char *l = s + start;
			size_t ln = i - start, k;

			for (k = 0; k < ln && !((unsigned char)l[k] & 0x80); k++)
				;
			/* a U-label's A-label has "xn--" and a character or more per code point */
			if (ln == 0 || (k == ln ? !hostname(l, ln) :
					4 + utf8_count(l, ln) > 63 || !idna_ulabel_ok(l, ln)))
				return 0;
			total += ln + 1;
			if (i == n)
				break;
			i += dot;
			start = i;
			continue;
		}
		i++;
	}
	return total <= 254;
}

static int ipv4(const char *s, size_t n)
{
	size_t i = 0, parts = 0;

	while (parts < 4) {
		size_t st = i;

		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == st || i - st > 3 || (i - st > 1 && s[st] == '0') || num(s + st, i - st) > 255)
			return 0;
		parts++;
		if (parts < 4) {
			if (i >= n || s[i] != '.')
				return 0;
			i++;
		}
	}
	return i == n;
}

static int ipv6(const char *s, size_t n)
{
	char buf[64];
	unsigned char out[16];
	size_t i;

	if (n == 0 || n >= sizeof(buf))
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F') || s[i] == ':' || s[i] == '.'))
			return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (memchr(s, '.', n)) {
		/* an embedded IPv4 address follows the last ':' and has no leading zeros */
		const char *last = memrchr(s, ':', n);

		if (!last || !ipv4(last + 1, n - (size_t)(last + 1 - s)))
			return 0;
	}
	return inet_pton(AF_INET6, buf, out) == 1;
}

static int email(const char *s, size_t n)
{
	const char *at;
	size_t i, ln;

	if (n && s[0] == '"') {
		/* a quoted local part */
		for (i = 1; i < n && s[i] != '"'; i++)
			if (s[i] == '\\')
				i++;
		if (i >= n || i + 1 >= n || s[i + 1] != '@')
			return 0;
		at = s + i + 1;
	} else {
		at = memchr(s, '@', n);
		if (!at)
			return 0;
		ln = (size_t)(at - s);
		if (ln == 0 || s[0] == '.' || s[ln - 1] == '.')
			return 0;
		for (i = 0; i < ln; i++) {
			char c = s[i];

			if (c == '.' && s[i + 1] == '.')
				return 0;
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			      strchr("!#$%&'*+-/=?^_`{|}~.", c)))
				return 0;
		}
	}
	at++;
	n -= (size_t)(at - s);
	if (n > 2 && at[0] == '[' && at[n - 1] == ']') {
		if (n > 7 && !strncmp(at + 1, "IPv6:", 5))
			return ipv6(at + 6, n - 7);
		return ipv4(at + 1, n - 2);
	}
	return hostname(at, n);
}

/* RFC 3986 characters; need_scheme for uri, not for uri-reference. */
static int uri(const char *s, size_t n, int need_scheme)
{
	size_t i, colon = 0;
	int scheme = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]))
				return 0;
			i += 2;
			continue;
		}
		if (c <= ' ' || c >= 0x7f || strchr("\"<>\\^`{|}", c))
			return 0;
	}
	/* a scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" before any / ? # */
	for (i = 0; i < n && !strchr("/?#", s[i]); i++)
		if (s[i] == ':') {
			colon = i;
			scheme = 1;
			break;
		}
	if (scheme) {
		if (colon == 0 || !((s[0] | 32) >= 'a' && (s[0] | 32) <= 'z'))
			return 0;
		for (i = 1; i < colon; i++)
			if (!(((s[i] | 32) >= 'a' && (s[i] | 32) <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
			      s[i] == '+' || s[i] == '-' || s[i] == '.'))
				return 0;
	}
	if (need_scheme && !scheme)
		return 0;
	{
		/* the authority: brackets only around an IP literal */
		const char *p = scheme ? s + colon + 1 : s, *end = s + n;

		if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
			const char *a = p + 2, *ae = a, *at, *host, *he, *q;

			while (ae < end && !strchr("/?#", *ae))
				ae++;
			/* [userinfo "@"] host [":" port] */
			at = memchr(a, '@', (size_t)(ae - a));
			if (at && memchr(at + 1, '@', (size_t)(ae - at - 1)))
				return 0;
			for (q = a; at && q < at; q++)
				if (!(isalnum((unsigned char)*q) || strchr("-._~%!$&'()*+,;=:", *q)))
					return 0;
			host = at ? at + 1 : a;
			if (host < ae && *host == '[') {
				he = memchr(host, ']', (size_t)(ae - host));
				if (!he || (he - host > 1 && host[1] != 'v' && host[1] != 'V' &&
					    !ipv6(host + 1, (size_t)(he - host - 1))))
					return 0;
				he++;
			} else {
				he = memchr(host, ':', (size_t)(ae - host));
				if (!he)
					he = ae;
				for (q = host; q < he; q++)
					if (!(isalnum((unsigned char)*q) || strchr("-._~%!$&'()*+,;=", *q)))
						return 0;
			}
			if (he < ae) {
				if (*he != ':')
					return 0;
				for (q = he + 1; q < ae; q++)
					if (*q < '0' || *q > '9')
						return 0;
			}
		} else {
			for (; p < end && *p != '#'; p++)
				if (*p == '[' || *p == ']')
					return 0;
		}
	}
	return 1;
}

static int uuid(const char *s, size_t n)
{
	size_t i;

	if (n != 36)
		return 0;
	for (i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

static int json_pointer(const char *s, size_t n)
{
	size_t i;

	if (n && s[0] != '/')
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] == '~' && (i + 1 >= n || (s[i + 1] != '0' && s[i + 1] != '1')))
			return 0;
	return 1;
}

static int relative_json_pointer(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == 0 || (i > 1 && s[0] == '0'))
		return 0;
	if (i < n && (s[i] == '+' || s[i] == '-')) {
		size_t st = ++i;

		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == st || (i - st > 1 && s[st] == '0'))
			return 0;
	}
	return i == n || (s[i] == '#' && i + 1 == n) || json_pointer(s + i, n - i);
}

/* ECMA-262 names General_Category values in full; PCRE2 10.42 knows the short ones. */
static void ecma_properties(const char *src, size_t n, struct strbuf *out)
{
	static const char *const names[][2] = {
		{ "Letter", "L" }, { "Lowercase_Letter", "Ll" }, { "Uppercase_Letter", "Lu" },
		{ "Titlecase_Letter", "Lt" }, { "Modifier_Letter", "Lm" }, { "Other_Letter", "Lo" },
		{ "Mark", "M" }, { "Number", "N" }, { "Decimal_Number", "Nd" }, { "digit", "Nd" },
		{ "Letter_Number", "Nl" }, { "Other_Number", "No" }, { "Punctuation", "P" },
		{ "punct", "P" }, { "Symbol", "S" }, { "Math_Symbol", "Sm" },
		{ "Currency_Symbol", "Sc" }, { "Separator", "Z" }, { "Space_Separator", "Zs" },
		{ "Other", "C" }, { "Control", "Cc" }, { "cntrl", "Cc" }
	};
	size_t i = 0, k;

	while (i < n) {
		if (src[i] == '\\' && i + 2 < n && (src[i + 1] == 'p' || src[i + 1] == 'P') &&
		    src[i + 2] == '{') {
			const char *close = memchr(src + i + 3, '}', n - i - 3);
			size_t len = close ? (size_t)(close - src - i - 3) : 0;
			const char *name = src + i + 3;

			if (!strncmp(name, "General_Category=", 17) || !strncmp(name, "gc=", 3)) {
				size_t skip = name[0] == 'g' && name[1] == 'c' ? 3 : 17;

				name += skip;
				len -= skip;
			}
			for (k = 0; close && k < sizeof(names) / sizeof(*names); k++)
				if (strlen(names[k][0]) == len && !memcmp(name, names[k][0], len)) {
					strbuf_addf(out, "\\%c{%s}", src[i + 1], names[k][1]);
					i = (size_t)(close - src) + 1;
					break;
				}
			if (close && k < sizeof(names) / sizeof(*names))
				continue;
		}
		if (src[i] == '\\' && i + 1 < n) {
			strbuf_add(out, src + i, 2);
			i += 2;
			continue;
		}
		strbuf_addch(out, src[i++]);
	}
}

pcre2_code *format_regex(const char *src0, size_t n0, char *err, size_t errn)
{
	int code;
	PCRE2_SIZE off;
	struct strbuf tr = STRBUF_INIT;
	const char *src;
	size_t n;
	pcre2_code *re;

	ecma_properties(src0, n0, &tr);
	src = tr.buf;
	n = tr.len;
	re = pcre2_compile((PCRE2_SPTR)src, n, PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &code,
			   &off, NULL);
	strbuf_release(&tr);

	if (!re) {
		PCRE2_UCHAR buf[120];

		pcre2_get_error_message(code, buf, sizeof(buf));
		snprintf(err, errn, "bad pattern at offset %zu: %s", (size_t)off, (char *)buf);
		return NULL;
	}
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

static int regex_ok(const char *s, size_t n)
{
	char err[200];
	pcre2_code *re = format_regex(s, n, err, sizeof(err));

	if (!re)
		return 0;
	pcre2_code_free(re);
	return 1;
}

static int uri_absolute(const char *s, size_t n)
{
	return uri(s, n, 1);
}

static int uri_reference(const char *s, size_t n)
{
	return uri(s, n, 0);
}

static const struct {
	const char *name;
	int (*check)(const char *s, size_t n);
} formats[] = {
	{ "date-time", date_time }, { "date", full_date }, { "time", full_time },
	{ "duration", duration }, { "email", email }, { "hostname", hostname },
	{ "idn-hostname", idn_hostname },
	{ "ipv4", ipv4 }, { "ipv6", ipv6 }, { "uri", uri_absolute },
	{ "uri-reference", uri_reference }, { "uuid", uuid }, { "regex", regex_ok },
	{ "json-pointer", json_pointer }, { "relative-json-pointer", relative_json_pointer },
};

format_fn format_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(formats) / sizeof(*formats); i++)
		if (!strcmp(name, formats[i].name))
			return formats[i].check;
	return NULL;
}

int format_check(const char *name, const char *s, size_t n)
{
	format_fn f = format_lookup(name);

	return f ? f(s, n) : -1;
}
