/*
 * fpset: a set of 128-bit fingerprints in about 21-25 bytes per member
 * once it is large (at most 32 in a small set).
 *
 * The set is split into 256 parts by the fingerprint's top byte; each part
 * is an ordered linear-probing table (entries of a run sorted by
 * fingerprint, so a miss stops early) kept between 64% and 80% full, grown
 * by a quarter when full.  Parts grow one at a time, so the memory peak of
 * a growth is one part, not the whole set.  16 bytes a slot at ≥ 64% load
 * is ≤ 25 bytes a member, plus each part's overflow tail: 512 slots once
 * a part passes 2048, a quarter of the part below that.
 *
 * Ownership: the set owns its tables; fpset_release() frees them.
 * The fingerprint {0,0} is stored as {0,1}; with random 128-bit hashes the
 * odds that this merges two members are 2^-128 per pair.
 *
 * Thread-safety: none inside; threads sharing a set hold a lock around
 * every call (webhook-recv's connection threads hold the receiver's mutex).
 */
#ifndef APIPE_FPSET_H
#define APIPE_FPSET_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"

#define FPSET_PARTS 256

struct fpset_part {
	struct hash128 *slot;	/* cap home slots plus an overflow tail */
	size_t cap, n;
};

struct fpset {
	struct fpset_part part[FPSET_PARTS];
	uint64_t count;
};

void fpset_init(struct fpset *s);
void fpset_release(struct fpset *s);
/* Size the set for n members up front (optional). 0 or -1. */
int fpset_reserve(struct fpset *s, uint64_t n);
/* 1 when h was added, 0 when it was already there, -1 out of memory. */
int fpset_add(struct fpset *s, struct hash128 h);
int fpset_has(const struct fpset *s, struct hash128 h);
/*
 * Start loading the slot where h would go, so that a later fpset_add(h)
 * or fpset_has(h) does not wait on memory; a hint, changes nothing.
 */
void fpset_prefetch(const struct fpset *s, struct hash128 h);
/* Call fn for every member, in a deterministic order; stops on non-zero. */
int fpset_each(const struct fpset *s, int (*fn)(void *ctx, struct hash128 h), void *ctx);
/* Bytes held by the tables. */
size_t fpset_bytes(const struct fpset *s);

#endif
