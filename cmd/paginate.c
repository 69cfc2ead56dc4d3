/*
 * paginate: every page of a listing, to its natural end, resumable.
 *
 * One listing is crawled at a time.  Each page's envelope is written and
 * flushed before the checkpoint names the next request, so a killed run
 * resumes at the first page it had not written.  Offset and page styles
 * may fetch ahead (-j): pages are still written in order, and a page that
 * shows the guess was wrong (a short offset page) discards what was
 * fetched ahead.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/redact.h"
#include "common.h"
#include "../lib/crawl.h"
#include "../lib/envelope.h"
#include "../lib/fpset.h"
#include "../lib/hash.h"
#include "../lib/httpcli.h"
#include "../lib/json.h"
#include "../lib/num.h"
#include "../lib/paginate.h"
#include "../lib/url.h"
#include "../lib/db.h"
#include "../lib/statefile.h"

static const char usage_text[] =
	"usage: paginate [-hqv] [--style style] [--records-path pointer]\n"
	"       [--cursor-path pointer --cursor-param name] [--next-path pointer]\n"
	"       [--limit n] [--offset-param name] [--limit-param name]\n"
	"       [--page-param name] [--start-page n] [--per-page n] [--per-page-param name]\n"
	"       [--order-field pointer --order-param name] [--has-more-path pointer]\n"
	"       [--last-page-path pointer] [--total-path pointer] [--require-total]\n"
	"       [--graphql file [--variables json]] [--unordered]\n"
	"       [--max-pages n] [--max-empty-pages n] [--checkpoint file [--restart]]\n"
	"       [--state name [--resume-from db [--restart]]] [-o file]\n"
	HTTP_CLI_USAGE
	"       [--stats file] [--max-line size] [--max-depth n] [url ...]\n";

enum {
	OPT_STYLE = CLI_OPT_FIRST_TOOL, OPT_RECORDS_PATH, OPT_CURSOR_PATH, OPT_CURSOR_PARAM,
	OPT_NEXT_PATH, OPT_LIMIT, OPT_OFFSET_PARAM, OPT_LIMIT_PARAM, OPT_PAGE_PARAM,
	OPT_START_PAGE, OPT_PER_PAGE, OPT_PER_PAGE_PARAM, OPT_KEY_FIELD, OPT_KEY_PARAM,
	OPT_MORE_PATH, OPT_DONE_PATH, OPT_TOTAL_PATH, OPT_MAX_PAGES, OPT_MAX_EMPTY,
	OPT_CHECKPOINT, OPT_RESTART, OPT_STATE, OPT_RESUME_FROM, OPT_REQUIRE_TOTAL, OPT_GRAPHQL,
	OPT_VARIABLES, OPT_UNORDERED, OPT_OLD_KEY_FIELD, OPT_OLD_KEY_PARAM
};

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	HTTP_CLI_LONGOPTS,
	{ "style", required_argument, NULL, OPT_STYLE },
	{ "records-path", required_argument, NULL, OPT_RECORDS_PATH },
	{ "cursor-path", required_argument, NULL, OPT_CURSOR_PATH },
	{ "cursor-param", required_argument, NULL, OPT_CURSOR_PARAM },
	{ "next-path", required_argument, NULL, OPT_NEXT_PATH },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "offset-param", required_argument, NULL, OPT_OFFSET_PARAM },
	{ "limit-param", required_argument, NULL, OPT_LIMIT_PARAM },
	{ "page-param", required_argument, NULL, OPT_PAGE_PARAM },
	{ "start-page", required_argument, NULL, OPT_START_PAGE },
	{ "per-page", required_argument, NULL, OPT_PER_PAGE },
	{ "per-page-param", required_argument, NULL, OPT_PER_PAGE_PARAM },
	{ "order-field", required_argument, NULL, OPT_KEY_FIELD },
	{ "order-param", required_argument, NULL, OPT_KEY_PARAM },
	{ "key-field", required_argument, NULL, OPT_OLD_KEY_FIELD },
	{ "key-param", required_argument, NULL, OPT_OLD_KEY_PARAM },
	{ "has-more-path", required_argument, NULL, OPT_MORE_PATH },
	{ "last-page-path", required_argument, NULL, OPT_DONE_PATH },
	{ "total-path", required_argument, NULL, OPT_TOTAL_PATH },
	{ "require-total", no_argument, NULL, OPT_REQUIRE_TOTAL },
	{ "graphql", required_argument, NULL, OPT_GRAPHQL },
	{ "variables", required_argument, NULL, OPT_VARIABLES },
	{ "unordered", no_argument, NULL, OPT_UNORDERED },
	{ "max-pages", required_argument, NULL, OPT_MAX_PAGES },
	{ "max-empty-pages", required_argument, NULL, OPT_MAX_EMPTY },
	{ "checkpoint", required_argument, NULL, OPT_CHECKPOINT },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "resume-from", required_argument, NULL, OPT_RESUME_FROM },
	{ "restart", no_argument, NULL, OPT_RESTART },
	{ "output", required_argument, NULL, 'o' },
	{ NULL, 0, NULL, 0 }
};

struct slot;

/* One page request in flight. */
struct job {
	struct http_req req;
	struct slot *slot;	/* the listing it belongs to */
	uint64_t gen;		/* the guess it belongs to (fetch-ahead) */
	uint64_t page;		/* 1-based page number */
	uint64_t pos;		/* offset or page number (offset and page styles) */
};

/* One listing: its start request, as the template of every page request. */
struct listing {
	struct http_req tmpl;
	struct strbuf meta;
	uint64_t index;
	struct strbuf origin;		/* the start URL's origin: where credentials go */
	int holds_creds;		/* auth, or a credential header in its request */
	char id[33];			/* the start request's identity (pg_request_id) */
};

/* Where a listing's crawl stands: the next page not yet written. */
struct crawl {
	struct pg_spec spec;
	int resolved;			/* the style is known (not auto before page 1) */
	struct strbuf next;		/* URL of the next page to write */
	struct strbuf next_body;	/* and its body, when the position goes there */
	int has_next_body;
	uint64_t page, pos, step;	/* its number, its position, the offset step */
	uint64_t empty_run;		/* empty pages in a row that still pointed on */
	uint64_t records, pages;
	int done, has_total;
	uint64_t total;
	struct fpset seen;		/* requests already made (a loop is an error) */
	uint64_t prev_hash;		/* the previous page's records (offset/page) */
	int has_prev;
	/* fetch-ahead: pages gen_page.. were guessed at gen_pos + k * gen_step */
	uint64_t gen, gen_page, gen_pos, gen_step, last_submitted;
	struct job **ring;
	size_t ringn;
	struct job **live;		/* submitted, not yet back */
	size_t nlive, alive;
};

/*
 * A listing being crawled, when -j crawls several at once.  Listings go
 * out grouped in input order: the first unfinished one (the head) writes
 * to the output; the others write to a temporary file of their own, copied
 * out when their turn comes.  So the output, its in-band state lines and
 * a checkpoint read as if the listings were crawled one after another.
 */
enum slot_state { SLOT_FREE, SLOT_ACTIVE, SLOT_FINISHED };
struct slot {
	enum slot_state state;
	struct listing l;
	struct crawl c;
	int buffered;			/* writes to its own file until it is the head */
	int fd;
	struct lwriter w;
};

struct pg_run {
	struct cli_common common;
	struct http_cli hc;
	struct http_client *client;
	struct pg_spec user;
	uint64_t max_pages, max_empty;
	const char *checkpoint, *outpath;
	const char *state_name, *resume_from;	/* in-band state, and the sink that keeps it */
	const char *ck_label;		/* where the checkpoint came from, for messages */
	int restart, lockfd;
	struct lwriter out;
	uint64_t out_base;
	struct lreader in;
	int use_stdin;
	char **urls;
	int nurls;
	struct json_doc d, rd, cd;
	struct json_error je;
	struct strbuf env, why, tmp;
	struct pg_result res;
	struct crawl *c;		/* the crawl at hand (p->cur's) */
	struct slot *slots, *cur;
	size_t nslots, nactive;		/* slots; listings crawled at once */
	struct lwriter *w;		/* where the crawl at hand writes */
	uint64_t head;			/* the listing that writes to the output */
	int unordered;
	/* the checkpoint read at start */
	struct strbuf ck;
	int have_ck;
	struct crawl_ck ck_in;		/* what it says; its strings are tokens of cd */
	struct crawl_ck_tokens ck_tok;
	/* totals of this run */
	uint64_t listings, pages, records, empty_pages, reported_total, short_listings;
	uint64_t fetched_of_total;	/* records of the listings that reported a total */
	uint64_t dropped_ahead;		/* responses to pages fetched ahead on a wrong guess */
	int any_total, stopped_max, require_total;
	const char *graphql, *variables;
	const char *last_style;
	uint8_t key[16];
	int tty;
	double last_progress;
};

static void on_log(void *ctx, const char *line)
{
	(void)ctx;
	warnmsg("%s", line);
}

/* A URL fit for messages and checkpoints: secrets masked. */
static const char *shown(struct pg_run *p, const char *url)
{
	strbuf_reset(&p->tmp);
	redact_url(&p->tmp, url, p->hc.auth.kind == AUTH_KEY_QUERY ? p->hc.auth.key_name : NULL);
	secrets_scrub(&p->hc.secrets, &p->tmp);
	return p->tmp.buf ? p->tmp.buf : "";
}

/* The same, cut to a length a message can carry. */
static const char *shown_short(struct pg_run *p, const char *url)
{
	shown(p, url);
	strbuf_shorten(&p->tmp, 300);
	return p->tmp.buf ? p->tmp.buf : "";
}

static void die_page(struct pg_run *p, uint64_t page, const char *url, int code, const char *msg)
	__attribute__((noreturn));
static void die_page(struct pg_run *p, uint64_t page, const char *url, int code, const char *msg)
{
	struct strbuf m = STRBUF_INIT;

	strbuf_addstr(&m, msg);
	secrets_scrub(&p->hc.secrets, &m);
	die(code, "page %llu (%s): %s", (unsigned long long)page, shown_short(p, url),
	    m.buf ? m.buf : "");
}

/* ---- the checkpoint ---- */

/*
 * The in-band state line after a page: RS (0x1e), which no JSON text may
 * begin with, then {"apipe_state":NAME,"value":CHECKPOINT}.  The filters
 * pass it on in order; the sink keeps its value with the rows before it.
 */
static void state_emit(struct pg_run *p, const char *value, size_t n)
{
	struct strbuf sl = STRBUF_INIT;
	struct jsonw w;
	struct aperr e;

	strbuf_addstr(&sl, APIPE_STATE_PREFIX);
	jw_init(&w, &sl);
	jw_object(&w);
	jw_key(&w, "apipe_state");
	jw_text(&w, p->state_name, strlen(p->state_name));
	jw_member_raw(&w, "value", value, n);
	jw_end_object(&w);
	if (jw_finish(&w) < 0)
		die(EX_OSERR, "the state line: %s", jw_error(&w));
	tool_check_write(lwriter_line(p->w, sl.buf, sl.len, &e), &e);
	if (p->w == &p->out)	/* a listing waiting its turn is copied out later */
		tool_check_write(lwriter_flush(p->w, &e), &e);
	strbuf_release(&sl);
}

/*
 * Where listing l stands (after its last page written; done: finished),
 * as a checkpoint: into the checkpoint file when the listing writes to the
 * output, and as an in-band state line (state: 1) after its pages.
 */
static void checkpoint_put(struct pg_run *p, struct listing *l, int listing_done, int state)
{
	struct crawl *c = p->c;
	struct strbuf j = STRBUF_INIT;
	struct crawl_ck ck = { 0 };
	struct jsonw w;
	struct aperr e;
	int file = p->checkpoint && !p->cur->buffered;

	if (!file && !(state && p->state_name))
		return;
	if (p->outpath && file && lwriter_sync(&p->out, &e) < 0)
		die_err(&e);
	ck.listing = l->index + (listing_done ? 1 : 0);
	ck.output_bytes = p->out_base + p->out.bytes;
	ck.at_page = !listing_done;
	if (ck.at_page) {
		ck.start = shown(p, l->tmpl.url);	/* in p->tmp */
		ck.start_id = l->id;
		ck.next = c->next.buf;
		ck.next_len = c->next.len;
		ck.next_body = c->has_next_body ? (c->next_body.buf ? c->next_body.buf : "") : NULL;
		ck.next_body_len = c->next_body.len;
		ck.page = c->page;
		ck.pos = c->pos;
		ck.step = c->step;
		ck.empty_run = c->empty_run;
		ck.records = c->records;
		ck.pages = c->pages;
		ck.has_total = c->has_total;
		ck.total = c->total;
		ck.spec = &c->spec;
	}
	jw_init(&w, &j);
	crawl_ck_write(&w, &ck);
	if (jw_finish_line(&w) < 0)
		die(EX_OSERR, "the checkpoint: %s", jw_error(&w));
	secrets_scrub(&p->hc.secrets, &j);
	if (file && statefile_write(p->checkpoint, j.buf, j.len, 1, &e) < 0)
		die_err(&e);
	if (state && p->state_name)
		state_emit(p, j.buf, j.len - 1);
	strbuf_release(&j);
}

static void checkpoint_write(struct pg_run *p, struct listing *l, int listing_done)
{
	checkpoint_put(p, l, listing_done, 1);
}

/* Read the checkpoint of an interrupted run, if there is one. */
static void checkpoint_load(struct pg_run *p)
{
	struct aperr e;
	int r;

	if ((!p->checkpoint && !p->resume_from) || p->restart)
		return;
	if (p->resume_from) {
		/* the state the sink committed with the rows it landed */
		struct db *db = db_open(p->resume_from, &e);

		if (!db)
			die_err(&e);
		r = db_state_get(db, p->state_name, &p->ck, &e);
		db_close(db);
		if (r < 0)
			die_err(&e);
		if (r == 0)
			return;
	} else {
		r = statefile_read(p->checkpoint, &p->ck, 1 << 24, &e);
		if (r < 0)
			die_err(&e);
		if (r == 1)
			return;
	}
	if (json_parse(&p->cd, p->ck.buf, p->ck.len, &p->je) < 0)
		die(EX_DATAERR, "%s: not a paginate checkpoint; use --restart to start over",
		    p->ck_label);
	r = crawl_ck_read(&p->cd, &p->ck_in, &p->ck_tok, &e);
	if (r < 0)
		die(EX_DATAERR, "%s: %s; use --restart to start over", p->ck_label, e.msg);
	p->have_ck = r == 1;	/* 0: the last crawl ended, this one starts anew */
}

/* Open -o FILE: cut back to what the checkpoint vouches for, or empty it. */
static void open_output(struct pg_run *p)
{
	struct aperr e;
	int fd = 1;

	if (p->outpath) {
		struct stat st;
		uint64_t keep = p->have_ck ? p->ck_in.output_bytes : 0;

		fd = open(p->outpath, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0 || fstat(fd, &st) < 0)
			die(EX_CANTCREAT, "%s: %s", p->outpath, strerror(errno));
		if (S_ISREG(st.st_mode)) {
			if ((uint64_t)st.st_size < keep)
				die(EX_DATAERR, "%s holds %lld bytes, fewer than the %llu the checkpoint "
				    "%s recorded: it changed since; use --restart to start over",
				    p->outpath, (long long)st.st_size, (unsigned long long)keep,
				    p->checkpoint);
			if (ftruncate(fd, (off_t)keep) < 0 || lseek(fd, 0, SEEK_END) < 0)
				die(EX_IOERR, "%s: %s", p->outpath, strerror(errno));
			p->out_base = keep;
		}
	}
	if (lwriter_init(&p->out, fd, p->outpath ? p->outpath : "stdout", 1 << 16, &e) < 0)
		die_err(&e);
	tool_set_output(&p->out);
}

/* ---- requests ---- */

static struct job *job_new(struct pg_run *p, struct listing *l, const char *url,
			   const struct strbuf *body)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		die(EX_OSERR, "out of memory");
	j->slot = p->cur;
	http_req_init(&j->req);
	j->req.udata = j;
	j->req.url = strdup(url);
	if (l->tmpl.method)
		j->req.method = strdup(l->tmpl.method);
	if (http_headers_copy(&j->req.headers, l->tmpl.headers) < 0)
		die(EX_OSERR, "out of memory");
	if (body) {
		strbuf_add(&j->req.body, body->buf ? body->buf : "", body->len);
		j->req.has_body = 1;
	} else if (l->tmpl.has_body) {
		strbuf_add(&j->req.body, l->tmpl.body.buf, l->tmpl.body.len);
		j->req.has_body = 1;
	}
	j->req.cred_origin = strdup(l->origin.buf ? l->origin.buf : "");
	if (!j->req.url || !j->req.cred_origin || (l->tmpl.method && !j->req.method))
		die(EX_OSERR, "out of memory");
	return j;
}

static void job_free(struct job *j)
{
	http_req_release(&j->req);
	free(j);
}

static void submit(struct pg_run *p, struct listing *l, const char *url,
		   const struct strbuf *body, uint64_t page, uint64_t pos)
{
	struct crawl *c = p->c;
	struct job *j = job_new(p, l, url, body);
	struct aperr e;

	j->gen = c->gen;
	j->page = page;
	j->pos = pos;
	j->req.seq = page;
	if (c->nlive == c->alive) {
		c->alive = c->alive ? c->alive * 2 : 16;
		c->live = realloc(c->live, c->alive * sizeof(*c->live));
		if (!c->live)
			die(EX_OSERR, "out of memory");
	}
	c->live[c->nlive++] = j;
	if (http_submit(p->client, &j->req, &e) < 0)
		die_err(&e);
	c->last_submitted = page;
}

static void unlive(struct crawl *c, struct job *j)
{
	size_t i;

	for (i = 0; i < c->nlive; i++)
		if (c->live[i] == j) {
			c->live[i] = c->live[--c->nlive];
			return;
		}
}

/* Forget every guess: stop what is in flight, drop what waits in the ring. */
static void drop_ahead(struct pg_run *p)
{
	struct crawl *c = p->c;
	size_t i;

	for (i = 0; i < c->nlive; i++) {
		http_abandon(p->client, &c->live[i]->req);
		job_free(c->live[i]);
	}
	c->nlive = 0;
	for (i = 0; i < c->ringn; i++)
		if (c->ring[i]) {
			p->dropped_ahead++;
			job_free(c->ring[i]);
			c->ring[i] = NULL;
		}
	c->gen++;
	c->last_submitted = c->page - 1;
}

static int fetch_ahead(const struct pg_run *p)
{
	const struct crawl *c = p->c;

	return c->resolved && p->hc.pol.concurrency > 1 && p->nslots == 1 &&
	       (c->spec.style == PG_PAGE || (c->spec.style == PG_OFFSET && c->step > 0));
}

/*
 * The body of the request for position value (JSON: a cursor as the page
 * held it, or a number), when the style puts its position there.
 */
static void position_body(struct pg_run *p, struct listing *l, const char *value,
			  struct strbuf *out)
{
	struct aperr e;

	if (!p->c->has_next_body)
		return;
	if (pg_body(&p->c->spec, l->tmpl.body.buf, l->tmpl.has_body ? l->tmpl.body.len : 0, value,
		    out, &e) < 0)
		die_err(&e);
}

/* Keep the requests going: the next page, and pages ahead where allowed. */
static void submit_more(struct pg_run *p, struct listing *l)
{
	struct crawl *c = p->c;
	char num[24];

	if (!fetch_ahead(p)) {
		if (c->last_submitted < c->page)
			submit(p, l, c->next.buf, c->has_next_body ? &c->next_body : NULL, c->page,
			       c->pos);
		return;
	}
	if (c->last_submitted < c->page) {
		c->gen_page = c->page;
		c->gen_pos = c->pos;
		c->gen_step = c->spec.style == PG_PAGE ? 1 : c->step;
		submit(p, l, c->next.buf, c->has_next_body ? &c->next_body : NULL, c->page, c->pos);
	}
	while (c->last_submitted + 1 < c->page + p->hc.pol.concurrency &&
	       (!p->max_pages || c->last_submitted + 1 < c->page + (p->max_pages - p->pages))) {
		uint64_t pg = c->last_submitted + 1;
		uint64_t pos = c->gen_pos + (pg - c->gen_page) * c->gen_step;
		struct strbuf u = STRBUF_INIT, b = STRBUF_INIT;

		snprintf(num, sizeof(num), "%llu", (unsigned long long)pos);
		if (pg_url(&c->spec, l->tmpl.url, num, &u) < 0)
			die(EX_OSERR, "out of memory");
		position_body(p, l, num, &b);
		submit(p, l, u.buf, c->has_next_body ? &b : NULL, pg, pos);
		strbuf_release(&u);
		strbuf_release(&b);
	}
}

/* ---- one page ---- */

static void progress(struct pg_run *p, int final)
{
	double now = tool_seconds();

	if (!p->tty || p->common.quiet || (!final && now - p->last_progress < 0.25))
		return;
	p->last_progress = now;
	fprintf(stderr, "\r%s: %llu pages, %llu records, %llu retries ", progname,
		(unsigned long long)p->pages, (unsigned long long)p->records,
		(unsigned long long)http_client_stats(p->client)->retries);
	if (final)
		fputc('\n', stderr);
}

static void write_envelope(struct pg_run *p, struct listing *l, struct job *j)
{
	struct envelope_opts eo;
	struct aperr e;
	char key[33];

	memset(&eo, 0, sizeof(eo));
	eo.meta = l->meta.len ? l->meta.buf : NULL;
	eo.meta_len = l->meta.len;
	eo.page = j->page;
	eo.secrets = &p->hc.secrets;
	if (p->hc.auth.kind == AUTH_KEY_QUERY)
		eo.redact_param = p->hc.auth.key_name;
	if (p->hc.auth.kind == AUTH_KEY_HEADER)
		eo.redact_header = p->hc.auth.key_name;
	if (pg_request_id(&j->req, &p->hc.secrets, key) < 0)
		die(EX_OSERR, "out of memory");
	eo.page_key = key;
	strbuf_reset(&p->env);
	if (envelope_build(&p->env, &j->req, &eo, &p->d) < 0)
		die_page(p, j->page, j->req.url, EX_DATAERR, "the envelope exceeds --max-line");
	tool_check_write(lwriter_line(p->w, p->env.buf, p->env.len, &e), &e);
	if (p->w == &p->out)
		tool_check_write(lwriter_flush(p->w, &e), &e);
}

/*
 * A next page on another origin than the listing's start: the run's
 * credentials may not follow it there (an https listing never goes on over
 * http with them), so the crawl stops unless the user trusts that origin.
 */
static void check_origin(struct pg_run *p, struct listing *l, struct job *j)
{
	struct crawl *c = p->c;
	struct strbuf to = STRBUF_INIT, m = STRBUF_INIT;

	if (!l->holds_creds || http_creds_allowed(p->client, &j->req, c->next.buf))
		return;
	if (url_origin(c->next.buf, &to) < 0)
		strbuf_addstr(&to, "an unknown origin");
	if (url_is_https(l->origin.buf) && !url_is_https(to.buf))
		strbuf_addf(&m, "the next page is at %s, plain http after %s: the credentials "
			    "are not sent without TLS; stopping", to.buf, l->origin.buf);
	else
		strbuf_addf(&m, "the next page is at %s, another origin than %s where the "
			    "credentials were given; stopping (--trust-origin %s follows it)",
			    to.buf, l->origin.buf, to.buf);
	die_page(p, j->page, j->req.url, EX_DATAERR, m.buf ? m.buf : "another origin");
}

/* The next request's fingerprint: its URL and body (a loop is an error). */
static void request_hash(struct pg_run *p, struct hash128 *h)
{
	struct crawl *c = p->c;
	struct strbuf m = STRBUF_INIT;

	strbuf_add(&m, c->next.buf ? c->next.buf : "", c->next.len);
	if (c->has_next_body) {
		strbuf_addch(&m, '\0');
		strbuf_add(&m, c->next_body.buf ? c->next_body.buf : "", c->next_body.len);
	}
	if (strbuf_failed(&m))
		die(EX_OSERR, "out of memory");
	siphash128(p->key, m.buf ? m.buf : "", m.len, h);
	strbuf_release(&m);
}

/* Where the page leads: sets c->next, or c->done. */
static void next_page(struct pg_run *p, struct listing *l, struct job *j)
{
	struct crawl *c = p->c;
	struct pg_result *res = &p->res;
	size_t n = res->nrecords;
	char num[24];
	int more = 0;

	strbuf_reset(&c->next);
	switch (c->spec.style) {
	case PG_CURSOR:
	case PG_KEYSET:
		more = res->has_token && res->more != 0;
		if (more && pg_url(&c->spec, l->tmpl.url, res->token.buf, &c->next) < 0)
			die(EX_OSERR, "out of memory");
		if (more)
			position_body(p, l, res->token_json.buf, &c->next_body);
		break;
	case PG_NEXT_URL:
	case PG_LINK:
		more = res->has_token && res->more != 0;
		if (more) {
			strbuf_add(&c->next, res->token.buf, res->token.len);
			/* the key goes in once, by the auth layer, whatever the server echoes */
			if (p->hc.auth.kind == AUTH_KEY_QUERY &&
			    url_set_query(&c->next, p->hc.auth.key_name, NULL) < 0)
				die(EX_OSERR, "out of memory");
		}
		break;
	case PG_OFFSET:
		more = n > 0;
		c->pos += n;
		if (!c->step || n < c->step)
			c->step = n;	/* the server's own page size, when it caps limit */
		break;
	case PG_PAGE:
		more = n > 0;
		c->pos++;
		break;
	default:
		break;	/* none: one page */
	}
	if (more && (c->spec.style == PG_OFFSET || c->spec.style == PG_PAGE)) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)c->pos);
		if (pg_url(&c->spec, l->tmpl.url, num, &c->next) < 0)
			die(EX_OSERR, "out of memory");
		position_body(p, l, num, &c->next_body);
	}
	if (!more && res->more == 1)
		die_page(p, j->page, j->req.url, EX_DATAERR,
			 c->spec.more_path || c->spec.done_path
				 ? "the page says more pages follow but gives nothing to go on "
				   "from: stopping rather than end short"
				 : "the page says more pages follow: stopping rather than end short");
	if (!more) {
		c->done = 1;
		return;
	}
	check_origin(p, l, j);
	if (n == 0) {
		if (++c->empty_run > p->max_empty) {
			char m[160];

			snprintf(m, sizeof(m), "%llu empty pages in a row still point to a next page; "
				 "stopping (see --max-empty-pages)", (unsigned long long)c->empty_run);
			die_page(p, j->page, j->req.url, EX_DATAERR, m);
		}
	} else {
		c->empty_run = 0;
	}
	{
		struct hash128 h;
		int r;

		request_hash(p, &h);
		r = fpset_add(&c->seen, h);
		if (r < 0)
			die(EX_OSERR, "out of memory");
		if (r == 0) {
			struct strbuf m = STRBUF_INIT;

			if (c->spec.style == PG_CURSOR || c->spec.style == PG_KEYSET)
				strbuf_addf(&m, "the next %s '%s' was already followed: the listing "
					    "loops; stopping",
					    c->spec.style == PG_CURSOR ? "cursor" : "key", res->token.buf);
			else
				strbuf_addf(&m, "the next URL %s was already followed: the listing "
					    "loops; stopping", shown_short(p, c->next.buf));
			die_page(p, j->page, j->req.url, EX_DATAERR, m.buf);
		}
	}
}

/* The same records as the page before: the server ignores the position. */
static void check_stuck(struct pg_run *p, struct job *j)
{
	struct crawl *c = p->c;
	uint64_t h;

	if ((c->spec.style != PG_OFFSET && c->spec.style != PG_PAGE) || !p->res.nrecords)
		return;
	h = siphash64(p->key, json_src(&p->d, p->res.array), json_srclen(&p->d, p->res.array));
	if (c->has_prev && h == c->prev_hash) {
		char m[200];

		snprintf(m, sizeof(m), "the same records as page %llu: does the API ignore '%s'? "
			 "stopping", (unsigned long long)(j->page - 1),
			 c->spec.style == PG_OFFSET ? c->spec.offset_param : c->spec.page_param);
		die_page(p, j->page, j->req.url, EX_DATAERR, m);
	}
	c->prev_hash = h;
	c->has_prev = 1;
}

static void handle_page(struct pg_run *p, struct listing *l, struct job *j)
{
	struct crawl *c = p->c;
	struct http_req *r = &j->req;
	const struct json_doc *d = NULL;
	struct aperr e;

	if (r->outcome == HTTP_FAILED || r->exit_code || r->status < 200 || r->status > 299) {
		char m[600];

		if (r->error[0])
			snprintf(m, sizeof(m), "%s", r->error);
		else
			snprintf(m, sizeof(m), "HTTP %ld", r->status);
		die_page(p, j->page, r->url, r->exit_code ? r->exit_code : EX_UNAVAILABLE, m);
	}
	if (r->resp_body.len && json_parse(&p->d, r->resp_body.buf, r->resp_body.len, &p->je) == 0)
		d = &p->d;
	if (!c->resolved) {
		if (pg_detect(&c->spec, r->url, r, d, &p->why, &e) < 0)
			die_page(p, j->page, r->url, e.code, e.msg);
		c->resolved = 1;
		c->has_next_body = pg_uses_body(&c->spec);
		c->pos = pg_start_position(&c->spec, l->tmpl.url, l->tmpl.body.buf,
					   l->tmpl.has_body ? l->tmpl.body.len : 0);
		c->step = c->spec.style == PG_OFFSET ? c->spec.limit : 0;
		if (p->common.verbose)
			warnmsg("auto: style %s: %s", pg_style_name(c->spec.style), p->why.buf);
	}
	if (!d && r->resp_body.len) {
		json_error_to_aperr(&p->je, &e);
		die_page(p, j->page, r->url, EX_DATAERR, e.msg);
	}
	if (pg_examine(&c->spec, r->url, r, d, &p->res, &e) < 0)
		die_page(p, j->page, r->url, e.code, e.msg);
	check_stuck(p, j);
	next_page(p, l, j);
	if (p->res.has_total) {	/* the latest the API said */
		c->has_total = 1;
		c->total = p->res.total;
	}
	if (p->common.verbose)
		warnmsg("page %llu: %zu records%s%s", (unsigned long long)j->page, p->res.nrecords,
			c->done ? ", the last page" : ", next ",
			c->done ? "" : shown(p, c->next.buf));
	write_envelope(p, l, j);
	tool_write_out(&p->hc, &j->req);
	c->records += p->res.nrecords;
	c->pages++;
	p->records += p->res.nrecords;
	p->pages++;
	if (!p->res.nrecords)
		p->empty_pages++;
	c->page++;
	if (!c->done && p->max_pages && p->pages >= p->max_pages) {
		p->stopped_max = 1;
		c->done = 1;
		checkpoint_write(p, l, 0);
	} else if (!c->done) {
		checkpoint_write(p, l, 0);
	}
	progress(p, 0);
}

/* ---- one listing ---- */

static void crawl_begin(struct pg_run *p, struct listing *l, int resume)
{
	struct crawl *c = p->c;
	struct aperr e;
	struct hash128 h;

	memset(c, 0, sizeof(*c));
	strbuf_init(&c->next, 0);
	strbuf_init(&c->next_body, 0);
	fpset_init(&c->seen);
	c->ringn = p->hc.pol.concurrency * 2 + 2;
	c->ring = calloc(c->ringn, sizeof(*c->ring));
	if (!c->ring)
		die(EX_OSERR, "out of memory");
	if (resume) {
		const struct json_doc *cd = &p->cd;
		const struct crawl_ck *ck = &p->ck_in;
		struct strbuf v = STRBUF_INIT;

		json_str_decode(cd, p->ck_tok.start, &v);
		/* the real request decides, not its masked text: ?code=US is not ?code=FR */
		if (!v.buf || !json_str_eq(cd, p->ck_tok.start_id, l->id, strlen(l->id)))
			die(EX_CONFIG, "%s was written for a crawl of %s, not %s; use --restart to "
			    "start over", p->ck_label, v.buf ? v.buf : "?",
			    shown(p, l->tmpl.url));
		strbuf_release(&v);
		if (pg_spec_from_json(&c->spec, cd, p->ck_tok.spec, &e) < 0) {
			aperr_prefix(&e, "%s", p->ck_label);
			die_err(&e);
		}
		c->resolved = c->spec.style != PG_AUTO;
		c->has_next_body = c->resolved && pg_uses_body(&c->spec);
		json_str_decode(cd, p->ck_tok.next, &c->next);
		if (c->has_next_body && !p->ck_tok.next_body)
			die(EX_DATAERR, "%s: /next_body: not a string; use --restart to start over",
			    p->ck_label);
		if (c->has_next_body)
			json_str_decode(cd, p->ck_tok.next_body, &c->next_body);
		c->page = ck->page;
		c->pos = ck->pos;
		c->step = ck->step;
		c->empty_run = ck->empty_run;
		c->records = ck->records;
		c->pages = ck->pages;
		c->has_total = ck->has_total;
		c->total = ck->total;
		if (p->common.verbose)
			warnmsg("resuming at page %llu from %s", (unsigned long long)c->page,
				p->ck_label);
	} else {
		if (pg_spec_copy(&c->spec, &p->user, &e) < 0)
			die_err(&e);
		c->resolved = c->spec.style != PG_AUTO;
		c->page = 1;
		if (c->resolved) {
			if (pg_url(&c->spec, l->tmpl.url, NULL, &c->next) < 0)
				die(EX_OSERR, "out of memory");
			c->has_next_body = pg_uses_body(&c->spec);
			if (c->has_next_body && pg_body(&c->spec, l->tmpl.body.buf,
							l->tmpl.has_body ? l->tmpl.body.len : 0, NULL,
							&c->next_body, &e) < 0)
				die_err(&e);
			c->pos = pg_start_position(&c->spec, l->tmpl.url, c->next_body.buf,
						   c->next_body.len);
			c->step = c->spec.style == PG_OFFSET ? c->spec.limit : 0;
		} else {
			strbuf_addstr(&c->next, l->tmpl.url);
		}
	}
	c->last_submitted = c->page - 1;
	request_hash(p, &h);
	fpset_add(&c->seen, h);
}

static void crawl_end(struct pg_run *p)
{
	struct crawl *c = p->c;
	size_t i;

	for (i = 0; i < c->nlive; i++) {
		http_abandon(p->client, &c->live[i]->req);
		job_free(c->live[i]);
	}
	for (i = 0; i < c->ringn; i++)
		if (c->ring[i]) {
			p->dropped_ahead++;	/* fetched ahead past the end */
			job_free(c->ring[i]);
		}
	free(c->ring);
	free(c->live);
	fpset_release(&c->seen);
	strbuf_release(&c->next);
	strbuf_release(&c->next_body);
	pg_spec_release(&c->spec);
}

/* A response for the crawl at hand: pages in order, as they become whole. */
static void crawl_take(struct pg_run *p, struct listing *l, struct job *j)
{
	struct crawl *c = p->c;

	unlive(c, j);
	if (j->gen != c->gen || j->page < c->page || j->page >= c->page + c->ringn) {
		p->dropped_ahead++;	/* a guess that proved wrong, answered anyway */
		job_free(j);
		return;
	}
	c->ring[j->page % c->ringn] = j;
	while (!c->done && (j = c->ring[c->page % c->ringn]) && j->page == c->page) {
		int guessed;

		c->ring[c->page % c->ringn] = NULL;
		handle_page(p, l, j);
		job_free(j);
		/* was the page after it guessed right? */
		guessed = c->gen_step && c->last_submitted >= c->page &&
			  c->gen_pos + (c->page - c->gen_page) * c->gen_step == c->pos;
		if (!c->done && fetch_ahead(p) && c->last_submitted >= c->page && !guessed)
			drop_ahead(p);
	}
}

/* The crawl at hand ended: hold it to its total, note it, checkpoint it. */
static void crawl_finish(struct pg_run *p, struct listing *l)
{
	struct crawl *c = p->c;

	p->listings++;
	p->last_style = pg_style_name(c->spec.style);
	if (c->has_total) {
		p->any_total = 1;
		p->reported_total += c->total;
		p->fetched_of_total += c->records;
		if (!p->stopped_max && c->records < c->total)
			p->short_listings++;
		if (!p->stopped_max && c->spec.guessed && c->records < c->total)
			die(EX_DATAERR, "%s: auto guessed '%s' and the crawl fetched %llu of the %llu "
			    "records the API reports: the guess was wrong; name the style with --style",
			    shown(p, l->tmpl.url), c->spec.style == PG_OFFSET ? c->spec.offset_param
									: c->spec.page_param,
			    (unsigned long long)c->records, (unsigned long long)c->total);
		if (!p->stopped_max && c->total != c->records && !p->common.quiet)
			warnmsg("%s: the API reported a total of %llu records; the crawl fetched %llu",
				shown(p, l->tmpl.url), (unsigned long long)c->total,
				(unsigned long long)c->records);
	} else if (!p->stopped_max && p->require_total) {
		p->short_listings++;
		if (!p->common.quiet)
			warnmsg("%s: the API reported no total to check the crawl against",
				shown(p, l->tmpl.url));
	}
	if (!p->stopped_max)
		checkpoint_write(p, l, 1);
	crawl_end(p);
}

/* ---- the listings ---- */

/* The next listing from the arguments or stdin: 1, or 0 at the end. */
static int next_listing(struct pg_run *p, struct listing *l, uint64_t index)
{
	struct aperr e;
	const char *line;
	size_t n;
	int r;

	http_req_init(&l->tmpl);
	strbuf_init(&l->meta, STRBUF_DEFAULT_CAP);
	l->index = index;
	if (!p->use_stdin) {
		if (index >= (uint64_t)p->nurls)
			return 0;
		r = http_cli_request(&p->hc, &l->tmpl, p->urls[index], &e);
	} else {
		do {
			r = lreader_next(&p->in, &line, &n, &e);
			if (r < 0)
				die_err(&e);
			if (r == 0)
				return 0;
		} while (strspn(line, " \t") == n);	/* blank lines are no listings */
		r = http_cli_request_line(&p->hc, &p->rd, &p->je, line, n, p->in.lineno, &l->tmpl,
					  &l->meta, &e);
	}
	if (r < 0) {
		secrets_scrub_str(&p->hc.secrets, e.msg);
		die_err(&e);
	}
	strbuf_init(&l->origin, 0);
	if (url_origin(l->tmpl.url, &l->origin) < 0)
		die(EX_USAGE, "%s: not an http or https URL", shown_short(p, l->tmpl.url));
	if (pg_request_id(&l->tmpl, &p->hc.secrets, l->id) < 0)
		die(EX_OSERR, "out of memory");
	/* the template's headers (-H) are in the request's, and a request line's too */
	l->holds_creds = p->hc.auth.kind != AUTH_NONE || http_headers_sensitive(l->tmpl.headers);
	return 1;
}

static void listing_release(struct listing *l)
{
	http_req_release(&l->tmpl);
	strbuf_release(&l->meta);
	strbuf_release(&l->origin);
}

static void write_stats(struct pg_run *p)
{
	struct tool_stats st;
	double secs = tool_seconds();

	tool_stats_begin(&st, NULL);
	jw_member_u64(&st.w, "listings", p->listings);
	jw_member_u64(&st.w, "pages", p->pages);
	jw_member_u64(&st.w, "records", p->records);
	jw_member_u64(&st.w, "empty_pages", p->empty_pages);
	jw_member_str(&st.w, "style", p->last_style ? p->last_style : "none");
	jw_member_str(&st.w, "stopped", p->stopped_max ? "max-pages" : "end");
	jw_key(&st.w, "total_reported");
	if (p->any_total)
		jw_u64(&st.w, p->reported_total);
	else
		jw_null(&st.w);
	jw_member_u64(&st.w, "total_fetched", p->fetched_of_total);
	jw_member_u64(&st.w, "short_listings", p->short_listings);
	/* requests = pages + dropped_ahead + abandoned + discarded (+ failed) */
	jw_member_u64(&st.w, "requests", http_client_stats(p->client)->requests);
	jw_member_u64(&st.w, "dropped_ahead", p->dropped_ahead);
	http_stats_json(p->client, &st.w);
	jw_key(&st.w, "pages_per_second");
	jw_fixed(&st.w, secs > 0 ? (double)p->pages / secs : 0.0, 1);
	st.scrub = &p->hc.secrets;
	tool_stats_end(&st, p->common.stats);
}

static void use_slot(struct pg_run *p, struct slot *sl)
{
	p->cur = sl;
	p->c = &sl->c;
	p->w = sl->buffered ? &sl->w : &p->out;
}

/* A listing that waits for its turn writes to a file of its own. */
static void slot_buffer(struct slot *sl)
{
	struct aperr e;
	char path[] = "/tmp/apipe-paginate.XXXXXX";

	sl->fd = mkstemp(path);
	if (sl->fd < 0)
		die(EX_CANTCREAT, "a temporary file for listing %llu: %s",
		    (unsigned long long)sl->l.index + 1, strerror(errno));
	unlink(path);
	if (lwriter_init(&sl->w, sl->fd, "a listing's temporary file", 1 << 16, &e) < 0)
		die_err(&e);
	sl->buffered = 1;
}

/*
 * Listing sl becomes the head: what it wrote so far goes to the output,
 * then the checkpoint file says where it stands; it writes directly from
 * now on.
 */
static void slot_unbuffer(struct pg_run *p, struct slot *sl)
{
	struct aperr e;
	char buf[1 << 16];
	ssize_t got;

	tool_check_write(lwriter_flush(&sl->w, &e), &e);
	if (lseek(sl->fd, 0, SEEK_SET) < 0)
		die(EX_IOERR, "a listing's temporary file: %s", strerror(errno));
	while ((got = read(sl->fd, buf, sizeof(buf))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			die(EX_IOERR, "a listing's temporary file: %s", strerror(errno));
		tool_check_write(lwriter_write(&p->out, buf, (size_t)got, &e), &e);
	}
	tool_check_write(lwriter_flush(&p->out, &e), &e);
	lwriter_release(&sl->w);
	close(sl->fd);
	sl->fd = -1;
	sl->buffered = 0;
	use_slot(p, sl);
	if (sl->state == SLOT_FINISHED)
		checkpoint_put(p, &sl->l, 1, 0);
	else if (sl->c.pages)
		checkpoint_put(p, &sl->l, 0, 0);
}

static void slot_free(struct slot *sl)
{
	listing_release(&sl->l);
	sl->state = SLOT_FREE;
}

/* Hand the output on: finished heads leave, the next listing in line takes over. */
static void advance_head(struct pg_run *p)
{
	size_t i;
	int moved = 1;

	while (moved) {
		moved = 0;
		for (i = 0; i < p->nslots; i++) {
			struct slot *sl = &p->slots[i];

			if (sl->state == SLOT_FREE || sl->l.index != p->head)
				continue;
			if (sl->buffered)
				slot_unbuffer(p, sl);
			if (sl->state == SLOT_FINISHED) {
				slot_free(sl);
				p->head++;
				moved = 1;
			}
			break;
		}
	}
}

/*
 * Start the next listing in a free slot: 1; 0 when no listing is left;
 * -1 when every slot is taken (finished listings wait for their turn).
 */
static int start_listing(struct pg_run *p, uint64_t *index)
{
	struct slot *sl = NULL;
	size_t i;

	for (i = 0; i < p->nslots && !sl; i++)
		if (p->slots[i].state == SLOT_FREE)
			sl = &p->slots[i];
	if (!sl)
		return -1;
	for (;;) {
		if (!next_listing(p, &sl->l, *index)) {
			http_req_release(&sl->l.tmpl);
			strbuf_release(&sl->l.meta);
			return 0;
		}
		if (!p->have_ck || *index >= p->ck_in.listing)
			break;
		listing_release(&sl->l);	/* done before the checkpoint */
		++*index;
		if (p->head < *index)
			p->head = *index;
	}
	if (p->max_pages && p->pages >= p->max_pages) {
		p->stopped_max = 1;	/* the checkpoint names this listing next */
		listing_release(&sl->l);
		return 0;
	}
	sl->state = SLOT_ACTIVE;
	sl->buffered = 0;
	if (!p->unordered && *index != p->head)
		slot_buffer(sl);
	use_slot(p, sl);
	crawl_begin(p, &sl->l, p->have_ck && *index == p->ck_in.listing && p->ck_in.at_page);
	++*index;
	return 1;
}

static void run(struct pg_run *p)
{
	uint64_t index = 0;
	size_t active = 0, i;
	int more = 1;
	struct aperr e;

	p->slots = calloc(p->nslots, sizeof(*p->slots));
	if (!p->slots)
		die(EX_OSERR, "out of memory");
	for (;;) {
		struct http_req *r;
		struct job *j;
		int failed;

		while (more && active < p->nactive && !p->stopped_max) {
			int k = start_listing(p, &index);

			if (k < 0)
				break;
			more = k;
			active += (size_t)k;
		}
		if (!active)
			break;
		for (i = 0; i < p->nslots; i++)
			if (p->slots[i].state == SLOT_ACTIVE) {
				use_slot(p, &p->slots[i]);
				submit_more(p, &p->slots[i].l);
			}
		r = http_next(p->client, -1, &failed, &e);
		if (failed)
			die_err(&e);
		if (!r)
			die(EX_SOFTWARE, "no request in flight");
		j = r->udata;
		use_slot(p, j->slot);
		crawl_take(p, &j->slot->l, j);
		if (p->c->done) {
			crawl_finish(p, &p->cur->l);
			p->cur->state = SLOT_FINISHED;
			if (p->unordered)
				slot_free(p->cur);
			active--;
		}
		if (!p->unordered)
			advance_head(p);
		if (p->stopped_max)
			break;
	}
	for (i = 0; i < p->nslots; i++)	/* --max-pages: what waits is dropped */
		if (p->slots[i].state != SLOT_FREE) {
			use_slot(p, &p->slots[i]);
			if (p->slots[i].state == SLOT_ACTIVE)
				crawl_end(p);
			if (p->slots[i].buffered) {
				lwriter_release(&p->slots[i].w);
				close(p->slots[i].fd);
			}
			slot_free(&p->slots[i]);
		}
	free(p->slots);
	if (p->stopped_max && !p->common.quiet)
		warnmsg("stopped after %llu pages (--max-pages)%s", (unsigned long long)p->pages,
			p->checkpoint || p->state_name ? "; the checkpoint resumes the crawl" : "");
	p->w = &p->out;
	if (p->state_name && !p->stopped_max) {
		struct strbuf done = STRBUF_INIT;
		struct jsonw w;

		jw_init(&w, &done);
		crawl_ck_complete(&w);
		if (jw_finish(&w) < 0)
			die(EX_OSERR, "out of memory");
		state_emit(p, done.buf, done.len);
		strbuf_release(&done);
	}
	if (p->checkpoint && !p->stopped_max) {
		struct strbuf lock = STRBUF_INIT;

		if (unlink(p->checkpoint) < 0 && errno != ENOENT)
			die(EX_CANTCREAT, "%s: %s", p->checkpoint, strerror(errno));
		strbuf_addf(&lock, "%s.lock", p->checkpoint);
		unlink(lock.buf);
		strbuf_release(&lock);
	}
}

static void spec_opt(struct pg_run *p, int opt, const char *arg)
{
	struct pg_spec *s = &p->user;
	struct aperr e;
	char **field = NULL;
	uint64_t *num = NULL;

	switch (opt) {
	case OPT_STYLE:
		if (pg_style_parse(arg, &s->style, &e) < 0 || s->style == PG_NONE)
			usage_error("--style: '%s' is not one of auto, cursor, next-url, "
				    "link, offset, page, keyset", arg);
		return;
	case OPT_RECORDS_PATH: field = &s->records_path; break;
	case OPT_CURSOR_PATH: field = &s->cursor_path; break;
	case OPT_CURSOR_PARAM: field = &s->cursor_param; break;
	case OPT_NEXT_PATH: field = &s->next_path; break;
	case OPT_OFFSET_PARAM: field = &s->offset_param; break;
	case OPT_LIMIT_PARAM: field = &s->limit_param; break;
	case OPT_PAGE_PARAM: field = &s->page_param; break;
	case OPT_PER_PAGE_PARAM: field = &s->per_page_param; break;
	case OPT_KEY_FIELD: field = &s->key_field; break;
	case OPT_KEY_PARAM: field = &s->key_param; break;
	case OPT_MORE_PATH: field = &s->more_path; break;
	case OPT_DONE_PATH: field = &s->done_path; break;
	case OPT_TOTAL_PATH: field = &s->total_path; break;
	case OPT_LIMIT: num = &s->limit; break;
	case OPT_PER_PAGE: num = &s->per_page; break;
	case OPT_START_PAGE: num = &s->start_page; s->start_page_set = 1; break;
	case OPT_MAX_PAGES: num = &p->max_pages; break;
	case OPT_MAX_EMPTY: num = &p->max_empty; break;
	default: break;
	}
	if (field && (!*arg || pg_spec_set(field, arg) < 0))
		usage_error("an empty value for a name or pointer option");
	if (num && num_parse_u64(arg, num, "option", &e) < 0)
		usage_error("%s", e.msg);
}

/* --graphql FILE [--variables JSON]: the body every request of the listing posts. */
static void graphql_body(struct pg_run *p)
{
	struct strbuf q = STRBUF_INIT, b = STRBUF_INIT;
	struct jsonw w;
	struct json_doc d;
	struct json_error je;
	struct aperr e;

	if (p->hc.has_data)
		usage_error("--graphql makes the body: no -d or --data-json with it");
	tool_read_file(p->graphql, "--graphql", &q);
	json_doc_init(&d, JSON_DEFAULT_DEPTH);
	json_error_init(&je);
	if (p->variables && (json_parse(&d, p->variables, strlen(p->variables), &je) < 0 ||
			     json_type(&d, 0) != JSON_OBJECT))
		usage_error("--variables: not a JSON object");
	jw_init(&w, &b);
	jw_object(&w);
	jw_key(&w, "query");
	jw_strn(&w, q.buf ? q.buf : "", q.len);
	jw_key(&w, "variables");
	if (p->variables)
		jw_value(&w, &d, 0);
	else
		jw_raw(&w, "{}", 2);
	jw_end_object(&w);
	if (jw_finish(&w) < 0)
		die(EX_DATAERR, "--graphql %s: %s", p->graphql, jw_error(&w));
	if (http_cli_opt(&p->hc, HTTP_OPT_DATA_JSON, b.buf, &e) < 0)
		die_err(&e);
	json_doc_release(&d);
	json_error_release(&je);
	strbuf_release(&q);
	strbuf_release(&b);
}

static const struct cli_help help[] = {
	{ "Output", "-o, --output file", "write the envelopes to file" },
	{ "Pagination", "--style style", "auto (default), cursor, next-url, link, offset, page, keyset" },
	{ "Pagination", "--records-path pointer", "where a page's records are" },
	{ "Pagination", "--cursor-path pointer", "cursor: where the next cursor is" },
	{ "Pagination", "--cursor-param name", "cursor: the parameter it goes back in (or body:/pointer)" },
	{ "Pagination", "--next-path pointer", "next-url: where the next URL is" },
	{ "Pagination", "--limit n", "offset: the page size asked for" },
	{ "Pagination", "--offset-param name", "offset: its parameter (default offset)" },
	{ "Pagination", "--limit-param name", "offset: the size's parameter (default limit)" },
	{ "Pagination", "--page-param name", "page: its parameter (default page)" },
	{ "Pagination", "--start-page n", "page: the first page number (default 1)" },
	{ "Pagination", "--per-page n", "page: the page size asked for" },
	{ "Pagination", "--per-page-param name", "page: the size's parameter (default per_page)" },
	{ "Pagination", "--order-field pointer", "keyset: the field the listing is ordered by" },
	{ "Pagination", "--order-param name", "keyset: the parameter the last value goes back in" },
	{ "Pagination", "--has-more-path pointer", "a boolean: more pages follow" },
	{ "Pagination", "--last-page-path pointer", "a boolean: this is the last page" },
	{ "Pagination", "--total-path pointer", "where the body reports the listing's total" },
	{ "Pagination", "--graphql file", "post this GraphQL query with its variables" },
	{ "Pagination", "--variables json", "the GraphQL variables (default {})" },
	{ "Pagination", "--max-pages n", "stop after n pages (a checkpoint goes on)" },
	{ "Pagination", "--max-empty-pages n", "empty pages in a row that still point on (default 3)" },
	{ "Completeness", "--require-total", "exit 1 when a listing fetched fewer than its total" },
	{ "Completeness", "--unordered", "with -j and several listings: pages as they come" },
	{ "Resume", "--checkpoint file", "where the crawl stands, after each page written" },
	{ "Resume", "--state name", "write in-band state lines for the sink to keep" },
	{ "Resume", "--resume-from db", "resume from the state the sink kept" },
	{ "Resume", "--restart", "ignore the checkpoint or kept state" },
	{ NULL, NULL, NULL }
};

/* The options into p (dies with 64 on a usage error); *argc, *argv as -K expanded them. */
static void parse_args(struct pg_run *p, int *argc, char ***argv)
{
	struct aperr e;
	int opt, r;

	tool_expand_config(argc, argv, "hqvo:" HTTP_CLI_SHORTOPTS, longopts);
	while ((opt = tool_getopt(*argc, *argv, "hqvo:" HTTP_CLI_SHORTOPTS, longopts)) != -1) {
		switch (opt) {
		case 'o': p->outpath = optarg; break;
		case OPT_CHECKPOINT: p->checkpoint = optarg; break;
		case OPT_STATE: p->state_name = optarg; break;
		case OPT_RESUME_FROM: p->resume_from = optarg; break;
		case OPT_RESTART: p->restart = 1; break;
		case OPT_REQUIRE_TOTAL: p->require_total = 1; break;
		case OPT_GRAPHQL: p->graphql = optarg; break;
		case OPT_VARIABLES: p->variables = optarg; break;
		case OPT_UNORDERED: p->unordered = 1; break;
		case OPT_OLD_KEY_FIELD: tool_renamed("--key-field", "--order-field");
		case OPT_OLD_KEY_PARAM: tool_renamed("--key-param", "--order-param");
		default:
			if (opt >= OPT_STYLE && opt <= OPT_MAX_EMPTY) {
				spec_opt(p, opt, optarg);
				break;
			}
			r = http_cli_opt(&p->hc, opt, optarg, &e);
			if (r < 0) {
				if (e.code == EX_USAGE)
					usage_error("%s", e.msg);
				die_err(&e);
			}
			if (!r)
				tool_common_opt(&p->common, opt, optarg);
		}
	}
	tool_common_done(&p->common, usage_text);
	if (p->graphql)
		graphql_body(p);
	else if (p->variables)
		usage_error("--variables goes with --graphql");
	if (http_cli_finish(&p->hc, &e) < 0) {
		if (e.code == EX_USAGE)
			usage_error("%s", e.msg);
		die_err(&e);
	}
	if (pg_spec_compile(&p->user, &e) < 0)
		usage_error("%s", e.msg);
	if (p->hc.quiet)
		p->common.quiet = 1;
	if (p->hc.head)
		usage_error("-I: a HEAD response has no records to paginate; use "
			    "fetch-page -I");
	if (p->restart && !p->checkpoint && !p->resume_from)
		usage_error("--restart goes with --checkpoint or --resume-from");
	if (p->resume_from && !p->state_name)
		usage_error("--resume-from goes with --state (the name the sink keeps)");
	if (p->checkpoint && p->state_name)
		usage_error("--checkpoint and --state: one or the other");
	if (p->resume_from && p->outpath)
		usage_error("--resume-from reads what the sink kept; with -o use --checkpoint");
	/* a checkpoint written as pages go into a pipe runs ahead of the sink */
	if (p->checkpoint && !p->outpath && tool_stdout_is_pipe())
		die(EX_USAGE, "--checkpoint to a pipe would be written before the sink has "
		    "the pages; use --state NAME and resume with --resume-from DB (the sink "
		    "keeps the state with its rows), or -o FILE");
	if (p->unordered && (p->checkpoint || p->state_name))
		usage_error("--unordered interleaves listings, which no checkpoint or "
			    "state can describe; leave it out to resume");
}

/* The listings to crawl, the checkpoint or state to resume from, the output and the client. */
static void open_all(struct pg_run *p, int argc, char **argv)
{
	struct aperr e;

	p->ck_label = p->checkpoint ? p->checkpoint : "the state in --resume-from";
	p->urls = argv + optind;
	p->nurls = argc - optind;
	p->use_stdin = p->nurls == 0;
	/* several listings and -j N: N listings at once, each a page at a time */
	p->nactive = (p->use_stdin || p->nurls > 1) && p->hc.pol.concurrency > 1 && !p->max_pages
			    ? p->hc.pol.concurrency : 1;
	/* listings that end before the head wait in slots that crawl no more */
	p->nslots = p->nactive > 1 ? p->nactive * 4 : 1;
	if (p->use_stdin && lreader_init(&p->in, 0, "stdin", p->common.max_line, &e) < 0)
		die_err(&e);
	if (p->checkpoint) {
		strbuf_addf(&p->tmp, "checkpoint %s", p->checkpoint);
		p->lockfd = statefile_lock(p->checkpoint, p->tmp.buf, &e);
		if (p->lockfd < 0)
			die_err(&e);
		/* a run killed inside a checkpoint write left its temporary file */
		if (statefile_clean(p->checkpoint, &e) < 0)
			die_err(&e);
	}
	json_doc_init(&p->d, p->common.max_depth);
	json_doc_init(&p->rd, p->common.max_depth);
	json_doc_init(&p->cd, 16);
	json_error_init(&p->je);
	strbuf_init(&p->env, p->common.max_line);
	pg_result_init(&p->res);
	checkpoint_load(p);
	open_output(p);
	p->w = &p->out;
	if (hash_random(p->key, sizeof(p->key)) < 0)
		die(EX_OSERR, "no random bytes for the loop check");
	p->hc.pol.max_body = p->hc.pol.max_body < p->common.max_line ? p->hc.pol.max_body
								 : p->common.max_line;
	p->tty = isatty(2);
	if (!(p->client = http_client_new(&p->hc.pol, &p->hc.auth, &p->hc.secrets, &e)))
		die_err(&e);
	if (p->common.verbose) {
		http_client_set_log(p->client, on_log, NULL);
		p->tty = 0;
	}
}

int cmd_paginate(int argc, char **argv)
{
	struct pg_run p;

	tool_set_help(help, http_cli_help);
	tool_add_help(http_cli_transport_help);
	memset(&p, 0, sizeof(p));
	cli_common_init(&p.common);
	http_cli_init(&p.hc);
	pg_spec_init(&p.user);
	p.max_empty = 3;
	p.lockfd = -1;
	strbuf_init(&p.why, 0);
	strbuf_init(&p.tmp, 0);
	strbuf_init(&p.ck, 0);
	parse_args(&p, &argc, &argv);
	open_all(&p, argc, argv);
	run(&p);
	progress(&p, 1);
	if (p.common.stats)
		write_stats(&p);
	if (p.require_total && p.short_listings)
		die(1, "--require-total: %llu listing%s fetched fewer records than the API "
		    "reported, or reported no total", (unsigned long long)p.short_listings,
		    p.short_listings == 1 ? "" : "s");
	tool_finish(&p.out);
	http_client_free(p.client);
	statefile_unlock(p.lockfd);
	pg_result_release(&p.res);
	pg_spec_release(&p.user);
	json_doc_release(&p.d);
	json_doc_release(&p.rd);
	json_doc_release(&p.cd);
	json_error_release(&p.je);
	strbuf_release(&p.env);
	strbuf_release(&p.why);
	strbuf_release(&p.tmp);
	strbuf_release(&p.ck);
	if (p.use_stdin)
		lreader_release(&p.in);
	http_cli_release(&p.hc);
	http_global_cleanup();
	return 0;
}

int main(int argc, char **argv)
{
	tool_init("paginate");
	tool_hold_secrets();
	return cmd_paginate(argc, argv);
}
