/*
 * archwriter: envelopes archived as they stream by, each passed on once it
 * is durable in a listed segment.
 */
#ifndef APIPE_ARCHWRITER_H
#define APIPE_ARCHWRITER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "archpool.h"

/*
 * Archiving a stream of envelopes: each goes into the segment being
 * filled (a new one when it would pass segment_size or segment_lines),
 * gathered into chunks of ARCHIVE_CHUNK bytes for the pool.  Lines are
 * passed downstream only once they are archived: the writer holds them,
 * with marks saying up to where each submitted chunk reaches, and
 * archive_writer_pass() writes out what the pool made durable.  A line
 * that is passed on but not archived (in-band state) is held in its place.
 *
 * Ownership: the writer owns its pool, its held lines and the segment's
 * summary.  Thread-safety: one thread calls it (the pool has its own).
 */
#define ARCHIVE_CHUNK ((size_t)1 << 20)
#define ARCHIVE_HELD_MAX (16 * ARCHIVE_CHUNK)	/* held before a sync is forced */

struct archive_writer {
	uint64_t segment_size, segment_lines;	/* the caller's; 0 lines: no bound */
	struct archive_s3 *s3;		/* the caller's: segments become objects there
					 * (each sync ends the segment); NULL: files */
	struct archive_pool pool;
	struct archive_job *j;		/* the chunk being filled; NULL: none */
	struct archive_meta meta;	/* the segment's summary so far */
	uint64_t seq;			/* the last segment's number */
	uint64_t chunk;			/* the next chunk's sequence number */
	uint64_t seg_bytes, seg_lines;	/* in the segment being filled */
	struct strbuf held;		/* lines not yet passed on */
	struct archive_mark {
		uint64_t seq;
		size_t end;
	} *marks;			/* chunk seq reaches held[0..end) */
	size_t nmarks, amarks;
	int gone;			/* the reader went away (EPIPE): nothing more is passed on */
};

struct archive_s3;
/*
 * Start archiving into dir (or w->s3, set before) (locked, recovered), whose last segment is
 * number last_seq, with threads workers at gzip level.  0 or -1 (e).
 */
int archive_writer_start(struct archive_writer *w, const char *dir, int level, unsigned threads,
			 uint64_t last_seq, struct aperr *e);
/*
 * Archive arch (an bytes; d its parse, or NULL when it is no JSON) and
 * hold line (n bytes, what goes downstream: arch before redaction) to
 * pass on once it is durable.  0 or -1 (e).
 */
int archive_writer_add(struct archive_writer *w, const char *line, size_t n, const char *arch,
		       size_t an, const struct json_doc *d, struct aperr *e);
/* Hold line to pass on after the lines before it, without archiving it.  0 or -1. */
int archive_writer_hold(struct archive_writer *w, const char *line, size_t n, struct aperr *e);
/*
 * Pass on to out what is durable; with sync, first make everything so far
 * durable and wait for it.  0, or out's error (-1); a reader that went
 * away sets w->gone and ends the passing quietly.
 */
int archive_writer_pass(struct archive_writer *w, struct lwriter *out, int sync, struct aperr *e);
/*
 * The input ended (or the run stops: complete false): the segment being
 * filled is committed unless the pool failed, the pool is finished, and
 * what it made durable is passed on.  0; out's error; or -1 with the
 * pool's failure in e (what was not written whole is not listed).
 */
int archive_writer_finish(struct archive_writer *w, struct lwriter *out, struct aperr *e);
void archive_writer_release(struct archive_writer *w);

#endif
