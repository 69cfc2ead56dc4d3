/*
 * upsert: records landed in a table in batches, keyed, idempotently.
 *
 * upsert_add() takes a parsed record into the open batch: its key and
 * columns (struct db_column), and with an order field the batch's
 * greatest value.  upsert_flush() lands the batch in one transaction:
 * the stored rows of its keys are looked up, each record is decided in
 * input order as if applied one at a time (insert, update, unchanged, or
 * skipped when --only-newer finds it older than what is stored or what an
 * earlier record of the batch made of its key), only each key's last
 * write goes to the database, and the watermark and the in-band states
 * (upsert_state) the batch completes commit with the rows.  A transient
 * failure (a lock, a lost connection, a serialisation failure) rolls
 * back, reconnects and lands the whole batch again, up to six times with
 * growing pauses.
 *
 * Ownership: the upsert borrows the database, the columns and the
 * pointers it is given; it owns its batch, its states and its scratch
 * (upsert_release).  Thread-safety: none; one thread uses an upsert.
 */
#ifndef APIPE_UPSERT_H
#define APIPE_UPSERT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "db.h"
#include "err.h"
#include "json.h"
#include "ordval.h"
#include "strbuf.h"

#define UPSERT_REJECT (-2)	/* upsert_add: this record cannot land (the rest can) */

struct upsert {
	/* the caller's, before upsert_open() */
	struct db *db;			/* db_want_stored(newer != NULL), then db_prepare()d */
	const struct db_column *cols;	/* the key's nkeys first */
	size_t ncols, nkeys;
	const struct json_ptr *newer;	/* --only-newer's order field; NULL: none */
	const struct json_ptr *wm_field;/* the watermark's order field; NULL: none */
	const char *wm_name;		/* the state it is kept under */
	size_t max_line, max_depth;
	void *ctx;
	/* Before a commit that carries state lines: make what they vouch for durable. */
	int (*before_commit)(void *ctx, struct aperr *e);
	/* A batch being landed again after msg; NULL: quiet. */
	void (*warn)(void *ctx, const char *msg);
	/*
	 * --replace: the rows land in staging (the database is prepared on
	 * it), and the watermark and the states are held until
	 * upsert_replace(), which swaps staging in for table with them.
	 */
	const char *replace_table, *replace_staging;
	/*
	 * --delete-when: a record whose value at del is true (or a string, as
	 * a deleted_at; or, with del_value, equal to it) deletes its key's
	 * row; with newer, each delete is kept as a tombstone.  table names
	 * the table the database is prepared on.
	 */
	const struct json_ptr *del;
	const char *del_value;
	const char *table;
	/*
	 * --child: the elements of the array at each one's pointer land in its
	 * table (db_child_put), replaced with their parent in its transaction:
	 * a parent written gets its array's elements, one deleted none.
	 */
	const struct upsert_child {
		struct json_ptr ptr;
		const char *table;
	} *children;
	size_t nchildren;

	/* totals over the batches landed */
	uint64_t inserted, updated, unchanged, skipped, deleted, batches;

	/* the upsert's */
	int newer_in_sql;		/* db_set_newer done */
	int in_tx;
	int swapping;			/* the flush that swaps (upsert_replace) */
	uint8_t mapkey[16];
	struct json_doc d, sd;
	struct json_error je;
	struct strbuf stored;
	struct ordval a, b, wm, wm_batch;
	int have_wm_batch;
	struct upsert_state {
		char *name;
		struct strbuf value;
		int dirty;
	} *states;			/* in-band states seen: kept with the rows */
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
	struct strbuf *ktext;		/* with del or children: each row's key as text (db_key_text) */
	int *afterdel;			/* after[i] is a tombstone: the key has no row */
	struct db_row **dl;		/* the deletes to make, and their keys */
	const struct strbuf **dlkey;
	size_t ndl;
	ssize_t *pdl;			/* per row: its index in dl, or -1 */
	const char **elem;		/* a parent's array elements, and their lengths */
	size_t *elemlen, aelem;
	uint64_t b_count[5];		/* inserted, updated, unchanged, skipped, deleted */
	char now[64];
};

/* Ready u (its caller's fields set).  0 or -1 (e). */
int upsert_open(struct upsert *u, struct aperr *e);
void upsert_release(struct upsert *u);

/*
 * Record line (n bytes, parsed in d, a JSON object) into the open batch.
 * 0; UPSERT_REJECT (e, *ptr the JSON Pointer at fault) when it cannot
 * land; -1 (e) when the run cannot go on.
 */
int upsert_add(struct upsert *u, const struct json_doc *d, const char *line, size_t n,
	       const char **ptr, struct aperr *e);
/*
 * An in-band state: name's value (JSON text) commits with every row before
 * it.  0 or -1.
 */
int upsert_state(struct upsert *u, const char *name, const char *value, size_t n,
		 struct aperr *e);
/* Anything to land: rows, or states. */
int upsert_dirty(const struct upsert *u);
/* Land the open batch.  0 or -1 (e, rolled back). */
int upsert_flush(struct upsert *u, struct aperr *e);
/*
 * --replace, at the end of a successful run: land the open batch, swap
 * staging in for the table (db_replace_swap), and commit the watermark
 * and the states with it, in one transaction.  0 or -1 (e, rolled back:
 * the old table is whole).
 */
int upsert_replace(struct upsert *u, struct aperr *e);

#endif
