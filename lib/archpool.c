/*
 * The archive's compression pool (see archive.h): workers compress jobs
 * in any order, one writer writes and commits them in sequence order.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archpool.h"
#include "archs3.h"

/*
 * A segment being written: to a file (archive_seg), or gathered in memory
 * and stored whole as an object when it ends (p->s3).
 */
struct seg_out {
	struct archive_seg f;
	struct strbuf obj;
	char name[96];
};

static int out_open(struct archive_pool *p, struct seg_out *o, const char *name, struct aperr *e)
{
	if (!p->s3)
		return archive_seg_open(&o->f, p->dir, name, e);
	strbuf_reset(&o->obj);
	snprintf(o->name, sizeof(o->name), "%s", name);
	return 0;
}

static int out_write(struct archive_pool *p, struct seg_out *o, const void *data, size_t n,
		     struct aperr *e)
{
	if (!p->s3)
		return archive_seg_write(&o->f, data, n, e);
	if (strbuf_add(&o->obj, data, n) < 0)
		return aperr_set(e, EX_OSERR, "out of memory");
	return 0;
}

static int out_commit(struct archive_pool *p, struct seg_out *o, const struct archive_meta *meta,
		      struct aperr *e)
{
	int r;

	if (!p->s3)
		return archive_seg_commit(&o->f, p->dir, meta, e);
	r = archive_s3_commit(p->s3, o->name, o->obj.buf, o->obj.len, meta, e);
	strbuf_reset(&o->obj);
	return r;
}

/* Make what was written durable: a file is synced; an object is durable only whole. */
static int out_sync(struct archive_pool *p, struct seg_out *o, struct aperr *e)
{
	if (!p->s3)
		return archive_seg_sync(&o->f, e);
	return aperr_set(e, EX_SOFTWARE, "%s: a sync inside an object", o->name);
}

/* After a failure: 1 when the file was kept for the next run (objects never are partial). */
static int out_abort(struct archive_pool *p, struct seg_out *o)
{
	if (!p->s3)
		return archive_seg_abort(&o->f);
	strbuf_reset(&o->obj);
	return 0;
}

static void *worker_main(void *arg)
{
	struct archive_pool *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct archive_job *j = NULL;
		size_t i;

		for (i = 0; i < p->njobs; i++)
			if (p->jobs[i].state == ARCHIVE_JOB_FILLED && (!j || p->jobs[i].seq < j->seq))
				j = &p->jobs[i];
		if (!j) {
			if (p->stop)
				break;
			pthread_cond_wait(&p->work, &p->mu);
			continue;
		}
		j->state = ARCHIVE_JOB_BUSY;
		pthread_mutex_unlock(&p->mu);
		strbuf_reset(&j->out);
		if (j->in.len && archive_gz_member(&j->out, j->in.buf, j->in.len, p->level) < 0) {
			pthread_mutex_lock(&p->mu);
			if (!p->failed) {
				p->failed = 1;
				aperr_set(&p->err, EX_OSERR, "compression failed (out of memory?)");
			}
			pthread_mutex_unlock(&p->mu);
		}
		pthread_mutex_lock(&p->mu);
		j->state = ARCHIVE_JOB_COMPRESSED;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void *writer_main(void *arg)
{
	struct archive_pool *p = arg;
	struct seg_out w;
	int open = 0;

	memset(&w, 0, sizeof(w));
	strbuf_init(&w.obj, STRBUF_DEFAULT_CAP);
	for (;;) {
		struct archive_job *j;
		struct aperr e = { 0, "" };
		int bad;

		pthread_mutex_lock(&p->mu);
		j = &p->jobs[p->next_write % p->njobs];
		while (!(j->state == ARCHIVE_JOB_COMPRESSED && j->seq == p->next_write)) {
			if (p->stop && j->state == ARCHIVE_JOB_FREE) {
				pthread_mutex_unlock(&p->mu);
				if (open)
					out_abort(p, &w);
				strbuf_release(&w.obj);
				return NULL;
			}
			pthread_cond_wait(&p->done, &p->mu);
		}
		bad = p->failed;
		pthread_mutex_unlock(&p->mu);
		if (!bad) {
			int r = 0;

			if (j->seg_start) {
				r = out_open(p, &w, j->name, &e);
				open = r == 0;
			}
			if (!r && j->out.len)
				r = out_write(p, &w, j->out.buf, j->out.len, &e);
			if (!r && j->seg_end) {
				open = 0;
				r = out_commit(p, &w, &j->meta, &e);
				if (!r)
					p->segments++;
			} else if (!r && j->sync && open) {
				r = out_sync(p, &w, &e);
			}
			if (!r && (j->seg_end || j->sync)) {
				pthread_mutex_lock(&p->mu);
				p->durable = j->seq + 1;
				pthread_mutex_unlock(&p->mu);
			}
			p->compressed += j->out.len;
			if (r < 0) {
				/* what was passed on stays, for the next run to recover */
				if (open) {
					char name[sizeof(w.f.name)], why[sizeof(e.msg)];

					memcpy(name, w.f.name, sizeof(name));
					memcpy(why, e.msg, sizeof(why));
					if (out_abort(p, &w))
						snprintf(e.msg, sizeof(e.msg), "%s; the lines of %s "
							 "passed on are kept in %s.tmp, and the next "
							 "run with --append lists them", why, name, name);
				}
				open = 0;
				pthread_mutex_lock(&p->mu);
				if (!p->failed) {
					p->failed = 1;
					p->err = e;
				}
				pthread_mutex_unlock(&p->mu);
			}
		} else if (open) {
			out_abort(p, &w);
			open = 0;
		}
		pthread_mutex_lock(&p->mu);
		strbuf_reset(&j->in);
		archive_meta_release(&j->meta);
		j->seg_start = j->seg_end = j->sync = 0;
		j->state = ARCHIVE_JOB_FREE;
		p->next_write++;
		pthread_cond_broadcast(&p->freed);
		pthread_mutex_unlock(&p->mu);
	}
}

int archive_pool_start(struct archive_pool *p, const char *dir, struct archive_s3 *s3, int level,
		       unsigned workers, struct aperr *e)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	p->s3 = s3;
	if (!workers || workers > ARCHIVE_POOL_MAX_WORKERS)
		return aperr_set(e, EX_USAGE, "threads: must be between 1 and %d",
				 ARCHIVE_POOL_MAX_WORKERS);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	pthread_cond_init(&p->freed, NULL);
	p->dir = dir;
	p->level = level;
	p->njobs = 2 * (size_t)workers + 2;
	p->jobs = calloc(p->njobs, sizeof(*p->jobs));
	if (!p->jobs)
		return aperr_set(e, EX_OSERR, "out of memory");
	for (i = 0; i < p->njobs; i++) {
		strbuf_init(&p->jobs[i].in, STRBUF_DEFAULT_CAP);
		strbuf_init(&p->jobs[i].out, STRBUF_DEFAULT_CAP);
		archive_meta_init(&p->jobs[i].meta);
	}
	for (p->nworkers = 0; p->nworkers < workers; p->nworkers++)
		if (pthread_create(&p->workers[p->nworkers], NULL, worker_main, p) != 0)
			break;
	if (p->nworkers == workers && pthread_create(&p->writer, NULL, writer_main, p) == 0) {
		p->writer_started = 1;
		return 0;
	}
	archive_pool_finish(p);
	return aperr_set(e, EX_OSERR, "cannot start the archive's threads");
}

struct archive_job *archive_pool_get(struct archive_pool *p, uint64_t seq)
{
	struct archive_job *j = &p->jobs[seq % p->njobs];

	pthread_mutex_lock(&p->mu);
	while (j->state != ARCHIVE_JOB_FREE)
		pthread_cond_wait(&p->freed, &p->mu);
	pthread_mutex_unlock(&p->mu);
	j->seq = seq;
	return j;
}

void archive_pool_submit(struct archive_pool *p, struct archive_job *j)
{
	pthread_mutex_lock(&p->mu);
	j->state = ARCHIVE_JOB_FILLED;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
}

int archive_pool_failed(struct archive_pool *p, struct aperr *e)
{
	int f;

	pthread_mutex_lock(&p->mu);
	f = p->failed;
	if (f)
		*e = p->err;
	pthread_mutex_unlock(&p->mu);
	return f;
}

uint64_t archive_pool_end_segment(struct archive_pool *p, struct archive_job **j, uint64_t *next,
				  struct archive_meta *meta)
{
	uint64_t seq;

	if (!*j)
		*j = archive_pool_get(p, (*next)++);
	(*j)->seg_end = 1;
	(*j)->meta = *meta;
	archive_meta_init(meta);
	seq = (*j)->seq;
	archive_pool_submit(p, *j);
	*j = NULL;
	return seq;
}

void archive_pool_finish(struct archive_pool *p)
{
	unsigned i;

	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_cond_broadcast(&p->done);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nworkers; i++)
		pthread_join(p->workers[i], NULL);
	pthread_mutex_lock(&p->mu);
	pthread_cond_broadcast(&p->done);
	pthread_mutex_unlock(&p->mu);
	if (p->writer_started)
		pthread_join(p->writer, NULL);
	for (i = 0; i < p->njobs; i++) {
		strbuf_release(&p->jobs[i].in);
		strbuf_release(&p->jobs[i].out);
		archive_meta_release(&p->jobs[i].meta);
	}
	free(p->jobs);
}


uint64_t archive_pool_durable(struct archive_pool *p, int wait, uint64_t seq)
{
	uint64_t durable;

	pthread_mutex_lock(&p->mu);
	while (wait && p->durable <= seq && !p->failed)
		pthread_cond_wait(&p->freed, &p->mu);
	durable = p->durable;
	pthread_mutex_unlock(&p->mu);
	return durable;
}
