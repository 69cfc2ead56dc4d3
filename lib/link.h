/*
 * link: RFC 8288 Link headers, and resolving URL references.
 *
 * link_find() scans a Link header value once, left to right, in time
 * linear in its length whatever it holds (hostile headers included):
 * link-values separated by commas (commas inside <URI> and inside quoted
 * strings do not separate), each "<URI-Reference>" followed by ";"
 * parameters, rel holding one or more space-separated relation types
 * compared case-insensitively.  Nothing is allocated but the output.
 */
#ifndef APIPE_LINK_H
#define APIPE_LINK_H

#include <stddef.h>

#include "err.h"
#include "strbuf.h"

/*
 * Append to out the target of the first link whose rel includes rel
 * ("next").  Returns 1 when found, 0 when not, 2 when the link is there
 * with results="false" (Sentry keeps a next link on the last page and says
 * so that way; nothing is appended), -1 when the header is not a Link
 * header value (e has the byte offset).
 */
int link_find(const char *v, size_t n, const char *rel, struct strbuf *out, struct aperr *e);

#endif
