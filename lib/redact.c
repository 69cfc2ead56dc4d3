#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "redact.h"
#include "secret.h"

static int name_in(const char *name, size_t n, const char *const *list)
{
	for (; *list; list++)
		if (strlen(*list) == n && !strncasecmp(*list, name, n))
			return 1;
	return 0;
}

static void trim(const char **name, size_t *n)
{
	while (*n && ((*name)[*n - 1] == ' ' || (*name)[*n - 1] == '\t'))
		(*n)--;
	while (*n && (**name == ' ' || **name == '\t')) {
		(*name)++;
		(*n)--;
	}
}

/*
 * Has name a word (split at '-' and '_', without case) in words, or the
 * word "key" right after one in key_after (NULL: none)?
 */
static int has_word(const char *name, size_t n, const char *const *words,
		    const char *const *key_after)
{
	char prev[32] = "";
	size_t i = 0, j, k;

	while (i < n) {
		char w[32];

		for (j = i; j < n && name[j] != '-' && name[j] != '_'; j++)
			;
		if (j - i < sizeof(w)) {
			memcpy(w, name + i, j - i);
			w[j - i] = '\0';
			for (k = 0; w[k]; k++)
				w[k] = (char)tolower((unsigned char)w[k]);
			if (name_in(w, strlen(w), words))
				return 1;
			if (key_after && !strcmp(w, "key") && name_in(prev, strlen(prev), key_after))
				return 1;
			memcpy(prev, w, strlen(w) + 1);
		} else {
			prev[0] = '\0';
		}
		i = j + 1;
	}
	return 0;
}

/*
 * A header name that carries a credential, by its words (split at '-' and
 * '_', compared without case): the well-known ones, any name with a word
 * that always means one (token, secret, password, cookie, credential,
 * apikey, authorization: X-Shopify-Access-Token, Api-Token, X-Api-Secret),
 * and a "key" after a word that makes it a credential's (X-Goog-Api-Key,
 * Ocp-Apim-Subscription-Key, X-Auth-Key), but not Idempotency-Key.
 * Spaces around the name (a "Name : value" header) do not hide it.
 */
int redact_header_name(const char *name, size_t n)
{
	static const char *const names[] = {
		"authorization", "proxy-authorization", "cookie", "set-cookie", "private-token", NULL
	};
	static const char *const always[] = {
		"token", "secret", "password", "passwd", "cookie", "credential", "credentials",
		"apikey", "authorization", "accesstoken", "sessiontoken", NULL
	};
	static const char *const key_after[] = {
		"api", "subscription", "access", "secret", "private", "auth", "client", "app",
		"application", "master", "admin", "service", "account", "license", "dev",
		"developer", "partner", "consumer", NULL
	};
	trim(&name, &n);
	if (name_in(name, n, names))
		return 1;
	return has_word(name, n, always, key_after);
}

int redact_header_literal(const char *name, size_t n)
{
	/* what a name says: key, token, secret, auth, session, signature, password */
	static const char *const says[] = {
		"key", "token", "secret", "auth", "session", "signature", "password", "passwd",
		"apikey", "authorization", "cookie", "credential", "credentials", NULL
	};

	trim(&name, &n);
	return redact_header_name(name, n) || has_word(name, n, says, NULL);
}

int redact_header_bound(const char *name, size_t n)
{
	/* headers known to carry no secret: they may follow a request anywhere */
	static const char *const harmless[] = {
		"accept", "accept-encoding", "accept-language", "accept-charset", "content-type",
		"content-language", "user-agent", "referer", "cache-control", "pragma",
		"if-none-match", "if-match", "if-modified-since", "if-unmodified-since", "prefer",
		"x-request-id", "x-correlation-id", "dnt", "x-requested-with", "range", NULL
	};

	trim(&name, &n);
	return !name_in(name, n, harmless);
}

int redact_param_name(const char *name, size_t n)
{
	static const char *const names[] = {
		"access_token", "refresh_token", "id_token", "token", "api_key", "apikey",
		"api-key", "key", "secret", "client_secret", "password", "passwd",
		"signature", "sig", "auth", "code_verifier", "x-api-key", NULL
	};
	return name_in(name, n, names);
}

int redact_url(struct strbuf *out, const char *url, const char *extra)
{
	const char *q = strchr(url, '?'), *frag, *p;

	if (!q)
		return strbuf_addstr(out, url);
	strbuf_add(out, url, (size_t)(q - url) + 1);
	frag = strchr(q, '#');
	if (!frag)
		frag = q + strlen(q);
	p = q + 1;
	while (p < frag) {
		const char *amp = memchr(p, '&', (size_t)(frag - p)), *eq;
		size_t kl;

		if (!amp)
			amp = frag;
		eq = memchr(p, '=', (size_t)(amp - p));
		kl = (size_t)((eq ? eq : amp) - p);
		if (eq && (redact_param_name(p, kl) ||
			   (extra && strlen(extra) == kl && !strncasecmp(extra, p, kl)))) {
			strbuf_add(out, p, kl + 1);
			strbuf_addstr(out, SECRET_MASK);
		} else {
			strbuf_add(out, p, (size_t)(amp - p));
		}
		if (amp < frag)
			strbuf_addch(out, '&');
		p = amp + 1;
	}
	strbuf_addstr(out, frag);
	return strbuf_failed(out) ? -1 : 0;
}

/* One replacement: source bytes [start, end) become text. */
struct edit {
	size_t start, end;
	char *text;
	char *ptr;		/* the JSON Pointer of the masked value */
};

struct edits {
	struct edit *e;
	size_t n, alloc;
	int failed;
};

static void add_edit(struct edits *ed, size_t start, size_t end, char *text, const char *p1,
		     const char *name, size_t nl)
{
	struct strbuf ptr = STRBUF_INIT;

	strbuf_addstr(&ptr, p1);
	if (name)
		json_ptr_append(&ptr, name, nl);
	if (!text || strbuf_failed(&ptr)) {
		free(text);
		strbuf_release(&ptr);
		ed->failed = 1;
		return;
	}
	if (ed->n == ed->alloc) {
		size_t na = ed->alloc ? 2 * ed->alloc : 8;
		struct edit *ne = realloc(ed->e, na * sizeof(*ne));

		if (!ne) {
			free(text);
			strbuf_release(&ptr);
			ed->failed = 1;
			return;
		}
		ed->e = ne;
		ed->alloc = na;
	}
	ed->e[ed->n].start = start;
	ed->e[ed->n].end = end;
	ed->e[ed->n].text = text;
	ed->e[ed->n].ptr = strbuf_detach(&ptr, NULL);
	ed->n++;
}

/* A string token that is a URL: mask its credential parameters. */
static void url_member(const struct json_doc *d, uint32_t t, const char *ptr,
		       struct edits *ed)
{
	struct strbuf url = STRBUF_INIT, red = STRBUF_INIT, q = STRBUF_INIT;

	if (!t || json_type(d, t) != JSON_STRING || json_str_decode(d, t, &url) < 0 || !url.len)
		goto out;
	if (redact_url(&red, url.buf, NULL) < 0) {
		ed->failed = 1;
		goto out;
	}
	if (red.len == url.len && !memcmp(red.buf, url.buf, url.len))
		goto out;
	if (json_quote(&q, red.buf, red.len) < 0) {
		ed->failed = 1;
		goto out;
	}
	add_edit(ed, (size_t)(json_src(d, t) - d->src), (size_t)(json_src(d, t) - d->src) + json_srclen(d, t),
		 strbuf_detach(&q, NULL), ptr, NULL, 0);
out:
	strbuf_release(&url);
	strbuf_release(&red);
	strbuf_release(&q);
}

/* A headers object: mask the values of credential headers. */
static void headers_member(const struct json_doc *d, uint32_t h, const char *ptr,
			   struct edits *ed)
{
	struct strbuf name = STRBUF_INIT;
	uint32_t m;

	if (!h || json_type(d, h) != JSON_OBJECT)
		return;
	for (m = json_first(d, h); m; m = json_next(d, h, m)) {
		uint32_t v = m + 1;
		enum json_type vt = json_type(d, v);

		strbuf_reset(&name);
		if (json_str_decode(d, m, &name) < 0) {
			ed->failed = 1;
			break;
		}
		if (!name.len || !redact_header_name(name.buf, name.len) || vt == JSON_NULL ||
		    (vt == JSON_STRING && json_str_eq(d, v, SECRET_MASK, strlen(SECRET_MASK))))
			continue;
		add_edit(ed, (size_t)(json_src(d, v) - d->src),
			 (size_t)(json_src(d, v) - d->src) + json_srclen(d, v),
			 strdup("\"" SECRET_MASK "\""), ptr, name.buf, name.len);
	}
	strbuf_release(&name);
}

static int cmp_edit(const void *a, const void *b)
{
	const struct edit *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

long redact_envelope(const struct json_doc *d, const char *line, size_t n,
		     struct strbuf *out, struct strbuf *where)
{
	struct edits ed = { NULL, 0, 0, 0 };
	uint32_t req;
	size_t i, at = 0;
	long count;

	if (json_type(d, 0) != JSON_OBJECT)
		return strbuf_add(out, line, n) < 0 ? -1 : 0;
	url_member(d, json_get(d, 0, "url", 3), "/url", &ed);
	url_member(d, json_get(d, 0, "final_url", 9), "/final_url", &ed);
	headers_member(d, json_get(d, 0, "headers", 7), "/headers", &ed);
	req = json_get(d, 0, "request", 7);
	if (req && json_type(d, req) == JSON_OBJECT) {
		url_member(d, json_get(d, req, "url", 3), "/request/url", &ed);
		headers_member(d, json_get(d, req, "headers", 7), "/request/headers", &ed);
	}
	/* edits in source order, whatever the order of the members */
	if (ed.n > 1)
		qsort(ed.e, ed.n, sizeof(*ed.e), cmp_edit);
	for (i = 0; i < ed.n; i++) {
		strbuf_add(out, line + at, ed.e[i].start - at);
		strbuf_addstr(out, ed.e[i].text);
		at = ed.e[i].end;
	}
	strbuf_add(out, line + at, n - at);
	if (where && ed.n)
		strbuf_addstr(where, ed.e[0].ptr);	/* the first in the line */
	for (i = 0; i < ed.n; i++) {
		free(ed.e[i].text);
		free(ed.e[i].ptr);
	}
	free(ed.e);
	count = (long)ed.n;
	return ed.failed || strbuf_failed(out) ? -1 : count;
}
