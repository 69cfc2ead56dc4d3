#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archreplay.h"
#include "archs3.h"
#include "hash.h"

/* URL -> the newest copy's (time, ordinal), for latest. */
struct archive_latest {
	struct latest_slot {
		struct hash128 h;
		struct instant t;
		uint64_t ord;
		int used;
	} *s;
	size_t cap, n;
};

void archive_replay_init(struct archive_replay *rp)
{
	memset(rp, 0, sizeof(*rp));
	rp->max_line = 1 << 26;
	rp->max_depth = JSON_DEFAULT_DEPTH;
}

void archive_replay_release(struct archive_replay *rp)
{
	archive_manifest_release(&rp->m);
	if (rp->seen)
		free(rp->seen->s);
	free(rp->seen);
	json_doc_release(&rp->d);
	json_error_release(&rp->je);
}

/* Is name a segment's file name (seg-….jsonl.gz), or its temporary (….tmp)? 1, 2, or 0. */
static int segment_file(const char *name)
{
	static const char seg[] = ".jsonl.gz", tmp[] = ".jsonl.gz.tmp";
	size_t n = strlen(name);

	if (strncmp(name, "seg-", 4))
		return 0;
	if (n > 4 + sizeof(tmp) - 1 && !strcmp(name + n - (sizeof(tmp) - 1), tmp))
		return 2;
	return n > 4 + sizeof(seg) - 1 && !strcmp(name + n - (sizeof(seg) - 1), seg);
}

int archive_check_dir(const char *dir, const struct archive_manifest *m, struct aperr *e)
{
	DIR *dh;
	struct dirent *de;
	size_t i, j;
	int r = 0;

	if (m->torn)
		return aperr_set(e, EX_DATAERR, "%s: manifest.jsonl: line %llu is incomplete (torn); "
				 "run store-raw --append %s < /dev/null to repair it", dir,
				 (unsigned long long)m->torn_lineno, dir);
	for (i = 0; i < m->n; i++)
		for (j = i + 1; j < m->n; j++)
			if (!strcmp(m->e[i].file, m->e[j].file))
				return aperr_set(e, EX_DATAERR, "%s: the manifest lists %s twice (lines "
						 "%zu and %zu): it was edited", dir, m->e[i].file,
						 i + 1, j + 1);
	if (!(dh = opendir(dir)))
		return aperr_errno(e, EX_NOINPUT, "%s", dir);
	while (!r && (de = readdir(dh))) {
		int kind = segment_file(de->d_name);

		if (kind == 2)
			r = aperr_set(e, EX_DATAERR, "%s: %s is a segment not yet recovered (a run "
				      "stopped while writing it; lines in it may have been passed on): "
				      "run store-raw --append %s < /dev/null to list it", dir,
				      de->d_name, dir);
		for (i = 0; kind == 1 && i < m->n && strcmp(m->e[i].file, de->d_name); i++)
			;
		if (!r && kind == 1 && i == m->n)
			r = aperr_set(e, EX_DATAERR, "%s: %s is in the archive but not in its manifest "
				      "(a run stopped before listing it, or a manifest line was lost); run "
				      "store-raw --append %s < /dev/null to list it", dir, de->d_name, dir);
	}
	closedir(dh);
	return r;
}

int archive_replay_open(struct archive_replay *rp, struct aperr *e)
{
	struct stat st;

	if (rp->s3) {
		struct strbuf orphans = STRBUF_INIT;
		int r;

		json_doc_init(&rp->d, rp->max_depth);
		json_error_init(&rp->je);
		r = archive_s3_manifest(rp->s3, &rp->m, rp->verify ? &orphans : NULL, e);
		if (!r && rp->verify)
			r = archive_s3_check(rp->s3, &orphans, e);
		strbuf_release(&orphans);
		return r;
	}
	if (stat(rp->dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return aperr_set(e, EX_NOINPUT, "%s: no such archive directory", rp->dir);
	json_doc_init(&rp->d, rp->max_depth);
	json_error_init(&rp->je);
	if (archive_manifest_read(rp->dir, &rp->m, e) < 0)
		return -1;
	/* with verify, the manifest must account for every segment there is */
	return rp->verify ? archive_check_dir(rp->dir, &rp->m, e) : 0;
}

static struct latest_slot *latest_find(const struct archive_latest *m, const struct hash128 *h)
{
	size_t i = (size_t)h->lo & (m->cap - 1);

	while (m->s[i].used && (m->s[i].h.lo != h->lo || m->s[i].h.hi != h->hi))
		i = (i + 1) & (m->cap - 1);
	return &m->s[i];
}

/* The copy of url at ordinal ord, fetched at t: the newest so far? */
static int latest_note(struct archive_latest *m, const struct hash128 *h, const struct instant *t,
		       uint64_t ord, struct aperr *e)
{
	struct latest_slot *sl;

	if (m->n * 2 >= m->cap) {
		struct latest_slot *old = m->s;
		size_t oc = m->cap, i;

		m->cap = oc ? oc * 2 : 1024;
		m->s = calloc(m->cap, sizeof(*m->s));
		if (!m->s) {
			m->s = old;
			m->cap = oc;
			return aperr_set(e, EX_OSERR, "out of memory");
		}
		for (i = 0; i < oc; i++)
			if (old[i].used)
				*latest_find(m, &old[i].h) = old[i];
		free(old);
	}
	sl = latest_find(m, h);
	if (!sl->used) {
		sl->used = 1;
		sl->h = *h;
		m->n++;
	} else if (instant_cmp(t, &sl->t) < 0) {
		return 0;	/* an older copy */
	}
	sl->t = *t;
	sl->ord = ord;
	return 0;
}

/* Does envelope line pass the filters?  url and t are set for latest. */
static int selected(struct archive_replay *rp, const char *line, size_t n, struct strbuf *url,
		    struct instant *t)
{
	uint32_t k;

	memset(t, 0, sizeof(*t));
	strbuf_reset(url);
	rp->parsed_ok = 0;
	if (!rp->endpoint && !rp->have_since && !rp->have_until && !rp->latest)
		return 1;
	if (json_parse(&rp->d, line, n, &rp->je) != 0)
		return !rp->endpoint && !rp->have_since && !rp->have_until;
	rp->parsed_ok = 1;
	if (json_type(&rp->d, 0) != JSON_OBJECT)
		return !rp->endpoint && !rp->have_since && !rp->have_until;
	if ((k = json_get(&rp->d, 0, "url", 3)) && json_type(&rp->d, k) == JSON_STRING)
		json_str_decode(&rp->d, k, url);
	if ((k = json_get(&rp->d, 0, "fetched_at", 10)) && json_type(&rp->d, k) == JSON_STRING)
		instant_parse(json_src(&rp->d, k) + 1, json_srclen(&rp->d, k) - 2, 0, t);
	if (rp->endpoint && (!url->len || strncmp(url->buf, rp->endpoint, strlen(rp->endpoint))))
		return 0;
	if (rp->have_since && instant_cmp(t, &rp->since) < 0)
		return 0;
	if (rp->have_until && instant_cmp(t, &rp->until) > 0)
		return 0;
	return 1;
}

/* Can segment me hold an envelope the filters select? */
static int may_match(const struct archive_replay *rp, const struct archive_entry *me)
{
	size_t i;
	int any = 0;

	if (rp->endpoint && !me->endpoints_truncated && me->endpoints) {
		for (i = 0; i < me->nendpoints && !any; i++)
			any = !strncmp(me->endpoints[i], rp->endpoint, strlen(rp->endpoint)) ||
			      !strncmp(rp->endpoint, me->endpoints[i], strlen(me->endpoints[i]));
		if (!any)
			return 0;
	}
	if (me->have_time && rp->have_since && instant_cmp(&me->last, &rp->since) < 0)
		return 0;
	if (me->have_time && rp->have_until && instant_cmp(&me->first, &rp->until) > 0)
		return 0;
	return 1;
}

/*
 * A manifest line (listed) that is not the one the segment gives (is, n
 * bytes): EX_DATAERR naming the first member that differs.
 */
static int edited(const char *shown, const char *listed, const char *is, size_t n,
		  uint64_t lines, struct aperr *e)
{
	struct json_doc a, b;
	struct strbuf name = STRBUF_INIT;
	uint32_t k = 0, v = 0;
	int r;

	json_doc_init(&a, 8);
	json_doc_init(&b, 8);
	if (json_parse(&a, listed, strlen(listed), NULL) == 0 && json_parse(&b, is, n, NULL) == 0) {
		for (k = json_first(&b, 0); k; k = json_next(&b, 0, k)) {
			strbuf_reset(&name);
			json_str_decode(&b, k, &name);
			v = json_get(&a, 0, name.buf, name.len);
			if (!v || json_srclen(&a, v) != json_srclen(&b, k + 1) ||
			    memcmp(json_src(&a, v), json_src(&b, k + 1), json_srclen(&a, v)))
				break;
		}
	}
	if (name.len && k)
		r = aperr_set(e, EX_DATAERR, "%s: its manifest line was edited: /%s is %.*s%s, the "
			      "segment gives %.*s%s", shown, name.buf,
			      v ? (int)(json_srclen(&a, v) > 80 ? 80 : json_srclen(&a, v)) : 6,
			      v ? json_src(&a, v) : "absent", v && json_srclen(&a, v) > 80 ? "..." : "",
			      (int)(json_srclen(&b, k + 1) > 80 ? 80 : json_srclen(&b, k + 1)),
			      json_src(&b, k + 1), json_srclen(&b, k + 1) > 80 ? "..." : "");
	else
		r = aperr_set(e, EX_DATAERR, "%s: its manifest line was edited (the segment holds "
			      "%llu lines)", shown, (unsigned long long)lines);
	json_doc_release(&a);
	json_doc_release(&b);
	strbuf_release(&name);
	return r;
}

/*
 * The segment at path (shown as shown) is whole: its SHA-256 and size are
 * the ones listed.  -1 (e) otherwise.  Its counts and description are
 * checked as it is read (segment()).
 */
static int verified(const char *path, const char *shown, const struct archive_entry *me,
		    struct aperr *e)
{
	struct stat st;
	char sha[65];

	if (archive_sha256_file(path, sha, e) < 0) {
		if (e->code == EX_NOINPUT)
			aperr_set(e, EX_NOINPUT, "%s: missing (listed in the manifest)", shown);
		return -1;
	}
	if (strcmp(sha, me->sha256))
		return aperr_set(e, EX_DATAERR, "%s: corrupt: its SHA-256 does not match the "
				 "manifest", shown);
	if (stat(path, &st) < 0)
		return aperr_errno(e, EX_IOERR, "%s", shown);
	if ((uint64_t)st.st_size != me->bytes)
		return aperr_set(e, EX_DATAERR, "%s: its manifest line was edited: /bytes is %llu, "
				 "the segment gives %llu", shown, (unsigned long long)me->bytes,
				 (unsigned long long)st.st_size);
	return 0;
}

/*
 * After a verified segment was read whole: its manifest line says what it
 * holds (meta, counted as it was read).  Its line count and uncompressed
 * size always; when whole (the lines were parsed for the filters anyway,
 * and meta describes them) the whole line, so a time or an endpoint edited
 * to hide the segment from a filter is found too.
 */
static int described(const char *shown, const struct archive_entry *me,
		     const struct archive_meta *meta, int whole, struct aperr *e)
{
	struct strbuf line = STRBUF_INIT;
	int r = 0;

	if (meta->lines != me->lines)
		return aperr_set(e, EX_DATAERR, "%s: its manifest line was edited: /lines is %llu, "
				 "the segment gives %llu", shown, (unsigned long long)me->lines,
				 (unsigned long long)meta->lines);
	if (meta->ubytes != me->ubytes)
		return aperr_set(e, EX_DATAERR, "%s: its manifest line was edited: "
				 "/uncompressed_bytes is %llu, the segment gives %llu", shown,
				 (unsigned long long)me->ubytes, (unsigned long long)meta->ubytes);
	if (!whole)
		return 0;
	if (archive_meta_manifest(meta, me->file, me->sha256, me->bytes, &line) < 0)
		r = aperr_set(e, EX_OSERR, "out of memory");
	else if (strlen(me->line) != line.len - 1 || memcmp(me->line, line.buf, line.len - 1))
		r = edited(shown, me->line, line.buf, line.len - 1, meta->lines, e);
	strbuf_release(&line);
	return r;
}

/* Envelope line, the ord-th read, selected: emit it (pass 2), or note it (pass 1). */
static int take(struct archive_replay *rp, const char *line, size_t n, const struct strbuf *url,
		const struct instant *t, int emit, struct aperr *e)
{
	struct hash128 h = { 0, 0 };
	struct latest_slot *sl;

	if (rp->latest)
		siphash128(rp->key, url->buf, url->len, &h);
	if (!emit)
		return latest_note(rp->seen, &h, t, rp->lines, e);
	if (rp->latest) {
		sl = rp->seen->cap ? latest_find(rp->seen, &h) : NULL;
		if (!sl || !sl->used || sl->ord != rp->lines)
			return 0;
	}
	rp->emitted++;
	return rp->emit(rp->ctx, line, n, e);
}

/* Read one segment (shown as shown): 0; fail()'s -1; emit()'s nonzero. */
static int segment(struct archive_replay *rp, const struct archive_entry *me, const char *path,
		   const char *shown, int emit, struct aperr *e)
{
	struct archive_gzlines g;
	struct archive_meta meta;
	struct strbuf url = STRBUF_INIT;
	const char *line;
	size_t n;
	int r, rc = 0;
	int report = emit || !rp->latest;	/* the first pass of latest leaves failures to the second */
	int check = rp->verify && report;
	int parsed = rp->endpoint || rp->have_since || rp->have_until || rp->latest;

	if (archive_gzlines_open(&g, path, rp->max_line, e) < 0) {
		if (e->code == EX_NOINPUT)
			aperr_set(e, EX_NOINPUT, "%s: missing (listed in the manifest)", shown);
		return report ? rp->fail(rp->ctx, e) : 0;
	}
	g.name = shown;
	archive_meta_init(&meta);
	while ((r = archive_gzlines_next(&g, &line, &n, e)) == 1) {
		struct instant t;
		int sel;

		rp->lines++;
		sel = selected(rp, line, n, &url, &t);
		if (check)	/* counted; described too when selected() parsed it */
			archive_meta_add(&meta, rp->parsed_ok ? &rp->d : NULL, n);
		if (sel && (rc = take(rp, line, n, &url, &t, emit, e)))
			break;
	}
	archive_gzlines_close(&g);
	strbuf_release(&url);
	if (!rc && r == 0 && check &&
	    described(shown, me, &meta, parsed, e) < 0)
		r = -1;
	archive_meta_release(&meta);
	if (rc)
		return rc;
	return r < 0 && report ? rp->fail(rp->ctx, e) : 0;
}

/* One pass over the segments that may match; emit (pass 2) or note (pass 1). */
static int pass(struct archive_replay *rp, int emit, struct aperr *e)
{
	struct strbuf path = STRBUF_INIT, shown = STRBUF_INIT;
	size_t i;
	int r = 0;

	rp->lines = 0;
	for (i = 0; i < rp->m.n && !r; i++) {
		const struct archive_entry *me = &rp->m.e[i];

		if (!may_match(rp, me))
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", rp->dir, me->file);
		strbuf_reset(&shown);
		strbuf_addstr(&shown, path.buf);
		if (rp->s3 && archive_s3_fetch(rp->s3, me->file, &path, e) < 0)
			r = rp->fail(rp->ctx, e);
		else if (strbuf_failed(&path) || strbuf_failed(&shown))
			r = aperr_set(e, EX_OSERR, "out of memory");
		else if (rp->verify && (emit || !rp->latest) &&
			 verified(path.buf, shown.buf, me, e) < 0)
			r = rp->fail(rp->ctx, e);
		else
			r = segment(rp, me, path.buf, shown.buf, emit, e);
		if (rp->s3 && path.len)
			unlink(path.buf);	/* a download, read */
	}
	strbuf_release(&path);
	strbuf_release(&shown);
	return r;
}

int archive_replay_run(struct archive_replay *rp, struct aperr *e)
{
	if (rp->latest) {
		if (!rp->seen && !(rp->seen = calloc(1, sizeof(*rp->seen))))
			return aperr_set(e, EX_OSERR, "out of memory");
		if (hash_random(rp->key, sizeof(rp->key)) < 0)
			return aperr_set(e, EX_OSERR, "no random bytes");
		if (pass(rp, 0, e) != 0)
			return -1;
	}
	return pass(rp, 1, e);
}
