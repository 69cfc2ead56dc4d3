#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* libcurl's handles as the struct types http.h names (struct Curl_easy, Curl_multi) */
#define CURL_STRICTER
#include <curl/curl.h>

#include "auth.h"
#include "clock.h"
#include "backoff.h"
#include "hash.h"
#include "http.h"
#include "jsonw.h"
#include "redact.h"
#include "url.h"
#include "json.h"

_Static_assert(HTTP_ERRBUF_SIZE >= CURL_ERROR_SIZE, "HTTP_ERRBUF_SIZE holds libcurl's error text");

struct http_client {
	struct Curl_multi *multi;
	struct http_policy pol;
	struct auth *auth;		/* not owned; may be NULL */
	struct auth_transport tr;	/* how auth's token requests go: through this client */
	struct secrets *secrets;	/* not owned */
	http_log_fn log;
	void *log_ctx;
	struct http_req **waiting;	/* submitted, not yet started */
	size_t nwaiting, awaiting;
	struct http_req **done;		/* finished, not yet handed back */
	size_t ndone, adone, done_head;
	unsigned running;
	struct quota_slot {
		long long remaining;	/* -1: unknown */
		double paused_until;
		unsigned inflight;
	} *slots;
	unsigned nslots;
	struct bucket bucket;
	double gated_since;		/* a start was held back since then (0: not) */
	struct backoff bo;		/* the backoff waits (lib/backoff: shared with the databases) */
	struct http_stats stats;
	CURL **idle;			/* transfers handed back for reuse (owned) */
	size_t nidle;
};

#define MIN_WAIT 0.01	/* no wait is shorter: a Retry-After of 0 is not a hot loop */

void http_policy_init(struct http_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->connect_timeout_ms = 10000;
	p->timeout_ms = 120000;
	p->retries = 5;
	p->retry_delay = 1;
	p->max_delay = 60;
	p->concurrency = 1;
	p->max_body = (size_t)64 << 20;
	p->compressed = 1;
	p->user_agent = "apipe/0.1.0";
}

/* The HTTP version of the final response, as the envelope names it. */
static void set_http_version(struct http_req *r, CURLcode rc)
{
	long v = 0;
	const char *s = "";

	if (rc == CURLE_OK)
		curl_easy_getinfo(r->easy, CURLINFO_HTTP_VERSION, &v);
	switch (v) {
	case CURL_HTTP_VERSION_1_0: s = "1.0"; break;
	case CURL_HTTP_VERSION_1_1: s = "1.1"; break;
	case CURL_HTTP_VERSION_2_0: s = "2"; break;
	case CURL_HTTP_VERSION_3: s = "3"; break;
	default: break;
	}
	snprintf(r->http_version, sizeof(r->http_version), "%s", s);
}

/* --- redaction ---------------------------------------------------------- */

/* --- easy handles -------------------------------------------------------- */

void http_easy_setup(CURL *easy, const struct http_policy *p)
{
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, p->connect_timeout_ms);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, p->timeout_ms);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, p->user_agent);
	if (p->compressed)
		curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(easy, CURLOPT_HTTP_VERSION,
			 p->http1 ? (long)CURL_HTTP_VERSION_1_1
			 : p->http2 == 2 ? (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
			 : p->http2 == 1 ? (long)CURL_HTTP_VERSION_2_0 : (long)CURL_HTTP_VERSION_2TLS);
	if (p->ipresolve)
		curl_easy_setopt(easy, CURLOPT_IPRESOLVE,
				 p->ipresolve == 4 ? (long)CURL_IPRESOLVE_V4 : (long)CURL_IPRESOLVE_V6);
	if (p->noproxy)
		curl_easy_setopt(easy, CURLOPT_NOPROXY, p->noproxy);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, p->insecure ? 0L : 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, p->insecure ? 0L : 2L);
	if (p->cacert)
		curl_easy_setopt(easy, CURLOPT_CAINFO, p->cacert);
	if (p->cert)
		curl_easy_setopt(easy, CURLOPT_SSLCERT, p->cert);
	if (p->key)
		curl_easy_setopt(easy, CURLOPT_SSLKEY, p->key);
	/* redirects are followed by the client, hop by hop (attempt_done) */
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct http_req *r = ud;
	size_t n = size * nmemb;

	if (r->resp_body.len + n > r->resp_body.cap || strbuf_add(&r->resp_body, data, n) < 0) {
		r->too_large = 1;
		return 0;
	}
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct http_req *r = ud;
	size_t n = size * nmemb, i, nl;
	const char *colon, *v;
	size_t vl;

	if (n >= 5 && !memcmp(data, "HTTP/", 5)) {
		/* A new response (after a 1xx or a redirect): keep only the last. */
		strbuf_reset(&r->resp_headers);
		return n;
	}
	colon = memchr(data, ':', n);
	if (!colon || colon == data)
		return n;
	nl = (size_t)(colon - data);
	v = colon + 1;
	vl = n - nl - 1;
	while (vl && (*v == ' ' || *v == '\t')) {
		v++;
		vl--;
	}
	while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ' ||
		      v[vl - 1] == '\t'))
		vl--;
	if (memchr(data, '\0', nl) || memchr(v, '\0', vl))
		return n;
	if (strbuf_grow(&r->resp_headers, nl + vl + 2) < 0)
		return n;	/* a header block past 1 MiB: keep what fits */
	for (i = 0; i < nl; i++)
		strbuf_addch(&r->resp_headers, tolower((unsigned char)data[i]));
	strbuf_addch(&r->resp_headers, '\0');
	strbuf_add(&r->resp_headers, v, vl);
	strbuf_addch(&r->resp_headers, '\0');
	return n;
}

static void logf_(struct http_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void logf_(struct http_client *c, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	if (!c->log)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	secrets_scrub(c->secrets, &sb);
	if (sb.len)
		c->log(c->log_ctx, sb.buf);
	strbuf_release(&sb);
}

int http_creds_allowed(const struct http_client *c, const struct http_req *r,
		       const char *target)
{
	struct strbuf base = STRBUF_INIT, to = STRBUF_INIT;
	int ok = 0;
	size_t i;

	if (r->cred_origin)
		strbuf_addstr(&base, r->cred_origin);
	else if (url_origin(r->url, &base) < 0)
		goto out;
	if (url_origin(target, &to) < 0)
		goto out;
	if (!strcmp(base.buf, to.buf)) {
		ok = 1;
		goto out;
	}
	if (url_is_https(base.buf) && !url_is_https(to.buf))
		goto out;	/* never downgrade, trusted or not */
	for (i = 0; i < c->pol.ntrusted && !ok; i++)
		ok = !strcmp(c->pol.trusted[i], to.buf);
out:
	strbuf_release(&base);
	strbuf_release(&to);
	return ok;
}

/* Prepare r's easy handle for one attempt.  Returns 0 or -1 (e). */
static int prepare_attempt(struct http_client *c, struct http_req *r, unsigned key,
			   struct aperr *e)
{
	struct strbuf url = STRBUF_INIT;
	struct curl_slist *h = NULL, *l;
	const char *method = r->redir_get ? "GET" : r->method ? r->method : r->has_body ? "POST" : "GET";
	const char *target = r->final_url ? r->final_url : r->url;
	int have_accept = 0, creds = http_creds_allowed(c, r, target), body = r->has_body && !r->redir_get;

	if (!r->easy && c->nidle)
		r->easy = c->idle[--c->nidle];
	if (!r->easy && !(r->easy = curl_easy_init()))
		return aperr_set(e, EX_OSERR, "cannot create a transfer");
	curl_easy_reset(r->easy);
	http_easy_setup(r->easy, &c->pol);
	r->resp_body.cap = c->pol.max_body;
	strbuf_addstr(&url, target);
	for (l = r->headers; l; l = l->next) {
		size_t nl = strcspn(l->data, ":");

		if (!strncasecmp(l->data, "accept:", 7))
			have_accept = 1;
		if (!creds && redact_header_bound(l->data, nl))
			continue;	/* a header the user added stays with its origin */
		h = curl_slist_append(h, l->data);
	}
	if (!have_accept)
		h = curl_slist_append(h, "Accept: application/json");
	if (!creds && r->redirects)
		logf_(c, "* %s is another origin: no credentials sent there", target);
	if (c->auth && !r->no_auth && creds &&
	    auth_apply(c->auth, &c->tr, key, &h, &url, &r->token_gen, e) < 0) {
		curl_slist_free_all(h);
		strbuf_release(&url);
		return -1;
	}
	curl_slist_free_all(r->sent_headers);
	r->sent_headers = h;
	free(r->sent_url);
	r->sent_url = strbuf_detach(&url, NULL);
	r->key = key;
	curl_easy_setopt(r->easy, CURLOPT_URL, r->sent_url);
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, h);
	if (r->aws_sigv4 && creds) {
		curl_easy_setopt(r->easy, CURLOPT_AWS_SIGV4, r->aws_sigv4);
		curl_easy_setopt(r->easy, CURLOPT_USERPWD, r->aws_userpwd);
	}
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	r->errbuf[0] = '\0';
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	/* a Content-Length past the cap is refused before any of the body comes */
	curl_easy_setopt(r->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->pol.max_body);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(r->easy, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") || body) {
		if (body) {
			curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE,
					 (curl_off_t)r->body.len);
			curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS,
					 r->body.buf);
		}
		if (strcmp(method, "POST") || !body)
			curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, method);
	}
	strbuf_reset(&r->resp_headers);
	strbuf_reset(&r->resp_body);
	r->too_large = 0;
	if (r->in_hop)
		r->in_hop = 0;	/* a redirect's next hop is part of the same attempt */
	else
		r->attempts++;
	c->stats.attempts++;
	if (r->attempts == 1)
		r->first_start = mono_now();
	if (c->log) {
		struct strbuf red = STRBUF_INIT;

		redact_url(&red, target, c->auth ? c->auth->key_name : NULL);
		logf_(c, "> %s %s (attempt %u)", method, red.buf, r->attempts);
		strbuf_release(&red);
	}
	return 0;
}

/* --- the client ---------------------------------------------------------- */

struct http_client *http_client_new(const struct http_policy *p, struct auth *auth,
				    struct secrets *secrets, struct aperr *e)
{
	struct http_client *c = calloc(1, sizeof(*c));
	unsigned i;

	if (!c) {
		aperr_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	c->pol = *p;
	if (!c->pol.concurrency)
		c->pol.concurrency = 1;
	c->auth = auth;
	c->secrets = secrets;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(c->multi = curl_multi_init())) {
		aperr_set(e, EX_OSERR, "cannot initialise libcurl");
		http_client_free(c);
		return NULL;
	}
	curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)c->pol.concurrency);
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)c->pol.concurrency + 4);
	curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	c->nslots = auth ? auth_nkeys(auth) : 1;
	c->slots = calloc(c->nslots, sizeof(*c->slots));
	if (!c->slots) {
		aperr_set(e, EX_OSERR, "out of memory");
		http_client_free(c);
		return NULL;
	}
	for (i = 0; i < c->nslots; i++)
		c->slots[i].remaining = -1;
	bucket_init(&c->bucket, p->rate, p->burst, mono_now());
	backoff_init(&c->bo, p->retry_delay, p->max_delay, MIN_WAIT);
	http_client_transport(c, &c->tr);
	return c;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	if (c->multi)
		curl_multi_cleanup(c->multi);
	while (c->nidle)
		curl_easy_cleanup(c->idle[--c->nidle]);
	free(c->idle);
	free(c->waiting);
	free(c->done);
	free(c->slots);
	free(c);
}

void http_client_set_log(struct http_client *c, http_log_fn log, void *ctx)
{
	c->log = log;
	c->log_ctx = ctx;
}

void http_client_release_req(struct http_client *c, struct http_req *r)
{
	size_t cap = (size_t)c->pol.concurrency + 4;

	if (r->easy && c->nidle < cap && (c->idle || (c->idle = calloc(cap, sizeof(*c->idle))))) {
		c->idle[c->nidle++] = r->easy;
		r->easy = NULL;
	}
	http_req_release(r);
}

const struct http_stats *http_client_stats(const struct http_client *c)
{
	return &c->stats;
}

static int push(struct http_req ***arr, size_t *n, size_t *alloc, struct http_req *r)
{
	if (*n == *alloc) {
		size_t na = *alloc ? *alloc * 2 : 16;
		struct http_req **nv = realloc(*arr, na * sizeof(*nv));

		if (!nv)
			return -1;
		*arr = nv;
		*alloc = na;
	}
	(*arr)[(*n)++] = r;
	return 0;
}

int http_submit(struct http_client *c, struct http_req *r, struct aperr *e)
{
	http_req_reset_result(r);
	r->not_before = 0;
	if (push(&c->waiting, &c->nwaiting, &c->awaiting, r) < 0)
		return aperr_set(e, EX_OSERR, "out of memory");
	c->stats.requests++;
	return 0;
}

static struct quota_slot *slot_of(struct http_client *c, const struct http_req *r);

void http_abandon(struct http_client *c, struct http_req *r)
{
	size_t i;

	if (r->in_multi) {
		curl_multi_remove_handle(c->multi, r->easy);
		r->in_multi = 0;
		c->running--;
		if (slot_of(c, r)->inflight)
			slot_of(c, r)->inflight--;
		c->stats.abandoned++;
		return;
	}
	for (i = 0; i < c->nwaiting; i++)
		if (c->waiting[i] == r) {
			c->waiting[i] = c->waiting[--c->nwaiting];
			c->stats.abandoned++;
			return;
		}
	for (i = c->done_head; i < c->ndone; i++)
		if (c->done[i] == r) {
			memmove(c->done + i, c->done + i + 1, (c->ndone - i - 1) * sizeof(*c->done));
			c->ndone--;
			c->stats.discarded++;
			return;
		}
}

size_t http_pending(const struct http_client *c)
{
	return c->nwaiting + c->running + (c->ndone - c->done_head);
}

static int finish(struct http_client *c, struct http_req *r)
{
	instant_now(&r->fetched_at);
	if (r->outcome == HTTP_FAILED || r->exit_code)
		c->stats.failed++;
	c->stats.status[r->status >= 100 && r->status < HTTP_STATUS_SLOTS ? r->status / 100 : 0]++;
	if (c->done_head && c->done_head == c->ndone)
		c->ndone = c->done_head = 0;
	return push(&c->done, &c->ndone, &c->adone, r);
}

static void fail(struct http_req *r, int code, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fail(struct http_req *r, int code, const char *kind, const char *fmt, ...)
{
	va_list ap;

	r->exit_code = code;
	snprintf(r->error_kind, sizeof(r->error_kind), "%s", kind);
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
}

/* Choose the key (quota slot) for the next start: -1 when all are paused. */
static int pick_slot(struct http_client *c, double now, double *until)
{
	int best = -1;
	unsigned i;

	*until = 0;
	for (i = 0; i < c->nslots; i++) {
		struct quota_slot *s = &c->slots[i];

		if (s->paused_until > now) {
			if (*until == 0 || s->paused_until < *until)
				*until = s->paused_until;
			continue;
		}
		if (s->paused_until != 0) {
			/* The window has reset. */
			s->paused_until = 0;
			s->remaining = -1;
		}
		if (best < 0) {
			best = (int)i;
			continue;
		}
		{
			struct quota_slot *b = &c->slots[best];
			long long rs = s->remaining < 0 ? LLONG_MAX : s->remaining;
			long long rb = b->remaining < 0 ? LLONG_MAX : b->remaining;

			if (rs > rb || (rs == rb && s->inflight < b->inflight))
				best = (int)i;
		}
	}
	return best;
}

/* Start what may start now; *wake is when something else may. */
static int start_ready(struct http_client *c, double now, double *wake, struct aperr *e)
{
	size_t i;

	*wake = 0;
	while (c->running < c->pol.concurrency && c->nwaiting) {
		size_t pick = c->nwaiting;
		double until, b = 0;
		struct http_req *r;
		int slot;

		/* The earliest-submitted request that is due. */
		for (i = 0; i < c->nwaiting; i++) {
			if (c->waiting[i]->not_before <= now &&
			    (pick == c->nwaiting || c->waiting[i]->seq < c->waiting[pick]->seq))
				pick = i;
			else if (c->waiting[i]->not_before > now &&
				 (*wake == 0 || c->waiting[i]->not_before < *wake))
				*wake = c->waiting[i]->not_before;
		}
		if (pick == c->nwaiting)
			break;
		slot = pick_slot(c, now, &until);
		if (slot < 0 || (b = bucket_take(&c->bucket, now)) > 0) {
			double w = slot < 0 ? until : now + b;

			if (c->gated_since == 0)
				c->gated_since = now;
			if (*wake == 0 || w < *wake)
				*wake = w;
			return 0;
		}
		if (c->gated_since != 0) {
			c->stats.throttle_ms += (now - c->gated_since) * 1000;
			c->gated_since = 0;
		}
		r = c->waiting[pick];
		c->waiting[pick] = c->waiting[--c->nwaiting];
		if (prepare_attempt(c, r, (unsigned)slot, e) < 0) {
			if (e->code == EX_NOPERM || e->code == EX_TEMPFAIL || e->code == EX_UNAVAILABLE) {
				/* The credentials cannot be had: this request fails. */
				r->outcome = HTTP_FAILED;
				fail(r, e->code, "auth", "%s", e->msg);
				if (finish(c, r) < 0)
					return aperr_set(e, EX_OSERR, "out of memory");
				continue;
			}
			return -1;
		}
		if (c->slots[slot].remaining > 0)
			c->slots[slot].remaining--;
		c->slots[slot].inflight++;
		if (curl_multi_add_handle(c->multi, r->easy) != CURLM_OK)
			return aperr_set(e, EX_OSERR, "cannot start a transfer");
		r->in_multi = 1;
		c->running++;
	}
	return 0;
}

static int retryable_status(long s)
{
	return s == 408 || s == 425 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

static const char *curl_kind(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT: return "timeout";
	case CURLE_COULDNT_RESOLVE_HOST: case CURLE_COULDNT_RESOLVE_PROXY: return "resolve";
	case CURLE_COULDNT_CONNECT: return "connect";
	case CURLE_GOT_NOTHING: case CURLE_RECV_ERROR: case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE: case CURLE_HTTP2: case CURLE_HTTP2_STREAM:
	case CURLE_BAD_CONTENT_ENCODING:
		return "connection";
	case CURLE_PEER_FAILED_VERIFICATION: case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM: case CURLE_SSL_CIPHER: case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR: case CURLE_SSL_CRL_BADFILE: case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_CLIENTCERT:
		return "tls";
	case CURLE_FILESIZE_EXCEEDED: return "too-large";
	case CURLE_UNSUPPORTED_PROTOCOL: case CURLE_URL_MALFORMAT: return "url";
	case CURLE_TOO_MANY_REDIRECTS: return "redirects";
	default: return "transfer";
	}
}

/*
 * A server that ends the TLS handshake with an alert about certificates
 * (one it requires, or does not accept) refuses this client: no retry
 * changes that, whatever transport error libcurl reports it as.
 */
static int tls_refusal(CURLcode rc, const char *errbuf)
{
	static const char *const alerts[] = {
		"alert certificate required", "alert handshake failure", "alert bad certificate",
		"alert unknown ca", "alert access denied", "alert certificate unknown",
		"alert unsupported certificate", "alert certificate revoked",
		"alert certificate expired", NULL
	};
	const char *const *a;

	if (rc == CURLE_SSL_CLIENTCERT)
		return 1;
	for (a = alerts; *a; a++)
		if (strcasestr(errbuf, *a))
			return 1;
	return 0;
}

static int curl_retryable(CURLcode rc)
{
	const char *k = curl_kind(rc);

	return !strcmp(k, "timeout") || !strcmp(k, "resolve") || !strcmp(k, "connect") ||
	       !strcmp(k, "connection");
}

/*
 * A refused connection or an unknown host while no server of the run has
 * answered yet: a mistake no retry can fix (curl does not retry these
 * either), unless --retry-connrefused asks to wait for a server.
 */
static int first_contact(const struct http_client *c, CURLcode rc)
{
	size_t i;

	if (c->pol.retry_first || (rc != CURLE_COULDNT_CONNECT && rc != CURLE_COULDNT_RESOLVE_HOST))
		return 0;
	for (i = 0; i < HTTP_STATUS_SLOTS; i++)
		if (c->stats.by_status[i])
			return 0;
	return 1;
}

/* The quota slot (API key) r's last attempt used. */
static struct quota_slot *slot_of(struct http_client *c, const struct http_req *r)
{
	return &c->slots[r->key < c->nslots ? r->key : 0];
}

/* Update r's quota slot from the response's rate-limit headers. */
static void note_quota(struct http_client *c, struct http_req *r, double now, struct rl_info *ri)
{
	struct quota_slot *s = slot_of(c, r);
	const char *p = r->resp_headers.buf, *end = p + r->resp_headers.len;
	double rn = real_now();

	rl_info_init(ri);
	while (p && p < end) {
		const char *v = p + strlen(p) + 1;

		rl_info_header(ri, p, v, strlen(v), rn);
		p = v + strlen(v) + 1;
	}
	if (ri->have_remaining) {
		s->remaining = ri->remaining - (long long)s->inflight;
		if (s->remaining < 0)
			s->remaining = 0;
		if (s->remaining <= c->pol.min_remaining && s->paused_until == 0) {
			double wait = ri->have_reset ? ri->reset_in : c->pol.retry_delay;

			if (wait < MIN_WAIT)
				wait = MIN_WAIT;
			if (wait > c->pol.max_delay)
				wait = c->pol.max_delay;
			s->paused_until = now + wait;
			c->stats.quota_ms += wait * 1000;
			logf_(c, "* quota: %lld left, waiting %.3f s for the window to reset",
			      ri->remaining, wait);
		}
	}
}

/*
 * Schedule r again after delay seconds, or finish it when the budget says
 * no: then the error kind is spent, "retry-budget" after a status, the
 * transport's kind ("timeout", "connect", …) after a transfer error.
 */
static int retry_or_give_up(struct http_client *c, struct http_req *r, double now,
			    double ra, int have_ra, const struct rl_info *ri, const char *why,
			    const char *spent)
{
	double delay, cap = c->pol.max_delay;
	const char *reason;

	if (r->retries_used >= c->pol.retries) {
		fail(r, EX_TEMPFAIL, spent, "%s; gave up after %u attempts", why,
		     r->attempts);
		return 1;
	}
	if (have_ra) {
		if (ra > cap) {
			fail(r, EX_TEMPFAIL, "retry-after",
			     "%s; the server asked to wait %.3f s, more than --max-delay %.3f s",
			     why, ra, cap);
			return 1;
		}
		delay = ra;
		reason = "retry-after";
	} else if (r->status == 429 && ri->have_remaining && ri->remaining <= 0 && ri->have_reset &&
		   ri->reset_in > 0) {
		if (ri->reset_in > cap) {
			fail(r, EX_TEMPFAIL, "rate-limit",
			     "%s; the quota resets in %.3f s, more than --max-delay %.3f s", why,
			     ri->reset_in, cap);
			return 1;
		}
		delay = ri->reset_in;
		reason = "rate-limit";
	} else {
		delay = backoff_delay(&c->bo, r->retries_used);	/* --retry-delay, --max-delay */
		reason = "backoff";
	}
	{
		double floor = c->pol.retry_delay / 10;

		if (floor < MIN_WAIT)
			floor = MIN_WAIT;
		if (delay < floor)
			delay = floor;
	}
	if (c->pol.retry_max_time > 0 && now + delay - r->first_start > c->pol.retry_max_time) {
		fail(r, EX_TEMPFAIL, spent,
		     "%s; a retry in %.3f s would pass --retry-max-time %.3f s", why, delay,
		     c->pol.retry_max_time);
		return 1;
	}
	r->retries_used++;
	c->stats.retries++;
	r->waited_ms += delay * 1000;
	if (!strcmp(reason, "retry-after"))
		c->stats.retry_after_ms += delay * 1000;
	else if (!strcmp(reason, "rate-limit"))
		c->stats.quota_ms += delay * 1000;
	else
		c->stats.backoff_ms += delay * 1000;
	logf_(c, "* %s: retry %u in %.3f s (%s)", why, r->retries_used, delay, reason);
	r->not_before = now + delay;
	return 0;
}

/* One attempt of r ended with rc: finish it or schedule another. */
static int attempt_done(struct http_client *c, struct http_req *r, CURLcode rc, struct aperr *e)
{
	double now = mono_now(), ra = 0;
	struct rl_info ri;
	int have_ra = 0, give_up = 0;
	long status = 0;
	curl_off_t total = 0;
	char why[512];
	size_t n;
	const char *v;

	curl_multi_remove_handle(c->multi, r->easy);
	r->in_multi = 0;
	c->running--;
	if (slot_of(c, r)->inflight)
		slot_of(c, r)->inflight--;
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	set_http_version(r, rc);
	curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME_T, &total);
	r->elapsed_ms = (double)total / 1000;
	r->status = rc == CURLE_OK ? status : 0;
	if (rc == CURLE_OK && status > 0 && status < HTTP_STATUS_SLOTS)
		c->stats.by_status[status]++;
	note_quota(c, r, now, &ri);
	if ((v = http_req_header(r, "retry-after", &n)) &&
	    retry_after_parse(v, n, real_now(), &ra) == 0)
		have_ra = 1;

	if (rc != CURLE_OK) {
		if (r->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
			r->outcome = HTTP_FAILED;
			/* refused, not kept: no part of a body over the cap is written */
			strbuf_reset(&r->resp_body);
			fail(r, EX_DATAERR, "too-large", "the response body exceeds --max-body %zu bytes%s",
			     c->pol.max_body, r->too_large ? "" : " (its Content-Length says so)");
			give_up = 1;
		} else {
			int refused = tls_refusal(rc, r->errbuf);

			/* libcurl's own reason (the certificate's problem, the alert) when it has one */
			if (r->errbuf[0])
				snprintf(why, sizeof(why), "%s: %s", curl_easy_strerror(rc), r->errbuf);
			else
				snprintf(why, sizeof(why), "%s", curl_easy_strerror(rc));
			logf_(c, "< %s (attempt %u)", why, r->attempts);
			if (refused) {
				fail(r, EX_UNAVAILABLE, "tls", "%s", why);
				give_up = 1;
			} else if (first_contact(c, rc)) {
				/* nothing of the run has answered yet: a typo, not a blip */
				fail(r, EX_UNAVAILABLE, curl_kind(rc), "%s (no server of this run has "
				     "answered yet, so it is not retried; check the URL, or give "
				     "--retry-connrefused to wait for a server that is starting)", why);
				give_up = 1;
			} else if (curl_retryable(rc)) {
				give_up = retry_or_give_up(c, r, now, 0, 0, &ri, why,
							   curl_kind(rc));
			} else {
				fail(r, EX_UNAVAILABLE, curl_kind(rc), "%s", why);
				give_up = 1;
			}
			if (give_up)
				r->outcome = HTTP_FAILED;
		}
	} else {
		char *loc = NULL;

		logf_(c, "< %ld (%.0f ms, attempt %u)", status, r->elapsed_ms, r->attempts);
		c->stats.bytes += r->resp_body.len;
		if (c->pol.follow && !r->no_auth &&
		    (status == 301 || status == 302 || status == 303 || status == 307 ||
		     status == 308) &&
		    curl_easy_getinfo(r->easy, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc) {
			char *to;

			if (r->redirects >= 20) {
				fail(r, EX_UNAVAILABLE, "redirects", "more than 20 redirects");
				give_up = 1;
			} else if (!(to = strdup(loc))) {
				return aperr_set(e, EX_OSERR, "out of memory");
			} else {
				free(r->final_url);
				r->final_url = to;
				r->redirects++;
				r->in_hop = 1;
				if (status == 303 || ((status == 301 || status == 302) && r->has_body &&
						      (!r->method || !strcmp(r->method, "POST"))))
					r->redir_get = 1;
				r->not_before = now;
				if (push(&c->waiting, &c->nwaiting, &c->awaiting, r) < 0)
					return aperr_set(e, EX_OSERR, "out of memory");
				return 0;
			}
		} else if (status == 401 && c->auth && !r->no_auth && auth_refreshable(c->auth) &&
		    !r->reauthed) {
			r->reauthed = 1;
			c->stats.reauths++;
			auth_invalidate(c->auth, r->token_gen);
			r->not_before = now;
			logf_(c, "* 401: getting a new token and trying once more");
		} else if (retryable_status(status)) {
			snprintf(why, sizeof(why), "HTTP %ld", status);
			give_up = retry_or_give_up(c, r, now, ra, have_ra, &ri, why,
						   "retry-budget");
		} else {
			give_up = 1;
			if (status >= 400)
				fail(r, EX_UNAVAILABLE, "http", "HTTP %ld", status);
		}
	}
	if (give_up) {
		secrets_scrub_str(c->secrets, r->error);
		if (finish(c, r) < 0)
			return aperr_set(e, EX_OSERR, "out of memory");
		return 0;
	}
	if (push(&c->waiting, &c->nwaiting, &c->awaiting, r) < 0)
		return aperr_set(e, EX_OSERR, "out of memory");
	return 0;
}

struct http_req *http_next(struct http_client *c, int watch_fd, int *failed, struct aperr *e)
{
	*failed = 0;
	for (;;) {
		struct curl_waitfd wfd;
		double now, wake;
		int still, nmsg, timeout, numfds = 0;
		CURLMsg *m;

		if (c->done_head < c->ndone)
			return c->done[c->done_head++];
		if (!c->nwaiting && !c->running)
			return NULL;
		now = mono_now();
		if (start_ready(c, now, &wake, e) < 0) {
			*failed = 1;
			return NULL;
		}
		if (c->done_head < c->ndone)
			continue;
		curl_multi_perform(c->multi, &still);
		while ((m = curl_multi_info_read(c->multi, &nmsg))) {
			struct http_req *r = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
			if (attempt_done(c, r, m->data.result, e) < 0) {
				*failed = 1;
				return NULL;
			}
		}
		if (c->done_head < c->ndone)
			continue;
		timeout = 1000;
		if (wake != 0) {
			double ms = (wake - mono_now()) * 1000;

			if (ms < 1) {
				timeout = 1;
			} else if (ms < timeout) {
				double up = ceil(ms);	/* whole milliseconds, never early */

				timeout = (int)up;
			}
		}
		if (!c->running && c->nwaiting && wake == 0)
			timeout = 1;
		wfd.fd = watch_fd;
		wfd.events = CURL_WAIT_POLLIN;
		wfd.revents = 0;
		curl_multi_poll(c->multi, watch_fd >= 0 ? &wfd : NULL, watch_fd >= 0 ? 1 : 0,
				timeout, &numfds);
		if (watch_fd >= 0 && wfd.revents)
			return NULL;
	}
}

static int perform_for_auth(void *ctx, struct http_req *r, struct aperr *e)
{
	return http_perform_one(ctx, r, e);
}

void http_client_transport(struct http_client *c, struct auth_transport *t)
{
	t->perform = perform_for_auth;
	t->ctx = c;
}

int http_perform_one(struct http_client *c, struct http_req *r, struct aperr *e)
{
	http_req_reset_result(r);
	for (;;) {
		CURLcode rc;
		double now;

		if (prepare_attempt(c, r, 0, e) < 0)
			return -1;
		/* Token requests carry their own credentials, not the run's. */
		rc = curl_easy_perform(r->easy);
		c->running++;
		c->slots[0].inflight++;
		if (attempt_done(c, r, rc, e) < 0)
			return -1;
		if (c->ndone > c->done_head && c->done[c->ndone - 1] == r) {
			c->ndone--;
			return 0;
		}
		/* Scheduled for another attempt: wait here. */
		c->nwaiting--;
		now = mono_now();
		if (r->not_before > now)
			backoff_sleep(r->not_before - now);
	}
}

void http_stats_json(const struct http_client *c, struct jsonw *w)
{
	const struct http_stats *s = &c->stats;

	jw_member_u64(w, "abandoned", s->abandoned);
	jw_member_u64(w, "discarded", s->discarded);
	jw_member_u64(w, "attempts", s->attempts);
	jw_member_u64(w, "retries", s->retries);
	jw_member_u64(w, "reauths", s->reauths);
	jw_member_u64(w, "token_refreshes", c->auth ? c->auth->refreshes : 0);
	jw_member_u64(w, "bytes", s->bytes);
	jw_key(w, "responses");
	jw_counts(w, s->by_status, HTTP_STATUS_SLOTS);
	jw_key(w, "retry_after_ms");
	jw_fixed(w, s->retry_after_ms, 0);
	jw_key(w, "backoff_ms");
	jw_fixed(w, s->backoff_ms, 0);
	jw_key(w, "quota_ms");
	jw_fixed(w, s->quota_ms, 0);
	jw_key(w, "throttle_ms");
	jw_fixed(w, s->throttle_ms, 0);
}

int http_headers_copy(struct curl_slist **dst, const struct curl_slist *src)
{
	for (; src; src = src->next) {
		struct curl_slist *n = curl_slist_append(*dst, src->data);

		if (!n)
			return -1;
		*dst = n;
	}
	return 0;
}

int http_headers_sensitive(const struct curl_slist *h)
{
	for (; h; h = h->next)
		if (redact_header_bound(h->data, strcspn(h->data, ":")))
			return 1;
	return 0;
}

void http_global_cleanup(void)
{
	curl_global_cleanup();
}
