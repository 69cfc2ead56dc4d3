#include <string.h>

#include "num.h"
#include "ordval.h"

static const char *const kind_names[] = {
	"auto", "timestamp", "number", "string", "epoch", "epoch-ms"
};

void ordval_init(struct ordval *v)
{
	v->kind = ORD_AUTO;
	strbuf_init(&v->raw, 0);
	strbuf_init(&v->str, 0);
	v->t.sec = 0;
	v->t.leap = 0;
	v->t.asec = 0;
}

void ordval_release(struct ordval *v)
{
	strbuf_release(&v->raw);
	strbuf_release(&v->str);
}

const char *ordkind_name(enum ordkind k)
{
	return (unsigned)k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] : "?";
}

int ordkind_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (!strcmp(s, kind_names[i]))
			return (int)i;
	return -1;
}

/* "YYYY-MM-DD…": a string that means to be a date, so it may not fall back to a string. */
static int looks_like_date(const char *s, size_t n)
{
	static const char shape[] = "dddd-dd-dd";
	size_t i;

	if (n < 10)
		return 0;
	for (i = 0; i < 10; i++)
		if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i])
			return 0;
	return 1;
}

int ordval_set(struct ordval *v, const struct json_doc *d, uint32_t t, enum ordkind want,
	       struct aperr *e)
{
	enum json_type ty = json_type(d, t);

	strbuf_reset(&v->raw);
	strbuf_reset(&v->str);
	if (want == ORD_AUTO) {
		if (ty == JSON_NUMBER)
			want = ORD_NUMBER;
		else if (ty == JSON_STRING) {
			if (json_str_decode(d, t, &v->str) < 0)
				return aperr_set(e, EX_OSERR, "out of memory");
			if (instant_parse(v->str.buf, v->str.len, 0, &v->t) == 0)
				want = ORD_TIMESTAMP;
			else if (looks_like_date(v->str.buf, v->str.len))
				return aperr_set(e, EX_DATAERR, "\"%.*s\" is a date-time apipe cannot "
						 "order: RFC 3339 with an offset (Z or ±hh:mm) is "
						 "required, second 60 only at 23:59:60 UTC",
						 v->str.len > 64 ? 64 : (int)v->str.len, v->str.buf);
			else
				want = ORD_STRING;
		} else {
			return aperr_set(e, EX_DATAERR, "found %s, not a string or number",
					 json_type_name(ty));
		}
	}
	switch (want) {
	case ORD_NUMBER:
	case ORD_EPOCH:
	case ORD_EPOCH_MS:
		if (ty != JSON_NUMBER)
			return aperr_set(e, EX_DATAERR, "found %s, not a number (%s)",
					 json_type_name(ty), ordkind_name(want));
		if (want != ORD_NUMBER &&
		    instant_from_epoch(json_src(d, t), json_srclen(d, t), want == ORD_EPOCH_MS,
				       &v->t) < 0)
			return aperr_set(e, EX_DATAERR, "%.*s is out of range for %s",
					 (int)json_srclen(d, t), json_src(d, t), ordkind_name(want));
		break;
	case ORD_TIMESTAMP:
	case ORD_STRING:
		if (ty != JSON_STRING)
			return aperr_set(e, EX_DATAERR, "found %s, not a string (%s)",
					 json_type_name(ty), ordkind_name(want));
		if (!v->str.len && json_str_decode(d, t, &v->str) < 0)
			return aperr_set(e, EX_OSERR, "out of memory");
		if (want == ORD_TIMESTAMP &&
		    instant_parse(v->str.buf, v->str.len, 0, &v->t) < 0)
			return aperr_set(e, EX_DATAERR, "\"%.*s\" is not an RFC 3339 timestamp",
					 v->str.len > 64 ? 64 : (int)v->str.len, v->str.buf);
		break;
	default:
		return aperr_set(e, EX_SOFTWARE, "bad ordering kind");
	}
	v->kind = want;
	if (json_minify(d, t, &v->raw) < 0)
		return aperr_set(e, EX_OSERR, "out of memory");
	return 0;
}

int ordval_set_text(struct ordval *v, const char *json, size_t n, enum ordkind want,
		    struct aperr *e)
{
	struct json_doc d;
	int r;

	json_doc_init(&d, 4);
	if (json_parse(&d, json, n, NULL) != 0) {
		json_doc_release(&d);
		return aperr_set(e, EX_DATAERR, "not a JSON value: %.*s", (int)n, json);
	}
	r = ordval_set(v, &d, 0, want, e);
	json_doc_release(&d);
	return r;
}

int ordval_copy(struct ordval *dst, const struct ordval *src)
{
	dst->kind = src->kind;
	dst->t = src->t;
	strbuf_reset(&dst->raw);
	strbuf_reset(&dst->str);
	if (strbuf_add(&dst->raw, src->raw.buf, src->raw.len) < 0 ||
	    strbuf_add(&dst->str, src->str.buf, src->str.len) < 0)
		return -1;
	return 0;
}

int ordval_cmp(const struct ordval *a, const struct ordval *b)
{
	switch (a->kind) {
	case ORD_TIMESTAMP:
	case ORD_EPOCH:
	case ORD_EPOCH_MS:
		if (a->kind == ORD_TIMESTAMP || b->kind == ORD_TIMESTAMP)
			return instant_cmp(&a->t, &b->t);
		return num_cmp(a->raw.buf, a->raw.len, b->raw.buf, b->raw.len);
	case ORD_NUMBER:
		return num_cmp(a->raw.buf, a->raw.len, b->raw.buf, b->raw.len);
	case ORD_STRING: {
		size_t n = a->str.len < b->str.len ? a->str.len : b->str.len;
		int c = n ? memcmp(a->str.buf, b->str.buf, n) : 0;

		if (c)
			return c;
		return a->str.len < b->str.len ? -1 : a->str.len > b->str.len;
	}
	default:
		return 0;
	}
}
