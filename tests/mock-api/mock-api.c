/*
 * mock-api: the HTTP/JSON API that apipe's tests and `make demo` run
 * against.  It listens on 127.0.0.1 (port 0 by default: the kernel picks,
 * and the port is written to --port-file), serves a dataset generated from
 * --seed through every pagination style, checks credentials, keeps quotas,
 * injects faults on request, and logs every request as a JSON line.
 * Run `mock-api --help` for the options and endpoints.
 */
#include <stdint.h>
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <curl/curl.h>
#include <zlib.h>

#include "../../lib/base64.h"
#include "../../lib/hash.h"
#include "../../lib/instant.h"
#include "../../lib/json.h"
#include "../../lib/strbuf.h"

static const char usage_text[] =
"usage: mock-api [--port-file file] [--port n] [--seed n] [--records n] [--log file]\n"
"                [--auth none|key-header|key-query|bearer|basic|oauth2|jwt]\n"
"                [--key value]... [--key-header name] [--key-param name]\n"
"                [--bearer-token value] [--user user:password]\n"
"                [--client-id id] [--client-secret secret] [--refresh-token value]\n"
"                [--token-ttl seconds] [--expires-in seconds] [--jwt-secret value]\n"
"                [--quota n] [--quota-window seconds] [--reset-style epoch|delta]\n"
"                [--fault-rate percent] [--latency-ms n] [--mutate-after n]\n"
"                [--mutate-insert n] [--no-mutate-update] [--mutate-delete]\n"
"                [--drift added|removed|retyped] [--gzip]\n"
"                [--code-ttl seconds] [--alias path=endpoint]...\n"
"\n"
"Secrets (--key, --bearer-token, --user, --client-secret, --refresh-token,\n"
"--jwt-secret) may be given as env:NAME; this is a test server.\n"
"--alias serves an endpoint under another path (a real API's, for the\n"
"README's lines): a '*' in path matches one segment, a path ending in '/'\n"
"its prefix (the rest is appended to endpoint).\n"
"\n"
"Endpoints (records are {id, updated_at, name, amount, owner, tags, note}):\n"
"  GET /items?offset=&limit=          {items, total, offset, limit}\n"
"  GET /pages?page=&per_page=         {data, page, per_page, total_pages, total}\n"
"  GET /cursor?cursor=&limit=         {data, next_cursor}   (empty_tail=1: an empty\n"
"                                     last page that still carries a cursor;\n"
"                                     loop_at=K: from offset K the cursor repeats)\n"
"  GET /nested?cursor=&limit=         {results, pagination:{next_cursor, has_more}}\n"
"  GET /next?page=&limit=             {data, next}  (relative; absolute=1)\n"
"  GET /link?page=&per_page=          [records] with a Link header (rel=\"next\")\n"
"  GET /keyset?since_id=&limit=       [records with id > since_id]\n"
"  GET /keyset?updated_after=&limit=  [records with updated_at > T]\n"
"      (&shard=K&shards=M: only the ids that are K modulo M)\n"
"  GET /stripe?starting_after=&limit= {object, url, has_more, data}  (Stripe)\n"
"  GET /slack?cursor=&limit=          {ok, members, response_metadata:{next_cursor}}\n"
"                                     (\"\" on the last page; ok_false=1: an error)\n"
"  GET /google?pageToken=&pageSize=   {kind, files, nextPageToken}  (Google)\n"
"  GET /jsonapi?page[number]=&page[size]=  {data, links:{next}, meta:{total}}\n"
"  GET /hostile?kind=huge|scheme|self|garbage  a Link header built to hurt\n"
"  GET /items/ID                      one record\n"
"  GET /echo                          the request as JSON\n"
"  GET /raw?kind=text|binary          a body that is not JSON\n"
"  GET /authorize?response_type=code&client_id=&redirect_uri=&state=\n"
"      &code_challenge=&code_challenge_method=S256   302 to redirect_uri with a code\n"
"  POST /oauth/token                  client_credentials, refresh_token, jwt-bearer,\n"
"                                     authorization_code (PKCE S256 checked)\n"
"Faults on any data request: fail=CODE|drop|truncate|error-body [fail_times=K]\n"
"  [retry_after=SECONDS|date:S|rfc850:S|asctime:S] [latency_ms=N]\n";

struct token {
	char *value;
	double expires;		/* real time; 0: never */
	int refresh;		/* a refresh token */
	int revoked;
};

struct counter {
	char *key;
	unsigned n;
	double window_end;
};

static struct {
	pthread_mutex_t mu;
	unsigned long seed, nrecords, base_records;
	FILE *log;
	const char *auth;
	char **keys;
	size_t nkeys;
	const char *key_header, *key_param;
	const char *bearer, *user, *client_id, *client_secret, *jwt_secret;
	double token_ttl, expires_in;	/* real lifetime, and what is announced */
	double code_ttl;		/* authorization codes */
	struct code {
		char *code, *challenge, *redirect_uri, *client_id;
		double expires;
		int used;
	} *codes;
	size_t ncodes;
	struct token *tokens;
	size_t ntokens;
	unsigned quota;
	double quota_window;
	int reset_delta;
	unsigned fault_rate, latency_ms;
	unsigned long mutate_after, mutate_insert, data_requests;
	int mutated;
	int no_mutate_update;	/* the mutation only inserts */
	int mutate_delete;	/* the mutation also deletes: ids 7 mod 10 come back flagged deleted */
	const char *drift;
	int gzip;
	unsigned long nreq;
	struct counter *counters;	/* fail_times per URL, quotas per identity */
	size_t ncounters;
	unsigned port;
	char **alias_from, **alias_to;	/* --alias */
	size_t naliases;
} S;

/* Does path match pattern, '*' one segment, a final '/' a prefix?  The rest, or NULL. */
static const char *alias_match(const char *pat, const char *path)
{
	while (*pat) {
		if (*pat == '*') {
			while (*path && *path != '/')
				path++;
			pat++;
		} else if (*pat++ != *path++) {
			return NULL;
		}
		if (!*pat && pat[-1] == '/')
			return path;
	}
	return *path ? NULL : path;
}

/* The endpoint a request's path names: an --alias's, or the path. */
static const char *alias_of(const char *url, char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < S.naliases; i++) {
		const char *rest = alias_match(S.alias_from[i], url);

		if (rest) {
			snprintf(buf, n, "%s%s", S.alias_to[i], rest);
			return buf;
		}
	}
	return url;
}

struct reqctx {
	char *uri;
	struct strbuf body;
	int started;
};

/* ---- helpers ---- */

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *secret_arg(const char *v)
{
	if (!strncmp(v, "env:", 4)) {
		const char *e = getenv(v + 4);

		if (!e) {
			fprintf(stderr, "mock-api: %s is not set\n", v + 4);
			exit(64);
		}
		return e;
	}
	return v;
}

static struct counter *counter(const char *key)
{
	size_t i;

	for (i = 0; i < S.ncounters; i++)
		if (!strcmp(S.counters[i].key, key))
			return &S.counters[i];
	S.counters = realloc(S.counters, (S.ncounters + 1) * sizeof(*S.counters));
	S.counters[S.ncounters].key = strdup(key);
	S.counters[S.ncounters].n = 0;
	S.counters[S.ncounters].window_end = 0;
	return &S.counters[S.ncounters++];
}

static const char *arg(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

static long argl(struct MHD_Connection *c, const char *name, long def)
{
	const char *v = arg(c, name);

	return v && *v ? strtol(v, NULL, 10) : def;
}

static const char *hdr(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* ---- the dataset ---- */

/* Record id's updated_at, in seconds: later when the mutation updated or deleted it. */
static int64_t record_sec(unsigned long id)
{
	int64_t sec = 1767225600 + (int64_t)id * 60;	/* 2026-01-01 */

	if (S.mutated && !S.no_mutate_update && id % 10 == 1)
		sec += 86400 * 200;	/* updated while the crawl ran */
	if (S.mutated && S.mutate_delete && id % 10 == 7)
		sec += 86400 * 300;	/* deleted while the crawl ran */
	return sec;
}

static void add_record(struct strbuf *o, unsigned long id)
{
	static const char *const names[] = {
		"Zoë's \\\"quoted\\\" shop", "東京 office", "plain name", "emoji \\ud83d\\ude00 row",
		"tab\\tand\\nnewline", "ümlaut-ÄÖÜ", "€ and £", "back\\\\slash"
	};
	struct instant t = { record_sec(id), 0, 0 };
	char ts[64];
	unsigned long h = (id * 2654435761UL) ^ S.seed;

	instant_format(&t, ts, sizeof(ts));
	strbuf_addf(o, "{\"id\":%lu,\"updated_at\":\"%s\",\"name\":\"%s %lu\",", id, ts,
		    names[h % 8], id);
	if (S.drift && !strcmp(S.drift, "retyped"))
		strbuf_addf(o, "\"amount\":\"%lu.%02lu\",", 12345678901234567UL + id, h % 100);
	else
		strbuf_addf(o, "\"amount\":12345678901234567890%lu.%02lu,", id, h % 100);
	strbuf_addf(o, "\"owner\":{\"login\":\"user%lu\",\"id\":%lu,\"site_admin\":%s},",
		    h % 7, 9000000000000000000UL + h % 1000, h % 2 ? "true" : "false");
	strbuf_addf(o, "\"tags\":[\"t%lu\",\"t%lu\"],\"score\":%lu.5e-3", h % 5, (h >> 3) % 5, h % 1000);
	if (!S.drift || strcmp(S.drift, "removed")) {
		if (id % 3 == 0)
			strbuf_addstr(o, ",\"note\":null");
		else
			strbuf_addf(o, ",\"note\":\"n%lu\"", id);
	}
	if (S.drift && !strcmp(S.drift, "added"))
		strbuf_addstr(o, ",\"extra\":{\"flag\":true}");
	if (S.mutated && S.mutate_delete && id % 10 == 7)
		strbuf_addstr(o, ",\"deleted\":true");
	strbuf_addch(o, '}');
}

/* Records [from, to) (ids from+1 … to) as a JSON array. */
static void add_array(struct strbuf *o, unsigned long from, unsigned long to)
{
	unsigned long i;

	strbuf_addch(o, '[');
	for (i = from; i < to && i < S.nrecords; i++) {
		if (i > from)
			strbuf_addch(o, ',');
		add_record(o, i + 1);
	}
	strbuf_addch(o, ']');
}

/* A page number argument: 1 when absent or below 1. */
static long page_arg(struct MHD_Connection *c)
{
	long p = argl(c, "page", 1);

	return p < 1 ? 1 : p;
}

static unsigned long clampn(long v, unsigned long def)
{
	return v <= 0 ? def : v > 1000 ? 1000 : (unsigned long)v;
}

static void cursor_for(char *buf, size_t n, unsigned long off)
{
	/* opaque, but decodable: base64url of "o:<offset>" */
	struct strbuf sb = STRBUF_INIT;
	char raw[32];

	snprintf(raw, sizeof(raw), "o:%lu", off);
	base64url_encode(&sb, raw, strlen(raw));
	snprintf(buf, n, "%s", sb.buf);
	strbuf_release(&sb);
}

static long cursor_offset(const char *c)
{
	struct strbuf sb = STRBUF_INIT;
	long off = -1;

	if (base64url_decode(&sb, c, strlen(c)) == 0 && sb.len > 2 && !memcmp(sb.buf, "o:", 2))
		off = strtol(sb.buf + 2, NULL, 10);
	strbuf_release(&sb);
	return off;
}

/* ---- responses ---- */

struct reply {
	int status;
	struct strbuf body;
	const char *ctype;
	struct strbuf headers;		/* "Name\0value\0" */
	int drop, truncate;
	char fault[32];
};

static void add_header(struct reply *r, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add_header(struct reply *r, const char *name, const char *fmt, ...)
{
	va_list ap;

	strbuf_addstr(&r->headers, name);
	strbuf_addch(&r->headers, '\0');
	va_start(ap, fmt);
	strbuf_vaddf(&r->headers, fmt, ap);
	va_end(ap);
	strbuf_addch(&r->headers, '\0');
}

static void error_reply(struct reply *r, int status, const char *code, const char *msg)
{
	r->status = status;
	strbuf_reset(&r->body);
	strbuf_addf(&r->body, "{\"error\":\"%s\",\"error_description\":\"%s\"}", code, msg);
}

static void http_date(char *buf, size_t n, time_t t, const char *form)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	if (!strcmp(form, "rfc850")) {
		char day[16] = "", rest[16] = "";

		strftime(day, sizeof(day), "%A", &tm);
		strftime(rest, sizeof(rest), "%d-%b-", &tm);
		snprintf(buf, n, "%s, %s%02d %02d:%02d:%02d GMT", day, rest, tm.tm_year % 100,
			 tm.tm_hour, tm.tm_min, tm.tm_sec);
	}
	else if (!strcmp(form, "asctime"))
		strftime(buf, n, "%a %b %e %H:%M:%S %Y", &tm);
	else
		strftime(buf, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void retry_after(struct reply *r, const char *spec)
{
	char buf[128];
	const char *colon;

	if (!spec)
		return;
	colon = strchr(spec, ':');
	if (colon) {
		char form[16];

		snprintf(form, sizeof(form), "%.*s", (int)(colon - spec), spec);
		http_date(buf, sizeof(buf), time(NULL) + strtol(colon + 1, NULL, 10), form);
		add_header(r, "Retry-After", "%s", buf);
	} else {
		add_header(r, "Retry-After", "%s", spec);
	}
}

/*
 * Hold the response ms milliseconds, closely: the kernel's sleep overshoots
 * by a fraction of a millisecond, so the last 300 us are waited out.
 */
static void latency(long ms)
{
	struct timespec now, until;

	clock_gettime(CLOCK_MONOTONIC, &now);
	until = now;
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	if (ms > 1) {
		struct timespec early = until;

		early.tv_nsec -= 300000L;
		if (early.tv_nsec < 0) {
			early.tv_sec--;
			early.tv_nsec += 1000000000L;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &early, NULL) == EINTR)
			;
	}
	do
		clock_gettime(CLOCK_MONOTONIC, &now);
	while (now.tv_sec < until.tv_sec || (now.tv_sec == until.tv_sec && now.tv_nsec < until.tv_nsec));
}

/* A fault asked for by the request's own parameters, or drawn at random. */
static int fault(struct MHD_Connection *c, const char *uri, struct reply *r, unsigned long n)
{
	const char *f = arg(c, "fail");
	long lat = argl(c, "latency_ms", 0);
	char kind[32] = "";
	const char *random_ra = "0";

	if (lat > 0)
		latency(lat);
	if (S.latency_ms)
		latency(S.latency_ms);
	if (f) {
		struct counter *k;
		long times = argl(c, "fail_times", 1);

		pthread_mutex_lock(&S.mu);
		k = counter(uri);
		if (times < 0 || k->n < (unsigned)times) {
			k->n++;
			snprintf(kind, sizeof(kind), "%s", f);
		}
		pthread_mutex_unlock(&S.mu);
	} else if (S.fault_rate) {
		uint8_t key[16] = { 0 };
		uint64_t h;
		static const char *const mix[] = { "429", "500", "502", "503", "504", "drop",
						   "truncate", "429" };

		memcpy(key, &S.seed, sizeof(S.seed) < 16 ? sizeof(S.seed) : 16);
		h = siphash64(key, &n, sizeof(n));
		if (h % 100 < S.fault_rate)
			snprintf(kind, sizeof(kind), "%s", mix[(h >> 8) % 8]);
		/* Retry-After as delay-seconds or as an HTTP-date, by turns */
		random_ra = (h >> 16) & 1 ? "date:0" : "0";
	}
	if (!*kind)
		return 0;
	snprintf(r->fault, sizeof(r->fault), "%s", kind);
	if (!strcmp(kind, "drop")) {
		r->drop = 1;
		return 1;
	}
	if (!strcmp(kind, "truncate")) {
		r->truncate = 1;
		return 0;	/* the real body, cut short */
	}
	if (!strcmp(kind, "error-body")) {
		error_reply(r, 200, "internal", "something broke, but the status says 200");
		return 1;
	}
	error_reply(r, atoi(kind) ? atoi(kind) : 500, "fault", "injected fault");
	if (r->status == 429 || r->status == 503) {
		retry_after(r, arg(c, "retry_after") ? arg(c, "retry_after") : f ? NULL : random_ra);
		if (!f && !arg(c, "retry_after") && strcmp(random_ra, "0"))
			snprintf(r->fault, sizeof(r->fault), "%s retry-after-date", kind);
	}
	return 1;
}

/* ---- auth ---- */

static int token_valid(const char *v, int refresh)
{
	size_t i;
	double now = now_real();

	for (i = 0; i < S.ntokens; i++)
		if (!strcmp(S.tokens[i].value, v) && S.tokens[i].refresh == refresh &&
		    !S.tokens[i].revoked && (!S.tokens[i].expires || S.tokens[i].expires > now))
			return 1;
	return 0;
}

static const char *issue_token(int refresh, double ttl)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	char buf[40];
	unsigned char rnd[24];
	size_t i;

	hash_random(rnd, sizeof(rnd));
	memcpy(buf, refresh ? "rt_" : "at_", 3);
	for (i = 0; i < sizeof(rnd); i++)
		buf[3 + i] = alnum[rnd[i] % 36];
	buf[3 + sizeof(rnd)] = '\0';
	S.tokens = realloc(S.tokens, (S.ntokens + 1) * sizeof(*S.tokens));
	S.tokens[S.ntokens].value = strdup(buf);
	S.tokens[S.ntokens].expires = ttl > 0 ? now_real() + ttl : 0;
	S.tokens[S.ntokens].refresh = refresh;
	S.tokens[S.ntokens].revoked = 0;
	return S.tokens[S.ntokens++].value;
}

/* An HS256 JWT signed with --jwt-secret and not expired. */
static int jwt_valid(const char *jwt)
{
	const char *dot2 = strrchr(jwt, '.'), *dot1 = strchr(jwt, '.');
	unsigned char mac[64];
	unsigned len = 0;
	struct strbuf sig = STRBUF_INIT, pay = STRBUF_INIT;
	struct json_doc d;
	struct json_error je;
	int ok = 0;
	uint32_t exp;

	if (!S.jwt_secret || !dot1 || dot1 == dot2)
		return 0;
	HMAC(EVP_sha256(), S.jwt_secret, (int)strlen(S.jwt_secret),
	     (const unsigned char *)jwt, (size_t)(dot2 - jwt), mac, &len);
	base64url_encode(&sig, mac, len);
	if (strcmp(sig.buf, dot2 + 1))
		goto out;
	json_doc_init(&d, 32);
	json_error_init(&je);
	if (base64url_decode(&pay, dot1 + 1, (size_t)(dot2 - dot1 - 1)) == 0 &&
	    json_parse(&d, pay.buf, pay.len, &je) == 0 && (exp = json_get(&d, 0, "exp", 3)) &&
	    strtod(json_src(&d, exp), NULL) > now_real())
		ok = 1;
	json_doc_release(&d);
	json_error_release(&je);
out:
	strbuf_release(&sig);
	strbuf_release(&pay);
	return ok;
}

/* Check the request's credentials; the identity quotas are kept by goes to who. */
static int check_auth(struct MHD_Connection *c, struct reply *r, char *who, size_t wn)
{
	const char *a = hdr(c, "Authorization");
	size_t i;

	snprintf(who, wn, "anonymous");
	if (!strcmp(S.auth, "none"))
		return 1;
	if (!strcmp(S.auth, "key-header") || !strcmp(S.auth, "key-query")) {
		const char *k = !strcmp(S.auth, "key-header") ? hdr(c, S.key_header)
							      : arg(c, S.key_param);

		for (i = 0; k && i < S.nkeys; i++)
			if (!strcmp(k, S.keys[i])) {
				snprintf(who, wn, "key%zu", i);
				return 1;
			}
		error_reply(r, 401, "invalid_key", "missing or unknown API key");
		return 0;
	}
	if (!strcmp(S.auth, "basic")) {
		struct strbuf dec = STRBUF_INIT;
		int ok = a && !strncmp(a, "Basic ", 6) &&
			 base64_decode(&dec, a + 6, strlen(a + 6)) == 0 && dec.buf &&
			 !strcmp(dec.buf, S.user);

		strbuf_release(&dec);
		if (ok)
			return 1;
		add_header(r, "WWW-Authenticate", "Basic realm=\"mock\"");
		error_reply(r, 401, "unauthorized", "bad basic credentials");
		return 0;
	}
	if (a && !strncmp(a, "Bearer ", 7)) {
		const char *t = a + 7;
		int ok;

		pthread_mutex_lock(&S.mu);
		if (!strcmp(S.auth, "bearer"))
			ok = S.bearer && !strcmp(t, S.bearer);
		else if (!strcmp(S.auth, "jwt"))
			ok = jwt_valid(t);
		else
			ok = token_valid(t, 0);
		pthread_mutex_unlock(&S.mu);
		if (ok) {
			snprintf(who, wn, "bearer");
			return 1;
		}
	}
	add_header(r, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
	error_reply(r, 401, "invalid_token", "missing, unknown or expired token");
	return 0;
}

/* Count the request against who's quota and add the headers. */
static int quota(struct reply *r, const char *who)
{
	struct counter *k;
	double now = now_real(), reset;
	long remaining;
	char key[80];

	if (!S.quota)
		return 1;
	snprintf(key, sizeof(key), "quota:%s", who);
	pthread_mutex_lock(&S.mu);
	k = counter(key);
	if (now >= k->window_end) {
		k->window_end = now + S.quota_window;
		k->n = 0;
	}
	k->n++;
	remaining = (long)S.quota - (long)k->n;
	reset = k->window_end;
	pthread_mutex_unlock(&S.mu);
	add_header(r, "X-RateLimit-Limit", "%u", S.quota);
	add_header(r, "X-RateLimit-Remaining", "%ld", remaining < 0 ? 0 : remaining);
	if (S.reset_delta)
		add_header(r, "X-RateLimit-Reset", "%.0f", reset - now + 0.5);
	else
		add_header(r, "X-RateLimit-Reset", "%.0f", reset + 0.5);
	add_header(r, "RateLimit", "limit=%u, remaining=%ld, reset=%.0f", S.quota,
		   remaining < 0 ? 0 : remaining, reset - now + 0.5);
	if (remaining >= 0)
		return 1;
	error_reply(r, 429, "rate_limited", "quota exhausted");
	return 0;
}

/* ---- the OAuth2 token endpoint ---- */

static char *form_value(const char *body, const char *name)
{
	size_t nl = strlen(name);
	const char *p = body;

	while (p && *p) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);

		if (len > nl && !strncmp(p, name, nl) && p[nl] == '=') {
			char *v = strndup(p + nl + 1, len - nl - 1), *o = v, *i = v;

			for (; *i; i++) {
				if (*i == '+')
					*o++ = ' ';
				else if (*i == '%' && isxdigit((unsigned char)i[1]) &&
					 isxdigit((unsigned char)i[2])) {
					char h[3] = { i[1], i[2], 0 };

					*o++ = (char)strtol(h, NULL, 16);
					i += 2;
				} else
					*o++ = *i;
			}
			*o = '\0';
			return v;
		}
		p = amp ? amp + 1 : NULL;
	}
	return NULL;
}

static int client_ok(struct MHD_Connection *c, const char *body)
{
	const char *a = hdr(c, "Authorization");
	char *id = NULL, *sec = NULL;
	int ok;

	if (a && !strncmp(a, "Basic ", 6)) {
		struct strbuf dec = STRBUF_INIT, form = STRBUF_INIT;
		char *colon;

		if (base64_decode(&dec, a + 6, strlen(a + 6)) == 0 && dec.buf &&
		    (colon = strchr(dec.buf, ':'))) {
			*colon = '\0';
			strbuf_addf(&form, "i=%s&s=%s", dec.buf, colon + 1);
			id = form_value(form.buf, "i");
			sec = form_value(form.buf, "s");
		}
		strbuf_release(&dec);
		strbuf_release(&form);
	} else {
		id = form_value(body, "client_id");
		sec = form_value(body, "client_secret");
	}
	ok = id && sec && S.client_id && S.client_secret && !strcmp(id, S.client_id) &&
	     !strcmp(sec, S.client_secret);
	free(id);
	free(sec);
	return ok;
}

/* GET /authorize: the user "consents" at once; 302 back with a code. */
static void authorize(struct MHD_Connection *c, struct reply *r)
{
	const char *rt = arg(c, "response_type"), *id = arg(c, "client_id");
	const char *ru = arg(c, "redirect_uri"), *st = arg(c, "state");
	const char *ch = arg(c, "code_challenge"), *m = arg(c, "code_challenge_method");
	struct code *k;
	char code[40];
	unsigned char rnd[16];
	size_t i;
	char *es;

	if (!rt || strcmp(rt, "code") || !id || !ru || !st || !ch || !m || strcmp(m, "S256") ||
	    strncmp(ru, "http://127.0.0.1:", 17) || (S.client_id && strcmp(id, S.client_id))) {
		error_reply(r, 400, "invalid_request", "bad authorization request");
		return;
	}
	hash_random(rnd, sizeof(rnd));
	memcpy(code, "code_", 5);
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(code + 5 + 2 * i, 3, "%02x", rnd[i]);
	pthread_mutex_lock(&S.mu);
	S.codes = realloc(S.codes, (S.ncodes + 1) * sizeof(*S.codes));
	k = &S.codes[S.ncodes++];
	k->code = strdup(code);
	k->challenge = strdup(ch);
	k->redirect_uri = strdup(ru);
	k->client_id = strdup(id);
	k->expires = now_real() + S.code_ttl;
	k->used = 0;
	pthread_mutex_unlock(&S.mu);
	es = curl_escape(st, 0);
	r->status = 302;
	add_header(r, "Location", "%s%scode=%s&state=%s", ru, strchr(ru, '?') ? "&" : "?", code, es);
	curl_free(es);
	strbuf_reset(&r->body);
	strbuf_addstr(&r->body, "{}");
}

/* The authorization_code grant: the code, its redirect_uri and the PKCE verifier. */
static int code_ok(const char *body, char *why, size_t wn)
{
	char *code = form_value(body, "code"), *ru = form_value(body, "redirect_uri");
	char *ver = form_value(body, "code_verifier");
	unsigned char md[32];
	struct strbuf ch = STRBUF_INIT;
	size_t i;
	int ok = 0;

	snprintf(why, wn, "unknown code");
	for (i = 0; code && i < S.ncodes; i++) {
		struct code *k = &S.codes[i];

		if (strcmp(k->code, code))
			continue;
		if (k->used) {
			snprintf(why, wn, "code already used");
		} else if (now_real() > k->expires) {
			snprintf(why, wn, "code expired");
		} else if (!ru || strcmp(ru, k->redirect_uri)) {
			snprintf(why, wn, "redirect_uri mismatch");
		} else {
			SHA256((const unsigned char *)(ver ? ver : ""), ver ? strlen(ver) : 0, md);
			base64url_encode(&ch, md, sizeof(md));
			if (!ver || strcmp(ch.buf, k->challenge))
				snprintf(why, wn, "PKCE verification failed");
			else
				ok = 1;
		}
		k->used = 1;
		break;
	}
	strbuf_release(&ch);
	free(code);
	free(ru);
	free(ver);
	return ok;
}

static void token_endpoint(struct MHD_Connection *c, const char *body, struct reply *r)
{
	char *grant = form_value(body, "grant_type");
	const char *at, *rt = NULL;

	pthread_mutex_lock(&S.mu);
	if (!grant) {
		error_reply(r, 400, "invalid_request", "no grant_type");
	} else if (!strcmp(grant, "authorization_code")) {
		char why[64], *id = form_value(body, "client_id");

		if (!id && !client_ok(c, body))
			error_reply(r, 401, "invalid_client", "bad client credentials");
		else if (id && S.client_id && strcmp(id, S.client_id))
			error_reply(r, 401, "invalid_client", "unknown client");
		else if (!code_ok(body, why, sizeof(why)))
			error_reply(r, 400, "invalid_grant", why);
		else
			rt = "";
		free(id);
	} else if (!strcmp(grant, "client_credentials")) {
		if (!client_ok(c, body))
			error_reply(r, 401, "invalid_client", "bad client credentials");
		else
			rt = "";
	} else if (!strcmp(grant, "refresh_token")) {
		char *old = form_value(body, "refresh_token");
		size_t i;

		if (old && token_valid(old, 1)) {
			for (i = 0; i < S.ntokens; i++)
				if (!strcmp(S.tokens[i].value, old))
					S.tokens[i].revoked = 1;	/* rotated */
			rt = "";
		} else {
			error_reply(r, 400, "invalid_grant", "unknown or revoked refresh token");
		}
		free(old);
	} else if (!strcmp(grant, "urn:ietf:params:oauth:grant-type:jwt-bearer")) {
		char *as = form_value(body, "assertion");

		if (as && jwt_valid(as))
			rt = "";
		else
			error_reply(r, 400, "invalid_grant", "bad assertion");
		free(as);
	} else {
		error_reply(r, 400, "unsupported_grant_type", "unsupported grant type");
	}
	if (rt) {
		at = issue_token(0, S.token_ttl);
		rt = strcmp(grant, "client_credentials") ? issue_token(1, 0) : issue_token(1, 0);
		r->status = 200;
		strbuf_reset(&r->body);
		strbuf_addf(&r->body, "{\"access_token\":\"%s\",\"token_type\":\"Bearer\","
			    "\"expires_in\":%g,\"refresh_token\":\"%s\"}", at,
			    S.expires_in > 0 ? S.expires_in : S.token_ttl, rt);
		add_header(r, "Cache-Control", "no-store");
	}
	pthread_mutex_unlock(&S.mu);
	free(grant);
}

/* ---- data endpoints ---- */

static void page_data(struct MHD_Connection *c, const char *path, struct reply *r)
{
	struct strbuf *o = &r->body;
	unsigned long N;
	char cur[64];

	pthread_mutex_lock(&S.mu);
	S.data_requests++;
	if (S.mutate_after && !S.mutated && S.data_requests > S.mutate_after) {
		S.mutated = 1;
		S.nrecords += S.mutate_insert;
	}
	N = S.nrecords;
	pthread_mutex_unlock(&S.mu);
	r->status = 200;
	if (!strcmp(path, "/items")) {
		long off = argl(c, "offset", 0);
		unsigned long lim = clampn(argl(c, "limit", 0), 10);

		if (off < 0)
			off = 0;
		strbuf_addstr(o, "{\"items\":");
		add_array(o, (unsigned long)off, (unsigned long)off + lim);
		strbuf_addf(o, ",\"total\":%lu,\"offset\":%ld,\"limit\":%lu}", N, off, lim);
	} else if (!strcmp(path, "/pages")) {
		long p = page_arg(c);
		unsigned long per = clampn(argl(c, "per_page", 0), 10);
		strbuf_addstr(o, "{\"data\":");
		add_array(o, (unsigned long)(p - 1) * per, (unsigned long)p * per);
		strbuf_addf(o, ",\"page\":%ld,\"per_page\":%lu,\"total_pages\":%lu,\"total\":%lu}",
			    p, per, (N + per - 1) / per, N);
	} else if (!strcmp(path, "/cursor") || !strcmp(path, "/nested")) {
		const char *cs = arg(c, "cursor");
		long off = cs && *cs ? cursor_offset(cs) : 0;
		unsigned long lim = clampn(argl(c, "limit", 0), 10), end;
		int empty_tail = argl(c, "empty_tail", 0) > 0, more;
		long loop_at = argl(c, "loop_at", 0);

		if (off < 0) {
			error_reply(r, 400, "bad_cursor", "unknown cursor");
			return;
		}
		end = (unsigned long)off + lim;
		if (loop_at > 0 && end > (unsigned long)loop_at)
			end = (unsigned long)loop_at;	/* the next cursor names this page again */
		/* With empty_tail the page at N is empty and still points on. */
		more = end < N || (empty_tail && (unsigned long)off <= N);
		cursor_for(cur, sizeof(cur), end < N ? end : (unsigned long)off < N ? N : N + 1);
		strbuf_addf(o, "{\"%s\":", !strcmp(path, "/cursor") ? "data" : "results");
		add_array(o, (unsigned long)off, end);
		if (!strcmp(path, "/cursor")) {
			if (more)
				strbuf_addf(o, ",\"next_cursor\":\"%s\"}", cur);
			else
				strbuf_addstr(o, ",\"next_cursor\":null}");
		} else {
			strbuf_addf(o, ",\"pagination\":{\"next_cursor\":");
			if (more)
				strbuf_addf(o, "\"%s\",\"has_more\":true}}", cur);
			else
				strbuf_addstr(o, "null,\"has_more\":false}}");
		}
	} else if (!strcmp(path, "/next")) {
		long p = page_arg(c);
		unsigned long lim = clampn(argl(c, "limit", 0), 10);
		strbuf_addstr(o, "{\"data\":");
		add_array(o, (unsigned long)(p - 1) * lim, (unsigned long)p * lim);
		if ((unsigned long)p * lim < N) {
			char origin[48] = "";

			if (argl(c, "absolute", 0))
				snprintf(origin, sizeof(origin), "http://127.0.0.1:%u", S.port);
			strbuf_addf(o, ",\"next\":\"%s/next?page=%ld&limit=%lu\"}", origin, p + 1, lim);
		} else {
			strbuf_addstr(o, ",\"next\":null}");
		}
	} else if (!strcmp(path, "/link")) {
		long p = page_arg(c);
		unsigned long per = clampn(argl(c, "per_page", 0), 10);
		unsigned long last = (N + per - 1) / per;
		add_array(o, (unsigned long)(p - 1) * per, (unsigned long)p * per);
		if ((unsigned long)p < last)
			add_header(r, "Link",
				   "<http://127.0.0.1:%u/link?page=1&per_page=%lu&tags=a,b>; rel=\"first\", "
				   "<http://127.0.0.1:%u/link?page=%ld&per_page=%lu&tags=a,b>; "
				   "title=\"next, please\"; rel=\"next\", "
				   "</link?page=%lu&per_page=%lu>; rel=\"last\"",
				   S.port, per, S.port, p + 1, per, last, per);
		else
			add_header(r, "Link",
				   "<http://127.0.0.1:%u/link?page=1&per_page=%lu>; rel=\"first\", "
				   "<http://127.0.0.1:%u/link?page=%ld&per_page=%lu>; rel=\"prev\"",
				   S.port, per, S.port, p - 1, per);
	} else if (!strcmp(path, "/keyset")) {
		unsigned long lim = clampn(argl(c, "limit", 0), 10), i, n = 0;
		const char *ua = arg(c, "updated_after");
		long since = argl(c, "since_id", 0);
		long shards = argl(c, "shards", 0), shard = argl(c, "shard", 0);
		struct instant after = { 0, 0, 0 };

		if (ua && instant_parse(ua, strlen(ua), 0, &after) < 0) {
			error_reply(r, 400, "bad_request", "bad updated_after");
			return;
		}
		strbuf_addch(o, '[');
		for (i = since > 0 ? (unsigned long)since : 0; i < N && n < lim; i++) {
			if (ua && record_sec(i + 1) <= after.sec)
				continue;
			if (shards > 0 && (long)((i + 1) % (unsigned long)shards) != shard)
				continue;	/* shard=K&shards=M: the ids that are K modulo M */
			if (n++)
				strbuf_addch(o, ',');
			add_record(o, i + 1);
		}
		strbuf_addch(o, ']');
	} else if (!strcmp(path, "/stripe")) {
		long after = argl(c, "starting_after", 0);
		unsigned long lim = clampn(argl(c, "limit", 0), 10);
		unsigned long from = after > 0 ? (unsigned long)after : 0;

		strbuf_addstr(o, "{\"object\":\"list\",\"url\":\"/v1/customers\",");
		strbuf_addf(o, "\"has_more\":%s,\"data\":", from + lim < N ? "true" : "false");
		add_array(o, from, from + lim);
		strbuf_addch(o, '}');
	} else if (!strcmp(path, "/slack")) {
		const char *cs = arg(c, "cursor");
		long off = cs && *cs ? cursor_offset(cs) : 0;
		unsigned long lim = clampn(argl(c, "limit", 0), 10);

		if (argl(c, "ok_false", 0) || off < 0) {
			strbuf_addstr(o, "{\"ok\":false,\"error\":\"invalid_auth\"}");
			return;
		}
		cursor_for(cur, sizeof(cur), (unsigned long)off + lim);
		strbuf_addstr(o, "{\"ok\":true,\"members\":");
		add_array(o, (unsigned long)off, (unsigned long)off + lim);
		strbuf_addf(o, ",\"response_metadata\":{\"next_cursor\":\"%s\"}}",
			    (unsigned long)off + lim < N ? cur : "");
	} else if (!strcmp(path, "/google")) {
		const char *cs = arg(c, "pageToken");
		long off = cs && *cs ? cursor_offset(cs) : 0;
		unsigned long lim = clampn(argl(c, "pageSize", 0), 10);

		if (off < 0) {
			error_reply(r, 400, "invalid_argument", "bad pageToken");
			return;
		}
		cursor_for(cur, sizeof(cur), (unsigned long)off + lim);
		strbuf_addstr(o, "{\"kind\":\"drive#fileList\",");
		if ((unsigned long)off + lim < N)
			strbuf_addf(o, "\"nextPageToken\":\"%s\",", cur);
		strbuf_addstr(o, "\"files\":");
		add_array(o, (unsigned long)off, (unsigned long)off + lim);
		strbuf_addch(o, '}');
	} else if (!strcmp(path, "/jsonapi")) {
		long p = argl(c, "page[number]", 1);
		unsigned long per = clampn(argl(c, "page[size]", 0), 10);

		if (p < 1)
			p = 1;
		strbuf_addstr(o, "{\"data\":");
		add_array(o, (unsigned long)(p - 1) * per, (unsigned long)p * per);
		strbuf_addf(o, ",\"links\":{\"self\":\"/jsonapi?page[number]=%ld&page[size]=%lu\","
			    "\"next\":", p, per);
		if ((unsigned long)p * per < N)
			strbuf_addf(o, "\"/jsonapi?page[number]=%ld&page[size]=%lu\"", p + 1, per);
		else
			strbuf_addstr(o, "null");
		strbuf_addf(o, "},\"meta\":{\"total\":%lu}}", N);
	} else if (!strcmp(path, "/hostile")) {
		const char *kind = arg(c, "kind");
		struct strbuf l = STRBUF_INIT;
		unsigned long i;

		add_array(o, 0, 2);
		if (kind && !strcmp(kind, "headers")) {
			/* 12,000 headers under 3,000 names: a quadratic join stalls */
			for (i = 0; i < 12000; i++) {
				char nm[16];

				snprintf(nm, sizeof(nm), "X-H%lu", i % 3000);
				add_header(r, nm, "%lu", i);
			}
			strbuf_release(&l);
			return;
		}
		if (kind && !strcmp(kind, "huge")) {
			/* 84 KB of unclosed "<" and quotes: a quadratic parser stalls */
			for (i = 0; i < 12000; i++)
				strbuf_addstr(&l, "<a\";,\"");
			strbuf_addstr(&l, "<http://127.0.0.1/x>; rel=\"next\"");
		} else if (kind && !strcmp(kind, "scheme")) {
			strbuf_addstr(&l, "<file:///etc/passwd>; rel=\"next\"");
		} else if (kind && !strcmp(kind, "self")) {
			strbuf_addstr(&l, "</hostile?kind=self>; rel=\"next\"");
		} else {
			strbuf_addstr(&l, "rel=\"next\"; <<>>, ;;; \"");
		}
		add_header(r, "Link", "%s", l.buf);
		strbuf_release(&l);
	} else if (!strcmp(path, "/raw")) {
		const char *kind = arg(c, "kind");

		if (kind && !strcmp(kind, "binary")) {
			static const char bin[] = { '\x89', 'P', 'N', 'G', '\0', '\xff', '\x01' };

			strbuf_add(o, bin, sizeof(bin));
			r->ctype = "application/octet-stream";
		} else {
			strbuf_addstr(o, "plain text, caf\xc3\xa9\n\"quoted\"");
			r->ctype = "text/plain; charset=utf-8";
		}
	} else if (!strncmp(path, "/items/", 7)) {
		long id = strtol(path + 7, NULL, 10);

		if (id < 1 || (unsigned long)id > N) {
			error_reply(r, 404, "not_found", "no such record");
			return;
		}
		add_record(o, (unsigned long)id);
	} else {
		error_reply(r, 404, "not_found", "no such endpoint");
	}
}

static enum MHD_Result echo_header(void *cls, enum MHD_ValueKind kind, const char *k,
				   const char *v)
{
	struct strbuf *o = cls;
	struct strbuf low = STRBUF_INIT;
	size_t i;

	(void)kind;
	if (o->buf[o->len - 1] != '{')
		strbuf_addch(o, ',');
	for (i = 0; k[i]; i++)
		strbuf_addch(&low, tolower((unsigned char)k[i]));
	json_quote(o, low.buf, low.len);
	strbuf_addch(o, ':');
	json_quote(o, v ? v : "", v ? strlen(v) : 0);
	strbuf_release(&low);
	return MHD_YES;
}

static void echo(struct MHD_Connection *c, const char *method, const char *uri,
		 const struct strbuf *body, struct reply *r)
{
	r->status = 200;
	strbuf_addstr(&r->body, "{\"method\":");
	json_quote(&r->body, method, strlen(method));
	strbuf_addstr(&r->body, ",\"uri\":");
	json_quote(&r->body, uri, strlen(uri));
	strbuf_addstr(&r->body, ",\"headers\":{");
	MHD_get_connection_values(c, MHD_HEADER_KIND, echo_header, &r->body);
	strbuf_addstr(&r->body, "},\"body\":");
	json_quote(&r->body, body->buf, body->len);
	strbuf_addch(&r->body, '}');
}

/* ---- the log ---- */

static void log_request(struct MHD_Connection *c, unsigned long n, const char *method,
			const char *uri, const struct strbuf *body, const struct reply *r,
			const char *who)
{
	struct strbuf o = STRBUF_INIT;
	const char *q = strchr(uri, '?');

	if (!S.log)
		return;
	strbuf_addf(&o, "{\"n\":%lu,\"t\":%.3f,\"method\":", n, now_real());
	json_quote(&o, method, strlen(method));
	strbuf_addstr(&o, ",\"path\":");
	json_quote(&o, uri, q ? (size_t)(q - uri) : strlen(uri));
	strbuf_addstr(&o, ",\"query\":");
	json_quote(&o, q ? q + 1 : "", q ? strlen(q + 1) : 0);
	strbuf_addstr(&o, ",\"headers\":{");
	MHD_get_connection_values(c, MHD_HEADER_KIND, echo_header, &o);
	strbuf_addstr(&o, "},\"body\":");
	json_quote(&o, body->buf, body->len);
	strbuf_addf(&o, ",\"status\":%d,\"who\":\"%s\",\"fault\":", r->drop ? 0 : r->status, who);
	if (r->fault[0])
		json_quote(&o, r->fault, strlen(r->fault));
	else
		strbuf_addstr(&o, "null");
	strbuf_addstr(&o, "}\n");
	pthread_mutex_lock(&S.mu);
	fwrite(o.buf, 1, o.len, S.log);
	fflush(S.log);
	pthread_mutex_unlock(&S.mu);
	strbuf_release(&o);
}

/* ---- MHD glue ---- */

struct trunc {
	struct strbuf body;
	size_t sent;
};

static ssize_t trunc_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct trunc *t = cls;
	size_t half = t->body.len / 2, n;

	if (pos >= half)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	n = half - (size_t)pos < max ? half - (size_t)pos : max;
	memcpy(buf, t->body.buf + pos, n);
	return (ssize_t)n;
}

static void trunc_free(void *cls)
{
	struct trunc *t = cls;

	strbuf_release(&t->body);
	free(t);
}

static int gzip_body(struct strbuf *body)
{
	z_stream z;
	struct strbuf out = STRBUF_INIT;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	strbuf_grow(&out, deflateBound(&z, body->len) + 32);
	z.next_in = (unsigned char *)body->buf;
	z.avail_in = (unsigned)body->len;
	z.next_out = (unsigned char *)out.buf;
	z.avail_out = (unsigned)out.alloc - 1;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		strbuf_release(&out);
		return -1;
	}
	out.len = z.total_out;
	deflateEnd(&z);
	strbuf_release(body);
	*body = out;
	return 0;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct reqctx *ctx = *con_cls;
	struct reply r;
	struct MHD_Response *resp;
	const char *p, *ae;
	char who[64] = "anonymous", aliased[1024];
	unsigned long n;
	enum MHD_Result ret;

	(void)cls;
	(void)version;
	if (!ctx->started) {
		ctx->started = 1;
		return MHD_YES;
	}
	if (*upload_size) {
		strbuf_add(&ctx->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	url = alias_of(url, aliased, sizeof(aliased));
	memset(&r, 0, sizeof(r));
	strbuf_init(&r.body, STRBUF_DEFAULT_CAP);
	strbuf_init(&r.headers, STRBUF_DEFAULT_CAP);
	r.ctype = "application/json";
	pthread_mutex_lock(&S.mu);
	n = ++S.nreq;
	pthread_mutex_unlock(&S.mu);

	if (!strcmp(url, "/oauth/token") && !strcmp(method, "POST")) {
		token_endpoint(c, ctx->body.buf, &r);
	} else if (!strcmp(url, "/authorize")) {
		authorize(c, &r);
	} else if (!strcmp(url, "/echo")) {
		echo(c, method, ctx->uri, &ctx->body, &r);
	} else if (check_auth(c, &r, who, sizeof(who)) && quota(&r, who) &&
		   !fault(c, ctx->uri, &r, n)) {
		page_data(c, url, &r);
	}
	log_request(c, n, method, ctx->uri, &ctx->body, &r, who);
	if (r.drop) {
		ret = MHD_NO;
		goto out;
	}
	ae = hdr(c, "Accept-Encoding");
	if ((S.gzip || argl(c, "gzip", 0)) && ae && strstr(ae, "gzip") && r.body.len > 64 &&
	    !r.truncate && gzip_body(&r.body) == 0)
		add_header(&r, "Content-Encoding", "gzip");
	if (r.truncate) {
		struct trunc *t = calloc(1, sizeof(*t));

		t->body = r.body;
		strbuf_init(&r.body, STRBUF_DEFAULT_CAP);
		resp = MHD_create_response_from_callback(t->body.len, 4096, trunc_read, t,
							 trunc_free);
	} else {
		resp = MHD_create_response_from_buffer(r.body.len, r.body.buf ? r.body.buf : (void *)(uintptr_t)"",
						       MHD_RESPMEM_MUST_COPY);
	}
	MHD_add_response_header(resp, "Content-Type", r.ctype);
	for (p = r.headers.buf; p && p < r.headers.buf + r.headers.len;) {
		const char *v = p + strlen(p) + 1;

		MHD_add_response_header(resp, p, v);
		p = v + strlen(v) + 1;
	}
	ret = MHD_queue_response(c, (unsigned)r.status, resp);
	MHD_destroy_response(resp);
out:
	strbuf_release(&r.body);
	strbuf_release(&r.headers);
	return ret;
}

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct reqctx *ctx = calloc(1, sizeof(*ctx));

	(void)cls;
	(void)c;
	ctx->uri = strdup(uri);
	strbuf_init(&ctx->body, (size_t)16 << 20);
	return ctx;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode tc)
{
	struct reqctx *ctx = *con_cls;

	(void)cls;
	(void)c;
	(void)tc;
	if (!ctx)
		return;
	free(ctx->uri);
	strbuf_release(&ctx->body);
	free(ctx);
	*con_cls = NULL;
}

enum {
	O_PORT_FILE = 256, O_PORT, O_SEED, O_RECORDS, O_LOG, O_AUTH, O_KEY, O_KEY_HEADER,
	O_KEY_PARAM, O_BEARER, O_USER, O_CLIENT_ID, O_CLIENT_SECRET, O_REFRESH, O_TTL,
	O_JWT_SECRET, O_QUOTA, O_WINDOW, O_RESET, O_FAULT_RATE, O_LATENCY, O_MUTATE_AFTER,
	O_MUTATE_INSERT, O_NO_MUTATE_UPDATE, O_MUTATE_DELETE, O_DRIFT, O_GZIP, O_EXPIRES_IN, O_CODE_TTL, O_ALIAS
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "port-file", required_argument, NULL, O_PORT_FILE },
		{ "port", required_argument, NULL, O_PORT },
		{ "seed", required_argument, NULL, O_SEED },
		{ "records", required_argument, NULL, O_RECORDS },
		{ "log", required_argument, NULL, O_LOG },
		{ "auth", required_argument, NULL, O_AUTH },
		{ "key", required_argument, NULL, O_KEY },
		{ "key-header", required_argument, NULL, O_KEY_HEADER },
		{ "key-param", required_argument, NULL, O_KEY_PARAM },
		{ "bearer-token", required_argument, NULL, O_BEARER },
		{ "user", required_argument, NULL, O_USER },
		{ "client-id", required_argument, NULL, O_CLIENT_ID },
		{ "client-secret", required_argument, NULL, O_CLIENT_SECRET },
		{ "refresh-token", required_argument, NULL, O_REFRESH },
		{ "token-ttl", required_argument, NULL, O_TTL },
		{ "jwt-secret", required_argument, NULL, O_JWT_SECRET },
		{ "quota", required_argument, NULL, O_QUOTA },
		{ "quota-window", required_argument, NULL, O_WINDOW },
		{ "reset-style", required_argument, NULL, O_RESET },
		{ "fault-rate", required_argument, NULL, O_FAULT_RATE },
		{ "latency-ms", required_argument, NULL, O_LATENCY },
		{ "mutate-after", required_argument, NULL, O_MUTATE_AFTER },
		{ "mutate-insert", required_argument, NULL, O_MUTATE_INSERT },
		{ "no-mutate-update", no_argument, NULL, O_NO_MUTATE_UPDATE },
		{ "mutate-delete", no_argument, NULL, O_MUTATE_DELETE },
		{ "drift", required_argument, NULL, O_DRIFT },
		{ "gzip", no_argument, NULL, O_GZIP },
		{ "expires-in", required_argument, NULL, O_EXPIRES_IN },
		{ "code-ttl", required_argument, NULL, O_CODE_TTL },
		{ "alias", required_argument, NULL, O_ALIAS },
		{ NULL, 0, NULL, 0 }
	};
	const char *port_file = NULL;
	struct MHD_Daemon *d;
	sigset_t set;
	int o, sig;
	unsigned port = 0;

	pthread_mutex_init(&S.mu, NULL);
	S.seed = 1;
	S.nrecords = 100;
	S.auth = "none";
	S.key_header = "X-Api-Key";
	S.key_param = "api_key";
	S.token_ttl = 3600;
	S.code_ttl = 60;
	S.quota_window = 60;
	S.mutate_insert = 5;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'h': fputs(usage_text, stdout); return 0;
		case O_PORT_FILE: port_file = optarg; break;
		case O_PORT: port = (unsigned)atoi(optarg); break;
		case O_SEED: S.seed = strtoul(optarg, NULL, 10); break;
		case O_RECORDS: S.nrecords = strtoul(optarg, NULL, 10); break;
		case O_LOG:
			if (!(S.log = fopen(optarg, "a"))) {
				perror(optarg);
				return 73;
			}
			break;
		case O_AUTH: S.auth = optarg; break;
		case O_KEY:
			S.keys = realloc(S.keys, (S.nkeys + 1) * sizeof(*S.keys));
			S.keys[S.nkeys++] = (char *)(uintptr_t)secret_arg(optarg);
			break;
		case O_KEY_HEADER: S.key_header = optarg; break;
		case O_KEY_PARAM: S.key_param = optarg; break;
		case O_BEARER: S.bearer = secret_arg(optarg); break;
		case O_USER: S.user = secret_arg(optarg); break;
		case O_CLIENT_ID: S.client_id = optarg; break;
		case O_CLIENT_SECRET: S.client_secret = secret_arg(optarg); break;
		case O_REFRESH:
			S.tokens = realloc(S.tokens, (S.ntokens + 1) * sizeof(*S.tokens));
			S.tokens[S.ntokens].value = strdup(secret_arg(optarg));
			S.tokens[S.ntokens].expires = 0;
			S.tokens[S.ntokens].refresh = 1;
			S.tokens[S.ntokens++].revoked = 0;
			break;
		case O_TTL: S.token_ttl = strtod(optarg, NULL); break;
		case O_JWT_SECRET: S.jwt_secret = secret_arg(optarg); break;
		case O_QUOTA: S.quota = (unsigned)atoi(optarg); break;
		case O_WINDOW: S.quota_window = strtod(optarg, NULL); break;
		case O_RESET: S.reset_delta = !strcmp(optarg, "delta"); break;
		case O_FAULT_RATE: S.fault_rate = (unsigned)atoi(optarg); break;
		case O_LATENCY: S.latency_ms = (unsigned)atoi(optarg); break;
		case O_MUTATE_AFTER: S.mutate_after = strtoul(optarg, NULL, 10); break;
		case O_MUTATE_INSERT: S.mutate_insert = strtoul(optarg, NULL, 10); break;
		case O_NO_MUTATE_UPDATE: S.no_mutate_update = 1; break;
		case O_MUTATE_DELETE: S.mutate_delete = 1; break;
		case O_DRIFT: S.drift = optarg; break;
		case O_GZIP: S.gzip = 1; break;
		case O_EXPIRES_IN: S.expires_in = strtod(optarg, NULL); break;
		case O_CODE_TTL: S.code_ttl = strtod(optarg, NULL); break;
		case O_ALIAS: {
			char *eq = strchr(optarg, '=');

			if (!eq || *optarg != '/' || eq[1] != '/')
				errx(64, "--alias: /path=/endpoint");
			*eq = '\0';
			S.alias_from = realloc(S.alias_from, (S.naliases + 1) * sizeof(char *));
			S.alias_to = realloc(S.alias_to, (S.naliases + 1) * sizeof(char *));
			if (!S.alias_from || !S.alias_to)
				errx(71, "out of memory");
			S.alias_from[S.naliases] = optarg;
			S.alias_to[S.naliases++] = eq + 1;
			break;
		}
		default: fputs(usage_text, stderr); return 64;
		}
	}
	S.base_records = S.nrecords;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	{
		struct sockaddr_in sa;

		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_port = htons((uint16_t)port);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		/* --latency-ms and latency_ms mean what they say: no timer slack */
		prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
		d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
				     0, NULL, NULL, handler, NULL,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				     MHD_OPTION_URI_LOG_CALLBACK, uri_log, NULL,
				     MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
				     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(1 << 20),
				     MHD_OPTION_END);
	}
	if (!d) {
		fprintf(stderr, "mock-api: cannot listen on 127.0.0.1:%u\n", port);
		return 71;
	}
	S.port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
	if (port_file) {
		char tmp[4096];
		FILE *f;

		snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
		f = fopen(tmp, "w");
		if (!f || fprintf(f, "%u\n", S.port) < 0 || fclose(f) != 0 ||
		    rename(tmp, port_file) != 0) {
			perror(port_file);
			return 73;
		}
	} else {
		printf("%u\n", S.port);
		fflush(stdout);
	}
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	if (S.log)
		fclose(S.log);
	return 0;
}
