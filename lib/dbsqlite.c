/*
 * dbsqlite: the SQLite engine behind lib/db.h (lib/dbint.h's operations).
 *
 * A path, or sqlite:PATH: WAL mode, full synchronous commits, writers
 * serialised by BEGIN IMMEDIATE with a busy timeout; the record is TEXT,
 * byte for byte; rows go through one prepared upsert each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <sqlite3.h>

#include "backoff.h"
#include "dbint.h"

struct db_sqlite {
	struct db db;
	sqlite3 *h;
	char *path;
	int replace_fd;			/* the flock(2) of --replace, or -1 */
	sqlite3_stmt *find, *put, *begin, *commit, *rollback, *sget, *sput;
};
#define SQ(d) ((struct db_sqlite *)(d))

static void sqlite_close(struct db *db);
static int step_done(struct db *db, sqlite3_stmt *st, const char *what, struct aperr *e);
static void bind(sqlite3_stmt *st, int i, const struct db_value *v);
static const char *sql_type(enum db_type t);
static const struct dbi_dialect sqlite_dialect = { 0, sql_type };

/* ---- SQLite ---- */

static int sqlerr(struct db *db, struct aperr *e, const char *what)
{
	int rc = sqlite3_extended_errcode(SQ(db)->h);
	int code = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED ? EX_TEMPFAIL
		 : (rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR ? EX_IOERR
		 : (rc & 0xff) == SQLITE_CANTOPEN ? EX_CANTCREAT : EX_UNAVAILABLE;

	return aperr_set(e, code, "%s: %s", what, sqlite3_errmsg(SQ(db)->h));
}

static int exec(struct db *db, const char *sql, struct aperr *e)
{
	if (sqlite3_exec(SQ(db)->h, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sqlerr(db, e, sql);
	return 0;
}

static int prep(struct db *db, const char *sql, sqlite3_stmt **st, struct aperr *e)
{
	if (sqlite3_prepare_v2(SQ(db)->h, sql, -1, st, NULL) != SQLITE_OK)
		return sqlerr(db, e, "prepare");
	return 0;
}

static const char *sql_type(enum db_type t)
{
	switch (t) {
	case DB_INTEGER:
	case DB_BOOLEAN:
		return " INTEGER";
	case DB_REAL:
		return " REAL";
	case DB_TEXT:
	case DB_JSON:
	case DB_TIMESTAMP:
		return " TEXT";
	default:
		return "";
	}
}

/*
 * Table's column name: 1 with its declared type in *type ("" when untyped;
 * the caller frees it; type may be NULL), 0 when there is none, -1 (e).
 */
static int sqlite_column_type(struct db *db, const char *table, const char *name, char **type,
			      struct aperr *e)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (prep(db, "SELECT type FROM pragma_table_info(?) WHERE name = ?", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	r = sqlite3_step(st) == SQLITE_ROW;
	if (r && type) {
		const char *t = (const char *)sqlite3_column_text(st, 0);

		if (!(*type = strdup(t ? t : "")))
			r = aperr_set(e, EX_OSERR, "out of memory");
	}
	sqlite3_finalize(st);
	return r;
}

/*
 * Does table have the first ncols columns, record and ingested_at?  0 or
 * -1 (EX_CONFIG naming the missing one).
 */
static int check_columns(struct db *db, const char *table, const struct db_column *cols,
			 size_t ncols, struct aperr *e)
{
	size_t i;
	int r = 1;

	for (i = 0; i <= ncols + 1 && r == 1; i++) {
		const char *name = i < ncols ? cols[i].name : i == ncols ? "record" : "ingested_at";

		r = sqlite_column_type(db, table, name, NULL, e);
		if (r == 0)
			return aperr_set(e, EX_CONFIG, "table %s exists without a column %s", table, name);
	}
	return r < 0 ? -1 : 0;
}

/* SQLite: the stored record of one key, bound as ?1…?nkeys. */
static void sql_find(struct strbuf *q, const char *table, const struct db_column *cols,
		     size_t nkeys)
{
	size_t i;

	strbuf_addstr(q, "SELECT \"record\" FROM ");
	dbi_ident(q, table);
	for (i = 0; i < nkeys; i++) {
		strbuf_addstr(q, i ? " AND " : " WHERE ");
		dbi_ident(q, cols[i].name);
		strbuf_addf(q, " = ?%zu", i + 1);
	}
}

/*
 * Fill the new column col of every stored row from its record, as a new
 * row's would be.  A stored value that does not fit is EX_DATAERR: the
 * caller rolls the column back, nothing is rewritten.
 */
static int sqlite_backfill(struct db *db, const char *table, const struct db_column *col,
			   struct aperr *e)
{
	struct strbuf q = STRBUF_INIT;
	sqlite3_stmt *sel = NULL, *upd = NULL;
	struct json_doc d;
	struct db_value v;
	int rc = -1, r;

	json_doc_init(&d, 0);
	db_value_init(&v);
	strbuf_addstr(&q, "SELECT rowid, \"record\" FROM ");
	dbi_ident(&q, table);
	if (prep(db, q.buf, &sel, e) < 0)
		goto out;
	strbuf_reset(&q);
	strbuf_addstr(&q, "UPDATE ");
	dbi_ident(&q, table);
	strbuf_addstr(&q, " SET ");
	dbi_ident(&q, col->name);
	strbuf_addstr(&q, " = ?1 WHERE rowid = ?2");
	if (prep(db, q.buf, &upd, e) < 0)
		goto out;
	while ((r = sqlite3_step(sel)) == SQLITE_ROW) {
		const char *rec = (const char *)sqlite3_column_text(sel, 1);
		size_t n = (size_t)sqlite3_column_bytes(sel, 1);

		if (!rec || json_parse(&d, rec, n, NULL) != 0) {
			aperr_set(e, EX_DATAERR, "column %s: a stored record is not JSON", col->name);
			goto out;
		}
		if (db_value_from_json(col, &d, 0, &v, e) < 0) {
			char why[sizeof(e->msg)];

			snprintf(why, sizeof(why), "%s", e->msg);
			aperr_set(e, EX_DATAERR, "adding column %s to %s: the stored record %.60s: %s; "
				  "nothing was changed", col->name, table, rec, why);
			goto out;
		}
		sqlite3_reset(upd);
		bind(upd, 1, &v);
		sqlite3_bind_int64(upd, 2, sqlite3_column_int64(sel, 0));
		if (step_done(db, upd, "backfill", e) < 0)
			goto out;
	}
	if (r != SQLITE_DONE) {
		sqlerr(db, e, "backfill");
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	json_doc_release(&d);
	db_value_release(&v);
	strbuf_release(&q);
	return rc;
}

/*
 * The table follows the columns asked for: a missing one is noted in
 * db->evolve, and with apply added and filled from the stored records; one
 * of another declared type is EX_DATAERR (apipe never changes a column's
 * type).  In the caller's transaction.
 */
static int sqlite_evolve(struct db *db, const char *table, const struct db_column *cols,
			 size_t ncols, size_t nkeys, int apply, struct aperr *e)
{
	struct strbuf q = STRBUF_INIT;
	size_t i;
	int rc = 0;

	for (i = nkeys; i < ncols && rc == 0; i++) {
		char *have = NULL;
		const char *want = sql_type(cols[i].type);
		int r = sqlite_column_type(db, table, cols[i].name, &have, e);

		if (r < 0) {
			rc = -1;
			break;
		}
		if (r) {
			if (cols[i].type != DB_ANY && strcasecmp(have, want + (*want == ' ')))
				rc = aperr_set(e, EX_DATAERR, "column %s of %s is %s, not %s: apipe does "
					       "not change a column's type", cols[i].name, table,
					       *have ? have : "untyped", want + (*want == ' '));
			else
				rc = dbi_column_register(db, table, &cols[i], e);
			free(have);
			continue;
		}
		db->evolve = 1;
		if (!apply)
			continue;	/* checked now, added with the first batch */
		strbuf_reset(&q);
		strbuf_addstr(&q, "ALTER TABLE ");
		dbi_ident(&q, table);
		strbuf_addstr(&q, " ADD COLUMN ");
		dbi_ident(&q, cols[i].name);
		strbuf_addstr(&q, want);
		if (exec(db, q.buf, e) < 0 || sqlite_backfill(db, table, &cols[i], e) < 0 ||
		    dbi_column_register(db, table, &cols[i], e) < 0)
			rc = -1;
	}
	strbuf_release(&q);
	return rc;
}

/* SQLite: the prepared upsert of one row, every column named.  0, or -1 (e). */
static int sqlite_put_statement(struct db *db, struct aperr *e)
{
	struct strbuf q = STRBUF_INIT;
	int r;

	sqlite3_finalize(SQ(db)->put);
	SQ(db)->put = NULL;
	dbi_sql_upsert(&q, db->table, db->cols, db->ncols, db->nkeys, NULL, NULL);
	r = prep(db, q.buf, &SQ(db)->put, e);
	strbuf_release(&q);
	return r;
}

static int step_done(struct db *db, sqlite3_stmt *st, const char *what, struct aperr *e)
{
	int r = sqlite3_step(st);

	sqlite3_reset(st);
	if (r != SQLITE_DONE && r != SQLITE_ROW)
		return sqlerr(db, e, what);
	return 0;
}

static void bind(sqlite3_stmt *st, int i, const struct db_value *v)
{
	if (v->null)
		sqlite3_bind_null(st, i);
	else if (v->kind == DBV_INT)
		sqlite3_bind_int64(st, i, v->i);
	else if (v->kind == DBV_REAL)
		sqlite3_bind_double(st, i, v->r);
	else
		sqlite3_bind_text(st, i, v->s.buf, (int)v->s.len, SQLITE_STATIC);
}

/* SQLite: the stored record of one key, and whether it is byte for byte rec. 1, 0 or -1. */
static int sqlite_find(struct db *db, const struct db_value *keys, const char *rec, size_t n,
		       struct strbuf *record, int *same, struct aperr *e)
{
	size_t i;
	int r;

	*same = 0;
	sqlite3_reset(SQ(db)->find);
	for (i = 0; i < db->nkeys; i++)
		bind(SQ(db)->find, (int)i + 1, &keys[i]);
	r = sqlite3_step(SQ(db)->find);
	if (r == SQLITE_ROW) {
		strbuf_reset(record);
		strbuf_add(record, sqlite3_column_text(SQ(db)->find, 0),
			   (size_t)sqlite3_column_bytes(SQ(db)->find, 0));
		sqlite3_reset(SQ(db)->find);
		*same = record->len == n && !memcmp(record->buf, rec, n);
		return 1;
	}
	sqlite3_reset(SQ(db)->find);
	return r == SQLITE_DONE ? 0 : sqlerr(db, e, "SELECT");
}

/* SQLite: insert or update one row. */
static int sqlite_put(struct db *db, const struct db_value *vals, const char *record, size_t n,
		      const char *ingested_at, struct aperr *e)
{
	size_t i;

	for (i = 0; i < db->ncols; i++)
		bind(SQ(db)->put, (int)i + 1, &vals[i]);
	sqlite3_bind_text(SQ(db)->put, (int)db->ncols + 1, record, (int)n, SQLITE_STATIC);
	sqlite3_bind_text(SQ(db)->put, (int)db->ncols + 2, ingested_at, -1, SQLITE_STATIC);
	return step_done(db, SQ(db)->put, "INSERT", e);
}


struct db *dbsqlite_open(const char *path, struct aperr *e)
{
	struct db_sqlite *s = calloc(1, sizeof(*s));
	struct db *db = &s->db;

	if (!s) {
		aperr_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	db->ops = &dbsqlite_ops;
	s->replace_fd = -1;
	if (!(s->path = strdup(path))) {
		aperr_set(e, EX_OSERR, "out of memory");
		sqlite_close(db);
		return NULL;
	}
	if (sqlite3_open_v2(path, &SQ(db)->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
						  SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		aperr_set(e, EX_CANTCREAT, "%s: %s", path,
			  SQ(db)->h ? sqlite3_errmsg(SQ(db)->h) : "cannot open");
		sqlite_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(SQ(db)->h, 30000);
	/*
	 * Turning a new database to WAL takes it exclusively, and SQLite may say
	 * "locked" at once, without its busy handler, while another run does
	 * the same: try again for as long as the busy timeout would wait.
	 */
	{
		struct backoff bo;
		double waited = 0;
		unsigned tries = 0;
		int r;

		backoff_init(&bo, 0.01, 0.2, 0.005);
		while ((r = exec(db, "PRAGMA journal_mode=WAL", e)) < 0 && waited < 30 &&
		       (sqlite3_errcode(SQ(db)->h) == SQLITE_BUSY ||
			sqlite3_errcode(SQ(db)->h) == SQLITE_LOCKED)) {
			double d = backoff_delay(&bo, tries++);

			backoff_sleep(d);
			waited += d;
		}
		if (r < 0) {
			aperr_prefix(e, "%s", path);
			sqlite_close(db);
			return NULL;
		}
	}
	if (exec(db, "PRAGMA synchronous=FULL", e) < 0 ||
	    prep(db, "BEGIN IMMEDIATE", &SQ(db)->begin, e) < 0 ||
	    prep(db, "COMMIT", &SQ(db)->commit, e) < 0 ||
	    prep(db, "ROLLBACK", &SQ(db)->rollback, e) < 0) {
		aperr_prefix(e, "%s", path);
		sqlite_close(db);
		return NULL;
	}
	return db;
}

/* Create or check the table and prepare the statements (db_prepare). */
static int sqlite_prepare(struct db *db, struct aperr *e)
{
	const char *table = db->table;
	const struct db_column *cols = db->cols;
	size_t ncols = db->ncols, nkeys = db->nkeys;
	struct strbuf q = STRBUF_INIT;
	int rc = -1;

	dbi_sql_create(&q, &sqlite_dialect, table, cols, ncols, nkeys, "TEXT");
	/* one writer at a time: a second first run waits, then finds the columns there */
	if (exec(db, "BEGIN IMMEDIATE", e) < 0)
		goto out;
	db->evolve = 0;
	if (exec(db, q.buf, e) < 0 || exec(db, DBI_STATE_TABLE_SQL("TEXT"), e) < 0 ||
	    exec(db, DBI_COLUMNS_TABLE_SQL, e) < 0 ||
	    check_columns(db, table, cols, nkeys, e) < 0 ||
	    sqlite_evolve(db, table, cols, ncols, nkeys, 0, e) < 0) {
		sqlite3_exec(SQ(db)->h, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	if (exec(db, "COMMIT", e) < 0)
		goto out;
	strbuf_reset(&q);
	sql_find(&q, table, cols, nkeys);
	if (prep(db, q.buf, &SQ(db)->find, e) < 0 || (!db->evolve && sqlite_put_statement(db, e) < 0) ||
	    prep(db, "INSERT INTO apipe_state (name, value, updated_at) VALUES (?1, ?2, ?3) "
		     "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
		     "updated_at = excluded.updated_at", &SQ(db)->sput, e) < 0)
		goto out;
	rc = 0;
out:
	strbuf_release(&q);
	return rc;
}

static void sqlite_close(struct db *db)
{
	struct db_sqlite *s = SQ(db);

	sqlite3_finalize(s->find);
	sqlite3_finalize(s->put);
	sqlite3_finalize(s->begin);
	sqlite3_finalize(s->commit);
	sqlite3_finalize(s->rollback);
	sqlite3_finalize(s->sget);
	sqlite3_finalize(s->sput);
	sqlite3_close(s->h);
	if (s->replace_fd >= 0)
		close(s->replace_fd);
	free(s->path);
	free(s);
}

static void sqlite_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(SQ(db)->h)) {
		sqlite3_step(SQ(db)->rollback);
		sqlite3_reset(SQ(db)->rollback);
	}
	if (db->evolved) {	/* the statement that named the columns that are gone again */
		sqlite3_finalize(SQ(db)->put);
		SQ(db)->put = NULL;
	}
	db->evolved = 0;
}

static int sqlite_begin(struct db *db, struct aperr *e)
{
	int r = step_done(db, SQ(db)->begin, "BEGIN", e);

	if (r < 0 || !db->evolve)
		return r;
	/* the columns the table lacks, in this batch's transaction */
	db->evolved = 1;
	if (sqlite_evolve(db, db->table, db->cols, db->ncols, db->nkeys, 1, e) < 0 ||
	    sqlite_put_statement(db, e) < 0) {
		sqlite_rollback(db);
		return -1;
	}
	return 0;
}

static int sqlite_commit(struct db *db, struct aperr *e)
{
	int r = step_done(db, SQ(db)->commit, "COMMIT", e);

	if (r == 0 && db->evolved)
		db->evolve = db->evolved = 0;
	return r;
}

static int sqlite_state_get(struct db *db, const char *name, struct strbuf *value, struct aperr *e)
{
	int r;

	if (!SQ(db)->sget && sqlite3_prepare_v2(SQ(db)->h, "SELECT value FROM apipe_state WHERE name = ?1",
					    -1, &SQ(db)->sget, NULL) != SQLITE_OK) {
		if (strstr(sqlite3_errmsg(SQ(db)->h), "no such table"))
			return 0;
		return sqlerr(db, e, "prepare");
	}
	sqlite3_reset(SQ(db)->sget);
	sqlite3_bind_text(SQ(db)->sget, 1, name, -1, SQLITE_STATIC);
	r = sqlite3_step(SQ(db)->sget);
	if (r == SQLITE_ROW) {
		strbuf_reset(value);
		strbuf_add(value, sqlite3_column_text(SQ(db)->sget, 0),
			   (size_t)sqlite3_column_bytes(SQ(db)->sget, 0));
		sqlite3_reset(SQ(db)->sget);
		return 1;
	}
	sqlite3_reset(SQ(db)->sget);
	return r == SQLITE_DONE ? 0 : sqlerr(db, e, "SELECT");
}

static int sqlite_state_put(struct db *db, const char *name, const char *value,
			    const char *updated_at, struct aperr *e)
{
	sqlite3_bind_text(SQ(db)->sput, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(SQ(db)->sput, 2, value, -1, SQLITE_STATIC);
	sqlite3_bind_text(SQ(db)->sput, 3, updated_at, -1, SQLITE_STATIC);
	return step_done(db, SQ(db)->sput, "INSERT INTO apipe_state", e);
}

static int sqlite_lookup(struct db *db, struct db_row *rows, size_t n, struct aperr *e)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		r = sqlite_find(db, rows[i].vals, rows[i].rec, rows[i].n, &rows[i].stored,
				&rows[i].same, e);
		if (r < 0)
			return -1;
		rows[i].found = r;
	}
	return 0;
}

static int sqlite_write(struct db *db, struct db_row *const *rows, size_t n,
			const char *ingested_at, struct aperr *e)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (sqlite_put(db, rows[i]->vals, rows[i]->rec, rows[i]->n, ingested_at, e) < 0)
			return -1;
	return 0;
}

/* db_ops.query: parameters bound as text, $1…$np in order. */
static int sqlite_query(struct db *db, const char *sql, const char *const *pv, int np, int ncol,
			int (*row)(void *ctx, const char *const *vals, struct aperr *e), void *ctx,
			int missing_ok, struct aperr *e)
{
	const char *vals[DBI_QUERY_COLS];
	sqlite3_stmt *st = NULL;
	int i, r = SQLITE_DONE, rc = 0;

	if (ncol > DBI_QUERY_COLS)
		return aperr_set(e, EX_SOFTWARE, "query: %d columns", ncol);
	if (sqlite3_prepare_v2(SQ(db)->h, sql, -1, &st, NULL) != SQLITE_OK) {
		if (missing_ok && strstr(sqlite3_errmsg(SQ(db)->h), "no such table"))
			return 0;
		return sqlerr(db, e, "prepare");
	}
	for (i = 0; i < np; i++)
		sqlite3_bind_text(st, i + 1, pv[i], -1, SQLITE_STATIC);
	while (rc == 0 && (r = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < ncol; i++) {
			vals[i] = (const char *)sqlite3_column_text(st, i);
			if (!vals[i])
				vals[i] = "";
		}
		rc = row ? row(ctx, vals, e) : 0;
	}
	if (rc == 0 && r != SQLITE_DONE)
		rc = sqlerr(db, e, "SELECT");
	sqlite3_finalize(st);
	return rc;
}

/* Nothing to do: SQLite's writers are serialised with their lookups (BEGIN IMMEDIATE). */
static int sqlite_nothing(struct db *db, struct aperr *e)
{
	(void)db;
	(void)e;
	return 0;
}

static int sqlite_set_newer(struct db *db, const struct json_ptr *p, const char *cast,
			    struct aperr *e)
{
	(void)p;
	(void)cast;
	return sqlite_nothing(db, e);
}

static int sqlite_state_lock(struct db *db, const char *name, struct aperr *e)
{
	(void)name;	/* the transaction already holds the database */
	return sqlite_nothing(db, e);
}

/*
 * One --replace at a time in a database: an flock(2) of its file, held to
 * the end of the run (SQLite's own locks are fcntl(2) locks: they do not
 * meet).
 */
static int sqlite_replace_lock(struct db *db, const char *table, struct aperr *e)
{
	struct db_sqlite *s = SQ(db);

	if (s->replace_fd >= 0)
		return 0;
	if ((s->replace_fd = open(s->path, O_RDONLY | O_CLOEXEC)) < 0)
		return aperr_errno(e, EX_CANTCREAT, "%s", s->path);
	if (flock(s->replace_fd, LOCK_EX | LOCK_NB) < 0) {
		close(s->replace_fd);
		s->replace_fd = -1;
		return aperr_set(e, EX_TEMPFAIL, "%s: another upsert --replace is running in this "
				 "database (replacing %s waits for no one: run it again after)",
				 s->path, table);
	}
	return 0;
}

const struct db_ops dbsqlite_ops = {
	"SQLite", sqlite_prepare, sqlite_set_newer, sqlite_nothing, sqlite_begin, sqlite_commit,
	sqlite_rollback, sqlite_lookup, sqlite_write, sqlite_state_get, sqlite_state_put,
	sqlite_state_lock, sqlite_query, sqlite_replace_lock, sqlite_close
};
