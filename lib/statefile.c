#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "statefile.h"

int statefile_sync_dir(const char *path, struct aperr *e)
{
	char *dup = strdup(path), *slash;
	const char *dir = ".";
	int fd, r = 0;

	if (!dup)
		return aperr_set(e, EX_OSERR, "out of memory");
	slash = strrchr(dup, '/');
	if (slash == dup)
		dir = "/";
	else if (slash) {
		*slash = '\0';
		dir = dup;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		r = aperr_errno(e, EX_IOERR, "%s: cannot sync directory", dir);
	if (fd >= 0)
		close(fd);
	free(dup);
	return r;
}

int statefile_begin(const char *path, struct strbuf *tmp, int private_, struct aperr *e)
{
	int fd;

	strbuf_reset(tmp);
	if (strbuf_addf(tmp, "%s.tmp.XXXXXX", path) < 0)
		return aperr_set(e, EX_OSERR, "out of memory");
	fd = mkostemp(tmp->buf, O_CLOEXEC);
	if (fd < 0)
		return aperr_errno(e, EX_CANTCREAT, "%s: cannot create temporary file", path);
	if (!private_)
		fchmod(fd, 0644);
	return fd;
}

void statefile_abort(int fd, const char *tmp)
{
	if (fd >= 0)
		close(fd);
	unlink(tmp);
}

int statefile_commit(int fd, const char *tmp, const char *path, struct aperr *e)
{
	if (fsync(fd) < 0) {
		aperr_errno(e, EX_IOERR, "%s: fsync", path);
		statefile_abort(fd, tmp);
		return -1;
	}
	if (close(fd) < 0) {
		aperr_errno(e, EX_IOERR, "%s: close", path);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		aperr_errno(e, EX_CANTCREAT, "%s: rename", path);
		unlink(tmp);
		return -1;
	}
	return statefile_sync_dir(path, e);
}

int statefile_write(const char *path, const void *data, size_t n, int private_,
		    struct aperr *e)
{
	struct strbuf tmp = STRBUF_INIT;
	const char *p = data;
	int fd, r;

	fd = statefile_begin(path, &tmp, private_, e);
	if (fd < 0) {
		strbuf_release(&tmp);
		return -1;
	}
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			aperr_errno(e, EX_IOERR, "%s: write", path);
			statefile_abort(fd, tmp.buf);
			strbuf_release(&tmp);
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	r = statefile_commit(fd, tmp.buf, path, e);
	strbuf_release(&tmp);
	return r;
}

int statefile_read(const char *path, struct strbuf *out, size_t limit, struct aperr *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		return aperr_errno(e, EX_NOINPUT, "%s", path);
	}
	if (fstat(fd, &st) < 0 || (size_t)st.st_size > limit) {
		close(fd);
		if ((size_t)st.st_size > limit)
			return aperr_set(e, EX_DATAERR, "%s: larger than %zu bytes", path, limit);
		return aperr_errno(e, EX_IOERR, "%s", path);
	}
	strbuf_reset(out);
	for (;;) {
		ssize_t k;

		if (strbuf_grow(out, 65536) < 0) {
			close(fd);
			return aperr_set(e, EX_DATAERR, "%s: too large", path);
		}
		k = read(fd, out->buf + out->len, out->alloc - out->len - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			close(fd);
			return aperr_errno(e, EX_IOERR, "%s: read", path);
		}
		if (k == 0)
			break;
		out->len += (size_t)k;
		if (out->len > limit) {
			close(fd);
			return aperr_set(e, EX_DATAERR, "%s: larger than %zu bytes", path, limit);
		}
	}
	out->buf[out->len] = '\0';
	close(fd);
	return 0;
}

static int lock_file(const char *path, const char *what, int wait, struct aperr *e)
{
	struct strbuf lk = STRBUF_INIT;
	int fd;

	if (strbuf_addf(&lk, "%s.lock", path) < 0)
		return aperr_set(e, EX_OSERR, "out of memory");
	/* a symbolic link planted at the lock's name is refused, never followed */
	fd = open(lk.buf, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		aperr_errno(e, EX_CANTCREAT, "%s: cannot open lock file %s%s", what, lk.buf,
			    errno == ELOOP ? " (a symbolic link: refused)" : "");
		strbuf_release(&lk);
		return -1;
	}
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		if (wait && errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK)
			aperr_set(e, EX_TEMPFAIL, "%s is in use by another run (lock %s)",
				  what, lk.buf);
		else
			aperr_errno(e, EX_CANTCREAT, "%s: cannot lock %s", what, lk.buf);
		close(fd);
		strbuf_release(&lk);
		return -1;
	}
	strbuf_release(&lk);
	return fd;
}

int statefile_lock(const char *path, const char *what, struct aperr *e)
{
	return lock_file(path, what, 0, e);
}

int statefile_lock_wait(const char *path, const char *what, struct aperr *e)
{
	return lock_file(path, what, 1, e);
}

void statefile_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int statefile_mkdirs(const char *dir, struct aperr *e)
{
	char *p = strdup(dir), *s;

	if (!p)
		return aperr_set(e, EX_OSERR, "out of memory");
	for (s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0755) < 0 && errno != EEXIST) {
				aperr_errno(e, EX_CANTCREAT, "%s: cannot create directory", p);
				free(p);
				return -1;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	return 0;
}

int statefile_mkparent(const char *path, struct aperr *e)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int r;

	if (!slash || slash == path)
		return 0;
	if (!(dir = strndup(path, (size_t)(slash - path))))
		return aperr_set(e, EX_OSERR, "out of memory");
	r = statefile_mkdirs(dir, e);
	free(dir);
	return r;
}

int statefile_clean(const char *path, struct aperr *e)
{
	const char *slash = strrchr(path, '/');
	struct strbuf dir = STRBUF_INIT, prefix = STRBUF_INIT, victim = STRBUF_INIT;
	struct dirent *de;
	DIR *dh;
	int n = 0;

	if (slash)
		strbuf_add(&dir, path, (size_t)(slash - path) + 1);
	else
		strbuf_addstr(&dir, "./");
	strbuf_addf(&prefix, "%s.tmp.", slash ? slash + 1 : path);
	if (strbuf_failed(&dir) || strbuf_failed(&prefix)) {
		n = aperr_set(e, EX_OSERR, "out of memory");
		goto out;
	}
	if (!(dh = opendir(dir.buf))) {
		n = aperr_errno(e, EX_IOERR, "%s", dir.buf);
		goto out;
	}
	while ((de = readdir(dh))) {
		/* mkostemp's six characters after the prefix, nothing else */
		if (strncmp(de->d_name, prefix.buf, prefix.len) ||
		    strlen(de->d_name) != prefix.len + 6)
			continue;
		strbuf_reset(&victim);
		strbuf_addf(&victim, "%s%s", dir.buf, de->d_name);
		if (!strbuf_failed(&victim) && unlink(victim.buf) == 0)
			n++;
	}
	closedir(dh);
out:
	strbuf_release(&dir);
	strbuf_release(&prefix);
	strbuf_release(&victim);
	return n;
}
