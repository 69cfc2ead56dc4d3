#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listing.h"
#include "hash.h"
#include "jsonw.h"
#include "redact.h"
#include "secret.h"
#include "url.h"

void listing_ck_write(struct jsonw *w, const struct listing_ck *ck)
{
	jw_object(w);
	jw_member_u64(w, "version", LISTING_CK_VERSION);
	jw_member_u64(w, "listing", ck->listing);
	jw_member_u64(w, "output_bytes", ck->output_bytes);
	if (ck->at_page) {
		jw_key(w, "start");
		jw_text(w, ck->start, strlen(ck->start));
		jw_member_str(w, "start_id", ck->start_id);
		jw_key(w, "next");
		jw_text(w, ck->next ? ck->next : "", ck->next_len);
		if (ck->next_body) {
			jw_key(w, "next_body");
			jw_text(w, ck->next_body, ck->next_body_len);
		}
		jw_member_u64(w, "page", ck->page);
		jw_member_u64(w, "pos", ck->pos);
		jw_member_u64(w, "step", ck->step);
		jw_member_u64(w, "empty_run", ck->empty_run);
		jw_member_u64(w, "records", ck->records);
		jw_member_u64(w, "pages", ck->pages);
		if (ck->has_total)
			jw_member_u64(w, "total", ck->total);
		jw_key(w, "spec");
		pag_spec_json(ck->spec, w);
	}
	jw_end_object(w);
}

void listing_ck_complete(struct jsonw *w)
{
	jw_object(w);
	jw_member_u64(w, "version", LISTING_CK_VERSION);
	jw_key(w, "complete");
	jw_bool(w, 1);
	jw_end_object(w);
}

/* Member name of d's root as a whole number >= 0 into *out. */
static int whole(const struct json_doc *d, const char *name, uint64_t *out, struct aperr *e)
{
	uint32_t t = json_get(d, 0, name, strlen(name));

	if (!t || json_type(d, t) != JSON_NUMBER || json_u64(d, t, out) < 0)
		return aperr_set(e, EX_DATAERR, "/%s: not a whole number", name);
	return 0;
}

/* Member name as a string token into *out (0 when absent and optional). */
static int string(const struct json_doc *d, const char *name, int optional, uint32_t *out,
		  struct aperr *e)
{
	uint32_t t = json_get(d, 0, name, strlen(name));

	*out = 0;
	if (!t && optional)
		return 0;
	if (!t || json_type(d, t) != JSON_STRING)
		return aperr_set(e, EX_DATAERR, "/%s: not a string", name);
	*out = t;
	return 0;
}

int listing_ck_read(const struct json_doc *d, struct listing_ck *ck, struct listing_ck_tokens *tk,
		  struct aperr *e)
{
	uint64_t version;
	uint32_t t;

	memset(ck, 0, sizeof(*ck));
	memset(tk, 0, sizeof(*tk));
	if (json_type(d, 0) != JSON_OBJECT)
		return aperr_set(e, EX_DATAERR, "not a paginate checkpoint (not a JSON object)");
	if (whole(d, "version", &version, e) < 0)
		return -1;
	if (version != LISTING_CK_VERSION)
		return aperr_set(e, EX_DATAERR, "/version: %llu, not a version this paginate reads",
				 (unsigned long long)version);
	t = json_get(d, 0, "complete", 8);
	if (t && json_type(d, t) == JSON_TRUE)
		return 0;
	if (whole(d, "listing", &ck->listing, e) < 0)
		return -1;
	if (whole(d, "output_bytes", &ck->output_bytes, e) < 0)
		return -1;
	if (!json_get(d, 0, "next", 4))
		return 1;		/* between listings */
	ck->at_page = 1;
	if (string(d, "start", 0, &tk->start, e) < 0 || string(d, "start_id", 0, &tk->start_id, e) < 0 ||
	    string(d, "next", 0, &tk->next, e) < 0 || string(d, "next_body", 1, &tk->next_body, e) < 0 ||
	    whole(d, "page", &ck->page, e) < 0 || whole(d, "pos", &ck->pos, e) < 0 ||
	    whole(d, "step", &ck->step, e) < 0 || whole(d, "empty_run", &ck->empty_run, e) < 0 ||
	    whole(d, "records", &ck->records, e) < 0 || whole(d, "pages", &ck->pages, e) < 0)
		return -1;
	if (json_get(d, 0, "total", 5)) {
		ck->has_total = 1;
		if (whole(d, "total", &ck->total, e) < 0)
			return -1;
	}
	tk->spec = json_get(d, 0, "spec", 4);
	if (!tk->spec || json_type(d, tk->spec) != JSON_OBJECT)
		return aperr_set(e, EX_DATAERR, "/spec: not an object");
	return 1;
}

/* ---- the engine ---- */

const char *listing_shown(const struct listing_cfg *cfg, struct strbuf *out, const char *url)
{
	strbuf_reset(out);
	redact_url(out, url, cfg->key_param);
	secrets_scrub(cfg->secrets, out);
	return out->buf;
}

int listing_page_error(const struct listing_cfg *cfg, uint64_t page, const char *url, int code,
		     const char *why, struct aperr *e)
{
	struct strbuf m = STRBUF_INIT;
	struct strbuf u = STRBUF_INIT;

	strbuf_addstr(&m, why);
	secrets_scrub(cfg->secrets, &m);
	listing_shown(cfg, &u, url);
	strbuf_shorten(&u, 300);
	aperr_set(e, code, "page %llu (%s): %s", (unsigned long long)page, u.buf,
		  m.buf);
	strbuf_release(&m);
	strbuf_release(&u);
	return -1;
}

static int fail(const struct listing *c, uint64_t page, const char *url, int code, const char *why,
		struct aperr *e)
{
	return listing_page_error(c->cfg, page, url, code, why, e);
}

static void say(const struct listing *c, const char *line)
{
	if (c->cfg->io.log)
		c->cfg->io.log(c->cfg->io.ctx, line);
}

void listing_spec_init(struct listing_spec *l, uint64_t index)
{
	memset(l, 0, sizeof(*l));
	http_req_init(&l->tmpl);
	strbuf_init(&l->meta, STRBUF_DEFAULT_CAP);
	strbuf_init(&l->origin, 0);
	l->index = index;
}

int listing_spec_ready(struct listing_spec *l, const struct listing_cfg *cfg, int has_auth,
			struct aperr *e)
{
	if (url_origin(l->tmpl.url, &l->origin) < 0) {
		struct strbuf u = STRBUF_INIT;

		listing_shown(cfg, &u, l->tmpl.url);
		strbuf_shorten(&u, 300);
		aperr_set(e, EX_USAGE, "%s: not an http or https URL", u.buf);
		strbuf_release(&u);
		return -1;
	}
	if (pag_request_id(&l->tmpl, cfg->secrets, l->id) < 0)
		return aperr_set(e, EX_OSERR, "out of memory");
	/* the template's headers (-H) are in the request's, and a request line's too */
	l->holds_creds = has_auth || http_headers_sensitive(l->tmpl.headers);
	return 0;
}

void listing_spec_release(struct listing_spec *l)
{
	http_req_release(&l->tmpl);
	strbuf_release(&l->meta);
	strbuf_release(&l->origin);
}

static struct listing_job *job_new(struct listing *c, const char *url, const struct strbuf *body)
{
	const struct listing_spec *l = c->l;
	struct listing_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->owner = c->owner;
	http_req_init(&j->req);
	j->req.udata = j;
	j->req.url = strdup(url);
	if (l->tmpl.method)
		j->req.method = strdup(l->tmpl.method);
	if (body) {
		strbuf_add(&j->req.body, body->buf, body->len);
		j->req.has_body = 1;
	} else if (l->tmpl.has_body) {
		strbuf_add(&j->req.body, l->tmpl.body.buf, l->tmpl.body.len);
		j->req.has_body = 1;
	}
	j->req.cred_origin = strdup(l->origin.buf);
	if (http_headers_copy(&j->req.headers, l->tmpl.headers) < 0 || !j->req.url ||
	    !j->req.cred_origin || (l->tmpl.method && !j->req.method) ||
	    strbuf_failed(&j->req.body)) {
		http_req_release(&j->req);
		free(j);
		return NULL;
	}
	return j;
}

static void job_free(const struct listing_cfg *cfg, struct listing_job *j)
{
	if (cfg->io.release)
		cfg->io.release(cfg->io.ctx, &j->req);
	else
		http_req_release(&j->req);
	free(j);
}

void listing_job_free(const struct listing_cfg *cfg, struct listing_job *j)
{
	job_free(cfg, j);
}

static int submit(struct listing *c, const char *url, const struct strbuf *body, uint64_t page,
		  uint64_t pos, struct aperr *e)
{
	struct listing_job *j;

	if (c->nlive == c->alive) {
		size_t n = c->alive ? c->alive * 2 : 16;
		struct listing_job **live = realloc(c->live, n * sizeof(*live));

		if (!live)
			return aperr_set(e, EX_OSERR, "out of memory");
		c->live = live;
		c->alive = n;
	}
	if (!(j = job_new(c, url, body)))
		return aperr_set(e, EX_OSERR, "out of memory");
	j->gen = c->gen;
	j->page = page;
	j->pos = pos;
	j->req.seq = page;
	if (c->cfg->io.submit(c->cfg->io.ctx, &j->req, e) < 0) {
		job_free(c->cfg, j);
		return -1;
	}
	c->live[c->nlive++] = j;
	c->last_submitted = page;
	return 0;
}

static void unlive(struct listing *c, const struct listing_job *j)
{
	size_t i;

	for (i = 0; i < c->nlive; i++)
		if (c->live[i] == j) {
			c->live[i] = c->live[--c->nlive];
			return;
		}
}

/* Stop what is in flight and free what waits in the ring. */
static void drop_all(struct listing *c)
{
	size_t i;

	for (i = 0; i < c->nlive; i++) {
		c->cfg->io.abandon(c->cfg->io.ctx, &c->live[i]->req);
		job_free(c->cfg, c->live[i]);
	}
	c->nlive = 0;
	for (i = 0; i < c->ringn; i++)
		if (c->ring[i]) {
			c->dropped++;
			job_free(c->cfg, c->ring[i]);
			c->ring[i] = NULL;
		}
}

/* Forget every guess: what is in flight and what waits. */
static void drop_ahead(struct listing *c)
{
	drop_all(c);
	c->gen++;
	c->last_submitted = c->page - 1;
}

static int fetch_ahead(const struct listing *c)
{
	return c->resolved && c->cfg->ahead && c->cfg->concurrency > 1 &&
	       (c->spec.style == PAG_PAGE || (c->spec.style == PAG_OFFSET && c->step > 0));
}

/*
 * The body of the request for position value (JSON: a cursor as the page
 * held it, or a number), when the style puts its position there.
 */
static int position_body(struct listing *c, const char *value, struct strbuf *out, struct aperr *e)
{
	const struct http_req *t = &c->l->tmpl;

	if (!c->has_next_body)
		return 0;
	return pag_body(&c->spec, t->body.buf, t->has_body ? t->body.len : 0, value, out, e);
}

int listing_submit(struct listing *c, uint64_t pages_left, struct aperr *e)
{
	const struct strbuf *nb = c->has_next_body ? &c->next_body : NULL;
	char num[24];

	if (!fetch_ahead(c)) {
		if (c->last_submitted < c->page)
			return submit(c, c->next.buf, nb, c->page, c->pos, e);
		return 0;
	}
	if (c->last_submitted < c->page) {
		c->gen_page = c->page;
		c->gen_pos = c->pos;
		c->gen_step = c->spec.style == PAG_PAGE ? 1 : c->step;
		if (submit(c, c->next.buf, nb, c->page, c->pos, e) < 0)
			return -1;
	}
	while (c->last_submitted + 1 < c->page + c->cfg->concurrency &&
	       (!pages_left || c->last_submitted + 1 < c->page + pages_left)) {
		uint64_t pg = c->last_submitted + 1;
		uint64_t pos = c->gen_pos + (pg - c->gen_page) * c->gen_step;
		struct strbuf u = STRBUF_INIT, b = STRBUF_INIT;
		int r;

		snprintf(num, sizeof(num), "%llu", (unsigned long long)pos);
		r = pag_url(&c->spec, c->l->tmpl.url, num, &u) < 0
			    ? aperr_set(e, EX_OSERR, "out of memory")
			    : position_body(c, num, &b, e);
		if (r == 0)
			r = submit(c, u.buf, c->has_next_body ? &b : NULL, pg, pos, e);
		strbuf_release(&u);
		strbuf_release(&b);
		if (r < 0)
			return -1;
	}
	return 0;
}

/*
 * A next page on another origin than the listing's start: the run's
 * credentials may not follow it there (an https listing never goes on over
 * http with them), so the crawl stops unless the user trusts that origin.
 */
static int check_origin(struct listing *c, const struct listing_job *j, struct aperr *e)
{
	const struct listing_spec *l = c->l;
	struct strbuf to = STRBUF_INIT, m = STRBUF_INIT;
	int ok = !l->holds_creds;

	if (!ok && c->cfg->io.creds_allowed)
		ok = c->cfg->io.creds_allowed(c->cfg->io.ctx, &j->req, c->next.buf);
	if (ok)
		return 0;
	if (url_origin(c->next.buf, &to) < 0)
		strbuf_addstr(&to, "an unknown origin");
	if (url_is_https(l->origin.buf) && !url_is_https(to.buf))
		strbuf_addf(&m, "the next page is at %s, plain http after %s: the credentials "
			    "are not sent without TLS; stopping", to.buf, l->origin.buf);
	else
		strbuf_addf(&m, "the next page is at %s, another origin than %s where the "
			    "credentials were given; stopping (--trust-origin %s follows it)",
			    to.buf, l->origin.buf, to.buf);
	fail(c, j->page, j->req.url, EX_DATAERR, m.len ? m.buf : "another origin", e);
	strbuf_release(&to);
	strbuf_release(&m);
	return -1;
}

/* The next request's fingerprint: its URL and body (a loop is an error). */
static int request_hash(const struct listing *c, struct hash128 *h, struct aperr *e)
{
	struct strbuf m = STRBUF_INIT;

	strbuf_add(&m, c->next.buf, c->next.len);
	if (c->has_next_body) {
		strbuf_addch(&m, '\0');
		strbuf_add(&m, c->next_body.buf, c->next_body.len);
	}
	if (strbuf_failed(&m)) {
		strbuf_release(&m);
		return aperr_set(e, EX_OSERR, "out of memory");
	}
	siphash128(c->cfg->key, m.buf, m.len, h);
	strbuf_release(&m);
	return 0;
}

/* A next request already made: the listing loops. */
static int check_loop(struct listing *c, const struct listing_job *j, const struct pag_result *res,
		      struct aperr *e)
{
	struct strbuf m = STRBUF_INIT, u = STRBUF_INIT;
	struct hash128 h;
	int r;

	if (request_hash(c, &h, e) < 0)
		return -1;
	r = fpset_add(&c->seen, h);
	if (r < 0)
		return aperr_set(e, EX_OSERR, "out of memory");
	if (r > 0)
		return 0;
	if (c->spec.style == PAG_CURSOR || c->spec.style == PAG_KEYSET) {
		strbuf_addf(&m, "the next %s '%s' was already followed: the listing loops; stopping",
			    c->spec.style == PAG_CURSOR ? "cursor" : "key", res->token.buf);
	} else {
		listing_shown(c->cfg, &u, c->next.buf);
		strbuf_shorten(&u, 300);
		strbuf_addf(&m, "the next URL %s was already followed: the listing loops; stopping",
			    u.buf);
	}
	fail(c, j->page, j->req.url, EX_DATAERR, m.len ? m.buf : "a loop", e);
	strbuf_release(&m);
	strbuf_release(&u);
	return -1;
}

/* Where the page leads: the position after it, and whether there is one. */
static int step(struct listing *c, const struct pag_result *res, int *more, struct aperr *e)
{
	size_t n = res->nrecords;
	char num[24];

	*more = 0;
	strbuf_reset(&c->next);
	switch (c->spec.style) {
	case PAG_CURSOR:
	case PAG_KEYSET:
		*more = res->has_token && res->more != 0;
		if (*more && pag_url(&c->spec, c->l->tmpl.url, res->token.buf, &c->next) < 0)
			return aperr_set(e, EX_OSERR, "out of memory");
		if (*more)
			return position_body(c, res->token_json.buf, &c->next_body, e);
		return 0;
	case PAG_NEXT_URL:
	case PAG_LINK:
		*more = res->has_token && res->more != 0;
		if (*more) {
			strbuf_add(&c->next, res->token.buf, res->token.len);
			/* the key goes in once, by the auth layer, whatever the server echoes */
			if (c->cfg->key_param && url_set_query(&c->next, c->cfg->key_param, NULL) < 0)
				return aperr_set(e, EX_OSERR, "out of memory");
		}
		return 0;
	case PAG_OFFSET:
		*more = n > 0;
		c->pos += n;
		if (!c->step || n < c->step)
			c->step = n;	/* the server's own page size, when it caps limit */
		break;
	case PAG_PAGE:
		*more = n > 0;
		c->pos++;
		break;
	default:
		return 0;	/* none: one page */
	}
	if (!*more)
		return 0;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)c->pos);
	if (pag_url(&c->spec, c->l->tmpl.url, num, &c->next) < 0)
		return aperr_set(e, EX_OSERR, "out of memory");
	return position_body(c, num, &c->next_body, e);
}

/* Where the page leads: sets c->next, or c->done; -1 when the listing must stop here. */
static int next_page(struct listing *c, const struct listing_job *j, const struct pag_result *res,
		     struct aperr *e)
{
	int more;

	if (step(c, res, &more, e) < 0)
		return -1;
	if (!more && res->more == 1)
		return fail(c, j->page, j->req.url, EX_DATAERR,
			    c->spec.more_path || c->spec.done_path
				    ? "the page says more pages follow but gives nothing to go on "
				      "from: stopping rather than end short"
				    : "the page says more pages follow: stopping rather than end short",
			    e);
	if (!more) {
		c->done = 1;
		return 0;
	}
	if (check_origin(c, j, e) < 0)
		return -1;
	if (res->nrecords == 0) {
		if (++c->empty_run > c->cfg->max_empty) {
			char m[160];

			snprintf(m, sizeof(m), "%llu empty pages in a row still point to a next page; "
				 "stopping (see --max-empty-pages)", (unsigned long long)c->empty_run);
			return fail(c, j->page, j->req.url, EX_DATAERR, m, e);
		}
	} else {
		c->empty_run = 0;
	}
	return check_loop(c, j, res, e);
}

/* A page's records, as a fingerprint: two pages with the same records have the same. */
static uint64_t records_hash(const struct listing *c, const struct json_doc *d,
			     const struct pag_result *res)
{
	return siphash64(c->cfg->key, json_src(d, res->array), json_srclen(d, res->array));
}

/* The same records as the page before: the server ignores the position. */
static int check_stuck(struct listing *c, const struct listing_job *j, const struct json_doc *d,
		       const struct pag_result *res, struct aperr *e)
{
	uint64_t h;

	if ((c->spec.style != PAG_OFFSET && c->spec.style != PAG_PAGE) || !res->nrecords)
		return 0;
	h = records_hash(c, d, res);
	if (c->has_prev && h == c->prev_hash) {
		char m[200];

		snprintf(m, sizeof(m), "the same records as page %llu: does the API ignore '%s'? "
			 "stopping", (unsigned long long)(j->page - 1),
			 c->spec.style == PAG_OFFSET ? c->spec.offset_param : c->spec.page_param);
		return fail(c, j->page, j->req.url, EX_DATAERR, m, e);
	}
	c->prev_hash = h;
	c->has_prev = 1;
	return 0;
}

/*
 * Page 1 under a style the user named: a path to the next position that
 * is not there at all (a typo; present and null is the last page) stops
 * the crawl, naming the members that are there.
 */
static int explicit_paths(struct listing *c, const struct listing_job *j, const struct json_doc *d,
			  struct aperr *e)
{
	const struct json_ptr *p = c->spec.style == PAG_CURSOR ? &c->spec.cursor_ptr
				   : c->spec.style == PAG_NEXT_URL ? &c->spec.next_ptr : NULL;
	const char *path = c->spec.style == PAG_CURSOR ? c->spec.cursor_path : c->spec.next_path;
	struct strbuf m = STRBUF_INIT;
	uint32_t k, o = 0;
	size_t i, n = 0;
	int rc;

	if (!p || !d || json_ptr_eval(p, d, 0) != JSON_ABSENT)
		return 0;
	/* name the members of the deepest object on the path that is there */
	for (i = 1; i <= p->nseg; i++) {
		struct json_ptr part = *p;
		uint32_t t;

		part.nseg = i;
		t = json_ptr_eval(&part, d, 0);
		if (t == JSON_ABSENT || json_type(d, t) != JSON_OBJECT)
			break;
		o = t;
	}
	strbuf_addf(&m, "%s is not in the page (%s is there and holds:", path,
		    o ? "its parent" : "the top level");
	for (k = json_type(d, o) == JSON_OBJECT ? json_first(d, o) : 0; k; k = json_next(d, o, k)) {
		if (n++ >= 20) {
			strbuf_addstr(&m, " ...");
			break;
		}
		strbuf_addch(&m, ' ');
		strbuf_add(&m, json_src(d, k) + 1, json_srclen(d, k) - 2);
	}
	strbuf_addstr(&m, "); a path absent from page 1 is taken for a mistake, not for the end");
	rc = fail(c, j->page, j->req.url, EX_DATAERR, m.buf, e);
	strbuf_release(&m);
	return rc;
}

/* Page 1 of a guess that page 2 must confirm: what page 2 must differ from. */
static void keep_first(struct listing *c, const struct json_doc *d, const struct pag_result *res)
{
	c->has_first = c->spec.confirm && !c->done;
	if (!c->has_first)
		return;
	c->first_hash = res->nrecords ? records_hash(c, d, res) : 0;
	c->first_n = res->nrecords;
	c->first_pos = pag_start_position(&c->spec, c->l->tmpl.url, c->l->tmpl.body.buf,
					 c->l->tmpl.has_body ? c->l->tmpl.body.len : 0);
	strbuf_reset(&c->first_token);
	strbuf_add(&c->first_token, res->token.buf, res->token.len);
	strbuf_reset(&c->first_token_json);
	strbuf_add(&c->first_token_json, res->token_json.buf,
		   res->token_json.len);
	strbuf_reset(&c->tried);
	strbuf_addf(&c->tried, "'%s'", c->spec.style == PAG_CURSOR ? c->spec.cursor_param
					: c->spec.style == PAG_OFFSET ? c->spec.offset_param
					: c->spec.page_param);
}

/* The request for page 2 under the spec now in force, from page 1's position. */
static int page2_request(struct listing *c, struct aperr *e)
{
	char num[24];
	const char *value = num, *json = num;

	switch (c->spec.style) {
	case PAG_CURSOR:
		value = c->first_token.buf;
		json = c->first_token_json.len ? c->first_token_json.buf : "\"\"";
		break;
	case PAG_OFFSET:
		c->pos = c->first_pos + c->first_n;
		c->step = c->first_n;
		snprintf(num, sizeof(num), "%llu", (unsigned long long)c->pos);
		break;
	case PAG_PAGE:
		c->pos = c->spec.start_page + 1;
		snprintf(num, sizeof(num), "%llu", (unsigned long long)c->pos);
		break;
	default:
		return aperr_set(e, EX_SOFTWARE, "no position to confirm");
	}
	c->has_next_body = pag_uses_body(&c->spec);
	if (pag_url(&c->spec, c->l->tmpl.url, value, &c->next) < 0)
		return aperr_set(e, EX_OSERR, "out of memory");
	return position_body(c, json, &c->next_body, e);
}

/*
 * Page 2 of a guess: refuted (4xx, or page 1 again), move to the next
 * candidate and return 1; confirmed, return 0; refuted with nothing left,
 * -1 naming what was tried.
 */
static int confirm_page2(struct listing *c, const struct listing_job *j, const struct json_doc *d,
			 const struct pag_result *res, struct aperr *e)
{
	const struct http_req *r = &j->req;
	struct strbuf m = STRBUF_INIT, which = STRBUF_INIT;
	int refuted, rc = 0;

	if (!c->has_first || j->page != 2)
		return 0;
	refuted = r->status >= 400 && r->status < 500 && r->status != 401 && r->status != 403 &&
		  r->status != 429;
	if (!refuted && res && res->nrecords && c->first_n && records_hash(c, d, res) == c->first_hash)
		refuted = 1;
	if (!refuted && res && c->spec.style == PAG_CURSOR && res->has_token &&
	    res->token.len == c->first_token.len &&
	    !memcmp(res->token.buf, c->first_token.buf,
		    res->token.len))
		refuted = 1;
	if (!refuted) {
		c->has_first = 0;
		c->spec.confirm = 0;
		pag_spec_set(&c->spec.cand, NULL);
		return 0;
	}
	if (r->status >= 400)
		strbuf_addf(&m, "HTTP %ld", r->status);
	else
		strbuf_addstr(&m, "page 1 again");
	if (pag_next_candidate(&c->spec, &which)) {
		struct strbuf line = STRBUF_INIT;

		strbuf_addf(&line, "auto: page 2 under %s was %s: trying %s", c->tried.buf,
			    m.buf, which.buf);
		say(c, line.buf);
		strbuf_release(&line);
		strbuf_addf(&c->tried, ", %s", which.buf + strcspn(which.buf, "'"));
		drop_ahead(c);
		rc = page2_request(c, e) < 0 ? -1 : 1;
	} else {
		struct strbuf why = STRBUF_INIT;

		strbuf_addf(&why, "page 1 gave no sure way to page 2, and page 2 was %s with the "
			    "position sent back as %s, each parameter APIs use for it: name the "
			    "parameter (--cursor-param, --offset-param or --page-param) or the style",
			    m.buf, c->tried.buf);
		if (c->spec.style == PAG_CURSOR)
			strbuf_addf(&why, ", as in: paginate --style cursor --cursor-path %s "
				    "--cursor-param NAME '%s'", c->spec.cursor_path,
				    listing_shown(c->cfg, &c->shown, c->l->tmpl.url));
		else
			strbuf_addf(&why, ", as in: paginate --style offset --offset-param NAME '%s'",
				    listing_shown(c->cfg, &c->shown, c->l->tmpl.url));
		rc = fail(c, j->page, r->url, EX_DATAERR, why.buf, e);
		strbuf_release(&why);
	}
	strbuf_release(&m);
	strbuf_release(&which);
	return rc;
}

/* Page 1 of an auto crawl: the style the response shows. */
static int resolve(struct listing *c, const struct listing_job *j, const struct json_doc *d,
		   struct aperr *e)
{
	const struct http_req *r = &j->req, *t = &c->l->tmpl;

	strbuf_reset(&c->why);
	if (pag_detect(&c->spec, r->url, r, d, &c->why, e) < 0) {
		struct strbuf m = STRBUF_INIT;
		int rc;

		/* a command to copy: the style named, as the message says */
		strbuf_addstr(&m, e->msg);
		if (e->code == EX_DATAERR)
			strbuf_addf(&m, " (to take page 1 as the whole listing: paginate --style none "
				    "'%s')", listing_shown(c->cfg, &c->shown, t->url));
		rc = fail(c, j->page, r->url, e->code, m.buf ? m.buf : e->msg, e);
		strbuf_release(&m);
		return rc;
	}
	c->resolved = 1;
	c->has_next_body = pag_uses_body(&c->spec);
	c->pos = pag_start_position(&c->spec, t->url, t->body.buf, t->has_body ? t->body.len : 0);
	c->step = c->spec.style == PAG_OFFSET ? c->spec.limit : 0;
	if (c->cfg->io.log) {
		struct strbuf m = STRBUF_INIT;

		strbuf_addf(&m, "auto: style %s: %s", pag_style_name(c->spec.style),
			    c->why.buf);
		say(c, m.buf);
		strbuf_release(&m);
	}
	return 0;
}

int listing_page(struct listing *c, const struct listing_job *j, struct json_doc *d,
	       struct json_error *je, struct pag_result *res, struct aperr *e)
{
	const struct http_req *r = &j->req;
	const struct json_doc *body = NULL;

	if (r->outcome != HTTP_FAILED && r->status >= 400 && r->status < 500) {
		int k = confirm_page2(c, j, d, NULL, e);

		if (k != 0)
			return k;
	}
	if (r->outcome == HTTP_FAILED || r->exit_code || r->status < 200 || r->status > 299) {
		char m[600];

		if (r->error[0])
			snprintf(m, sizeof(m), "%s", r->error);
		else
			snprintf(m, sizeof(m), "HTTP %ld", r->status);
		return fail(c, j->page, r->url, r->exit_code ? r->exit_code : EX_UNAVAILABLE, m, e);
	}
	if (r->resp_body.len && json_parse(d, r->resp_body.buf, r->resp_body.len, je) == 0)
		body = d;
	if (!c->resolved && resolve(c, j, body, e) < 0)
		return -1;
	if (!body && r->resp_body.len) {
		json_error_to_aperr(je, e);
		return fail(c, j->page, r->url, EX_DATAERR, e->msg, e);
	}
	if (pag_examine(&c->spec, r->url, r, body, res, e) < 0)
		return fail(c, j->page, r->url, e->code, e->msg, e);
	{
		int k = confirm_page2(c, j, d, res, e);

		if (k != 0)
			return k;
	}
	if (check_stuck(c, j, d, res, e) < 0 || next_page(c, j, res, e) < 0)
		return -1;
	if (j->page == 1 && c->explicit_style && explicit_paths(c, j, body, e) < 0)
		return -1;
	if (j->page == 1)
		keep_first(c, d, res);
	if (res->has_total) {	/* the latest the API said */
		c->has_total = 1;
		c->total = res->total;
	}
	if (c->cfg->io.log) {
		struct strbuf m = STRBUF_INIT, u = STRBUF_INIT;

		strbuf_addf(&m, "page %llu: %zu records%s%s", (unsigned long long)j->page,
			    res->nrecords, c->done ? ", the last page" : ", next ",
			    c->done ? "" : listing_shown(c->cfg, &u, c->next.buf));
		say(c, m.buf);
		strbuf_release(&m);
		strbuf_release(&u);
	}
	return 0;
}

void listing_take(struct listing *c, struct listing_job *j)
{
	unlive(c, j);
	if (j->gen != c->gen || j->page < c->page || j->page >= c->page + c->ringn) {
		c->dropped++;	/* a guess that proved wrong, answered anyway */
		job_free(c->cfg, j);
		return;
	}
	c->ring[j->page % c->ringn] = j;
}

struct listing_job *listing_ready(struct listing *c)
{
	struct listing_job *j = c->ring[c->page % c->ringn];

	if (c->done || !j || j->page != c->page)
		return NULL;
	c->ring[c->page % c->ringn] = NULL;
	return j;
}

void listing_advance(struct listing *c, struct listing_job *j, size_t nrecords)
{
	int guessed;

	job_free(c->cfg, j);
	c->records += nrecords;
	c->pages++;
	c->page++;
	/* was the page after it guessed right? */
	guessed = c->gen_step && c->last_submitted >= c->page &&
		  c->gen_pos + (c->page - c->gen_page) * c->gen_step == c->pos;
	if (!c->done && fetch_ahead(c) && c->last_submitted >= c->page && !guessed)
		drop_ahead(c);
}

static int begin(struct listing *c, const struct listing_cfg *cfg, struct listing_spec *l,
		 struct aperr *e)
{
	void *owner = c->owner;

	memset(c, 0, sizeof(*c));
	c->owner = owner;
	c->cfg = cfg;
	c->l = l;
	strbuf_init(&c->next, 0);
	strbuf_init(&c->next_body, 0);
	strbuf_init(&c->why, 0);
	strbuf_init(&c->shown, 0);
	strbuf_init(&c->first_token, 0);
	strbuf_init(&c->first_token_json, 0);
	strbuf_init(&c->tried, 0);
	fpset_init(&c->seen);
	c->ringn = cfg->concurrency * 2 + 2;
	c->ring = calloc(c->ringn, sizeof(*c->ring));
	if (!c->ring)
		return aperr_set(e, EX_OSERR, "out of memory");
	return 0;
}

/* The first request is a request made: a listing that comes back to it loops. */
static int first_seen(struct listing *c, struct aperr *e)
{
	struct hash128 h;

	c->last_submitted = c->page - 1;
	if (request_hash(c, &h, e) < 0)
		return -1;
	if (fpset_add(&c->seen, h) < 0)
		return aperr_set(e, EX_OSERR, "out of memory");
	return 0;
}

int listing_begin(struct listing *c, const struct listing_cfg *cfg, struct listing_spec *l,
		const struct pag_spec *user, struct aperr *e)
{
	const struct http_req *t = &l->tmpl;

	if (begin(c, cfg, l, e) < 0 || pag_spec_copy(&c->spec, user, e) < 0)
		return -1;
	c->resolved = c->spec.style != PAG_AUTO;
	c->explicit_style = c->resolved;
	c->page = 1;
	if (!c->resolved) {
		strbuf_addstr(&c->next, t->url);
		return first_seen(c, e);
	}
	if (pag_url(&c->spec, t->url, NULL, &c->next) < 0)
		return aperr_set(e, EX_OSERR, "out of memory");
	c->has_next_body = pag_uses_body(&c->spec);
	if (c->has_next_body &&
	    pag_body(&c->spec, t->body.buf, t->has_body ? t->body.len : 0, NULL, &c->next_body, e) < 0)
		return -1;
	c->pos = pag_start_position(&c->spec, t->url, c->next_body.buf, c->next_body.len);
	c->step = c->spec.style == PAG_OFFSET ? c->spec.limit : 0;
	return first_seen(c, e);
}

int listing_resume(struct listing *c, const struct listing_cfg *cfg, struct listing_spec *l,
		 const struct json_doc *cd, const struct listing_ck *ck,
		 const struct listing_ck_tokens *tok, const char *label, struct aperr *e)
{
	struct strbuf v = STRBUF_INIT;

	if (begin(c, cfg, l, e) < 0)
		return -1;
	json_str_decode(cd, tok->start, &v);
	/* the real request decides, not its masked text: ?code=US is not ?code=FR */
	if (!v.buf || !json_str_eq(cd, tok->start_id, l->id, strlen(l->id))) {
		aperr_set(e, EX_CONFIG, "%s was written for a crawl of %s, not %s; use --restart "
			  "to start over", label, v.len ? v.buf : "?",
			  listing_shown(cfg, &c->shown, l->tmpl.url));
		strbuf_release(&v);
		return -1;
	}
	strbuf_release(&v);
	if (pag_spec_from_json(&c->spec, cd, tok->spec, e) < 0)
		return aperr_prefix(e, "%s", label);
	c->resolved = c->spec.style != PAG_AUTO;
	c->has_next_body = c->resolved && pag_uses_body(&c->spec);
	json_str_decode(cd, tok->next, &c->next);
	if (c->has_next_body && !tok->next_body)
		return aperr_set(e, EX_DATAERR, "%s: /next_body: not a string; use --restart to "
				 "start over", label);
	if (c->has_next_body)
		json_str_decode(cd, tok->next_body, &c->next_body);
	c->page = ck->page;
	c->pos = ck->pos;
	c->step = ck->step;
	c->empty_run = ck->empty_run;
	c->records = ck->records;
	c->pages = ck->pages;
	c->has_total = ck->has_total;
	c->total = ck->total;
	return first_seen(c, e);
}

void listing_end(struct listing *c)
{
	if (c->ring)
		drop_all(c);	/* what waits was fetched ahead past the end */
	free(c->ring);
	free(c->live);
	c->ring = NULL;
	c->live = NULL;
	c->ringn = c->nlive = c->alive = 0;
	fpset_release(&c->seen);
	strbuf_release(&c->next);
	strbuf_release(&c->next_body);
	strbuf_release(&c->why);
	strbuf_release(&c->shown);
	strbuf_release(&c->first_token);
	strbuf_release(&c->first_token_json);
	strbuf_release(&c->tried);
	pag_spec_release(&c->spec);
}

void listing_ck_fill(struct listing *c, struct listing_ck *ck)
{
	ck->at_page = 1;
	ck->start = listing_shown(c->cfg, &c->shown, c->l->tmpl.url);
	ck->start_id = c->l->id;
	ck->next = c->next.buf;
	ck->next_len = c->next.len;
	ck->next_body = c->has_next_body ? (c->next_body.buf) : NULL;
	ck->next_body_len = c->next_body.len;
	ck->page = c->page;
	ck->pos = c->pos;
	ck->step = c->step;
	ck->empty_run = c->empty_run;
	ck->records = c->records;
	ck->pages = c->pages;
	ck->has_total = c->has_total;
	ck->total = c->total;
	ck->spec = &c->spec;
}
