/*
 * lib/crawl's engine with the test playing the server: requests are
 * caught by a struct listing_io of its own, answered in any order, and the
 * engine's rules (order, fetch-ahead, loops, empty runs, origins, stuck
 * positions, "more" with nothing to go on) are checked page by page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tap.h"
#include "../../lib/listing.h"
#include "../../lib/crawler.h"
#include "../../lib/statefile.h"
#include "../../lib/jsonw.h"
#include "../../lib/secret.h"

/* The server's side: what was sent, what was given up. */
struct wire {
	struct listing_job *sent[64];
	size_t nsent;
	size_t abandoned;
	int trust;		/* creds_allowed answers this */
	int fail_submit;
};

static int w_submit(void *ctx, struct http_req *r, struct aperr *e)
{
	struct wire *w = ctx;

	if (w->fail_submit)
		return aperr_set(e, EX_UNAVAILABLE, "the test refuses");
	if (w->nsent < sizeof(w->sent) / sizeof(*w->sent))
		w->sent[w->nsent++] = r->udata;
	return 0;
}

static void w_abandon(void *ctx, struct http_req *r)
{
	struct wire *w = ctx;
	size_t i;

	w->abandoned++;
	for (i = 0; i < w->nsent; i++)
		if (w->sent[i] == r->udata) {
			w->sent[i] = w->sent[--w->nsent];
			return;
		}
}

static int w_creds(void *ctx, const struct http_req *r, const char *url)
{
	(void)r;
	(void)url;
	return ((struct wire *)ctx)->trust;
}

/* The job sent for page, taken off the wire; NULL when there is none. */
static struct listing_job *sent(struct wire *w, uint64_t page)
{
	size_t i;

	for (i = 0; i < w->nsent; i++)
		if (w->sent[i]->page == page) {
			struct listing_job *j = w->sent[i];

			w->sent[i] = w->sent[--w->nsent];
			return j;
		}
	return NULL;
}

static void answer(struct listing_job *j, long status, const char *body)
{
	j->req.outcome = HTTP_OK;
	j->req.status = status;
	strbuf_addstr(&j->req.resp_body, body);
}

struct rig {
	struct wire w;
	struct secrets secrets;
	struct listing_cfg cfg;
	struct listing_spec l;
	struct pag_spec spec;
	struct listing c;
	struct json_doc d;
	struct json_error je;
	struct pag_result res;
	struct aperr e;
};

static void rig_init(struct rig *g, const char *url, enum pag_style style, size_t concurrency)
{
	memset(g, 0, sizeof(*g));
	secrets_init(&g->secrets);
	secrets_add(&g->secrets, "s3cret");
	g->cfg.io.ctx = &g->w;
	g->cfg.io.submit = w_submit;
	g->cfg.io.abandon = w_abandon;
	g->cfg.io.creds_allowed = w_creds;
	g->cfg.secrets = &g->secrets;
	g->cfg.concurrency = concurrency;
	g->cfg.ahead = 1;
	g->cfg.max_empty = 3;
	memcpy(g->cfg.key, "0123456789abcdef", 16);
	listing_spec_init(&g->l, 0);
	g->l.tmpl.url = strdup(url);
	pag_spec_init(&g->spec);
	g->spec.style = style;
	pag_spec_set(&g->spec.records_path, "/items");
	json_doc_init(&g->d, 64);
	json_error_init(&g->je);
	pag_result_init(&g->res);
}

static int rig_start(struct rig *g)
{
	if (pag_spec_compile(&g->spec, &g->e) < 0 ||
	    listing_spec_ready(&g->l, &g->cfg, 0, &g->e) < 0)
		return -1;
	return listing_begin(&g->c, &g->cfg, &g->l, &g->spec, &g->e);
}

static void rig_release(struct rig *g)
{
	size_t i;

	listing_end(&g->c);
	for (i = 0; i < g->w.nsent; i++) {	/* sent and never answered nor abandoned */
		http_req_release(&g->w.sent[i]->req);
		free(g->w.sent[i]);
	}
	listing_spec_release(&g->l);
	pag_spec_release(&g->spec);
	pag_result_release(&g->res);
	json_doc_release(&g->d);
	json_error_release(&g->je);
	secrets_release(&g->secrets);
}

/*
 * Answer page with body, then take every page now in order: 0 when each
 * passed the rules (and was advanced), -1 when one stopped the listing.
 */
static int serve(struct rig *g, uint64_t page, const char *body)
{
	struct listing_job *j = sent(&g->w, page);

	if (!j)
		return aperr_set(&g->e, EX_SOFTWARE, "page %llu was not sent",
				 (unsigned long long)page);
	answer(j, 200, body);
	listing_take(&g->c, j);
	while ((j = listing_ready(&g->c))) {
		if (listing_page(&g->c, j, &g->d, &g->je, &g->res, &g->e) < 0) {
			listing_job_free(&g->cfg, j);
			return -1;
		}
		listing_advance(&g->c, j, g->res.nrecords);
	}
	return 0;
}

static const char *sent_url(struct rig *g, uint64_t page)
{
	size_t i;

	for (i = 0; i < g->w.nsent; i++)
		if (g->w.sent[i]->page == page)
			return g->w.sent[i]->req.url;
	return "(not sent)";
}

static void test_cursor(void)
{
	struct rig g;

	rig_init(&g, "http://api.test/items", PAG_CURSOR, 1);
	pag_spec_set(&g.spec.cursor_path, "/next");
	pag_spec_set(&g.spec.cursor_param, "cursor");
	ok(rig_start(&g) == 0 && listing_submit(&g.c, 0, &g.e) == 0 && g.w.nsent == 1,
	   "cursor: page 1 is sent");
	is_str(sent_url(&g, 1), "http://api.test/items", "cursor: page 1 is the start URL");
	ok(serve(&g, 1, "{\"items\":[1,2],\"next\":\"a\"}") == 0 && !g.c.done,
	   "cursor: page 1 leads on");
	is_str(g.c.next.buf, "http://api.test/items?cursor=a", "cursor: the next URL carries it");
	ok(listing_submit(&g.c, 0, &g.e) == 0 && g.w.nsent == 1, "cursor: one request at a time");
	ok(serve(&g, 2, "{\"items\":[3],\"next\":\"b\"}") == 0, "cursor: page 2");
	listing_submit(&g.c, 0, &g.e);
	ok(serve(&g, 3, "{\"items\":[4],\"next\":\"a\"}") < 0 && g.e.code == EX_DATAERR &&
	   strstr(g.e.msg, "page 3 (http://api.test/items?cursor=b)") &&
	   strstr(g.e.msg, "the next cursor 'a' was already followed"),
	   "cursor: a cursor seen before is a loop, named with its page");
	is_int(g.c.records, 3, "cursor: the records of the pages before it are counted");
	rig_release(&g);

	rig_init(&g, "http://api.test/items", PAG_CURSOR, 1);
	pag_spec_set(&g.spec.cursor_path, "/next");
	pag_spec_set(&g.spec.cursor_param, "cursor");
	pag_spec_set(&g.spec.more_path, "/has_more");
	rig_start(&g);
	listing_submit(&g.c, 0, &g.e);
	ok(serve(&g, 1, "{\"items\":[1],\"has_more\":true}") < 0 &&
	   strstr(g.e.msg, "says more pages follow but gives nothing to go on"),
	   "cursor: 'more' without a cursor stops rather than ends short");
	rig_release(&g);

	rig_init(&g, "http://api.test/items", PAG_CURSOR, 1);
	pag_spec_set(&g.spec.cursor_path, "/next");
	pag_spec_set(&g.spec.cursor_param, "cursor");
	rig_start(&g);
	listing_submit(&g.c, 0, &g.e);
	ok(serve(&g, 1, "{\"items\":[1],\"next\":null}") == 0 && g.c.done && g.c.records == 1,
	   "cursor: no cursor and no 'more': the natural end");
	rig_release(&g);
}

static void test_empty_run(void)
{
	struct rig g;
	char body[64];
	uint64_t pg;
	int r = 0;

	rig_init(&g, "http://api.test/items", PAG_CURSOR, 1);
	g.cfg.max_empty = 2;
	pag_spec_set(&g.spec.cursor_path, "/next");
	pag_spec_set(&g.spec.cursor_param, "cursor");
	rig_start(&g);
	for (pg = 1; pg <= 4 && r == 0; pg++) {
		listing_submit(&g.c, 0, &g.e);
		snprintf(body, sizeof(body), "{\"items\":[],\"next\":\"c%llu\"}",
			 (unsigned long long)pg);
		r = serve(&g, pg, body);
	}
	ok(r < 0 && pg == 4 && strstr(g.e.msg, "3 empty pages in a row") &&
	   strstr(g.e.msg, "--max-empty-pages"),
	   "empty pages: the third in a row that still points on stops (max 2)");
	rig_release(&g);
}

static void test_offset_ahead(void)
{
	struct rig g;

	rig_init(&g, "http://api.test/items", PAG_OFFSET, 3);
	g.spec.limit = 2;
	ok(rig_start(&g) == 0 && listing_submit(&g.c, 0, &g.e) == 0 && g.w.nsent == 3,
	   "offset -j3: three pages go out at once");
	is_str(sent_url(&g, 3), "http://api.test/items?offset=4&limit=2",
	       "offset -j3: page 3 is guessed at offset 4");
	ok(serve(&g, 2, "{\"items\":[3,4]}") == 0 && g.c.page == 1 && !g.c.pages,
	   "offset: page 2 back first waits for page 1");
	ok(serve(&g, 1, "{\"items\":[1,2]}") == 0 && g.c.page == 3 && g.c.pages == 2 &&
	   g.c.records == 4, "offset: page 1 back, pages 1 and 2 are taken in order");
	ok(listing_submit(&g.c, 0, &g.e) == 0 && g.w.nsent == 3,
	   "offset: the window moves on (pages 3, 4, 5 out)");
	ok(serve(&g, 3, "{\"items\":[5]}") == 0 && g.c.pos == 5 && g.c.step == 1,
	   "offset: a short page 3 shows the server's page size");
	ok(g.w.abandoned == 2 && g.w.nsent == 0 && g.c.gen == 1,
	   "offset: the wrong guesses in flight are given up");
	ok(listing_submit(&g.c, 0, &g.e) == 0 && g.w.nsent == 3, "offset: guessing again");
	is_str(sent_url(&g, 4), "http://api.test/items?offset=5&limit=2",
	       "offset: page 4 at the position the short page gave");
	is_str(sent_url(&g, 6), "http://api.test/items?offset=7&limit=2",
	       "offset: and the pages after it at the new step");
	ok(serve(&g, 5, "{\"items\":[7]}") == 0 && serve(&g, 4, "{\"items\":[6]}") == 0 &&
	   serve(&g, 6, "{\"items\":[]}") == 0 && g.c.done && g.c.records == 7 && g.c.pages == 6,
	   "offset: an empty page ends it, every record once");
	rig_release(&g);

	rig_init(&g, "http://api.test/items", PAG_OFFSET, 4);
	g.spec.limit = 10;
	rig_start(&g);
	ok(listing_submit(&g.c, 2, &g.e) == 0 && g.w.nsent == 2,
	   "offset: no more requests than the pages left (--max-pages)");
	rig_release(&g);
}

static void test_stuck(void)
{
	struct rig g;

	rig_init(&g, "http://api.test/items", PAG_PAGE, 1);
	rig_start(&g);
	listing_submit(&g.c, 0, &g.e);
	ok(serve(&g, 1, "{\"items\":[1,2]}") == 0, "page: page 1");
	listing_submit(&g.c, 0, &g.e);
	is_str(sent_url(&g, 2), "http://api.test/items?page=2", "page: page 2 asked for");
	ok(serve(&g, 2, "{\"items\":[1,2]}") < 0 &&
	   strstr(g.e.msg, "the same records as page 1: does the API ignore 'page'?"),
	   "page: the same records again is an API that ignores the position");
	rig_release(&g);
}

static void test_origin(void)
{
	struct rig g;
	int trust;

	for (trust = 0; trust < 2; trust++) {
		rig_init(&g, "https://api.test/items?token=s3cret", PAG_NEXT_URL, 1);
		pag_spec_set(&g.spec.next_path, "/next");
		g.w.trust = trust;
		pag_spec_compile(&g.spec, &g.e);
		listing_spec_ready(&g.l, &g.cfg, 1, &g.e);
		listing_begin(&g.c, &g.cfg, &g.l, &g.spec, &g.e);
		ok(g.l.holds_creds, "origin: a listing with credentials holds them");
		listing_submit(&g.c, 0, &g.e);
		if (!trust) {
			ok(serve(&g, 1, "{\"items\":[1],\"next\":\"https://other.test/p2\"}") < 0 &&
			   strstr(g.e.msg, "another origin than https://api.test") &&
			   strstr(g.e.msg, "--trust-origin https://other.test") &&
			   !strstr(g.e.msg, "s3cret"),
			   "origin: the credentials do not follow a next page to another host, "
			   "and the message masks them");
		} else {
			ok(serve(&g, 1, "{\"items\":[1],\"next\":\"https://other.test/p2\"}") == 0 &&
			   !g.c.done, "origin: a trusted origin is followed");
			ok(listing_submit(&g.c, 0, &g.e) == 0 &&
			   !strcmp(sent_url(&g, 2), "https://other.test/p2") &&
			   !strcmp(g.w.sent[0]->req.cred_origin, "https://api.test:443"),
			   "origin: its request still names where the credentials were given");
		}
		rig_release(&g);
	}

	rig_init(&g, "https://api.test/items", PAG_NEXT_URL, 1);
	pag_spec_set(&g.spec.next_path, "/next");
	g.w.trust = 1;
	pag_spec_compile(&g.spec, &g.e);
	listing_spec_ready(&g.l, &g.cfg, 1, &g.e);
	listing_begin(&g.c, &g.cfg, &g.l, &g.spec, &g.e);
	listing_submit(&g.c, 0, &g.e);
	g.w.trust = 0;
	ok(serve(&g, 1, "{\"items\":[1],\"next\":\"http://api.test/p2\"}") < 0 &&
	   strstr(g.e.msg, "plain http after https://api.test"),
	   "origin: https to plain http is refused");
	rig_release(&g);
}

static void test_failures(void)
{
	struct rig g;
	struct listing_job *j;

	rig_init(&g, "http://api.test/items", PAG_PAGE, 1);
	rig_start(&g);
	listing_submit(&g.c, 0, &g.e);
	j = sent(&g.w, 1);
	answer(j, 503, "busy");
	listing_take(&g.c, j);
	j = listing_ready(&g.c);
	ok(j && listing_page(&g.c, j, &g.d, &g.je, &g.res, &g.e) < 0 &&
	   g.e.code == EX_UNAVAILABLE && strstr(g.e.msg, "page 1 (http://api.test/items): HTTP 503"),
	   "a page that fails stops the listing: 69, its page and URL");
	listing_advance(&g.c, j, 0);
	rig_release(&g);

	rig_init(&g, "http://api.test/items", PAG_PAGE, 1);
	rig_start(&g);
	listing_submit(&g.c, 0, &g.e);
	ok(serve(&g, 1, "{\"items\":[1,") < 0 && g.e.code == EX_DATAERR,
	   "a body that is not JSON stops the listing with 65");
	rig_release(&g);

	rig_init(&g, "http://api.test/items", PAG_PAGE, 1);
	rig_start(&g);
	g.w.fail_submit = 1;
	ok(listing_submit(&g.c, 0, &g.e) < 0 && g.e.code == EX_UNAVAILABLE && g.c.nlive == 0,
	   "a request that cannot go out is an error, and nothing is left live");
	rig_release(&g);

	rig_init(&g, "ftp://api.test/items", PAG_PAGE, 1);
	ok(listing_spec_ready(&g.l, &g.cfg, 0, &g.e) < 0 && g.e.code == EX_USAGE,
	   "a start URL that is not http(s) is a usage error");
	rig_release(&g);
}

static void test_resume(void)
{
	struct rig g, h;
	struct strbuf sb = STRBUF_INIT;
	struct listing_ck ck = { 0 }, in;
	struct listing_ck_tokens tk;
	struct json_doc cd;
	struct jsonw w;

	rig_init(&g, "http://api.test/items", PAG_OFFSET, 1);
	g.spec.limit = 2;
	rig_start(&g);
	listing_submit(&g.c, 0, &g.e);
	serve(&g, 1, "{\"items\":[1,2]}");
	listing_ck_fill(&g.c, &ck);
	jw_init(&w, &sb);
	listing_ck_write(&w, &ck);
	jw_finish(&w);
	json_doc_init(&cd, 16);
	ok(json_parse(&cd, sb.buf, sb.len, NULL) == 0 && listing_ck_read(&cd, &in, &tk, &g.e) == 1,
	   "resume: a crawl's checkpoint reads back");

	rig_init(&h, "http://api.test/items", PAG_OFFSET, 1);
	listing_spec_ready(&h.l, &h.cfg, 0, &h.e);
	ok(listing_resume(&h.c, &h.cfg, &h.l, &cd, &in, &tk, "ck", &h.e) == 0 && h.c.page == 2 &&
	   h.c.pos == 2 && h.c.records == 2 && listing_submit(&h.c, 0, &h.e) == 0,
	   "resume: the crawl goes on at page 2");
	is_str(sent_url(&h, 2), "http://api.test/items?offset=2&limit=2",
	       "resume: with the request the checkpoint named");
	rig_release(&h);

	rig_init(&h, "http://api.test/other", PAG_OFFSET, 1);
	listing_spec_ready(&h.l, &h.cfg, 0, &h.e);
	ok(listing_resume(&h.c, &h.cfg, &h.l, &cd, &in, &tk, "ck", &h.e) < 0 &&
	   h.e.code == EX_CONFIG && strstr(h.e.msg, "ck was written for a crawl of "
					   "http://api.test/items, not http://api.test/other"),
	   "resume: a checkpoint of another listing is refused (78)");
	rig_release(&h);
	rig_release(&g);
	json_doc_release(&cd);
	strbuf_release(&sb);
}

/* ---- the crawler: a run of listings, against a server the test plays ---- */

/* Requests sent and not yet answered, answered in order by srv_next. */
struct server {
	struct http_req *q[64];
	size_t n;
	unsigned requests;
	const char *fail;	/* a URL that answers 503 */
};

static int srv_submit(void *ctx, struct http_req *r, struct aperr *e)
{
	struct server *sv = ctx;

	if (sv->n == sizeof(sv->q) / sizeof(*sv->q))
		return aperr_set(e, EX_SOFTWARE, "the test's queue is full");
	sv->q[sv->n++] = r;
	return 0;
}

static void srv_abandon(void *ctx, struct http_req *r)
{
	struct server *sv = ctx;
	size_t i;

	for (i = 0; i < sv->n; i++)
		if (sv->q[i] == r) {
			memmove(sv->q + i, sv->q + i + 1, (sv->n - i - 1) * sizeof(*sv->q));
			sv->n--;
			return;
		}
}

/* Each listing /L has three pages: ?c=2 and ?c=3 follow the first. */
static struct http_req *srv_next(void *ctx, int *failed, struct aperr *e)
{
	struct server *sv = ctx;
	struct http_req *r;
	const char *c, *l;

	*failed = 0;
	if (!sv->n) {
		*failed = 1;
		aperr_set(e, EX_SOFTWARE, "nothing in flight");
		return NULL;
	}
	r = sv->q[0];
	memmove(sv->q, sv->q + 1, --sv->n * sizeof(*sv->q));
	sv->requests++;
	l = strrchr(r->url, '/') + 1;
	c = strstr(r->url, "c=");
	r->outcome = HTTP_OK;
	r->status = 200;
	if (sv->fail && strstr(r->url, sv->fail))
		r->status = 503;
	else if (!c)
		strbuf_addf(&r->resp_body, "{\"items\":[\"%c1\",\"%c2\"],\"next\":\"2\"}", *l, *l);
	else if (c[2] == '2')
		strbuf_addf(&r->resp_body, "{\"items\":[\"%c3\"],\"next\":\"3\"}", *l);
	else
		strbuf_addf(&r->resp_body, "{\"items\":[\"%c4\"],\"next\":null}", *l);
	return r;
}

struct listings {
	const char *const *urls;
	size_t n;
};

static int next_url(void *ctx, uint64_t index, struct http_req *tmpl, struct strbuf *meta,
		    struct aperr *e)
{
	struct listings *ls = ctx;

	(void)meta;
	(void)e;
	if (index >= ls->n)
		return 0;
	tmpl->url = strdup(ls->urls[index]);
	return 1;
}

/* Run a crawler over urls; its output file is out, its checkpoint ck.  The run's result. */
static int listing_run(const char *const *urls, size_t n, const char *out, const char *ck,
		     const char *state, uint64_t max_pages, size_t nactive, struct server *sv,
		     struct aperr *e)
{
	static struct secrets none;
	struct listings ls = { urls, n };
	struct pag_spec spec;
	struct crawler cr;
	int r;

	secrets_init(&none);
	pag_spec_init(&spec);
	spec.style = PAG_CURSOR;
	pag_spec_set(&spec.records_path, "/items");
	pag_spec_set(&spec.cursor_path, "/next");
	pag_spec_set(&spec.cursor_param, "c");
	pag_spec_compile(&spec, e);
	crawler_init(&cr);
	cr.cfg.io.ctx = sv;
	cr.cfg.io.submit = srv_submit;
	cr.cfg.io.abandon = srv_abandon;
	cr.cfg.io.next = srv_next;
	cr.cfg.secrets = &none;
	cr.cfg.concurrency = nactive;
	memcpy(cr.cfg.key, "0123456789abcdef", 16);
	cr.user = &spec;
	cr.hooks.ctx = &ls;
	cr.hooks.next = next_url;
	cr.max_pages = max_pages;
	cr.checkpoint = ck;
	cr.outpath = out;
	cr.state_name = state;
	cr.ck_label = ck ? ck : "the state";
	cr.nactive = nactive;
	r = crawler_resume(&cr, NULL, e);
	if (r == 0)
		r = crawler_open_output(&cr, e);
	if (r == 0)
		r = crawler_run(&cr, e);
	if (r == 0)
		r = lwriter_flush(&cr.out, e);
	if (cr.out.fd >= 0)
		close(cr.out.fd);
	lwriter_release(&cr.out);
	crawler_release(&cr);
	pag_spec_release(&spec);
	return r;
}

/* The records of the envelopes in file path, in order, as "a1 a2 …"; state lines as "S". */
static void records_of(const char *path, struct strbuf *out)
{
	struct strbuf text = STRBUF_INIT;
	struct json_doc d;
	struct aperr e;
	const char *p, *nl;

	strbuf_reset(out);
	json_doc_init(&d, 64);
	statefile_read(path, &text, 1 << 20, &e);
	for (p = text.buf; *p; p = nl + 1) {
		uint32_t b, it, k;

		nl = strchr(p, '\n');
		if (!nl)
			break;
		if (*p == '\x1e') {
			strbuf_addstr(out, "S ");
			continue;
		}
		if (json_parse(&d, p, (size_t)(nl - p), NULL) < 0 || !(b = json_get(&d, 0, "body", 4)) ||
		    !(it = json_get(&d, b, "items", 5)))
			continue;
		for (k = json_first(&d, it); k; k = json_next(&d, it, k))
			strbuf_addf(out, "%.*s ", (int)json_srclen(&d, k) - 2, json_src(&d, k) + 1);
	}
	json_doc_release(&d);
	strbuf_release(&text);
}

static void test_crawler(void)
{
	static const char *const urls[] = { "http://api.test/a", "http://api.test/b",
					    "http://api.test/c" };
	char dir[] = "/tmp/apipe-t-crawler-XXXXXX", out[300], ck[300], cmd[300];
	struct server sv = { { 0 }, 0, 0, NULL };
	struct strbuf got = STRBUF_INIT;
	struct aperr e;
	int r;

	if (!mkdtemp(dir))
		return;
	snprintf(out, sizeof(out), "%.200s/out.jsonl", dir);
	snprintf(ck, sizeof(ck), "%.200s/ck", dir);
	ok(listing_run(urls, 3, out, ck, NULL, 0, 1, &sv, &e) == 0 && sv.requests == 9,
	   "crawler: three listings of three pages, nine requests");
	records_of(out, &got);
	is_str(got.buf, "a1 a2 a3 a4 b1 b2 b3 b4 c1 c2 c3 c4 ", "crawler: every record once, in order");
	ok(access(ck, F_OK) < 0, "crawler: the checkpoint goes when the crawl ends");

	sv.requests = 0;
	r = listing_run(urls, 3, out, ck, NULL, 4, 1, &sv, &e);
	ok(r == 0 && sv.requests == 4 && access(ck, F_OK) == 0,
	   "crawler: --max-pages 4 stops with a checkpoint");
	records_of(out, &got);
	is_str(got.buf, "a1 a2 a3 a4 b1 b2 ", "crawler: the pages written so far");
	r = listing_run(urls, 3, out, ck, NULL, 0, 1, &sv, &e);
	records_of(out, &got);
	ok(r == 0 && sv.requests == 9 && access(ck, F_OK) < 0,
	   "crawler: the resumed run makes only the five requests left");
	is_str(got.buf, "a1 a2 a3 a4 b1 b2 b3 b4 c1 c2 c3 c4 ",
	       "crawler: resumed, every record exactly once");

	sv.requests = 0;
	ok(listing_run(urls, 3, out, NULL, NULL, 0, 3, &sv, &e) == 0 && sv.requests == 9,
	   "crawler: three listings at once");
	records_of(out, &got);
	is_str(got.buf, "a1 a2 a3 a4 b1 b2 b3 b4 c1 c2 c3 c4 ",
	       "crawler: at once, the output still reads listing after listing");

	ok(listing_run(urls, 2, out, NULL, "s", 0, 1, &sv, &e) == 0, "crawler: with in-band state");
	records_of(out, &got);
	is_str(got.buf, "a1 a2 S a3 S a4 S b1 b2 S b3 S b4 S S ",
	       "crawler: a state line after each page, the end said once more");

	sv.fail = "/b?c=2";
	unlink(ck);
	r = listing_run(urls, 3, out, ck, NULL, 0, 3, &sv, &e);
	records_of(out, &got);
	ok(r < 0 && e.code == EX_UNAVAILABLE && strstr(e.msg, "page 2 (http://api.test/b?c=2): HTTP 503"),
	   "crawler: a page that fails stops the run, naming the page");
	ok(!strncmp(got.buf, "a1 a2 ", 6) && !strstr(got.buf, "b3") &&
	   !strstr(got.buf, "c"), "crawler: what the head listing wrote stays; nothing of the "
				  "failed listing's later pages, nor of the listings after it");
	sv.fail = NULL;
	r = listing_run(urls, 3, out, ck, NULL, 0, 1, &sv, &e);
	records_of(out, &got);
	ok(r == 0, "crawler: the run after the failure resumes");
	is_str(got.buf, "a1 a2 a3 a4 b1 b2 b3 b4 c1 c2 c3 c4 ",
	       "crawler: and ends with every record exactly once");

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ok(system(cmd) == 0, "crawler: its directory is removed");
	strbuf_release(&got);
}

int main(void)
{
	test_cursor();
	test_empty_run();
	test_offset_ahead();
	test_stuck();
	test_origin();
	test_failures();
	test_resume();
	test_crawler();
	return done_testing();
}
