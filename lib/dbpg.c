/*
 * dbpg: the PostgreSQL engine behind lib/db.h (lib/dbint.h's operations).
 *
 * postgresql://… or postgres://… (libpq): the record is jsonb (or json, or
 * text), timestamps timestamptz, untyped columns text; a batch's keys and
 * rows are copied (COPY) into temporary tables shaped like the table and
 * land through prepared statements, stored rows locked in key order;
 * apipe's DDL is serialised by an advisory lock, and --only-newer is a
 * guard on the update, exact through apipe_instant_key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpq-fe.h>

#include "backoff.h"
#include "dbint.h"

struct db_pg {
	struct db db;
	PGconn *pg;
	char *guard;			/* the ON CONFLICT update's WHERE, or NULL */
	/*
	 * The table is missing and a key column untyped: it is created in the
	 * first batch that has rows, each such key bigint when every value of
	 * that batch is an integer, else text (created: in the open transaction).
	 */
	int create_pending, created;
};
#define PG(d) ((struct db_pg *)(d))

#define PG_DDL_LOCK DBI_PG_DDL_LOCK
/* The first half of the two-part advisory lock on one apipe_state row (int4). */
#define PG_STATE_LOCK "1634757989"
/* The first half of the session lock of upsert --replace on one table (int4). */
#define PG_REPLACE_LOCK "1634757990"

/*
 * apipe_instant_key(text): an RFC 3339 instant as a number that orders
 * exactly as lib/instant does -- nanoseconds and beyond (18 digits), a
 * leap second after 23:59:59.999… and before the next day, any offset,
 * years 0000 to 9999 -- where timestamptz drops the nanoseconds, maps
 * 23:59:60 to the next midnight and refuses year 0000.  Seconds since the
 * epoch in UTC (days by Hinnant's days_from_civil), plus 0.5 in a leap
 * second, plus half the fraction; NULL for text that is no instant.
 * upsert --only-newer compares versions with it in SQL.
 */
#define INSTANT_KEY_SQL \
	"CREATE OR REPLACE FUNCTION apipe_instant_key(t text) RETURNS numeric " \
	"LANGUAGE plpgsql IMMUTABLE STRICT AS $apipe$ " \
	"DECLARE m text[]; y bigint; mo bigint; era bigint; yoe bigint; doy bigint; " \
	"days bigint; s bigint; leap int := 0; off bigint := 0; secs numeric; " \
	"frac numeric := 0; " \
	"BEGIN " \
	"m := regexp_match(t, '^(\\d{4})-(\\d{2})-(\\d{2})(?:[Tt ](\\d{2}):(\\d{2}):(\\d{2})" \
	"(?:\\.(\\d+))?(?:[Zz]|([+-])(\\d{2})(?::?(\\d{2}))?))?$'); " \
	"IF m IS NULL THEN RETURN NULL; END IF; " \
	"mo := m[2]::bigint; y := m[1]::bigint - CASE WHEN mo <= 2 THEN 1 ELSE 0 END; " \
	"era := floor(y / 400.0)::bigint; yoe := y - era * 400; " \
	"doy := (153 * (mo + CASE WHEN mo > 2 THEN -3 ELSE 9 END) + 2) / 5 + m[3]::bigint - 1; " \
	"days := era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468; " \
	"IF m[4] IS NULL THEN RETURN days * 86400; END IF; " \
	"s := m[6]::bigint; IF s = 60 THEN s := 59; leap := 1; END IF; " \
	"IF m[8] IS NOT NULL THEN off := (m[9]::bigint * 3600 + coalesce(m[10], '0')::bigint * 60) " \
	"* CASE WHEN m[8] = '-' THEN -1 ELSE 1 END; END IF; " \
	"IF m[7] IS NOT NULL THEN frac := ('0.' || left(m[7], 18))::numeric; END IF; " \
	"secs := days * 86400 + m[4]::bigint * 3600 + m[5]::bigint * 60 + s - off; " \
	"RETURN secs + leap * 0.5 + frac / 2; " \
	"END $apipe$"

static void pgsql_close(struct db *db);
static int pgsql_query(struct db *db, const char *sql, const char *const *pv, int np, int ncol,
		       int (*row)(void *ctx, const char *const *vals, struct aperr *e), void *ctx,
		       int missing_ok, struct aperr *e);
static int pgsql_defer_create(struct db *db, const char *table, const struct db_column *cols,
			      size_t nkeys, struct aperr *e);
static const char *pgsql_type(enum db_type t);
static const struct dbi_dialect pgsql_dialect = { 1, pgsql_type };

/* ---- PostgreSQL ---- */

static int pgerr(struct db *db, PGresult *res, const char *what, struct aperr *e)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	int code = PQstatus(PG(db)->pg) != CONNECTION_OK ? EX_TEMPFAIL
		 : state && (!strncmp(state, "40", 2) || !strncmp(state, "55P03", 5) ||
			     !strncmp(state, "57", 2) || !strncmp(state, "08", 2)) ? EX_TEMPFAIL
		 : state && !strncmp(state, "42", 2) ? EX_CONFIG
		 : state && !strncmp(state, "22", 2) ? EX_DATAERR : EX_UNAVAILABLE;
	char msg[300];
	size_t l;

	snprintf(msg, sizeof(msg), "%s", PQerrorMessage(PG(db)->pg));
	l = strlen(msg);
	while (l && (msg[l - 1] == '\n' || msg[l - 1] == ' '))
		msg[--l] = '\0';
	PQclear(res);
	return aperr_set(e, code, "%s: %s", what, msg);
}

static int pgsql_exec(struct db *db, const char *sql, const char *what, struct aperr *e)
{
	PGresult *res = PQexec(PG(db)->pg, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		return pgerr(db, res, what, e);
	PQclear(res);
	return 0;
}

struct db *dbpg_open(const char *url, struct aperr *e)
{
	struct db_pg *p = calloc(1, sizeof(*p));
	struct db *db = &p->db;
	struct backoff bo;
	int tries;

	if (!p) {
		aperr_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	db->ops = &dbpg_ops;
	db->counts = 1;
	backoff_init(&bo, 0.4, 3, 0.1);	/* a server starting or restarting */
	bo.jitter = 0.5;
	for (tries = 0;; tries++) {
		PG(db)->pg = PQconnectdb(url);
		if (PG(db)->pg && PQstatus(PG(db)->pg) == CONNECTION_OK)
			break;
		if (tries == 3) {
			char msg[300];
			size_t l;

			snprintf(msg, sizeof(msg), "%s",
				 PG(db)->pg ? PQerrorMessage(PG(db)->pg) : "out of memory");
			l = strlen(msg);
			while (l && (msg[l - 1] == '\n' || msg[l - 1] == ' '))
				msg[--l] = '\0';
			aperr_set(e, EX_TEMPFAIL, "cannot connect to PostgreSQL: %s", msg);
			pgsql_close(db);
			return NULL;
		}
		PQfinish(PG(db)->pg);
		PG(db)->pg = NULL;
		backoff_sleep(backoff_delay(&bo, (unsigned)tries));
	}
	if (pgsql_exec(db, "SET client_min_messages = warning", "SET", e) < 0) {
		pgsql_close(db);
		return NULL;
	}
	return db;
}

static const char *pgsql_type(enum db_type t)
{
	switch (t) {
	case DB_INTEGER: return " bigint";
	case DB_REAL: return " double precision";
	case DB_BOOLEAN: return " boolean";
	case DB_JSON: return " jsonb";
	case DB_TIMESTAMP: return " timestamptz";
	default: return " text";
	}
}

/* The batch path: keys and rows go through temporary tables shaped like the table.  0, or -1. */
static int pgsql_temp_tables(struct db *db, const char *table, const struct db_column *cols,
			     size_t ncols, size_t nkeys, struct aperr *e)
{
	struct strbuf q = STRBUF_INIT;
	size_t i;
	int rc = -1;

	strbuf_addstr(&q, "CREATE TEMP TABLE IF NOT EXISTS apipe_lookup ON COMMIT DELETE ROWS AS "
			  "SELECT 0::bigint AS seq, ");
	dbi_key_list(&q, "", cols, nkeys);
	strbuf_addstr(&q, ", \"record\" FROM ");
	dbi_ident(&q, table);
	strbuf_addstr(&q, " WITH NO DATA");
	if (pgsql_exec(db, q.buf, "CREATE TEMP TABLE", e) < 0)
		goto out;
	strbuf_reset(&q);
	strbuf_addstr(&q, "CREATE TEMP TABLE IF NOT EXISTS apipe_write ON COMMIT DELETE ROWS AS SELECT ");
	for (i = 0; i < ncols; i++) {
		dbi_ident(&q, cols[i].name);
		strbuf_addstr(&q, ", ");
	}
	strbuf_addstr(&q, "\"record\", \"ingested_at\" FROM ");
	dbi_ident(&q, table);
	strbuf_addstr(&q, " WITH NO DATA");
	if (pgsql_exec(db, q.buf, "CREATE TEMP TABLE", e) < 0)
		goto out;
	rc = 0;
out:
	strbuf_release(&q);
	return rc;
}

/* The prepared lookup (FOR UPDATE, in key order) and write (the upsert).  0, or -1 (e). */
static int pgsql_statements(struct db *db, const char *table, const struct db_column *cols,
			    size_t ncols, size_t nkeys, struct aperr *e)
{
	const char *rtype = db->record_type ? db->record_type : "jsonb";
	int jsonb = !strcmp(rtype, "jsonb");
	struct strbuf q = STRBUF_INIT;
	PGresult *res;
	size_t i;
	int rc = -1;

	for (i = 0; i < 2; i++) {
		static const char *const names[] = { "lookup", "write" };
		size_t k;

		strbuf_reset(&q);
		if (i == 0) {
			/* jsonb compares as JSON values; json and text as the bytes they keep */
			/* the stored record crosses the wire only when it is wanted */
			if (db->want_stored)
				strbuf_addstr(&q, jsonb ? "SELECT l.seq, t.\"record\"::text, t.\"record\" = "
						  "l.\"record\" FROM apipe_lookup l JOIN " :
						  "SELECT l.seq, t.\"record\"::text, t.\"record\"::text = "
						  "l.\"record\"::text FROM apipe_lookup l JOIN ");
			else	/* keys only: whether a row is unchanged, the write says */
				strbuf_addstr(&q, "SELECT l.seq, NULL, false FROM apipe_lookup l JOIN ");
			dbi_ident(&q, table);
			strbuf_addstr(&q, " t ON ");
			for (k = 0; k < nkeys; k++) {
				if (k)
					strbuf_addstr(&q, " AND ");
				strbuf_addstr(&q, "t.");
				dbi_ident(&q, cols[k].name);
				strbuf_addstr(&q, " = l.");
				dbi_ident(&q, cols[k].name);
			}
			/*
			 * Lock the stored rows, in key order (no deadlock between writers
			 * of overlapping batches): a concurrent writer waits, then sees
			 * what this one wrote before it decides.
			 */
			strbuf_addstr(&q, " ORDER BY ");
			dbi_key_list(&q, "t.", cols, nkeys);
			strbuf_addstr(&q, " FOR UPDATE OF t");
		} else {
			/*
			 * Without the stored records the client cannot tell an unchanged
			 * row: the update itself leaves an equal one alone (and so its
			 * ingested_at), and RETURNING says which were written.
			 */
			struct strbuf g = STRBUF_INIT;

			if (!db->want_stored) {
				dbi_ident(&g, table);	/* the stored row */
				strbuf_addstr(&g, jsonb ? ".\"record\" IS DISTINCT FROM excluded.\"record\"" :
					      ".\"record\"::text IS DISTINCT FROM excluded.\"record\"::text");
				if (PG(db)->guard) {
					strbuf_addstr(&g, " AND ");
					strbuf_addstr(&g, PG(db)->guard);
				}
			}
			dbi_sql_upsert(&q, table, cols, ncols, nkeys, "apipe_write",
				   g.len ? g.buf : PG(db)->guard);
			strbuf_release(&g);
		}
		res = PQprepare(PG(db)->pg, names[i], q.buf, 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			pgerr(db, res, "prepare", e);
			goto out;
		}
		PQclear(res);
	}
	rc = 0;
out:
	strbuf_release(&q);
	return rc;
}

/* information_schema's data_type of each column type apipe creates. */
static const char *pgsql_data_type(enum db_type t)
{
	switch (t) {
	case DB_INTEGER: return "bigint";
	case DB_REAL: return "double precision";
	case DB_BOOLEAN: return "boolean";
	case DB_JSON: return "jsonb";
	case DB_TIMESTAMP: return "timestamp with time zone";
	default: return "text";
	}
}

/* The JSON types a stored value may have to fill a column of type t (jsonb_typeof). */
static const char *pgsql_fits(enum db_type t)
{
	switch (t) {
	case DB_INTEGER: case DB_REAL: return "'number'";
	case DB_BOOLEAN: return "'boolean'";
	case DB_TIMESTAMP: return "'string'";
	case DB_JSON: return NULL;
	default: return "'string', 'number', 'boolean'";
	}
}

/*
 * Table's column name: 1 with its information_schema data_type in type
 * (replaced), 0 when there is none, -1 (e).
 */
static int pgsql_column_type(struct db *db, const char *table, const char *name,
			     struct strbuf *type, struct aperr *e)
{
	const char *pv[2] = { table, name };
	PGresult *res = PQexecParams(PG(db)->pg, "SELECT data_type FROM information_schema.columns "
				     "WHERE table_name = $1 AND column_name = $2", 2, NULL, pv,
				     NULL, NULL, 0);
	int r;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pgerr(db, res, "information_schema", e);
	r = PQntuples(res) > 0;
	strbuf_reset(type);
	if (r && strbuf_addstr(type, PQgetvalue(res, 0, 0)) < 0)
		r = aperr_set(e, EX_OSERR, "out of memory");
	PQclear(res);
	return r;
}

/* Pointer p as a PostgreSQL text[] literal, '{"a","b"}', quotes and backslashes escaped. */
static void pgsql_path_literal(struct strbuf *path, const struct json_ptr *p)
{
	size_t i, k;

	strbuf_addstr(path, "'{");
	for (i = 0; i < p->nseg; i++) {
		strbuf_addstr(path, i ? ",\"" : "\"");
		for (k = 0; k < p->seg[i].n; k++) {
			char c = p->seg[i].s[k];

			if (c == '"' || c == '\\')
				strbuf_addch(path, '\\');
			if (c == '\'')
				strbuf_addch(path, '\'');
			strbuf_addch(path, c);
		}
		strbuf_addch(path, '"');
	}
	strbuf_addstr(path, "}'");
}

/*
 * As sqlite_evolve, in the caller's transaction under the DDL lock: a
 * missing column is noted, and with apply added and filled from the stored records, each value
 * checked for its JSON type and cast (a value that does not cast aborts
 * the transaction: nothing is rewritten); a column of another type is
 * EX_DATAERR.
 */
static int pgsql_evolve(struct db *db, const char *table, const struct db_column *cols,
			size_t ncols, size_t nkeys, int apply, struct aperr *e)
{
	const char *rec = "\"record\"::jsonb";	/* whatever type keeps it (a no-op for jsonb) */
	const char *rtype = db->record_type ? db->record_type : "jsonb";
	struct strbuf q = STRBUF_INIT, path = STRBUF_INIT, have = STRBUF_INIT;
	PGresult *res;
	size_t i;
	int rc = 0, r;

	/* an existing table keeps its keys and its records as they are: checked before any change */
	for (i = 0; i <= nkeys + 1 && rc == 0; i++) {
		const char *name = i < nkeys ? cols[i].name : i == nkeys ? "record" : "ingested_at";

		r = pgsql_column_type(db, table, name, &have, e);
		if (r < 0)
			rc = -1;
		else if (!r)
			rc = aperr_set(e, EX_CONFIG, "table %s exists without a column %s", table, name);
		else if (i == nkeys && strcmp(have.buf, rtype))
			rc = aperr_set(e, EX_CONFIG, "table %s keeps its records as %s, not %s "
				       "(--record-type)", table, have.buf, rtype);
	}
	for (i = nkeys; i < ncols && rc == 0; i++) {
		const char *fits = pgsql_fits(cols[i].type);

		r = pgsql_column_type(db, table, cols[i].name, &have, e);
		if (r < 0) {
			rc = -1;
			break;
		}
		if (r) {
			const char *ht = have.buf;

			if (cols[i].type != DB_ANY && strcmp(ht, pgsql_data_type(cols[i].type)))
				rc = aperr_set(e, EX_DATAERR, "column %s of %s is %s, not %s: apipe does "
					       "not change a column's type", cols[i].name, table, ht,
					       pgsql_data_type(cols[i].type));
			else
				rc = dbi_column_register(db, table, &cols[i], e);
			continue;
		}
		db->evolve = 1;
		if (!apply)
			continue;	/* checked now, added with the first batch */
		strbuf_reset(&path);
		pgsql_path_literal(&path, &cols[i].ptr);
		strbuf_reset(&q);
		strbuf_addstr(&q, "ALTER TABLE ");
		dbi_ident(&q, table);
		strbuf_addstr(&q, " ADD COLUMN ");
		dbi_ident(&q, cols[i].name);
		strbuf_addstr(&q, pgsql_type(cols[i].type));
		if (pgsql_exec(db, q.buf, "ALTER TABLE", e) < 0) {
			rc = -1;
			break;
		}
		if (fits) {
			/* a stored value of another JSON type: refused before anything is cast */
			strbuf_reset(&q);
			strbuf_addf(&q, "SELECT left(%s::text, 60) FROM ", rec);
			dbi_ident(&q, table);
			strbuf_addf(&q, " WHERE jsonb_typeof(%s #> %s) NOT IN (%s, 'null') LIMIT 1", rec,
				    path.buf, fits);
			res = PQexec(PG(db)->pg, q.buf);
			if (PQresultStatus(res) != PGRES_TUPLES_OK) {
				rc = pgerr(db, res, "backfill", e);
				break;
			}
			if (PQntuples(res)) {
				rc = aperr_set(e, EX_DATAERR, "adding column %s to %s: the stored record "
					       "%s holds a value of another type at %s; nothing was "
					       "changed", cols[i].name, table, PQgetvalue(res, 0, 0),
					       cols[i].ptr.text);
				PQclear(res);
				break;
			}
			PQclear(res);
		}
		strbuf_reset(&q);
		strbuf_addstr(&q, "UPDATE ");
		dbi_ident(&q, table);
		strbuf_addstr(&q, " SET ");
		dbi_ident(&q, cols[i].name);
		if (cols[i].type == DB_JSON)
			strbuf_addf(&q, " = %s #> %s", rec, path.buf);
		else
			strbuf_addf(&q, " = (%s #>> %s)::%s", rec, path.buf, pgsql_type(cols[i].type) + 1);
		if (pgsql_exec(db, q.buf, "backfill", e) < 0 ||
		    dbi_column_register(db, table, &cols[i], e) < 0)
			rc = -1;
	}
	strbuf_release(&q);
	strbuf_release(&path);
	strbuf_release(&have);
	return rc;
}

/* What names the table's columns: the batch's temporary tables and prepared statements. */
static int pgsql_ready(struct db *db, struct aperr *e)
{
	if (pgsql_temp_tables(db, db->table, db->cols, db->ncols, db->nkeys, e) < 0 ||
	    pgsql_exec(db, "DEALLOCATE ALL", "DEALLOCATE", e) < 0)	/* when prepared again */
		return -1;
	return pgsql_statements(db, db->table, db->cols, db->ncols, db->nkeys, e);
}

/* Create or check the table and prepare the statements (db_prepare). */
static int pgsql_prepare(struct db *db, struct aperr *e)
{
	const char *table = db->table;
	const struct db_column *cols = db->cols;
	size_t ncols = db->ncols, nkeys = db->nkeys;
	struct strbuf q = STRBUF_INIT;
	int rc = -1;
	const char *rtype = db->record_type ? db->record_type : "jsonb";
	size_t i;

	/* PostgreSQL cuts a name past 63 bytes without a word: two names could become one */
	if (strlen(table) > 63)
		return aperr_set(e, EX_USAGE, "--table: '%.40s...' is %zu bytes; PostgreSQL cuts names "
				 "past 63, so give a shorter one", table, strlen(table));
	for (i = 0; i < ncols; i++)
		if (cols[i].name && strlen(cols[i].name) > 63)
			return aperr_set(e, EX_USAGE, "column '%.40s...' is %zu bytes; PostgreSQL cuts "
					 "names past 63 (two could become one): name it shorter "
					 "with --column NAME=POINTER", cols[i].name,
					 strlen(cols[i].name));
	dbi_sql_create(&q, &pgsql_dialect, table, cols, ncols, nkeys, rtype);
	/*
	 * CREATE TABLE IF NOT EXISTS is not safe against itself: two first runs
	 * at once both create, and one fails on pg_type's unique index.  One
	 * transaction-scoped advisory lock serialises apipe's DDL.
	 */
	if (pgsql_exec(db, "BEGIN", "BEGIN", e) < 0)
		goto out;
	db->evolve = 0;
	PG(db)->create_pending = 0;
	if (pgsql_exec(db, "SELECT pg_advisory_xact_lock(" PG_DDL_LOCK ")", "lock", e) < 0 ||
	    pgsql_exec(db, DBI_STATE_TABLE_SQL("timestamptz"), "CREATE TABLE", e) < 0 ||
	    pgsql_exec(db, DBI_COLUMNS_TABLE_SQL, "CREATE TABLE", e) < 0 ||
	    pgsql_exec(db, INSTANT_KEY_SQL, "CREATE FUNCTION", e) < 0 ||
	    pgsql_defer_create(db, table, cols, nkeys, e) < 0 ||
	    (!PG(db)->create_pending && (pgsql_exec(db, q.buf, "CREATE TABLE", e) < 0 ||
				     pgsql_evolve(db, table, cols, ncols, nkeys, 0, e) < 0)) ||
	    pgsql_exec(db, "COMMIT", "COMMIT", e) < 0) {
		pgsql_exec(db, "ROLLBACK", "ROLLBACK", &(struct aperr){ 0, "" });
		goto out;
	}
	/* with columns to add, what names them comes with the first batch (db_begin) */
	rc = db->evolve ? 0 : pgsql_ready(db, e);
out:
	strbuf_release(&q);
	return rc;
}

/* In the open transaction: take the DDL lock, add the missing columns, then what names them. */
static int pgsql_evolve_now(struct db *db, struct aperr *e)
{
	if (pgsql_exec(db, "SELECT pg_advisory_xact_lock(" PG_DDL_LOCK ")", "lock", e) < 0)
		return -1;
	if (PG(db)->create_pending)
		return 0;	/* the first rows type the keys: pgsql_create_now */
	if (pgsql_evolve(db, db->table, db->cols, db->ncols, db->nkeys, 1, e) < 0 ||
	    pgsql_ready(db, e) < 0)
		return -1;
	db->evolve = 1;	/* until the commit */
	return 0;
}

static int table_exists(void *ctx, const char *const *v, struct aperr *e)
{
	(void)e;
	*(int *)ctx = !strcmp(v[0], "t");
	return 0;
}

/* Under the DDL lock: is table missing with a key to type from the first rows?  0 or -1. */
static int pgsql_defer_create(struct db *db, const char *table, const struct db_column *cols,
			      size_t nkeys, struct aperr *e)
{
	const char *pv[1] = { table };
	int exists = 0;
	size_t i;

	for (i = 0; i < nkeys && cols[i].type != DB_ANY; i++)
		;
	if (i == nkeys)
		return 0;	/* every key typed by --key */
	if (pgsql_query(db, "SELECT to_regclass(quote_ident($1)) IS NOT NULL", pv, 1, 1, table_exists,
		  &exists, 0, e) < 0)
		return -1;
	if (!exists)
		PG(db)->create_pending = db->evolve = 1;
	return 0;
}

/*
 * The first batch with rows (n of them, in rows or prow): create the table,
 * each untyped key bigint when every value here is an integer, else text,
 * add the columns a concurrent writer's table lacks, and prepare what names
 * them.  In the open transaction, under the DDL lock.  0, or -1 (e).
 */
static int pgsql_create_now(struct db *db, const struct db_row *rows,
			    struct db_row *const *prow, size_t n, struct aperr *e)
{
	const char *rtype = db->record_type ? db->record_type : "jsonb";
	struct db_column *cols = calloc(db->ncols, sizeof(*cols));
	struct strbuf q = STRBUF_INIT;
	size_t i, k;
	int rc = -1;

	if (!cols)
		return aperr_set(e, EX_OSERR, "out of memory");
	memcpy(cols, db->cols, db->ncols * sizeof(*cols));
	for (k = 0; k < db->nkeys; k++) {
		int ints = 1;

		if (cols[k].type != DB_ANY)
			continue;
		for (i = 0; i < n && ints; i++) {
			const struct db_value *v = &(rows ? &rows[i] : prow[i])->vals[k];

			ints = !v->null && v->kind == DBV_INT;
		}
		cols[k].type = ints ? DB_INTEGER : DB_TEXT;
		if (db->log) {
			char msg[200];

			snprintf(msg, sizeof(msg), "key %s of the new table %s: %s, as %s key of the "
				 "first batch is %s", cols[k].name, db->table, ints ? "bigint" : "text",
				 ints ? "every" : "a", ints ? "an integer" : "not an integer");
			db->log(db->log_ctx, msg);
		}
	}
	dbi_sql_create(&q, &pgsql_dialect, db->table, cols, db->ncols, db->nkeys, rtype);
	if (pgsql_exec(db, q.buf, "CREATE TABLE", e) == 0 &&
	    pgsql_evolve(db, db->table, db->cols, db->ncols, db->nkeys, 1, e) == 0 &&
	    pgsql_ready(db, e) == 0) {
		PG(db)->created = 1;	/* kept at the commit */
		rc = 0;
	}
	strbuf_release(&q);
	free(cols);
	return rc;
}

/* A value as libpq text: integers and reals printed, booleans as t/f. */
static const char *pgsql_text(const struct db_value *v, enum db_type t, char *buf, size_t n)
{
	if (v->null)
		return NULL;
	if (v->kind == DBV_INT) {
		if (t == DB_BOOLEAN)
			return v->i ? "t" : "f";
		snprintf(buf, n, "%lld", (long long)v->i);
		return buf;
	}
	if (v->kind == DBV_REAL) {
		snprintf(buf, n, "%.17g", v->r);
		return buf;
	}
	return v->s.buf;
}

static int pgsql_state_get(struct db *db, const char *name, struct strbuf *value, struct aperr *e)
{
	const char *pv[1] = { name };
	PGresult *res = PQexecParams(PG(db)->pg, "SELECT value FROM apipe_state WHERE name = $1", 1,
				     NULL, pv, NULL, NULL, 0);
	int found;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		if (state && !strcmp(state, "42P01")) {	/* no such table: no watermark */
			PQclear(res);
			return 0;
		}
		return pgerr(db, res, "SELECT", e);
	}
	found = PQntuples(res) > 0;
	if (found) {
		strbuf_reset(value);
		strbuf_add(value, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
	}
	PQclear(res);
	return found;
}

static int pgsql_state_put(struct db *db, const char *name, const char *value,
			   const char *updated_at, struct aperr *e)
{
	const char *pv[3] = { name, value, updated_at };
	PGresult *res = PQexecParams(PG(db)->pg, "INSERT INTO apipe_state (name, value, updated_at) "
				     "VALUES ($1, $2, $3::timestamptz) ON CONFLICT (name) DO UPDATE "
				     "SET value = excluded.value, updated_at = excluded.updated_at",
				     3, NULL, pv, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pgerr(db, res, "INSERT INTO apipe_state", e);
	PQclear(res);
	return 0;
}

/* One field of COPY's text format: \N for NULL, backslash escapes. */
static void copy_field(struct strbuf *o, const char *s, size_t n)
{
	size_t i;

	if (!s) {
		strbuf_addstr(o, "\\N");
		return;
	}
	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '\\': strbuf_addstr(o, "\\\\"); break;
		case '\t': strbuf_addstr(o, "\\t"); break;
		case '\n': strbuf_addstr(o, "\\n"); break;
		case '\r': strbuf_addstr(o, "\\r"); break;
		default: strbuf_addch(o, s[i]);
		}
	}
}

static void copy_value(struct strbuf *o, const struct db_value *v, enum db_type t)
{
	char buf[32];
	const char *s = pgsql_text(v, t, buf, sizeof(buf));

	copy_field(o, s, s == v->s.buf ? v->s.len : s ? strlen(s) : 0);
}

/* COPY data into table (columns as given) from o. */
static int pgsql_copy(struct db *db, const char *sql, const struct strbuf *o, struct aperr *e)
{
	PGresult *res = PQexec(PG(db)->pg, sql);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_COPY_IN)
		return pgerr(db, res, "COPY", e);
	PQclear(res);
	if ((o->len && PQputCopyData(PG(db)->pg, o->buf, (int)o->len) != 1) ||
	    PQputCopyEnd(PG(db)->pg, NULL) != 1)
		rc = aperr_set(e, EX_TEMPFAIL, "COPY: %s", PQerrorMessage(PG(db)->pg));
	while ((res = PQgetResult(PG(db)->pg))) {
		if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK) {
			rc = pgerr(db, res, "COPY", e);
			continue;
		}
		PQclear(res);
	}
	return rc;
}


/* db_set_newer: the guard of the ON CONFLICT update, then the statements again. */
static int pgsql_set_newer(struct db *db, const struct json_ptr *p, const char *cast,
			   struct aperr *e)
{
	struct strbuf g = STRBUF_INIT, path = STRBUF_INIT, t = STRBUF_INIT;
	int r;

	if (PG(db)->guard)
		return 0;
	pgsql_path_literal(&path, p);
	dbi_ident(&t, db->table);
	{
		/* the record as json(b), whatever column type keeps it */
		int text = db->record_type && !strcmp(db->record_type, "text");
		struct strbuf old = STRBUF_INIT, neu = STRBUF_INIT;
		const char *ty = cast ? cast : "text";

		strbuf_addf(&old, text ? "(%s.\"record\"::jsonb #>> %s)" : "(%s.\"record\" #>> %s)",
			    t.buf, path.buf);
		strbuf_addf(&neu, text ? "(excluded.\"record\"::jsonb #>> %s)" :
				   "(excluded.\"record\" #>> %s)", path.buf);
		/* absent on either side: not older (as upsert decides); else stored <= new */
		if (cast && !strcmp(cast, "timestamptz"))	/* exactly, as the program orders */
			strbuf_addf(&g, "(%s IS NULL OR %s IS NULL OR apipe_instant_key(%s) <= "
				    "apipe_instant_key(%s))", old.buf, neu.buf, old.buf, neu.buf);
		else
			strbuf_addf(&g, "(%s IS NULL OR %s IS NULL OR %s::%s%s <= %s::%s%s)", old.buf,
				    neu.buf, old.buf, ty, cast ? "" : " COLLATE \"C\"", neu.buf, ty,
				    cast ? "" : " COLLATE \"C\"");
		strbuf_release(&old);
		strbuf_release(&neu);
	}
	strbuf_release(&path);
	strbuf_release(&t);
	if (strbuf_failed(&g)) {
		strbuf_release(&g);
		return aperr_set(e, EX_OSERR, "out of memory");
	}
	PG(db)->guard = strbuf_detach(&g, NULL);
	r = pgsql_prepare(db, e);
	return r;
}

static void pgsql_close(struct db *db)
{
	PQfinish(PG(db)->pg);
	free(PG(db)->guard);
	free(PG(db));
}

/* After a lost connection: connect again and prepare the statements again. */
static int pgsql_reconnect(struct db *db, struct aperr *e)
{
	if (PQstatus(PG(db)->pg) == CONNECTION_OK)
		return 0;
	PQreset(PG(db)->pg);
	if (PQstatus(PG(db)->pg) != CONNECTION_OK)
		return aperr_set(e, EX_TEMPFAIL, "cannot reconnect to PostgreSQL");
	if (pgsql_exec(db, "SET client_min_messages = warning", "SET", e) < 0)
		return -1;
	return db->table ? pgsql_prepare(db, e) : 0;
}

static void pgsql_rollback(struct db *db)
{
	PQclear(PQexec(PG(db)->pg, "ROLLBACK"));
	if (db->evolved)	/* statements naming columns that are gone again */
		PQclear(PQexec(PG(db)->pg, "DEALLOCATE ALL"));
	db->evolved = PG(db)->created = 0;
}

static int pgsql_begin(struct db *db, struct aperr *e)
{
	int r = pgsql_exec(db, "BEGIN", "BEGIN", e);

	if (r < 0 || !db->evolve)
		return r;
	/* the columns the table lacks, in this batch's transaction */
	db->evolved = 1;
	if (pgsql_evolve_now(db, e) < 0) {
		pgsql_rollback(db);
		return -1;
	}
	return 0;
}

static int pgsql_commit(struct db *db, struct aperr *e)
{
	PGresult *res = PQexec(PG(db)->pg, "COMMIT");
	int r = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		r = pgerr(db, res, "COMMIT", e);
	} else {
		/* a transaction a failed statement aborted answers COMMIT with ROLLBACK */
		if (strcmp(PQcmdStatus(res), "COMMIT"))
			r = aperr_set(e, EX_SOFTWARE, "COMMIT: the transaction was aborted (%s)",
				      PQcmdStatus(res));
		PQclear(res);
	}

	if (r == 0 && PG(db)->created)
		PG(db)->create_pending = 0;
	if (r == 0 && db->evolved && !PG(db)->create_pending)
		db->evolve = db->evolved = 0;
	PG(db)->created = 0;
	return r;
}

static int pgsql_lookup(struct db *db, struct db_row *rows, size_t n, struct aperr *e)
{
	struct strbuf o = STRBUF_INIT;
	PGresult *res;
	size_t i, k;
	int r;

	if (PG(db)->create_pending && !PG(db)->created && n &&
	    pgsql_create_now(db, rows, NULL, n, e) < 0)
		return -1;
	/*
	 * Without a version to compare, the database decides alone: the write
	 * inserts, updates a row that differs and leaves an equal one (its
	 * guard), and RETURNING says which; a lookup would only cost a COPY,
	 * an ANALYZE and a join per batch.  Every row goes as if new.
	 */
	if (!db->want_stored)
		return 0;
	strbuf_init(&o, (size_t)-1);
	for (i = 0; i < n; i++) {
		strbuf_addf(&o, "%zu", i);
		for (k = 0; k < db->nkeys; k++) {
			strbuf_addch(&o, '\t');
			copy_value(&o, &rows[i].vals[k], db->cols[k].type);
		}
		strbuf_addch(&o, '\t');
		if (db->want_stored)
			copy_field(&o, rows[i].rec, rows[i].n);
		else
			strbuf_addstr(&o, "\\N");	/* keys only: the record is not compared here */
		strbuf_addch(&o, '\n');
	}
	r = pgsql_copy(db, "COPY apipe_lookup FROM STDIN", &o, e);
	strbuf_release(&o);
	/* a temporary table has no statistics: without them the join is planned blind */
	if (r < 0 || pgsql_exec(db, "ANALYZE apipe_lookup", "ANALYZE", e) < 0)
		return -1;
	res = PQexecPrepared(PG(db)->pg, "lookup", 0, NULL, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pgerr(db, res, "SELECT", e);
	for (k = 0; k < (size_t)PQntuples(res); k++) {
		i = strtoul(PQgetvalue(res, (int)k, 0), NULL, 10);
		if (i >= n)
			continue;
		rows[i].found = 1;
		strbuf_add(&rows[i].stored, PQgetvalue(res, (int)k, 1),
			   (size_t)PQgetlength(res, (int)k, 1));
		rows[i].same = !strcmp(PQgetvalue(res, (int)k, 2), "t");
	}
	PQclear(res);
	return 0;	/* apipe_lookup empties itself at the end of the transaction */
}

static int pgsql_write(struct db *db, struct db_row *const *rows, size_t n,
		       const char *ingested_at, struct aperr *e)
{
	struct strbuf o = STRBUF_INIT;
	size_t i, k;
	int r;

	db->last_inserted = db->last_updated = 0;
	if (!n)
		return 0;
	if (PG(db)->create_pending && !PG(db)->created && pgsql_create_now(db, NULL, rows, n, e) < 0)
		return -1;
	strbuf_init(&o, (size_t)-1);
	for (i = 0; i < n; i++) {
		for (k = 0; k < db->ncols; k++) {
			copy_value(&o, &rows[i]->vals[k], db->cols[k].type);
			strbuf_addch(&o, '\t');
		}
		copy_field(&o, rows[i]->rec, rows[i]->n);
		strbuf_addch(&o, '\t');
		copy_field(&o, ingested_at, strlen(ingested_at));
		strbuf_addch(&o, '\n');
	}
	r = pgsql_copy(db, "COPY apipe_write FROM STDIN", &o, e);
	strbuf_release(&o);
	if (r < 0)
		return -1;
	{
		PGresult *res = PQexecPrepared(PG(db)->pg, "write", 0, NULL, NULL, NULL, 0);
		int t;

		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			return pgerr(db, res, "INSERT", e);
		/* what really happened: a row per insert or update, none where the guard said no */
		for (t = 0; t < PQntuples(res); t++) {
			if (PQgetvalue(res, t, 0)[0] == 't')
				db->last_inserted++;
			else
				db->last_updated++;
		}
		PQclear(res);
	}
	return 0;	/* apipe_write empties itself at the end of the transaction (no TRUNCATE,
			 * which gives a temporary table a new file every batch) */
}

/* db_ops.query: parameters as text ($1…$np). */
static int pgsql_query(struct db *db, const char *sql, const char *const *pv, int np, int ncol,
		       int (*row)(void *ctx, const char *const *vals, struct aperr *e), void *ctx,
		       int missing_ok, struct aperr *e)
{
	const char *vals[DBI_QUERY_COLS];
	PGresult *res;
	int i, r, n, rc = 0;

	if (ncol > DBI_QUERY_COLS)
		return aperr_set(e, EX_SOFTWARE, "query: %d columns", ncol);
	res = PQexecParams(PG(db)->pg, sql, np, NULL, pv, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK) {
		const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		if (missing_ok && st && !strcmp(st, "42P01")) {
			PQclear(res);
			return 0;
		}
		return pgerr(db, res, "SELECT", e);
	}
	n = PQntuples(res);
	for (r = 0; r < n && rc == 0 && row; r++) {
		for (i = 0; i < ncol; i++)
			vals[i] = PQgetvalue(res, r, i);
		rc = row(ctx, vals, e);
	}
	PQclear(res);
	return rc;
}

/* The advisory lock on one apipe_state row, held to the end of the transaction. */
static int pgsql_state_lock(struct db *db, const char *name, struct aperr *e)
{
	const char *pv[1] = { name };
	PGresult *res;

	res = PQexecParams(PG(db)->pg, "SELECT pg_advisory_xact_lock(" PG_STATE_LOCK ", hashtext($1))",
			   1, NULL, pv, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pgerr(db, res, "lock", e);
	PQclear(res);
	return 0;
}

/* One --replace of a table at a time: a session advisory lock, held to the end of the run. */
static int pgsql_replace_lock(struct db *db, const char *table, struct aperr *e)
{
	const char *pv[1] = { table };
	PGresult *res;
	int got;

	res = PQexecParams(PG(db)->pg, "SELECT pg_try_advisory_lock(" PG_REPLACE_LOCK ", hashtext($1))",
			   1, NULL, pv, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pgerr(db, res, "lock", e);
	got = !strcmp(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	if (!got)
		return aperr_set(e, EX_TEMPFAIL, "another upsert --replace of %s is running (replacing "
				 "waits for no one: run it again after)", table);
	return 0;
}

const struct db_ops dbpg_ops = {
	"PostgreSQL", pgsql_prepare, pgsql_set_newer, pgsql_reconnect, pgsql_begin,
	pgsql_commit, pgsql_rollback, pgsql_lookup, pgsql_write, pgsql_state_get, pgsql_state_put,
	pgsql_state_lock, pgsql_query, pgsql_replace_lock, pgsql_close
};
