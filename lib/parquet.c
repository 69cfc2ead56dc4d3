/* Parquet writer: see parquet.h.  Field ids follow parquet-format's parquet.thrift. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "parquet.h"
#include "strbuf.h"

#define DEFAULT_GROUP_ROWS 65536

/* --- Thrift compact protocol ---------------------------------------------- */

enum { TC_TRUE = 1, TC_FALSE = 2, TC_I32 = 5, TC_I64 = 6, TC_BINARY = 8, TC_LIST = 9,
       TC_STRUCT = 12 };

struct tc {
	struct strbuf *b;
	int last[16];	/* the last field id written, per open struct */
	int depth;
};

static void tc_varint(struct strbuf *b, uint64_t v)
{
	while (v >= 0x80) {
		strbuf_addch(b, (char)(v | 0x80));
		v >>= 7;
	}
	strbuf_addch(b, (char)v);
}

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static void tc_field(struct tc *t, int id, int type)
{
	int delta = id - t->last[t->depth];

	if (delta > 0 && delta <= 15) {
		strbuf_addch(t->b, (char)(delta << 4 | type));
	} else {
		strbuf_addch(t->b, (char)type);
		tc_varint(t->b, zigzag(id));
	}
	t->last[t->depth] = id;
}

static void tc_i32(struct tc *t, int id, int32_t v)
{
	tc_field(t, id, TC_I32);
	tc_varint(t->b, zigzag(v));
}

static void tc_i64(struct tc *t, int id, int64_t v)
{
	tc_field(t, id, TC_I64);
	tc_varint(t->b, zigzag(v));
}

static void tc_bin(struct tc *t, int id, const void *p, size_t n)
{
	tc_field(t, id, TC_BINARY);
	tc_varint(t->b, n);
	strbuf_add(t->b, p, n);
}

static void tc_bool(struct tc *t, int id, int v)
{
	tc_field(t, id, v ? TC_TRUE : TC_FALSE);
}

/* A struct member (id > 0) or a list element (id 0); end it with tc_end. */
static void tc_begin(struct tc *t, int id)
{
	if (id)
		tc_field(t, id, TC_STRUCT);
	t->last[++t->depth] = 0;
}

static void tc_end(struct tc *t)
{
	strbuf_addch(t->b, 0);
	t->depth--;
}

static void tc_list(struct tc *t, int id, int elem, size_t n)
{
	tc_field(t, id, TC_LIST);
	if (n < 15) {
		strbuf_addch(t->b, (char)(n << 4 | (size_t)elem));
	} else {
		strbuf_addch(t->b, (char)(0xf0 | elem));
		tc_varint(t->b, n);
	}
}

/* --- the writer ------------------------------------------------------------ */

enum { T_BOOLEAN = 0, T_INT64 = 2, T_BYTE_ARRAY = 6, T_FLBA = 7 };

struct chunk {
	int64_t offset, uncompressed, compressed, values, nulls;
	int64_t dict_offset;	/* 0: no dictionary page */
	struct strbuf min, max;
	int has_minmax;
};

/* A column's part of a row group: the one filling, or the one being compressed. */
struct side {
	struct strbuf vals;	/* non-null values, PLAIN */
	struct strbuf defs;	/* one byte a row: 1 a value, 0 null */
	size_t nvals;
	int64_t nulls;
	int has_minmax;
	int64_t imin, imax;
	__int128 dmin, dmax;
	struct strbuf smin, smax;
	/*
	 * Strings: a dictionary built alongside, while it stays small; the
	 * page is written with whichever encoding is smaller.
	 */
	int dict_off;		/* too many distinct values: PLAIN only */
	struct strbuf dict;	/* the distinct values, PLAIN */
	uint32_t *dpos;		/* where each starts in dict */
	uint32_t *slot;		/* hash table of entry + 1 */
	uint32_t *idx;		/* each value's entry */
	size_t ndict, nslot, nidx, aidx, adpos;
};

struct parquet_col {
	struct parquet_column c;
	struct side cur, job;
	struct strbuf page, zbuf;	/* job's page, and compressed */
	struct strbuf dpage, dzbuf;	/* job's dictionary page, and compressed */
	int use_dict;			/* job written with its dictionary */
	int zfailed;
	struct chunk *chunks;	/* one a row group written */
};

struct parquet_writer {
	struct lwriter *out;
	struct parquet_col *cols;
	size_t ncols, group_rows, rows_in_group, ngroups;
	uint64_t rows;
	int64_t pos;		/* bytes written */
	enum parquet_codec codec;
	int64_t *group_rows_n;	/* rows of each group written */
	struct strbuf hdr;
	/*
	 * The row group before the one filling is compressed by a thread while
	 * records are read (and by the caller too, once it needs the group
	 * written): columns are taken one at a time from next.
	 */
	int job_pending, bg_started;
	size_t job_rows;
	atomic_size_t next;
	pthread_t bg;
};

static void side_init(struct side *d)
{
	memset(d, 0, sizeof(*d));
	strbuf_init(&d->vals, 0);
	strbuf_init(&d->defs, 0);
	strbuf_init(&d->smin, 0);
	strbuf_init(&d->smax, 0);
	strbuf_init(&d->dict, 0);
}

static void side_release(struct side *d)
{
	strbuf_release(&d->vals);
	strbuf_release(&d->defs);
	strbuf_release(&d->smin);
	strbuf_release(&d->smax);
	strbuf_release(&d->dict);
	free(d->dpos);
	free(d->slot);
	free(d->idx);
}

/* Empty a side for the next row group, keeping its memory. */
static void side_reset(struct side *d)
{
	strbuf_reset(&d->vals);
	strbuf_reset(&d->defs);
	strbuf_reset(&d->dict);
	d->nvals = 0;
	d->nulls = 0;
	d->has_minmax = 0;
	d->dict_off = 0;
	d->ndict = d->nidx = 0;
	if (d->slot)
		memset(d->slot, 0, d->nslot * sizeof(*d->slot));
}

static int oom(struct aperr *e)
{
	return aperr_set(e, EX_OSERR, "out of memory");
}

struct parquet_writer *parquet_new(struct lwriter *out, const struct parquet_column *cols, size_t ncols,
			 size_t group_rows, enum parquet_codec codec, struct aperr *e)
{
	struct parquet_writer *w = calloc(1, sizeof(*w));
	size_t i;

	if (!w || !(w->cols = calloc(ncols ? ncols : 1, sizeof(*w->cols)))) {
		free(w);
		oom(e);
		return NULL;
	}
	w->out = out;
	w->ncols = ncols;
	w->group_rows = group_rows ? group_rows : DEFAULT_GROUP_ROWS;
	w->codec = codec;
	strbuf_init(&w->hdr, 0);
	for (i = 0; i < ncols; i++) {
		struct parquet_col *c = &w->cols[i];

		c->c = cols[i];
		c->c.name = strdup(cols[i].name);
		side_init(&c->cur);
		side_init(&c->job);
		strbuf_init(&c->page, 0);
		strbuf_init(&c->zbuf, 0);
		strbuf_init(&c->dpage, 0);
		strbuf_init(&c->dzbuf, 0);
		if (!c->c.name) {
			w->ncols = i + 1;
			parquet_free(w);
			oom(e);
			return NULL;
		}
	}
	return w;
}

void parquet_free(struct parquet_writer *w)
{
	size_t i, g;

	if (!w)
		return;
	if (w->bg_started)
		pthread_join(w->bg, NULL);
	for (i = 0; i < w->ncols; i++) {
		struct parquet_col *c = &w->cols[i];

		free((char *)(uintptr_t)c->c.name);
		side_release(&c->cur);
		side_release(&c->job);
		strbuf_release(&c->page);
		strbuf_release(&c->zbuf);
		strbuf_release(&c->dpage);
		strbuf_release(&c->dzbuf);
		for (g = 0; g < w->ngroups && c->chunks; g++) {
			strbuf_release(&c->chunks[g].min);
			strbuf_release(&c->chunks[g].max);
		}
		free(c->chunks);
	}
	free(w->cols);
	free(w->group_rows_n);
	strbuf_release(&w->hdr);
	free(w);
}

uint64_t parquet_rows(const struct parquet_writer *w)
{
	return w->rows;
}

size_t parquet_row_groups(const struct parquet_writer *w)
{
	return w->ngroups;
}

static int put(struct parquet_writer *w, const void *p, size_t n, struct aperr *e)
{
	int r = lwriter_write(w->out, p, n, e);

	if (r)
		return r;
	w->pos += (int64_t)n;
	return 0;
}

static void le64(char *o, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		o[i] = (char)(v >> (8 * i));
}

/* The 16-byte big-endian two's complement form of v. */
static void be128(char *o, __int128 v)
{
	unsigned __int128 u = (unsigned __int128)v;
	int i;

	for (i = 15; i >= 0; i--) {
		o[i] = (char)(uint8_t)u;
		u >>= 8;
	}
}

static int value_start(struct parquet_writer *w, size_t col, int present, struct aperr *e)
{
	struct parquet_col *c = &w->cols[col];

	if (strbuf_addch(&c->cur.defs, present ? 1 : 0) < 0)
		return oom(e);
	if (!present)
		c->cur.nulls++;
	else
		c->cur.nvals++;
	return 0;
}

int parquet_null(struct parquet_writer *w, size_t col, struct aperr *e)
{
	return value_start(w, col, 0, e);
}

int parquet_int(struct parquet_writer *w, size_t col, int64_t v, struct aperr *e)
{
	struct parquet_col *c = &w->cols[col];
	char b[8];

	if (value_start(w, col, 1, e) < 0)
		return -1;
	if (c->c.kind == PQ_BOOLEAN) {
		size_t bit = c->cur.nvals - 1;

		if (bit % 8 == 0 && strbuf_addch(&c->cur.vals, 0) < 0)
			return oom(e);
		if (v)
			c->cur.vals.buf[bit / 8] = (char)(c->cur.vals.buf[bit / 8] | (1 << (bit % 8)));
		v = v != 0;
	} else {
		le64(b, (uint64_t)v);
		if (strbuf_add(&c->cur.vals, b, 8) < 0)
			return oom(e);
	}
	if (!c->cur.has_minmax || v < c->cur.imin)
		c->cur.imin = v;
	if (!c->cur.has_minmax || v > c->cur.imax)
		c->cur.imax = v;
	c->cur.has_minmax = 1;
	return 0;
}

int parquet_decimal(struct parquet_writer *w, size_t col, __int128 v, struct aperr *e)
{
	struct parquet_col *c = &w->cols[col];
	char b[16];

	if (value_start(w, col, 1, e) < 0)
		return -1;
	be128(b, v);
	if (strbuf_add(&c->cur.vals, b, 16) < 0)
		return oom(e);
	if (!c->cur.has_minmax || v < c->cur.dmin)
		c->cur.dmin = v;
	if (!c->cur.has_minmax || v > c->cur.dmax)
		c->cur.dmax = v;
	c->cur.has_minmax = 1;
	return 0;
}

/* Unsigned bytewise order, as Parquet orders UTF-8 strings. */
static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int r = memcmp(a, b, an < bn ? an : bn);

	return r ? r : (an > bn) - (an < bn);
}

#define DICT_MAX_ENTRIES 65536
#define DICT_MAX_BYTES ((size_t)1 << 20)

static uint64_t fnv(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

/* The length of the PLAIN entry at q (its 4-byte little-endian prefix). */
static size_t entry_len(const char *q)
{
	return (size_t)(unsigned char)q[0] | (size_t)(unsigned char)q[1] << 8 |
	       (size_t)(unsigned char)q[2] << 16 | (size_t)(unsigned char)q[3] << 24;
}

/* Note value p[0..n) in d's dictionary (while it lasts).  0, or -1 out of memory. */
static int dict_add(struct side *d, const char *p, size_t n)
{
	size_t i, mask;
	uint32_t e;
	char b[4];
	int k;

	if (d->dict_off)
		return 0;
	if (!d->slot || (d->ndict + 1) * 2 > d->nslot) {
		/* a table at most half full: grow it, entries placed again */
		size_t ns = d->slot ? d->nslot * 2 : 64, m = ns - 1, x;
		uint32_t *nt = calloc(ns, sizeof(*nt));

		if (!nt)
			return -1;
		for (x = 0; x < d->ndict; x++) {
			const char *q = d->dict.buf + d->dpos[x];
			size_t qn = entry_len(q), y;

			for (y = (size_t)fnv(q + 4, qn) & m; nt[y]; y = (y + 1) & m)
				;
			nt[y] = (uint32_t)x + 1;
		}
		free(d->slot);
		d->slot = nt;
		d->nslot = ns;
	}
	mask = d->nslot - 1;
	for (i = (size_t)fnv(p, n) & mask;; i = (i + 1) & mask) {
		const char *q;
		size_t qn;

		e = d->slot[i];
		if (!e)
			break;
		q = d->dict.buf + d->dpos[e - 1];
		qn = entry_len(q);
		if (qn == n && !memcmp(q + 4, p, n))
			break;
	}
	if (!e) {
		if (d->ndict == DICT_MAX_ENTRIES || d->dict.len + n + 4 > DICT_MAX_BYTES) {
			d->dict_off = 1;	/* too varied: PLAIN serves better */
			return 0;
		}
		if (d->ndict == d->adpos) {
			uint32_t *np = realloc(d->dpos, (d->adpos ? d->adpos * 2 : 64) * sizeof(*np));

			if (!np)
				return -1;
			d->dpos = np;
			d->adpos = d->adpos ? d->adpos * 2 : 64;
		}
		d->dpos[d->ndict] = (uint32_t)d->dict.len;
		for (k = 0; k < 4; k++)
			b[k] = (char)(n >> (8 * k));
		if (strbuf_add(&d->dict, b, 4) < 0 || strbuf_add(&d->dict, p, n) < 0)
			return -1;
		e = (uint32_t)++d->ndict;
		d->slot[i] = e;
	}
	if (d->nidx == d->aidx) {
		uint32_t *ni = realloc(d->idx, (d->aidx ? d->aidx * 2 : 256) * sizeof(*ni));

		if (!ni)
			return -1;
		d->idx = ni;
		d->aidx = d->aidx ? d->aidx * 2 : 256;
	}
	d->idx[d->nidx++] = e - 1;
	return 0;
}

int parquet_bytes(struct parquet_writer *w, size_t col, const char *p, size_t n, struct aperr *e)
{
	struct parquet_col *c = &w->cols[col];
	char b[4];
	int i;

	if (n > UINT32_MAX)
		return aperr_set(e, EX_DATAERR, "a value of %zu bytes is too long for Parquet", n);
	if (value_start(w, col, 1, e) < 0)
		return -1;
	for (i = 0; i < 4; i++)
		b[i] = (char)(n >> (8 * i));
	if (strbuf_add(&c->cur.vals, b, 4) < 0 || strbuf_add(&c->cur.vals, p, n) < 0 ||
	    dict_add(&c->cur, p, n) < 0)
		return oom(e);
	if (c->c.kind == PQ_JSON)
		return 0;	/* JSON has no order: no min or max */
	if (!c->cur.has_minmax || bytes_cmp(p, n, c->cur.smin.buf, c->cur.smin.len) < 0) {
		strbuf_reset(&c->cur.smin);
		if (strbuf_add(&c->cur.smin, p, n) < 0)
			return oom(e);
	}
	if (!c->cur.has_minmax || bytes_cmp(p, n, c->cur.smax.buf, c->cur.smax.len) > 0) {
		strbuf_reset(&c->cur.smax);
		if (strbuf_add(&c->cur.smax, p, n) < 0)
			return oom(e);
	}
	c->cur.has_minmax = 1;
	return 0;
}

/* Definition levels of width 1 as one bit-packed run, after their 4-byte length. */
static int put_levels(struct strbuf *page, const struct strbuf *defs)
{
	size_t groups = (defs->len + 7) / 8, i;
	struct strbuf run = STRBUF_INIT;
	char len[4];
	int k;

	tc_varint(&run, (uint64_t)groups << 1 | 1);
	for (i = 0; i < groups; i++) {
		unsigned byte = 0;

		for (k = 0; k < 8 && i * 8 + (size_t)k < defs->len; k++)
			if (defs->buf[i * 8 + (size_t)k])
				byte |= 1u << k;
		strbuf_addch(&run, (char)byte);
	}
	for (k = 0; k < 4; k++)
		len[k] = (char)(run.len >> (8 * k));
	strbuf_add(page, len, 4);
	strbuf_add(page, run.buf, run.len);
	strbuf_release(&run);
	return strbuf_failed(page) ? -1 : 0;
}

static int gzip_into(struct strbuf *out, const struct strbuf *in)
{
	z_stream z;
	uLong bound;
	int r;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	bound = deflateBound(&z, (uLong)in->len);
	strbuf_reset(out);
	if (strbuf_grow(out, bound) < 0) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (Bytef *)(uintptr_t)(in->buf);
	z.avail_in = (uInt)in->len;
	z.next_out = (Bytef *)out->buf;
	z.avail_out = (uInt)bound;
	r = deflate(&z, Z_FINISH);
	out->len = bound - z.avail_out;
	deflateEnd(&z);
	return r == Z_STREAM_END ? 0 : -1;
}

static int physical(enum parquet_kind k)
{
	switch (k) {
	case PQ_INT64: case PQ_TIMESTAMP: return T_INT64;
	case PQ_DECIMAL: return T_FLBA;
	case PQ_BOOLEAN: return T_BOOLEAN;
	default: return T_BYTE_ARRAY;
	}
}

/* Column c's job as one data page in c->page, compressed into c->zbuf. */
/* Indices of bit width bw as one bit-packed run of the RLE/bit-packed hybrid. */
static int put_indices(struct strbuf *page, const uint32_t *idx, size_t n, unsigned bw)
{
	size_t groups = (n + 7) / 8, i;
	uint64_t acc = 0;
	unsigned bits = 0;

	tc_varint(page, (uint64_t)groups << 1 | 1);
	for (i = 0; i < groups * 8; i++) {
		acc |= (uint64_t)(i < n ? idx[i] : 0) << bits;
		bits += bw;
		while (bits >= 8) {
			strbuf_addch(page, (char)(acc & 0xff));
			acc >>= 8;
			bits -= 8;
		}
	}
	return strbuf_failed(page) ? -1 : 0;
}

static void build_page(struct parquet_writer *w, struct parquet_col *c)
{
	const struct side *j = &c->job;
	unsigned bw = 1;

	while (j->ndict > (size_t)1 << bw)
		bw++;
	/* the dictionary and its indices, when they are smaller than the values */
	c->use_dict = !j->dict_off && j->ndict && j->nidx == j->nvals &&
		      j->dict.len + 1 + (j->nidx * bw + 7) / 8 + 8 < j->vals.len;
	strbuf_reset(&c->page);
	c->zfailed = put_levels(&c->page, &j->defs) < 0;
	if (c->use_dict) {
		strbuf_addch(&c->page, (char)bw);
		c->zfailed |= put_indices(&c->page, j->idx, j->nidx, bw) < 0;
		strbuf_reset(&c->dpage);
		c->zfailed |= strbuf_add(&c->dpage, j->dict.buf, j->dict.len) < 0;
		if (!c->zfailed && w->codec == PQ_GZIP)
			c->zfailed = gzip_into(&c->dzbuf, &c->dpage) < 0;
	} else {
		c->zfailed |= strbuf_add(&c->page, j->vals.buf, j->vals.len) < 0;
	}
	if (!c->zfailed && w->codec == PQ_GZIP && c->page.len <= INT32_MAX)
		c->zfailed = gzip_into(&c->zbuf, &c->page) < 0;
}

/* Take columns of the pending group and build their pages until none is left. */
static void build_pages(struct parquet_writer *w)
{
	size_t i;

	while ((i = atomic_fetch_add(&w->next, 1)) < w->ncols)
		build_page(w, &w->cols[i]);
}

static void *build_thread(void *arg)
{
	build_pages(arg);
	return NULL;
}

/* Write column c's built page; note it as its chunk of row group g. */
static int write_chunk(struct parquet_writer *w, struct parquet_col *c, size_t g, struct aperr *e)
{
	struct chunk *k = &c->chunks[g];
	const struct strbuf *body = w->codec == PQ_GZIP ? &c->zbuf : &c->page;
	const struct side *j = &c->job;
	struct tc t;
	char b[16];

	memset(k, 0, sizeof(*k));
	strbuf_init(&k->min, 0);
	strbuf_init(&k->max, 0);
	if (c->page.len > INT32_MAX)
		return aperr_set(e, EX_DATAERR, "column %s: a row group's page is over 2 GiB; "
				 "use a smaller --row-group", c->c.name);
	if (c->zfailed)
		return aperr_set(e, EX_OSERR, "column %s: out of memory building a page", c->c.name);
	k->uncompressed = k->compressed = 0;
	if (c->use_dict) {
		const struct strbuf *dbody = w->codec == PQ_GZIP ? &c->dzbuf : &c->dpage;

		strbuf_reset(&w->hdr);
		memset(&t, 0, sizeof(t));
		t.b = &w->hdr;
		tc_i32(&t, 1, 2);				/* type: DICTIONARY_PAGE */
		tc_i32(&t, 2, (int32_t)c->dpage.len);
		tc_i32(&t, 3, (int32_t)dbody->len);
		tc_begin(&t, 7);				/* dictionary_page_header */
		tc_i32(&t, 1, (int32_t)j->ndict);		/* num_values */
		tc_i32(&t, 2, 2);				/* encoding: PLAIN_DICTIONARY */
		tc_end(&t);
		strbuf_addch(&w->hdr, 0);
		if (strbuf_failed(&w->hdr))
			return oom(e);
		k->dict_offset = w->pos;
		k->uncompressed += (int64_t)(w->hdr.len + c->dpage.len);
		k->compressed += (int64_t)(w->hdr.len + dbody->len);
		if (put(w, w->hdr.buf, w->hdr.len, e) || put(w, dbody->buf, dbody->len, e))
			return -1;
	}
	strbuf_reset(&w->hdr);
	memset(&t, 0, sizeof(t));
	t.b = &w->hdr;
	tc_i32(&t, 1, 0);				/* type: DATA_PAGE */
	tc_i32(&t, 2, (int32_t)c->page.len);		/* uncompressed_page_size */
	tc_i32(&t, 3, (int32_t)body->len);		/* compressed_page_size */
	tc_begin(&t, 5);				/* data_page_header */
	tc_i32(&t, 1, (int32_t)j->defs.len);		/* num_values */
	tc_i32(&t, 2, c->use_dict ? 8 : 0);		/* encoding: RLE_DICTIONARY or PLAIN */
	tc_i32(&t, 3, 3);				/* definition_level_encoding: RLE */
	tc_i32(&t, 4, 3);				/* repetition_level_encoding: RLE */
	tc_end(&t);
	strbuf_addch(&w->hdr, 0);
	if (strbuf_failed(&w->hdr))
		return oom(e);
	k->offset = w->pos;
	k->values = (int64_t)j->defs.len;
	k->nulls = j->nulls;
	k->uncompressed += (int64_t)(w->hdr.len + c->page.len);
	k->compressed += (int64_t)(w->hdr.len + body->len);
	if (put(w, w->hdr.buf, w->hdr.len, e) || put(w, body->buf, body->len, e))
		return -1;
	k->has_minmax = j->has_minmax;
	if (j->has_minmax) {
		switch (c->c.kind) {
		case PQ_INT64: case PQ_TIMESTAMP:
			le64(b, (uint64_t)j->imin);
			strbuf_add(&k->min, b, 8);
			le64(b, (uint64_t)j->imax);
			strbuf_add(&k->max, b, 8);
			break;
		case PQ_BOOLEAN:
			strbuf_addch(&k->min, (char)j->imin);
			strbuf_addch(&k->max, (char)j->imax);
			break;
		case PQ_DECIMAL:
			be128(b, j->dmin);
			strbuf_add(&k->min, b, 16);
			be128(b, j->dmax);
			strbuf_add(&k->max, b, 16);
			break;
		default:
			strbuf_add(&k->min, j->smin.buf, j->smin.len);
			strbuf_add(&k->max, j->smax.buf, j->smax.len);
			break;
		}
		if (strbuf_failed(&k->min) || strbuf_failed(&k->max))
			return oom(e);
	}
	return 0;
}

/* Write the pending row group: help build its pages, then write them in column order. */
static int finish_job(struct parquet_writer *w, struct aperr *e)
{
	size_t i, n = w->ngroups;
	int64_t *g;

	if (!w->job_pending)
		return 0;
	build_pages(w);
	if (w->bg_started) {
		pthread_join(w->bg, NULL);
		w->bg_started = 0;
	}
	w->job_pending = 0;
	g = realloc(w->group_rows_n, (n + 1) * sizeof(*g));
	if (!g)
		return oom(e);
	w->group_rows_n = g;
	for (i = 0; i < w->ncols; i++) {
		struct chunk *k = realloc(w->cols[i].chunks, (n + 1) * sizeof(*k));

		if (!k)
			return oom(e);
		memset(&k[n], 0, sizeof(*k));
		w->cols[i].chunks = k;
	}
	w->ngroups = n + 1;	/* from here parquet_free releases this group's chunks */
	g[n] = (int64_t)w->job_rows;
	for (i = 0; i < w->ncols; i++)
		if (write_chunk(w, &w->cols[i], n, e) < 0)
			return -1;
	return 0;
}

/* Hand the filled row group to a thread to build, after writing the one before. */
static int write_group(struct parquet_writer *w, struct aperr *e)
{
	size_t i;

	if (!w->rows_in_group)
		return 0;
	if (finish_job(w, e) < 0)
		return -1;
	for (i = 0; i < w->ncols; i++) {
		struct parquet_col *c = &w->cols[i];
		struct side tmp = c->job;

		c->job = c->cur;
		c->cur = tmp;
		side_reset(&c->cur);
	}
	w->job_rows = w->rows_in_group;
	w->rows_in_group = 0;
	atomic_store(&w->next, 0);
	w->job_pending = 1;
	w->bg_started = pthread_create(&w->bg, NULL, build_thread, w) == 0;
	return 0;
}

int parquet_end_row(struct parquet_writer *w, struct aperr *e)
{
	w->rows++;
	if (!w->pos && put(w, "PAR1", 4, e))
		return -1;
	if (++w->rows_in_group >= w->group_rows)
		return write_group(w, e);
	return 0;
}

static void schema_element(struct tc *t, const struct parquet_column *c)
{
	tc_begin(t, 0);
	tc_i32(t, 1, physical(c->kind));			/* type */
	if (c->kind == PQ_DECIMAL)
		tc_i32(t, 2, 16);				/* type_length */
	tc_i32(t, 3, 1);					/* repetition_type: OPTIONAL */
	tc_bin(t, 4, c->name, strlen(c->name));			/* name */
	switch (c->kind) {
	case PQ_STRING:
		tc_i32(t, 6, 0);				/* converted_type: UTF8 */
		tc_begin(t, 10);				/* logicalType */
		tc_begin(t, 1);					/* STRING */
		tc_end(t);
		tc_end(t);
		break;
	case PQ_JSON:
		tc_i32(t, 6, 19);				/* JSON */
		tc_begin(t, 10);
		tc_begin(t, 12);				/* JSON */
		tc_end(t);
		tc_end(t);
		break;
	case PQ_DECIMAL:
		tc_i32(t, 6, 5);				/* DECIMAL */
		tc_i32(t, 7, c->scale);
		tc_i32(t, 8, PQ_DECIMAL_PRECISION);
		tc_begin(t, 10);
		tc_begin(t, 5);					/* DECIMAL */
		tc_i32(t, 1, c->scale);
		tc_i32(t, 2, PQ_DECIMAL_PRECISION);
		tc_end(t);
		tc_end(t);
		break;
	case PQ_TIMESTAMP:
		tc_i32(t, 6, 10);				/* TIMESTAMP_MICROS */
		tc_begin(t, 10);
		tc_begin(t, 8);					/* TIMESTAMP */
		tc_bool(t, 1, 1);				/* isAdjustedToUTC */
		tc_begin(t, 2);					/* unit */
		tc_begin(t, 2);					/* MICROS */
		tc_end(t);
		tc_end(t);
		tc_end(t);
		tc_end(t);
		break;
	default:
		break;
	}
	tc_end(t);
}

int parquet_finish(struct parquet_writer *w, struct aperr *e)
{
	struct strbuf f = STRBUF_INIT;
	struct tc t;
	size_t i, g;
	char len[4];
	int r, k;

	if (!w->pos && put(w, "PAR1", 4, e))
		return -1;
	if (write_group(w, e) < 0 || finish_job(w, e) < 0)
		return -1;
	memset(&t, 0, sizeof(t));
	t.b = &f;
	tc_i32(&t, 1, 1);					/* version */
	tc_list(&t, 2, TC_STRUCT, w->ncols + 1);		/* schema */
	tc_begin(&t, 0);
	tc_bin(&t, 4, "schema", 6);
	tc_i32(&t, 5, (int32_t)w->ncols);			/* num_children */
	tc_end(&t);
	for (i = 0; i < w->ncols; i++)
		schema_element(&t, &w->cols[i].c);
	tc_i64(&t, 3, (int64_t)w->rows);			/* num_rows */
	tc_list(&t, 4, TC_STRUCT, w->ngroups);			/* row_groups */
	for (g = 0; g < w->ngroups; g++) {
		int64_t total = 0, ztotal = 0;

		tc_begin(&t, 0);
		tc_list(&t, 1, TC_STRUCT, w->ncols);		/* columns */
		for (i = 0; i < w->ncols; i++) {
			const struct chunk *c = &w->cols[i].chunks[g];

			total += c->uncompressed;
			ztotal += c->compressed;
			tc_begin(&t, 0);
			tc_i64(&t, 2, c->dict_offset ? c->dict_offset : c->offset);	/* file_offset */
			tc_begin(&t, 3);			/* meta_data */
			tc_i32(&t, 1, physical(w->cols[i].c.kind));
			if (c->dict_offset) {	/* PLAIN_DICTIONARY, RLE, RLE_DICTIONARY */
				tc_list(&t, 2, TC_I32, 3);
				tc_varint(&f, zigzag(2));
				tc_varint(&f, zigzag(3));
				tc_varint(&f, zigzag(8));
			} else {		/* PLAIN, RLE */
				tc_list(&t, 2, TC_I32, 2);
				tc_varint(&f, zigzag(0));
				tc_varint(&f, zigzag(3));
			}
			tc_list(&t, 3, TC_BINARY, 1);		/* path_in_schema */
			tc_varint(&f, strlen(w->cols[i].c.name));
			strbuf_addstr(&f, w->cols[i].c.name);
			tc_i32(&t, 4, (int32_t)w->codec);
			tc_i64(&t, 5, c->values);
			tc_i64(&t, 6, c->uncompressed);
			tc_i64(&t, 7, c->compressed);
			tc_i64(&t, 9, c->offset);		/* data_page_offset */
			if (c->dict_offset)
				tc_i64(&t, 11, c->dict_offset);	/* dictionary_page_offset */
			tc_begin(&t, 12);			/* statistics */
			tc_i64(&t, 3, c->nulls);		/* null_count */
			if (c->has_minmax) {
				tc_bin(&t, 5, c->max.buf, c->max.len);	/* max_value */
				tc_bin(&t, 6, c->min.buf, c->min.len);	/* min_value */
			}
			tc_end(&t);
			tc_end(&t);
			tc_end(&t);
		}
		tc_i64(&t, 2, total);				/* total_byte_size */
		tc_i64(&t, 3, w->group_rows_n[g]);		/* num_rows */
		/* file_offset */
		tc_i64(&t, 5, w->cols[0].chunks[g].dict_offset ? w->cols[0].chunks[g].dict_offset
							       : w->cols[0].chunks[g].offset);
		tc_i64(&t, 6, ztotal);				/* total_compressed_size */
		tc_end(&t);
	}
	tc_bin(&t, 6, "apipe tabulate", 14);			/* created_by */
	strbuf_addch(&f, 0);
	if (strbuf_failed(&f)) {
		strbuf_release(&f);
		return oom(e);
	}
	for (k = 0; k < 4; k++)
		len[k] = (char)(f.len >> (8 * k));
	r = put(w, f.buf, f.len, e);
	strbuf_release(&f);
	if (r || put(w, len, 4, e) || put(w, "PAR1", 4, e))
		return -1;
	return 0;
}
