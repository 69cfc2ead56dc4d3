/*
 * httpcli: the command-line options every HTTP program shares (fetch-page,
 * paginate): request shape, auth, retries, rate limits, timeouts and TLS,
 * parsed in one place.  A program hands http_cli_options and
 * http_cli_transport_options (struct cli_opt tables, declared once) to
 * tool_set_options(), each option to http_cli_opt(), then calls
 * http_cli_finish() once.
 *
 * Ownership: struct http_cli owns its struct secrets, struct auth and the
 * request template; http_cli_release() wipes and frees them.
 */
#ifndef APIPE_HTTPCLI_H
#define APIPE_HTTPCLI_H

#include <getopt.h>

#include "auth.h"
#include "cli.h"
#include "http.h"
#include "json.h"
#include "secret.h"

enum {
	HTTP_OPT_QUERY = CLI_OPT_FIRST_TOOL + 100,
	HTTP_OPT_DATA_JSON, HTTP_OPT_RETRY, HTTP_OPT_RETRY_DELAY, HTTP_OPT_RETRY_MAX_TIME,
	HTTP_OPT_MAX_DELAY, HTTP_OPT_CONNECT_TIMEOUT, HTTP_OPT_MAX_TIME, HTTP_OPT_RATE,
	HTTP_OPT_BURST, HTTP_OPT_MIN_REMAINING, HTTP_OPT_COMPRESSED, HTTP_OPT_NO_COMPRESSED,
	HTTP_OPT_HTTP1, HTTP_OPT_CERT, HTTP_OPT_KEY, HTTP_OPT_CACERT, HTTP_OPT_KEY_HEADER,
	HTTP_OPT_KEY_QUERY, HTTP_OPT_KEYS, HTTP_OPT_KEY_NAME, HTTP_OPT_BEARER, HTTP_OPT_BASIC,
	HTTP_OPT_TOKEN_URL, HTTP_OPT_CLIENT_ID, HTTP_OPT_CLIENT_SECRET, HTTP_OPT_SCOPE,
	HTTP_OPT_REFRESH_TOKEN, HTTP_OPT_TOKEN_MARGIN, HTTP_OPT_JWT_ALG, HTTP_OPT_JWT_KEY,
	HTTP_OPT_JWT_CLAIMS, HTTP_OPT_JWT_TTL, HTTP_OPT_MAX_BODY, HTTP_OPT_STORE,
	HTTP_OPT_TRUST_ORIGIN, HTTP_OPT_DATA_BINARY, HTTP_OPT_DATA_RAW, HTTP_OPT_DATA_URLENCODE,
	HTTP_OPT_JSON, HTTP_OPT_NETRC, HTTP_OPT_NETRC_FILE, HTTP_OPT_BASE_URL,
	HTTP_OPT_SHOW_ERROR, HTTP_OPT_INCLUDE, HTTP_OPT_PROFILE, HTTP_OPT_FAIL, HTTP_OPT_OUTPUT_DIR,
	HTTP_OPT_RETRY_CONNREFUSED, HTTP_OPT_HTTP2, HTTP_OPT_HTTP2_PK, HTTP_OPT_NOPROXY,
	HTTP_OPT_OAUTH2_BEARER, HTTP_OPT_PARALLEL_MAX
};

/*
 * curl's everyday flags, with curl's meaning: -s (quiet), -S (errors are
 * always shown), -u USER:env:NAME, -A, -e, -G, -w, -i (headers are always
 * in the envelope), -I (HEAD).  -K and --profile are read before the
 * options (tool_expand_config); -o is each program's.
 */

/* The usage lines for these options, for a program's usage text. */
#define HTTP_CLI_USAGE \
"       [-sSiI] [-K file] [--profile name] [--base-url url]\n" \
"       [-X method] [-H 'name: value']... [-A agent] [-e referer]\n" \
"       [-d data | --data-binary data | --data-raw data | --data-urlencode data |\n" \
"        --data-json json | --json json] [-G] [--query name=value]...\n" \
"       [-u user:secret] [--netrc | --netrc-file file] [-w format]\n" \
"       [-j n] [-L] [-k] [--http1.1 | --http2 | --http2-prior-knowledge] [-4 | -6]\n" \
"       [--noproxy hosts] [--compressed | --no-compressed] [--parallel-max n]\n" \
"       [-f | --fail-with-body]\n" \
"       [--retry n] [--retry-delay s] [--retry-max-time s] [--max-delay s]\n" \
"       [--retry-connrefused]\n" \
"       [--connect-timeout s] [-m s | --max-time s] [--max-body size]\n" \
"       [--rate n[/s|/m|/h]] [--burst n] [--min-remaining n]\n" \
"       [--cert file] [--key file] [--cacert file] [--trust-origin origin]...\n" \
"       [--api-key-header name=secret] [--api-key-query name=secret]\n" \
"       [--api-keys secret,...] [--api-key-name [query:]name]\n" \
"       [--bearer secret] [--basic user:secret]\n" \
"       [--oauth2-token-url url --client-id id --client-secret secret]\n" \
"       [--scope scope] [--refresh-token secret] [--token-margin s]\n" \
"       [--oauth2-store file]\n" \
"       [--jwt-alg HS256|RS256 --jwt-key secret] [--jwt-claims json] [--jwt-ttl s]\n"

/*
 * The HTTP options, declared once: the request options (shape, auth,
 * output, curl's refused spellings), and the transport ones (TLS, retries,
 * timeouts) that oauth-login shares.
 */
extern const struct cli_opt http_cli_options[];
extern const struct cli_opt http_cli_transport_options[];

struct http_cli {
	struct http_policy pol;
	struct secrets secrets;
	struct auth auth;
	/* The request template: applied to every request the program makes. */
	char *method;
	struct curl_slist *headers;
	struct strbuf query;		/* "a=1&b=2", already encoded */
	struct strbuf data;
	int has_data, data_json;
	/* --api-keys waits for --api-key-name */
	char *pending_keys;
	char *key_name;
	char *store;			/* --oauth2-store, loaded by http_cli_finish */
	char **trusted;			/* --trust-origin, normalised (pol.trusted points here) */
	size_t ntrusted;
	/* curl's flags */
	int quiet;			/* -s */
	int get;			/* -G: the data goes into the query string */
	int head;			/* -I */
	char *base_url;			/* --base-url: what relative URLs resolve against */
	char *write_out;		/* -w */
	char *netrc;			/* --netrc (~/.netrc) or --netrc-file */
	struct netrc_entry {
		char *machine, *header;	/* header: "Authorization: Basic …" */
	} *netrc_entries;
	size_t nnetrc;
};

void http_cli_init(struct http_cli *h);
void http_cli_release(struct http_cli *h);
/* 1: taken, 0: not an HTTP option, -1: bad value (e). */
int http_cli_opt(struct http_cli *h, int opt, const char *arg, struct aperr *e);
/* After the options: resolve what waits, check the whole.  0 or -1 (e). */
int http_cli_finish(struct http_cli *h, struct aperr *e);
/*
 * lib/netrc: load h->netrc (a private file, as curl reads it) into
 * h->netrc_entries, the passwords held as secrets (0, or -1 with
 * EX_NOINPUT, EX_CONFIG or EX_DATAERR); the entry for url's host, else the
 * default one, else NULL.
 */
int http_cli_netrc_load(struct http_cli *h, struct aperr *e);
const struct netrc_entry *http_cli_netrc_for(const struct http_cli *h, const char *url);
/*
 * -w: r's figures in format (curl's %{http_code}, %{response_code},
 * %{url_effective}, %{url}, %{method}, %{size_download}, %{time_total},
 * %{num_redirects}, %{num_retries}, %{content_type}, %{exitcode},
 * %{errormsg}; \n, \t, \r and %% escapes) appended to out, secrets scrubbed.
 */
void http_cli_write_out(const struct http_cli *h, const struct http_req *r, struct strbuf *out);

/*
 * Fill r (initialised) for url from the template: method, headers, query
 * parameters and body.  The caller may then add its own.  0 or -1 (e).
 */
int http_cli_request(const struct http_cli *h, struct http_req *r, const char *url,
		     struct aperr *e);
/*
 * Parse request line number lineno (a URL, or a JSON request object
 * {"url","method"?,"headers"?,"query"?,"body"?, …}) into r (initialised)
 * through the template; fields of the object that are not part of the
 * request are appended to meta as a minified JSON object.  d and je are
 * scratch.  Returns 0, or -1 with EX_DATAERR naming the line and member.
 */
int http_cli_request_line(const struct http_cli *h, struct json_doc *d, struct json_error *je,
			  const char *line, size_t n, uint64_t lineno, struct http_req *r,
			  struct strbuf *meta, struct aperr *e);
#endif
