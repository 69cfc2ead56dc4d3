#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "redact.h"
#include "envelope.h"
#include "jsonw.h"
#include "secret.h"
#include "utf8.h"

static void add_headers(struct jsonw *w, const struct http_req *r, const struct envelope_opts *o)
{
	const char *p = r->resp_headers.buf, *end = p + r->resp_headers.len;
	struct strbuf val = STRBUF_INIT;

	jw_key(w, "headers");
	jw_object(w);
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
			if (strbuf_failed(&val))
				jw_fail(w, "out of memory");
			jw_key_text(w, p, nl);
			jw_text(w, val.buf ? val.buf : "", val.len);
		}
		p = v + strlen(v) + 1;
	}
	jw_end_object(w);
	strbuf_release(&val);
}

/* A member whose value is text from outside, in text (which may have failed). */
static void add_text(struct jsonw *w, const char *key, const struct strbuf *text)
{
	if (strbuf_failed(text))
		jw_fail(w, "out of memory");
	jw_key(w, key);
	jw_text(w, text->buf ? text->buf : "", text->len);
}

/* url, redacted and scrubbed, as member key (nothing when url is NULL). */
static void add_url(struct jsonw *w, const char *key, const char *url,
		    const struct envelope_opts *o, struct strbuf *tmp)
{
	if (!url)
		return;
	strbuf_reset(tmp);
	redact_url(tmp, url, o->redact_param);
	if (o->secrets)
		secrets_scrub(o->secrets, tmp);
	add_text(w, key, tmp);
}

int envelope_build(struct strbuf *out, const struct http_req *r,
		   const struct envelope_opts *o, struct json_doc *d)
{
	struct strbuf tmp = STRBUF_INIT;
	struct instant t = r->fetched_at;
	struct jsonw w;
	char ts[64];

	jw_init(&w, out);
	jw_object(&w);
	add_url(&w, "url", r->url, o, &tmp);
	add_url(&w, "final_url", r->final_url, o, &tmp);
	jw_member_str(&w, "method", r->method ? r->method : r->has_body ? "POST" : "GET");
	jw_key(&w, "status");
	jw_i64(&w, r->status);
	add_headers(&w, r, o);
	instant_format_ms(&t, ts, sizeof(ts));
	jw_member_str(&w, "fetched_at", ts);
	jw_key(&w, "elapsed_ms");
	jw_fixed(&w, r->elapsed_ms, 0);
	jw_member_u64(&w, "attempts", r->attempts);
	if (o->page)
		jw_member_u64(&w, "page", o->page);
	jw_member_str(&w, "page_key", o->page_key);
	if (o->meta)
		jw_member_raw(&w, "meta", o->meta, o->meta_len);
	jw_body(&w, &jw_body_names, r->resp_body.buf, r->resp_body.len, d);
	if (r->error_kind[0]) {
		strbuf_reset(&tmp);
		strbuf_addstr(&tmp, r->error);
		if (o->secrets)
			secrets_scrub(o->secrets, &tmp);
		jw_key(&w, "error");
		jw_object(&w);
		jw_member_str(&w, "kind", r->error_kind);
		add_text(&w, "message", &tmp);
		jw_end_object(&w);
	}
	jw_end_object(&w);
	strbuf_release(&tmp);

	/* a value the run holds as a secret never leaves, wherever a server echoed it */
	if (o->secrets)
		secrets_scrub_json(o->secrets, out);
	return jw_finish(&w) < 0 || strbuf_failed(out) ? -1 : 0;
}

int envelope_body_only(struct strbuf *out, const struct http_req *r, struct json_doc *d,
		       const struct secrets *secrets)
{
	if (!r->resp_body.len)
		return 0;
	if (json_parse(d, r->resp_body.buf, r->resp_body.len, NULL) == 0) {
		json_minify(d, 0, out);
		secrets_scrub_json(secrets, out);
	} else if (utf8_valid(r->resp_body.buf, r->resp_body.len)) {
		/* text that is not JSON: one JSON string, still one line */
		struct strbuf t = STRBUF_INIT;

		strbuf_add(&t, r->resp_body.buf, r->resp_body.len);
		secrets_scrub(secrets, &t);
		json_quote(out, t.buf ? t.buf : "", t.len);
		strbuf_release(&t);
	} else {
		return 1;
	}
	return strbuf_failed(out) ? -1 : 0;
}
