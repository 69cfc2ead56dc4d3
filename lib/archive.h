/*
 * archive: a directory of gzip segments and the manifest that lists them
 * (store-raw(1), DESCRIPTION).
 *
 *   DIR/seg-20261123T120000Z-000001.jsonl.gz   one or more gzip members
 *   DIR/manifest.jsonl                         one line per complete segment
 *   DIR/quarantine/                            leftovers that could not be saved
 *
 * A segment is written under "<name>.tmp", fsynced, renamed, the directory
 * fsynced, and only then listed in the manifest (which is fsynced too), so
 * the manifest never lists a file that is not complete.  archive_recover()
 * puts a directory back in that state after a crash.
 *
 * Ownership: every struct here owns its buffers; the _release functions
 * free them.  Nothing prints: what recovery did is appended to a report.
 *
 * Thread-safety: archive_gz_member() keeps no state between calls and runs
 * in store-raw's compression workers at once; a segment writer (archive_seg_*)
 * and the manifest belong to one thread (store-raw's writer thread).
 *
 * Names: every function and type here begins with archive_.
 */
#ifndef APIPE_ARCHIVE_H
#define APIPE_ARCHIVE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "err.h"
#include "httpstatus.h"
#include "instant.h"
#include "json.h"
#include "jsonl.h"
#include "strbuf.h"

#define ARCHIVE_MANIFEST "manifest.jsonl"
#define ARCHIVE_MAX_ENDPOINTS 100

/* What a manifest line says about its segment, built line by line. */
struct archive_meta {
	uint64_t lines, ubytes, pages, records;
	int have_records, have_time, endpoints_truncated;
	struct instant first, last;
	char first_s[64], last_s[64];	/* fetched_at as it appeared */
	uint64_t status[HTTP_STATUS_SLOTS];
	char **endpoints;
	size_t nendpoints;
};

void archive_meta_init(struct archive_meta *m);
void archive_meta_release(struct archive_meta *m);
/* Count one archived line of n bytes; d is its parse (NULL when not JSON). */
void archive_meta_add(struct archive_meta *m, const struct json_doc *d, size_t n);
/* Append the manifest line (with its newline) for segment file. */
int archive_meta_manifest(const struct archive_meta *m, const char *file, const char *sha256,
			  uint64_t bytes, struct strbuf *out);

/* One listed segment, as read back from the manifest. */
struct archive_entry {
	char *file;
	char sha256[65];
	uint64_t bytes, ubytes, lines, pages;
	int have_time;
	struct instant first, last;
	char **endpoints;
	size_t nendpoints;
	int endpoints_truncated;
	char *line;			/* the manifest line itself */
};

struct archive_manifest {
	struct archive_entry *e;
	size_t n;
	uint64_t max_seq;		/* highest segment sequence number listed */
	size_t good_len;		/* bytes of complete, valid lines */
	int torn;			/* the last line is incomplete */
	uint64_t torn_lineno;
};

void archive_manifest_release(struct archive_manifest *m);
/*
 * Read DIR/manifest.jsonl (absent: empty).  A final line without its
 * newline or that does not parse is reported in torn; any other bad line
 * is an error (EX_DATAERR naming the line).
 */
int archive_manifest_read(const char *dir, struct archive_manifest *m, struct aperr *e);
/* The same from the manifest's bytes in memory; name is for messages. */
int archive_manifest_parse(const char *buf, size_t len, const char *name,
			   struct archive_manifest *m, struct aperr *e);
/* Append line to DIR/manifest.jsonl and fsync it. */
int archive_manifest_append(const char *dir, const char *line, size_t n, struct aperr *e);

/* Compress in[0..n) as one complete gzip member appended to out. */
int archive_gz_member(struct strbuf *out, const void *in, size_t n, int level);

/* A segment being written: temporary file plus running SHA-256. */
struct archive_seg {
	int fd;
	struct strbuf tmp, path;	/* DIR/name.tmp and DIR/name */
	char name[96];
	EVP_MD_CTX *sha;
	uint64_t bytes;
	uint64_t synced;		/* bytes made durable by archive_seg_sync() */
	int passed_on;			/* synced lines were passed on: never removed */
};

int archive_seg_open(struct archive_seg *w, const char *dir, const char *name, struct aperr *e);
int archive_seg_write(struct archive_seg *w, const void *data, size_t n, struct aperr *e);
/*
 * fsync, rename into place, fsync the directory, then list it in the
 * manifest with meta.  The writer is closed either way.
 */
int archive_seg_commit(struct archive_seg *w, const char *dir, const struct archive_meta *meta,
		       struct aperr *e);
/*
 * Make what was written durable (fdatasync): the lines in it may now be
 * passed on, so from here on the segment is never removed.  0 or -1 (e).
 */
int archive_seg_sync(struct archive_seg *w, struct aperr *e);
/*
 * Close the temporary file after a failure.  A segment none of whose lines
 * was passed on is removed; one that was (archive_seg_sync) is cut back to
 * what was synced and kept, for archive_recover() to list on the next run,
 * exactly as after a crash: a line passed on is never lost.  1 when it was
 * kept, 0 when removed.
 */
int archive_seg_abort(struct archive_seg *w);

/* "seg-<UTC time>-<seq>.jsonl.gz" for now and seq. */
void archive_segment_name(char *buf, size_t n, uint64_t seq);

/* Lines out of a file of gzip members. */
struct archive_gzlines {
	int fd;
	z_stream z;
	int zinit, zdone;
	unsigned char *in;
	char *out;
	size_t out_alloc, start, end;
	size_t max_line;
	uint64_t lineno, offset;
	int eof;
	const char *name;
};

int archive_gzlines_open(struct archive_gzlines *g, const char *path, size_t max_line,
			 struct aperr *e);
/*
 * Next line (without its newline): 1, 0 at a clean end, -1 when the file
 * is corrupt or truncated (EX_DATAERR) or cannot be read (EX_IOERR).
 * Only complete lines are returned.
 */
int archive_gzlines_next(struct archive_gzlines *g, const char **line, size_t *len,
			 struct aperr *e);
void archive_gzlines_close(struct archive_gzlines *g);

/* SHA-256 of a whole file as 64 hex digits.  0, or -1 (EX_NOINPUT/EX_IOERR). */
int archive_sha256_file(const char *path, char hex[65], struct aperr *e);

/*
 * Bring DIR back to a consistent state after a crash (call it holding the
 * archive's lock): repair a torn last manifest line, list complete
 * segments that were renamed but not listed, save the complete lines of
 * a leftover temporary segment as a new listed segment, and move what
 * cannot be saved to DIR/quarantine/.  Each action is described on a line
 * of report.  0 or -1 (e).
 */
int archive_recover(const char *dir, int level, struct strbuf *report, struct aperr *e);

/*
 * The compression pool: chunks of lines are compressed by worker threads
 * in any order and written, in sequence order, by one writer thread into
 * segments that are committed (and listed in the manifest) in order.
 *
 * The caller takes the job for the next sequence number (it waits while
 * that job is still in use), fills in (lines) and the segment marks, and
 * submits it.  seg_start opens segment name before the job's bytes;
 * seg_end commits it after them with meta (archive_pool_end_segment does
 * this); sync makes everything written so far durable.  What is durable
 * is told by archive_pool_durable(): every job below that sequence number.
 *
 * A failure (compression, I/O) stops the writing; the jobs after it are
 * dropped and archive_pool_failed() says why.  Nothing is listed in the
 * manifest that was not written whole.
 *
 * Thread-safety: the functions below are called from one thread (the
 * caller's); the pool's own threads share its state under its mutex.
 * Ownership: the pool owns its jobs and their buffers;
 * archive_pool_finish() waits for what was submitted, stops the threads
 * and frees everything.
 */
enum archive_job_state { ARCHIVE_JOB_FREE, ARCHIVE_JOB_FILLED, ARCHIVE_JOB_BUSY,
			 ARCHIVE_JOB_COMPRESSED };

struct archive_job {
	enum archive_job_state state;	/* the pool's */
	uint64_t seq;
	struct strbuf in;		/* the caller's lines (reset by the pool once written) */
	struct strbuf out;		/* the pool's: in, compressed */
	int seg_start, seg_end;
	int sync;			/* make everything written so far durable */
	char name[96];			/* the segment seg_start opens */
	struct archive_meta meta;	/* the segment's summary, with seg_end */
};

#define ARCHIVE_POOL_MAX_WORKERS 16

struct archive_pool {
	pthread_mutex_t mu;
	pthread_cond_t work, done, freed;
	struct archive_job *jobs;
	size_t njobs;
	uint64_t next_write;
	uint64_t durable;		/* every job below this sequence number is on disk */
	int stop, failed, level;
	struct aperr err;
	const char *dir;
	pthread_t workers[ARCHIVE_POOL_MAX_WORKERS], writer;
	unsigned nworkers;
	int writer_started;
	uint64_t segments, compressed;	/* segments committed, compressed bytes written */
};

/* Start workers (1..ARCHIVE_POOL_MAX_WORKERS) compressing at level into dir.  0, or -1. */
int archive_pool_start(struct archive_pool *p, const char *dir, int level, unsigned workers,
		       struct aperr *e);
/* The job for sequence number seq, once it is free. */
struct archive_job *archive_pool_get(struct archive_pool *p, uint64_t seq);
void archive_pool_submit(struct archive_pool *p, struct archive_job *j);
/*
 * End the segment being filled: its last job *j (an empty job, sequence
 * number (*next)++, when *j is NULL) carries meta (moved in; meta is left
 * empty) and is submitted.  *j becomes NULL.  Returns its sequence number.
 */
uint64_t archive_pool_end_segment(struct archive_pool *p, struct archive_job **j, uint64_t *next,
				  struct archive_meta *meta);
/*
 * Every job below the number returned is durable; with wait, first wait
 * until seq is, or a failure.
 */
uint64_t archive_pool_durable(struct archive_pool *p, int wait, uint64_t seq);
/* 1 (with why in e) once the pool failed, else 0. */
int archive_pool_failed(struct archive_pool *p, struct aperr *e);
/* Wait for everything submitted to be written, then stop the threads and free the jobs. */
void archive_pool_finish(struct archive_pool *p);

/*
 * Claim dir for a run that writes to it: create it, take its lock (a lock
 * held elsewhere: EX_TEMPFAIL), refuse an archive already there unless
 * append (EX_CANTCREAT), and recover what a crashed run left (each action
 * a line of report).  Returns the lock's descriptor (statefile_unlock),
 * with the last segment's number in *last_seq; -1 (e) on failure.
 */
int archive_claim(const char *dir, int append, int level, uint64_t *last_seq,
		  struct strbuf *report, struct aperr *e);

/* The manifest as the table store-raw --list shows, with a total line, appended to out. */
void archive_list_text(const struct archive_manifest *m, struct strbuf *out);

/* ---- the writer (archwriter.c) ---- */

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

/*
 * Start archiving into dir (locked, recovered), whose last segment is
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

/* ---- replay (archreplay.c) ---- */

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
 * checksum when it is read.
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
