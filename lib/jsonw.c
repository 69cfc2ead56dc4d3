#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base64.h"
#include "json.h"
#include "jsonl.h"
#include "jsonw.h"
#include "utf8.h"

const struct jw_body_names jw_body_names = { "body", "body_text", "body_base64" };

void jw_init(struct jsonw *w, struct strbuf *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
	if (strbuf_failed(out))
		w->why = "out of room";
}

void jw_fail(struct jsonw *w, const char *why)
{
	if (!w->why)
		w->why = why;
}

static int ok(struct jsonw *w)
{
	if (!w->why && strbuf_failed(w->out))
		w->why = "out of room";
	return !w->why;
}

static int in_object(const struct jsonw *w)
{
	return w->depth && (w->is_object >> w->depth & 1);
}

/* Before a value: the comma it needs, or a failure where no value may go. */
static int value_start(struct jsonw *w)
{
	if (!ok(w))
		return 0;
	if (in_object(w)) {
		if (!w->after_key) {
			jw_fail(w, "a value in an object without a key");
			return 0;
		}
		w->after_key = 0;
		return 1;
	}
	if (w->depth) {
		if (w->member >> w->depth & 1)
			strbuf_addch(w->out, ',');
		w->member |= (uint64_t)1 << w->depth;
	} else if (w->member & 1) {
		jw_fail(w, "a second top-level value");
		return 0;
	} else {
		w->member |= 1;
	}
	return ok(w);
}

static void open_container(struct jsonw *w, char c, int object)
{
	if (!value_start(w))
		return;
	if (w->depth + 1 >= JSONW_MAX_DEPTH) {
		jw_fail(w, "nested too deep");
		return;
	}
	w->depth++;
	w->member &= ~((uint64_t)1 << w->depth);
	if (object)
		w->is_object |= (uint64_t)1 << w->depth;
	else
		w->is_object &= ~((uint64_t)1 << w->depth);
	strbuf_addch(w->out, c);
}

static void close_container(struct jsonw *w, char c, int object)
{
	if (!ok(w))
		return;
	if (!w->depth || in_object(w) != object || w->after_key) {
		jw_fail(w, "a container closed out of turn");
		return;
	}
	w->depth--;
	strbuf_addch(w->out, c);
}

void jw_object(struct jsonw *w)
{
	open_container(w, '{', 1);
}

void jw_end_object(struct jsonw *w)
{
	close_container(w, '}', 1);
}

void jw_array(struct jsonw *w)
{
	open_container(w, '[', 0);
}

void jw_end_array(struct jsonw *w)
{
	close_container(w, ']', 0);
}

void jw_key(struct jsonw *w, const char *key)
{
	jw_keyn(w, key, strlen(key));
}

/* Before a key: the comma it needs, or a failure where no key may go. */
static int key_start(struct jsonw *w)
{
	if (!ok(w))
		return 0;
	if (!in_object(w) || w->after_key) {
		jw_fail(w, "a key outside an object");
		return 0;
	}
	if (w->member >> w->depth & 1)
		strbuf_addch(w->out, ',');
	w->member |= (uint64_t)1 << w->depth;
	w->after_key = 1;
	return 1;
}

/* A key already known to be UTF-8. */
static void put_key(struct jsonw *w, const char *key, size_t n)
{
	if (!key_start(w))
		return;
	json_quote(w->out, key, n);
	strbuf_addch(w->out, ':');
}

/* A string value already known to be UTF-8. */
static void put_str(struct jsonw *w, const char *s, size_t n)
{
	if (value_start(w))
		json_quote(w->out, s, n);
}

void jw_keyn(struct jsonw *w, const char *key, size_t n)
{
	if (!utf8_valid(key, n))
		jw_fail(w, "a key that is not UTF-8");
	put_key(w, key, n);
}

void jw_key_json(struct jsonw *w, const char *escaped, size_t n)
{
	if (!key_start(w))
		return;
	strbuf_addch(w->out, '"');
	strbuf_add(w->out, escaped, n);
	strbuf_add(w->out, "\":", 2);
}

void jw_strn(struct jsonw *w, const char *s, size_t n)
{
	if (!utf8_valid(s, n))
		jw_fail(w, "a string that is not UTF-8");
	put_str(w, s, n);
}

void jw_str(struct jsonw *w, const char *s)
{
	if (s)
		jw_strn(w, s, strlen(s));
	else
		jw_null(w);
}

/*
 * s[0..*n) as UTF-8: s itself when it is, else its bytes read as Latin-1
 * into buf (*n updated).  NULL, with w failed, when out of memory.
 */
static const char *as_utf8(struct jsonw *w, struct strbuf *buf, const char *s, size_t *n)
{
	size_t i;

	if (utf8_valid(s, *n))
		return s;
	for (i = 0; i < *n; i++) {
		char u[4];

		strbuf_add(buf, u, utf8_encode((unsigned char)s[i], u));
	}
	if (strbuf_failed(buf)) {
		jw_fail(w, "out of memory");
		return NULL;
	}
	*n = buf->len;
	return buf->buf;
}

void jw_text(struct jsonw *w, const char *s, size_t n)
{
	struct strbuf buf = STRBUF_INIT;
	const char *t = as_utf8(w, &buf, s, &n);

	if (t)
		put_str(w, t, n);
	strbuf_release(&buf);
}

void jw_key_text(struct jsonw *w, const char *s, size_t n)
{
	struct strbuf buf = STRBUF_INIT;
	const char *t = as_utf8(w, &buf, s, &n);

	if (t)
		put_key(w, t, n);
	strbuf_release(&buf);
}

void jw_u64(struct jsonw *w, uint64_t v)
{
	if (value_start(w))
		strbuf_addf(w->out, "%llu", (unsigned long long)v);
}

void jw_i64(struct jsonw *w, int64_t v)
{
	if (value_start(w))
		strbuf_addf(w->out, "%lld", (long long)v);
}

void jw_fixed(struct jsonw *w, double v, int prec)
{
	char num[400];	/* DBL_MAX in full, and the digits after the point */
	const char *p = num;

	if (!isfinite(v)) {
		jw_null(w);
		return;
	}
	snprintf(num, sizeof(num), "%.*f", prec < 0 ? 0 : prec > 20 ? 20 : prec, v);
	/* -0 and -0.00 are written without the sign: a figure, not a direction */
	if (num[0] == '-' && !num[strspn(num + 1, "0.") + 1])
		p++;
	if (value_start(w))
		strbuf_addstr(w->out, p);
}

void jw_bool(struct jsonw *w, int v)
{
	if (value_start(w))
		strbuf_addstr(w->out, v ? "true" : "false");
}

void jw_null(struct jsonw *w)
{
	if (value_start(w))
		strbuf_add(w->out, "null", 4);
}

void jw_raw(struct jsonw *w, const char *json, size_t n)
{
	if (!n) {
		jw_fail(w, "an empty JSON value");
		return;
	}
	if (value_start(w))
		strbuf_add(w->out, json, n);
}

void jw_value(struct jsonw *w, const struct json_doc *d, uint32_t t)
{
	if (value_start(w))
		json_minify(d, t, w->out);
}

void jw_member_str(struct jsonw *w, const char *key, const char *s)
{
	if (!s)
		return;
	jw_key(w, key);
	jw_str(w, s);
}

void jw_member_u64(struct jsonw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	jw_u64(w, v);
}

void jw_member_raw(struct jsonw *w, const char *key, const char *json, size_t n)
{
	jw_key(w, key);
	jw_raw(w, json, n);
}

void jw_counts(struct jsonw *w, const uint64_t *counts, size_t n)
{
	size_t i;

	jw_object(w);
	for (i = 0; i < n; i++) {
		char k[24];

		if (!counts[i])
			continue;
		snprintf(k, sizeof(k), "%zu", i);
		jw_member_u64(w, k, counts[i]);
	}
	jw_end_object(w);
}

void jw_bytes(struct jsonw *w, const struct jw_body_names *names, const char *bytes, size_t n)
{
	if (!n || !ok(w))
		return;
	if (utf8_valid(bytes, n)) {
		jw_key(w, names->text);
		put_str(w, bytes, n);
	} else {
		jw_key(w, names->base64);
		if (value_start(w)) {
			strbuf_addch(w->out, '"');
			base64_encode(w->out, bytes, n);
			strbuf_addch(w->out, '"');
		}
	}
}

void jw_body(struct jsonw *w, const struct jw_body_names *names, const char *bytes, size_t n,
	     struct json_doc *d)
{
	if (!n || !ok(w))
		return;
	if (json_parse(d, bytes, n, NULL) == 0) {
		jw_key(w, names->json);
		jw_value(w, d, 0);
	} else {
		jw_bytes(w, names, bytes, n);
	}
}

int jw_finish(struct jsonw *w)
{
	if (ok(w) && (w->depth || w->after_key || !(w->member & 1)))
		jw_fail(w, "an unfinished value");
	return ok(w) ? 0 : -1;
}

int jw_finish_line(struct jsonw *w)
{
	if (jw_finish(w) < 0)
		return -1;
	if (strbuf_addch(w->out, '\n') < 0) {
		jw_fail(w, "out of room");
		return -1;
	}
	return 0;
}

int jw_state_line(struct strbuf *out, const char *name, size_t nl, const char *value,
		  size_t vn, struct aperr *e)
{
	struct jsonw w;

	strbuf_addstr(out, APIPE_STATE_PREFIX);
	jw_init(&w, out);
	jw_object(&w);
	jw_key(&w, "apipe_state");
	jw_text(&w, name, nl);
	jw_member_raw(&w, "value", value, vn);
	jw_end_object(&w);
	if (jw_finish(&w) < 0)
		return aperr_set(e, EX_OSERR, "the state line: %s", jw_error(&w));
	return 0;
}
