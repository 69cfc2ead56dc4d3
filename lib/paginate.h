/*
 * paginate: how a listing announces its next page, and how the next
 * request carries it.
 *
 * Styles: cursor (a value in the body sent back in a query parameter),
 * next-url (a URL in the body), link (an RFC 8288 Link header rel="next"),
 * offset (offset/limit parameters), page (a page number), keyset (the last
 * record's key sent back), and none (a listing of one page).  pag_detect()
 * chooses one from a first response for --style auto; pag_examine() reads
 * what every later response says; pag_url() builds the request for a
 * position.  None of these fetch, write or decide when a crawl ends: the
 * program does (cmd/paginate.c), so the rules stay in one visible place.
 *
 * Ownership: struct pag_spec owns its strings and compiled pointers
 * (pag_spec_release frees them); struct pag_result owns its buffers and is
 * reused page after page.  Results point into the caller's parsed body.
 */
#ifndef APIPE_PAGINATE_H
#define APIPE_PAGINATE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "http.h"
#include "json.h"
#include "records.h"
#include "strbuf.h"

enum pag_style {
	PAG_AUTO, PAG_CURSOR, PAG_NEXT_URL, PAG_LINK, PAG_OFFSET, PAG_PAGE, PAG_KEYSET, PAG_NONE
};

struct pag_spec {
	enum pag_style style;
	char *cursor_path, *cursor_param;	/* cursor */
	char *next_path;			/* next-url */
	char *more_path;			/* a boolean "more pages follow" (has_more), optional */
	char *done_path;			/* a boolean "this is the last page" (is_last), optional */
	char *total_path;			/* where the body reports a total, optional */
	char *offset_param, *limit_param;	/* offset; limit 0: not sent */
	uint64_t limit;
	char *page_param, *per_page_param;	/* page; per_page 0: not sent */
	uint64_t start_page, per_page;
	int start_page_set;
	int guessed;				/* auto guessed the position parameter: the
						 * reported total must be met */
	int confirm;				/* auto chose the position's parameter from
						 * the names APIs use: page 2 must confirm it
						 * (pag_next_candidate) */
	char *cand;				/* the other candidates, one a line: "cursor
						 * NAME", "offset NAME", "page NAME BASE" */
	char *key_field, *key_param;		/* keyset */
	char *records_path;			/* NULL: detected as records(1) does */
	/* compiled by pag_spec_compile() */
	struct json_ptr cursor_ptr, next_ptr, more_ptr, done_ptr, total_ptr, key_ptr, records_ptr;
	int compiled;
};

/* Defaults: auto; offset/limit, page/per_page, start page 1. */
void pag_spec_init(struct pag_spec *s);
void pag_spec_release(struct pag_spec *s);
/* Replace the string *field with a copy of v (NULL clears).  0 or -1. */
int pag_spec_set(char **field, const char *v);
/* "cursor" → PAG_CURSOR …; 0, or -1 (EX_USAGE) for an unknown name. */
int pag_style_parse(const char *name, enum pag_style *out, struct aperr *e);
const char *pag_style_name(enum pag_style s);
/*
 * Check that the style has what it needs (cursor: --cursor-path and
 * --cursor-param; next-url: --next-path; keyset: --order-field and
 * --order-param) and compile the pointers.  0, or -1 (EX_USAGE).
 */
int pag_spec_compile(struct pag_spec *s, struct aperr *e);
/*
 * Page 2 refuted the position parameter auto chose (the API answered 4xx,
 * or the first page again): move s to the next candidate (s->cand) and
 * compile it.  1 when there was one (why says which), 0 when none is left.
 */
int pag_next_candidate(struct pag_spec *s, struct strbuf *why);

/* dst (uninitialised) becomes a copy of src.  0 or -1. */
int pag_spec_copy(struct pag_spec *dst, const struct pag_spec *src, struct aperr *e);
/* The spec as a JSON object (for checkpoints), and back.  0 or -1. */
struct jsonw;
void pag_spec_json(const struct pag_spec *s, struct jsonw *w);
int pag_spec_from_json(struct pag_spec *s, const struct json_doc *d, uint32_t obj,
		      struct aperr *e);

/* What one response says about the next page. */
struct pag_result {
	struct records_page rp;
	uint32_t array;			/* the record array, JSON_ABSENT when none */
	size_t nrecords;
	int more;			/* -1: not said, 0: no more pages, 1: more */
	int has_token;			/* a non-empty cursor, next URL or last key */
	struct strbuf token;		/* cursor; next URL (resolved); last key */
	struct strbuf token_json;	/* the cursor or key as JSON, for a request body */
	int has_total;
	uint64_t total;			/* a total/total_count the API reported */
	struct strbuf scratch;
};

void pag_result_init(struct pag_result *res);
void pag_result_release(struct pag_result *res);

/*
 * Choose a style for --style auto from the first response r to url, whose
 * body d parsed as JSON (NULL when it did not).  Fills s (style and the
 * names it needs) and says why in why.  Returns 0, or -1 with EX_DATAERR
 * and a message listing what the response showed when it cannot decide.
 */
int pag_detect(struct pag_spec *s, const char *url, const struct http_req *r,
	      const struct json_doc *d, struct strbuf *why, struct aperr *e);

/*
 * Read response r to url (body d) under spec s into res: the record
 * array, the next cursor / URL / last key, has_more, a reported total.
 * Returns 0, or -1: EX_DATAERR (no record array, a bad next link, a
 * record without its key), EX_UNAVAILABLE (a 200 whose body reports an
 * error, as {"ok":false} or {"error":…} without records).
 */
int pag_examine(const struct pag_spec *s, const char *url, const struct http_req *r,
	       const struct json_doc *d, struct pag_result *res, struct aperr *e);

/*
 * The request URL for a position of the style, from base (the listing's
 * start URL): value is the cursor, the offset, the page number or the last
 * key; NULL gives the first request (limit / per_page applied).  Replaces
 * out.  0 or -1.
 */
int pag_url(const struct pag_spec *s, const char *base, const char *value, struct strbuf *out);

/*
 * A parameter named "body:POINTER" goes into the JSON request body at
 * POINTER instead of the query string (search APIs, GraphQL variables).
 * pag_url() leaves such parameters out; pag_body() sets them in a copy of
 * the start request's body base[0..n): value is the position as JSON (a
 * cursor or key as the response held it, or an offset or page number).
 * Replaces out.  0, or -1 (EX_DATAERR: the body is not JSON; EX_USAGE).
 * The value NUL-terminated, valid JSON: pag_result's token_json, or digits.
 */
int pag_body(const struct pag_spec *s, const char *base, size_t n, const char *value,
	    struct strbuf *out, struct aperr *e);
/* 1 when some parameter of the style goes into the request body. */
int pag_uses_body(const struct pag_spec *s);

/*
 * The position the start URL itself stands for: its offset (0 when
 * absent) or its page number (the start page when absent).
 */
uint64_t pag_start_position(const struct pag_spec *s, const char *base, const char *body,
			   size_t n);

/*
 * A request's identity, used as the envelope's page_key and to match a
 * checkpoint to its listing: 32 hex digits of the SHA-256 of the method,
 * the real URL (the run's credentials are added later, by the auth layer,
 * so they are not part of it; values the run holds as secrets, when a
 * server echoed one into a link, are masked) and the body.  Two requests
 * that differ in any parameter differ in identity, whatever its name
 * (?code=US is not ?code=FR); the same request has the same identity in
 * any run and with any of several API keys.  0 or -1.
 */
int pag_request_id(const struct http_req *r, const struct secrets *secrets, char out[33]);

/*
 * The body of a GraphQL request: {"query":QUERY,"variables":VARIABLES},
 * variables a JSON object's text (NULL: {}), appended to out.  -1
 * (EX_USAGE) when variables is not a JSON object, EX_DATAERR when query
 * is not UTF-8.
 */
int pag_graphql_body(const char *query, size_t n, const char *variables, struct strbuf *out,
		    struct aperr *e);

#endif
