/*
 * statefile: durable small files (watermarks, checkpoints, seen-sets).
 *
 * Every write goes to a temporary file in the same directory, is fsynced,
 * renamed over the target, and the directory is fsynced: a reader sees
 * the old content or the new, never a torn file.  Locks are advisory
 * flock(2) locks on a separate "<path>.lock" file, so renames never drop
 * them.
 */
#ifndef APIPE_STATEFILE_H
#define APIPE_STATEFILE_H

#include <stddef.h>

#include "err.h"
#include "strbuf.h"

/* Atomically replace path with data[0..n), mode 0644 (or 0600 with private). */
int statefile_write(const char *path, const void *data, size_t n, int private_,
		    struct aperr *e);
/*
 * Start an atomic replacement written in pieces: returns a descriptor
 * open on a temporary file and sets tmp (owned by the caller's strbuf).
 */
int statefile_begin(const char *path, struct strbuf *tmp, int private_, struct aperr *e);
/* fsync fd, close it, rename tmp over path, fsync the directory. */
int statefile_commit(int fd, const char *tmp, const char *path, struct aperr *e);
/* Remove tmp and close fd after a failed write. */
void statefile_abort(int fd, const char *tmp);

/*
 * Read a whole file into out.  Returns 0, 1 when it does not exist, or -1
 * (EX_NOINPUT / EX_IOERR in e).  limit bounds the size.
 */
int statefile_read(const char *path, struct strbuf *out, size_t limit, struct aperr *e);

/*
 * Take an exclusive lock on "<path>.lock" without waiting.  Returns the
 * lock descriptor (keep it open for as long as the lock is needed), or -1:
 * EX_TEMPFAIL when another process holds it, EX_CANTCREAT otherwise.
 * what names the thing for the message ("watermark gh-repos").
 */
int statefile_lock(const char *path, const char *what, struct aperr *e);
/* The same, waiting for the lock however long another process holds it. */
int statefile_lock_wait(const char *path, const char *what, struct aperr *e);
void statefile_unlock(int fd);

/*
 * Remove the temporary files a killed writer of path left behind
 * ("<path>.tmp.XXXXXX"); call it holding path's lock.  Returns how many
 * were removed, or -1 (e).
 */
int statefile_clean(const char *path, struct aperr *e);
/* fsync the directory that holds path. */
int statefile_sync_dir(const char *path, struct aperr *e);
/* mkdir -p with mode 0755; 0 or -1 (EX_CANTCREAT). */
int statefile_mkdirs(const char *dir, struct aperr *e);
/* The directories that hold the file path, created as statefile_mkdirs() does. */
int statefile_mkparent(const char *path, struct aperr *e);

#endif
