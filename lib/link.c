#include <string.h>
#include <strings.h>


#include "link.h"

static const char *skip_ows(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* Is rel among the space-separated relation types in v[0..n)? */
static int rel_has(const char *v, size_t n, const char *rel)
{
	size_t rl = strlen(rel), i = 0;

	while (i < n) {
		size_t j;

		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		j = i;
		while (j < n && v[j] != ' ' && v[j] != '\t')
			j++;
		if (j - i == rl && !strncasecmp(v + i, rel, rl))
			return 1;
		i = j;
	}
	return 0;
}

int link_find(const char *v, size_t n, const char *rel, struct strbuf *out, struct aperr *e)
{
	const char *p = v, *end = v + n;

	for (;;) {
		const char *uri, *uri_end;
		int match = 0, none = 0;

		p = skip_ows(p, end);
		while (p < end && *p == ',')	/* empty elements are allowed */
			p = skip_ows(p + 1, end);
		if (p >= end)
			return 0;
		if (*p != '<')
			return aperr_set(e, EX_DATAERR, "Link header: expected '<' at byte %zu",
					 (size_t)(p - v));
		uri = ++p;
		uri_end = memchr(p, '>', (size_t)(end - p));
		if (!uri_end)
			return aperr_set(e, EX_DATAERR, "Link header: unterminated '<' at byte %zu",
					 (size_t)(uri - 1 - v));
		for (; p < uri_end; p++)
			if ((unsigned char)*p <= ' ' || *p == '<' || *p == '"' || *p == 0x7f)
				return aperr_set(e, EX_DATAERR,
						 "Link header: byte %zu cannot be part of a URI",
						 (size_t)(p - v));
		p = skip_ows(uri_end + 1, end);
		while (p < end && *p == ';') {
			const char *name, *val = NULL;
			size_t nl, vl = 0;
			struct strbuf q = STRBUF_INIT;

			p = skip_ows(p + 1, end);
			name = p;
			while (p < end && *p != '=' && *p != ';' && *p != ',' && *p != ' ' && *p != '\t')
				p++;
			nl = (size_t)(p - name);
			p = skip_ows(p, end);
			if (p < end && *p == '=') {
				p = skip_ows(p + 1, end);
				if (p < end && *p == '"') {
					/* quoted-string: \ escapes the next byte */
					p++;
					while (p < end && *p != '"') {
						if (*p == '\\' && p + 1 < end)
							p++;
						strbuf_addch(&q, *p++);
					}
					if (p >= end) {
						strbuf_release(&q);
						return aperr_set(e, EX_DATAERR,
								 "Link header: unterminated quoted string");
					}
					p++;
					val = q.buf;
					vl = q.len;
				} else {
					val = p;
					while (p < end && *p != ';' && *p != ',' && *p != ' ' && *p != '\t')
						p++;
					vl = (size_t)(p - val);
				}
			}
			if (nl == 3 && !strncasecmp(name, "rel", 3) && val && !match)
				match = rel_has(val, vl, rel);
			/* Sentry: a link kept for polling, with no results behind it */
			if (nl == 7 && !strncasecmp(name, "results", 7) && val && vl == 5 &&
			    !strncasecmp(val, "false", 5))
				none = 1;
			strbuf_release(&q);
			p = skip_ows(p, end);
		}
		if (p < end && *p != ',')
			return aperr_set(e, EX_DATAERR, "Link header: unexpected '%c' at byte %zu", *p,
					 (size_t)(p - v));
		if (match && none)
			return 2;
		if (match) {
			strbuf_add(out, uri, (size_t)(uri_end - uri));
			return 1;
		}
	}
}
