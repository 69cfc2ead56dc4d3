/*
 * An archive in object storage (archs3.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archs3.h"
#include "hash.h"

#define MANIFEST_DIR "manifest/"
#define ENTRY_SUFFIX ".json"

int archive_s3_init(struct archive_s3 *a, struct s3 *s3, const char *url, struct aperr *e)
{
	unsigned char rnd[4];
	char *key;
	size_t n;

	memset(a, 0, sizeof(*a));
	a->s3 = s3;
	a->url = url;
	if (s3_url_parse(url, &a->bucket, &key, e) < 0)
		return -1;
	n = strlen(key);
	while (n && key[n - 1] == '/')
		key[--n] = '\0';
	if (n) {
		a->prefix = malloc(n + 2);
		if (a->prefix)
			snprintf(a->prefix, n + 2, "%s/", key);
		free(key);
	} else {
		a->prefix = key;
	}
	if (!a->prefix) {
		archive_s3_release(a);
		return aperr_set(e, EX_OSERR, "out of memory");
	}
	if (hash_random(rnd, sizeof(rnd)) < 0) {
		archive_s3_release(a);
		return aperr_set(e, EX_OSERR, "no random bytes");
	}
	hash_hex(rnd, sizeof(rnd), a->run);
	return 0;
}

void archive_s3_release(struct archive_s3 *a)
{
	if (a->tmpdir) {
		rmdir(a->tmpdir);	/* each download is removed after its reading */
		free(a->tmpdir);
	}
	free(a->bucket);
	free(a->prefix);
	a->bucket = a->prefix = a->tmpdir = NULL;
}

void archive_s3_segment_name(const struct archive_s3 *a, char *buf, size_t n, uint64_t seq)
{
	time_t now = time(NULL);
	struct tm tm;
	char ts[32];

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(buf, n, "seg-%s-%s-%06llu.jsonl.gz", ts, a->run, (unsigned long long)seq);
}

static int is_segment_name(const char *name)
{
	size_t n = strlen(name);

	return !strncmp(name, "seg-", 4) && n > 13 && !strcmp(name + n - 9, ".jsonl.gz") &&
	       !strchr(name, '/');
}

/* The keys a listing found, without the prefix. */
struct names {
	char **v;
	size_t n, alloc;
	size_t skip;		/* prefix length */
};

static int names_add(void *ctx, const char *key, uint64_t size)
{
	struct names *ns = ctx;

	(void)size;
	if (ns->n == ns->alloc) {
		size_t na = ns->alloc ? 2 * ns->alloc : 64;
		char **v = realloc(ns->v, na * sizeof(*v));

		if (!v)
			return -1;
		ns->v = v;
		ns->alloc = na;
	}
	if (!(ns->v[ns->n] = strdup(key + ns->skip)))
		return -1;
	ns->n++;
	return 0;
}

static void names_release(struct names *ns)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
	memset(ns, 0, sizeof(*ns));
}

/* The keys under prefix+sub, without prefix+sub.  0 or -1 (e). */
static int list_names(struct archive_s3 *a, const char *sub, struct names *ns, struct aperr *e)
{
	struct strbuf p = STRBUF_INIT;
	int r;

	memset(ns, 0, sizeof(*ns));
	strbuf_addf(&p, "%s%s", a->prefix, sub);
	ns->skip = p.len;
	r = s3_list(a->s3, a->bucket, p.buf, names_add, ns, e);
	if (r > 0)
		r = aperr_set(e, EX_OSERR, "out of memory");
	strbuf_release(&p);
	if (r)
		names_release(ns);
	return r ? -1 : 0;
}

/* Is name among the manifest objects' segments (sorted entries)? */
static int listed(const struct names *entries, const char *name)
{
	size_t lo = 0, hi = entries->n, nl = strlen(name);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strncmp(entries->v[mid], name, nl);

		if (!c && !strcmp(entries->v[mid] + nl, ENTRY_SUFFIX))
			return 1;
		if (!c)
			c = strcmp(entries->v[mid] + nl, ENTRY_SUFFIX);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

int archive_s3_manifest(struct archive_s3 *a, struct archive_manifest *m, struct strbuf *orphans,
			struct aperr *e)
{
	struct names entries, segs = { 0 };
	struct strbuf all = STRBUF_INIT, one = STRBUF_INIT, key = STRBUF_INIT, name = STRBUF_INIT;
	size_t i;
	int r = 0;

	memset(m, 0, sizeof(*m));
	if (list_names(a, MANIFEST_DIR, &entries, e) < 0)
		return -1;
	if (entries.n)	/* (qsort wants a non-NULL base) */
		qsort(entries.v, entries.n, sizeof(*entries.v), cmp_str);
	for (i = 0; i < entries.n && !r; i++) {
		strbuf_reset(&key);
		strbuf_addf(&key, "%s%s%s", a->prefix, MANIFEST_DIR, entries.v[i]);
		if (s3_get(a->s3, a->bucket, key.buf, &one, e) < 0) {
			r = -1;
			break;
		}
		if (!one.len || one.buf[one.len - 1] != '\n' || memchr(one.buf, '\n', one.len - 1))
			r = aperr_set(e, EX_DATAERR, "s3://%s/%s: not one manifest line", a->bucket,
				      key.buf);
		strbuf_add(&all, one.buf, one.len);
	}
	strbuf_addf(&name, "%s/%s", a->url, MANIFEST_DIR);
	if (!r && strbuf_failed(&all))
		r = aperr_set(e, EX_OSERR, "out of memory");
	if (!r)
		r = archive_manifest_parse(all.buf, all.len, name.buf, m, e);
	for (i = 0; !r && i < m->n; i++) {
		strbuf_reset(&name);
		strbuf_addf(&name, "%s%s", m->e[i].file, ENTRY_SUFFIX);
		if (!is_segment_name(m->e[i].file) || strcmp(name.buf, entries.v[i]))
			r = aperr_set(e, EX_DATAERR, "s3://%s/%s%s%s: lists %s, not its own segment",
				      a->bucket, a->prefix, MANIFEST_DIR, entries.v[i],
				      m->e[i].file);
	}
	if (!r && orphans) {
		r = list_names(a, "seg-", &segs, e);
		for (i = 0; !r && i < segs.n; i++) {
			strbuf_reset(&name);
			strbuf_addf(&name, "seg-%s", segs.v[i]);
			if (is_segment_name(name.buf) && !listed(&entries, name.buf))
				strbuf_addf(orphans, "%s\n", name.buf);
		}
	}
	if (r)
		archive_manifest_release(m);
	names_release(&entries);
	names_release(&segs);
	strbuf_release(&all);
	strbuf_release(&one);
	strbuf_release(&key);
	strbuf_release(&name);
	return r;
}

/* The manifest object of segment name, holding line (n bytes, with its newline). */
static int put_entry(struct archive_s3 *a, const char *name, const char *line, size_t n,
		     struct aperr *e)
{
	struct strbuf key = STRBUF_INIT;
	int r;

	strbuf_addf(&key, "%s%s%s%s", a->prefix, MANIFEST_DIR, name, ENTRY_SUFFIX);
	r = s3_put(a->s3, a->bucket, key.buf, line, n, "application/x-ndjson", e);
	strbuf_release(&key);
	return r;
}

int archive_s3_commit(struct archive_s3 *a, const char *name, const void *data, size_t n,
		      const struct archive_meta *meta, struct aperr *e)
{
	struct strbuf key = STRBUF_INIT, line = STRBUF_INIT;
	char hex[65];
	int r;

	strbuf_addf(&key, "%s%s", a->prefix, name);
	r = s3_put(a->s3, a->bucket, key.buf, data, n, "application/gzip", e);
	if (!r) {
		hash_sha256_hex(data, n, hex);
		if (archive_meta_manifest(meta, name, hex, n, &line) < 0)
			r = aperr_set(e, EX_OSERR, "out of memory");
	}
	if (!r)
		r = put_entry(a, name, line.buf, line.len, e);
	strbuf_release(&key);
	strbuf_release(&line);
	return r;
}

/* The run's download directory, made once. */
static int tmpdir(struct archive_s3 *a, struct aperr *e)
{
	const char *t = getenv("TMPDIR");
	struct strbuf p = STRBUF_INIT;

	if (a->tmpdir)
		return 0;
	strbuf_addf(&p, "%s/apipe-s3.XXXXXX", t && *t ? t : "/tmp");
	if (strbuf_failed(&p) || !mkdtemp(p.buf)) {
		strbuf_release(&p);
		return aperr_errno(e, EX_CANTCREAT, "a directory for downloaded segments");
	}
	a->tmpdir = strbuf_detach(&p, NULL);
	return 0;
}

int archive_s3_fetch(struct archive_s3 *a, const char *file, struct strbuf *path, struct aperr *e)
{
	struct strbuf key = STRBUF_INIT, body = STRBUF_INIT;
	int fd, r;

	strbuf_reset(path);
	if (tmpdir(a, e) < 0)
		return -1;
	strbuf_addf(&key, "%s%s", a->prefix, file);
	r = s3_get(a->s3, a->bucket, key.buf, &body, e);
	if (r < 0 && e->code == EX_NOINPUT)
		aperr_set(e, EX_NOINPUT, "s3://%s/%s: missing (listed in the manifest)", a->bucket,
			  key.buf);
	strbuf_addf(path, "%s/%s", a->tmpdir, file);
	if (!r) {
		fd = open(path->buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, body.buf, body.len) != (ssize_t)body.len)
			r = aperr_errno(e, EX_IOERR, "%s", path->buf);
		if (fd >= 0 && close(fd) < 0 && !r)
			r = aperr_errno(e, EX_IOERR, "%s", path->buf);
	}
	strbuf_release(&key);
	strbuf_release(&body);
	return r;
}

/* List orphan segment name: read it whole, then store its manifest line. */
static int adopt(struct archive_s3 *a, const char *name, struct aperr *e)
{
	struct strbuf path = STRBUF_INIT, line = STRBUF_INIT;
	uint64_t lines;
	int r;

	if (archive_s3_fetch(a, name, &path, e) < 0) {
		strbuf_release(&path);
		return -1;
	}
	r = archive_segment_line(path.buf, name, JSON_DEFAULT_DEPTH, &line, &lines, e);
	if (r < 0 && e->code == EX_DATAERR) {
		char why[sizeof(e->msg)];
		const char *at = strstr(e->msg, ": ");

		snprintf(why, sizeof(why), "%s", at ? at + 2 : e->msg);
		r = aperr_set(e, EX_DATAERR, "%s/%s: not an archive segment (%s); move it "
			      "out of the archive", a->url, name, why);
	}
	if (!r)
		r = put_entry(a, name, line.buf, line.len, e);
	unlink(path.buf);
	strbuf_release(&path);
	strbuf_release(&line);
	return r;
}

int archive_s3_claim(struct archive_s3 *a, int append, uint64_t *last_seq, struct strbuf *report,
		     struct aperr *e)
{
	struct archive_manifest m;
	struct strbuf orphans = STRBUF_INIT;
	char *l, *save = NULL;
	uint64_t seq;
	int r = 0;

	if (archive_s3_manifest(a, &m, &orphans, e) < 0) {
		strbuf_release(&orphans);
		return -1;
	}
	if ((m.n || orphans.len) && !append) {
		r = aperr_set(e, EX_CANTCREAT, "%s: already holds an archive; use --append to "
			      "continue it", a->url);
		goto out;
	}
	seq = m.max_seq;
	for (l = orphans.len ? strtok_r(orphans.buf, "\n", &save) : NULL; l && !r;
	     l = strtok_r(NULL, "\n", &save)) {
		const char *dash = strrchr(l, '-');
		uint64_t s = dash ? strtoull(dash + 1, NULL, 10) : 0;

		if ((r = adopt(a, l, e)) == 0)
			strbuf_addf(report, "%s was stored but not listed (a run stopped "
				    "between the two): listed\n", l);
		if (s > seq)
			seq = s;
	}
	*last_seq = seq;
out:
	archive_manifest_release(&m);
	strbuf_release(&orphans);
	return r;
}

int archive_s3_check(const struct archive_s3 *a, const struct strbuf *orphans, struct aperr *e)
{
	if (!orphans->len)
		return 0;
	return aperr_set(e, EX_DATAERR, "%s: %.*s is in the archive but not in its manifest (a "
			 "run stopped before listing it); run store-raw --append %s < /dev/null "
			 "to list it", a->url, (int)strcspn(orphans->buf, "\n"), orphans->buf, a->url);
}
