#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

/* libcurl's handles as the struct types http.h names (struct Curl_easy, Curl_multi) */
#define CURL_STRICTER
#include <curl/curl.h>

#include "auth.h"
#include "base64.h"
#include "http.h"
#include "json.h"
#include "clock.h"
#include "ratelimit.h"
#include "statefile.h"
#include "tokenstore.h"

void auth_init(struct auth *a, struct secrets *secrets)
{
	memset(a, 0, sizeof(*a));
	a->secrets = secrets;
	a->margin = 60;
	a->jwt_ttl = 300;
}

static void wipe(char **p)
{
	if (*p) {
		explicit_bzero(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

void auth_release(struct auth *a)
{
	size_t i;

	for (i = 0; i < a->nkeys; i++)
		wipe(&a->keys[i]);
	free(a->keys);
	free(a->key_name);
	wipe(&a->bearer);
	wipe(&a->basic);
	free(a->token_url);
	free(a->client_id);
	free(a->scope);
	wipe(&a->client_secret);
	wipe(&a->refresh_token);
	wipe(&a->access_token);
	wipe(&a->jwt_key);
	free(a->jwt_claims);
	wipe(&a->jwt);
	free(a->store_path);
	memset(a, 0, sizeof(*a));
}

int auth_add_key(struct auth *a, enum auth_kind kind, const char *name, const char *value,
		 struct aperr *e)
{
	char **nk;

	if (a->nkeys && (a->kind != kind || strcasecmp(a->key_name, name)))
		return aperr_set(e, EX_USAGE,
				 "rotating API keys must all go in the same header or parameter");
	if (a->kind != AUTH_NONE && a->kind != kind)
		return aperr_set(e, EX_USAGE, "only one kind of authentication per run");
	nk = realloc(a->keys, (a->nkeys + 1) * sizeof(*nk));
	if (!nk)
		return aperr_set(e, EX_OSERR, "out of memory");
	a->keys = nk;
	if (!(a->keys[a->nkeys] = strdup(value)))
		return aperr_set(e, EX_OSERR, "out of memory");
	a->nkeys++;
	if (!a->key_name && !(a->key_name = strdup(name)))
		return aperr_set(e, EX_OSERR, "out of memory");
	a->kind = kind;
	return 0;
}

int auth_check(const struct auth *a, struct aperr *e)
{
	if (a->kind == AUTH_OAUTH2) {
		if (!a->token_url)
			return aperr_set(e, EX_USAGE, "OAuth2 needs --oauth2-token-url");
		if (!a->refresh_token && !a->jwt_alg && !a->store_path &&
		    (!a->client_id || !a->client_secret))
			return aperr_set(e, EX_USAGE,
					 "--oauth2-token-url needs --client-id and --client-secret, "
					 "--refresh-token, or a --jwt-key assertion");
	}
	if (a->jwt_alg && !a->jwt_key)
		return aperr_set(e, EX_USAGE, "--jwt-alg needs --jwt-key");
	if (a->jwt_key && !a->jwt_alg)
		return aperr_set(e, EX_USAGE, "--jwt-key needs --jwt-alg HS256 or RS256");
	if ((a->client_id || a->client_secret || a->scope) && a->kind != AUTH_OAUTH2)
		return aperr_set(e, EX_USAGE, "--client-id, --client-secret and --scope need "
				 "--oauth2-token-url");
	return 0;
}

unsigned auth_nkeys(const struct auth *a)
{
	return a->nkeys > 1 ? (unsigned)a->nkeys : 1;
}

int auth_refreshable(const struct auth *a)
{
	return a->kind == AUTH_OAUTH2 || a->kind == AUTH_JWT;
}

void auth_invalidate(struct auth *a, unsigned gen)
{
	if (gen == a->gen)
		a->stale = 1;
}

/* --- JWT ----------------------------------------------------------------- */

int jwt_sign(struct strbuf *out, enum jwt_alg alg, const char *key, const char *claims,
	     double ttl, struct aperr *e)
{
	struct strbuf payload = STRBUF_INIT, input = STRBUF_INIT;
	struct json_doc d;
	struct json_error je;
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);
	time_t now = time(NULL);
	int r = -1;
	const char *hdr = alg == JWT_HS256 ? "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
					   : "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";

	json_doc_init(&d, 64);
	json_error_init(&je);
	if (json_parse(&d, claims ? claims : "{}", strlen(claims ? claims : "{}"), &je) != 0 ||
	    json_type(&d, 0) != JSON_OBJECT) {
		aperr_set(e, EX_USAGE, "--jwt-claims: not a JSON object");
		goto out;
	}
	strbuf_addch(&payload, '{');
	if (!json_get(&d, 0, "iat", 3))
		strbuf_addf(&payload, "\"iat\":%lld,", (long long)now);
	if (!json_get(&d, 0, "exp", 3))
		strbuf_addf(&payload, "\"exp\":%lld,", (long long)now + (long long)ttl);
	json_minify(&d, 0, &input);
	if (input.len > 2)
		strbuf_add(&payload, input.buf + 1, input.len - 1);
	else
		payload.buf[--payload.len] = '}';
	strbuf_reset(&input);
	base64url_encode(&input, hdr, strlen(hdr));
	strbuf_addch(&input, '.');
	base64url_encode(&input, payload.buf, payload.len);

	if (alg == JWT_HS256) {
		unsigned len = 0;

		if (!HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)input.buf,
			  input.len, sig, &len)) {
			aperr_set(e, EX_SOFTWARE, "HMAC-SHA256 failed");
			goto out;
		}
		siglen = len;
	} else {
		BIO *bio = BIO_new_mem_buf(key, -1);
		EVP_PKEY *pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		int okay = pk && md && EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA &&
			   EVP_PKEY_get_size(pk) <= (int)sizeof(sig) &&
			   EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pk) == 1 &&
			   EVP_DigestSign(md, sig, &siglen, (const unsigned char *)input.buf,
					  input.len) == 1;

		EVP_MD_CTX_free(md);
		EVP_PKEY_free(pk);
		BIO_free(bio);
		if (!okay) {
			aperr_set(e, EX_CONFIG, "--jwt-key: not a PEM RSA private key");
			goto out;
		}
	}
	strbuf_add(out, input.buf, input.len);
	strbuf_addch(out, '.');
	base64url_encode(out, sig, siglen);
	r = 0;
out:
	explicit_bzero(sig, sizeof(sig));
	strbuf_release(&payload);
	strbuf_release(&input);
	json_doc_release(&d);
	json_error_release(&je);
	return r;
}

/* The JWT for this moment, signed again when close to its expiry. */
static int current_jwt(struct auth *a, struct aperr *e)
{
	double now = mono_now();
	struct strbuf sb = STRBUF_INIT;

	if (a->jwt && now < a->jwt_expires - a->jwt_ttl / 5)
		return 0;
	if (jwt_sign(&sb, a->jwt_alg, a->jwt_key, a->jwt_claims, a->jwt_ttl, e) < 0) {
		strbuf_release(&sb);
		return -1;
	}
	wipe(&a->jwt);
	a->jwt = strbuf_detach(&sb, NULL);
	a->jwt_expires = now + a->jwt_ttl;
	if (a->kind == AUTH_JWT)
		a->gen++;
	return secrets_add(a->secrets, a->jwt) < 0 ? aperr_set(e, EX_OSERR, "out of memory") : 0;
}

/* --- OAuth2 token endpoint ------------------------------------------------- */

static void form_add(struct strbuf *sb, const char *name, const char *value)
{
	char *v = curl_easy_escape(NULL, value, 0);

	if (sb->len)
		strbuf_addch(sb, '&');
	strbuf_addf(sb, "%s=%s", name, v ? v : "");
	curl_free(v);
}

/* Take the access token (and a rotated refresh token) from a token response. */
static int take_token(struct auth *a, const struct http_req *r, double asked_at, struct aperr *e)
{
	struct json_doc d;
	struct json_error je;
	struct strbuf v = STRBUF_INIT;
	uint32_t t;
	int rc = -1;

	json_doc_init(&d, 64);
	json_error_init(&je);
	if (json_parse(&d, r->resp_body.buf, r->resp_body.len, &je) != 0 ||
	    json_type(&d, 0) != JSON_OBJECT) {
		aperr_set(e, EX_PROTOCOL, "token endpoint: the response is not a JSON object");
		goto out;
	}
	t = json_get(&d, 0, "access_token", 12);
	if (!t || json_type(&d, t) != JSON_STRING || json_str_decode(&d, t, &v) < 0 || !v.len) {
		aperr_set(e, EX_PROTOCOL, "token endpoint: no access_token in the response");
		goto out;
	}
	wipe(&a->access_token);
	a->access_token = strbuf_detach(&v, NULL);
	secrets_add(a->secrets, a->access_token);
	a->expires_at = a->expires_real = 0;
	t = json_get(&d, 0, "expires_in", 10);
	if (t) {
		double s = 0;

		if (json_type(&d, t) == JSON_NUMBER)
			s = strtod(json_src(&d, t), NULL);
		else if (json_type(&d, t) == JSON_STRING)
			s = strtod(json_src(&d, t) + 1, NULL);
		if (s > 0) {
			a->expires_at = asked_at + s;
			a->expires_real = real_now() - (mono_now() - asked_at) + s;
			a->lifetime = s;
		}
	}
	a->obtained_real = real_now();
	t = json_get(&d, 0, "scope", 5);
	if (t && json_type(&d, t) == JSON_STRING && json_str_decode(&d, t, &v) == 0 && v.len) {
		free(a->scope);
		a->scope = strbuf_detach(&v, NULL);
	}
	t = json_get(&d, 0, "refresh_token", 13);
	if (t && json_type(&d, t) == JSON_STRING && json_str_decode(&d, t, &v) == 0 && v.len) {
		wipe(&a->refresh_token);
		a->refresh_token = strbuf_detach(&v, NULL);
		secrets_add(a->secrets, a->refresh_token);
	}
	a->gen++;
	a->stale = 0;
	a->refreshes++;
	rc = 0;
out:
	strbuf_release(&v);
	json_doc_release(&d);
	json_error_release(&je);
	return rc;
}

/* The error and description of a refused grant, for the message. */
static void grant_error(const struct http_req *r, char *buf, size_t n)
{
	struct json_doc d;
	struct json_error je;
	struct strbuf v = STRBUF_INIT;
	uint32_t t;

	snprintf(buf, n, "HTTP %ld", r->status);
	json_doc_init(&d, 64);
	json_error_init(&je);
	if (json_parse(&d, r->resp_body.buf, r->resp_body.len, &je) == 0 &&
	    json_type(&d, 0) == JSON_OBJECT && (t = json_get(&d, 0, "error", 5)) &&
	    json_type(&d, t) == JSON_STRING && json_str_decode(&d, t, &v) == 0)
		snprintf(buf, n, "HTTP %ld, %.200s", r->status, v.buf);
	strbuf_release(&v);
	json_doc_release(&d);
	json_error_release(&je);
}

static int token_request(struct auth *a, const struct auth_transport *t, const char *grant,
			 const char *const *extra, struct aperr *e)
{
	struct http_req r;
	struct strbuf form = STRBUF_INIT;
	double asked = mono_now();
	char why[300];
	int rc = -1;

	http_req_init(&r);
	r.no_auth = 1;
	r.url = strdup(a->token_url);
	r.method = strdup("POST");
	form_add(&form, "grant_type", grant);
	if (!strcmp(grant, "refresh_token"))
		form_add(&form, "refresh_token", a->refresh_token);
	if (!strcmp(grant, "urn:ietf:params:oauth:grant-type:jwt-bearer")) {
		if (current_jwt(a, e) < 0)
			goto out;
		form_add(&form, "assertion", a->jwt);
	}
	for (; extra && extra[0]; extra += 2)
		form_add(&form, extra[0], extra[1]);
	if (a->scope && strcmp(grant, "authorization_code"))
		form_add(&form, "scope", a->scope);
	if (a->client_id && !a->client_secret)
		form_add(&form, "client_id", a->client_id);
	strbuf_add(&r.body, form.buf, form.len);
	r.has_body = 1;
	r.headers = curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
	if (a->client_id && a->client_secret) {
		/* client_secret_basic: both parts form-encoded, then Basic (RFC 6749 2.3.1). */
		struct strbuf cred = STRBUF_INIT, hdr = STRBUF_INIT;

		form_add(&cred, "x", a->client_id);
		strbuf_addch(&cred, ':');
		{
			char *s = curl_easy_escape(NULL, a->client_secret, 0);

			strbuf_addstr(&cred, s ? s : "");
			curl_free(s);
		}
		strbuf_addstr(&hdr, "Authorization: Basic ");
		base64_encode(&hdr, cred.buf + 2, cred.len - 2);
		secrets_add(a->secrets, hdr.buf + 21);
		r.headers = curl_slist_append(r.headers, hdr.buf);
		explicit_bzero(cred.buf, cred.len);
		explicit_bzero(hdr.buf, hdr.len);
		strbuf_release(&cred);
		strbuf_release(&hdr);
	}
	if (!r.url || !r.method) {
		aperr_set(e, EX_OSERR, "out of memory");
		goto out;
	}
	if (t->perform(t->ctx, &r, e) < 0)
		goto out;
	if (r.outcome == HTTP_FAILED) {
		aperr_set(e, r.exit_code ? r.exit_code : EX_TEMPFAIL, "token endpoint: %s", r.error);
		goto out;
	}
	if (r.status != 200) {
		grant_error(&r, why, sizeof(why));
		aperr_set(e, r.status == 400 || r.status == 401 || r.status == 403 ? EX_NOPERM
										   : EX_UNAVAILABLE,
			  "token endpoint refused the %s grant: %s", grant, why);
		goto out;
	}
	rc = take_token(a, &r, asked, e);
out:
	explicit_bzero(form.buf, form.len);
	strbuf_release(&form);
	explicit_bzero(r.resp_body.buf, r.resp_body.len);
	http_req_release(&r);
	return rc;
}

/* The refresh margin: at most half a short-lived token's life. */
static double margin_of(const struct auth *a, double lifetime)
{
	return a->margin < lifetime / 2 ? a->margin : lifetime / 2;
}

/* Does the current access token last at least the margin? */
static int token_fresh(const struct auth *a)
{
	return a->access_token && !a->stale &&
	       (a->expires_at == 0 || mono_now() < a->expires_at - margin_of(a, a->lifetime));
}

/* Take the store's token set as ours (secrets remembered). */
static int adopt(struct auth *a, struct tokenset *ts, struct aperr *e)
{
	double now = real_now();

	if (ts->access_token) {
		wipe(&a->access_token);
		a->access_token = ts->access_token;
		ts->access_token = NULL;
		secrets_add(a->secrets, a->access_token);
		a->gen++;
		a->stale = 0;
	}
	if (ts->refresh_token) {
		wipe(&a->refresh_token);
		a->refresh_token = ts->refresh_token;
		ts->refresh_token = NULL;
		secrets_add(a->secrets, a->refresh_token);
	}
	a->expires_real = ts->expires_at;
	a->obtained_real = ts->obtained_at;
	a->expires_at = ts->expires_at != 0 ? mono_now() + (ts->expires_at - now) : 0;
	a->lifetime = ts->expires_at != 0 && ts->obtained_at != 0 ? ts->expires_at - ts->obtained_at : 0;
	if (!a->token_url && ts->token_url && !(a->token_url = strdup(ts->token_url)))
		return aperr_set(e, EX_OSERR, "out of memory");
	if (!a->client_id && ts->client_id && !(a->client_id = strdup(ts->client_id)))
		return aperr_set(e, EX_OSERR, "out of memory");
	if (!a->scope && ts->scope && !(a->scope = strdup(ts->scope)))
		return aperr_set(e, EX_OSERR, "out of memory");
	return 0;
}

int auth_tokenset(const struct auth *a, struct tokenset *ts)
{
	tokenset_release(ts);
	ts->expires_at = a->expires_real;
	ts->obtained_at = a->obtained_real;
	return tokenset_set(&ts->access_token, a->access_token) |
	       tokenset_set(&ts->refresh_token, a->refresh_token) |
	       tokenset_set(&ts->token_type, "Bearer") | tokenset_set(&ts->scope, a->scope) |
	       tokenset_set(&ts->token_url, a->token_url) | tokenset_set(&ts->client_id, a->client_id);
}

int auth_load_store(struct auth *a, const char *path, struct aperr *e)
{
	struct tokenset ts;
	int rc;

	if (a->kind != AUTH_NONE && a->kind != AUTH_OAUTH2)
		return aperr_set(e, EX_USAGE, "only one kind of authentication per run");
	tokenset_init(&ts);
	rc = tokenstore_read(path, &ts, e) < 0 ? -1 : adopt(a, &ts, e);
	tokenset_release(&ts);
	if (rc < 0)
		return -1;
	free(a->store_path);
	if (!(a->store_path = strdup(path)))
		return aperr_set(e, EX_OSERR, "out of memory");
	a->kind = AUTH_OAUTH2;
	return 0;
}

/*
 * A token from the store: under its lock, take a newer token another
 * process wrote, or refresh with the newest refresh token and write the
 * result back before anyone else can read the old one.
 */
static int store_token(struct auth *a, const struct auth_transport *t, struct aperr *e)
{
	struct tokenset ts;
	int fd, rc = -1;

	fd = tokenstore_lock(a->store_path, e);
	if (fd < 0)
		return -1;
	tokenset_init(&ts);
	if (tokenstore_read(a->store_path, &ts, e) < 0)
		goto out;
	if (ts.access_token && (!a->access_token || strcmp(ts.access_token, a->access_token)) &&
	    (ts.expires_at == 0 || real_now() < ts.expires_at -
					       margin_of(a, ts.expires_at - ts.obtained_at))) {
		rc = adopt(a, &ts, e);		/* another process refreshed */
		goto out;
	}
	if (adopt(a, &ts, e) < 0)
		goto out;
	if (!a->refresh_token) {
		aperr_set(e, EX_NOPERM, "%s: the access token expired and there is no refresh "
			  "token; run oauth-login again", a->store_path);
		goto out;
	}
	if (token_request(a, t, "refresh_token", NULL, e) < 0) {
		if (e->code == EX_NOPERM)
			aperr_set(e, EX_NOPERM, "%s: the refresh was refused (the grant was revoked or "
				  "expired): %s; run oauth-login again", a->store_path, e->msg);
		goto out;
	}
	if (auth_tokenset(a, &ts) < 0) {
		aperr_set(e, EX_OSERR, "out of memory");
		goto out;
	}
	rc = tokenstore_write(a->store_path, &ts, e);
out:
	tokenset_release(&ts);
	statefile_unlock(fd);
	return rc;
}

int auth_refresh_now(struct auth *a, const struct auth_transport *t, struct aperr *e)
{
	a->stale = 1;
	if (a->store_path)
		return store_token(a, t, e);
	return token_request(a, t, "refresh_token", NULL, e);
}

int auth_exchange_code(struct auth *a, const struct auth_transport *t, const char *code,
		       const char *verifier, const char *redirect_uri, struct aperr *e)
{
	const char *extra[] = { "code", code, "redirect_uri", redirect_uri, "code_verifier",
				verifier, NULL };

	return token_request(a, t, "authorization_code", extra, e);
}

/* An access token valid for at least the margin. */
static int oauth_token(struct auth *a, const struct auth_transport *t, struct aperr *e)
{
	if (token_fresh(a))
		return 0;
	if (a->store_path)
		return store_token(a, t, e);
	if (a->refresh_token) {
		if (token_request(a, t, "refresh_token", NULL, e) == 0)
			return 0;
		if (!(a->client_id && a->client_secret) && !a->jwt_alg)
			return -1;
	}
	if (a->jwt_alg)
		return token_request(a, t, "urn:ietf:params:oauth:grant-type:jwt-bearer", NULL, e);
	return token_request(a, t, "client_credentials", NULL, e);
}

int auth_apply(struct auth *a, const struct auth_transport *t, unsigned key, struct curl_slist **h,
	       struct strbuf *url, unsigned *gen, struct aperr *e)
{
	struct strbuf hdr = STRBUF_INIT;
	int rc = 0;

	switch (a->kind) {
	case AUTH_NONE:
		break;
	case AUTH_KEY_HEADER:
		strbuf_addf(&hdr, "%s: %s", a->key_name, a->keys[key < a->nkeys ? key : 0]);
		break;
	case AUTH_KEY_QUERY: {
		char *v = curl_easy_escape(NULL, a->keys[key < a->nkeys ? key : 0], 0);
		char *n = curl_easy_escape(NULL, a->key_name, 0);
		char *f = strchr(url->buf, '#');

		if (f)
			strbuf_setlen(url, (size_t)(f - url->buf));
		if (!strchr(url->buf, '?'))
			strbuf_addch(url, '?');
		else if (url->buf[url->len - 1] != '?' && url->buf[url->len - 1] != '&')
			strbuf_addch(url, '&');
		strbuf_addf(url, "%s=%s", n ? n : "", v ? v : "");
		curl_free(v);
		curl_free(n);
		break;
	}
	case AUTH_BEARER:
		strbuf_addf(&hdr, "Authorization: Bearer %s", a->bearer);
		break;
	case AUTH_BASIC:
		strbuf_addstr(&hdr, "Authorization: Basic ");
		base64_encode(&hdr, a->basic, strlen(a->basic));
		secrets_add(a->secrets, hdr.buf + 21);
		break;
	case AUTH_OAUTH2:
		if (oauth_token(a, t, e) < 0)
			rc = -1;
		else
			strbuf_addf(&hdr, "Authorization: Bearer %s", a->access_token);
		break;
	case AUTH_JWT:
		if (a->stale) {
			wipe(&a->jwt);
			a->stale = 0;
		}
		if (current_jwt(a, e) < 0)
			rc = -1;
		else
			strbuf_addf(&hdr, "Authorization: Bearer %s", a->jwt);
		break;
	}
	*gen = a->gen;
	if (rc == 0 && hdr.len)
		*h = curl_slist_append(*h, hdr.buf);
	explicit_bzero(hdr.buf, hdr.len);
	strbuf_release(&hdr);
	return rc;
}
