/*
 * httpstatus: tables counted by HTTP status.
 *
 * A table indexed by status has HTTP_STATUS_SLOTS entries: 100..599 are
 * statuses, and a slot below 100 holds what had none (a transport error).
 * http_status_slot() maps any status to its slot.
 */
#ifndef APIPE_HTTPSTATUS_H
#define APIPE_HTTPSTATUS_H

#define HTTP_STATUS_SLOTS 600

/* The slot of status s: s itself when it is one (1..599), else 0. */
static inline unsigned http_status_slot(long s)
{
	return s > 0 && s < HTTP_STATUS_SLOTS ? (unsigned)s : 0;
}

#endif
