/*
 * instant: UTC instants, parsed in one place.
 *
 * An instant is seconds since the Unix epoch plus attoseconds (10^-18 s),
 * so fractional seconds of any practical length compare exactly (digits
 * beyond the 18th are dropped).  Parsing accepts RFC 3339 / ISO 8601
 * timestamps (Z or ±hh:mm, ±hhmm, ±hh offsets) and epoch seconds or
 * milliseconds given as JSON numbers.
 *
 * Thread-safety: every function is reentrant (no static buffers, no
 * locale), so connection threads format their own timestamps.
 */
#ifndef APIPE_INSTANT_H
#define APIPE_INSTANT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct instant {
	int64_t sec;
	uint64_t asec;	/* 0 … 10^18-1 */
	int leap;	/* a leap second: sec is its 23:59:59, and it orders after all of it */
};

#define INSTANT_ASEC_PER_SEC 1000000000000000000ULL

/*
 * RFC 3339 date-time, the one rule of every program that orders instants
 * (watermark, dedupe --latest, upsert --only-newer and timestamp columns).
 * An offset is always required: a date-time without one names no instant
 * and is refused.  Second 60 is a leap second only where the time is
 * 23:59:60 in UTC; it orders after 23:59:59.999… and before the next day.
 * With strict, only the RFC 3339 form is taken ("T" or "t", two-digit
 * fields, Z or ±hh:mm); otherwise also a space separator, ±hhmm and ±hh
 * offsets, and a full-date alone (midnight UTC).  Returns 0 or -1.
 */
int instant_parse(const char *s, size_t n, int strict, struct instant *out);
/* A JSON number of seconds (unit_ms 0) or milliseconds (1) since the epoch. */
int instant_from_epoch(const char *num, size_t n, int unit_ms, struct instant *out);
int instant_cmp(const struct instant *a, const struct instant *b);
/* a - b, and a + b (durations are instants counted from zero). */
void instant_sub(struct instant *a, const struct instant *b);
/* "2026-11-23T12:00:00.123Z": fraction only as long as needed; buf ≥ 48. */
size_t instant_format(const struct instant *t, char *buf, size_t bufsz);
/*
 * "2026-11-23T12:00:00.120Z": always milliseconds (truncated), the one
 * precision of the timestamps apipe writes (fetched_at, received_at).
 */
size_t instant_format_ms(const struct instant *t, char *buf, size_t bufsz);
/* Seconds or milliseconds since the epoch, rounded down. */
int64_t instant_epoch(const struct instant *t, int unit_ms);
void instant_now(struct instant *t);
/*
 * An HTTP-date (RFC 9110 section 5.6.7) in any of its three forms:
 * IMF-fixdate, RFC 850 and asctime.  Returns 0 or -1.
 */
int instant_parse_http_date(const char *s, size_t n, struct instant *out);
/*
 * A duration such as 10m, 1h30m, 90s, 250ms, 2d, 1w or a plain number of
 * seconds.  Returns 0 or -1 with EX_USAGE.
 */
int duration_parse(const char *s, struct instant *out, struct aperr *e);

#endif
