/*
 * db: what the engines share (the SQL they both speak, the column
 * registry), and each call of lib/db.h handed to the engine (lib/dbint.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbint.h"
#include "jsonw.h"

struct db *db_open(const char *url, struct aperr *e)
{
	if (!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11))
		return dbpg_open(url, e);
	return dbsqlite_open(strncmp(url, "sqlite:", 7) ? url : url + 7, e);
}

void db_close(struct db *db)
{
	if (!db)
		return;
	free(db->table);
	db->ops->close(db);
}

int db_prepare(struct db *db, const char *table, const struct db_column *cols, size_t ncols,
	       size_t nkeys, struct aperr *e)
{
	db->ncols = ncols;
	db->nkeys = nkeys;
	db->cols = cols;
	free(db->table);
	if (!(db->table = strdup(table)))
		return aperr_set(e, EX_OSERR, "out of memory");
	return db->ops->prepare(db, e);
}

void db_want_stored(struct db *db, int want)
{
	db->want_stored = want;
}

void db_set_record_type(struct db *db, const char *type)
{
	db->record_type = type;
}

void db_set_log(struct db *db, void (*log)(void *ctx, const char *msg), void *ctx)
{
	db->log = log;
	db->log_ctx = ctx;
}

int db_set_newer(struct db *db, const struct json_ptr *p, const char *cast, struct aperr *e)
{
	return db->ops->set_newer(db, p, cast, e);
}

int db_reconnect(struct db *db, struct aperr *e)
{
	return db->ops->reconnect(db, e);
}

int db_begin(struct db *db, struct aperr *e)
{
	return db->ops->begin(db, e);
}

int db_commit(struct db *db, struct aperr *e)
{
	return db->ops->commit(db, e);
}

void db_rollback(struct db *db)
{
	db->ops->rollback(db);
}

int db_state_get(struct db *db, const char *name, struct strbuf *value, struct aperr *e)
{
	return db->ops->state_get(db, name, value, e);
}

int db_state_put(struct db *db, const char *name, const char *value, const char *updated_at,
		 struct aperr *e)
{
	return db->ops->state_put(db, name, value, updated_at, e);
}

int db_state_lock(struct db *db, const char *name, struct aperr *e)
{
	return db->ops->state_lock(db, name, e);
}

int db_lookup(struct db *db, struct db_row *rows, size_t n, struct aperr *e)
{
	size_t i;

	for (i = 0; i < n; i++) {
		rows[i].found = rows[i].same = rows[i].tomb = 0;
		strbuf_reset(&rows[i].stored);
	}
	return db->ops->lookup(db, rows, n, e);
}

int db_write(struct db *db, struct db_row *const *rows, size_t n, const char *ingested_at,
	     struct aperr *e)
{
	return db->ops->write(db, rows, n, ingested_at, e);
}

int db_written(const struct db *db, uint64_t *inserted, uint64_t *updated)
{
	if (!db->counts)
		return 0;
	*inserted = db->last_inserted;
	*updated = db->last_updated;
	return 1;
}

/* ---- the SQL both engines speak ---- */

/* A quoted SQL identifier. */
void dbi_ident(struct strbuf *o, const char *name)
{
	strbuf_addch(o, '"');
	for (; *name; name++) {
		if (*name == '"')
			strbuf_addch(o, '"');
		strbuf_addch(o, *name);
	}
	strbuf_addch(o, '"');
}


/* The key columns, comma-separated, each after prefix ("" or an alias and a dot). */
void dbi_key_list(struct strbuf *q, const char *prefix, const struct db_column *cols,
		     size_t nkeys)
{
	size_t i;

	for (i = 0; i < nkeys; i++) {
		if (i)
			strbuf_addstr(q, ", ");
		strbuf_addstr(q, prefix);
		dbi_ident(q, cols[i].name);
	}
}

void dbi_sql_create(struct strbuf *q, const struct dbi_dialect *dl, const char *table,
		       const struct db_column *cols, size_t ncols, size_t nkeys, const char *rtype)
{
	size_t i;

	strbuf_addstr(q, "CREATE TABLE IF NOT EXISTS ");
	dbi_ident(q, table);
	strbuf_addstr(q, " (");
	for (i = 0; i < ncols; i++) {
		dbi_ident(q, cols[i].name);
		strbuf_addstr(q, dl->type(cols[i].type));
		strbuf_addstr(q, i < nkeys ? " NOT NULL, " : ", ");
	}
	strbuf_addf(q, "\"record\" %s NOT NULL, \"ingested_at\" %s NOT NULL, PRIMARY KEY (",
		    rtype, dl->pg ? "timestamptz" : "TEXT");
	dbi_key_list(q, "", cols, nkeys);
	strbuf_addstr(q, "))");
}

/*
 * Insert or update rows: one row bound as ?1…?(ncols+2) (SQLite), or all
 * the rows of the table from (PostgreSQL's staged batch).
 */
void dbi_sql_upsert(struct strbuf *q, const char *table, const struct db_column *cols,
		       size_t ncols, size_t nkeys, const char *from, const char *guard)
{
	size_t i;

	strbuf_addstr(q, "INSERT INTO ");
	dbi_ident(q, table);
	strbuf_addstr(q, " (");
	for (i = 0; i < ncols; i++) {
		dbi_ident(q, cols[i].name);
		strbuf_addstr(q, ", ");
	}
	strbuf_addstr(q, "\"record\", \"ingested_at\")");
	if (from) {
		/*
		 * In key order: writers of overlapping batches lock the rows they
		 * share in one order, so they wait for each other, not deadlock.
		 */
		strbuf_addf(q, " SELECT * FROM %s ORDER BY ", from);
		dbi_key_list(q, "", cols, nkeys);
	} else {
		strbuf_addstr(q, " VALUES (");
		for (i = 0; i < ncols + 2; i++)
			strbuf_addf(q, "%s?%zu", i ? ", " : "", i + 1);
		strbuf_addch(q, ')');
	}
	strbuf_addstr(q, " ON CONFLICT (");
	dbi_key_list(q, "", cols, nkeys);
	strbuf_addstr(q, ") DO UPDATE SET ");
	for (i = nkeys; i < ncols; i++) {
		dbi_ident(q, cols[i].name);
		strbuf_addstr(q, " = excluded.");
		dbi_ident(q, cols[i].name);
		strbuf_addstr(q, ", ");
	}
	strbuf_addstr(q, "\"record\" = excluded.\"record\", \"ingested_at\" = excluded.\"ingested_at\"");
	if (guard) {
		strbuf_addstr(q, " WHERE ");
		strbuf_addstr(q, guard);
	}
	if (from)	/* PostgreSQL: which rows were inserted, which updated */
		strbuf_addstr(q, " RETURNING (xmax = 0)");
}


/* ---- batches ---- */

void db_row_init(struct db_row *r, size_t ncols)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->vals = calloc(ncols ? ncols : 1, sizeof(*r->vals));
	for (i = 0; r->vals && i < ncols; i++)
		db_value_init(&r->vals[i]);
	strbuf_init(&r->stored, (size_t)-1);
}

void db_row_release(struct db_row *r, size_t ncols)
{
	size_t i;

	for (i = 0; r->vals && i < ncols; i++)
		db_value_release(&r->vals[i]);
	free(r->vals);
	strbuf_release(&r->stored);
}

/* ---- the column registry: which pointer fills each column, for every writer ---- */

struct columns_read {
	const char *table;
	int (*add)(void *ctx, const char *name, const struct json_ptr *p, enum db_type t,
		   struct aperr *e);
	void *ctx;
};

static int column_row(void *ctx, const char *const *v, struct aperr *e)
{
	struct columns_read *cr = ctx;
	struct json_ptr p;
	int t = db_type_parse(v[2]), r;

	if (t < 0 || json_ptr_parse(&p, v[1], e) < 0)
		return aperr_set(e, EX_CONFIG, "apipe_columns: column %s of %s has pointer '%s' and "
				 "type '%s', which apipe does not know", v[0], cr->table, v[1], v[2]);
	r = cr->add(cr->ctx, v[0], &p, (enum db_type)t, e);
	json_ptr_release(&p);
	return r;
}

int db_table_columns(struct db *db, const char *table,
		     int (*add)(void *ctx, const char *name, const struct json_ptr *p,
				enum db_type t, struct aperr *e),
		     void *ctx, struct aperr *e)
{
	struct columns_read cr = { table, add, ctx };
	const char *pv[1] = { table };

	return db->ops->query(db, "SELECT name, pointer, type FROM apipe_columns WHERE tbl = $1 "
			      "ORDER BY name", pv, 1, 3, column_row, &cr, 1, e);
}

struct column_check {
	const char *table;
	const struct db_column *col;
};

/* A column's pointer as the registry has it (its type is the table's: evolve checks it). */
static int column_same(void *ctx, const char *const *v, struct aperr *e)
{
	struct column_check *cc = ctx;

	if (strcmp(v[0], cc->col->ptr.text))
		return aperr_set(e, EX_CONFIG, "column %s of %s is filled from %s by the table's "
				 "other writers, not %s: every writer fills a column the same way; "
				 "name another column", cc->col->name, cc->table, v[0],
				 cc->col->ptr.text);
	return 0;
}

/* The first writer to name a column says how it is filled (lib/dbint.h). */
int dbi_column_register(struct db *db, const char *table, const struct db_column *col,
			struct aperr *e)
{
	const char *pv[4] = { table, col->name, col->ptr.text, db_type_name(col->type) };
	struct column_check cc = { table, col };

	if (db->ops->query(db, "INSERT INTO apipe_columns (tbl, name, pointer, type) "
			   "VALUES ($1, $2, $3, $4) ON CONFLICT (tbl, name) DO NOTHING",
			   pv, 4, 0, NULL, NULL, 0, e) < 0)
		return -1;
	return db->ops->query(db, "SELECT pointer FROM apipe_columns WHERE tbl = $1 AND name = $2",
			      pv, 2, 1, column_same, &cc, 0, e);
}


/* ---- replacing a table: staging beside it, swapped in at the end ---- */

static int exec_sql(struct db *db, const char *sql, const char *const *pv, int np, int missing_ok,
		    struct aperr *e)
{
	return db->ops->query(db, sql, pv, np, 0, NULL, NULL, missing_ok, e);
}

/* "DROP TABLE IF EXISTS t" and the like: verb, then the quoted table, then rest. */
static int exec_on(struct db *db, const char *verb, const char *table, const char *rest,
		   struct aperr *e)
{
	struct strbuf q = STRBUF_INIT;
	int r;

	strbuf_addstr(&q, verb);
	dbi_ident(&q, table);
	strbuf_addstr(&q, rest);
	r = strbuf_failed(&q) ? aperr_set(e, EX_OSERR, "out of memory") :
	    exec_sql(db, q.buf, NULL, 0, 0, e);
	strbuf_release(&q);
	return r;
}

static int found_row(void *ctx, const char *const *v, struct aperr *e)
{
	(void)v;
	(void)e;
	*(int *)ctx = 1;
	return 0;
}

/* Is there a table of that name?  1, 0, or -1 (e). */
static int table_there(struct db *db, const char *table, struct aperr *e)
{
	const char *pv[1] = { table };
	int found = 0;

	if (db->ops->query(db, db->ops == &dbpg_ops ?
			   "SELECT 1 FROM pg_tables WHERE tablename = $1 AND schemaname = current_schema()" :
			   "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1",
			   pv, 1, 1, found_row, &found, 0, e) < 0)
		return -1;
	return found;
}

int db_replace_begin(struct db *db, const char *table, const char *staging, struct aperr *e)
{
	const char *pv[1] = { staging };
	int there;

	if (db->ops->replace_lock(db, table, e) < 0 || db->ops->begin(db, e) < 0)
		return -1;
	/* (a statement that fails aborts a PostgreSQL transaction: look before) */
	if (exec_on(db, "DROP TABLE IF EXISTS ", staging, "", e) < 0 ||
	    (there = table_there(db, "apipe_columns", e)) < 0 ||
	    (there && exec_sql(db, "DELETE FROM apipe_columns WHERE tbl = $1", pv, 1, 0, e) < 0)) {
		db->ops->rollback(db);
		return -1;
	}
	return db->ops->commit(db, e);
}

int db_replace_swap(struct db *db, const char *table, const char *staging, struct aperr *e)
{
	const char *pv[2] = { table, staging };
	struct strbuf q = STRBUF_INIT;
	int there = table_there(db, staging, e), r = 0;

	if (there < 0)
		return -1;
	if (!there) {	/* no rows came: the table is emptied */
		there = table_there(db, table, e);
		return there <= 0 ? there : exec_on(db, "DELETE FROM ", table, "", e);
	}
	strbuf_addstr(&q, " RENAME TO ");
	dbi_ident(&q, table);
	r = exec_on(db, "DROP TABLE IF EXISTS ", table, "", e);
	if (!r)
		r = exec_on(db, "ALTER TABLE ", staging, q.buf, e);
	if (!r && db->ops == &dbpg_ops) {
		/* the primary key's index keeps the name it was made under: it follows */
		struct strbuf from = STRBUF_INIT, to = STRBUF_INIT;

		strbuf_addf(&from, "%.58s_pkey", staging);
		strbuf_addf(&to, "%.58s_pkey", table);
		strbuf_reset(&q);
		strbuf_addstr(&q, " RENAME TO ");
		dbi_ident(&q, to.buf);
		r = exec_on(db, "ALTER INDEX IF EXISTS ", from.buf, q.buf, e);
		strbuf_release(&from);
		strbuf_release(&to);
	}
	if (!r)
		r = exec_sql(db, "DELETE FROM apipe_columns WHERE tbl = $1", pv, 1, 0, e);
	if (!r)
		r = exec_sql(db, "UPDATE apipe_columns SET tbl = $1 WHERE tbl = $2", pv, 2, 0, e);
	/* the new table is a whole image: what was deleted from the old one is no matter */
	if (!r && (there = table_there(db, "apipe_tombstones", e)) < 0)
		r = -1;
	if (!r && there)
		r = exec_sql(db, "DELETE FROM apipe_tombstones WHERE tbl = $1", pv, 1, 0, e);
	strbuf_release(&q);
	return r;
}

/* ---- deletes and tombstones ---- */

int db_key_text(const struct db_value *vals, size_t nkeys, struct strbuf *out)
{
	struct jsonw w;
	size_t i;

	strbuf_reset(out);
	jw_init(&w, out);
	jw_array(&w);
	for (i = 0; i < nkeys; i++) {
		const struct db_value *v = &vals[i];

		if (v->kind == DBV_INT)
			jw_i64(&w, v->i);
		else if (v->kind == DBV_REAL)
			jw_fixed(&w, v->r, -1);
		else
			jw_strn(&w, v->s.buf, v->s.len);
	}
	jw_end_array(&w);
	return jw_finish(&w) < 0 || strbuf_failed(out) ? -1 : 0;
}

/* keys as a PostgreSQL text[] literal: {"…","…"} */
static int pg_text_array(struct strbuf *o, const struct strbuf *keys, size_t n)
{
	size_t i, k;

	strbuf_addch(o, '{');
	for (i = 0; i < n; i++) {
		strbuf_addstr(o, i ? ",\"" : "\"");
		for (k = 0; k < keys[i].len; k++) {
			if (keys[i].buf[k] == '"' || keys[i].buf[k] == '\\')
				strbuf_addch(o, '\\');
			strbuf_addch(o, keys[i].buf[k]);
		}
		strbuf_addch(o, '"');
	}
	strbuf_addch(o, '}');
	return strbuf_failed(o) ? -1 : 0;
}

#define PG_KEY_LOCK "1634757991"	/* the first half of a key's advisory lock (int4) */

int db_key_locks(struct db *db, const struct strbuf *keys, size_t n, struct aperr *e)
{
	struct strbuf a = STRBUF_INIT;
	int r;

	if (db->ops != &dbpg_ops || !n)
		return 0;	/* SQLite: BEGIN IMMEDIATE serialises the writers */
	if (pg_text_array(&a, keys, n) < 0) {
		strbuf_release(&a);
		return aperr_set(e, EX_OSERR, "out of memory");
	}
	/* one order for every writer: no deadlock between batches that share keys */
	r = db->ops->query(db, "SELECT pg_advisory_xact_lock(" PG_KEY_LOCK ", h) FROM (SELECT "
			   "DISTINCT hashtext($2 || k) AS h FROM unnest($1::text[]) AS k) s ORDER BY h",
			   (const char *const[]){ a.buf, db->table }, 2, 0, NULL, NULL, 0, e);
	strbuf_release(&a);
	return r;
}

int db_tombstones_prepare(struct db *db, struct aperr *e)
{
	int r;

	if (db->ops != &dbpg_ops)
		return exec_sql(db, "CREATE TABLE IF NOT EXISTS apipe_tombstones (tbl TEXT NOT NULL, "
				"key TEXT NOT NULL, record TEXT NOT NULL, deleted_at TEXT NOT NULL, "
				"PRIMARY KEY (tbl, key))", NULL, 0, 0, e);
	/* PostgreSQL: under apipe's DDL lock, as db_prepare creates tables (two at once collide) */
	if (exec_sql(db, "BEGIN", NULL, 0, 0, e) < 0)
		return -1;
	r = exec_sql(db, "SELECT pg_advisory_xact_lock(" DBI_PG_DDL_LOCK ")", NULL, 0, 0, e);
	if (!r)
		r = exec_sql(db, "CREATE TABLE IF NOT EXISTS apipe_tombstones (tbl TEXT NOT NULL, key "
			     "TEXT NOT NULL, record TEXT NOT NULL, deleted_at timestamptz NOT NULL, "
			     "PRIMARY KEY (tbl, key))", NULL, 0, 0, e);
	if (!r)
		return exec_sql(db, "COMMIT", NULL, 0, 0, e);
	exec_sql(db, "ROLLBACK", NULL, 0, 0, &(struct aperr){ 0, "" });
	return -1;
}

struct tomb_ctx {
	struct db_row *rows;
	const struct strbuf *keys;
	size_t n;
	size_t at;			/* SQLite: the row asked about */
};

/* PostgreSQL: (key, record) of each tombstone of the batch's keys. */
static int tomb_rows(void *ctx, const char *const *v, struct aperr *e)
{
	struct tomb_ctx *t = ctx;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!t->rows[i].found && !strcmp(v[0], t->keys[i].buf)) {
			t->rows[i].tomb = 1;
			strbuf_reset(&t->rows[i].stored);
			if (strbuf_addstr(&t->rows[i].stored, v[1]) < 0)
				return aperr_set(e, EX_OSERR, "out of memory");
		}
	return 0;
}

/* SQLite: (record) of the tombstone of row t->at. */
static int tomb_one(void *ctx, const char *const *v, struct aperr *e)
{
	struct tomb_ctx *t = ctx;

	t->rows[t->at].tomb = 1;
	strbuf_reset(&t->rows[t->at].stored);
	if (strbuf_addstr(&t->rows[t->at].stored, v[0]) < 0)
		return aperr_set(e, EX_OSERR, "out of memory");
	return 0;
}

int db_tomb_lookup(struct db *db, const char *table, struct db_row *rows, const struct strbuf *keys,
		   size_t n, struct aperr *e)
{
	struct tomb_ctx t = { rows, keys, n, 0 };
	struct strbuf a = STRBUF_INIT;
	size_t i;
	int r = 0;

	if (db->ops == &dbpg_ops) {
		if (pg_text_array(&a, keys, n) < 0)
			r = aperr_set(e, EX_OSERR, "out of memory");
		else
			r = db->ops->query(db, "SELECT key, record FROM apipe_tombstones WHERE tbl = $1 "
					   "AND key = ANY($2::text[])", (const char *const[]){ table, a.buf },
					   2, 2, tomb_rows, &t, 0, e);
		strbuf_release(&a);
		return r;
	}
	for (i = 0; i < n && !r; i++) {
		if (rows[i].found)
			continue;
		t.at = i;
		r = db->ops->query(db, "SELECT record FROM apipe_tombstones WHERE tbl = $1 AND key = $2",
				   (const char *const[]){ table, keys[i].buf }, 2, 1, tomb_one, &t, 0, e);
	}
	return r;
}

static int count_row(void *ctx, const char *const *v, struct aperr *e)
{
	(void)v;
	(void)e;
	(*(uint64_t *)ctx)++;
	return 0;
}

/*
 * Key value dv (its text t) in a statement, as parameter $n: SQLite binds
 * every parameter as text, and a number compared with a column through a
 * CAST would not use the column's index, so there a number is written
 * into the statement (we formatted it: nothing else comes in).
 */
static void key_value(const struct db *db, const struct db_value *dv, const char *t, size_t n,
		      struct strbuf *q)
{
	if (db->ops == &dbpg_ops)
		strbuf_addf(q, "$%zu", n);
	else if (dv->kind == DBV_TEXT || strspn(t, "0123456789+-.eE") != strlen(t))
		strbuf_addf(q, "?%zu", n);	/* SQLite: ?N is parameter N, wherever it stands */
	else
		strbuf_addstr(q, t);
}

/*
 * A row's key as statement parameters: each value as text into v[k] (pv[k]
 * pointing at it), and to q the comparison of each key column with its
 * parameter, from $first on -- SQLite compares a number with a number,
 * so there the text is cast back as the value was.
 */
static void key_params(const struct db *db, const struct db_value *vals, struct strbuf *v,
		       const char **pv, struct strbuf *q, size_t first)
{
	size_t k;

	for (k = 0; k < db->nkeys; k++) {
		const struct db_value *dv = &vals[k];

		strbuf_reset(&v[k]);
		if (dv->kind == DBV_INT)
			strbuf_addf(&v[k], "%lld", (long long)dv->i);
		else if (dv->kind == DBV_REAL)
			strbuf_addf(&v[k], "%.17g", dv->r);
		else
			strbuf_add(&v[k], dv->s.buf, dv->s.len);
		pv[k] = v[k].buf;
		if (!q)
			continue;
		strbuf_addstr(q, k ? " AND " : "");
		dbi_ident(q, db->cols[k].name);
		strbuf_addstr(q, " = ");
		key_value(db, dv, v[k].buf, first + k, q);
	}
}

#define DB_MAX_KEYS 8	/* key columns of a table with deletes or children */

int db_delete(struct db *db, const char *table, struct db_row *const *rows,
	      const struct strbuf *const *keys, size_t n, int tomb, const char *deleted_at,
	      uint64_t *deleted, struct aperr *e)
{
	struct strbuf q = STRBUF_INIT, rec = STRBUF_INIT, v[DB_MAX_KEYS];
	const char *pv[DB_MAX_KEYS];
	size_t i, k;
	int r, there;

	*deleted = 0;
	if (db->nkeys > DB_MAX_KEYS)
		return aperr_set(e, EX_USAGE, "--delete-when: at most %d key columns", DB_MAX_KEYS);
	/* a table not made yet (PostgreSQL makes it with its first rows) has no row to delete */
	if ((there = table_there(db, table, e)) < 0)
		return -1;
	if (!there && !tomb)
		return 0;
	for (k = 0; k < db->nkeys; k++)
		strbuf_init(&v[k], 0);
	for (i = 0, r = 0; i < n && !r; i++) {
		/* a statement a key */
		strbuf_reset(&q);
		strbuf_addstr(&q, "DELETE FROM ");
		dbi_ident(&q, table);
		strbuf_addstr(&q, " WHERE ");
		key_params(db, rows[i]->vals, v, pv, &q, 1);
		strbuf_addstr(&q, " RETURNING 1");
		if (there)
			r = db->ops->query(db, q.buf, pv, (int)db->nkeys, 1, count_row, deleted, 0, e);
		strbuf_reset(&rec);
		if (!r && tomb && strbuf_add(&rec, rows[i]->rec, rows[i]->n) < 0)
			r = aperr_set(e, EX_OSERR, "out of memory");
		if (!r && tomb)
			r = exec_sql(db, "INSERT INTO apipe_tombstones (tbl, key, record, deleted_at) "
				     "VALUES ($1, $2, $3, $4) ON CONFLICT (tbl, key) DO UPDATE SET "
				     "record = excluded.record, deleted_at = excluded.deleted_at",
				     (const char *const[]){ table, keys[i]->buf, rec.buf, deleted_at },
				     4, 0, e);
	}
	for (k = 0; k < db->nkeys; k++)
		strbuf_release(&v[k]);
	strbuf_release(&rec);
	strbuf_release(&q);
	return r;
}

/* ---- child tables: the elements of a record's array, one row each ---- */

struct coltype {
	struct strbuf *q;
	int found;
};

static int coltype_row(void *ctx, const char *const *v, struct aperr *e)
{
	struct coltype *c = ctx;

	(void)e;
	strbuf_addf(c->q, " %s", *v[0] ? v[0] : "");
	c->found = 1;
	return 0;
}

int db_child_ready(struct db *db, const char *child, const char *parent, struct aperr *e)
{
	struct strbuf q = STRBUF_INIT;
	int pg = db->ops == &dbpg_ops, there, r = 0;
	size_t k;

	if (db->nkeys > DB_MAX_KEYS)
		return aperr_set(e, EX_USAGE, "--child: at most %d key columns", DB_MAX_KEYS);
	if ((there = table_there(db, child, e)) != 0)
		return there < 0 ? -1 : 1;
	if ((there = table_there(db, parent, e)) <= 0)
		return there;	/* no parent rows yet (PostgreSQL makes it with the first) */
	/* PostgreSQL: under apipe's DDL lock, held to the end of the transaction */
	if (pg && exec_sql(db, "SELECT pg_advisory_xact_lock(" DBI_PG_DDL_LOCK ")", NULL, 0, 0, e) < 0)
		return -1;
	/* the key columns typed as the parent's are (a join compares them) */
	strbuf_addstr(&q, "CREATE TABLE IF NOT EXISTS ");
	dbi_ident(&q, child);
	strbuf_addstr(&q, " (");
	for (k = 0; k < db->nkeys && !r; k++) {
		struct coltype ct = { &q, 0 };

		dbi_ident(&q, db->cols[k].name);
		r = db->ops->query(db, pg ? "SELECT data_type FROM information_schema.columns WHERE "
				   "table_schema = current_schema() AND table_name = $1 AND "
				   "column_name = $2" :
				   "SELECT type FROM pragma_table_info($1) WHERE name = $2",
				   (const char *const[]){ parent, db->cols[k].name }, 2, 1, coltype_row,
				   &ct, 0, e);
		if (!r && !ct.found)
			r = aperr_set(e, EX_CONFIG, "%s: no key column %s to give %s", parent,
				      db->cols[k].name, child);
		strbuf_addstr(&q, " NOT NULL, ");
	}
	strbuf_addf(&q, "\"position\" %s NOT NULL, \"record\" %s NOT NULL, \"ingested_at\" %s "
		    "NOT NULL, PRIMARY KEY (", pg ? "bigint" : "INTEGER",
		    pg ? (db->record_type ? db->record_type : "jsonb") : "TEXT",
		    pg ? "timestamptz" : "TEXT");
	dbi_key_list(&q, "", db->cols, db->nkeys);
	strbuf_addstr(&q, ", \"position\"))");
	if (!r)
		r = exec_sql(db, q.buf, NULL, 0, 0, e);
	strbuf_release(&q);
	return r < 0 ? -1 : 1;
}

int db_child_put(struct db *db, const char *child, const struct db_value *keys,
		 const char *const *elems, const size_t *lens, size_t n, const char *now,
		 struct aperr *e)
{
	struct strbuf q = STRBUF_INIT, rec = STRBUF_INIT, pos = STRBUF_INIT, v[DB_MAX_KEYS];
	const char *pv[DB_MAX_KEYS + 3];
	size_t i, k, nk = db->nkeys;
	int r;

	for (k = 0; k < nk; k++)
		strbuf_init(&v[k], 0);
	/* the parent's children go, whatever they were, then its array's elements come */
	strbuf_addstr(&q, "DELETE FROM ");
	dbi_ident(&q, child);
	strbuf_addstr(&q, " WHERE ");
	key_params(db, keys, v, pv, &q, 1);
	r = exec_sql(db, q.buf, pv, (int)nk, 0, e);
	strbuf_reset(&q);
	strbuf_addstr(&q, "INSERT INTO ");
	dbi_ident(&q, child);
	strbuf_addstr(&q, " (");
	dbi_key_list(&q, "", db->cols, nk);
	strbuf_addstr(&q, ", \"position\", \"record\", \"ingested_at\") VALUES (");
	for (k = 0; k < nk; k++) {
		key_value(db, &keys[k], v[k].buf, k + 1, &q);
		strbuf_addstr(&q, ", ");
	}
	strbuf_addf(&q, db->ops == &dbpg_ops ? "$%zu, $%zu, $%zu)" :
		    "CAST(?%zu AS INTEGER), ?%zu, ?%zu)", nk + 1, nk + 2, nk + 3);
	for (i = 0; i < n && !r; i++) {
		strbuf_reset(&pos);
		strbuf_addf(&pos, "%zu", i);
		strbuf_reset(&rec);
		if (strbuf_add(&rec, elems[i], lens[i]) < 0 || strbuf_failed(&q)) {
			r = aperr_set(e, EX_OSERR, "out of memory");
			break;
		}
		pv[nk] = pos.buf;
		pv[nk + 1] = rec.buf;
		pv[nk + 2] = now;
		r = exec_sql(db, q.buf, pv, (int)nk + 3, 0, e);
	}
	for (k = 0; k < nk; k++)
		strbuf_release(&v[k]);
	strbuf_release(&q);
	strbuf_release(&rec);
	strbuf_release(&pos);
	return r;
}
