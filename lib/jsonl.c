#include <poll.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonl.h"

#define READ_BLOCK ((size_t)256 << 10)

int lreader_init(struct lreader *r, int fd, const char *name, size_t max_line,
		 struct aperr *e)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->name = name;
	r->max_line = max_line ? max_line : LREADER_DEFAULT_MAX_LINE;
	r->alloc = READ_BLOCK * 4;
	r->buf = malloc(r->alloc);
	if (!r->buf)
		return aperr_set(e, EX_OSERR, "out of memory");
	return 0;
}

void lreader_release(struct lreader *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* Make room for at least READ_BLOCK more bytes after end. */
static int make_room(struct lreader *r, struct aperr *e)
{
	size_t have = r->end - r->start;

	if (r->start && (r->alloc - r->end < READ_BLOCK)) {
		memmove(r->buf, r->buf + r->start, have);
		r->start = 0;
		r->end = have;
	}
	if (r->alloc - r->end < READ_BLOCK) {
		size_t n = r->alloc * 2;
		char *p;

		if (n < r->end + READ_BLOCK)
			n = r->end + READ_BLOCK;
		p = realloc(r->buf, n);
		if (!p)
			return aperr_set(e, EX_OSERR, "out of memory reading line %llu",
					 (unsigned long long)r->lineno + 1);
		r->buf = p;
		r->alloc = n;
	}
	return 0;
}

int lreader_ready(const struct lreader *r)
{
	return r->eof || (r->buf && memchr(r->buf + r->start, '\n', r->end - r->start));
}

int lreader_next(struct lreader *r, const char **line, size_t *len, struct aperr *e)
{
	size_t scanned = 0;

	for (;;) {
		char *s = r->buf + r->start;
		size_t have = r->end - r->start;
		char *nl = have > scanned ? memchr(s + scanned, '\n', have - scanned) : NULL;
		size_t n;

		if (nl || (r->eof && have)) {
			n = nl ? (size_t)(nl - s) : have;
			r->start += nl ? n + 1 : n;
			r->lineno++;
			r->last_unterminated = !nl;
			if (n && s[n - 1] == '\r')
				n--;
			if (n > r->max_line)
				return aperr_set(e, EX_DATAERR, "%s: line %llu: longer than the "
						 "--max-line limit of %zu bytes",
						 r->name, (unsigned long long)r->lineno, r->max_line);
			if (!n) {
				r->empty++;
				scanned = 0;
				continue;
			}
			*line = s;
			*len = n;
			return 1;
		}
		if (r->eof)
			return 0;
		if (have > r->max_line + 1)
			return aperr_set(e, EX_DATAERR,
					 "%s: line %llu: longer than the --max-line limit of %zu bytes",
					 r->name, (unsigned long long)r->lineno + 1, r->max_line);
		scanned = have;
		if (make_room(r, e) < 0)
			return -1;
		if (r->on_idle) {
			/*
			 * A pause, not the gap between two writes of a busy
			 * upstream: passing on what a stage holds (validate -j
			 * waits for its workers) at every gap cost a third of
			 * validate -j 2's speed behind cat on 2 cores.
			 */
			struct pollfd pfd = { r->fd, POLLIN, 0 };

			if (poll(&pfd, 1, LREADER_IDLE_MS) == 0)
				r->on_idle(r->idle_ctx);
		}
		for (;;) {
			ssize_t k = read(r->fd, r->buf + r->end, r->alloc - r->end);

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return aperr_errno(e, EX_IOERR, "%s: read error after line %llu",
						   r->name, (unsigned long long)r->lineno);
			if (k == 0)
				r->eof = 1;
			r->end += (size_t)k;
			r->bytes += (size_t)k;
			break;
		}
	}
}

int lwriter_init(struct lwriter *w, int fd, const char *name, size_t bufsize,
		 struct aperr *e)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->name = name;
	w->alloc = bufsize ? bufsize : (size_t)128 << 10;
	w->buf = malloc(w->alloc);
	if (!w->buf)
		return aperr_set(e, EX_OSERR, "out of memory");
	return 0;
}

void lwriter_release(struct lwriter *w)
{
	free(w->buf);
	w->buf = NULL;
}

static int write_all(struct lwriter *w, const char *p, size_t n, struct aperr *e)
{
	while (n) {
		ssize_t k = write(w->fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			if (errno == EPIPE) {
				w->failed = LW_EPIPE;
				aperr_set(e, EX_IOERR, "%s: broken pipe", w->name);
				return LW_EPIPE;
			}
			w->failed = -1;
			return aperr_errno(e, EX_IOERR, "%s: write error", w->name);
		}
		p += k;
		n -= (size_t)k;
		w->bytes += (size_t)k;
	}
	return 0;
}

int lwriter_flush(struct lwriter *w, struct aperr *e)
{
	int r;

	if (w->failed)
		return w->failed == LW_EPIPE ? LW_EPIPE :
			aperr_set(e, EX_IOERR, "%s: earlier write failed", w->name);
	r = write_all(w, w->buf, w->len, e);
	w->len = 0;
	return r;
}

int lwriter_reserve(struct lwriter *w, size_t n, struct aperr *e)
{
	if (w->alloc - w->len >= n)
		return 0;
	if (lwriter_flush(w, e))
		return w->failed;
	if (w->alloc < n) {
		char *p = realloc(w->buf, n);

		if (!p)
			return aperr_set(e, EX_OSERR, "out of memory");
		w->buf = p;
		w->alloc = n;
	}
	return 0;
}

int lwriter_write(struct lwriter *w, const void *data, size_t n, struct aperr *e)
{
	if (w->failed)
		return lwriter_flush(w, e);
	if (w->alloc - w->len < n) {
		int r = lwriter_flush(w, e);

		if (r)
			return r;
		if (n >= w->alloc)
			return write_all(w, data, n, e);
	}
	memcpy(w->buf + w->len, data, n);
	w->len += n;
	return 0;
}

int lwriter_line(struct lwriter *w, const void *data, size_t n, struct aperr *e)
{
	if (!w->failed && w->alloc - w->len > n) {
		memcpy(w->buf + w->len, data, n);
		w->buf[w->len + n] = '\n';
		w->len += n + 1;
		return 0;
	}
	{
		int r = lwriter_write(w, data, n, e);

		return r ? r : lwriter_write(w, "\n", 1, e);
	}
}

int lwriter_sync(struct lwriter *w, struct aperr *e)
{
	struct stat st;
	int r = lwriter_flush(w, e);

	if (r)
		return r;
	if (fstat(w->fd, &st) == 0 && S_ISREG(st.st_mode) && fsync(w->fd) < 0)
		return aperr_errno(e, EX_IOERR, "%s: fsync", w->name);
	return 0;
}

int lreader_idle(const struct lreader *r)
{
	struct pollfd pfd = { r->fd, POLLIN, 0 };

	return !lreader_ready(r) && poll(&pfd, 1, 0) == 0;
}

int lines_hold(struct lines *h, const char *line, size_t n, uint64_t lineno, struct aperr *e)
{
	if (h->n == h->a) {
		size_t a = h->a ? h->a * 2 : 64;
		size_t *end = realloc(h->end, a * sizeof(*end));
		uint64_t *no;

		if (!end)
			return aperr_set(e, EX_OSERR, "out of memory");
		h->end = end;
		if (!(no = realloc(h->lineno, a * sizeof(*no))))
			return aperr_set(e, EX_OSERR, "out of memory");
		h->lineno = no;
		h->a = a;
	}
	if (!h->text || h->alloc - h->len < n) {
		size_t a = h->alloc ? h->alloc : 4096;
		char *t;

		while (a - h->len < n)
			a *= 2;
		if (!(t = realloc(h->text, a)))
			return aperr_set(e, EX_OSERR, "out of memory");
		h->text = t;
		h->alloc = a;
	}
	if (n)
		memcpy(h->text + h->len, line, n);
	h->len += n;
	h->end[h->n] = h->len;
	h->lineno[h->n++] = lineno;
	return 0;
}

void lines_release(struct lines *h)
{
	free(h->text);
	free(h->end);
	free(h->lineno);
	memset(h, 0, sizeof(*h));
}
