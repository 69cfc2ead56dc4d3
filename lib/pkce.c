#include <string.h>

#include <openssl/sha.h>

#include "base64.h"
#include "hash.h"
#include "pkce.h"
#include "url.h"

/* n random bytes as base64url text (no padding) into out. */
static int random_text(char *out, size_t outsz, size_t n, struct aperr *e)
{
	unsigned char rnd[48];
	struct strbuf sb = STRBUF_INIT;
	int r = 0;

	if (n > sizeof(rnd) || hash_random(rnd, n) < 0)
		return aperr_set(e, EX_OSERR, "no random bytes");
	base64url_encode(&sb, rnd, n);
	if (!sb.buf || sb.len >= outsz)
		r = aperr_set(e, EX_OSERR, "out of memory");
	else
		memcpy(out, sb.buf, sb.len + 1);
	explicit_bzero(rnd, sizeof(rnd));
	strbuf_release(&sb);
	return r;
}

int pkce_challenge(const char *verifier, char out[48], struct aperr *e)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	struct strbuf ch = STRBUF_INIT;
	int r = 0;

	SHA256((const unsigned char *)verifier, strlen(verifier), md);
	base64url_encode(&ch, md, sizeof(md));
	if (!ch.buf || ch.len >= 48)
		r = aperr_set(e, EX_OSERR, "out of memory");
	else
		memcpy(out, ch.buf, ch.len + 1);
	strbuf_release(&ch);
	return r;
}

int pkce_init(struct pkce *p, struct aperr *e)
{
	if (random_text(p->state, sizeof(p->state), 24, e) < 0 ||
	    random_text(p->verifier, sizeof(p->verifier), 32, e) < 0)
		return -1;
	return pkce_challenge(p->verifier, p->challenge, e);
}

int pkce_authorize_url(const struct pkce *p, const char *authorize_url, const char *client_id,
		       const char *redirect, const char *scope, struct strbuf *out)
{
	const char *pairs[] = { "response_type", "code", "client_id", client_id,
				"redirect_uri", redirect, "scope", scope, "state", p->state,
				"code_challenge", p->challenge, "code_challenge_method", "S256" };
	size_t i;

	strbuf_addstr(out, authorize_url);
	for (i = 0; i < sizeof(pairs) / sizeof(*pairs); i += 2) {
		if (!pairs[i + 1])
			continue;
		strbuf_addf(out, "%c%s=", out->buf && strchr(out->buf, '?') ? '&' : '?', pairs[i]);
		url_encode(out, pairs[i + 1], strlen(pairs[i + 1]));
	}
	return strbuf_failed(out) ? -1 : 0;
}

enum pkce_outcome pkce_callback(const struct pkce *p, const char *code, const char *state,
				const char *error, unsigned *status, const char **page)
{
	*status = 400;
	if (!state || strcmp(state, p->state)) {
		*page = "This sign-in did not start here (state mismatch); nothing was stored.\n";
		return PKCE_BAD_STATE;
	}
	if (error) {
		*page = "The provider did not grant access; nothing was stored.\n";
		return PKCE_REFUSED;
	}
	if (!code || !*code) {
		*page = "The redirect carried no code; nothing was stored.\n";
		return PKCE_NO_CODE;
	}
	*status = 200;
	/* the code exchange is still to come, and can fail: the terminal says how it ended */
	*page = "Received. The terminal finishes the sign-in and says whether it worked; you can "
		"close this window.\n";
	return PKCE_GOT_CODE;
}
