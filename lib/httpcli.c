#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

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
	memset(h, 0, sizeof(*h));
}

/* Seconds as a decimal number, > 0 (or >= 0 with zero_ok). */
static int seconds(const char *arg, const char *opt, int zero_ok, double *out,
		   struct aperr *e)
{
	char *end;
	double v = strtod(arg, &end);

	if (end == arg || *end || v != v || v < 0 || (!zero_ok && v == 0) || v > 1e9)
		return aperr_set(e, EX_USAGE, "%s: '%s' is not a number of seconds", opt, arg);
	*out = v;
	return 0;
}

/* A whole number up to max, through the one number parser. */
static int count(const char *arg, const char *opt, uint64_t max, uint64_t *out,
		 struct aperr *e)
{
	if (num_parse_u64(arg, out, opt, e) < 0)
		return -1;
	if (*out > max)
		return aperr_set(e, EX_USAGE, "%s: '%s' is more than %llu", opt, arg,
				 (unsigned long long)max);
	return 0;
}

/* name=value, both percent-encoded. */
static int query_pair(struct strbuf *out, const char *name, size_t nl, const char *value,
		      size_t vl)
{
	char *n = curl_easy_escape(NULL, name, (int)nl);
	char *v = curl_easy_escape(NULL, value, (int)vl);
	int r = n && v ? strbuf_addf(out, "%s=%s", n, v) : -1;

	curl_free(n);
	curl_free(v);
	return r;
}

int http_add_query(struct strbuf *url, const char *name, size_t nl, const char *value,
		   size_t vl)
{
	if (!url->len || !memchr(url->buf, '?', url->len))
		strbuf_addch(url, '?');
	else if (url->buf[url->len - 1] != '?' && url->buf[url->len - 1] != '&')
		strbuf_addch(url, '&');
	return query_pair(url, name, nl, value, vl);
}

/* Is the query pair p[0..n) named name (compared percent-decoded)? */
static int pair_named(const char *p, size_t n, const char *name, struct strbuf *value)
{
	const char *eq = memchr(p, '=', n);
	size_t kl = eq ? (size_t)(eq - p) : n;
	int dl = 0, match;
	char *k = curl_easy_unescape(NULL, p, (int)kl, &dl);

	match = k && (size_t)dl == strlen(name) && !memcmp(k, name, (size_t)dl);
	curl_free(k);
	if (match && value) {
		char *v = curl_easy_unescape(NULL, eq ? eq + 1 : p + n,
				       eq ? (int)(n - kl - 1) : 0, &dl);
		if (!v)
			return -1;
		strbuf_reset(value);
		strbuf_add(value, v, (size_t)dl);
		curl_free(v);
	}
	return match;
}

/* The query part of url: [*qs, *qe). */
static void query_span(const char *url, const char **qs, const char **qe)
{
	const char *q = strchr(url, '?'), *h = strchr(url, '#');

	if (!q || (h && h < q)) {
		*qs = *qe = h ? h : url + strlen(url);
		return;
	}
	*qs = q + 1;
	*qe = h ? h : url + strlen(url);
}

int http_get_query(const char *url, const char *name, struct strbuf *value)
{
	const char *qs, *qe, *p;

	query_span(url, &qs, &qe);
	for (p = qs; p < qe;) {
		const char *amp = memchr(p, '&', (size_t)(qe - p));
		size_t n = amp ? (size_t)(amp - p) : (size_t)(qe - p);
		int r = n ? pair_named(p, n, name, value) : 0;

		if (r)
			return r;
		p += n + 1;
	}
	return 0;
}

int http_set_query(struct strbuf *url, const char *name, const char *value)
{
	struct strbuf o = STRBUF_INIT;
	const char *u = url->buf ? url->buf : "", *qs, *qe, *p;
	int any = 0, r;

	query_span(u, &qs, &qe);
	strbuf_add(&o, u, (size_t)(qs - u));
	if (qs > u && qs[-1] == '?')
		o.len--, o.buf[o.len] = '\0';
	for (p = qs; p < qe;) {
		const char *amp = memchr(p, '&', (size_t)(qe - p));
		size_t n = amp ? (size_t)(amp - p) : (size_t)(qe - p);

		if (n && !pair_named(p, n, name, NULL)) {
			strbuf_addch(&o, any++ ? '&' : '?');
			strbuf_add(&o, p, n);
		}
		p += n + 1;
	}
	r = value ? http_add_query(&o, name, strlen(name), value, strlen(value)) : 0;
	strbuf_release(url);
	*url = o;
	return r < 0 ? -1 : 0;
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
	if (redact_header_name(arg, (size_t)(colon - arg)))
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
		end = (char *)arg;
	if (end == arg || v != v || v <= 0)
		return aperr_set(e, EX_USAGE, "--rate: expected N, N/s, N/m or N/h, got '%s'", arg);
	h->pol.rate = v / per;
	return 0;
}

int http_cli_opt(struct http_cli *h, int opt, const char *arg, struct aperr *e)
{
	uint64_t n;
	double s;
	char *name = NULL, *value = NULL;
	int r = 0;

	switch (opt) {
	case 'X':
		free(h->method);
		if (!(h->method = strdup(arg)))
			return aperr_set(e, EX_OSERR, "out of memory");
		return 1;
	case 'H':
		return header_opt(h, arg, e) < 0 ? -1 : 1;
	case 'd':
	case HTTP_OPT_DATA_JSON:
		if (h->has_data)
			strbuf_addch(&h->data, '&');
		if (opt == HTTP_OPT_DATA_JSON) {
			struct json_doc d;
			struct json_error je;
			int bad;

			json_doc_init(&d, JSON_DEFAULT_DEPTH);
			json_error_init(&je);
			bad = json_parse(&d, arg, strlen(arg), &je) != 0;
			json_doc_release(&d);
			json_error_release(&je);
			if (bad || h->has_data)
				return aperr_set(e, EX_USAGE, "--data-json: %s",
						 bad ? "not valid JSON" : "only one JSON body");
			h->data_json = 1;
		}
		if (arg[0] == '@') {
			/* like curl: the file's content */
			FILE *f = fopen(arg + 1, "rb");
			char buf[65536];
			size_t got;

			if (!f)
				return aperr_errno(e, EX_NOINPUT, "-d %s", arg);
			while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
				strbuf_add(&h->data, buf, got);
			fclose(f);
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
		query_pair(&h->query, arg, (size_t)(eq - arg), eq + 1, strlen(eq + 1));
		return 1;
	}
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
	case HTTP_OPT_HTTP1: h->pol.http1 = 1; return 1;
	case HTTP_OPT_CERT: h->pol.cert = arg; return 1;
	case HTTP_OPT_KEY: h->pol.key = arg; return 1;
	case HTTP_OPT_CACERT: h->pol.cacert = arg; return 1;
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

	strbuf_addstr(&u, url);
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
	if (h->has_data) {
		strbuf_reset(&r->body);
		strbuf_add(&r->body, h->data.buf, h->data.len);
		r->has_body = 1;
	}
	if (!r->url || (h->method && !r->method))
		return aperr_set(e, EX_OSERR, "out of memory");
	return 0;
}
int http_cli_request_line(const struct http_cli *h, struct json_doc *d, struct json_error *je,
			  const char *line, size_t n, uint64_t lineno, struct http_req *r,
			  struct strbuf *meta, struct aperr *e)
{
	struct strbuf v = STRBUF_INIT;
	uint32_t k;
	int rc = -1, r2, first_meta = 1;

	while (n && (*line == ' ' || *line == '\t'))
		line++, n--;
	if (*line != '{') {
		while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
			n--;
		if (memchr(line, ' ', n) || memchr(line, '\0', n))
			return aperr_set(e, EX_DATAERR, "line %llu: not a URL or a JSON request",
					 (unsigned long long)lineno);
		strbuf_add(&v, line, n);
		rc = http_cli_request(h, r, v.buf, e);
		strbuf_release(&v);
		return rc;
	}
	r2 = json_parse(d, line, n, je);
	if (r2 == -2)
		return aperr_set(e, EX_OSERR, "line %llu: out of memory", (unsigned long long)lineno);
	if (r2 < 0) {
		json_error_to_aperr(je, e);
		return aperr_prefix(e, "line %llu", (unsigned long long)lineno);
	}
	if (json_type(d, 0) != JSON_OBJECT)
		return aperr_set(e, EX_DATAERR, "line %llu: a request is a JSON object",
				 (unsigned long long)lineno);
	k = json_get(d, 0, "url", 3);
	if (!k || json_type(d, k) != JSON_STRING || json_str_decode(d, k, &v) < 0 || !v.len) {
		aperr_set(e, EX_DATAERR, "line %llu: /url: %s", (unsigned long long)lineno,
			  k ? "must be a non-empty string" : "missing");
		goto out;
	}
	if (http_cli_request(h, r, v.buf, e) < 0)
		goto out;
	for (k = json_first(d, 0); k; k = json_next(d, 0, k)) {
		uint32_t val = k + 1;
		const char *key = json_src(d, k) + 1;
		size_t kl = json_srclen(d, k) - 2;
		enum json_type t = json_type(d, val);

		strbuf_reset(&v);
		if (json_str_eq(d, k, "url", 3)) {
			continue;
		} else if (json_str_eq(d, k, "method", 6)) {
			if (t != JSON_STRING || json_str_decode(d, val, &v) < 0 || !v.len ||
			    strpbrk(v.buf, " \r\n")) {
				aperr_set(e, EX_DATAERR, "line %llu: /method: must be a method name",
					  (unsigned long long)lineno);
				goto out;
			}
			free(r->method);
			r->method = strbuf_detach(&v, NULL);
		} else if (json_str_eq(d, k, "headers", 7)) {
			uint32_t hk;

			if (t != JSON_OBJECT) {
				aperr_set(e, EX_DATAERR, "line %llu: /headers: must be an object",
					  (unsigned long long)lineno);
				goto out;
			}
			for (hk = json_first(d, val); hk; hk = json_next(d, val, hk)) {
				struct strbuf hl = STRBUF_INIT;
				int bad;

				json_str_decode(d, hk, &hl);
				strbuf_addstr(&hl, ": ");
				bad = json_type(d, hk + 1) != JSON_STRING ||
				      json_str_decode(d, hk + 1, &hl) < 0 || strpbrk(hl.buf, "\r\n");
				if (!bad)
					r->headers = curl_slist_append(r->headers, hl.buf);
				strbuf_release(&hl);
				if (bad) {
					aperr_set(e, EX_DATAERR,
						  "line %llu: /headers: values must be one-line strings",
						  (unsigned long long)lineno);
					goto out;
				}
			}
		} else if (json_str_eq(d, k, "query", 5)) {
			struct strbuf url = STRBUF_INIT;
			uint32_t q;

			if (t != JSON_OBJECT) {
				aperr_set(e, EX_DATAERR, "line %llu: /query: must be an object",
					  (unsigned long long)lineno);
				goto out;
			}
			strbuf_addstr(&url, r->url);
			for (q = json_first(d, val); q; q = json_next(d, val, q)) {
				struct strbuf name = STRBUF_INIT, qv = STRBUF_INIT;
				uint32_t x = q + 1, item;
				int many = json_type(d, x) == JSON_ARRAY;

				json_str_decode(d, q, &name);
				for (item = many ? json_first(d, x) : x; item;
				     item = many ? json_next(d, x, item) : 0) {
					enum json_type it = json_type(d, item);

					strbuf_reset(&qv);
					if (it == JSON_STRING)
						json_str_decode(d, item, &qv);
					else if (it == JSON_NUMBER || it == JSON_TRUE || it == JSON_FALSE)
						strbuf_add(&qv, json_src(d, item), json_srclen(d, item));
					else
						continue;	/* null: no parameter */
					http_add_query(&url, name.buf ? name.buf : "", name.len,
						       qv.buf ? qv.buf : "", qv.len);
				}
				strbuf_release(&name);
				strbuf_release(&qv);
			}
			free(r->url);
			r->url = strbuf_detach(&url, NULL);
		} else if (json_str_eq(d, k, "body", 4)) {
			strbuf_reset(&r->body);
			if (t == JSON_STRING) {
				json_str_decode(d, val, &r->body);
			} else {
				json_minify(d, val, &r->body);
				r->headers = curl_slist_append(r->headers,
								   "Content-Type: application/json");
			}
			r->has_body = 1;
		} else {
			/* anything else is carried into the envelope under meta */
			strbuf_addch(meta, first_meta ? '{' : ',');
			first_meta = 0;
			strbuf_addch(meta, '"');
			strbuf_add(meta, key, kl);
			strbuf_addstr(meta, "\":");
			json_minify(d, val, meta);
		}
	}
	if (!first_meta)
		strbuf_addch(meta, '}');
	rc = 0;
out:
	strbuf_release(&v);
	return rc;
}

