#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "redact.h"
#include "base64.h"
#include "envelope.h"
#include "utf8.h"

/* A header value as a JSON string; bytes that are not UTF-8 are Latin-1. */
static int quote_value(struct strbuf *out, const char *v, size_t n)
{
	struct strbuf tmp = STRBUF_INIT;
	size_t i;
	int r;

	if (utf8_valid(v, n))
		return json_quote(out, v, n);
	for (i = 0; i < n; i++) {
		char u[4];

		strbuf_add(&tmp, u, utf8_encode((unsigned char)v[i], u));
	}
	r = json_quote(out, tmp.buf ? tmp.buf : "", tmp.len);
	strbuf_release(&tmp);
	return r;
}

static void add_headers(struct strbuf *out, const struct http_req *r,
			const struct envelope_opts *o)
{
	const char *p = r->resp_headers.buf, *end = p + r->resp_headers.len;
	struct strbuf val = STRBUF_INIT;
	int first = 1;

	strbuf_addstr(out, "\"headers\":{");
	while (p && p < end) {
		const char *v = p + strlen(p) + 1, *q, *done = r->resp_headers.buf;
		size_t nl = strlen(p);
		int seen = 0;

		/* Skip a name already written (its values were joined then). */
		while (done < p) {
			const char *dv = done + strlen(done) + 1;

			if (!strcmp(done, p)) {
				seen = 1;
				break;
			}
			done = dv + strlen(dv) + 1;
		}
		if (!seen) {
			strbuf_reset(&val);
			for (q = p; q < end;) {
				const char *qv = q + strlen(q) + 1;

				if (!strcmp(q, p)) {
					if (val.len)
						strbuf_addstr(&val, ", ");
					strbuf_addstr(&val, qv);
				}
				q = qv + strlen(qv) + 1;
			}
			if (redact_header_name(p, nl) ||
			    (o->redact_header && !strcasecmp(o->redact_header, p))) {
				strbuf_reset(&val);
				strbuf_addstr(&val, SECRET_MASK);
			}
			if (o->secrets)
				secrets_scrub(o->secrets, &val);
			if (!first)
				strbuf_addch(out, ',');
			first = 0;
			json_quote(out, p, nl);
			strbuf_addch(out, ':');
			quote_value(out, val.buf ? val.buf : "", val.len);
		}
		p = v + strlen(v) + 1;
	}
	strbuf_addstr(out, "},");
	strbuf_release(&val);
}

int envelope_build(struct strbuf *out, const struct http_req *r,
		   const struct envelope_opts *o, struct json_doc *d, struct json_error *je)
{
	struct strbuf tmp = STRBUF_INIT;
	struct instant t = r->fetched_at;
	char ts[64];
	const char *body = r->resp_body.buf ? r->resp_body.buf : "";
	size_t blen = r->resp_body.len;

	strbuf_addstr(out, "{\"url\":");
	redact_url(&tmp, r->url, o->redact_param);
	if (o->secrets)
		secrets_scrub(o->secrets, &tmp);
	json_quote(out, tmp.buf ? tmp.buf : "", tmp.len);
	if (r->final_url) {
		strbuf_reset(&tmp);
		redact_url(&tmp, r->final_url, o->redact_param);
		if (o->secrets)
			secrets_scrub(o->secrets, &tmp);
		strbuf_addstr(out, ",\"final_url\":");
		json_quote(out, tmp.buf ? tmp.buf : "", tmp.len);
	}
	strbuf_addstr(out, ",\"method\":");
	{
		const char *m = r->method ? r->method : r->has_body ? "POST" : "GET";

		json_quote(out, m, strlen(m));
	}
	strbuf_addf(out, ",\"status\":%ld,", r->status);
	add_headers(out, r, o);
	instant_format_ms(&t, ts, sizeof(ts));
	strbuf_addf(out, "\"fetched_at\":\"%s\",\"elapsed_ms\":%.0f,\"attempts\":%u", ts,
		    r->elapsed_ms, r->attempts);
	if (o->page)
		strbuf_addf(out, ",\"page\":%llu", (unsigned long long)o->page);
	if (o->page_key) {
		strbuf_addstr(out, ",\"page_key\":");
		json_quote(out, o->page_key, strlen(o->page_key));
	}
	if (o->meta) {
		strbuf_addstr(out, ",\"meta\":");
		strbuf_add(out, o->meta, o->meta_len);
	}
	if (blen) {
		if (json_parse(d, body, blen, je) == 0) {
			strbuf_addstr(out, ",\"body\":");
			json_minify(d, 0, out);
		} else if (utf8_valid(body, blen)) {
			strbuf_addstr(out, ",\"body_text\":");
			json_quote(out, body, blen);
		} else {
			strbuf_addstr(out, ",\"body_base64\":\"");
			base64_encode(out, body, blen);
			strbuf_addch(out, '"');
		}
	}
	if (r->error_kind[0]) {
		strbuf_reset(&tmp);
		strbuf_addstr(&tmp, r->error);
		if (o->secrets)
			secrets_scrub(o->secrets, &tmp);
		strbuf_addstr(out, ",\"error\":{\"kind\":");
		json_quote(out, r->error_kind, strlen(r->error_kind));
		strbuf_addstr(out, ",\"message\":");
		json_quote(out, tmp.buf ? tmp.buf : "", tmp.len);
		strbuf_addch(out, '}');
	}
	strbuf_release(&tmp);
	strbuf_addch(out, '}');
	/* a value the run holds as a secret never leaves, wherever a server echoed it */
	if (o->secrets)
		secrets_scrub_json(o->secrets, out);
	return strbuf_failed(out) ? -1 : 0;
}
