/*
 * validate: records against a JSON Schema, valid ones passed on byte for
 * byte, invalid ones to a dead letter with every reason.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "../lib/deadletter.h"
#include "../lib/json.h"
#include "../lib/linepool.h"
#include "../lib/num.h"
#include "../lib/schema.h"

static const char usage_text[] =
	"usage: validate [-hqv] --schema file [--draft 2020-12 | 7] [--dead-letter file]\n"
	"       [--max-invalid-rate percent] [--min-records n] [--format-assert]\n"
	"       [--ref-dir dir] [-j jobs]\n"
	"       [--stats file] [--max-line size] [--max-depth n]\n";

enum {
	OPT_SCHEMA = CLI_OPT_FIRST_TOOL, OPT_DRAFT, OPT_DEAD_LETTER, OPT_MAX_RATE, OPT_MIN_RECORDS,
	OPT_REF_DIR, OPT_FORMAT_ASSERT
};

static const struct cli_opt options[] = {
	{ "schema", 0, required_argument, OPT_SCHEMA, "file", "Validation", "the JSON Schema records must meet" },
	{ "draft", 0, required_argument, OPT_DRAFT, "2020-12|7", "Validation", "the schema's draft when it does not say" },
	{ "format-assert", 0, no_argument, OPT_FORMAT_ASSERT, NULL, "Validation", "check format (date-time, email ...) as an assertion" },
	{ "ref-dir", 0, required_argument, OPT_REF_DIR, "dir", "Validation", "where $ref'd schemas are found" },
	{ "dead-letter", 0, required_argument, OPT_DEAD_LETTER, "file", "Validation", "invalid records go to file" },
	{ "max-invalid-rate", 0, required_argument, OPT_MAX_RATE, "percent", "Validation", "fail when more records than this are invalid" },
	{ "min-records", 0, required_argument, OPT_MIN_RECORDS, "n", "Validation", "fail when fewer records came" },
	{ NULL, 'j', required_argument, 'j', "jobs", "Validation", "check on this many threads (output keeps the input's order)" },
	CLI_OPT_END
};

/* Error counts by keyword. */
struct kind {
	char keyword[32];
	uint64_t n;
};

/*
 * What checking one line needs: one a thread.  Each holds its own compiled
 * schema (a struct sch validates one instance at a time), document, error
 * list and pick.
 */
struct checker {
	struct sch s;
	struct sch_errors es;
	struct json_doc d;
	struct json_error je;
	struct json_pick pick;		/* the root members the schema can look at */
	struct strbuf errs;
};

/* What a line came to, for commit() to act on in input order. */
enum verdict { V_STATE, V_VALID, V_JSON, V_SCHEMA, V_LIMIT };

struct val {
	struct cli_common common;
	const char *schema_path, *dl_path, *ref_dir;
	int draft;		/* -1: from the schema's $schema */
	int format_assert;
	double max_rate;	/* < 0: no alarm */
	uint64_t min_records;
	unsigned jobs;		/* checking threads (-j); 1: the main thread checks */
	struct strbuf schema;	/* its text, compiled once a checker */
	struct checker *checkers;	/* one a job */
	struct deadletter dl;
	struct lreader in;
	struct lwriter out;
	uint64_t records, valid, invalid;
	struct kind *kinds;
	size_t nkinds;
	struct linepool *pool;	/* -j: the lines being checked */
};

static void count_kind(struct val *v, const char *kw)
{
	size_t i;

	for (i = 0; i < v->nkinds; i++)
		if (!strcmp(v->kinds[i].keyword, kw)) {
			v->kinds[i].n++;
			return;
		}
	v->kinds = realloc(v->kinds, (v->nkinds + 1) * sizeof(*v->kinds));
	if (!v->kinds)
		die(EX_OSERR, "out of memory");
	snprintf(v->kinds[v->nkinds].keyword, sizeof(v->kinds[v->nkinds].keyword), "%s", kw);
	v->kinds[v->nkinds++].n = 1;
}

/* The schema's text, and its draft when --draft did not say. */
static void load_schema(struct val *v)
{
	struct json_doc d;
	struct json_error je;

	tool_read_file(v->schema_path, "schema", &v->schema);
	if (v->draft < 0) {
		/* the schema's own $schema says which draft */
		struct strbuf ms = STRBUF_INIT;
		uint32_t t;

		json_doc_init(&d, 512);
		json_error_init(&je);
		v->draft = SCH_DRAFT_2020_12;
		if (json_parse(&d, v->schema.buf, v->schema.len, &je) == 0 &&
		    json_type(&d, 0) == JSON_OBJECT &&
		    (t = json_get(&d, 0, "$schema", 7)) && json_type(&d, t) == JSON_STRING &&
		    json_str_decode(&d, t, &ms) == 0 && ms.len &&
		    (strstr(ms.buf, "draft-07") || strstr(ms.buf, "draft-06") || strstr(ms.buf, "draft-04")))
			v->draft = SCH_DRAFT_7;
		json_doc_release(&d);
		json_error_release(&je);
		strbuf_release(&ms);
	}
}

/* A checker with the schema compiled (dies on a schema that does not compile). */
static void checker_init(struct val *v, struct checker *c)
{
	struct aperr e;

	sch_init(&c->s, (enum sch_draft)v->draft);
	c->s.format_assert = v->format_assert;
	if (v->ref_dir && sch_add_dir(&c->s, v->ref_dir, "", &e) < 0)
		die_err(&e);
	if (sch_compile(&c->s, "", v->schema.buf, v->schema.len, &e) < 0) {
		aperr_prefix(&e, "%s", v->schema_path);
		die_err(&e);
	}
	json_pick_init(&c->pick);
	sch_pick(&c->s, &c->pick);	/* -1: the parse stays whole */
	sch_errors_init(&c->es);
	json_doc_init(&c->d, v->common.max_depth);
	json_error_init(&c->je);
	strbuf_init(&c->errs, (size_t)-1);
}

static void checker_release(struct checker *c)
{
	sch_errors_release(&c->es);
	sch_release(&c->s);
	strbuf_release(&c->errs);
	json_doc_release(&c->d);
	json_error_release(&c->je);
}

/* The record's errors as a JSON array, for the dead letter, into c->errs. */
static int errors_json(struct checker *c)
{
	size_t i;
	struct jsonw w;

	strbuf_reset(&c->errs);
	jw_init(&w, &c->errs);
	jw_array(&w);
	for (i = 0; i < c->es.n; i++) {
		const struct sch_error *er = &c->es.e[i];

		jw_object(&w);
		jw_key(&w, "instance");
		jw_text(&w, er->instance.buf, er->instance.len);
		jw_key(&w, "schema");
		jw_text(&w, er->schema.buf, er->schema.len);
		jw_member_str(&w, "keyword", er->keyword);
		jw_key(&w, "message");
		jw_text(&w, er->message, strlen(er->message));
		jw_end_object(&w);
	}
	jw_end_array(&w);
	return jw_finish(&w);
}

/*
 * Check one record; touches nothing but c and info, so workers run it at
 * once.  What commit() needs goes to info:
 *   V_JSON    the message, NUL, the JSON Pointer of the fault (may be
 *             empty), NUL;
 *   V_SCHEMA  each error's keyword and a NUL, a NUL, the message that
 *             stops a run, a NUL, the errors as a JSON array;
 *   V_LIMIT   the message (the exit status in *code).
 */
static int check(void *wctx, const char *line, size_t n, uint64_t lineno, struct strbuf *info,
		 int *code)
{
	struct checker *c = wctx;
	struct aperr e;
	int r;
	size_t i;

	if (jsonl_is_state(line, n))	/* in-band state: on, in order */
		return V_STATE;
	if (tool_parse_line(&c->d, &c->je, &c->pick, line, n, lineno, &e) < 0) {
		strbuf_add(info, e.msg, strlen(e.msg) + 1);
		strbuf_add(info, c->je.pointer.buf, c->je.pointer.len);
		strbuf_addch(info, '\0');
		return V_JSON;
	}
	r = sch_validate(&c->s, &c->d, 0, &c->es, &e);
	if (r < 0) {
		*code = e.code;
		strbuf_addstr(info, e.msg);
		return V_LIMIT;
	}
	if (r == 1)
		return V_VALID;
	for (i = 0; i < c->es.n; i++)
		strbuf_add(info, c->es.e[i].keyword, strlen(c->es.e[i].keyword) + 1);
	strbuf_addch(info, '\0');
	if (c->es.n) {
		const struct sch_error *er = &c->es.e[0];

		strbuf_addf(info, "line %llu: %s: %s (schema %s)", (unsigned long long)lineno,
			    er->instance.len ? er->instance.buf : "/", er->message,
			    er->schema.buf);
	} else {
		strbuf_addf(info, "line %llu: invalid", (unsigned long long)lineno);
	}
	strbuf_addch(info, '\0');
	if (errors_json(c) < 0)
		die(EX_OSERR, "line %llu: cannot write its errors: out of memory",
		    (unsigned long long)lineno);
	strbuf_add(info, c->errs.buf, c->errs.len);
	return V_SCHEMA;
}

/* Act on what check() found, in input order: pass on, dead-letter or stop. */
static void commit(void *ctx, const char *line, size_t n, uint64_t lineno, int what, int code,
		   const char *info, size_t ilen)
{
	struct val *v = ctx;
	struct aperr e;

	if (what == V_STATE) {
		tool_check_write(lwriter_line(&v->out, line, n, &e), &e);
		return;
	}
	v->records++;
	switch (what) {
	case V_VALID:
		v->valid++;
		tool_check_write(lwriter_line(&v->out, line, n, &e), &e);
		return;
	case V_JSON: {
		const char *ptr = info + strlen(info) + 1;

		v->invalid++;
		count_kind(v, "json");
		if (!v->dl_path)
			die(EX_DATAERR, "line %llu: %s", (unsigned long long)lineno, info);
		if (dl_write(&v->dl, lineno, line, n, 0, *ptr ? ptr : NULL, info, &e) < 0)
			die_err(&e);
		return;
	}
	case V_SCHEMA: {
		const char *p = info;

		v->invalid++;
		for (; *p; p += strlen(p) + 1)
			count_kind(v, p);
		p++;
		if (!v->dl_path)
			die(EX_DATAERR, "%s", p);
		p += strlen(p) + 1;
		if (dl_write_errors(&v->dl, lineno, line, n, 1, p, ilen - (size_t)(p - info), &e) < 0)
			die_err(&e);
		return;
	}
	case V_LIMIT:
		die(code, "line %llu: %s", (unsigned long long)lineno, info);
	case V_STATE:
		break;
	}
}

static int by_count(const void *a, const void *b)
{
	const struct kind *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->keyword, y->keyword);
}

static void write_stats(struct val *v)
{
	struct tool_stats st;
	size_t i;

	tool_stats_begin(&st, NULL);
	jw_member_u64(&st.w, "records", v->records);
	jw_member_u64(&st.w, "valid", v->valid);
	jw_member_u64(&st.w, "invalid", v->invalid);
	jw_key(&st.w, "errors");
	jw_object(&st.w);
	for (i = 0; i < v->nkinds; i++)
		jw_member_u64(&st.w, v->kinds[i].keyword, v->kinds[i].n);
	jw_end_object(&st.w);
	tool_stats_end(&st, v->common.stats);
}

/* The "suddenly 10% invalid" alarm: 1 when the rate is over the limit. */
static int alarm_rate(struct val *v)
{
	double rate;
	struct strbuf top = STRBUF_INIT;
	size_t i;

	if (v->max_rate < 0 || !v->records || v->records < v->min_records)
		return 0;
	rate = 100.0 * (double)v->invalid / (double)v->records;
	if (rate <= v->max_rate)
		return 0;
	qsort(v->kinds, v->nkinds, sizeof(*v->kinds), by_count);
	for (i = 0; i < v->nkinds && i < 5; i++)
		strbuf_addf(&top, "%s%s %llu", i ? ", " : "", v->kinds[i].keyword,
			    (unsigned long long)v->kinds[i].n);
	warnmsg("ALARM: %.2f%% of %llu records were invalid, more than --max-invalid-rate %g%%; "
		"most frequent errors: %s", rate, (unsigned long long)v->records, v->max_rate,
		top.len ? top.buf : "none");
	strbuf_release(&top);
	return 1;
}

/* The upstream paused: the lines being checked are committed, and go on now. */
static void on_idle(void *ctx)
{
	struct val *v = ctx;
	struct aperr e;

	if (lp_drain(v->pool, &e) < 0)
		die_err(&e);
	(void)lwriter_flush(&v->out, &e);
}

int cmd_validate(int argc, char **argv)
{
	struct val v;
	struct aperr e, e2;
	struct linepool *pool;
	void *wctx[LP_MAX_JOBS];
	const char *line;
	size_t n;
	unsigned i;
	int opt, r, alarm;

	tool_set_options(options, NULL, NULL);
	memset(&v, 0, sizeof(v));
	cli_common_init(&v.common);
	v.draft = -1;
	v.max_rate = -1;
	v.min_records = 100;
	v.jobs = 1;
	strbuf_init(&v.schema, 0);
	while ((opt = tool_getopt(argc, argv)) != -1) {
		switch (opt) {
		case 'j': {
			uint64_t j;

			if (num_parse_count(optarg, 1, LP_MAX_JOBS, &j, "-j", &e) < 0)
				usage_error("%s", e.msg);
			v.jobs = (unsigned)j;
			break;
		}
		case OPT_SCHEMA: v.schema_path = optarg; break;
		case OPT_DRAFT:
			if (!strcmp(optarg, "2020-12"))
				v.draft = SCH_DRAFT_2020_12;
			else if (!strcmp(optarg, "7"))
				v.draft = SCH_DRAFT_7;
			else
				usage_error("--draft: 2020-12 or 7");
			break;
		case OPT_DEAD_LETTER: v.dl_path = optarg; break;
		case OPT_MAX_RATE:
			if (num_parse_real(optarg, 0, 1, 100, &v.max_rate, "--max-invalid-rate",
					   "a percentage from 0 to 100", &e) < 0)
				usage_error("%s", e.msg);
			break;
		case OPT_MIN_RECORDS:
			if (num_parse_u64(optarg, &v.min_records, "--min-records", &e) < 0)
				usage_error("%s", e.msg);
			break;
		case OPT_REF_DIR: v.ref_dir = optarg; break;
		case OPT_FORMAT_ASSERT: v.format_assert = 1; break;
		default: tool_common_opt(&v.common, opt, optarg);
		}
	}
	tool_common_done(&v.common, usage_text);
	if (!v.schema_path)
		usage_error("--schema is required");
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	load_schema(&v);
	if (!(v.checkers = calloc(v.jobs, sizeof(*v.checkers))))
		die(EX_OSERR, "out of memory");
	for (i = 0; i < v.jobs; i++) {
		checker_init(&v, &v.checkers[i]);
		wctx[i] = &v.checkers[i];
	}
	tool_filter_init(&v.common, &v.in, &v.out, NULL, NULL);
	if (v.dl_path && dl_open(&v.dl, v.dl_path, &e) < 0)
		die_err(&e);
	if (!(pool = lp_start(v.jobs, wctx, check, commit, &v, &e)))
		die_err(&e);
	v.pool = pool;
	v.in.on_idle = on_idle;
	v.in.idle_ctx = &v;
	while ((r = lreader_next(&v.in, &line, &n, &e)) > 0)
		if (lp_add(pool, line, n, v.in.lineno, &e) < 0)
			die_err(&e);
	/* the lines before a read error are committed first */
	if (lp_finish(pool, r < 0 ? &e2 : &e) < 0)
		die_err(r < 0 ? &e2 : &e);
	if (r < 0)
		die_err(&e);
	if (dl_close(&v.dl, &e) < 0)
		die_err(&e);
	tool_finish(&v.out);
	if (v.common.stats)
		write_stats(&v);
	if (v.common.verbose)
		warnmsg("%llu records: %llu valid, %llu invalid", (unsigned long long)v.records,
			(unsigned long long)v.valid, (unsigned long long)v.invalid);
	alarm = alarm_rate(&v);
	for (i = 0; i < v.jobs; i++)
		checker_release(&v.checkers[i]);
	free(v.checkers);
	strbuf_release(&v.schema);
	free(v.kinds);
	lreader_release(&v.in);
	return alarm ? 1 : 0;
}

int main(int argc, char **argv)
{
	tool_init("validate");
	return cmd_validate(argc, argv);
}
