/*
 * parquet: a Parquet file writer (format 2, data pages v1), written
 * natively: the metadata in Thrift's compact protocol, every column
 * OPTIONAL with its definition levels (RLE/bit-packed hybrid), values in
 * PLAIN encoding, pages UNCOMPRESSED or GZIP (zlib), statistics (null
 * count, and min and max where the type orders) per column chunk.
 *
 * Rows are added value by value, column by column, then parquet_end_row().
 * A row group is written out when it holds the configured number of rows,
 * so memory is bounded by a row group, not by the input.  The file is
 * written front to back (the footer last), so any descriptor works.
 *
 * Ownership: the writer copies the column names; it borrows the output
 * writer, which must outlive it.  parquet_free() releases everything.
 */
#ifndef APIPE_PARQUET_H
#define APIPE_PARQUET_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "jsonl.h"

enum parquet_kind {
	PQ_INT64,	/* INT64 */
	PQ_DECIMAL,	/* FIXED_LEN_BYTE_ARRAY(16), DECIMAL(38, scale) */
	PQ_STRING,	/* BYTE_ARRAY, STRING (UTF-8) */
	PQ_BOOLEAN,	/* BOOLEAN */
	PQ_TIMESTAMP,	/* INT64, TIMESTAMP(UTC, MICROS) */
	PQ_JSON,	/* BYTE_ARRAY, JSON */
};

enum parquet_codec { PQ_UNCOMPRESSED = 0, PQ_GZIP = 2 };

#define PQ_DECIMAL_PRECISION 38

struct parquet_column {
	const char *name;
	enum parquet_kind kind;
	int scale;		/* PQ_DECIMAL: digits after the point, 0 … 38 */
};

struct parquet_writer;

/*
 * A writer of ncols columns onto out, writing a row group every
 * group_rows rows (0: 65536).  NULL with EX_OSERR in e when memory ran out.
 */
struct parquet_writer *parquet_new(struct lwriter *out, const struct parquet_column *cols, size_t ncols,
			 size_t group_rows, enum parquet_codec codec, struct aperr *e);
void parquet_free(struct parquet_writer *w);

/*
 * The next value of column col in the current row, of the column's kind:
 * parquet_null for any; parquet_int for PQ_INT64, PQ_TIMESTAMP (microseconds since
 * the epoch) and PQ_BOOLEAN (0 or 1); parquet_decimal for PQ_DECIMAL (the
 * unscaled value, |v| < 10^38); parquet_bytes for PQ_STRING and PQ_JSON.
 * Each returns 0, or -1 (EX_OSERR) when memory ran out.
 */
int parquet_null(struct parquet_writer *w, size_t col, struct aperr *e);
int parquet_int(struct parquet_writer *w, size_t col, int64_t v, struct aperr *e);
int parquet_decimal(struct parquet_writer *w, size_t col, __int128 v, struct aperr *e);
int parquet_bytes(struct parquet_writer *w, size_t col, const char *p, size_t n, struct aperr *e);
/* Every column has its value: the row is complete (a full row group is written). */
int parquet_end_row(struct parquet_writer *w, struct aperr *e);
/* Write what is left and the footer.  0, or -1 (write errors as the lwriter reports). */
int parquet_finish(struct parquet_writer *w, struct aperr *e);
/* Rows and row groups written so far. */
uint64_t parquet_rows(const struct parquet_writer *w);
size_t parquet_row_groups(const struct parquet_writer *w);

#endif
