/* lib/schema, part three: validating instances against compiled nodes (schemaint.h). */
#include "schemaint.h"

/* ---- validating ---- */

void sch_errors_init(struct sch_errors *es)
{
	memset(es, 0, sizeof(*es));
}

void sch_errors_reset(struct sch_errors *es)
{
	es->n = 0;
	es->total = 0;
}

void sch_errors_release(struct sch_errors *es)
{
	size_t i;

	for (i = 0; i < es->a; i++) {
		strbuf_release(&es->e[i].instance);
		strbuf_release(&es->e[i].schema);
	}
	free(es->e);
	memset(es, 0, sizeof(*es));
}

int sch_errors_same(const struct sch_errors *a, const struct sch_errors *b)
{
	size_t i;

	if (a->n != b->n || a->total != b->total)
		return 0;
	for (i = 0; i < a->n; i++) {
		const struct sch_error *x = &a->e[i], *y = &b->e[i];

		if (strcmp(x->keyword, y->keyword) || strcmp(x->message, y->message) ||
		    x->instance.len != y->instance.len || x->schema.len != y->schema.len ||
		    (x->instance.len && memcmp(x->instance.buf, y->instance.buf, x->instance.len)) ||
		    (x->schema.len && memcmp(x->schema.buf, y->schema.buf, x->schema.len)))
			return 0;
	}
	return 1;
}

struct vctx {
	struct sch *s;
	struct sch_errors *es;
	struct seg *segs;	/* the instance location, built into a pointer only on failure */
	size_t nsegs, asegs;
	struct aperr *e;
	unsigned depth;
	int failed;		/* a limit or a bad reference: stop */
	const char **scope;	/* the dynamic scope: resource URIs entered, outermost first */
	size_t nscope, ascope;
};

/* Does schema n carry "$dynamicAnchor": name? */
static int dynamic_anchor(const struct sch *s, const struct sch_node *n, const char *name)
{
	const struct json_doc *d = &s->res[n->res].doc;
	uint32_t t = json_get(d, n->tok, "$dynamicAnchor", 14);

	return t && json_type(d, t) == JSON_STRING && json_str_eq(d, t, name, strlen(name));
}

/*
 * $dynamicRef: the initial target, unless it bears a $dynamicAnchor of the
 * fragment's name; then the outermost resource of the dynamic scope that
 * has such a $dynamicAnchor wins.
 */
static struct sch_node *dynamic_target(struct vctx *v, struct sch_node *n)
{
	struct sch *s = v->s;
	const char *h = strchr(n->dynref, '#');
	struct strbuf u = STRBUF_INIT;
	size_t i, k;

	if (!n->dyn_node)
		n->dyn_node = sch_resolve(s, n, n->dynref, v->e);
	if (!n->dyn_node || !h || !h[1] || h[1] == '/' || !dynamic_anchor(s, n->dyn_node, h + 1))
		return n->dyn_node;
	for (i = 0; i < v->nscope; i++) {
		strbuf_reset(&u);
		strbuf_addf(&u, "%s#%s", v->scope[i], h + 1);
		for (k = 0; k < s->nregs; k++)
			if (s->regs[k].dynamic && !strcmp(s->regs[k].uri, u.buf)) {
				struct sch_node *tn = sch_resolve(s, n, u.buf, v->e);

				strbuf_release(&u);
				return tn;
			}
	}
	strbuf_release(&u);
	return n->dyn_node;
}

static int fail(struct vctx *v, const struct sch_node *n, const char *kw, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(struct vctx *v, const struct sch_node *n, const char *kw, const char *fmt, ...)
{
	struct sch_errors *es = v->es;
	struct sch_error *er;
	va_list ap;

	if (!es)
		return 0;
	es->total++;
	if (es->n >= v->s->max_errors)
		return 0;
	if (es->n == es->a) {
		size_t na = es->a ? es->a * 2 : 8, i;
		struct sch_error *ne = realloc(es->e, na * sizeof(*ne));

		if (!ne)
			return 0;
		for (i = es->a; i < na; i++) {
			strbuf_init(&ne[i].instance, 0);
			strbuf_init(&ne[i].schema, 0);
		}
		es->e = ne;
		es->a = na;
	}
	er = &es->e[es->n++];
	strbuf_reset(&er->instance);
	strbuf_reset(&er->schema);
	{
		size_t i;

		for (i = 0; i < v->nsegs; i++)
			if (v->segs[i].name)
				json_ptr_append(&er->instance, v->segs[i].name, v->segs[i].n);
			else
				json_ptr_append_index(&er->instance, v->segs[i].n);
	}
	strbuf_addf(&er->schema, "%s/%s", n->path.buf, kw);
	snprintf(er->keyword, sizeof(er->keyword), "%s", kw);
	va_start(ap, fmt);
	vsnprintf(er->message, sizeof(er->message), fmt, ap);
	va_end(ap);
	return 0;
}

/*
 * What the keywords that succeeded evaluated at one instance location,
 * for unevaluatedProperties and unevaluatedItems: the member key tokens
 * of an object, the indices of an array.
 */
struct ann {
	uint32_t *keys;
	size_t nkeys, akeys;
	unsigned char *items;	/* one flag per index */
	size_t nitems;
};

static void ann_init(struct ann *a)
{
	memset(a, 0, sizeof(*a));
}

static void ann_release(struct ann *a)
{
	free(a->keys);
	free(a->items);
}

static void ann_key(struct ann *a, uint32_t k)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->nkeys; i++)
		if (a->keys[i] == k)
			return;
	if (a->nkeys == a->akeys) {
		size_t na = a->akeys ? a->akeys * 2 : 8;
		uint32_t *nk = realloc(a->keys, na * sizeof(*nk));

		if (!nk)
			return;
		a->keys = nk;
		a->akeys = na;
	}
	a->keys[a->nkeys++] = k;
}

static int ann_has_key(const struct ann *a, uint32_t k)
{
	size_t i;

	for (i = 0; i < a->nkeys; i++)
		if (a->keys[i] == k)
			return 1;
	return 0;
}

static void ann_item(struct ann *a, size_t i, size_t count)
{
	if (!a)
		return;
	if (!a->items) {
		a->items = calloc(count ? count : 1, 1);
		a->nitems = count;
	}
	if (a->items && i < a->nitems)
		a->items[i] = 1;
}

static void ann_merge(struct ann *dst, const struct ann *src)
{
	size_t i;

	if (!dst)
		return;
	for (i = 0; i < src->nkeys; i++)
		ann_key(dst, src->keys[i]);
	for (i = 0; i < src->nitems; i++)
		if (src->items[i])
			ann_item(dst, i, src->nitems);
}

static int check(struct vctx *v, struct sch_node *n, const struct json_doc *d, uint32_t t,
		 struct ann *a);

/* Evaluate a subschema at a child instance location. */
static int child(struct vctx *v, struct sch_node *n, const struct json_doc *d, uint32_t t,
		 const char *seg, size_t seglen, int index, size_t idx)
{
	int r;

	if (v->nsegs == v->asegs) {
		size_t na = v->asegs ? v->asegs * 2 : 32;
		struct seg *ns = realloc(v->segs, na * sizeof(*ns));

		if (!ns) {
			v->failed = 1;
			return 0;
		}
		v->segs = ns;
		v->asegs = na;
	}
	v->segs[v->nsegs].name = index ? NULL : seg ? seg : "";
	v->segs[v->nsegs].n = index ? idx : seglen;
	v->nsegs++;
	r = check(v, n, d, t, NULL);
	v->nsegs--;
	return r;
}

/*
 * Evaluate quietly (no errors recorded); a valid schema's annotations go
 * to a.  1 valid, 0 not.
 */
static int quiet(struct vctx *v, struct sch_node *n, const struct json_doc *d, uint32_t t,
		 struct ann *a)
{
	struct sch_errors *es = v->es;
	struct ann mine;
	int r;

	v->es = NULL;
	ann_init(&mine);
	r = check(v, n, d, t, a ? &mine : NULL);
	if (r && a)
		ann_merge(a, &mine);
	ann_release(&mine);
	v->es = es;
	return r;
}

static int is_integer(const struct json_doc *d, uint32_t t)
{
	const char *s = json_src(d, t);
	size_t i, n = json_srclen(d, t);
	struct decnum dn;

	for (i = 0; i < n && s[i] != '.' && s[i] != 'e' && s[i] != 'E'; i++)
		;
	if (i == n)
		return 1;	/* no fraction, no exponent: a whole number as written */
	if (num_decompose(s, n, &dn) < 0)
		return 0;
	return dn.zero || (int64_t)dn.nsig <= dn.adj;
}

/* dn's exact adjusted exponent minus its significant digits, as a BIGNUM. */
static int bn_exponent(const struct decnum *dn, BIGNUM **out)
{
	BIGNUM *shift = NULL;
	char buf[32];
	int ok;

	if (!dn->bigexp) {
		snprintf(buf, sizeof(buf), "%lld", (long long)(dn->adj - (int64_t)dn->nsig));
		return BN_dec2bn(out, buf) ? 0 : -1;
	}
	{
		char *e = malloc(dn->en + 2);

		if (!e)
			return -1;
		e[0] = '-';
		memcpy(e + 1, dn->ep, dn->en);
		e[dn->en + 1] = '\0';
		ok = BN_dec2bn(out, dn->eneg ? e : e + 1) != 0;
		free(e);
	}
	snprintf(buf, sizeof(buf), "%lld", (long long)(dn->shift - (int64_t)dn->nsig));
	ok = ok && BN_dec2bn(&shift, buf) && BN_add(*out, *out, shift);
	BN_free(shift);
	return ok ? 0 : -1;
}

/* The significant digits of dn as a BIGNUM. */
static int bn_digits(const struct decnum *dn, BIGNUM **out)
{
	char *d = malloc(dn->nsig + 1);
	size_t i;
	int ok;

	if (!d)
		return -1;
	for (i = 0; i < dn->nsig; i++)
		d[i] = num_digit(dn, i);
	d[dn->nsig] = '\0';
	ok = BN_dec2bn(out, d) != 0;
	free(d);
	return ok ? 0 : -1;
}

/*
 * Is x a multiple of m, exactly?  x = X·10^ex and m = M·10^em with X and M
 * free of trailing zeros: when ex < em, X would have to end in a zero, so
 * no; else the answer is whether M divides X·10^(ex-em), which modular
 * exponentiation tells for any sizes.  -1 only when out of memory.
 */
static int multiple(const char *x, size_t xl, const char *m, size_t ml)
{
	struct decnum dx, dm;
	BIGNUM *X = NULL, *M = NULL, *ex = NULL, *em = NULL, *t = NULL, *ten = NULL;
	BN_CTX *ctx = NULL;
	int r = -1;

	if (num_decompose(x, xl, &dx) < 0 || num_decompose(m, ml, &dm) < 0 || dm.zero)
		return -1;
	if (dx.zero)
		return 1;
	if (!dx.bigexp && !dm.bigexp && dm.nsig <= 19 &&
	    dx.adj - (int64_t)dx.nsig - (dm.adj - (int64_t)dm.nsig) < 64) {
		/* the common case, in 128-bit arithmetic */
		unsigned __int128 mod = 0, rem = 0;
		int64_t k, d = dx.adj - (int64_t)dx.nsig - (dm.adj - (int64_t)dm.nsig);
		size_t i;

		if (d < 0)
			return 0;
		for (i = 0; i < dm.nsig; i++)
			mod = mod * 10 + (unsigned)(num_digit(&dm, i) - '0');
		for (i = 0; i < dx.nsig; i++)
			rem = (rem * 10 + (unsigned)(num_digit(&dx, i) - '0')) % mod;
		for (k = 0; k < d && rem; k++)
			rem = rem * 10 % mod;
		return rem == 0;
	}
	if (!(ctx = BN_CTX_new()) || !(t = BN_new()) || !(ten = BN_new()) ||
	    bn_digits(&dx, &X) < 0 || bn_digits(&dm, &M) < 0 || bn_exponent(&dx, &ex) < 0 ||
	    bn_exponent(&dm, &em) < 0 || !BN_sub(ex, ex, em) || !BN_set_word(ten, 10))
		goto out;
	if (BN_is_negative(ex)) {
		r = 0;
		goto out;
	}
	/* X·10^d mod M */
	if (!BN_mod_exp(t, ten, ex, M, ctx) || !BN_mod_mul(t, t, X, M, ctx))
		goto out;
	r = BN_is_zero(t);
out:
	BN_free(X);
	BN_free(M);
	BN_free(ex);
	BN_free(em);
	BN_free(t);
	BN_free(ten);
	BN_CTX_free(ctx);
	return r;
}

/*
 * JSON equality as JSON Schema means it: numbers by value (1 and 1.0
 * alike), strings after unescaping, arrays in order, objects as sets of
 * members whatever their order.
 */
static int equal(const struct json_doc *a, uint32_t x, const struct json_doc *b, uint32_t y,
		 unsigned depth)
{
	enum json_type tx = json_type(a, x), ty = json_type(b, y);
	uint32_t i, j;

	if (tx != ty || depth > 512)
		return 0;
	switch (tx) {
	case JSON_NUMBER:
		return num_cmp(json_src(a, x), json_srclen(a, x), json_src(b, y), json_srclen(b, y)) == 0;
	case JSON_STRING: {
		struct strbuf p = STRBUF_INIT, q = STRBUF_INIT;
		int r;

		json_str_decode(a, x, &p);
		json_str_decode(b, y, &q);
		r = p.len == q.len && (!p.len || !memcmp(p.buf, q.buf, p.len));
		strbuf_release(&p);
		strbuf_release(&q);
		return r;
	}
	case JSON_ARRAY:
		for (i = json_first(a, x), j = json_first(b, y); i && j;
		     i = json_next(a, x, i), j = json_next(b, y, j))
			if (!equal(a, i, b, j, depth + 1))
				return 0;
		return !i && !j;
	case JSON_OBJECT: {
		struct strbuf k = STRBUF_INIT;
		int r = json_count(a, x) == json_count(b, y);

		for (i = json_first(a, x); r && i; i = json_next(a, x, i)) {
			uint32_t m;

			strbuf_reset(&k);
			json_str_decode(a, i, &k);
			m = json_get(b, y, k.buf, k.len);
			r = m && equal(a, i + 1, b, m, depth + 1);
		}
		strbuf_release(&k);
		return r;
	}
	default:
		return 1;	/* null, true, false: the type says it all */
	}
}

static int unique_items(const struct json_doc *d, uint32_t arr, size_t *a, size_t *b)
{
	uint32_t i, j;
	size_t ia = 0, ib;

	for (i = json_first(d, arr); i; i = json_next(d, arr, i), ia++) {
		ib = ia + 1;
		for (j = json_next(d, arr, i); j; j = json_next(d, arr, j), ib++)
			if (equal(d, i, d, j, 0)) {
				*a = ia;
				*b = ib;
				return 0;
			}
	}
	return 1;
}

static int re_match(struct vctx *v, pcre2_code *re, const char *s, size_t n)
{
	/* whether it matches is all that counts: one pair of offsets will do, for every pattern */
	struct sch_vstate *vs = v->s->vs;

	if (!vs->md && !(vs->md = pcre2_match_data_create(1, NULL))) {
		v->failed = 1;
		aperr_set(v->e, EX_OSERR, "out of memory matching a pattern");
		return 0;
	}
	return pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, vs->md, NULL) >= 0;
}

/*
 * Is key (kn bytes) a member of object obj?  The search starts at *from
 * (a key token, 0 for the first) and wraps around; the key after the one
 * found goes back to *from, as members usually come in the order asked.
 */
static int find_key(const struct json_doc *d, uint32_t obj, uint32_t *from, const char *key,
		    size_t kn)
{
	uint32_t start = *from ? *from : json_first(d, obj), k = start;

	while (k) {
		if (json_str_eq(d, k, key, kn)) {
			*from = json_next(d, obj, k);
			return 1;
		}
		k = json_next(d, obj, k);
		if (!k)
			k = json_first(d, obj);
		if (k == start)
			break;
	}
	return 0;
}

/* number keywords: minimum, maximum, exclusive*, multipleOf */
static int check_number(struct vctx *v, struct sch_node *n, const struct json_doc *d, uint32_t t)
{
	int ok = 1;
	const char *x = json_src(d, t);
	size_t xl = json_srclen(d, t);

	if (n->num[N_MIN] && num_cmp(x, xl, n->num[N_MIN], n->numlen[N_MIN]) < 0)
		ok = fail(v, n, "minimum", "%.*s is less than %.*s", (int)xl, x,
			  (int)n->numlen[N_MIN], n->num[N_MIN]);
	if (n->num[N_MAX] && num_cmp(x, xl, n->num[N_MAX], n->numlen[N_MAX]) > 0)
		ok = fail(v, n, "maximum", "%.*s is greater than %.*s", (int)xl, x,
			  (int)n->numlen[N_MAX], n->num[N_MAX]);
	if (n->num[N_XMIN] && num_cmp(x, xl, n->num[N_XMIN], n->numlen[N_XMIN]) <= 0)
		ok = fail(v, n, "exclusiveMinimum", "%.*s is not greater than %.*s", (int)xl, x,
			  (int)n->numlen[N_XMIN], n->num[N_XMIN]);
	if (n->num[N_XMAX] && num_cmp(x, xl, n->num[N_XMAX], n->numlen[N_XMAX]) >= 0)
		ok = fail(v, n, "exclusiveMaximum", "%.*s is not less than %.*s", (int)xl, x,
			  (int)n->numlen[N_XMAX], n->num[N_XMAX]);
	if (n->num[N_MULT]) {
		int m = multiple(x, xl, n->num[N_MULT], n->numlen[N_MULT]);

		if (m < 0) {
			v->failed = 1;
			aperr_set(v->e, EX_OSERR, "out of memory");
			return 0;
		}
		if (!m)
			ok = fail(v, n, "multipleOf", "%.*s is not a multiple of %.*s", (int)xl, x,
				  (int)n->numlen[N_MULT], n->num[N_MULT]);
	}
	return ok;
}

/*
 * A pair of count bounds (minLength/maxLength, minItems/maxItems,
 * minProperties/maxProperties): count, of what, against the bounds the
 * node has.  1, or 0 after reporting each bound passed.
 */
static int within(struct vctx *v, struct sch_node *n, size_t count, const int has[2],
		  const uint64_t bound[2], const char *min_kw, const char *max_kw, const char *what)
{
	int ok = 1;

	if (has[0] && count < bound[0])
		ok = fail(v, n, min_kw, "%zu %s, fewer than %llu", count, what,
			  (unsigned long long)bound[0]);
	if (has[1] && count > bound[1])
		ok = fail(v, n, max_kw, "%zu %s, more than %llu", count, what,
			  (unsigned long long)bound[1]);
	return ok;
}

/* string keywords: format (when asserted), minLength, maxLength, pattern */
static int check_string(struct vctx *v, struct sch_node *n, const struct json_doc *d, uint32_t t)
{
	struct strbuf buf = STRBUF_INIT;
	const char *str;
	size_t sl, cps;
	int ok = 1;

	if (!((n->format && v->s->format_assert) || n->has_len[0] || n->has_len[1] || n->pattern))
		return 1;
	json_str_view(d, t, &buf, &str, &sl);
	if (n->format && v->s->format_assert && n->format_fn && !n->format_fn(str, sl))
		ok = fail(v, n, "format", "not a valid %s", n->format);
	if (n->has_len[0] || n->has_len[1]) {
		cps = utf8_count(str, sl);
		ok &= within(v, n, cps, n->has_len, n->len, "minLength", "maxLength", "characters");
	}
	if (n->pattern && !re_match(v, n->pattern, str, sl))
		ok = fail(v, n, "pattern", "does not match the pattern");
	strbuf_release(&buf);
	return ok;
}

/* array keywords: min/maxItems, uniqueItems, prefixItems, items, contains */
static int check_array(struct vctx *v, struct sch_node *n, const struct json_doc *d, uint32_t t,
		       struct ann *a)
{
	int ok = 1;
	/* counting the items walks them: only when something needs the count */
	size_t count = n->has_items[0] || n->has_items[1] || a ? json_count(d, t) : 0;
	size_t idx = 0, matched = 0, du, dv;
	uint32_t it;

	ok &= within(v, n, count, n->has_items, n->items_n, "minItems", "maxItems", "items");
	if (n->unique && !unique_items(d, t, &du, &dv))
		ok = fail(v, n, "uniqueItems", "items %zu and %zu are equal", du, dv);
	for (it = json_first(d, t); it; it = json_next(d, t, it), idx++) {
		if (n->prefix && idx < n->nprefix) {
			if (n->prefix[idx])
				ok &= child(v, n->prefix[idx], d, it, NULL, 0, 1, idx);
			ann_item(a, idx, count);
		} else if (n->prefix && n->more_items) {
			ok &= child(v, n->more_items, d, it, NULL, 0, 1, idx);
		} else if (n->items && !(v->s->draft == SCH_DRAFT_7 && n->prefix)) {
			ok &= child(v, n->items, d, it, NULL, 0, 1, idx);
			ann_item(a, idx, count);
		}
		if (n->contains && quiet(v, n->contains, d, it, NULL)) {
			matched++;
			ann_item(a, idx, count);
		}
	}
	if (n->contains) {
		uint64_t lo = n->has_contains[0] ? n->contains_n[0] : 1;

		if (matched < lo)
			ok = fail(v, n, n->has_contains[0] ? "minContains" : "contains",
				  "%zu items match contains, fewer than %llu", matched,
				  (unsigned long long)lo);
		if (n->has_contains[1] && matched > n->contains_n[1])
			ok = fail(v, n, "maxContains", "%zu items match contains, more than %llu",
				  matched, (unsigned long long)n->contains_n[1]);
	}
	return ok;
}

/* object keywords: min/maxProperties, required, dependent*, properties, patternProperties,
 * additionalProperties, propertyNames */
static int check_object(struct vctx *v, struct sch_node *n, const struct json_doc *d, uint32_t t,
			struct ann *a)
{
	int ok = 1;
	size_t i;
	size_t count = n->has_props[0] || n->has_props[1] ? json_count(d, t) : 0;
	uint32_t k;
	struct strbuf name = STRBUF_INIT;

	ok &= within(v, n, count, n->has_props, n->props_n, "minProperties", "maxProperties",
		     "properties");
	for (i = 0, k = 0; i < n->nrequired; i++)
		if (!find_key(d, t, &k, n->required[i].buf,
			      n->required[i].len))
			ok = fail(v, n, "required", "%s is required",
				  n->required[i].buf);
	for (i = 0; i < n->ndepreq; i++) {
		size_t r;

		if (!json_get(d, t, n->depreq[i].name.buf,
			      n->depreq[i].name.len))
			continue;
		for (r = 0; r < n->depreq[i].n; r++)
			if (!json_get(d, t, n->depreq[i].req[r].buf,
				      n->depreq[i].req[r].len))
				ok = fail(v, n, v->s->draft == SCH_DRAFT_7 ? "dependencies"
									   : "dependentRequired",
					  "%s needs %s", n->depreq[i].name.buf,
					  n->depreq[i].req[r].buf);
	}
	for (i = 0; i < n->ndepschemas; i++)
		if (json_get(d, t, n->depschemas[i].name.buf,
			     n->depschemas[i].name.len))
			ok &= check(v, n->depschemas[i].s, d, t, a);
	size_t hint = 0;

	for (k = json_first(d, t); k; k = json_next(d, t, k)) {
		int matched = 0;
		const char *nm;
		size_t nl, j;

		json_str_view(d, k, &name, &nm, &nl);
		/* members usually come in the schema's order: look from the last match on */
		for (j = 0, i = hint; j < n->nprops; j++, i++) {
			if (i == n->nprops)
				i = 0;
			if (n->props[i].name.len == nl &&
			    !memcmp(n->props[i].name.buf, nm, nl)) {
				matched = 1;
				hint = i + 1;
				ann_key(a, k);
				ok &= child(v, n->props[i].s, d, k + 1, nm, nl, 0, 0);
				break;
			}
		}
		for (i = 0; i < n->npats; i++)
			if (re_match(v, n->pats[i].re, nm, nl)) {
				matched = 1;
				ann_key(a, k);
				ok &= child(v, n->pats[i].s, d, k + 1, nm, nl, 0, 0);
			}
		if (!matched && n->additional) {
			ann_key(a, k);
			ok &= child(v, n->additional, d, k + 1, nm, nl, 0, 0);
		}
		if (n->names) {
			/* the name as a string instance: parse it as one */
			struct strbuf js = STRBUF_INIT;
			struct json_doc nd;
			struct json_error je;

			json_quote(&js, nm, nl);
			json_doc_init(&nd, 4);
			json_error_init(&je);
			if (json_parse(&nd, js.buf, js.len, &je) == 0 &&
			    !check(v, n->names, &nd, 0, NULL))
				ok = fail(v, n, "propertyNames", "the property name %s is not allowed",
					  js.buf);
			json_doc_release(&nd);
			json_error_release(&je);
			strbuf_release(&js);
		}
	}
	strbuf_release(&name);
	return ok;
}

/* keywords for any value: type, const, enum */
static int check_value(struct vctx *v, struct sch_node *n, const struct json_doc *d, uint32_t t)
{
	enum json_type jt = json_type(d, t);
	int ok = 1;

	if (n->types) {
		unsigned bit = jt == JSON_NULL ? T_NULL : jt == JSON_TRUE || jt == JSON_FALSE ? T_BOOLEAN
			     : jt == JSON_OBJECT ? T_OBJECT : jt == JSON_ARRAY ? T_ARRAY
			     : jt == JSON_STRING ? T_STRING : T_NUMBER;

		if (!(n->types & bit) && !(bit == T_NUMBER && (n->types & T_INTEGER) && is_integer(d, t)))
			ok = fail(v, n, "type", "%s is not allowed here", json_type_name(jt));
	}
	if (n->has_const && !equal(d, t, &v->s->res[n->res].doc, n->const_tok, 0))
		ok = fail(v, n, "const", "the value is not the one allowed");
	if (n->has_enum) {
		const struct json_doc *sd = &v->s->res[n->res].doc;
		uint32_t x;
		int found = 0;

		for (x = json_first(sd, n->enum_tok); x && !found; x = json_next(sd, n->enum_tok, x))
			found = equal(d, t, sd, x, 0);
		if (!found)
			ok = fail(v, n, "enum", "the value is not one of the %zu allowed",
				  json_count(sd, n->enum_tok));
	}
	return ok;
}

/* in-place applicators: allOf, anyOf, oneOf, not, if/then/else */
static int check_applicators(struct vctx *v, struct sch_node *n, const struct json_doc *d,
		             uint32_t t, struct ann *a)
{
	size_t i;
	int ok = 1;

	for (i = 0; i < n->nall; i++)
		ok &= check(v, n->all[i], d, t, a);
	if (n->nany) {
		int any = 0;

		for (i = 0; i < n->nany; i++)
			any |= quiet(v, n->any[i], d, t, a);
		if (!any)
			ok = fail(v, n, "anyOf", "the value matches none of the %zu schemas", n->nany);
	}
	if (n->none) {
		size_t matches = 0;

		for (i = 0; i < n->none; i++)
			matches += (size_t)quiet(v, n->one[i], d, t, a);
		if (matches != 1)
			ok = fail(v, n, "oneOf", "the value matches %zu of the schemas, not exactly one",
				  matches);
	}
	if (n->not_ && quiet(v, n->not_, d, t, NULL))
		ok = fail(v, n, "not", "the value matches a schema it must not");
	if (n->if_) {
		if (quiet(v, n->if_, d, t, a)) {
			if (n->then_)
				ok &= check(v, n->then_, d, t, a);
		} else if (n->else_) {
			ok &= check(v, n->else_, d, t, a);
		}
	}
	return ok;
}

/* unevaluatedProperties and unevaluatedItems: last, over what nothing else evaluated */
static int check_unevaluated(struct vctx *v, struct sch_node *n, const struct json_doc *d,
		             uint32_t t, struct ann *a)
{
	enum json_type jt = json_type(d, t);
	int ok = 1;

	if (n->uneval_props && jt == JSON_OBJECT) {
		uint32_t k;
		struct strbuf name = STRBUF_INIT;

		for (k = json_first(d, t); k; k = json_next(d, t, k)) {
			if (ann_has_key(a, k))
				continue;
			strbuf_reset(&name);
			json_str_decode(d, k, &name);
			ok &= child(v, n->uneval_props, d, k + 1, name.buf, name.len, 0, 0);
			ann_key(a, k);
		}
		strbuf_release(&name);
	}
	if (n->uneval_items && jt == JSON_ARRAY) {
		size_t count = json_count(d, t), idx = 0;
		uint32_t it;

		for (it = json_first(d, t); it; it = json_next(d, t, it), idx++) {
			if (a->items && idx < a->nitems && a->items[idx])
				continue;
			ok &= child(v, n->uneval_items, d, it, NULL, 0, 1, idx);
			ann_item(a, idx, count);
		}
	}
	return ok;
}

static int check(struct vctx *v, struct sch_node *n, const struct json_doc *d, uint32_t t,
		 struct ann *ann)
{
	enum json_type jt = json_type(d, t);
	int ok = 1;
	struct ann local, *a = ann;
	int pushed = 0;

	/*
	 * Each schema collects what it and its own subschemas evaluated; its
	 * unevaluated* see only that, and the parent gets it when valid.
	 */
	ann_init(&local);
	a = ann || n->uneval_props || n->uneval_items ? &local : NULL;

	if (v->failed)
		return 0;
	if (n->boolean >= 0)
		return n->boolean ? 1 : fail(v, n, "false", "no value is allowed here");
	if (++v->depth > 2000) {
		v->failed = 1;
		/* deep data walks down the instance; a schema looping in place does not */
		if (v->nsegs * 8 >= v->depth)
			aperr_set(v->e, EX_DATAERR, "the data nests too deep to validate (%zu levels "
				  "down, schema at %s)", v->nsegs, n->path.len ? n->path.buf : "#");
		else
			aperr_set(v->e, EX_CONFIG, "the schema recurses without end at %s",
				  n->path.buf);
		return 0;
	}
	if (n->base && (!v->nscope || v->scope[v->nscope - 1] != n->base)) {
		if (v->nscope == v->ascope) {
			size_t na = v->ascope ? v->ascope * 2 : 16;
			const char **ns = realloc(v->scope, na * sizeof(*ns));

			if (!ns) {
				v->failed = 1;
				v->depth--;
				return 0;
			}
			v->scope = ns;
			v->ascope = na;
		}
		v->scope[v->nscope++] = n->base;
		pushed = 1;
	}
	if (n->dynref) {
		struct sch_node *tn = dynamic_target(v, n);

		if (!tn) {
			v->failed = 1;
		} else {
			ok &= check(v, tn, d, t, a);
		}
	}
	if (n->ref) {
		struct sch_node *tn = sch_target(v->s, n, v->e);

		if (!tn)
			v->failed = 1;
		else
			ok &= check(v, tn, d, t, a);
	}
	ok &= check_value(v, n, d, t);
	if (jt == JSON_NUMBER) {
		ok &= check_number(v, n, d, t);
		if (v->failed)
			return 0;
	}
	if (jt == JSON_STRING)
		ok &= check_string(v, n, d, t);
	if (jt == JSON_ARRAY)
		ok &= check_array(v, n, d, t, a);
	if (jt == JSON_OBJECT)
		ok &= check_object(v, n, d, t, a);
	ok &= check_applicators(v, n, d, t, a);
	/* last: what no other keyword (nor a valid subschema) evaluated */
	ok &= check_unevaluated(v, n, d, t, a);
	if (ann && ok && !v->failed)
		ann_merge(ann, &local);
	ann_release(&local);
	if (pushed)
		v->nscope--;
	v->depth--;
	return ok && !v->failed;
}

int sch_validate(struct sch *s, const struct json_doc *d, uint32_t t, struct sch_errors *es,
		 struct aperr *e)
{
	struct vctx v;
	int r;

	if (!s->vs && !(s->vs = calloc(1, sizeof(*s->vs))))
		return aperr_set(e, EX_OSERR, "out of memory");
	memset(&v, 0, sizeof(v));
	v.s = s;
	v.es = es;
	v.e = e;
	v.segs = s->vs->segs;
	v.asegs = s->vs->asegs;
	v.scope = s->vs->scope;
	v.ascope = s->vs->ascope;
	if (es)
		sch_errors_reset(es);
	r = check(&v, s->root, d, t, NULL);
	s->vs->segs = v.segs;
	s->vs->asegs = v.asegs;
	s->vs->scope = v.scope;
	s->vs->ascope = v.ascope;
	if (v.failed)
		return -1;
	return r;
}

/* Pick the member a schema names in sb: 0, or -1 when the pick is full. */
static int pick_sb(struct json_pick *pk, const struct strbuf *sb)
{
	return json_pick_add_name(pk, sb->buf, sb->len);
}

/*
 * The root members schema n can look at when the instance is an object,
 * added to pk: 0, or -1 when any member may matter (a keyword over all
 * members, the value as a whole, a dynamic reference, or too many names).
 */
static int pick_names(struct sch *s, struct sch_node *n, struct json_pick *pk, unsigned depth)
{
	struct sch_node **lists[3] = { n->all, n->any, n->one };
	size_t counts[3] = { n->nall, n->nany, n->none };
	struct sch_node *subs[4] = { n->not_, n->if_, n->then_, n->else_ };
	size_t i, j;
	struct aperr e;

	if (n->boolean >= 0)
		return 0;
	if (depth > 64 || n->dynref || n->has_enum || n->has_const || n->additional || n->names ||
	    n->npats || n->has_props[0] || n->has_props[1] || n->uneval_props)
		return -1;
	if (n->ref) {
		struct sch_node *tn = sch_target(s, n, &e);

		if (!tn || pick_names(s, tn, pk, depth + 1) < 0)
			return -1;
	}
	for (i = 0; i < n->nprops; i++)
		if (pick_sb(pk, &n->props[i].name) < 0)
			return -1;
	for (i = 0; i < n->nrequired; i++)
		if (pick_sb(pk, &n->required[i]) < 0)
			return -1;
	for (i = 0; i < n->ndepreq; i++) {
		if (pick_sb(pk, &n->depreq[i].name) < 0)
			return -1;
		for (j = 0; j < n->depreq[i].n; j++)
			if (pick_sb(pk, &n->depreq[i].req[j]) < 0)
				return -1;
	}
	for (i = 0; i < n->ndepschemas; i++)
		if (pick_sb(pk, &n->depschemas[i].name) < 0 ||
		    pick_names(s, n->depschemas[i].s, pk, depth + 1) < 0)
			return -1;
	for (i = 0; i < 3; i++)
		for (j = 0; j < counts[i]; j++)
			if (pick_names(s, lists[i][j], pk, depth + 1) < 0)
				return -1;
	for (i = 0; i < 4; i++)
		if (subs[i] && pick_names(s, subs[i], pk, depth + 1) < 0)
			return -1;
	return 0;
}

int sch_pick(struct sch *s, struct json_pick *pk)
{
	struct json_pick mine;

	json_pick_init(&mine);
	if (pick_names(s, s->root, &mine, 0) < 0) {
		pk->all = 1;
		return -1;
	}
	for (size_t i = 0; i < mine.n; i++)
		if (json_pick_add_name(pk, mine.name[i].s, mine.name[i].n) < 0)
			return -1;
	pk->whole_on_repeat = 1;
	return 0;
}
