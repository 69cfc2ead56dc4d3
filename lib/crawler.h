/*
 * crawler: a run of paginate -- listings one after another (or several at
 * once), each crawled to its end by lib/crawl, their envelopes written in
 * order, and where the run stands kept after each page written.
 *
 * Each page's envelope is written (and flushed, when it goes to the
 * output) before the checkpoint names the next request, so a killed run
 * resumes at the first page it had not written.  The checkpoint goes to a
 * file (--checkpoint: synced with -o FILE first) and/or as an in-band
 * state line after the page, RS (0x1e) then
 * {"apipe_state":NAME,"value":CHECKPOINT}, which the filters pass on and
 * the sink keeps with the rows before it.
 *
 * With nactive > 1, listings are crawled at once and still go out grouped
 * in input order: the first unfinished one (the head) writes to the
 * output; the others write to a temporary file of their own, copied out
 * when their turn comes.  So the output, its state lines and the
 * checkpoint read as if the listings were crawled one after another.
 * unordered lets pages out as they come instead.
 *
 * Use: crawler_init(); set the fields marked "the caller's" (and
 * crawler_use_client(), or a cfg.io of one's own); optionally
 * crawler_resume() (or crawler_load() a checkpoint's text);
 * crawler_open_output(); crawler_run(); read the totals;
 * crawler_release().  Errors come back as -1 with e (or
 * LW_EPIPE when the reader of the output went away); the crawler never
 * prints and never exits.
 *
 * Ownership: the crawler borrows everything the caller sets (the spec,
 * the client, the secrets, the names); it owns its output writer (closed
 * by the caller through crawler.out), its slots and its scratch.
 * Thread-safety: none; one thread runs a crawler.
 */
#ifndef APIPE_CRAWLER_H
#define APIPE_CRAWLER_H

#include <stddef.h>
#include <stdint.h>

#include "listing.h"
#include "envelope.h"
#include "jsonl.h"

struct crawler;

struct crawler_hooks {
	void *ctx;
	/*
	 * The listing at index into tmpl (a request) and meta (its request
	 * line's meta, as JSON): 1, 0 when there are no more, -1 (e).
	 */
	int (*next)(void *ctx, uint64_t index, struct http_req *tmpl, struct strbuf *meta,
		    struct aperr *e);
	/* Page r was written (-w); NULL: nothing to do. */
	void (*written)(void *ctx, const struct http_req *r);
	/* After each page written, to show progress; NULL: nothing to do. */
	void (*progress)(void *ctx, const struct crawler *cr);
	/* A warning; NULL: quiet. */
	void (*warn)(void *ctx, const char *msg);
};

struct crawler_slot;

struct crawler {
	/* the caller's: set after crawler_init() */
	struct listing_cfg cfg;		/* cfg.io.submit etc.: crawler_use_client() fills them */
	struct http_client *client;
	const struct auth *auth;	/* redaction of the envelope's request */
	const struct pag_spec *user;	/* the pagination asked for */
	struct crawler_hooks hooks;
	uint64_t max_pages;		/* 0: no bound */
	const char *checkpoint;		/* a checkpoint file; NULL: none */
	const char *outpath;		/* -o FILE; NULL: stdout */
	const char *state_name;		/* in-band state lines; NULL: none */
	const char *ck_label;		/* the checkpoint's name in messages */
	int unordered, require_total;
	int input_lines;		/* the listings are request lines read from input:
					 * a bad one is bad data (65), not usage (64) */
	size_t nactive;			/* listings crawled at once */
	size_t max_line, max_depth;

	/* the run's */
	struct lwriter out;
	uint64_t out_base;		/* bytes the output held before this run */
	struct crawler_slot *slots, *cur;
	size_t nslots;
	struct lwriter *w;		/* where the crawl at hand writes */
	uint64_t head;			/* the listing that writes to the output */
	struct json_doc d, cd;
	struct json_error je;
	struct strbuf env, tmp, ck;
	struct pag_result res;
	int have_ck;			/* a checkpoint of a crawl under way was loaded */
	struct listing_ck ck_in;		/* what it says; its strings are tokens of cd */
	struct listing_ck_tokens ck_tok;

	/* totals, read after crawler_run() */
	uint64_t listings, pages, records, empty_pages, reported_total, short_listings;
	uint64_t fetched_of_total;	/* records of the listings that reported a total */
	uint64_t dropped_ahead;		/* responses to pages fetched ahead on a wrong guess */
	int any_total, stopped_max;
	const char *last_style;		/* the last listing's style */
};

void crawler_init(struct crawler *cr);
void crawler_release(struct crawler *cr);

/* Send the crawl's requests through client (sets cfg.io; a test may set its own). */
void crawler_use_client(struct crawler *cr, struct http_client *client);

/*
 * The checkpoint text of an interrupted run (from the checkpoint file or
 * the sink), copied: the run resumes from it.  A checkpoint saying the
 * last crawl ended starts anew.  -1 (EX_DATAERR) when it is no checkpoint.
 */
int crawler_load(struct crawler *cr, const char *text, size_t n, struct aperr *e);

/*
 * Resume from what the sink keeps (db, a database URL) under state_name,
 * or, db NULL, from the checkpoint file, when either holds a crawl under
 * way.  0 also when there is nothing to resume.
 */
int crawler_resume(struct crawler *cr, const char *db, struct aperr *e);

/*
 * The listings under way: 1 when each has reported a total, with the sum
 * of their totals and of the records they wrote; else 0.
 */
int crawler_under_way(const struct crawler *cr, uint64_t *total, uint64_t *records);

/*
 * Open the output (outpath, or stdout), cut back to what a loaded
 * checkpoint vouches for, or emptied.
 */
int crawler_open_output(struct crawler *cr, struct aperr *e);

/* The run's totals as members of the object w is in: listings … short_listings. */
void crawler_stats_json(const struct crawler *cr, struct jsonw *w);

/* Crawl every listing.  0; -1 (e); LW_EPIPE when the output's reader went away. */
int crawler_run(struct crawler *cr, struct aperr *e);

#endif
