/*
 * dbcol: the column model upsert (lib/db) and tabulate (lib/table) share:
 * a column's name, type and JSON Pointer, the value a record gives it, and
 * the columns a JSON Schema describes.  No database here.
 *
 * Ownership: a struct db_column owns its name and pointer; a struct
 * db_value owns its text (db_value_release).
 */
#ifndef APIPE_DBCOL_H
#define APIPE_DBCOL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "json.h"
#include "strbuf.h"

enum db_type { DB_ANY, DB_TEXT, DB_INTEGER, DB_REAL, DB_BOOLEAN, DB_JSON, DB_TIMESTAMP };

struct db_column {
	char *name;
	enum db_type type;	/* DB_ANY for keys: strings as text, integers as integers */
	struct json_ptr ptr;
};

/* A value bound to a statement; s is owned by the value. */
struct db_value {
	int null;
	enum { DBV_TEXT, DBV_INT, DBV_REAL } kind;
	int64_t i;
	double r;
	struct strbuf s;
};

/* "text", "integer", … → the type; -1 for an unknown name. */
int db_type_parse(const char *name);
const char *db_type_name(enum db_type t);
/*
 * A column from NAME=POINTER[:TYPE] or POINTER (named after its reference
 * tokens joined by "_"); the type only when typed (else DB_ANY, and a ':'
 * is part of the pointer); typed 2: a suffix that names no type is part
 * of the pointer (a key's /a:b).  0, or -1 with EX_USAGE (or EX_OSERR) in e;
 * c owns its name and pointer.
 */
int db_column_parse(struct db_column *c, const char *arg, int typed, struct aperr *e);
/* A column named name[0..nl) at the top-level member of that name, of type t; 0, or -1 (e). */
int db_column_member(struct db_column *c, const char *name, size_t nl, enum db_type t,
		     struct aperr *e);
/*
 * The columns a JSON Schema document's top-level "properties" describe, in
 * the order written, each handed to add(ctx, name, length, type): integer,
 * number (real), string (timestamp when its format is date-time), boolean,
 * object and array (json); a type list with "null" counts its other type,
 * several other types make json, and a property without "type" is DB_ANY.
 * 0, or -1 with EX_CONFIG (or add's error) in e.
 */
int db_schema_columns(const struct json_doc *d,
		      int (*add)(void *ctx, const char *name, size_t nl, enum db_type t,
				 struct aperr *e),
		      void *ctx, struct aperr *e);

/*
 * Take the value at col's pointer in d (root token root) for col's type.
 * Returns 0 (an absent value or null is v->null), or -1 with EX_DATAERR
 * saying what was found instead (the caller names the pointer).
 */
int db_value_from_json(const struct db_column *col, const struct json_doc *d, uint32_t root,
		       struct db_value *v, struct aperr *e);
void db_value_init(struct db_value *v);
void db_value_release(struct db_value *v);

#endif
