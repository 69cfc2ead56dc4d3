/*
 * archive: a directory of gzip segments and the manifest that lists them
 * (store-raw(1), DESCRIPTION).
 *
 *   DIR/seg-20261123T120000Z-000001.jsonl.gz   one or more gzip members
 *   DIR/manifest.jsonl                         one line per complete segment
 *   DIR/quarantine/                            leftovers that could not be saved
 *
 * A segment is written under "<name>.tmp", fsynced, renamed, the directory
 * fsynced, and only then listed in the manifest (which is fsynced too), so
 * the manifest never lists a file that is not complete.  archive_recover()
 * puts a directory back in that state after a crash.
 *
 * Ownership: every struct here owns its buffers; the _release functions
 * free them.  Nothing prints: what recovery did is appended to a report.
 *
 * Thread-safety: archive_gz_member() keeps no state between calls and runs
 * in store-raw's compression workers at once; a segment writer (archive_seg_*)
 * and the manifest belong to one thread (store-raw's writer thread).
 *
 * Names: every function and type here, and in archpool.h, archwriter.h
 * and archreplay.h (the modules built on it), begins with archive_.
 */
#ifndef APIPE_ARCHIVE_H
#define APIPE_ARCHIVE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "err.h"
#include "httpstatus.h"
#include "instant.h"
#include "json.h"
#include "jsonl.h"
#include "strbuf.h"

#define ARCHIVE_MANIFEST "manifest.jsonl"
#define ARCHIVE_MAX_ENDPOINTS 100

/* What a manifest line says about its segment, built line by line. */
struct archive_meta {
	uint64_t lines, ubytes, pages, records;
	int have_records, have_time, endpoints_truncated;
	struct instant first, last;
	char first_s[64], last_s[64];	/* fetched_at as it appeared */
	uint64_t status[HTTP_STATUS_SLOTS];
	char **endpoints;
	size_t nendpoints;
};

void archive_meta_init(struct archive_meta *m);
void archive_meta_release(struct archive_meta *m);
/* Count one archived line of n bytes; d is its parse (NULL when not JSON). */
void archive_meta_add(struct archive_meta *m, const struct json_doc *d, size_t n);
/* Append the manifest line (with its newline) for segment file. */
int archive_meta_manifest(const struct archive_meta *m, const char *file, const char *sha256,
			  uint64_t bytes, struct strbuf *out);

/*
 * The manifest line (with its newline) the segment at path, named name,
 * is listed with, made from what it holds: every line read and counted
 * (parsed to max_depth), its SHA-256 and size; appended to out, *lines
 * its line count.  0, or -1 (e): EX_DATAERR when it is not a whole
 * segment (corrupt, truncated, a last line without its newline).
 */
int archive_segment_line(const char *path, const char *name, unsigned max_depth,
			 struct strbuf *out, uint64_t *lines, struct aperr *e);

/* One listed segment, as read back from the manifest. */
struct archive_entry {
	char *file;
	char sha256[65];
	uint64_t bytes, ubytes, lines, pages;
	int have_time;
	struct instant first, last;
	char **endpoints;
	size_t nendpoints;
	int endpoints_truncated;
	char *line;			/* the manifest line itself */
};

struct archive_manifest {
	struct archive_entry *e;
	size_t n;
	uint64_t max_seq;		/* highest segment sequence number listed */
	size_t good_len;		/* bytes of complete, valid lines */
	int torn;			/* the last line is incomplete */
	uint64_t torn_lineno;
};

void archive_manifest_release(struct archive_manifest *m);
/*
 * Read DIR/manifest.jsonl (absent: empty).  A final line without its
 * newline or that does not parse is reported in torn; any other bad line
 * is an error (EX_DATAERR naming the line).
 */
int archive_manifest_read(const char *dir, struct archive_manifest *m, struct aperr *e);
/* The same from the manifest's bytes in memory; name is for messages. */
int archive_manifest_parse(const char *buf, size_t len, const char *name,
			   struct archive_manifest *m, struct aperr *e);
/* Append line to DIR/manifest.jsonl and fsync it. */
int archive_manifest_append(const char *dir, const char *line, size_t n, struct aperr *e);

/* Compress in[0..n) as one complete gzip member appended to out. */
int archive_gz_member(struct strbuf *out, const void *in, size_t n, int level);

/* A segment being written: temporary file plus running SHA-256. */
struct archive_seg {
	int fd;
	struct strbuf tmp, path;	/* DIR/name.tmp and DIR/name */
	char name[96];
	EVP_MD_CTX *sha;
	uint64_t bytes;
	uint64_t synced;		/* bytes made durable by archive_seg_sync() */
	int passed_on;			/* synced lines were passed on: never removed */
};

/* Create dir/name.tmp for a new segment (nothing listed yet).  0, or -1 (e). */
int archive_seg_open(struct archive_seg *w, const char *dir, const char *name, struct aperr *e);
int archive_seg_write(struct archive_seg *w, const void *data, size_t n, struct aperr *e);
/*
 * fsync, rename into place, fsync the directory, then list it in the
 * manifest with meta.  The writer is closed either way.
 */
int archive_seg_commit(struct archive_seg *w, const char *dir, const struct archive_meta *meta,
		       struct aperr *e);
/*
 * Make what was written durable (fdatasync): the lines in it may now be
 * passed on, so from here on the segment is never removed.  0 or -1 (e).
 */
int archive_seg_sync(struct archive_seg *w, struct aperr *e);
/*
 * Close the temporary file after a failure.  A segment none of whose lines
 * was passed on is removed; one that was (archive_seg_sync) is cut back to
 * what was synced and kept, for archive_recover() to list on the next run,
 * exactly as after a crash: a line passed on is never lost.  1 when it was
 * kept, 0 when removed.
 */
int archive_seg_abort(struct archive_seg *w);

/* "seg-<UTC time>-<seq>.jsonl.gz" for now and seq. */
void archive_segment_name(char *buf, size_t n, uint64_t seq);

/* Lines out of a file of gzip members. */
struct archive_gzlines {
	int fd;
	z_stream z;
	int zinit, zdone;
	unsigned char *in;
	char *out;
	size_t out_alloc, start, end;
	size_t max_line;
	uint64_t lineno, offset;
	int eof;
	const char *name;
};

/* Open a segment at path for reading lines of at most max_line bytes.  0, or -1 (e). */
int archive_gzlines_open(struct archive_gzlines *g, const char *path, size_t max_line,
			 struct aperr *e);
/*
 * Next line (without its newline): 1, 0 at a clean end, -1 when the file
 * is corrupt or truncated (EX_DATAERR) or cannot be read (EX_IOERR).
 * Only complete lines are returned.
 */
int archive_gzlines_next(struct archive_gzlines *g, const char **line, size_t *len,
			 struct aperr *e);
void archive_gzlines_close(struct archive_gzlines *g);

/* SHA-256 of a whole file as 64 hex digits.  0, or -1 (EX_NOINPUT/EX_IOERR). */
int archive_sha256_file(const char *path, char hex[65], struct aperr *e);

/*
 * Bring DIR back to a consistent state after a crash (call it holding the
 * archive's lock): repair a torn last manifest line, list complete
 * segments that were renamed but not listed, save the complete lines of
 * a leftover temporary segment as a new listed segment, and move what
 * cannot be saved to DIR/quarantine/.  Each action is described on a line
 * of report.  0 or -1 (e).
 */
int archive_recover(const char *dir, int level, struct strbuf *report, struct aperr *e);

/*
 * Claim dir for a run that writes to it: create it, take its lock (a lock
 * held elsewhere: EX_TEMPFAIL), refuse an archive already there unless
 * append (EX_CANTCREAT), and recover what a crashed run left (each action
 * a line of report).  Returns the lock's descriptor (statefile_unlock),
 * with the last segment's number in *last_seq; -1 (e) on failure.
 */
int archive_claim(const char *dir, int append, int level, uint64_t *last_seq,
		  struct strbuf *report, struct aperr *e);

/* The manifest as the table store-raw --list shows, with a total line, appended to out. */
void archive_list_text(const struct archive_manifest *m, struct strbuf *out);

#endif
