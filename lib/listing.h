/*
 * listing: one listing's pagination, page by page to its natural end, and
 * the checkpoint that says where it stands.
 *
 * The engine.  A struct listing follows one listing: it names the requests
 * to make (listing_submit: the next page, and with fetch-ahead the pages
 * after it, guessed at the offset step or the next page number), takes the
 * responses in any order (listing_take) and hands them back in page order
 * (listing_ready).  listing_page() applies the rules to a page: its status,
 * its body, the style found (auto), where it leads next, and why the
 * listing ends or must stop -- "more pages" with nothing to go on, a next
 * page on an origin the credentials may not go to, too many empty pages in
 * a row, a request already made (a loop), the same records as the page
 * before (the API ignores the position).  listing_advance() moves past the
 * page once the caller has written it; a page that shows the guess was
 * wrong discards what was fetched ahead.  The engine never does I/O
 * itself: requests go out and are given up through struct listing_io, so a
 * test can play the server.
 *
 * The checkpoint's format (version 1):
 * paginate writes where a crawl stands after each page it wrote, to a
 * checkpoint file and as the value of an in-band state line; a later run
 * resumes from it.  The format (version 1):
 *
 *   {"version":1,"listing":L,"output_bytes":B}             listings before L are done
 *   {"version":1,"listing":L,"output_bytes":B,"start":URL,"start_id":ID,
 *    "next":URL,"next_body"?:TEXT,"page":P,"pos":N,"step":N,"empty_run":N,
 *    "records":N,"pages":N,"total"?:N,"spec":{…}}             listing L is at page P
 *   {"version":1,"complete":true}                           the last crawl ended
 *
 * start is the start URL as shown (secrets masked); start_id identifies
 * the real start request (pag_request_id), so a checkpoint is only resumed
 * by the crawl it was written for.  next is the URL of the next page to
 * write, next_body its body when the position travels in it; spec is the
 * pagination in force (auto resolved to the style found).
 *
 * Ownership: struct listing_ck borrows every string it is given to write;
 * what listing_ck_read() fills points into the parsed document d (strings
 * are token numbers, decoded by the caller).  Nothing is allocated.
 * A struct listing owns its jobs (until listing_ready hands one out, which the
 * caller gives back through listing_advance), its spec and its strings; it
 * borrows its struct listing_cfg and its listing, which must outlive it.
 *
 * Thread-safety: none; a crawl is used by one thread.
 */
#ifndef APIPE_LISTING_H
#define APIPE_LISTING_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "json.h"
#include "paginate.h"
#include "fpset.h"
#include "http.h"
#include "strbuf.h"

#define LISTING_CK_VERSION 1

struct jsonw;

struct listing_ck {
	uint64_t listing, output_bytes;
	int at_page;			/* the listing is under way: what follows is set */
	const char *start, *start_id;	/* writing: strings; reading: see listing_ck_read */
	const char *next;
	size_t next_len;
	const char *next_body;		/* NULL: none */
	size_t next_body_len;
	uint64_t page, pos, step, empty_run, records, pages;
	int has_total;
	uint64_t total;
	const struct pag_spec *spec;	/* writing only */
};

/* Write ck as the checkpoint's JSON object. */
void listing_ck_write(struct jsonw *w, const struct listing_ck *ck);

/* Write the checkpoint that says the last crawl ended. */
void listing_ck_complete(struct jsonw *w);

/* What listing_ck_read() found: token numbers in d for the strings. */
struct listing_ck_tokens {
	uint32_t start, start_id, next, next_body, spec;	/* 0: absent */
};

/*
 * Read checkpoint d (its root) into ck and tokens.  Returns 1 when it is a
 * checkpoint of a crawl under way (at_page says whether a listing is at a
 * page), 0 when it says the last crawl ended ("complete"), -1 (EX_DATAERR,
 * naming the JSON Pointer) when it is no version-1 checkpoint or a member
 * is not what it must be.
 */
int listing_ck_read(const struct json_doc *d, struct listing_ck *ck, struct listing_ck_tokens *tokens,
		  struct aperr *e);

/* ---- the engine ---- */

/* How the engine reaches the network: set by the caller. */
struct listing_io {
	void *ctx;
	/* Send r; it comes back to listing_take().  -1 (e) when it cannot go. */
	int (*submit)(void *ctx, struct http_req *r, struct aperr *e);
	/* Forget r, sent and not yet back: it never comes back. */
	void (*abandon)(void *ctx, struct http_req *r);
	/*
	 * Free r, back or abandoned; what it used may serve a later request.
	 * NULL: http_req_release().
	 */
	void (*release)(void *ctx, struct http_req *r);
	/* May the run's credentials follow r to url?  NULL: only to r's origin. */
	int (*creds_allowed)(void *ctx, const struct http_req *r, const char *url);
	/*
	 * The next response (a request sent, now finished), waiting for it:
	 * used by lib/crawler, not by the engine.  NULL with *failed set (e)
	 * when the transport failed.
	 */
	struct http_req *(*next)(void *ctx, int *failed, struct aperr *e);
	/* A line for -v; NULL: not verbose. */
	void (*log)(void *ctx, const char *line);
};

/* What every listing of a run shares; borrowed by each crawl. */
struct listing_cfg {
	struct listing_io io;
	const struct secrets *secrets;	/* scrubbed from every message */
	const char *key_param;		/* an API key sent in the query: masked, never followed */
	size_t concurrency;		/* -j: requests in flight */
	int ahead;			/* fetch ahead (offset/page, one listing at a time) */
	uint64_t max_empty;		/* empty pages in a row that may still point on */
	uint8_t key[16];		/* the loop check's hash key */
};

/* One listing: its start request, as the template of every page request. */
struct listing_spec {
	struct http_req tmpl;
	struct strbuf meta;		/* the request line's meta, as JSON; empty: none */
	uint64_t index;
	struct strbuf origin;		/* the start URL's origin: where credentials go */
	int holds_creds;		/* auth, or a credential header in its request */
	char id[33];			/* the start request's identity (pag_request_id) */
};

/* Ready l for index: an empty template the caller fills, then listing_spec_ready(). */
void listing_spec_init(struct listing_spec *l, uint64_t index);
/*
 * l's template is filled: work out its origin and identity.  has_auth:
 * the run adds credentials of its own.  -1 (EX_USAGE) when the URL is no
 * http or https URL.
 */
int listing_spec_ready(struct listing_spec *l, const struct listing_cfg *cfg, int has_auth,
			struct aperr *e);
void listing_spec_release(struct listing_spec *l);

/* One page request; req.udata points back at it. */
struct listing_job {
	struct http_req req;
	void *owner;			/* the caller's: the crawl's owner when submitted */
	uint64_t gen;			/* the guess it belongs to (fetch-ahead) */
	uint64_t page;			/* 1-based page number */
	uint64_t pos;			/* offset or page number (offset and page styles) */
};

/* Where a listing's crawl stands: the next page not yet written. */
struct listing {
	const struct listing_cfg *cfg;
	struct listing_spec *l;
	void *owner;			/* copied into each job */
	struct pag_spec spec;
	int resolved;			/* the style is known (not auto before page 1) */
	struct strbuf next;		/* URL of the next page to write */
	struct strbuf next_body;	/* and its body, when the position goes there */
	int has_next_body;
	uint64_t page, pos, step;	/* its number, its position, the offset step */
	uint64_t empty_run;		/* empty pages in a row that still pointed on */
	uint64_t records, pages;
	int done, has_total;
	uint64_t total;
	uint64_t dropped;		/* responses to pages fetched ahead and not used */
	struct fpset seen;		/* requests already made (a loop is an error) */
	uint64_t prev_hash;		/* the previous page's records (offset/page) */
	int has_prev;
	/* page 1 of a guess page 2 must confirm (spec.confirm): its records, its position */
	int has_first;
	uint64_t first_hash, first_pos, first_n;
	struct strbuf first_token, first_token_json, tried;
	int explicit_style;		/* the user named the style: its paths must be there */
	/* fetch-ahead: pages gen_page.. were guessed at gen_pos + k * gen_step */
	uint64_t gen, gen_page, gen_pos, gen_step, last_submitted;
	struct listing_job **ring;
	size_t ringn;
	struct listing_job **live;	/* submitted, not yet back */
	size_t nlive, alive;
	struct strbuf why, shown;	/* scratch */
};

/* Start l's crawl at its first page, with the pagination user asks for. */
int listing_begin(struct listing *c, const struct listing_cfg *cfg, struct listing_spec *l,
		const struct pag_spec *user, struct aperr *e);
/*
 * Resume l's crawl where checkpoint ck (read from cd by listing_ck_read)
 * says it stands.  label names the checkpoint in messages.  -1 (EX_CONFIG)
 * when ck was written for another listing, EX_DATAERR when it is damaged.
 */
int listing_resume(struct listing *c, const struct listing_cfg *cfg, struct listing_spec *l,
		 const struct json_doc *cd, const struct listing_ck *ck,
		 const struct listing_ck_tokens *tok, const char *label, struct aperr *e);
/* Stop what is in flight, free what waits; c->dropped counts what was fetched for nothing. */
void listing_end(struct listing *c);

/*
 * Keep the requests going: the next page, and with fetch-ahead the pages
 * after it, at most pages_left in all (0: no bound).
 */
int listing_submit(struct listing *c, uint64_t pages_left, struct aperr *e);
/* A response to one of c's jobs: kept for its turn, or dropped (a wrong guess). */
void listing_take(struct listing *c, struct listing_job *j);
/* The next page in order, when it is back; NULL otherwise.  The caller owns it. */
struct listing_job *listing_ready(struct listing *c);
/*
 * Apply the rules to page j, using d as scratch for its body and res for
 * what it holds.  Sets c->next (and c->next_body), or c->done on the last
 * page.  On 0, d holds the body's parse (the envelope writes it from
 * there: envelope_opts.body_parsed).  -1 (e: "page N (URL): why",
 * secrets masked) when the listing must stop at this page.  1 when page 2
 * refuted the parameter auto chose for the position (the API answered
 * 4xx, or page 1 again) and the next candidate is in force: the page is
 * not written, the caller frees j and listing_submit() asks for page 2 anew.
 */
int listing_page(struct listing *c, const struct listing_job *j, struct json_doc *d,
	       struct json_error *je, struct pag_result *res, struct aperr *e);
/* Free job j (one listing_ready() handed out) without counting it: the run stops at it. */
void listing_job_free(const struct listing_cfg *cfg, struct listing_job *j);
/* Page j was written: count it, free it, and drop what was fetched ahead on a wrong guess. */
void listing_advance(struct listing *c, struct listing_job *j, size_t nrecords);
/* Fill ck (at_page) with where c stands; its strings are c's and shown's. */
void listing_ck_fill(struct listing *c, struct listing_ck *ck);
/*
 * Stop at page (its URL url) for why: e becomes "page N (URL): why" with
 * code, the URL masked and cut to 300 bytes, secrets scrubbed from why
 * (which may be e's own message).  Returns -1.
 */
int listing_page_error(const struct listing_cfg *cfg, uint64_t page, const char *url, int code,
		     const char *why, struct aperr *e);
/* url as a message or checkpoint may show it, secrets masked: out's text, reset first. */
const char *listing_shown(const struct listing_cfg *cfg, struct strbuf *out, const char *url);

#endif
