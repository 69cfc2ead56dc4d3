#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <openssl/bn.h>

#include "format.h"
#include "metaschemas.h"
#include "num.h"
#include "schema.h"
#include "statefile.h"
#include "utf8.h"

/* ---- resources and the URI registry ---- */

struct sch_resource {
	char *uri;		/* absolute, without fragment */
	char *text;
	size_t n;
	struct json_doc doc;
};

struct sch_reg {
	char *uri;		/* absolute; "#name" appended for anchors */
	size_t res;
	uint32_t tok;
	int dynamic;		/* a $dynamicAnchor */
};

enum {
	T_NULL = 1, T_BOOLEAN = 2, T_OBJECT = 4, T_ARRAY = 8, T_NUMBER = 16, T_STRING = 32,
	T_INTEGER = 64
};

enum { N_MIN, N_MAX, N_XMIN, N_XMAX, N_MULT };

struct prop {
	struct strbuf name;
	struct sch_node *s;
	pcre2_code *re;		/* patternProperties */
};

struct depreq {
	struct strbuf name;
	struct strbuf *req;
	size_t n;
};

struct sch_node {
	size_t res;
	uint32_t tok;
	int boolean;		/* -1: an object schema; 0 false; 1 true */
	struct strbuf path;	/* where the schema is: its resource's URI and a pointer */
	unsigned types;		/* 0: any */
	const char *num[5];
	size_t numlen[5];
	int has_len[2], has_items[2], has_props[2], has_contains[2], unique;
	uint64_t len[2], items_n[2], props_n[2], contains_n[2];
	pcre2_code *pattern;
	struct prop *props, *pats, *depschemas;
	size_t nprops, npats, ndepschemas;
	struct sch_node *additional, *names, *items, *contains, *not_, *if_, *then_, *else_;
	struct sch_node *more_items;	/* draft-07 additionalItems after an items array */
	struct sch_node *uneval_props, *uneval_items;
	struct sch_node **prefix, **all, **any, **one;
	size_t nprefix, nall, nany, none;
	struct strbuf *required;
	size_t nrequired;
	struct depreq *depreq;
	size_t ndepreq;
	uint32_t enum_tok, const_tok;	/* in the node's resource */
	int has_enum, has_const;
	char *ref;		/* absolute URI of $ref, resolved when first used */
	struct sch_node *ref_node;
	char *dynref;		/* absolute URI of $dynamicRef */
	struct sch_node *dyn_node;	/* its initial target */
	const char *base;	/* the URI of the schema resource this schema is in (interned) */
	char *format;
	format_fn format_fn;	/* its check (lib/format), NULL when not known */
};

void sch_init(struct sch *s, enum sch_draft draft)
{
	memset(s, 0, sizeof(*s));
	s->draft = draft;
	s->max_errors = 32;
}

static void props_free(struct prop *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		strbuf_release(&p[i].name);
		if (p[i].re)
			pcre2_code_free(p[i].re);
	}
	free(p);
}

static void node_free(struct sch_node *n)
{
	size_t i, k;

	strbuf_release(&n->path);
	if (n->pattern)
		pcre2_code_free(n->pattern);
	props_free(n->props, n->nprops);
	props_free(n->pats, n->npats);
	props_free(n->depschemas, n->ndepschemas);
	for (i = 0; i < n->nrequired; i++)
		strbuf_release(&n->required[i]);
	for (i = 0; i < n->ndepreq; i++) {
		strbuf_release(&n->depreq[i].name);
		for (k = 0; k < n->depreq[i].n; k++)
			strbuf_release(&n->depreq[i].req[k]);
		free(n->depreq[i].req);
	}
	free(n->prefix);
	free(n->all);
	free(n->any);
	free(n->one);
	free(n->required);
	free(n->depreq);
	free(n->ref);
	free(n->dynref);
	free(n->format);
	free(n);
}

/* One step of the instance location: a member name or an array index. */
struct seg {
	const char *name;	/* NULL for an index */
	size_t n;		/* name length, or the index */
};

/* What validation reuses from one instance to the next. */
struct sch_vstate {
	struct seg *segs;
	size_t asegs;
	const char **scope;
	size_t ascope;
};

void sch_release(struct sch *s)
{
	size_t i;

	for (i = 0; i < s->nnodes; i++)
		node_free(s->nodes[i]);
	for (i = 0; i < s->nres; i++) {
		free(s->res[i].uri);
		free(s->res[i].text);
		json_doc_release(&s->res[i].doc);
	}
	for (i = 0; i < s->nbases; i++)
		free(s->bases[i]);
	free(s->bases);
	if (s->vs) {
		free(s->vs->segs);
		free(s->vs->scope);
		free(s->vs);
	}
	for (i = 0; i < s->nregs; i++)
		free(s->regs[i].uri);
	free(s->nodes);
	free(s->res);
	free(s->regs);
	memset(s, 0, sizeof(*s));
}

/* ---- URIs ---- */

/* Does s start with a scheme ("urn:", "http:")? */
static int has_scheme(const char *s)
{
	const char *p = s;

	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return 0;
	while (*p && (((*p | 32) >= 'a' && (*p | 32) <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '+' || *p == '-' || *p == '.'))
		p++;
	return *p == ':';
}

/* Remove "." and ".." segments from the path part of out, from index at. */
static void dot_segments(struct strbuf *out, size_t at)
{
	struct strbuf o = STRBUF_INIT;
	const char *p = out->buf + at, *end;
	const char *q = strpbrk(p, "?#");

	end = q ? q : out->buf + out->len;
	while (p < end) {
		const char *slash = memchr(p + 1, '/', (size_t)(end - p - 1));
		const char *seg_end = slash ? slash : end;
		size_t sl = (size_t)(seg_end - p);

		if (sl == 2 && !memcmp(p, "/.", 2)) {
			if (!slash)
				strbuf_addch(&o, '/');
		} else if (sl == 3 && !memcmp(p, "/..", 3)) {
			char *last = o.len ? memrchr(o.buf, '/', o.len) : NULL;

			strbuf_setlen(&o, last ? (size_t)(last - o.buf) : 0);
			if (!slash)
				strbuf_addch(&o, '/');
		} else {
			strbuf_add(&o, p, sl);
		}
		p = seg_end;
	}
	strbuf_addstr(&o, end);
	strbuf_setlen(out, at);
	strbuf_add(out, o.buf ? o.buf : "", o.len);
	strbuf_release(&o);
}

/* RFC 3986 section 5.2, for the URIs schemas use. */
static void uri_resolve(const char *base, const char *ref, struct strbuf *out)
{
	const char *hash, *colon, *auth_end;
	size_t blen;

	strbuf_reset(out);
	if (has_scheme(ref) || !base || !*base) {
		strbuf_addstr(out, ref);
		return;
	}
	hash = strchr(base, '#');
	blen = hash ? (size_t)(hash - base) : strlen(base);
	if (*ref == '#') {
		strbuf_add(out, base, blen);
		strbuf_addstr(out, ref);
		return;
	}
	if (!*ref) {
		strbuf_add(out, base, blen);
		return;
	}
	colon = memchr(base, ':', blen);
	if (!colon) {
		strbuf_addstr(out, ref);
		return;
	}
	if (ref[0] == '/' && ref[1] == '/') {
		strbuf_add(out, base, (size_t)(colon - base) + 1);
		strbuf_addstr(out, ref);
		return;
	}
	auth_end = colon + 1;
	if (auth_end + 1 < base + blen && auth_end[0] == '/' && auth_end[1] == '/') {
		/* the authority ends at the path or the query */
		auth_end += 2;
		while (auth_end < base + blen && *auth_end != '/' && *auth_end != '?')
			auth_end++;
	}
	if (*ref == '/') {
		strbuf_add(out, base, (size_t)(auth_end - base));
		strbuf_addstr(out, ref);
		dot_segments(out, (size_t)(auth_end - base));
		return;
	}
	if (*ref == '?') {
		const char *q = memchr(auth_end, '?', (size_t)(base + blen - auth_end));

		strbuf_add(out, base, q ? (size_t)(q - base) : blen);
		strbuf_addstr(out, ref);
		return;
	}
	{
		/* merge: the base path up to its last '/' */
		const char *q = memchr(auth_end, '?', (size_t)(base + blen - auth_end));
		size_t plen = q ? (size_t)(q - base) : blen;
		const char *slash = memrchr(auth_end, '/', (size_t)(base + plen - auth_end));

		if (slash)
			strbuf_add(out, base, (size_t)(slash - base) + 1);
		else {
			strbuf_add(out, base, (size_t)(auth_end - base));
			if (auth_end > colon + 1)
				strbuf_addch(out, '/');
		}
		strbuf_addstr(out, ref);
		dot_segments(out, (size_t)(auth_end - base));
	}
}

static int reg_add(struct sch *s, const char *uri, size_t res, uint32_t tok)
{
	size_t i;

	for (i = 0; i < s->nregs; i++)
		if (!strcmp(s->regs[i].uri, uri))
			return 0;	/* the first registration wins */
	if (s->nregs == s->aregs) {
		size_t na = s->aregs ? s->aregs * 2 : 16;
		struct sch_reg *r = realloc(s->regs, na * sizeof(*r));

		if (!r)
			return -1;
		s->regs = r;
		s->aregs = na;
	}
	s->regs[s->nregs].uri = strdup(uri);
	s->regs[s->nregs].res = res;
	s->regs[s->nregs].tok = tok;
	s->regs[s->nregs].dynamic = 0;
	return s->regs[s->nregs++].uri ? 0 : -1;
}

static const struct sch_reg *reg_find(const struct sch *s, const char *uri, size_t n)
{
	size_t i;

	for (i = 0; i < s->nregs; i++)
		if (strlen(s->regs[i].uri) == n && !memcmp(s->regs[i].uri, uri, n))
			return &s->regs[i];
	return NULL;
}

/* The string member key of object tok, decoded into out: 1 present, 0 not. */
static int str_member(const struct json_doc *d, uint32_t tok, const char *key, struct strbuf *out)
{
	uint32_t t = json_get(d, tok, key, strlen(key));

	strbuf_reset(out);
	return t && json_type(d, t) == JSON_STRING && json_str_decode(d, t, out) == 0;
}

static const char *const schema_objects[] = {	/* objects of schemas */
	"properties", "patternProperties", "$defs", "definitions", "dependentSchemas",
	"dependencies", NULL
};
static const char *const schema_arrays[] = {	/* arrays of schemas */
	"prefixItems", "allOf", "anyOf", "oneOf", "items", NULL
};
static const char *const schema_values[] = {	/* one schema */
	"not", "if", "then", "else", "contains", "additionalProperties", "propertyNames",
	"unevaluatedProperties", "unevaluatedItems", "additionalItems", "items", NULL
};

static int in_list(const struct json_doc *d, uint32_t key, const char *const *list)
{
	size_t i;

	for (i = 0; list[i]; i++)
		if (json_str_eq(d, key, list[i], strlen(list[i])))
			return 1;
	return 0;
}

/* Register the $id and $anchor locations of the schema at tok, under base. */
static int scan(struct sch *s, size_t res, uint32_t tok, const char *base, unsigned depth)
{
	const struct json_doc *d = &s->res[res].doc;
	struct strbuf id = STRBUF_INIT, abs = STRBUF_INIT, v = STRBUF_INIT;
	uint32_t k;
	int rc = 0;

	if (json_type(d, tok) != JSON_OBJECT || depth > 200)
		return 0;
	strbuf_addstr(&abs, base);
	if (str_member(d, tok, "$id", &id) && id.buf) {
		if (s->draft == SCH_DRAFT_7 && id.buf[0] == '#') {
			/* draft-07: "$id": "#name" is an anchor */
			uri_resolve(base, id.buf, &v);	/* v is not id: no aliasing */
			rc = reg_add(s, v.buf, res, tok);
		} else if (!(s->draft == SCH_DRAFT_7 && json_get(d, tok, "$ref", 4))) {
			uri_resolve(base, id.buf, &abs);
			{
				char *h = strchr(abs.buf, '#');

				if (h)
					strbuf_setlen(&abs, (size_t)(h - abs.buf));
			}
			rc = reg_add(s, abs.buf, res, tok);
		}
	}
	if (rc == 0 && str_member(d, tok, "$anchor", &v) && v.buf) {
		strbuf_reset(&id);
		strbuf_addf(&id, "%s#%s", abs.buf, v.buf);
		rc = reg_add(s, id.buf, res, tok);
	}
	if (rc == 0 && s->draft != SCH_DRAFT_7 && str_member(d, tok, "$dynamicAnchor", &v) && v.buf) {
		size_t before = s->nregs;

		strbuf_reset(&id);
		strbuf_addf(&id, "%s#%s", abs.buf, v.buf);
		rc = reg_add(s, id.buf, res, tok);
		if (rc == 0 && s->nregs > before)
			s->regs[s->nregs - 1].dynamic = 1;
	}
	for (k = json_first(d, tok); rc == 0 && k; k = json_next(d, tok, k)) {
		uint32_t val = k + 1, c;

		if (in_list(d, k, schema_objects) && json_type(d, val) == JSON_OBJECT) {
			for (c = json_first(d, val); rc == 0 && c; c = json_next(d, val, c))
				rc = scan(s, res, c + 1, abs.buf, depth + 1);
		} else if (in_list(d, k, schema_arrays) && json_type(d, val) == JSON_ARRAY) {
			for (c = json_first(d, val); rc == 0 && c; c = json_next(d, val, c))
				rc = scan(s, res, c, abs.buf, depth + 1);
		} else if (in_list(d, k, schema_values)) {
			rc = scan(s, res, val, abs.buf, depth + 1);
		}
	}
	strbuf_release(&id);
	strbuf_release(&abs);
	strbuf_release(&v);
	return rc;
}

int sch_add_resource(struct sch *s, const char *uri, const char *text, size_t n,
		     struct aperr *e)
{
	struct sch_resource *r;
	struct json_error je;
	struct strbuf id = STRBUF_INIT;
	int rc;

	if (s->nres == s->ares) {
		size_t na = s->ares ? s->ares * 2 : 8;
		struct sch_resource *nr = realloc(s->res, na * sizeof(*nr));

		if (!nr)
			return aperr_set(e, EX_OSERR, "out of memory");
		s->res = nr;
		s->ares = na;
	}
	r = &s->res[s->nres];
	memset(r, 0, sizeof(*r));
	r->text = malloc(n + 1);
	if (!r->text)
		return aperr_set(e, EX_OSERR, "out of memory");
	memcpy(r->text, text, n);
	r->text[n] = '\0';
	r->n = n;
	json_doc_init(&r->doc, 512);
	json_error_init(&je);
	if (json_parse(&r->doc, r->text, n, &je) < 0) {
		json_error_to_aperr(&je, e);
		e->code = EX_CONFIG;
		json_error_release(&je);
		json_doc_release(&r->doc);
		free(r->text);
		return aperr_prefix(e, "%s: the schema is not JSON", uri && *uri ? uri : "schema");
	}
	json_error_release(&je);
	if (json_type(&r->doc, 0) == JSON_OBJECT && str_member(&r->doc, 0, "$id", &id) && id.buf &&
	    id.buf[0] != '#') {
		struct strbuf abs = STRBUF_INIT;
		char *h;

		uri_resolve(uri, id.buf, &abs);
		h = strchr(abs.buf, '#');
		if (h)
			*h = '\0';
		r->uri = strdup(abs.buf);
		strbuf_release(&abs);
	} else {
		r->uri = strdup(uri ? uri : "");
	}
	strbuf_release(&id);
	s->nres++;
	rc = reg_add(s, r->uri, s->nres - 1, 0);
	if (rc == 0 && uri && *uri && strcmp(uri, r->uri))
		rc = reg_add(s, uri, s->nres - 1, 0);
	if (rc == 0)
		rc = scan(s, s->nres - 1, 0, r->uri, 0);
	return rc < 0 ? aperr_set(e, EX_OSERR, "out of memory") : 0;
}

int sch_add_dir(struct sch *s, const char *dir, const char *prefix, struct aperr *e)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (!dp)
		return aperr_errno(e, EX_NOINPUT, "%s: cannot read the schema directory", dir);
	while (rc == 0 && (de = readdir(dp))) {
		struct strbuf path = STRBUF_INIT, uri = STRBUF_INIT, text = STRBUF_INIT;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		strbuf_addf(&path, "%s/%s", dir, de->d_name);
		strbuf_addf(&uri, "%s%s%s", prefix, *prefix ? "/" : "", de->d_name);
		if (stat(path.buf, &st) == 0 && S_ISDIR(st.st_mode))
			rc = sch_add_dir(s, path.buf, uri.buf, e);
		else if (strstr(de->d_name, ".json") &&
			 ((rc = statefile_read(path.buf, &text, 1 << 26, e)) != 0 ||
			  (rc = sch_add_resource(s, uri.buf, text.buf, text.len, e)) != 0))
			rc = aperr_prefix(e, "%s", path.buf);
		strbuf_release(&path);
		strbuf_release(&uri);
		strbuf_release(&text);
	}
	closedir(dp);
	return rc;
}

/* ---- compiling ---- */

struct comp {
	struct sch *s;
	struct aperr *e;
};

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
			node_free(n);
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
		json_ptr_append(&p, pr->name.buf ? pr->name.buf : "", pr->name.len);
		if (patterns && !(pr->re = format_regex(pr->name.buf ? pr->name.buf : "", pr->name.len, err,
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
	if (!(k->n->pattern = format_regex(k->v->buf ? k->v->buf : "", k->v->len, err, sizeof(err))))
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
	k->n->format = strdup(k->v->buf ? k->v->buf : "");
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
			json_ptr_append(&p, pr->name.buf ? pr->name.buf : "", pr->name.len);
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
	if (str_member(d, tok, "$id", &v) && v.buf && v.buf[0] != '#' &&
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
			uri_resolve(base, v.buf, &abs);
		}
		h = strchr(abs.buf, '#');
		if (h)
			strbuf_setlen(&abs, (size_t)(h - abs.buf));
	}
	n->base = intern(c->s, abs.buf ? abs.buf : "");
	if (!draft7 && (t = json_get(d, tok, "$dynamicRef", 11))) {
		struct strbuf r = STRBUF_INIT;

		strbuf_reset(&v);
		if (json_type(d, t) != JSON_STRING || json_str_decode(d, t, &v) < 0) {
			bad(c, path, "$dynamicRef", "must be a string");
			goto out;
		}
		uri_resolve(abs.buf, v.buf, &r);
		n->dynref = strdup(r.buf ? r.buf : "");
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

			uri_resolve(abs.buf, v.buf, &r);	/* not in place: it resets its output */
			n->ref = strdup(r.buf ? r.buf : "");
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
	kc.base = abs.buf ? abs.buf : "";
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
static struct sch_node *resolve(struct sch *s, const struct sch_node *n, const char *uri,
				struct aperr *e)
{
	const char *h;
	const struct sch_reg *r;
	struct comp c = { s, e };
	struct strbuf path = STRBUF_INIT, base = STRBUF_INIT;
	struct sch_node *tn;

	h = strchr(uri, '#');
	if (h && h[1] && h[1] != '/') {
		r = reg_find(s, uri, strlen(uri));	/* an anchor */
		h = NULL;
	} else {
		r = reg_find(s, uri, h ? (size_t)(h - uri) : strlen(uri));
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
					    str_member(d, cur, "$id", &dec) && dec.buf && dec.buf[0] != '#') {
						struct strbuf nb = STRBUF_INIT;

						uri_resolve(base.buf, dec.buf, &nb);
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
static struct sch_node *target(struct sch *s, struct sch_node *n, struct aperr *e)
{
	if (!n->ref_node)
		n->ref_node = resolve(s, n, n->ref, e);
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

		if (s->draft != SCH_DRAFT_7 && str_member(&s->res[res].doc, 0, "$schema", &ms) && ms.buf &&
		    (r = reg_find(s, ms.buf, strcspn(ms.buf, "#")))) {
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

			if ((x->ref && !target(s, x, e)) ||
			    (x->dynref && !x->dyn_node && !(x->dyn_node = resolve(s, x, x->dynref, e))))
				return -1;
		}
	}
	return 0;
}

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
		n->dyn_node = resolve(s, n, n->dynref, v->e);
	if (!n->dyn_node || !h || !h[1] || h[1] == '/' || !dynamic_anchor(s, n->dyn_node, h + 1))
		return n->dyn_node;
	for (i = 0; i < v->nscope; i++) {
		strbuf_reset(&u);
		strbuf_addf(&u, "%s#%s", v->scope[i], h + 1);
		for (k = 0; k < s->nregs; k++)
			if (s->regs[k].dynamic && !strcmp(s->regs[k].uri, u.buf)) {
				struct sch_node *tn = resolve(s, n, u.buf, v->e);

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
	strbuf_addf(&er->schema, "%s/%s", n->path.buf ? n->path.buf : "", kw);
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
	struct decnum dn;

	if (num_decompose(json_src(d, t), json_srclen(d, t), &dn) < 0)
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
			m = json_get(b, y, k.buf ? k.buf : "", k.len);
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

static int re_match(pcre2_code *re, const char *s, size_t n)
{
	/* whether it matches is all that counts: one pair of offsets will do, for every pattern */
	static __thread pcre2_match_data *md;

	if (!md && !(md = pcre2_match_data_create(1, NULL)))
		return 0;
	return pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, md, NULL) >= 0;
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
		if (n->has_len[0] && cps < n->len[0])
			ok = fail(v, n, "minLength", "%zu characters, fewer than %llu", cps,
				  (unsigned long long)n->len[0]);
		if (n->has_len[1] && cps > n->len[1])
			ok = fail(v, n, "maxLength", "%zu characters, more than %llu", cps,
				  (unsigned long long)n->len[1]);
	}
	if (n->pattern && !re_match(n->pattern, str, sl))
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

	if (n->has_items[0] && count < n->items_n[0])
		ok = fail(v, n, "minItems", "%zu items, fewer than %llu", count,
			  (unsigned long long)n->items_n[0]);
	if (n->has_items[1] && count > n->items_n[1])
		ok = fail(v, n, "maxItems", "%zu items, more than %llu", count,
			  (unsigned long long)n->items_n[1]);
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

	if (n->has_props[0] && count < n->props_n[0])
		ok = fail(v, n, "minProperties", "%zu properties, fewer than %llu", count,
			  (unsigned long long)n->props_n[0]);
	if (n->has_props[1] && count > n->props_n[1])
		ok = fail(v, n, "maxProperties", "%zu properties, more than %llu", count,
			  (unsigned long long)n->props_n[1]);
	for (i = 0, k = 0; i < n->nrequired; i++)
		if (!find_key(d, t, &k, n->required[i].buf ? n->required[i].buf : "",
			      n->required[i].len))
			ok = fail(v, n, "required", "%s is required",
				  n->required[i].buf ? n->required[i].buf : "");
	for (i = 0; i < n->ndepreq; i++) {
		size_t r;

		if (!json_get(d, t, n->depreq[i].name.buf ? n->depreq[i].name.buf : "",
			      n->depreq[i].name.len))
			continue;
		for (r = 0; r < n->depreq[i].n; r++)
			if (!json_get(d, t, n->depreq[i].req[r].buf ? n->depreq[i].req[r].buf : "",
				      n->depreq[i].req[r].len))
				ok = fail(v, n, v->s->draft == SCH_DRAFT_7 ? "dependencies"
									   : "dependentRequired",
					  "%s needs %s", n->depreq[i].name.buf,
					  n->depreq[i].req[r].buf ? n->depreq[i].req[r].buf : "");
	}
	for (i = 0; i < n->ndepschemas; i++)
		if (json_get(d, t, n->depschemas[i].name.buf ? n->depschemas[i].name.buf : "",
			     n->depschemas[i].name.len))
			ok &= check(v, n->depschemas[i].s, d, t, a);
	size_t hint = 0;

	for (k = json_first(d, t); k; k = json_next(d, t, k)) {
		int matched = 0;
		const char *nm;
		size_t nl, j;

		json_str_view(d, k, &name, &nm, &nl);
		/* members usually come in the schema's order: look from the last match on */
		for (j = 0; j < n->nprops; j++) {
			i = (hint + j) % n->nprops;
			if (n->props[i].name.len == nl &&
			    !memcmp(n->props[i].name.buf ? n->props[i].name.buf : "", nm, nl)) {
				matched = 1;
				hint = i + 1;
				ann_key(a, k);
				ok &= child(v, n->props[i].s, d, k + 1, nm, nl, 0, 0);
				break;
			}
		}
		for (i = 0; i < n->npats; i++)
			if (re_match(n->pats[i].re, nm, nl)) {
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

static int check(struct vctx *v, struct sch_node *n, const struct json_doc *d, uint32_t t,
		 struct ann *ann)
{
	enum json_type jt = json_type(d, t);
	int ok = 1;
	size_t i;
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
		struct sch_node *tn = target(v->s, n, v->e);

		if (!tn)
			v->failed = 1;
		else
			ok &= check(v, tn, d, t, a);
	}
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
	/* last: what no other keyword (nor a valid subschema) evaluated */
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
