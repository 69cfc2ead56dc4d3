#include <stdlib.h>
#include <string.h>

#include "fpset.h"

#define MAX_LOAD_NUM 4		/* grow above 80% */
#define MAX_LOAD_DEN 5

/* The next capacity of a part: a quarter more, so it stays at least 64% full. */
static inline size_t grown(size_t cap)
{
	return cap ? cap + cap / 4 : 64;
}

/* Overflow room past the last home slot: runs may spill into it. */
static inline size_t tail_of(size_t cap)
{
	return cap < 2048 ? cap / 4 + 16 : 512;
}

static inline int empty(const struct hash128 *h)
{
	return !h->lo && !h->hi;
}

static inline int cmp(const struct hash128 *a, const struct hash128 *b)
{
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return 0;
}

/* Home slot: monotone in hi, so every run stays sorted by fingerprint. */
static inline size_t home(const struct fpset_part *p, const struct hash128 *h)
{
	return (size_t)(((unsigned __int128)h->hi * p->cap) >> 64);
}

/* The part a fingerprint belongs to: its top byte. */
static inline size_t part_index(const struct hash128 *h)
{
	return (size_t)(h->lo >> 56);
}

void fpset_init(struct fpset *s)
{
	memset(s, 0, sizeof(*s));
}

void fpset_release(struct fpset *s)
{
	size_t i;

	for (i = 0; i < FPSET_PARTS; i++)
		free(s->part[i].slot);
	memset(s, 0, sizeof(*s));
}

/* Insert into a part known to have room; 1 added, 0 present, -1 no room in the tail. */
static int part_insert(struct fpset_part *p, struct hash128 h)
{
	size_t i = home(p, &h), j, lim = p->cap + tail_of(p->cap);
	int c = 1;

	while (i < lim && !empty(&p->slot[i]) && (c = cmp(&p->slot[i], &h)) < 0)
		i++;
	if (i < lim && !empty(&p->slot[i]) && c == 0)
		return 0;
	for (j = i; j < lim && !empty(&p->slot[j]); j++)
		;
	if (j >= lim)
		return -1;
	if (j > i)
		memmove(&p->slot[i + 1], &p->slot[i], (j - i) * sizeof(p->slot[0]));
	p->slot[i] = h;
	p->n++;
	return 1;
}

/*
 * The whole part is sorted by fingerprint in slot order (homes are
 * monotone and runs sorted), so a resize is one pass: each fingerprint, in
 * order, goes to its new home or the slot after the previous one.
 */
static int part_resize(struct fpset_part *p, size_t cap)
{
	size_t old = p->slot ? p->cap + tail_of(p->cap) : 0;

	for (;;) {
		struct fpset_part np;
		size_t i, at = 0, lim = cap + tail_of(cap);

		np.cap = cap;
		np.n = p->n;
		np.slot = calloc(lim, sizeof(np.slot[0]));
		if (!np.slot)
			return -1;
		for (i = 0; i < old; i++) {
			size_t h;

			if (empty(&p->slot[i]))
				continue;
			h = home(&np, &p->slot[i]);
			if (h > at)
				at = h;
			if (at >= lim)
				break;
			np.slot[at++] = p->slot[i];
		}
		if (i == old) {
			free(p->slot);
			*p = np;
			return 0;
		}
		free(np.slot);
		cap += cap / 2;	/* pathological clustering: grow again */
	}
}

int fpset_reserve(struct fpset *s, uint64_t n)
{
	size_t i, per = (size_t)(n / FPSET_PARTS + 1);
	size_t cap = per * MAX_LOAD_DEN / MAX_LOAD_NUM + 16;

	for (i = 0; i < FPSET_PARTS; i++)
		if (s->part[i].cap < cap && part_resize(&s->part[i], cap) < 0)
			return -1;
	return 0;
}

int fpset_add(struct fpset *s, struct hash128 h)
{
	struct fpset_part *p;
	int r;

	if (empty(&h))
		h.hi = 1;
	p = &s->part[part_index(&h)];
	if (!p->slot || (p->n + 1) * MAX_LOAD_DEN > p->cap * MAX_LOAD_NUM) {
		if (p->slot && fpset_has(s, h))
			return 0;
		if (part_resize(p, grown(p->cap)) < 0)
			return -1;
	}
	while ((r = part_insert(p, h)) < 0)
		if (part_resize(p, grown(p->cap)) < 0)
			return -1;
	s->count += (uint64_t)r;
	return r;
}

int fpset_has(const struct fpset *s, struct hash128 h)
{
	const struct fpset_part *p;
	size_t i, lim;

	if (empty(&h))
		h.hi = 1;
	p = &s->part[part_index(&h)];
	if (!p->slot)
		return 0;
	lim = p->cap + tail_of(p->cap);
	for (i = home(p, &h); i < lim && !empty(&p->slot[i]); i++) {
		int c = cmp(&p->slot[i], &h);

		if (c == 0)
			return 1;
		if (c > 0)
			return 0;
	}
	return 0;
}

void fpset_prefetch(const struct fpset *s, struct hash128 h)
{
	const struct fpset_part *p = &s->part[part_index(&h)];

	if (p->slot)
		__builtin_prefetch(&p->slot[home(p, &h)]);
}

int fpset_each(const struct fpset *s, int (*fn)(void *ctx, struct hash128 h), void *ctx)
{
	size_t k, i;

	for (k = 0; k < FPSET_PARTS; k++) {
		const struct fpset_part *p = &s->part[k];

		if (!p->slot)
			continue;
		for (i = 0; i < p->cap + tail_of(p->cap); i++) {
			int r;

			if (empty(&p->slot[i]))
				continue;
			r = fn(ctx, p->slot[i]);
			if (r)
				return r;
		}
	}
	return 0;
}

size_t fpset_bytes(const struct fpset *s)
{
	size_t k, b = 0;

	for (k = 0; k < FPSET_PARTS; k++)
		if (s->part[k].slot)
			b += (s->part[k].cap + tail_of(s->part[k].cap)) * sizeof(struct hash128);
	return b;
}
