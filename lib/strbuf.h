/*
 * strbuf: a growable byte buffer with a hard cap.
 *
 * Ownership: a strbuf owns buf; strbuf_release() frees it and leaves an
 * empty buffer that may be reused.  buf is never NULL and always
 * NUL-terminated: an empty strbuf that holds no allocation points at a
 * shared empty string (strbuf_slopbuf, as git's strbuf; never written to),
 * so buf can be handed to C string functions when the content has no NUL
 * of its own.  Whether it holds something is len, not buf.  Every growing call fails (returns -1 and
 * leaves the content unchanged) rather than exceed cap or on allocation
 * failure; it never exits.
 *
 * A failure is sticky (as curl's dynbuf): once an append has failed, every
 * later append fails too and strbuf_failed() is true, so a writer may make
 * a run of appends and check once at the end.  strbuf_reset(),
 * strbuf_init() and strbuf_release() clear it.
 *
 * Thread-safety: a buffer belongs to one thread at a time; the functions
 * keep no state of their own.
 */
#ifndef APIPE_STRBUF_H
#define APIPE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#define STRBUF_DEFAULT_CAP ((size_t)1 << 32)

struct strbuf {
	char *buf;
	size_t len;
	size_t alloc;
	size_t cap;	/* hard upper bound on len */
	int failed;	/* an append failed since the last reset */
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT { strbuf_slopbuf, 0, 0, STRBUF_DEFAULT_CAP, 0 }

void strbuf_init(struct strbuf *sb, size_t cap);
void strbuf_release(struct strbuf *sb);
/* Ensure room for extra more bytes (plus the NUL); 0 or -1. */
int strbuf_grow(struct strbuf *sb, size_t extra);
/* strbuf_add's slow path, growing the buffer: call strbuf_add. */
int strbuf_add_grow(struct strbuf *sb, const void *data, size_t len);
/* Append len bytes (strbuf_add) or one (strbuf_addch); 0, or -1 (and failed set). */
static inline int strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	/* the common case, inline: room already allocated and under the cap */
	if (len < sb->alloc - sb->len && len <= sb->cap - sb->len && !sb->failed) {
		if (len)
			memcpy(sb->buf + sb->len, data, len);
		sb->len += len;
		sb->buf[sb->len] = '\0';
		return 0;
	}
	return strbuf_add_grow(sb, data, len);
}
static inline int strbuf_addch(struct strbuf *sb, int c)
{
	char ch = (char)c;

	return strbuf_add(sb, &ch, 1);
}
int strbuf_addstr(struct strbuf *sb, const char *s);
int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static inline void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	sb->failed = 0;
	if (sb->alloc)
		sb->buf[0] = '\0';
}
/* Did an append fail since the last reset? */
static inline int strbuf_failed(const struct strbuf *sb)
{
	return sb->failed;
}
/* Cut sb back to its first len bytes (len <= sb->len); a failure stays. */
static inline void strbuf_setlen(struct strbuf *sb, size_t len)
{
	sb->len = len;
	if (sb->alloc)
		sb->buf[len] = '\0';
}
/* Cut sb to at most max bytes (max > 3), the last three "..." when it was cut. */
int strbuf_shorten(struct strbuf *sb, size_t max);
/* Hand the buffer to the caller (who frees it); sb becomes empty. */
char *strbuf_detach(struct strbuf *sb, size_t *len);

#endif
