/*
 * webhook: verifying the signatures of pushed events.
 *
 *   github       X-Hub-Signature-256: sha256=HEX, HMAC-SHA256(secret, body)
 *   stripe       Stripe-Signature: t=TS,v1=HEX[,v1=HEX…], over "TS.body"
 *   slack        X-Slack-Signature: v0=HEX over "v0:TS:body", with
 *                X-Slack-Request-Timestamp: TS
 *   standard     Standard Webhooks: webhook-id, webhook-timestamp,
 *                webhook-signature: "v1,BASE64 …" over "id.TS.body", the
 *                key being the base64 after "whsec_"
 *   hmac-sha256  a header (X-Signature unless named) holding HEX,
 *                sha256=HEX or BASE64 of HMAC-SHA256(secret, body)
 *
 * MACs are compared in constant time; a timestamp further than tolerance
 * seconds from now (either way) is stale.  Nothing here allocates but the
 * key; nothing keeps or prints the secret.
 *
 * Thread-safety: wh_verify() and the scheme tables keep no state between
 * calls; webhook-recv's connection threads call them at once, each with
 * its own buffers.
 */
#ifndef APIPE_WEBHOOK_H
#define APIPE_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "json.h"
#include "strbuf.h"

enum wh_scheme { WH_GITHUB, WH_STRIPE, WH_SLACK, WH_STANDARD, WH_HMAC };

/* 0, or -1 (EX_USAGE) for an unknown scheme name. */
int wh_scheme_parse(const char *name, enum wh_scheme *out, struct aperr *e);
const char *wh_scheme_name(enum wh_scheme s);
/* May the scheme's events carry a body that is not JSON (forms, text)? */
int wh_allows_text(enum wh_scheme s);
/* The header that names a delivery (X-GitHub-Delivery, webhook-id), or NULL. */
const char *wh_id_header(enum wh_scheme s);

/* The HMAC key for the scheme's secret (standard: base64 after whsec_).  0 or -1. */
int wh_key(enum wh_scheme s, const char *secret, struct strbuf *key, struct aperr *e);

/* Look a request header up (case-insensitively); NULL when absent. */
typedef const char *(*wh_header_fn)(void *ctx, const char *name);

/*
 * Verify one delivery.  sig_header names the header of the hmac-sha256
 * scheme (NULL: X-Signature).  Returns 0 when the signature is good and
 * fresh, or -1 with why filled ("missing X-Hub-Signature-256", "bad
 * signature", "stale timestamp" …).
 */
int wh_verify(enum wh_scheme s, const struct strbuf *key, const char *sig_header,
	      wh_header_fn header, void *ctx, const char *body, size_t n, double now,
	      double tolerance, char *why, size_t whylen);

#endif
