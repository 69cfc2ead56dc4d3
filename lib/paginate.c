#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>

#include <openssl/sha.h>

#include "hash.h"
#include "url.h"
#include "link.h"
#include "num.h"
#include "jsonw.h"
#include "paginate.h"
#include "pagint.h"

/*
 * Each style as a unit, indexed by enum pag_style: its name, how it reads
 * the next position from a page (pag_examine), and the parameters a
 * request for a position carries (pag_url, pag_body).  A new style is a row
 * of pag_styles[] (below, with the functions).
 */
#define NSTYLES ((size_t)PAG_NONE + 1)
struct pag_style_unit {
	const char *name;
	int (*read)(const struct pag_spec *s, const char *url, const struct http_req *r,
		    const struct json_doc *d, struct pag_result *res, struct aperr *e);
	size_t (*params)(const struct pag_spec *s, const char *value, char num[2][24],
			 const char *names[2], const char *vals[2]);
};
static const struct pag_style_unit pag_styles[NSTYLES];

const char *pag_style_name(enum pag_style s)
{
	return (size_t)s < NSTYLES ? pag_styles[s].name : "?";
}

int pag_style_parse(const char *name, enum pag_style *out, struct aperr *e)
{
	size_t i;

	for (i = 0; i < NSTYLES; i++)
		if (!strcmp(name, pag_styles[i].name)) {
			*out = (enum pag_style)i;
			return 0;
		}
	return aperr_set(e, EX_USAGE,
			 "--style: '%s' is not one of auto, cursor, next-url, link, offset, page, "
			 "keyset, none",
			 name);
}

/* A parameter that goes into the JSON request body ("body:/pointer"). */
static int in_body(const char *param)
{
	return param && !strncmp(param, "body:", 5);
}

int pag_spec_set(char **field, const char *v)
{
	char *c = v ? strdup(v) : NULL;

	if (v && !c)
		return -1;
	free(*field);
	*field = c;
	return 0;
}

void pag_spec_init(struct pag_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->style = PAG_AUTO;
	s->start_page = 1;
	pag_spec_set(&s->offset_param, "offset");
	pag_spec_set(&s->limit_param, "limit");
	pag_spec_set(&s->page_param, "page");
	pag_spec_set(&s->per_page_param, "per_page");
}

static void uncompile(struct pag_spec *s)
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
	{ "cursor_path", offsetof(struct pag_spec, cursor_path) },
	{ "cursor_param", offsetof(struct pag_spec, cursor_param) },
	{ "next_path", offsetof(struct pag_spec, next_path) },
	{ "more_path", offsetof(struct pag_spec, more_path) },
	{ "done_path", offsetof(struct pag_spec, done_path) },
	{ "total_path", offsetof(struct pag_spec, total_path) },
	{ "offset_param", offsetof(struct pag_spec, offset_param) },
	{ "limit_param", offsetof(struct pag_spec, limit_param) },
	{ "page_param", offsetof(struct pag_spec, page_param) },
	{ "per_page_param", offsetof(struct pag_spec, per_page_param) },
	{ "key_field", offsetof(struct pag_spec, key_field) },
	{ "key_param", offsetof(struct pag_spec, key_param) },
	{ "records_path", offsetof(struct pag_spec, records_path) },
	{ "cand", offsetof(struct pag_spec, cand) },
};
#define SPEC_FIELD(s, i) ((char **)(void *)((char *)(s) + spec_strings[i].off))
#define SPEC_CFIELD(s, i) (*(char *const *)(const void *)((const char *)(s) + spec_strings[i].off))

void pag_spec_release(struct pag_spec *s)
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

int pag_spec_compile(struct pag_spec *s, struct aperr *e)
{
	const char *need = NULL;

	uncompile(s);
	if (s->style == PAG_CURSOR && (!s->cursor_path || !s->cursor_param))
		need = "--style cursor needs --cursor-path and --cursor-param";
	else if (s->style == PAG_NEXT_URL && !s->next_path)
		need = "--style next-url needs --next-path";
	else if (s->style == PAG_KEYSET && (!s->key_field || !s->key_param))
		need = "--style keyset needs --order-field and --order-param";
	else if (s->style == PAG_OFFSET && (!s->offset_param || !*s->offset_param))
		need = "--style offset needs an --offset-param name";
	else if (s->style == PAG_PAGE && (!s->page_param || !*s->page_param))
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

int pag_next_candidate(struct pag_spec *s, struct strbuf *why)
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
		pag_spec_set(&s->cand, rest && *rest ? s->cand + (rest - line) : NULL);
		kind = line;
		name = strchr(kind, ' ');
		if (!name) {
			free(line);
			continue;
		}
		*name++ = '\0';
		base = strrchr(name, ' ');
		if (!strcmp(kind, "cursor")) {
			pag_spec_set(&s->cursor_param, name);
		} else if (!strcmp(kind, "offset")) {
			s->style = PAG_OFFSET;
			pag_spec_set(&s->offset_param, name);
		} else if (!strcmp(kind, "page") && base) {
			*base++ = '\0';
			s->style = PAG_PAGE;
			pag_spec_set(&s->page_param, name);
			s->start_page = strtoull(base, NULL, 10);
		} else {
			free(line);
			continue;
		}
		strbuf_reset(why);
		strbuf_addf(why, "%s '%s'", kind, name);
		ok = pag_spec_compile(s, &e) == 0;
		free(line);
	}
	if (!s->cand || !*s->cand)
		pag_spec_set(&s->cand, NULL);
	return ok;
}

/* ---- checkpoints ---- */

void pag_spec_json(const struct pag_spec *s, struct jsonw *w)
{
	size_t i;

	jw_object(w);
	jw_member_str(w, "style", pag_style_name(s->style));
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

int pag_spec_from_json(struct pag_spec *s, const struct json_doc *d, uint32_t obj,
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
	if (!t || json_str_decode(d, t, &v) < 0 || pag_style_parse(v.buf, &s->style, e) < 0) {
		strbuf_release(&v);
		return aperr_set(e, EX_DATAERR, "/spec/style: not a style");
	}
	for (i = 0; i < sizeof(spec_strings) / sizeof(*spec_strings); i++) {
		t = json_get(d, obj, spec_strings[i].name, strlen(spec_strings[i].name));
		strbuf_reset(&v);
		if (t && json_type(d, t) == JSON_STRING && json_str_decode(d, t, &v) == 0)
			pag_spec_set(SPEC_FIELD(s, i), v.buf);
		else
			pag_spec_set(SPEC_FIELD(s, i), NULL);
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
	return pag_spec_compile(s, e) < 0 ? aperr_set(e, EX_DATAERR, "/spec: %s", e->msg) : 0;
}

/* ---- reading a response ---- */

void pag_result_init(struct pag_result *res)
{
	memset(res, 0, sizeof(*res));
	records_page_init(&res->rp);
	strbuf_init(&res->token, 0);
	strbuf_init(&res->token_json, 0);
	strbuf_init(&res->scratch, 0);
}

void pag_result_release(struct pag_result *res)
{
	records_page_release(&res->rp);
	strbuf_release(&res->token);
	strbuf_release(&res->token_json);
	strbuf_release(&res->scratch);
}

/* Token at the pointer text p (from the root), or JSON_ABSENT. */
uint32_t pagi_at(const struct json_doc *d, const char *p)
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
int pagi_scalar_value(const struct json_doc *d, uint32_t t, struct strbuf *out)
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

static void find_total(const struct json_doc *d, struct pag_result *res)
{
	size_t i;

	res->has_total = 0;
	for (i = 0; d && total_paths[i]; i++) {
		uint32_t t = pagi_at(d, total_paths[i]);

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
int pagi_total_at(const struct json_doc *d, uint32_t t, uint64_t *total)
{
	if (t != JSON_ABSENT && json_type(d, t) == JSON_OBJECT)
		t = json_get(d, t, "value", 5);
	return t && t != JSON_ABSENT && json_type(d, t) == JSON_NUMBER && json_u64(d, t, total) == 0;
}

/* The total a page reports: at the spec's path, the known places, or a header. */
void pagi_page_total(const struct pag_spec *s, const struct json_doc *d,
		       const struct http_req *r, struct pag_result *res)
{
	if (s->total_path) {
		res->has_total = pagi_total_at(d, json_ptr_eval(&s->total_ptr, d, 0), &res->total);
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
	return sb->buf;
}

int pagi_find_records(const struct pag_spec *s, const struct json_doc *d,
			struct pag_result *res, struct aperr *e)
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
uint32_t pagi_last_record(const struct json_doc *d, const struct pag_result *res)
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
 * (JSON_OBJECT), an object.  As pagi_scalar_value(): 1, 0 or -1.
 */
static int position_token(const struct json_doc *d, uint32_t t, int body, enum json_type widest,
			  struct pag_result *res)
{
	int k;

	if (body && t != JSON_ABSENT && (json_type(d, t) == JSON_ARRAY ||
					 (widest == JSON_OBJECT && json_type(d, t) == JSON_OBJECT))) {
		k = json_first(d, t) ? 1 : 0;
		strbuf_reset(&res->token);
		json_minify(d, t, &res->token);
	} else {
		k = pagi_scalar_value(d, t, &res->token);
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
uint32_t pagi_rel_next_links(const struct json_doc *d, uint32_t arr, int *links)
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

	return pagi_rel_next_links(d, arr, &links);
}

/*
 * A next link that is a path beside an absolute "base" (Confluence's
 * _links: {"base": "https://x/wiki", "next": "/rest/api/…"}) is relative
 * to that base, not to the host: ref becomes base + ref.
 */
static void based_ref(const struct pag_spec *s, const struct json_doc *d, struct strbuf *ref)
{
	struct json_ptr parent;
	const char *slash = strrchr(s->next_path, '/');
	struct strbuf b = STRBUF_INIT, p = STRBUF_INIT;
	uint32_t o, t;

	if (!slash || !ref->buf || ref->buf[0] != '/' || ref->buf[1] == '/')
		return;
	strbuf_add(&p, s->next_path, (size_t)(slash - s->next_path));
	if (json_ptr_parse(&parent, p.buf, NULL) == 0) {
		o = json_ptr_eval(&parent, d, 0);
		t = o != JSON_ABSENT ? json_get(d, o, "base", 4) : 0;
		if (t && json_type(d, t) == JSON_STRING && json_str_decode(d, t, &b) == 0 && b.len &&
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

/* ---- the styles: how each reads the next position from a page ---- */

static int read_nothing(const struct pag_spec *s, const char *url, const struct http_req *r,
			const struct json_doc *d, struct pag_result *res, struct aperr *e)
{
	(void)s;
	(void)url;
	(void)r;
	(void)d;
	(void)res;
	(void)e;
	return 0;	/* offset, page: the position is counted, not read; none: one page */
}

static int read_cursor(const struct pag_spec *s, const char *url, const struct http_req *r,
		       const struct json_doc *d, struct pag_result *res, struct aperr *e)
{
	uint32_t t = json_ptr_eval(&s->cursor_ptr, d, 0);
	int k = position_token(d, t, in_body(s->cursor_param), JSON_OBJECT, res);

	(void)url;
	(void)r;
	if (k < 0)
		return aperr_set(e, EX_DATAERR, "%s: the cursor is %s, not a string", s->cursor_path,
				 json_type_name(json_type(d, t)));
	res->has_token = k;
	return 0;
}

/* The next URL (resolved) into res->token; k the reference's verdict. */
static int next_ref(const struct pag_spec *s, const char *url, const struct json_doc *d,
		    struct strbuf *ref, int k, struct pag_result *res, struct aperr *e)
{
	int rc = 0;

	if (k > 0 && s->style == PAG_NEXT_URL)
		based_ref(s, d, ref);
	if (k > 0 && url_resolve(url, ref->buf, &res->token, e) < 0)
		rc = aperr_prefix(e, "%s", s->style == PAG_LINK ? "Link header" : s->next_path);
	res->has_token = rc == 0 && k > 0;
	strbuf_release(ref);
	return rc;
}

static int read_next_url(const struct pag_spec *s, const char *url, const struct http_req *r,
			 const struct json_doc *d, struct pag_result *res, struct aperr *e)
{
	struct strbuf ref = STRBUF_INIT;
	uint32_t t = json_ptr_eval(&s->next_ptr, d, 0);
	int k;

	(void)r;
	if (t != JSON_ABSENT && json_type(d, t) == JSON_ARRAY)
		t = rel_next(d, t);	/* HATEOAS links: [{"rel": "next", "href": …}] */
	k = t != JSON_ABSENT && json_type(d, t) == JSON_NUMBER ? -1 : pagi_scalar_value(d, t, &ref);
	if (k < 0) {
		strbuf_release(&ref);
		return aperr_set(e, EX_DATAERR, "%s: the next URL is %s, not a string", s->next_path,
				 json_type_name(json_type(d, t)));
	}
	return next_ref(s, url, d, &ref, k, res, e);
}

static int read_link(const struct pag_spec *s, const char *url, const struct http_req *r,
		     const struct json_doc *d, struct pag_result *res, struct aperr *e)
{
	struct strbuf ref = STRBUF_INIT, v = STRBUF_INIT;
	int k = http_req_header_all(r, "link", &v) ? link_find(v.buf, v.len, "next", &ref, e) : 0;

	strbuf_release(&v);
	if (k < 0) {
		strbuf_release(&ref);
		return -1;
	}
	if (k == 2) {	/* a next link that says it leads to nothing (Sentry) */
		res->more = 0;
		k = 0;
	}
	return next_ref(s, url, d, &ref, k, res, e);
}

static int read_keyset(const struct pag_spec *s, const char *url, const struct http_req *r,
		       const struct json_doc *d, struct pag_result *res, struct aperr *e)
{
	uint32_t t;
	int k;

	(void)url;
	(void)r;
	if (!res->nrecords)
		return 0;
	t = json_ptr_eval(&s->key_ptr, d, pagi_last_record(d, res));
	k = position_token(d, t, in_body(s->key_param), JSON_ARRAY, res);
	if (k <= 0)
		return aperr_set(e, EX_DATAERR, "%s/%zu%s: the last record has no usable key",
				 res->rp.where.buf, res->nrecords - 1,
				 s->key_field);
	res->has_token = 1;
	return 0;
}

/* ---- the styles: how each puts a position into a request ---- */

/* cursor, keyset: the token under its parameter; nothing on the first request */
static size_t params_token(const struct pag_spec *s, const char *value, char num[2][24],
			   const char *names[2], const char *vals[2])
{
	(void)num;
	if (!value)
		return 0;
	names[0] = s->style == PAG_CURSOR ? s->cursor_param : s->key_param;
	vals[0] = value;
	return 1;
}

/* The page size a request asks for, when set, as pair n; returns the pairs now. */
static size_t add_size(size_t n, uint64_t size, const char *param, char num[2][24],
		       const char *names[2], const char *vals[2])
{
	if (!size || !param || !*param)
		return n;
	snprintf(num[1], 24, "%llu", (unsigned long long)size);
	names[n] = param;
	vals[n] = num[1];
	return n + 1;
}

/* offset: the offset (none on the first request), and the limit when set */
static size_t params_offset(const struct pag_spec *s, const char *value, char num[2][24],
			    const char *names[2], const char *vals[2])
{
	size_t n = 0;

	if (value) {
		names[n] = s->offset_param;
		vals[n++] = value;
	}
	return add_size(n, s->limit, s->limit_param, num, names, vals);
}

/* page: the page number (the start page when asked for), and the page size when set */
static size_t params_page(const struct pag_spec *s, const char *value, char num[2][24],
			  const char *names[2], const char *vals[2])
{
	size_t n = 0;

	if (value || s->start_page_set) {
		snprintf(num[0], 24, "%llu", (unsigned long long)s->start_page);
		names[n] = s->page_param;
		vals[n++] = value ? value : num[0];
	}
	return add_size(n, s->per_page, s->per_page_param, num, names, vals);
}

/* next-url, link, none: the URL is the position; nothing is added */
static size_t params_none(const struct pag_spec *s, const char *value, char num[2][24],
			  const char *names[2], const char *vals[2])
{
	(void)s;
	(void)value;
	(void)num;
	(void)names;
	(void)vals;
	return 0;
}

/* The units: see struct pag_style_unit. */
static const struct pag_style_unit pag_styles[NSTYLES] = {
	[PAG_AUTO] = { "auto", read_nothing, params_none },
	[PAG_CURSOR] = { "cursor", read_cursor, params_token },
	[PAG_NEXT_URL] = { "next-url", read_next_url, params_none },
	[PAG_LINK] = { "link", read_link, params_none },
	[PAG_OFFSET] = { "offset", read_nothing, params_offset },
	[PAG_PAGE] = { "page", read_nothing, params_page },
	[PAG_KEYSET] = { "keyset", read_keyset, params_token },
	[PAG_NONE] = { "none", read_nothing, params_none },
};

int pag_examine(const struct pag_spec *s, const char *url, const struct http_req *r,
	       const struct json_doc *d, struct pag_result *res, struct aperr *e)
{
	uint32_t t;

	res->more = -1;
	res->has_token = 0;
	strbuf_reset(&res->token);
	strbuf_reset(&res->token_json);
	if (pagi_find_records(s, d, res, e) < 0)
		return -1;
	pagi_page_total(s, d, r, res);
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
	return pag_styles[s->style].read(s, url, r, d, res, e);
}

/*
 * The parameters a request of the style carries for position value (NULL:
 * the first request): up to two (name, value) pairs in names/vals, the
 * numbers written into num (two slots of 24).  Returns how many.
 */
static size_t position_params(const struct pag_spec *s, const char *value, char num[2][24],
			      const char *names[2], const char *vals[2])
{
	return pag_styles[s->style].params(s, value, num, names, vals);
}

int pag_url(const struct pag_spec *s, const char *base, const char *value, struct strbuf *out)
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

int pag_uses_body(const struct pag_spec *s)
{
	switch (s->style) {
	case PAG_CURSOR: return in_body(s->cursor_param);
	case PAG_KEYSET: return in_body(s->key_param);
	case PAG_OFFSET: return in_body(s->offset_param) || in_body(s->limit_param);
	case PAG_PAGE: return in_body(s->page_param) || in_body(s->per_page_param);
	default: return 0;
	}
}

int pag_body(const struct pag_spec *s, const char *base, size_t n, const char *value,
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
		strbuf_add(&cur, out->buf, out->len);
		empty = strspn(cur.buf, " \t\r\n") == cur.len;
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

uint64_t pag_start_position(const struct pag_spec *s, const char *base, const char *body,
			   size_t bn)
{
	struct strbuf v = STRBUF_INIT;
	uint64_t n = s->style == PAG_PAGE ? s->start_page : 0;
	const char *name = s->style == PAG_PAGE ? s->page_param : s->offset_param;

	if ((s->style != PAG_PAGE && s->style != PAG_OFFSET) || (s->style == PAG_PAGE && s->start_page_set))
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
	} else if (url_get_query(base, name, &v) == 1 && v.len) {
		num_parse_u64(v.buf, &n, "offset", NULL);
	}
	strbuf_release(&v);
	return n;
}

int pag_request_id(const struct http_req *r, const struct secrets *secrets, char out[33])
{
	struct strbuf m = STRBUF_INIT;
	unsigned char md[SHA256_DIGEST_LENGTH];

	strbuf_addstr(&m, r->method ? r->method : r->has_body ? "POST" : "GET");
	strbuf_addch(&m, '\n');
	strbuf_addstr(&m, r->url);
	/* a held secret a server echoed into a link does not make a page another */
	if (secrets)
		secrets_scrub(secrets, &m);
	strbuf_addch(&m, '\n');
	if (r->has_body)
		strbuf_add(&m, r->body.buf, r->body.len);
	if (strbuf_failed(&m) || !m.len) {
		strbuf_release(&m);
		return -1;
	}
	SHA256((const unsigned char *)m.buf, m.len, md);
	explicit_bzero(m.buf, m.len);
	hash_hex(md, 16, out);
	strbuf_release(&m);
	return 0;
}

int pag_spec_copy(struct pag_spec *dst, const struct pag_spec *src, struct aperr *e)
{
	struct strbuf j = STRBUF_INIT;
	struct jsonw w;
	struct json_doc d;
	struct json_error je;
	int rc;

	json_doc_init(&d, 4);
	json_error_init(&je);
	pag_spec_init(dst);
	jw_init(&w, &j);
	pag_spec_json(src, &w);
	rc = jw_finish(&w) < 0 || json_parse(&d, j.buf, j.len, &je) < 0
		     ? aperr_set(e, EX_OSERR, "out of memory")
		     : pag_spec_from_json(dst, &d, 0, e);
	json_doc_release(&d);
	json_error_release(&je);
	strbuf_release(&j);
	return rc;
}

int pag_graphql_body(const char *query, size_t n, const char *variables, struct strbuf *out,
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
