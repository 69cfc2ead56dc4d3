/*
 * validate: records against a JSON Schema, valid ones passed on byte for
 * byte, invalid ones to a dead letter with every reason.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "../lib/deadletter.h"
#include "../lib/json.h"
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

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{ "schema", required_argument, NULL, OPT_SCHEMA },
	{ "draft", required_argument, NULL, OPT_DRAFT },
	{ "dead-letter", required_argument, NULL, OPT_DEAD_LETTER },
	{ "max-invalid-rate", required_argument, NULL, OPT_MAX_RATE },
	{ "min-records", required_argument, NULL, OPT_MIN_RECORDS },
	{ "ref-dir", required_argument, NULL, OPT_REF_DIR },
	{ "format-assert", no_argument, NULL, OPT_FORMAT_ASSERT },
	{ NULL, 0, NULL, 0 }
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
	pthread_t tid;
};

/* What a line came to, for commit() to act on in input order. */
enum verdict { V_STATE, V_VALID, V_JSON, V_SCHEMA, V_LIMIT };

struct result {
	uint64_t lineno;
	size_t off, len;	/* the line, in its batch's text */
	enum verdict what;
	int code;		/* V_LIMIT: the exit status */
	size_t ioff, ilen;	/* what commit() needs, in the batch's info (see check()) */
};

/* Lines checked together by one worker (-j), and what they came to. */
struct batch {
	struct strbuf text, info;
	struct result *r;
	size_t n, a;
	int done;		/* checked: commit() may take it */
};

struct val {
	struct cli_common common;
	const char *schema_path, *dl_path, *ref_dir;
	int draft;		/* -1: from the schema's $schema */
	int format_assert;
	double max_rate;	/* < 0: no alarm */
	uint64_t min_records;
	unsigned jobs;		/* checking threads (-j); 1: the main thread checks */
	struct strbuf schema;	/* its text, compiled once a checker */
	struct checker main;	/* -j 1 */
	struct checker *workers;
	struct batch *ring;	/* -j: batches, filled, checked and committed in turn */
	size_t nring, head, tail, taken;	/* oldest in flight; next to fill; next to check */
	int stop;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct deadletter dl;
	struct lreader in;
	struct lwriter out;
	uint64_t records, valid, invalid;
	struct kind *kinds;
	size_t nkinds;
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
		    json_str_decode(&d, t, &ms) == 0 && ms.buf &&
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
		jw_text(&w, er->instance.buf ? er->instance.buf : "", er->instance.len);
		jw_key(&w, "schema");
		jw_text(&w, er->schema.buf ? er->schema.buf : "", er->schema.len);
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
 *   V_JSON    the message, NUL, the JSON Pointer of the fault (may be empty);
 *   V_SCHEMA  each error's keyword and a NUL, a NUL, the message that
 *             stops a run, a NUL, the errors as a JSON array;
 *   V_LIMIT   the message (the exit status in *code).
 */
static enum verdict check(struct checker *c, const char *line, size_t n, uint64_t lineno,
			  struct strbuf *info, int *code)
{
	struct aperr e;
	int r;
	size_t i;

	if (jsonl_is_state(line, n))	/* in-band state: on, in order */
		return V_STATE;
	if (tool_parse_line(&c->d, &c->je, &c->pick, line, n, lineno, &e) < 0) {
		strbuf_add(info, e.msg, strlen(e.msg) + 1);
		strbuf_add(info, c->je.pointer.buf ? c->je.pointer.buf : "", c->je.pointer.len);
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
			    er->schema.buf ? er->schema.buf : "");
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
static void commit(struct val *v, const char *line, size_t n, uint64_t lineno, enum verdict what,
		   int code, const char *info, size_t ilen)
{
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
		size_t ml = strlen(info);

		v->invalid++;
		count_kind(v, "json");
		if (!v->dl_path)
			die(EX_DATAERR, "line %llu: %s", (unsigned long long)lineno, info);
		{
			struct strbuf ptr = STRBUF_INIT;

			strbuf_add(&ptr, info + ml + 1, ilen - ml - 1);
			if (dl_write(&v->dl, lineno, line, n, 0, ptr.len ? ptr.buf : NULL, info, &e) < 0)
				die_err(&e);
			strbuf_release(&ptr);
		}
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

/* -j 1: check and commit each line at once. */
static void one(struct val *v, const char *line, size_t n)
{
	struct strbuf info = STRBUF_INIT;
	int code = 0;
	enum verdict what = check(&v->main, line, n, v->in.lineno, &info, &code);

	if (strbuf_failed(&info))
		die(EX_OSERR, "line %llu: out of memory", (unsigned long long)v->in.lineno);
	commit(v, line, n, v->in.lineno, what, code, info.buf ? info.buf : "", info.len);
	strbuf_release(&info);
}

/* --- -j: workers check batches while the main thread reads and commits --- */

#define BATCH_LINES 512
#define BATCH_BYTES ((size_t)1 << 20)

static void check_batch(struct checker *c, struct batch *b)
{
	size_t i;

	strbuf_reset(&b->info);
	for (i = 0; i < b->n; i++) {
		struct result *r = &b->r[i];

		r->ioff = b->info.len;
		r->what = check(c, b->text.buf + r->off, r->len, r->lineno, &b->info, &r->code);
		r->ilen = b->info.len - r->ioff;
	}
}

static void *worker(void *arg)
{
	struct val *v = arg;
	struct checker *c = NULL;
	size_t i;

	pthread_mutex_lock(&v->mu);
	for (i = 0; i < v->jobs; i++)
		if (pthread_equal(v->workers[i].tid, pthread_self()))
			c = &v->workers[i];
	for (;;) {
		struct batch *b;

		while (!v->stop && v->taken == v->tail)
			pthread_cond_wait(&v->work, &v->mu);
		if (v->taken == v->tail)
			break;
		b = &v->ring[v->taken++ % v->nring];
		pthread_mutex_unlock(&v->mu);
		check_batch(c, b);
		pthread_mutex_lock(&v->mu);
		b->done = 1;
		pthread_cond_broadcast(&v->done);
	}
	pthread_mutex_unlock(&v->mu);
	return NULL;
}

/* Commit the oldest batch in flight once it is checked, and free its place. */
static void commit_oldest(struct val *v)
{
	struct batch *b = &v->ring[v->head % v->nring];
	size_t i;

	pthread_mutex_lock(&v->mu);
	while (!b->done)
		pthread_cond_wait(&v->done, &v->mu);
	pthread_mutex_unlock(&v->mu);
	if (strbuf_failed(&b->info) || strbuf_failed(&b->text))
		die(EX_OSERR, "out of memory");
	for (i = 0; i < b->n; i++) {
		const struct result *r = &b->r[i];

		commit(v, b->text.buf + r->off, r->len, r->lineno, r->what, r->code,
		       b->info.buf ? b->info.buf + r->ioff : "", r->ilen);
	}
	b->n = 0;
	b->done = 0;
	strbuf_reset(&b->text);
	v->head++;
}

/* Hand the batch being filled to the workers; wait for room when all are in flight. */
static void publish(struct val *v)
{
	if (!v->ring[v->tail % v->nring].n)
		return;
	pthread_mutex_lock(&v->mu);
	v->tail++;
	pthread_cond_signal(&v->work);
	pthread_mutex_unlock(&v->mu);
	if (v->tail - v->head == v->nring)
		commit_oldest(v);
}

static void add_line(struct val *v, const char *line, size_t n)
{
	struct batch *b = &v->ring[v->tail % v->nring];
	struct result *r;

	if (b->n == b->a) {
		size_t a = b->a ? b->a * 2 : 64;
		struct result *nr = realloc(b->r, a * sizeof(*nr));

		if (!nr)
			die(EX_OSERR, "out of memory");
		b->r = nr;
		b->a = a;
	}
	r = &b->r[b->n++];
	r->lineno = v->in.lineno;
	r->off = b->text.len;
	r->len = n;
	strbuf_add(&b->text, line, n);
	if (strbuf_failed(&b->text))
		die(EX_OSERR, "line %llu: out of memory", (unsigned long long)v->in.lineno);
	if (b->n == BATCH_LINES || b->text.len >= BATCH_BYTES)
		publish(v);
}

static void start_workers(struct val *v)
{
	size_t i;

	v->nring = (size_t)v->jobs * 2 + 1;
	v->ring = calloc(v->nring, sizeof(*v->ring));
	v->workers = calloc(v->jobs, sizeof(*v->workers));
	if (!v->ring || !v->workers)
		die(EX_OSERR, "out of memory");
	for (i = 0; i < v->nring; i++) {
		strbuf_init(&v->ring[i].text, 0);
		strbuf_init(&v->ring[i].info, 0);
	}
	pthread_mutex_init(&v->mu, NULL);
	pthread_cond_init(&v->work, NULL);
	pthread_cond_init(&v->done, NULL);
	pthread_mutex_lock(&v->mu);	/* each worker finds its checker once all are started */
	for (i = 0; i < v->jobs; i++) {
		checker_init(v, &v->workers[i]);
		if (pthread_create(&v->workers[i].tid, NULL, worker, v))
			die(EX_OSERR, "cannot start a checking thread");
	}
	pthread_mutex_unlock(&v->mu);
}

/* Commit what is in flight, then stop the workers. */
static void finish_workers(struct val *v)
{
	size_t i;

	publish(v);
	while (v->head < v->tail)
		commit_oldest(v);
	pthread_mutex_lock(&v->mu);
	v->stop = 1;
	pthread_cond_broadcast(&v->work);
	pthread_mutex_unlock(&v->mu);
	for (i = 0; i < v->jobs; i++) {
		pthread_join(v->workers[i].tid, NULL);
		checker_release(&v->workers[i]);
	}
	for (i = 0; i < v->nring; i++) {
		strbuf_release(&v->ring[i].text);
		strbuf_release(&v->ring[i].info);
		free(v->ring[i].r);
	}
	free(v->ring);
	free(v->workers);
	pthread_mutex_destroy(&v->mu);
	pthread_cond_destroy(&v->work);
	pthread_cond_destroy(&v->done);
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
		top.buf ? top.buf : "none");
	strbuf_release(&top);
	return 1;
}

static const struct cli_help help[] = {
	{ "Validation", "--schema file", "the JSON Schema records must meet" },
	{ "Validation", "--draft 2020-12|7", "the schema's draft when it does not say" },
	{ "Validation", "--format-assert", "check format (date-time, email ...) as an assertion" },
	{ "Validation", "--ref-dir dir", "where $ref'd schemas are found" },
	{ "Validation", "--dead-letter file", "invalid records go to file" },
	{ "Validation", "--max-invalid-rate percent", "fail when more records than this are invalid" },
	{ "Validation", "--min-records n", "fail when fewer records came" },
	{ "Validation", "-j jobs", "check on this many threads (output keeps the input's order)" },
	{ NULL, NULL, NULL }
};

int cmd_validate(int argc, char **argv)
{
	struct val v;
	struct aperr e;
	const char *line;
	size_t n;
	int opt, r, alarm;

	tool_set_help(help, NULL);
	memset(&v, 0, sizeof(v));
	cli_common_init(&v.common);
	v.draft = -1;
	v.max_rate = -1;
	v.min_records = 100;
	v.jobs = 1;
	strbuf_init(&v.schema, 0);
	while ((opt = tool_getopt(argc, argv, "hqvj:", longopts)) != -1) {
		switch (opt) {
		case 'j': {
			uint64_t j;

			if (num_parse_count(optarg, 1, 64, &j, "-j", &e) < 0)
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
	checker_init(&v, &v.main);	/* also when -j: a schema that does not compile stops here */
	tool_filter_init(&v.common, &v.in, &v.out, NULL, NULL);
	if (v.dl_path && dl_open(&v.dl, v.dl_path, &e) < 0)
		die_err(&e);
	if (v.jobs > 1)
		start_workers(&v);
	while ((r = lreader_next(&v.in, &line, &n, &e)) > 0) {
		if (v.jobs > 1)
			add_line(&v, line, n);
		else
			one(&v, line, n);
	}
	if (v.jobs > 1)
		finish_workers(&v);	/* the lines before a read error are committed first */
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
	checker_release(&v.main);
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
