/*
 * seenfile: the persistent set of keys dedupe has already passed on.
 *
 * Layout (little-endian), 64-byte header then 16 bytes a key:
 *    0  8  magic "APIPESEN"
 *    8  4  format version (1)
 *   12  4  entry size (16)
 *   16  8  number of keys
 *   24 16  SipHash key the fingerprints were made with (random per file)
 *   40  8  hash of the --key pointers the set was built with
 *   48  8  checksum of the entries
 *   56  8  reserved (0)
 *   64 …   fingerprints: lo, hi
 * 10 million keys take 160 MB on disk plus the header.  The file is read
 * in one sequential pass and written atomically (statefile).
 */
#ifndef APIPE_SEENFILE_H
#define APIPE_SEENFILE_H

#include <stdint.h>

#include "err.h"
#include "fpset.h"

#define SEENFILE_HEADER 64

/*
 * Load path into s (initialised by the caller) and fill key.  A missing
 * file gives an empty set and a fresh random key (returns 1).  A file of
 * another format, another key spec or a bad checksum is an error
 * (EX_DATAERR, or EX_CONFIG for a key-spec mismatch); returns 0 or -1.
 */
int seenfile_load(const char *path, uint64_t keyspec, struct fpset *s, uint8_t key[16],
		  struct aperr *e);
/* Atomically write s to path. */
int seenfile_save(const char *path, uint64_t keyspec, const struct fpset *s,
		  const uint8_t key[16], struct aperr *e);

#endif
