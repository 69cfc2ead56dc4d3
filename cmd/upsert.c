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
#include "../lib/hash.h"
#include "../lib/instant.h"
#include "../lib/json.h"
#include "../lib/num.h"
#include "../lib/ordval.h"

static const char usage_text[] =
	"usage: upsert [-hqv] --db path --table name --key pointer[,pointer...]\n"
	"       [--column name=pointer[:type]]... [--batch n]\n"
	"       [--order-field pointer [--only-newer] [--watermark-name name]]\n"
	"       [--dead-letter file]\n"
	"       [--record-type jsonb | json | text]\n"
	"       [--stats file] [--max-line size] [--max-depth n]\n";

enum {
	OPT_DB = CLI_OPT_FIRST_TOOL, OPT_TABLE, OPT_KEY, OPT_COLUMN, OPT_BATCH, OPT_ONLY_NEWER,
	OPT_WM_NAME, OPT_WM_FIELD, OPT_DEAD_LETTER, OPT_RECORD_TYPE, OPT_ORDER_FIELD
};

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{ "db", required_argument, NULL, OPT_DB },
	{ "table", required_argument, NULL, OPT_TABLE },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "column", required_argument, NULL, OPT_COLUMN },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "record-type", required_argument, NULL, OPT_RECORD_TYPE },
	{ "only-newer", no_argument, NULL, OPT_ONLY_NEWER },
	{ "order-field", required_argument, NULL, OPT_ORDER_FIELD },
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
	int newer_in_sql;		/* db_set_newer done */
	const char *record_type;	/* --record-type (PostgreSQL), NULL: jsonb */
	struct db *db;
	uint8_t mapkey[16];
	struct lreader in;
	struct lwriter out;
	struct json_doc d, sd;
	struct json_error je;
	struct deadletter dl;
	struct strbuf stored;
	struct ordval a, b, wm, wm_batch;
	int have_wm_batch, in_tx;
	/* in-band state lines seen since the last commit: kept with the rows */
	struct pstate {
		char *name;
		struct strbuf value;
		int dirty;
	} *states;
	size_t nstates;
	int states_dirty;
	/* the open batch: its lines (each followed by '\n'), rows, and what to write */
	struct strbuf batch;
	struct db_row *rows;
	size_t nrows, arows;
	size_t *off;			/* where each row's line starts in batch */
	struct strbuf *key;		/* each row's key, as bytes */
	const char **after;		/* the stored record once the row is applied */
	size_t *afterlen;
	struct db_row **wr;
	size_t nwr;
	ssize_t *pending;		/* per row: its index in wr, or -1 */
	size_t *map, nmap;		/* key → 1 + the latest row with it */
	uint64_t b_count[4];		/* inserted, updated, unchanged, skipped */
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
			usage_error("--column %s: '%s' is not text, integer, real, boolean, "
				    "json or timestamp", arg, colon + 1);
		*colon = '\0';
	}
	u->cols = realloc(u->cols, (u->ncols + 1) * sizeof(*u->cols));
	if (!u->cols)
		die(EX_OSERR, "out of memory");
	c = &u->cols[u->ncols];
	memset(c, 0, sizeof(*c));
	if (json_ptr_parse(&c->ptr, ptr, &e) < 0)
		usage_error("%s %s: %s", key ? "--key" : "--column", arg, e.msg);
	if (eq) {
		*eq = '\0';
		c->name = strdup(copy);
	} else {
		c->name = name_of(&c->ptr);
	}
	if (!c->name || !*c->name)
		usage_error("%s %s: no column name", key ? "--key" : "--column", arg);
	if (!strcmp(c->name, "record") || !strcmp(c->name, "ingested_at"))
		usage_error("the column name %s is the table's own", c->name);
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

/* Extract the parsed record (u->d) into row r: 0, or -1 naming the pointer. */
static int extract(struct up *u, struct db_row *r, const char **ptr, struct aperr *e)
{
	size_t i;

	for (i = 0; i < u->ncols; i++) {
		*ptr = u->cols[i].ptr.text;
		if (db_value_from_json(&u->cols[i], &u->d, 0, &r->vals[i], e) < 0)
			return -1;
		if (i < u->nkeys && r->vals[i].null)
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

/* Is record rec older than cur by --only-newer (both present and comparable)? */
static int older(struct up *u, const char *rec, size_t n, const char *cur, size_t curn)
{
	uint32_t nt, st;
	struct aperr e;

	if (json_parse(&u->d, rec, n, &u->je) < 0 || json_parse(&u->sd, cur, curn, &u->je) < 0)
		return 0;
	nt = json_ptr_eval(&u->newer, &u->d, 0);
	st = json_ptr_eval(&u->newer, &u->sd, 0);
	if (nt == JSON_ABSENT || st == JSON_ABSENT || ordval_set(&u->a, &u->d, nt, ORD_AUTO, &e) < 0 ||
	    ordval_set(&u->b, &u->sd, st, ORD_AUTO, &e) < 0 || u->a.kind != u->b.kind)
		return 0;
	return ordval_cmp(&u->a, &u->b) < 0;
}

/* The key of row r as bytes: each value's kind and text, NUL-separated. */
static void key_bytes(struct up *u, const struct db_row *r, struct strbuf *k)
{
	size_t i;

	strbuf_reset(k);
	for (i = 0; i < u->nkeys; i++) {
		const struct db_value *v = &r->vals[i];

		if (v->kind == DBV_INT)
			strbuf_addf(k, "i%lld", (long long)v->i);
		else if (v->kind == DBV_REAL)
			strbuf_addf(k, "r%.17g", v->r);
		else {
			strbuf_addch(k, 's');
			strbuf_add(k, v->s.buf ? v->s.buf : "", v->s.len);
		}
		strbuf_addch(k, '\0');
	}
}

/*
 * Decide each row in input order, as if applied one at a time: insert,
 * update, unchanged or skipped (--only-newer), against what is stored or
 * what an earlier row of the batch made of its key.  Only a key's last
 * write goes to the database.
 */
static void decide(struct up *u)
{
	size_t i, nmap = 16;

	while (nmap < u->nrows * 2)
		nmap *= 2;
	if (nmap > u->nmap) {
		u->map = realloc(u->map, nmap * sizeof(*u->map));
		u->nmap = nmap;
	}
	if (!u->map)
		die(EX_OSERR, "out of memory");
	memset(u->map, 0, u->nmap * sizeof(*u->map));
	u->nwr = 0;
	memset(u->b_count, 0, sizeof(u->b_count));
	for (i = 0; i < u->nrows; i++) {
		struct db_row *r = &u->rows[i];
		uint64_t h = siphash64(u->mapkey, u->key[i].buf, u->key[i].len);
		size_t slot = (size_t)h & (u->nmap - 1), j = 0;
		const char *cur = r->stored.buf;
		size_t curn = r->stored.len;
		int found = r->found, same = r->same, write;

		for (; u->map[slot]; slot = (slot + 1) & (u->nmap - 1)) {
			j = u->map[slot] - 1;
			if (u->key[j].len == u->key[i].len &&
			    !memcmp(u->key[j].buf, u->key[i].buf, u->key[i].len))
				break;
		}
		if (u->map[slot]) {
			/* an earlier row of this batch had the key */
			cur = u->after[j];
			curn = u->afterlen[j];
			found = cur != NULL;
			same = found && curn == r->n && !memcmp(cur, r->rec, r->n);
		}
		write = !found || (!same && !(u->have_newer && older(u, r->rec, r->n, cur, curn)));
		u->b_count[!found ? 0 : same ? 2 : write ? 1 : 3]++;
		u->pending[i] = -1;
		if (write) {
			if (u->map[slot] && u->pending[j] >= 0) {
				/* the earlier write is superseded: this one takes its place */
				u->wr[u->pending[j]] = r;
				u->pending[i] = u->pending[j];
				u->pending[j] = -1;
			} else {
				u->pending[i] = (ssize_t)u->nwr;
				u->wr[u->nwr++] = r;
			}
			u->after[i] = r->rec;
			u->afterlen[i] = r->n;
		} else {
			/* unchanged: this record stands for the stored one (equal to it) */
			u->after[i] = !found ? NULL : same ? r->rec : cur;
			u->afterlen[i] = !found ? 0 : same ? r->n : curn;
		}
		u->map[slot] = i + 1;
	}
}

/* One attempt at the open batch: lookup, decide, write, watermark, commit. */
static int flush_once(struct up *u, struct aperr *e)
{
	struct instant t;
	size_t i;

	if (db_begin(u->db, e) < 0)
		return -1;
	u->in_tx = 1;
	instant_now(&t);
	instant_format(&t, u->now, sizeof(u->now));
	for (i = 0; i < u->nrows; i++) {
		u->rows[i].rec = u->batch.buf + u->off[i];
		u->rows[i].n = (i + 1 < u->nrows ? u->off[i + 1] : u->batch.len) - u->off[i] - 1;
	}
	u->nwr = 0;
	if (u->nrows) {
		if (db_lookup(u->db, u->rows, u->nrows, e) < 0)
			return -1;
		decide(u);
		if (db_write(u->db, u->wr, u->nwr, u->now, e) < 0)
			return -1;
		{
			uint64_t ins, upd;

			/*
			 * The counts say what the database did: a row meant as an insert
			 * that met a concurrent writer's became an update, and one the
			 * --only-newer guard refused was skipped.  (Counts stay per input
			 * record: a key written twice in a batch is one row here.)
			 */
			if (db_written(u->db, &ins, &upd)) {
				uint64_t want_ins = 0, lost;
				size_t k;

				for (k = 0; k < u->nwr; k++)
					want_ins += !u->wr[k]->found;
				if (want_ins > ins) {
					u->b_count[0] -= want_ins - ins;
					u->b_count[1] += want_ins - ins;
				}
				/*
				 * Rows not written: without --only-newer, stored rows the update
				 * found equal (unchanged); with it, rows the guard refused.
				 */
				lost = u->nwr > ins + upd ? u->nwr - ins - upd : 0;
				u->b_count[1] -= lost < u->b_count[1] ? lost : u->b_count[1];
				u->b_count[u->have_newer ? 3 : 2] += lost;
			}
		}
	}
	if (u->have_wm && u->have_wm_batch) {
		/* the batch's max, unless the stored one is later (held against other runs) */
		int r = db_state_lock(u->db, u->wm_name, e) < 0 ? -1 :
			db_state_get(u->db, u->wm_name, &u->stored, e);

		if (r < 0)
			return -1;
		if (r == 0 || ordval_set_text(&u->wm, u->stored.buf, u->stored.len, ORD_AUTO, e) < 0 ||
		    u->wm.kind != u->wm_batch.kind || ordval_cmp(&u->wm_batch, &u->wm) > 0) {
			if (db_state_put(u->db, u->wm_name, u->wm_batch.raw.buf, u->now, e) < 0)
				return -1;
		}
	}
	{
		size_t k;

		/* the states the rows of this batch and before it complete */
		for (k = 0; k < u->nstates; k++)
			if (u->states[k].dirty &&
			    db_state_put(u->db, u->states[k].name, u->states[k].value.buf, u->now,
					 e) < 0)
				return -1;
		/* a dead-lettered record counts as landed: on disk before the state says so */
		if (u->states_dirty && u->dl_path && lwriter_sync(&u->dl.w, e) < 0)
			return -1;
	}
	if (db_commit(u->db, e) < 0)
		return -1;
	u->in_tx = 0;
	return 0;
}

/*
 * Land the open batch.  A transient failure (a lock, a lost connection, a
 * serialisation failure) rolls back, reconnects and tries the whole batch
 * again, up to six times with growing pauses; anything else ends the run.
 */
static void flush(struct up *u)
{
	struct aperr e;
	unsigned tries = 0;

	if (!u->nrows && !u->states_dirty)
		return;
	while (flush_once(u, &e) < 0) {
		if (e.code != EX_TEMPFAIL || tries >= 6)
			die_db(u, &e);
		db_rollback(u->db);
		u->in_tx = 0;
		if (!u->common.quiet)
			warnmsg("%s; replaying the batch (%u)", e.msg, tries + 1);
		usleep(100000u << tries);
		tries++;
		if (db_reconnect(u->db, &e) < 0 && tries >= 6)
			die_db(u, &e);
	}
	u->batches++;
	u->inserted += u->b_count[0];
	u->updated += u->b_count[1];
	u->unchanged += u->b_count[2];
	u->skipped += u->b_count[3];
	u->nrows = 0;
	u->have_wm_batch = 0;
	strbuf_reset(&u->batch);
	{
		size_t k;

		for (k = 0; k < u->nstates; k++)
			u->states[k].dirty = 0;
		u->states_dirty = 0;
	}
}

/*
 * An in-band state line: {"apipe_state":NAME,"value":…} after RS.  Its
 * value is written to apipe_state in the transaction that commits every
 * row before it, so a resumed crawl starts exactly after what landed.
 */
static void take_state(struct up *u, const char *line, size_t n)
{
	struct aperr e;
	struct strbuf name = STRBUF_INIT;
	uint32_t tn, tv;
	size_t k;

	if (tool_parse_line(&u->d, &u->je, line + 1, n - 1, u->in.lineno, &e) < 0 ||
	    json_type(&u->d, 0) != JSON_OBJECT ||
	    !(tn = json_get(&u->d, 0, "apipe_state", 11)) || json_type(&u->d, tn) != JSON_STRING ||
	    !(tv = json_get(&u->d, 0, "value", 5)) || json_str_decode(&u->d, tn, &name) < 0 ||
	    !name.len)
		die(EX_DATAERR, "line %llu: a state line (it begins with RS) that is not "
		    "{\"apipe_state\":NAME,\"value\":…}", (unsigned long long)u->in.lineno);
	for (k = 0; k < u->nstates && strcmp(u->states[k].name, name.buf); k++)
		;
	if (k == u->nstates) {
		struct pstate *ns = realloc(u->states, (k + 1) * sizeof(*ns));

		if (!ns)
			die(EX_OSERR, "out of memory");
		u->states = ns;
		u->states[k].name = strbuf_detach(&name, NULL);
		strbuf_init(&u->states[k].value, 0);
		u->nstates++;
	}
	strbuf_reset(&u->states[k].value);
	if (json_minify(&u->d, tv, &u->states[k].value) < 0)
		die(EX_OSERR, "out of memory");
	u->states[k].dirty = 1;
	u->states_dirty = 1;
	strbuf_release(&name);
}

/* Room for one more row in the open batch. */
static struct db_row *next_row(struct up *u)
{
	if (u->nrows == u->arows) {
		size_t na = u->arows ? u->arows * 2 : 64, i;

		u->rows = realloc(u->rows, na * sizeof(*u->rows));
		u->off = realloc(u->off, na * sizeof(*u->off));
		u->key = realloc(u->key, na * sizeof(*u->key));
		u->after = realloc(u->after, na * sizeof(*u->after));
		u->afterlen = realloc(u->afterlen, na * sizeof(*u->afterlen));
		u->wr = realloc(u->wr, na * sizeof(*u->wr));
		u->pending = realloc(u->pending, na * sizeof(*u->pending));
		if (!u->rows || !u->off || !u->key || !u->after || !u->afterlen || !u->wr ||
		    !u->pending)
			die(EX_OSERR, "out of memory");
		for (i = u->arows; i < na; i++) {
			db_row_init(&u->rows[i], u->ncols);
			strbuf_init(&u->key[i], 0);
		}
		u->arows = na;
	}
	return &u->rows[u->nrows];
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

static void one(struct up *u, const char *line, size_t n)
{
	struct aperr e;
	const char *ptr = NULL;
	struct db_row *r;

	u->records++;
	if (tool_parse_line(&u->d, &u->je, line, n, u->in.lineno, &e) < 0) {
		reject(u, line, n, 0, u->je.pointer.len ? u->je.pointer.buf : NULL, e.msg);
		return;
	}
	if (json_type(&u->d, 0) != JSON_OBJECT) {
		reject(u, line, n, 1, "", "a record is a JSON object");
		return;
	}
	if (u->have_newer && !u->newer_in_sql) {
		/* the first version seen says how the database compares them */
		uint32_t t = json_ptr_eval(&u->newer, &u->d, 0);

		if (t != JSON_ABSENT && ordval_set(&u->b, &u->d, t, ORD_AUTO, &e) == 0) {
			const char *cast = u->b.kind == ORD_TIMESTAMP ? "timestamptz" :
					   u->b.kind == ORD_STRING ? NULL : "numeric";

			if (db_set_newer(u->db, &u->newer, cast, &e) < 0)
				die_db(u, &e);
			u->newer_in_sql = 1;
		}
	}
	r = next_row(u);
	if (extract(u, r, &ptr, &e) < 0) {
		reject(u, line, n, 1, ptr, e.msg);
		return;
	}
	if (u->have_wm && (!u->have_wm_batch || (u->a.kind == u->wm_batch.kind &&
						  ordval_cmp(&u->a, &u->wm_batch) > 0))) {
		ordval_copy(&u->wm_batch, &u->a);
		u->have_wm_batch = 1;
	}
	key_bytes(u, r, &u->key[u->nrows]);
	u->off[u->nrows] = u->batch.len;
	strbuf_add(&u->batch, line, n);
	strbuf_addch(&u->batch, '\n');
	if (++u->nrows >= u->batch_size)
		flush(u);
}

static void write_stats(struct up *u)
{
	struct tool_stats st;

	tool_stats_begin(&st, NULL);
	jw_member_u64(&st.w, "records", u->records);
	jw_member_u64(&st.w, "inserted", u->inserted);
	jw_member_u64(&st.w, "updated", u->updated);
	jw_member_u64(&st.w, "unchanged", u->unchanged);
	jw_member_u64(&st.w, "skipped", u->skipped);
	jw_member_u64(&st.w, "dead_lettered", u->dead);
	jw_member_u64(&st.w, "batches", u->batches);
	tool_stats_end(&st, u->common.stats);
}

static const struct cli_help help[] = {
	{ "Table", "--db path", "a SQLite file or a postgresql:// URL" },
	{ "Table", "--table name", "the table" },
	{ "Table", "--key pointer[,pointer...]", "the record key" },
	{ "Table", "--column name=pointer[:type]", "a column of its own, from the record" },
	{ "Table", "--record-type jsonb|json|text", "PostgreSQL: how the record is kept" },
	{ "Table", "--batch n", "records a transaction" },
	{ "Table", "--order-field pointer", "the field that orders a record's versions" },
	{ "Table", "--only-newer", "update only when --order-field is newer" },
	{ "Table", "--watermark-name name", "keep --order-field's greatest value with the rows" },
	{ "Table", "--dead-letter file", "records that cannot land go to file" },
	{ NULL, NULL, NULL }
};

/* The options into u (dies with 64 on a usage error). */
static void parse_args(struct up *u, int argc, char **argv)
{
	const char *order = NULL;
	struct aperr e;
	int opt;

	while ((opt = tool_getopt(argc, argv, "hqv", longopts)) != -1) {
		switch (opt) {
		case OPT_DB: u->dburl = optarg; break;
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
		case OPT_BATCH:
			if (num_parse_u64(optarg, &u->batch_size, "--batch", &e) < 0 || !u->batch_size)
				usage_error("--batch: a whole number above 0");
			break;
		case OPT_ONLY_NEWER: u->have_newer = 1; break;
		case OPT_ORDER_FIELD: order = optarg; break;
		case OPT_WM_NAME: u->wm_name = optarg; break;
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
	if (order && !u->have_newer && !u->wm_name)
		usage_error("--order-field goes with --only-newer or --watermark-name");
	if (u->have_newer && json_ptr_parse(&u->newer, order, &e) < 0)
		usage_error("--order-field: %s", e.msg);
	if (u->wm_name && json_ptr_parse(&u->wm_field, order, &e) < 0)
		usage_error("--order-field: %s", e.msg);
	u->have_wm = !!u->wm_name;
}

/* Open the input, the output, the dead letters and the database. */
static void open_all(struct up *u)
{
	struct aperr e;

	tool_filter_init(&u->common, &u->in, &u->out, &u->d, &u->je);
	json_doc_init(&u->sd, u->common.max_depth);
	strbuf_init(&u->stored, u->common.max_line);
	strbuf_init(&u->batch, (size_t)-1);
	ordval_init(&u->a);
	ordval_init(&u->b);
	ordval_init(&u->wm);
	ordval_init(&u->wm_batch);
	if (hash_random(u->mapkey, sizeof(u->mapkey)) < 0)
		die(EX_OSERR, "no random bytes");
	if (u->dl_path && dl_open(&u->dl, u->dl_path, &e) < 0)
		die_err(&e);
	u->db = db_open(u->dburl, &e);
	if (u->db && u->record_type)
		db_set_record_type(u->db, u->record_type);
	if (u->db)	/* the stored records are read back only to compare versions */
		db_want_stored(u->db, u->have_newer);
	if (!u->db || db_prepare(u->db, u->table, u->cols, u->ncols, u->nkeys, &e) < 0)
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
		if ((u->nrows || u->states_dirty) && lreader_idle(&u->in))
			flush(u);
	}
	if (r < 0)
		die_db(u, &e);
	flush(u);
	if (dl_close(&u->dl, &e) < 0)
		die_err(&e);
	if (u->common.stats)
		write_stats(u);
	if (u->common.verbose)
		warnmsg("%llu inserted, %llu updated, %llu unchanged, %llu skipped, %llu dead-lettered",
			(unsigned long long)u->inserted, (unsigned long long)u->updated,
			(unsigned long long)u->unchanged, (unsigned long long)u->skipped,
			(unsigned long long)u->dead);
}

static void release_all(struct up *u)
{
	size_t i;

	db_close(u->db);
	for (i = 0; i < u->arows; i++) {
		db_row_release(&u->rows[i], u->ncols);
		strbuf_release(&u->key[i]);
	}
	free(u->rows);
	free(u->off);
	free(u->key);
	free(u->after);
	free(u->afterlen);
	free(u->wr);
	free(u->pending);
	free(u->map);
	for (i = 0; i < u->ncols; i++) {
		json_ptr_release(&u->cols[i].ptr);
		free(u->cols[i].name);
	}
	free(u->cols);
	if (u->have_newer)
		json_ptr_release(&u->newer);
	if (u->have_wm)
		json_ptr_release(&u->wm_field);
	while (u->nstates--) {
		free(u->states[u->nstates].name);
		strbuf_release(&u->states[u->nstates].value);
	}
	free(u->states);
	ordval_release(&u->a);
	ordval_release(&u->b);
	ordval_release(&u->wm);
	ordval_release(&u->wm_batch);
	strbuf_release(&u->stored);
	strbuf_release(&u->batch);
	json_doc_release(&u->d);
	json_doc_release(&u->sd);
	json_error_release(&u->je);
	lreader_release(&u->in);
}

int cmd_upsert(int argc, char **argv)
{
	struct up u;

	tool_set_help(help, NULL);
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
