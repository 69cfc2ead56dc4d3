/*
 * pagsignal.h: what a first page says about where the next one is, read
 * for --style auto (lib/pagdetect.c) by a walk over the parsed body:
 * members whose name says next (a URL, a relative URL or a token),
 * continuation booleans in either sense, a reported total, a Relay
 * pageInfo, a position token under a paging object.  Inside the
 * pagination module only.  struct signals owns its strbufs; the pointers
 * it holds are JSON Pointer text from the body's root.
 */
#ifndef APIPE_PAGSIGNAL_H
#define APIPE_PAGSIGNAL_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "strbuf.h"

#define SIGNAL_DEPTH 6

struct sig {
	struct strbuf ptr;	/* where it is */
	int depth;		/* -1: not found */
};

struct signals {
	struct sig url, token, flag, total, relay_cursor, relay_more, postoken;
	int url_empty, token_empty;	/* there, and empty: the last page */
	int postoken_empty;
	int total_weak;			/* the total found is under a weak name */
	int weak_beyond;		/* a figure under a weak name is above the page's records */
	size_t nrecords;		/* on the page: a weak total must be beyond it */
	struct strbuf postoken_name;
	struct strbuf parent;		/* the enclosing object's name, normalised */
	int flag_sense;			/* 1: true means more; 0: true means the last page */
	int flag_value;
	uint64_t total_value;
	struct strbuf token_name;	/* the token's member name, for its parameter */
	struct strbuf name, norm;	/* scratch */
};

/* Empty signals (every depth -1); pagsig_release frees what they hold. */
void pagsig_init(struct signals *g);
void pagsig_release(struct signals *g);
/*
 * Walk body d (an object; anything else leaves g as it is) for the
 * signals, the shallowest of each kind kept.  nrecords is the page's
 * record count: a total under a weak name counts only above it.
 */
void pagsig_read(struct signals *g, const struct json_doc *d, size_t nrecords);
/* Does the flag say more pages follow?  1 or 0; -1: no flag. */
int pagsig_flag_more(const struct signals *g);
/* A string that reads as a URL: absolute, rooted, relative or a bare query. */
int pagsig_looks_like_url(const char *s);

#endif
