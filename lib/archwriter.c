#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archs3.h"
#include "archwriter.h"
#include "statefile.h"

int archive_claim(const char *dir, int append, int level, uint64_t *last_seq,
		  struct strbuf *report, struct aperr *e)
{
	struct strbuf lockpath = STRBUF_INIT;
	struct archive_manifest m;
	int lockfd, existing;

	if (statefile_mkdirs(dir, e) < 0) {
		char why[sizeof(e->msg)];

		snprintf(why, sizeof(why), "%s", e->msg);
		return aperr_set(e, EX_CANTCREAT, "%s: cannot create the archive directory: %s",
				 dir, why);
	}
	strbuf_addf(&lockpath, "%s/archive", dir);
	lockfd = statefile_lock(lockpath.buf, "archive", e);
	strbuf_release(&lockpath);
	if (lockfd < 0 && e->code == EX_TEMPFAIL)
		return aperr_set(e, EX_TEMPFAIL, "%s: another store-raw is writing to this archive",
				 dir);
	if (lockfd < 0)
		return -1;
	if (archive_manifest_read(dir, &m, e) < 0)
		goto fail;
	existing = m.n > 0 || m.torn;
	archive_manifest_release(&m);
	if (existing && !append) {
		aperr_set(e, EX_CANTCREAT, "%s: already holds an archive; use --append to continue it",
			  dir);
		goto fail;
	}
	if (archive_recover(dir, level, report, e) < 0 || archive_manifest_read(dir, &m, e) < 0)
		goto fail;
	*last_seq = m.max_seq;
	archive_manifest_release(&m);
	return lockfd;
fail:
	statefile_unlock(lockfd);
	return -1;
}

/* A byte count as the listing shows it: 9999, 12.3K, 45.6M, 78.9G. */
static void human(char *buf, size_t n, uint64_t v)
{
	if (v >= 10ULL << 30)
		snprintf(buf, n, "%.1fG", (double)v / (1 << 30));
	else if (v >= 10ULL << 20)
		snprintf(buf, n, "%.1fM", (double)v / (1 << 20));
	else if (v >= 10ULL << 10)
		snprintf(buf, n, "%.1fK", (double)v / (1 << 10));
	else
		snprintf(buf, n, "%llu", (unsigned long long)v);
}

static void list_row(struct strbuf *out, const char *name, uint64_t lines, uint64_t pages,
		     uint64_t ubytes, uint64_t bytes, const char *first, const char *last)
{
	char a[32], b[32];

	human(a, sizeof(a), ubytes);
	human(b, sizeof(b), bytes);
	strbuf_addf(out, "%-36s %9llu %7llu %8s %8s %5.1fx  %-24s %s\n", name,
		    (unsigned long long)lines, (unsigned long long)pages, a, b,
		    bytes ? (double)ubytes / (double)bytes : 0.0, first, last);
}

void archive_list_text(const struct archive_manifest *m, struct strbuf *out)
{
	uint64_t lines = 0, pages = 0, bytes = 0, ubytes = 0;
	char first[64] = "-", last[64] = "-";
	size_t i;

	strbuf_addf(out, "%-36s %9s %7s %8s %8s %6s  %-24s %s\n", "segment", "lines", "pages",
		    "bytes", "gzip", "ratio", "first fetched_at", "last fetched_at");
	for (i = 0; i < m->n; i++) {
		const struct archive_entry *me = &m->e[i];
		char f[64] = "-", l[64] = "-";

		if (me->have_time) {
			instant_format(&me->first, f, sizeof(f));
			instant_format(&me->last, l, sizeof(l));
			if (!strcmp(first, "-") || i == 0)
				snprintf(first, sizeof(first), "%s", f);
			snprintf(last, sizeof(last), "%s", l);
		}
		list_row(out, me->file, me->lines, me->pages, me->ubytes, me->bytes, f, l);
		lines += me->lines;
		pages += me->pages;
		bytes += me->bytes;
		ubytes += me->ubytes;
	}
	list_row(out, "total", lines, pages, ubytes, bytes, first, last);
	if (m->torn)
		strbuf_addf(out, "warning: manifest line %llu is incomplete\n",
			    (unsigned long long)m->torn_lineno);
}

int archive_writer_start(struct archive_writer *w, const char *dir, int level, unsigned threads,
			 uint64_t last_seq, struct aperr *e)
{
	uint64_t size = w->segment_size, lines = w->segment_lines;
	struct archive_s3 *s3 = w->s3;

	memset(w, 0, sizeof(*w));
	w->segment_size = size;
	w->segment_lines = lines;
	w->s3 = s3;
	w->seq = last_seq;
	strbuf_init(&w->held, 0);
	archive_meta_init(&w->meta);
	return archive_pool_start(&w->pool, dir, s3, level, threads, e);
}

void archive_writer_release(struct archive_writer *w)
{
	archive_meta_release(&w->meta);
	strbuf_release(&w->held);
	free(w->marks);
	w->marks = NULL;
}

/* Chunk seq reaches held[0..end). */
static int mark_at(struct archive_writer *w, uint64_t seq, size_t end, struct aperr *e)
{
	if (w->nmarks == w->amarks) {
		size_t n = w->amarks ? 2 * w->amarks : 16;
		struct archive_mark *m = realloc(w->marks, n * sizeof(*m));

		if (!m)
			return aperr_set(e, EX_OSERR, "out of memory");
		w->marks = m;
		w->amarks = n;
	}
	w->marks[w->nmarks].seq = seq;
	w->marks[w->nmarks].end = end;
	w->nmarks++;
	return 0;
}

static int mark(struct archive_writer *w, uint64_t seq, struct aperr *e)
{
	return mark_at(w, seq, w->held.len, e);
}

static int hold(struct archive_writer *w, const char *line, size_t n, struct aperr *e)
{
	if (strbuf_add(&w->held, line, n) < 0 || strbuf_addch(&w->held, '\n') < 0)
		return aperr_set(e, EX_OSERR, "out of memory");
	return 0;
}

int archive_writer_hold(struct archive_writer *w, const char *line, size_t n, struct aperr *e)
{
	return hold(w, line, n, e);
}

int archive_writer_add(struct archive_writer *w, const char *line, size_t n, const char *arch,
		       size_t an, const struct json_doc *d, struct aperr *e)
{
	if (hold(w, line, n, e) < 0)
		return -1;
	if (w->seg_lines && (w->seg_bytes + an + 1 > w->segment_size ||
			     (w->segment_lines && w->seg_lines >= w->segment_lines))) {
		/* the line just held goes to the next segment: mark before it */
		uint64_t end = archive_pool_end_segment(&w->pool, &w->j, &w->chunk, &w->meta);

		if (mark_at(w, end, w->held.len - n - 1, e) < 0)
			return -1;
		w->seg_bytes = w->seg_lines = 0;
	}
	if (!w->j) {
		w->j = archive_pool_get(&w->pool, w->chunk++);
		if (!w->seg_lines) {
			w->j->seg_start = 1;
			if (w->s3)
				archive_s3_segment_name(w->s3, w->j->name, sizeof(w->j->name), ++w->seq);
			else
				archive_segment_name(w->j->name, sizeof(w->j->name), ++w->seq);
		}
	}
	if (strbuf_add(&w->j->in, arch, an) < 0 || strbuf_addch(&w->j->in, '\n') < 0)
		return aperr_set(e, EX_OSERR, "out of memory");
	archive_meta_add(&w->meta, d, an);
	w->seg_bytes += an + 1;
	w->seg_lines++;
	if (w->j->in.len >= ARCHIVE_CHUNK) {
		if (mark(w, w->j->seq, e) < 0)
			return -1;
		archive_pool_submit(&w->pool, w->j);
		w->j = NULL;
	}
	return 0;
}

/*
 * Pass on what is durable; with wait, first wait until chunk seq is (or
 * the pool failed).
 */
static int release(struct archive_writer *w, struct lwriter *out, int wait, uint64_t seq,
		   struct aperr *e)
{
	uint64_t durable = archive_pool_durable(&w->pool, wait, seq);
	size_t k = 0, upto = 0;
	int r = 0;

	while (k < w->nmarks && w->marks[k].seq < durable)
		upto = w->marks[k++].end;
	if (!k)
		return 0;
	memmove(w->marks, w->marks + k, (w->nmarks - k) * sizeof(*w->marks));
	w->nmarks -= k;
	if (!w->gone) {
		r = lwriter_write(out, w->held.buf, upto, e);
		if (r == 0)
			r = lwriter_flush(out, e);
		if (r == LW_EPIPE) {
			w->gone = 1;
			r = 0;
		}
	}
	memmove(w->held.buf, w->held.buf + upto, w->held.len - upto);
	strbuf_setlen(&w->held, w->held.len - upto);
	for (k = 0; k < w->nmarks; k++)
		w->marks[k].end -= upto;
	return r;
}

int archive_writer_pass(struct archive_writer *w, struct lwriter *out, int sync, struct aperr *e)
{
	uint64_t upto;

	if (!sync)
		return release(w, out, 0, 0, e);
	if (w->s3 && w->seg_lines) {
		/* an object cannot be synced part-way: the segment ends here */
		upto = archive_pool_end_segment(&w->pool, &w->j, &w->chunk, &w->meta);
		w->seg_bytes = w->seg_lines = 0;
		if (mark(w, upto, e) < 0)
			return -1;
		return release(w, out, 1, upto, e);
	}
	if (!w->j)
		w->j = archive_pool_get(&w->pool, w->chunk++);	/* an empty job that only syncs */
	w->j->sync = 1;
	upto = w->j->seq;
	if (mark(w, upto, e) < 0)
		return -1;
	archive_pool_submit(&w->pool, w->j);
	w->j = NULL;
	return release(w, out, 1, upto, e);
}

int archive_writer_finish(struct archive_writer *w, struct lwriter *out, struct aperr *e)
{
	struct aperr pe;
	int r = 0;

	if (w->seg_lines && !archive_pool_failed(&w->pool, &pe)) {
		r = mark(w, archive_pool_end_segment(&w->pool, &w->j, &w->chunk, &w->meta), e);
	} else if (w->held.len && !archive_pool_failed(&w->pool, &pe)) {
		/* held lines no segment covers (in-band state alone): a sync reaches them */
		if (!w->j)
			w->j = archive_pool_get(&w->pool, w->chunk++);
		w->j->sync = 1;
		r = mark(w, w->j->seq, e);
		archive_pool_submit(&w->pool, w->j);
	} else if (w->j)
		archive_pool_submit(&w->pool, w->j);	/* the writer drops it after a failure */
	w->j = NULL;
	archive_pool_finish(&w->pool);
	/* what is archived goes on; what the writer dropped never does */
	if (r == 0)
		r = release(w, out, 0, 0, e);
	if (r == 0 && archive_pool_failed(&w->pool, e))
		r = -1;
	return r;
}
