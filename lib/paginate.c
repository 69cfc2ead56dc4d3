#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>

#include <openssl/sha.h>

#include "url.h"
#include "link.h"
#include "num.h"
#include "jsonw.h"
#include "paginate.h"

static const char *const style_names[] = {
	"auto", "cursor", "next-url", "link", "offset", "page", "keyset", "none"
};

const char *pg_style_name(enum pg_style s)
{
	return (unsigned)s < sizeof(style_names) / sizeof(*style_names) ? style_names[s] : "?";
}

int pg_style_parse(const char *name, enum pg_style *out, struct aperr *e)
{
	size_t i;

	for (i = 0; i < sizeof(style_names) / sizeof(*style_names); i++)
		if (!strcmp(name, style_names[i])) {
			*out = (enum pg_style)i;
			return 0;
		}
	return aperr_set(e, EX_USAGE,
			 "--style: '%s' is not one of auto, cursor, next-url, link, offset, page, keyset, none",
			 name);
}

/* A parameter that goes into the JSON request body ("body:/pointer"). */
static int in_body(const char *param)
{
	return param && !strncmp(param, "body:", 5);
}

int pg_spec_set(char **field, const char *v)
{
	char *c = v ? strdup(v) : NULL;

	if (v && !c)
		return -1;
	free(*field);
	*field = c;
	return 0;
}

void pg_spec_init(struct pg_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->style = PG_AUTO;
	s->start_page = 1;
	pg_spec_set(&s->offset_param, "offset");
	pg_spec_set(&s->limit_param, "limit");
	pg_spec_set(&s->page_param, "page");
	pg_spec_set(&s->per_page_param, "per_page");
}

static void uncompile(struct pg_spec *s)
{
	if (!s->compiled)
		return;
	json_ptr_release(&s->cursor_ptr);
	json_ptr_release(&s->next_ptr);
	json_ptr_release(&s->more_ptr);
	json_ptr_release(&s->done_ptr);
	json_ptr_release(&s->total_ptr);
	json_ptr_release(&s->key_ptr);
	json_ptr_release(&s->records_ptr);
	s->compiled = 0;
}

/* The spec's string fields, by their names in a checkpoint's JSON. */
static const struct {
	const char *name;
	size_t off;
} spec_strings[] = {
	{ "cursor_path", offsetof(struct pg_spec, cursor_path) },
	{ "cursor_param", offsetof(struct pg_spec, cursor_param) },
	{ "next_path", offsetof(struct pg_spec, next_path) },
	{ "more_path", offsetof(struct pg_spec, more_path) },
	{ "done_path", offsetof(struct pg_spec, done_path) },
	{ "total_path", offsetof(struct pg_spec, total_path) },
	{ "offset_param", offsetof(struct pg_spec, offset_param) },
	{ "limit_param", offsetof(struct pg_spec, limit_param) },
	{ "page_param", offsetof(struct pg_spec, page_param) },
	{ "per_page_param", offsetof(struct pg_spec, per_page_param) },
	{ "key_field", offsetof(struct pg_spec, key_field) },
	{ "key_param", offsetof(struct pg_spec, key_param) },
	{ "records_path", offsetof(struct pg_spec, records_path) },
	{ "cand", offsetof(struct pg_spec, cand) },
};
#define SPEC_FIELD(s, i) ((char **)(void *)((char *)(s) + spec_strings[i].off))
#define SPEC_CFIELD(s, i) (*(char *const *)(const void *)((const char *)(s) + spec_strings[i].off))

void pg_spec_release(struct pg_spec *s)
{
	size_t i;

	uncompile(s);
	for (i = 0; i < sizeof(spec_strings) / sizeof(*spec_strings); i++) {
		free(*SPEC_FIELD(s, i));
		*SPEC_FIELD(s, i) = NULL;
	}
}

static int compile_one(struct json_ptr *p, const char *text, const char *opt, struct aperr *e)
{
	if (json_ptr_parse(p, text ? text : "", e) < 0)
		return aperr_prefix(e, "%s", opt);
	return 0;
}

int pg_spec_compile(struct pg_spec *s, struct aperr *e)
{
	const char *need = NULL;

	uncompile(s);
	if (s->style == PG_CURSOR && (!s->cursor_path || !s->cursor_param))
		need = "--style cursor needs --cursor-path and --cursor-param";
	else if (s->style == PG_NEXT_URL && !s->next_path)
		need = "--style next-url needs --next-path";
	else if (s->style == PG_KEYSET && (!s->key_field || !s->key_param))
		need = "--style keyset needs --order-field and --order-param";
	else if (s->style == PG_OFFSET && (!s->offset_param || !*s->offset_param))
		need = "--style offset needs an --offset-param name";
	else if (s->style == PG_PAGE && (!s->page_param || !*s->page_param))
		need = "--style page needs a --page-param name";
	if (need)
		return aperr_set(e, EX_USAGE, "%s", need);
	{
		const char *params[] = { s->cursor_param, s->key_param, s->offset_param,
					 s->limit_param, s->page_param, s->per_page_param };
		struct json_ptr probe;
		size_t i;

		for (i = 0; i < sizeof(params) / sizeof(*params); i++)
			if (in_body(params[i])) {
				if (json_ptr_parse(&probe, params[i] + 5, e) < 0)
					return aperr_prefix(e, "%s", params[i]);
				json_ptr_release(&probe);
			}
	}
	memset(&s->cursor_ptr, 0, sizeof(s->cursor_ptr));
	s->next_ptr = s->more_ptr = s->done_ptr = s->total_ptr = s->key_ptr = s->cursor_ptr;
	s->records_ptr = s->cursor_ptr;
	if (compile_one(&s->cursor_ptr, s->cursor_path, "--cursor-path", e) < 0 ||
	    compile_one(&s->next_ptr, s->next_path, "--next-path", e) < 0 ||
	    compile_one(&s->more_ptr, s->more_path, "--has-more-path", e) < 0 ||
	    compile_one(&s->done_ptr, s->done_path, "--last-page-path", e) < 0 ||
	    compile_one(&s->total_ptr, s->total_path, "--total-path", e) < 0 ||
	    compile_one(&s->key_ptr, s->key_field, "--order-field", e) < 0 ||
	    compile_one(&s->records_ptr, s->records_path, "--records-path", e) < 0) {
		json_ptr_release(&s->cursor_ptr);
		json_ptr_release(&s->next_ptr);
		json_ptr_release(&s->more_ptr);
		json_ptr_release(&s->done_ptr);
		json_ptr_release(&s->total_ptr);
		json_ptr_release(&s->key_ptr);
		json_ptr_release(&s->records_ptr);
		return -1;
	}
	s->compiled = 1;
	return 0;
}

int pg_next_candidate(struct pg_spec *s, struct strbuf *why)
{
	char *line, *rest, *kind, *name, *base;
	int ok = 0;

	while (!ok && s->cand && *s->cand) {
		struct aperr e;

		line = strdup(s->cand);
		if (!line)
			return 0;
		rest = strchr(line, '\n');
		if (rest)
			*rest++ = '\0';
		pg_spec_set(&s->cand, rest && *rest ? s->cand + (rest - line) : NULL);
		kind = line;
		name = strchr(kind, ' ');
		if (!name) {
			free(line);
			continue;
		}
		*name++ = '\0';
		base = strrchr(name, ' ');
		if (!strcmp(kind, "cursor")) {
			pg_spec_set(&s->cursor_param, name);
		} else if (!strcmp(kind, "offset")) {
			s->style = PG_OFFSET;
			pg_spec_set(&s->offset_param, name);
		} else if (!strcmp(kind, "page") && base) {
			*base++ = '\0';
			s->style = PG_PAGE;
			pg_spec_set(&s->page_param, name);
			s->start_page = strtoull(base, NULL, 10);
		} else {
			free(line);
			continue;
		}
		strbuf_reset(why);
		strbuf_addf(why, "%s '%s'", kind, name);
		ok = pg_spec_compile(s, &e) == 0;
		free(line);
	}
	if (!s->cand || !*s->cand)
		pg_spec_set(&s->cand, NULL);
	return ok;
}

/* ---- checkpoints ---- */

void pg_spec_json(const struct pg_spec *s, struct jsonw *w)
{
	size_t i;

	jw_object(w);
	jw_member_str(w, "style", pg_style_name(s->style));
	for (i = 0; i < sizeof(spec_strings) / sizeof(*spec_strings); i++)
		jw_member_str(w, spec_strings[i].name, SPEC_CFIELD(s, i));
	jw_member_u64(w, "limit", s->limit);
	jw_member_u64(w, "start_page", s->start_page);
	jw_member_u64(w, "per_page", s->per_page);
	if (s->start_page_set) {
		jw_key(w, "start_page_set");
		jw_bool(w, 1);
	}
	if (s->guessed) {
		jw_key(w, "guessed");
		jw_bool(w, 1);
	}
	if (s->confirm) {
		jw_key(w, "confirm");
		jw_bool(w, 1);
	}
	jw_end_object(w);
}

int pg_spec_from_json(struct pg_spec *s, const struct json_doc *d, uint32_t obj,
		      struct aperr *e)
{
	struct strbuf v = STRBUF_INIT;
	uint32_t t;
	size_t i;
	uint64_t *nums[] = { &s->limit, &s->start_page, &s->per_page };
	static const char *const numnames[] = { "limit", "start_page", "per_page" };

	if (json_type(d, obj) != JSON_OBJECT)
		return aperr_set(e, EX_DATAERR, "/spec: not an object");
	t = json_get(d, obj, "style", 5);
	if (!t || json_str_decode(d, t, &v) < 0 || pg_style_parse(v.buf ? v.buf : "", &s->style, e) < 0) {
		strbuf_release(&v);
		return aperr_set(e, EX_DATAERR, "/spec/style: not a style");
	}
	for (i = 0; i < sizeof(spec_strings) / sizeof(*spec_strings); i++) {
		t = json_get(d, obj, spec_strings[i].name, strlen(spec_strings[i].name));
		strbuf_reset(&v);
		if (t && json_type(d, t) == JSON_STRING && json_str_decode(d, t, &v) == 0)
			pg_spec_set(SPEC_FIELD(s, i), v.buf ? v.buf : "");
		else
			pg_spec_set(SPEC_FIELD(s, i), NULL);
	}
	for (i = 0; i < 3; i++) {
		t = json_get(d, obj, numnames[i], strlen(numnames[i]));
		if (t)
			json_u64(d, t, nums[i]);
	}
	t = json_get(d, obj, "start_page_set", 14);
	s->start_page_set = t && json_type(d, t) == JSON_TRUE;
	t = json_get(d, obj, "guessed", 7);
	s->guessed = t && json_type(d, t) == JSON_TRUE;
	t = json_get(d, obj, "confirm", 7);
	s->confirm = t && json_type(d, t) == JSON_TRUE;
	strbuf_release(&v);
	return pg_spec_compile(s, e) < 0 ? aperr_set(e, EX_DATAERR, "/spec: %s", e->msg) : 0;
}

/* ---- reading a response ---- */

void pg_result_init(struct pg_result *res)
{
	memset(res, 0, sizeof(*res));
	records_page_init(&res->rp);
	strbuf_init(&res->token, 0);
	strbuf_init(&res->token_json, 0);
	strbuf_init(&res->scratch, 0);
}

void pg_result_release(struct pg_result *res)
{
	records_page_release(&res->rp);
	strbuf_release(&res->token);
	strbuf_release(&res->token_json);
	strbuf_release(&res->scratch);
}

/* Token at the pointer text p (from the root), or JSON_ABSENT. */
static uint32_t at(const struct json_doc *d, const char *p)
{
	struct json_ptr ptr;
	uint32_t t;

	if (!d || json_ptr_parse(&ptr, p, NULL) < 0)
		return JSON_ABSENT;
	t = json_ptr_eval(&ptr, d, 0);
	json_ptr_release(&ptr);
	return t;
}

/*
 * A scalar as a parameter value: strings decoded, numbers as written.
 * 1 when usable (non-empty), 0 when null, "", false or absent, -1 when
 * it is something else (an object, an array, true).
 */
static int scalar_value(const struct json_doc *d, uint32_t t, struct strbuf *out)
{
	strbuf_reset(out);
	if (t == JSON_ABSENT)
		return 0;
	switch (json_type(d, t)) {
	case JSON_NULL:
	case JSON_FALSE:
		return 0;
	case JSON_STRING:
		if (json_str_decode(d, t, out) < 0)
			return -1;
		return out->len > 0;
	case JSON_NUMBER:
		strbuf_add(out, json_src(d, t), json_srclen(d, t));
		return 1;
	default:
		return -1;
	}
}

static const char *const total_paths[] = {
	"/total", "/total_count", "/totalCount", "/total_results", "/totalResults",
	"/total_items", "/totalItems", "/meta/total", "/meta/total_count", "/meta/totalCount",
	"/pagination/total", "/pagination/total_count", "/paging/total", "/page/totalElements",
	"/totalElements", "/@odata.count", NULL
};

static void find_total(const struct json_doc *d, struct pg_result *res)
{
	size_t i;

	res->has_total = 0;
	for (i = 0; d && total_paths[i]; i++) {
		uint32_t t = at(d, total_paths[i]);

		if (t != JSON_ABSENT && json_u64(d, t, &res->total) == 0) {
			res->has_total = 1;
			return;
		}
	}
}

/*
 * A total the response headers report: X-Total-Count (json-server and
 * many others), X-Total, Total-Count, X-Total-Results, or the total of a
 * Content-Range ("items 0-49/501").  1 with *total set, else 0.
 */
static int header_total(const struct http_req *r, uint64_t *total)
{
	static const char *const names[] = { "x-total-count", "x-total", "total-count",
					     "x-total-results", "x-result-count", NULL };
	char buf[32];
	const char *v;
	size_t n, i;

	for (i = 0; names[i]; i++)
		if ((v = http_req_header(r, names[i], &n)) && n && n < sizeof(buf)) {
			memcpy(buf, v, n);
			buf[n] = '\0';
			if (num_parse_u64(buf, total, names[i], NULL) == 0)
				return 1;
		}
	if ((v = http_req_header(r, "content-range", &n)) && n) {
		const char *slash = memchr(v, '/', n);

		if (slash && (size_t)(v + n - slash - 1) < sizeof(buf) && slash[1] != '*') {
			memcpy(buf, slash + 1, (size_t)(v + n - slash - 1));
			buf[v + n - slash - 1] = '\0';
			if (num_parse_u64(buf, total, "Content-Range", NULL) == 0)
				return 1;
		}
	}
	return 0;
}

/*
 * A total at token t: a number, or {"value": n} (Elasticsearch's
 * hits.total).  1 with *total set, else 0.
 */
static int total_at(const struct json_doc *d, uint32_t t, uint64_t *total)
{
	if (t != JSON_ABSENT && json_type(d, t) == JSON_OBJECT)
		t = json_get(d, t, "value", 5);
	return t && t != JSON_ABSENT && json_type(d, t) == JSON_NUMBER && json_u64(d, t, total) == 0;
}

/* The total a page reports: at the spec's path, the known places, or a header. */
static void page_total(const struct pg_spec *s, const struct json_doc *d,
		       const struct http_req *r, struct pg_result *res)
{
	if (s->total_path) {
		res->has_total = total_at(d, json_ptr_eval(&s->total_ptr, d, 0), &res->total);
		return;
	}
	find_total(d, res);
	if (!res->has_total && r && header_total(r, &res->total))
		res->has_total = 1;
}

/* The body reports an error instead of records ({"ok":false}, {"error":…}). */
static int error_body(const struct json_doc *d)
{
	uint32_t t;

	if (json_type(d, 0) != JSON_OBJECT)
		return 0;
	t = json_get(d, 0, "ok", 2);
	if (t && json_type(d, t) == JSON_FALSE)
		return 1;
	t = json_get(d, 0, "error", 5);
	if (t && json_type(d, t) != JSON_NULL && json_type(d, t) != JSON_FALSE)
		return 1;
	t = json_get(d, 0, "errors", 6);
	return t && (json_type(d, t) == JSON_OBJECT ||
		     (json_type(d, t) == JSON_ARRAY && json_first(d, t)));
}

/* A short rendition of the body for messages. */
static const char *snippet(const struct json_doc *d, struct strbuf *sb)
{
	strbuf_reset(sb);
	json_minify(d, 0, sb);
	strbuf_shorten(sb, 200);
	return sb->buf ? sb->buf : "";
}

static int find_records(const struct pg_spec *s, const struct json_doc *d,
			struct pg_result *res, struct aperr *e)
{
	res->array = JSON_ABSENT;
	res->nrecords = 0;
	if (!d)
		return aperr_set(e, EX_DATAERR, "the body is not JSON");
	if (records_find(d, s->records_path ? &s->records_ptr : NULL, &res->rp, e) < 0) {
		if (error_body(d))
			return aperr_set(e, EX_UNAVAILABLE, "the API reported an error with status 200: %s",
					 snippet(d, &res->scratch));
		return -1;
	}
	res->array = res->rp.array;
	if (res->array != JSON_ABSENT)
		res->nrecords = json_count(d, res->array);
	return 0;
}

/* The last record of the page (its node for GraphQL edges). */
static uint32_t last_record(const struct json_doc *d, const struct pg_result *res)
{
	uint32_t i, last = 0;

	for (i = json_first(d, res->array); i; i = json_next(d, res->array, i))
		last = i;
	if (last && res->rp.edges)
		last = json_get(d, last, "node", 4);
	return last;
}

/*
 * The next position at token t into res->token (for a query string) and
 * res->token_json (for a request body).  A body parameter also takes a
 * non-empty array -- Elasticsearch's search_after -- or, up to widest
 * (JSON_OBJECT), an object.  As scalar_value(): 1, 0 or -1.
 */
static int position_token(const struct json_doc *d, uint32_t t, int body, enum json_type widest,
			  struct pg_result *res)
{
	int k;

	if (body && t != JSON_ABSENT && (json_type(d, t) == JSON_ARRAY ||
					 (widest == JSON_OBJECT && json_type(d, t) == JSON_OBJECT))) {
		k = json_first(d, t) ? 1 : 0;
		strbuf_reset(&res->token);
		json_minify(d, t, &res->token);
	} else {
		k = scalar_value(d, t, &res->token);
	}
	if (k > 0)
		json_minify(d, t, &res->token_json);
	return k;
}

/*
 * In an array of hypermedia links (PayPal's and Siren's links, HAL-style
 * link arrays), the href of the one whose rel is, or includes, "next":
 * its token, or JSON_ABSENT when no link is rel next.  -1 in *links when
 * the array holds no links at all.
 */
static uint32_t rel_next_links(const struct json_doc *d, uint32_t arr, int *links)
{
	static const char *const hrefs[] = { "href", "url", "uri", "link", NULL };
	uint32_t i, r, h, k;
	size_t n;

	*links = 0;
	for (i = json_first(d, arr); i; i = json_next(d, arr, i)) {
		int next = 0;

		if (json_type(d, i) != JSON_OBJECT || !(r = json_get(d, i, "rel", 3)))
			continue;
		for (n = 0, h = 0; hrefs[n] && !h; n++)
			h = json_get(d, i, hrefs[n], strlen(hrefs[n]));
		if (!h)
			continue;
		*links = 1;
		if (json_type(d, r) == JSON_STRING)
			next = json_str_eq(d, r, "next", 4);
		else if (json_type(d, r) == JSON_ARRAY)
			for (k = json_first(d, r); k && !next; k = json_next(d, r, k))
				next = json_type(d, k) == JSON_STRING && json_str_eq(d, k, "next", 4);
		if (next)
			return h;
	}
	return JSON_ABSENT;
}

static uint32_t rel_next(const struct json_doc *d, uint32_t arr)
{
	int links;

	return rel_next_links(d, arr, &links);
}

/*
 * A next link that is a path beside an absolute "base" (Confluence's
 * _links: {"base": "https://x/wiki", "next": "/rest/api/…"}) is relative
 * to that base, not to the host: ref becomes base + ref.
 */
static void based_ref(const struct pg_spec *s, const struct json_doc *d, struct strbuf *ref)
{
	struct json_ptr parent;
	const char *slash = strrchr(s->next_path, '/');
	struct strbuf b = STRBUF_INIT, p = STRBUF_INIT;
	uint32_t o, t;

	if (!slash || !ref->buf || ref->buf[0] != '/' || ref->buf[1] == '/')
		return;
	strbuf_add(&p, s->next_path, (size_t)(slash - s->next_path));
	if (json_ptr_parse(&parent, p.buf ? p.buf : "", NULL) == 0) {
		o = json_ptr_eval(&parent, d, 0);
		t = o != JSON_ABSENT ? json_get(d, o, "base", 4) : 0;
		if (t && json_type(d, t) == JSON_STRING && json_str_decode(d, t, &b) == 0 && b.buf &&
		    (!strncasecmp(b.buf, "http://", 7) || !strncasecmp(b.buf, "https://", 8))) {
			const char *bpath = strchr(b.buf + 8, '/');
			size_t bl;

			while (b.len && b.buf[b.len - 1] == '/')
				strbuf_setlen(&b, b.len - 1);
			bpath = strchr(b.buf + 8, '/');
			bl = bpath ? strlen(bpath) : 0;
			/* a path that already starts with the base's own is left alone */
			if (!bl || strncmp(ref->buf, bpath, bl) || (ref->buf[bl] && ref->buf[bl] != '/' &&
								      ref->buf[bl] != '?')) {
				strbuf_add(&b, ref->buf, ref->len);
				strbuf_reset(ref);
				strbuf_add(ref, b.buf, b.len);
			}
		}
		json_ptr_release(&parent);
	}
	strbuf_release(&b);
	strbuf_release(&p);
}

int pg_examine(const struct pg_spec *s, const char *url, const struct http_req *r,
	       const struct json_doc *d, struct pg_result *res, struct aperr *e)
{
	uint32_t t;
	int k;

	res->more = -1;
	res->has_token = 0;
	strbuf_reset(&res->token);
	strbuf_reset(&res->token_json);
	if (find_records(s, d, res, e) < 0)
		return -1;
	page_total(s, d, r, res);
	if (s->more_path) {
		t = json_ptr_eval(&s->more_ptr, d, 0);
		if (t != JSON_ABSENT && json_type(d, t) == JSON_TRUE)
			res->more = 1;
		else if (t != JSON_ABSENT && json_type(d, t) == JSON_FALSE)
			res->more = 0;
	}
	if (s->done_path) {
		t = json_ptr_eval(&s->done_ptr, d, 0);
		if (t != JSON_ABSENT && json_type(d, t) == JSON_TRUE)
			res->more = 0;
		else if (t != JSON_ABSENT && json_type(d, t) == JSON_FALSE)
			res->more = 1;
	}
	switch (s->style) {
	case PG_CURSOR:
		t = json_ptr_eval(&s->cursor_ptr, d, 0);
		k = position_token(d, t, in_body(s->cursor_param), JSON_OBJECT, res);
		if (k < 0)
			return aperr_set(e, EX_DATAERR, "%s: the cursor is %s, not a string",
					 s->cursor_path, json_type_name(json_type(d, t)));
		res->has_token = k;
		return 0;
	case PG_NEXT_URL:
	case PG_LINK: {
		struct strbuf ref = STRBUF_INIT;
		int rc = 0;

		if (s->style == PG_LINK) {
			struct strbuf v = STRBUF_INIT;

			k = http_req_header_all(r, "link", &v) ? link_find(v.buf, v.len, "next", &ref, e)
								 : 0;
			strbuf_release(&v);
			if (k < 0)
				rc = -1;
			if (k == 2) {	/* a next link that says it leads to nothing */
				res->more = 0;
				k = 0;
			}
		} else {
			t = json_ptr_eval(&s->next_ptr, d, 0);
			if (t != JSON_ABSENT && json_type(d, t) == JSON_ARRAY)
				t = rel_next(d, t);	/* HATEOAS links: [{"rel": "next", "href": …}] */
			k = t != JSON_ABSENT && json_type(d, t) == JSON_NUMBER ? -1
									: scalar_value(d, t, &ref);
			if (k < 0)
				rc = aperr_set(e, EX_DATAERR, "%s: the next URL is %s, not a string",
					       s->next_path, json_type_name(json_type(d, t)));
		}
		if (k > 0 && s->style == PG_NEXT_URL)
			based_ref(s, d, &ref);
		if (k > 0 && url_resolve(url, ref.buf, &res->token, e) < 0)
			rc = aperr_prefix(e, "%s", s->style == PG_LINK ? "Link header" : s->next_path);
		res->has_token = rc == 0 && k > 0;
		strbuf_release(&ref);
		return rc;
	}
	case PG_KEYSET:
		if (!res->nrecords)
			return 0;
		t = json_ptr_eval(&s->key_ptr, d, last_record(d, res));
		k = position_token(d, t, in_body(s->key_param), JSON_ARRAY, res);
		if (k <= 0)
			return aperr_set(e, EX_DATAERR, "%s/%zu%s: the last record has no usable key",
					 res->rp.where.buf ? res->rp.where.buf : "",
					 res->nrecords - 1, s->key_field);
		res->has_token = 1;
		return 0;
	default:
		return 0;
	}
}

/*
 * The parameters a request of the style carries for position value (NULL:
 * the first request): up to two (name, value) pairs in names/vals, the
 * numbers written into num (two slots of 24).  Returns how many.
 */
static size_t position_params(const struct pg_spec *s, const char *value, char num[2][24],
			      const char *names[2], const char *vals[2])
{
	size_t n = 0;

	switch (s->style) {
	case PG_CURSOR:
	case PG_KEYSET:
		if (value) {
			names[n] = s->style == PG_CURSOR ? s->cursor_param : s->key_param;
			vals[n++] = value;
		}
		break;
	case PG_OFFSET:
		if (value) {
			names[n] = s->offset_param;
			vals[n++] = value;
		}
		if (s->limit && s->limit_param && *s->limit_param) {
			snprintf(num[1], 24, "%llu", (unsigned long long)s->limit);
			names[n] = s->limit_param;
			vals[n++] = num[1];
		}
		break;
	case PG_PAGE:
		if (value || s->start_page_set) {
			snprintf(num[0], 24, "%llu", (unsigned long long)s->start_page);
			names[n] = s->page_param;
			vals[n++] = value ? value : num[0];
		}
		if (s->per_page && s->per_page_param && *s->per_page_param) {
			snprintf(num[1], 24, "%llu", (unsigned long long)s->per_page);
			names[n] = s->per_page_param;
			vals[n++] = num[1];
		}
		break;
	default:
		break;
	}
	return n;
}

int pg_url(const struct pg_spec *s, const char *base, const char *value, struct strbuf *out)
{
	char num[2][24];
	const char *names[2], *vals[2];
	size_t n = position_params(s, value, num, names, vals), i;
	int r = 0;

	strbuf_reset(out);
	strbuf_addstr(out, base);
	for (i = 0; i < n && !r; i++)
		if (!in_body(names[i]))
			r = url_set_query(out, names[i], vals[i]);
	return r;
}

int pg_uses_body(const struct pg_spec *s)
{
	switch (s->style) {
	case PG_CURSOR: return in_body(s->cursor_param);
	case PG_KEYSET: return in_body(s->key_param);
	case PG_OFFSET: return in_body(s->offset_param) || in_body(s->limit_param);
	case PG_PAGE: return in_body(s->page_param) || in_body(s->per_page_param);
	default: return 0;
	}
}

int pg_body(const struct pg_spec *s, const char *base, size_t n, const char *value,
	    struct strbuf *out, struct aperr *e)
{
	char num[2][24];
	const char *names[2], *vals[2];
	struct strbuf cur = STRBUF_INIT;
	size_t np, i;
	int rc = 0;

	np = position_params(s, value, num, names, vals);
	strbuf_reset(out);
	strbuf_add(out, base ? base : "", base ? n : 0);
	for (i = 0; i < np && rc == 0; i++) {
		struct json_doc d;
		struct json_error je;
		struct json_ptr ptr;
		int empty;

		if (!in_body(names[i]))
			continue;
		if (json_ptr_parse(&ptr, names[i] + 5, e) < 0) {
			rc = -1;
			break;
		}
		strbuf_reset(&cur);
		strbuf_add(&cur, out->buf ? out->buf : "", out->len);
		empty = strspn(cur.buf ? cur.buf : "", " \t\r\n") == cur.len;
		json_doc_init(&d, 64);
		json_error_init(&je);
		if (!empty && json_parse(&d, cur.buf, cur.len, &je) < 0)
			rc = aperr_set(e, EX_DATAERR, "%s: the request body is not JSON", names[i]);
		else
			rc = json_ptr_set(&ptr, empty ? NULL : &d, vals[i], strlen(vals[i]), out, e);
		json_doc_release(&d);
		json_error_release(&je);
		json_ptr_release(&ptr);
	}
	strbuf_release(&cur);
	return rc;
}

uint64_t pg_start_position(const struct pg_spec *s, const char *base, const char *body,
			   size_t bn)
{
	struct strbuf v = STRBUF_INIT;
	uint64_t n = s->style == PG_PAGE ? s->start_page : 0;
	const char *name = s->style == PG_PAGE ? s->page_param : s->offset_param;

	if ((s->style != PG_PAGE && s->style != PG_OFFSET) || (s->style == PG_PAGE && s->start_page_set))
		return n;
	if (in_body(name)) {
		struct json_doc d;
		struct json_error je;
		struct json_ptr ptr;
		uint32_t t;

		json_doc_init(&d, 64);
		json_error_init(&je);
		if (body && json_parse(&d, body, bn, &je) == 0 &&
		    json_ptr_parse(&ptr, name + 5, NULL) == 0) {
			t = json_ptr_eval(&ptr, &d, 0);
			if (t != JSON_ABSENT)
				json_u64(&d, t, &n);
			json_ptr_release(&ptr);
		}
		json_doc_release(&d);
		json_error_release(&je);
	} else if (url_get_query(base, name, &v) == 1 && v.buf) {
		num_parse_u64(v.buf, &n, "offset", NULL);
	}
	strbuf_release(&v);
	return n;
}

/* ---- --style auto ---- */

/* A next URL in the body: where it may be. */
static const char *const next_url_paths[] = {
	"/next", "/links/next", "/links/next/href", "/_links/next/href", "/next_url", "/nextUrl",
	"/next_page_url", "/nextPageUrl", "/next_link", "/nextLink", "/@odata.nextLink",
	"/paging/next", "/pagination/next", "/pagination/next_url", "/pagination/next_link",
	"/meta/next", "/meta/next_url", "/meta/links/next", NULL
};

/* A cursor in the body at a known place; its parameter comes from token_pairs. */
static const char *const cursor_paths[] = {
	"/response_metadata/next_cursor", "/next_cursor", "/nextCursor", "/pagination/next_cursor",
	"/pagination/nextCursor", "/meta/next_cursor", "/meta/nextCursor", "/paging/next_cursor",
	"/nextPageToken", "/next_page_token", "/meta/next_token", "/next_token", "/nextToken",
	"/paging/cursors/after", "/pageInfo/endCursor", "/page_info/end_cursor", "/cursors/after",
	"/continuation", "/cursor", "/after", "/next", "/meta/next", "/pagination/next", NULL
};

/* Names a start URL may already use for a cursor. */
static const char *const cursor_params[] = {
	"cursor", "pageToken", "page_token", "after", "starting_after", "next_token",
	"pagination_token", "nextToken", "continuation", "continuationToken", "page[after]",
	"page[cursor]", "start_cursor", "continue", NULL
};


/* Query parameters that ask for a page size. */
static const char *const size_params[] = {
	"limit", "per_page", "perPage", "page_size", "pageSize", "size", "count", "max_results",
	"maxResults", "top", "$top", "first", "take", "_limit", "_per_page", "page[size]",
	"pagesize", "rows", NULL
};

/* Query parameters a request uses for its position, by kind. */
static const char *const offset_params[] = { "offset", "_start", "skip", "start", "from",
					     "$skip", "page[offset]", NULL };
static const char *const page_params[] = { "page", "_page", "pageNumber", "page_number",
					   "page[number]", "p", NULL };

/* What the response showed, for a message when auto cannot decide. */
static void describe(const struct json_doc *d, const struct http_req *r,
		     const struct pg_result *res, struct strbuf *o)
{
	uint32_t k;
	size_t n = 0;

	strbuf_addstr(o, http_req_header(r, "link", &n) ? "a Link header without rel=\"next\""
							 : "no Link header");
	if (!d) {
		strbuf_addstr(o, ", a body that is not JSON");
		return;
	}
	if (json_type(d, 0) != JSON_OBJECT) {
		strbuf_addf(o, ", a bare %s body", json_type_name(json_type(d, 0)));
		goto total;
	}
	strbuf_addstr(o, ", body members");
	for (k = json_first(d, 0); k; k = json_next(d, 0, k)) {
		if (n++ >= 20) {
			strbuf_addstr(o, " ...");
			break;
		}
		strbuf_addch(o, ' ');
		strbuf_add(o, json_src(d, k) + 1, json_srclen(d, k) - 2);
		strbuf_addf(o, " (%s", json_type_name(json_type(d, k + 1)));
		if (json_type(d, k + 1) == JSON_ARRAY)
			strbuf_addf(o, " of %zu", json_count(d, k + 1));
		else if (json_type(d, k + 1) == JSON_NUMBER || json_type(d, k + 1) == JSON_TRUE ||
			 json_type(d, k + 1) == JSON_FALSE)
			strbuf_addf(o, " %.*s", (int)json_srclen(d, k + 1), json_src(d, k + 1));
		strbuf_addch(o, ')');
	}
total:
	if (res->has_total)
		strbuf_addf(o, "; %zu records with a total of %llu", res->nrecords,
			    (unsigned long long)res->total);
}

/* ---- signals anywhere in the body ---- */

/* Booleans that say more pages follow, by name lower-cased without separators. */
static const char *const more_names[] = {
	"hasmore", "hasnext", "hasnextpage", "more", "moreitems", "morepages", "moreresults",
	"morerecords", "moredata", "hasmoreitems", "hasmorepages", "hasmoreresults",
	"hasmorerecords", "nextpageexists", NULL
};
/* Booleans that say this is the last page. */
static const char *const done_names[] = {
	"done", "last", "islast", "islastpage", "lastpage", "finished", "isfinished", "complete",
	"iscomplete", "end", "isend", "endofresults", "endoflist", "nomore", "nomorepages",
	"nomoreresults", "alldone", "exhausted", NULL
};
/* Numbers that report how many records the whole listing holds. */
static const char *const total_names[] = {
	"total", "totalcount", "totalresults", "totalitems", "totalelements", "totalrecords",
	"totalrows", "totalentries", "totalhits", "totalsize", "numfound", "numresults",
	"odatacount", "nbhits", "objectcount", NULL
};
/*
 * Numbers that are the listing's size in some APIs and the page's in
 * others (Cloudflare's result_info.count, X's meta.result_count,
 * Confluence's size): a total only when beyond the records on the page.
 */
static const char *const weak_total_names[] = {
	"count", "recordcount", "resultcount", "itemcount", "found", "size", NULL
};
/*
 * Names APIs give an opaque position to send back, when a string beside
 * the records or in a paging object holds it: Airtable's offset,
 * Cloudflare's result_info.cursor, Pinterest's bookmark, Nexus's
 * continuationToken, Kubernetes' metadata.continue, Reddit's data.after,
 * Intercom's pages.next.starting_after.
 */
static const char *const position_names[] = {
	"offset", "cursor", "marker", "bookmark", "continuation", "continuationtoken", "continue",
	"after", "aftercursor", "searchafter", "pagetoken", "startingafter", "skiptoken",
	"scrollid", NULL
};
/* Objects such a position may sit in (and the top level, and next: {…}). */
static const char *const paging_objects[] = {
	"paging", "pagination", "meta", "metadata", "resultinfo", "cursors", "cursor", "next",
	"nextpage", "page", "pageinfo", "responsemetadata", "additionaldata", "data", "result",
	"pages", NULL
};
/* Objects whose members never describe the listing (Elasticsearch's shard counts). */
static const char *const foreign_objects[] = { "shards", NULL };

#define SIGNAL_DEPTH 6

struct sig {
	struct strbuf ptr;	/* where it is */
	int depth;		/* -1: not found */
};

struct signals {
	struct sig url, token, flag, total, relay_cursor, relay_more, postoken;
	int url_empty, token_empty;	/* there, and empty: the last page */
	int postoken_empty;
	int total_weak;			/* the total found is under a weak name */
	int weak_beyond;		/* a figure under a weak name is above the page's records */
	size_t nrecords;		/* on the page: a weak total must be beyond it */
	struct strbuf postoken_name;
	struct strbuf parent;		/* the enclosing object's name, normalised */
	int flag_sense;			/* 1: true means more; 0: true means the last page */
	int flag_value;
	uint64_t total_value;
	struct strbuf token_name;	/* the token's member name, for its parameter */
	struct strbuf name, norm;	/* scratch */
};

static void signals_init(struct signals *g)
{
	struct sig *all[] = { &g->url, &g->token, &g->flag, &g->total, &g->relay_cursor,
			      &g->relay_more, &g->postoken };
	size_t i;

	memset(g, 0, sizeof(*g));
	for (i = 0; i < sizeof(all) / sizeof(*all); i++) {
		strbuf_init(&all[i]->ptr, 0);
		all[i]->depth = -1;
	}
	strbuf_init(&g->token_name, 0);
	strbuf_init(&g->postoken_name, 0);
	strbuf_init(&g->parent, 0);
	strbuf_init(&g->name, 0);
	strbuf_init(&g->norm, 0);
}

static void signals_release(struct signals *g)
{
	strbuf_release(&g->url.ptr);
	strbuf_release(&g->token.ptr);
	strbuf_release(&g->flag.ptr);
	strbuf_release(&g->total.ptr);
	strbuf_release(&g->relay_cursor.ptr);
	strbuf_release(&g->relay_more.ptr);
	strbuf_release(&g->token_name);
	strbuf_release(&g->postoken.ptr);
	strbuf_release(&g->postoken_name);
	strbuf_release(&g->parent);
	strbuf_release(&g->name);
	strbuf_release(&g->norm);
}

/* Take the candidate at ptr unless one as shallow is already there.  1 when taken. */
static int sig_take(struct sig *s, const struct strbuf *ptr, int depth)
{
	if (s->depth >= 0 && s->depth <= depth)
		return 0;
	strbuf_reset(&s->ptr);
	strbuf_add(&s->ptr, ptr->buf ? ptr->buf : "", ptr->len);
	s->depth = depth;
	return 1;
}

static int in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return 1;
	return 0;
}

/* A name that says it holds a URL. */
static int names_url(const char *norm)
{
	return strstr(norm, "url") || strstr(norm, "link") || strstr(norm, "href") ||
	       strstr(norm, "uri") || !strcmp(norm, "next");
}

static int looks_like_url(const char *s)
{
	return !strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8) || *s == '/' ||
	       *s == '?' || !strncmp(s, "./", 2) || !strncmp(s, "../", 3) ||
	       (strchr(s, '?') && strchr(s, '=') && !strpbrk(s, " \t"));
}

/* A string or null member whose name says next: a URL or a token. */
static void walk_next(const struct json_doc *d, uint32_t v, const struct strbuf *ptr, int depth,
		      struct signals *g, struct strbuf *val)
{
	int k = scalar_value(d, v, val);
	/*
	 * A number is a token (a page number, an offset).  A string is a URL
	 * when it looks like one, or when the name says URL and the value has
	 * a path or a query ("items?after=…"); else an opaque token.
	 */
	int url = json_type(d, v) == JSON_NUMBER ? 0
		  : k > 0 ? looks_like_url(val->buf) ||
				    (names_url(g->norm.buf) && strcmp(g->norm.buf, "next") &&
				     strpbrk(val->buf, "/?."))
			  : names_url(g->norm.buf);

	if (k < 0)
		return;
	if (url) {
		if (sig_take(&g->url, ptr, depth))
			g->url_empty = k == 0;
	} else if (sig_take(&g->token, ptr, depth)) {
		g->token_empty = k == 0;
		strbuf_reset(&g->token_name);
		strbuf_add(&g->token_name, g->name.buf, g->name.len);
	}
}

/*
 * Look through object t (at ptr) for what says where the next page is:
 * members whose name says next (a URL, a relative URL or a token),
 * continuation booleans in either sense, a reported total, a Relay
 * pageInfo.  Arrays (the records among them) are not entered.
 */
static void take_total(struct signals *g, const struct strbuf *ptr, int depth, uint64_t total,
		       int weak);

static void walk(const struct json_doc *d, uint32_t t, struct strbuf *ptr, int depth,
		 struct signals *g, struct strbuf *val)
{
	size_t base = ptr->len, i;
	uint32_t k;

	for (k = json_first(d, t); k; k = json_next(d, t, k)) {
		uint32_t v = k + 1, c;
		enum json_type vt = json_type(d, v);
		uint64_t total;
		int nexty;

		strbuf_reset(&g->name);
		json_str_decode(d, k, &g->name);
		strbuf_reset(&g->norm);
		for (i = 0; i < g->name.len; i++)
			if (isalnum((unsigned char)g->name.buf[i]))
				strbuf_addch(&g->norm, tolower((unsigned char)g->name.buf[i]));
		if (!g->norm.buf)
			strbuf_addstr(&g->norm, "");
		nexty = strstr(g->norm.buf, "next") && strncmp(g->norm.buf, "has", 3) &&
			!strstr(g->norm.buf, "prev");
		json_ptr_append(ptr, g->name.buf ? g->name.buf : "", g->name.len);
		if (vt == JSON_OBJECT) {
			if (!strcmp(g->norm.buf, "pageinfo") && g->relay_cursor.depth < 0) {
				int snake = !json_get(d, v, "endCursor", 9);
				const char *cn = snake ? "end_cursor" : "endCursor";
				const char *hn = snake ? "has_next_page" : "hasNextPage";

				if (json_get(d, v, cn, strlen(cn)) && json_get(d, v, hn, strlen(hn))) {
					sig_take(&g->relay_cursor, ptr, depth);
					json_ptr_append(&g->relay_cursor.ptr, cn, strlen(cn));
					sig_take(&g->relay_more, ptr, depth);
					json_ptr_append(&g->relay_more.ptr, hn, strlen(hn));
				}
			}
			if (in_list(g->norm.buf, foreign_objects)) {
				strbuf_setlen(ptr, base);
				continue;
			}
			if (!strcmp(g->norm.buf, "total") && total_at(d, v, &total))
				take_total(g, ptr, depth, total, 0);
			if (nexty) {
				static const char *const hrefs[] = { "href", "url", "link", "uri", NULL };
				const char *const *n;

				for (n = hrefs; *n; n++)
					if ((c = json_get(d, v, *n, strlen(*n))) &&
					    (json_type(d, c) == JSON_STRING || json_type(d, c) == JSON_NULL)) {
						size_t at = ptr->len;

						json_ptr_append(ptr, *n, strlen(*n));
						if (sig_take(&g->url, ptr, depth))
							g->url_empty = scalar_value(d, c, val) == 0;
						strbuf_setlen(ptr, at);
						break;
					}
			}
			if (depth < SIGNAL_DEPTH) {
				struct strbuf saved = STRBUF_INIT;

				strbuf_add(&saved, g->parent.buf ? g->parent.buf : "", g->parent.len);
				strbuf_reset(&g->parent);
				strbuf_add(&g->parent, g->norm.buf, g->norm.len);
				walk(d, v, ptr, depth + 1, g, val);
				strbuf_reset(&g->parent);
				strbuf_add(&g->parent, saved.buf ? saved.buf : "", saved.len);
				strbuf_release(&saved);
			}
		} else if (vt == JSON_TRUE || vt == JSON_FALSE) {
			int sense = in_list(g->norm.buf, more_names) ? 1
				    : in_list(g->norm.buf, done_names) ? 0 : -1;

			if (sense >= 0 && sig_take(&g->flag, ptr, depth)) {
				g->flag_sense = sense;
				g->flag_value = vt == JSON_TRUE;
			}
		} else if (vt == JSON_NUMBER && in_list(g->norm.buf, total_names)) {
			if (total_at(d, v, &total))
				take_total(g, ptr, depth, total, 0);
		} else if (vt == JSON_NUMBER && in_list(g->norm.buf, weak_total_names)) {
			if (total_at(d, v, &total) && total > g->nrecords) {
				g->weak_beyond = 1;
				take_total(g, ptr, depth, total, 1);
			}
		} else if (vt == JSON_ARRAY && strstr(g->norm.buf, "link")) {
			int links;
			uint32_t h = rel_next_links(d, v, &links);

			if (links && sig_take(&g->url, ptr, depth))
				g->url_empty = h == JSON_ABSENT || scalar_value(d, h, val) <= 0;
		} else if (nexty && vt != JSON_ARRAY) {
			walk_next(d, v, ptr, depth, g, val);
		} else if ((vt == JSON_STRING || vt == JSON_NULL) &&
			   in_list(g->norm.buf, position_names) &&
			   (!depth || in_list(g->parent.buf ? g->parent.buf : "", paging_objects))) {
			int kv = scalar_value(d, v, val);

			if (kv >= 0 && !(kv > 0 && looks_like_url(val->buf)) &&
			    sig_take(&g->postoken, ptr, depth)) {
				g->postoken_empty = kv == 0;
				strbuf_reset(&g->postoken_name);
				strbuf_add(&g->postoken_name, g->name.buf, g->name.len);
			}
		}
		strbuf_setlen(ptr, base);
	}
}

/*
 * A total at ptr: a name that always means the listing's size wins over
 * one that may be the page's, then the shallowest.
 */
static void take_total(struct signals *g, const struct strbuf *ptr, int depth, uint64_t total,
		       int weak)
{
	if (g->total.depth >= 0 && !g->total_weak && weak)
		return;
	if (g->total.depth >= 0 && g->total_weak && !weak)
		g->total.depth = -1;
	if (sig_take(&g->total, ptr, depth)) {
		g->total_value = total;
		g->total_weak = weak;
	}
}

/* Does the flag say more pages follow?  -1: no flag. */
static int flag_more(const struct signals *g)
{
	if (g->flag.depth < 0)
		return -1;
	return g->flag_sense ? g->flag_value : !g->flag_value;
}

/* The spec follows the flag on every page (has_more, or is_last). */
static void adopt_flag(struct pg_spec *s, const struct signals *g)
{
	if (g->flag.depth < 0)
		return;
	pg_spec_set(g->flag_sense ? &s->more_path : &s->done_path, g->flag.ptr.buf);
}

/* A cursor parameter the request already carries, or NULL. */
static const char *carried_cursor_param(const char *url, struct strbuf *probe)
{
	size_t p;

	for (p = 0; cursor_params[p]; p++)
		if (url_get_query(url, cursor_params[p], probe) == 1)
			return cursor_params[p];
	return NULL;
}

/*
 * The parameters a token goes back in, by the name of the member that
 * holds it (lower-cased, without separators), as APIs document the pairs;
 * "%d" is the name without "next" (nextPageToken: pageToken, NextMarker:
 * Marker, next_page_token: page_token) and "%o" the name itself.  A name
 * not here goes back as "%d" then "%o".  The first is tried first; page 2
 * confirms it or moves on (pg_next_candidate).
 */
static const struct {
	const char *member, *params, *apis;
} token_pairs[] = {
	{ "nextcursor", "cursor\nstart_cursor\n%o", "Slack, Notion" },
	{ "nextpagetoken", "%d\n%o", "Google; Jira's search/jql, Zoom" },
	{ "nexttoken", "%o\npagination_token", "X search; X timelines; AWS NextToken" },
	{ "next", "cursor\noffset\npage\nnext", "Lever reads its next as offset" },
	{ "endcursor", "after", "Relay" },
	{ "nextoffset", "offset", "Chargebee" },
	{ "nextpage", "page\n%o", "Stripe search" },
	{ "nextstart", "start", "Pipedrive" },
	{ "aftercursor", "%o\nafter", "OneLogin" },
};

/* name lower-cased without separators into out */
static void norm_name(const char *name, struct strbuf *out)
{
	strbuf_reset(out);
	for (; *name; name++)
		if (isalnum((unsigned char)*name))
			strbuf_addch(out, tolower((unsigned char)*name));
	if (!out->buf)
		strbuf_addstr(out, "");
}

/* name without its "next" (NextMarker: Marker, nextPageToken: pageToken), or "" */
static void derived_name(const char *name, struct strbuf *out)
{
	const char *rest = name;

	strbuf_reset(out);
	if (strncasecmp(rest, "next", 4))
		return;
	rest += 4;
	rest += strspn(rest, "_-.");
	if (!*rest || !strcasecmp(rest, "token"))
		return;
	if (name[0] == 'n')
		strbuf_addch(out, tolower((unsigned char)*rest));
	else
		strbuf_addch(out, *rest);
	strbuf_addstr(out, rest + 1);
}

static void add_cand(struct strbuf *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list->buf ? list->buf : "";

	if (!n)
		return;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);

		if (l == n && !memcmp(p, name, n))
			return;
		p += l + (nl ? 1 : 0);
	}
	if (list->len)
		strbuf_addch(list, '\n');
	strbuf_addstr(list, name);
}

/* Does the request carry name, in its query string or its JSON body? */
static int request_carries(const char *url, const struct json_doc *body, const char *name,
			   struct strbuf *probe)
{
	uint32_t vars;

	if (url_get_query(url, name, probe) == 1)
		return 1;
	if (!body)
		return 0;
	if (json_get(body, 0, name, strlen(name)))
		return 1;
	vars = json_get(body, 0, "variables", 9);
	return vars && json_type(body, vars) == JSON_OBJECT && json_get(body, vars, name, strlen(name));
}

/*
 * The candidates for a token held under member name, one a line, into
 * list: the one the request already carries alone (sure), else the pairs
 * APIs document, in the body first when the request is a JSON POST.
 * Returns 1 when the choice is sure, 0 when page 2 must confirm it.
 */
static int token_candidates(const char *url, const struct json_doc *body, const char *name,
			    struct strbuf *list, struct strbuf *probe)
{
	struct strbuf norm = STRBUF_INIT, der = STRBUF_INIT, names = STRBUF_INIT;
	const char *params = "%d\n%o", *carried = carried_cursor_param(url, probe), *p;
	size_t i;
	int sure = 0;

	strbuf_reset(list);
	norm_name(name, &norm);
	derived_name(name, &der);
	for (i = 0; i < sizeof(token_pairs) / sizeof(*token_pairs); i++)
		if (!strcmp(norm.buf, token_pairs[i].member))
			params = token_pairs[i].params;
	for (p = params; *p;) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		struct strbuf one = STRBUF_INIT;

		if (l == 2 && !memcmp(p, "%d", 2))
			strbuf_add(&one, der.buf ? der.buf : "", der.len);
		else if (l == 2 && !memcmp(p, "%o", 2))
			strbuf_addstr(&one, name);
		else
			strbuf_add(&one, p, l);
		if (one.buf)
			add_cand(&names, one.buf);
		strbuf_release(&one);
		p += l + (nl ? 1 : 0);
	}
	if (!names.len)
		add_cand(&names, "cursor");
	/* the request already names one of them: that one, for sure */
	for (p = names.buf; p && *p && !sure;) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		struct strbuf one = STRBUF_INIT;

		strbuf_add(&one, p, l);
		if (request_carries(url, body, one.buf, probe)) {
			strbuf_reset(list);
			if (url_get_query(url, one.buf, probe) == 1) {
				strbuf_addstr(list, one.buf);
			} else {
				strbuf_addstr(list, "body:");
				if (!json_get(body, 0, one.buf, one.len))
					strbuf_addstr(list, "/variables");
				json_ptr_append(list, one.buf, one.len);
			}
			sure = 1;
		}
		strbuf_release(&one);
		p += l + (nl ? 1 : 0);
	}
	if (!sure && carried) {
		strbuf_addstr(list, carried);
		sure = 1;
	}
	if (!sure) {
		int in_body = body && !json_get(body, 0, "query", 5);
		int pass;

		/* a JSON POST reads its position from the body (Notion, search APIs) */
		for (pass = in_body ? 0 : 1; pass < 2; pass++)
			for (p = names.buf; p && *p;) {
				const char *nl = strchr(p, '\n');
				size_t l = nl ? (size_t)(nl - p) : strlen(p);
				struct strbuf one = STRBUF_INIT;

				if (!pass) {
					strbuf_addstr(&one, "body:");
					json_ptr_append(&one, p, l);
				} else {
					strbuf_add(&one, p, l);
				}
				add_cand(list, one.buf);
				strbuf_release(&one);
				p += l + (nl ? 1 : 0);
			}
	}
	strbuf_release(&norm);
	strbuf_release(&der);
	strbuf_release(&names);
	return sure;
}

/*
 * Choose the cursor style with the token at path (held under member
 * name): its first candidate parameter, the rest kept for page 2 to try.
 */
static void set_cursor(struct pg_spec *s, const char *url, const struct json_doc *body,
		       const char *path, const char *name, struct strbuf *probe)
{
	struct strbuf list = STRBUF_INIT, rest = STRBUF_INIT;
	const char *nl;
	int sure = token_candidates(url, body, name, &list, probe);

	s->style = PG_CURSOR;
	pg_spec_set(&s->cursor_path, path);
	nl = list.buf ? strchr(list.buf, '\n') : NULL;
	for (; nl && *nl;) {
		const char *p = nl + 1, *next = strchr(p, '\n');
		size_t l = next ? (size_t)(next - p) : strlen(p);

		if (rest.len)
			strbuf_addch(&rest, '\n');
		strbuf_addstr(&rest, "cursor ");
		strbuf_add(&rest, p, l);
		nl = next;
	}
	if (list.buf && strchr(list.buf, '\n'))
		strbuf_setlen(&list, (size_t)(strchr(list.buf, '\n') - list.buf));
	pg_spec_set(&s->cursor_param, list.buf ? list.buf : "cursor");
	pg_spec_set(&s->cand, rest.len ? rest.buf : NULL);
	s->confirm = !sure;
	strbuf_release(&list);
	strbuf_release(&rest);
}

/* ---- where the request keeps its position ---- */

/* The request's JSON body, parsed into d: 1, or 0 when it has none. */
static int request_body(const struct http_req *r, struct json_doc *d)
{
	struct json_error je;
	int ok;

	if (!r || !r->has_body || !r->body.len)
		return 0;
	json_error_init(&je);
	ok = json_parse(d, r->body.buf, r->body.len, &je) == 0 && json_type(d, 0) == JSON_OBJECT;
	json_error_release(&je);
	return ok;
}

/*
 * The first of names the request carries with a whole number: in the query
 * string, or in a JSON body (GraphQL's variables, or the body itself).
 * Sets param ("name" or "body:/pointer") and *value; 1, or 0.
 */
static int request_param(const char *url, const struct json_doc *body, const char *const *names,
			 struct strbuf *param, uint64_t *value, struct strbuf *probe)
{
	size_t i;

	for (i = 0; names[i]; i++)
		if (url_get_query(url, names[i], probe) == 1 && probe->buf &&
		    num_parse_u64(probe->buf, value, "position", NULL) == 0) {
			strbuf_reset(param);
			strbuf_addstr(param, names[i]);
			return 1;
		}
	if (!body)
		return 0;
	for (i = 0; names[i]; i++) {
		uint32_t vars = json_get(body, 0, "variables", 9), t;

		if (vars && json_type(body, vars) == JSON_OBJECT &&
		    (t = json_get(body, vars, names[i], strlen(names[i]))) &&
		    json_u64(body, t, value) == 0) {
			strbuf_reset(param);
			strbuf_addstr(param, "body:/variables");
			json_ptr_append(param, names[i], strlen(names[i]));
			return 1;
		}
		if ((t = json_get(body, 0, names[i], strlen(names[i]))) && json_u64(body, t, value) == 0) {
			strbuf_reset(param);
			strbuf_addstr(param, "body:");
			json_ptr_append(param, names[i], strlen(names[i]));
			return 1;
		}
	}
	return 0;
}

/*
 * The page-size parameter of the request that a page of nrecords fills
 * (its value in *want), or 0 when no size the request asks for is reached.
 */
static int full_page(const char *url, const struct json_doc *body, size_t nrecords,
		     struct strbuf *param, uint64_t *want, struct strbuf *probe)
{
	return request_param(url, body, size_params, param, want, probe) && *want > 0 &&
	       nrecords >= *want;
}

/*
 * Position parameters that go with a page-size parameter, when the
 * request names only the size: json-server's _limit with _start, limit
 * with offset, OData's $top with $skip, per_page with page.
 */
static const struct {
	const char *size, *offset, *page;
} families[] = {
	{ "_limit", "_start", NULL }, { "limit", "offset", NULL }, { "$top", "$skip", NULL },
	{ "top", "skip", NULL }, { "take", "skip", NULL }, { "rows", "start", NULL },
	{ "maxResults", "startIndex", NULL }, { "per_page", NULL, "page" },
	{ "perPage", NULL, "page" }, { "page_size", NULL, "page" }, { "pageSize", NULL, "page" },
};

/* GraphQL's variable for a Relay cursor: one the request has, or "after". */
static void relay_param(const struct json_doc *body, struct strbuf *out)
{
	static const char *const names[] = { "after", "cursor", "afterCursor", "endCursor", NULL };
	uint32_t vars = body ? json_get(body, 0, "variables", 9) : 0;
	size_t i;

	strbuf_reset(out);
	strbuf_addstr(out, "body:/variables/");
	for (i = 0; vars && json_type(body, vars) == JSON_OBJECT && names[i]; i++)
		if (json_get(body, vars, names[i], strlen(names[i]))) {
			strbuf_addstr(out, names[i]);
			return;
		}
	strbuf_addstr(out, "after");
}

/* ---- --style auto ---- */

/* What pg_detect works with. */
struct detect {
	struct pg_spec *s;
	const char *url;
	const struct http_req *r;
	const struct json_doc *d;
	const struct json_doc *body;	/* the request's JSON body, or NULL */
	struct pg_result res;
	struct signals g;
	struct strbuf v, probe, param, linkv;
	struct strbuf *why;
	int evidence_total;		/* a total beyond this page */
	uint64_t reported_size;		/* a page size the body reports (limit, per_page …), 0: none */
};

/* -v's account of a cursor chosen. */
static void why_cursor(const struct pg_spec *s, struct strbuf *why, int empty)
{
	strbuf_addf(why, "%s holds a cursor%s; it goes back in '%s'", s->cursor_path,
		    empty ? " (empty: the last page)" : "", s->cursor_param);
	if (s->confirm && s->cand)
		strbuf_addstr(why, " (page 2 confirms it, or the other names APIs use are tried)");
}

/* 1: a next URL or a cursor decided the style; 0: neither is there. */
static int detect_links(struct detect *x)
{
	const struct json_doc *d = x->d;
	struct pg_spec *s = x->s;
	uint32_t t;
	size_t i;
	int k;

	/* a next URL at a known place (JSON:API links.next, OData, Facebook paging.next …) */
	for (i = 0; next_url_paths[i]; i++) {
		t = at(d, next_url_paths[i]);
		if (t == JSON_ABSENT || json_type(d, t) != JSON_STRING)
			continue;
		if (scalar_value(d, t, &x->v) > 0 && looks_like_url(x->v.buf)) {
			s->style = PG_NEXT_URL;
			pg_spec_set(&s->next_path, next_url_paths[i]);
			strbuf_addf(x->why, "%s holds a URL", next_url_paths[i]);
			return 1;
		}
	}
	/* a member anywhere whose name says next, holding a URL */
	if (x->g.url.depth >= 0) {
		s->style = PG_NEXT_URL;
		pg_spec_set(&s->next_path, x->g.url.ptr.buf);
		strbuf_addf(x->why, "%s %s", x->g.url.ptr.buf,
			    x->g.url_empty ? "is empty: the last page" : "holds the next URL");
		return 1;
	}
	/* a Relay connection (GraphQL): pageInfo { hasNextPage endCursor } */
	if (x->g.relay_cursor.depth >= 0) {
		s->style = PG_CURSOR;
		pg_spec_set(&s->cursor_path, x->g.relay_cursor.ptr.buf);
		pg_spec_set(&s->more_path, x->g.relay_more.ptr.buf);
		if (x->body && json_get(x->body, 0, "query", 5)) {
			relay_param(x->body, &x->param);
			pg_spec_set(&s->cursor_param, x->param.buf);
		} else {
			set_cursor(s, x->url, x->body, x->g.relay_cursor.ptr.buf, "endCursor", &x->probe);
		}
		strbuf_addf(x->why, "a Relay connection: %s says whether more follow, %s is the "
			    "cursor; it goes back in '%s'", x->g.relay_more.ptr.buf,
			    x->g.relay_cursor.ptr.buf, s->cursor_param);
		return 1;
	}
	/* a cursor at a known place (Slack, Google, Twitter …) */
	for (i = 0; cursor_paths[i]; i++) {
		t = at(d, cursor_paths[i]);
		if (t == JSON_ABSENT)
			continue;
		k = scalar_value(d, t, &x->v);
		if (k < 0 || (k > 0 && json_type(d, t) == JSON_STRING && looks_like_url(x->v.buf)))
			continue;
		if (k == 0 && json_type(d, t) != JSON_NULL && json_type(d, t) != JSON_STRING)
			continue;
		set_cursor(s, x->url, x->body, cursor_paths[i], strrchr(cursor_paths[i], '/') + 1,
			   &x->probe);
		why_cursor(s, x->why, k == 0);
		return 1;
	}
	/*
	 * a member anywhere whose name says next, holding a token or a number;
	 * then a token under a name APIs give positions (offset, cursor,
	 * marker, bookmark, continue …) beside the records or in a paging object
	 */
	for (i = 0; i < 2; i++) {
		const struct sig *g = i ? &x->g.postoken : &x->g.token;
		const struct strbuf *name = i ? &x->g.postoken_name : &x->g.token_name;

		if (g->depth < 0)
			continue;
		set_cursor(s, x->url, x->body, g->ptr.buf, name->buf ? name->buf : "", &x->probe);
		why_cursor(s, x->why, i ? x->g.postoken_empty : x->g.token_empty);
		return 1;
	}
	return 0;
}

/* has_more and friends: 1 decided, 0 not, -1 undecidable (why says so). */
static int detect_flag(struct detect *x)
{
	const struct json_doc *d = x->d;
	struct pg_spec *s = x->s;
	uint32_t t;
	int more = flag_more(&x->g);

	if (more < 0)
		return 0;
	if (!more) {
		s->style = PG_NONE;
		adopt_flag(s, &x->g);
		strbuf_addf(x->why, "%s is %s: the only page", x->g.flag.ptr.buf,
			    x->g.flag_value ? "true" : "false");
		return 1;
	}
	t = x->res.nrecords ? json_get(d, last_record(d, &x->res), "id", 2) : 0;
	if (t && (json_type(d, t) == JSON_STRING || json_type(d, t) == JSON_NUMBER)) {
		s->style = PG_KEYSET;
		adopt_flag(s, &x->g);
		pg_spec_set(&s->key_field, "/id");
		pg_spec_set(&s->key_param, url_get_query(x->url, "starting_after", &x->probe) == 1 ||
						   url_get_query(x->url, "after", &x->probe) != 1
					   ? "starting_after" : "after");
		strbuf_addf(x->why, "%s says more follow and records have an id: the next page "
			    "starts after the last id ('%s')", x->g.flag.ptr.buf, s->key_param);
		return 1;
	}
	return -1;
}

/* Numbers in the body that echo the position, or describe the page size. */
struct numscan {
	struct strbuf off, off_name, off_parent;	/* an offset echo: where, its name */
	struct strbuf page, page_name, page_parent;	/* a page number echo */
	uint64_t page_value, size;
	int has_off, has_page, has_hint, has_size;
	struct strbuf hint;				/* a page count or size: where */
};

/* Echoes of an offset (Jira's startAt, Confluence's start) and of a page number. */
static const char *const offset_echoes[] = { "offset", "skip", "startat", "start", "from",
					     "startindex", NULL };
static const char *const page_echoes[] = { "page", "currentpage", "pagenumber", "pageno", NULL };
/* Members that say a listing is paged: page counts and sizes. */
static const char *const page_counts[] = { "totalpages", "lastpage", "nbpages", "pagecount",
					   "pages", NULL };
static const char *const page_sizes[] = { "perpage", "pagesize", "pagelen", "hitsperpage",
					  "limit", "maxresults", "take", "resultsperpage", NULL };

static void scan_numbers(const struct json_doc *d, uint32_t t, struct strbuf *ptr, int depth,
			 const char *parent, struct numscan *ns, struct strbuf *name)
{
	size_t base = ptr->len;
	uint32_t k;
	struct strbuf norm = STRBUF_INIT;

	for (k = json_first(d, t); k; k = json_next(d, t, k)) {
		uint32_t v = k + 1;

		strbuf_reset(name);
		json_str_decode(d, k, name);
		norm_name(name->buf ? name->buf : "", &norm);
		json_ptr_append(ptr, name->buf ? name->buf : "", name->len);
		if (json_type(d, v) == JSON_OBJECT && depth < 3 &&
		    !in_list(norm.buf, foreign_objects)) {
			struct strbuf sub = STRBUF_INIT;

			strbuf_add(&sub, norm.buf, norm.len);
			scan_numbers(d, v, ptr, depth + 1, sub.buf, ns, name);
			strbuf_release(&sub);
		} else if (json_type(d, v) == JSON_NUMBER) {
			uint64_t n = 0;
			int whole = json_u64(d, v, &n) == 0;
			/* Spring's page.number; any page echo elsewhere */
			int is_page = in_list(norm.buf, page_echoes) ||
				      (!strcmp(norm.buf, "number") && !strcmp(parent, "page"));
			struct strbuf *w = NULL, *wn = NULL, *wp = NULL;

			if (whole && !ns->has_off && in_list(norm.buf, offset_echoes)) {
				ns->has_off = 1;
				w = &ns->off, wn = &ns->off_name, wp = &ns->off_parent;
			} else if (whole && !ns->has_page && is_page) {
				ns->has_page = 1;
				ns->page_value = n;
				w = &ns->page, wn = &ns->page_name, wp = &ns->page_parent;
			} else if (whole && in_list(norm.buf, page_sizes)) {
				if (!ns->has_size)
					ns->size = n;
				ns->has_size = 1;
			}
			if (in_list(norm.buf, page_counts) || in_list(norm.buf, page_sizes)) {
				if (!ns->has_hint)
					strbuf_add(&ns->hint, ptr->buf, ptr->len);
				ns->has_hint = 1;
			}
			if (w) {
				strbuf_add(w, ptr->buf, ptr->len);
				strbuf_add(wn, name->buf ? name->buf : "", name->len);
				strbuf_addstr(wp, depth ? parent : "");
			}
		}
		strbuf_setlen(ptr, base);
	}
	strbuf_release(&norm);
}

static void numscan_init(struct numscan *ns)
{
	struct strbuf *all[] = { &ns->off, &ns->off_name, &ns->off_parent, &ns->page,
				 &ns->page_name, &ns->page_parent, &ns->hint };
	size_t i;

	memset(ns, 0, sizeof(*ns));
	for (i = 0; i < sizeof(all) / sizeof(*all); i++)
		strbuf_init(all[i], 0);
}

static void numscan_release(struct numscan *ns)
{
	strbuf_release(&ns->off);
	strbuf_release(&ns->off_name);
	strbuf_release(&ns->off_parent);
	strbuf_release(&ns->page);
	strbuf_release(&ns->page_name);
	strbuf_release(&ns->page_parent);
	strbuf_release(&ns->hint);
}

/*
 * A query parameter of the request whose name ends with the echo's
 * (Magento's searchCriteria[currentPage] for search_criteria.current_page):
 * into out, 1; else 0.
 */
static int param_like(const char *url, const char *echo, struct strbuf *out)
{
	const char *q = strchr(url, '?');
	struct strbuf want = STRBUF_INIT, n = STRBUF_INIT, raw = STRBUF_INIT;
	int found = 0;

	norm_name(echo, &want);
	while (q && *q && !found) {
		const char *amp, *eq;

		q++;
		amp = strchr(q, '&');
		eq = memchr(q, '=', amp ? (size_t)(amp - q) : strlen(q));
		strbuf_reset(&raw);
		strbuf_add(&raw, q, eq ? (size_t)(eq - q) : amp ? (size_t)(amp - q) : strlen(q));
		strbuf_reset(out);
		if (url_decode(out, raw.buf ? raw.buf : "", raw.len) == 0 && out->buf) {
			norm_name(out->buf, &n);
			/* per_page ends with page too: a size is never the position */
			found = n.len > want.len && want.len >= 4 &&
				!strcmp(n.buf + n.len - want.len, want.buf) &&
				!strstr(n.buf, "size") && !strstr(n.buf, "per") &&
				!in_list(n.buf, page_sizes);
		}
		q = amp;
	}
	if (!found)
		strbuf_reset(out);
	strbuf_release(&want);
	strbuf_release(&n);
	strbuf_release(&raw);
	return found;
}

/* "KIND NAME[ BASE]" lines after the first, into s->cand (the first goes in force). */
static void add_guess(struct strbuf *cand, const char *kind, const char *name, int base)
{
	struct strbuf line = STRBUF_INIT;

	if (base >= 0)
		strbuf_addf(&line, "%s %s %d", kind, name, base);
	else
		strbuf_addf(&line, "%s %s", kind, name);
	add_cand(cand, line.buf);
	strbuf_release(&line);
}

/* Put the first of cand in force: s->cand keeps the rest, and page 2 confirms. */
static void adopt_guesses(struct pg_spec *s, struct strbuf *cand, struct strbuf *why)
{
	pg_spec_set(&s->cand, cand->buf);
	pg_spec_set(&s->cursor_param, NULL);
	s->confirm = 1;
	pg_next_candidate(s, why);
	s->confirm = 1;
	s->per_page = 0;
	s->limit = 0;
}

/* The other names APIs read an offset or a page number under, for page 2 to try. */
static void generic_guesses(struct strbuf *cand, int pages_first)
{
	static const char *const offsets[] = { "offset", "start", "skip", "from", "startAt",
					       "_start", "$skip", NULL };
	size_t i;

	if (pages_first) {
		add_guess(cand, "page", "page", 0);
		add_guess(cand, "page", "page", 1);
	}
	for (i = 0; offsets[i]; i++) {
		add_guess(cand, "offset", offsets[i], -1);
		if (i == 0 && !pages_first) {
			add_guess(cand, "page", "page", 0);
			add_guess(cand, "page", "page", 1);
		}
	}
}

/* offset/limit or a page number in the body: 1 decided, 0 not. */
static int detect_body_position(struct detect *x)
{
	struct numscan ns;
	struct strbuf name = STRBUF_INIT, cand = STRBUF_INIT, which = STRBUF_INIT;
	struct pg_spec *s = x->s;
	int decided = 0;

	numscan_init(&ns);
	if (json_type(x->d, 0) == JSON_OBJECT)
		scan_numbers(x->d, 0, &x->probe, 0, "", &ns, &name);
	strbuf_reset(&x->probe);
	if (ns.has_off && (ns.has_hint || x->res.has_total)) {
		strbuf_reset(&x->param);
		if (request_carries(x->url, NULL, ns.off_name.buf, &x->probe) ||
		    param_like(x->url, ns.off_name.buf, &x->param)) {
			s->style = PG_OFFSET;
			pg_spec_set(&s->offset_param, x->param.len ? x->param.buf : ns.off_name.buf);
		} else {
			add_guess(&cand, "offset", ns.off_name.buf, -1);
			if (ns.off_parent.len) {
				strbuf_addf(&which, "%s[%s]", ns.off_parent.buf, ns.off_name.buf);
				add_guess(&cand, "offset", which.buf, -1);
			}
			generic_guesses(&cand, 0);
			adopt_guesses(s, &cand, &which);
		}
		s->limit = 0;
		strbuf_addf(x->why, "%s echoes the offset, with %s: offset pagination ('%s', stepping "
			    "by the records each page holds%s)", ns.off.buf,
			    ns.has_hint ? ns.hint.buf : "a total", s->offset_param,
			    s->confirm ? "; page 2 confirms the name, or the other names APIs use "
					 "are tried" : "");
		decided = 1;
	} else if (ns.has_page && (ns.has_hint || x->res.has_total)) {
		int base = (int)(ns.page_value > 1 ? 1 : ns.page_value);

		strbuf_reset(&x->param);
		if (request_carries(x->url, NULL, ns.page_name.buf, &x->probe) ||
		    param_like(x->url, ns.page_name.buf, &x->param)) {
			s->style = PG_PAGE;
			pg_spec_set(&s->page_param, x->param.len ? x->param.buf : ns.page_name.buf);
			s->start_page = ns.page_value;
			s->per_page = 0;
		} else {
			const char *own = !strcmp(ns.page_name.buf, "number") ? "page" : ns.page_name.buf;

			add_guess(&cand, "page", own, base);
			add_guess(&cand, "page", "page", base);
			if (ns.page_parent.len && strcmp(ns.page_parent.buf, "page")) {
				strbuf_addf(&which, "%s[%s]", ns.page_parent.buf, own);
				add_guess(&cand, "page", which.buf, base);
				strbuf_reset(&which);
				strbuf_addf(&which, "%s[%s]", ns.page_parent.buf, "page");
				add_guess(&cand, "page", which.buf, base);
			}
			adopt_guesses(s, &cand, &which);
			s->start_page = ns.page_value;
		}
		strbuf_addf(x->why, "%s echoes the page number, with %s: page-number pagination "
			    "('%s'%s)", ns.page.buf, ns.has_hint ? ns.hint.buf : "a total",
			    s->page_param, s->confirm ? "; page 2 confirms the name, or the other names "
							"APIs use are tried" : "");
		decided = 1;
	}
	if (!decided && ns.has_size)
		x->reported_size = ns.size;
	numscan_release(&ns);
	strbuf_release(&name);
	strbuf_release(&cand);
	strbuf_release(&which);
	return decided;
}

/*
 * The API reports a total beyond this page and nothing says where the
 * next page is: guess the position parameters APIs use most, each held
 * to being confirmed by page 2 (page 1 again, or a 4xx, moves on) and
 * the crawl to meeting the total.  Page counts put page numbers first.
 */
static int detect_total_guess(struct detect *x)
{
	struct strbuf cand = STRBUF_INIT, which = STRBUF_INIT;
	struct pg_spec *s = x->s;
	struct numscan ns;
	struct strbuf name = STRBUF_INIT;

	if (!x->evidence_total)
		return 0;
	numscan_init(&ns);
	if (json_type(x->d, 0) == JSON_OBJECT)
		scan_numbers(x->d, 0, &x->probe, 0, "", &ns, &name);
	strbuf_reset(&x->probe);
	/* the data-driven part: shapes whose parameter is known */
	if (json_type(x->d, 0) == JSON_OBJECT && json_get(x->d, 0, "_shards", 7))
		add_guess(&cand, "offset", "from", -1);		/* Elasticsearch: from/size */
	if (json_type(x->d, 0) == JSON_OBJECT && json_get(x->d, 0, "help", 4) &&
	    json_get(x->d, 0, "success", 7))
		add_guess(&cand, "offset", "start", -1);	/* CKAN: start/rows */
	generic_guesses(&cand, ns.has_hint);
	adopt_guesses(s, &cand, &which);
	s->guessed = 1;
	strbuf_addf(x->why, "the API reports a total of %llu and the page holds %zu, with no "
		    "position to go on from: trying %s (page 2 confirms it, or the other names APIs "
		    "use are tried; the crawl must then fetch that total)",
		    (unsigned long long)x->res.total, x->res.nrecords, which.buf);
	numscan_release(&ns);
	strbuf_release(&name);
	strbuf_release(&cand);
	strbuf_release(&which);
	return 1;
}

/*
 * The page says there is more (a total beyond it, a flag, or as full as
 * the size asked for) and the request carries its position, or names a
 * size whose position parameter is known: go on in it.  1 decided, 0 not.
 */
static int detect_request_position(struct detect *x)
{
	struct pg_spec *s = x->s;
	uint64_t want = 0, pos = 0;
	const char *because;
	int full = full_page(x->url, x->body, x->res.nrecords, &x->param, &want, &x->probe);

	because = x->evidence_total ? "a total beyond it" : flag_more(&x->g) == 1 ? "a flag"
		  : full ? "a full page" : NULL;
	if (!because)
		return 0;
	if (request_param(x->url, x->body, offset_params, &x->param, &pos, &x->probe)) {
		s->style = PG_OFFSET;
		pg_spec_set(&s->offset_param, x->param.buf);
		s->limit = 0;	/* the size stays as the request gives it */
		strbuf_addf(x->why, "the request carries '%s' and the page says there is more "
			    "(%s): offset pagination, stepping by the records each page holds",
			    x->param.buf, because);
		return 1;
	}
	if (request_param(x->url, x->body, page_params, &x->param, &pos, &x->probe)) {
		s->style = PG_PAGE;
		pg_spec_set(&s->page_param, x->param.buf);
		s->start_page = pos;
		s->per_page = 0;
		strbuf_addf(x->why, "the request carries '%s' and the page says there is more "
			    "(%s): page-number pagination", x->param.buf, because);
		return 1;
	}
	return 0;
}

/*
 * The request names only a page size and the API reports a total: go on
 * in the position parameter that usually goes with that size, and hold
 * the crawl to the total (a wrong guess fails, it never ends short).
 */
static int detect_size_family(struct detect *x)
{
	struct pg_spec *s = x->s;
	uint64_t want = 0;
	size_t i;

	if (!x->evidence_total ||
	    !request_param(x->url, x->body, size_params, &x->param, &want, &x->probe))
		return 0;
	for (i = 0; i < sizeof(families) / sizeof(*families); i++) {
		if (strcmp(x->param.buf, families[i].size))
			continue;
		s->guessed = 1;
		if (families[i].offset) {
			s->style = PG_OFFSET;
			pg_spec_set(&s->offset_param, families[i].offset);
			s->limit = 0;
		} else {
			s->style = PG_PAGE;
			pg_spec_set(&s->page_param, families[i].page);
			s->start_page = 1;
			s->per_page = 0;
		}
		strbuf_addf(x->why, "the request names only its size '%s' and the API reports a total "
			    "of %llu: going on in '%s', the parameter that goes with it; the crawl "
			    "must then fetch that total", x->param.buf, (unsigned long long)x->res.total,
			    families[i].offset ? families[i].offset : families[i].page);
		return 1;
	}
	return 0;
}

/*
 * The style chosen (and compiled), does the first page lead on?  When it does not while
 * the page reports more (a total beyond it, a flag that says so), the
 * choice cannot be right: EX_DATAERR.
 */
static int check_evidence(struct detect *x, struct aperr *e)
{
	struct pg_result res;
	int leads = 0, more = flag_more(&x->g), rc = 0;

	pg_result_init(&res);
	if (pg_examine(x->s, x->url, x->r, x->d, &res, e) < 0) {
		pg_result_release(&res);
		return -1;
	}
	switch (x->s->style) {
	case PG_OFFSET:
	case PG_PAGE:
		leads = res.nrecords > 0;
		break;
	case PG_NONE:
		leads = 0;
		break;
	default:
		leads = res.has_token && res.more != 0;
	}
	if (!leads && (x->evidence_total || more == 1)) {
		strbuf_addstr(x->why, "; but ");
		if (more == 1)
			strbuf_addf(x->why, "%s says more pages follow", x->g.flag.ptr.buf);
		else
			strbuf_addf(x->why, "the API reports a total of %llu and the page holds %zu",
				    (unsigned long long)x->res.total, x->res.nrecords);
		rc = aperr_set(e, EX_DATAERR, "cannot tell how this API paginates: %s; name the "
			       "style with --style (and where the next page is: --next-path, "
			       "--cursor-path with --cursor-param, --offset-param, --page-param)",
			       x->why->buf);
	}
	pg_result_release(&res);
	return rc;
}

/*
 * A page count a page size could be: 10 or more, and a multiple of 5 or
 * of 12, or a power of two (the defaults APIs document: 10, 20, 25, 30,
 * 50, 100, 200, 1000; 12, 24; 64, 128, 256).
 */
static int round_count(size_t n)
{
	return n >= 10 && (n % 5 == 0 || n % 12 == 0 || (n & (n - 1)) == 0);
}

/*
 * Page 1 shows nothing that leads on: is it evidently the whole listing?
 * It is when it is empty, when a total says so (a figure that may be the
 * page's own count never does: see weak_total_names), when it holds fewer
 * records than the page size the request asked for or the body reports,
 * or when its count is not one a page size could be (round_count).
 */
static int one_page_evident(struct detect *x)
{
	uint64_t want = 0;
	size_t n = x->res.nrecords;

	if (!n || (x->res.has_total && x->res.total <= n))
		return 1;
	if (request_param(x->url, x->body, size_params, &x->param, &want, &x->probe) && want > n)
		return 1;
	if (x->reported_size > n)
		return 1;
	return !round_count(n);
}

/* Nothing decided: a listing of one page, unless the page says otherwise. */
static int detect_none(struct detect *x, struct aperr *e)
{
	uint64_t want = 0;

	if (x->evidence_total || flag_more(&x->g) == 1) {
		if (x->why->len)
			strbuf_addstr(x->why, "; ");
		describe(x->d, x->r, &x->res, x->why);
		return aperr_set(e, EX_DATAERR, "cannot tell how this API paginates: the response "
				 "shows %s%s; name the style with --style (for example --style offset "
				 "--offset-param NAME, or --style page --page-param NAME)", x->why->buf,
				 flag_more(&x->g) == 1 ? " and a flag that says more pages follow" : "");
	}
	/* a full page is evidence only while no total says it is the whole listing */
	if (!(x->res.has_total && x->res.total <= x->res.nrecords) &&
	    full_page(x->url, x->body, x->res.nrecords, &x->param, &want, &x->probe)) {
		describe(x->d, x->r, &x->res, x->why);
		return aperr_set(e, EX_DATAERR, "cannot tell how this API paginates: a full page of "
				 "%zu records (%s=%llu) and %s; name the style with --style",
				 x->res.nrecords, x->param.buf, (unsigned long long)want, x->why->buf);
	}
	if (!one_page_evident(x)) {
		describe(x->d, x->r, &x->res, x->why);
		return aperr_set(e, EX_DATAERR, "cannot tell whether this is the whole listing: "
				 "%zu records, a number of records a page of this API could be cut "
				 "at, and nothing that says where a next page is or that this is the "
				 "last (%s); if it is one page, say so with --style none; else name the "
				 "style (for example --style page --page-param page)",
				 x->res.nrecords, x->why->buf);
	}
	x->s->style = PG_NONE;
	strbuf_addstr(x->why, "no Link header, next URL, cursor, continuation flag, total, offset "
			      "or page fields: a listing of one page");
	return 0;
}

static int detect_run(struct detect *x, struct aperr *e)
{
	const struct json_doc *d = x->d;
	struct pg_spec *s = x->s;
	size_t n = 0;
	const char *link = NULL;
	int k, kl = 0;

	/* 1. RFC 8288 Link header (GitHub and every API that follows it), every field line */
	if (http_req_header_all(x->r, "link", &x->linkv)) {
		link = x->linkv.buf ? x->linkv.buf : "";
		n = x->linkv.len;
	}
	if (link && (kl = link_find(link, n, "next", &x->probe, e)) < 0) {
		return aperr_prefix(e, "cannot tell how this API paginates");
	}
	if (link && (x->probe.len || kl == 2)) {
		s->style = PG_LINK;
		strbuf_addstr(x->why, kl == 2 ? "the Link header's rel=\"next\" says results=\"false\": "
						"the last page"
					      : "the Link header has rel=\"next\"");
		return 0;
	}
	if (find_records(s, d, &x->res, e) < 0) {
		if (e->code == EX_DATAERR && d)
			aperr_prefix(e, "cannot tell how this API paginates");
		return -1;
	}
	page_total(s, d, x->r, &x->res);
	x->g.nrecords = x->res.nrecords;
	if (json_type(d, 0) == JSON_OBJECT) {
		strbuf_reset(&x->probe);
		walk(d, 0, &x->probe, 0, &x->g, &x->v);
	}
	if (!x->res.has_total && x->g.total.depth >= 0) {
		x->res.has_total = 1;
		x->res.total = x->g.total_value;
		pg_spec_set(&s->total_path, x->g.total.ptr.buf);
	}
	/* any figure beyond the page's records says there is more, whichever total is used */
	x->evidence_total = (x->res.has_total && x->res.total > x->res.nrecords) || x->g.weak_beyond;
	if (link) {
		static const char *const rels[] = { "last", "prev", "first" };
		size_t m;

		for (m = 0; m < 3; m++) {
			strbuf_reset(&x->probe);
			if (link_find(link, n, rels[m], &x->probe, NULL) == 1)
				break;
		}
		if (m < 3) {
			s->style = PG_LINK;
			strbuf_addf(x->why, "the Link header has rel=\"%s\" and no rel=\"next\": the "
				    "last page", rels[m]);
			return 0;
		}
	}
	if (json_type(d, 0) != JSON_OBJECT)
		return detect_request_position(x) || detect_size_family(x) || detect_total_guess(x)
			       ? 0 : detect_none(x, e);
	/* 2. a next URL, 3. a cursor */
	if (detect_links(x)) {
		if (!s->more_path)
			adopt_flag(s, &x->g);
		return 0;
	}
	/* 4. offset or page numbers in the body, 5. in the request, 6. a size's usual partner */
	if (detect_body_position(x) || detect_request_position(x) || detect_size_family(x)) {
		adopt_flag(s, &x->g);
		return 0;
	}
	/* 7. a continuation flag (with record ids: the next page starts after the last) */
	k = detect_flag(x);
	if (k > 0)
		return 0;
	/* 8. a total beyond the page and nothing else: the usual names, confirmed by page 2 */
	if (k == 0 && detect_total_guess(x)) {
		adopt_flag(s, &x->g);
		return 0;
	}
	if (k < 0) {
		strbuf_addf(x->why, "%s says more follow but there is no cursor, next URL or "
			    "record id to go on from; ", x->g.flag.ptr.buf);
		describe(d, x->r, &x->res, x->why);
		return aperr_set(e, EX_DATAERR, "cannot tell how this API paginates: %s; name the "
				 "style with --style", x->why->buf);
	}
	return detect_none(x, e);
}

int pg_detect(struct pg_spec *s, const char *url, const struct http_req *r,
	      const struct json_doc *d, struct strbuf *why, struct aperr *e)
{
	struct detect x;
	struct json_doc body;
	int rc;

	memset(&x, 0, sizeof(x));
	x.s = s;
	x.url = url;
	x.r = r;
	x.d = d;
	x.why = why;
	pg_result_init(&x.res);
	signals_init(&x.g);
	strbuf_init(&x.v, 0);
	strbuf_init(&x.probe, 0);
	strbuf_init(&x.param, 0);
	strbuf_init(&x.linkv, 0);
	json_doc_init(&body, 64);
	if (request_body(r, &body))
		x.body = &body;
	strbuf_reset(why);
	rc = detect_run(&x, e);
	if (rc == 0)
		rc = pg_spec_compile(s, e);
	if (rc == 0)
		rc = check_evidence(&x, e);
	json_doc_release(&body);
	pg_result_release(&x.res);
	signals_release(&x.g);
	strbuf_release(&x.v);
	strbuf_release(&x.probe);
	strbuf_release(&x.param);
	strbuf_release(&x.linkv);
	return rc;
}

int pg_request_id(const struct http_req *r, const struct secrets *secrets, char out[33])
{
	struct strbuf m = STRBUF_INIT;
	unsigned char md[SHA256_DIGEST_LENGTH];
	static const char hex[] = "0123456789abcdef";
	size_t i;

	strbuf_addstr(&m, r->method ? r->method : r->has_body ? "POST" : "GET");
	strbuf_addch(&m, '\n');
	strbuf_addstr(&m, r->url);
	/* a held secret a server echoed into a link does not make a page another */
	if (secrets)
		secrets_scrub(secrets, &m);
	strbuf_addch(&m, '\n');
	if (r->has_body)
		strbuf_add(&m, r->body.buf, r->body.len);
	if (strbuf_failed(&m) || !m.buf) {
		strbuf_release(&m);
		return -1;
	}
	SHA256((const unsigned char *)m.buf, m.len, md);
	explicit_bzero(m.buf, m.len);
	for (i = 0; i < 16; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[32] = '\0';
	strbuf_release(&m);
	return 0;
}

int pg_spec_copy(struct pg_spec *dst, const struct pg_spec *src, struct aperr *e)
{
	struct strbuf j = STRBUF_INIT;
	struct jsonw w;
	struct json_doc d;
	struct json_error je;
	int rc;

	json_doc_init(&d, 4);
	json_error_init(&je);
	pg_spec_init(dst);
	jw_init(&w, &j);
	pg_spec_json(src, &w);
	rc = jw_finish(&w) < 0 || json_parse(&d, j.buf, j.len, &je) < 0
		     ? aperr_set(e, EX_OSERR, "out of memory")
		     : pg_spec_from_json(dst, &d, 0, e);
	json_doc_release(&d);
	json_error_release(&je);
	strbuf_release(&j);
	return rc;
}

int pg_graphql_body(const char *query, size_t n, const char *variables, struct strbuf *out,
		    struct aperr *e)
{
	struct jsonw w;
	struct json_doc d;
	struct json_error je;
	int rc = 0;

	json_doc_init(&d, JSON_DEFAULT_DEPTH);
	json_error_init(&je);
	if (variables && (json_parse(&d, variables, strlen(variables), &je) < 0 ||
			  json_type(&d, 0) != JSON_OBJECT))
		rc = aperr_set(e, EX_USAGE, "--variables: not a JSON object");
	if (!rc) {
		jw_init(&w, out);
		jw_object(&w);
		jw_key(&w, "query");
		jw_strn(&w, query, n);
		jw_key(&w, "variables");
		if (variables)
			jw_value(&w, &d, 0);
		else
			jw_raw(&w, "{}", 2);
		jw_end_object(&w);
		if (jw_finish(&w) < 0)
			rc = aperr_set(e, EX_DATAERR, "%s", jw_error(&w));
	}
	json_doc_release(&d);
	json_error_release(&je);
	return rc;
}
