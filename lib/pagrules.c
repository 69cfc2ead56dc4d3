/*
 * pagrules: the names and shapes --style auto reads, as data.  Each table
 * says which APIs' documented responses it comes from; lib/pagdetect.c
 * holds the procedure that applies them.  A new API shape is a row here.
 */
#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include "pagrules.h"

/* A next URL in the body: where it may be. */
const char *const pgr_next_url_paths[] = {
	"/next", "/links/next", "/links/next/href", "/_links/next/href", "/next_url", "/nextUrl",
	"/next_page_url", "/nextPageUrl", "/next_link", "/nextLink", "/@odata.nextLink",
	"/paging/next", "/pagination/next", "/pagination/next_url", "/pagination/next_link",
	"/meta/next", "/meta/next_url", "/meta/links/next", NULL
};

/* A cursor in the body at a known place; its parameter comes from pgr_token_pairs. */
const char *const pgr_cursor_paths[] = {
	"/response_metadata/next_cursor", "/next_cursor", "/nextCursor", "/pagination/next_cursor",
	"/pagination/nextCursor", "/meta/next_cursor", "/meta/nextCursor", "/paging/next_cursor",
	"/nextPageToken", "/next_page_token", "/meta/next_token", "/next_token", "/nextToken",
	"/paging/cursors/after", "/pageInfo/endCursor", "/page_info/end_cursor", "/cursors/after",
	"/continuation", "/cursor", "/after", "/next", "/meta/next", "/pagination/next", NULL
};

/* Names a start URL may already use for a cursor. */
const char *const pgr_cursor_params[] = {
	"cursor", "pageToken", "page_token", "after", "starting_after", "next_token",
	"pagination_token", "nextToken", "continuation", "continuationToken", "page[after]",
	"page[cursor]", "start_cursor", "continue", NULL
};

/* Query parameters that ask for a page size. */
const char *const pgr_size_params[] = {
	"limit", "per_page", "perPage", "page_size", "pageSize", "size", "count", "max_results",
	"maxResults", "top", "$top", "first", "take", "_limit", "_per_page", "page[size]",
	"pagesize", "rows", NULL
};

/* Query parameters a request uses for its position, by kind. */
const char *const pgr_offset_params[] = { "offset", "_start", "skip", "start", "from",
					     "$skip", "page[offset]", NULL };

const char *const pgr_page_params[] = { "page", "_page", "pageNumber", "page_number",
					   "page[number]", "p", NULL };

/* Booleans that say more pages follow, by name lower-cased without separators. */
const char *const pgr_more_names[] = {
	"hasmore", "hasnext", "hasnextpage", "more", "moreitems", "morepages", "moreresults",
	"morerecords", "moredata", "hasmoreitems", "hasmorepages", "hasmoreresults",
	"hasmorerecords", "nextpageexists", NULL
};

/* Booleans that say this is the last page. */
const char *const pgr_done_names[] = {
	"done", "last", "islast", "islastpage", "lastpage", "finished", "isfinished", "complete",
	"iscomplete", "end", "isend", "endofresults", "endoflist", "nomore", "nomorepages",
	"nomoreresults", "alldone", "exhausted", NULL
};

/* Numbers that report how many records the whole listing holds. */
const char *const pgr_total_names[] = {
	"total", "totalcount", "totalresults", "totalitems", "totalelements", "totalrecords",
	"totalrows", "totalentries", "totalhits", "totalsize", "numfound", "numresults",
	"odatacount", "nbhits", "objectcount", NULL
};

/*
 * Numbers that are the listing's size in some APIs and the page's in
 * others (Cloudflare's result_info.count, X's meta.result_count,
 * Confluence's size): a total only when beyond the records on the page.
 */
const char *const pgr_weak_total_names[] = {
	"count", "recordcount", "resultcount", "itemcount", "found", "size", NULL
};

/*
 * Names APIs give an opaque position to send back, when a string beside
 * the records or in a paging object holds it: Airtable's offset,
 * Cloudflare's result_info.cursor, Pinterest's bookmark, Nexus's
 * continuationToken, Kubernetes' metadata.continue, Reddit's data.after,
 * Intercom's pages.next.starting_after.
 */
const char *const pgr_position_names[] = {
	"offset", "cursor", "marker", "bookmark", "continuation", "continuationtoken", "continue",
	"after", "aftercursor", "searchafter", "pagetoken", "startingafter", "skiptoken",
	"scrollid", NULL
};

/* Objects such a position may sit in (and the top level, and next: {…}). */
const char *const pgr_paging_objects[] = {
	"paging", "pagination", "meta", "metadata", "resultinfo", "cursors", "cursor", "next",
	"nextpage", "page", "pageinfo", "responsemetadata", "additionaldata", "data", "result",
	"pages", NULL
};

/* Objects whose members never describe the listing (Elasticsearch's shard counts). */
const char *const pgr_foreign_objects[] = { "shards", NULL };

/*
 * The parameters a token goes back in, by the name of the member that
 * holds it (lower-cased, without separators), as APIs document the pairs;
 * "%d" is the name without "next" (nextPageToken: pageToken, NextMarker:
 * Marker, next_page_token: page_token) and "%o" the name itself.  A name
 * not here goes back as "%d" then "%o".  The first is tried first; page 2
 * confirms it or moves on (pag_next_candidate).
 */
const struct pgr_pair pgr_token_pairs[] = {
	{ "nextcursor", "cursor\nstart_cursor\n%o", "Slack, Notion" },
	{ "nextpagetoken", "%d\n%o", "Google; Jira's search/jql, Zoom" },
	{ "nexttoken", "%o\npagination_token", "X search; X timelines; AWS NextToken" },
	{ "next", "cursor\noffset\npage\nnext", "Lever reads its next as offset" },
	{ "endcursor", "after", "Relay" },
	{ "nextoffset", "offset", "Chargebee" },
	{ "nextpage", "page\n%o", "Stripe search" },
	{ "nextstart", "start", "Pipedrive" },
	{ "aftercursor", "%o\nafter", "OneLogin" },
};

/*
 * Position parameters that go with a page-size parameter, when the
 * request names only the size: json-server's _limit with _start, limit
 * with offset, OData's $top with $skip, per_page with page.
 */
const struct pgr_family pgr_families[] = {
	{ "_limit", "_start", NULL }, { "limit", "offset", NULL }, { "$top", "$skip", NULL },
	{ "top", "skip", NULL }, { "take", "skip", NULL }, { "rows", "start", NULL },
	{ "maxResults", "startIndex", NULL }, { "per_page", NULL, "page" },
	{ "perPage", NULL, "page" }, { "page_size", NULL, "page" }, { "pageSize", NULL, "page" },
};

/* Echoes of an offset (Jira's startAt, Confluence's start) and of a page number. */
const char *const pgr_offset_echoes[] = { "offset", "skip", "startat", "start", "from",
					     "startindex", NULL };

const char *const pgr_page_echoes[] = { "page", "currentpage", "pagenumber", "pageno", NULL };

/* Members that say a listing is paged: page counts and sizes. */
const char *const pgr_page_counts[] = { "totalpages", "lastpage", "nbpages", "pagecount",
					   "pages", NULL };

const char *const pgr_page_sizes[] = { "perpage", "pagesize", "pagelen", "hitsperpage",
					  "limit", "maxresults", "take", "resultsperpage", NULL };

const size_t pgr_ntoken_pairs = sizeof(pgr_token_pairs) / sizeof(*pgr_token_pairs);
const size_t pgr_nfamilies = sizeof(pgr_families) / sizeof(*pgr_families);

/*
 * Shapes whose position parameter is known when the page shows only a
 * total: the members that identify the shape (all present at the top
 * level) and the guess tried first.
 */
const struct pgr_shape pgr_shapes[] = {
	{ "Elasticsearch (from/size)", { "_shards", "hits", NULL }, "offset", "from" },
	{ "CKAN (start/rows)", { "help", "success", "result" }, "offset", "start" },
	{ "Solr (start/rows)", { "responseHeader", "response", NULL }, "offset", "start" },
	{ "OData ($skip/$top)", { "@odata.context", "value", NULL }, "offset", "$skip" },
};
const size_t pgr_nshapes = sizeof(pgr_shapes) / sizeof(*pgr_shapes);

int pgr_in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return 1;
	return 0;
}

void pgr_norm(const char *name, struct strbuf *out)
{
	strbuf_reset(out);
	for (; *name; name++)
		if (isalnum((unsigned char)*name))
			strbuf_addch(out, (char)tolower((unsigned char)*name));
}
