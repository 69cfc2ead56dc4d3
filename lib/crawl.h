/*
 * crawl: the checkpoint of a paginated crawl, its one format.
 *
 * paginate writes where a crawl stands after each page it wrote, to a
 * checkpoint file and as the value of an in-band state line; a later run
 * resumes from it.  The format (version 1):
 *
 *   {"version":1,"listing":L,"output_bytes":B}             listings before L are done
 *   {"version":1,"listing":L,"output_bytes":B,"start":URL,"start_id":ID,
 *    "next":URL,"next_body"?:TEXT,"page":P,"pos":N,"step":N,"empty_run":N,
 *    "records":N,"pages":N,"total"?:N,"spec":{…}}             listing L is at page P
 *   {"version":1,"complete":true}                           the last crawl ended
 *
 * start is the start URL as shown (secrets masked); start_id identifies
 * the real start request (pg_request_id), so a checkpoint is only resumed
 * by the crawl it was written for.  next is the URL of the next page to
 * write, next_body its body when the position travels in it; spec is the
 * pagination in force (auto resolved to the style found).
 *
 * Ownership: struct crawl_ck borrows every string it is given to write;
 * what crawl_ck_read() fills points into the parsed document d (strings
 * are token numbers, decoded by the caller).  Nothing is allocated.
 */
#ifndef APIPE_CRAWL_H
#define APIPE_CRAWL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "json.h"
#include "paginate.h"

#define CRAWL_CK_VERSION 1

struct jsonw;

struct crawl_ck {
	uint64_t listing, output_bytes;
	int at_page;			/* the listing is under way: what follows is set */
	const char *start, *start_id;	/* writing: strings; reading: see crawl_ck_read */
	const char *next;
	size_t next_len;
	const char *next_body;		/* NULL: none */
	size_t next_body_len;
	uint64_t page, pos, step, empty_run, records, pages;
	int has_total;
	uint64_t total;
	const struct pg_spec *spec;	/* writing only */
};

/* Write ck as the checkpoint's JSON object. */
void crawl_ck_write(struct jsonw *w, const struct crawl_ck *ck);

/* Write the checkpoint that says the last crawl ended. */
void crawl_ck_complete(struct jsonw *w);

/* What crawl_ck_read() found: token numbers in d for the strings. */
struct crawl_ck_tokens {
	uint32_t start, start_id, next, next_body, spec;	/* 0: absent */
};

/*
 * Read checkpoint d (its root) into ck and tokens.  Returns 1 when it is a
 * checkpoint of a crawl under way (at_page says whether a listing is at a
 * page), 0 when it says the last crawl ended ("complete"), -1 (EX_DATAERR,
 * naming the JSON Pointer) when it is no version-1 checkpoint or a member
 * is not what it must be.
 */
int crawl_ck_read(const struct json_doc *d, struct crawl_ck *ck, struct crawl_ck_tokens *tokens,
		  struct aperr *e);

#endif
