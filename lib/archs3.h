/*
 * archs3: an archive in S3-compatible object storage (store-raw(1), "Object
 * storage").  The layout under s3://BUCKET/PREFIX/:
 *
 *   seg-<UTC time>-<run>-<seq>.jsonl.gz     a segment, as on a disk
 *   manifest/seg-<...>.jsonl.gz.json        its manifest line, alone
 *
 * Objects are never overwritten: a segment is stored whole (one PUT), then
 * its manifest line, each acknowledged before the next step, and a line is
 * passed on only once both are.  The manifest is the manifest/ objects in
 * key order.  A segment without its manifest object (a run stopped between
 * the two) is listed by the next run with --append, and stops a replay
 * until then, as an unlisted file does on a disk.  <run> is random per run,
 * so two writers at once never name the same object.
 *
 * Ownership: struct archive_s3 borrows its struct s3 and owns the bucket,
 * the prefix and its download directory.  Thread-safety: one thread at a
 * time (store-raw's writer thread while archiving).
 */
#ifndef APIPE_ARCHS3_H
#define APIPE_ARCHS3_H

#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "s3.h"

struct archive_s3 {
	struct s3 *s3;
	const char *url;		/* as the user named it, for messages */
	char *bucket, *prefix;		/* prefix: "" or ending in '/' */
	char run[9];			/* this run's part of segment names */
	char *tmpdir;			/* segments downloaded for a replay; NULL: none yet */
};

/* Archive url (s3://BUCKET[/PREFIX]) in store s3.  0 or -1 (e). */
int archive_s3_init(struct archive_s3 *a, struct s3 *s3, const char *url, struct aperr *e);
void archive_s3_release(struct archive_s3 *a);

/* "seg-<UTC time>-<run>-<seq>.jsonl.gz" for now and seq. */
void archive_s3_segment_name(const struct archive_s3 *a, char *buf, size_t n, uint64_t seq);

/*
 * The manifest: every manifest object, in order, as struct archive_manifest
 * holds it.  With orphans non-NULL, the names of segments stored without a
 * manifest object are appended to it, one per line.  0 or -1 (e).
 */
int archive_s3_manifest(struct archive_s3 *a, struct archive_manifest *m, struct strbuf *orphans,
			struct aperr *e);

/*
 * Claim the archive for a run: refuse one already there unless append
 * (EX_CANTCREAT), list the segments a stopped run left unlisted (each a
 * line of report; an object there that is no segment: EX_DATAERR), and
 * give the last segment's number.  0 or -1 (e).
 */
int archive_s3_claim(struct archive_s3 *a, int append, uint64_t *last_seq, struct strbuf *report,
		     struct aperr *e);

/*
 * Store segment name (data[0..n), its gzip members) and then its manifest
 * line made from meta.  0 once both are acknowledged, or -1 (e).
 */
int archive_s3_commit(struct archive_s3 *a, const char *name, const void *data, size_t n,
		      const struct archive_meta *meta, struct aperr *e);

/*
 * Does the manifest account for every segment stored?  orphans is what
 * archive_s3_manifest() found: -1 (EX_DATAERR, saying how to repair) when
 * it names a segment, else 0.
 */
int archive_s3_check(const struct archive_s3 *a, const struct strbuf *orphans, struct aperr *e);

/*
 * Download segment file into the run's download directory; its path into
 * path (reset first).  A missing object: EX_NOINPUT.  0 or -1 (e).
 */
int archive_s3_fetch(struct archive_s3 *a, const char *file, struct strbuf *path, struct aperr *e);

#endif
