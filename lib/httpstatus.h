/*
 * httpstatus: tables counted by HTTP status.
 *
 * A table indexed by status has HTTP_STATUS_SLOTS entries: 100..599 are
 * statuses, and a slot below 100 holds what had none (a transport error).
 * http_status_slot() maps any status to its slot.
 */
#ifndef APIPE_HTTPSTATUS_H
#define APIPE_HTTPSTATUS_H

#include "err.h"

#define HTTP_STATUS_SLOTS 600

/* The slot of status s: s itself when it is one (1..599), else 0. */
static inline unsigned http_status_slot(long s)
{
	return s > 0 && s < HTTP_STATUS_SLOTS ? (unsigned)s : 0;
}

/*
 * A set of statuses a run counts as failures (--fail-on): statuses and
 * classes ("404,429,5xx"), or "none".  Empty (never parsed): the default,
 * where only a request that got no usable response fails.
 */
struct http_status_set {
	unsigned char in[HTTP_STATUS_SLOTS];
	int any;			/* some status is in the set */
	int none;			/* "none": nothing fails */
};

/* Add the list arg to set.  0 or -1 (EX_USAGE naming the bad item). */
int http_status_set_parse(struct http_status_set *set, const char *arg, struct aperr *e);
/*
 * Does a request that ended with status (0: none) fail under set?  failed:
 * the request got no usable response (transport error, retries spent).
 */
int http_status_set_fails(const struct http_status_set *set, long status, int failed);

#endif
