/*
 * dbcol: the column model upsert and tabulate share (lib/dbcol.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dbcol.h"
#include "instant.h"
#include "num.h"

static const char *const type_names[] = {
	"any", "text", "integer", "real", "boolean", "json", "timestamp"
};

int db_type_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(type_names) / sizeof(*type_names); i++)
		if (!strcasecmp(name, type_names[i]))
			return (int)i;
	return -1;
}

int db_column_parse(struct db_column *c, const char *arg, int typed, struct aperr *e)
{
	char *copy = strdup(arg), *eq, *ptr, *colon;
	int t = DB_ANY;
	size_t i;

	memset(c, 0, sizeof(*c));
	if (!copy)
		return aperr_set(e, EX_OSERR, "out of memory");
	eq = copy[0] == '/' ? NULL : strchr(copy, '=');
	ptr = eq ? eq + 1 : copy;
	colon = typed ? strrchr(ptr, ':') : NULL;
	if (colon && typed == 2 && db_type_parse(colon + 1) < 0)
		colon = NULL;	/* not a type: the ':' is the pointer's */
	if (colon) {
		t = db_type_parse(colon + 1);
		if (t < 0) {
			aperr_set(e, EX_USAGE, "%s: '%s' is not text, integer, real, boolean, json "
				  "or timestamp", arg, colon + 1);
			free(copy);
			return -1;
		}
		*colon = '\0';
	}
	if (json_ptr_parse(&c->ptr, ptr, e) < 0) {
		aperr_prefix(e, "%s", arg);	/* never e->msg formatted into itself */
		e->code = EX_USAGE;
		free(copy);
		return -1;
	}
	if (eq) {
		*eq = '\0';
		c->name = strdup(copy);
	} else {
		/* a name from the pointer: its reference tokens joined by "_" */
		struct strbuf n = STRBUF_INIT;

		for (i = 0; i < c->ptr.nseg; i++) {
			if (i)
				strbuf_addch(&n, '_');
			strbuf_add(&n, c->ptr.seg[i].s, c->ptr.seg[i].n);
		}
		c->name = strbuf_detach(&n, NULL);
	}
	free(copy);
	if (!c->name || !*c->name) {
		json_ptr_release(&c->ptr);
		free(c->name);
		c->name = NULL;
		return aperr_set(e, EX_USAGE, "%s: no column name", arg);
	}
	c->type = (enum db_type)t;
	return 0;
}

int db_column_member(struct db_column *c, const char *name, size_t nl, enum db_type t,
		     struct aperr *e)
{
	struct strbuf p = STRBUF_INIT;

	memset(c, 0, sizeof(*c));
	if (memchr(name, '\0', nl))
		return aperr_set(e, EX_CONFIG, "property %.*s cannot be a column", (int)nl, name);
	if (json_ptr_append(&p, name, nl) < 0 || !(c->name = strndup(name, nl)) ||
	    json_ptr_parse(&c->ptr, p.buf, e) < 0) {
		free(c->name);
		c->name = NULL;
		strbuf_release(&p);
		return aperr_set(e, EX_OSERR, "out of memory");
	}
	strbuf_release(&p);
	c->type = t;
	return 0;
}

/* A schema's "type" (string or list) and "format" as a column type; -1: none usable. */
static int schema_type(const struct json_doc *d, uint32_t s)
{
	uint32_t ty = json_get(d, s, "type", 4), f = json_get(d, s, "format", 6), i;
	const char *only = NULL;
	size_t onlyn = 0, others = 0;

	if (!ty)
		return DB_ANY;	/* no type (an enum, a const, anything): the records say */
	if (json_type(d, ty) == JSON_STRING) {
		only = json_src(d, ty) + 1;
		onlyn = json_srclen(d, ty) - 2;
		others = 1;
	} else if (json_type(d, ty) == JSON_ARRAY) {
		for (i = json_first(d, ty); i; i = json_next(d, ty, i)) {
			if (json_type(d, i) != JSON_STRING)
				return -1;
			if (json_str_eq(d, i, "null", 4))
				continue;
			only = json_src(d, i) + 1;
			onlyn = json_srclen(d, i) - 2;
			others++;
		}
	} else {
		return -1;
	}
	if (others != 1)
		return others ? DB_JSON : DB_TEXT;
#define IS(s) (onlyn == sizeof(s) - 1 && !memcmp(only, s, onlyn))
	if (IS("integer"))
		return DB_INTEGER;
	if (IS("number"))
		return DB_REAL;
	if (IS("boolean"))
		return DB_BOOLEAN;
	if (IS("object") || IS("array"))
		return DB_JSON;
	if (IS("null"))
		return DB_TEXT;
	if (IS("string"))
		return f && json_str_eq(d, f, "date-time", 9) ? DB_TIMESTAMP : DB_TEXT;
#undef IS
	return -1;
}

int db_schema_columns(const struct json_doc *d,
		      int (*add)(void *ctx, const char *name, size_t nl, enum db_type t,
				 struct aperr *e),
		      void *ctx, struct aperr *e)
{
	uint32_t props = json_type(d, 0) == JSON_OBJECT ? json_get(d, 0, "properties", 10) : 0, k;
	struct strbuf name = STRBUF_INIT;
	size_t n = 0;

	if (!props || json_type(d, props) != JSON_OBJECT)
		return aperr_set(e, EX_CONFIG, "the schema has no top-level \"properties\" object");
	for (k = json_first(d, props); k; k = json_next(d, props, k)) {
		int t = json_type(d, k + 1) == JSON_OBJECT ? schema_type(d, k + 1) : DB_ANY;

		strbuf_reset(&name);
		if (json_str_decode(d, k, &name) < 0) {
			strbuf_release(&name);
			return aperr_set(e, EX_OSERR, "out of memory");
		}
		if (t < 0) {
			aperr_set(e, EX_CONFIG, "property %s: its \"type\" is not one a column can "
				  "take", name.buf);
			strbuf_release(&name);
			return -1;
		}
		if (add(ctx, name.buf, name.len, (enum db_type)t, e) < 0) {
			strbuf_release(&name);
			return -1;
		}
		n++;
	}
	strbuf_release(&name);
	if (!n)
		return aperr_set(e, EX_CONFIG, "the schema's \"properties\" is empty: no columns");
	return 0;
}

const char *db_type_name(enum db_type t)
{
	return (unsigned)t < sizeof(type_names) / sizeof(*type_names) ? type_names[t] : "?";
}

void db_value_init(struct db_value *v)
{
	memset(v, 0, sizeof(*v));
	strbuf_init(&v->s, 0);
}

void db_value_release(struct db_value *v)
{
	strbuf_release(&v->s);
}

static int text_of(const struct json_doc *d, uint32_t t, struct db_value *v)
{
	v->kind = DBV_TEXT;
	if (json_type(d, t) == JSON_STRING)
		return json_str_decode(d, t, &v->s);
	return json_minify(d, t, &v->s);
}

int db_value_from_json(const struct db_column *col, const struct json_doc *d, uint32_t root,
		       struct db_value *v, struct aperr *e)
{
	uint32_t t = json_ptr_eval(&col->ptr, d, root);
	enum json_type jt;
	struct instant when;
	char buf[64];

	strbuf_reset(&v->s);
	v->null = 0;
	if (t == JSON_ABSENT || json_type(d, t) == JSON_NULL) {
		v->null = 1;
		return 0;
	}
	jt = json_type(d, t);
	/* text can only hold Unicode: a lone surrogate would become U+FFFD and merge keys */
	if (jt == JSON_STRING && col->type != DB_JSON && json_has_lone_surrogate(d, t))
		return aperr_set(e, EX_DATAERR, "%.*s is not Unicode text (a lone surrogate) for "
				 "column %s", json_srclen(d, t) > 40 ? 40 : (int)json_srclen(d, t),
				 json_src(d, t), col->name);
	switch (col->type) {
	case DB_ANY:
		if (jt == JSON_NUMBER && num_to_i64(json_src(d, t), json_srclen(d, t), &v->i) == 0 &&
		    !memchr(json_src(d, t), '.', json_srclen(d, t)) &&
		    !memchr(json_src(d, t), 'e', json_srclen(d, t)) &&
		    !memchr(json_src(d, t), 'E', json_srclen(d, t))) {
			v->kind = DBV_INT;
			return 0;
		}
		if (jt == JSON_TRUE || jt == JSON_FALSE) {
			v->kind = DBV_INT;
			v->i = jt == JSON_TRUE;
			return 0;
		}
		return text_of(d, t, v);
	case DB_TEXT:
		if (jt == JSON_OBJECT || jt == JSON_ARRAY)
			break;
		return text_of(d, t, v);
	case DB_JSON:
		v->kind = DBV_TEXT;
		return json_minify(d, t, &v->s);
	case DB_INTEGER:
		if (jt != JSON_NUMBER || num_to_i64(json_src(d, t), json_srclen(d, t), &v->i) < 0)
			break;
		v->kind = DBV_INT;
		return 0;
	case DB_REAL:
		if (jt != JSON_NUMBER)
			break;
		v->kind = DBV_REAL;
		v->r = strtod(json_src(d, t), NULL);
		/* a value a double cannot hold does not fit: no Inf, no silent 0 */
		if (isinf(v->r))
			break;
		if (v->r == 0) {
			struct decnum dn;

			if (num_decompose(json_src(d, t), json_srclen(d, t), &dn) < 0 || !dn.zero)
				break;
		}
		return 0;
	case DB_BOOLEAN:
		if (jt != JSON_TRUE && jt != JSON_FALSE)
			break;
		v->kind = DBV_INT;
		v->i = jt == JSON_TRUE;
		return 0;
	case DB_TIMESTAMP:
		if (jt != JSON_STRING || json_str_decode(d, t, &v->s) < 0 || !v->s.buf ||
		    instant_parse(v->s.buf, v->s.len, 1, &when) < 0)
			break;
		instant_format(&when, buf, sizeof(buf));
		strbuf_reset(&v->s);
		strbuf_addstr(&v->s, buf);
		v->kind = DBV_TEXT;
		return 0;
	}
	{
		char shown[48];
		size_t n = json_srclen(d, t) < 40 ? json_srclen(d, t) : 40;

		memcpy(shown, json_src(d, t), n);
		strcpy(shown + n, json_srclen(d, t) > 40 ? "..." : "");
		return aperr_set(e, EX_DATAERR, "%s does not fit column %s (%s)", shown, col->name,
				 db_type_name(col->type));
	}
}
