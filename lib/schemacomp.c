/* lib/schema, part two: compiling schemas into nodes through the keyword table (schemaint.h). */
#include "schemaint.h"

/* ---- compiling ---- */


/*
 * One copy of each base URI, owned by s: nodes of one resource share the
 * pointer, so the dynamic scope compares pointers.  NULL when out of memory.
 */
static const char *intern(struct sch *s, const char *uri)
{
	size_t i;

	for (i = 0; i < s->nbases; i++)
		if (!strcmp(s->bases[i], uri))
			return s->bases[i];
	if (s->nbases == s->abases) {
		size_t na = s->abases ? 2 * s->abases : 8;
		char **nb = realloc(s->bases, na * sizeof(*nb));

		if (!nb)
			return NULL;
		s->bases = nb;
		s->abases = na;
	}
	if (!(s->bases[s->nbases] = strdup(uri)))
		return NULL;
	return s->bases[s->nbases++];
}

static struct sch_node *compile(struct comp *c, size_t res, uint32_t tok, const char *base,
				const char *path, unsigned depth);

static int bad(struct comp *c, const char *path, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int bad(struct comp *c, const char *path, const char *key, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return aperr_set(c->e, EX_CONFIG, "invalid schema at %s/%s: %s", path, key, msg);
}

static struct sch_node *new_node(struct comp *c, size_t res, uint32_t tok, const char *path)
{
	struct sch *s = c->s;
	struct sch_node *n = calloc(1, sizeof(*n));

	if (!n)
		goto oom;
	n->res = res;
	n->tok = tok;
	n->boolean = -1;
	strbuf_init(&n->path, 0);
	strbuf_addstr(&n->path, path);
	if (s->nnodes == s->anodes) {
		size_t na = s->anodes ? s->anodes * 2 : 64;
		struct sch_node **nn = realloc(s->nodes, na * sizeof(*nn));

		if (!nn) {
			sch_node_free(n);
			goto oom;
		}
		s->nodes = nn;
		s->anodes = na;
	}
	s->nodes[s->nnodes++] = n;
	return n;
oom:
	aperr_set(c->e, EX_OSERR, "out of memory");
	return NULL;
}

/* Compile each schema of an array member into *out. */
static int sub_array(struct comp *c, size_t res, uint32_t arr, const char *base, const char *path,
		     const char *key, struct sch_node ***out, size_t *n, unsigned depth)
{
	const struct json_doc *d = &c->s->res[res].doc;
	struct strbuf p = STRBUF_INIT;
	uint32_t i;
	size_t k = 0;

	if (json_type(d, arr) != JSON_ARRAY || !json_first(d, arr))
		return bad(c, path, key, "must be a non-empty array of schemas");
	*n = json_count(d, arr);
	*out = calloc(*n, sizeof(**out));
	if (!*out)
		return aperr_set(c->e, EX_OSERR, "out of memory");
	for (i = json_first(d, arr); i; i = json_next(d, arr, i), k++) {
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s/%zu", path, key, k);
		(*out)[k] = compile(c, res, i, base, p.buf, depth + 1);
		if (!(*out)[k]) {
			strbuf_release(&p);
			return -1;
		}
	}
	strbuf_release(&p);
	return 0;
}

/* Compile each schema of an object member into props. */
static int sub_object(struct comp *c, size_t res, uint32_t obj, const char *base, const char *path,
		      const char *key, struct prop **out, size_t *n, int patterns, unsigned depth)
{
	const struct json_doc *d = &c->s->res[res].doc;
	struct strbuf p = STRBUF_INIT;
	uint32_t i;
	size_t k = 0;

	if (json_type(d, obj) != JSON_OBJECT)
		return bad(c, path, key, "must be an object of schemas");
	*n = json_count(d, obj);
	*out = calloc(*n ? *n : 1, sizeof(**out));
	if (!*out)
		return aperr_set(c->e, EX_OSERR, "out of memory");
	for (i = json_first(d, obj); i; i = json_next(d, obj, i), k++) {
		struct prop *pr = &(*out)[k];
		char err[200];

		strbuf_init(&pr->name, 0);
		json_str_decode(d, i, &pr->name);
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", path, key);
		json_ptr_append(&p, pr->name.buf, pr->name.len);
		if (patterns && !(pr->re = format_regex(pr->name.buf, pr->name.len, err,
						  sizeof(err)))) {
			strbuf_release(&p);
			return bad(c, path, key, "%s", err);
		}
		pr->s = compile(c, res, i + 1, base, p.buf, depth + 1);
		if (!pr->s) {
			strbuf_release(&p);
			return -1;
		}
	}
	strbuf_release(&p);
	return 0;
}

static struct sch_node *sub(struct comp *c, size_t res, uint32_t t, const char *base,
			    const char *path, const char *key, unsigned depth)
{
	struct strbuf p = STRBUF_INIT;
	struct sch_node *n;

	strbuf_addf(&p, "%s/%s", path, key);
	n = compile(c, res, t, base, p.buf, depth + 1);
	strbuf_release(&p);
	return n;
}

static int strings(struct comp *c, const struct json_doc *d, uint32_t arr, const char *path,
		   const char *key, struct strbuf **out, size_t *n)
{
	uint32_t i;
	size_t k = 0;

	if (json_type(d, arr) != JSON_ARRAY)
		return bad(c, path, key, "must be an array of strings");
	*n = json_count(d, arr);
	*out = calloc(*n ? *n : 1, sizeof(**out));
	if (!*out)
		return aperr_set(c->e, EX_OSERR, "out of memory");
	for (i = json_first(d, arr); i; i = json_next(d, arr, i), k++) {
		strbuf_init(&(*out)[k], 0);
		if (json_type(d, i) != JSON_STRING)
			return bad(c, path, key, "must be an array of strings");
		json_str_decode(d, i, &(*out)[k]);
	}
	return 0;
}

static const struct { const char *name; unsigned bit; } type_names[] = {
	{ "null", T_NULL }, { "boolean", T_BOOLEAN }, { "object", T_OBJECT },
	{ "array", T_ARRAY }, { "number", T_NUMBER }, { "string", T_STRING },
	{ "integer", T_INTEGER }
};

static int type_bit(const struct json_doc *d, uint32_t t, unsigned *out)
{
	size_t i;

	for (i = 0; i < sizeof(type_names) / sizeof(*type_names); i++)
		if (json_str_eq(d, t, type_names[i].name, strlen(type_names[i].name))) {
			*out |= type_names[i].bit;
			return 0;
		}
	return -1;
}

/* The keywords of the validation vocabulary. */
static int validation_keyword(const char *k)
{
	static const char *const kw[] = {
		"type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum",
		"exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
		"uniqueItems", "maxContains", "minContains", "maxProperties", "minProperties",
		"required", "dependentRequired", NULL
	};
	size_t i;

	for (i = 0; kw[i]; i++)
		if (!strcmp(k, kw[i]))
			return 1;
	return 0;
}

/*
 * The keywords compile() knows, each with the drafts it belongs to and the
 * function that compiles it into the node.  A member that is no keyword of
 * the schema's draft is an annotation and is ignored.
 */
struct keyword;

/* What a keyword's function sees: the node, the keyword and its value. */
struct kw_ctx {
	struct comp *c;
	struct sch_node *n;
	const struct json_doc *d;
	size_t res;
	uint32_t tok, val;		/* the schema object, the keyword's value */
	const char *key, *base, *path;	/* base: the schema's absolute URI */
	unsigned depth;
	int draft7;
	struct strbuf *v;		/* scratch */
	const struct keyword *kw;
};

/* 0, or -1 after reporting the failure (bad()). */
typedef int (*kw_fn)(struct kw_ctx *k);

#define KW_2020 1u
#define KW_DRAFT7 2u
#define KW_BOTH (KW_2020 | KW_DRAFT7)

struct keyword {
	const char *name;
	unsigned drafts;
	kw_fn fn;
	size_t at, count_at;		/* offsets in struct sch_node the function fills */
	int arg;			/* a function's own parameter */
};

#define NODE(f) offsetof(struct sch_node, f)
#define FIELD(k, type, off) ((type)(void *)((char *)(k)->n + (off)))

static int kw_type(struct kw_ctx *k)
{
	uint32_t t;

	if (json_type(k->d, k->val) == JSON_STRING) {
		if (type_bit(k->d, k->val, &k->n->types) < 0)
			return bad(k->c, k->path, k->key, "unknown type");
		return 0;
	}
	if (json_type(k->d, k->val) != JSON_ARRAY)
		return bad(k->c, k->path, k->key, "must be a string or an array");
	for (t = json_first(k->d, k->val); t; t = json_next(k->d, k->val, t))
		if (json_type(k->d, t) != JSON_STRING || type_bit(k->d, t, &k->n->types) < 0)
			return bad(k->c, k->path, k->key, "unknown type");
	return 0;
}

static int kw_enum(struct kw_ctx *k)
{
	if (json_type(k->d, k->val) != JSON_ARRAY)
		return bad(k->c, k->path, k->key, "must be an array");
	k->n->has_enum = 1;
	k->n->enum_tok = k->val;
	return 0;
}

static int kw_const(struct kw_ctx *k)
{
	k->n->has_const = 1;
	k->n->const_tok = k->val;
	return 0;
}

/* minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf: arg is the num[] slot. */
static int kw_number(struct kw_ctx *k)
{
	int i = k->kw->arg;
	const char *x = json_src(k->d, k->val);
	size_t xl = json_srclen(k->d, k->val);

	/* draft-07's exclusive bounds may be draft-04 booleans: ignored */
	if (k->draft7 && (i == N_XMIN || i == N_XMAX) && json_type(k->d, k->val) != JSON_NUMBER)
		return 0;
	if (json_type(k->d, k->val) != JSON_NUMBER)
		return bad(k->c, k->path, k->key, "must be a number");
	if (i == N_MULT && (x[0] == '-' || num_cmp(x, xl, "0", 1) == 0))
		return bad(k->c, k->path, k->key, "must be greater than 0");
	k->n->num[i] = x;
	k->n->numlen[i] = xl;
	return 0;
}

/* min/maxLength, Items, Properties, Contains: at is the has_ flag, count_at the bound. */
static int kw_count(struct kw_ctx *k)
{
	uint64_t x;

	if (json_u64(k->d, k->val, &x) < 0)
		return bad(k->c, k->path, k->key, "must be a non-negative integer");
	*FIELD(k, int *, k->kw->at) = 1;
	*FIELD(k, uint64_t *, k->kw->count_at) = x;
	return 0;
}

static int kw_unique(struct kw_ctx *k)
{
	k->n->unique = json_type(k->d, k->val) == JSON_TRUE;
	return 0;
}

static int kw_pattern(struct kw_ctx *k)
{
	char err[200];

	strbuf_reset(k->v);
	if (json_type(k->d, k->val) != JSON_STRING || json_str_decode(k->d, k->val, k->v) < 0)
		return bad(k->c, k->path, k->key, "must be a string");
	if (!(k->n->pattern = format_regex(k->v->buf, k->v->len, err, sizeof(err))))
		return bad(k->c, k->path, k->key, "%s", err);
	return 0;
}

static int kw_format(struct kw_ctx *k)
{
	if (json_type(k->d, k->val) != JSON_STRING)
		return 0;
	strbuf_reset(k->v);
	json_str_decode(k->d, k->val, k->v);
	free(k->n->format);
	k->n->format = strdup(k->v->buf);
	k->n->format_fn = format_lookup(k->n->format);
	return 0;
}

static int kw_required(struct kw_ctx *k)
{
	return strings(k->c, k->d, k->val, k->path, k->key, &k->n->required, &k->n->nrequired);
}

/* One subschema into the node's pointer at. */
static int kw_sub(struct kw_ctx *k)
{
	struct sch_node *s = sub(k->c, k->res, k->val, k->base, k->path, k->key, k->depth);

	*FIELD(k, struct sch_node **, k->kw->at) = s;
	return s ? 0 : -1;
}

/* An array of subschemas into the node's array at and count count_at. */
static int kw_subs(struct kw_ctx *k)
{
	return sub_array(k->c, k->res, k->val, k->base, k->path, k->key,
			 FIELD(k, struct sch_node ***, k->kw->at), FIELD(k, size_t *, k->kw->count_at),
			 k->depth);
}

/* An object of subschemas (arg: its names are patterns) into at and count_at. */
static int kw_props(struct kw_ctx *k)
{
	return sub_object(k->c, k->res, k->val, k->base, k->path, k->key,
			  FIELD(k, struct prop **, k->kw->at), FIELD(k, size_t *, k->kw->count_at),
			  k->kw->arg, k->depth);
}

/* dependentRequired, and draft-07's dependencies (arrays of names, or schemas). */
static int kw_depreq(struct kw_ctx *k)
{
	struct sch_node *n = k->n;
	uint32_t t;

	if (json_type(k->d, k->val) != JSON_OBJECT)
		return bad(k->c, k->path, k->key, "must be an object");
	for (t = json_first(k->d, k->val); t; t = json_next(k->d, k->val, t)) {
		if (json_type(k->d, t + 1) == JSON_ARRAY) {
			struct depreq *dr;

			n->depreq = realloc(n->depreq, (n->ndepreq + 1) * sizeof(*n->depreq));
			dr = &n->depreq[n->ndepreq++];
			memset(dr, 0, sizeof(*dr));
			strbuf_init(&dr->name, 0);
			json_str_decode(k->d, t, &dr->name);
			if (strings(k->c, k->d, t + 1, k->path, k->key, &dr->req, &dr->n) < 0)
				return -1;
		} else if (k->draft7) {
			struct prop *pr;
			struct strbuf p = STRBUF_INIT;

			n->depschemas = realloc(n->depschemas, (n->ndepschemas + 1) * sizeof(*n->depschemas));
			pr = &n->depschemas[n->ndepschemas++];
			memset(pr, 0, sizeof(*pr));
			strbuf_init(&pr->name, 0);
			json_str_decode(k->d, t, &pr->name);
			strbuf_addf(&p, "%s/%s", k->path, k->key);
			json_ptr_append(&p, pr->name.buf, pr->name.len);
			pr->s = compile(k->c, k->res, t + 1, k->base, p.buf, k->depth + 1);
			strbuf_release(&p);
			if (!pr->s)
				return -1;
		} else {
			return bad(k->c, k->path, k->key, "values must be arrays of strings");
		}
	}
	return 0;
}

/* items: a subschema, or (draft-07) an array of them, which prefixItems is now. */
static int kw_items(struct kw_ctx *k)
{
	struct sch_node *n = k->n;

	if (!(k->draft7 && json_type(k->d, k->val) == JSON_ARRAY))
		return (n->items = sub(k->c, k->res, k->val, k->base, k->path, k->key, k->depth)) ? 0 : -1;
	if (json_first(k->d, k->val) && sub_array(k->c, k->res, k->val, k->base, k->path, k->key,
						  &n->prefix, &n->nprefix, k->depth) < 0)
		return -1;
	if (!json_first(k->d, k->val))
		n->prefix = calloc(1, sizeof(*n->prefix));
	return 0;
}

/* draft-07 additionalItems: only after an items array. */
static int kw_more_items(struct kw_ctx *k)
{
	uint32_t t = json_get(k->d, k->tok, "items", 5);

	if (!t || json_type(k->d, t) != JSON_ARRAY)
		return 0;
	k->n->more_items = sub(k->c, k->res, k->val, k->base, k->path, k->key, k->depth);
	return k->n->more_items ? 0 : -1;
}

/* $defs and definitions: compiled where a $ref reaches them; here only checked. */
static int kw_defs(struct kw_ctx *k)
{
	if (json_type(k->d, k->val) != JSON_OBJECT)
		return bad(k->c, k->path, k->key, "must be an object");
	return 0;
}

static const struct keyword keywords[] = {
	{ "type", KW_BOTH, kw_type, 0, 0, 0 },
	{ "enum", KW_BOTH, kw_enum, 0, 0, 0 },
	{ "const", KW_BOTH, kw_const, 0, 0, 0 },
	{ "minimum", KW_BOTH, kw_number, 0, 0, N_MIN },
	{ "maximum", KW_BOTH, kw_number, 0, 0, N_MAX },
	{ "exclusiveMinimum", KW_BOTH, kw_number, 0, 0, N_XMIN },
	{ "exclusiveMaximum", KW_BOTH, kw_number, 0, 0, N_XMAX },
	{ "multipleOf", KW_BOTH, kw_number, 0, 0, N_MULT },
	{ "minLength", KW_BOTH, kw_count, NODE(has_len[0]), NODE(len[0]), 0 },
	{ "maxLength", KW_BOTH, kw_count, NODE(has_len[1]), NODE(len[1]), 0 },
	{ "minItems", KW_BOTH, kw_count, NODE(has_items[0]), NODE(items_n[0]), 0 },
	{ "maxItems", KW_BOTH, kw_count, NODE(has_items[1]), NODE(items_n[1]), 0 },
	{ "minProperties", KW_BOTH, kw_count, NODE(has_props[0]), NODE(props_n[0]), 0 },
	{ "maxProperties", KW_BOTH, kw_count, NODE(has_props[1]), NODE(props_n[1]), 0 },
	{ "minContains", KW_2020, kw_count, NODE(has_contains[0]), NODE(contains_n[0]), 0 },
	{ "maxContains", KW_2020, kw_count, NODE(has_contains[1]), NODE(contains_n[1]), 0 },
	{ "uniqueItems", KW_BOTH, kw_unique, 0, 0, 0 },
	{ "pattern", KW_BOTH, kw_pattern, 0, 0, 0 },
	{ "format", KW_BOTH, kw_format, 0, 0, 0 },
	{ "required", KW_BOTH, kw_required, 0, 0, 0 },
	{ "properties", KW_BOTH, kw_props, NODE(props), NODE(nprops), 0 },
	{ "patternProperties", KW_BOTH, kw_props, NODE(pats), NODE(npats), 1 },
	{ "dependentSchemas", KW_2020, kw_props, NODE(depschemas), NODE(ndepschemas), 0 },
	{ "dependentRequired", KW_2020, kw_depreq, 0, 0, 0 },
	{ "dependencies", KW_DRAFT7, kw_depreq, 0, 0, 0 },
	{ "additionalProperties", KW_BOTH, kw_sub, NODE(additional), 0, 0 },
	{ "propertyNames", KW_BOTH, kw_sub, NODE(names), 0, 0 },
	{ "not", KW_BOTH, kw_sub, NODE(not_), 0, 0 },
	{ "if", KW_BOTH, kw_sub, NODE(if_), 0, 0 },
	{ "then", KW_BOTH, kw_sub, NODE(then_), 0, 0 },
	{ "else", KW_BOTH, kw_sub, NODE(else_), 0, 0 },
	{ "contains", KW_BOTH, kw_sub, NODE(contains), 0, 0 },
	{ "allOf", KW_BOTH, kw_subs, NODE(all), NODE(nall), 0 },
	{ "anyOf", KW_BOTH, kw_subs, NODE(any), NODE(nany), 0 },
	{ "oneOf", KW_BOTH, kw_subs, NODE(one), NODE(none), 0 },
	{ "prefixItems", KW_2020, kw_subs, NODE(prefix), NODE(nprefix), 0 },
	{ "items", KW_BOTH, kw_items, 0, 0, 0 },
	{ "additionalItems", KW_DRAFT7, kw_more_items, 0, 0, 0 },
	{ "unevaluatedProperties", KW_2020, kw_sub, NODE(uneval_props), 0, 0 },
	{ "unevaluatedItems", KW_2020, kw_sub, NODE(uneval_items), 0, 0 },
	{ "$defs", KW_BOTH, kw_defs, 0, 0, 0 },
	{ "definitions", KW_BOTH, kw_defs, 0, 0, 0 },
};

/* The keyword key names in the draft (draft7 or 2020-12), or NULL. */
static const struct keyword *keyword_of(const char *key, int draft7)
{
	size_t i;

	for (i = 0; i < sizeof(keywords) / sizeof(*keywords); i++)
		if (!strcmp(key, keywords[i].name))
			return keywords[i].drafts & (draft7 ? KW_DRAFT7 : KW_2020) ? &keywords[i] : NULL;
	return NULL;
}

static struct sch_node *compile(struct comp *c, size_t res, uint32_t tok, const char *base,
				const char *path, unsigned depth)
{
	struct sch *s = c->s;
	const struct json_doc *d = &s->res[res].doc;
	struct sch_node *n;
	struct strbuf abs = STRBUF_INIT, v = STRBUF_INIT;
	struct kw_ctx kc;
	uint32_t k, t;
	size_t i;
	int draft7 = s->draft == SCH_DRAFT_7, ok = 0;

	for (i = 0; i < s->nnodes; i++)	/* one node per schema location */
		if (s->nodes[i]->res == res && s->nodes[i]->tok == tok)
			return s->nodes[i];
	if (depth > 500) {
		aperr_set(c->e, EX_CONFIG, "invalid schema at %s: nested too deeply", path);
		return NULL;
	}
	n = new_node(c, res, tok, path);
	if (!n)
		return NULL;
	if (json_type(d, tok) == JSON_TRUE || json_type(d, tok) == JSON_FALSE) {
		n->boolean = json_type(d, tok) == JSON_TRUE;
		return n;
	}
	if (json_type(d, tok) != JSON_OBJECT) {
		aperr_set(c->e, EX_CONFIG, "invalid schema at %s: a schema is an object or a boolean",
			  *path ? path : "/");
		return NULL;
	}
	strbuf_addstr(&abs, base);
	if (sch_str_member(d, tok, "$id", &v) && v.len && v.buf[0] != '#' &&
	    !(draft7 && json_get(d, tok, "$ref", 4))) {
		const struct sch_reg *r = NULL;
		char *h;

		/* the URI scan() registered for this very schema, when it did */
		for (i = 0; i < s->nregs && !r; i++)
			if (s->regs[i].res == res && s->regs[i].tok == tok && !strchr(s->regs[i].uri, '#'))
				r = &s->regs[i];
		if (r) {
			strbuf_reset(&abs);
			strbuf_addstr(&abs, r->uri);
		} else {
			sch_uri_resolve(base, v.buf, &abs);
		}
		h = strchr(abs.buf, '#');
		if (h)
			strbuf_setlen(&abs, (size_t)(h - abs.buf));
	}
	n->base = intern(c->s, abs.buf);
	if (!draft7 && (t = json_get(d, tok, "$dynamicRef", 11))) {
		struct strbuf r = STRBUF_INIT;

		strbuf_reset(&v);
		if (json_type(d, t) != JSON_STRING || json_str_decode(d, t, &v) < 0) {
			bad(c, path, "$dynamicRef", "must be a string");
			goto out;
		}
		sch_uri_resolve(abs.buf, v.buf, &r);
		n->dynref = strdup(r.buf);
		strbuf_release(&r);
	}
	if ((t = json_get(d, tok, "$ref", 4))) {
		strbuf_reset(&v);
		if (json_type(d, t) != JSON_STRING || json_str_decode(d, t, &v) < 0) {
			bad(c, path, "$ref", "must be a string");
			goto out;
		}
		{
			struct strbuf r = STRBUF_INIT;

			sch_uri_resolve(abs.buf, v.buf, &r);	/* not in place: it resets its output */
			n->ref = strdup(r.buf);
			strbuf_release(&r);
		}
		if (draft7) {	/* draft-07: $ref's siblings are ignored */
			ok = 1;
			goto out;
		}
	}
	kc.c = c;
	kc.n = n;
	kc.d = d;
	kc.res = res;
	kc.tok = tok;
	kc.base = abs.buf;
	kc.path = path;
	kc.depth = depth;
	kc.draft7 = draft7;
	kc.v = &v;
	for (k = json_first(d, tok); k; k = json_next(d, tok, k)) {
		const struct keyword *kw;
		char key[64];
		size_t kl = json_srclen(d, k) - 2;

		if (kl >= sizeof(key) || json_type(d, k) != JSON_STRING)
			continue;
		memcpy(key, json_src(d, k) + 1, kl);
		key[kl] = '\0';
		/* a keyword given twice: the first counts, as for every member lookup */
		if (json_get(d, tok, key, kl) != k + 1)
			continue;
		if (s->no_validation && validation_keyword(key))
			continue;
		kw = keyword_of(key, draft7);
		if (!kw)
			continue;	/* not a keyword of this draft: an annotation */
		kc.key = key;
		kc.val = k + 1;
		kc.kw = kw;
		if (kw->fn(&kc) < 0)
			goto out;
	}
	ok = 1;
out:
	strbuf_release(&abs);
	strbuf_release(&v);
	return ok ? n : NULL;
}

/* The schema an absolute URI names (n is the referring schema, for messages). */
struct sch_node *sch_resolve(struct sch *s, const struct sch_node *n, const char *uri,
			     struct aperr *e)
{
	const char *h;
	const struct sch_reg *r;
	struct comp c = { s, e };
	struct strbuf path = STRBUF_INIT, base = STRBUF_INIT;
	struct sch_node *tn;

	h = strchr(uri, '#');
	if (h && h[1] && h[1] != '/') {
		r = sch_reg_find(s, uri, strlen(uri));	/* an anchor */
		h = NULL;
	} else {
		r = sch_reg_find(s, uri, h ? (size_t)(h - uri) : strlen(uri));
	}
	if (!r) {
		aperr_set(e, EX_CONFIG, "invalid schema at %s: $ref %s resolves to no known schema",
			  n->path.len ? n->path.buf : "/", uri);
		return NULL;
	}
	{
		const struct json_doc *d = &s->res[r->res].doc;
		uint32_t t = r->tok;

		/* the registered location's URI (an embedded $id's, not its document's) */
		strbuf_add(&base, r->uri, strcspn(r->uri, "#"));
		if (h && h[1] == '/') {
			struct json_ptr p;
			struct strbuf dec = STRBUF_INIT;
			size_t i;

			/* the fragment is percent-encoded */
			for (i = 1; h[i]; i++) {
				if (h[i] == '%' && h[i + 1] && h[i + 2]) {
					char hex[3] = { h[i + 1], h[i + 2], 0 };

					strbuf_addch(&dec, (char)strtol(hex, NULL, 16));
					i += 2;
				} else {
					strbuf_addch(&dec, h[i]);
				}
			}
			if (json_ptr_parse(&p, dec.buf, e) < 0 ||
			    (t = json_ptr_eval(&p, d, r->tok)) == JSON_ABSENT) {
				if (p.text)
					json_ptr_release(&p);
				strbuf_release(&dec);
				strbuf_release(&base);
				strbuf_release(&path);
				aperr_set(e, EX_CONFIG, "invalid schema at %s: $ref %s points at nothing",
					  n->path.len ? n->path.buf : "/", uri);
				return NULL;
			}
			{
				/* the base URI there: every $id on the way down counts */
				uint32_t cur = r->tok;
				size_t k;

				for (k = 0; k < p.nseg && cur != JSON_ABSENT; k++) {
					if (json_type(d, cur) == JSON_OBJECT && k > 0 &&
					    sch_str_member(d, cur, "$id", &dec) && dec.len &&
					    dec.buf[0] != '#') {
						struct strbuf nb = STRBUF_INIT;

						sch_uri_resolve(base.buf, dec.buf, &nb);
						strbuf_reset(&base);
						strbuf_addstr(&base, nb.buf);
						strbuf_release(&nb);
					}
					if (json_type(d, cur) == JSON_OBJECT)
						cur = json_get(d, cur, p.seg[k].s, p.seg[k].n);
					else if (json_type(d, cur) == JSON_ARRAY && p.seg[k].idx >= 0) {
						uint32_t x = json_first(d, cur);
						long j;

						for (j = 0; x && j < p.seg[k].idx; j++)
							x = json_next(d, cur, x);
						cur = x ? x : JSON_ABSENT;
					} else {
						cur = JSON_ABSENT;
					}
					if (!cur)
						cur = JSON_ABSENT;
				}
			}
			json_ptr_release(&p);
			strbuf_release(&dec);
		}
		strbuf_addf(&path, "%s", uri);
		tn = compile(&c, r->res, t, base.buf, path.buf, 0);
	}
	strbuf_release(&path);
	strbuf_release(&base);
	return tn;
}

/* The schema $ref names, compiled on first use. */
struct sch_node *sch_target(struct sch *s, struct sch_node *n, struct aperr *e)
{
	if (!n->ref_node)
		n->ref_node = sch_resolve(s, n, n->ref, e);
	return n->ref_node;
}

/*
 * The embedded metaschemas, registered after everything the caller gave
 * (the first registration of a URI wins, so the caller's copies do).
 */
static int add_builtins(struct sch *s, struct aperr *e)
{
	struct strbuf uri = STRBUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i < sch_nbuiltins && rc == 0; i++) {
		strbuf_reset(&uri);
		strbuf_addf(&uri, "apipe-metaschema:%s", sch_builtins[i].path);
		rc = sch_add_resource(s, uri.buf, sch_builtins[i].text, strlen(sch_builtins[i].text), e);
	}
	strbuf_release(&uri);
	return rc;
}

int sch_compile(struct sch *s, const char *uri, const char *text, size_t n, struct aperr *e)
{
	struct comp c = { s, e };
	size_t res = s->nres;

	if (sch_add_resource(s, uri, text, n, e) < 0 || add_builtins(s, e) < 0)
		return -1;
	{
		/* a metaschema that declares its vocabularies may leave validation out */
		struct strbuf ms = STRBUF_INIT;
		const struct sch_reg *r;

		if (s->draft != SCH_DRAFT_7 &&
		    sch_str_member(&s->res[res].doc, 0, "$schema", &ms) && ms.len &&
		    (r = sch_reg_find(s, ms.buf, strcspn(ms.buf, "#")))) {
			const struct json_doc *md = &s->res[r->res].doc;
			uint32_t voc = json_get(md, r->tok, "$vocabulary", 11);

			if (voc && json_type(md, voc) == JSON_OBJECT &&
			    !json_get(md, voc, "https://json-schema.org/draft/2020-12/vocab/validation", 54))
				s->no_validation = 1;
		}
		strbuf_release(&ms);
	}
	s->root = compile(&c, res, 0, s->res[res].uri, "", 0);
	if (!s->root)
		return -1;
	{
		/* every reference resolves now, not at the first record (compiling may add nodes) */
		size_t i;

		for (i = 0; i < s->nnodes; i++) {
			struct sch_node *x = s->nodes[i];

			if ((x->ref && !sch_target(s, x, e)) ||
			    (x->dynref && !x->dyn_node && !(x->dyn_node = sch_resolve(s, x, x->dynref, e))))
				return -1;
		}
	}
	return 0;
}
