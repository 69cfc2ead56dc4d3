/* lib/instant, lib/hash, lib/fpset, lib/base64, lib/utf8, lib/jsonl, lib/strbuf. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "../tap.h"
#include "../../lib/base64.h"
#include "../../lib/cli.h"
#include "../../lib/fpset.h"
#include "../../lib/hash.h"
#include "../../lib/instant.h"
#include "../../lib/jsonl.h"
#include "../../lib/linepool.h"
#include "../../lib/num.h"
#include "../../lib/strbuf.h"
#include "../../lib/utf8.h"

static void test_instants(void)
{
	static const struct { const char *in; int strict; const char *out; } cases[] = {
		{ "2026-11-23T12:00:00Z", 1, "2026-11-23T12:00:00Z" },
		{ "2026-11-23T12:00:00.123Z", 1, "2026-11-23T12:00:00.123Z" },
		{ "2026-11-23t12:00:00z", 1, "2026-11-23T12:00:00Z" },
		{ "2026-11-23T14:30:00+02:30", 1, "2026-11-23T12:00:00Z" },
		{ "2026-11-23T00:00:00-05:00", 1, "2026-11-23T05:00:00Z" },
		{ "2026-11-23T12:00:00.123456789012345678999Z", 1,
		  "2026-11-23T12:00:00.123456789012345678Z" },
		{ "1969-12-31T23:59:59.5Z", 1, "1969-12-31T23:59:59.5Z" },
		{ "2024-02-29T00:00:00Z", 1, "2024-02-29T00:00:00Z" },
		{ "2026-11-23 12:00:00Z", 0, "2026-11-23T12:00:00Z" },
		{ "2026-11-23T12:00:00+0100", 0, "2026-11-23T11:00:00Z" },
		{ "2026-11-23", 0, "2026-11-23T00:00:00Z" },
		{ "1990-12-31T23:59:60Z", 1, "1990-12-31T23:59:60Z" },
		{ "1990-12-31T18:59:60.25-05:00", 1, "1990-12-31T23:59:60.25Z" },
	};
	static const char *const bad[] = {
		"2026-11-23T12:00:00", "2026-13-01T00:00:00Z", "2023-02-29T00:00:00Z",
		"2026-11-23T24:00:00Z", "2026-11-23T12:00Z", "2026-11-23T12:00:00.Z",
		"2026-11-23T12:00:00+2:00", "26-11-23T12:00:00Z", "2026-11-23T12:00:00ZZ",
		"2026-11-23 12:00:00Z", "",
	};
	struct instant t, u;
	struct aperr e;
	size_t i;
	char buf[64], desc[128];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(desc, sizeof(desc), "parse %s", cases[i].in);
		ok(instant_parse(cases[i].in, strlen(cases[i].in), cases[i].strict, &t) == 0, desc);
		instant_format(&t, buf, sizeof(buf));
		is_str(buf, cases[i].out, "formats as UTC");
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(desc, sizeof(desc), "strict RFC 3339 rejects '%s'", bad[i]);
		ok(instant_parse(bad[i], strlen(bad[i]), 1, &t) < 0, desc);
	}
	ok(instant_parse("2026-11-23 12:00:00", 19, 0, &t) < 0,
	   "a date-time without an offset names no instant, even when not strict");
	ok(instant_parse("2015-06-30T12:00:60Z", 20, 0, &t) < 0, "second 60 only at 23:59:60 UTC");
	ok(instant_parse("0000-01-01T10:00:11+11", 22, 0, &t) < 0,
	   "an offset that carries the instant before year 0 is refused (found by fuzz-rfc3339)");
	ok(instant_parse("9999-12-31T20:00:00-05:00", 25, 1, &t) < 0, "and past 9999");
	ok(instant_parse("2016-12-31T23:59:60+01:00", 25, 0, &t) < 0,
	   "23:59:60 in another offset is not a leap second");
	instant_parse("2016-12-31T23:59:60.5Z", 22, 1, &t);
	instant_parse("2017-01-01T00:00:00.2Z", 22, 1, &u);
	ok(instant_cmp(&t, &u) < 0, "23:59:60.5 is before the next day's 00:00:00.2");
	instant_parse("2016-12-31T23:59:59.9Z", 22, 1, &u);
	ok(instant_cmp(&t, &u) > 0, "and after 23:59:59.9");
	instant_parse("2026-01-01T10:00:00+02:00", 25, 1, &t);
	instant_parse("2026-01-01T09:00:00Z", 20, 1, &u);
	ok(instant_cmp(&t, &u) < 0, "10:00+02:00 is before 09:00Z");
	instant_parse("2026-01-01T09:00:00.1Z", 22, 1, &t);
	instant_parse("2026-01-01T09:00:00.10000Z", 26, 1, &u);
	is_int(instant_cmp(&t, &u), 0, ".1 and .10000 are the same instant");
	ok(instant_from_epoch("1763900000", 10, 0, &t) == 0 && t.sec == 1763900000 && !t.asec,
	   "epoch seconds");
	ok(instant_from_epoch("1763900000123", 13, 1, &t) == 0 && t.sec == 1763900000 &&
	   t.asec == 123000000000000000ULL, "epoch milliseconds");
	ok(instant_from_epoch("1.5e0", 5, 0, &t) == 0 && t.sec == 1 &&
	   t.asec == 500000000000000000ULL, "decimal epoch seconds");
	ok(instant_from_epoch("-1.5", 4, 0, &t) == 0 && t.sec == -2 &&
	   t.asec == 500000000000000000ULL, "negative epoch seconds");
	instant_from_epoch("1763900000123", 13, 1, &t);
	is_int(instant_epoch(&t, 1), 1763900000123LL, "back to epoch-ms");
	is_int(instant_epoch(&t, 0), 1763900000LL, "back to epoch seconds");
	ok(duration_parse("1h30m", &u, &e) == 0 && u.sec == 5400, "1h30m");
	ok(duration_parse("250ms", &u, &e) == 0 && u.sec == 0 &&
	   u.asec == 250000000000000000ULL, "250ms");
	ok(duration_parse("90", &u, &e) == 0 && u.sec == 90, "a plain number is seconds");
	ok(duration_parse("2d", &u, &e) == 0 && u.sec == 172800, "2d");
	ok(duration_parse("10x", &u, &e) < 0 && duration_parse("m", &u, &e) < 0 &&
	   duration_parse("", &u, &e) < 0, "bad durations are refused");
	instant_parse("2026-01-01T00:00:00.1Z", 22, 1, &t);
	duration_parse("250ms", &u, &e);
	instant_sub(&t, &u);
	instant_format(&t, buf, sizeof(buf));
	is_str(buf, "2025-12-31T23:59:59.85Z", "subtracting a duration borrows");
}

static void test_siphash(void)
{
	uint8_t key[16], msg[64];
	struct hash128 h;
	size_t i;

	for (i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	/* reference vectors of SipHash-2-4 (key 00..0f, message 00..n-1) */
	is_int(siphash64(key, msg, 0) == 0x726fdb47dd0e0e31ULL, 1, "SipHash-2-4-64, empty");
	is_int(siphash64(key, msg, 15) == 0xa129ca6149be45e5ULL, 1, "SipHash-2-4-64, 15 bytes");
	siphash128(key, msg, 0, &h);
	is_int(h.lo == 0xe6a825ba047f81a3ULL && h.hi == 0x930255c71472f66dULL, 1,
	       "SipHash-2-4-128, empty");
}

static void test_hex(void)
{
	char out[65];

	hash_hex("\x00\x7f\xa5\xff", 4, out);
	is_str(out, "007fa5ff", "hash_hex: lower case, two digits a byte");
	hash_hex("", 0, out);
	is_str(out, "", "hash_hex: nothing");
	/* FIPS 180-2's example */
	hash_sha256_hex("abc", 3, out);
	is_str(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	       "hash_sha256_hex of \"abc\"");
}

static void test_fpset(void)
{
	struct fpset s;
	uint64_t i, x = 88172645463325252ULL, missed = 0, extra = 0;
	struct hash128 h;
	const uint64_t n = 300000;

	fpset_init(&s);
	for (i = 0; i < n; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		h.lo = x;
		h.hi = x * 0x9e3779b97f4a7c15ULL;
		if (fpset_add(&s, h) != 1)
			missed++;
	}
	is_int(s.count, n, "300000 distinct fingerprints added");
	is_int(missed, 0, "each was new");
	x = 88172645463325252ULL;
	for (i = 0; i < n; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		h.lo = x;
		h.hi = x * 0x9e3779b97f4a7c15ULL;
		if (fpset_add(&s, h) != 0 || !fpset_has(&s, h))
			extra++;
	}
	is_int(extra, 0, "adding them again finds every one");
	h.lo = 1;
	h.hi = 2;
	ok(!fpset_has(&s, h), "an absent fingerprint is absent");
	ok((double)fpset_bytes(&s) / (double)n <= 32.0, "at most 32 bytes a member");
	h.lo = 0;
	h.hi = 0;
	is_int(fpset_add(&s, h), 1, "the zero fingerprint can be stored");
	is_int(fpset_has(&s, h), 1, "and found");
	fpset_release(&s);
	/* fingerprints crowding a few homes: long runs, resizes that must grow again */
	fpset_init(&s);
	missed = extra = 0;
	for (i = 0; i < 20000; i++) {
		h.lo = (i % 3) << 56 | i;
		h.hi = (i % 7) << 40 | i;
		if (fpset_add(&s, h) != 1)
			missed++;
	}
	for (i = 0; i < 20000; i++) {
		h.lo = (i % 3) << 56 | i;
		h.hi = (i % 7) << 40 | i;
		if (!fpset_has(&s, h) || fpset_add(&s, h) != 0)
			extra++;
	}
	is_int(missed + extra, 0, "20000 clustered fingerprints: each added once, each found");
	is_int(s.count, 20000, "and counted once");
	fpset_release(&s);
}

static void test_base64_utf8(void)
{
	static const char *const vec[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < 7; i++) {
		strbuf_reset(&sb);
		base64_encode(&sb, vec[i][0], strlen(vec[i][0]));
		is_mem(sb.buf, sb.len, vec[i][1], "base64 RFC 4648 vector");
		strbuf_reset(&sb);
		ok(base64_decode(&sb, vec[i][1], strlen(vec[i][1])) == 0, "decodes");
		is_mem(sb.buf, sb.len, vec[i][0], "round trip");
	}
	ok(base64_decode(&sb, "Zm9=v", 5) < 0 && base64_decode(&sb, "Z===", 4) < 0,
	   "bad base64 refused");
	strbuf_reset(&sb);
	base64url_encode(&sb, "\xfb\xff\xbf" "fo", 5);
	is_str(sb.buf, "-_-_Zm8", "base64url: URL alphabet, no padding");
	strbuf_reset(&sb);
	ok(base64url_decode(&sb, "-_-_Zm8", 7) == 0 && sb.len == 5 &&
	   !memcmp(sb.buf, "\xfb\xff\xbf" "fo", 5), "base64url decodes unpadded");
	strbuf_reset(&sb);
	ok(base64url_decode(&sb, "Zm8=", 4) == 0 && !strcmp(sb.buf, "fo"), "and padded");
	ok(base64url_decode(&sb, "+/8", 3) < 0, "the standard alphabet's +/ is refused");
	strbuf_release(&sb);
	ok(utf8_valid("a\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80", 10), "valid UTF-8");
	ok(!utf8_valid("\xc0\x80", 2) && !utf8_valid("\xed\xa0\x80", 3) &&
	   !utf8_valid("\xf4\x90\x80\x80", 4) && !utf8_valid("\xe2\x82", 2), "invalid UTF-8");
	is_int(utf8_count("a\xc3\xa9\xe6\x97\xa5", 6), 3, "code points counted");
}

static void test_strbuf_cap(void)
{
	struct strbuf sb;

	strbuf_init(&sb, 8);
	ok(strbuf_add(&sb, "12345678", 8) == 0, "fills to the cap");
	ok(strbuf_addch(&sb, '9') < 0, "refuses to pass the cap");
	is_mem(sb.buf, sb.len, "12345678", "content unchanged after a refusal");
	strbuf_release(&sb);
}

static void test_lreader(void)
{
	static const char input[] = "a\r\n\n\nbb\n" "ccc";
	char path[] = "/tmp/apipe-t-lib-XXXXXX";
	int fd = mkstemp(path);
	struct lreader r;
	struct aperr e;
	const char *line;
	size_t n;

	if (write(fd, input, sizeof(input) - 1) < 0)
		return;
	lseek(fd, 0, SEEK_SET);
	lreader_init(&r, fd, path, 2, &e);
	ok(lreader_next(&r, &line, &n, &e) == 1, "first line");
	is_mem(line, n, "a", "CR LF stripped");
	is_int(r.lineno, 1, "line 1");
	ok(lreader_next(&r, &line, &n, &e) == 1, "second non-empty line");
	is_mem(line, n, "bb", "empty lines skipped");
	is_int(r.lineno, 4, "line numbers count empty lines");
	is_int(r.empty, 2, "two empty lines counted");
	is_int(lreader_next(&r, &line, &n, &e), -1, "a line past --max-line is an error");
	ok(strstr(e.msg, "line 5") != NULL, "the error names line 5");
	lreader_release(&r);
	lseek(fd, 0, SEEK_SET);
	lreader_init(&r, fd, path, 0, &e);
	while (lreader_next(&r, &line, &n, &e) == 1 && r.lineno < 5)
		;
	is_mem(line, n, "ccc", "a last line without newline is read");
	ok(r.last_unterminated, "and noted as unterminated");
	is_int(lreader_next(&r, &line, &n, &e), 0, "then end of input");
	lreader_release(&r);
	close(fd);
	unlink(path);
}

/* linepool: every line checked once, committed once, in input order, for any number of jobs. */
struct lp_seen {
	uint64_t next;		/* the line number commit() expects */
	size_t bad;
};

static int lp_check(void *wctx, const char *line, size_t n, uint64_t lineno, struct strbuf *info,
		    int *code)
{
	(void)wctx;
	strbuf_addf(info, "%llu:%.*s", (unsigned long long)lineno * 3, (int)n, line);
	*code = (int)(lineno % 5);
	return (int)(n % 7);
}

static void lp_commit(void *ctx, const char *line, size_t n, uint64_t lineno, int verdict, int code,
		      const char *info, size_t ilen)
{
	struct lp_seen *s = ctx;
	char want[64];
	int k = snprintf(want, sizeof(want), "%llu:%.*s", (unsigned long long)lineno * 3, (int)n, line);

	if (lineno != s->next || verdict != (int)(n % 7) || code != (int)(lineno % 5) ||
	    ilen != (size_t)k || memcmp(info, want, ilen))
		s->bad++;
	s->next++;
}

static void test_linepool(void)
{
	static const unsigned jobs[] = { 1, 2, 7 };
	void *wctx[LP_MAX_JOBS] = { 0 };
	size_t j;

	for (j = 0; j < sizeof(jobs) / sizeof(jobs[0]); j++) {
		struct lp_seen s = { 1, 0 };
		struct aperr e;
		struct linepool *p = lp_start(jobs[j], wctx, lp_check, lp_commit, &s, &e);
		char line[32];
		uint64_t i;
		int bad = 0;

		ok(p != NULL, "a pool starts");
		if (!p)
			continue;
		for (i = 1; i <= 20000 && !bad; i++) {
			int n = snprintf(line, sizeof(line), "l%llu", (unsigned long long)(i * 7919 % 100003));

			bad = lp_add(p, line, (size_t)n, i, &e) < 0;
		}
		is_int(bad, 0, "20,000 lines handed over");
		is_int(lp_finish(p, &e), 0, "and finished");
		is_int(s.next, 20001, "each committed once");
		is_int(s.bad, 0, "in order, with what its check found");
	}
}

/* The command line's numbers: counts and decimals, through the one number parser. */
static void test_lines(void)
{
	struct lines h;
	struct aperr e;
	char buf[5000];
	size_t i, n, bad = 0;
	uint64_t no;

	memset(&h, 0, sizeof(h));
	for (i = 0; i < 1000; i++) {
		memset(buf, 'a' + (int)(i % 26), i * 5 % sizeof(buf));
		if (lines_hold(&h, buf, i * 5 % sizeof(buf), 10 + i, &e) < 0)
			bad++;
	}
	is_int(bad, 0, "1000 lines of 0 to 4995 bytes held");
	for (i = 0; i < 1000; i++) {
		const char *l = lines_get(&h, i, &n, &no);

		if (n != i * 5 % sizeof(buf) || no != 10 + i || (n && (l[0] != 'a' + (int)(i % 26) ||
								      l[n - 1] != l[0])))
			bad++;
	}
	is_int(bad, 0, "each handed back whole, with its number");
	lines_release(&h);
	is_int(h.n, 0, "released");
}

static void test_option_numbers(void)
{
	static const struct {
		const char *in;
		int ok;
	} counts[] = { { "1", 1 }, { "1000", 1 }, { "0", 0 }, { "1001", 0 }, { "-1", 0 },
		       { "1e3", 0 }, { "", 0 }, { "99999999999999999999999", 0 } };
	static const struct {
		const char *in;
		int min_ok, ok;
	} reals[] = { { "0.5", 0, 1 }, { "30", 0, 1 }, { "0", 0, 0 }, { "0", 1, 1 }, { "-0.1", 1, 0 },
		      { "86401", 0, 0 }, { "nan", 1, 0 }, { "1e999", 1, 0 }, { "2x", 1, 0 }, { "", 1, 0 } };
	struct aperr e;
	uint64_t u;
	double d;
	size_t i;

	for (i = 0; i < sizeof(counts) / sizeof(*counts); i++)
		ok((num_parse_count(counts[i].in, 1, 1000, &u, "-n", &e) == 0) == counts[i].ok &&
		   (counts[i].ok || (e.code == EX_USAGE && strstr(e.msg, "-n: '"))), counts[i].in);
	for (i = 0; i < sizeof(reals) / sizeof(*reals); i++)
		ok((num_parse_real(reals[i].in, 0, reals[i].min_ok, 86400, &d, "-t", "seconds", &e) == 0) ==
		   reals[i].ok, reals[i].in);
}

/* lib/cliconfig: -K files and profiles, table-driven. */
static void test_config(void)
{
	static const struct option lo[] = {
		{ "header", required_argument, NULL, 'H' },
		{ "retry", required_argument, NULL, 1 },
		{ "compressed", no_argument, NULL, 2 },
		{ NULL, 0, NULL, 0 }
	};
	static const struct {
		const char *file, *want, *err;
	} cases[] = {
		{ "# a comment\n--retry 3\nheader = \"A: b\\tc\"\n\ncompressed\nurl http://h/x\n",
		  "p|--retry|3|--header|A: b\tc|--compressed|-v|http://h/x|", NULL },
		{ "-H: x\n", "p|-H|x|-v|", NULL },
		{ "retry\n", NULL, ":1: retry needs a value" },
		{ "compressed yes\n", NULL, ":1: compressed takes no value" },
		{ "\n--nope 1\n", NULL, ":2: unknown option 'nope'" },
		{ "-retry 1\n", NULL, "a short option is one letter" },
		{ "header \"open\n", NULL, "an unterminated quoted value" },
		{ "config other\n", NULL, "a config file does not read another" },
	};
	char path[] = "/tmp/apipe-t-lib-cfgXXXXXX", a0[] = "p", a1[] = "-K", a3[] = "-v";
	char *argv[] = { a0, a1, path, a3, NULL };
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct strbuf got = STRBUF_INIT;
		struct aperr e;
		char **out = NULL;
		int fd = mkstemp(path), n = 0, r, k;

		if (fd < 0 || write(fd, cases[i].file, strlen(cases[i].file)) < 0)
			return;
		close(fd);
		r = cli_config_expand(4, argv, "H:v", lo, &n, &out, &e);
		for (k = 0; r == 0 && k < n; k++)
			strbuf_addf(&got, "%s|", out[k]);
		if (cases[i].want)
			is_str(r == 0 ? got.buf : e.msg, cases[i].want, "config: a file read where -K stands");
		else
			ok(r < 0 && e.code == EX_USAGE && strstr(e.msg, cases[i].err), cases[i].err);
		for (k = 0; r == 0 && k < n; k++)
			free(out[k]);
		if (r == 0)
			free(out);
		strbuf_release(&got);
		unlink(path);
		memcpy(path + strlen(path) - 6, "XXXXXX", 6);
	}
	{
		char p0[] = "p", p1[] = "-v";
		char *plain[] = { p0, p1, NULL };
		char **out = plain;
		int n = 2;
		struct aperr e;

		ok(cli_config_expand(2, plain, "v", lo, &n, &out, &e) == 0 && out == plain && n == 2,
		   "config: no -K, the arguments are left as they are");
	}
}

int main(void)
{
	test_config();
	test_option_numbers();
	test_instants();
	test_siphash();
	test_hex();
	test_fpset();
	test_base64_utf8();
	test_strbuf_cap();
	test_lreader();
	test_linepool();
	test_lines();
	return done_testing();
}
