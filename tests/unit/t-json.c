/* lib/json, lib/jsonw, lib/jsonptr, lib/num: table-driven unit tests. */
#include <stdlib.h>

#include "../tap.h"
#include "../../lib/json.h"
#include "../../lib/jsonw.h"
#include "../../lib/num.h"
#include "../../lib/schema.h"

static struct json_doc d;
static struct json_error je;

static int parses(const char *s)
{
	return json_parse(&d, s, strlen(s), &je) == 0;
}

static void test_accept_reject(void)
{
	static const char *const good[] = {
		"0", "-0", "1.5e+10", "-12.0E-3", "12345678901234567890123", "1.0e+400",
		"\"\"", "\"\\u00e9\\ud83d\\ude00\"", "\"é日本\xf0\x9f\x98\x80\"", "true", "false",
		"null", " [ ] ", "{}", "{\"a\":[1,{\"b\":null}],\"a\":2}", "\t\r\n[1]\n",
		"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "[[[[[]]]]]", "\"\\ud800\"",
	};
	static const char *const bad[] = {
		"", " ", "01", "-", "1.", ".5", "1e", "+1", "0x10", "NaN", "[1,]", "{\"a\":1,}",
		"[1 2]", "{\"a\" 1}", "{a:1}", "\"abc", "\"\x01\"", "\"\\x\"", "\"\\u12\"",
		"[1]]", "[1] x", "tru", "nul", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"",
		"\"\xe2\x82\"", "{\"a\":}", "[", "{", "'a'", "1 2", "\xef\xbb\xbf[]",
	};
	size_t i;
	char desc[128];

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(desc, sizeof(desc), "accepts %.60s", good[i]);
		ok(parses(good[i]), desc);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(desc, sizeof(desc), "rejects %.60s", bad[i]);
		ok(!parses(bad[i]), desc);
	}
}

static void test_depth(void)
{
	char buf[2100];
	struct json_doc d2;

	memset(buf, '[', 1000);
	memset(buf + 1000, ']', 1000);
	buf[2000] = 0;
	ok(!parses(buf), "1000 nested arrays exceed the default depth of 512");
	ok(strstr(je.msg, "too deep") != NULL, "the error says the nesting is too deep");
	json_doc_init(&d2, 1000);
	ok(json_parse(&d2, buf, 2000, NULL) == 0, "a depth limit of 1000 accepts them");
	json_doc_release(&d2);
	memset(buf, '[', 512);
	memset(buf + 512, ']', 512);
	ok(json_parse(&d, buf, 1024, NULL) == 0, "512 nested arrays are accepted");
}

static void test_error_pointer(void)
{
	static const struct { const char *doc, *ptr; size_t off; } cases[] = {
		{ "{\"a\":{\"b\":[1,2,x]}}", "/a/b/2", 15 },
		{ "{\"a\":1,\"c~/\":tru}", "/c~0~1", 13 },
		{ "[1,2", "", 4 },
		{ "[1,{\"k\":\"\x01\"}]", "/1/k", 9 },
	};
	size_t i;
	char desc[128];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ok(!parses(cases[i].doc), "bad document rejected");
		snprintf(desc, sizeof(desc), "error pointer for %s", cases[i].doc);
		is_mem(je.pointer.buf, je.pointer.len, cases[i].ptr, desc);
		is_int(je.offset, cases[i].off, "error offset");
	}
}

static void test_pointer(void)
{
	static const char doc[] =
		"{\"a\":{\"b\":[10,20,{\"c\":\"x\"}]},\"m~n\":1,\"s/t\":2,\"\":3,"
		"\"\\u0041\":4,\"dup\":5,\"dup\":6,\"01\":7}";
	static const struct { const char *ptr, *want; } cases[] = {
		{ "", NULL }, { "/a/b/0", "10" }, { "/a/b/2/c", "\"x\"" }, { "/m~0n", "1" },
		{ "/s~1t", "2" }, { "/", "3" }, { "/A", "4" }, { "/dup", "6" }, { "/01", "7" },
		{ "/a/b/3", "" }, { "/a/b/-", "" }, { "/a/b/01", "" }, { "/zz", "" },
		{ "/a/b/0/x", "" },
	};
	struct json_ptr p;
	struct aperr e;
	size_t i;
	char desc[128];

	ok(parses(doc), "pointer document parses");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t t;

		ok(json_ptr_parse(&p, cases[i].ptr, &e) == 0, "pointer parses");
		t = json_ptr_eval(&p, &d, 0);
		snprintf(desc, sizeof(desc), "pointer '%s'", cases[i].ptr);
		if (!cases[i].want)
			is_int(t, 0, desc);
		else if (!*cases[i].want)
			is_int(t, JSON_ABSENT, desc);
		else
			is_mem(json_src(&d, t), json_srclen(&d, t), cases[i].want, desc);
		json_ptr_release(&p);
	}
	ok(json_ptr_parse(&p, "a/b", &e) < 0, "a pointer must start with /");
	ok(json_ptr_parse(&p, "/a~2", &e) < 0, "~2 is not an escape");
	ok(json_ptr_parse(&p, "/a~", &e) < 0, "a lone ~ is not an escape");
	{
		struct strbuf sb = STRBUF_INIT;

		json_ptr_append(&sb, "a/b~c", 5);
		json_ptr_append_index(&sb, 7);
		is_str(sb.buf, "/a~1b~0c/7", "pointers are built with escapes");
		strbuf_release(&sb);
	}
}

/*
 * json_parse_pick: the pointers it was given answer exactly as on a full
 * parse, and a bad document fails with the full parser's message.
 */
static void test_pick(void)
{
	static const char *const ptrs[] = { "/id", "/meta/rev", "/A", "/dup", "/tags/1" };
	static const char *const docs[] = {
		"{\"id\":7,\"meta\":{\"rev\":[1,2],\"x\":{}},\"tags\":[\"a\",\"b\"]}",
		" { \"name\" : \"caf\u00e9\" , \"id\" : \"k\" , \"dup\" : 1 , \"dup\" : 2 } ",
		"{\"\\u0041\":4,\"\\u0069d\":5,\"id\":6}",
		"{\"skip\":[[{\"a\":[true,false,null,-1.5e3,\"\\n\"]}]],\"id\":{\"k\":[0]}}",
		"{}", "[{\"id\":1}]", "\"id\"", "{\"meta\":{\"rev\":3}}",
		/* rejected: in a skipped member, in a picked one, after the last */
		"{\"skip\":[1,2,x],\"id\":1}", "{\"id\":[1,}", "{\"id\":1}x", "{\"id\":1,}",
		"{\"skip\":\"\xc3\"}", "{\"skip\":01}", "{\"id\" 1}", "{\"a\":{\"b\":[1,2,x]},\"id\":1}",
		"{\"skip\":\"\\x\"}", "{\"skip\":[1]]}", "{\"skip\":[1,]}", "{\"skip\":{\"a\":1,}}", "{\"skip\":{\"a\":1,\"b\"}}", "{",
	};
	struct json_ptr p[5];
	struct json_pick pk;
	struct json_doc full;
	struct json_error fe;
	struct aperr e;
	size_t i, k;
	char desc[160];

	json_doc_init(&full, 0);
	json_error_init(&fe);
	json_pick_init(&pk);
	for (k = 0; k < 5; k++) {
		json_ptr_parse(&p[k], ptrs[k], &e);
		json_pick_add(&pk, &p[k]);
	}
	ok(!pk.all && pk.n == 5, "five member names are picked");
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		int rf = json_parse(&full, docs[i], strlen(docs[i]), &fe);
		int rp = json_parse_pick(&d, docs[i], strlen(docs[i]), &pk, &je);

		snprintf(desc, sizeof(desc), "%s: the verdict of a full parse", docs[i]);
		is_int(rp, rf, desc);
		if (rf != 0) {
			snprintf(desc, sizeof(desc), "%s: the same error", docs[i]);
			is_str(je.msg, fe.msg, desc);
			is_int(je.offset, fe.offset, "at the same byte");
			is_str(je.pointer.buf, fe.pointer.buf,
			       "under the same pointer");
			continue;
		}
		for (k = 0; k < 5; k++) {
			uint32_t tf = json_ptr_eval(&p[k], &full, 0), tp = json_ptr_eval(&p[k], &d, 0);

			snprintf(desc, sizeof(desc), "%s: %s as on a full parse", docs[i], ptrs[k]);
			if (tf == JSON_ABSENT || tp == JSON_ABSENT)
				is_int(tp, tf, desc);
			else
				ok(json_srclen(&d, tp) == json_srclen(&full, tf) &&
				   !memcmp(json_src(&d, tp), json_src(&full, tf), json_srclen(&d, tp)),
				   desc);
		}
	}
	ok(json_parse_pick(&d, docs[0], strlen(docs[0]), &pk, NULL) == 0 && json_count(&d, 0) == 3,
	   "the root of a picked document holds the picked members only");
	{
		struct json_doc shallow;
		static const char deep[] = "{\"skip\":[[[[1]]]],\"id\":1}";

		json_doc_init(&shallow, 4);
		ok(json_parse_pick(&shallow, deep, strlen(deep), &pk, &je) == -1 &&
		   strstr(je.msg, "too deep"), "the depth limit holds inside a skipped member");
		json_doc_release(&shallow);
	}
	{
		static const char rep[] = "{\"dup\":1,\"x\":[2],\"dup\":\"3\"}";

		ok(json_parse_pick(&d, rep, strlen(rep), &pk, &je) == 0 && json_count(&d, 0) == 3 &&
		   json_get(&d, 0, "dup", 3) && json_type(&d, json_get(&d, 0, "dup", 3)) == JSON_STRING,
		   "a picked name twice: parsed whole, its last value counts");
		pk.whole_on_repeat = 1;
		ok(json_parse_pick(&d, rep, strlen(rep), &pk, &je) == 0 && json_count(&d, 0) == 3,
		   "with whole_on_repeat: the whole document, every occurrence");
		ok(json_parse_pick(&d, docs[0], strlen(docs[0]), &pk, &je) == 0 &&
		   json_count(&d, 0) == 3, "and no repeat: still picked");
		pk.whole_on_repeat = 0;
	}
	is_int(json_pick_add_name(&pk, "id", 2), 0, "a name already picked is picked once");
	is_int((int)pk.n, 5, "so the count stays");
	for (k = pk.n; k < JSON_PICK_MAX; k++) {
		static char nm[JSON_PICK_MAX][8];	/* borrowed by the pick */

		snprintf(nm[k], sizeof(nm[k]), "n%zu", k);
		json_pick_add_name(&pk, nm[k], strlen(nm[k]));
	}
	ok(!pk.all && pk.n == JSON_PICK_MAX, "a pick holds JSON_PICK_MAX names");
	is_int(json_pick_add_name(&pk, "one-more", 8), -1, "one more is refused");
	ok(pk.all, "and makes the pick whole");
	json_ptr_release(&p[0]);
	json_ptr_parse(&p[0], "", &e);
	json_pick_init(&pk);
	json_pick_add(&pk, &p[0]);
	ok(pk.all, "the root pointer picks the whole document");
	for (k = 0; k < 5; k++)
		json_ptr_release(&p[k]);
	json_error_release(&fe);
	json_doc_release(&full);
}

/* 1 when p finds text (its source bytes) in d, or nothing when text is NULL. */
static int answers(const struct json_ptr *p, const char *text)
{
	uint32_t v = json_ptr_eval(p, &d, 0);

	if (!text || v == JSON_ABSENT)
		return !text && v == JSON_ABSENT;
	return json_srclen(&d, v) == strlen(text) && !memcmp(json_src(&d, v), text, strlen(text));
}

/*
 * A lazy pick stops after the last picked member: what follows is not
 * read.  Before it, and when a name never comes, it answers as a full
 * parse does (verdict, message, byte, pointer).
 */
static void test_pick_lazy(void)
{
	static const struct {
		const char *doc;
		int ok;			/* the lazy verdict: 0, or -1 */
		const char *id, *ts;	/* the picked values' text, NULL when absent */
		size_t end;		/* where the root token ends (lazy, accepted) */
	} t[] = {
		/* the tail after the last picked member is not read */
		{ "{\"id\":1,\"ts\":\"a\",\"x\":[1,2,x]}", 0, "1", "\"a\"", 16 },
		{ "{\"ts\":\"a\",\"id\":[1,2] , garbage", 0, "[1,2]", "\"a\"", 20 },
		{ "{\"id\":1,\"skip\":{\"a\":[]},\"ts\":2,\"id\":3", 0, "1", "2", 30 },
		/* a fault before it: rejected as a full parse rejects it */
		{ "{\"id\":1,\"skip\":[1,2,x],\"ts\":2}", -1, NULL, NULL, 0 },
		{ "{\"id\":1,\"ts\":[1,}", -1, NULL, NULL, 0 },
		{ "{\"skip\":\"\xc3\",\"id\":1,\"ts\":2}", -1, NULL, NULL, 0 },
		/* a name that never comes: the whole line is read, and checked */
		{ "{\"id\":1,\"other\":2}", 0, "1", NULL, 18 },
		{ "{\"id\":1,\"other\":2}x", -1, NULL, NULL, 0 },
		{ "{\"id\":1,\"other\":[}", -1, NULL, NULL, 0 },
		/* a root that is not an object is parsed whole */
		{ "[{\"id\":1,\"ts\":2}]", 0, NULL, NULL, 17 },
		{ "[1,x]", -1, NULL, NULL, 0 },
	};
	struct json_ptr id, ts;
	struct json_pick pk;
	struct json_doc full;
	struct json_error fe;
	struct aperr e;
	size_t i;
	char desc[200];

	json_doc_init(&full, 0);
	json_error_init(&fe);
	json_ptr_parse(&id, "/id", &e);
	json_ptr_parse(&ts, "/ts", &e);
	json_pick_init(&pk);
	json_pick_add(&pk, &id);
	json_pick_add(&pk, &ts);
	pk.lazy = 1;
	pk.whole_on_repeat = 1;	/* ignored when lazy */
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *doc = t[i].doc;
		int r = json_parse_pick(&d, doc, strlen(doc), &pk, &je);

		snprintf(desc, sizeof(desc), "lazy %s: %s", doc, t[i].ok ? "rejected" : "accepted");
		is_int(r, t[i].ok, desc);
		if (r != 0) {
			is_int(json_parse(&full, doc, strlen(doc), &fe), -1, "  and a full parse rejects it");
			is_str(je.msg, fe.msg, "  with the same message");
			is_int(je.offset, fe.offset, "  at the same byte");
			is_str(je.pointer.buf, fe.pointer.buf,
			       "  under the same pointer");
			continue;
		}
		snprintf(desc, sizeof(desc), "  /id is %s", t[i].id ? t[i].id : "absent");
		ok(answers(&id, t[i].id), desc);
		snprintf(desc, sizeof(desc), "  /ts is %s", t[i].ts ? t[i].ts : "absent");
		ok(answers(&ts, t[i].ts), desc);
		is_int(json_srclen(&d, 0), t[i].end, "  the root token ends where reading stopped");
	}
	json_ptr_release(&id);
	json_ptr_release(&ts);
	json_error_release(&fe);
	json_doc_release(&full);
}

/* Which root members a schema can look at: named (picked), or any (whole). */
static void test_sch_pick(void)
{
	static const struct { const char *schema, *names; } cases[] = {
		{ "{\"type\":\"object\",\"required\":[\"id\",\"ts\"],"
		  "\"properties\":{\"id\":{\"type\":\"integer\"}}}", "id,ts" },
		{ "{\"dependentRequired\":{\"a\":[\"b\",\"c\"]},"
		  "\"dependentSchemas\":{\"d\":{\"required\":[\"e\"]}}}", "a,b,c,d,e" },
		{ "{\"allOf\":[{\"required\":[\"a\"]}],\"anyOf\":[{\"required\":[\"b\"]},true],"
		  "\"oneOf\":[{\"properties\":{\"c\":false}}],\"not\":{\"required\":[\"d\"]},"
		  "\"if\":{\"required\":[\"e\"]},\"then\":{\"required\":[\"f\"]},"
		  "\"else\":{\"required\":[\"g\"]}}", "a,b,c,d,e,f,g" },
		{ "{\"$defs\":{\"r\":{\"required\":[\"x\"]}},\"$ref\":\"#/$defs/r\","
		  "\"properties\":{\"y\":{\"additionalProperties\":false}}}", "x,y" },
		{ "{\"$defs\":{\"r\":{\"$ref\":\"#\"}},\"$ref\":\"#/$defs/r\"}", NULL },
		{ "true", "" },
		{ "{\"properties\":{\"a\":{}},\"additionalProperties\":false}", NULL },
		{ "{\"patternProperties\":{\"^a\":{}}}", NULL },
		{ "{\"propertyNames\":{\"maxLength\":3}}", NULL },
		{ "{\"minProperties\":1}", NULL },
		{ "{\"maxProperties\":1}", NULL },
		{ "{\"unevaluatedProperties\":false}", NULL },
		{ "{\"enum\":[{\"a\":1}]}", NULL },
		{ "{\"const\":{\"a\":1}}", NULL },
		{ "{\"allOf\":[{\"additionalProperties\":false}]}", NULL },
		{ "{\"$defs\":{\"n\":{\"$dynamicAnchor\":\"x\",\"required\":[\"a\"]}},"
		  "\"$dynamicRef\":\"#x\"}", NULL },
		{ "{\"required\":[\"a1\",\"a2\",\"a3\",\"a4\",\"a5\",\"a6\",\"a7\",\"a8\","
		  "\"a9\",\"a10\",\"a11\",\"a12\",\"a13\",\"a14\",\"a15\",\"a16\",\"a17\"]}", NULL },
	};
	size_t i, k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sch s;
		struct json_pick pk;
		struct aperr e;
		struct strbuf got = STRBUF_INIT;
		char desc[200];
		int r;

		sch_init(&s, SCH_DRAFT_2020_12);
		json_pick_init(&pk);
		if (sch_compile(&s, "", cases[i].schema, strlen(cases[i].schema), &e) < 0) {
			ok(0, e.msg);
			sch_release(&s);
			continue;
		}
		r = sch_pick(&s, &pk);
		for (k = 0; k < pk.n; k++)
			strbuf_addf(&got, "%s%.*s", k ? "," : "", (int)pk.name[k].n, pk.name[k].s);
		snprintf(desc, sizeof(desc), "%.120s: %s", cases[i].schema,
			 cases[i].names ? cases[i].names : "any member may matter");
		if (cases[i].names)
			ok(r == 0 && !pk.all && pk.whole_on_repeat &&
			   !strcmp(got.buf, cases[i].names), desc);
		else
			ok(r == -1 && pk.all, desc);
		strbuf_release(&got);
		sch_release(&s);
	}
}

/* sch_errors_same: the same errors in the same order, or not. */
static void test_sch_errors_same(void)
{
	static const char schema[] = "{\"properties\":{\"a\":{\"type\":\"string\"},"
				     "\"b\":{\"minimum\":2}}}";
	static const char *const docs[] = { "{\"a\":1,\"b\":1}", "{\"a\":1,\"b\":1}",
					    "{\"b\":1,\"a\":1}", "{\"a\":1}", "{\"a\":\"x\"}" };
	struct sch s;
	struct sch_errors es[5];
	struct aperr e;
	size_t i;

	sch_init(&s, SCH_DRAFT_2020_12);
	ok(sch_compile(&s, "", schema, strlen(schema), &e) == 0, "a schema for comparing errors");
	for (i = 0; i < 5; i++) {
		sch_errors_init(&es[i]);
		ok(parses(docs[i]) && sch_validate(&s, &d, 0, &es[i], &e) >= 0, docs[i]);
	}
	ok(sch_errors_same(&es[0], &es[1]), "the same instance: the same errors");
	ok(!sch_errors_same(&es[0], &es[2]), "the same errors in another order differ");
	ok(!sch_errors_same(&es[0], &es[3]), "fewer errors differ");
	ok(!sch_errors_same(&es[3], &es[4]) && sch_errors_same(&es[4], &es[4]) && !es[4].n,
	   "no errors against one; none equals none");
	for (i = 0; i < 5; i++)
		sch_errors_release(&es[i]);
	sch_release(&s);
}

static void test_minify(void)
{
	static const struct { const char *in, *out; } cases[] = {
		{ " { \"a\" : [ 1 , 2.50 , 1.0e+400 ] , \"s\" : \" x  y \" } ",
		  "{\"a\":[1,2.50,1.0e+400],\"s\":\" x  y \"}" },
		{ "[\"\\u00e9\", \"é\", \"\\\" \\\\ \"]", "[\"\\u00e9\",\"é\",\"\\\" \\\\ \"]" },
		{ "12345678901234567890123", "12345678901234567890123" },
		{ "{\"a\":{}}", "{\"a\":{}}" },
	};
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ok(parses(cases[i].in), "minify input parses");
		strbuf_reset(&sb);
		json_minify(&d, 0, &sb);
		is_mem(sb.buf, sb.len, cases[i].out, "minified byte for byte");
	}
	strbuf_release(&sb);
}

static int key_equal(const char *a, const char *b)
{
	struct strbuf x = STRBUF_INIT, y = STRBUF_INIT;
	int r;

	parses(a);
	json_canon(&d, 0, &x);
	parses(b);
	json_canon(&d, 0, &y);
	r = x.len == y.len && memcmp(x.buf, y.buf, x.len) == 0;
	strbuf_release(&x);
	strbuf_release(&y);
	return r;
}

static void test_canon(void)
{
	static const struct { const char *a, *b; int eq; } cases[] = {
		{ "1", "1.0", 1 }, { "1", "10e-1", 1 }, { "100", "1e2", 1 }, { "0", "-0.0", 1 },
		{ "0.5", "5E-1", 1 }, { "1", "2", 0 }, { "1", "\"1\"", 0 }, { "\"A\"", "\"\\u0041\"", 1 },
		{ "\"é\"", "\"\\u00e9\"", 1 }, { "\"a\"", "\"b\"", 0 }, { "null", "false", 0 },
		{ "[1,\"a\"]", "[1.0,\"\\u0061\"]", 1 }, { "[1,2]", "[2,1]", 0 },
		{ "{\"a\":1}", "{\"\\u0061\":1.00}", 1 }, { "[\"ab\"]", "[\"a\",\"b\"]", 0 },
		{ "12345678901234567890123", "12345678901234567890124", 0 },
		{ "12345678901234567890123", "1.2345678901234567890123e22", 1 },
		{ "\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"", 1 },
	};
	size_t i;
	char desc[160];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(desc, sizeof(desc), "%s %s %s as keys", cases[i].a,
			 cases[i].eq ? "equals" : "differs from", cases[i].b);
		is_int(key_equal(cases[i].a, cases[i].b), cases[i].eq, desc);
	}
	/* a plain integer takes a shorter way to its canonical form: the same bytes */
	{
		static const char *const ints[] = {
			"7", "-7", "10", "-1000", "120", "9007199254740993", "-12345678901234567890123000",
			"100000000000000000000000000000000000000000",
		};
		struct strbuf x = STRBUF_INIT, y = STRBUF_INIT;
		char alt[128];

		for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
			strbuf_reset(&x);
			strbuf_reset(&y);
			snprintf(alt, sizeof(alt), "%s.000e0", ints[i]);
			num_canon(ints[i], strlen(ints[i]), &x);
			num_canon(alt, strlen(alt), &y);
			snprintf(desc, sizeof(desc), "canonical %s is that of %s", ints[i], alt);
			is_mem(x.buf, x.len, y.buf, desc);
		}
		strbuf_release(&x);
		strbuf_release(&y);
	}
}

static int sign(int x)
{
	return x < 0 ? -1 : x > 0;
}

static void test_numbers(void)
{
	static const struct { const char *a, *b; int cmp; } cases[] = {
		{ "1", "2", -1 }, { "2", "1", 1 }, { "1.0", "1", 0 }, { "-1", "1", -1 },
		{ "-2", "-1", -1 }, { "0.1", "0.09", 1 }, { "1e3", "999.999", 1 },
		{ "-0", "0", 0 }, { "12345678901234567890123", "12345678901234567890122", 1 },
		{ "1e-400", "0", 1 }, { "-1e-400", "0", -1 }, { "1.0e+400", "1e400", 0 },
		{ "9007199254740993", "9007199254740992", 1 },
		/* plain decimals of up to 18 digits are compared in 64 bits, exactly */
		{ "559.21", "0", 1 }, { "-90", "-90.000", 0 }, { "45.5", "45.49", 1 },
		{ "-0.001", "-0.0010", 0 }, { "-0.5", "0.25", -1 }, { "0.0", "-0", 0 },
		{ "0.1", "0.10000000000000001", -1 }, { "123456789.123456789", "123456789.12345679", -1 },
		{ "999999999999999999", "0.1", 1 }, { "-999999999999999999", "-999999999999999998.9", -1 },
		{ "0.000000000000000001", "0.0000000000000000009", 1 },
	};
	size_t i;
	int64_t v;
	char desc[128];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(desc, sizeof(desc), "compare %s with %s", cases[i].a, cases[i].b);
		is_int(sign(num_cmp(cases[i].a, strlen(cases[i].a), cases[i].b,
				    strlen(cases[i].b))), cases[i].cmp, desc);
	}
	ok(num_to_i64("1.5e1", 5, &v) == 0 && v == 15, "1.5e1 is the integer 15");
	ok(num_to_i64("1.5", 3, &v) < 0, "1.5 is not an integer");
	ok(num_to_i64("9223372036854775807", 19, &v) == 0 && v == INT64_MAX, "INT64_MAX");
	ok(num_to_i64("9223372036854775808", 19, &v) < 0, "INT64_MAX + 1 overflows");
	ok(num_to_i64("-9223372036854775808", 20, &v) == 0 && v == INT64_MIN, "INT64_MIN");
	ok(!num_valid("01", 2) && !num_valid("1.", 2) && num_valid("-0.0e-0", 7),
	   "number grammar");
}

static void test_iteration(void)
{
	uint32_t i;
	size_t n = 0;

	ok(parses("{\"a\":[1,[2,3],{\"x\":4}],\"b\":true}"), "iteration doc parses");
	is_int(json_count(&d, 0), 2, "two members");
	i = json_get(&d, 0, "a", 1);
	is_int(json_count(&d, i), 3, "three elements");
	for (i = json_first(&d, i); i; i = json_next(&d, json_get(&d, 0, "a", 1), i))
		n++;
	is_int(n, 3, "iterating visits three elements");
	ok(json_type(&d, json_get(&d, 0, "b", 1)) == JSON_TRUE, "b is true");
	is_int(json_get(&d, 0, "c", 1), 0, "absent member");
}

/* json_ptr_set: a document with one value set, as a table. */
static void test_ptr_set(void)
{
	static const struct {
		const char *doc, *ptr, *val, *want;
		int rc;
	} t[] = {
		{ "{\"a\":1,\"b\":[1,2]}", "/a", "2", "{\"a\":2,\"b\":[1,2]}", 0 },
		{ "{\"a\":1}", "/c", "\"x\"", "{\"a\":1,\"c\":\"x\"}", 0 },
		{ "{\"query\":\"q\",\"variables\":{}}", "/variables/after", "\"c2\"",
		  "{\"query\":\"q\",\"variables\":{\"after\":\"c2\"}}", 0 },
		{ "{\"size\":10}", "/search_after", "[3,\"n3\"]",
		  "{\"size\":10,\"search_after\":[3,\"n3\"]}", 0 },
		{ "{}", "/a/b/c", "1", "{\"a\":{\"b\":{\"c\":1}}}", 0 },
		{ NULL, "/page", "2", "{\"page\":2}", 0 },
		{ "{\"a\":5}", "/a/b", "1", "{\"a\":{\"b\":1}}", 0 },
		{ "[1,2,3]", "/1", "9", "[1,9,3]", 0 },
		{ "[1]", "/-", "2", "[1,2]", 0 },
		{ "[1]", "/5", "2", NULL, -1 },
		{ "[1]", "/x", "2", NULL, -1 },
		{ "{\"a\" : [ 1 , {\"k\":true} ] }", "/a/1/k", "false",
		  "{\"a\":[1,{\"k\":false}]}", 0 },
		{ "{\"a~b\":1,\"c/d\":2}", "/c~1d", "3", "{\"a~b\":1,\"c/d\":3}", 0 },
	};
	struct strbuf out = STRBUF_INIT;
	struct json_ptr p;
	struct aperr e;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(*t); i++) {
		int rc;

		json_ptr_parse(&p, t[i].ptr, NULL);
		if (t[i].doc)
			json_parse(&d, t[i].doc, strlen(t[i].doc), &je);
		rc = json_ptr_set(&p, t[i].doc ? &d : NULL, t[i].val, strlen(t[i].val), &out, &e);
		is_int(rc, t[i].rc, t[i].ptr);
		if (rc == 0)
			is_str(out.buf, t[i].want, "... the document with the value set");
		else
			is_int(e.code, EX_USAGE, "... a usage error");
		json_ptr_release(&p);
	}
	strbuf_release(&out);
}


/* One line exercising every jsonw call; returns jw_finish(). */
static int write_sample(struct strbuf *sb)
{
	static const uint64_t counts[5] = { 0, 2, 0, 0, 7 };
	struct jsonw w;

	jw_init(&w, sb);
	jw_object(&w);
	jw_member_str(&w, "url", "http://h/a?b=\"c\"\n");
	jw_member_str(&w, "absent", NULL);
	jw_member_u64(&w, "n", 18446744073709551615ULL);
	jw_key(&w, "neg");
	jw_i64(&w, -9);
	jw_key(&w, "ms");
	jw_fixed(&w, 12.6, 0);
	jw_key(&w, "z");
	jw_fixed(&w, -0.2, 0);
	jw_key(&w, "list");
	jw_array(&w);
	jw_bool(&w, 1);
	jw_null(&w);
	jw_str(&w, "é");
	jw_object(&w);
	jw_end_object(&w);
	jw_array(&w);
	jw_end_array(&w);
	jw_end_array(&w);
	jw_key(&w, "by_status");
	jw_counts(&w, counts, 5);
	jw_member_raw(&w, "meta", "{\"a\":1}", 7);
	jw_body(&w, &jw_body_names, "{ \"x\" : [1, 2.50] }", 19, &d);
	jw_body(&w, &jw_body_names, "plain text", 10, &d);
	jw_body(&w, &jw_body_names, "\xff\x01", 2, &d);
	jw_end_object(&w);
	return jw_finish(&w);
}

static void test_writer(void)
{
	static const char want[] =
		"{\"url\":\"http://h/a?b=\\\"c\\\"\\n\",\"n\":18446744073709551615,\"neg\":-9,"
		"\"ms\":13,\"z\":0,\"list\":[true,null,\"é\",{},[]],\"by_status\":{\"1\":2,\"4\":7},"
		"\"meta\":{\"a\":1},\"body\":{\"x\":[1,2.50]},\"body_text\":\"plain text\","
		"\"body_base64\":\"/wE=\"}";
	struct strbuf sb = STRBUF_INIT;
	struct jsonw w;
	size_t cap, whole = strlen(want), failed = 0, wrong = 0;

	is_int(write_sample(&sb), 0, "jsonw: a line with every kind of value");
	is_mem(sb.buf, sb.len, want, "jsonw: commas, escapes, counts and bodies as JSON");
	/* every cap: the line is whole, or the writer says it failed */
	for (cap = 1; cap <= whole + 1; cap++) {	/* a cap of 0 is the default */
		struct strbuf c;
		int r;

		strbuf_init(&c, cap);
		r = write_sample(&c);
		if (r < 0)
			failed++;
		else if (c.len != whole || memcmp(c.buf, want, whole))
			wrong++;
		strbuf_release(&c);
	}
	is_int(wrong, 0, "jsonw: under any cap, a finished line is the whole line");
	is_int(failed, whole - 1, "jsonw: and every cap below its length fails");

	strbuf_reset(&sb);
	jw_init(&w, &sb);
	jw_object(&w);
	jw_u64(&w, 1);
	ok(jw_finish(&w) < 0 && jw_error(&w), "jsonw: a value without a key fails");
	strbuf_reset(&sb);
	jw_init(&w, &sb);
	jw_array(&w);
	jw_key(&w, "k");
	ok(jw_finish(&w) < 0, "jsonw: a key in an array fails");
	strbuf_reset(&sb);
	jw_init(&w, &sb);
	jw_object(&w);
	jw_member_str(&w, "k", "\xc0\xaf");
	jw_end_object(&w);
	ok(jw_finish(&w) < 0 && !memchr(sb.buf, 0xc0, sb.len), "jsonw: a string that is not UTF-8 fails and is not written");
	strbuf_reset(&sb);
	jw_init(&w, &sb);
	jw_array(&w);
	ok(jw_finish(&w) < 0, "jsonw: an open container fails");
	strbuf_reset(&sb);
	jw_init(&w, &sb);
	for (cap = 0; cap < JSONW_MAX_DEPTH + 1; cap++)
		jw_array(&w);
	ok(jw_finish(&w) < 0, "jsonw: nesting past JSONW_MAX_DEPTH fails");
	strbuf_reset(&sb);
	jw_init(&w, &sb);
	jw_fixed(&w, 1.0 / 0.0, 1);
	is_int(jw_finish(&w), 0, "jsonw: an infinite figure is null");
	is_str(sb.buf, "null", "jsonw: null it is");
	strbuf_reset(&sb);
	jw_init(&w, &sb);
	jw_u64(&w, 7);
	ok(jw_finish_line(&w) == 0 && sb.len == 2 && !memcmp(sb.buf, "7\n", 2),
	   "jsonw: a finished line ends with its newline");
	{
		struct strbuf tiny;

		strbuf_init(&tiny, 1);	/* room for the value, not its newline */
		jw_init(&w, &tiny);
		jw_u64(&w, 7);
		ok(jw_finish_line(&w) < 0 && jw_error(&w), "jsonw: no room for the newline fails, saying why");
		strbuf_release(&tiny);
	}
	strbuf_release(&sb);
}

int main(void)
{
	json_doc_init(&d, 0);
	json_error_init(&je);
	test_accept_reject();
	test_depth();
	test_error_pointer();
	test_pointer();
	test_pick();
	test_pick_lazy();
	test_sch_pick();
	test_sch_errors_same();
	test_minify();
	test_canon();
	test_numbers();
	test_iteration();
	test_ptr_set();
	test_writer();
	json_error_release(&je);
	json_doc_release(&d);
	return done_testing();
}
