/*
 * auth: the credentials a request carries.
 *
 * One struct auth per run, shared by every request (and every concurrent
 * transfer): an API key in a header or a query parameter (several keys
 * rotate by remaining quota; the client picks the key), a bearer token,
 * basic credentials, an OAuth2 access token from a token endpoint
 * (client_credentials, refresh_token, or a JWT bearer assertion grant),
 * or a JWT signed here (HS256/RS256) and sent as the bearer token.
 *
 * Every secret value is resolved from env:/file: references by the caller
 * (lib/secret) and remembered in the run's struct secrets, as is every
 * token obtained, so nothing written carries them.  auth owns its copies.
 */
#ifndef APIPE_AUTH_H
#define APIPE_AUTH_H

#include <stddef.h>

#include "err.h"
#include "secret.h"
#include "strbuf.h"

struct http_req;

/*
 * How auth sends its token requests: perform(ctx, r, e) makes request r
 * (its retries included) and fills in the result; 0, or -1 (e) when it
 * could not be made at all.  lib/http gives one (http_client_transport),
 * so auth does not call the client that calls it.
 */
struct auth_transport {
	int (*perform)(void *ctx, struct http_req *r, struct aperr *e);
	void *ctx;
};
struct curl_slist;

enum auth_kind {
	AUTH_NONE,
	AUTH_KEY_HEADER,	/* key_name: value */
	AUTH_KEY_QUERY,		/* ?key_name=value */
	AUTH_BEARER,
	AUTH_BASIC,
	AUTH_OAUTH2,		/* token from token_url */
	AUTH_JWT		/* signed here, sent as bearer */
};

enum jwt_alg { JWT_NONE, JWT_HS256, JWT_RS256 };

struct auth {
	enum auth_kind kind;
	struct secrets *secrets;	/* not owned */
	char *key_name;
	char **keys;
	size_t nkeys;
	char *bearer, *basic;		/* basic: "user:password" */

	/* OAuth2 */
	char *token_url, *client_id, *client_secret, *scope, *refresh_token;
	char *access_token;
	double expires_at;		/* monotonic seconds; 0: no expiry given */
	double lifetime;		/* expires_in of the current token */
	double margin;			/* refresh this long before expiry, default 60 */
	unsigned gen;			/* bumped on every new access token */
	int stale;			/* refresh before the next use */
	unsigned refreshes;
	double expires_real, obtained_real;	/* Unix times of the current token */
	char *store_path;		/* a token store (oauth-login) to share, or NULL */

	/* JWT */
	enum jwt_alg jwt_alg;
	char *jwt_key;			/* HS256 secret or RS256 PEM private key */
	char *jwt_claims;		/* a JSON object */
	double jwt_ttl;			/* exp - iat, default 300 s */
	char *jwt;			/* the current assertion */
	double jwt_expires;
};

void auth_init(struct auth *a, struct secrets *secrets);
void auth_release(struct auth *a);	/* wipes and frees every secret held */

/* Add one API key (resolved value, copied) for the header or query name. */
int auth_add_key(struct auth *a, enum auth_kind kind, const char *name, const char *value,
		 struct aperr *e);
/* Check a configuration is complete and coherent (EX_USAGE/EX_CONFIG). */
int auth_check(const struct auth *a, struct aperr *e);
/* How many keys the client may rotate over (at least 1). */
unsigned auth_nkeys(const struct auth *a);
/* May a 401 be cured by getting a new token? */
int auth_refreshable(const struct auth *a);

/*
 * Add this attempt's credentials: headers to *h, query parameters to url
 * (which holds the URL about to be sent).  key picks the API key.  Gets or
 * refreshes an OAuth2 token first when needed (a blocking exchange through
 * c).  *gen receives the token generation used.  Returns 0 or -1 (e;
 * EX_NOPERM when the token endpoint refused the grant).
 */
int auth_apply(struct auth *a, const struct auth_transport *t, unsigned key, struct curl_slist **h,
	       struct strbuf *url, unsigned *gen, struct aperr *e);
/* A request sent with token generation gen got a 401: refresh before the next use. */
void auth_invalidate(struct auth *a, unsigned gen);

struct tokenset;
/*
 * Use the token store at path (written by oauth-login): its access and
 * refresh tokens, expiry, token URL, client id and scope (what the options
 * set wins).  Refreshes then happen under the store's lock and are written
 * back to it, so runs sharing the store always hold the newest refresh
 * token.  0 or -1 (EX_NOINPUT, EX_CONFIG, EX_DATAERR).
 */
int auth_load_store(struct auth *a, const char *path, struct aperr *e);
/* Fill ts (initialised) with the current token set.  0 or -1. */
int auth_tokenset(const struct auth *a, struct tokenset *ts);
/* Refresh the access token now (through the store when there is one).  0 or -1. */
int auth_refresh_now(struct auth *a, const struct auth_transport *t, struct aperr *e);
/*
 * The authorization_code grant (RFC 6749 4.1.3, with the PKCE verifier
 * of RFC 7636): the token set goes into a.  0 or -1 (EX_NOPERM when the
 * endpoint refuses the code).
 */
int auth_exchange_code(struct auth *a, const struct auth_transport *t, const char *code,
		       const char *verifier, const char *redirect_uri, struct aperr *e);

/*
 * A compact JWT for claims (a JSON object; iat and exp added unless
 * present) signed with alg and key.  Appends to out.
 */
int jwt_sign(struct strbuf *out, enum jwt_alg alg, const char *key, const char *claims,
	     double ttl, struct aperr *e);

#endif
