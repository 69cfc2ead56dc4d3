/*
 * dbint: what lib/db.c and its engines (lib/dbsqlite.c, lib/dbpg.c) share,
 * and nothing else includes.  An engine is one file: a struct that begins
 * with struct db, a table of operations, and an open function that lib/db.c
 * calls by the URL's form.  Adding an engine is one new file and one line
 * in db_open().
 */
#ifndef APIPE_DBINT_H
#define APIPE_DBINT_H

#include "db.h"

/*
 * An engine's operations, each as the lib/db.h function of that name
 * describes it (prepare: create or check db->table with db->cols and
 * prepare the statements; close: free everything, the struct included).
 */
struct db_ops {
	const char *name;
	int (*prepare)(struct db *db, struct aperr *e);
	int (*set_newer)(struct db *db, const struct json_ptr *p, const char *cast, struct aperr *e);
	int (*reconnect)(struct db *db, struct aperr *e);
	int (*begin)(struct db *db, struct aperr *e);
	int (*commit)(struct db *db, struct aperr *e);
	void (*rollback)(struct db *db);
	int (*lookup)(struct db *db, struct db_row *rows, size_t n, struct aperr *e);
	int (*write)(struct db *db, struct db_row *const *rows, size_t n, const char *ingested_at,
		     struct aperr *e);
	int (*state_get)(struct db *db, const char *name, struct strbuf *value, struct aperr *e);
	int (*state_put)(struct db *db, const char *name, const char *value,
			 const char *updated_at, struct aperr *e);
	int (*state_lock)(struct db *db, const char *name, struct aperr *e);
	/*
	 * Run sql (parameters $1…$np, as text); each result row's first ncol
	 * (at most DBI_QUERY_COLS) columns as text to row(ctx, vals, e) (NULL:
	 * ignored).  0, or -1 (e).  A missing table is an empty result when
	 * missing_ok.
	 */
	int (*query)(struct db *db, const char *sql, const char *const *pv, int np, int ncol,
		     int (*row)(void *ctx, const char *const *vals, struct aperr *e), void *ctx,
		     int missing_ok, struct aperr *e);
	/*
	 * Hold, to the end of the run, the right to replace table (upsert
	 * --replace): -1 (EX_TEMPFAIL) when another run holds it.
	 */
	int (*replace_lock)(struct db *db, const char *table, struct aperr *e);
	void (*close)(struct db *db);
};
#define DBI_QUERY_COLS 4

/* What every engine's struct begins with. */
struct db {
	const struct db_ops *ops;
	size_t ncols, nkeys;
	const struct db_column *cols;	/* the caller's (db_prepare) */
	char *table;
	const char *record_type;	/* PostgreSQL: "jsonb" (default), "json" or "text" */
	int want_stored;		/* db_lookup returns the stored records */
	int counts;			/* db_write knows what it inserted and updated: */
	uint64_t last_inserted, last_updated;
	/*
	 * Columns asked for that the table lacks: added, and filled from the
	 * stored records, in the transaction of the first batch (evolved: in
	 * the open one; a rollback takes them back, and the statements that
	 * named them).
	 */
	int evolve, evolved;
	void (*log)(void *ctx, const char *msg);
	void *log_ctx;
};

extern const struct db_ops dbsqlite_ops, dbpg_ops;
/* PostgreSQL: the advisory lock key under which apipe makes tables ("apipe" in ASCII). */
#define DBI_PG_DDL_LOCK "439052693605"
/* Open an engine's database: EX_CANTCREAT, EX_CONFIG, EX_TEMPFAIL or EX_UNAVAILABLE. */
struct db *dbsqlite_open(const char *path, struct aperr *e);
struct db *dbpg_open(const char *url, struct aperr *e);

/*
 * The SQL both engines speak, in their dialects: SQLite numbers its
 * parameters ?N and types loosely; PostgreSQL numbers them $N and casts
 * them to the column's type, and keeps the record as jsonb.
 */
struct dbi_dialect {
	int pg;
	const char *(*type)(enum db_type t);	/* " INTEGER", " bigint", …: a column's type */
};
/* A quoted SQL identifier, appended to o. */
void dbi_ident(struct strbuf *o, const char *name);
/* The key columns, comma-separated, each after prefix ("" or an alias and a dot). */
void dbi_key_list(struct strbuf *q, const char *prefix, const struct db_column *cols,
		  size_t nkeys);
/* CREATE TABLE IF NOT EXISTS for table: keys, columns, record (rtype), ingested_at. */
void dbi_sql_create(struct strbuf *q, const struct dbi_dialect *dl, const char *table,
		    const struct db_column *cols, size_t ncols, size_t nkeys, const char *rtype);
/*
 * Insert or update rows: one row bound as ?1…?(ncols+2) (SQLite), or all
 * the rows of the table from (PostgreSQL's staged batch); guard, when not
 * NULL, the update's WHERE.
 */
void dbi_sql_upsert(struct strbuf *q, const char *table, const struct db_column *cols,
		    size_t ncols, size_t nkeys, const char *from, const char *guard);
/*
 * In the open transaction, once column col of table exists: it enters the
 * registry (apipe_columns, which the engine's prepare made), and an entry
 * that fills it from another pointer is EX_CONFIG.  0 or -1.
 */
int dbi_column_register(struct db *db, const char *table, const struct db_column *col,
			struct aperr *e);

/* The column registry (dbi_column_register), made where apipe_state is. */
#define DBI_COLUMNS_TABLE_SQL \
	"CREATE TABLE IF NOT EXISTS apipe_columns (tbl TEXT NOT NULL, name TEXT NOT NULL, " \
	"pointer TEXT NOT NULL, type TEXT NOT NULL, PRIMARY KEY (tbl, name))"

#define DBI_STATE_TABLE_SQL(time_type) \
	"CREATE TABLE IF NOT EXISTS apipe_state (name TEXT PRIMARY KEY, value TEXT NOT NULL, " \
	"updated_at " time_type " NOT NULL)"

#endif
