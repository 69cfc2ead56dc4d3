/*
 * wmstate: a watermark's state file, DIR/NAME.json, and the values in it.
 *
 *   {"name":NAME,"type":TYPE,"field":POINTER|null,"current":V|null,
 *    "pending":V|null,"updated_at":TIME}
 *
 * current is what a run starts after; pending is what a run tracked and
 * staged, made current by a commit once the records landed.  Values are
 * JSON text of their type (ordval): a timestamp, a number, a string.
 *
 * Ownership: struct wm_state owns its buffers (wm_state_release).  Nothing
 * here prints or exits.  Thread-safety: none needed (one thread a state).
 */
#ifndef APIPE_WMSTATE_H
#define APIPE_WMSTATE_H

#include "err.h"
#include "instant.h"
#include "json.h"
#include "ordval.h"
#include "strbuf.h"

struct wm_state {
	int exists;
	enum ordkind kind;
	struct strbuf field, current, pending;	/* JSON text; empty when absent */
	struct strbuf file;			/* the file as read */
};

void wm_state_init(struct wm_state *s);
void wm_state_release(struct wm_state *s);

/* A name fit for a file: letters, digits, '.', '_' and '-', not leading '.' or '-'. */
int wm_valid_name(const char *name);
/* Take NAME's lock in dir (created): its descriptor (statefile_unlock), or -1 (e). */
int wm_lock(const char *dir, const char *path, const char *name, struct aperr *e);
/*
 * Read the state at path into s (s->exists 0 when there is none).  -1
 * (EX_DATAERR, "damaged state file") when it is not a watermark's state;
 * the file is left as it is.
 */
int wm_state_load(const char *path, struct wm_state *s, struct aperr *e);
/* Write s as NAME's state at path (dir created), durably.  0 or -1. */
int wm_state_save(const char *dir, const char *path, const char *name, const struct wm_state *s,
		  struct aperr *e);
/* current becomes the greater of current and pending; pending is emptied.  0 or -1. */
int wm_commit_pending(struct wm_state *s, struct aperr *e);
/*
 * val (JSON text of kind) as get prints it, with a newline, into out:
 * fmt raw, rfc3339, epoch or epoch-ms (NULL: raw, or with lookback the
 * kind's own), lookback (NULL: none) subtracted.  -1 (EX_USAGE) for a
 * format or lookback a value of that kind does not take.
 */
int wm_format(enum ordkind kind, const char *val, size_t n, const char *fmt,
	      const struct instant *lookback, struct strbuf *out, struct aperr *e);

/*
 * Every state in dir, by name, each minified on a line of out.  -1
 * (EX_NOINPUT) when dir cannot be read, EX_DATAERR for a file that is no
 * JSON.
 */
int wm_list(const char *dir, struct strbuf *out, struct aperr *e);

/* Tracking the greatest value of a field over records. */
struct wm_track {
	struct json_ptr field;
	enum ordkind kind;		/* ORD_AUTO until the first value says */
	struct ordval max, cur;
	int have_max;
};

/* Track field (a JSON Pointer) of kind (ORD_AUTO: as the values say).  0 or -1 (EX_USAGE). */
int wm_track_init(struct wm_track *t, const char *field, enum ordkind kind, struct aperr *e);
void wm_track_release(struct wm_track *t);
/* Record d's value: 0, or -1 with why the record has no usable one (e). */
int wm_track_record(struct wm_track *t, const struct json_doc *d, struct aperr *e);

#endif
