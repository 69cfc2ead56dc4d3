#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base64.h"
#include "webhook.h"

static const char *const names[] = { "github", "stripe", "slack", "standard", "hmac-sha256" };

int wh_scheme_parse(const char *name, enum wh_scheme *out, struct aperr *e)
{
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (!strcmp(name, names[i])) {
			*out = (enum wh_scheme)i;
			return 0;
		}
	return aperr_set(e, EX_USAGE, "--scheme: '%s' is not github, stripe, slack, standard or "
			 "hmac-sha256", name);
}

const char *wh_scheme_name(enum wh_scheme s)
{
	return (unsigned)s < sizeof(names) / sizeof(*names) ? names[s] : "?";
}

int wh_allows_text(enum wh_scheme s)
{
	/* GitHub may send form-encoded payloads, Slack slash commands are forms */
	return s == WH_GITHUB || s == WH_SLACK || s == WH_HMAC;
}

const char *wh_id_header(enum wh_scheme s)
{
	switch (s) {
	case WH_GITHUB: return "X-GitHub-Delivery";
	case WH_STANDARD: return "webhook-id";
	case WH_HMAC: return "X-Delivery-Id";
	default: return NULL;
	}
}

int wh_key(enum wh_scheme s, const char *secret, struct strbuf *key, struct aperr *e)
{
	strbuf_reset(key);
	if (s == WH_STANDARD) {
		const char *b = strncmp(secret, "whsec_", 6) ? secret : secret + 6;

		if (base64_decode(key, b, strlen(b)) < 0 || !key->len)
			return aperr_set(e, EX_CONFIG, "--secret: a Standard Webhooks secret is "
					 "whsec_ followed by base64");
		return 0;
	}
	if (!*secret)
		return aperr_set(e, EX_CONFIG, "--secret: empty");
	return strbuf_addstr(key, secret) < 0 ? aperr_set(e, EX_OSERR, "out of memory") : 0;
}

/* HMAC-SHA256 of the prefix strings (a NULL-terminated list) followed by the body. */
static void mac(const struct strbuf *key, unsigned char out[32], const char *body, size_t n, ...)
{
	struct strbuf m = STRBUF_INIT;
	unsigned int outlen = 32;
	const char *part;
	va_list ap;

	strbuf_init(&m, (size_t)-1);
	va_start(ap, n);
	while ((part = va_arg(ap, const char *)))
		strbuf_addstr(&m, part);
	va_end(ap);
	strbuf_add(&m, body, n);
	if (!HMAC(EVP_sha256(), key->buf, (int)key->len, (const unsigned char *)(m.buf),
		  m.len, out, &outlen))
		memset(out, 0, 32);
	strbuf_release(&m);
}

/* Hex (exactly 64 digits) into 32 bytes.  0 or -1. */
static int unhex(const char *s, size_t n, unsigned char out[32])
{
	size_t i;

	if (n != 64)
		return -1;
	for (i = 0; i < 64; i++) {
		int c = s[i], v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
				: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (v < 0)
			return -1;
		if (i % 2)
			out[i / 2] = (unsigned char)(out[i / 2] | v);
		else
			out[i / 2] = (unsigned char)(v << 4);
	}
	return 0;
}

/* Does the hex or base64 text s[0..n) hold the MAC want?  Constant time on the MAC. */
static int matches(const char *s, size_t n, const unsigned char want[32], int b64)
{
	unsigned char got[32];
	int ok;

	if (b64) {
		struct strbuf d = STRBUF_INIT;

		ok = base64_decode(&d, s, n) == 0 && d.len == 32;
		if (ok)
			memcpy(got, d.buf, 32);
		strbuf_release(&d);
		if (!ok)
			return 0;
	} else if (unhex(s, n, got) < 0) {
		return 0;
	}
	return CRYPTO_memcmp(got, want, 32) == 0;
}

/* A Unix timestamp header: 0 fresh, -1 (why) missing, malformed or stale. */
static int fresh(const char *ts, const char *name, double now, double tolerance, char *why,
		 size_t wl)
{
	char *end;
	double t;

	if (!ts || !*ts) {
		snprintf(why, wl, "missing %s timestamp", name);
		return -1;
	}
	t = strtod(ts, &end);
	if (*end || end == ts || strspn(ts, "0123456789") != strlen(ts)) {
		snprintf(why, wl, "malformed %s timestamp", name);
		return -1;
	}
	if (tolerance > 0 && (t < now - tolerance || t > now + tolerance)) {
		snprintf(why, wl, "stale timestamp (%.0f s from now, tolerance %.0f s)", t - now,
			 tolerance);
		return -1;
	}
	return 0;
}

static int fail(char *why, size_t wl, const char *msg)
{
	snprintf(why, wl, "%s", msg);
	return -1;
}

int wh_verify(enum wh_scheme s, const struct strbuf *key, const char *sig_header,
	      wh_header_fn header, void *ctx, const char *body, size_t n, double now,
	      double tolerance, char *why, size_t wl)
{
	unsigned char want[32];
	const char *sig, *ts, *id;

	switch (s) {
	case WH_GITHUB:
		sig = header(ctx, "X-Hub-Signature-256");
		if (!sig)
			return fail(why, wl, "missing X-Hub-Signature-256");
		if (strncmp(sig, "sha256=", 7))
			return fail(why, wl, "X-Hub-Signature-256 is not sha256=HEX");
		mac(key, want, body, n, (char *)NULL);
		return matches(sig + 7, strlen(sig + 7), want, 0) ? 0 : fail(why, wl, "bad signature");
	case WH_STRIPE: {
		const char *p;
		char tbuf[32] = "";
		int any = 0, ok = 0;

		sig = header(ctx, "Stripe-Signature");
		if (!sig)
			return fail(why, wl, "missing Stripe-Signature");
		for (p = sig; *p;) {
			size_t l = strcspn(p, ",");

			while (l && *p == ' ') {
				p++;
				l--;
			}
			if (l > 2 && !strncmp(p, "t=", 2) && l - 2 < sizeof(tbuf)) {
				memcpy(tbuf, p + 2, l - 2);
				tbuf[l - 2] = '\0';
			}
			p += l;
			if (*p == ',')
				p++;
		}
		if (fresh(tbuf, "Stripe-Signature", now, tolerance, why, wl) < 0)
			return -1;
		mac(key, want, body, n, tbuf, ".", (char *)NULL);
		for (p = sig; *p;) {
			size_t l = strcspn(p, ",");

			while (l && *p == ' ') {
				p++;
				l--;
			}
			if (l > 3 && !strncmp(p, "v1=", 3)) {
				any = 1;
				ok |= matches(p + 3, l - 3, want, 0);
			}
			p += l;
			if (*p == ',')
				p++;
		}
		if (!any)
			return fail(why, wl, "Stripe-Signature has no v1 signature");
		return ok ? 0 : fail(why, wl, "bad signature");
	}
	case WH_SLACK:
		sig = header(ctx, "X-Slack-Signature");
		ts = header(ctx, "X-Slack-Request-Timestamp");
		if (!sig)
			return fail(why, wl, "missing X-Slack-Signature");
		if (strncmp(sig, "v0=", 3))
			return fail(why, wl, "X-Slack-Signature is not v0=HEX");
		if (fresh(ts, "X-Slack-Request-Timestamp", now, tolerance, why, wl) < 0)
			return -1;
		mac(key, want, body, n, "v0:", ts, ":", (char *)NULL);
		return matches(sig + 3, strlen(sig + 3), want, 0) ? 0 : fail(why, wl, "bad signature");
	case WH_STANDARD: {
		const char *p;
		int ok = 0, any = 0;

		id = header(ctx, "webhook-id");
		ts = header(ctx, "webhook-timestamp");
		sig = header(ctx, "webhook-signature");
		if (!id || !*id)
			return fail(why, wl, "missing webhook-id");
		if (!sig)
			return fail(why, wl, "missing webhook-signature");
		if (fresh(ts, "webhook-timestamp", now, tolerance, why, wl) < 0)
			return -1;
		mac(key, want, body, n, id, ".", ts, ".", (char *)NULL);
		for (p = sig; *p;) {
			size_t l = strcspn(p, " ");

			if (l > 3 && !strncmp(p, "v1,", 3)) {
				any = 1;
				ok |= matches(p + 3, l - 3, want, 1);
			}
			p += l;
			while (*p == ' ')
				p++;
		}
		if (!any)
			return fail(why, wl, "webhook-signature has no v1 signature");
		return ok ? 0 : fail(why, wl, "bad signature");
	}
	case WH_HMAC: {
		const char *name = sig_header ? sig_header : "X-Signature";
		size_t l;

		sig = header(ctx, name);
		if (!sig) {
			snprintf(why, wl, "missing %s", name);
			return -1;
		}
		if (!strncasecmp(sig, "sha256=", 7))
			sig += 7;
		l = strlen(sig);
		mac(key, want, body, n, (char *)NULL);
		return matches(sig, l, want, l != 64) ? 0 : fail(why, wl, "bad signature");
	}
	}
	return fail(why, wl, "unknown scheme");
}
