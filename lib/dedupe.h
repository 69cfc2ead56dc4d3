/*
 * dedupe: a record's key as a fingerprint, and --latest's map of the best
 * record so far for each key.
 *
 * A key is the values at one or more JSON Pointers, each canonicalised
 * (json_canon: 1.0 and 1 differ, member order does not matter), joined and
 * hashed with SipHash-128 under a per-run (or per-seen-file) key.
 *
 * The latest map keeps, for each key, the record with the greatest version
 * (an equal one replaces it: the later record wins), in the order the keys
 * were first seen.  Ownership: the map owns copies of the records it keeps
 * (dedupe_latest_release).  Thread-safety: none; one thread a map.
 */
#ifndef APIPE_DEDUPE_H
#define APIPE_DEDUPE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "hash.h"
#include "json.h"
#include "ordval.h"
#include "strbuf.h"

/*
 * The fingerprint of record d's key into h, using canon as scratch.  0;
 * -1 (e) with *bad the index of the key that is missing or null
 * (EX_DATAERR), or EX_OSERR.
 */
int dedupe_key(const struct json_ptr *keys, size_t nkeys, const struct json_doc *d,
	       const uint8_t sipkey[16], struct strbuf *canon, struct hash128 *h, size_t *bad,
	       struct aperr *e);

struct dedupe_entry {
	char *rec;
	size_t len;
	struct ordval version;
};

struct dedupe_latest {
	struct hash128 *h;		/* slot fingerprints ({0,0} empty) */
	uint32_t *idx;			/* entry index per slot */
	size_t cap, n;
	struct dedupe_entry *ent;	/* in first-seen order */
	size_t nent, aent;
};

void dedupe_latest_init(struct dedupe_latest *m);
void dedupe_latest_release(struct dedupe_latest *m);
/*
 * Record rec (n bytes) of version v for key h: 1 kept (the first, or not
 * older than the one kept), 0 older (the kept one stays); *dup says the
 * key was seen before.  -1 (e): EX_DATAERR when v is of another kind than
 * the kept version, EX_OSERR.
 */
int dedupe_latest_put(struct dedupe_latest *m, struct hash128 h, const char *rec, size_t n,
		      const struct ordval *v, int *dup, struct aperr *e);

#endif
