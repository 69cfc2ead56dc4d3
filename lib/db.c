#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "db.h"
#include "instant.h"
#include "num.h"

struct db {
	sqlite3 *h;
	sqlite3_stmt *find, *put, *begin, *commit, *rollback, *sget, *sput;
	size_t ncols, nkeys;
};

static const char *const type_names[] = {
	"any", "text", "integer", "real", "boolean", "json", "timestamp"
};

int db_type_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(type_names) / sizeof(*type_names); i++)
		if (!strcasecmp(name, type_names[i]))
			return (int)i;
	return -1;
}

const char *db_type_name(enum db_type t)
{
	return (unsigned)t < sizeof(type_names) / sizeof(*type_names) ? type_names[t] : "?";
}

void db_value_init(struct db_value *v)
{
	memset(v, 0, sizeof(*v));
	strbuf_init(&v->s, 0);
}

void db_value_release(struct db_value *v)
{
	strbuf_release(&v->s);
}

static int text_of(const struct json_doc *d, uint32_t t, struct db_value *v)
{
	v->kind = DBV_TEXT;
	if (json_type(d, t) == JSON_STRING)
		return json_str_decode(d, t, &v->s);
	return json_minify(d, t, &v->s);
}

int db_value_from_json(const struct db_column *col, const struct json_doc *d, uint32_t root,
		       struct db_value *v, struct aperr *e)
{
	uint32_t t = json_ptr_eval(&col->ptr, d, root);
	enum json_type jt;
	struct instant when;
	char buf[64];

	strbuf_reset(&v->s);
	v->null = 0;
	if (t == JSON_ABSENT || json_type(d, t) == JSON_NULL) {
		v->null = 1;
		return 0;
	}
	jt = json_type(d, t);
	switch (col->type) {
	case DB_ANY:
		if (jt == JSON_NUMBER && num_to_i64(json_src(d, t), json_srclen(d, t), &v->i) == 0 &&
		    !memchr(json_src(d, t), '.', json_srclen(d, t)) &&
		    !memchr(json_src(d, t), 'e', json_srclen(d, t)) &&
		    !memchr(json_src(d, t), 'E', json_srclen(d, t))) {
			v->kind = DBV_INT;
			return 0;
		}
		if (jt == JSON_TRUE || jt == JSON_FALSE) {
			v->kind = DBV_INT;
			v->i = jt == JSON_TRUE;
			return 0;
		}
		return text_of(d, t, v);
	case DB_TEXT:
		if (jt == JSON_OBJECT || jt == JSON_ARRAY)
			break;
		return text_of(d, t, v);
	case DB_JSON:
		v->kind = DBV_TEXT;
		return json_minify(d, t, &v->s);
	case DB_INTEGER:
		if (jt != JSON_NUMBER || num_to_i64(json_src(d, t), json_srclen(d, t), &v->i) < 0)
			break;
		v->kind = DBV_INT;
		return 0;
	case DB_REAL:
		if (jt != JSON_NUMBER)
			break;
		v->kind = DBV_REAL;
		v->r = strtod(json_src(d, t), NULL);
		return 0;
	case DB_BOOLEAN:
		if (jt != JSON_TRUE && jt != JSON_FALSE)
			break;
		v->kind = DBV_INT;
		v->i = jt == JSON_TRUE;
		return 0;
	case DB_TIMESTAMP:
		if (jt != JSON_STRING || json_str_decode(d, t, &v->s) < 0 || !v->s.buf ||
		    instant_parse(v->s.buf, v->s.len, 1, &when) < 0)
			break;
		instant_format(&when, buf, sizeof(buf));
		strbuf_reset(&v->s);
		strbuf_addstr(&v->s, buf);
		v->kind = DBV_TEXT;
		return 0;
	}
	{
		char shown[48];
		size_t n = json_srclen(d, t) < 40 ? json_srclen(d, t) : 40;

		memcpy(shown, json_src(d, t), n);
		strcpy(shown + n, json_srclen(d, t) > 40 ? "..." : "");
		return aperr_set(e, EX_DATAERR, "%s does not fit column %s (%s)", shown, col->name,
				 db_type_name(col->type));
	}
}

/* ---- SQLite ---- */

static int sqlerr(struct db *db, struct aperr *e, const char *what)
{
	int rc = sqlite3_extended_errcode(db->h);
	int code = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED ? EX_TEMPFAIL
		 : (rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR ? EX_IOERR
		 : (rc & 0xff) == SQLITE_CANTOPEN ? EX_CANTCREAT : EX_UNAVAILABLE;

	return aperr_set(e, code, "%s: %s", what, sqlite3_errmsg(db->h));
}

static int exec(struct db *db, const char *sql, struct aperr *e)
{
	if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sqlerr(db, e, sql);
	return 0;
}

static int prep(struct db *db, const char *sql, sqlite3_stmt **st, struct aperr *e)
{
	if (sqlite3_prepare_v2(db->h, sql, -1, st, NULL) != SQLITE_OK)
		return sqlerr(db, e, "prepare");
	return 0;
}

/* A quoted SQL identifier. */
static void ident(struct strbuf *o, const char *name)
{
	strbuf_addch(o, '"');
	for (; *name; name++) {
		if (*name == '"')
			strbuf_addch(o, '"');
		strbuf_addch(o, *name);
	}
	strbuf_addch(o, '"');
}

struct db *db_open(const char *url, struct aperr *e)
{
	struct db *db;
	const char *path = url;

	if (!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11)) {
		aperr_set(e, EX_CONFIG, "%s: the PostgreSQL sink is not built yet; use SQLite", url);
		return NULL;
	}
	if (!strncmp(url, "sqlite:", 7))
		path = url + 7;
	db = calloc(1, sizeof(*db));
	if (!db) {
		aperr_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
						  SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		aperr_set(e, EX_CANTCREAT, "%s: %s", path,
			  db->h ? sqlite3_errmsg(db->h) : "cannot open");
		db_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db->h, 30000);
	if (exec(db, "PRAGMA journal_mode=WAL", e) < 0 ||
	    exec(db, "PRAGMA synchronous=FULL", e) < 0 ||
	    prep(db, "BEGIN IMMEDIATE", &db->begin, e) < 0 || prep(db, "COMMIT", &db->commit, e) < 0 ||
	    prep(db, "ROLLBACK", &db->rollback, e) < 0) {
		aperr_prefix(e, "%s", path);
		db_close(db);
		return NULL;
	}
	return db;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	sqlite3_finalize(db->find);
	sqlite3_finalize(db->put);
	sqlite3_finalize(db->begin);
	sqlite3_finalize(db->commit);
	sqlite3_finalize(db->rollback);
	sqlite3_finalize(db->sget);
	sqlite3_finalize(db->sput);
	sqlite3_close(db->h);
	free(db);
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

/* Does table have every column it needs?  0 or -1 (EX_CONFIG naming the missing one). */
static int check_columns(struct db *db, const char *table, const struct db_column *cols,
			 size_t ncols, struct aperr *e)
{
	struct strbuf q = STRBUF_INIT;
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc = 0;

	strbuf_addstr(&q, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?");
	if (prep(db, q.buf, &st, e) < 0) {
		strbuf_release(&q);
		return -1;
	}
	for (i = 0; i <= ncols + 1 && rc == 0; i++) {
		const char *name = i < ncols ? cols[i].name : i == ncols ? "record" : "ingested_at";

		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW)
			rc = aperr_set(e, EX_CONFIG, "table %s exists without a column %s", table, name);
	}
	sqlite3_finalize(st);
	strbuf_release(&q);
	return rc;
}

int db_prepare(struct db *db, const char *table, const struct db_column *cols, size_t ncols,
	       size_t nkeys, struct aperr *e)
{
	struct strbuf q = STRBUF_INIT;
	size_t i;
	int rc = -1;

	db->ncols = ncols;
	db->nkeys = nkeys;
	strbuf_addstr(&q, "CREATE TABLE IF NOT EXISTS ");
	ident(&q, table);
	strbuf_addstr(&q, " (");
	for (i = 0; i < ncols; i++) {
		ident(&q, cols[i].name);
		strbuf_addstr(&q, sql_type(cols[i].type));
		strbuf_addstr(&q, i < nkeys ? " NOT NULL, " : ", ");
	}
	strbuf_addstr(&q, "\"record\" TEXT NOT NULL, \"ingested_at\" TEXT NOT NULL, PRIMARY KEY (");
	for (i = 0; i < nkeys; i++) {
		if (i)
			strbuf_addstr(&q, ", ");
		ident(&q, cols[i].name);
	}
	strbuf_addstr(&q, "))");
	if (exec(db, q.buf, e) < 0 ||
	    exec(db, "CREATE TABLE IF NOT EXISTS apipe_state (name TEXT PRIMARY KEY, "
		     "value TEXT NOT NULL, updated_at TEXT NOT NULL)", e) < 0 ||
	    check_columns(db, table, cols, ncols, e) < 0)
		goto out;
	strbuf_reset(&q);
	strbuf_addstr(&q, "SELECT \"record\" FROM ");
	ident(&q, table);
	for (i = 0; i < nkeys; i++) {
		strbuf_addstr(&q, i ? " AND " : " WHERE ");
		ident(&q, cols[i].name);
		strbuf_addf(&q, " = ?%zu", i + 1);
	}
	if (prep(db, q.buf, &db->find, e) < 0)
		goto out;
	strbuf_reset(&q);
	strbuf_addstr(&q, "INSERT INTO ");
	ident(&q, table);
	strbuf_addstr(&q, " (");
	for (i = 0; i < ncols; i++) {
		ident(&q, cols[i].name);
		strbuf_addstr(&q, ", ");
	}
	strbuf_addstr(&q, "\"record\", \"ingested_at\") VALUES (");
	for (i = 0; i < ncols + 2; i++)
		strbuf_addf(&q, "%s?%zu", i ? ", " : "", i + 1);
	strbuf_addstr(&q, ") ON CONFLICT (");
	for (i = 0; i < nkeys; i++) {
		if (i)
			strbuf_addstr(&q, ", ");
		ident(&q, cols[i].name);
	}
	strbuf_addstr(&q, ") DO UPDATE SET ");
	for (i = nkeys; i < ncols; i++) {
		ident(&q, cols[i].name);
		strbuf_addstr(&q, " = excluded.");
		ident(&q, cols[i].name);
		strbuf_addstr(&q, ", ");
	}
	strbuf_addstr(&q, "\"record\" = excluded.\"record\", \"ingested_at\" = excluded.\"ingested_at\"");
	if (prep(db, q.buf, &db->put, e) < 0 ||
	    prep(db, "INSERT INTO apipe_state (name, value, updated_at) VALUES (?1, ?2, ?3) "
		     "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
		     "updated_at = excluded.updated_at", &db->sput, e) < 0)
		goto out;
	rc = 0;
out:
	strbuf_release(&q);
	return rc;
}

static int step_done(struct db *db, sqlite3_stmt *st, const char *what, struct aperr *e)
{
	int r = sqlite3_step(st);

	sqlite3_reset(st);
	if (r != SQLITE_DONE && r != SQLITE_ROW)
		return sqlerr(db, e, what);
	return 0;
}

int db_begin(struct db *db, struct aperr *e)
{
	return step_done(db, db->begin, "BEGIN", e);
}

int db_commit(struct db *db, struct aperr *e)
{
	return step_done(db, db->commit, "COMMIT", e);
}

void db_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->h)) {
		sqlite3_step(db->rollback);
		sqlite3_reset(db->rollback);
	}
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
		sqlite3_bind_text(st, i, v->s.buf ? v->s.buf : "", (int)v->s.len, SQLITE_STATIC);
}

int db_find(struct db *db, const struct db_value *keys, struct strbuf *record, struct aperr *e)
{
	size_t i;
	int r;

	sqlite3_reset(db->find);
	for (i = 0; i < db->nkeys; i++)
		bind(db->find, (int)i + 1, &keys[i]);
	r = sqlite3_step(db->find);
	if (r == SQLITE_ROW) {
		strbuf_reset(record);
		strbuf_add(record, sqlite3_column_text(db->find, 0),
			   (size_t)sqlite3_column_bytes(db->find, 0));
		sqlite3_reset(db->find);
		return 1;
	}
	sqlite3_reset(db->find);
	return r == SQLITE_DONE ? 0 : sqlerr(db, e, "SELECT");
}

int db_put(struct db *db, const struct db_value *vals, const char *record, size_t n,
	   const char *ingested_at, struct aperr *e)
{
	size_t i;

	for (i = 0; i < db->ncols; i++)
		bind(db->put, (int)i + 1, &vals[i]);
	sqlite3_bind_text(db->put, (int)db->ncols + 1, record, (int)n, SQLITE_STATIC);
	sqlite3_bind_text(db->put, (int)db->ncols + 2, ingested_at, -1, SQLITE_STATIC);
	return step_done(db, db->put, "INSERT", e);
}

int db_state_get(struct db *db, const char *name, struct strbuf *value, struct aperr *e)
{
	int r;

	if (!db->sget && sqlite3_prepare_v2(db->h, "SELECT value FROM apipe_state WHERE name = ?1",
					    -1, &db->sget, NULL) != SQLITE_OK) {
		if (strstr(sqlite3_errmsg(db->h), "no such table"))
			return 0;
		return sqlerr(db, e, "prepare");
	}
	sqlite3_reset(db->sget);
	sqlite3_bind_text(db->sget, 1, name, -1, SQLITE_STATIC);
	r = sqlite3_step(db->sget);
	if (r == SQLITE_ROW) {
		strbuf_reset(value);
		strbuf_add(value, sqlite3_column_text(db->sget, 0),
			   (size_t)sqlite3_column_bytes(db->sget, 0));
		sqlite3_reset(db->sget);
		return 1;
	}
	sqlite3_reset(db->sget);
	return r == SQLITE_DONE ? 0 : sqlerr(db, e, "SELECT");
}

int db_state_put(struct db *db, const char *name, const char *value, const char *updated_at,
		 struct aperr *e)
{
	sqlite3_bind_text(db->sput, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(db->sput, 2, value, -1, SQLITE_STATIC);
	sqlite3_bind_text(db->sput, 3, updated_at, -1, SQLITE_STATIC);
	return step_done(db, db->sput, "INSERT INTO apipe_state", e);
}
