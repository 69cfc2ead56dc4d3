#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "hash.h"
#include "jsonw.h"
#include "statefile.h"

#define GZ_IN_SIZE (256 * 1024)

/* --- segment summaries ---------------------------------------------------- */

void archive_meta_init(struct archive_meta *m)
{
	memset(m, 0, sizeof(*m));
}

void archive_meta_release(struct archive_meta *m)
{
	size_t i;

	for (i = 0; i < m->nendpoints; i++)
		free(m->endpoints[i]);
	free(m->endpoints);
	archive_meta_init(m);
}

static void add_endpoint(struct archive_meta *m, const char *u, size_t n)
{
	size_t i;
	char **ne;

	for (i = 0; i < m->nendpoints; i++)
		if (strlen(m->endpoints[i]) == n && !memcmp(m->endpoints[i], u, n))
			return;
	if (m->nendpoints >= ARCHIVE_MAX_ENDPOINTS) {
		m->endpoints_truncated = 1;
		return;
	}
	ne = realloc(m->endpoints, (m->nendpoints + 1) * sizeof(*ne));
	if (!ne)
		return;
	m->endpoints = ne;
	if ((m->endpoints[m->nendpoints] = strndup(u, n)))
		m->nendpoints++;
}

void archive_meta_add(struct archive_meta *m, const struct json_doc *d, size_t n)
{
	uint32_t t;

	m->lines++;
	m->ubytes += n + 1;
	if (!d || json_type(d, 0) != JSON_OBJECT)
		return;
	if ((t = json_get(d, 0, "status", 6)) && json_type(d, t) == JSON_NUMBER) {
		long s = strtol(json_src(d, t), NULL, 10);

		m->pages++;
		if (s >= 0 && s < HTTP_STATUS_SLOTS)
			m->status[s]++;
	}
	if ((t = json_get(d, 0, "fetched_at", 10)) && json_type(d, t) == JSON_STRING) {
		const char *s = json_src(d, t) + 1;
		size_t sl = json_srclen(d, t) - 2;
		struct instant at;

		if (sl < sizeof(m->first_s) && instant_parse(s, sl, 0, &at) == 0) {
			if (!m->have_time || instant_cmp(&at, &m->first) < 0) {
				m->first = at;
				memcpy(m->first_s, s, sl);
				m->first_s[sl] = '\0';
			}
			if (!m->have_time || instant_cmp(&at, &m->last) > 0) {
				m->last = at;
				memcpy(m->last_s, s, sl);
				m->last_s[sl] = '\0';
			}
			m->have_time = 1;
		}
	}
	if ((t = json_get(d, 0, "url", 3)) && json_type(d, t) == JSON_STRING) {
		struct strbuf u = STRBUF_INIT;

		if (json_str_decode(d, t, &u) == 0 && u.len) {
			size_t k = strcspn(u.buf, "?#");

			add_endpoint(m, u.buf, k);
		}
		strbuf_release(&u);
	}
	if ((t = json_get(d, 0, "records", 7)) && json_type(d, t) == JSON_NUMBER) {
		m->have_records = 1;
		m->records += strtoull(json_src(d, t), NULL, 10);
	}
}

int archive_meta_manifest(const struct archive_meta *m, const char *file, const char *sha256,
			  uint64_t bytes, struct strbuf *out)
{
	struct jsonw w;
	size_t i;

	jw_init(&w, out);
	jw_object(&w);
	jw_member_str(&w, "file", file);
	jw_member_str(&w, "sha256", sha256);
	jw_member_u64(&w, "bytes", bytes);
	jw_member_u64(&w, "uncompressed_bytes", m->ubytes);
	jw_member_u64(&w, "lines", m->lines);
	jw_member_u64(&w, "pages", m->pages);
	jw_key(&w, "first_fetched_at");
	jw_str(&w, m->have_time ? m->first_s : NULL);
	jw_key(&w, "last_fetched_at");
	jw_str(&w, m->have_time ? m->last_s : NULL);
	jw_key(&w, "endpoints");
	jw_array(&w);
	for (i = 0; i < m->nendpoints; i++)
		jw_text(&w, m->endpoints[i], strlen(m->endpoints[i]));
	jw_end_array(&w);
	if (m->endpoints_truncated) {
		jw_key(&w, "endpoints_truncated");
		jw_bool(&w, 1);
	}
	jw_key(&w, "status");
	jw_counts(&w, m->status, HTTP_STATUS_SLOTS);
	if (m->have_records)
		jw_member_u64(&w, "records", m->records);
	jw_end_object(&w);
	return jw_finish_line(&w);
}

/* --- the manifest ------------------------------------------------------------ */

static void entry_release(struct archive_entry *me)
{
	size_t i;

	free(me->file);
	free(me->line);
	for (i = 0; i < me->nendpoints; i++)
		free(me->endpoints[i]);
	free(me->endpoints);
}

void archive_manifest_release(struct archive_manifest *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		entry_release(&m->e[i]);
	free(m->e);
	memset(m, 0, sizeof(*m));
}

static uint64_t seq_of(const char *file)
{
	const char *dash = strrchr(file, '-');

	return dash ? strtoull(dash + 1, NULL, 10) : 0;
}

static uint64_t num_member(const struct json_doc *d, const char *k)
{
	uint32_t t = json_get(d, 0, k, strlen(k));

	return t && json_type(d, t) == JSON_NUMBER ? strtoull(json_src(d, t), NULL, 10) : 0;
}

static int time_member(const struct json_doc *d, const char *k, struct instant *out)
{
	uint32_t t = json_get(d, 0, k, strlen(k));

	return t && json_type(d, t) == JSON_STRING &&
	       instant_parse(json_src(d, t) + 1, json_srclen(d, t) - 2, 0, out) == 0;
}

/* One manifest line into me: 0, or -1 when it is not a manifest entry. */
static int parse_entry(struct json_doc *d, struct json_error *je, const char *s, size_t n,
		       struct archive_entry *me)
{
	struct strbuf v = STRBUF_INIT;
	uint32_t t, x;

	memset(me, 0, sizeof(*me));
	if (json_parse(d, s, n, je) != 0 || json_type(d, 0) != JSON_OBJECT)
		return -1;
	t = json_get(d, 0, "file", 4);
	if (!t || json_type(d, t) != JSON_STRING || json_str_decode(d, t, &v) < 0 || !v.len ||
	    strchr(v.buf, '/'))
		goto bad;
	me->file = strbuf_detach(&v, NULL);
	t = json_get(d, 0, "sha256", 6);
	if (!t || json_type(d, t) != JSON_STRING || json_srclen(d, t) != 66)
		goto bad;
	memcpy(me->sha256, json_src(d, t) + 1, 64);
	me->sha256[64] = '\0';
	me->bytes = num_member(d, "bytes");
	me->ubytes = num_member(d, "uncompressed_bytes");
	me->lines = num_member(d, "lines");
	me->pages = num_member(d, "pages");
	me->have_time = time_member(d, "first_fetched_at", &me->first) &&
			time_member(d, "last_fetched_at", &me->last);
	if ((t = json_get(d, 0, "endpoints", 9)) && json_type(d, t) == JSON_ARRAY) {
		me->endpoints = calloc(json_count(d, t) + 1, sizeof(char *));
		for (x = json_first(d, t); x && me->endpoints; x = json_next(d, t, x)) {
			strbuf_reset(&v);
			if (json_type(d, x) == JSON_STRING && json_str_decode(d, x, &v) == 0)
				me->endpoints[me->nendpoints++] = strbuf_detach(&v, NULL);
		}
	}
	me->endpoints_truncated = !!json_get(d, 0, "endpoints_truncated", 19);
	me->line = strndup(s, n);
	strbuf_release(&v);
	return 0;
bad:
	strbuf_release(&v);
	entry_release(me);
	memset(me, 0, sizeof(*me));
	return -1;
}

int archive_manifest_parse(const char *buf, size_t len, const char *name,
			   struct archive_manifest *m, struct aperr *e)
{
	struct json_doc d;
	struct json_error je;
	size_t pos = 0;
	uint64_t lineno = 0;

	memset(m, 0, sizeof(*m));
	json_doc_init(&d, 16);
	json_error_init(&je);
	while (pos < len) {
		const char *s = buf + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		struct archive_entry me;
		int last = !nl || pos + n + 1 >= len;

		lineno++;
		if (!nl || parse_entry(&d, &je, s, n, &me) < 0) {
			if (last) {
				m->torn = 1;
				m->torn_lineno = lineno;
				break;
			}
			aperr_set(e, EX_DATAERR, "%s: line %llu: not a manifest entry", name,
				  (unsigned long long)lineno);
			goto fail;
		}
		if (!(m->n & (m->n + 1)) || !m->e) {
			struct archive_entry *ne = realloc(m->e, (m->n + 1) * 2 * sizeof(*ne));

			if (!ne) {
				entry_release(&me);
				aperr_set(e, EX_OSERR, "out of memory");
				goto fail;
			}
			m->e = ne;
		}
		m->e[m->n++] = me;
		if (seq_of(me.file) > m->max_seq)
			m->max_seq = seq_of(me.file);
		pos += n + 1;
		m->good_len = pos;
	}
	json_doc_release(&d);
	json_error_release(&je);
	return 0;
fail:
	json_doc_release(&d);
	json_error_release(&je);
	archive_manifest_release(m);
	return -1;
}

int archive_manifest_read(const char *dir, struct archive_manifest *m, struct aperr *e)
{
	struct strbuf path = STRBUF_INIT, buf = STRBUF_INIT;
	int r;

	memset(m, 0, sizeof(*m));
	strbuf_addf(&path, "%s/%s", dir, ARCHIVE_MANIFEST);
	r = statefile_read(path.buf, &buf, (size_t)1 << 30, e);
	if (r == 0)
		r = archive_manifest_parse(buf.buf, buf.len, path.buf, m, e);
	else
		r = r < 0 ? -1 : 0;
	strbuf_release(&path);
	strbuf_release(&buf);
	return r;
}

static int write_all(int fd, const void *data, size_t n, const char *what, struct aperr *e)
{
	const char *p = data;

	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return aperr_errno(e, EX_IOERR, "%s: write", what);
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int archive_manifest_append(const char *dir, const char *line, size_t n, struct aperr *e)
{
	struct strbuf path = STRBUF_INIT;
	int fd, r = 0;

	strbuf_addf(&path, "%s/%s", dir, ARCHIVE_MANIFEST);
	fd = open(path.buf, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		r = aperr_errno(e, EX_CANTCREAT, "%s", path.buf);
	else if (write_all(fd, line, n, path.buf, e) < 0)
		r = -1;
	else if (fsync(fd) < 0)
		r = aperr_errno(e, EX_IOERR, "%s: fsync", path.buf);
	if (fd >= 0 && close(fd) < 0 && !r)
		r = aperr_errno(e, EX_IOERR, "%s: close", path.buf);
	strbuf_release(&path);
	return r;
}

/* --- gzip ----------------------------------------------------------------- */

int archive_gz_member(struct strbuf *out, const void *in, size_t n, int level)
{
	z_stream z;
	size_t bound;
	int r;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	bound = deflateBound(&z, (uLong)n) + 64;
	if (strbuf_grow(out, bound) < 0) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = (unsigned char *)out->buf + out->len;
	z.avail_out = (uInt)bound;
	r = deflate(&z, Z_FINISH);
	if (r == Z_STREAM_END)
		out->len += z.total_out;
	if (out->alloc)
		out->buf[out->len] = '\0';
	deflateEnd(&z);
	return r == Z_STREAM_END ? 0 : -1;
}

/* --- writing segments --------------------------------------------------------- */

void archive_segment_name(char *buf, size_t n, uint64_t seq)
{
	time_t now = time(NULL);
	struct tm tm;
	char ts[32];

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(buf, n, "seg-%s-%06llu.jsonl.gz", ts, (unsigned long long)seq);
}

int archive_seg_open(struct archive_seg *w, const char *dir, const char *name, struct aperr *e)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	snprintf(w->name, sizeof(w->name), "%s", name);
	strbuf_init(&w->tmp, 4096);
	strbuf_init(&w->path, 4096);
	strbuf_addf(&w->path, "%s/%s", dir, name);
	strbuf_addf(&w->tmp, "%s/%s.tmp", dir, name);
	w->sha = EVP_MD_CTX_new();
	if (!w->sha || EVP_DigestInit_ex(w->sha, EVP_sha256(), NULL) != 1) {
		archive_seg_abort(w);
		return aperr_set(e, EX_SOFTWARE, "cannot set up SHA-256");
	}
	w->fd = open(w->tmp.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		aperr_errno(e, errno == ENOSPC || errno == EIO ? EX_IOERR : EX_CANTCREAT, "%s",
			    w->tmp.buf);
		strbuf_release(&w->tmp);	/* it is not ours: do not remove it */
		archive_seg_abort(w);
		return -1;
	}
	return 0;
}

int archive_seg_write(struct archive_seg *w, const void *data, size_t n, struct aperr *e)
{
	if (write_all(w->fd, data, n, w->tmp.buf, e) < 0)
		return -1;
	EVP_DigestUpdate(w->sha, data, n);
	w->bytes += n;
	return 0;
}

int archive_seg_commit(struct archive_seg *w, const char *dir, const struct archive_meta *meta,
		       struct aperr *e)
{
	unsigned char md[32];
	unsigned len = 0;
	char sha[65];
	struct strbuf line = STRBUF_INIT;
	int r = -1;

	if (fsync(w->fd) < 0) {
		aperr_errno(e, EX_IOERR, "%s: fsync", w->tmp.buf);
		goto out;
	}
	w->synced = w->bytes;	/* whole now: kept should the rest fail */
	w->passed_on = 1;
	if (close(w->fd) < 0) {
		w->fd = -1;
		aperr_errno(e, EX_IOERR, "%s: close", w->tmp.buf);
		goto out;
	}
	w->fd = -1;
	if (rename(w->tmp.buf, w->path.buf) < 0) {
		aperr_errno(e, EX_IOERR, "%s: rename", w->tmp.buf);
		goto out;
	}
	strbuf_reset(&w->tmp);		/* nothing left to remove */
	if (statefile_sync_dir(w->path.buf, e) < 0)
		goto out;
	EVP_DigestFinal_ex(w->sha, md, &len);
	hash_hex(md, len, sha);
	archive_meta_manifest(meta, w->name, sha, w->bytes, &line);
	r = archive_manifest_append(dir, line.buf, line.len, e);
out:
	strbuf_release(&line);
	archive_seg_abort(w);
	return r;
}

int archive_seg_sync(struct archive_seg *w, struct aperr *e)
{
	if (fdatasync(w->fd) < 0)
		return aperr_errno(e, EX_IOERR, "%s: fdatasync", w->tmp.buf);
	w->synced = w->bytes;
	w->passed_on = w->synced > 0;
	return 0;
}

int archive_seg_abort(struct archive_seg *w)
{
	int kept = 0;

	if (w->passed_on && w->tmp.len) {
		/* cut back to the whole gzip members that were synced, and keep them */
		if (w->fd >= 0 && ftruncate(w->fd, (off_t)w->synced) == 0)
			(void)fsync(w->fd);
		kept = 1;
	}
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->tmp.len && !kept)
		unlink(w->tmp.buf);
	strbuf_release(&w->tmp);
	strbuf_release(&w->path);
	EVP_MD_CTX_free(w->sha);
	w->sha = NULL;
	return kept;
}

/* --- reading segments ------------------------------------------------------------ */

int archive_gzlines_open(struct archive_gzlines *g, const char *path, size_t max_line,
			 struct aperr *e)
{
	memset(g, 0, sizeof(*g));
	g->name = path;
	g->max_line = max_line;
	g->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (g->fd < 0)
		return aperr_errno(e, errno == ENOENT ? EX_NOINPUT : EX_IOERR, "%s", path);
	g->in = malloc(GZ_IN_SIZE);
	g->out_alloc = 1 << 20;
	g->out = malloc(g->out_alloc);
	if (!g->in || !g->out || inflateInit2(&g->z, 31) != Z_OK) {
		archive_gzlines_close(g);
		return aperr_set(e, EX_OSERR, "out of memory");
	}
	g->zinit = 1;
	return 0;
}

void archive_gzlines_close(struct archive_gzlines *g)
{
	if (g->zinit)
		inflateEnd(&g->z);
	if (g->fd >= 0)
		close(g->fd);
	free(g->in);
	free(g->out);
	memset(g, 0, sizeof(*g));
	g->fd = -1;
}

int archive_gzlines_next(struct archive_gzlines *g, const char **line, size_t *len, struct aperr *e)
{
	size_t scanned = 0;

	for (;;) {
		char *s = g->out + g->start;
		size_t have = g->end - g->start;
		char *nl = have > scanned ? memchr(s + scanned, '\n', have - scanned) : NULL;
		int r;

		if (nl) {
			*line = s;
			*len = (size_t)(nl - s);
			g->start += *len + 1;
			g->lineno++;
			return 1;
		}
		scanned = have;
		if (g->eof && !g->z.avail_in) {
			if (!g->zdone)
				return aperr_set(e, EX_DATAERR, "%s: truncated (the gzip stream ends early)",
						 g->name);
			if (have)
				return aperr_set(e, EX_DATAERR, "%s: the last line has no newline",
						 g->name);
			return 0;
		}
		if (have > g->max_line)
			return aperr_set(e, EX_DATAERR, "%s: line %llu: longer than %zu bytes", g->name,
					 (unsigned long long)g->lineno + 1, g->max_line);
		if (g->start) {
			memmove(g->out, s, have);
			g->start = 0;
			g->end = have;
		}
		if (g->out_alloc - g->end < 65536) {
			char *no = realloc(g->out, g->out_alloc * 2);

			if (!no)
				return aperr_set(e, EX_OSERR, "out of memory");
			g->out = no;
			g->out_alloc *= 2;
		}
		if (!g->z.avail_in) {
			ssize_t k = read(g->fd, g->in, GZ_IN_SIZE);

			if (k < 0) {
				if (errno == EINTR)
					continue;
				return aperr_errno(e, EX_IOERR, "%s: read", g->name);
			}
			if (k == 0) {
				g->eof = 1;
				continue;
			}
			g->z.next_in = g->in;
			g->z.avail_in = (uInt)k;
		}
		if (g->zdone) {
			/* another gzip member follows */
			if (inflateReset(&g->z) != Z_OK)
				return aperr_set(e, EX_DATAERR, "%s: corrupt", g->name);
			g->zdone = 0;
		}
		g->z.next_out = (unsigned char *)g->out + g->end;
		g->z.avail_out = (uInt)(g->out_alloc - g->end);
		{
			uInt before_in = g->z.avail_in;

			r = inflate(&g->z, Z_NO_FLUSH);
			g->offset += before_in - g->z.avail_in;
		}
		g->end = g->out_alloc - g->z.avail_out;
		if (r == Z_STREAM_END)
			g->zdone = 1;
		else if (r != Z_OK && !(r == Z_BUF_ERROR && !g->z.avail_in))
			return aperr_set(e, EX_DATAERR, "%s: corrupt at compressed byte %llu (%s)",
					 g->name, (unsigned long long)g->offset,
					 g->z.msg ? g->z.msg : "bad data");
	}
}

int archive_sha256_file(const char *path, char out[65], struct aperr *e)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char buf[1 << 16], md[32];
	unsigned len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;
	ssize_t k;

	if (fd < 0) {
		EVP_MD_CTX_free(c);
		return aperr_errno(e, errno == ENOENT ? EX_NOINPUT : EX_IOERR, "%s", path);
	}
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	while ((k = read(fd, buf, sizeof(buf))) != 0) {
		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = aperr_errno(e, EX_IOERR, "%s: read", path);
			break;
		}
		EVP_DigestUpdate(c, buf, (size_t)k);
	}
	close(fd);
	EVP_DigestFinal_ex(c, md, &len);
	EVP_MD_CTX_free(c);
	hash_hex(md, len, out);
	return r;
}

/* --- recovery ----------------------------------------------------------------------- */

int archive_segment_line(const char *path, const char *name, unsigned max_depth,
			 struct strbuf *out, uint64_t *lines, struct aperr *e)
{
	struct archive_gzlines g;
	struct archive_meta meta;
	struct json_doc d;
	struct json_error je;
	struct stat st;
	const char *l;
	size_t n;
	char sha[65];
	int r;

	*lines = 0;
	if (archive_gzlines_open(&g, path, (size_t)1 << 30, e) < 0)
		return -1;
	archive_meta_init(&meta);
	json_doc_init(&d, max_depth);
	json_error_init(&je);
	while ((r = archive_gzlines_next(&g, &l, &n, e)) == 1)
		archive_meta_add(&meta, json_parse(&d, l, n, &je) == 0 ? &d : NULL, n);
	archive_gzlines_close(&g);
	*lines = meta.lines;
	if (r == 0 && archive_sha256_file(path, sha, e) < 0)
		r = -1;
	if (r == 0 && stat(path, &st) < 0)
		r = aperr_errno(e, EX_IOERR, "%s", path);
	if (r == 0 && archive_meta_manifest(&meta, name, sha, (uint64_t)st.st_size, out) < 0)
		r = aperr_set(e, EX_OSERR, "out of memory");
	archive_meta_release(&meta);
	json_doc_release(&d);
	json_error_release(&je);
	return r;
}

static int quarantine(const char *dir, const char *name, struct strbuf *report, const char *why,
		      struct aperr *e)
{
	struct strbuf q = STRBUF_INIT, from = STRBUF_INIT, to = STRBUF_INIT;
	int r = 0;

	strbuf_addf(&q, "%s/quarantine", dir);
	strbuf_addf(&from, "%s/%s", dir, name);
	strbuf_addf(&to, "%s/%s", q.buf, name);
	if (statefile_mkdirs(q.buf, e) < 0)
		r = -1;
	else if (rename(from.buf, to.buf) < 0)
		r = aperr_errno(e, EX_IOERR, "%s: cannot quarantine", from.buf);
	else if (statefile_sync_dir(from.buf, e) < 0)
		r = -1;
	else
		strbuf_addf(report, "%s: %s; moved to quarantine/\n", name, why);
	strbuf_release(&q);
	strbuf_release(&from);
	strbuf_release(&to);
	return r;
}

/*
 * Copy the complete lines of DIR/name into a new segment numbered seq
 * (when salvage) or list DIR/name itself (a complete, unlisted segment).
 */
static int recover_one(const char *dir, const char *name, int salvage, uint64_t seq, int level,
		       struct strbuf *report, struct aperr *e)
{
	struct strbuf path = STRBUF_INIT, chunk = STRBUF_INIT, gz = STRBUF_INIT;
	struct archive_gzlines g;
	struct archive_meta meta;
	struct archive_seg w;
	struct json_doc d;
	struct json_error je;
	struct aperr ge;
	const char *line;
	size_t n;
	int r, rc = -1, opened = 0;
	char newname[96];

	strbuf_addf(&path, "%s/%s", dir, name);
	archive_meta_init(&meta);
	json_doc_init(&d, JSON_DEFAULT_DEPTH);
	json_error_init(&je);
	if (!salvage) {
		struct strbuf ml = STRBUF_INIT;
		uint64_t lines;

		r = archive_segment_line(path.buf, name, JSON_DEFAULT_DEPTH, &ml, &lines, &ge);
		if (r < 0 && ge.code != EX_DATAERR)
			*e = ge;
		else if (r < 0 || !lines)
			rc = quarantine(dir, name, report, r < 0 ? ge.msg : "empty", e);
		else if ((rc = archive_manifest_append(dir, ml.buf, ml.len, e)) == 0)
			strbuf_addf(report, "%s: complete but not listed; listed now (%llu lines)\n",
				    name, (unsigned long long)lines);
		strbuf_release(&ml);
		goto out;
	}
	if (archive_gzlines_open(&g, path.buf, (size_t)1 << 30, e) < 0)
		goto out;
	archive_segment_name(newname, sizeof(newname), seq);
	if (archive_seg_open(&w, dir, newname, e) < 0) {
		archive_gzlines_close(&g);
		goto out;
	}
	opened = 1;
	while ((r = archive_gzlines_next(&g, &line, &n, &ge)) == 1) {
		archive_meta_add(&meta, json_parse(&d, line, n, &je) == 0 ? &d : NULL, n);
		strbuf_add(&chunk, line, n);
		strbuf_addch(&chunk, '\n');
		if (chunk.len >= (1 << 20)) {
			strbuf_reset(&gz);
			if (archive_gz_member(&gz, chunk.buf, chunk.len, level) < 0 ||
			    archive_seg_write(&w, gz.buf, gz.len, e) < 0) {
				archive_gzlines_close(&g);
				goto out;
			}
			strbuf_reset(&chunk);
		}
	}
	archive_gzlines_close(&g);
	if (!meta.lines) {
		archive_seg_abort(&w);
		opened = 0;
		rc = quarantine(dir, name, report, "no complete line could be read", e);
		goto out;
	}
	if (chunk.len) {
		strbuf_reset(&gz);
		if (archive_gz_member(&gz, chunk.buf, chunk.len, level) < 0 ||
		    archive_seg_write(&w, gz.buf, gz.len, e) < 0)
			goto out;
	}
	opened = 0;
	if (archive_seg_commit(&w, dir, &meta, e) < 0)
		goto out;
	unlink(path.buf);
	statefile_sync_dir(path.buf, e);
	strbuf_addf(report, "%s: left over by an interrupted run; its %llu complete lines are "
		    "now %s\n", name, (unsigned long long)meta.lines, newname);
	rc = 0;
out:
	if (opened)
		archive_seg_abort(&w);
	archive_meta_release(&meta);
	json_doc_release(&d);
	json_error_release(&je);
	strbuf_release(&path);
	strbuf_release(&chunk);
	strbuf_release(&gz);
	return rc;
}

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), k = strlen(suf);

	return n > k && !strcmp(s + n - k, suf);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int archive_recover(const char *dir, int level, struct strbuf *report, struct aperr *e)
{
	struct archive_manifest m;
	DIR *dh;
	struct dirent *de;
	char **names = NULL;
	size_t nnames = 0, i, j;
	uint64_t seq;
	int rc = 0;

	if (archive_manifest_read(dir, &m, e) < 0)
		return -1;
	if (m.torn) {
		struct strbuf p = STRBUF_INIT;
		int fd;

		strbuf_addf(&p, "%s/%s", dir, ARCHIVE_MANIFEST);
		fd = open(p.buf, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || ftruncate(fd, (off_t)m.good_len) < 0 || fsync(fd) < 0)
			rc = aperr_errno(e, EX_IOERR, "%s: cannot repair", p.buf);
		else
			strbuf_addf(report, "%s: line %llu was torn by an interrupted write; removed\n",
				    ARCHIVE_MANIFEST, (unsigned long long)m.torn_lineno);
		if (fd >= 0)
			close(fd);
		strbuf_release(&p);
		if (rc)
			goto out;
	}
	dh = opendir(dir);
	if (!dh) {
		rc = aperr_errno(e, EX_IOERR, "%s", dir);
		goto out;
	}
	while ((de = readdir(dh))) {
		char **nn;

		if (strncmp(de->d_name, "seg-", 4) ||
		    !(has_suffix(de->d_name, ".jsonl.gz") || has_suffix(de->d_name, ".jsonl.gz.tmp")))
			continue;
		nn = realloc(names, (nnames + 1) * sizeof(*nn));
		if (!nn || !(nn[nnames] = strdup(de->d_name))) {
			free(nn ? nn : names);
			names = NULL;
			nnames = 0;
			closedir(dh);
			rc = aperr_set(e, EX_OSERR, "out of memory");
			goto out;
		}
		names = nn;
		nnames++;
	}
	closedir(dh);
	if (nnames)
		qsort(names, nnames, sizeof(*names), cmp_str);
	/* New segments are numbered after every name present, listed or not. */
	seq = m.max_seq;
	for (i = 0; i < nnames; i++)
		if (seq_of(names[i]) > seq)
			seq = seq_of(names[i]);
	/* Complete segments first (their lines came first), then leftovers. */
	for (j = 0; j < 2 && !rc; j++) {
		for (i = 0; i < nnames && !rc; i++) {
			int tmp = has_suffix(names[i], ".tmp"), listed = 0;
			size_t k;

			if (tmp != (int)j)
				continue;
			for (k = 0; k < m.n && !listed; k++)
				listed = !strcmp(m.e[k].file, names[i]);
			if (listed)
				continue;
			rc = recover_one(dir, names[i], tmp, tmp ? ++seq : 0, level, report, e);
		}
	}
out:
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	archive_manifest_release(&m);
	return rc;
}
