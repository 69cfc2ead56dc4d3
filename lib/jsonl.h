/*
 * jsonl: streaming line input and checked buffered output.
 *
 * struct lreader reads a file descriptor in large blocks and hands out one
 * line at a time (without its "\n" or "\r\n"), numbering lines from 1.
 * Empty lines are skipped and counted; a final line without a newline is a
 * line like any other (noted in last_unterminated).  A line longer than
 * max_line is an error, not a crash.  The reader owns its buffer; a line
 * returned by lreader_next() is valid until the next call.
 *
 * struct lwriter buffers output to a descriptor and checks every write.
 * A closed pipe (EPIPE) is reported as LW_EPIPE so the tool can end
 * quietly with status 0, as readers like head(1) expect.
 *
 * Thread-safety: a reader or writer belongs to one thread at a time;
 * webhook-recv's connection threads write the shared events file only
 * under the receiver's mutex.
 */
#ifndef APIPE_JSONL_H
#define APIPE_JSONL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define LREADER_DEFAULT_MAX_LINE ((size_t)64 << 20)

struct lreader {
	int fd;
	const char *name;	/* for messages: "stdin" or a path */
	char *buf;
	size_t alloc, start, end;
	size_t max_line;
	uint64_t lineno;	/* number of the line last returned */
	uint64_t empty;		/* empty lines skipped */
	uint64_t bytes;		/* bytes read */
	int eof;
	int last_unterminated;	/* the last line had no newline */
	/*
	 * Called before a read that would block for LREADER_IDLE_MS (the
	 * upstream paused), so a stage passes on what it holds at once rather
	 * than when its buffer fills: a record reaches the next stage as its
	 * page arrives.  NULL: nothing.  Set by the caller after lreader_init().
	 */
	void (*on_idle)(void *ctx);
	void *idle_ctx;
};

/* How long the input must stay empty before on_idle is called (ms). */
#define LREADER_IDLE_MS 10

int lreader_init(struct lreader *r, int fd, const char *name, size_t max_line,
		 struct aperr *e);
void lreader_release(struct lreader *r);
/*
 * Next non-empty line: 1 with line and len set, 0 at end of input, -1 on a
 * read error or an over-long line (e->msg names the line number).
 */
int lreader_next(struct lreader *r, const char **line, size_t *len, struct aperr *e);
/* Would lreader_next() return without reading (a whole line buffered, or EOF)? */
int lreader_ready(const struct lreader *r);
/*
 * No line buffered and no byte waiting on the descriptor: the upstream
 * paused (a regular file is never idle before its end).  The moment for a
 * stage that batches to make what it holds durable and pass it on.
 */
int lreader_idle(const struct lreader *r);

/*
 * Lines held back while a stage looks ahead (tabulate and singer infer
 * their columns or schema from the first lines, then write those lines
 * first).  lines_hold() copies a line with its number; lines_get() hands
 * line i back; lines_release() frees them.  Memory grows with what is
 * held: callers bound it (--infer).
 */
struct lines {
	char *text;
	size_t len, alloc;
	size_t *end;		/* one past each line in text */
	uint64_t *lineno;
	size_t n, a;
};
int lines_hold(struct lines *h, const char *line, size_t n, uint64_t lineno, struct aperr *e);
static inline const char *lines_get(const struct lines *h, size_t i, size_t *n, uint64_t *lineno)
{
	size_t from = i ? h->end[i - 1] : 0;

	*n = h->end[i] - from;
	*lineno = h->lineno[i];
	return h->text + from;
}
void lines_release(struct lines *h);

#define LW_EPIPE (-2)

/*
 * In-band state (apipe(7), "In-band state"): a line that begins with RS
 * (0x1e, as in RFC 7464) carries {"apipe_state":NAME,"value":…} after it.
 * No JSON text may begin with that byte, so a record is never taken for a
 * state line, nor a state line for a record.  Filters pass state lines on
 * unchanged and in order; the sink keeps the value with the rows before it.
 */
#define APIPE_STATE_BYTE '\x1e'
#define APIPE_STATE_PREFIX "\x1e"
static inline int jsonl_is_state(const char *line, size_t n)
{
	return n > 0 && line[0] == APIPE_STATE_BYTE;
}

struct lwriter {
	int fd;
	const char *name;
	char *buf;
	size_t len, alloc;
	uint64_t bytes;		/* bytes handed to the descriptor */
	int failed;		/* sticky: 0, -1 (I/O error) or LW_EPIPE */
};

int lwriter_init(struct lwriter *w, int fd, const char *name, size_t bufsize,
		 struct aperr *e);
void lwriter_release(struct lwriter *w);
/* Each returns 0, -1 (error in e) or LW_EPIPE.  Errors are sticky. */
int lwriter_write(struct lwriter *w, const void *data, size_t n, struct aperr *e);
/* Write data followed by "\n". */
int lwriter_line(struct lwriter *w, const void *data, size_t n, struct aperr *e);
int lwriter_flush(struct lwriter *w, struct aperr *e);
/* Flush, then fsync the descriptor when it is a regular file. */
int lwriter_sync(struct lwriter *w, struct aperr *e);
/* Room for n more bytes at w->buf + w->len (flushing first if needed). */
int lwriter_reserve(struct lwriter *w, size_t n, struct aperr *e);

#endif
