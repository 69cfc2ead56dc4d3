#include <stdlib.h>
#include <string.h>

#include "dedupe.h"

int dedupe_key(const struct json_ptr *keys, size_t nkeys, const struct json_doc *d,
	       const uint8_t sipkey[16], struct strbuf *canon, struct hash128 *h, size_t *bad,
	       struct aperr *e)
{
	size_t k;

	strbuf_reset(canon);
	for (k = 0; k < nkeys; k++) {
		uint32_t t = json_ptr_eval(&keys[k], d, 0);

		if (t == JSON_ABSENT || json_type(d, t) == JSON_NULL) {
			*bad = k;
			return aperr_set(e, EX_DATAERR, "%s", t == JSON_ABSENT ? "key is missing"
										: "key is null");
		}
		if (json_canon(d, t, canon) < 0)
			return aperr_set(e, EX_OSERR, "out of memory");
	}
	siphash128(sipkey, canon->buf, canon->len, h);
	return 0;
}

void dedupe_latest_init(struct dedupe_latest *m)
{
	memset(m, 0, sizeof(*m));
}

void dedupe_latest_release(struct dedupe_latest *m)
{
	size_t i;

	for (i = 0; i < m->nent; i++) {
		free(m->ent[i].rec);
		ordval_release(&m->ent[i].version);
	}
	free(m->ent);
	free(m->h);
	free(m->idx);
	memset(m, 0, sizeof(*m));
}

static int grow(struct dedupe_latest *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024, i;
	struct hash128 *h = calloc(cap, sizeof(*h));
	uint32_t *idx = calloc(cap, sizeof(*idx));

	if (!h || !idx) {
		free(h);
		free(idx);
		return -1;
	}
	for (i = 0; i < m->cap; i++) {
		size_t j;

		if (!m->h[i].lo && !m->h[i].hi)
			continue;
		for (j = m->h[i].lo & (cap - 1); h[j].lo || h[j].hi; j = (j + 1) & (cap - 1))
			;
		h[j] = m->h[i];
		idx[j] = m->idx[i];
	}
	free(m->h);
	free(m->idx);
	m->h = h;
	m->idx = idx;
	m->cap = cap;
	return 0;
}

/* The entry for h, created (with *fresh set) when it is new; NULL when out of memory. */
static struct dedupe_entry *get(struct dedupe_latest *m, struct hash128 h, int *fresh)
{
	size_t j;

	if (!h.lo && !h.hi)
		h.hi = 1;
	if ((m->n + 1) * 2 > m->cap && grow(m) < 0)
		return NULL;
	for (j = h.lo & (m->cap - 1); m->h[j].lo || m->h[j].hi; j = (j + 1) & (m->cap - 1))
		if (m->h[j].lo == h.lo && m->h[j].hi == h.hi) {
			*fresh = 0;
			return &m->ent[m->idx[j]];
		}
	if (m->nent == m->aent) {
		size_t na = m->aent ? m->aent * 2 : 1024;
		struct dedupe_entry *ent = realloc(m->ent, na * sizeof(*ent));

		if (!ent)
			return NULL;
		m->ent = ent;
		m->aent = na;
	}
	m->h[j] = h;
	m->idx[j] = (uint32_t)m->nent;
	m->n++;
	*fresh = 1;
	memset(&m->ent[m->nent], 0, sizeof(m->ent[0]));
	ordval_init(&m->ent[m->nent].version);
	return &m->ent[m->nent++];
}

int dedupe_latest_put(struct dedupe_latest *m, struct hash128 h, const char *rec, size_t n,
		      const struct ordval *v, int *dup, struct aperr *e)
{
	struct dedupe_entry *le;
	char *copy;
	int fresh = 0;

	*dup = 0;
	if (!(le = get(m, h, &fresh)))
		return aperr_set(e, EX_OSERR, "out of memory");
	if (!fresh) {
		if (le->version.kind != v->kind)
			return aperr_set(e, EX_DATAERR, "version is a %s here but a %s in an earlier "
					 "record", ordkind_name(v->kind), ordkind_name(le->version.kind));
		*dup = 1;
		if (ordval_cmp(v, &le->version) < 0)
			return 0;	/* older: the kept record stays */
	}
	if (!(copy = malloc(n ? n : 1)) || ordval_copy(&le->version, v) < 0) {
		free(copy);
		return aperr_set(e, EX_OSERR, "out of memory");
	}
	memcpy(copy, rec, n);
	free(le->rec);
	le->rec = copy;
	le->len = n;
	return 1;
}
