#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>


#include "num.h"
#include "url.h"

/* Length of the scheme of url ("http" or "https"), 0 when it is neither. */
static size_t scheme_len(const char *url)
{
	if (!strncasecmp(url, "https://", 8))
		return 5;
	if (!strncasecmp(url, "http://", 7))
		return 4;
	return 0;
}

int url_is_https(const char *url)
{
	return scheme_len(url) == 5;
}

int url_origin(const char *url, struct strbuf *out)
{
	size_t sl = scheme_len(url), i, hl;
	const char *auth, *end, *at, *host, *port = NULL;
	size_t start = out->len;

	if (!sl)
		return -1;
	auth = url + sl + 3;
	end = auth + strcspn(auth, "/?#");
	/* user information ends at the last '@' of the authority */
	for (at = end; at > auth && at[-1] != '@'; at--)
		;
	host = at > auth ? at : auth;
	if (*host == '[') {
		const char *rb = memchr(host, ']', (size_t)(end - host));

		if (!rb)
			return -1;
		hl = (size_t)(rb - host) + 1;
		if (rb + 1 < end) {
			if (rb[1] != ':')
				return -1;
			port = rb + 2;
		}
	} else {
		const char *colon = memchr(host, ':', (size_t)(end - host));

		hl = (size_t)((colon ? colon : end) - host);
		if (colon)
			port = colon + 1;
	}
	if (!hl)
		return -1;
	for (i = 0; i < sl; i++)
		strbuf_addch(out, tolower((unsigned char)url[i]));
	strbuf_addstr(out, "://");
	for (i = 0; i < hl; i++)
		strbuf_addch(out, tolower((unsigned char)host[i]));
	strbuf_addch(out, ':');
	if (port && port < end) {
		const char *p = port;
		unsigned long v = 0;

		/* leading zeros do not make another port */
		for (; p < end; p++) {
			if (!isdigit((unsigned char)*p) || (v = v * 10 + (unsigned)(*p - '0')) > 65535) {
				strbuf_setlen(out, start);
				return -1;
			}
		}
		strbuf_addf(out, "%lu", v);
	} else {
		strbuf_addstr(out, sl == 5 ? "443" : "80");
	}
	return strbuf_failed(out) ? -1 : 0;
}

int url_origin_arg(const char *arg, struct strbuf *out)
{
	size_t sl = scheme_len(arg);
	const char *rest;

	if (!sl)
		return -1;
	rest = arg + sl + 3 + strcspn(arg + sl + 3, "/?#");
	if (*rest && strcmp(rest, "/"))
		return -1;
	return url_origin(arg, out);
}

/* ---- the query string ---- */

int url_encode(struct strbuf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			strbuf_addch(out, c);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			strbuf_add(out, e, 3);
		}
	}
	return strbuf_failed(out) ? -1 : 0;
}


int url_decode(struct strbuf *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && num_hexval(s[i + 1]) >= 0 && num_hexval(s[i + 2]) >= 0) {
			strbuf_addch(out, num_hexval(s[i + 1]) * 16 + num_hexval(s[i + 2]));
			i += 2;
		} else {
			strbuf_addch(out, s[i]);
		}
	}
	return strbuf_failed(out) ? -1 : 0;
}

/* name=value, both percent-encoded. */
static int query_pair(struct strbuf *out, const char *name, size_t nl, const char *value,
		      size_t vl)
{
	url_encode(out, name, nl);
	strbuf_addch(out, '=');
	return url_encode(out, value, vl);
}

int url_add_query(struct strbuf *url, const char *name, size_t nl, const char *value,
		  size_t vl)
{
	if (!url->len || !memchr(url->buf, '?', url->len))
		strbuf_addch(url, '?');
	else if (url->buf[url->len - 1] != '?' && url->buf[url->len - 1] != '&')
		strbuf_addch(url, '&');
	return query_pair(url, name, nl, value, vl);
}

/* Is the query pair p[0..n) named name (compared percent-decoded)? */
static int pair_named(const char *p, size_t n, const char *name, struct strbuf *value)
{
	const char *eq = memchr(p, '=', n);
	size_t kl = eq ? (size_t)(eq - p) : n;
	struct strbuf k = STRBUF_INIT;
	int match;

	if (url_decode(&k, p, kl) < 0)
		return -1;
	match = k.len == strlen(name) && (!k.len || !memcmp(k.buf, name, k.len));
	strbuf_release(&k);
	if (match && value) {
		strbuf_reset(value);
		if (url_decode(value, eq ? eq + 1 : p + n, eq ? n - kl - 1 : 0) < 0)
			return -1;
	}
	return match;
}

/* The query part of url: [*qs, *qe). */
static void query_span(const char *url, const char **qs, const char **qe)
{
	const char *q = strchr(url, '?'), *h = strchr(url, '#');

	if (!q || (h && h < q)) {
		*qs = *qe = h ? h : url + strlen(url);
		return;
	}
	*qs = q + 1;
	*qe = h ? h : url + strlen(url);
}

int url_get_query(const char *url, const char *name, struct strbuf *value)
{
	const char *qs, *qe, *p;

	query_span(url, &qs, &qe);
	for (p = qs; p < qe;) {
		const char *amp = memchr(p, '&', (size_t)(qe - p));
		size_t n = amp ? (size_t)(amp - p) : (size_t)(qe - p);
		int r = n ? pair_named(p, n, name, value) : 0;

		if (r)
			return r;
		p += n + 1;
	}
	return 0;
}

int url_set_query(struct strbuf *url, const char *name, const char *value)
{
	struct strbuf o = STRBUF_INIT;
	const char *u = url->buf, *qs, *qe, *p;
	int any = 0, r;

	query_span(u, &qs, &qe);
	strbuf_add(&o, u, (size_t)(qs - u));
	if (qs > u && qs[-1] == '?') {
		o.len--;
		o.buf[o.len] = '\0';
	}
	for (p = qs; p < qe;) {
		const char *amp = memchr(p, '&', (size_t)(qe - p));
		size_t n = amp ? (size_t)(amp - p) : (size_t)(qe - p);

		if (n && !pair_named(p, n, name, NULL)) {
			strbuf_addch(&o, any++ ? '&' : '?');
			strbuf_add(&o, p, n);
		}
		p += n + 1;
	}
	r = value ? url_add_query(&o, name, strlen(name), value, strlen(value)) : 0;
	strbuf_release(url);
	*url = o;
	return r < 0 || strbuf_failed(url) ? -1 : 0;
}

int url_resolve(const char *base, const char *ref, struct strbuf *out, struct aperr *e)
{
	CURLU *u = curl_url();
	char *s = NULL, *scheme = NULL;
	int r = -1;

	if (!u)
		return aperr_set(e, EX_OSERR, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK)
		aperr_set(e, EX_DATAERR, "'%s' is not a URL", base);
	else if (curl_url_set(u, CURLUPART_URL, ref, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
		aperr_set(e, EX_DATAERR, "'%s' is not a URL reference", ref);
	else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		 (strcasecmp(scheme, "http") && strcasecmp(scheme, "https")))
		aperr_set(e, EX_DATAERR, "'%s' is not an http or https URL", ref);
	else if (curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
		aperr_set(e, EX_DATAERR, "'%s' cannot be resolved", ref);
	else
		r = strbuf_addstr(out, s) < 0 ? aperr_set(e, EX_OSERR, "out of memory") : 0;
	curl_free(s);
	curl_free(scheme);
	curl_url_cleanup(u);
	return r;
}
