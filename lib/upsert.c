#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backoff.h"
#include "hash.h"
#include "instant.h"
#include "upsert.h"

int upsert_open(struct upsert *u, struct aperr *e)
{
	json_doc_init(&u->d, u->max_depth);
	json_doc_init(&u->sd, u->max_depth);
	json_error_init(&u->je);
	strbuf_init(&u->stored, u->max_line);
	strbuf_init(&u->batch, (size_t)-1);
	ordval_init(&u->a);
	ordval_init(&u->b);
	ordval_init(&u->wm);
	ordval_init(&u->wm_batch);
	if (hash_random(u->mapkey, sizeof(u->mapkey)) < 0)
		return aperr_set(e, EX_OSERR, "no random bytes");
	return 0;
}

void upsert_release(struct upsert *u)
{
	size_t i;

	if (u->in_tx)
		db_rollback(u->db);
	for (i = 0; i < u->arows; i++) {
		db_row_release(&u->rows[i], u->ncols);
		strbuf_release(&u->key[i]);
		strbuf_release(&u->ktext[i]);
	}
	free(u->ktext);
	free(u->elem);
	free(u->elemlen);
	free(u->afterdel);
	free(u->dl);
	free(u->dlkey);
	free(u->pdl);
	free(u->rows);
	free(u->off);
	free(u->key);
	free(u->after);
	free(u->afterlen);
	free(u->wr);
	free(u->pending);
	free(u->map);
	while (u->nstates--) {
		free(u->states[u->nstates].name);
		strbuf_release(&u->states[u->nstates].value);
	}
	free(u->states);
	ordval_release(&u->a);
	ordval_release(&u->b);
	ordval_release(&u->wm);
	ordval_release(&u->wm_batch);
	strbuf_release(&u->stored);
	strbuf_release(&u->batch);
	json_doc_release(&u->d);
	json_doc_release(&u->sd);
	json_error_release(&u->je);
}

/*
 * Does record d delete its key's row (--delete-when)?  Without a value: a
 * true, or a string (a deleted_at), does; false, null or nothing does not.
 * With one: a string equal to it, or a number, boolean or null whose JSON
 * text is it.  Any other type is no delete flag: -1 (EX_DATAERR).
 */
static int is_delete(const struct upsert *u, const struct json_doc *d, int *del, struct aperr *e)
{
	uint32_t t = json_ptr_eval(u->del, d, 0);
	enum json_type ty;
	struct strbuf s = STRBUF_INIT;

	*del = 0;
	if (t == JSON_ABSENT)
		return 0;
	ty = json_type(d, t);
	if (ty == JSON_OBJECT || ty == JSON_ARRAY || (!u->del_value && ty == JSON_NUMBER))
		return aperr_set(e, EX_DATAERR, "%s %s as a delete flag (true, false, null or a "
				 "string%s)", ty == JSON_ARRAY || ty == JSON_OBJECT ? "an" : "a",
				 json_type_name(ty),
				 u->del_value ? "" : "; a number needs --delete-when POINTER=VALUE");
	if (!u->del_value) {
		*del = ty == JSON_TRUE || ty == JSON_STRING;
		return 0;
	}
	if (ty == JSON_STRING) {
		if (json_str_decode(d, t, &s) < 0) {
			strbuf_release(&s);
			return aperr_set(e, EX_OSERR, "out of memory");
		}
		*del = !strcmp(s.buf, u->del_value) && s.len == strlen(u->del_value);
		strbuf_release(&s);
	} else {
		*del = json_srclen(d, t) == strlen(u->del_value) &&
		       !memcmp(json_src(d, t), u->del_value, json_srclen(d, t));
	}
	return 0;
}

/* Extract record d into row r: 0, or -1 with *ptr naming the pointer at fault. */
static int extract(struct upsert *u, const struct json_doc *d, struct db_row *r, const char **ptr,
		   struct aperr *e)
{
	size_t i;

	for (i = 0; i < u->ncols; i++) {
		*ptr = u->cols[i].ptr.text;
		if (db_value_from_json(&u->cols[i], d, 0, &r->vals[i], e) < 0)
			return -1;
		if (i < u->nkeys && r->vals[i].null)
			return aperr_set(e, EX_DATAERR, "the record has no key here");
	}
	for (i = 0; i < u->nchildren; i++) {
		uint32_t t = json_ptr_eval(&u->children[i].ptr, d, 0);

		*ptr = u->children[i].ptr.text;
		if (t != JSON_ABSENT && json_type(d, t) != JSON_ARRAY && json_type(d, t) != JSON_NULL)
			return aperr_set(e, EX_DATAERR, "%s %s where --child %s wants an array",
					 json_type(d, t) == JSON_OBJECT ? "an" : "a",
					 json_type_name(json_type(d, t)), u->children[i].table);
	}
	r->del = 0;
	if (u->del && is_delete(u, d, &r->del, e) < 0) {
		*ptr = u->del->text;
		return -1;
	}
	if (u->wm_field) {
		uint32_t t = json_ptr_eval(u->wm_field, d, 0);

		*ptr = u->wm_field->text;
		if (t == JSON_ABSENT)
			return aperr_set(e, EX_DATAERR, "no watermark field");
		if (ordval_set(&u->a, d, t, ORD_AUTO, e) < 0)
			return -1;
	}
	return 0;
}

/* Is record rec older than cur by --only-newer (both present and comparable)? */
static int older(struct upsert *u, const char *rec, size_t n, const char *cur, size_t curn)
{
	uint32_t nt, st;
	struct aperr e;

	if (json_parse(&u->d, rec, n, &u->je) < 0 || json_parse(&u->sd, cur, curn, &u->je) < 0)
		return 0;
	nt = json_ptr_eval(u->newer, &u->d, 0);
	st = json_ptr_eval(u->newer, &u->sd, 0);
	if (nt == JSON_ABSENT || st == JSON_ABSENT || ordval_set(&u->a, &u->d, nt, ORD_AUTO, &e) < 0 ||
	    ordval_set(&u->b, &u->sd, st, ORD_AUTO, &e) < 0 || u->a.kind != u->b.kind)
		return 0;
	return ordval_cmp(&u->a, &u->b) < 0;
}

/* The key of row r as bytes: each value's kind and text, NUL-separated. */
static int key_bytes(const struct upsert *u, const struct db_row *r, struct strbuf *k)
{
	size_t i;

	strbuf_reset(k);
	for (i = 0; i < u->nkeys; i++) {
		const struct db_value *v = &r->vals[i];

		if (v->kind == DBV_INT)
			strbuf_addf(k, "i%lld", (long long)v->i);
		else if (v->kind == DBV_REAL)
			strbuf_addf(k, "r%.17g", v->r);
		else {
			strbuf_addch(k, 's');
			strbuf_add(k, v->s.buf, v->s.len);
		}
		strbuf_addch(k, '\0');
	}
	return strbuf_failed(k) ? -1 : 0;
}

/* Row i's key in the batch's map: its slot, and *j the earlier row with it when the slot is taken. */
static size_t map_slot(const struct upsert *u, size_t i, size_t *j)
{
	uint64_t h = siphash64(u->mapkey, u->key[i].buf, u->key[i].len);
	size_t slot = (size_t)h & (u->nmap - 1);

	for (*j = 0; u->map[slot]; slot = (slot + 1) & (u->nmap - 1)) {
		*j = u->map[slot] - 1;
		if (u->key[*j].len == u->key[i].len &&
		    !memcmp(u->key[*j].buf, u->key[i].buf, u->key[i].len))
			break;
	}
	return slot;
}

/* Drop the NULL entries of v (and the same ones of k, when not NULL). */
static void compact(struct db_row **v, const struct strbuf **k, size_t *n)
{
	size_t i, o = 0;

	for (i = 0; i < *n; i++)
		if (v[i]) {
			if (k)
				k[o] = k[i];
			v[o++] = v[i];
		}
	*n = o;
}

/*
 * Decide each row in input order, as if applied one at a time: insert,
 * update, unchanged or skipped (--only-newer), against what is stored or
 * what an earlier row of the batch made of its key.  Only a key's last
 * write goes to the database.
 */
static int decide(struct upsert *u, struct aperr *e)
{
	size_t i, nmap = 16;

	while (nmap < u->nrows * 2)
		nmap *= 2;
	if (nmap > u->nmap) {
		size_t *map = realloc(u->map, nmap * sizeof(*map));

		if (!map)
			return aperr_set(e, EX_OSERR, "out of memory");
		u->map = map;
		u->nmap = nmap;
	}
	memset(u->map, 0, u->nmap * sizeof(*u->map));
	u->nwr = u->ndl = 0;
	memset(u->b_count, 0, sizeof(u->b_count));
	for (i = 0; i < u->nrows; i++) {
		struct db_row *r = &u->rows[i];
		size_t j, slot = map_slot(u, i, &j);
		const char *cur = r->found || r->tomb ? r->stored.buf : NULL;
		size_t curn = r->stored.len;
		int found = r->found, tomb = r->tomb, same = r->same, write;

		if (u->map[slot]) {
			/* an earlier row of this batch had the key */
			cur = u->after[j];
			curn = u->afterlen[j];
			tomb = cur && u->afterdel[j];
			found = cur && !tomb;
			same = found && curn == r->n && !memcmp(cur, r->rec, r->n);
		}
		u->pending[i] = u->pdl[i] = -1;
		if (r->del) {
			/* a delete: unless older than what the key holds (a row or a tombstone) */
			if ((found || tomb) && u->newer && older(u, r->rec, r->n, cur, curn)) {
				u->b_count[3]++;
				u->after[i] = cur;
				u->afterlen[i] = curn;
				u->afterdel[i] = tomb;
			} else {
				if (u->map[slot] && u->pending[j] >= 0) {
					u->wr[u->pending[j]] = NULL;	/* the earlier write never happens */
					u->pending[j] = -1;
				}
				if (u->map[slot] && u->pdl[j] >= 0) {
					/* this delete takes the earlier one's place */
					u->dl[u->pdl[j]] = r;
					u->dlkey[u->pdl[j]] = &u->ktext[i];
					u->pdl[i] = u->pdl[j];
					u->pdl[j] = -1;
				} else {
					u->pdl[i] = (ssize_t)u->ndl;
					u->dlkey[u->ndl] = &u->ktext[i];
					u->dl[u->ndl++] = r;
				}
				u->after[i] = r->rec;
				u->afterlen[i] = r->n;
				u->afterdel[i] = 1;
			}
			u->map[slot] = i + 1;
			continue;
		}
		write = tomb ? !(u->newer && older(u, r->rec, r->n, cur, curn)) :
			!found || (!same && !(u->newer && older(u, r->rec, r->n, cur, curn)));
		/* inserted (or, under a newer tombstone, skipped); unchanged, updated, skipped */
		u->b_count[!found ? (write ? 0 : 3) : same ? 2 : write ? 1 : 3]++;
		if (write) {
			if (u->map[slot] && u->pdl[j] >= 0) {
				/* an upsert after a delete in this batch: the upsert alone says it */
				u->dl[u->pdl[j]] = NULL;
				u->pdl[j] = -1;
			}
			if (u->map[slot] && u->pending[j] >= 0) {
				/* the earlier write is superseded: this one takes its place */
				u->wr[u->pending[j]] = r;
				u->pending[i] = u->pending[j];
				u->pending[j] = -1;
			} else {
				u->pending[i] = (ssize_t)u->nwr;
				u->wr[u->nwr++] = r;
			}
			u->after[i] = r->rec;
			u->afterlen[i] = r->n;
			u->afterdel[i] = 0;
		} else {
			/* unchanged or older: what the key holds stands */
			u->after[i] = !found && !tomb ? NULL : same ? r->rec : cur;
			u->afterlen[i] = !found && !tomb ? 0 : same ? r->n : curn;
			u->afterdel[i] = tomb;
		}
		u->map[slot] = i + 1;
	}
	compact(u->wr, NULL, &u->nwr);
	compact(u->dl, u->dlkey, &u->ndl);
	return 0;
}

/*
 * The counts say what the database did: a row meant as an insert that met
 * a concurrent writer's became an update, and one the --only-newer guard
 * refused was skipped.  (Counts stay per input record: a key written twice
 * in a batch is one row here.)
 */
static void recount(struct upsert *u)
{
	uint64_t ins, upd, want_ins = 0, lost;
	size_t k;

	if (!db_written(u->db, &ins, &upd))
		return;
	for (k = 0; k < u->nwr; k++)
		want_ins += !u->wr[k]->found;
	if (want_ins > ins) {
		u->b_count[0] -= want_ins - ins;
		u->b_count[1] += want_ins - ins;
	}
	/*
	 * Rows not written: without --only-newer, stored rows the update found
	 * equal (unchanged); with it, rows the guard refused.
	 */
	lost = u->nwr > ins + upd ? u->nwr - ins - upd : 0;
	u->b_count[1] -= lost < u->b_count[1] ? lost : u->b_count[1];
	u->b_count[u->newer ? 3 : 2] += lost;
}

/* The batch's greatest order value, unless the stored one is later (held against other runs). */
static int put_watermark(struct upsert *u, struct aperr *e)
{
	int r = db_state_lock(u->db, u->wm_name, e) < 0 ? -1 :
		db_state_get(u->db, u->wm_name, &u->stored, e);

	if (r < 0)
		return -1;
	if (r == 0 || ordval_set_text(&u->wm, u->stored.buf, u->stored.len, ORD_AUTO, e) < 0 ||
	    u->wm.kind != u->wm_batch.kind || ordval_cmp(&u->wm_batch, &u->wm) > 0)
		return db_state_put(u->db, u->wm_name, u->wm_batch.raw.buf, u->now, e);
	return 0;
}

/* Row r's elements of the array at p, into u->elem and u->elemlen: how many.  -1 out of memory. */
static ssize_t elements(struct upsert *u, const struct db_row *r, const struct json_ptr *p)
{
	uint32_t a, t;
	size_t n = 0;

	if (json_parse(&u->d, r->rec, r->n, &u->je) < 0 ||
	    (a = json_ptr_eval(p, &u->d, 0)) == JSON_ABSENT || json_type(&u->d, a) != JSON_ARRAY)
		return 0;	/* checked when it was added: none, or null */
	for (t = json_first(&u->d, a); t; t = json_next(&u->d, a, t)) {
		if (n == u->aelem) {
			size_t na = u->aelem ? 2 * u->aelem : 16;
			const char **pe = realloc(u->elem, na * sizeof(*pe));
			size_t *pl = pe ? realloc(u->elemlen, na * sizeof(*pl)) : NULL;

			if (pe)
				u->elem = pe;
			if (!pl)
				return -1;
			u->elemlen = pl;
			u->aelem = na;
		}
		u->elem[n] = json_src(&u->d, t);
		u->elemlen[n++] = json_srclen(&u->d, t);
	}
	return (ssize_t)n;
}

/* The children of the parents written (their arrays' elements) and deleted (none). */
static int put_children(struct upsert *u, struct aperr *e)
{
	size_t c, i;

	for (c = 0; c < u->nchildren; c++) {
		const struct upsert_child *ch = &u->children[c];

		int ready;

		if (!u->nwr && !u->ndl)
			return 0;
		if ((ready = db_child_ready(u->db, ch->table, u->table, e)) <= 0)
			return ready;
		for (i = 0; i < u->nwr; i++) {
			ssize_t n = elements(u, u->wr[i], &ch->ptr);

			if (n < 0)
				return aperr_set(e, EX_OSERR, "out of memory");
			if (db_child_put(u->db, ch->table, u->wr[i]->vals, u->elem, u->elemlen,
					 (size_t)n, u->now, e) < 0)
				return -1;
		}
		for (i = 0; i < u->ndl; i++)
			if (db_child_put(u->db, ch->table, u->dl[i]->vals, NULL, NULL, 0, u->now, e) < 0)
				return -1;
	}
	return 0;
}

/* One attempt at the open batch: lookup, decide, write, watermark, states, commit. */
static int flush_once(struct upsert *u, struct aperr *e)
{
	struct instant t;
	size_t i;

	if (db_begin(u->db, e) < 0)
		return -1;
	u->in_tx = 1;
	instant_now(&t);
	instant_format(&t, u->now, sizeof(u->now));
	for (i = 0; i < u->nrows; i++) {
		u->rows[i].rec = u->batch.buf + u->off[i];
		u->rows[i].n = (i + 1 < u->nrows ? u->off[i + 1] : u->batch.len) - u->off[i] - 1;
	}
	u->nwr = u->ndl = 0;
	if (u->nrows) {
		uint64_t deleted = 0;

		/*
		 * with deletes or children, a key's writers wait for each other, in
		 * one order: a tombstone is seen, and a parent's rows and its
		 * children's are locked by one writer at a time (no deadlock)
		 */
		if ((u->del || u->nchildren) && db_key_locks(u->db, u->ktext, u->nrows, e) < 0)
			return -1;
		if (db_lookup(u->db, u->rows, u->nrows, e) < 0 ||
		    (u->del && u->newer && db_tomb_lookup(u->db, u->table, u->rows, u->ktext,
							   u->nrows, e) < 0) ||
		    decide(u, e) < 0 || db_write(u->db, u->wr, u->nwr, u->now, e) < 0 ||
		    (u->ndl && db_delete(u->db, u->table, u->dl, u->dlkey, u->ndl, u->newer != NULL,
					 u->now, &deleted, e) < 0))
			return -1;
		recount(u);
		u->b_count[4] = deleted;
		if (u->nchildren && put_children(u, e) < 0)
			return -1;
	}
	if (u->replace_table && !u->swapping)
		goto commit;	/* the watermark and the states wait for the swap */
	if (u->swapping && db_replace_swap(u->db, u->replace_table, u->replace_staging, e) < 0)
		return -1;
	if (u->wm_field && u->have_wm_batch && put_watermark(u, e) < 0)
		return -1;
	/* the states the rows of this batch and before it complete */
	for (i = 0; i < u->nstates; i++)
		if (u->states[i].dirty &&
		    db_state_put(u->db, u->states[i].name, u->states[i].value.buf, u->now, e) < 0)
			return -1;
	/* a dead-lettered record counts as landed: on disk before the state says so */
	if (u->states_dirty && u->before_commit && u->before_commit(u->ctx, e) < 0)
		return -1;
commit:
	if (db_commit(u->db, e) < 0)
		return -1;
	u->in_tx = 0;
	return 0;
}

int upsert_dirty(const struct upsert *u)
{
	return u->nrows || (u->states_dirty && (!u->replace_table || u->swapping));
}

static int fail(struct upsert *u)
{
	if (u->in_tx)
		db_rollback(u->db);
	u->in_tx = 0;
	return -1;
}

int upsert_flush(struct upsert *u, struct aperr *e)
{
	struct backoff bo;
	unsigned tries = 0;
	size_t k;

	if (!upsert_dirty(u))
		return 0;
	backoff_init(&bo, 0.2, 5, 0.05);	/* six tries over 5 to 10 seconds: a restart's */
	bo.jitter = 0.5;
	while (flush_once(u, e) < 0) {
		if (e->code != EX_TEMPFAIL || tries >= 6)
			return fail(u);
		fail(u);
		if (u->warn) {
			char m[sizeof(e->msg) + 40];

			snprintf(m, sizeof(m), "%s; replaying the batch (%u)", e->msg, tries + 1);
			u->warn(u->ctx, m);
		}
		backoff_sleep(backoff_delay(&bo, tries));
		tries++;
		if (db_reconnect(u->db, e) < 0 && tries >= 6)
			return fail(u);
	}
	u->batches++;
	u->inserted += u->b_count[0];
	u->updated += u->b_count[1];
	u->unchanged += u->b_count[2];
	u->skipped += u->b_count[3];
	u->deleted += u->b_count[4];
	u->nrows = 0;
	strbuf_reset(&u->batch);
	if (u->replace_table && !u->swapping)
		return 0;	/* held for the swap */
	u->have_wm_batch = 0;
	for (k = 0; k < u->nstates; k++)
		u->states[k].dirty = 0;
	u->states_dirty = 0;
	return 0;
}

int upsert_replace(struct upsert *u, struct aperr *e)
{
	int r;

	u->swapping = 1;
	u->states_dirty = 1;	/* a flush even without rows: the swap */
	r = upsert_flush(u, e);
	u->swapping = 0;
	return r;
}

int upsert_state(struct upsert *u, const char *name, const char *value, size_t n,
		 struct aperr *e)
{
	size_t k;

	for (k = 0; k < u->nstates && strcmp(u->states[k].name, name); k++)
		;
	if (k == u->nstates) {
		struct upsert_state *ns = realloc(u->states, (k + 1) * sizeof(*ns));

		if (!ns)
			return aperr_set(e, EX_OSERR, "out of memory");
		u->states = ns;
		if (!(u->states[k].name = strdup(name)))
			return aperr_set(e, EX_OSERR, "out of memory");
		strbuf_init(&u->states[k].value, 0);
		u->nstates++;
	}
	strbuf_reset(&u->states[k].value);
	if (strbuf_add(&u->states[k].value, value, n) < 0)
		return aperr_set(e, EX_OSERR, "out of memory");
	u->states[k].dirty = 1;
	u->states_dirty = 1;
	return 0;
}

/* Room for one more row in the open batch. */
static struct db_row *next_row(struct upsert *u)
{
	if (u->nrows == u->arows) {
		size_t na = u->arows ? u->arows * 2 : 64, i;
		void *p[12];

		p[0] = realloc(u->rows, na * sizeof(*u->rows));
		if (p[0])
			u->rows = p[0];
		p[1] = realloc(u->off, na * sizeof(*u->off));
		if (p[1])
			u->off = p[1];
		p[2] = realloc(u->key, na * sizeof(*u->key));
		if (p[2])
			u->key = p[2];
		p[3] = realloc(u->after, na * sizeof(*u->after));
		if (p[3])
			u->after = p[3];
		p[4] = realloc(u->afterlen, na * sizeof(*u->afterlen));
		if (p[4])
			u->afterlen = p[4];
		p[5] = realloc(u->wr, na * sizeof(*u->wr));
		if (p[5])
			u->wr = p[5];
		p[6] = realloc(u->pending, na * sizeof(*u->pending));
		if (p[6])
			u->pending = p[6];
		p[7] = realloc(u->ktext, na * sizeof(*u->ktext));
		if (p[7])
			u->ktext = p[7];
		p[8] = realloc(u->afterdel, na * sizeof(*u->afterdel));
		if (p[8])
			u->afterdel = p[8];
		p[9] = realloc(u->dl, na * sizeof(*u->dl));
		if (p[9])
			u->dl = p[9];
		p[10] = realloc(u->dlkey, na * sizeof(*u->dlkey));
		if (p[10])
			u->dlkey = p[10];
		p[11] = realloc(u->pdl, na * sizeof(*u->pdl));
		if (p[11])
			u->pdl = p[11];
		for (i = 0; i < 12; i++)
			if (!p[i])
				return NULL;
		for (i = u->arows; i < na; i++) {
			db_row_init(&u->rows[i], u->ncols);
			strbuf_init(&u->key[i], 0);
			strbuf_init(&u->ktext[i], 0);
		}
		u->arows = na;
	}
	return &u->rows[u->nrows];
}

/* The first version seen says how the database compares them (--only-newer). */
static int newer_in_sql(struct upsert *u, const struct json_doc *d, struct aperr *e)
{
	uint32_t t = json_ptr_eval(u->newer, d, 0);
	const char *cast;

	if (t == JSON_ABSENT || ordval_set(&u->b, d, t, ORD_AUTO, e) < 0)
		return 0;
	cast = u->b.kind == ORD_TIMESTAMP ? "timestamptz" : u->b.kind == ORD_STRING ? NULL : "numeric";
	if (db_set_newer(u->db, u->newer, cast, e) < 0)
		return -1;
	u->newer_in_sql = 1;
	return 0;
}

int upsert_add(struct upsert *u, const struct json_doc *d, const char *line, size_t n,
	       const char **ptr, struct aperr *e)
{
	struct db_row *r;

	*ptr = NULL;
	if (u->newer && !u->newer_in_sql && newer_in_sql(u, d, e) < 0)
		return -1;
	if (!(r = next_row(u)))
		return aperr_set(e, EX_OSERR, "out of memory");
	if (extract(u, d, r, ptr, e) < 0)
		return UPSERT_REJECT;
	if (u->wm_field && (!u->have_wm_batch || (u->a.kind == u->wm_batch.kind &&
						  ordval_cmp(&u->a, &u->wm_batch) > 0))) {
		if (ordval_copy(&u->wm_batch, &u->a) < 0)
			return aperr_set(e, EX_OSERR, "out of memory");
		u->have_wm_batch = 1;
	}
	if (key_bytes(u, r, &u->key[u->nrows]) < 0 ||
	    ((u->del || u->nchildren) && db_key_text(r->vals, u->nkeys, &u->ktext[u->nrows]) < 0))
		return aperr_set(e, EX_OSERR, "out of memory");
	u->off[u->nrows] = u->batch.len;
	if (strbuf_add(&u->batch, line, n) < 0 || strbuf_addch(&u->batch, '\n') < 0)
		return aperr_set(e, EX_OSERR, "out of memory");
	u->nrows++;
	return 0;
}
