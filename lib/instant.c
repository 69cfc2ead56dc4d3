#include <stdio.h>
#include <string.h>
#include <time.h>

#include "instant.h"
#include "num.h"

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int digits(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static unsigned month_days(unsigned y, unsigned m)
{
	static const unsigned char md[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 29;
	return md[m - 1];
}

int instant_parse(const char *s, size_t n, int strict, struct instant *out)
{
	const char *p = s, *end = s + n;
	unsigned Y, M, D, h = 0, mi = 0, sec = 0, oh = 0, om = 0;
	uint64_t frac = 0, scale = INSTANT_ASEC_PER_SEC;
	int sign = 0;
	int64_t t;

	if (n < 10 || digits(p, 4, &Y) || p[4] != '-' || digits(p + 5, 2, &M) ||
	    p[7] != '-' || digits(p + 8, 2, &D))
		return -1;
	if (M < 1 || M > 12 || D < 1 || D > month_days(Y, M))
		return -1;
	p += 10;
	if (p == end) {
		if (strict)
			return -1;
		goto done;
	}
	if (!(*p == 'T' || *p == 't' || (!strict && *p == ' ')))
		return -1;
	p++;
	if (end - p < 8 || digits(p, 2, &h) || p[2] != ':' || digits(p + 3, 2, &mi) ||
	    p[5] != ':' || digits(p + 6, 2, &sec))
		return -1;
	if (h > 23 || mi > 59 || sec > 60)
		return -1;
	p += 8;
	if (p < end && *p == '.') {
		const char *f = ++p;

		while (p < end && *p >= '0' && *p <= '9') {
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t)(*p - '0') * scale;
			}
			p++;
		}
		if (p == f)
			return -1;
	}
	if (p == end) {
		return -1;	/* a local time: no instant without its offset */
	} else if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (end - p >= 5 && p[2] == ':') {
			if (digits(p, 2, &oh) || digits(p + 3, 2, &om))
				return -1;
			p += 5;
		} else if (!strict && end - p == 4) {
			if (digits(p, 2, &oh) || digits(p + 2, 2, &om))
				return -1;
			p += 4;
		} else if (!strict && end - p == 2) {
			if (digits(p, 2, &oh))
				return -1;
			p += 2;
		} else {
			return -1;
		}
		if (oh > 23 || om > 59)
			return -1;
	} else {
		return -1;
	}
	if (p != end)
		return -1;
done:
	t = days_from_civil(Y, M, D) * 86400 + h * 3600 + mi * 60 + sec;
	t -= sign * (int64_t)(oh * 3600 + om * 60);
	out->leap = 0;
	if (sec == 60) {
		/* only 23:59:60 UTC is a leap second: it stands as 23:59:59 with leap set */
		t--;
		if ((t % 86400 + 86400) % 86400 != 86399)
			return -1;
		out->leap = 1;
	}
	/* an offset may carry 0000-01-01 or 9999-12-31 out of the years RFC 3339 can write */
	if (t < days_from_civil(0, 1, 1) * 86400 || t >= days_from_civil(10000, 1, 1) * 86400)
		return -1;
	out->sec = t;
	out->asec = frac;
	return 0;
}

int instant_from_epoch(const char *num, size_t n, int unit_ms, struct instant *out)
{
	struct decnum dn;
	int64_t ip = 0, shift;
	uint64_t frac = 0;
	size_t i;

	if (num_decompose(num, n, &dn) < 0)
		return -1;
	out->sec = 0;
	out->leap = 0;
	out->asec = 0;
	if (dn.zero)
		return 0;
	shift = dn.adj - (unit_ms ? 3 : 0);	/* digits before the point, in seconds */
	if (shift > 18)
		return -1;
	for (i = 0; i < dn.nsig; i++) {
		int64_t pos = (int64_t)i;
		unsigned dg = (unsigned)(num_digit(&dn, i) - '0');

		if (pos < shift) {
			ip = ip * 10 + dg;
		} else if (pos - shift < 18) {
			uint64_t sc = INSTANT_ASEC_PER_SEC;
			int64_t k;

			for (k = 0; k <= pos - shift; k++)
				sc /= 10;
			frac += dg * sc;
		}
	}
	for (i = dn.nsig; (int64_t)i < shift; i++)
		ip *= 10;
	if (dn.neg) {
		ip = -ip;
		if (frac) {
			ip -= 1;
			frac = INSTANT_ASEC_PER_SEC - frac;
		}
	}
	out->sec = ip;
	out->leap = 0;
	out->asec = frac;
	return 0;
}

int instant_cmp(const struct instant *a, const struct instant *b)
{
	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	if (a->leap != b->leap)
		return a->leap < b->leap ? -1 : 1;
	if (a->asec != b->asec)
		return a->asec < b->asec ? -1 : 1;
	return 0;
}

void instant_sub(struct instant *a, const struct instant *b)
{
	a->sec -= b->sec;
	if (a->asec < b->asec) {
		a->sec--;
		a->asec += INSTANT_ASEC_PER_SEC;
	}
	a->asec -= b->asec;
	a->leap = 0;	/* a span from a leap second is counted as from its :59 */
}

size_t instant_format(const struct instant *t, char *buf, size_t bufsz)
{
	int64_t days = t->sec / 86400, rem = t->sec % 86400, y;
	unsigned m, d;
	int n;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	n = snprintf(buf, bufsz, "%04lld-%02u-%02uT%02u:%02u:%02u", (long long)y, m, d,
		     (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60),
		     (unsigned)(rem % 60) + (t->leap ? 1u : 0u));
	if (t->asec) {
		char f[24];
		int k;

		snprintf(f, sizeof(f), "%018llu", (unsigned long long)t->asec);
		for (k = 17; k > 0 && f[k] == '0'; k--)
			f[k] = '\0';
		n += snprintf(buf + n, bufsz - (size_t)n, ".%s", f);
	}
	n += snprintf(buf + n, bufsz - (size_t)n, "Z");
	return (size_t)n;
}

size_t instant_format_ms(const struct instant *t, char *buf, size_t bufsz)
{
	struct instant whole = *t;
	size_t n;

	whole.asec = 0;
	n = instant_format(&whole, buf, bufsz);	/* "...:SSZ" */
	if (n < 1 || n + 4 >= bufsz)
		return n;
	snprintf(buf + n - 1, bufsz - (n - 1), ".%03uZ",
		 (unsigned)(t->asec / 1000000000000000ULL));
	return n + 4;
}

int64_t instant_epoch(const struct instant *t, int unit_ms)
{
	if (!unit_ms)
		return t->sec;
	return t->sec * 1000 + (int64_t)(t->asec / 1000000000000000ULL);
}

static int month_index(const char *s)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int i;

	for (i = 0; i < 12; i++)
		if (!strncmp(names + 3 * i, s, 3))
			return i + 1;
	return 0;
}

/* Skip a day name ("Sun" or "Sunday") and return what follows it. */
static const char *skip_day_name(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z')))
		q++;
	return q - p >= 3 ? q : NULL;
}

static int hms(const char *p, unsigned *h, unsigned *mi, unsigned *sec)
{
	if (p[2] != ':' || p[5] != ':' || digits(p, 2, h) || digits(p + 3, 2, mi) ||
	    digits(p + 6, 2, sec) || *h > 23 || *mi > 59 || *sec > 60)
		return -1;
	return 0;
}

int instant_parse_http_date(const char *s, size_t n, struct instant *out)
{
	const char *p, *end = s + n;
	unsigned D = 0, M = 0, Y = 0, h, mi, sec;
	char buf[64];

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= sizeof(buf) || n < 20)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	end = buf + n;
	p = skip_day_name(buf, end);
	if (!p)
		return -1;
	if (p[0] == ',' && p[1] == ' ' && end - p == 26 && p[4] == ' ' && p[8] == ' ' &&
	    p[13] == ' ' && !strcmp(p + 22, " GMT")) {
		/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
		if (digits(p + 2, 2, &D) || !(M = (unsigned)month_index(p + 5)) ||
		    digits(p + 9, 4, &Y) || hms(p + 14, &h, &mi, &sec))
			return -1;
	} else if (p[0] == ',' && p[1] == ' ' && end - p == 24 && p[4] == '-' && p[8] == '-' &&
		   p[11] == ' ' && !strcmp(p + 20, " GMT")) {
		/* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT; two-digit years
		 * that look more than 50 years ahead are in the past century. */
		struct instant now;
		int64_t ny, nd;
		unsigned nm, ndd;

		if (digits(p + 2, 2, &D) || !(M = (unsigned)month_index(p + 5)) ||
		    digits(p + 9, 2, &Y) || hms(p + 12, &h, &mi, &sec))
			return -1;
		instant_now(&now);
		nd = now.sec / 86400;
		civil_from_days(nd, &ny, &nm, &ndd);
		Y += (unsigned)(ny / 100 * 100);
		if ((int64_t)Y > ny + 50)
			Y -= 100;
	} else if (p[0] == ' ' && end - p == 21 && p[4] == ' ' && p[7] == ' ' && p[16] == ' ') {
		/* asctime: Sun Nov  6 08:49:37 1994 */
		if (!(M = (unsigned)month_index(p + 1)))
			return -1;
		if (p[5] == ' ') {
			D = 0;
			digits(p + 6, 1, &D);
		} else if (digits(p + 5, 2, &D))
			return -1;
		if (hms(p + 8, &h, &mi, &sec) || digits(p + 17, 4, &Y))
			return -1;
	} else {
		return -1;
	}
	if (D < 1 || D > month_days(Y, M))
		return -1;
	out->sec = days_from_civil(Y, M, D) * 86400 + h * 3600 + mi * 60 + (sec > 59 ? 59 : sec);
	out->leap = 0;
	out->asec = 0;
	return 0;
}

void instant_now(struct instant *t)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	t->sec = ts.tv_sec;
	t->leap = 0;
	t->asec = (uint64_t)ts.tv_nsec * 1000000000ULL;
}

int duration_parse(const char *s, struct instant *out, struct aperr *e)
{
	const char *p = s;

	out->sec = 0;
	out->leap = 0;
	out->asec = 0;
	if (!*p)
		return aperr_set(e, EX_USAGE, "empty duration");
	while (*p) {
		uint64_t v = 0;
		const char *d0 = p;
		int64_t mul;

		while (*p >= '0' && *p <= '9') {
			if (v > 1000000000000ULL)
				return aperr_set(e, EX_USAGE, "duration '%s' is too large", s);
			v = v * 10 + (uint64_t)(*p++ - '0');
		}
		if (p == d0)
			return aperr_set(e, EX_USAGE,
					 "bad duration '%s' (use e.g. 90s, 10m, 1h30m, 2d)", s);
		if (p[0] == 'm' && p[1] == 's') {
			out->sec += (int64_t)(v / 1000);
			out->asec += (v % 1000) * 1000000000000000ULL;
			if (out->asec >= INSTANT_ASEC_PER_SEC) {
				out->asec -= INSTANT_ASEC_PER_SEC;
				out->sec++;
			}
			p += 2;
			continue;
		}
		switch (*p) {
		case '\0': if (p == d0 || d0 != s) goto bad; mul = 1; break;
		case 's': mul = 1; p++; break;
		case 'm': mul = 60; p++; break;
		case 'h': mul = 3600; p++; break;
		case 'd': mul = 86400; p++; break;
		case 'w': mul = 604800; p++; break;
		default: goto bad;
		}
		out->sec += (int64_t)v * mul;
	}
	return 0;
bad:
	return aperr_set(e, EX_USAGE, "bad duration '%s' (use e.g. 90s, 10m, 1h30m, 2d)", s);
}
