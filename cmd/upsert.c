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
#include "../lib/json.h"
#include "../lib/num.h"
#include "../lib/upsert.h"

static const char usage_text[] =
	"usage: upsert [-hqv] --db path --table name --key pointer[,pointer...]\n"
	"       [--column name=pointer[:type]]... [--columns-from schema] [--batch n]\n"
	"       [--order-field pointer [--only-newer] [--watermark-name name]]\n"
	"       [--dead-letter file] [--state name] [--replace]\n"
	"       [--delete-when pointer[=value]] [--child pointer=table]...\n"
	"       [--record-type jsonb | json | text]\n"
	"       [--stats file] [--max-line size] [--max-depth n]\n";

enum {
	OPT_DB = CLI_OPT_FIRST_TOOL, OPT_TABLE, OPT_KEY, OPT_COLUMN, OPT_BATCH, OPT_ONLY_NEWER,
	OPT_WM_NAME, OPT_WM_FIELD, OPT_DEAD_LETTER, OPT_RECORD_TYPE, OPT_ORDER_FIELD,
	OPT_COLUMNS_FROM, OPT_STATE, OPT_REPLACE, OPT_DELETE_WHEN, OPT_CHILD
};

static const struct cli_opt options[] = {
	{ "db", 0, required_argument, OPT_DB, "path", "Table", "a SQLite file or a postgresql:// URL" },
	{ "table", 0, required_argument, OPT_TABLE, "name", "Table", "the table" },
	{ "key", 0, required_argument, OPT_KEY, "pointer[,pointer...]", "Table", "the record key" },
	{ "column", 0, required_argument, OPT_COLUMN, "name=pointer[:type]", "Table", "a column of its own, from the record" },
	{ "columns-from", 0, required_argument, OPT_COLUMNS_FROM, "schema", "Table", "a typed column for each top-level property of a JSON Schema" },
	{ "record-type", 0, required_argument, OPT_RECORD_TYPE, "jsonb|json|text", "Table", "PostgreSQL: how the record is kept" },
	{ "batch", 0, required_argument, OPT_BATCH, "n", "Table", "records a transaction" },
	{ "order-field", 0, required_argument, OPT_ORDER_FIELD, "pointer", "Table", "the field that orders a record's versions" },
	{ "only-newer", 0, no_argument, OPT_ONLY_NEWER, NULL, "Table", "update only when --order-field is newer" },
	{ "watermark-name", 0, required_argument, OPT_WM_NAME, "name", "Table", "keep --order-field's greatest value with the rows" },
	{ "dead-letter", 0, required_argument, OPT_DEAD_LETTER, "file", "Table", "records that cannot land go to file" },
	{ "state", 0, required_argument, OPT_STATE, "name", "Table", "land rows only once paginate's state line name has come" },
	{ "replace", 0, no_argument, OPT_REPLACE, NULL, "Table", "the table becomes exactly this run's records (swapped in at its end)" },
	{ "child", 0, required_argument, OPT_CHILD, "pointer=table", "Table", "each element of the array at pointer a row of table, replaced with its parent" },
	{ "delete-when", 0, required_argument, OPT_DELETE_WHEN, "pointer[=value]", "Table", "a record whose value there is true (or a string, or value) deletes its key's row" },
	{ "watermark-field", 0, required_argument, OPT_WM_FIELD, NULL, NULL, NULL },
	CLI_OPT_END
};

struct up {
	struct cli_common common;
	const char *dburl, *table, *wm_name, *dl_path;
	const char *want_state;		/* --state: rows land only once this state has come */
	int state_seen;
	struct db_column *cols;
	size_t ncols, nkeys;
	uint64_t batch_size;
	struct json_ptr newer, wm_field;
	int have_newer, have_wm;
	const char *record_type;	/* --record-type (PostgreSQL), NULL: jsonb */
	int replace;			/* --replace: land in staging, swap in at the end */
	struct strbuf staging;
	struct upsert_child *children;	/* --child POINTER=TABLE, each */
	size_t nchildren;
	struct json_ptr del;		/* --delete-when POINTER[=VALUE] */
	char *del_value;
	int have_del;
	struct db *db;
	struct upsert ups;
	struct lreader in;
	struct lwriter out;
	struct json_doc d;
	struct json_error je;
	struct deadletter dl;
	uint64_t dead, records;
};

/* Room for one more column: the slot after the last (u->ncols is the caller's to count). */
static struct db_column *next_column(struct up *u)
{
	u->cols = realloc(u->cols, (u->ncols + 1) * sizeof(*u->cols));
	if (!u->cols)
		die(EX_OSERR, "out of memory");
	return &u->cols[u->ncols];
}

/* NAME=POINTER[:TYPE] or POINTER. */
static void add_column(struct up *u, const char *arg, int key)
{
	struct db_column *c = next_column(u);
	struct aperr e;

	if (db_column_parse(c, arg, key ? 2 : 1, &e) < 0) {
		if (e.code == EX_OSERR)
			die_err(&e);
		usage_error("%s %s", key ? "--key" : "--column", e.msg);
	}
	if (!strcmp(c->name, "record") || !strcmp(c->name, "ingested_at"))
		usage_error("the column name %s is the table's own", c->name);
	u->ncols++;
	if (key)
		u->nkeys++;
}

/* --child POINTER=TABLE */
static void add_child(struct up *u, const char *arg)
{
	struct upsert_child *c;
	struct aperr e;

	u->children = realloc(u->children, (u->nchildren + 1) * sizeof(*u->children));
	if (!u->children)
		die(EX_OSERR, "out of memory");
	c = &u->children[u->nchildren];
	if (cli_pointer_to(arg, &c->ptr, &c->table, &e) < 0) {
		aperr_prefix(&e, "--child");
		die_opt(&e);
	}
	u->nchildren++;
}

/* A property of --columns-from: a column at /NAME, unless one of that name is given. */
static int add_property(void *ctx, const char *name, size_t nl, enum db_type t, struct aperr *e)
{
	struct up *u = ctx;
	size_t i;

	for (i = 0; i < u->ncols; i++)
		if (strlen(u->cols[i].name) == nl && !memcmp(u->cols[i].name, name, nl))
			return 0;	/* given: a key, or a --column */
	if ((nl == 6 && !memcmp(name, "record", 6)) || (nl == 11 && !memcmp(name, "ingested_at", 11)))
		return 0;	/* the table's own: the record keeps it */
	if (db_column_member(next_column(u), name, nl, t, e) < 0)
		return -1;
	u->ncols++;
	return 0;
}

/*
 * A column the table's registry lists: one this writer does not name is
 * filled as the writer that added it fills it; an untyped one it names
 * takes the registered type.  (A pointer that differs is db_prepare's error.)
 */
static int add_registered(void *ctx, const char *name, const struct json_ptr *p, enum db_type t,
			  struct aperr *e)
{
	struct up *u = ctx;
	struct db_column *c;
	size_t i;

	for (i = 0; i < u->ncols; i++)
		if (!strcmp(u->cols[i].name, name)) {
			if (i >= u->nkeys && u->cols[i].type == DB_ANY)
				u->cols[i].type = t;
			return 0;
		}
	c = next_column(u);
	c->type = t;
	if (!(c->name = strdup(name)))
		return aperr_set(e, EX_OSERR, "out of memory");
	if (json_ptr_parse(&c->ptr, p->text, e) < 0) {
		free(c->name);
		return -1;
	}
	u->ncols++;
	if (u->common.verbose)
		warnmsg("column %s of %s: filled from %s as the table's other writers do",
			name, u->table, p->text);
	return 0;
}

static void add_schema_columns(struct up *u, const char *path)
{
	struct strbuf text = STRBUF_INIT;
	struct json_doc d;
	struct aperr e;

	json_doc_init(&d, 0);
	tool_read_json(path, "--columns-from schema", &text, &d);
	if (db_schema_columns(&d, add_property, u, &e) < 0)
		die(e.code, "--columns-from %s: %s", path, e.msg);
	json_doc_release(&d);
	strbuf_release(&text);
}

static void flush(struct up *u)
{
	struct aperr e;

	if (upsert_flush(&u->ups, &e) < 0)
		die_err(&e);
}

/* With --state, nothing lands before the first state line of that name. */
static int may_land(const struct up *u)
{
	return !u->want_state || u->state_seen;
}

static void reject(struct up *u, const char *line, size_t n, int is_json, const char *ptr,
		   const char *msg);

/*
 * An in-band state line: {"apipe_state":NAME,"value":…} after RS.  Its
 * value is written to apipe_state in the transaction that commits every
 * row before it, so a resumed crawl starts exactly after what landed.
 */
static void take_state(struct up *u, const char *line, size_t n)
{
	struct strbuf name = STRBUF_INIT, value = STRBUF_INIT;
	struct aperr e;
	uint32_t tn, tv;

	if (tool_parse_line(&u->d, &u->je, NULL, line + 1, n - 1, u->in.lineno, &e) < 0 ||
	    json_type(&u->d, 0) != JSON_OBJECT ||
	    !(tn = json_get(&u->d, 0, "apipe_state", 11)) || json_type(&u->d, tn) != JSON_STRING ||
	    !(tv = json_get(&u->d, 0, "value", 5)) || json_str_decode(&u->d, tn, &name) < 0 ||
	    !name.len) {
		/*
		 * With a dead letter it goes there like a bad record: no state is
		 * committed for it, so a resumed crawl starts earlier, never later.
		 */
		reject(u, line, n, 0, NULL, "a state line (it begins with RS) that is not "
		       "{\"apipe_state\":NAME,\"value\":…}");
		strbuf_release(&name);
		return;
	}
	if (u->want_state && !strcmp(name.buf, u->want_state))
		u->state_seen = 1;
	if (json_minify(&u->d, tv, &value) < 0 ||
	    upsert_state(&u->ups, name.buf, value.buf, value.len, &e) < 0)
		die(EX_OSERR, "out of memory");
	strbuf_release(&name);
	strbuf_release(&value);
}

/* A record that cannot land: to the dead letter, or the end of the run. */
static void reject(struct up *u, const char *line, size_t n, int is_json, const char *ptr,
		   const char *msg)
{
	struct aperr e;

	if (!u->dl_path)
		die(EX_DATAERR, "line %llu: %s%s%s%s%s%s", (unsigned long long)u->in.lineno,
		    ptr ? ptr : "", ptr ? ": " : "", msg,
		    may_land(u) ? "" : "; no state line ", may_land(u) ? "" : u->want_state,
		    may_land(u) ? "" : " has come yet, so nothing landed (a stage that rewrites "
				       "state lines, as jq does, would explain both: see IN-BAND "
				       "STATE in apipe(7))");
	if (dl_write(&u->dl, u->in.lineno, line, n, is_json, ptr, msg, &e) < 0)
		die_err(&e);
	u->dead++;
}

static void no_state(const struct up *u) __attribute__((noreturn));
static void no_state(const struct up *u)
{
	die(EX_DATAERR, "line %llu: %llu records and no state line %s before them: a stage "
	    "between paginate --state %s and upsert drops state lines (jq does; see IN-BAND "
	    "STATE in apipe(7)); nothing landed", (unsigned long long)u->in.lineno,
	    (unsigned long long)u->ups.nrows, u->want_state, u->want_state);
}

/* Records held for the first state line: a bound, so a stream that lost them ends. */
static void hold_check(const struct up *u)
{
	if (u->ups.nrows >= 64 * u->batch_size || u->ups.batch.len >= (256u << 20))
		no_state(u);
}

static void one(struct up *u, const char *line, size_t n)
{
	struct aperr e;
	const char *ptr = NULL;
	int r;

	u->records++;
	tool_refuse_lost_state(line, n, u->in.lineno);
	if (tool_parse_line(&u->d, &u->je, NULL, line, n, u->in.lineno, &e) < 0) {
		reject(u, line, n, 0, u->je.pointer.len ? u->je.pointer.buf : NULL, e.msg);
		return;
	}
	if (json_type(&u->d, 0) != JSON_OBJECT) {
		reject(u, line, n, 1, "", "a record is a JSON object");
		return;
	}
	r = upsert_add(&u->ups, &u->d, line, n, &ptr, &e);
	if (r == UPSERT_REJECT)
		reject(u, line, n, 1, ptr, e.msg);
	else if (r < 0)
		die_err(&e);
	else if (!may_land(u))
		hold_check(u);
	else if (u->ups.nrows >= u->batch_size)
		flush(u);
}

static void write_stats(struct up *u)
{
	struct tool_stats st;

	tool_stats_begin(&st, NULL);
	jw_member_u64(&st.w, "records", u->records);
	jw_member_u64(&st.w, "inserted", u->ups.inserted);
	jw_member_u64(&st.w, "updated", u->ups.updated);
	jw_member_u64(&st.w, "unchanged", u->ups.unchanged);
	jw_member_u64(&st.w, "skipped", u->ups.skipped);
	jw_member_u64(&st.w, "deleted", u->ups.deleted);
	jw_member_u64(&st.w, "dead_lettered", u->dead);
	jw_member_u64(&st.w, "batches", u->ups.batches);
	tool_stats_end(&st, u->common.stats);
}

/* The options into u (dies with 64 on a usage error). */
static void parse_args(struct up *u, int argc, char **argv)
{
	const char *order = NULL, *columns_from = NULL;
	struct aperr e;
	int opt;

	while ((opt = tool_getopt(argc, argv)) != -1) {
		switch (opt) {
		case OPT_DB: u->dburl = tool_db_target(optarg, "--db"); break;
		case OPT_TABLE: u->table = optarg; break;
		case OPT_KEY: {
			char *list = strdup(optarg), *tok, *save = NULL;

			if (u->ncols > u->nkeys)
				usage_error("give --key before --column");
			for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
				add_column(u, tok, 1);
			free(list);
			break;
		}
		case OPT_COLUMN: add_column(u, optarg, 0); break;
		case OPT_COLUMNS_FROM: columns_from = optarg; break;
		case OPT_BATCH:
			if (num_parse_u64(optarg, &u->batch_size, "--batch", &e) < 0 || !u->batch_size)
				usage_error("--batch: a whole number above 0");
			break;
		case OPT_ONLY_NEWER: u->have_newer = 1; break;
		case OPT_ORDER_FIELD: order = optarg; break;
		case OPT_WM_NAME: u->wm_name = optarg; break;
		case OPT_REPLACE: u->replace = 1; break;
		case OPT_CHILD: add_child(u, optarg); break;
		case OPT_DELETE_WHEN: {
			char *p = strdup(optarg), *eq = p ? strchr(p, '=') : NULL;

			if (!p)
				die(EX_OSERR, "out of memory");
			if (eq) {
				*eq = '\0';
				u->del_value = strdup(eq + 1);
			}
			if (u->have_del)
				usage_error("--delete-when: once");
			if (json_ptr_parse(&u->del, p, &e) < 0)
				usage_error("--delete-when: %s", e.msg);
			u->have_del = 1;
			free(p);
			break;
		}
		case OPT_STATE:
			if (!*optarg)
				usage_error("--state: a name");
			u->want_state = optarg;
			break;
		case OPT_WM_FIELD: tool_renamed("--watermark-field", "--order-field");
		case OPT_DEAD_LETTER: u->dl_path = optarg; break;
		case OPT_RECORD_TYPE:
			if (strcmp(optarg, "jsonb") && strcmp(optarg, "json") && strcmp(optarg, "text"))
				usage_error("--record-type: jsonb, json or text");
			u->record_type = optarg;
			break;
		default: tool_common_opt(&u->common, opt, optarg);
		}
	}
	tool_common_done(&u->common, usage_text);
	if (!u->dburl || !u->table || !u->nkeys)
		usage_error("--db, --table and --key are required");
	if (columns_from)
		add_schema_columns(u, columns_from);
	if (!u->batch_size)	/* PostgreSQL's round trips and commits cost more */
		u->batch_size = !strncmp(u->dburl, "postgres", 8) ? 10000 : 1000;
	if (u->have_newer && optind < argc && argv[optind][0] == '/')
		usage_error("--only-newer %s: the field is --order-field now "
			    "(--only-newer --order-field %s)", argv[optind], argv[optind]);
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if ((u->have_newer || u->wm_name) && !order)
		usage_error("--%s needs --order-field, the field that orders versions",
			    u->have_newer ? "only-newer" : "watermark-name");
	for (size_t i = 0; i < u->nchildren; i++) {
		if (!strcmp(u->children[i].table, u->table))
			usage_error("--child %s: the table of the records themselves",
				    u->children[i].table);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(u->children[i].table, u->children[j].table))
				usage_error("--child: %s twice", u->children[i].table);
	}
	if (u->nchildren && u->replace)
		usage_error("--child and --replace do not go together");
	if (order && !u->have_newer && !u->wm_name)
		usage_error("--order-field goes with --only-newer or --watermark-name");
	if (u->have_newer && json_ptr_parse(&u->newer, order, &e) < 0)
		usage_error("--order-field: %s", e.msg);
	if (u->wm_name && json_ptr_parse(&u->wm_field, order, &e) < 0)
		usage_error("--order-field: %s", e.msg);
	u->have_wm = !!u->wm_name;
}

static int sync_dead_letters(void *ctx, struct aperr *e)
{
	struct up *u = ctx;

	return u->dl_path ? lwriter_sync(&u->dl.w, e) : 0;
}

static void on_warn(void *ctx, const char *msg)
{
	(void)ctx;
	warnmsg("%s", msg);
}

/* Open the input, the output, the dead letters and the database. */
static void open_all(struct up *u)
{
	struct upsert *ups = &u->ups;
	struct aperr e;

	tool_filter_init(&u->common, &u->in, &u->out, &u->d, &u->je);
	if (u->dl_path && dl_open(&u->dl, u->dl_path, &e) < 0)
		die_err(&e);
	u->db = db_open(u->dburl, &e);
	if (u->db && u->record_type)
		db_set_record_type(u->db, u->record_type);
	if (u->db)	/* the stored records are read back only to compare versions */
		db_want_stored(u->db, u->have_newer);
	if (u->db && u->common.verbose)
		db_set_log(u->db, on_warn, u);
	strbuf_init(&u->staging, 0);
	if (u->replace)	/* beside the table, under a name of its own */
		strbuf_addf(&u->staging, "%s__apipe_replace", u->table);
	if (!u->db || db_table_columns(u->db, u->table, add_registered, u, &e) < 0 ||
	    (u->replace && db_replace_begin(u->db, u->table, u->staging.buf, &e) < 0) ||
	    db_prepare(u->db, u->replace ? u->staging.buf : u->table, u->cols, u->ncols, u->nkeys,
		       &e) < 0)
		die_err(&e);
	if (u->replace) {
		ups->replace_table = u->table;
		ups->replace_staging = u->staging.buf;
	}
	/* with deletes and versions, a delete leaves a tombstone */
	if (u->have_del && u->have_newer && db_tombstones_prepare(u->db, &e) < 0)
		die_err(&e);
	ups->table = u->replace ? u->staging.buf : u->table;
	ups->del = u->have_del ? &u->del : NULL;
	ups->children = u->children;
	ups->nchildren = u->nchildren;
	ups->del_value = u->del_value;
	ups->db = u->db;
	ups->cols = u->cols;
	ups->ncols = u->ncols;
	ups->nkeys = u->nkeys;
	ups->newer = u->have_newer ? &u->newer : NULL;
	ups->wm_field = u->have_wm ? &u->wm_field : NULL;
	ups->wm_name = u->wm_name;
	ups->max_line = u->common.max_line;
	ups->max_depth = u->common.max_depth;
	ups->ctx = u;
	ups->before_commit = sync_dead_letters;
	ups->warn = u->common.quiet ? NULL : on_warn;
	if (upsert_open(ups, &e) < 0)
		die_err(&e);
}

/* Every input line, landed in batches. */
static void run(struct up *u)
{
	struct aperr e;
	const char *line;
	size_t n;
	int r;

	while ((r = lreader_next(&u->in, &line, &n, &e)) > 0) {
		if (jsonl_is_state(line, n))
			take_state(u, line, n);
		else
			one(u, line, n);
		/* the upstream paused: land what is held (and the state it completes) now */
		if (may_land(u) && upsert_dirty(&u->ups) && lreader_idle(&u->in))
			flush(u);
	}
	if (r < 0)
		die_err(&e);
	if (!may_land(u) && u->ups.nrows)
		no_state(u);
	if (u->replace && upsert_replace(&u->ups, &e) < 0)
		die(e.code, "%s; the table %s is as it was", e.msg, u->table);
	flush(u);
	if (dl_close(&u->dl, &e) < 0)
		die_err(&e);
	if (u->common.stats)
		write_stats(u);
	if (u->common.verbose)
		warnmsg("%llu inserted, %llu updated, %llu unchanged, %llu skipped, %llu deleted, "
			"%llu dead-lettered",
			(unsigned long long)u->ups.inserted, (unsigned long long)u->ups.updated,
			(unsigned long long)u->ups.unchanged, (unsigned long long)u->ups.skipped,
			(unsigned long long)u->ups.deleted, (unsigned long long)u->dead);
}

static void release_all(struct up *u)
{
	size_t i;

	upsert_release(&u->ups);
	db_close(u->db);
	for (i = 0; i < u->ncols; i++) {
		json_ptr_release(&u->cols[i].ptr);
		free(u->cols[i].name);
	}
	free(u->cols);
	if (u->have_newer)
		json_ptr_release(&u->newer);
	if (u->have_wm)
		json_ptr_release(&u->wm_field);
	for (i = 0; i < u->nchildren; i++)
		json_ptr_release(&u->children[i].ptr);
	free(u->children);
	if (u->have_del)
		json_ptr_release(&u->del);
	free(u->del_value);
	json_doc_release(&u->d);
	json_error_release(&u->je);
	lreader_release(&u->in);
	strbuf_release(&u->staging);
}

int cmd_upsert(int argc, char **argv)
{
	struct up u;

	tool_set_options(options, NULL, NULL);
	memset(&u, 0, sizeof(u));
	cli_common_init(&u.common);
	u.batch_size = 0;	/* the default depends on the database */
	parse_args(&u, argc, argv);
	open_all(&u);
	run(&u);
	release_all(&u);
	tool_finish(&u.out);
	return 0;
}

int main(int argc, char **argv)
{
	tool_init("upsert");
	tool_hold_secrets();
	return cmd_upsert(argc, argv);
}
