/*
 * pagsignal: the walk over a first page for what says where the next one
 * is (lib/pagsignal.h).  The names it knows are lib/pagrules.c's tables.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "pagint.h"
#include "pagrules.h"
#include "pagsignal.h"

#define SIGNAL_DEPTH 6


void pagsig_init(struct signals *g)
{
	struct sig *all[] = { &g->url, &g->token, &g->flag, &g->total, &g->relay_cursor,
			      &g->relay_more, &g->postoken };
	size_t i;

	memset(g, 0, sizeof(*g));
	for (i = 0; i < sizeof(all) / sizeof(*all); i++) {
		strbuf_init(&all[i]->ptr, 0);
		all[i]->depth = -1;
	}
	strbuf_init(&g->token_name, 0);
	strbuf_init(&g->postoken_name, 0);
	strbuf_init(&g->parent, 0);
	strbuf_init(&g->name, 0);
	strbuf_init(&g->norm, 0);
}

void pagsig_release(struct signals *g)
{
	strbuf_release(&g->url.ptr);
	strbuf_release(&g->token.ptr);
	strbuf_release(&g->flag.ptr);
	strbuf_release(&g->total.ptr);
	strbuf_release(&g->relay_cursor.ptr);
	strbuf_release(&g->relay_more.ptr);
	strbuf_release(&g->token_name);
	strbuf_release(&g->postoken.ptr);
	strbuf_release(&g->postoken_name);
	strbuf_release(&g->parent);
	strbuf_release(&g->name);
	strbuf_release(&g->norm);
}

/* Take the candidate at ptr unless one as shallow is already there.  1 when taken. */
static int sig_take(struct sig *s, const struct strbuf *ptr, int depth)
{
	if (s->depth >= 0 && s->depth <= depth)
		return 0;
	strbuf_reset(&s->ptr);
	strbuf_add(&s->ptr, ptr->buf, ptr->len);
	s->depth = depth;
	return 1;
}

/* A name that says it holds a URL. */
static int names_url(const char *norm)
{
	return strstr(norm, "url") || strstr(norm, "link") || strstr(norm, "href") ||
	       strstr(norm, "uri") || !strcmp(norm, "next");
}

int pagsig_looks_like_url(const char *s)
{
	return !strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8) || *s == '/' ||
	       *s == '?' || !strncmp(s, "./", 2) || !strncmp(s, "../", 3) ||
	       (strchr(s, '?') && strchr(s, '=') && !strpbrk(s, " \t"));
}

/* A string or null member whose name says next: a URL or a token. */
static void walk_next(const struct json_doc *d, uint32_t v, const struct strbuf *ptr, int depth,
		      struct signals *g, struct strbuf *val)
{
	int k = pagi_scalar_value(d, v, val);
	/*
	 * A number is a token (a page number, an offset).  A string is a URL
	 * when it looks like one, or when the name says URL and the value has
	 * a path or a query ("items?after=…"); else an opaque token.
	 */
	int url = json_type(d, v) == JSON_NUMBER ? 0
		  : k > 0 ? pagsig_looks_like_url(val->buf) ||
				    (names_url(g->norm.buf) && strcmp(g->norm.buf, "next") &&
				     strpbrk(val->buf, "/?."))
			  : names_url(g->norm.buf);

	if (k < 0)
		return;
	if (url) {
		if (sig_take(&g->url, ptr, depth))
			g->url_empty = k == 0;
	} else if (sig_take(&g->token, ptr, depth)) {
		g->token_empty = k == 0;
		strbuf_reset(&g->token_name);
		strbuf_add(&g->token_name, g->name.buf, g->name.len);
	}
}

/*
 * Look through object t (at ptr) for what says where the next page is:
 * members whose name says next (a URL, a relative URL or a token),
 * continuation booleans in either sense, a reported total, a Relay
 * pageInfo.  Arrays (the records among them) are not entered.
 */
static void take_total(struct signals *g, const struct strbuf *ptr, int depth, uint64_t total,
		       int weak);

static void walk(const struct json_doc *d, uint32_t t, struct strbuf *ptr, int depth,
		 struct signals *g, struct strbuf *val)
{
	size_t base = ptr->len, i;
	uint32_t k;

	for (k = json_first(d, t); k; k = json_next(d, t, k)) {
		uint32_t v = k + 1, c;
		enum json_type vt = json_type(d, v);
		uint64_t total;
		int nexty;

		strbuf_reset(&g->name);
		json_str_decode(d, k, &g->name);
		strbuf_reset(&g->norm);
		for (i = 0; i < g->name.len; i++)
			if (isalnum((unsigned char)g->name.buf[i]))
				strbuf_addch(&g->norm, tolower((unsigned char)g->name.buf[i]));
		nexty = strstr(g->norm.buf, "next") && strncmp(g->norm.buf, "has", 3) &&
			!strstr(g->norm.buf, "prev");
		json_ptr_append(ptr, g->name.buf, g->name.len);
		if (vt == JSON_OBJECT) {
			if (!strcmp(g->norm.buf, "pageinfo") && g->relay_cursor.depth < 0) {
				int snake = !json_get(d, v, "endCursor", 9);
				const char *cn = snake ? "end_cursor" : "endCursor";
				const char *hn = snake ? "has_next_page" : "hasNextPage";

				if (json_get(d, v, cn, strlen(cn)) && json_get(d, v, hn, strlen(hn))) {
					sig_take(&g->relay_cursor, ptr, depth);
					json_ptr_append(&g->relay_cursor.ptr, cn, strlen(cn));
					sig_take(&g->relay_more, ptr, depth);
					json_ptr_append(&g->relay_more.ptr, hn, strlen(hn));
				}
			}
			if (pgr_in_list(g->norm.buf, pgr_foreign_objects)) {
				strbuf_setlen(ptr, base);
				continue;
			}
			if (!strcmp(g->norm.buf, "total") && pagi_total_at(d, v, &total))
				take_total(g, ptr, depth, total, 0);
			if (nexty) {
				static const char *const hrefs[] = { "href", "url", "link", "uri", NULL };
				const char *const *n;

				for (n = hrefs; *n; n++)
					if ((c = json_get(d, v, *n, strlen(*n))) &&
					    (json_type(d, c) == JSON_STRING ||
					     json_type(d, c) == JSON_NULL)) {
						size_t at = ptr->len;

						json_ptr_append(ptr, *n, strlen(*n));
						if (sig_take(&g->url, ptr, depth))
							g->url_empty = pagi_scalar_value(d, c, val) == 0;
						strbuf_setlen(ptr, at);
						break;
					}
			}
			if (depth < SIGNAL_DEPTH) {
				struct strbuf saved = STRBUF_INIT;

				strbuf_add(&saved, g->parent.buf, g->parent.len);
				strbuf_reset(&g->parent);
				strbuf_add(&g->parent, g->norm.buf, g->norm.len);
				walk(d, v, ptr, depth + 1, g, val);
				strbuf_reset(&g->parent);
				strbuf_add(&g->parent, saved.buf, saved.len);
				strbuf_release(&saved);
			}
		} else if (vt == JSON_TRUE || vt == JSON_FALSE) {
			int sense = pgr_in_list(g->norm.buf, pgr_more_names) ? 1
				    : pgr_in_list(g->norm.buf, pgr_done_names) ? 0 : -1;

			if (sense >= 0 && sig_take(&g->flag, ptr, depth)) {
				g->flag_sense = sense;
				g->flag_value = vt == JSON_TRUE;
			}
		} else if (vt == JSON_NUMBER && pgr_in_list(g->norm.buf, pgr_total_names)) {
			if (pagi_total_at(d, v, &total))
				take_total(g, ptr, depth, total, 0);
		} else if (vt == JSON_NUMBER && pgr_in_list(g->norm.buf, pgr_weak_total_names)) {
			if (pagi_total_at(d, v, &total) && total > g->nrecords) {
				g->weak_beyond = 1;
				take_total(g, ptr, depth, total, 1);
			}
		} else if (vt == JSON_ARRAY && strstr(g->norm.buf, "link")) {
			int links;
			uint32_t h = pagi_rel_next_links(d, v, &links);

			if (links && sig_take(&g->url, ptr, depth))
				g->url_empty = h == JSON_ABSENT || pagi_scalar_value(d, h, val) <= 0;
		} else if (nexty && vt != JSON_ARRAY) {
			walk_next(d, v, ptr, depth, g, val);
		} else if ((vt == JSON_STRING || vt == JSON_NULL) &&
			   pgr_in_list(g->norm.buf, pgr_position_names) &&
			   (!depth || pgr_in_list(g->parent.buf, pgr_paging_objects))) {
			int kv = pagi_scalar_value(d, v, val);

			if (kv >= 0 && !(kv > 0 && pagsig_looks_like_url(val->buf)) &&
			    sig_take(&g->postoken, ptr, depth)) {
				g->postoken_empty = kv == 0;
				strbuf_reset(&g->postoken_name);
				strbuf_add(&g->postoken_name, g->name.buf, g->name.len);
			}
		}
		strbuf_setlen(ptr, base);
	}
}

/*
 * A total at ptr: a name that always means the listing's size wins over
 * one that may be the page's, then the shallowest.
 */
static void take_total(struct signals *g, const struct strbuf *ptr, int depth, uint64_t total,
		       int weak)
{
	if (g->total.depth >= 0 && !g->total_weak && weak)
		return;
	if (g->total.depth >= 0 && g->total_weak && !weak)
		g->total.depth = -1;
	if (sig_take(&g->total, ptr, depth)) {
		g->total_value = total;
		g->total_weak = weak;
	}
}

int pagsig_flag_more(const struct signals *g)
{
	if (g->flag.depth < 0)
		return -1;
	return g->flag_sense ? g->flag_value : !g->flag_value;
}

void pagsig_read(struct signals *g, const struct json_doc *d, size_t nrecords)
{
	struct strbuf ptr = STRBUF_INIT, val = STRBUF_INIT;

	g->nrecords = nrecords;
	if (json_type(d, 0) == JSON_OBJECT)
		walk(d, 0, &ptr, 0, g, &val);
	strbuf_release(&ptr);
	strbuf_release(&val);
}
