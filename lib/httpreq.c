/*
 * httpreq: the request object of lib/http.h (struct http_req): made,
 * reset for another attempt, released, and its response headers read.
 * The client (lib/http) fills it; auth's token requests use it too.
 */
#include <stdlib.h>
#include <string.h>

/* libcurl's handles as the struct types http.h names (struct Curl_easy, Curl_multi) */
#define CURL_STRICTER
#include <curl/curl.h>

#include "http.h"

void http_req_init(struct http_req *r)
{
	memset(r, 0, sizeof(*r));
	strbuf_init(&r->body, STRBUF_DEFAULT_CAP);
	strbuf_init(&r->resp_headers, (size_t)1 << 20);
	strbuf_init(&r->resp_body, STRBUF_DEFAULT_CAP);
}

void http_req_reset_result(struct http_req *r)
{
	r->outcome = HTTP_OK;
	r->status = 0;
	r->http_version[0] = 0;
	strbuf_reset(&r->resp_headers);
	strbuf_reset(&r->resp_body);
	r->attempts = r->retries_used = 0;
	r->elapsed_ms = r->waited_ms = 0;
	r->exit_code = 0;
	r->error_kind[0] = r->error[0] = '\0';
	r->reauthed = r->too_large = 0;
	r->first_start = r->not_before = 0;
	free(r->final_url);
	r->final_url = NULL;
	r->redirects = 0;
	r->redir_get = r->in_hop = 0;
}

void http_req_release(struct http_req *r)
{
	free(r->method);
	free(r->url);
	free(r->cred_origin);
	free(r->final_url);
	curl_slist_free_all(r->headers);
	curl_slist_free_all(r->sent_headers);
	free(r->sent_url);
	strbuf_release(&r->body);
	strbuf_release(&r->resp_headers);
	strbuf_release(&r->resp_body);
	if (r->easy)
		curl_easy_cleanup(r->easy);
	memset(r, 0, sizeof(*r));
}

const char *http_req_header(const struct http_req *r, const char *name, size_t *n)
{
	const char *p = r->resp_headers.buf, *end = p + r->resp_headers.len;

	while (p && p < end) {
		const char *v = p + strlen(p) + 1;

		if (!strcmp(p, name)) {
			*n = strlen(v);
			return v;
		}
		p = v + strlen(v) + 1;
	}
	return NULL;
}

int http_req_header_all(const struct http_req *r, const char *name, struct strbuf *out)
{
	const char *p = r->resp_headers.buf, *end = p + r->resp_headers.len;
	int found = 0;

	strbuf_reset(out);
	while (p && p < end) {
		const char *v = p + strlen(p) + 1;

		if (!strcmp(p, name)) {
			if (found++)
				strbuf_add(out, ", ", 2);
			strbuf_addstr(out, v);
		}
		p = v + strlen(v) + 1;
	}
	return found > 0;
}
