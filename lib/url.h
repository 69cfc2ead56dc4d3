/*
 * url: the parts of a URL that decide where a credential may go.
 *
 * An origin is scheme, host and port (RFC 6454): "https://api.example.com:443".
 * url_origin() writes it in one normal form -- scheme and host lower case,
 * the port always written (80 for http, 443 for https when the URL has
 * none), user information dropped, an IPv6 host kept in brackets -- so two
 * origins are the same exactly when their texts are equal.
 *
 * The query string: parameters read, replaced and added by name, names and
 * values percent-encoded (RFC 3986: everything but ALPHA DIGIT - . _ ~)
 * and compared decoded.  No other library is involved.
 *
 * Nothing here allocates except into the caller's strbuf.
 */
#ifndef APIPE_URL_H
#define APIPE_URL_H

#include "err.h"
#include "strbuf.h"

/*
 * Append the origin of an absolute http or https URL to out.  Returns 0, or
 * -1 when url is not an absolute http(s) URL with a host (or out failed).
 */
int url_origin(const char *url, struct strbuf *out);
/* 1 when url's scheme is https (case-insensitive). */
int url_is_https(const char *url);
/*
 * Normalise an origin a user named (--trust-origin): a URL or a bare
 * scheme://host[:port]; a path is refused.  0 or -1.
 */
int url_origin_arg(const char *arg, struct strbuf *out);

/* Append s[0..n) percent-encoded (all but ALPHA DIGIT - . _ ~).  0 or -1. */
int url_encode(struct strbuf *out, const char *s, size_t n);
/* Append s[0..n) with %XX decoded ('+' stays '+').  0 or -1. */
int url_decode(struct strbuf *out, const char *s, size_t n);
/* Append name=value (both percent-encoded) to a URL, after "?" or "&".  0 or -1. */
int url_add_query(struct strbuf *url, const char *name, size_t nl, const char *value,
		  size_t vl);
/*
 * The first value of query parameter name in url (names compared
 * percent-decoded), decoded into value (NULL: only whether it is there).
 * 1 found, 0 not, -1 no memory.
 */
int url_get_query(const char *url, const char *name, struct strbuf *value);
/*
 * Replace every name parameter of url's query by name=value (appended
 * last), or remove them all when value is NULL; a fragment is dropped.
 * 0 or -1.
 */
int url_set_query(struct strbuf *url, const char *name, const char *value);

/*
 * ref resolved against base (RFC 3986, by the same URL parser the requests
 * use), appended to out; it must be http or https.  0, or -1 with
 * EX_DATAERR (not a URL) or EX_OSERR in e.
 */
int url_resolve(const char *base, const char *ref, struct strbuf *out, struct aperr *e);

#endif
