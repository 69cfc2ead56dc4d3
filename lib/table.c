#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "instant.h"
#include "num.h"
#include "table.h"

void tab_cols_release(struct tab_col *cols, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(cols[i].c.name);
		json_ptr_release(&cols[i].c.ptr);
	}
	free(cols);
}

/* Append a column NAME at /NAME (escaped) of type t. */
static int add_col(struct tab_col **cols, size_t *n, const char *name, size_t nl, enum db_type t,
		   struct aperr *e)
{
	struct tab_col *c = realloc(*cols, (*n + 1) * sizeof(**cols));

	if (!c)
		return aperr_set(e, EX_OSERR, "out of memory");
	*cols = c;
	memset(&c[*n], 0, sizeof(c[*n]));
	if (db_column_member(&c[*n].c, name, nl, t, e) < 0)
		return -1;
	(*n)++;
	return 0;
}

struct schema_ctx {
	struct tab_col **cols;
	size_t *n;
};

static int add_schema_col(void *ctx, const char *name, size_t nl, enum db_type t, struct aperr *e)
{
	struct schema_ctx *c = ctx;

	return add_col(c->cols, c->n, name, nl, t, e);
}

int tab_cols_from_schema(const struct json_doc *d, struct tab_col **cols, size_t *n,
			 struct aperr *e)
{
	struct schema_ctx c = { cols, n };

	return db_schema_columns(d, add_schema_col, &c, e);
}

/* --- inference ---------------------------------------------------------- */

enum { O_INT = 1, O_BIGINT = 2, O_FRAC = 4, O_STR = 8, O_TIME = 16, O_BOOL = 32, O_NEST = 64,
       O_WIDE = 128 };

struct obs {
	char *name;		/* a top-level member (NULL: a given column) */
	size_t nl;
	unsigned seen;
	int scale;
};

struct tab_infer {
	struct obs *o;
	size_t n;
	const struct tab_col *given;
	size_t ngiven;
};

struct tab_infer *tab_infer_new(void)
{
	return calloc(1, sizeof(struct tab_infer));
}

void tab_infer_free(struct tab_infer *inf)
{
	size_t i;

	if (!inf)
		return;
	for (i = 0; i < inf->n; i++)
		free(inf->o[i].name);
	free(inf->o);
	free(inf);
}

/* Digits after the point that value text needs (-1: more than TAB_MAX_SCALE). */
static int scale_of(const char *s, size_t n)
{
	struct decnum dn;
	int64_t f;

	if (num_decompose(s, n, &dn) < 0 || dn.bigexp)
		return -1;
	if (dn.zero)
		return 0;
	f = (int64_t)dn.nsig - dn.adj;
	if (f <= 0)
		return 0;
	return f > TAB_MAX_SCALE ? -1 : (int)f;
}

static void observe(struct obs *o, const struct json_doc *d, uint32_t t)
{
	int64_t i;
	struct instant when;
	struct strbuf s = STRBUF_INIT;
	int sc;

	switch (json_type(d, t)) {
	case JSON_TRUE: case JSON_FALSE:
		o->seen |= O_BOOL;
		break;
	case JSON_NUMBER:
		sc = scale_of(json_src(d, t), json_srclen(d, t));
		if (sc < 0)
			o->seen |= O_WIDE;
		else if (sc > 0)
			o->seen |= O_FRAC;
		else if (num_to_i64(json_src(d, t), json_srclen(d, t), &i) == 0)
			o->seen |= O_INT;
		else
			o->seen |= O_BIGINT;
		if (sc > o->scale)
			o->scale = sc;
		break;
	case JSON_STRING:
		if (json_str_decode(d, t, &s) == 0 && s.len &&
		    instant_parse(s.buf, s.len, 1, &when) == 0)
			o->seen |= O_TIME;
		else
			o->seen |= O_STR;
		strbuf_release(&s);
		break;
	case JSON_OBJECT: case JSON_ARRAY:
		o->seen |= O_NEST;
		break;
	default:
		break;
	}
}

static struct obs *obs_at(struct tab_infer *inf, size_t i)
{
	if (i >= inf->n) {
		struct obs *o = realloc(inf->o, (i + 1) * sizeof(*o));

		if (!o)
			return NULL;
		memset(o + inf->n, 0, (i + 1 - inf->n) * sizeof(*o));
		inf->o = o;
		inf->n = i + 1;
	}
	return &inf->o[i];
}

int tab_infer_add(struct tab_infer *inf, const struct tab_col *given, size_t ngiven,
		  const struct json_doc *d, struct aperr *e)
{
	struct strbuf name = STRBUF_INIT;
	size_t i;
	uint32_t k;

	for (i = 0; i < ngiven; i++) {
		uint32_t t = json_ptr_eval(&given[i].c.ptr, d, 0);
		struct obs *o = obs_at(inf, i);

		if (!o)
			return aperr_set(e, EX_OSERR, "out of memory");
		if (t != JSON_ABSENT)
			observe(o, d, t);
	}
	inf->ngiven = ngiven;
	if (json_type(d, 0) != JSON_OBJECT)
		return 0;
	for (k = json_first(d, 0); k; k = json_next(d, 0, k)) {
		struct obs *o = NULL;

		strbuf_reset(&name);
		if (json_str_decode(d, k, &name) < 0)
			break;
		for (i = ngiven; i < inf->n; i++)
			if (inf->o[i].nl == name.len && !memcmp(inf->o[i].name, name.buf, name.len)) {
				o = &inf->o[i];
				break;
			}
		if (!o) {
			o = obs_at(inf, inf->n < ngiven ? ngiven : inf->n);
			if (!o || !(o->name = malloc(name.len + 1)))
				break;
			memcpy(o->name, name.buf, name.len);
			o->name[name.len] = '\0';
			o->nl = name.len;
		}
		observe(o, d, k + 1);
	}
	strbuf_release(&name);
	return k ? aperr_set(e, EX_OSERR, "out of memory") : 0;
}

static enum db_type decide(const struct obs *o)
{
	unsigned s = o->seen;

	if (!s)
		return DB_TEXT;
	if (s == O_BOOL)
		return DB_BOOLEAN;
	if (s == O_INT)
		return DB_INTEGER;
	if (!(s & ~(unsigned)(O_INT | O_BIGINT | O_FRAC)))
		return DB_REAL;
	if (!(s & ~(unsigned)(O_INT | O_BIGINT | O_FRAC | O_WIDE)))
		return DB_TEXT;	/* numbers past the widest decimal: their text, exactly */
	if (s == O_TIME)
		return DB_TIMESTAMP;
	if (!(s & ~(unsigned)(O_STR | O_TIME)))
		return DB_TEXT;
	return DB_JSON;
}

int tab_infer_finish(struct tab_infer *inf, struct tab_col **cols, size_t *n, int add_members,
		     struct aperr *e)
{
	size_t i, given = *n;

	for (i = 0; i < given; i++) {
		struct tab_col *c = &(*cols)[i];
		const struct obs *o = i < inf->n ? &inf->o[i] : NULL;

		if (c->c.type == DB_ANY)
			c->c.type = o ? decide(o) : DB_TEXT;
		if (c->c.type == DB_REAL && !c->scale_set && o)
			c->scale = o->scale;
	}
	if (!add_members)
		return 0;
	for (i = given; i < inf->n; i++) {
		const struct obs *o = &inf->o[i];

		if (!o->name)
			continue;
		if (add_col(cols, n, o->name, o->nl, decide(o), e) < 0)
			return -1;
		(*cols)[*n - 1].scale = o->scale;
	}
	return 0;
}

/* --- values ---------------------------------------------------------------- */

struct parquet_column tab_pq_column(const struct tab_col *c)
{
	struct parquet_column p;

	p.name = c->c.name;
	p.scale = 0;
	switch (c->c.type) {
	case DB_INTEGER: p.kind = PQ_INT64; break;
	case DB_REAL: p.kind = PQ_DECIMAL; p.scale = c->scale; break;
	case DB_BOOLEAN: p.kind = PQ_BOOLEAN; break;
	case DB_TIMESTAMP: p.kind = PQ_TIMESTAMP; break;
	case DB_JSON: p.kind = PQ_JSON; break;
	default: p.kind = PQ_STRING; break;
	}
	return p;
}

int tab_decimal(const char *s, size_t n, int scale, __int128 *out)
{
	struct decnum dn;
	unsigned __int128 v = 0, lim = 1;
	int64_t digits, k;
	int i;

	for (i = 0; i < PQ_DECIMAL_PRECISION; i++)
		lim *= 10;
	if (num_decompose(s, n, &dn) < 0)
		return -1;
	if (dn.zero) {
		*out = 0;
		return 0;
	}
	if (dn.bigexp || (int64_t)dn.nsig - dn.adj > scale)
		return -1;	/* more digits after the point than the scale */
	digits = dn.adj + scale;	/* digits of the unscaled value */
	if (digits > PQ_DECIMAL_PRECISION)
		return -1;
	for (k = 0; k < digits; k++) {
		v = v * 10 + (unsigned)(k < (int64_t)dn.nsig ? num_digit(&dn, (size_t)k) - '0' : 0);
		if (v >= lim)
			return -1;
	}
	*out = dn.neg ? -(__int128)v : (__int128)v;
	return 0;
}

/* A value that does not fit: what it is and which column. */
static int no_fit(const struct tab_col *c, const struct json_doc *d, uint32_t t, struct aperr *e)
{
	return aperr_set(e, EX_DATAERR, "%.*s does not fit column %s (%s%s)",
			 json_srclen(d, t) > 40 ? 40 : (int)json_srclen(d, t), json_src(d, t),
			 c->c.name, c->c.type == DB_REAL ? "decimal" : db_type_name(c->c.type),
			 c->c.type == DB_TIMESTAMP ? ", to the microsecond" : "");
}

int tab_value(const struct tab_col *c, const struct json_doc *d, struct tab_val *v,
	      struct aperr *e)
{
	uint32_t t = json_ptr_eval(&c->c.ptr, d, 0);
	struct instant when;

	v->null = t == JSON_ABSENT || json_type(d, t) == JSON_NULL;
	if (v->null)
		return 0;
	v->src = json_src(d, t);
	v->srclen = json_srclen(d, t);
	if (c->c.type == DB_REAL) {
		if (json_type(d, t) != JSON_NUMBER || tab_decimal(v->src, v->srclen, c->scale, &v->dec) < 0)
			return no_fit(c, d, t, e);
		return 0;
	}
	if (db_value_from_json(&c->c, d, 0, &v->v, e) < 0)
		return -1;
	if (c->c.type == DB_TIMESTAMP) {
		/* microseconds, exactly: a finer fraction or a leap second does not fit */
		if (instant_parse(v->v.s.buf, v->v.s.len, 1, &when) < 0 || when.leap ||
		    when.asec % 1000000000000ULL)
			return no_fit(c, d, t, e);
		v->v.i = when.sec * 1000000 + (int64_t)(when.asec / 1000000000000ULL);
	}
	return 0;
}

int tab_put_parquet(struct parquet_writer *w, size_t i, const struct tab_col *c,
		    const struct tab_val *v, struct aperr *e)
{
	if (v->null)
		return parquet_null(w, i, e);
	switch (c->c.type) {
	case DB_REAL:
		return parquet_decimal(w, i, v->dec, e);
	case DB_INTEGER: case DB_BOOLEAN: case DB_TIMESTAMP:
		return parquet_int(w, i, v->v.i, e);
	default:
		return parquet_bytes(w, i, v->v.s.buf, v->v.s.len, e);
	}
}

int tab_csv_field(struct strbuf *out, const char *s, size_t n)
{
	size_t i;

	if (!n || (!memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\n', n) &&
		   !memchr(s, '\r', n) && s[0] != ' ' && s[n - 1] != ' '))
		return strbuf_add(out, s, n);
	strbuf_addch(out, '"');
	for (i = 0; i < n; i++) {
		if (s[i] == '"')
			strbuf_addch(out, '"');
		strbuf_addch(out, s[i]);
	}
	return strbuf_addch(out, '"');
}

int tab_put_csv(struct strbuf *out, const struct tab_col *c, const struct tab_val *v)
{
	char buf[32];

	if (v->null)
		return 0;	/* an empty field */
	switch (c->c.type) {
	case DB_REAL:
		return strbuf_add(out, v->src, v->srclen);	/* the number as sent */
	case DB_BOOLEAN:
		return strbuf_addstr(out, v->v.i ? "true" : "false");
	case DB_INTEGER:
		snprintf(buf, sizeof(buf), "%lld", (long long)v->v.i);
		return strbuf_addstr(out, buf);
	default:
		return tab_csv_field(out, v->v.s.buf, v->v.s.len);
	}
}
