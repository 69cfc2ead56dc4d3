/*
 * pkce: the pieces of OAuth2's authorization code flow with PKCE
 * (RFC 7636) that oauth-login puts together: a fresh state and code
 * verifier with its S256 challenge, the authorization URL, and the
 * verdict on the redirect that comes back.
 *
 * Nothing here allocates but into the strbuf it is given; nothing keeps
 * or prints the verifier.  Thread-safety: pkce_callback() only reads the
 * struct pkce, so the server's thread may call it while the main thread
 * waits.
 */
#ifndef APIPE_PKCE_H
#define APIPE_PKCE_H

#include "err.h"
#include "strbuf.h"

struct pkce {
	char state[48];		/* 24 random bytes, base64url */
	char verifier[64];	/* 32 random bytes: 43 characters */
	char challenge[48];	/* base64url(SHA-256(verifier)) */
};

/* verifier's S256 challenge, base64url(SHA-256(verifier)), into out.  0 or -1. */
int pkce_challenge(const char *verifier, char out[48], struct aperr *e);
/* A fresh state, verifier and challenge.  0 or -1 (EX_OSERR: no random bytes). */
int pkce_init(struct pkce *p, struct aperr *e);

/*
 * authorize_url with response_type=code, client_id, redirect_uri, scope
 * (NULL: none), state, code_challenge and code_challenge_method=S256,
 * percent-encoded, appended to out.  0 or -1 (out's cap).
 */
int pkce_authorize_url(const struct pkce *p, const char *authorize_url, const char *client_id,
		       const char *redirect, const char *scope, struct strbuf *out);

enum pkce_outcome { PKCE_WAITING, PKCE_GOT_CODE, PKCE_BAD_STATE, PKCE_REFUSED, PKCE_NO_CODE };

/*
 * The redirect's query values (NULL when absent): what it means, with the
 * HTTP status and the page to answer the browser with.
 */
enum pkce_outcome pkce_callback(const struct pkce *p, const char *code, const char *state,
				const char *error, unsigned *status, const char **page);

#endif
