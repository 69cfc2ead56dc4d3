/*
 * envelope: one response as one JSON line (apipe(7), "The envelope").
 *
 *   {"url","final_url"?,"method","status","headers":{…},"fetched_at","elapsed_ms",
 *    "attempts","page"?,"page_key"?,"meta"?,
 *    "body"|"body_text"|"body_base64"?,"error"?:{"kind","message"}}
 *
 * Header names are lowercased, repeated headers joined with ", ", values
 * of secret-bearing headers and query parameters replaced by the mask, and
 * every value the run holds as a secret masked wherever it appears, body
 * included (a server that echoes a key does not put it on stdout).  A
 * JSON body is kept with its insignificant whitespace removed and every
 * string and number exactly as sent; any other body is body_text when it
 * is UTF-8, body_base64 otherwise.
 */
#ifndef APIPE_ENVELOPE_H
#define APIPE_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "json.h"

struct envelope_opts {
	const char *meta;		/* a minified JSON object to carry, or NULL */
	size_t meta_len;
	uint64_t page;			/* 1-based page number, 0: none */
	const char *page_key;		/* NULL: none */
	const char *redact_param;	/* one more query parameter to mask */
	const char *redact_header;	/* one more header to mask */
	const struct secrets *secrets;	/* values to scrub from url, headers, error */
	int body_parsed;		/* d already holds the body, parsed (the crawl's page) */
};

/*
 * Append r's envelope (no newline) to out, using d as scratch for the
 * body (or, with o->body_parsed, as the body's parse: not parsed again).
 * Returns 0, or -1 when out's cap is exceeded (out then holds part
 * of a line: the caller drops it).
 */
/*
 * A body that is not valid UTF-8, the values s holds masked first, where
 * they can still be seen (base64 would hide them), then written as
 * jw_body() writes it with d as scratch (d NULL: as jw_bytes(), never as
 * JSON); the masked copy is wiped.
 */
struct jsonw;
void envelope_bytes(struct jsonw *w, const char *bytes, size_t n, const struct secrets *s,
		    struct json_doc *d);
int envelope_build(struct strbuf *out, const struct http_req *r,
		   const struct envelope_opts *o, struct json_doc *d);

/*
 * The body of r alone, as one JSON Lines line's text (no newline), into
 * out: JSON minified, else UTF-8 text as one JSON string, secrets
 * scrubbed; d is scratch.  Nothing for an empty body.  0; 1 when the body
 * is neither JSON nor UTF-8 text (out is empty); -1 when out's cap is
 * exceeded.
 */
struct secrets;
int envelope_body_only(struct strbuf *out, const struct http_req *r, struct json_doc *d,
		       const struct secrets *secrets);

#endif
