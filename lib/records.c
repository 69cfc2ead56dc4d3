#include <string.h>

#include "num.h"
#include "records.h"

static const char *const preferred[] = {
	"data", "items", "results", "records", "entries", "value", "nodes", "edges",
	"rows", "hits", "objects", "list", "result", NULL
};

/* Arrays that sit beside the records and are never them, by name. */
static const char *const beside[] = { "errors", "warnings", "messages", "notices", NULL };

#define MAX_DETECT_DEPTH 4

void records_page_init(struct records_page *pg)
{
	memset(pg, 0, sizeof(*pg));
	strbuf_init(&pg->where, 0);
	strbuf_init(&pg->scratch, 0);
}

void records_page_release(struct records_page *pg)
{
	strbuf_release(&pg->where);
	strbuf_release(&pg->scratch);
}

int records_is_envelope(const struct json_doc *d)
{
	uint32_t url;

	if (json_type(d, 0) != JSON_OBJECT)
		return 0;
	url = json_get(d, 0, "url", 3);
	if (!url || json_type(d, url) != JSON_STRING)
		return 0;
	return json_get(d, 0, "body", 4) || json_get(d, 0, "status", 6) ||
	       json_get(d, 0, "error", 5) || json_get(d, 0, "body_text", 9) ||
	       json_get(d, 0, "body_base64", 11);
}

static int is_edges(const struct json_doc *d, uint32_t key, uint32_t arr)
{
	uint32_t i;

	if (!json_str_eq(d, key, "edges", 5) || !json_first(d, arr))
		return 0;
	for (i = json_first(d, arr); i; i = json_next(d, arr, i))
		if (json_type(d, i) != JSON_OBJECT || !json_get(d, i, "node", 4))
			return 0;
	return 1;
}

static void append_key(struct strbuf *p, const struct json_doc *d, uint32_t key)
{
	struct strbuf k = STRBUF_INIT;

	json_str_decode(d, key, &k);
	json_ptr_append(p, k.buf, k.len);
	strbuf_release(&k);
}

struct found {
	uint32_t array;
	int edges;
	size_t nfound;		/* candidates seen */
	int all_empty;
	struct strbuf where;	/* pointer of the first candidate */
	struct strbuf cands;	/* "a, b, c" for the message */
};

static void add_candidate(struct found *f, const struct json_doc *d, uint32_t arr,
			  const struct strbuf *where)
{
	if (f->nfound++ == 0) {
		strbuf_reset(&f->where);
		strbuf_add(&f->where, where->buf, where->len);
	}
	if (f->cands.len)
		strbuf_addstr(&f->cands, ", ");
	strbuf_add(&f->cands, where->buf, where->len);
	if (json_first(d, arr))
		f->all_empty = 0;
}

/*
 * An array beside others that is evidently not the records: errors or
 * messages by name (Cloudflare), scalars (Siren's class), or hypermedia
 * links, objects with rel and href (PayPal's HATEOAS links, Siren).
 */
static int not_records(const struct json_doc *d, uint32_t key, uint32_t arr)
{
	const char *const *name;
	uint32_t i;
	int links = 1, scalars = 1;

	for (name = beside; *name; name++)
		if (json_str_eq(d, key, *name, strlen(*name)))
			return 1;
	if (!json_first(d, arr))
		return 0;
	for (i = json_first(d, arr); i; i = json_next(d, arr, i)) {
		if (json_type(d, i) == JSON_OBJECT || json_type(d, i) == JSON_ARRAY)
			scalars = 0;
		if (json_type(d, i) != JSON_OBJECT || !json_get(d, i, "rel", 3) ||
		    !json_get(d, i, "href", 4))
			links = 0;
	}
	return links || scalars;
}

/*
 * Search object t (its pointer in where) for record arrays; a decisive
 * pick sets f->array with nfound 1.  Several undecided candidates leave
 * nfound > 1.
 */
static void detect(const struct json_doc *d, uint32_t t, struct strbuf *where,
		   int depth, struct found *f)
{
	uint32_t i, arrkey = 0;
	size_t narr = 0, base = where->len;
	const char *const *name;

	for (i = json_first(d, t); i; i = json_next(d, t, i))
		if (json_type(d, i + 1) == JSON_ARRAY) {
			narr++;
			if (!arrkey)
				arrkey = i;
		}
	if (narr > 1) {
		for (name = preferred; *name; name++) {
			uint32_t v = json_get(d, t, *name, strlen(*name));

			if (v && json_type(d, v) == JSON_ARRAY) {
				arrkey = v - 1;
				narr = 1;
				break;
			}
		}
	}
	if (narr > 1) {
		uint32_t only = 0;
		size_t plausible = 0;

		for (i = json_first(d, t); i; i = json_next(d, t, i))
			if (json_type(d, i + 1) == JSON_ARRAY && !not_records(d, i, i + 1)) {
				plausible++;
				only = i;
			}
		if (plausible == 1) {
			arrkey = only;
			narr = 1;
		}
	}
	if (narr == 1) {
		append_key(where, d, arrkey);
		add_candidate(f, d, arrkey + 1, where);
		if (f->nfound == 1) {
			f->array = arrkey + 1;
			f->edges = is_edges(d, arrkey, arrkey + 1);
		}
		strbuf_setlen(where, base);
		return;
	}
	if (narr > 1) {
		for (i = json_first(d, t); i; i = json_next(d, t, i)) {
			if (json_type(d, i + 1) != JSON_ARRAY)
				continue;
			append_key(where, d, i);
			add_candidate(f, d, i + 1, where);
			strbuf_setlen(where, base);
		}
		return;
	}
	if (depth >= MAX_DETECT_DEPTH)
		return;
	for (i = json_first(d, t); i; i = json_next(d, t, i)) {
		if (json_type(d, i + 1) != JSON_OBJECT)
			continue;
		append_key(where, d, i);
		detect(d, i + 1, where, depth + 1, f);
		strbuf_setlen(where, base);
	}
}

static int envelope_body(const struct json_doc *d, struct records_page *pg, struct aperr *e)
{
	uint32_t err = json_get(d, 0, "error", 5), st = json_get(d, 0, "status", 6);
	int64_t status;

	if (err) {
		uint32_t msg = json_type(d, err) == JSON_OBJECT ? json_get(d, err, "message", 7) : 0;
		struct strbuf m = STRBUF_INIT;

		if (msg && json_type(d, msg) == JSON_STRING)
			json_str_decode(d, msg, &m);
		strbuf_addstr(&pg->where, "/error");
		aperr_set(e, EX_DATAERR, "the request failed, no page to read%s%s",
			  m.len ? ": " : "", m.len ? m.buf : "");
		strbuf_release(&m);
		return -1;
	}
	if (st && json_type(d, st) == JSON_NUMBER &&
	    num_to_i64(json_src(d, st), json_srclen(d, st), &status) == 0 &&
	    (status < 200 || status > 299)) {
		strbuf_addstr(&pg->where, "/status");
		return aperr_set(e, EX_DATAERR, "response status %lld is not a page of records",
				 (long long)status);
	}
	pg->body = json_get(d, 0, "body", 4);
	if (!pg->body) {
		strbuf_addstr(&pg->where, "/body");
		return aperr_set(e, EX_DATAERR, "the response body is not JSON");
	}
	strbuf_addstr(&pg->where, "/body");
	return 0;
}

/* A GraphQL response with errors ({"data":…,"errors":[…]}) is no page, even with data. */
static int graphql_errors(const struct json_doc *d, struct records_page *pg, struct aperr *e)
{
	uint32_t er, msg;
	struct strbuf m = STRBUF_INIT;

	if (json_type(d, pg->body) != JSON_OBJECT || !json_get(d, pg->body, "data", 4))
		return 0;
	er = json_get(d, pg->body, "errors", 6);
	if (!er || json_type(d, er) != JSON_ARRAY || !json_first(d, er))
		return 0;
	msg = json_type(d, json_first(d, er)) == JSON_OBJECT
		      ? json_get(d, json_first(d, er), "message", 7) : 0;
	if (msg && json_type(d, msg) == JSON_STRING)
		json_str_decode(d, msg, &m);
	strbuf_addstr(&pg->where, "/errors");
	strbuf_shorten(&m, 200);
	aperr_set(e, EX_DATAERR, "the GraphQL response reports %zu error%s%s%s",
		  json_count(d, er), json_count(d, er) == 1 ? "" : "s", m.len ? ": " : "",
		  m.len ? m.buf : "");
	strbuf_release(&m);
	return -1;
}

/*
 * An object with no record array that says it holds no records: the
 * records' member null ({"data": null}), or a count or total of 0.
 */
static int says_empty(const struct json_doc *d, uint32_t o)
{
	static const char *const zeros[] = { "total", "count", "total_count", "totalCount",
					     "totalResults", "total_items", "totalItems",
					     "result_count", NULL };
	const char *const *name;
	uint32_t t;
	uint64_t n;

	for (name = preferred; *name; name++)
		if ((t = json_get(d, o, *name, strlen(*name))) && json_type(d, t) == JSON_NULL)
			return 1;
	for (name = zeros; *name; name++)
		if ((t = json_get(d, o, *name, strlen(*name))) && json_type(d, t) == JSON_NUMBER &&
		    json_u64(d, t, &n) == 0 && n == 0)
			return 1;
	return 0;
}

int records_find(const struct json_doc *d, const struct json_ptr *path,
		 struct records_page *pg, struct aperr *e)
{
	struct found f;
	int r = 0;

	strbuf_reset(&pg->where);
	pg->array = JSON_ABSENT;
	pg->edges = 0;
	pg->body = 0;
	pg->envelope = records_is_envelope(d);
	if (pg->envelope && envelope_body(d, pg, e) < 0)
		return -1;
	if (path) {
		uint32_t a = json_ptr_eval(path, d, pg->body);

		strbuf_addstr(&pg->where, path->text);
		if (a == JSON_ABSENT)
			return aperr_set(e, EX_DATAERR, "no array at %s: nothing there", pg->where.buf);
		if (json_type(d, a) != JSON_ARRAY)
			return aperr_set(e, EX_DATAERR, "no array at %s: found %s", pg->where.buf,
					 json_type_name(json_type(d, a)));
		pg->array = a;
		return 0;
	}
	if (json_type(d, pg->body) == JSON_ARRAY) {
		pg->array = pg->body;
		return 0;
	}
	if (graphql_errors(d, pg, e) < 0)
		return -1;
	if (json_type(d, pg->body) != JSON_OBJECT)
		return aperr_set(e, EX_DATAERR, "no record array: the %s is %s",
				 pg->envelope ? "body" : "document",
				 json_type_name(json_type(d, pg->body)));
	memset(&f, 0, sizeof(f));
	f.all_empty = 1;
	strbuf_init(&f.where, 0);
	strbuf_init(&f.cands, 0);
	detect(d, pg->body, &pg->where, 0, &f);
	if (f.nfound == 1) {
		pg->array = f.array;
		pg->edges = f.edges;
		strbuf_reset(&pg->where);
		strbuf_add(&pg->where, f.where.buf, f.where.len);
	} else if (f.nfound > 1 && f.all_empty) {
		pg->array = JSON_ABSENT;	/* every candidate is empty: no records either way */
	} else if (f.nfound > 1) {
		r = aperr_set(e, EX_DATAERR,
			      "several arrays could hold the records (%s); choose one with --records-path",
			      f.cands.buf);
	} else if (says_empty(d, pg->body)) {
		pg->array = JSON_ABSENT;	/* {"data": null}, {"total": 0}: no records */
	} else {
		r = aperr_set(e, EX_DATAERR, "no record array found in the %s; "
			      "give its location with --records-path",
			      pg->envelope ? "body" : "document");
	}
	strbuf_release(&f.where);
	strbuf_release(&f.cands);
	return r;
}
