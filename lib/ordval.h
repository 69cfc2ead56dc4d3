/*
 * ordval: a JSON scalar taken out of a document so it can be ordered —
 * watermarks and dedupe --latest versions.  Timestamps compare as UTC
 * instants (lib/instant's one rule: an offset required, leap seconds only
 * at 23:59:60 UTC), numbers by exact value, other strings bytewise (after
 * unescaping).  Epoch kinds are numbers that also convert to instants.
 * With ORD_AUTO a string that starts as a date (YYYY-MM-DD) must be such a
 * timestamp: it is an error, never quietly ordered as a string.
 *
 * Ownership: an ordval owns copies of its text (it outlives the line it
 * came from); ordval_release() frees them.
 */
#ifndef APIPE_ORDVAL_H
#define APIPE_ORDVAL_H

#include "err.h"
#include "instant.h"
#include "json.h"
#include "strbuf.h"

enum ordkind {
	ORD_AUTO = 0,	/* decide from the value: timestamp, number or string */
	ORD_TIMESTAMP,	/* RFC 3339 string */
	ORD_NUMBER,
	ORD_STRING,
	ORD_EPOCH,	/* number of seconds since the epoch */
	ORD_EPOCH_MS,	/* number of milliseconds since the epoch */
};

struct ordval {
	enum ordkind kind;
	struct strbuf raw;	/* minified JSON text of the value */
	struct strbuf str;	/* decoded string (ORD_STRING, ORD_TIMESTAMP) */
	struct instant t;	/* ORD_TIMESTAMP, ORD_EPOCH, ORD_EPOCH_MS */
};

void ordval_init(struct ordval *v);
void ordval_release(struct ordval *v);
/* "timestamp", "number", … and back; -1 for an unknown name. */
const char *ordkind_name(enum ordkind k);
int ordkind_parse(const char *s);
/*
 * Take token t of d as kind want (ORD_AUTO decides).  Returns 0, or -1
 * with EX_DATAERR when the value is not of that kind (a message that says
 * what was found).
 */
int ordval_set(struct ordval *v, const struct json_doc *d, uint32_t t, enum ordkind want,
	       struct aperr *e);
/* Same, from JSON text (a parsed state file value). */
int ordval_set_text(struct ordval *v, const char *json, size_t n, enum ordkind want,
		    struct aperr *e);
int ordval_copy(struct ordval *dst, const struct ordval *src);
/* <0, 0, >0; both values must be of the same kind. */
int ordval_cmp(const struct ordval *a, const struct ordval *b);

#endif
