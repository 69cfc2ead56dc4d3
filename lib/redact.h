/*
 * redact: the one place that decides what is a credential in what apipe
 * writes, and masks it.
 *
 * Header names: authorization, proxy-authorization, cookie, set-cookie,
 * x-api-key, api-key and the other token headers below.  Query parameter
 * names: access_token, api_key, client_secret, password, signature … (not
 * names that commonly mean data, such as "code").  A masked value becomes
 * SECRET_MASK.
 *
 * Thread-safety: every function here is reentrant (no state), so store-raw's
 * workers and webhook-recv's connection threads may call them at once.
 */
#ifndef APIPE_REDACT_H
#define APIPE_REDACT_H

#include <stddef.h>

#include "json.h"
#include "strbuf.h"

/*
 * Does a header (or a query parameter) of this name carry a credential?
 * Header names by their words: see lib/redact.c.  Its value is masked in
 * whatever is written.
 */
int redact_header_name(const char *name, size_t n);
int redact_param_name(const char *name, size_t n);
/*
 * May a header of this name not be given as a literal on the command line
 * (-H)?  Every credential header, and any whose name says key, token,
 * secret, auth, session, signature or password.
 */
int redact_header_literal(const char *name, size_t n);
/*
 * Is a header the user adds bound to the origin it was given for?  Every
 * one but a short list known to carry no secret (Accept, Content-Type,
 * User-Agent …): such a header is dropped on a hop to another origin and
 * makes a crawl hold credentials.
 */
int redact_header_bound(const char *name, size_t n);
/*
 * Append url to out with the values of credential query parameters (and
 * of the extra parameter name, when non-NULL) masked.  0 or -1.
 */
int redact_url(struct strbuf *out, const char *url, const char *extra);

/*
 * Mask the credentials left in an envelope (or any JSON object line that
 * uses its members): the values of credential headers in "headers" and in
 * "request"."headers", and credential
 * query parameters of "url", "final_url" and "request"."url" -- members
 * in any order, any number of them.  d must hold the parse of line[0..n).
 * The result, valid JSON, is appended to out.  Returns how many values were
 * masked (0: out holds the line unchanged) and, when where is non-NULL,
 * appends the JSON Pointer of the first to it; -1 when out failed.
 */
long redact_envelope(const struct json_doc *d, const char *line, size_t n,
		     struct strbuf *out, struct strbuf *where);

#endif
