/*
 * linepool: lines checked on worker threads, acted on in input order.
 *
 * A filter whose work on a line splits into a part that touches only a
 * context of its own (parse, validate, fingerprint) and a part that must
 * happen in input order (write, dead-letter, count, stop the run) hands
 * each line to lp_add().  Workers run check() on batches of lines (up to
 * 512 lines or 1 MiB), each with its own context; the thread that calls
 * lp_add() and lp_finish() runs commit() on every line in input order.
 * At most 2 x jobs + 1 batches are in flight, which bounds the memory.
 * With one job there is no thread: lp_add() checks and commits the line
 * at once, so both paths run the same two functions.
 *
 * check(wctx, line, n, lineno, info, &code) returns a verdict of the
 * caller's choosing and appends to info what commit() will need; it may
 * set code.  commit(ctx, line, n, lineno, verdict, code, info, ilen) gets
 * them back.  commit() may end the process (die()): workers are then
 * still running, and nothing after the line is committed.
 *
 * Ownership: the pool copies the lines it holds and owns its batches and
 * threads; the contexts stay the caller's.  lp_finish() commits what is
 * in flight, joins the workers and frees the pool.
 */
#ifndef APIPE_LINEPOOL_H
#define APIPE_LINEPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "strbuf.h"

#define LP_MAX_JOBS 64

typedef int (*lp_check_fn)(void *wctx, const char *line, size_t n, uint64_t lineno,
			   struct strbuf *info, int *code);
typedef void (*lp_commit_fn)(void *ctx, const char *line, size_t n, uint64_t lineno,
			     int verdict, int code, const char *info, size_t ilen);

struct linepool;

/*
 * A pool of jobs (1 to LP_MAX_JOBS) checkers; wctx[i] is worker i's
 * context (wctx[0] alone with one job).  NULL with e set when out of
 * memory or a thread cannot start.
 */
struct linepool *lp_start(unsigned jobs, void **wctx, lp_check_fn check, lp_commit_fn commit,
			  void *ctx, struct aperr *e);
/* Hand over line lineno (copied); may commit earlier lines first.  0, or -1 (e). */
int lp_add(struct linepool *p, const char *line, size_t n, uint64_t lineno, struct aperr *e);
/*
 * Commit every line handed over so far, waiting for the workers (the
 * upstream paused: what is held goes on now).  0, or -1 (e).
 */
int lp_drain(struct linepool *p, struct aperr *e);
/* Commit every line handed over, stop the workers, free p.  0, or -1 (e). */
int lp_finish(struct linepool *p, struct aperr *e);

#endif
