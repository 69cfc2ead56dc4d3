/* lib/schema, part one: schema sets, resources, the URI registry, loading (schemaint.h). */
#include "schemaint.h"

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

void sch_node_free(struct sch_node *n)
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

void sch_release(struct sch *s)
{
	size_t i;

	for (i = 0; i < s->nnodes; i++)
		sch_node_free(s->nodes[i]);
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
		pcre2_match_data_free(s->vs->md);
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
	strbuf_add(out, o.buf, o.len);
	strbuf_release(&o);
}

/* RFC 3986 section 5.2, for the URIs schemas use. */
void sch_uri_resolve(const char *base, const char *ref, struct strbuf *out)
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

const struct sch_reg *sch_reg_find(const struct sch *s, const char *uri, size_t n)
{
	size_t i;

	for (i = 0; i < s->nregs; i++)
		if (strlen(s->regs[i].uri) == n && !memcmp(s->regs[i].uri, uri, n))
			return &s->regs[i];
	return NULL;
}

/* The string member key of object tok, decoded into out: 1 present, 0 not. */
int sch_str_member(const struct json_doc *d, uint32_t tok, const char *key, struct strbuf *out)
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
	if (sch_str_member(d, tok, "$id", &id) && id.len) {
		if (s->draft == SCH_DRAFT_7 && id.buf[0] == '#') {
			/* draft-07: "$id": "#name" is an anchor */
			sch_uri_resolve(base, id.buf, &v);	/* v is not id: no aliasing */
			rc = reg_add(s, v.buf, res, tok);
		} else if (!(s->draft == SCH_DRAFT_7 && json_get(d, tok, "$ref", 4))) {
			sch_uri_resolve(base, id.buf, &abs);
			{
				char *h = strchr(abs.buf, '#');

				if (h)
					strbuf_setlen(&abs, (size_t)(h - abs.buf));
			}
			rc = reg_add(s, abs.buf, res, tok);
		}
	}
	if (rc == 0 && sch_str_member(d, tok, "$anchor", &v) && v.len) {
		strbuf_reset(&id);
		strbuf_addf(&id, "%s#%s", abs.buf, v.buf);
		rc = reg_add(s, id.buf, res, tok);
	}
	if (rc == 0 && s->draft != SCH_DRAFT_7 && sch_str_member(d, tok, "$dynamicAnchor", &v) && v.len) {
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
	if (json_type(&r->doc, 0) == JSON_OBJECT && sch_str_member(&r->doc, 0, "$id", &id) && id.len &&
	    id.buf[0] != '#') {
		struct strbuf abs = STRBUF_INIT;
		char *h;

		sch_uri_resolve(uri, id.buf, &abs);
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
