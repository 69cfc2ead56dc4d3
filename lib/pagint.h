/*
 * pagint.h: what lib/paginate.c (the styles: reading a page, building a
 * request) and lib/pagdetect.c (--style auto) share inside the module.
 * Not for other modules.  Results point into the caller's parsed body d;
 * nothing here allocates but the strbufs passed in.
 */
#ifndef APIPE_PAGINT_H
#define APIPE_PAGINT_H

#include "paginate.h"

/* Token at the pointer text p (from the root), or JSON_ABSENT. */
uint32_t pagi_at(const struct json_doc *d, const char *p);
/*
 * A scalar as a parameter value: strings decoded, numbers as written.
 * 1 when usable (non-empty), 0 when null, "", false or absent, -1 when
 * it is something else (an object, an array, true).
 */
int pagi_scalar_value(const struct json_doc *d, uint32_t t, struct strbuf *out);
/* A total at token t: a number, or {"value": n}.  1 with *total set, else 0. */
int pagi_total_at(const struct json_doc *d, uint32_t t, uint64_t *total);
/* The page's record array into res (none: JSON_ABSENT, 0 records).  0 or -1 (e). */
int pagi_find_records(const struct pag_spec *s, const struct json_doc *d, struct pag_result *res,
		     struct aperr *e);
/* The total a page reports (spec's path, the known places, a header) into res. */
void pagi_page_total(const struct pag_spec *s, const struct json_doc *d, const struct http_req *r,
		    struct pag_result *res);
/* The last record of the page (its node for GraphQL edges), 0 when none. */
uint32_t pagi_last_record(const struct json_doc *d, const struct pag_result *res);
/*
 * In an array of hypermedia links, the href of the one whose rel is or
 * includes "next", or JSON_ABSENT; *links 0 when the array holds no links.
 */
uint32_t pagi_rel_next_links(const struct json_doc *d, uint32_t arr, int *links);

#endif
