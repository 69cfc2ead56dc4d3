/*
 * reqline: a request line (a URL, or {"url","method","headers","query",
 * "body"}) made a request with the run's options (lib/httpcli.h).
 */
#include <stdlib.h>
#include <string.h>

#define CURL_STRICTER
#include <curl/curl.h>

#include "httpcli.h"
#include "json.h"
#include "jsonw.h"
#include "url.h"

/* A request line's "headers" object (val) into r's headers. */
static int line_headers(const struct json_doc *d, uint32_t val, struct http_req *r,
			uint64_t lineno, struct aperr *e)
{
	uint32_t hk;

	if (json_type(d, val) != JSON_OBJECT)
		return aperr_set(e, EX_DATAERR, "line %llu: /headers: must be an object",
				 (unsigned long long)lineno);
	for (hk = json_first(d, val); hk; hk = json_next(d, val, hk)) {
		struct strbuf hl = STRBUF_INIT;
		int bad;

		json_str_decode(d, hk, &hl);
		strbuf_addstr(&hl, ": ");
		bad = json_type(d, hk + 1) != JSON_STRING || json_str_decode(d, hk + 1, &hl) < 0 ||
		      strpbrk(hl.buf, "\r\n");
		if (!bad)
			r->headers = curl_slist_append(r->headers, hl.buf);
		strbuf_release(&hl);
		if (bad)
			return aperr_set(e, EX_DATAERR,
					 "line %llu: /headers: values must be one-line strings",
					 (unsigned long long)lineno);
	}
	return 0;
}

/* A request line's "query" object (val): its parameters added to r's URL (null: none). */
static int line_query(const struct json_doc *d, uint32_t val, struct http_req *r,
		      uint64_t lineno, struct aperr *e)
{
	struct strbuf url = STRBUF_INIT;
	uint32_t q;

	if (json_type(d, val) != JSON_OBJECT)
		return aperr_set(e, EX_DATAERR, "line %llu: /query: must be an object",
				 (unsigned long long)lineno);
	strbuf_addstr(&url, r->url);
	for (q = json_first(d, val); q; q = json_next(d, val, q)) {
		struct strbuf name = STRBUF_INIT, qv = STRBUF_INIT;
		uint32_t x = q + 1, item;
		int many = json_type(d, x) == JSON_ARRAY;

		json_str_decode(d, q, &name);
		for (item = many ? json_first(d, x) : x; item; item = many ? json_next(d, x, item) : 0) {
			enum json_type it = json_type(d, item);

			strbuf_reset(&qv);
			if (it == JSON_STRING)
				json_str_decode(d, item, &qv);
			else if (it == JSON_NUMBER || it == JSON_TRUE || it == JSON_FALSE)
				strbuf_add(&qv, json_src(d, item), json_srclen(d, item));
			else
				continue;	/* null: no parameter */
			url_add_query(&url, name.buf, name.len, qv.buf,
				      qv.len);
		}
		strbuf_release(&name);
		strbuf_release(&qv);
	}
	if (strbuf_failed(&url)) {
		strbuf_release(&url);
		return aperr_set(e, EX_OSERR, "out of memory");
	}
	free(r->url);
	r->url = strbuf_detach(&url, NULL);
	return 0;
}

int http_cli_request_line(const struct http_cli *h, struct json_doc *d, struct json_error *je,
			  const char *line, size_t n, uint64_t lineno, struct http_req *r,
			  struct strbuf *meta, struct aperr *e)
{
	struct strbuf v = STRBUF_INIT;
	struct jsonw mw;
	uint32_t k;
	int rc = -1, r2, first_meta = 1;

	while (n && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	if (*line != '{') {
		while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
			n--;
		if (memchr(line, ' ', n) || memchr(line, '\0', n))
			return aperr_set(e, EX_DATAERR, "line %llu: not a URL or a JSON request",
					 (unsigned long long)lineno);
		strbuf_add(&v, line, n);
		rc = http_cli_request(h, r, v.buf, e);
		strbuf_release(&v);
		return rc;
	}
	r2 = json_parse(d, line, n, je);
	if (r2 == -2)
		return aperr_set(e, EX_OSERR, "line %llu: out of memory", (unsigned long long)lineno);
	if (r2 < 0) {
		json_error_to_aperr(je, e);
		return aperr_prefix(e, "line %llu", (unsigned long long)lineno);
	}
	if (json_type(d, 0) != JSON_OBJECT)
		return aperr_set(e, EX_DATAERR, "line %llu: a request is a JSON object",
				 (unsigned long long)lineno);
	k = json_get(d, 0, "url", 3);
	if (!k || json_type(d, k) != JSON_STRING || json_str_decode(d, k, &v) < 0 || !v.len) {
		aperr_set(e, EX_DATAERR, "line %llu: /url: %s", (unsigned long long)lineno,
			  k ? "must be a non-empty string" : "missing");
		goto out;
	}
	if (http_cli_request(h, r, v.buf, e) < 0)
		goto out;
	for (k = json_first(d, 0); k; k = json_next(d, 0, k)) {
		uint32_t val = k + 1;
		const char *key = json_src(d, k) + 1;
		size_t kl = json_srclen(d, k) - 2;
		enum json_type t = json_type(d, val);

		strbuf_reset(&v);
		if (json_str_eq(d, k, "url", 3)) {
			continue;
		} else if (json_str_eq(d, k, "method", 6)) {
			if (t != JSON_STRING || json_str_decode(d, val, &v) < 0 || !v.len ||
			    strpbrk(v.buf, " \r\n")) {
				aperr_set(e, EX_DATAERR, "line %llu: /method: must be a method name",
					  (unsigned long long)lineno);
				goto out;
			}
			free(r->method);
			r->method = strbuf_detach(&v, NULL);
		} else if (json_str_eq(d, k, "headers", 7)) {
			if (line_headers(d, val, r, lineno, e) < 0)
				goto out;
		} else if (json_str_eq(d, k, "query", 5)) {
			if (line_query(d, val, r, lineno, e) < 0)
				goto out;
		} else if (json_str_eq(d, k, "body", 4)) {
			strbuf_reset(&r->body);
			if (t == JSON_STRING) {
				json_str_decode(d, val, &r->body);
			} else {
				json_minify(d, val, &r->body);
				r->headers = curl_slist_append(r->headers,
								   "Content-Type: application/json");
			}
			r->has_body = 1;
		} else {
			/* anything else is carried into the envelope under meta */
			if (first_meta) {
				jw_init(&mw, meta);
				jw_object(&mw);
				first_meta = 0;
			}
			jw_key_json(&mw, key, kl);
			jw_value(&mw, d, val);
		}
	}
	if (!first_meta) {
		jw_end_object(&mw);
		if (jw_finish(&mw) < 0) {
			aperr_set(e, EX_DATAERR, "line %llu: its other members: %s",
				  (unsigned long long)lineno, jw_error(&mw));
			goto out;
		}
	}
	rc = 0;
out:
	strbuf_release(&v);
	return rc;
}

