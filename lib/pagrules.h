/*
 * pagrules: what --style auto looks for, as tables (lib/pagrules.c names the
 * APIs each row comes from).  Lists of strings end with NULL.  Names
 * compared "normalised" are lower-cased with everything but letters and
 * digits dropped (next_page_token and nextPageToken are both
 * "nextpagetoken"); paths are JSON Pointers from the body's root.
 *
 * Nothing here allocates or holds state; the tables are read-only and may
 * be read by any thread.
 */
#ifndef APIPE_PAGRULES_H
#define APIPE_PAGRULES_H

#include <stddef.h>

#include "strbuf.h"

extern const char *const pgr_next_url_paths[];
extern const char *const pgr_cursor_paths[];
extern const char *const pgr_cursor_params[];
extern const char *const pgr_size_params[];
extern const char *const pgr_offset_params[];
extern const char *const pgr_page_params[];
extern const char *const pgr_more_names[];
extern const char *const pgr_done_names[];
extern const char *const pgr_total_names[];
extern const char *const pgr_weak_total_names[];
extern const char *const pgr_position_names[];
extern const char *const pgr_paging_objects[];
extern const char *const pgr_foreign_objects[];
extern const char *const pgr_offset_echoes[];
extern const char *const pgr_page_echoes[];
extern const char *const pgr_page_counts[];
extern const char *const pgr_page_sizes[];

/*
 * The parameters a token goes back in, by the normalised name of the
 * member that held it: params is a list of names, one a line, where "%d"
 * is the name without "next" and "%o" the name itself; tried in order.
 */
struct pgr_pair {
	const char *member, *params, *apis;
};
extern const struct pgr_pair pgr_token_pairs[];
extern const size_t pgr_ntoken_pairs;

/* A page-size parameter and the position parameter that goes with it. */
struct pgr_family {
	const char *size, *offset, *page;
};
extern const struct pgr_family pgr_families[];
extern const size_t pgr_nfamilies;

/* An API shape known by its top-level members, and its position parameter. */
struct pgr_shape {
	const char *api;
	const char *members[3];		/* all present (NULL: unused) */
	const char *kind, *param;	/* "offset" or "page", and the name */
};
extern const struct pgr_shape pgr_shapes[];
extern const size_t pgr_nshapes;

/* 1 when s is one of list's strings. */
int pgr_in_list(const char *s, const char *const *list);
/* name normalised into out (reset first). */
void pgr_norm(const char *name, struct strbuf *out);

#endif
