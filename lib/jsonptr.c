/* RFC 6901 JSON Pointer: the project's one implementation (see json.h). */
#include <stdlib.h>
#include <string.h>

#include "json.h"

void json_ptr_release(struct json_ptr *p)
{
	size_t i;

	for (i = 0; i < p->nseg; i++)
		free(p->seg[i].s);
	free(p->seg);
	free(p->text);
	memset(p, 0, sizeof(*p));
}

static long parse_index(const char *s, size_t n)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 18 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int json_ptr_parse(struct json_ptr *p, const char *text, struct aperr *e)
{
	const char *s = text;
	size_t n = 0, i;

	memset(p, 0, sizeof(*p));
	if (*s && *s != '/')
		return aperr_set(e, EX_USAGE,
				 "bad JSON Pointer '%s': must be empty or start with '/'%s", text,
				 text[0] == '.' ? " (a jq path? a JSON Pointer writes .a.b as /a/b)" : "");
	for (i = 0; s[i]; i++)
		if (s[i] == '/')
			n++;
	p->text = strdup(text);
	p->seg = calloc(n ? n : 1, sizeof(*p->seg));
	if (!p->text || !p->seg) {
		json_ptr_release(p);
		return aperr_set(e, EX_OSERR, "out of memory");
	}
	while (*s == '/') {
		const char *t = ++s, *r;
		struct json_ptr_seg *g = &p->seg[p->nseg];
		char *o;

		while (*s && *s != '/')
			s++;
		g->s = malloc((size_t)(s - t) + 1);
		if (!g->s) {
			json_ptr_release(p);
			return aperr_set(e, EX_OSERR, "out of memory");
		}
		p->nseg++;
		for (o = g->s, r = t; r < s; r++) {
			if (*r != '~') {
				*o++ = *r;
			} else if (r + 1 < s && (r[1] == '0' || r[1] == '1')) {
				*o++ = r[1] == '0' ? '~' : '/';
				r++;
			} else {
				json_ptr_release(p);
				return aperr_set(e, EX_USAGE,
						 "bad JSON Pointer '%s': '~' must be followed by 0 or 1",
						 text);
			}
		}
		*o = '\0';
		g->n = (size_t)(o - g->s);
		g->idx = parse_index(g->s, g->n);
	}
	return 0;
}

uint32_t json_ptr_eval(const struct json_ptr *p, const struct json_doc *d, uint32_t t)
{
	size_t k;

	for (k = 0; k < p->nseg; k++) {
		const struct json_ptr_seg *g = &p->seg[k];

		if (d->tok[t].type == JSON_OBJECT) {
			t = json_get(d, t, g->s, g->n);
			if (!t)
				return JSON_ABSENT;
		} else if (d->tok[t].type == JSON_ARRAY) {
			uint32_t i;
			long n = g->idx;

			if (n < 0)
				return JSON_ABSENT;
			for (i = json_first(d, t); i && n > 0; i = json_next(d, t, i))
				n--;
			if (!i)
				return JSON_ABSENT;
			t = i;
		} else {
			return JSON_ABSENT;
		}
	}
	return t;
}

int json_ptr_append(struct strbuf *ptr, const char *tok, size_t n)
{
	size_t i;

	if (strbuf_addch(ptr, '/') < 0)
		return -1;
	for (i = 0; i < n; i++) {
		int r;

		if (tok[i] == '~')
			r = strbuf_add(ptr, "~0", 2);
		else if (tok[i] == '/')
			r = strbuf_add(ptr, "~1", 2);
		else
			r = strbuf_addch(ptr, tok[i]);
		if (r < 0)
			return -1;
	}
	return 0;
}

int json_ptr_append_index(struct strbuf *ptr, size_t i)
{
	return strbuf_addf(ptr, "/%zu", i);
}

/* The value for segments k.. of p when nothing of them exists: {"a":{"b":v}}. */
static void set_build(const struct json_ptr *p, size_t k, const char *v, size_t vn,
		      struct strbuf *out)
{
	size_t i;

	for (i = k; i < p->nseg; i++) {
		strbuf_addch(out, '{');
		json_quote(out, p->seg[i].s, p->seg[i].n);
		strbuf_addch(out, ':');
	}
	strbuf_add(out, v, vn);
	for (i = k; i < p->nseg; i++)
		strbuf_addch(out, '}');
}

/* Copy token t of d with segments k.. of p set to v. */
static int set_copy(const struct json_doc *d, uint32_t t, const struct json_ptr *p, size_t k,
		    const char *v, size_t vn, struct strbuf *out, struct aperr *e)
{
	const struct json_ptr_seg *g;
	uint32_t i;
	int found = 0, first = 1;
	long n;

	if (k == p->nseg) {
		strbuf_add(out, v, vn);
		return 0;
	}
	g = &p->seg[k];
	if (json_type(d, t) == JSON_OBJECT) {
		strbuf_addch(out, '{');
		for (i = json_first(d, t); i; i = json_next(d, t, i)) {
			if (!first)
				strbuf_addch(out, ',');
			first = 0;
			strbuf_add(out, json_src(d, i), json_srclen(d, i));
			strbuf_addch(out, ':');
			if (!found && json_str_eq(d, i, g->s, g->n)) {
				found = 1;
				if (set_copy(d, i + 1, p, k + 1, v, vn, out, e) < 0)
					return -1;
			} else {
				json_minify(d, i + 1, out);
			}
		}
		if (!found) {
			if (!first)
				strbuf_addch(out, ',');
			json_quote(out, g->s, g->n);
			strbuf_addch(out, ':');
			set_build(p, k + 1, v, vn, out);
		}
		strbuf_addch(out, '}');
		return 0;
	}
	if (json_type(d, t) == JSON_ARRAY) {
		n = g->idx;
		if (n < 0 && !(g->n == 1 && g->s[0] == '-'))
			return aperr_set(e, EX_USAGE, "%s: '%.*s' is not an index of an array",
					 p->text, (int)g->n, g->s);
		strbuf_addch(out, '[');
		for (i = json_first(d, t); i; i = json_next(d, t, i), n--) {
			if (!first)
				strbuf_addch(out, ',');
			first = 0;
			if (n == 0) {
				if (set_copy(d, i, p, k + 1, v, vn, out, e) < 0)
					return -1;
			} else {
				json_minify(d, i, out);
			}
		}
		if (n > 0)
			return aperr_set(e, EX_USAGE, "%s: the array has no element %ld", p->text,
					 g->idx);
		if (n < 0 && g->idx < 0) {	/* "-": a new last element */
			if (!first)
				strbuf_addch(out, ',');
			set_build(p, k + 1, v, vn, out);
		}
		strbuf_addch(out, ']');
		return 0;
	}
	/* a scalar in the way becomes the object the pointer goes through */
	set_build(p, k, v, vn, out);
	return 0;
}

int json_ptr_set(const struct json_ptr *p, const struct json_doc *d, const char *v, size_t vn,
		 struct strbuf *out, struct aperr *e)
{
	strbuf_reset(out);
	if (!d)
		set_build(p, 0, v, vn, out);
	else if (set_copy(d, 0, p, 0, v, vn, out, e) < 0)
		return -1;
	if (strbuf_failed(out))
		return aperr_set(e, EX_OSERR, "out of memory");
	return 0;
}
