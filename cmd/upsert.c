/*
 * upsert: land records in a table, keyed, idempotently, in batches; the
 * watermark of each batch commits in the same transaction as its rows.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "../lib/db.h"
#include "../lib/deadletter.h"
#include "../lib/instant.h"
#include "../lib/json.h"
#include "../lib/num.h"
#include "../lib/ordval.h"

static const char usage_text[] =
	"usage: upsert [-hqv] --db path --table name --key pointer[,pointer...]\n"
	"       [--column name=pointer[:type]]... [--batch n] [--only-newer pointer]\n"
	"       [--watermark-name name --watermark-field pointer] [--dead-letter file]\n"
	"       [--stats file] [--max-line size] [--max-depth n]\n";

enum {
	OPT_DB = CLI_OPT_FIRST_TOOL, OPT_TABLE, OPT_KEY, OPT_COLUMN, OPT_BATCH, OPT_ONLY_NEWER,
	OPT_WM_NAME, OPT_WM_FIELD, OPT_DEAD_LETTER
};

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{ "db", required_argument, NULL, OPT_DB },
	{ "table", required_argument, NULL, OPT_TABLE },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "column", required_argument, NULL, OPT_COLUMN },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "only-newer", required_argument, NULL, OPT_ONLY_NEWER },
	{ "watermark-name", required_argument, NULL, OPT_WM_NAME },
	{ "watermark-field", required_argument, NULL, OPT_WM_FIELD },
	{ "dead-letter", required_argument, NULL, OPT_DEAD_LETTER },
	{ NULL, 0, NULL, 0 }
};

struct up {
	struct cli_common common;
	const char *dburl, *table, *wm_name, *dl_path;
	struct db_column *cols;
	size_t ncols, nkeys;
	uint64_t batch_size;
	struct json_ptr newer, wm_field;
	int have_newer, have_wm;
	struct db *db;
	struct db_value *vals;
	struct lreader in;
	struct lwriter out;
	struct json_doc d, sd;
	struct json_error je;
	struct deadletter dl;
	struct strbuf stored, scratch;
	struct ordval a, b, wm, wm_batch;
	int have_wm_batch, in_tx;
	uint64_t in_batch;
	struct strbuf batch;		/* the open batch's lines, for a replay */
	uint64_t b_count[4];		/* its inserted, updated, unchanged, skipped */
	unsigned retries;		/* replays of the open batch */
	char now[64];
	uint64_t inserted, updated, unchanged, skipped, dead, batches, records;
};

/* A column name from a pointer: its reference tokens joined by "_". */
static char *name_of(const struct json_ptr *p)
{
	struct strbuf n = STRBUF_INIT;
	size_t i;

	for (i = 0; i < p->nseg; i++) {
		if (i)
			strbuf_addch(&n, '_');
		strbuf_add(&n, p->seg[i].s, p->seg[i].n);
	}
	return strbuf_detach(&n, NULL);
}

/* NAME=POINTER[:TYPE] or POINTER. */
static void add_column(struct up *u, const char *arg, int key)
{
	struct db_column *c;
	struct aperr e;
	char *copy = strdup(arg), *eq, *ptr, *colon;
	int t = DB_ANY;

	if (!copy)
		die(EX_OSERR, "out of memory");
	eq = copy[0] == '/' ? NULL : strchr(copy, '=');
	ptr = eq ? eq + 1 : copy;
	colon = strrchr(ptr, ':');
	if (colon && !key) {
		t = db_type_parse(colon + 1);
		if (t < 0)
			usage_error(usage_text, "--column %s: '%s' is not text, integer, real, boolean, "
				    "json or timestamp", arg, colon + 1);
		*colon = '\0';
	}
	u->cols = realloc(u->cols, (u->ncols + 1) * sizeof(*u->cols));
	if (!u->cols)
		die(EX_OSERR, "out of memory");
	c = &u->cols[u->ncols];
	memset(c, 0, sizeof(*c));
	if (json_ptr_parse(&c->ptr, ptr, &e) < 0)
		usage_error(usage_text, "%s %s: %s", key ? "--key" : "--column", arg, e.msg);
	if (eq) {
		*eq = '\0';
		c->name = strdup(copy);
	} else {
		c->name = name_of(&c->ptr);
	}
	if (!c->name || !*c->name)
		usage_error(usage_text, "%s %s: no column name", key ? "--key" : "--column", arg);
	if (!strcmp(c->name, "record") || !strcmp(c->name, "ingested_at"))
		usage_error(usage_text, "the column name %s is the table's own", c->name);
	c->type = (enum db_type)t;
	u->ncols++;
	if (key)
		u->nkeys++;
	free(copy);
}

static void die_db(struct up *u, struct aperr *e) __attribute__((noreturn));
static void die_db(struct up *u, struct aperr *e)
{
	if (u->in_tx)
		db_rollback(u->db);
	die_err(e);
}

static int begin(struct up *u, struct aperr *e)
{
	struct instant t;

	if (db_begin(u->db, e) < 0)
		return -1;
	u->in_tx = 1;
	u->in_batch = 0;
	u->have_wm_batch = 0;
	memset(u->b_count, 0, sizeof(u->b_count));
	instant_now(&t);
	instant_format(&t, u->now, sizeof(u->now));
	return 0;
}

/* The batch's watermark, and COMMIT. */
static int commit_tx(struct up *u, struct aperr *e)
{
	if (u->have_wm && u->have_wm_batch) {
		/* the batch's max, unless the stored one is later */
		int r = db_state_get(u->db, u->wm_name, &u->stored, e);

		if (r < 0)
			return -1;
		if (r == 0 || ordval_set_text(&u->wm, u->stored.buf, u->stored.len, ORD_AUTO, e) < 0 ||
		    u->wm.kind != u->wm_batch.kind || ordval_cmp(&u->wm_batch, &u->wm) > 0) {
			if (db_state_put(u->db, u->wm_name, u->wm_batch.raw.buf, u->now, e) < 0)
				return -1;
		}
	}
	return db_commit(u->db, e);
}

/* Extract the parsed record's columns and watermark: 0, or -1 naming the pointer. */
static int extract(struct up *u, const char **ptr, struct aperr *e)
{
	size_t i;

	for (i = 0; i < u->ncols; i++) {
		*ptr = u->cols[i].ptr.text;
		if (db_value_from_json(&u->cols[i], &u->d, 0, &u->vals[i], e) < 0)
			return -1;
		if (i < u->nkeys && u->vals[i].null)
			return aperr_set(e, EX_DATAERR, "the record has no key here");
	}
	if (u->have_wm) {
		uint32_t t = json_ptr_eval(&u->wm_field, &u->d, 0);

		*ptr = u->wm_field.text;
		if (t == JSON_ABSENT)
			return aperr_set(e, EX_DATAERR, "no watermark field");
		if (ordval_set(&u->a, &u->d, t, ORD_AUTO, e) < 0)
			return -1;
	}
	return 0;
}

/* Is the incoming record older than the stored one (by --only-newer)? */
static int older(struct up *u);

/* Land one extracted record in the open transaction.  0, or -1 (e). */
static int apply(struct up *u, const char *line, size_t n, struct aperr *e)
{
	int r, same;

	if (u->have_wm && (!u->have_wm_batch || (u->a.kind == u->wm_batch.kind &&
						  ordval_cmp(&u->a, &u->wm_batch) > 0))) {
		ordval_copy(&u->wm_batch, &u->a);
		u->have_wm_batch = 1;
	}
	r = db_find(u->db, u->vals, line, n, &u->stored, &same, e);
	if (r < 0)
		return -1;
	if (r == 1 && same) {
		u->b_count[2]++;
	} else if (r == 1 && u->have_newer && older(u)) {
		u->b_count[3]++;
	} else {
		if (db_put(u->db, u->vals, line, n, u->now, e) < 0)
			return -1;
		u->b_count[r == 1 ? 1 : 0]++;
	}
	u->in_batch++;
	return 0;
}

/* Begin again and land every line of the open batch once more. */
static int replay(struct up *u, struct aperr *e)
{
	const char *p = u->batch.buf, *end = p + u->batch.len, *ptr;

	if (begin(u, e) < 0)
		return -1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)(nl - p);

		if (json_parse(&u->d, p, n, &u->je) < 0 || extract(u, &ptr, e) < 0)
			return aperr_set(e, EX_SOFTWARE, "a batch line no longer parses");
		if (apply(u, p, n, e) < 0)
			return -1;
		p = nl + 1;
	}
	return 0;
}

/*
 * A database operation failed with e.  A transient failure (busy, locked,
 * a lost connection, a serialisation failure) rolls back, reconnects and
 * replays the open batch, a few times with backoff; anything else ends
 * the run.
 */
static void recover(struct up *u, struct aperr *e)
{
	for (;;) {
		if (e->code != EX_TEMPFAIL || u->retries >= 6)
			die_db(u, e);
		db_rollback(u->db);
		u->in_tx = 0;
		if (!u->common.quiet)
			warnmsg("%s; replaying the batch (%u)", e->msg, u->retries + 1);
		usleep(100000u << u->retries);
		u->retries++;
		if (db_reconnect(u->db, e) == 0 && replay(u, e) == 0)
			return;
	}
}

static void commit(struct up *u)
{
	struct aperr e;
	size_t i;

	if (!u->in_tx)
		return;
	while (commit_tx(u, &e) < 0)
		recover(u, &e);
	u->in_tx = 0;
	u->batches++;
	u->retries = 0;
	strbuf_reset(&u->batch);
	u->inserted += u->b_count[0];
	u->updated += u->b_count[1];
	u->unchanged += u->b_count[2];
	u->skipped += u->b_count[3];
	for (i = 0; i < 4; i++)
		u->b_count[i] = 0;
}

/* A record that cannot land: to the dead letter, or the end of the run. */
static void reject(struct up *u, const char *line, size_t n, int is_json, const char *ptr,
		   const char *msg)
{
	struct aperr e;

	if (!u->dl_path) {
		if (u->in_tx)
			db_rollback(u->db);
		die(EX_DATAERR, "line %llu: %s%s%s", (unsigned long long)u->in.lineno,
		    ptr ? ptr : "", ptr ? ": " : "", msg);
	}
	if (dl_write(&u->dl, u->in.lineno, line, n, is_json, ptr, msg, &e) < 0)
		die_db(u, &e);
	u->dead++;
}

/* Is the incoming record older than the stored one (by --only-newer)? */
static int older(struct up *u)
{
	uint32_t nt = json_ptr_eval(&u->newer, &u->d, 0), st;
	struct aperr e;

	if (nt == JSON_ABSENT || json_parse(&u->sd, u->stored.buf, u->stored.len, &u->je) < 0)
		return 0;
	st = json_ptr_eval(&u->newer, &u->sd, 0);
	if (st == JSON_ABSENT || ordval_set(&u->a, &u->d, nt, ORD_AUTO, &e) < 0 ||
	    ordval_set(&u->b, &u->sd, st, ORD_AUTO, &e) < 0 || u->a.kind != u->b.kind)
		return 0;
	return ordval_cmp(&u->a, &u->b) < 0;
}

static void one(struct up *u, const char *line, size_t n)
{
	struct aperr e;
	const char *ptr = NULL;

	u->records++;
	if (tool_parse_line(&u->d, &u->je, line, n, u->in.lineno, &e) < 0) {
		reject(u, line, n, 0, u->je.pointer.len ? u->je.pointer.buf : NULL, e.msg);
		return;
	}
	if (json_type(&u->d, 0) != JSON_OBJECT) {
		reject(u, line, n, 1, "", "a record is a JSON object");
		return;
	}
	if (extract(u, &ptr, &e) < 0) {
		reject(u, line, n, 1, ptr, e.msg);
		return;
	}
	if (!u->in_tx && begin(u, &e) < 0)
		recover(u, &e);		/* the batch is empty: this begins again */
	strbuf_add(&u->batch, line, n);
	strbuf_addch(&u->batch, '\n');
	if (apply(u, line, n, &e) < 0)
		recover(u, &e);		/* the replay lands this line too */
	if (u->in_batch >= u->batch_size)
		commit(u);
}

static void write_stats(struct up *u)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "{\"records\":%llu,\"inserted\":%llu,\"updated\":%llu,\"unchanged\":%llu,"
		    "\"skipped\":%llu,\"dead_lettered\":%llu,\"batches\":%llu,\"seconds\":%.3f}\n",
		    (unsigned long long)u->records, (unsigned long long)u->inserted,
		    (unsigned long long)u->updated, (unsigned long long)u->unchanged,
		    (unsigned long long)u->skipped, (unsigned long long)u->dead,
		    (unsigned long long)u->batches, tool_seconds());
	tool_write_stats(u->common.stats, &sb);
	strbuf_release(&sb);
}

int cmd_upsert(int argc, char **argv)
{
	struct up u;
	struct aperr e;
	const char *line;
	size_t n, i;
	int opt, r;

	memset(&u, 0, sizeof(u));
	cli_common_init(&u.common);
	u.batch_size = 1000;
	while ((opt = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_DB: u.dburl = optarg; break;
		case OPT_TABLE: u.table = optarg; break;
		case OPT_KEY: {
			char *list = strdup(optarg), *tok, *save = NULL;

			if (u.ncols > u.nkeys)
				usage_error(usage_text, "give --key before --column");
			for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
				add_column(&u, tok, 1);
			free(list);
			break;
		}
		case OPT_COLUMN: add_column(&u, optarg, 0); break;
		case OPT_BATCH:
			if (num_parse_u64(optarg, &u.batch_size, "--batch", &e) < 0 || !u.batch_size)
				usage_error(usage_text, "--batch: a whole number above 0");
			break;
		case OPT_ONLY_NEWER:
			if (json_ptr_parse(&u.newer, optarg, &e) < 0)
				usage_error(usage_text, "--only-newer: %s", e.msg);
			u.have_newer = 1;
			break;
		case OPT_WM_NAME: u.wm_name = optarg; break;
		case OPT_WM_FIELD:
			if (json_ptr_parse(&u.wm_field, optarg, &e) < 0)
				usage_error(usage_text, "--watermark-field: %s", e.msg);
			u.have_wm = 1;
			break;
		case OPT_DEAD_LETTER: u.dl_path = optarg; break;
		default: tool_common_opt(&u.common, opt, optarg, usage_text);
		}
	}
	tool_common_done(&u.common, usage_text);
	if (!u.dburl || !u.table || !u.nkeys)
		usage_error(usage_text, "--db, --table and --key are required");
	if (!!u.wm_name != u.have_wm)
		usage_error(usage_text, "--watermark-name and --watermark-field go together");
	if (optind < argc)
		usage_error(usage_text, "unexpected argument '%s'", argv[optind]);
	tool_filter_init(&u.common, &u.in, &u.out, &u.d, &u.je);
	json_doc_init(&u.sd, u.common.max_depth);
	strbuf_init(&u.stored, u.common.max_line);
	strbuf_init(&u.scratch, 0);
	strbuf_init(&u.batch, (size_t)-1);
	ordval_init(&u.a);
	ordval_init(&u.b);
	ordval_init(&u.wm);
	ordval_init(&u.wm_batch);
	u.vals = calloc(u.ncols, sizeof(*u.vals));
	if (!u.vals)
		die(EX_OSERR, "out of memory");
	for (i = 0; i < u.ncols; i++)
		db_value_init(&u.vals[i]);
	if (u.dl_path && dl_open(&u.dl, u.dl_path, &e) < 0)
		die_err(&e);
	u.db = db_open(u.dburl, &e);
	if (!u.db || db_prepare(u.db, u.table, u.cols, u.ncols, u.nkeys, &e) < 0)
		die_err(&e);
	while ((r = lreader_next(&u.in, &line, &n, &e)) > 0)
		one(&u, line, n);
	if (r < 0)
		die_db(&u, &e);
	commit(&u);
	if (dl_close(&u.dl, &e) < 0)
		die_err(&e);
	if (u.common.stats)
		write_stats(&u);
	if (u.common.verbose)
		warnmsg("%llu inserted, %llu updated, %llu unchanged, %llu skipped, %llu dead-lettered",
			(unsigned long long)u.inserted, (unsigned long long)u.updated,
			(unsigned long long)u.unchanged, (unsigned long long)u.skipped,
			(unsigned long long)u.dead);
	db_close(u.db);
	for (i = 0; i < u.ncols; i++) {
		db_value_release(&u.vals[i]);
		json_ptr_release(&u.cols[i].ptr);
		free(u.cols[i].name);
	}
	free(u.vals);
	free(u.cols);
	if (u.have_newer)
		json_ptr_release(&u.newer);
	if (u.have_wm)
		json_ptr_release(&u.wm_field);
	ordval_release(&u.a);
	ordval_release(&u.b);
	ordval_release(&u.wm);
	ordval_release(&u.wm_batch);
	strbuf_release(&u.stored);
	strbuf_release(&u.scratch);
	strbuf_release(&u.batch);
	json_doc_release(&u.d);
	json_doc_release(&u.sd);
	json_error_release(&u.je);
	lreader_release(&u.in);
	tool_finish(&u.out);
	return 0;
}

int main(int argc, char **argv)
{
	tool_init("upsert");
	return cmd_upsert(argc, argv);
}
