#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sqlite3.h>
#include <libpq-fe.h>

#include "backoff.h"
#include "db.h"
#include "instant.h"
#include "num.h"

struct db {
	PGconn *pg;			/* PostgreSQL, or else SQLite: */
	sqlite3 *h;
	sqlite3_stmt *find, *put, *begin, *commit, *rollback, *sget, *sput;
	size_t ncols, nkeys;
	const struct db_column *cols;
	char *table;
	char *guard;			/* PostgreSQL: the ON CONFLICT update's WHERE, or NULL */
	const char *record_type;	/* PostgreSQL: "jsonb" (default), "json" or "text" */
	uint64_t last_inserted, last_updated;	/* PostgreSQL: what the last db_write did */
	int want_stored;		/* PostgreSQL: db_lookup returns the stored records */
	/*
	 * Columns asked for that the table lacks: added, and filled from the
	 * stored records, in the transaction of the first batch (evolved: in
	 * the open one; a rollback takes them back, and the statements that
	 * named them).
	 */
	int evolve, evolved;
	/*
	 * PostgreSQL: the table is missing and a key column untyped: it is
	 * created in the first batch that has rows, each such key bigint when
	 * every value of that batch is an integer, else text (created: in the
	 * open transaction).
	 */
	int create_pending, created;
	void (*log)(void *ctx, const char *msg);
	void *log_ctx;
};

static struct db *pgsql_open(const char *url, struct aperr *e);
static int pgsql_prepare(struct db *db, const char *table, const struct db_column *cols,
			 size_t ncols, size_t nkeys, struct aperr *e);
static int pgsql_exec(struct db *db, const char *sql, const char *what, struct aperr *e);
static int pgsql_state_get(struct db *db, const char *name, struct strbuf *value, struct aperr *e);
static int pgsql_state_put(struct db *db, const char *name, const char *value,
			   const char *updated_at, struct aperr *e);
static int column_register(struct db *db, const char *table, const struct db_column *col,
			   struct aperr *e);
static int query(struct db *db, const char *sql, const char *const *pv, int np, int ncol,
		 int (*row)(void *ctx, const char *const *vals, struct aperr *e), void *ctx,
		 int missing_ok, struct aperr *e);
static int pgsql_defer_create(struct db *db, const char *table, const struct db_column *cols,
			      size_t nkeys, struct aperr *e);

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

int db_column_parse(struct db_column *c, const char *arg, int typed, struct aperr *e)
{
	char *copy = strdup(arg), *eq, *ptr, *colon;
	int t = DB_ANY;
	size_t i;

	memset(c, 0, sizeof(*c));
	if (!copy)
		return aperr_set(e, EX_OSERR, "out of memory");
	eq = copy[0] == '/' ? NULL : strchr(copy, '=');
	ptr = eq ? eq + 1 : copy;
	colon = typed ? strrchr(ptr, ':') : NULL;
	if (colon && typed == 2 && db_type_parse(colon + 1) < 0)
		colon = NULL;	/* not a type: the ':' is the pointer's */
	if (colon) {
		t = db_type_parse(colon + 1);
		if (t < 0) {
			aperr_set(e, EX_USAGE, "%s: '%s' is not text, integer, real, boolean, json "
				  "or timestamp", arg, colon + 1);
			free(copy);
			return -1;
		}
		*colon = '\0';
	}
	if (json_ptr_parse(&c->ptr, ptr, e) < 0) {
		aperr_prefix(e, "%s", arg);	/* never e->msg formatted into itself */
		e->code = EX_USAGE;
		free(copy);
		return -1;
	}
	if (eq) {
		*eq = '\0';
		c->name = strdup(copy);
	} else {
		/* a name from the pointer: its reference tokens joined by "_" */
		struct strbuf n = STRBUF_INIT;

		for (i = 0; i < c->ptr.nseg; i++) {
			if (i)
				strbuf_addch(&n, '_');
			strbuf_add(&n, c->ptr.seg[i].s, c->ptr.seg[i].n);
		}
		c->name = strbuf_detach(&n, NULL);
	}
	free(copy);
	if (!c->name || !*c->name) {
		json_ptr_release(&c->ptr);
		free(c->name);
		c->name = NULL;
		return aperr_set(e, EX_USAGE, "%s: no column name", arg);
	}
	c->type = (enum db_type)t;
	return 0;
}

int db_column_member(struct db_column *c, const char *name, size_t nl, enum db_type t,
		     struct aperr *e)
{
	struct strbuf p = STRBUF_INIT;

	memset(c, 0, sizeof(*c));
	if (memchr(name, '\0', nl))
		return aperr_set(e, EX_CONFIG, "property %.*s cannot be a column", (int)nl, name);
	if (json_ptr_append(&p, name, nl) < 0 || !(c->name = strndup(name, nl)) ||
	    json_ptr_parse(&c->ptr, p.buf, e) < 0) {
		free(c->name);
		c->name = NULL;
		strbuf_release(&p);
		return aperr_set(e, EX_OSERR, "out of memory");
	}
	strbuf_release(&p);
	c->type = t;
	return 0;
}

/* A schema's "type" (string or list) and "format" as a column type; -1: none usable. */
static int schema_type(const struct json_doc *d, uint32_t s)
{
	uint32_t ty = json_get(d, s, "type", 4), f = json_get(d, s, "format", 6), i;
	const char *only = NULL;
	size_t onlyn = 0, others = 0;

	if (!ty)
		return DB_ANY;	/* no type (an enum, a const, anything): the records say */
	if (json_type(d, ty) == JSON_STRING) {
		only = json_src(d, ty) + 1;
		onlyn = json_srclen(d, ty) - 2;
		others = 1;
	} else if (json_type(d, ty) == JSON_ARRAY) {
		for (i = json_first(d, ty); i; i = json_next(d, ty, i)) {
			if (json_type(d, i) != JSON_STRING)
				return -1;
			if (json_str_eq(d, i, "null", 4))
				continue;
			only = json_src(d, i) + 1;
			onlyn = json_srclen(d, i) - 2;
			others++;
		}
	} else {
		return -1;
	}
	if (others != 1)
		return others ? DB_JSON : DB_TEXT;
#define IS(s) (onlyn == sizeof(s) - 1 && !memcmp(only, s, onlyn))
	if (IS("integer"))
		return DB_INTEGER;
	if (IS("number"))
		return DB_REAL;
	if (IS("boolean"))
		return DB_BOOLEAN;
	if (IS("object") || IS("array"))
		return DB_JSON;
	if (IS("null"))
		return DB_TEXT;
	if (IS("string"))
		return f && json_str_eq(d, f, "date-time", 9) ? DB_TIMESTAMP : DB_TEXT;
#undef IS
	return -1;
}

int db_schema_columns(const struct json_doc *d,
		      int (*add)(void *ctx, const char *name, size_t nl, enum db_type t,
				 struct aperr *e),
		      void *ctx, struct aperr *e)
{
	uint32_t props = json_type(d, 0) == JSON_OBJECT ? json_get(d, 0, "properties", 10) : 0, k;
	struct strbuf name = STRBUF_INIT;
	size_t n = 0;

	if (!props || json_type(d, props) != JSON_OBJECT)
		return aperr_set(e, EX_CONFIG, "the schema has no top-level \"properties\" object");
	for (k = json_first(d, props); k; k = json_next(d, props, k)) {
		int t = json_type(d, k + 1) == JSON_OBJECT ? schema_type(d, k + 1) : DB_ANY;

		strbuf_reset(&name);
		if (json_str_decode(d, k, &name) < 0) {
			strbuf_release(&name);
			return aperr_set(e, EX_OSERR, "out of memory");
		}
		if (t < 0) {
			aperr_set(e, EX_CONFIG, "property %s: its \"type\" is not one a column can "
				  "take", name.buf);
			strbuf_release(&name);
			return -1;
		}
		if (add(ctx, name.buf, name.len, (enum db_type)t, e) < 0) {
			strbuf_release(&name);
			return -1;
		}
		n++;
	}
	strbuf_release(&name);
	if (!n)
		return aperr_set(e, EX_CONFIG, "the schema's \"properties\" is empty: no columns");
	return 0;
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
	/* text can only hold Unicode: a lone surrogate would become U+FFFD and merge keys */
	if (jt == JSON_STRING && col->type != DB_JSON && json_has_lone_surrogate(d, t))
		return aperr_set(e, EX_DATAERR, "%.*s is not Unicode text (a lone surrogate) for "
				 "column %s", json_srclen(d, t) > 40 ? 40 : (int)json_srclen(d, t),
				 json_src(d, t), col->name);
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
		/* a value a double cannot hold does not fit: no Inf, no silent 0 */
		if (isinf(v->r))
			break;
		if (v->r == 0) {
			struct decnum dn;

			if (num_decompose(json_src(d, t), json_srclen(d, t), &dn) < 0 || !dn.zero)
				break;
		}
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

	if (!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11))
		return pgsql_open(url, e);
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
		       (sqlite3_errcode(db->h) == SQLITE_BUSY || sqlite3_errcode(db->h) == SQLITE_LOCKED)) {
			double d = backoff_delay(&bo, tries++);

			backoff_sleep(d);
			waited += d;
		}
		if (r < 0) {
			aperr_prefix(e, "%s", path);
			db_close(db);
			return NULL;
		}
	}
	if (exec(db, "PRAGMA synchronous=FULL", e) < 0 ||
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
	free(db->table);
	free(db->guard);
	if (db->pg) {
		PQfinish(db->pg);
		free(db);
		return;
	}
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

/*
 * The SQL both backends share, in their dialects: SQLite numbers its
 * parameters ?N and types loosely; PostgreSQL numbers them $N and casts
 * them to the column's type, and keeps the record as jsonb.
 */
struct dialect {
	int pg;
	const char *(*type)(enum db_type t);
};

static const char *sql_type(enum db_type t);
static const char *pgsql_type(enum db_type t);
static const struct dialect sqlite_dialect = { 0, sql_type };
static const struct dialect pgsql_dialect = { 1, pgsql_type };

/* The key columns, comma-separated, each after prefix ("" or an alias and a dot). */
static void key_list(struct strbuf *q, const char *prefix, const struct db_column *cols,
		     size_t nkeys)
{
	size_t i;

	for (i = 0; i < nkeys; i++) {
		if (i)
			strbuf_addstr(q, ", ");
		strbuf_addstr(q, prefix);
		ident(q, cols[i].name);
	}
}

static void sql_create(struct strbuf *q, const struct dialect *dl, const char *table,
		       const struct db_column *cols, size_t ncols, size_t nkeys, const char *rtype)
{
	size_t i;

	strbuf_addstr(q, "CREATE TABLE IF NOT EXISTS ");
	ident(q, table);
	strbuf_addstr(q, " (");
	for (i = 0; i < ncols; i++) {
		ident(q, cols[i].name);
		strbuf_addstr(q, dl->type(cols[i].type));
		strbuf_addstr(q, i < nkeys ? " NOT NULL, " : ", ");
	}
	strbuf_addf(q, "\"record\" %s NOT NULL, \"ingested_at\" %s NOT NULL, PRIMARY KEY (",
		    rtype, dl->pg ? "timestamptz" : "TEXT");
	key_list(q, "", cols, nkeys);
	strbuf_addstr(q, "))");
}

/* SQLite: the stored record of one key, bound as ?1…?nkeys. */
static void sql_find(struct strbuf *q, const char *table, const struct db_column *cols,
		     size_t nkeys)
{
	size_t i;

	strbuf_addstr(q, "SELECT \"record\" FROM ");
	ident(q, table);
	for (i = 0; i < nkeys; i++) {
		strbuf_addstr(q, i ? " AND " : " WHERE ");
		ident(q, cols[i].name);
		strbuf_addf(q, " = ?%zu", i + 1);
	}
}

/*
 * Insert or update rows: one row bound as ?1…?(ncols+2) (SQLite), or all
 * the rows of the table from (PostgreSQL's staged batch).
 */
static void sql_upsert(struct strbuf *q, const char *table, const struct db_column *cols,
		       size_t ncols, size_t nkeys, const char *from, const char *guard)
{
	size_t i;

	strbuf_addstr(q, "INSERT INTO ");
	ident(q, table);
	strbuf_addstr(q, " (");
	for (i = 0; i < ncols; i++) {
		ident(q, cols[i].name);
		strbuf_addstr(q, ", ");
	}
	strbuf_addstr(q, "\"record\", \"ingested_at\")");
	if (from) {
		strbuf_addf(q, " SELECT * FROM %s", from);
	} else {
		strbuf_addstr(q, " VALUES (");
		for (i = 0; i < ncols + 2; i++)
			strbuf_addf(q, "%s?%zu", i ? ", " : "", i + 1);
		strbuf_addch(q, ')');
	}
	strbuf_addstr(q, " ON CONFLICT (");
	key_list(q, "", cols, nkeys);
	strbuf_addstr(q, ") DO UPDATE SET ");
	for (i = nkeys; i < ncols; i++) {
		ident(q, cols[i].name);
		strbuf_addstr(q, " = excluded.");
		ident(q, cols[i].name);
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

/* The advisory lock key under which apipe creates tables ("apipe" in ASCII). */
#define PG_DDL_LOCK "439052693605"
/* The first half of the two-part advisory lock on one apipe_state row (int4). */
#define PG_STATE_LOCK "1634757989"

#define STATE_TABLE_SQL(time_type) \
	"CREATE TABLE IF NOT EXISTS apipe_state (name TEXT PRIMARY KEY, value TEXT NOT NULL, " \
	"updated_at " time_type " NOT NULL)"

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

static void bind(sqlite3_stmt *st, int i, const struct db_value *v);
static int step_done(struct db *db, sqlite3_stmt *st, const char *what, struct aperr *e);

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
	ident(&q, table);
	if (prep(db, q.buf, &sel, e) < 0)
		goto out;
	strbuf_reset(&q);
	strbuf_addstr(&q, "UPDATE ");
	ident(&q, table);
	strbuf_addstr(&q, " SET ");
	ident(&q, col->name);
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
				rc = column_register(db, table, &cols[i], e);
			free(have);
			continue;
		}
		db->evolve = 1;
		if (!apply)
			continue;	/* checked now, added with the first batch */
		strbuf_reset(&q);
		strbuf_addstr(&q, "ALTER TABLE ");
		ident(&q, table);
		strbuf_addstr(&q, " ADD COLUMN ");
		ident(&q, cols[i].name);
		strbuf_addstr(&q, want);
		if (exec(db, q.buf, e) < 0 || sqlite_backfill(db, table, &cols[i], e) < 0 ||
		    column_register(db, table, &cols[i], e) < 0)
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

	sqlite3_finalize(db->put);
	db->put = NULL;
	sql_upsert(&q, db->table, db->cols, db->ncols, db->nkeys, NULL, NULL);
	r = prep(db, q.buf, &db->put, e);
	strbuf_release(&q);
	return r;
}

int db_prepare(struct db *db, const char *table, const struct db_column *cols, size_t ncols,
	       size_t nkeys, struct aperr *e)
{
	struct strbuf q = STRBUF_INIT;
	int rc = -1;

	db->ncols = ncols;
	db->nkeys = nkeys;
	db->cols = cols;
	free(db->table);
	if (!(db->table = strdup(table)))
		return aperr_set(e, EX_OSERR, "out of memory");
	if (db->pg)
		return pgsql_prepare(db, table, cols, ncols, nkeys, e);
	sql_create(&q, &sqlite_dialect, table, cols, ncols, nkeys, "TEXT");
	/* one writer at a time: a second first run waits, then finds the columns there */
	if (exec(db, "BEGIN IMMEDIATE", e) < 0)
		goto out;
	db->evolve = 0;
	if (exec(db, q.buf, e) < 0 || exec(db, STATE_TABLE_SQL("TEXT"), e) < 0 ||
	    check_columns(db, table, cols, nkeys, e) < 0 ||
	    sqlite_evolve(db, table, cols, ncols, nkeys, 0, e) < 0) {
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	if (exec(db, "COMMIT", e) < 0)
		goto out;
	strbuf_reset(&q);
	sql_find(&q, table, cols, nkeys);
	if (prep(db, q.buf, &db->find, e) < 0 || (!db->evolve && sqlite_put_statement(db, e) < 0) ||
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

void db_want_stored(struct db *db, int want)
{
	db->want_stored = want;
}

void db_set_record_type(struct db *db, const char *type)
{
	db->record_type = type;
}

/* Pointer p as a PostgreSQL text[] literal, '{"a","b"}', quotes and backslashes escaped. */
static void pg_path_literal(struct strbuf *path, const struct json_ptr *p)
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

int db_set_newer(struct db *db, const struct json_ptr *p, const char *cast, struct aperr *e)
{
	struct strbuf g = STRBUF_INIT, path = STRBUF_INIT, t = STRBUF_INIT;
	int r;

	if (!db->pg || db->guard)
		return 0;
	pg_path_literal(&path, p);
	ident(&t, db->table);
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
	db->guard = strbuf_detach(&g, NULL);
	r = pgsql_prepare(db, db->table, db->cols, db->ncols, db->nkeys, e);
	return r;
}

int db_reconnect(struct db *db, struct aperr *e)
{
	if (!db->pg || PQstatus(db->pg) == CONNECTION_OK)
		return 0;
	PQreset(db->pg);
	if (PQstatus(db->pg) != CONNECTION_OK)
		return aperr_set(e, EX_TEMPFAIL, "cannot reconnect to PostgreSQL");
	if (pgsql_exec(db, "SET client_min_messages = warning", "SET", e) < 0)
		return -1;
	return db->table ? pgsql_prepare(db, db->table, db->cols, db->ncols, db->nkeys, e) : 0;
}

static int pgsql_evolve_now(struct db *db, struct aperr *e);

int db_begin(struct db *db, struct aperr *e)
{
	int r = db->pg ? pgsql_exec(db, "BEGIN", "BEGIN", e) : step_done(db, db->begin, "BEGIN", e);

	if (r < 0 || !db->evolve)
		return r;
	/* the columns the table lacks, in this batch's transaction */
	db->evolved = 1;
	if (db->pg)
		r = pgsql_evolve_now(db, e);
	else if (sqlite_evolve(db, db->table, db->cols, db->ncols, db->nkeys, 1, e) < 0 ||
		 sqlite_put_statement(db, e) < 0)
		r = -1;
	if (r < 0)
		db_rollback(db);
	return r;
}

int db_commit(struct db *db, struct aperr *e)
{
	int r = db->pg ? pgsql_exec(db, "COMMIT", "COMMIT", e) : step_done(db, db->commit, "COMMIT", e);

	if (r == 0 && db->created)
		db->create_pending = 0;
	if (r == 0 && db->evolved && !db->create_pending)
		db->evolve = db->evolved = 0;
	db->created = 0;
	return r;
}

void db_rollback(struct db *db)
{
	if (db->pg) {
		PQclear(PQexec(db->pg, "ROLLBACK"));
		if (db->evolved)	/* statements naming columns that are gone again */
			PQclear(PQexec(db->pg, "DEALLOCATE ALL"));
	} else {
		if (!sqlite3_get_autocommit(db->h)) {
			sqlite3_step(db->rollback);
			sqlite3_reset(db->rollback);
		}
		if (db->evolved) {
			sqlite3_finalize(db->put);
			db->put = NULL;
		}
	}
	db->evolved = db->created = 0;
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
	sqlite3_reset(db->find);
	for (i = 0; i < db->nkeys; i++)
		bind(db->find, (int)i + 1, &keys[i]);
	r = sqlite3_step(db->find);
	if (r == SQLITE_ROW) {
		strbuf_reset(record);
		strbuf_add(record, sqlite3_column_text(db->find, 0),
			   (size_t)sqlite3_column_bytes(db->find, 0));
		sqlite3_reset(db->find);
		*same = record->len == n && !memcmp(record->buf, rec, n);
		return 1;
	}
	sqlite3_reset(db->find);
	return r == SQLITE_DONE ? 0 : sqlerr(db, e, "SELECT");
}

/* SQLite: insert or update one row. */
static int sqlite_put(struct db *db, const struct db_value *vals, const char *record, size_t n,
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

	if (db->pg)
		return pgsql_state_get(db, name, value, e);
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
	if (db->pg)
		return pgsql_state_put(db, name, value, updated_at, e);
	sqlite3_bind_text(db->sput, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(db->sput, 2, value, -1, SQLITE_STATIC);
	sqlite3_bind_text(db->sput, 3, updated_at, -1, SQLITE_STATIC);
	return step_done(db, db->sput, "INSERT INTO apipe_state", e);
}

/* ---- PostgreSQL ---- */

static int pgerr(struct db *db, PGresult *res, const char *what, struct aperr *e)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	int code = PQstatus(db->pg) != CONNECTION_OK ? EX_TEMPFAIL
		 : state && (!strncmp(state, "40", 2) || !strncmp(state, "55P03", 5) ||
			     !strncmp(state, "57", 2) || !strncmp(state, "08", 2)) ? EX_TEMPFAIL
		 : state && !strncmp(state, "42", 2) ? EX_CONFIG
		 : state && !strncmp(state, "22", 2) ? EX_DATAERR : EX_UNAVAILABLE;
	char msg[300];
	size_t l;

	snprintf(msg, sizeof(msg), "%s", PQerrorMessage(db->pg));
	l = strlen(msg);
	while (l && (msg[l - 1] == '\n' || msg[l - 1] == ' '))
		msg[--l] = '\0';
	PQclear(res);
	return aperr_set(e, code, "%s: %s", what, msg);
}

static int pgsql_exec(struct db *db, const char *sql, const char *what, struct aperr *e)
{
	PGresult *res = PQexec(db->pg, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		return pgerr(db, res, what, e);
	PQclear(res);
	return 0;
}

static struct db *pgsql_open(const char *url, struct aperr *e)
{
	struct db *db = calloc(1, sizeof(*db));
	struct backoff bo;
	int tries;

	if (!db) {
		aperr_set(e, EX_OSERR, "out of memory");
		return NULL;
	}
	backoff_init(&bo, 0.4, 3, 0.1);	/* a server starting or restarting */
	bo.jitter = 0.5;
	for (tries = 0;; tries++) {
		db->pg = PQconnectdb(url);
		if (db->pg && PQstatus(db->pg) == CONNECTION_OK)
			break;
		if (tries == 3) {
			char msg[300];
			size_t l;

			snprintf(msg, sizeof(msg), "%s", db->pg ? PQerrorMessage(db->pg) : "out of memory");
			l = strlen(msg);
			while (l && (msg[l - 1] == '\n' || msg[l - 1] == ' '))
				msg[--l] = '\0';
			aperr_set(e, EX_TEMPFAIL, "cannot connect to PostgreSQL: %s", msg);
			db_close(db);
			return NULL;
		}
		PQfinish(db->pg);
		db->pg = NULL;
		backoff_sleep(backoff_delay(&bo, (unsigned)tries));
	}
	if (pgsql_exec(db, "SET client_min_messages = warning", "SET", e) < 0) {
		db_close(db);
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
	key_list(&q, "", cols, nkeys);
	strbuf_addstr(&q, ", \"record\" FROM ");
	ident(&q, table);
	strbuf_addstr(&q, " WITH NO DATA");
	if (pgsql_exec(db, q.buf, "CREATE TEMP TABLE", e) < 0)
		goto out;
	strbuf_reset(&q);
	strbuf_addstr(&q, "CREATE TEMP TABLE IF NOT EXISTS apipe_write ON COMMIT DELETE ROWS AS SELECT ");
	for (i = 0; i < ncols; i++) {
		ident(&q, cols[i].name);
		strbuf_addstr(&q, ", ");
	}
	strbuf_addstr(&q, "\"record\", \"ingested_at\" FROM ");
	ident(&q, table);
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
			ident(&q, table);
			strbuf_addstr(&q, " t ON ");
			for (k = 0; k < nkeys; k++) {
				if (k)
					strbuf_addstr(&q, " AND ");
				strbuf_addstr(&q, "t.");
				ident(&q, cols[k].name);
				strbuf_addstr(&q, " = l.");
				ident(&q, cols[k].name);
			}
			/*
			 * Lock the stored rows, in key order (no deadlock between writers
			 * of overlapping batches): a concurrent writer waits, then sees
			 * what this one wrote before it decides.
			 */
			strbuf_addstr(&q, " ORDER BY ");
			key_list(&q, "t.", cols, nkeys);
			strbuf_addstr(&q, " FOR UPDATE OF t");
		} else {
			/*
			 * Without the stored records the client cannot tell an unchanged
			 * row: the update itself leaves an equal one alone (and so its
			 * ingested_at), and RETURNING says which were written.
			 */
			struct strbuf g = STRBUF_INIT;

			if (!db->want_stored) {
				ident(&g, table);	/* the stored row */
				strbuf_addstr(&g, jsonb ? ".\"record\" IS DISTINCT FROM excluded.\"record\"" :
					      ".\"record\"::text IS DISTINCT FROM excluded.\"record\"::text");
				if (db->guard) {
					strbuf_addstr(&g, " AND ");
					strbuf_addstr(&g, db->guard);
				}
			}
			sql_upsert(&q, table, cols, ncols, nkeys, "apipe_write",
				   g.len ? g.buf : db->guard);
			strbuf_release(&g);
		}
		res = PQprepare(db->pg, names[i], q.buf, 0, NULL);
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
	PGresult *res = PQexecParams(db->pg, "SELECT data_type FROM information_schema.columns "
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
				rc = column_register(db, table, &cols[i], e);
			continue;
		}
		db->evolve = 1;
		if (!apply)
			continue;	/* checked now, added with the first batch */
		strbuf_reset(&path);
		pg_path_literal(&path, &cols[i].ptr);
		strbuf_reset(&q);
		strbuf_addstr(&q, "ALTER TABLE ");
		ident(&q, table);
		strbuf_addstr(&q, " ADD COLUMN ");
		ident(&q, cols[i].name);
		strbuf_addstr(&q, pgsql_type(cols[i].type));
		if (pgsql_exec(db, q.buf, "ALTER TABLE", e) < 0) {
			rc = -1;
			break;
		}
		if (fits) {
			/* a stored value of another JSON type: refused before anything is cast */
			strbuf_reset(&q);
			strbuf_addf(&q, "SELECT left(%s::text, 60) FROM ", rec);
			ident(&q, table);
			strbuf_addf(&q, " WHERE jsonb_typeof(%s #> %s) NOT IN (%s, 'null') LIMIT 1", rec,
				    path.buf, fits);
			res = PQexec(db->pg, q.buf);
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
		ident(&q, table);
		strbuf_addstr(&q, " SET ");
		ident(&q, cols[i].name);
		if (cols[i].type == DB_JSON)
			strbuf_addf(&q, " = %s #> %s", rec, path.buf);
		else
			strbuf_addf(&q, " = (%s #>> %s)::%s", rec, path.buf, pgsql_type(cols[i].type) + 1);
		if (pgsql_exec(db, q.buf, "backfill", e) < 0 ||
		    column_register(db, table, &cols[i], e) < 0)
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

static int pgsql_prepare(struct db *db, const char *table, const struct db_column *cols,
			 size_t ncols, size_t nkeys, struct aperr *e)
{
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
	sql_create(&q, &pgsql_dialect, table, cols, ncols, nkeys, rtype);
	/*
	 * CREATE TABLE IF NOT EXISTS is not safe against itself: two first runs
	 * at once both create, and one fails on pg_type's unique index.  One
	 * transaction-scoped advisory lock serialises apipe's DDL.
	 */
	if (pgsql_exec(db, "BEGIN", "BEGIN", e) < 0)
		goto out;
	db->evolve = 0;
	db->create_pending = 0;
	if (pgsql_exec(db, "SELECT pg_advisory_xact_lock(" PG_DDL_LOCK ")", "lock", e) < 0 ||
	    pgsql_exec(db, STATE_TABLE_SQL("timestamptz"), "CREATE TABLE", e) < 0 ||
	    pgsql_exec(db, INSTANT_KEY_SQL, "CREATE FUNCTION", e) < 0 ||
	    pgsql_defer_create(db, table, cols, nkeys, e) < 0 ||
	    (!db->create_pending && (pgsql_exec(db, q.buf, "CREATE TABLE", e) < 0 ||
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
	if (db->create_pending)
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
	if (query(db, "SELECT to_regclass(quote_ident($1)) IS NOT NULL", pv, 1, 1, table_exists,
		  &exists, 0, e) < 0)
		return -1;
	if (!exists)
		db->create_pending = db->evolve = 1;
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

			snprintf(msg, sizeof(msg), "key %s of the new table %s: %s, as every key of "
				 "the first batch is %s", cols[k].name, db->table,
				 ints ? "bigint" : "text", ints ? "an integer" : "not an integer");
			db->log(db->log_ctx, msg);
		}
	}
	sql_create(&q, &pgsql_dialect, db->table, cols, db->ncols, db->nkeys, rtype);
	if (pgsql_exec(db, q.buf, "CREATE TABLE", e) == 0 &&
	    pgsql_evolve(db, db->table, db->cols, db->ncols, db->nkeys, 1, e) == 0 &&
	    pgsql_ready(db, e) == 0)
		rc = 0;
	if (rc == 0)
		db->created = 1;	/* kept at the commit */
	strbuf_release(&q);
	free(cols);
	return rc;
}

void db_set_log(struct db *db, void (*log)(void *ctx, const char *msg), void *ctx)
{
	db->log = log;
	db->log_ctx = ctx;
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
	PGresult *res = PQexecParams(db->pg, "SELECT value FROM apipe_state WHERE name = $1", 1,
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
	PGresult *res = PQexecParams(db->pg, "INSERT INTO apipe_state (name, value, updated_at) "
				     "VALUES ($1, $2, $3::timestamptz) ON CONFLICT (name) DO UPDATE "
				     "SET value = excluded.value, updated_at = excluded.updated_at",
				     3, NULL, pv, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pgerr(db, res, "INSERT INTO apipe_state", e);
	PQclear(res);
	return 0;
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
	PGresult *res = PQexec(db->pg, sql);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_COPY_IN)
		return pgerr(db, res, "COPY", e);
	PQclear(res);
	if ((o->len && PQputCopyData(db->pg, o->buf, (int)o->len) != 1) ||
	    PQputCopyEnd(db->pg, NULL) != 1)
		rc = aperr_set(e, EX_TEMPFAIL, "COPY: %s", PQerrorMessage(db->pg));
	while ((res = PQgetResult(db->pg))) {
		if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK) {
			rc = pgerr(db, res, "COPY", e);
			continue;
		}
		PQclear(res);
	}
	return rc;
}

int db_lookup(struct db *db, struct db_row *rows, size_t n, struct aperr *e)
{
	struct strbuf o = STRBUF_INIT;
	PGresult *res;
	size_t i, k;
	int r;

	for (i = 0; i < n; i++) {
		rows[i].found = rows[i].same = 0;
		strbuf_reset(&rows[i].stored);
	}
	if (db->pg && db->create_pending && !db->created && n &&
	    pgsql_create_now(db, rows, NULL, n, e) < 0)
		return -1;
	if (!db->pg) {
		for (i = 0; i < n; i++) {
			r = sqlite_find(db, rows[i].vals, rows[i].rec, rows[i].n, &rows[i].stored,
				    &rows[i].same, e);
			if (r < 0)
				return -1;
			rows[i].found = r;
		}
		return 0;
	}
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
	res = PQexecPrepared(db->pg, "lookup", 0, NULL, NULL, NULL, 0);
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

int db_write(struct db *db, struct db_row *const *rows, size_t n, const char *ingested_at,
	     struct aperr *e)
{
	struct strbuf o = STRBUF_INIT;
	size_t i, k;
	int r;

	if (!db->pg) {
		for (i = 0; i < n; i++)
			if (sqlite_put(db, rows[i]->vals, rows[i]->rec, rows[i]->n, ingested_at, e) < 0)
				return -1;
		return 0;
	}
	db->last_inserted = db->last_updated = 0;
	if (!n)
		return 0;
	if (db->create_pending && !db->created && pgsql_create_now(db, NULL, rows, n, e) < 0)
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
		PGresult *res = PQexecPrepared(db->pg, "write", 0, NULL, NULL, NULL, 0);
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

/* ---- the column registry: which pointer fills each column, for every writer ---- */

#define COLUMNS_TABLE_SQL \
	"CREATE TABLE IF NOT EXISTS apipe_columns (tbl TEXT NOT NULL, name TEXT NOT NULL, " \
	"pointer TEXT NOT NULL, type TEXT NOT NULL, PRIMARY KEY (tbl, name))"

/*
 * Run sql (parameters $1…$np, text) on either engine; each result row's
 * first ncol columns as text to row(ctx, vals, e) (NULL: ignored).  0, or
 * -1 (e).  A missing table is an empty result when missing_ok.
 */
static int query(struct db *db, const char *sql, const char *const *pv, int np, int ncol,
		 int (*row)(void *ctx, const char *const *vals, struct aperr *e), void *ctx,
		 int missing_ok, struct aperr *e)
{
	const char *vals[4];
	int i, r, rc = 0;

	if (ncol > 4)
		return aperr_set(e, EX_SOFTWARE, "query: %d columns", ncol);
	if (db->pg) {
		PGresult *res = PQexecParams(db->pg, sql, np, NULL, pv, NULL, NULL, 0);
		int n;

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
	} else {
		sqlite3_stmt *st = NULL;

		if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK) {
			if (missing_ok && strstr(sqlite3_errmsg(db->h), "no such table"))
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
}

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

	return query(db, "SELECT name, pointer, type FROM apipe_columns WHERE tbl = $1 ORDER BY name",
		     pv, 1, 3, column_row, &cr, 1, e);
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

/*
 * In the open transaction, once column col of table exists: it enters the
 * registry (the first writer to name a column says how it is filled), and
 * a registry entry that fills it from another pointer is EX_CONFIG.
 */
static int column_register(struct db *db, const char *table, const struct db_column *col,
			   struct aperr *e)
{
	const char *pv[4] = { table, col->name, col->ptr.text, db_type_name(col->type) };
	struct column_check cc = { table, col };

	if (query(db, COLUMNS_TABLE_SQL, NULL, 0, 0, NULL, NULL, 0, e) < 0 ||
	    query(db, "INSERT INTO apipe_columns (tbl, name, pointer, type) "
		      "VALUES ($1, $2, $3, $4) ON CONFLICT (tbl, name) DO NOTHING",
		  pv, 4, 0, NULL, NULL, 0, e) < 0)
		return -1;
	return query(db, "SELECT pointer, type FROM apipe_columns WHERE tbl = $1 AND name = $2",
		     pv, 2, 2, column_same, &cc, 0, e);
}

int db_state_lock(struct db *db, const char *name, struct aperr *e)
{
	const char *pv[1] = { name };
	PGresult *res;

	if (!db->pg)
		return 0;	/* SQLite: the transaction already holds the database */
	res = PQexecParams(db->pg, "SELECT pg_advisory_xact_lock(" PG_STATE_LOCK ", hashtext($1))",
			   1, NULL, pv, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pgerr(db, res, "lock", e);
	PQclear(res);
	return 0;
}

int db_written(const struct db *db, uint64_t *inserted, uint64_t *updated)
{
	if (!db->pg)
		return 0;
	*inserted = db->last_inserted;
	*updated = db->last_updated;
	return 1;
}
