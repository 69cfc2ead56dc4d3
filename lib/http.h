/*
 * http: requests with retries, rate limits and auth, many at a time.
 *
 * A struct http_client drives libcurl's multi interface: connections are
 * reused, HTTP/2 is used where offered, compressed responses are accepted
 * and connect and total timeouts are always set.  The caller submits
 * requests and takes finished ones back; in between the client retries
 * what is worth retrying (timeouts, connection errors, 408, 425, 429, 500,
 * 502, 503, 504 -- never another 4xx) with exponential backoff and full
 * jitter, honours Retry-After and rate-limit headers, keeps a token bucket,
 * rotates API keys by remaining quota, and refreshes OAuth2 tokens (once
 * more on a 401).
 *
 * Credentials (auth, and sensitive headers of the request) go only to the
 * request's credential origin (cred_origin, else the origin of url) and to
 * the policy's trusted origins, never from https to http.  Redirects (with
 * policy.follow) are followed here, hop by hop, under that rule: a hop to
 * another origin is made without them.  Token requests never follow one.
 *
 * Ownership: the caller allocates a struct http_req, fills the request
 * part (http_req_init, then url/method/headers/body) and passes it to
 * http_submit(); the client holds it until http_next() hands it back with
 * the result part filled.  http_req_release() frees what the request owns.
 * Secrets never reach the result: URLs, messages and log lines are
 * scrubbed through the client's struct secrets.
 */
#ifndef APIPE_HTTP_H
#define APIPE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "httpstatus.h"
#include "instant.h"
#include "ratelimit.h"
#include "secret.h"
#include "strbuf.h"

/*
 * libcurl's handles and header list, named but not defined here: only the
 * HTTP client modules (http.c, httpcli.c, auth.c, s3.c) include libcurl's header.
 */
struct Curl_easy;
struct Curl_multi;
struct curl_slist;
/* Room for libcurl's error text (CURL_ERROR_SIZE; http.c checks that it fits). */
#define HTTP_ERRBUF_SIZE 256

struct auth;
struct auth_transport;

struct http_policy {
	long connect_timeout_ms;	/* default 10 s */
	long timeout_ms;		/* whole attempt, default 120 s */
	unsigned retries;		/* retries after the first attempt, default 5 */
	double retry_delay;		/* backoff base in seconds, default 1 */
	double max_delay;		/* cap on any one wait, default 60 s */
	double retry_max_time;		/* give up retrying after this many seconds; 0: no limit */
	long long min_remaining;	/* throttle when a quota falls to this, default 0 */
	double rate, burst;		/* token bucket; rate 0: off */
	unsigned concurrency;		/* transfers at once, default 1 */
	size_t max_body;		/* response body cap, default 64 MiB */
	int compressed;			/* ask for gzip/deflate/br, default on */
	int insecure;			/* do not verify TLS */
	int follow;			/* follow redirects (20 at most) */
	char *const *trusted;		/* origins credentials may also go to (url_origin form) */
	size_t ntrusted;
	int http1;			/* HTTP/1.1 only */
	int http2;			/* 1: HTTP/2 also over plain http (upgrade); 2: HTTP/2 with
					 * prior knowledge (no upgrade) */
	int ipresolve;			/* 4 or 6: that IP version only; 0: either */
	const char *noproxy;		/* hosts no proxy is used for (curl's --noproxy) */
	int retry_first;		/* retry a refused connection or an unknown host
					 * before any server of the run has answered */
	const char *cert, *key, *cacert;	/* client certificate, its key, CA bundle */
	const char *user_agent;
};

void http_policy_init(struct http_policy *p);

enum http_outcome {
	HTTP_OK,		/* a final response; status says which */
	HTTP_FAILED		/* no usable response: error_kind and error says why */
};

struct http_req {
	/* The request: set by the caller, owned by the request. */
	char *method;			/* NULL: GET, or POST when there is a body */
	char *url;
	char *cred_origin;		/* where the run's credentials may go; NULL: url's origin */
	struct curl_slist *headers;	/* "Name: value" lines */
	struct strbuf body;
	int has_body;
	int no_auth;			/* do not add the run's credentials */
	/*
	 * AWS Signature Version 4 (lib/s3): libcurl's CURLOPT_AWS_SIGV4
	 * parameter and "key id:secret", both borrowed; sent only where the
	 * run's credentials may go.  The payload's hash is the caller's
	 * x-amz-content-sha256 header.
	 */
	const char *aws_sigv4, *aws_userpwd;
	uint64_t seq;
	void *udata;

	/* The result, filled by the client. */
	char *final_url;		/* the last redirect's target; NULL: not redirected */
	unsigned redirects;
	enum http_outcome outcome;
	long status;			/* final HTTP status, 0 when none */
	char http_version[4];		/* of the final response: "1.0", "1.1", "2", "3"; "" when none */
	struct strbuf resp_headers;	/* "name\0value\0" pairs, names lowercased */
	struct strbuf resp_body;
	unsigned attempts;
	double elapsed_ms;		/* the final attempt */
	double waited_ms;		/* total wait before retries */
	struct instant fetched_at;	/* when the final response ended */
	int exit_code;			/* EX_* when the request finally failed, else 0 */
	char error_kind[24];		/* "timeout", "connection", "tls", "retry-budget", … */
	char error[512];		/* scrubbed message */

	/* Private to the client. */
	struct Curl_easy *easy;
	char errbuf[HTTP_ERRBUF_SIZE];	/* libcurl's detailed reason for the last failure */
	struct curl_slist *sent_headers;
	char *sent_url;
	double first_start, not_before;
	unsigned retries_used, token_gen, key;
	int reauthed, too_large, in_header_block, in_multi;
	int redir_get;			/* a 303 (or a 301/302 after POST) turned it into a GET */
	int in_hop;			/* the next start is a redirect's hop, not an attempt */
};

void http_req_init(struct http_req *r);
void http_req_release(struct http_req *r);
/* Clear the result part so the request can be submitted again. */
void http_req_reset_result(struct http_req *r);
/*
 * The value of response header name (lowercase), or NULL; *n its length.
 * The first field line only: for fields that hold one value (Retry-After,
 * Content-Type).
 */
const char *http_req_header(const struct http_req *r, const char *name, size_t *n);
/*
 * Every field line of response header name (lowercase), joined with ", "
 * into out (reset first), as RFC 9110 5.3 combines them: 1, or 0 when the
 * response has none.  For list fields (Link) and any lookup that must not
 * miss a second line.
 */
int http_req_header_all(const struct http_req *r, const char *name, struct strbuf *out);

struct http_stats {
	uint64_t requests, attempts, retries, reauths, failed;
	/*
	 * Requests given up by the program (http_abandon): still in flight or
	 * waiting (abandoned: no response), or answered but not yet taken
	 * (discarded: their responses are counted).  Every request submitted is
	 * taken by http_next, or one of these.
	 */
	uint64_t abandoned, discarded;
	uint64_t bytes;			/* response body bytes received */
	uint64_t status[6];		/* final responses by class: 1xx … 5xx, [0] none */
	uint64_t by_status[HTTP_STATUS_SLOTS];	/* every response (all attempts) by status */
	double retry_after_ms;		/* waits the server asked for (Retry-After) */
	double backoff_ms;		/* waits chosen by the backoff policy */
	double quota_ms;		/* waits for a rate-limit window to reset */
	double throttle_ms;		/* time starts were held back by --rate or quotas */
};

typedef void (*http_log_fn)(void *ctx, const char *line);

/* The client: opaque; made by http_client_new(), freed by http_client_free(). */
struct http_client;
/*
 * http_req_release(r) for a request c handed back, keeping its transfer
 * handle for c's next request (up to concurrency + 4 of them): creating
 * and freeing one per request is much of a small request's cost.
 */
void http_client_release_req(struct http_client *c, struct http_req *r);

/*
 * A new client with policy p.  auth may be NULL; auth and secrets must
 * outlive the client.  NULL (with e) on failure.
 */
struct http_client *http_client_new(const struct http_policy *p, struct auth *auth,
				    struct secrets *secrets, struct aperr *e);
/* Free the client (NULL: nothing); its requests stay the callers'. */
void http_client_free(struct http_client *c);
/* Where each verbose line goes (log(ctx, line)); NULL: nowhere. */
void http_client_set_log(struct http_client *c, http_log_fn log, void *ctx);
/* The client's counters so far. */
const struct http_stats *http_client_stats(const struct http_client *c);
/* Hand r to the client; it comes back from http_next(). */
int http_submit(struct http_client *c, struct http_req *r, struct aperr *e);
/*
 * Take r back before it finished (a transfer no longer wanted): it is
 * stopped, forgotten by the client and never handed back by http_next();
 * ownership returns to the caller at once.
 */
void http_abandon(struct http_client *c, struct http_req *r);
/* Requests submitted and not yet handed back. */
size_t http_pending(const struct http_client *c);
/*
 * Run transfers until a request finishes and return it (ownership goes
 * back to the caller), or until watch_fd (when >= 0) is readable, or
 * nothing is pending: then NULL.  A NULL with -1 in *err_out means a
 * client-level failure described in e.
 */
struct http_req *http_next(struct http_client *c, int watch_fd, int *failed,
			   struct aperr *e);

/*
 * One blocking exchange outside the multi loop (used for token requests):
 * the same policy, retries and TLS settings.  Fills r's result part.
 */
int http_perform_one(struct http_client *c, struct http_req *r, struct aperr *e);
/* Auth's token requests through c (struct auth_transport, lib/auth.h). */
void http_client_transport(struct http_client *c, struct auth_transport *t);

/*
 * Append the client's counters as JSON object members (no braces):
 * "attempts", "retries", "reauths", "token_refreshes", "bytes",
 * "responses" (every response by status), waits in milliseconds.
 */
struct jsonw;
void http_stats_json(const struct http_client *c, struct jsonw *w);

/*
 * May the run's credentials be sent to target for r?  1 yes, 0 no (another
 * origin that is not trusted, or https to http).
 */
int http_creds_allowed(const struct http_client *c, const struct http_req *r,
		       const char *target);

/* Apply the policy's timeouts, TLS and protocol settings to an easy handle. */
void http_easy_setup(struct Curl_easy *easy, const struct http_policy *p);

/* Append a copy of every line of header list src to *dst; 0, or -1 out of memory. */
int http_headers_copy(struct curl_slist **dst, const struct curl_slist *src);
/* 1 when a line of header list h is bound to its origin (redact_header_bound). */
int http_headers_sensitive(const struct curl_slist *h);
/* Release what libcurl keeps for the whole program (at exit). */
void http_global_cleanup(void);


#endif
