#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "instant.h"
#include "ratelimit.h"

/* A decimal number, optionally signed, filling exactly n bytes. */
static int parse_decimal(const char *v, size_t n, double *out)
{
	char buf[48], *end;
	size_t i;

	if (!n || n >= sizeof(buf))
		return -1;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)v[i]) && v[i] != '.' && !(i == 0 && (v[i] == '-' || v[i] == '+')))
			return -1;
	memcpy(buf, v, n);
	buf[n] = '\0';
	*out = strtod(buf, &end);
	return *end || end == buf ? -1 : 0;
}

static void trim(const char **v, size_t *n)
{
	while (*n && (**v == ' ' || **v == '\t')) {
		(*v)++;
		(*n)--;
	}
	while (*n && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t'))
		(*n)--;
}

int retry_after_parse(const char *v, size_t n, double now, double *delay)
{
	struct instant t;

	trim(&v, &n);
	if (parse_decimal(v, n, delay) == 0)
		return 0;
	if (instant_parse_http_date(v, n, &t) < 0)
		return -1;
	*delay = (double)t.sec - now;
	return 0;
}

void rl_info_init(struct rl_info *i)
{
	memset(i, 0, sizeof(*i));
}

/* A count as sent, clamped into long long (servers send what they like). */
static long long clamp_count(double d)
{
	if (d != d || d < 0)
		return 0;
	return d > 9e18 ? 9000000000000000000LL : (long long)d;
}

/* A reset value: epoch milliseconds, epoch seconds, or seconds from now. */
static double reset_delta(double r, double now)
{
	if (r != r || r > 1e15)
		return 1e9;	/* absurd: the caller's cap applies */
	if (r >= 1e12)
		return r / 1000 - now;
	if (r >= 1e9)
		return r - now;
	return r;
}

/* IETF RateLimit: "limit=100, remaining=50, reset=30" or "\"p\";r=50;t=30". */
static void parse_ietf(struct rl_info *i, const char *v, size_t n, double now)
{
	const char *p = v, *end = v + n;

	while (p < end) {
		const char *k = p, *val;
		size_t kl, vl;
		double d;

		while (p < end && *p != '=' && *p != ',' && *p != ';')
			p++;
		kl = (size_t)(p - k);
		trim(&k, &kl);
		if (p >= end || *p != '=') {
			p++;
			continue;
		}
		val = ++p;
		while (p < end && *p != ',' && *p != ';')
			p++;
		vl = (size_t)(p - val);
		trim(&val, &vl);
		p++;
		if (parse_decimal(val, vl, &d) < 0)
			continue;
		if ((kl == 9 && !strncmp(k, "remaining", 9)) || (kl == 1 && *k == 'r')) {
			i->have_remaining = 1;
			i->remaining = clamp_count(d);
		} else if ((kl == 5 && !strncmp(k, "reset", 5)) || (kl == 1 && *k == 't')) {
			i->have_reset = 1;
			i->reset_in = reset_delta(d, now);
		} else if ((kl == 5 && !strncmp(k, "limit", 5)) || (kl == 1 && *k == 'q')) {
			i->have_limit = 1;
			i->limit = clamp_count(d);
		}
	}
}

void rl_info_header(struct rl_info *i, const char *name, const char *v, size_t n, double now)
{
	const char *s = name;
	double d;

	if (!strncmp(s, "x-ratelimit-", 12))
		s += 12;
	else if (!strncmp(s, "x-rate-limit-", 13))
		s += 13;
	else if (!strncmp(s, "ratelimit-", 10) && strcmp(s, "ratelimit-policy"))
		s += 10;
	else if (!strcmp(s, "ratelimit") || !strcmp(s, "ratelimit-policy")) {
		parse_ietf(i, v, n, now);
		return;
	} else
		return;
	trim(&v, &n);
	if (parse_decimal(v, n, &d) < 0)
		return;
	if (!strcmp(s, "limit")) {
		i->have_limit = 1;
		i->limit = clamp_count(d);
	} else if (!strcmp(s, "remaining")) {
		i->have_remaining = 1;
		i->remaining = clamp_count(d);
	} else if (!strcmp(s, "reset")) {
		i->have_reset = 1;
		i->reset_in = reset_delta(d, now);
	}
}

void bucket_init(struct bucket *b, double rate, double burst, double now)
{
	b->rate = rate;
	b->burst = burst < 1 ? 1 : burst;
	b->tokens = b->burst;
	b->last = now;
}

double bucket_take(struct bucket *b, double now)
{
	if (b->rate <= 0)
		return 0;
	b->tokens += (now - b->last) * b->rate;
	if (b->tokens > b->burst)
		b->tokens = b->burst;
	b->last = now;
	if (b->tokens >= 1) {
		b->tokens -= 1;
		return 0;
	}
	return (1 - b->tokens) / b->rate;
}
