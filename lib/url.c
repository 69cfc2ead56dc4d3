#include <ctype.h>
#include <string.h>
#include <strings.h>

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

int url_same_origin(const char *a, const char *b)
{
	struct strbuf oa = STRBUF_INIT, ob = STRBUF_INIT;
	int same = url_origin(a, &oa) == 0 && url_origin(b, &ob) == 0 && !strcmp(oa.buf, ob.buf);

	strbuf_release(&oa);
	strbuf_release(&ob);
	return same;
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
