/*
 * libFuzzer target: the JSON parser, pointer evaluation, minify and canon;
 * json_parse_pick() against json_parse() (same verdict, same error, same
 * answer for every picked pointer), and a lazy pick too (the same, up to
 * where it stopped, but for a picked name given twice, where the lazy pick
 * keeps the first value and a full parse the last).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../lib/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 1 when p finds the same bytes of the source (or nothing) in both parses. */
static int same_answer(const struct json_ptr *p, const struct json_doc *full,
		       const struct json_doc *d)
{
	uint32_t tf = json_ptr_eval(p, full, 0), tp = json_ptr_eval(p, d, 0);

	if (tf == JSON_ABSENT || tp == JSON_ABSENT)
		return tf == tp;
	return json_src(full, tf) == json_src(d, tp) && json_srclen(full, tf) == json_srclen(d, tp);
}

/* Does the root object hold the name s[0..n) more than once? */
static int root_repeats(const struct json_doc *d, const char *s, size_t n)
{
	uint32_t m;
	int seen = 0;

	if (json_type(d, 0) != JSON_OBJECT)
		return 0;
	for (m = json_first(d, 0); m; m = json_next(d, 0, m))
		if (json_str_eq(d, m, s, n) && ++seen > 1)
			return 1;
	return 0;
}

static void check_pick(struct json_doc *full, const char *s, size_t n)
{
	static const char *const ptrs[] = { "/a", "/b/0", "/", "/a~1b" };
	static struct json_doc d;
	static struct json_error je, fe;
	static int init;
	struct json_ptr p[4];
	struct json_pick pk;
	struct aperr e;
	size_t k;
	int rf, rp;

	if (!init) {
		json_doc_init(&d, 64);
		json_error_init(&je);
		json_error_init(&fe);
		init = 1;
	}
	json_pick_init(&pk);
	for (k = 0; k < 4; k++) {
		if (json_ptr_parse(&p[k], ptrs[k], &e) < 0)
			__builtin_trap();
		json_pick_add(&pk, &p[k]);
	}
	/* half the inputs (by length) parse whole on a repeated picked name */
	pk.whole_on_repeat = (int)(n & 1);
	rf = json_parse(full, s, n, &fe);
	rp = json_parse_pick(&d, s, n, &pk, &je);
	if (rf != rp)
		__builtin_trap();
	if (rf && (je.offset != fe.offset || strcmp(je.msg, fe.msg)))
		__builtin_trap();
	for (k = 0; !rf && k < 4; k++)
		if (!same_answer(&p[k], full, &d))
			__builtin_trap();
	if (!rf && pk.whole_on_repeat && json_type(full, 0) == JSON_OBJECT) {
		uint32_t m;
		size_t seen[JSON_PICK_MAX] = { 0 }, i;
		int repeat = 0;

		for (m = json_first(full, 0); m; m = json_next(full, 0, m))
			for (i = 0; i < pk.n; i++)
				if (json_str_eq(full, m, pk.name[i].s, pk.name[i].n) && ++seen[i] > 1)
					repeat = 1;
		/* a repeat: every member on the tape, as on a full parse */
		if (repeat && json_count(&d, 0) != json_count(full, 0))
			__builtin_trap();
	}
	/*
	 * lazy: what a full parse accepts it accepts, with the same answers;
	 * what it rejects a full parse rejects alike; what it accepts and a
	 * full parse rejects has its fault past where the lazy parse stopped
	 */
	json_pick_init(&pk);	/* one name, so that it often stops early */
	json_pick_add(&pk, &p[0]);
	pk.lazy = 1;
	rp = json_parse_pick(&d, s, n, &pk, &je);
	if (rp < 0 && (!rf || je.offset != fe.offset || strcmp(je.msg, fe.msg)))
		__builtin_trap();
	if (!rp && rf && fe.offset < d.tok[0].end)
		__builtin_trap();
	/*
	 * the same answer, but where the picked name comes twice: a full parse
	 * takes the last, a lazy one stops at the first (json.h says so)
	 */
	if (!rf && !rp && !root_repeats(full, "a", 1) && !same_answer(&p[0], full, &d))
		__builtin_trap();
	for (k = 0; k < 4; k++)
		json_ptr_release(&p[k]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct json_doc d;
	static int init;
	struct strbuf out = STRBUF_INIT, canon = STRBUF_INIT;
	struct json_ptr p;
	struct aperr e;

	if (!init) {
		json_doc_init(&d, 64);
		init = 1;
	}
	check_pick(&d, (const char *)data, size);
	if (json_parse(&d, (const char *)data, size, NULL) == 0) {
		json_minify(&d, 0, &out);
		/* minified output must parse again, to the same bytes */
		if (json_parse(&d, out.buf, out.len, NULL) != 0)
			__builtin_trap();
		json_canon(&d, 0, &canon);
		if (json_ptr_parse(&p, "/0/a~1b/1", &e) == 0) {
			json_ptr_eval(&p, &d, 0);
			json_ptr_release(&p);
		}
	}
	strbuf_release(&out);
	strbuf_release(&canon);
	return 0;
}
