/*
 * table: records as typed rows, for tabulate(1).  A column is a
 * db_column (name, JSON Pointer, type: the names upsert uses) and, for
 * "real", the decimal scale it is written with.  Columns come from
 * --column specs, from a JSON Schema's top-level properties, or are
 * inferred from the first records; a value either fits its column exactly
 * or is refused (never rounded, never truncated).
 *
 * Ownership: struct tab_col owns its db_column's name and pointer;
 * tab_cols_release() frees an array of them.
 */
#ifndef APIPE_TABLE_H
#define APIPE_TABLE_H

#include "dbcol.h"
#include "json.h"
#include "parquet.h"

#define TAB_MAX_SCALE 18

struct tab_col {
	struct db_column c;
	int scale;		/* DB_REAL: digits after the point */
	int scale_set;		/* scale fixed by the user: not widened by inference */
};

void tab_cols_release(struct tab_col *cols, size_t n);

/*
 * Columns from a JSON Schema document's top-level "properties", in the
 * order written: integer, number (real), string (timestamp when its
 * format is date-time), boolean, object and array (json); a type list
 * with "null" counts its other type, several other types make json, and
 * a property without "type" is inferred from the records (tab_infer_*).
 * 0, or -1 with EX_CONFIG in e.
 */
int tab_cols_from_schema(const struct json_doc *schema, struct tab_col **cols, size_t *n,
			 struct aperr *e);

/*
 * Inference over the first records: tab_infer_add() each parsed record
 * (objects only), then tab_infer_finish() appends a column for every
 * top-level member seen, in order of first appearance, and gives each
 * column of type DB_ANY a type and each real column its scale (the most
 * digits after the point seen).  Members never seen but null are text.
 */
struct tab_infer;
struct tab_infer *tab_infer_new(void);
void tab_infer_free(struct tab_infer *inf);
/* Observe record d: the given columns' values and its top-level members. */
int tab_infer_add(struct tab_infer *inf, const struct tab_col *given, size_t ngiven,
		  const struct json_doc *d, struct aperr *e);
/* Fix the types and scales of *cols (the given ones); with add_members, append the members seen. */
int tab_infer_finish(struct tab_infer *inf, struct tab_col **cols, size_t *n, int add_members,
		     struct aperr *e);

/* The Parquet column for c. */
struct parquet_column tab_pq_column(const struct tab_col *c);

/* One value of one record, converted for its column. */
struct tab_val {
	int null;
	const char *src;	/* the JSON value's text (borrowed from the record) */
	size_t srclen;
	__int128 dec;		/* DB_REAL: the unscaled value */
	struct db_value v;	/* the others: v.i (integer, boolean, timestamp in µs) or v.s */
};

/*
 * Convert record d's value for column c into v (whose db_value the caller
 * has initialised).  0, or -1: EX_DATAERR when the value does not fit (e
 * says what was found and the column), EX_OSERR.
 */
int tab_value(const struct tab_col *c, const struct json_doc *d, struct tab_val *v,
	      struct aperr *e);
/* Add v as column i's next value. */
int tab_put_parquet(struct parquet_writer *w, size_t i, const struct tab_col *c,
		    const struct tab_val *v, struct aperr *e);
/* Append v as one RFC 4180 field: numbers as sent, timestamps in UTC, text quoted when it must be. */
int tab_put_csv(struct strbuf *out, const struct tab_col *c, const struct tab_val *v);
/* Append s[0..n) as an RFC 4180 field. */
int tab_csv_field(struct strbuf *out, const char *s, size_t n);

/* The exact unscaled value of JSON number text at scale; 0, or -1 when it does not fit. */
int tab_decimal(const char *num, size_t n, int scale, __int128 *out);

#endif
