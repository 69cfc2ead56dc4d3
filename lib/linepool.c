#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "linepool.h"

#define BATCH_LINES 512
#define BATCH_BYTES ((size_t)1 << 20)

struct result {
	uint64_t lineno;
	size_t off, len;	/* the line, in its batch's text */
	int verdict, code;
	size_t ioff, ilen;	/* what commit() needs, in the batch's info */
};

/* Lines checked together by one worker, and what they came to. */
struct batch {
	struct strbuf text, info;
	struct result *r;
	size_t n, a;
	int done;		/* checked: the committing thread may take it */
};

struct worker {
	struct linepool *p;
	void *wctx;
	pthread_t tid;
	int started;
};

struct linepool {
	unsigned jobs;
	lp_check_fn check;
	lp_commit_fn commit;
	void *ctx;
	struct worker *w;
	struct batch *ring;
	size_t nring, head, tail, taken;	/* oldest in flight; being filled; next to check */
	int stop;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct strbuf info;	/* one job: the line's info */
};

static void check_batch(struct linepool *p, void *wctx, struct batch *b)
{
	size_t i;

	strbuf_reset(&b->info);
	for (i = 0; i < b->n; i++) {
		struct result *r = &b->r[i];

		r->code = 0;
		r->ioff = b->info.len;
		r->verdict = p->check(wctx, b->text.buf + r->off, r->len, r->lineno, &b->info, &r->code);
		r->ilen = b->info.len - r->ioff;
	}
}

static void *run_worker(void *arg)
{
	struct worker *w = arg;
	struct linepool *p = w->p;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct batch *b;

		while (!p->stop && p->taken == p->tail)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->taken == p->tail)
			break;
		b = &p->ring[p->taken++ % p->nring];
		pthread_mutex_unlock(&p->mu);
		check_batch(p, w->wctx, b);
		pthread_mutex_lock(&p->mu);
		b->done = 1;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Commit the oldest batch in flight once it is checked, and free its place. */
static int commit_oldest(struct linepool *p, struct aperr *e)
{
	struct batch *b = &p->ring[p->head % p->nring];
	size_t i;

	pthread_mutex_lock(&p->mu);
	while (!b->done)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
	if (strbuf_failed(&b->info))
		return aperr_set(e, EX_OSERR, "out of memory checking line %llu",
				 (unsigned long long)b->r[0].lineno);
	for (i = 0; i < b->n; i++) {
		const struct result *r = &b->r[i];

		p->commit(p->ctx, b->text.buf + r->off, r->len, r->lineno, r->verdict, r->code,
			  b->info.buf ? b->info.buf + r->ioff : "", r->ilen);
	}
	b->n = 0;
	b->done = 0;
	strbuf_reset(&b->text);
	p->head++;
	return 0;
}

/* Hand the batch being filled to the workers; commit the oldest when all are in flight. */
static int publish(struct linepool *p, struct aperr *e)
{
	if (!p->ring[p->tail % p->nring].n)
		return 0;
	pthread_mutex_lock(&p->mu);
	p->tail++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
	return p->tail - p->head == p->nring ? commit_oldest(p, e) : 0;
}

static void stop_workers(struct linepool *p)
{
	unsigned i;

	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->jobs; i++)
		if (p->w[i].started)
			pthread_join(p->w[i].tid, NULL);
}

static void pool_free(struct linepool *p)
{
	size_t i;

	if (p->ring) {
		for (i = 0; i < p->nring; i++) {
			strbuf_release(&p->ring[i].text);
			strbuf_release(&p->ring[i].info);
			free(p->ring[i].r);
		}
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->work);
		pthread_cond_destroy(&p->done);
	}
	strbuf_release(&p->info);
	free(p->ring);
	free(p->w);
	free(p);
}

struct linepool *lp_start(unsigned jobs, void **wctx, lp_check_fn check, lp_commit_fn commit,
			  void *ctx, struct aperr *e)
{
	struct linepool *p = calloc(1, sizeof(*p));
	unsigned i;

	if (!p) {
		aperr_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	p->jobs = jobs ? jobs : 1;
	p->check = check;
	p->commit = commit;
	p->ctx = ctx;
	strbuf_init(&p->info, 0);
	if (!(p->w = calloc(p->jobs, sizeof(*p->w)))) {
		pool_free(p);
		aperr_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	for (i = 0; i < p->jobs; i++) {
		p->w[i].p = p;
		p->w[i].wctx = wctx[i];
	}
	if (p->jobs == 1)
		return p;
	p->nring = (size_t)p->jobs * 2 + 1;
	if (!(p->ring = calloc(p->nring, sizeof(*p->ring)))) {
		pool_free(p);
		aperr_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	for (i = 0; i < p->nring; i++) {
		strbuf_init(&p->ring[i].text, 0);
		strbuf_init(&p->ring[i].info, 0);
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	for (i = 0; i < p->jobs; i++) {
		if (pthread_create(&p->w[i].tid, NULL, run_worker, &p->w[i])) {
			stop_workers(p);
			pool_free(p);
			aperr_set(e, EX_OSERR, "cannot start a checking thread");
			return NULL;
		}
		p->w[i].started = 1;
	}
	return p;
}

int lp_add(struct linepool *p, const char *line, size_t n, uint64_t lineno, struct aperr *e)
{
	struct batch *b;
	struct result *r;

	if (p->jobs == 1) {
		int code = 0, verdict;

		strbuf_reset(&p->info);
		verdict = p->check(p->w[0].wctx, line, n, lineno, &p->info, &code);
		if (strbuf_failed(&p->info))
			return aperr_set(e, EX_OSERR, "out of memory checking line %llu",
					 (unsigned long long)lineno);
		p->commit(p->ctx, line, n, lineno, verdict, code, p->info.buf,
			  p->info.len);
		return 0;
	}
	b = &p->ring[p->tail % p->nring];
	if (b->n == b->a) {
		size_t a = b->a ? b->a * 2 : 64;
		struct result *nr = realloc(b->r, a * sizeof(*nr));

		if (!nr)
			return aperr_set(e, EX_OSERR, "out of memory at line %llu",
					 (unsigned long long)lineno);
		b->r = nr;
		b->a = a;
	}
	r = &b->r[b->n];
	r->lineno = lineno;
	r->off = b->text.len;
	r->len = n;
	if (strbuf_add(&b->text, line, n) < 0)
		return aperr_set(e, EX_OSERR, "out of memory at line %llu", (unsigned long long)lineno);
	b->n++;
	if (b->n == BATCH_LINES || b->text.len >= BATCH_BYTES)
		return publish(p, e);
	return 0;
}

int lp_drain(struct linepool *p, struct aperr *e)
{
	int r = 0;

	if (p->jobs > 1) {
		r = publish(p, e);
		while (!r && p->head < p->tail)
			r = commit_oldest(p, e);
	}
	return r;
}

int lp_finish(struct linepool *p, struct aperr *e)
{
	int r = lp_drain(p, e);

	if (p->jobs > 1)
		stop_workers(p);
	pool_free(p);
	return r;
}
