#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include <unistd.h>

/* libcurl's handles as the struct types http.h names (struct Curl_easy, Curl_multi) */
#define CURL_STRICTER
#include <curl/curl.h>

#include "redact.h"
#include "httpcli.h"
#include "url.h"
#include "json.h"
#include "num.h"

void http_cli_init(struct http_cli *h)
{
	memset(h, 0, sizeof(*h));
	http_policy_init(&h->pol);
	secrets_init(&h->secrets);
	auth_init(&h->auth, &h->secrets);
	strbuf_init(&h->query, (size_t)1 << 20);
	strbuf_init(&h->data, STRBUF_DEFAULT_CAP);
}

const struct cli_opt http_cli_transport_options[] = {
	{ "http1.1", 0, no_argument, HTTP_OPT_HTTP1, NULL, "Connection", "speak HTTP/1.1 only" },
	{ "insecure", 'k', no_argument, 'k', NULL, "Connection", "do not verify the server's certificate" },
	{ "cert", 0, required_argument, HTTP_OPT_CERT, "file", "Connection", "a TLS client certificate" },
	{ "key", 0, required_argument, HTTP_OPT_KEY, "file", "Connection", "its key (goes with --cert)" },
	{ "cacert", 0, required_argument, HTTP_OPT_CACERT, "file", "Connection", "trust these CA certificates" },
	{ "retry", 0, required_argument, HTTP_OPT_RETRY, "n", "Retries and limits", "retries of a failed request (default 5)" },
	{ "retry-delay", 0, required_argument, HTTP_OPT_RETRY_DELAY, "s", "Retries and limits", "the first retry's wait, doubled after" },
	{ "retry-max-time", 0, required_argument, HTTP_OPT_RETRY_MAX_TIME, "s", "Retries and limits", "give up retrying after this long" },
	{ "retry-connrefused", 0, no_argument, HTTP_OPT_RETRY_CONNREFUSED, NULL, "Retries and limits", "retry a refused connection or an unknown host before any server has answered" },
	{ "max-delay", 0, required_argument, HTTP_OPT_MAX_DELAY, "s", "Retries and limits", "the longest wait between retries" },
	{ "connect-timeout", 0, required_argument, HTTP_OPT_CONNECT_TIMEOUT, "s", "Retries and limits", "the longest wait to connect" },
	{ "max-time", 0, required_argument, HTTP_OPT_MAX_TIME, "s", "Retries and limits", "the longest one attempt may take" },
	CLI_OPT_END
};

const struct cli_opt http_cli_options[] = {
	{ "config", 'K', required_argument, 'K', "file", "Config", "read options from file, one a line, as curl does" },
	{ "profile", 0, required_argument, HTTP_OPT_PROFILE, "name", "Config", "read ~/.config/apipe/name.conf first (APIPE_PROFILE)" },
	{ "base-url", 0, required_argument, HTTP_OPT_BASE_URL, "url", "Config", "what a relative URL (/v1/orders) resolves against" },
	{ "http2", 0, no_argument, HTTP_OPT_HTTP2, NULL, "Connection", "HTTP/2 over plain http too (an upgrade)" },
	{ "http2-prior-knowledge", 0, no_argument, HTTP_OPT_HTTP2_PK, NULL, "Connection", "HTTP/2 with no upgrade (h2c)" },
	{ "ipv4", '4', no_argument, '4', NULL, "Connection", "IPv4 addresses only" },
	{ "ipv6", '6', no_argument, '6', NULL, "Connection", "IPv6 addresses only" },
	{ "noproxy", 0, required_argument, HTTP_OPT_NOPROXY, "hosts", "Connection", "hosts reached without a proxy, as curl takes them" },
	{ NULL, 'm', required_argument, 'm', "s", "Retries and limits", "--max-time, as curl spells it" },
	{ "parallel-max", 0, required_argument, HTTP_OPT_PARALLEL_MAX, "n", "Retries and limits", "-j, as curl spells the number" },
	{ "request", 'X', required_argument, 'X', "method", "Request", "the HTTP method" },
	{ "header", 'H', required_argument, 'H', "'name: value'", "Request", "add a request header (no credentials)" },
	{ "user-agent", 'A', required_argument, 'A', "agent", "Request", "the User-Agent header" },
	{ "referer", 'e', required_argument, 'e', "url", "Request", "the Referer header" },
	{ "data", 'd', required_argument, 'd', "data", "Request", "a request body; @file reads it (like --data-binary)" },
	{ "data-binary", 0, required_argument, HTTP_OPT_DATA_BINARY, "data", "Request", "a request body; @file reads the file as it is" },
	{ "data-raw", 0, required_argument, HTTP_OPT_DATA_RAW, "data", "Request", "a request body, @ taken literally" },
	{ "data-urlencode", 0, required_argument, HTTP_OPT_DATA_URLENCODE, "data", "Request", "name=value or @file, percent-encoded" },
	{ "data-json", 0, required_argument, HTTP_OPT_DATA_JSON, "json", "Request", "a JSON body (checked), with its Content-Type" },
	{ "json", 0, required_argument, HTTP_OPT_JSON, "json", "Request", "as --data-json, and Accept: application/json" },
	{ "get", 'G', no_argument, 'G', NULL, "Request", "send the data in the query string, with GET" },
	{ "head", 'I', no_argument, 'I', NULL, "Request", "send HEAD: status and headers only" },
	{ "query", 0, required_argument, HTTP_OPT_QUERY, "name=value", "Request", "add a query parameter (percent-encoded)" },
	{ "location", 'L', no_argument, 'L', NULL, "Request", "follow redirects" },
	{ "compressed", 0, no_argument, HTTP_OPT_COMPRESSED, NULL, "Request", "ask for gzip or deflate (the default)" },
	{ "no-compressed", 0, no_argument, HTTP_OPT_NO_COMPRESSED, NULL, "Request", "ask for the body as it is" },
	{ "max-body", 0, required_argument, HTTP_OPT_MAX_BODY, "size", "Request", "largest response body accepted" },
	{ "trust-origin", 0, required_argument, HTTP_OPT_TRUST_ORIGIN, "origin", "Request", "let credentials follow links to origin" },
	{ "silent", 's', no_argument, 's', NULL, "Output", "no warnings or progress (-q)" },
	{ "show-error", 'S', no_argument, HTTP_OPT_SHOW_ERROR, NULL, "Output", "accepted: errors are always shown" },
	{ "include", 'i', no_argument, HTTP_OPT_INCLUDE, NULL, "Output", "accepted: the envelope always holds the headers" },
	{ "fail", 'f', no_argument, 'f', NULL, "Output", "accepted: HTTP errors fail the run by default" },
	{ "fail-with-body", 0, no_argument, HTTP_OPT_FAIL, NULL, "Output", "accepted: the envelope holds the body" },
	{ "write-out", 'w', required_argument, 'w', "format", "Output", "print %{http_code} ... after each response, on standard error" },
	{ "user", 'u', required_argument, 'u', "user:secret", "Auth", "Basic auth; the secret as env:NAME or file:PATH" },
	{ "basic", 0, required_argument, HTTP_OPT_BASIC, "user:secret", "Auth", "the same" },
	{ "netrc", 0, no_argument, HTTP_OPT_NETRC, NULL, "Auth", "Basic auth from ~/.netrc, per host (mode 600)" },
	{ "netrc-file", 0, required_argument, HTTP_OPT_NETRC_FILE, "file", "Auth", "the same from file" },
	{ "bearer", 0, required_argument, HTTP_OPT_BEARER, "secret", "Auth", "Authorization: Bearer" },
	{ "api-key-header", 0, required_argument, HTTP_OPT_KEY_HEADER, "name=secret", "Auth", "an API key in a header" },
	{ "api-key-query", 0, required_argument, HTTP_OPT_KEY_QUERY, "name=secret", "Auth", "an API key in the query string" },
	{ "api-keys", 0, required_argument, HTTP_OPT_KEYS, "secret,...", "Auth", "several keys, rotated on 429 (with --api-key-name)" },
	{ "api-key-name", 0, required_argument, HTTP_OPT_KEY_NAME, "[query:]name", "Auth", "where --api-keys go" },
	{ "oauth2-token-url", 0, required_argument, HTTP_OPT_TOKEN_URL, "url", "Auth", "OAuth2: the token endpoint" },
	{ "client-id", 0, required_argument, HTTP_OPT_CLIENT_ID, "id", "Auth", "OAuth2: the client id" },
	{ "client-secret", 0, required_argument, HTTP_OPT_CLIENT_SECRET, "secret", "Auth", "OAuth2: the client secret" },
	{ "scope", 0, required_argument, HTTP_OPT_SCOPE, "scope", "Auth", "OAuth2: a scope to ask for" },
	{ "refresh-token", 0, required_argument, HTTP_OPT_REFRESH_TOKEN, "secret", "Auth", "OAuth2: a refresh token grant" },
	{ "token-margin", 0, required_argument, HTTP_OPT_TOKEN_MARGIN, "s", "Auth", "OAuth2: renew this long before expiry" },
	{ "oauth2-store", 0, required_argument, HTTP_OPT_STORE, "file", "Auth", "OAuth2: tokens kept by oauth-login" },
	{ "jwt-alg", 0, required_argument, HTTP_OPT_JWT_ALG, "HS256|RS256", "Auth", "a JWT bearer grant's algorithm" },
	{ "jwt-key", 0, required_argument, HTTP_OPT_JWT_KEY, "secret", "Auth", "the JWT's signing key" },
	{ "jwt-claims", 0, required_argument, HTTP_OPT_JWT_CLAIMS, "json", "Auth", "the JWT's claims" },
	{ "jwt-ttl", 0, required_argument, HTTP_OPT_JWT_TTL, "s", "Auth", "the JWT's lifetime" },
	{ "parallel", 'j', required_argument, 'j', "n", "Retries and limits", "requests in flight at once" },
	{ "rate", 0, required_argument, HTTP_OPT_RATE, "n[/s|/m|/h]", "Retries and limits", "at most n requests per second" },
	{ "burst", 0, required_argument, HTTP_OPT_BURST, "n", "Retries and limits", "requests allowed at once above the rate" },
	{ "min-remaining", 0, required_argument, HTTP_OPT_MIN_REMAINING, "n", "Retries and limits", "wait when X-RateLimit-Remaining falls to n" },
	{ "remote-name", 'O', no_argument, 'O', NULL, NULL, NULL },
	{ "form", 'F', required_argument, 'F', NULL, NULL, NULL },
	{ "upload-file", 'T', required_argument, 'T', NULL, NULL, NULL },
	{ "cookie", 'b', required_argument, 'b', NULL, NULL, NULL },
	{ "cookie-jar", 'c', required_argument, 'c', NULL, NULL, NULL },
	{ "proxy", 'x', required_argument, 'x', NULL, NULL, NULL },
	{ "progress-bar", '#', no_argument, '#', NULL, NULL, NULL },
	{ "output-dir", 0, required_argument, HTTP_OPT_OUTPUT_DIR, NULL, NULL, NULL },
	{ "oauth2-bearer", 0, required_argument, HTTP_OPT_OAUTH2_BEARER, NULL, NULL, NULL },
	{ NULL, 'Z', no_argument, 'Z', NULL, NULL, NULL },
	CLI_OPT_END
};

void http_cli_release(struct http_cli *h)
{
	auth_release(&h->auth);
	secrets_release(&h->secrets);
	free(h->method);
	curl_slist_free_all(h->headers);
	strbuf_release(&h->query);
	strbuf_release(&h->data);
	free(h->pending_keys);
	free(h->key_name);
	free(h->store);
	while (h->ntrusted)
		free(h->trusted[--h->ntrusted]);
	free(h->trusted);
	free(h->base_url);
	free(h->write_out);
	free(h->netrc);
	while (h->nnetrc) {
		struct netrc_entry *n = &h->netrc_entries[--h->nnetrc];

		free(n->machine);
		explicit_bzero(n->header, strlen(n->header));
		free(n->header);
	}
	free(h->netrc_entries);
	memset(h, 0, sizeof(*h));
}

/* Seconds as a decimal number, > 0 (or >= 0 with zero_ok). */
static int seconds(const char *arg, const char *opt, int zero_ok, double *out,
		   struct aperr *e)
{
	return num_parse_real(arg, 0, zero_ok, 1e9, out, opt, "a number of seconds", e);
}

/* A whole number up to max, through the one number parser. */
static int count(const char *arg, const char *opt, uint64_t max, uint64_t *out,
		 struct aperr *e)
{
	return num_parse_count(arg, 0, max, out, opt, e);
}

static int resolve(struct http_cli *h, const char *ref, const char *what, char **out,
		   struct aperr *e)
{
	return secret_resolve(ref, what, &h->secrets, out, e);
}

/* NAME=SECRET: the name, and the resolved secret. */
static int named_secret(struct http_cli *h, const char *arg, const char *opt, char **name,
			char **value, struct aperr *e)
{
	const char *eq = strchr(arg, '=');

	if (!eq || eq == arg)
		return aperr_set(e, EX_USAGE, "%s: expected NAME=SECRET, e.g. X-Api-Key=env:API_KEY",
				 opt);
	if (!(*name = strndup(arg, (size_t)(eq - arg))))
		return aperr_set(e, EX_OSERR, "out of memory");
	if (resolve(h, eq + 1, opt, value, e) < 0) {
		free(*name);
		*name = NULL;
		return -1;
	}
	return 0;
}

static int set_kind(struct http_cli *h, enum auth_kind k, struct aperr *e)
{
	if (h->auth.kind != AUTH_NONE && h->auth.kind != k)
		return aperr_set(e, EX_USAGE, "only one kind of authentication per run");
	h->auth.kind = k;
	return 0;
}

static int header_opt(struct http_cli *h, const char *arg, struct aperr *e)
{
	const char *colon = strchr(arg, ':');
	struct curl_slist *n;

	if (!colon || colon == arg)
		return aperr_set(e, EX_USAGE, "-H: expected 'Name: value', got '%s'", arg);
	if (redact_header_literal(arg, (size_t)(colon - arg)))
		return aperr_set(e, EX_USAGE,
				 "-H %.*s: credentials on the command line are refused (they "
				 "show in ps); use --bearer, --basic or --api-key-header with "
				 "env:NAME or file:PATH", (int)(colon - arg), arg);
	n = curl_slist_append(h->headers, arg);
	if (!n)
		return aperr_set(e, EX_OSERR, "out of memory");
	h->headers = n;
	return 0;
}

static int rate_opt(struct http_cli *h, const char *arg, struct aperr *e)
{
	char *end;
	double v = strtod(arg, &end), per = 1;

	if (!strcmp(end, "/s") || !*end)
		per = 1;
	else if (!strcmp(end, "/m"))
		per = 60;
	else if (!strcmp(end, "/h"))
		per = 3600;
	else
		end = NULL;	/* a suffix that is none of these */
	if (!end || end == arg || v != v || v <= 0)
		return aperr_set(e, EX_USAGE, "--rate: expected N, N/s, N/m or N/h, got '%s'", arg);
	h->pol.rate = v / per;
	return 0;
}

/* --data-urlencode, as curl: content, =content, name=content, @file, name@file. */
static int data_urlencode(struct http_cli *h, const char *arg, struct aperr *e)
{
	const char *eq = strchr(arg, '='), *at = strchr(arg, '@');
	struct strbuf v = STRBUF_INIT;
	size_t nl = 0;

	if (eq && (!at || eq < at)) {
		nl = (size_t)(eq - arg);
		strbuf_addstr(&v, eq + 1);
	} else if (at) {
		FILE *f = fopen(at + 1, "rb");
		char buf[65536];
		size_t got;

		nl = (size_t)(at - arg);
		if (!f)
			return aperr_errno(e, EX_NOINPUT, "--data-urlencode %s", arg);
		while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
			strbuf_add(&v, buf, got);
		fclose(f);
	} else {
		strbuf_addstr(&v, arg);
	}
	if (h->has_data)
		strbuf_addch(&h->data, '&');
	if (nl) {
		strbuf_add(&h->data, arg, nl);
		strbuf_addch(&h->data, '=');
	}
	url_encode(&h->data, v.buf, v.len);
	strbuf_release(&v);
	h->has_data = 1;
	return strbuf_failed(&h->data) ? aperr_set(e, EX_OSERR, "out of memory") : 0;
}

/* curl's --json: like --data-json, with Accept: application/json. */
/* The whole of file path into out.  0, or -1 (EX_NOINPUT). */
static int read_file(const char *path, struct strbuf *out, struct aperr *e)
{
	FILE *f = fopen(path, "rb");
	char buf[65536];
	size_t got;

	if (!f)
		return aperr_errno(e, EX_NOINPUT, "%s", path);
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(out, buf, got);
	fclose(f);
	return 0;
}

static int curl_json(struct http_cli *h, const char *arg, struct aperr *e)
{
	struct curl_slist *n;

	if (http_cli_opt(h, HTTP_OPT_DATA_JSON, arg, e) < 0)
		return -1;
	n = curl_slist_append(h->headers, "Accept: application/json");
	if (!n)
		return aperr_set(e, EX_OSERR, "out of memory");
	h->headers = n;
	return 0;
}

/* Why a curl flag has no apipe meaning, in one line. */
static const struct {
	int opt;
	const char *name, *why;
} curl_refused[] = {
	{ 'O', "-O/--remote-name", "apipe writes JSON Lines, not files named after the URL; use -o FILE" },
	{ 'F', "-F/--form", "multipart bodies are not sent; use --json, --data-json or -d" },
	{ 'T', "-T/--upload-file", "uploads are not apipe's job; use -d @FILE or --data-binary @FILE" },
	{ 'b', "-b/--cookie", "apipe keeps no cookies; send one an API needs with "
			      "--api-key-header Cookie=env:NAME (a cookie is a credential)" },
	{ 'c', "-c/--cookie-jar", "apipe keeps no cookies" },
	{ 'x', "-x/--proxy", "set https_proxy (or http_proxy) in the environment; a proxy URL on "
			     "the command line may hold credentials" },
	{ HTTP_OPT_OAUTH2_BEARER, "--oauth2-bearer", "a token on the command line shows in ps; use "
						     "--bearer env:NAME or --bearer file:PATH" },
	{ 'Z', "-Z/--parallel", "apipe's requests run several at once with -j N (or "
				"--parallel-max N, as curl spells the number)" },
	{ '#', "-#/--progress-bar", "a progress line is shown on a terminal; -s hides it" },
	{ HTTP_OPT_OUTPUT_DIR, "--output-dir", "apipe writes one stream; use -o FILE" },
};

/* curl's everyday flags: 1 taken, 0 not one, -1 bad value or refused (e). */
static int curl_opt(struct http_cli *h, int opt, const char *arg, struct aperr *e)
{
	size_t i;

	switch (opt) {
	case 's': h->quiet = 1; return 1;
	case 'S':
	case HTTP_OPT_SHOW_ERROR: return 1;	/* errors are always shown */
	case 'f': return 1;			/* HTTP errors fail by default */
	case HTTP_OPT_FAIL: return 1;		/* and the envelope holds the body */
	case 'i':
	case HTTP_OPT_INCLUDE: return 1;	/* the envelope always holds the headers */
	case 'I':
		h->head = 1;
		free(h->method);
		return (h->method = strdup("HEAD")) ? 1 : aperr_set(e, EX_OSERR, "out of memory");
	case 'G': h->get = 1; return 1;
	case 'A':
		h->pol.user_agent = arg;
		return 1;
	case 'e': {
		struct strbuf hl = STRBUF_INIT;
		int r;

		strbuf_addf(&hl, "Referer: %s", arg);
		r = header_opt(h, hl.buf, e);
		strbuf_release(&hl);
		return r < 0 ? -1 : 1;
	}
	case 'u':
		if (!strchr(arg, ':'))
			return aperr_set(e, EX_USAGE, "-u %s: give the password as USER:env:NAME or "
					 "USER:file:PATH (apipe never prompts)", arg);
		return http_cli_opt(h, HTTP_OPT_BASIC, arg, e);
	case 'w':
		free(h->write_out);
		return (h->write_out = strdup(arg)) ? 1 : aperr_set(e, EX_OSERR, "out of memory");
	case HTTP_OPT_NETRC:
	case HTTP_OPT_NETRC_FILE: {
		const char *home = getenv("HOME");
		struct strbuf p = STRBUF_INIT;

		if (opt == HTTP_OPT_NETRC)
			strbuf_addf(&p, "%s/.netrc", home ? home : "");
		else
			strbuf_addstr(&p, arg);
		free(h->netrc);
		h->netrc = strbuf_detach(&p, NULL);
		return h->netrc ? 1 : aperr_set(e, EX_OSERR, "out of memory");
	}
	case HTTP_OPT_BASE_URL:
		if (strncasecmp(arg, "http://", 7) && strncasecmp(arg, "https://", 8))
			return aperr_set(e, EX_USAGE, "--base-url: '%s' is not an http or https URL", arg);
		free(h->base_url);
		return (h->base_url = strdup(arg)) ? 1 : aperr_set(e, EX_OSERR, "out of memory");
	case 'K':
	case HTTP_OPT_PROFILE:
		return aperr_set(e, EX_USAGE, "%s is read before the other options",
				 opt == 'K' ? "-K" : "--profile");
	default:
		for (i = 0; i < sizeof(curl_refused) / sizeof(*curl_refused); i++)
			if (curl_refused[i].opt == opt)
				return aperr_set(e, EX_USAGE, "%s: %s", curl_refused[i].name,
						 curl_refused[i].why);
		return 0;
	}
}

/* The request: method, headers, body, query: 1 taken, 0 not one of them, -1 (e). */
static int request_opt(struct http_cli *h, int opt, const char *arg, struct aperr *e)
{
	switch (opt) {
	case 'X':
		free(h->method);
		if (!(h->method = strdup(arg)))
			return aperr_set(e, EX_OSERR, "out of memory");
		return 1;
	case 'H':
		return header_opt(h, arg, e) < 0 ? -1 : 1;
	case HTTP_OPT_DATA_URLENCODE:
		return data_urlencode(h, arg, e) < 0 ? -1 : 1;
	case HTTP_OPT_JSON:
		/* curl's --json: a JSON body, and JSON asked for back */
		if (h->has_data && !h->data_json)
			return aperr_set(e, EX_USAGE, "--json: the body is already -d data");
		if (curl_json(h, arg, e) < 0)
			return -1;
		return 1;
	case HTTP_OPT_DATA_RAW:
		if (h->has_data)
			strbuf_addch(&h->data, '&');
		strbuf_addstr(&h->data, arg);	/* no @file: the text as it is */
		h->has_data = 1;
		return 1;
	case 'd':
	case HTTP_OPT_DATA_BINARY:
	case HTTP_OPT_DATA_JSON:
		if (h->has_data)
			strbuf_addch(&h->data, '&');
		if (opt == HTTP_OPT_DATA_JSON) {
			struct json_doc d;
			struct json_error je;
			struct strbuf text = STRBUF_INIT;
			int bad;

			/* @file: the file's JSON, as curl's --json @file */
			if (arg[0] == '@' && read_file(arg + 1, &text, e) < 0)
				return aperr_prefix(e, "--json");
			json_doc_init(&d, JSON_DEFAULT_DEPTH);
			json_error_init(&je);
			bad = arg[0] == '@' ? json_parse(&d, text.buf, text.len, &je) != 0
					    : json_parse(&d, arg, strlen(arg), &je) != 0;
			strbuf_release(&text);
			json_doc_release(&d);
			json_error_release(&je);
			if (bad || h->has_data)
				return aperr_set(e, EX_USAGE, "--data-json: %s",
						 bad ? "not valid JSON" : "only one JSON body");
			h->data_json = 1;
		}
		if (arg[0] == '@') {
			/* like curl: the file's content */
			if (read_file(arg + 1, &h->data, e) < 0)
				return aperr_prefix(e, "-d");
		} else {
			strbuf_addstr(&h->data, arg);
		}
		h->has_data = 1;
		return 1;
	case HTTP_OPT_QUERY: {
		const char *eq = strchr(arg, '=');

		if (!eq || eq == arg)
			return aperr_set(e, EX_USAGE, "--query: expected NAME=VALUE, got '%s'", arg);
		if (h->query.len)
			strbuf_addch(&h->query, '&');
		url_encode(&h->query, arg, (size_t)(eq - arg));
		strbuf_addch(&h->query, '=');
		url_encode(&h->query, eq + 1, strlen(eq + 1));
		return 1;
	}
	default:
		return 0;
	}
}

/*
 * The transport: concurrency, redirects, TLS, retries, timeouts, limits,
 * trusted origins: 1 taken, 0 not one of them, -1 (e).
 */
static int transport_opt(struct http_cli *h, int opt, const char *arg, struct aperr *e)
{
	uint64_t n;
	double s;

	if (opt == 'm')
		opt = HTTP_OPT_MAX_TIME;	/* curl's -m */
	else if (opt == HTTP_OPT_PARALLEL_MAX)
		opt = 'j';			/* curl's spelling of the number */
	switch (opt) {
	case 'j':
		if (count(arg, "-j", 1000, &n, e) < 0 || !n)
			return aperr_set(e, EX_USAGE, "-j: expected 1 to 1000, got '%s'", arg);
		h->pol.concurrency = (unsigned)n;
		return 1;
	case 'L': h->pol.follow = 1; return 1;
	case 'k': h->pol.insecure = 1; return 1;
	case HTTP_OPT_RETRY:
		if (count(arg, "--retry", 1000, &n, e) < 0)
			return -1;
		h->pol.retries = (unsigned)n;
		return 1;
	case HTTP_OPT_RETRY_DELAY:
		return seconds(arg, "--retry-delay", 0, &h->pol.retry_delay, e) < 0 ? -1 : 1;
	case HTTP_OPT_RETRY_MAX_TIME:
		return seconds(arg, "--retry-max-time", 0, &h->pol.retry_max_time, e) < 0 ? -1 : 1;
	case HTTP_OPT_MAX_DELAY:
		return seconds(arg, "--max-delay", 0, &h->pol.max_delay, e) < 0 ? -1 : 1;
	case HTTP_OPT_CONNECT_TIMEOUT:
		if (seconds(arg, "--connect-timeout", 0, &s, e) < 0)
			return -1;
		h->pol.connect_timeout_ms = (long)(s * 1000 + 0.5);
		return 1;
	case HTTP_OPT_MAX_TIME:
		if (seconds(arg, "--max-time", 0, &s, e) < 0)
			return -1;
		h->pol.timeout_ms = (long)(s * 1000 + 0.5);
		return 1;
	case HTTP_OPT_MAX_BODY: {
		uint64_t v;

		if (num_parse_size(arg, &v, "--max-body", e) < 0)
			return -1;
		h->pol.max_body = (size_t)v;
		return 1;
	}
	case HTTP_OPT_RATE: return rate_opt(h, arg, e) < 0 ? -1 : 1;
	case HTTP_OPT_BURST:
		if (count(arg, "--burst", 1000000, &n, e) < 0)
			return -1;
		h->pol.burst = (double)n;
		return 1;
	case HTTP_OPT_MIN_REMAINING:
		if (count(arg, "--min-remaining", 1000000000, &n, e) < 0)
			return -1;
		h->pol.min_remaining = (long long)n;
		return 1;
	case HTTP_OPT_COMPRESSED: h->pol.compressed = 1; return 1;
	case HTTP_OPT_NO_COMPRESSED: h->pol.compressed = 0; return 1;
	case HTTP_OPT_HTTP1: h->pol.http1 = 1; h->pol.http2 = 0; return 1;
	case HTTP_OPT_HTTP2: h->pol.http2 = 1; h->pol.http1 = 0; return 1;
	case HTTP_OPT_HTTP2_PK: h->pol.http2 = 2; h->pol.http1 = 0; return 1;
	case '4': h->pol.ipresolve = 4; return 1;
	case '6': h->pol.ipresolve = 6; return 1;
	case HTTP_OPT_NOPROXY: h->pol.noproxy = arg; return 1;
	case HTTP_OPT_RETRY_CONNREFUSED: h->pol.retry_first = 1; return 1;
	case HTTP_OPT_CERT: h->pol.cert = arg; return 1;
	case HTTP_OPT_KEY: h->pol.key = arg; return 1;
	case HTTP_OPT_CACERT: h->pol.cacert = arg; return 1;
	case HTTP_OPT_TRUST_ORIGIN: {
		struct strbuf o = STRBUF_INIT;
		char **nt;

		if (url_origin_arg(arg, &o) < 0) {
			strbuf_release(&o);
			return aperr_set(e, EX_USAGE, "--trust-origin: '%s' is not an origin "
					 "(scheme://host[:port], http or https)", arg);
		}
		nt = realloc(h->trusted, (h->ntrusted + 1) * sizeof(*nt));
		if (!nt) {
			strbuf_release(&o);
			return aperr_set(e, EX_OSERR, "out of memory");
		}
		h->trusted = nt;
		h->trusted[h->ntrusted++] = strbuf_detach(&o, NULL);
		h->pol.trusted = h->trusted;
		h->pol.ntrusted = h->ntrusted;
		return 1;
	}
	default:
		return 0;
	}
}

/* The credentials: 1 taken, 0 not one of them, -1 (e). */
static int auth_opt(struct http_cli *h, int opt, const char *arg, struct aperr *e)
{
	char *name = NULL, *value = NULL;
	int r = 0;

	switch (opt) {
	case HTTP_OPT_KEY_HEADER:
	case HTTP_OPT_KEY_QUERY:
		if (named_secret(h, arg, opt == HTTP_OPT_KEY_HEADER ? "--api-key-header"
								    : "--api-key-query",
				 &name, &value, e) < 0)
			return -1;
		r = auth_add_key(&h->auth, opt == HTTP_OPT_KEY_HEADER ? AUTH_KEY_HEADER
								      : AUTH_KEY_QUERY,
				 name, value, e);
		free(name);
		explicit_bzero(value, strlen(value));
		free(value);
		return r < 0 ? -1 : 1;
	case HTTP_OPT_KEYS:
		free(h->pending_keys);
		if (!(h->pending_keys = strdup(arg)))
			return aperr_set(e, EX_OSERR, "out of memory");
		return 1;
	case HTTP_OPT_KEY_NAME:
		free(h->key_name);
		if (!(h->key_name = strdup(arg)))
			return aperr_set(e, EX_OSERR, "out of memory");
		return 1;
	case HTTP_OPT_BEARER:
		if (set_kind(h, AUTH_BEARER, e) < 0)
			return -1;
		free(h->auth.bearer);
		return resolve(h, arg, "--bearer", &h->auth.bearer, e) < 0 ? -1 : 1;
	case HTTP_OPT_BASIC: {
		const char *colon = strchr(arg, ':');
		struct strbuf sb = STRBUF_INIT;

		if (set_kind(h, AUTH_BASIC, e) < 0)
			return -1;
		if (!colon || colon == arg)
			return aperr_set(e, EX_USAGE, "--basic: expected USER:SECRET, e.g. "
					 "alice:env:PASSWORD");
		if (resolve(h, colon + 1, "--basic", &value, e) < 0)
			return -1;
		strbuf_add(&sb, arg, (size_t)(colon - arg) + 1);
		strbuf_addstr(&sb, value);
		explicit_bzero(value, strlen(value));
		free(value);
		free(h->auth.basic);
		h->auth.basic = strbuf_detach(&sb, NULL);
		return 1;
	}
	case HTTP_OPT_TOKEN_URL:
		if (set_kind(h, AUTH_OAUTH2, e) < 0)
			return -1;
		free(h->auth.token_url);
		h->auth.token_url = strdup(arg);
		return 1;
	case HTTP_OPT_STORE:
		free(h->store);
		h->store = strdup(arg);
		return 1;
	case HTTP_OPT_CLIENT_ID:
		free(h->auth.client_id);
		h->auth.client_id = strdup(arg);
		return 1;
	case HTTP_OPT_CLIENT_SECRET:
		free(h->auth.client_secret);
		return resolve(h, arg, "--client-secret", &h->auth.client_secret, e) < 0 ? -1 : 1;
	case HTTP_OPT_SCOPE:
		if (h->auth.scope) {
			/* repeated --scope: space-separated, as OAuth2 wants */
			struct strbuf sb = STRBUF_INIT;

			strbuf_addf(&sb, "%s %s", h->auth.scope, arg);
			free(h->auth.scope);
			h->auth.scope = strbuf_detach(&sb, NULL);
		} else {
			h->auth.scope = strdup(arg);
		}
		return 1;
	case HTTP_OPT_REFRESH_TOKEN:
		free(h->auth.refresh_token);
		return resolve(h, arg, "--refresh-token", &h->auth.refresh_token, e) < 0 ? -1 : 1;
	case HTTP_OPT_TOKEN_MARGIN:
		return seconds(arg, "--token-margin", 1, &h->auth.margin, e) < 0 ? -1 : 1;
	case HTTP_OPT_JWT_ALG:
		if (!strcasecmp(arg, "HS256"))
			h->auth.jwt_alg = JWT_HS256;
		else if (!strcasecmp(arg, "RS256"))
			h->auth.jwt_alg = JWT_RS256;
		else
			return aperr_set(e, EX_USAGE, "--jwt-alg: HS256 or RS256, not '%s'", arg);
		return 1;
	case HTTP_OPT_JWT_KEY:
		free(h->auth.jwt_key);
		return resolve(h, arg, "--jwt-key", &h->auth.jwt_key, e) < 0 ? -1 : 1;
	case HTTP_OPT_JWT_CLAIMS:
		free(h->auth.jwt_claims);
		h->auth.jwt_claims = strdup(arg);
		return 1;
	case HTTP_OPT_JWT_TTL:
		return seconds(arg, "--jwt-ttl", 0, &h->auth.jwt_ttl, e) < 0 ? -1 : 1;
	default:
		return 0;
	}
}

int http_cli_opt(struct http_cli *h, int opt, const char *arg, struct aperr *e)
{
	int r;

	if ((r = request_opt(h, opt, arg, e)) != 0 || (r = transport_opt(h, opt, arg, e)) != 0 ||
	    (r = auth_opt(h, opt, arg, e)) != 0)
		return r;
	return curl_opt(h, opt, arg, e);
}



int http_cli_finish(struct http_cli *h, struct aperr *e)
{
	/*
	 * --key is curl's: the TLS client key, which goes with --cert.  A JSON
	 * Pointer there (dedupe's and upsert's --key) must not pass in silence.
	 */
	if (h->pol.key && !h->pol.cert)
		return aperr_set(e, EX_USAGE, "--key %s: --key is the TLS client key and goes with "
				 "--cert (a record key is dedupe's and upsert's --key)", h->pol.key);
	if (h->pol.key && access(h->pol.key, R_OK) < 0)
		return aperr_errno(e, EX_NOINPUT, "--key %s: cannot read the TLS client key",
				   h->pol.key);
	if (h->pol.cert && access(h->pol.cert, R_OK) < 0)
		return aperr_errno(e, EX_NOINPUT, "--cert %s: cannot read the TLS client certificate",
				   h->pol.cert);
	if (h->key_name && !h->pending_keys)
		return aperr_set(e, EX_USAGE, "--api-key-name goes with --api-keys");
	if (h->pending_keys) {
		const char *name = h->key_name ? h->key_name : "X-Api-Key";
		enum auth_kind k = AUTH_KEY_HEADER;
		char *list = h->pending_keys, *tok, *save = NULL;

		if (!strncmp(name, "query:", 6)) {
			k = AUTH_KEY_QUERY;
			name += 6;
		} else if (!strncmp(name, "header:", 7)) {
			name += 7;
		}
		for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			char *v;
			int r;

			if (resolve(h, tok, "--api-keys", &v, e) < 0)
				return -1;
			r = auth_add_key(&h->auth, k, name, v, e);
			explicit_bzero(v, strlen(v));
			free(v);
			if (r < 0)
				return -1;
		}
	}
	if (h->store && auth_load_store(&h->auth, h->store, e) < 0)
		return -1;
	if (h->auth.jwt_alg && h->auth.kind == AUTH_NONE)
		h->auth.kind = AUTH_JWT;
	if (h->head && h->has_data && !h->get)
		return aperr_set(e, EX_USAGE, "-I sends HEAD, which carries no body: use -G to put "
				 "the data in the query string");
	if (h->get && h->has_data) {
		/* -G: the data goes into the query string, as curl puts it there */
		if (h->data_json)
			return aperr_set(e, EX_USAGE, "-G with a JSON body: a query string holds "
					 "name=value pairs, use -d or --data-urlencode");
		if (h->query.len)
			strbuf_addch(&h->query, '&');
		strbuf_add(&h->query, h->data.buf, h->data.len);
		strbuf_reset(&h->data);
		h->has_data = 0;
	}
	if (h->netrc) {
		if (h->auth.kind != AUTH_NONE)
			return aperr_set(e, EX_USAGE, "--netrc and another kind of authentication: "
					 "one per run");
		if (http_cli_netrc_load(h, e) < 0)
			return -1;
	}
	if (h->data_json) {
		struct curl_slist *l;
		int have = 0;

		for (l = h->headers; l; l = l->next)
			if (!strncasecmp(l->data, "content-type:", 13))
				have = 1;
		if (!have)
			h->headers = curl_slist_append(h->headers, "Content-Type: application/json");
	}
	return auth_check(&h->auth, e);
}

int http_cli_request(const struct http_cli *h, struct http_req *r, const char *url,
		     struct aperr *e)
{
	struct strbuf u = STRBUF_INIT;
	struct curl_slist *l;
	const struct netrc_entry *nr;

	if (h->base_url && strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8)) {
		/* --base-url: a path resolves against it, as a link in a page would */
		if (url_resolve(h->base_url, url, &u, e) < 0)
			return aperr_prefix(e, "--base-url");
	} else {
		strbuf_addstr(&u, url);
	}
	if (h->query.len) {
		char *frag = strchr(u.buf, '#');

		if (frag)
			strbuf_setlen(&u, (size_t)(frag - u.buf));
		strbuf_addch(&u, strchr(u.buf, '?') ? '&' : '?');
		strbuf_add(&u, h->query.buf, h->query.len);
	}
	free(r->url);
	r->url = strbuf_detach(&u, NULL);
	if (h->method) {
		free(r->method);
		r->method = strdup(h->method);
	}
	for (l = h->headers; l; l = l->next)
		r->headers = curl_slist_append(r->headers, l->data);
	if (h->nnetrc && (nr = http_cli_netrc_for(h, r->url)))
		r->headers = curl_slist_append(r->headers, nr->header);
	if (h->has_data) {
		strbuf_reset(&r->body);
		strbuf_add(&r->body, h->data.buf, h->data.len);
		r->has_body = 1;
	}
	if (!r->url || (h->method && !r->method))
		return aperr_set(e, EX_OSERR, "out of memory");
	return 0;
}
