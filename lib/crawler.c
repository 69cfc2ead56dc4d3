#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "crawler.h"
#include "db.h"
#include "jsonw.h"
#include "secret.h"
#include "statefile.h"

/* A listing being crawled (several at once with nactive > 1). */
enum slot_state { SLOT_FREE, SLOT_ACTIVE, SLOT_FINISHED };
struct crawler_slot {
	enum slot_state state;
	struct listing_spec l;
	struct listing c;
	int buffered;			/* writes to its own file until it is the head */
	int fd;
	struct lwriter w;
};

void crawler_init(struct crawler *cr)
{
	memset(cr, 0, sizeof(*cr));
	cr->cfg.max_empty = 3;
	cr->cfg.concurrency = 1;
	cr->nactive = 1;
	cr->max_line = 1 << 26;
	cr->max_depth = JSON_DEFAULT_DEPTH;
	json_doc_init(&cr->cd, 16);
	json_error_init(&cr->je);
	strbuf_init(&cr->tmp, 0);
	strbuf_init(&cr->ck, 0);
	pag_result_init(&cr->res);
	cr->out.fd = -1;
}

static void drop_slots(struct crawler *cr);

void crawler_release(struct crawler *cr)
{
	if (cr->slots) {	/* a run that stopped on an error */
		drop_slots(cr);
		free(cr->slots);
		cr->slots = NULL;
	}
	pag_result_release(&cr->res);
	json_doc_release(&cr->d);
	json_doc_release(&cr->cd);
	json_error_release(&cr->je);
	strbuf_release(&cr->env);
	strbuf_release(&cr->tmp);
	strbuf_release(&cr->ck);
}

static int io_submit(void *ctx, struct http_req *r, struct aperr *e)
{
	return http_submit(ctx, r, e);
}

static void io_abandon(void *ctx, struct http_req *r)
{
	http_abandon(ctx, r);
}

static void io_release(void *ctx, struct http_req *r)
{
	http_client_release_req(ctx, r);
}

static int io_creds_allowed(void *ctx, const struct http_req *r, const char *url)
{
	return http_creds_allowed(ctx, r, url);
}

static struct http_req *io_next(void *ctx, int *failed, struct aperr *e)
{
	return http_next(ctx, -1, failed, e);
}

void crawler_use_client(struct crawler *cr, struct http_client *client)
{
	cr->client = client;
	cr->cfg.io.ctx = client;
	cr->cfg.io.submit = io_submit;
	cr->cfg.io.abandon = io_abandon;
	cr->cfg.io.release = io_release;
	cr->cfg.io.creds_allowed = io_creds_allowed;
	cr->cfg.io.next = io_next;
}

static const char *shown(struct crawler *cr, const char *url)
{
	return listing_shown(&cr->cfg, &cr->tmp, url);
}

static void warn(struct crawler *cr, const char *msg)
{
	if (cr->hooks.warn)
		cr->hooks.warn(cr->hooks.ctx, msg);
}

/* ---- the checkpoint ---- */

/* A line to where the crawl at hand writes; flushed when that is the output. */
static int put_line(struct crawler *cr, const char *line, size_t n, struct aperr *e)
{
	int r = lwriter_line(cr->w, line, n, e);

	if (r == 0 && cr->w == &cr->out)	/* a listing waiting its turn is copied out later */
		r = lwriter_flush(cr->w, e);
	return r;
}

/* The in-band state line whose value is checkpoint value. */
static int state_emit(struct crawler *cr, const char *value, size_t n, struct aperr *e)
{
	struct strbuf sl = STRBUF_INIT;
	int r = jw_state_line(&sl, cr->state_name, strlen(cr->state_name), value, n, e);

	if (r == 0)
		r = put_line(cr, sl.buf, sl.len, e);
	strbuf_release(&sl);
	return r;
}

/*
 * Where the crawl at hand stands (after its last page written;
 * listing_done: finished), as a checkpoint: into the checkpoint file when
 * the listing writes to the output, and as an in-band state line (state)
 * after its pages.
 */
static int checkpoint_put(struct crawler *cr, int listing_done, int state, struct aperr *e)
{
	struct crawler_slot *sl = cr->cur;
	struct strbuf j = STRBUF_INIT;
	struct listing_ck ck = { 0 };
	struct jsonw w;
	int file = cr->checkpoint && !sl->buffered;
	int r = 0;

	state = state && cr->state_name;
	if (!file && !state)
		return 0;
	if (cr->outpath && file && (r = lwriter_sync(&cr->out, e)) != 0)
		return r;
	if (!listing_done)
		listing_ck_fill(&sl->c, &ck);
	ck.listing = sl->l.index + (listing_done ? 1 : 0);
	ck.output_bytes = cr->out_base + cr->out.bytes;
	jw_init(&w, &j);
	listing_ck_write(&w, &ck);
	if (jw_finish_line(&w) < 0)
		r = aperr_set(e, EX_OSERR, "the checkpoint: %s", jw_error(&w));
	secrets_scrub(cr->cfg.secrets, &j);
	if (!r && file)
		r = statefile_write(cr->checkpoint, j.buf, j.len, 1, e);
	if (!r && state)
		r = state_emit(cr, j.buf, j.len - 1, e);
	strbuf_release(&j);
	return r;
}

int crawler_load(struct crawler *cr, const char *text, size_t n, struct aperr *e)
{
	int r;

	strbuf_reset(&cr->ck);
	strbuf_add(&cr->ck, text, n);
	if (strbuf_failed(&cr->ck))
		return aperr_set(e, EX_OSERR, "out of memory");
	if (json_parse(&cr->cd, cr->ck.buf, cr->ck.len, &cr->je) < 0)
		return aperr_set(e, EX_DATAERR, "%s: not a paginate checkpoint; use --restart to "
				 "start over", cr->ck_label);
	r = listing_ck_read(&cr->cd, &cr->ck_in, &cr->ck_tok, e);
	if (r < 0) {
		char why[sizeof(e->msg)];

		snprintf(why, sizeof(why), "%s", e->msg);
		return aperr_set(e, EX_DATAERR, "%s: %s; use --restart to start over", cr->ck_label,
				 why);
	}
	cr->have_ck = r == 1;	/* 0: the last crawl ended, this one starts anew */
	return 0;
}

int crawler_resume(struct crawler *cr, const char *db, struct aperr *e)
{
	struct strbuf ck = STRBUF_INIT;
	int r;

	if (db) {
		/* the state the sink committed with the rows it landed */
		struct db *h = db_open(db, e);

		if (!h)
			return -1;
		r = db_state_get(h, cr->state_name, &ck, e);
		db_close(h);
		if (r > 0)
			r = crawler_load(cr, ck.buf, ck.len, e);
	} else if (cr->checkpoint) {
		r = statefile_read(cr->checkpoint, &ck, 1 << 24, e);
		if (r == 0)
			r = crawler_load(cr, ck.buf, ck.len, e);
	} else {
		r = 0;
	}
	strbuf_release(&ck);
	return r < 0 ? -1 : 0;
}

void crawler_stats_json(const struct crawler *cr, struct jsonw *w)
{
	jw_member_u64(w, "listings", cr->listings);
	jw_member_u64(w, "pages", cr->pages);
	jw_member_u64(w, "records", cr->records);
	jw_member_u64(w, "empty_pages", cr->empty_pages);
	jw_member_str(w, "style", cr->last_style ? cr->last_style : "none");
	jw_member_str(w, "stopped", cr->stopped_max ? "max-pages" : "end");
	jw_key(w, "total_reported");
	if (cr->any_total)
		jw_u64(w, cr->reported_total);
	else
		jw_null(w);
	jw_member_u64(w, "total_fetched", cr->fetched_of_total);
	jw_member_u64(w, "short_listings", cr->short_listings);
}

int crawler_under_way(const struct crawler *cr, uint64_t *total, uint64_t *records)
{
	size_t i, n = 0;

	*total = *records = 0;
	for (i = 0; i < cr->nslots; i++) {
		const struct listing *c = &cr->slots[i].c;

		if (cr->slots[i].state != SLOT_ACTIVE)
			continue;
		if (!c->has_total)
			return 0;
		*total += c->total;
		*records += c->records;
		n++;
	}
	return n > 0;
}

int crawler_open_output(struct crawler *cr, struct aperr *e)
{
	int fd = 1;

	if (cr->outpath) {
		struct stat st;
		uint64_t keep = cr->have_ck ? cr->ck_in.output_bytes : 0;

		fd = open(cr->outpath, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0 || fstat(fd, &st) < 0)
			return aperr_errno(e, EX_CANTCREAT, "%s", cr->outpath);
		if (S_ISREG(st.st_mode)) {
			if ((uint64_t)st.st_size < keep) {
				close(fd);
				return aperr_set(e, EX_DATAERR, "%s holds %lld bytes, fewer than the "
						 "%llu the checkpoint %s recorded: it changed since; "
						 "use --restart to start over", cr->outpath,
						 (long long)st.st_size, (unsigned long long)keep,
						 cr->checkpoint);
			}
			if (ftruncate(fd, (off_t)keep) < 0 || lseek(fd, 0, SEEK_END) < 0) {
				aperr_errno(e, EX_IOERR, "%s", cr->outpath);
				close(fd);
				return -1;
			}
			cr->out_base = keep;
		}
	}
	json_doc_init(&cr->d, cr->max_depth);
	strbuf_init(&cr->env, cr->max_line);
	cr->w = &cr->out;
	return lwriter_init(&cr->out, fd, cr->outpath ? cr->outpath : "stdout", 1 << 16, e);
}

/* ---- one page ---- */

static int write_envelope(struct crawler *cr, const struct listing_job *j, struct aperr *e)
{
	const struct listing_spec *l = &cr->cur->l;
	struct envelope_opts eo;
	char key[33];

	memset(&eo, 0, sizeof(eo));
	eo.meta = l->meta.len ? l->meta.buf : NULL;
	eo.meta_len = l->meta.len;
	eo.page = j->page;
	eo.secrets = cr->cfg.secrets;
	if (cr->auth && cr->auth->kind == AUTH_KEY_QUERY)
		eo.redact_param = cr->auth->key_name;
	if (cr->auth && cr->auth->kind == AUTH_KEY_HEADER)
		eo.redact_header = cr->auth->key_name;
	if (pag_request_id(&j->req, cr->cfg.secrets, key) < 0)
		return aperr_set(e, EX_OSERR, "out of memory");
	eo.page_key = key;
	eo.body_parsed = 1;	/* listing_page left the page's parse in cr->d */
	strbuf_reset(&cr->env);
	if (envelope_build(&cr->env, &j->req, &eo, &cr->d) < 0)
		return listing_page_error(&cr->cfg, j->page, j->req.url, EX_DATAERR,
					"the envelope exceeds --max-line", e);
	return put_line(cr, cr->env.buf, cr->env.len, e);
}

/* Page j of the crawl at hand is back, its turn come: check it, write it, checkpoint it. */
static int handle_page(struct crawler *cr, struct listing_job *j, struct aperr *e)
{
	struct listing *c = &cr->cur->c;
	size_t n;
	int r = 0;

	r = listing_page(c, j, &cr->d, &cr->je, &cr->res, e);
	if (r > 0) {
		/* page 2 refuted auto's choice: asked for again under the next candidate */
		listing_job_free(&cr->cfg, j);
		return 0;
	}
	if (r < 0 || (r = write_envelope(cr, j, e)) != 0) {
		listing_job_free(&cr->cfg, j);	/* the run stops at this page */
		return r ? r : -1;
	}
	if (cr->hooks.written)
		cr->hooks.written(cr->hooks.ctx, &j->req);
	n = cr->res.nrecords;
	cr->records += n;
	cr->pages++;
	if (!n)
		cr->empty_pages++;
	listing_advance(c, j, n);
	if (!c->done && cr->max_pages && cr->pages >= cr->max_pages) {
		cr->stopped_max = 1;
		c->done = 1;
		r = checkpoint_put(cr, 0, 1, e);
	} else if (!c->done) {
		r = checkpoint_put(cr, 0, 1, e);
	}
	if (cr->hooks.progress)
		cr->hooks.progress(cr->hooks.ctx, cr);
	return r;
}

/* The crawl at hand ended: hold it to its total, note it, checkpoint it. */
static int finish_listing(struct crawler *cr, struct aperr *e)
{
	struct listing *c = &cr->cur->c;
	const char *start = cr->cur->l.tmpl.url;
	struct strbuf m = STRBUF_INIT;
	int r = 0;

	cr->listings++;
	cr->last_style = pag_style_name(c->spec.style);
	if (c->has_total) {
		cr->any_total = 1;
		cr->reported_total += c->total;
		cr->fetched_of_total += c->records;
		if (!cr->stopped_max && c->records < c->total)
			cr->short_listings++;
		if (!cr->stopped_max && c->spec.guessed && c->records < c->total)
			r = aperr_set(e, EX_DATAERR, "%s: auto guessed '%s' and the crawl fetched %llu "
				      "of the %llu records the API reports: the guess was wrong; name "
				      "the style with --style", shown(cr, start),
				      c->spec.style == PAG_OFFSET ? c->spec.offset_param
								 : c->spec.page_param,
				      (unsigned long long)c->records, (unsigned long long)c->total);
		else if (!cr->stopped_max && c->total != c->records)
			strbuf_addf(&m, "%s: the API reported a total of %llu records; the crawl "
				    "fetched %llu", shown(cr, start), (unsigned long long)c->total,
				    (unsigned long long)c->records);
	} else if (!cr->stopped_max && cr->require_total) {
		cr->short_listings++;
		strbuf_addf(&m, "%s: the API reported no total to check the crawl against",
			    shown(cr, start));
	}
	if (m.len)
		warn(cr, m.buf);
	strbuf_release(&m);
	if (!r && !cr->stopped_max)
		r = checkpoint_put(cr, 1, 1, e);
	listing_end(c);
	cr->dropped_ahead += c->dropped;
	return r;
}

/* ---- the listings ---- */

static void use_slot(struct crawler *cr, struct crawler_slot *sl)
{
	cr->cur = sl;
	cr->w = sl->buffered ? &sl->w : &cr->out;
}

/* A listing that waits for its turn writes to a file of its own. */
static int slot_buffer(struct crawler_slot *sl, struct aperr *e)
{
	const char *dir = getenv("TMPDIR");
	struct strbuf path = STRBUF_INIT;

	strbuf_addf(&path, "%s/apipe-paginate.XXXXXX", dir && *dir ? dir : "/tmp");
	if (strbuf_failed(&path))
		return aperr_set(e, EX_OSERR, "out of memory");
	sl->fd = mkstemp(path.buf);
	if (sl->fd < 0) {
		aperr_errno(e, EX_CANTCREAT, "a temporary file for listing %llu in %s",
			    (unsigned long long)sl->l.index + 1, dir && *dir ? dir : "/tmp");
		strbuf_release(&path);
		return -1;
	}
	unlink(path.buf);
	strbuf_release(&path);
	sl->buffered = 1;
	return lwriter_init(&sl->w, sl->fd, "a listing's temporary file", 1 << 16, e);
}

/*
 * Listing sl becomes the head: what it wrote so far goes to the output,
 * then the checkpoint file says where it stands; it writes directly from
 * now on.
 */
static int slot_unbuffer(struct crawler *cr, struct crawler_slot *sl, struct aperr *e)
{
	char buf[1 << 16];
	ssize_t got;
	int r;

	if ((r = lwriter_flush(&sl->w, e)) != 0)
		return r;
	if (lseek(sl->fd, 0, SEEK_SET) < 0)
		return aperr_errno(e, EX_IOERR, "a listing's temporary file");
	while ((got = read(sl->fd, buf, sizeof(buf))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return aperr_errno(e, EX_IOERR, "a listing's temporary file");
		if ((r = lwriter_write(&cr->out, buf, (size_t)got, e)) != 0)
			return r;
	}
	if ((r = lwriter_flush(&cr->out, e)) != 0)
		return r;
	lwriter_release(&sl->w);
	close(sl->fd);
	sl->fd = -1;
	sl->buffered = 0;
	use_slot(cr, sl);
	if (sl->state == SLOT_FINISHED)
		return checkpoint_put(cr, 1, 0, e);
	if (sl->c.pages)
		return checkpoint_put(cr, 0, 0, e);
	return 0;
}

static void slot_free(struct crawler_slot *sl)
{
	listing_spec_release(&sl->l);
	sl->state = SLOT_FREE;
}

/* Hand the output on: finished heads leave, the next listing in line takes over. */
static int advance_head(struct crawler *cr, struct aperr *e)
{
	size_t i;
	int moved = 1, r;

	while (moved) {
		moved = 0;
		for (i = 0; i < cr->nslots; i++) {
			struct crawler_slot *sl = &cr->slots[i];

			if (sl->state == SLOT_FREE || sl->l.index != cr->head)
				continue;
			if (sl->buffered && (r = slot_unbuffer(cr, sl, e)) != 0)
				return r;
			if (sl->state == SLOT_FINISHED) {
				slot_free(sl);
				cr->head++;
				moved = 1;
			}
			break;
		}
	}
	return 0;
}

/* The listing at index into l: 1, 0 at the end, -1 (e). */
static int next_listing(struct crawler *cr, struct listing_spec *l, uint64_t index,
			struct aperr *e)
{
	int r;

	listing_spec_init(l, index);
	r = cr->hooks.next(cr->hooks.ctx, index, &l->tmpl, &l->meta, e);
	if (r <= 0) {
		listing_spec_release(l);
		if (r < 0)
			secrets_scrub_str(cr->cfg.secrets, e->msg);
		return r;
	}
	if (listing_spec_ready(l, &cr->cfg, cr->auth && cr->auth->kind != AUTH_NONE, e) < 0) {
		listing_spec_release(l);
		if (cr->input_lines && e->code == EX_USAGE)
			e->code = EX_DATAERR;
		return -1;
	}
	return 1;
}

/* Begin (or resume) listing sl's crawl. */
static int begin_listing(struct crawler *cr, struct crawler_slot *sl, int resume,
			 struct aperr *e)
{
	struct listing *c = &sl->c;
	char m[80];

	c->owner = sl;
	if (!resume)
		return listing_begin(c, &cr->cfg, &sl->l, cr->user, e);
	if (listing_resume(c, &cr->cfg, &sl->l, &cr->cd, &cr->ck_in, &cr->ck_tok, cr->ck_label,
			 e) < 0)
		return -1;
	if (cr->cfg.io.log) {
		struct strbuf msg = STRBUF_INIT;

		snprintf(m, sizeof(m), "resuming at page %llu from ", (unsigned long long)c->page);
		strbuf_addstr(&msg, m);
		strbuf_addstr(&msg, cr->ck_label);
		cr->cfg.io.log(cr->cfg.io.ctx, msg.len ? msg.buf : m);
		strbuf_release(&msg);
	}
	return 0;
}

/*
 * Start the next listing in a free slot: 1; 0 when no listing is left;
 * 2 when every slot is taken (finished listings wait for their turn);
 * -1 (e).
 */
static int start_listing(struct crawler *cr, uint64_t *index, struct aperr *e)
{
	struct crawler_slot *sl = NULL;
	size_t i;
	int r;

	for (i = 0; i < cr->nslots && !sl; i++)
		if (cr->slots[i].state == SLOT_FREE)
			sl = &cr->slots[i];
	if (!sl)
		return 2;
	for (;;) {
		if ((r = next_listing(cr, &sl->l, *index, e)) <= 0)
			return r;
		if (!cr->have_ck || *index >= cr->ck_in.listing)
			break;
		listing_spec_release(&sl->l);	/* done before the checkpoint */
		++*index;
		if (cr->head < *index)
			cr->head = *index;
	}
	if (cr->max_pages && cr->pages >= cr->max_pages) {
		cr->stopped_max = 1;	/* the checkpoint names this listing next */
		listing_spec_release(&sl->l);
		return 0;
	}
	sl->state = SLOT_ACTIVE;
	sl->buffered = 0;
	if (!cr->unordered && *index != cr->head && (r = slot_buffer(sl, e)) != 0) {
		listing_spec_release(&sl->l);
		sl->state = SLOT_FREE;
		return r;
	}
	use_slot(cr, sl);
	r = begin_listing(cr, sl, cr->have_ck && *index == cr->ck_in.listing && cr->ck_in.at_page,
			  e);
	++*index;
	return r < 0 ? -1 : 1;
}

/* A response is back: its listing's pages that are whole now, in order. */
static int take(struct crawler *cr, struct listing_job *j, struct aperr *e)
{
	struct listing *c;
	int r;

	use_slot(cr, j->owner);
	c = &cr->cur->c;
	listing_take(c, j);
	while ((j = listing_ready(c)))
		if ((r = handle_page(cr, j, e)) != 0)
			return r;
	return 0;
}

/* Listings started, requests going, responses taken, until no listing is left. */
static int listing_all(struct crawler *cr, struct aperr *e)
{
	uint64_t index = 0;
	size_t active = 0, i;
	int more = 1, r;

	for (;;) {
		struct http_req *req;
		int failed;

		while (more && active < cr->nactive && !cr->stopped_max) {
			if ((r = start_listing(cr, &index, e)) < 0)
				return r;
			if (r == 2)
				break;
			more = r;
			active += (size_t)r;
		}
		if (!active)
			return 0;
		for (i = 0; i < cr->nslots; i++)
			if (cr->slots[i].state == SLOT_ACTIVE &&
			    listing_submit(&cr->slots[i].c, cr->max_pages ? cr->max_pages - cr->pages : 0,
					 e) < 0)
				return -1;
		req = cr->cfg.io.next(cr->cfg.io.ctx, &failed, e);
		if (failed)
			return -1;
		if (!req)
			return aperr_set(e, EX_SOFTWARE, "no request in flight");
		if ((r = take(cr, req->udata, e)) != 0)
			return r;
		if (cr->cur->c.done) {
			if ((r = finish_listing(cr, e)) != 0)
				return r;
			cr->cur->state = SLOT_FINISHED;
			if (cr->unordered)
				slot_free(cr->cur);
			active--;
		}
		if (!cr->unordered && (r = advance_head(cr, e)) != 0)
			return r;
		if (cr->stopped_max)
			return 0;
	}
}

/* The run ended (or stopped at --max-pages): what waits is dropped. */
static void drop_slots(struct crawler *cr)
{
	size_t i;

	for (i = 0; i < cr->nslots; i++) {
		struct crawler_slot *sl = &cr->slots[i];

		if (sl->state == SLOT_FREE)
			continue;
		if (sl->state == SLOT_ACTIVE) {
			listing_end(&sl->c);
			cr->dropped_ahead += sl->c.dropped;
		}
		if (sl->buffered) {
			lwriter_release(&sl->w);
			close(sl->fd);
		}
		slot_free(sl);
	}
}

/* The crawl ended: say so in-band, and the checkpoint file goes. */
static int ended(struct crawler *cr, struct aperr *e)
{
	struct strbuf done = STRBUF_INIT;
	struct jsonw w;
	int r = 0;

	cr->w = &cr->out;
	if (cr->state_name) {
		jw_init(&w, &done);
		listing_ck_complete(&w);
		if (jw_finish(&w) < 0)
			r = aperr_set(e, EX_OSERR, "out of memory");
		else
			r = state_emit(cr, done.buf, done.len, e);
		strbuf_release(&done);
	}
	if (!r && cr->checkpoint) {
		struct strbuf lock = STRBUF_INIT;

		if (unlink(cr->checkpoint) < 0 && errno != ENOENT)
			r = aperr_errno(e, EX_CANTCREAT, "%s", cr->checkpoint);
		strbuf_addf(&lock, "%s.lock", cr->checkpoint);
		unlink(lock.buf);
		strbuf_release(&lock);
	}
	return r;
}

int crawler_run(struct crawler *cr, struct aperr *e)
{
	int r;

	/* listings that end before the head wait in slots that crawl no more */
	cr->nslots = cr->nactive > 1 ? cr->nactive * 4 : 1;
	cr->cfg.ahead = cr->nslots == 1;
	cr->slots = calloc(cr->nslots, sizeof(*cr->slots));
	if (!cr->slots)
		return aperr_set(e, EX_OSERR, "out of memory");
	r = listing_all(cr, e);
	if (r != 0)
		return r;	/* crawler_release() frees what the run holds */
	drop_slots(cr);
	free(cr->slots);
	cr->slots = NULL;
	if (cr->stopped_max) {
		char m[160];

		snprintf(m, sizeof(m), "stopped after %llu pages (--max-pages)%s",
			 (unsigned long long)cr->pages,
			 cr->checkpoint || cr->state_name ? "; the checkpoint resumes the crawl" : "");
		warn(cr, m);
		return 0;
	}
	return ended(cr, e);
}
