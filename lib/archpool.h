/*
 * archpool: the archive's compression threads and its one writer thread (lib/archive.h's
 * segments and manifest).
 */
#ifndef APIPE_ARCHPOOL_H
#define APIPE_ARCHPOOL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "archive.h"

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
	struct archive_s3 *s3;		/* NULL: segments are files in dir */
	pthread_t workers[ARCHIVE_POOL_MAX_WORKERS], writer;
	unsigned nworkers;
	int writer_started;
	uint64_t segments, compressed;	/* segments committed, compressed bytes written */
};

/*
 * Start workers (1..ARCHIVE_POOL_MAX_WORKERS) compressing at level into
 * dir, or into object storage s3 (non-NULL, borrowed: each segment is
 * stored whole when it ends, and a sync inside a segment is an error, so
 * its caller ends segments instead).  0, or -1.
 */
struct archive_s3;
int archive_pool_start(struct archive_pool *p, const char *dir, struct archive_s3 *s3, int level,
		       unsigned workers, struct aperr *e);
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

#endif
