/*
 * whread: the events a webhook-recv sink stored in a directory, read back
 * in order as they are written, across every events file
 * (webhook-recv --read, --follow).
 */
#ifndef APIPE_WHREAD_H
#define APIPE_WHREAD_H

#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "jsonl.h"
#include "strbuf.h"

/*
 * A reader of a sink's directory: every events file in name order (the
 * time its receiver started, then its pid), each line once, a line only
 * once it is whole.  Owns its names and offsets (wh_reader_close).
 */
struct wh_read_file {
	char *name;
	off_t off;			/* the bytes of whole lines already read */
};
struct wh_reader {
	char *dir;
	struct wh_read_file *f;
	size_t n;
	struct strbuf acc;		/* scratch: what one file holds past off */
};

/* dir must be a directory: 0, or -1 (EX_NOINPUT). */
int wh_reader_open(struct wh_reader *r, const char *dir, struct aperr *e);
/*
 * The whole lines written since the last poll, file by file, appended to
 * out; *bytes how many bytes they are.  A file that shrank is EX_DATAERR.
 * 0 or -1 (e).
 */
int wh_reader_poll(struct wh_reader *r, struct lwriter *out, uint64_t *bytes, struct aperr *e);
void wh_reader_close(struct wh_reader *r);

#endif
