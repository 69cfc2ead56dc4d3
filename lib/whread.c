/*
 * whread: the events webhook-recv stored in a directory, read back in
 * order as they are written, across every events file (webhook-recv
 * --read, --follow).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "whread.h"

int wh_reader_open(struct wh_reader *r, const char *dir, struct aperr *e)
{
	struct stat st;

	memset(r, 0, sizeof(*r));
	if (stat(dir, &st) < 0)
		return aperr_errno(e, EX_NOINPUT, "%s", dir);
	if (!S_ISDIR(st.st_mode))
		return aperr_set(e, EX_NOINPUT, "%s: not a directory (webhook-recv --out's)", dir);
	if (!(r->dir = strdup(dir)))
		return aperr_set(e, EX_OSERR, "out of memory");
	strbuf_init(&r->acc, 0);
	return 0;
}

void wh_reader_close(struct wh_reader *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->f[i].name);
	free(r->f);
	free(r->dir);
	strbuf_release(&r->acc);
}

static int events_file(const struct dirent *de)
{
	size_t n = strlen(de->d_name);

	return !strncmp(de->d_name, "events-", 7) && n > 13 && !strcmp(de->d_name + n - 6, ".jsonl");
}

/* The file named name: its entry, added when new.  NULL when out of memory. */
static struct wh_read_file *file_of(struct wh_reader *r, const char *name)
{
	struct wh_read_file *nf;
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->f[i].name, name))
			return &r->f[i];
	if (!(nf = realloc(r->f, (r->n + 1) * sizeof(*nf))))
		return NULL;
	r->f = nf;
	nf = &r->f[r->n];
	nf->off = 0;
	if (!(nf->name = strdup(name)))
		return NULL;
	r->n++;
	return nf;
}

/* The complete lines of one file past what was read, to out. */
static int read_file(struct wh_reader *r, struct wh_read_file *f, struct lwriter *out,
		     uint64_t *bytes, struct aperr *e)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	char buf[1 << 16];
	int fd, rc = -1;

	strbuf_addf(&path, "%s/%s", r->dir, f->name);
	fd = open(path.buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = errno == ENOENT ? 0 : aperr_errno(e, EX_IOERR, "%s", path.buf);
		goto out;
	}
	if (st.st_size < f->off) {
		aperr_set(e, EX_DATAERR, "%s: shorter than the %lld bytes already read: an events "
			  "file is only ever appended to", path.buf, (long long)f->off);
		goto out;
	}
	strbuf_reset(&r->acc);
	while (f->off + (off_t)r->acc.len < st.st_size) {
		ssize_t got = pread(fd, buf, sizeof(buf), f->off + (off_t)r->acc.len);
		const char *nl;
		size_t keep;

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			aperr_errno(e, EX_IOERR, "%s", path.buf);
			goto out;
		}
		if (got == 0)
			break;
		if (strbuf_add(&r->acc, buf, (size_t)got) < 0) {
			aperr_set(e, EX_OSERR, "out of memory");
			goto out;
		}
		/* what ends in a newline goes out; a line being written waits (only
		 * the new bytes can hold one: the rest was searched before) */
		if (!(nl = memrchr(buf, '\n', (size_t)got)))
			continue;
		keep = r->acc.len - (size_t)got + (size_t)(nl + 1 - buf);
		if (lwriter_write(out, r->acc.buf, keep, e) < 0)
			goto out;
		*bytes += keep;
		f->off += (off_t)keep;
		memmove(r->acc.buf, r->acc.buf + keep, r->acc.len - keep);
		strbuf_setlen(&r->acc, r->acc.len - keep);
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	strbuf_release(&path);
	return rc;
}

int wh_reader_poll(struct wh_reader *r, struct lwriter *out, uint64_t *bytes, struct aperr *e)
{
	struct dirent **names = NULL;
	int n, i, rc = 0;

	*bytes = 0;
	n = scandir(r->dir, &names, events_file, alphasort);
	if (n < 0)
		return aperr_errno(e, EX_IOERR, "%s", r->dir);
	for (i = 0; i < n; i++) {
		struct wh_read_file *f = rc == 0 ? file_of(r, names[i]->d_name) : NULL;

		if (rc == 0 && !f)
			rc = aperr_set(e, EX_OSERR, "out of memory");
		else if (rc == 0)
			rc = read_file(r, f, out, bytes, e);
		free(names[i]);
	}
	free(names);
	return rc;
}
