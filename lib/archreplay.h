/*
 * archreplay: an archive read back, filtered, verified against its manifest.
 */
#ifndef APIPE_ARCHREPLAY_H
#define APIPE_ARCHREPLAY_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "archive.h"

/*
 * Reading an archive back: the envelopes of the segments the manifest
 * lists, in order, that pass the filters -- a URL prefix, a fetched_at
 * window, and latest (only the newest copy of each URL: a first pass
 * notes it, a second emits).  Segments whose manifest entry shows they
 * cannot match are not opened.  With verify, each segment's SHA-256 is
 * checked against the manifest before it is read.
 *
 * Ownership: the replay borrows its filters and dir; it owns the latest
 * map and its scratch (archive_replay_release).  Thread-safety: none.
 */
struct archive_replay {
	/* the caller's */
	const char *dir;
	struct archive_s3 *s3;		/* non-NULL: the archive is there (dir its URL) */
	const char *endpoint;		/* URL prefix; NULL: any */
	struct instant since, until;
	int have_since, have_until, latest, verify;
	size_t max_line, max_depth;
	void *ctx;
	/* Each envelope selected, in order: 0, or nonzero to stop (returned as is). */
	int (*emit)(void *ctx, const char *line, size_t n, struct aperr *e);
	/* A segment that cannot be read: 0 goes on to the next, -1 stops. */
	int (*fail)(void *ctx, const struct aperr *e);

	/* the replay's */
	struct archive_manifest m;
	uint64_t lines, emitted;	/* lines read; envelopes emitted */
	struct json_doc d;
	struct json_error je;
	int parsed_ok;			/* the line selected() read last parsed into d */
	struct archive_latest *seen;
	uint8_t key[16];
};

void archive_replay_init(struct archive_replay *rp);
void archive_replay_release(struct archive_replay *rp);
/*
 * Does manifest m account for archive dir?  -1 (EX_DATAERR, saying how to
 * repair) when its last line is torn, when it lists a segment twice, when
 * a segment file is there that it does not list (a lost manifest line, or
 * a lost manifest), or when a temporary segment is left unrecovered.  A
 * listed segment that is missing, truncated or edited is found by its
 * checksum and size when it is read, an edited manifest line by the lines
 * and bytes counted as it is read (and, when the filters parse each line
 * anyway, by the whole description: times, endpoints, statuses).
 */
int archive_check_dir(const char *dir, const struct archive_manifest *m, struct aperr *e);
/*
 * Read the manifest: -1 (EX_NOINPUT) when dir is no directory, or the
 * manifest's error; with verify, archive_check_dir()'s too.  Without
 * verify a torn last line is no error (rp->m.torn).
 */
int archive_replay_open(struct archive_replay *rp, struct aperr *e);
/* Emit the selected envelopes: 0; -1 when fail() stopped; emit()'s nonzero. */
int archive_replay_run(struct archive_replay *rp, struct aperr *e);

#endif
