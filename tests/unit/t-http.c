/* lib/ratelimit, HTTP-dates, lib/secret, URL redaction, JWT signing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/redact.h"
#include "../tap.h"
#include "../../lib/auth.h"
#include "../../lib/backoff.h"
#include "../../lib/listing.h"
#include "../../lib/http.h"
#include "../../lib/instant.h"
#include "../../lib/json.h"
#include "../../lib/jsonw.h"
#include "../../lib/link.h"
#include "../../lib/httpcli.h"
#include "../../lib/paginate.h"
#include "../../lib/envelope.h"
#include "../../lib/httpstatus.h"
#include "../../lib/pkce.h"
#include "../../lib/tokenstore.h"
#include "../../lib/url.h"
#include "../../lib/ratelimit.h"
#include "../../lib/secret.h"

static void test_http_dates(void)
{
	static const char *const good[] = {
		"Sun, 06 Nov 1994 08:49:37 GMT",	/* IMF-fixdate */
		"Sunday, 06-Nov-94 08:49:37 GMT",	/* RFC 850 */
		"Sun Nov  6 08:49:37 1994",		/* asctime */
	};
	static const char *const bad[] = {
		"Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 31 Feb 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 25:49:37 GMT", "06 Nov 1994 08:49:37 GMT", "Sun, 06 Xyz 1994 08:49:37 GMT",
		"Sun Nov 6 08:49:37 1994", "", "Sunday",
	};
	struct instant t;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(*good); i++) {
		char desc[96];

		snprintf(desc, sizeof(desc), "HTTP-date %s", good[i]);
		ok(instant_parse_http_date(good[i], strlen(good[i]), &t) == 0 && t.sec == 784111777,
		   desc);
	}
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char desc[96];

		snprintf(desc, sizeof(desc), "not an HTTP-date: '%s'", bad[i]);
		ok(instant_parse_http_date(bad[i], strlen(bad[i]), &t) < 0, desc);
	}
}

static void test_retry_after(void)
{
	double d;

	ok(retry_after_parse("120", 3, 0, &d) == 0 && d == 120, "Retry-After: 120");
	ok(retry_after_parse("1.5", 3, 0, &d) == 0 && d == 1.5, "Retry-After: 1.5");
	ok(retry_after_parse(" 7 ", 3, 0, &d) == 0 && d == 7, "Retry-After with spaces");
	ok(retry_after_parse("-3", 2, 0, &d) == 0 && d == -3, "a negative Retry-After parses (the client floors it)");
	ok(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", 29, 784111770, &d) == 0 && d == 7,
	   "Retry-After as a date: seconds from now");
	ok(retry_after_parse("soon", 4, 0, &d) < 0, "Retry-After: soon is refused");
	ok(retry_after_parse("1e3", 3, 0, &d) < 0, "Retry-After: no exponents");
}

static void feed(struct rl_info *i, const char *name, const char *v, double now)
{
	rl_info_header(i, name, v, strlen(v), now);
}

static void test_rl_info(void)
{
	struct rl_info i;
	double now = 1800000000;

	rl_info_init(&i);
	feed(&i, "x-ratelimit-limit", "5000", now);
	feed(&i, "x-ratelimit-remaining", "42", now);
	feed(&i, "x-ratelimit-reset", "1800000030", now);
	ok(i.have_limit && i.limit == 5000 && i.have_remaining && i.remaining == 42 &&
	   i.have_reset && i.reset_in == 30, "X-RateLimit-*: reset as epoch seconds");
	rl_info_init(&i);
	feed(&i, "x-ratelimit-reset", "45", now);
	ok(i.reset_in == 45, "X-RateLimit-Reset as a delta");
	rl_info_init(&i);
	feed(&i, "x-ratelimit-reset", "1800000012000", now);
	ok(i.reset_in == 12, "X-RateLimit-Reset as epoch milliseconds");
	rl_info_init(&i);
	feed(&i, "ratelimit", "limit=100, remaining=7, reset=9", now);
	ok(i.limit == 100 && i.remaining == 7 && i.reset_in == 9, "RateLimit: limit=, remaining=, reset=");
	rl_info_init(&i);
	feed(&i, "ratelimit", "\"default\";r=3;t=11", now);
	feed(&i, "ratelimit-policy", "\"default\";q=50;w=60", now);
	ok(i.remaining == 3 && i.reset_in == 11 && i.limit == 50, "RateLimit structured form and policy");
	rl_info_init(&i);
	feed(&i, "ratelimit-remaining", "0", now);
	ok(i.have_remaining && i.remaining == 0, "RateLimit-Remaining (older drafts)");
	rl_info_init(&i);
	feed(&i, "content-type", "application/json", now);
	feed(&i, "x-ratelimit-remaining", "lots", now);
	ok(!i.have_remaining && !i.have_reset && !i.have_limit, "unrelated or malformed headers are ignored");
}

static void test_bucket(void)
{
	struct bucket b;

	bucket_init(&b, 2, 2, 100);
	ok(bucket_take(&b, 100) == 0 && bucket_take(&b, 100) == 0, "a burst of 2 passes");
	is_int((long long)(bucket_take(&b, 100) * 1000), 500, "the third waits 1/rate");
	ok(bucket_take(&b, 100.5) == 0, "after the wait it passes");
	bucket_init(&b, 0, 0, 0);
	ok(bucket_take(&b, 0) == 0 && bucket_take(&b, 0) == 0, "rate 0: no limit");
}

/* The one backoff policy: the ceiling doubles to the cap, jitter draws below it, the floor holds. */
static void test_backoff(void)
{
	struct backoff b;
	unsigned n, i, in = 1, spread = 0;
	double d, first = -1;

	backoff_init(&b, 0.1, 1.5, 0.01);
	b.jitter = 0;
	is_int((long long)(backoff_delay(&b, 0) * 1000), 100, "no jitter: the first wait is the base");
	is_int((long long)(backoff_delay(&b, 3) * 1000), 800, "doubling with each retry");
	is_int((long long)(backoff_delay(&b, 4) * 1000), 1500, "to the cap");
	is_int((long long)(backoff_delay(&b, 99) * 1000), 1500, "and no further, however many retries");
	b.jitter = 1;
	for (n = 0; n < 8; n++)
		for (i = 0; i < 200; i++) {
			double c = 0.1 * (double)(1u << n) > 1.5 ? 1.5 : 0.1 * (double)(1u << n);

			d = backoff_delay(&b, n);
			in &= d >= 0.01 && d <= c;
			if (first < 0)
				first = d;
			spread |= d != first;
		}
	ok(in, "full jitter: every wait between the floor and that retry's ceiling");
	ok(spread, "and the waits differ (clients spread out)");
	b.jitter = 0.5;
	for (i = 0, in = 1; i < 200; i++) {
		d = backoff_delay(&b, 2);
		in &= d >= 0.2 && d <= 0.4;
	}
	ok(in, "half jitter: in the upper half of the ceiling");
}

static void redact(const char *url, const char *extra, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	redact_url(&sb, url, extra);
	is_str(sb.buf, want, url);
	strbuf_release(&sb);
}

static void test_redaction(void)
{
	struct secrets s;
	struct strbuf sb = STRBUF_INIT;
	struct aperr e;
	char *v = NULL;
	FILE *f;
	char path[64], ref[80];

	redact("https://a.example/x?page=2", NULL, "https://a.example/x?page=2");
	redact("https://a.example/x?access_token=abc&page=2", NULL,
	       "https://a.example/x?access_token=REDACTED&page=2");
	redact("https://a.example/x?API_KEY=abc#frag", NULL, "https://a.example/x?API_KEY=REDACTED#frag");
	redact("https://a.example/x?k=1&mykey=zz&sig=q", "mykey",
	       "https://a.example/x?k=1&mykey=REDACTED&sig=REDACTED");
	redact("https://a.example/x?token", NULL, "https://a.example/x?token");
	ok(redact_header_name("Authorization", 13) && redact_header_name("set-cookie", 10) &&
	   !redact_header_name("content-type", 12), "sensitive header names");

	secrets_init(&s);
	setenv("APIPE_T_SECRET", "s3cr/t+value", 1);
	ok(secret_resolve("env:APIPE_T_SECRET", "--x", &s, &v, &e) == 0 && !strcmp(v, "s3cr/t+value"),
	   "env: reference");
	free(v);
	ok(secret_resolve("s3cr/t+value", "--x", &s, &v, &e) < 0 && e.code == EX_USAGE &&
	   strstr(e.msg, "literal secrets are refused"), "a literal is refused");
	ok(secret_resolve("env:APIPE_T_NOPE", "--x", &s, &v, &e) < 0 && e.code == EX_CONFIG,
	   "an unset variable is a configuration error");
	snprintf(path, sizeof(path), "/tmp/apipe-t-http.%ld", (long)getpid());
	snprintf(ref, sizeof(ref), "file:%s", path);
	f = fopen(path, "w");
	fputs("filevalue\n", f);
	fclose(f);
	ok(secret_resolve(ref, "--x", &s, &v, &e) == 0 && !strcmp(v, "filevalue"),
	   "file: reference, newline dropped");
	free(v);
	remove(path);
	strbuf_addstr(&sb, "a s3cr/t+value b s3cr%2Ft%2Bvalue c filevalue");
	secrets_scrub(&s, &sb);
	is_str(sb.buf, "a REDACTED b REDACTED c REDACTED", "scrub plain and percent-encoded values");
	{
		/* every spelling of a held value, by meaning (the value is s3cr/t+value) */
		static const struct { const char *in, *want, *what; } json[] = {
			{ "{\"k\":\"s3cr\\/t+value\"}", "{\"k\":\"REDACTED\"}", "\\/ (PHP's JSON)" },
			{ "{\"k\":\"\\u0073\\u0033cr/t\\u002bvalue\"}", "{\"k\":\"REDACTED\"}",
			  "\\u escapes" },
			{ "{\"u\":\"https://a/?k=s3cr%2ft%2bvalue&x=1\"}",
			  "{\"u\":\"https://a/?k=REDACTED&x=1\"}", "lower-case percent-encoding" },
			{ "{\"u\":\"q=%73%33%63%72%2F%74%2B%76%61%6C%75%65\"}",
			  "{\"u\":\"q=REDACTED\"}", "every byte percent-encoded" },
			{ "{\"u\":\"s3cr\\u002ft%2Bvalue\"}", "{\"u\":\"REDACTED\"}",
			  "a JSON escape and percent-encoding at once" },
			{ "{\"k\":\"a\\u00123456sn\"}", "{\"k\":\"a\\u00123456sn\"}",
			  "bytes of an escape are not a held value's (the fuzzer's find)" },
			{ "{\"id\":123456,\"n\":\"123456\",\"a\":[1,-1234567]}",
			  "{\"id\":\"REDACTED\",\"n\":\"REDACT\",\"a\":[1,\"REDACTED\"]}",
			  "a held number: a number holding it becomes a string, the JSON stays valid" },
		};
		size_t i;

		ok(secrets_add(&s, "123456") == 0 && secrets_add(&s, "with space") == 0, "more values");
		for (i = 0; i < sizeof(json) / sizeof(*json); i++) {
			strbuf_reset(&sb);
			strbuf_addstr(&sb, json[i].in);
			secrets_scrub_json(&s, &sb);
			is_str(sb.buf, json[i].want, json[i].what);
		}
		strbuf_reset(&sb);
		strbuf_addstr(&sb, "{\"kept\":123456,\"body\":{\"id\":123456,\"t\":\"s3cr\\/t+value\"}}");
		is_int((long)secrets_scrub_json_from(&s, &sb, 14), 2, "from an offset: two values masked");
		is_str(sb.buf, "{\"kept\":123456,\"body\":{\"id\":\"REDACTED\",\"t\":\"REDACTED\"}}",
		       "from an offset: what comes before it is left as it is, what follows masked");
		strbuf_reset(&sb);
		strbuf_addstr(&sb, "a \\uDade\\uDk s3cr\\/t+value");
		secrets_scrub(&s, &sb);
		is_str(sb.buf, "a \\uDade\\uDk REDACTED",
		       "a high surrogate before a bad escape in plain text: read as it is (the fuzzer's find)");
		strbuf_reset(&sb);
		strbuf_addstr(&sb, "-v: GET /x?q=with+space&r=with%20space");
		secrets_scrub(&s, &sb);
		is_str(sb.buf, "-v: GET /x?q=REDACTED&r=REDACTED", "'+' for space, in a plain line");
	}
	secrets_release(&s);
	strbuf_release(&sb);
}

static void test_jwt(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct aperr e;

	ok(jwt_sign(&sb, JWT_HS256, "secret-key", "{\"sub\":\"x\",\"iat\":1,\"exp\":2}", 300, &e) == 0,
	   "HS256 signs");
	is_str(sb.buf,
	       "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4IiwiaWF0IjoxLCJleHAiOjJ9."
	       "VC5fKtH11UtSasa4CDimM1iLmBUrW_IgaaEs1ETtlFk", "HS256 token matches a reference");
	strbuf_reset(&sb);
	ok(jwt_sign(&sb, JWT_HS256, "k", "[1]", 300, &e) < 0 && e.code == EX_USAGE,
	   "claims must be an object");
	ok(jwt_sign(&sb, JWT_RS256, "not a pem", "{}", 300, &e) < 0 && e.code == EX_CONFIG,
	   "RS256 needs a PEM key");
	strbuf_release(&sb);
}

static void link_case(const char *hdr, const char *want, const char *desc)
{
	struct strbuf sb = STRBUF_INIT;
	struct aperr e;
	int r = link_find(hdr, strlen(hdr), "next", &sb, &e);

	if (!want)
		is_int(r, 0, desc);
	else if (!strcmp(want, "ERROR"))
		is_int(r, -1, desc);
	else
		ok(r == 1 && sb.buf && !strcmp(sb.buf, want), desc);
	strbuf_release(&sb);
}

static void test_links(void)
{
	struct strbuf sb = STRBUF_INIT, big = STRBUF_INIT;
	struct aperr e;
	size_t i;

	link_case("<https://a/x?page=2>; rel=\"next\"", "https://a/x?page=2", "one link");
	link_case("<https://a/x?page=1>; rel=\"first\", <https://a/x?page=3>; rel=\"next\", "
		  "<https://a/x?page=9>; rel=\"last\"", "https://a/x?page=3", "next among several rels");
	link_case("<https://a/x?tags=a,b&page=2>; title=\"next, please; or; not\"; rel=\"next\"",
		  "https://a/x?tags=a,b&page=2", "commas in the URL and in a quoted parameter");
	link_case("<https://a/p2>; rel=\"prev next\"", "https://a/p2", "several relation types in one rel");
	link_case("<https://a/p2>; REL=NEXT", "https://a/p2", "unquoted, case-insensitive");
	link_case("<https://a/p1>; rel=\"prev\"", NULL, "no next");
	link_case("<https://a/p1>; rel=\"nextpage\"", NULL, "nextpage is not next");
	link_case(", ,<https://a/p2>; rel=next", "https://a/p2", "empty list elements");
	link_case("</items?page=2>; rel=\"next\"", "/items?page=2", "a relative reference as written");
	link_case("https://a/p2; rel=next", "ERROR", "no angle brackets: an error");
	link_case("<https://a/p2; rel=next", "ERROR", "unterminated <");
	link_case("<https://a/p2>; title=\"x; rel=next", "ERROR", "unterminated quoted string");
	link_case("<a\";,\"<https://a/p2>; rel=next", "ERROR", "'\"' and '<' cannot be in a URI");
	link_case("<https://a/p 2>; rel=next", "ERROR", "nor a space");
	/* hostile: a long header must not take quadratic time (it would time out) */
	for (i = 0; i < 200000; i++)
		strbuf_addstr(&big, "<u>; rel=\"a\"; title=\"b,c\", ");
	strbuf_addstr(&big, "<https://a/last>; rel=next");
	ok(link_find(big.buf, big.len, "next", &sb, &e) == 1 && !strcmp(sb.buf, "https://a/last"),
	   "200,000 links: the next one is found");
	strbuf_reset(&sb);
	ok(url_resolve("https://api.example.com/v1/items?page=1", "/v1/items?page=2", &sb, &e) == 0 &&
	   !strcmp(sb.buf, "https://api.example.com/v1/items?page=2"), "resolve an absolute path");
	strbuf_reset(&sb);
	ok(url_resolve("https://api.example.com/v1/items?page=1", "?page=3", &sb, &e) == 0 &&
	   !strcmp(sb.buf, "https://api.example.com/v1/items?page=3"), "resolve a query-only reference");
	strbuf_reset(&sb);
	ok(url_resolve("https://api.example.com/v1/items", "http://other.example/x", &sb, &e) == 0 &&
	   !strcmp(sb.buf, "http://other.example/x"), "an absolute URL stays");
	strbuf_reset(&sb);
	ok(url_resolve("https://api.example.com/v1/items", "file:///etc/passwd", &sb, &e) < 0,
	   "a file: URL is refused");
	strbuf_release(&sb);
	strbuf_release(&big);
}

static void query_case(const char *url, const char *name, const char *value, const char *want)
{
	struct strbuf u = STRBUF_INIT;
	char desc[200];

	strbuf_addstr(&u, url);
	snprintf(desc, sizeof(desc), "set %s=%s in %s", name, value ? value : "(none)", url);
	ok(url_set_query(&u, name, value) == 0 && u.buf && !strcmp(u.buf, want), desc);
	if (u.buf && strcmp(u.buf, want))
		printf("#   got %s\n", u.buf);
	strbuf_release(&u);
}

/* lib/url's percent-encoding, which the query helpers use (no libcurl). */
static void test_percent(void)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	char all[256];
	int i;

	for (i = 0; i < 256; i++)
		all[i] = (char)i;
	url_encode(&a, all, 256);
	url_decode(&b, a.buf, a.len);
	ok(b.len == 256 && !memcmp(b.buf, all, 256), "every byte survives encode then decode");
	strbuf_reset(&a);
	url_encode(&a, "a b/c~d-e_f.g+h", 15);
	is_str(a.buf, "a%20b%2Fc~d-e_f.g%2Bh", "encoding keeps only ALPHA DIGIT - . _ ~");
	strbuf_reset(&b);
	url_decode(&b, "%zz%4%41+%", 10);
	is_str(b.buf, "%zz%4A+%", "bad or cut escapes stay as written, + stays +");
	strbuf_release(&a);
	strbuf_release(&b);
}

static void test_query(void)
{
	struct strbuf v = STRBUF_INIT;

	query_case("https://a/x", "cursor", "c1", "https://a/x?cursor=c1");
	query_case("https://a/x?limit=10", "cursor", "c1", "https://a/x?limit=10&cursor=c1");
	query_case("https://a/x?cursor=old&limit=10", "cursor", "new", "https://a/x?limit=10&cursor=new");
	query_case("https://a/x?cursor=a&cursor=b", "cursor", "c", "https://a/x?cursor=c");
	query_case("https://a/x?page%5Bnumber%5D=2&z=1", "page[number]", "3",
		   "https://a/x?z=1&page%5Bnumber%5D=3");
	query_case("https://a/x?c=1#frag", "c", "a b/+", "https://a/x?c=a%20b%2F%2B");
	query_case("https://a/x?key=s&q=1", "key", NULL, "https://a/x?q=1");
	query_case("https://a/x?key=s", "key", NULL, "https://a/x");
	query_case("https://a/x?cursors=1", "cursor", "2", "https://a/x?cursors=1&cursor=2");
	ok(url_get_query("https://a/x?limit=25&offset=5", "offset", &v) == 1 && !strcmp(v.buf, "5"),
	   "get a parameter");
	ok(url_get_query("https://a/x?q=a%20b", "q", &v) == 1 && !strcmp(v.buf, "a b"),
	   "get decodes the value");
	is_int(url_get_query("https://a/x?offsets=1#offset=2", "offset", &v), 0,
	       "get: no such parameter (a longer name, the fragment)");
	strbuf_release(&v);
}

/* pag_detect keeps the shallowest total, and the value that goes with it. */
static void test_detect_total(void)
{
	static const char body[] = "{\"items\":[{\"id\":1}],\"meta\":{\"count\":5,"
				   "\"page\":{\"total\":{\"value\":1}}}}";
	struct json_doc d;
	struct json_error je;
	struct http_req r;
	struct pag_spec s;
	struct strbuf why = STRBUF_INIT;
	struct aperr e;

	json_doc_init(&d, 64);
	json_error_init(&je);
	http_req_init(&r);
	pag_spec_init(&s);
	ok(json_parse(&d, body, strlen(body), &je) == 0, "the page parses");
	ok(pag_detect(&s, "https://a/items", &r, &d, &why, &e) == 0 && s.guessed && s.confirm &&
	   s.cand && (s.style == PAG_OFFSET || s.style == PAG_PAGE),
	   "a total of 5 at /meta/count above 1 record with no way on, whatever a deeper total "
	   "says: a guess that page 2 must confirm and the crawl must meet the total, never one "
	   "page and the end");
	pag_spec_release(&s);
	http_req_release(&r);
	json_doc_release(&d);
	json_error_release(&je);
	strbuf_release(&why);
}

static void test_pg_url(void)
{
	struct pag_spec s, c;
	struct strbuf u = STRBUF_INIT, j1 = STRBUF_INIT, j2 = STRBUF_INIT;
	struct jsonw w1, w2;
	struct aperr e;

	pag_spec_init(&s);
	s.style = PAG_OFFSET;
	s.limit = 50;
	ok(pag_spec_compile(&s, &e) == 0, "offset compiles with the default names");
	pag_url(&s, "https://a/items?offset=7&q=1", NULL, &u);
	is_str(u.buf, "https://a/items?offset=7&q=1&limit=50", "offset: the first request adds the limit");
	is_int(pag_start_position(&s, "https://a/items?offset=7&q=1", NULL, 0), 7, "offset: starts at the URL's offset");
	pag_url(&s, "https://a/items?offset=7&q=1", "57", &u);
	is_str(u.buf, "https://a/items?q=1&offset=57&limit=50", "offset: a later page");
	s.style = PAG_PAGE;
	s.per_page = 20;
	pag_url(&s, "https://a/p", "3", &u);
	is_str(u.buf, "https://a/p?page=3&per_page=20", "page: number and size");
	pag_url(&s, "https://a/p", NULL, &u);
	is_str(u.buf, "https://a/p?per_page=20", "page: the first request leaves the page to the server");
	s.start_page = 0;
	s.start_page_set = 1;
	pag_url(&s, "https://a/p", NULL, &u);
	is_str(u.buf, "https://a/p?page=0&per_page=20", "page: --start-page 0 is sent");
	is_int(pag_start_position(&s, "https://a/p?page=5", NULL, 0), 0, "page: --start-page wins over the URL");
	s.style = PAG_CURSOR;
	ok(pag_spec_compile(&s, &e) < 0 && e.code == EX_USAGE, "cursor without its path is a usage error");
	pag_spec_set(&s.cursor_path, "/meta/next");
	pag_spec_set(&s.cursor_param, "after");
	ok(pag_spec_compile(&s, &e) == 0, "cursor with path and parameter compiles");
	pag_url(&s, "https://a/e?after=x&n=1", "y==", &u);
	is_str(u.buf, "https://a/e?n=1&after=y%3D%3D", "cursor: replaced and encoded");
	ok(pag_spec_copy(&c, &s, &e) == 0, "a spec copies (through its JSON form)");
	jw_init(&w1, &j1);
	pag_spec_json(&s, &w1);
	jw_init(&w2, &j2);
	pag_spec_json(&c, &w2);
	ok(jw_finish(&w1) == 0 && jw_finish(&w2) == 0, "a spec writes as JSON");
	is_str(j2.buf, j1.buf, "... and the copy is the same spec");
	is_str(j1.buf, "{\"style\":\"cursor\",\"cursor_path\":\"/meta/next\",\"cursor_param\":\"after\","
	       "\"offset_param\":\"offset\",\"limit_param\":\"limit\",\"page_param\":\"page\","
	       "\"per_page_param\":\"per_page\",\"limit\":50,\"start_page\":0,\"per_page\":20,"
	       "\"start_page_set\":true}", "the JSON form of a spec");
	pag_spec_release(&s);
	pag_spec_release(&c);
	/* positions in a JSON request body */
	pag_spec_init(&s);
	s.style = PAG_PAGE;
	pag_spec_set(&s.page_param, "body:/variables/page");
	s.per_page = 25;
	pag_spec_set(&s.per_page_param, "body:/variables/perPage");
	ok(pag_spec_compile(&s, &e) == 0 && pag_uses_body(&s), "page in the body compiles, and uses it");
	pag_url(&s, "https://a/graphql", "3", &u);
	is_str(u.buf, "https://a/graphql", "body parameters stay out of the URL");
	ok(pag_body(&s, "{\"query\":\"q\"}", 13, "3", &u, &e) == 0, "pag_body sets them");
	is_str(u.buf, "{\"query\":\"q\",\"variables\":{\"page\":3,\"perPage\":25}}",
	       "... page and size in the variables, as numbers");
	is_int(pag_start_position(&s, "https://a/graphql", "{\"variables\":{\"page\":0}}", 24), 0,
	       "page: starts at the body's own page");
	s.start_page_set = 0;
	s.start_page = 1;
	ok(pag_body(&s, "[]", 2, "2", &u, &e) < 0 && e.code == EX_USAGE,
	   "a body that cannot hold the pointer: a usage error");
	ok(pag_body(&s, "{", 1, "2", &u, &e) < 0 && e.code == EX_DATAERR, "a body that is not JSON: 65");
	pag_spec_set(&s.page_param, "body:x");
	ok(pag_spec_compile(&s, &e) < 0 && e.code == EX_USAGE, "body: with a malformed pointer");
	pag_spec_release(&s);
	strbuf_release(&u);
	strbuf_release(&j1);
	strbuf_release(&j2);
}

static void test_counts(void)
{
	uint64_t c[HTTP_STATUS_SLOTS] = { 0 };
	struct strbuf sb = STRBUF_INIT;
	struct jsonw w;

	jw_init(&w, &sb);
	jw_counts(&w, c, HTTP_STATUS_SLOTS);
	is_str(sb.buf, "{}", "no counts: {}");
	c[200] = 7;
	c[503] = 2;
	c[0] = 1;
	strbuf_reset(&sb);
	jw_init(&w, &sb);
	jw_counts(&w, c, HTTP_STATUS_SLOTS);
	is_str(sb.buf, "{\"0\":1,\"200\":7,\"503\":2}", "non-zero counts by index");
	strbuf_release(&sb);
}

/* The checkpoint format: written, read back, refused when it is not one. */
static void test_crawl_ck(void)
{
	struct pag_spec spec;
	struct listing_ck ck = { 0 }, in;
	struct listing_ck_tokens tk;
	struct strbuf sb = STRBUF_INIT, v = STRBUF_INIT;
	struct json_doc cd;
	struct jsonw w;
	struct aperr e;
	size_t i;
	static const struct {
		const char *json, *why;
	} bad[] = {
		{ "[]", "not a JSON object" },
		{ "{\"version\":2,\"listing\":0,\"output_bytes\":0}", "/version" },
		{ "{\"version\":1,\"output_bytes\":0}", "/listing" },
		{ "{\"version\":1,\"listing\":-1,\"output_bytes\":0}", "/listing" },
		{ "{\"version\":1,\"listing\":0}", "/output_bytes" },
		{ "{\"version\":1,\"listing\":0,\"output_bytes\":0,\"next\":5}", "/start" },
		{ "{\"version\":1,\"listing\":0,\"output_bytes\":0,\"start\":\"s\",\"start_id\":\"i\","
		  "\"next\":\"n\",\"page\":1.5}", "/page" },
		{ "{\"version\":1,\"listing\":0,\"output_bytes\":0,\"start\":\"s\",\"start_id\":\"i\","
		  "\"next\":\"n\",\"page\":1,\"pos\":0,\"step\":0,\"empty_run\":0,\"records\":0,\"pages\":0}",
		  "/spec" },
	};

	json_doc_init(&cd, 16);
	pag_spec_init(&spec);
	spec.style = PAG_OFFSET;
	spec.limit = 50;
	ck.listing = 3;
	ck.output_bytes = 12345;
	ck.at_page = 1;
	ck.start = "http://h/items?key=REDACTED";
	ck.start_id = "0123456789abcdef0123456789abcdef";
	ck.next = "http://h/items?offset=100&limit=50";
	ck.next_len = strlen(ck.next);
	ck.next_body = "{\"after\":[1,\"x\"]}";
	ck.next_body_len = strlen(ck.next_body);
	ck.page = 3;
	ck.pos = 100;
	ck.step = 50;
	ck.empty_run = 1;
	ck.records = 100;
	ck.pages = 2;
	ck.has_total = 1;
	ck.total = 9223372036854775807ULL;	/* json_u64 reads up to INT64_MAX */
	ck.spec = &spec;
	jw_init(&w, &sb);
	listing_ck_write(&w, &ck);
	ok(jw_finish(&w) == 0, "checkpoint: written");
	ok(json_parse(&cd, sb.buf, sb.len, NULL) == 0 && listing_ck_read(&cd, &in, &tk, &e) == 1,
	   "checkpoint: read back as a crawl under way");
	ok(in.at_page && in.listing == 3 && in.output_bytes == 12345 && in.page == 3 && in.pos == 100 &&
	   in.step == 50 && in.empty_run == 1 && in.records == 100 && in.pages == 2 && in.has_total &&
	   in.total == 9223372036854775807ULL, "checkpoint: every number comes back");
	json_str_decode(&cd, tk.next_body, &v);
	is_str(v.buf, "{\"after\":[1,\"x\"]}", "checkpoint: the next body comes back as text");
	strbuf_reset(&v);
	json_str_decode(&cd, tk.next, &v);
	is_str(v.buf, ck.next, "checkpoint: and the next URL");
	ok(tk.start && tk.start_id && tk.spec, "checkpoint: start, start_id and spec are there");

	strbuf_reset(&sb);
	ck.at_page = 0;
	ck.listing = 4;
	jw_init(&w, &sb);
	listing_ck_write(&w, &ck);
	ok(jw_finish(&w) == 0 && json_parse(&cd, sb.buf, sb.len, NULL) == 0 &&
	   listing_ck_read(&cd, &in, &tk, &e) == 1 && !in.at_page && in.listing == 4 && !tk.next,
	   "checkpoint: between listings, only where the next listing starts");
	strbuf_reset(&sb);
	jw_init(&w, &sb);
	listing_ck_complete(&w);
	ok(jw_finish(&w) == 0 && json_parse(&cd, sb.buf, sb.len, NULL) == 0 &&
	   listing_ck_read(&cd, &in, &tk, &e) == 0, "checkpoint: a complete crawl reads as 0");
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char desc[160];

		snprintf(desc, sizeof(desc), "checkpoint: refused, naming %s: %.60s", bad[i].why, bad[i].json);
		ok(json_parse(&cd, bad[i].json, strlen(bad[i].json), NULL) == 0 &&
		   listing_ck_read(&cd, &in, &tk, &e) < 0 && e.code == EX_DATAERR && strstr(e.msg, bad[i].why),
		   desc);
	}
	pag_spec_release(&spec);
	json_doc_release(&cd);
	strbuf_release(&sb);
	strbuf_release(&v);
}

/* lib/pkce and tokenstore_report: oauth-login's pieces. */
static void test_pkce(void)
{
	struct pkce a, b;
	struct aperr e;
	struct strbuf u = STRBUF_INIT;
	struct tokenset ts;
	const char *page;
	unsigned status;
	static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

	ok(pkce_init(&a, &e) == 0 && pkce_init(&b, &e) == 0, "pkce: two fresh sets");
	ok(strlen(a.verifier) == 43 && strspn(a.verifier, b64url) == 43 && strlen(a.challenge) == 43 &&
	   strspn(a.challenge, b64url) == 43 && strlen(a.state) == 32,
	   "pkce: a 43-character verifier and S256 challenge, base64url");
	ok(strcmp(a.verifier, b.verifier) && strcmp(a.state, b.state) && strcmp(a.challenge, b.challenge),
	   "pkce: each sign-in its own");
	/* RFC 7636 appendix B */
	snprintf(a.verifier, sizeof(a.verifier), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
	ok(pkce_challenge(a.verifier, a.challenge, &e) == 0 &&
	   !strcmp(a.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
	   "pkce: RFC 7636's example verifier gives its challenge");
	snprintf(a.state, sizeof(a.state), "st");
	ok(pkce_authorize_url(&a, "https://id.test/auth?x=1", "cid", "http://127.0.0.1:5/callback",
			      "read write", &u) == 0, "pkce: the authorization URL");
	is_str(u.buf, "https://id.test/auth?x=1&response_type=code&client_id=cid&redirect_uri="
		      "http%3A%2F%2F127.0.0.1%3A5%2Fcallback&scope=read%20write&state=st&code_challenge="
		      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
	       "pkce: every parameter, percent-encoded");
	ok(pkce_callback(&a, "c", "st", NULL, &status, &page) == PKCE_GOT_CODE && status == 200,
	   "callback: the code with this sign-in's state");
	ok(pkce_callback(&a, "c", "other", NULL, &status, &page) == PKCE_BAD_STATE && status == 400,
	   "callback: another state is refused first");
	ok(pkce_callback(&a, NULL, NULL, NULL, &status, &page) == PKCE_BAD_STATE,
	   "callback: no state is refused");
	ok(pkce_callback(&a, "c", "st", "access_denied", &status, &page) == PKCE_REFUSED,
	   "callback: the provider's error");
	ok(pkce_callback(&a, "", "st", NULL, &status, &page) == PKCE_NO_CODE, "callback: an empty code");
	strbuf_reset(&u);
	tokenset_init(&ts);
	tokenset_set(&ts.token_url, "https://id.test/token");
	tokenset_set(&ts.client_id, "cid");
	tokenset_set(&ts.access_token, "AT-secret");
	tokenset_set(&ts.refresh_token, "RT-secret");
	ts.expires_at = 1767225600;	/* 2026-01-01T00:00:00Z */
	ok(tokenstore_report("/s", &ts, 1767225600 - 90, &u, &e) == 0, "store report");
	is_str(u.buf, "{\"store\":\"/s\",\"token_url\":\"https://id.test/token\",\"client_id\":\"cid\","
		      "\"scope\":null,\"expires_at\":\"2026-01-01T00:00:00Z\",\"expires_in\":90,"
		      "\"refresh_token\":true}\n", "store report: no token, the expiry in both forms");
	tokenset_release(&ts);
	strbuf_release(&u);
}

/* --fail-on's status sets, and --body's encoding. */
static void test_fail_on(void)
{
	struct http_status_set none = { { 0 }, 0, 0 }, set = { { 0 }, 0, 0 }, off = { { 0 }, 0, 0 };
	struct http_req r;
	struct json_doc d;
	struct secrets sec;
	struct strbuf out = STRBUF_INIT;
	struct aperr e;

	ok(!http_status_set_fails(&none, 503, 0) && http_status_set_fails(&none, 0, 1) &&
	   http_status_set_fails(&none, 503, 1), "fail-on default: what got no usable response");
	ok(http_status_set_parse(&set, "404,5xx", &e) == 0 && http_status_set_fails(&set, 404, 0) &&
	   http_status_set_fails(&set, 599, 0) && !http_status_set_fails(&set, 429, 1) &&
	   http_status_set_fails(&set, 0, 1), "fail-on 404,5xx: those, and no response at all");
	ok(http_status_set_parse(&off, "none", &e) == 0 && !http_status_set_fails(&off, 0, 1),
	   "fail-on none: nothing");
	ok(http_status_set_parse(&set, "404,6xx", &e) < 0 && e.code == EX_USAGE &&
	   strstr(e.msg, "'6xx'"), "fail-on: a bad item is named");
	http_req_init(&r);
	json_doc_init(&d, 16);
	secrets_init(&sec);
	secrets_add(&sec, "tok123");
	strbuf_addstr(&r.resp_body, "{ \"a\" : [1, \"tok123\"] }");
	ok(envelope_body_only(&out, &r, &d, &sec) == 0 && !strcmp(out.buf, "{\"a\":[1,\"REDACT\"]}"),
	   "--body: JSON minified, a secret masked (in its own length at most)");
	strbuf_reset(&out);
	strbuf_reset(&r.resp_body);
	strbuf_addstr(&r.resp_body, "plain \"text\"\n");
	ok(envelope_body_only(&out, &r, &d, &sec) == 0 && !strcmp(out.buf, "\"plain \\\"text\\\"\\n\""),
	   "--body: text as one JSON string");
	strbuf_reset(&out);
	strbuf_reset(&r.resp_body);
	strbuf_add(&r.resp_body, "\xff\xfe", 2);
	ok(envelope_body_only(&out, &r, &d, &sec) == 1 && !out.len, "--body: bytes that are neither");
	http_req_release(&r);
	json_doc_release(&d);
	secrets_release(&sec);
	strbuf_release(&out);
}

int main(void)
{
	test_pkce();
	test_fail_on();
	test_counts();
	test_crawl_ck();
	test_links();
	test_query();
	test_percent();
	test_pg_url();
	test_detect_total();
	test_http_dates();
	test_retry_after();
	test_rl_info();
	test_bucket();
	test_backoff();
	test_redaction();
	test_jwt();
	return done_testing();
}
