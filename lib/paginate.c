#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/sha.h>

#include "httpcli.h"
#include "link.h"
#include "num.h"
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
			 "--style: '%s' is not one of auto, cursor, next-url, link, offset, page, keyset",
			 name);
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
	{ "offset_param", offsetof(struct pg_spec, offset_param) },
	{ "limit_param", offsetof(struct pg_spec, limit_param) },
	{ "page_param", offsetof(struct pg_spec, page_param) },
	{ "per_page_param", offsetof(struct pg_spec, per_page_param) },
	{ "key_field", offsetof(struct pg_spec, key_field) },
	{ "key_param", offsetof(struct pg_spec, key_param) },
	{ "records_path", offsetof(struct pg_spec, records_path) },
};
#define SPEC_FIELD(s, i) ((char **)((char *)(s) + spec_strings[i].off))

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
		need = "--style keyset needs --key-field and --key-param";
	else if (s->style == PG_OFFSET && (!s->offset_param || !*s->offset_param))
		need = "--style offset needs an --offset-param name";
	else if (s->style == PG_PAGE && (!s->page_param || !*s->page_param))
		need = "--style page needs a --page-param name";
	if (need)
		return aperr_set(e, EX_USAGE, "%s", need);
	memset(&s->cursor_ptr, 0, sizeof(s->cursor_ptr));
	s->next_ptr = s->more_ptr = s->key_ptr = s->records_ptr = s->cursor_ptr;
	if (compile_one(&s->cursor_ptr, s->cursor_path, "--cursor-path", e) < 0 ||
	    compile_one(&s->next_ptr, s->next_path, "--next-path", e) < 0 ||
	    compile_one(&s->more_ptr, s->more_path, "has-more path", e) < 0 ||
	    compile_one(&s->key_ptr, s->key_field, "--key-field", e) < 0 ||
	    compile_one(&s->records_ptr, s->records_path, "--records-path", e) < 0) {
		json_ptr_release(&s->cursor_ptr);
		json_ptr_release(&s->next_ptr);
		json_ptr_release(&s->more_ptr);
		json_ptr_release(&s->key_ptr);
		json_ptr_release(&s->records_ptr);
		return -1;
	}
	s->compiled = 1;
	return 0;
}

/* ---- checkpoints ---- */

int pg_spec_json(const struct pg_spec *s, struct strbuf *out)
{
	size_t before = out->len, i;

	strbuf_addstr(out, "{");
	json_add_member(out, "style", pg_style_name(s->style));
	for (i = 0; i < sizeof(spec_strings) / sizeof(*spec_strings); i++)
		json_add_member(out, spec_strings[i].name, *SPEC_FIELD(s, i));
	strbuf_addf(out, ",\"limit\":%llu,\"start_page\":%llu,\"per_page\":%llu%s}",
		    (unsigned long long)s->limit, (unsigned long long)s->start_page,
		    (unsigned long long)s->per_page, s->start_page_set ? ",\"start_page_set\":true" : "");
	return out->len > before && out->buf[out->len - 1] == '}' ? 0 : -1;
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
	strbuf_release(&v);
	return pg_spec_compile(s, e) < 0 ? aperr_set(e, EX_DATAERR, "/spec: %s", e->msg) : 0;
}

/* ---- reading a response ---- */

void pg_result_init(struct pg_result *res)
{
	memset(res, 0, sizeof(*res));
	records_page_init(&res->rp);
	strbuf_init(&res->token, 0);
	strbuf_init(&res->scratch, 0);
}

void pg_result_release(struct pg_result *res)
{
	records_page_release(&res->rp);
	strbuf_release(&res->token);
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

int pg_examine(const struct pg_spec *s, const char *url, const struct http_req *r,
	       const struct json_doc *d, struct pg_result *res, struct aperr *e)
{
	uint32_t t;
	int k;

	res->more = -1;
	res->has_token = 0;
	strbuf_reset(&res->token);
	if (find_records(s, d, res, e) < 0)
		return -1;
	find_total(d, res);
	if (s->more_path) {
		t = json_ptr_eval(&s->more_ptr, d, 0);
		if (t != JSON_ABSENT && json_type(d, t) == JSON_TRUE)
			res->more = 1;
		else if (t != JSON_ABSENT && json_type(d, t) == JSON_FALSE)
			res->more = 0;
	}
	switch (s->style) {
	case PG_CURSOR:
		t = json_ptr_eval(&s->cursor_ptr, d, 0);
		k = scalar_value(d, t, &res->token);
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
			size_t n;
			const char *v = http_req_header(r, "link", &n);

			k = v ? link_find(v, n, "next", &ref, e) : 0;
			if (k < 0)
				rc = -1;
		} else {
			t = json_ptr_eval(&s->next_ptr, d, 0);
			k = t != JSON_ABSENT && json_type(d, t) == JSON_NUMBER ? -1
									: scalar_value(d, t, &ref);
			if (k < 0)
				rc = aperr_set(e, EX_DATAERR, "%s: the next URL is %s, not a string",
					       s->next_path, json_type_name(json_type(d, t)));
		}
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
		k = scalar_value(d, t, &res->token);
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

int pg_url(const struct pg_spec *s, const char *base, const char *value, struct strbuf *out)
{
	char num[24];
	int r = 0;

	strbuf_reset(out);
	strbuf_addstr(out, base);
	switch (s->style) {
	case PG_CURSOR:
		if (value)
			r = http_set_query(out, s->cursor_param, value);
		break;
	case PG_KEYSET:
		if (value)
			r = http_set_query(out, s->key_param, value);
		break;
	case PG_OFFSET:
		if (value)
			r = http_set_query(out, s->offset_param, value);
		if (!r && s->limit && s->limit_param && *s->limit_param) {
			snprintf(num, sizeof(num), "%llu", (unsigned long long)s->limit);
			r = http_set_query(out, s->limit_param, num);
		}
		break;
	case PG_PAGE:
		if (value || s->start_page_set) {
			snprintf(num, sizeof(num), "%llu", (unsigned long long)s->start_page);
			r = http_set_query(out, s->page_param, value ? value : num);
		}
		if (!r && s->per_page && s->per_page_param && *s->per_page_param) {
			snprintf(num, sizeof(num), "%llu", (unsigned long long)s->per_page);
			r = http_set_query(out, s->per_page_param, num);
		}
		break;
	default:
		break;
	}
	return r;
}

uint64_t pg_start_position(const struct pg_spec *s, const char *base)
{
	struct strbuf v = STRBUF_INIT;
	uint64_t n = s->style == PG_PAGE ? s->start_page : 0;
	const char *name = s->style == PG_PAGE ? s->page_param : s->offset_param;

	if ((s->style == PG_PAGE || s->style == PG_OFFSET) && !(s->style == PG_PAGE && s->start_page_set) &&
	    http_get_query(base, name, &v) == 1 && v.buf)
		num_parse_u64(v.buf, &n, "offset", NULL);
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

/* A cursor in the body, and the parameter that usually carries it back. */
static const struct { const char *path, *param; } cursor_paths[] = {
	{ "/response_metadata/next_cursor", "cursor" },
	{ "/next_cursor", "cursor" },
	{ "/nextCursor", "cursor" },
	{ "/pagination/next_cursor", "cursor" },
	{ "/pagination/nextCursor", "cursor" },
	{ "/meta/next_cursor", "cursor" },
	{ "/meta/nextCursor", "cursor" },
	{ "/paging/next_cursor", "cursor" },
	{ "/nextPageToken", "pageToken" },
	{ "/next_page_token", "page_token" },
	{ "/meta/next_token", "pagination_token" },
	{ "/next_token", "next_token" },
	{ "/nextToken", "nextToken" },
	{ "/paging/cursors/after", "after" },
	{ "/pageInfo/endCursor", "after" },
	{ "/page_info/end_cursor", "after" },
	{ "/cursors/after", "after" },
	{ "/continuation", "continuation" },
	{ "/cursor", "cursor" },
	{ "/after", "after" },
	{ "/next", "cursor" },
	{ "/meta/next", "cursor" },
	{ "/pagination/next", "cursor" },
	{ NULL, NULL }
};

/* Names a start URL may already use for a cursor. */
static const char *const cursor_params[] = {
	"cursor", "pageToken", "page_token", "after", "starting_after", "next_token",
	"pagination_token", "nextToken", "continuation", "continuationToken", NULL
};

static const char *const more_paths[] = {
	"/has_more", "/hasMore", "/pagination/has_more", "/meta/has_more", "/pageInfo/hasNextPage",
	"/page_info/has_next_page", "/response_metadata/has_more", "/pagination/hasMore", NULL
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

/*
 * The page-size parameter of url that a page of nrecords fills (its value
 * in *want), or NULL when no size the request asks for is reached.  probe
 * is scratch.
 */
static const char *full_page(const char *url, size_t nrecords, struct strbuf *probe,
			     uint64_t *want)
{
	size_t i;

	for (i = 0; size_params[i]; i++)
		if (http_get_query(url, size_params[i], probe) == 1 && probe->buf &&
		    num_parse_u64(probe->buf, want, "size", NULL) == 0 && *want > 0 &&
		    nrecords >= *want)
			return size_params[i];
	return NULL;
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

static int looks_like_url(const char *s)
{
	return !strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8) || *s == '/' ||
	       *s == '?';
}

/* The first of paths present with a number: its token, or JSON_ABSENT. */
static uint32_t first_number(const struct json_doc *d, const char *const *paths, const char **which)
{
	size_t i;

	for (i = 0; paths[i]; i++) {
		uint32_t t = at(d, paths[i]);

		if (t != JSON_ABSENT && json_type(d, t) == JSON_NUMBER) {
			*which = paths[i];
			return t;
		}
	}
	return JSON_ABSENT;
}

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

int pg_detect(struct pg_spec *s, const char *url, const struct http_req *r,
	      const struct json_doc *d, struct strbuf *why, struct aperr *e)
{
	struct pg_result res;
	struct strbuf v = STRBUF_INIT, probe = STRBUF_INIT;
	const char *which = NULL;
	size_t n, i;
	const char *link = http_req_header(r, "link", &n);
	int rc = -1;
	uint32_t t;

	pg_result_init(&res);
	strbuf_reset(why);
	/* 1. RFC 8288 Link header (GitHub and every API that follows it) */
	if (link && link_find(link, n, "next", &probe, e) < 0) {
		aperr_prefix(e, "cannot tell how this API paginates");
		goto done;
	}
	if (link && probe.len) {
		s->style = PG_LINK;
		strbuf_addstr(why, "the Link header has rel=\"next\"");
		rc = 0;
		goto done;
	}
	if (find_records(s, d, &res, e) < 0) {
		if (e->code == EX_DATAERR && d)
			aperr_prefix(e, "cannot tell how this API paginates");
		goto done;
	}
	find_total(d, &res);
	if (!res.has_total && header_total(r, &res.total))
		res.has_total = 1;
	if (link) {
		static const char *const rels[] = { "last", "prev", "first" };
		size_t m;

		for (m = 0; m < 3; m++) {
			strbuf_reset(&probe);
			if (link_find(link, n, rels[m], &probe, NULL) == 1)
				break;
		}
		if (m < 3) {
			s->style = PG_LINK;
			strbuf_addf(why, "the Link header has rel=\"%s\" and no rel=\"next\": the last page",
				    rels[m]);
			rc = 0;
			goto done;
		}
	}
	if (json_type(d, 0) != JSON_OBJECT)
		goto unsaid;
	/* 2. a next URL in the body (JSON:API links.next, OData, Facebook paging.next …) */
	for (i = 0; next_url_paths[i]; i++) {
		t = at(d, next_url_paths[i]);
		if (t == JSON_ABSENT || json_type(d, t) != JSON_STRING)
			continue;
		if (scalar_value(d, t, &v) > 0 && looks_like_url(v.buf)) {
			s->style = PG_NEXT_URL;
			pg_spec_set(&s->next_path, next_url_paths[i]);
			strbuf_addf(why, "%s holds a URL", next_url_paths[i]);
			rc = 0;
			goto done;
		}
	}
	/* 3. a cursor (Slack, Google, Twitter, GraphQL …) */
	for (i = 0; cursor_paths[i].path; i++) {
		size_t p;
		int k;

		t = at(d, cursor_paths[i].path);
		if (t == JSON_ABSENT)
			continue;
		k = scalar_value(d, t, &v);
		if (k < 0 || (k > 0 && json_type(d, t) == JSON_STRING && looks_like_url(v.buf)))
			continue;
		if (k == 0 && json_type(d, t) != JSON_NULL && json_type(d, t) != JSON_STRING)
			continue;
		s->style = PG_CURSOR;
		pg_spec_set(&s->cursor_path, cursor_paths[i].path);
		pg_spec_set(&s->cursor_param, cursor_paths[i].param);
		for (p = 0; cursor_params[p]; p++)
			if (http_get_query(url, cursor_params[p], &probe) == 1) {
				pg_spec_set(&s->cursor_param, cursor_params[p]);
				break;
			}
		strbuf_addf(why, "%s holds a cursor%s; it goes back in '%s'", cursor_paths[i].path,
			    k ? "" : " (empty: the last page)", s->cursor_param);
		rc = 0;
		goto done;
	}
	/* 4. has_more with records that have an id (Stripe's starting_after) */
	for (i = 0; more_paths[i]; i++) {
		t = at(d, more_paths[i]);
		if (t == JSON_ABSENT || (json_type(d, t) != JSON_TRUE && json_type(d, t) != JSON_FALSE))
			continue;
		pg_spec_set(&s->more_path, more_paths[i]);
		if (json_type(d, t) == JSON_FALSE) {
			s->style = PG_NONE;
			strbuf_addf(why, "%s is false: the only page", more_paths[i]);
			rc = 0;
			goto done;
		}
		t = res.nrecords ? json_get(d, last_record(d, &res), "id", 2) : 0;
		if (t && (json_type(d, t) == JSON_STRING || json_type(d, t) == JSON_NUMBER)) {
			s->style = PG_KEYSET;
			pg_spec_set(&s->key_field, "/id");
			pg_spec_set(&s->key_param, http_get_query(url, "starting_after", &probe) == 1 ||
							   http_get_query(url, "after", &probe) != 1
						   ? "starting_after" : "after");
			strbuf_addf(why, "%s is true and records have an id: the next page starts "
				    "after the last id ('%s')", more_paths[i], s->key_param);
			rc = 0;
			goto done;
		}
		strbuf_addf(why, "%s is true but there is no cursor, next URL or record id to go on "
			    "from; ", more_paths[i]);
		pg_spec_set(&s->more_path, NULL);
		break;
	}
	/* 5. offset/limit, or a page number, when the shape says so */
	{
		static const char *const offsets[] = { "/offset", "/meta/offset", "/pagination/offset",
						       "/paging/offset", "/skip", NULL };
		static const char *const pages[] = { "/page", "/current_page", "/currentPage",
						     "/page_number", "/pageNumber", "/meta/page",
						     "/meta/current_page", "/pagination/page",
						     "/pagination/current_page", "/paging/page", NULL };
		static const char *const page_hints[] = { "/total_pages", "/totalPages",
							  "/last_page", "/lastPage", "/per_page",
							  "/perPage", "/page_size", "/pageSize",
							  "/meta/total_pages", "/meta/last_page",
							  "/meta/per_page", "/pagination/total_pages",
							  "/pagination/per_page", "/pagination/last_page",
							  "/paging/total_pages", NULL };
		static const char *const limits[] = { "/limit", "/meta/limit", "/pagination/limit",
						      "/paging/limit", "/take", NULL };
		const char *w2 = NULL;

		if (first_number(d, offsets, &which) != JSON_ABSENT &&
		    (first_number(d, limits, &w2) != JSON_ABSENT || res.has_total)) {
			const char *param = strrchr(which, '/') + 1;

			s->style = PG_OFFSET;
			pg_spec_set(&s->offset_param, param);
			if (http_get_query(url, "limit", &probe) == 1 && probe.buf)
				num_parse_u64(probe.buf, &s->limit, "limit", NULL);
			else
				s->limit = 0;
			strbuf_addf(why, "%s with %s: offset pagination ('%s', stepping by the "
				    "records each page holds)", which, w2 ? w2 : "a total", param);
			rc = 0;
			goto done;
		}
		if ((t = first_number(d, pages, &which)) != JSON_ABSENT &&
		    (first_number(d, page_hints, &w2) != JSON_ABSENT || res.has_total)) {
			const char *param = strrchr(which, '/') + 1;
			uint64_t cur = 1;

			s->style = PG_PAGE;
			/* the body's name is the parameter's only when the URL uses it */
			if (http_get_query(url, param, &probe) != 1)
				param = "page";
			pg_spec_set(&s->page_param, param);
			json_u64(d, t, &cur);
			s->start_page = cur;
			s->per_page = 0;
			strbuf_addf(why, "%s with %s: page-number pagination ('%s')", which,
				    w2 ? w2 : "a total", s->page_param);
			rc = 0;
			goto done;
		}
	}
unsaid:
	/*
	 * The page says there is more (a total beyond it, or as full as the size
	 * asked for) and the request already carries its position: go on in it.
	 */
	{
		uint64_t want = 0, pos = 0;
		int more = (res.has_total && res.total > res.nrecords) ||
			   full_page(url, res.nrecords, &probe, &want);

		for (i = 0; more && offset_params[i]; i++)
			if (http_get_query(url, offset_params[i], &probe) == 1 && probe.buf &&
			    num_parse_u64(probe.buf, &pos, "offset", NULL) == 0) {
				s->style = PG_OFFSET;
				pg_spec_set(&s->offset_param, offset_params[i]);
				s->limit = 0;	/* the size stays as the request gives it */
				strbuf_addf(why, "the request carries '%s' and the page says there is "
					    "more (%s): offset pagination, stepping by the records each "
					    "page holds", offset_params[i],
					    res.has_total ? "a total beyond it" : "a full page");
				rc = 0;
				goto done;
			}
		for (i = 0; more && page_params[i]; i++)
			if (http_get_query(url, page_params[i], &probe) == 1 && probe.buf &&
			    num_parse_u64(probe.buf, &pos, "page", NULL) == 0) {
				s->style = PG_PAGE;
				pg_spec_set(&s->page_param, page_params[i]);
				s->start_page = pos;
				s->per_page = 0;
				strbuf_addf(why, "the request carries '%s' and the page says there is "
					    "more (%s): page-number pagination", page_params[i],
					    res.has_total ? "a total beyond it" : "a full page");
				rc = 0;
				goto done;
			}
	}
	if (res.has_total && res.total > res.nrecords) {
		describe(d, r, &res, why);
		aperr_set(e, EX_DATAERR, "cannot tell how this API paginates: the response shows %s; "
			  "name the style with --style (for example --style offset --offset-param "
			  "NAME, or --style page --page-param NAME)", why->buf);
		goto done;
	}
	if (why->len) {
		describe(d, r, &res, why);
		aperr_set(e, EX_DATAERR, "cannot tell how this API paginates: %s; name the style "
			  "with --style", why->buf);
		goto done;
	}
	/* a full page asked for by size, and nothing says it is the last */
	{
		uint64_t want = 0;
		const char *sz = full_page(url, res.nrecords, &probe, &want);

		if (sz) {
			describe(d, r, &res, why);
			aperr_set(e, EX_DATAERR, "cannot tell how this API paginates: a full page of "
				  "%zu records (%s=%llu) and %s; name the style with --style",
				  res.nrecords, sz, (unsigned long long)want, why->buf);
			goto done;
		}
	}
	s->style = PG_NONE;
	strbuf_addstr(why, "no Link header, next URL, cursor, has_more, offset or page fields: "
			   "a listing of one page");
	rc = 0;
done:
	if (rc == 0 && pg_spec_compile(s, e) < 0)
		rc = -1;
	pg_result_release(&res);
	strbuf_release(&v);
	strbuf_release(&probe);
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
	struct json_doc d;
	struct json_error je;
	int rc;

	json_doc_init(&d, 4);
	json_error_init(&je);
	pg_spec_init(dst);
	rc = pg_spec_json(src, &j) < 0 || json_parse(&d, j.buf, j.len, &je) < 0
		     ? aperr_set(e, EX_OSERR, "out of memory")
		     : pg_spec_from_json(dst, &d, 0, e);
	json_doc_release(&d);
	json_error_release(&je);
	strbuf_release(&j);
	return rc;
}
