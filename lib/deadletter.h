/*
 * deadletter: where a filter puts what it cannot pass on.
 *
 * One JSON line per rejected input line:
 *   {"line":N,"record":<the input, when it is JSON>,
 *    "errors":[{"instance":"/pointer","message":"…"}]}
 * An input that is not JSON is kept as "input_text" (valid UTF-8) or
 * "input_base64", so nothing is lost.  The file is opened for appending
 * and flushed and fsynced by dl_close().
 */
#ifndef APIPE_DEADLETTER_H
#define APIPE_DEADLETTER_H

#include <stdint.h>

#include "err.h"
#include "jsonl.h"
#include "strbuf.h"

struct deadletter {
	const char *path;
	struct lwriter w;
	struct strbuf line;
	uint64_t count;
	int open;
};

/* Open (append) the dead-letter file at path; dl_close() flushes and closes it.  0, or -1 (e). */
int dl_open(struct deadletter *dl, const char *path, struct aperr *e);
/*
 * errors_json is a JSON array of error objects, already formatted.
 * is_json says whether input[0..n) is a valid JSON document.
 */
int dl_write_errors(struct deadletter *dl, uint64_t lineno, const char *input,
		    size_t n, int is_json, const char *errors_json, size_t elen,
		    struct aperr *e);
/* One error: instance pointer (may be NULL) and message. */
int dl_write(struct deadletter *dl, uint64_t lineno, const char *input, size_t n,
	     int is_json, const char *instance, const char *message, struct aperr *e);
/* Flush, fsync and close; safe on a dead letter that was never opened. */
int dl_close(struct deadletter *dl, struct aperr *e);

#endif
