#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "redact.h"
#include "envelope.h"
#include "jsonw.h"
#include "secret.h"
#include "utf8.h"

/* One response header as http.c keeps it: "name\0value\0", the name lowercased. */
struct hdr {
	const char *name, *val;
	size_t nlen, vlen;
	size_t at;		/* its place in the response */
	size_t off;		/* its joined values in add_headers' vals */
};

/* By name, then by place: a name's values stay in the order they came. */
static int cmp_hdr(const void *a, const void *b)
{
	const struct hdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->at < y->at ? -1 : x->at > y->at;
}

static int cmp_at(const void *a, const void *b)
{
	const struct hdr *x = a, *y = b;

	return x->at < y->at ? -1 : x->at > y->at;
}

/*
 * "headers": one member a name, in the order names first came, its values
 * joined by ", ".  Sorting keeps this n log n: a server sending thousands
 * of headers costs no more than their bytes.
 */
static void add_headers(struct jsonw *w, const struct http_req *r, const struct envelope_opts *o)
{
	const char *p = r->resp_headers.buf, *end = p + r->resp_headers.len;
	struct hdr small[2][32], *h = small[0], *g = small[1];
	struct strbuf val = STRBUF_INIT, vals = STRBUF_INIT;
	size_t n = 0, ng = 0, i, j;

	jw_key(w, "headers");
	jw_object(w);
	for (const char *q = p; q && q < end; q += strlen(q) + 1)
		n++;
	n /= 2;
	if (n > sizeof(small[0]) / sizeof(small[0][0]) &&
	    (!(h = malloc(n * sizeof(*h))) || !(g = malloc(n * sizeof(*g))))) {
		jw_fail(w, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		h[i].name = p;
		h[i].nlen = strlen(p);
		h[i].val = p + h[i].nlen + 1;
		h[i].vlen = strlen(h[i].val);
		h[i].at = i;
		p = h[i].val + h[i].vlen + 1;
	}
	qsort(h, n, sizeof(*h), cmp_hdr);
	/* Each name once, at its first place, with all its values (offsets into vals). */
	for (i = 0; i < n; i = j) {
		strbuf_reset(&val);
		for (j = i; j < n && !strcmp(h[j].name, h[i].name); j++) {
			if (j > i)
				strbuf_addstr(&val, ", ");
			strbuf_add(&val, h[j].val, h[j].vlen);
		}
		if (redact_header_name(h[i].name, h[i].nlen) ||
		    (o->redact_header && !strcasecmp(o->redact_header, h[i].name))) {
			strbuf_reset(&val);
			strbuf_addstr(&val, SECRET_MASK);
		}
		if (o->secrets)
			secrets_scrub(o->secrets, &val);
		g[ng] = h[i];
		g[ng].off = vals.len;
		g[ng].vlen = val.len;
		strbuf_add(&vals, val.buf, val.len);
		ng++;
	}
	if (strbuf_failed(&val) || strbuf_failed(&vals)) {
		jw_fail(w, "out of memory");
		goto out;
	}
	qsort(g, ng, sizeof(*g), cmp_at);
	for (i = 0; i < ng; i++) {
		strbuf_reset(&val);
		strbuf_add(&val, g[i].name, g[i].nlen);	/* a name from the server */
		if (o->secrets)
			secrets_scrub(o->secrets, &val);
		jw_key_text(w, val.buf, val.len);
		jw_text(w, vals.buf + g[i].off, g[i].vlen);
	}
out:
	if (h != small[0])
		free(h);
	if (g != small[1])
		free(g);
	jw_end_object(w);
	strbuf_release(&val);
	strbuf_release(&vals);
}

/* A member whose value is text from outside, in text (which may have failed). */
static void add_text(struct jsonw *w, const char *key, const struct strbuf *text)
{
	if (strbuf_failed(text))
		jw_fail(w, "out of memory");
	jw_key(w, key);
	jw_text(w, text->buf, text->len);
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

void envelope_bytes(struct jsonw *w, const char *bytes, size_t n, const struct secrets *s,
		    struct json_doc *d)
{
	struct strbuf raw = STRBUF_INIT;

	strbuf_add(&raw, bytes, n);
	secrets_scrub(s, &raw);
	if (d)
		jw_body(w, &jw_body_names, raw.buf, raw.len, d);
	else
		jw_bytes(w, &jw_body_names, raw.buf, raw.len);
	explicit_bzero(raw.buf, raw.len);
	strbuf_release(&raw);
}

int envelope_build(struct strbuf *out, const struct http_req *r,
		   const struct envelope_opts *o, struct json_doc *d)
{
	struct strbuf tmp = STRBUF_INIT;
	struct instant t = r->fetched_at;
	struct jsonw w;
	char ts[64];
	size_t from;

	jw_init(&w, out);
	jw_object(&w);
	add_url(&w, "url", r->url, o, &tmp);
	add_url(&w, "final_url", r->final_url, o, &tmp);
	jw_member_str(&w, "method", r->method ? r->method : r->has_body ? "POST" : "GET");
	jw_key(&w, "status");
	jw_i64(&w, r->status);
	if (r->http_version[0])
		jw_member_str(&w, "http_version", r->http_version);
	add_headers(&w, r, o);
	instant_format_ms(&t, ts, sizeof(ts));
	jw_member_str(&w, "fetched_at", ts);
	jw_key(&w, "elapsed_ms");
	jw_fixed(&w, r->elapsed_ms, 0);
	jw_member_u64(&w, "attempts", r->attempts);
	if (o->page)
		jw_member_u64(&w, "page", o->page);
	jw_member_str(&w, "page_key", o->page_key);
	/*
	 * What the run wrote above is scrubbed where it was written (the URLs,
	 * the header values and names); from here on come the request line's
	 * meta and the body, masked as JSON text once they are written.
	 */
	from = out->len;
	if (o->meta)
		jw_member_raw(&w, "meta", o->meta, o->meta_len);
	if (o->secrets && r->resp_body.len && !utf8_valid(r->resp_body.buf, r->resp_body.len)) {
		envelope_bytes(&w, r->resp_body.buf, r->resp_body.len, o->secrets, d);
	} else if (o->body_parsed && r->resp_body.len) {
		jw_key(&w, jw_body_names.json);	/* the page as the crawl read it */
		jw_value(&w, d, 0);
	} else {
		jw_body(&w, &jw_body_names, r->resp_body.buf, r->resp_body.len, d);
	}
	/* a value the run holds as a secret never leaves, wherever a server echoed it */
	if (o->secrets)
		secrets_scrub_json_from(o->secrets, out, from);
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
		json_quote(out, t.buf, t.len);
		strbuf_release(&t);
	} else {
		return 1;
	}
	return strbuf_failed(out) ? -1 : 0;
}
