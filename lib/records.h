/*
 * records: where a page's records are.
 *
 * An input document is either a response envelope (an object with "url"
 * and a "body", "status" or "error", see apipe(7)) or a plain JSON
 * document.  For an envelope the record array is looked up in its body,
 * and an envelope of a failed exchange or a non-2xx status is refused.
 *
 * Automatic detection, in order: a body that is an array; the one array
 * member of the body object; among several arrays, the first of the common
 * names (data, items, results, records, entries, value, nodes, edges, …);
 * with no array member, the same search one level down in member objects
 * (as in {"data":{"items":[…]}}), to a depth of 4.  An "edges" array whose
 * elements all have a "node" (GraphQL connections) yields the nodes.
 * Several candidates are an error that names them, unless all of them are
 * empty (then the page has no records either way).
 *
 * Ownership: struct records_page owns its "where" buffer and is reused
 * across documents.
 */
#ifndef APIPE_RECORDS_H
#define APIPE_RECORDS_H

#include <stdint.h>

#include "err.h"
#include "json.h"
#include "strbuf.h"

struct records_page {
	int envelope;		/* the document is a response envelope */
	uint32_t body;		/* the body token (the root for plain documents) */
	uint32_t array;		/* the record array, JSON_ABSENT when the page has none */
	int edges;		/* records are array[i]/node */
	struct strbuf where;	/* pointer of the array from the document root */
	struct strbuf scratch;
};

void records_page_init(struct records_page *pg);
void records_page_release(struct records_page *pg);
/* 1 when the parsed document is a response envelope. */
int records_is_envelope(const struct json_doc *d);
/*
 * Find the record array of the parsed document d, at path (relative to the
 * body) or automatically when path is NULL.  Returns 0, or -1 with
 * EX_DATAERR and a message naming candidates or what was found instead;
 * pg->where then holds the pointer the message is about.
 */
int records_find(const struct json_doc *d, const struct json_ptr *path,
		 struct records_page *pg, struct aperr *e);

#endif
