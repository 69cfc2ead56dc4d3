#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "shape.h"

#define SHAPE_MAX_DEPTH 4096

static const char *const type_names[SH_NTYPES] = {
	"object", "array", "string", "number", "integer", "boolean", "null"
};
static const char *const format_names[SHF_N] = { "date-time", "date", "uuid", "email", "uri" };


struct ctx {
	struct strbuf scratch;
	uint64_t lineno;
	struct aperr *e;
};

struct shape *shape_new(void)
{
	struct shape *sh = calloc(1, sizeof(*sh));

	if (sh)
		sh->formats = SHF_ALL;
	return sh;
}

void shape_free(struct shape *sh)
{
	size_t i;

	if (!sh)
		return;
	for (i = 0; i < sh->nprops; i++)
		shape_free(sh->props[i]);
	free(sh->props);
	shape_free(sh->items);
	free(sh->name);
	free(sh);
}

/* The name of single bit in a table of names, one a bit from the lowest. */
static const char *bit_name(const char *const *names, unsigned n, unsigned bit)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (bit == 1u << i)
			return names[i];
	return "?";
}

const char *shape_type_name(unsigned bit)
{
	return bit_name(type_names, SH_NTYPES, bit);
}

const char *shape_format_name(unsigned bit)
{
	return bit_name(format_names, SHF_N, bit);
}

unsigned shape_format_pick(unsigned mask)
{
	return mask & -mask;
}

/* Does s[0..n) have format bit?  Detection asks a uri for "://" too. */
static int format_is(unsigned bit, const char *s, size_t n, int detecting)
{
	if (format_check(shape_format_name(bit), s, n) != 1)
		return 0;
	return bit != SHF_URI || !detecting || memmem(s, n, "://", 3);
}

static unsigned type_of(const struct json_doc *d, uint32_t t)
{
	const char *s;
	size_t n;

	switch (json_type(d, t)) {
	case JSON_NULL: return SH_NULL;
	case JSON_TRUE:
	case JSON_FALSE: return SH_BOOLEAN;
	case JSON_STRING: return SH_STRING;
	case JSON_ARRAY: return SH_ARRAY;
	case JSON_OBJECT: return SH_OBJECT;
	default:
		s = json_src(d, t);
		n = json_srclen(d, t);
		return memchr(s, '.', n) || memchr(s, 'e', n) || memchr(s, 'E', n) ?
			SH_NUMBER : SH_INTEGER;
	}
}

static int oom(struct aperr *e)
{
	return aperr_set(e, EX_OSERR, "out of memory");
}

static struct shape *add_prop(struct shape *sh, const char *name, size_t n)
{
	struct shape *c;

	if (sh->nprops == sh->aprops) {
		size_t a = sh->aprops ? 2 * sh->aprops : 8;
		struct shape **p = realloc(sh->props, a * sizeof(*p));

		if (!p)
			return NULL;
		sh->props = p;
		sh->aprops = a;
	}
	c = shape_new();
	if (!c || !(c->name = malloc(n + 1))) {
		free(c);
		return NULL;
	}
	memcpy(c->name, name, n);
	c->name[n] = 0;
	c->namelen = n;
	sh->props[sh->nprops++] = c;
	return c;
}

/* The member named name[0..n), NULL when there is none; members usually come in order. */
static struct shape *find_prop(struct shape *sh, const char *name, size_t n)
{
	size_t i, k;

	for (k = 0; k < sh->nprops; k++) {
		i = (sh->hint + k) % sh->nprops;
		if (sh->props[i]->namelen == n && !memcmp(sh->props[i]->name, name, n)) {
			sh->hint = i + 1;
			return sh->props[i];
		}
	}
	return NULL;
}

static void first(uint64_t *line, uint64_t lineno)
{
	if (!*line)
		*line = lineno;
}

static void observe_string(struct shape *sh, const char *s, size_t n, uint64_t lineno)
{
	unsigned m, bit;

	sh->nstrings++;
	for (m = sh->formats; m; m &= m - 1) {
		bit = m & -m;
		if (!format_is(bit, s, n, 1))
			sh->formats &= ~bit;
	}
	if (sh->bformat && !(sh->formats & sh->bformat) && !format_is(sh->bformat, s, n, 0)) {
		sh->bad_format++;
		first(&sh->first_bad_format, lineno);
	}
}

static int observe(struct shape *sh, const struct json_doc *d, uint32_t t, struct ctx *c,
		   unsigned depth);

static int observe_object(struct shape *sh, const struct json_doc *d, uint32_t t,
			  struct ctx *c, unsigned depth)
{
	uint64_t me = ++sh->nobj;	/* this occurrence: its members are stamped with it */
	uint32_t k;
	size_t i;

	for (k = json_first(d, t); k; k = json_next(d, t, k)) {
		struct shape *p;
		const char *name;
		size_t n;

		if (json_str_view(d, k, &c->scratch, &name, &n) < 0)
			return oom(c->e);
		p = find_prop(sh, name, n);
		if (!p && !(p = add_prop(sh, name, n)))
			return oom(c->e);
		if (p->stamp == me)
			continue;	/* a repeated name: the first one counts */
		p->stamp = me;
		if (observe(p, d, k + 1, c, depth + 1) < 0)
			return -1;
	}
	for (i = 0; i < sh->nprops; i++)
		if (sh->props[i]->stamp != me) {
			sh->props[i]->missing++;
			first(&sh->props[i]->first_missing, c->lineno);
		}
	return 0;
}

static int observe(struct shape *sh, const struct json_doc *d, uint32_t t, struct ctx *c,
		   unsigned depth)
{
	unsigned type = type_of(d, t);
	uint32_t k;

	if (depth > SHAPE_MAX_DEPTH)
		return aperr_set(c->e, EX_DATAERR, "nested deeper than %d", SHAPE_MAX_DEPTH);
	sh->count++;
	first(&sh->first_line, c->lineno);
	sh->types |= type;
	if (sh->baseline && sh->btypes) {
		if (type == SH_NULL) {
			if (!(sh->btypes & SH_NULL)) {
				sh->nulls++;
				first(&sh->first_null, c->lineno);
			}
		} else if (!(sh->btypes & type) &&
			   !(type == SH_INTEGER && (sh->btypes & SH_NUMBER))) {
			sh->bad_type++;
			sh->bad_types |= type;
			first(&sh->first_bad_type, c->lineno);
		}
	}
	switch (type) {
	case SH_STRING: {
		const char *s;
		size_t n;

		if (json_str_view(d, t, &c->scratch, &s, &n) < 0)
			return oom(c->e);
		observe_string(sh, s, n, c->lineno);
		return 0;
	}
	case SH_OBJECT:
		return observe_object(sh, d, t, c, depth);
	case SH_ARRAY:
		for (k = json_first(d, t); k; k = json_next(d, t, k)) {
			if (!sh->items && !(sh->items = shape_new()))
				return oom(c->e);
			if (observe(sh->items, d, k, c, depth + 1) < 0)
				return -1;
		}
		return 0;
	default:
		return 0;
	}
}

int shape_observe(struct shape *sh, const struct json_doc *d, uint32_t t, uint64_t lineno,
		  struct aperr *e)
{
	struct ctx c;
	int r;

	strbuf_init(&c.scratch, (size_t)-1);
	c.lineno = lineno;
	c.e = e;
	r = observe(sh, d, t, &c, 0);
	strbuf_release(&c.scratch);
	return r;
}

/* ---- the baseline ---- */

static int bad_baseline(struct aperr *e, const struct strbuf *ptr, const char *what)
{
	return aperr_set(e, EX_CONFIG, "baseline %s: %s", ptr->len ? ptr->buf : "(root)", what);
}

static int type_bit(const struct json_doc *d, uint32_t t, unsigned *bit)
{
	unsigned i;

	if (json_type(d, t) != JSON_STRING)
		return -1;
	for (i = 0; i < SH_NTYPES; i++)
		if (json_str_eq(d, t, type_names[i], strlen(type_names[i]))) {
			*bit = 1u << i;
			return 0;
		}
	return -1;
}

static int load(struct shape *sh, const struct json_doc *d, uint32_t t, struct strbuf *ptr,
		struct strbuf *tmp, unsigned depth, struct aperr *e);

static int load_member(struct shape *sh, const char *kw, const struct json_doc *d, uint32_t v,
		       struct strbuf *ptr, struct strbuf *tmp, unsigned depth, struct aperr *e)
{
	size_t at = ptr->len;
	uint32_t k;
	unsigned bit, i;

	json_ptr_append(ptr, kw, strlen(kw));
	if (!strcmp(kw, "type")) {
		if (json_type(d, v) == JSON_ARRAY) {
			for (k = json_first(d, v); k; k = json_next(d, v, k)) {
				if (type_bit(d, k, &bit) < 0)
					return bad_baseline(e, ptr, "not a JSON Schema type");
				sh->btypes |= bit;
			}
		} else if (type_bit(d, v, &bit) < 0) {
			return bad_baseline(e, ptr, "not a JSON Schema type");
		} else {
			sh->btypes = bit;
		}
	} else if (!strcmp(kw, "format")) {
		if (json_type(d, v) != JSON_STRING)
			return bad_baseline(e, ptr, "not a string");
		for (i = 0; i < SHF_N; i++)
			if (json_str_eq(d, v, format_names[i], strlen(format_names[i])))
				sh->bformat = 1u << i;
	} else if (!strcmp(kw, "items") && json_type(d, v) == JSON_OBJECT) {
		if (!(sh->items = shape_new()))
			return oom(e);
		if (load(sh->items, d, v, ptr, tmp, depth + 1, e) < 0)
			return -1;
	} else if (!strcmp(kw, "properties")) {
		if (json_type(d, v) != JSON_OBJECT)
			return bad_baseline(e, ptr, "not an object");
		for (k = json_first(d, v); k; k = json_next(d, v, k)) {
			struct shape *p;
			size_t at2 = ptr->len;

			strbuf_reset(tmp);
			if (json_str_decode(d, k, tmp) < 0)
				return oom(e);
			if (find_prop(sh, tmp->buf, tmp->len))
				continue;
			if (!(p = add_prop(sh, tmp->buf, tmp->len)))
				return oom(e);
			json_ptr_append(ptr, p->name, p->namelen);
			if (json_type(d, k + 1) == JSON_OBJECT &&
			    load(p, d, k + 1, ptr, tmp, depth + 1, e) < 0)
				return -1;
			p->baseline = 1;
			strbuf_setlen(ptr, at2);
		}
	} else if (!strcmp(kw, "required")) {
		if (json_type(d, v) != JSON_ARRAY)
			return bad_baseline(e, ptr, "not an array");
		for (k = json_first(d, v); k; k = json_next(d, v, k)) {
			struct shape *p;

			if (json_type(d, k) != JSON_STRING)
				return bad_baseline(e, ptr, "not an array of strings");
			strbuf_reset(tmp);
			if (json_str_decode(d, k, tmp) < 0)
				return oom(e);
			p = find_prop(sh, tmp->buf, tmp->len);
			if (!p && !(p = add_prop(sh, tmp->buf, tmp->len)))
				return oom(e);
			p->baseline = 1;
			p->required = 1;
		}
	}
	strbuf_setlen(ptr, at);
	return 0;
}

static int load(struct shape *sh, const struct json_doc *d, uint32_t t, struct strbuf *ptr,
		struct strbuf *tmp, unsigned depth, struct aperr *e)
{
	static const char *const order[] = { "type", "format", "properties", "required", "items" };
	unsigned i;
	uint32_t v;

	if (depth > SHAPE_MAX_DEPTH)
		return bad_baseline(e, ptr, "nested too deeply");
	sh->baseline = 1;
	/* properties before required, so required marks the members properties made */
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if ((v = json_get(d, t, order[i], strlen(order[i]))) &&
		    load_member(sh, order[i], d, v, ptr, tmp, depth, e) < 0)
			return -1;
	return 0;
}

struct shape *shape_load_baseline(const struct json_doc *d, uint32_t t, struct aperr *e)
{
	struct strbuf ptr = STRBUF_INIT, tmp = STRBUF_INIT;
	struct shape *sh;

	if (json_type(d, t) != JSON_OBJECT) {
		aperr_set(e, EX_CONFIG, "baseline: not a JSON Schema object");
		return NULL;
	}
	if (!(sh = shape_new())) {
		oom(e);
		return NULL;
	}
	if (load(sh, d, t, &ptr, &tmp, 0, e) < 0) {
		shape_free(sh);
		sh = NULL;
	}
	strbuf_release(&ptr);
	strbuf_release(&tmp);
	return sh;
}

/* ---- writing ---- */

void shape_types_json(struct strbuf *out, unsigned types)
{
	unsigned i, n = 0;

	if ((types & SH_NUMBER) && (types & SH_INTEGER))
		types &= ~SH_INTEGER;
	for (i = 0; i < SH_NTYPES; i++)
		n += !!(types & (1u << i));
	if (!n) {
		strbuf_addstr(out, "null");
		return;
	}
	if (n > 1)
		strbuf_addch(out, '[');
	for (i = 0, n = 0; i < SH_NTYPES; i++)
		if (types & (1u << i))
			strbuf_addf(out, "%s\"%s\"", n++ ? "," : "", type_names[i]);
	if (n > 1)
		strbuf_addch(out, ']');
}

static void indent(struct strbuf *out, unsigned level)
{
	strbuf_addch(out, '\n');
	while (level--)
		strbuf_addstr(out, "  ");
}

/* Start the next member of an object being written: a comma after the first. */
static void member(struct strbuf *out, unsigned level, unsigned *n)
{
	if ((*n)++)
		strbuf_addch(out, ',');
	indent(out, level);
}

static void schema_body(struct strbuf *out, const struct shape *sh, unsigned level,
			unsigned n)
{
	unsigned fmt = sh->types & SH_STRING && sh->nstrings ? shape_format_pick(sh->formats) : 0;
	size_t i, k;

	if (sh->types) {
		member(out, level, &n);
		strbuf_addstr(out, "\"type\": ");
		shape_types_json(out, sh->types);
	}
	if (fmt) {
		member(out, level, &n);
		strbuf_addf(out, "\"format\": \"%s\"", shape_format_name(fmt));
	}
	if (sh->name) {
		member(out, level, &n);
		strbuf_addf(out, "\"x-apipe-present\": %llu", (unsigned long long)sh->count);
	}
	if ((sh->types & SH_OBJECT) && sh->nobj) {
		member(out, level, &n);
		strbuf_addstr(out, "\"properties\": {");
		for (i = 0; i < sh->nprops; i++) {
			indent(out, level + 1);
			json_quote(out, sh->props[i]->name, sh->props[i]->namelen);
			strbuf_addstr(out, ": {");
			schema_body(out, sh->props[i], level + 2, 0);
			indent(out, level + 1);
			strbuf_addstr(out, i + 1 < sh->nprops ? "}," : "}");
		}
		if (sh->nprops)
			indent(out, level);
		strbuf_addch(out, '}');
		member(out, level, &n);
		strbuf_addstr(out, "\"required\": [");
		for (i = 0, k = 0; i < sh->nprops; i++)
			if (sh->props[i]->count == sh->nobj) {
				if (k++)
					strbuf_addstr(out, ", ");
				json_quote(out, sh->props[i]->name, sh->props[i]->namelen);
			}
		strbuf_addch(out, ']');
	}
	if ((sh->types & SH_ARRAY) && sh->items) {
		member(out, level, &n);
		strbuf_addstr(out, "\"items\": {");
		schema_body(out, sh->items, level + 1, 0);
		indent(out, level);
		strbuf_addch(out, '}');
	}
}

void shape_schema_json(struct strbuf *out, const struct shape *sh, uint64_t records)
{
	strbuf_addstr(out, "{\n  \"$schema\": \"https://json-schema.org/draft/2020-12/schema\",");
	strbuf_addf(out, "\n  \"x-apipe-records\": %llu", (unsigned long long)records);
	schema_body(out, sh, 1, 1);
	strbuf_addstr(out, "\n}\n");
}
