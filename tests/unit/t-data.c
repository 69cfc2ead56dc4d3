/* lib/ordval, lib/shape, lib/format, lib/idna, lib/cli, lib/envelope: contracts and errors. */
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "../../lib/cli.h"
#include "../../lib/dedupe.h"
#include "../../lib/envelope.h"
#include "../../lib/format.h"
#include "../../lib/idna.h"
#include "../../lib/json.h"
#include "../../lib/ordval.h"
#include "../../lib/shape.h"

static struct json_doc d;
static struct json_error je;

static int parse(const char *s)
{
	return json_parse(&d, s, strlen(s), &je);
}

/* Compare JSON values a and b taken as kind k: the sign of ordval_cmp, or 9 on an error. */
static int cmp_as(const char *a, const char *b, enum ordkind k)
{
	struct ordval x, y;
	struct aperr e;
	int r = 9;

	ordval_init(&x);
	ordval_init(&y);
	if (ordval_set_text(&x, a, strlen(a), k, &e) == 0 &&
	    ordval_set_text(&y, b, strlen(b), k, &e) == 0 && x.kind == y.kind) {
		r = ordval_cmp(&x, &y);
		r = r < 0 ? -1 : r > 0;
	}
	ordval_release(&x);
	ordval_release(&y);
	return r;
}

static void test_ordval(void)
{
	struct ordval v, c;
	struct aperr e;

	is_str(ordkind_name(ORD_EPOCH_MS), "epoch-ms", "kind names");
	is_int(ordkind_parse("timestamp"), ORD_TIMESTAMP, "and back");
	is_int(ordkind_parse("nonsense"), -1, "an unknown kind name is -1");

	is_int(cmp_as("\"2026-01-01T10:00:00+02:00\"", "\"2026-01-01T09:00:00Z\"", ORD_AUTO), -1,
	       "timestamps compare as instants, not strings");
	is_int(cmp_as("\"2026-01-01T08:00:00.000Z\"", "\"2026-01-01T10:00:00+02:00\"", ORD_AUTO), 0,
	       "the same instant in two offsets is equal");
	is_int(cmp_as("9007199254740993", "9007199254740992", ORD_AUTO), 1,
	       "numbers compare exactly past 2^53");
	is_int(cmp_as("1.10", "1.1", ORD_NUMBER), 0, "1.10 equals 1.1");
	is_int(cmp_as("-0", "0", ORD_NUMBER), 0, "-0 equals 0");
	is_int(cmp_as("1e2", "99.5", ORD_NUMBER), 1, "exponents count");
	is_int(cmp_as("\"b\"", "\"a\\u00e9\"", ORD_STRING), 1, "strings bytewise after unescaping");
	is_int(cmp_as("1700000000", "1700000000000", ORD_AUTO), -1, "two plain numbers");
	{
		struct ordval a, b;

		ordval_init(&a);
		ordval_init(&b);
		ordval_set_text(&a, "1700000000", 10, ORD_EPOCH, &e);
		ordval_set_text(&b, "1700000000000", 13, ORD_EPOCH_MS, &e);
		is_int(instant_cmp(&a.t, &b.t), 0, "epoch seconds and milliseconds meet as instants");
		ordval_release(&a);
		ordval_release(&b);
	}

	ordval_init(&v);
	is_int(ordval_set_text(&v, "true", 4, ORD_AUTO, &e), -1, "a boolean cannot be ordered");
	is_int(e.code, EX_DATAERR, "EX_DATAERR");
	ok(strstr(e.msg, "boolean") != NULL, "naming what was found");
	is_int(ordval_set_text(&v, "\"x\"", 3, ORD_NUMBER, &e), -1, "a string is not a number");
	is_int(ordval_set_text(&v, "\"yesterday\"", 11, ORD_TIMESTAMP, &e), -1,
	       "a non-timestamp string is not a timestamp");
	ok(strstr(e.msg, "RFC 3339") != NULL, "and the message says what is wanted");
	is_int(ordval_set_text(&v, "\"2026-01-01T00:00:00Z\"", 22, ORD_AUTO, &e), 0, "a timestamp");
	is_int(v.kind, ORD_TIMESTAMP, "detected as one");
	is_mem(v.raw.buf, v.raw.len, "\"2026-01-01T00:00:00Z\"", "raw keeps the JSON text");
	ordval_init(&c);
	is_int(ordval_copy(&c, &v), 0, "copy");
	ordval_release(&v);
	is_mem(c.raw.buf, c.raw.len, "\"2026-01-01T00:00:00Z\"", "a copy outlives its source");
	ordval_release(&c);
}

static void test_shape(void)
{
	static const char *const recs[] = {
		"{\"id\":1,\"when\":\"2026-01-01T00:00:00Z\",\"tags\":[\"a\"],\"o\":{\"x\":1}}",
		"{\"id\":2.5,\"when\":\"2026-01-02T00:00:00Z\",\"tags\":[],\"o\":{\"x\":null},\"extra\":true}",
	};
	struct shape *sh = shape_new(), *base;
	struct strbuf out = STRBUF_INIT;
	struct aperr e;
	size_t i;

	for (i = 0; i < 2; i++) {
		ok(parse(recs[i]) == 0, "parse a record");
		is_int(shape_observe(sh, &d, 0, i + 1, &e), 0, "observe it");
	}
	is_int(sh->count, 2, "two records seen");
	is_int(sh->nprops, 5, "five members, in order of first appearance");
	is_str(sh->props[0]->name, "id", "id first");
	is_int(sh->props[0]->types, SH_INTEGER | SH_NUMBER, "id: an integer and a number");
	is_int(sh->props[1]->formats, SHF_DATE_TIME, "when: every value a date-time");
	is_int(sh->props[4]->count, 1, "extra present once");
	is_int(sh->props[4]->first_line, 2, "first on line 2");
	is_int(sh->props[2]->items->count, 1, "array items merged into one node");
	is_int(sh->props[3]->props[0]->types, SH_INTEGER | SH_NULL, "o/x: integer and null");

	shape_types_json(&out, SH_STRING);
	is_mem(out.buf, out.len, "\"string\"", "one type as a string");
	strbuf_reset(&out);
	shape_types_json(&out, SH_INTEGER | SH_NUMBER | SH_NULL);
	is_mem(out.buf, out.len, "[\"number\",\"null\"]", "integer merges into number; null listed");
	strbuf_reset(&out);
	shape_types_json(&out, 0);
	is_mem(out.buf, out.len, "null", "no type is null");
	is_str(shape_type_name(SH_BOOLEAN), "boolean", "type names");
	is_str(shape_format_name(SHF_UUID), "uuid", "format names");
	is_int(shape_format_pick(SHF_DATE | SHF_URI), SHF_DATE, "the preferred format of a mask");
	is_int(shape_format_pick(0), 0, "none of none");

	strbuf_reset(&out);
	shape_schema_json(&out, sh, 2);
	ok(parse(out.buf) == 0, "the inferred schema is JSON");
	ok(json_type(&d, json_get(&d, 0, "required", 8)) == JSON_ARRAY, "with a required list");
	ok(strstr(out.buf, "\"extra\"") != NULL, "naming every member");
	base = shape_load_baseline(&d, 0, &e);
	ok(base != NULL, "it loads back as a baseline");
	if (base) {
		ok(base->baseline && base->nprops == 5, "with its five members");
		ok(parse("{\"id\":\"seven\",\"tags\":[],\"o\":{\"x\":1}}") == 0, "a drifted record");
		shape_observe(base, &d, 0, 9, &e);
		is_int(base->props[0]->bad_type, 1, "a value of a type the baseline does not allow");
		is_int(base->props[0]->first_bad_type, 9, "on line 9");
		is_int(base->props[1]->missing, 1, "a required member missing");
		shape_free(base);
	}
	ok(parse("[1]") == 0, "an array");
	ok(shape_load_baseline(&d, 0, &e) == NULL, "is not a baseline");
	is_int(e.code, EX_CONFIG, "EX_CONFIG");
	shape_free(sh);
	strbuf_release(&out);
}

static void test_format(void)
{
	static const struct { const char *fmt, *s; int want; } cases[] = {
		{ "date-time", "2026-12-02T05:39:17.5Z", 1 },
		{ "date-time", "2026-12-02T05:39:17", 0 },
		{ "date-time", "2016-12-31T23:59:60Z", 1 },
		{ "date-time", "2015-06-30T12:00:60Z", 0 },
		{ "date", "2024-02-29", 1 },
		{ "date", "2023-02-29", 0 },
		{ "time", "23:59:59+01:00", 1 },
		{ "duration", "P1Y2M3DT4H5M6S", 1 },
		{ "duration", "PT", 0 },
		{ "email", "a.b@example.com", 1 },
		{ "email", "a..b@example.com", 0 },
		{ "hostname", "api.example.com", 1 },
		{ "hostname", "-bad.example.com", 0 },
		{ "hostname", "xn--bcher-kva.example", 1 },
		{ "ipv4", "192.168.0.1", 1 },
		{ "ipv4", "192.168.00.1", 0 },
		{ "ipv6", "::1", 1 },
		{ "ipv6", "1:2:3:4:5:6:7:8:9", 0 },
		{ "uri", "https://example.com/a?b#c", 1 },
		{ "uri", "/relative", 0 },
		{ "uri-reference", "/relative", 1 },
		{ "uuid", "2eb8aa08-aa98-11ea-b4aa-73b441d16380", 1 },
		{ "uuid", "2eb8aa08aa9811eab4aa73b441d16380", 0 },
		{ "regex", "^[a-z]+$", 1 },
		{ "regex", "(", 0 },
		{ "json-pointer", "/a~1b/0", 1 },
		{ "json-pointer", "a", 0 },
		{ "relative-json-pointer", "1/a", 1 },
	};
	size_t i;
	char desc[200], err[128];
	pcre2_code *re;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		snprintf(desc, sizeof(desc), "%s: %s is %s", cases[i].fmt, cases[i].s,
			 cases[i].want ? "valid" : "not valid");
		is_int(format_check(cases[i].fmt, cases[i].s, strlen(cases[i].s)), cases[i].want,
		       desc);
	}
	is_int(format_check("color", "red", 3), -1, "an unknown format is -1");
	ok(format_lookup("color") == NULL, "and has no check");
	ok(format_lookup("uuid") != NULL, "a known one has");
	re = format_regex("\\p{Letter}+$", 12, err, sizeof(err));
	ok(re != NULL, "ECMA property names compile");
	if (re) {
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);

		ok(pcre2_match(re, (PCRE2_SPTR) "12\xc3\xa9t\xc3\xa9", 7, 0, 0, md, NULL) >= 0,
		   "and match Unicode letters, unanchored at the start");
		ok(pcre2_match(re, (PCRE2_SPTR) "\xc3\xa9t\xc3\xa9\n", 6, 0, 0, md, NULL) < 0,
		   "'$' is only the very end");
		pcre2_match_data_free(md);
		pcre2_code_free(re);
	}
	ok(format_regex("[", 1, err, sizeof(err)) == NULL && err[0], "a bad pattern gives a reason");
}

static void test_idna(void)
{
	char out[64];
	long n;

	n = idna_punycode_decode("bcher-kva", 9, out, sizeof(out));
	is_int(n, 7, "Punycode decodes (bücher)");
	is_mem(out, n > 0 ? (size_t)n : 0, "b\xc3\xbc" "cher", "to UTF-8");
	is_int(idna_punycode_decode("bcher-kva", 9, out, 4), -1, "into too small a buffer: -1");
	is_int(idna_punycode_decode("99999999999", 11, out, sizeof(out)), -1, "an overflow: -1");
	is_int(idna_alabel_ok("xn--bcher-kva", 13), 1, "a valid A-label");
	is_int(idna_alabel_ok("XN--bcher-kva", 13), 1, "the prefix in any case");
	is_int(idna_alabel_ok("xn--abc-", 8), 0, "one that decodes to ASCII only");
	is_int(idna_alabel_ok("xn--", 4), 0, "an empty one");
	is_int(idna_ulabel_ok("b\xc3\xbc" "cher", 7), 1, "a valid U-label");
	is_int(idna_ulabel_ok("B\xc3\x9c" "CHER", 7), 0, "upper case is not");
	is_int(idna_ulabel_ok("\xcc\x81" "abc", 5), 0, "a leading combining mark is not");
	is_int(idna_ulabel_ok("ab--cd", 6), 0, "'--' in places 3 and 4 is not");
	is_int(idna_ulabel_ok("-abc", 4), 0, "a leading hyphen is not");
	is_int(idna_ulabel_ok("a\xc2\xb7" "b", 4), 0, "MIDDLE DOT outside l·l is not");
	is_int(idna_ulabel_ok("l\xc2\xb7l", 4), 1, "MIDDLE DOT between two l is");
}

static void test_cli(void)
{
	struct cli_common c;
	struct aperr e;

	cli_common_init(&c);
	is_int(c.max_depth, JSON_DEFAULT_DEPTH, "default --max-depth");
	ok(c.max_line == (size_t)64 << 20, "default --max-line 64 MiB");
	is_int(cli_common_opt(&c, 'v', NULL, &e), 1, "-v is common");
	is_int(cli_common_opt(&c, 'v', NULL, &e), 1, "twice");
	is_int(c.verbose, 2, "verbosity counts");
	is_int(cli_common_opt(&c, 'q', NULL, &e), 1, "-q");
	ok(c.quiet && !c.verbose, "-q cancels -v");
	is_int(cli_common_opt(&c, CLI_OPT_MAX_LINE, "1k", &e), 1, "--max-line 1k");
	is_int(c.max_line, 1024, "is 1024 bytes");
	is_int(cli_common_opt(&c, CLI_OPT_MAX_LINE, "0", &e), -1, "--max-line 0 is refused");
	is_int(e.code, EX_USAGE, "as usage");
	is_int(cli_common_opt(&c, CLI_OPT_MAX_LINE, "ten", &e), -1, "--max-line ten is refused");
	is_int(cli_common_opt(&c, CLI_OPT_MAX_DEPTH, "100001", &e), -1, "--max-depth past 100000");
	is_int(cli_common_opt(&c, CLI_OPT_MAX_DEPTH, "7", &e), 1, "--max-depth 7");
	is_int(c.max_depth, 7, "is 7");
	is_int(cli_common_opt(&c, CLI_OPT_STATS, "s.json", &e), 1, "--stats");
	is_str(c.stats, "s.json", "names its file");
	is_int(cli_common_opt(&c, 'x', NULL, &e), 0, "an option of the tool's own is 0");
}

static void add_header(struct http_req *r, const char *name, const char *value)
{
	strbuf_add(&r->resp_headers, name, strlen(name) + 1);
	strbuf_add(&r->resp_headers, value, strlen(value) + 1);
}

/* Names in the order they first came, each name's values joined in order,
 * past the 32 add_headers keeps on its stack too. */
static void test_envelope_headers(void)
{
	struct http_req r;
	struct envelope_opts o;
	struct strbuf out = STRBUF_INIT, want = STRBUF_INIT;
	struct json_doc bd;
	char name[16], value[16];
	int i;

	http_req_init(&r);
	json_doc_init(&bd, 64);
	r.url = strdup("http://127.0.0.1:1/");
	r.status = 200;
	memset(&o, 0, sizeof(o));
	add_header(&r, "x-b", "1");
	add_header(&r, "x-a", "2");
	add_header(&r, "x-b", "3");
	add_header(&r, "authorization", "Bearer t");
	add_header(&r, "x-c", "");
	add_header(&r, "x-a", "4");
	add_header(&r, "x-b", "5");
	envelope_build(&out, &r, &o, &bd);
	ok(strstr(out.buf, "\"headers\":{\"x-b\":\"1, 3, 5\",\"x-a\":\"2, 4\","
			   "\"authorization\":\"REDACTED\",\"x-c\":\"\"},") != NULL,
	   "headers: first-come order, values joined in order, credentials masked");

	strbuf_reset(&r.resp_headers);
	strbuf_addstr(&want, "\"headers\":{");
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "h%d", 99 - i % 50);
		snprintf(value, sizeof(value), "%d", i);
		add_header(&r, name, value);
	}
	for (i = 0; i < 50; i++)
		strbuf_addf(&want, "%s\"h%d\":\"%d, %d\"", i ? "," : "", 99 - i, i, i + 50);
	strbuf_addstr(&want, "},");
	strbuf_reset(&out);
	envelope_build(&out, &r, &o, &bd);
	ok(strstr(out.buf, want.buf) != NULL, "100 headers under 50 names, in order");
	strbuf_release(&want);
	strbuf_release(&out);
	json_doc_release(&bd);
	http_req_release(&r);
}

static void test_envelope(void)
{
	struct http_req r;
	struct envelope_opts o;
	struct strbuf out = STRBUF_INIT;
	struct secrets sec;
	struct json_doc bd;
	struct json_error bje;
	size_t full;

	http_req_init(&r);
	json_doc_init(&bd, 64);
	json_error_init(&bje);
	secrets_init(&sec);
	secrets_add(&sec, "hunter22");
	r.url = strdup("http://127.0.0.1:1/items?page=2&api_key=k1k1k1&q=hunter22");
	r.status = 200;
	r.attempts = 2;
	instant_parse("2026-11-23T12:00:00.1239Z", 25, 0, &r.fetched_at);
	add_header(&r, "content-type", "application/json");
	add_header(&r, "set-cookie", "s=1");
	add_header(&r, "x-a", "1");
	add_header(&r, "x-a", "2");
	add_header(&r, "x-echo", "hunter22");
	strbuf_addstr(&r.resp_body, "{ \"n\" : 1.50e0 , \"s\" : \"\\u00e9\" }");
	memset(&o, 0, sizeof(o));
	o.page = 2;
	o.page_key = "k";
	o.meta = "{\"repo\":\"x\"}";
	o.meta_len = strlen(o.meta);
	o.secrets = &sec;
	is_int(envelope_build(&out, &r, &o, &bd), 0, "build an envelope");
	is_mem(out.buf, out.len,
	       "{\"url\":\"http://127.0.0.1:1/items?page=2&api_key=REDACTED&q=REDACTED\","
	       "\"method\":\"GET\",\"status\":200,\"headers\":{\"content-type\":\"application/json\","
	       "\"set-cookie\":\"REDACTED\",\"x-a\":\"1, 2\",\"x-echo\":\"REDACTED\"},"
	       "\"fetched_at\":\"2026-11-23T12:00:00.123Z\",\"elapsed_ms\":0,\"attempts\":2,"
	       "\"page\":2,\"page_key\":\"k\",\"meta\":{\"repo\":\"x\"},"
	       "\"body\":{\"n\":1.50e0,\"s\":\"\\u00e9\"}}",
	       "credentials masked, headers joined, body minified with every value as sent");
	full = out.len;

	strbuf_reset(&r.resp_body);
	strbuf_add(&r.resp_body, "line1\nline2", 11);
	strbuf_reset(&out);
	memset(&o, 0, sizeof(o));
	envelope_build(&out, &r, &o, &bd);
	ok(strstr(out.buf, ",\"body_text\":\"line1\\nline2\"}") != NULL, "a text body is body_text");
	strbuf_reset(&r.resp_body);
	strbuf_add(&r.resp_body, "\x89PNG", 4);
	strbuf_reset(&out);
	envelope_build(&out, &r, &o, &bd);
	ok(strstr(out.buf, ",\"body_base64\":\"iVBORw==\"}") != NULL, "a binary body is body_base64");
	snprintf(r.error_kind, sizeof(r.error_kind), "timeout");
	snprintf(r.error, sizeof(r.error), "no answer");
	strbuf_reset(&out);
	envelope_build(&out, &r, &o, &bd);
	ok(strstr(out.buf, ",\"error\":{\"kind\":\"timeout\",\"message\":\"no answer\"}}") != NULL,
	   "an error object");
	ok(parse(out.buf) == 0, "valid JSON");

	/* every cap below the envelope fails; none writes a partial line */
	{
		size_t cap, bad = 0;

		for (cap = 1; cap < full + 40; cap++) {
			struct strbuf small;
			int rc;

			strbuf_init(&small, cap);
			rc = envelope_build(&small, &r, &o, &bd);
			if (rc == 0 && parse(small.buf) != 0)
				bad++;
			if (rc < 0 && !strbuf_failed(&small))
				bad++;
			strbuf_release(&small);
		}
		is_int(bad, 0, "under every cap: valid JSON, or -1 with the buffer marked failed");
	}
	http_req_release(&r);
	secrets_release(&sec);
	json_doc_release(&bd);
	json_error_release(&bje);
	strbuf_release(&out);
}

/* lib/dedupe: keys as fingerprints, and --latest's map. */
static struct hash128 key_of(const char *rec, const struct json_ptr *keys, size_t nkeys, int *rc,
			     size_t *bad, struct aperr *e)
{
	static const uint8_t sk[16] = "0123456789abcdef";
	struct strbuf canon = STRBUF_INIT;
	struct hash128 h = { 0, 0 };

	json_parse(&d, rec, strlen(rec), &je);
	*rc = dedupe_key(keys, nkeys, &d, sk, &canon, &h, bad, e);
	strbuf_release(&canon);
	return h;
}

static void test_dedupe(void)
{
	struct json_ptr keys[2];
	struct dedupe_latest m;
	struct ordval v;
	struct hash128 a, b;
	struct aperr e;
	size_t bad = 9;
	int rc, dup;

	json_ptr_parse(&keys[0], "/id", &e);
	json_ptr_parse(&keys[1], "/o", &e);
	a = key_of("{\"id\":1,\"o\":{\"x\":1,\"y\":2},\"z\":0}", keys, 2, &rc, &bad, &e);
	b = key_of("{\"z\":5,\"o\":{\"y\":2,\"x\":1},\"id\":1}", keys, 2, &rc, &bad, &e);
	ok(rc == 0 && a.lo == b.lo && a.hi == b.hi, "key: member order does not change it");
	b = key_of("{\"id\":10e-1,\"o\":{\"x\":1.0,\"y\":2}}", keys, 2, &rc, &bad, &e);
	ok(rc == 0 && a.lo == b.lo && a.hi == b.hi, "key: numbers by value (10e-1 is 1)");
	b = key_of("{\"id\":\"1\",\"o\":{\"x\":1,\"y\":2}}", keys, 2, &rc, &bad, &e);
	ok(rc == 0 && (a.lo != b.lo || a.hi != b.hi), "key: the string \"1\" is not 1");
	key_of("{\"id\":1,\"o\":null}", keys, 2, &rc, &bad, &e);
	ok(rc < 0 && bad == 1 && e.code == EX_DATAERR && !strcmp(e.msg, "key is null"),
	   "key: a null part is named by its index");
	key_of("{\"o\":1}", keys, 2, &rc, &bad, &e);
	ok(rc < 0 && bad == 0 && !strcmp(e.msg, "key is missing"), "key: a missing part");

	dedupe_latest_init(&m);
	ordval_init(&v);
	ordval_set_text(&v, "5", 1, ORD_AUTO, &e);
	ok(dedupe_latest_put(&m, a, "A5", 2, &v, &dup, &e) == 1 && !dup, "latest: the first is kept");
	ordval_set_text(&v, "3", 1, ORD_AUTO, &e);
	ok(dedupe_latest_put(&m, b, "B3", 2, &v, &dup, &e) == 1 && !dup, "latest: another key");
	ok(dedupe_latest_put(&m, a, "A3", 2, &v, &dup, &e) == 0 && dup, "latest: an older one is dropped");
	ordval_set_text(&v, "5", 1, ORD_AUTO, &e);
	ok(dedupe_latest_put(&m, a, "A5b", 3, &v, &dup, &e) == 1 && dup, "latest: an equal one wins");
	ordval_set_text(&v, "\"2026-01-01T00:00:00Z\"", 22, ORD_AUTO, &e);
	ok(dedupe_latest_put(&m, a, "At", 2, &v, &dup, &e) < 0 && e.code == EX_DATAERR &&
	   strstr(e.msg, "version is a timestamp here but a number"), "latest: a version of another kind");
	ok(m.nent == 2 && m.ent[0].len == 3 && !memcmp(m.ent[0].rec, "A5b", 3) &&
	   !memcmp(m.ent[1].rec, "B3", 2), "latest: first-seen order, the best record each");
	dedupe_latest_release(&m);
	ordval_release(&v);
	json_ptr_release(&keys[0]);
	json_ptr_release(&keys[1]);
}

int main(void)
{
	json_doc_init(&d, 64);
	json_error_init(&je);
	test_ordval();
	test_shape();
	test_format();
	test_idna();
	test_cli();
	test_envelope();
	test_envelope_headers();
	test_dedupe();
	json_doc_release(&d);
	json_error_release(&je);
	return done_testing();
}
