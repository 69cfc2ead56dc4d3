/*
 * db: the table upsert lands records in, and the state kept beside it.
 *
 * A table holds the key columns, typed columns taken from each record,
 * the whole record as JSON text ("record") and when it was written
 * ("ingested_at"); the table apipe_state(name, value, updated_at) holds
 * watermarks written in the same transaction as the rows they cover.
 *
 * SQLite (a path, or sqlite:PATH): WAL mode, full synchronous commits,
 * writers serialised by BEGIN IMMEDIATE with a busy timeout; the record is
 * TEXT, byte for byte.  PostgreSQL (postgresql://… or postgres://…, libpq):
 * the record is jsonb, timestamps timestamptz, untyped columns text; rows
 * go through prepared statements one at a time within the transaction.
 *
 * Ownership: struct db owns its connection and prepared statements;
 * db_close() finalises them.  Values point into the caller's buffers.
 *
 * Engines: each in its own file behind one table of operations
 * (lib/dbint.h: struct db_ops): lib/dbsqlite.c and lib/dbpg.c; lib/db.c
 * holds what they share (the SQL both speak, the column registry) and
 * hands each call to the engine.  The column model is lib/dbcol.h.
 */
#ifndef APIPE_DB_H
#define APIPE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "dbcol.h"
#include "err.h"
#include "json.h"
#include "strbuf.h"

struct db;

/*
 * The table's registered columns (apipe_columns: each column past the key
 * that a writer named, and the pointer and type that fill it), in name
 * order, each handed to add(ctx, name, pointer, type, e); p is borrowed for
 * the call.  A writer adds the ones it does not name before db_prepare, so
 * every writer fills every column.  0 (none when the registry is missing),
 * or -1 with e (EX_CONFIG for an entry apipe cannot read, or add's error).
 */
int db_table_columns(struct db *db, const char *table,
		     int (*add)(void *ctx, const char *name, const struct json_ptr *p,
				enum db_type t, struct aperr *e),
		     void *ctx, struct aperr *e);
/* Open url (a path or sqlite:PATH).  EX_CANTCREAT, EX_CONFIG or EX_UNAVAILABLE. */
struct db *db_open(const char *url, struct aperr *e);
void db_close(struct db *db);

/*
 * Create table (keys first, then the other columns, record, ingested_at)
 * and apipe_state when missing, and prepare the statements.  PostgreSQL:
 * a missing table with a key not typed by its column (DB_ANY) is created
 * with the first batch that has rows, that key bigint when every one of
 * its values there is an integer, else text.  Each column
 * past the key enters the registry (apipe_columns) once the table has it;
 * one the registry fills from another pointer is EX_CONFIG, as is an
 * existing table missing one of the key columns.
 */
int db_prepare(struct db *db, const char *table, const struct db_column *cols, size_t ncols,
	       size_t nkeys, struct aperr *e);

/*
 * PostgreSQL: keep the record column as "jsonb" (the default: records
 * compare as JSON values, and can be indexed and queried), "json" or
 * "text" (the bytes exactly as received: numbers such as 739.5e-3 and the
 * order of members kept).  Call before db_prepare; type must outlive db.
 * An existing table's record column must be of that type (EX_CONFIG).
 */
void db_set_record_type(struct db *db, const char *type);
/*
 * PostgreSQL: does db_lookup fill db_row.stored?  Off by default: found and
 * same are enough to decide, and reading every stored record back costs as
 * much as writing.  Call before db_prepare.  (SQLite always fills it.)
 */
void db_want_stored(struct db *db, int want);
/*
 * --only-newer in SQL (PostgreSQL): the update of a stored row happens
 * only when its value at p, cast to cast ("timestamptz", "numeric", or
 * NULL for text compared bytewise), is not newer than the incoming one --
 * so a concurrent writer's newer row is never overwritten, whatever the
 * client decided from its lookup.  Call after db_prepare; a no-op for
 * SQLite, whose writers are serialised with their lookups.  0 or -1.
 */
int db_set_newer(struct db *db, const struct json_ptr *p, const char *cast, struct aperr *e);
/*
 * After a lost connection: connect again and prepare the statements again
 * (PostgreSQL; a no-op for SQLite).  0, or -1 (EX_TEMPFAIL).
 */
int db_reconnect(struct db *db, struct aperr *e);
/*
 * Where db says what it decided on its own (a new PostgreSQL table's key
 * type); NULL: nowhere.
 */
void db_set_log(struct db *db, void (*log)(void *ctx, const char *msg), void *ctx);
/* BEGIN IMMEDIATE (waits for other writers), COMMIT, ROLLBACK. */
int db_begin(struct db *db, struct aperr *e);
int db_commit(struct db *db, struct aperr *e);
void db_rollback(struct db *db);

/*
 * A batch row: its column values (keys first) and record, and what
 * db_lookup() found stored under its key.
 */
struct db_row {
	struct db_value *vals;		/* ncols of them, owned by the row */
	const char *rec;		/* the record, borrowed */
	size_t n;
	int found, same;		/* a stored row; equal to rec (bytes, or jsonb values) */
	struct strbuf stored;		/* its record (PostgreSQL: with db_want_stored) */
	int del;			/* the caller's: this record deletes its key's row */
	int tomb;			/* no stored row, a tombstone (db_tomb_lookup): its
					 * record is in stored */
};

void db_row_init(struct db_row *r, size_t ncols);
void db_row_release(struct db_row *r, size_t ncols);
/*
 * Look up the stored rows of a batch's keys: SQLite one SELECT a row,
 * PostgreSQL one COPY of the keys into a temporary table and one join.
 * 0 or -1 (e).
 */
int db_lookup(struct db *db, struct db_row *rows, size_t n, struct aperr *e);
/*
 * Insert or update the rows (their keys distinct): SQLite one statement a
 * row, PostgreSQL one COPY into a temporary table and one INSERT … ON
 * CONFLICT.  0 or -1 (e).
 */
int db_write(struct db *db, struct db_row *const *rows, size_t n, const char *ingested_at,
	     struct aperr *e);

/*
 * PostgreSQL: how many rows the last db_write inserted and updated, as the
 * database says (RETURNING): with a concurrent writer or the --only-newer
 * guard, fewer than were asked.  Returns 1, or 0 for SQLite, whose writes
 * are exactly the ones decided.
 */
int db_written(const struct db *db, uint64_t *inserted, uint64_t *updated);

/*
 * Hold name's row of apipe_state for the rest of the transaction (a
 * PostgreSQL advisory lock), so that a read, compare and write of it --
 * a watermark that may only grow -- is not raced by another run.  0 or -1.
 */
int db_state_lock(struct db *db, const char *name, struct aperr *e);

/*
 * Deletes (upsert --delete-when).  A key is named in text by
 * db_key_text(): the JSON array of its values.  db_key_locks() holds each
 * key of a batch to the end of the transaction (PostgreSQL: advisory
 * locks taken in one order, so writers of the same keys wait for each
 * other and see what the other committed; SQLite: a no-op, its writers are
 * serialised), before the lookup.  db_delete() removes the rows of keys,
 * and with tomb records each delete as a tombstone in apipe_tombstones
 * (tbl, key, record, deleted_at) -- the newest delete of each key, kept
 * so that an older copy arriving later is known as older.
 * db_tomb_lookup() fills rows[i].tomb and .stored for each row found
 * neither stored nor deleted-then-written, from those tombstones.  Each
 * 0 or -1 (e).
 */
int db_key_text(const struct db_value *vals, size_t nkeys, struct strbuf *out);
int db_key_locks(struct db *db, const struct strbuf *keys, size_t n, struct aperr *e);
int db_tombstones_prepare(struct db *db, struct aperr *e);
int db_tomb_lookup(struct db *db, const char *table, struct db_row *rows, const struct strbuf *keys,
		   size_t n, struct aperr *e);
int db_delete(struct db *db, const char *table, struct db_row *const *rows,
	      const struct strbuf *const *keys, size_t n, int tomb, const char *deleted_at,
	      uint64_t *deleted, struct aperr *e);

/*
 * Child tables (upsert --child): the elements of an array in each record,
 * a row each, under the parent's key and the element's position, with the
 * element as the record column.  db_child_ready(), in a batch's
 * transaction once the parent table exists, makes child when missing: the
 * parent's key columns typed as in parent, "position", "record" and
 * "ingested_at", keyed by the parent's key and the position: 1 when it is
 * there, 0 when the parent table is not there yet either (no child to
 * put), -1 (e).  db_child_put() replaces a parent's children by the n
 * elements given (elems[i], lens[i] bytes; n = 0: none).  0 or -1 (e).
 */
int db_child_ready(struct db *db, const char *child, const char *parent, struct aperr *e);
int db_child_put(struct db *db, const char *child, const struct db_value *keys,
		 const char *const *elems, const size_t *lens, size_t n, const char *now,
		 struct aperr *e);

/*
 * Replacing a table (upsert --replace): the run's rows are landed in
 * staging, a table beside it, and swapped in at the end.
 * db_replace_begin() takes the right to replace table for the rest of the
 * run (another run holding it: EX_TEMPFAIL) and drops what a stopped run
 * left in staging; call it before db_prepare(staging).
 * db_replace_swap(), in the transaction that lands the last batch, makes
 * staging the table: the old one is dropped, staging renamed to it, and
 * its registered columns become the table's (a staging never created, as
 * when there were no rows, empties the table instead).  0 or -1 (e).
 */
int db_replace_begin(struct db *db, const char *table, const char *staging, struct aperr *e);
int db_replace_swap(struct db *db, const char *table, const char *staging, struct aperr *e);

/* apipe_state: 1 found (value set), 0 not, -1 error. */
int db_state_get(struct db *db, const char *name, struct strbuf *value, struct aperr *e);
int db_state_put(struct db *db, const char *name, const char *value, const char *updated_at,
		 struct aperr *e);

#endif
