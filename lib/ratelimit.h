/*
 * ratelimit: what servers say about waiting, and the client-side limits.
 *
 * Parsers for Retry-After (seconds, decimal seconds, or any of the three
 * HTTP-date forms), for X-RateLimit-Limit/-Remaining/-Reset (reset as epoch
 * seconds, epoch milliseconds or a delta, told apart by size) and for the
 * IETF RateLimit / RateLimit-Policy headers (both the "limit=, remaining=,
 * reset=" form and the structured "r=;t=" form).  A token bucket for
 * --rate.  Times are seconds as doubles: real time for dates sent by
 * servers (times on the monotonic clock, lib/clock).  Nothing here allocates.
 */
#ifndef APIPE_RATELIMIT_H
#define APIPE_RATELIMIT_H

#include <stddef.h>

/*
 * Retry-After value v (n bytes) received at real time now: the delay in
 * seconds (negative for a date in the past).  Returns 0, or -1 when the
 * value is neither a number nor an HTTP-date.
 */
int retry_after_parse(const char *v, size_t n, double now, double *delay);

/* What one response said about the quota. */
struct rl_info {
	int have_limit, have_remaining, have_reset;
	long long limit, remaining;
	double reset_in;	/* seconds from the response until the window resets */
};

void rl_info_init(struct rl_info *i);
/*
 * Feed one response header (name lowercased) received at real time now;
 * headers that are not about rate limits are ignored.
 */
void rl_info_header(struct rl_info *i, const char *name, const char *v, size_t n, double now);

/* A token bucket: rate tokens per second, holding at most burst. */
struct bucket {
	double rate, burst, tokens, last;
};

void bucket_init(struct bucket *b, double rate, double burst, double now);
/* Take a token at monotonic time now: 0, or the seconds until one is due. */
double bucket_take(struct bucket *b, double now);

#endif
