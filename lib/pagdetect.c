/*
 * pagdetect: --style auto.  pag_detect() reads a first response and chooses
 * the style, where the next position is and where it goes back, applying
 * the tables of lib/pagrules.c in a fixed order: a Link header, a next URL
 * or a cursor in the body, offset or page numbers the body echoes or the
 * request carries, a continuation flag, a total with nothing else (the
 * usual names, confirmed by page 2), and last the evidence that page 1 is
 * the whole listing.  A choice the evidence leaves open is marked for
 * page 2 to confirm (pag_spec.confirm, .cand; lib/listing.c tries them).
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "link.h"
#include "num.h"
#include "pagint.h"
#include "pagrules.h"
#include "pagsignal.h"
#include "url.h"

/* What the response showed, for a message when auto cannot decide. */
static void describe(const struct json_doc *d, const struct http_req *r,
		     const struct pag_result *res, struct strbuf *o)
{
	uint32_t k;
	size_t n = 0;

	strbuf_addstr(o, http_req_header(r, "link", &n) ? "a Link header without rel=\"next\""
							 : "no Link header");
	if (!d) {
		strbuf_addstr(o, ", a body that is not JSON");
		return;
	}
	if (json_type(d, 0) != JSON_OBJECT) {
		strbuf_addf(o, ", a bare %s body", json_type_name(json_type(d, 0)));
		goto total;
	}
	strbuf_addstr(o, ", body members");
	for (k = json_first(d, 0); k; k = json_next(d, 0, k)) {
		if (n++ >= 20) {
			strbuf_addstr(o, " ...");
			break;
		}
		strbuf_addch(o, ' ');
		strbuf_add(o, json_src(d, k) + 1, json_srclen(d, k) - 2);
		strbuf_addf(o, " (%s", json_type_name(json_type(d, k + 1)));
		if (json_type(d, k + 1) == JSON_ARRAY)
			strbuf_addf(o, " of %zu", json_count(d, k + 1));
		else if (json_type(d, k + 1) == JSON_NUMBER || json_type(d, k + 1) == JSON_TRUE ||
			 json_type(d, k + 1) == JSON_FALSE)
			strbuf_addf(o, " %.*s", (int)json_srclen(d, k + 1), json_src(d, k + 1));
		strbuf_addch(o, ')');
	}
total:
	if (res->has_total)
		strbuf_addf(o, "; %zu records with a total of %llu", res->nrecords,
			    (unsigned long long)res->total);
}

/* The spec follows the flag on every page (has_more, or is_last). */
static void adopt_flag(struct pag_spec *s, const struct signals *g)
{
	if (g->flag.depth < 0)
		return;
	pag_spec_set(g->flag_sense ? &s->more_path : &s->done_path, g->flag.ptr.buf);
}

/* A cursor parameter the request already carries, or NULL. */
static const char *carried_cursor_param(const char *url, struct strbuf *probe)
{
	size_t p;

	for (p = 0; pgr_cursor_params[p]; p++)
		if (url_get_query(url, pgr_cursor_params[p], probe) == 1)
			return pgr_cursor_params[p];
	return NULL;
}

/* name without its "next" (NextMarker: Marker, nextPageToken: pageToken), or "" */
static void derived_name(const char *name, struct strbuf *out)
{
	const char *rest = name;

	strbuf_reset(out);
	if (strncasecmp(rest, "next", 4))
		return;
	rest += 4;
	rest += strspn(rest, "_-.");
	if (!*rest || !strcasecmp(rest, "token"))
		return;
	if (name[0] == 'n')
		strbuf_addch(out, tolower((unsigned char)*rest));
	else
		strbuf_addch(out, *rest);
	strbuf_addstr(out, rest + 1);
}

/*
 * The next item of a list of lines at *p: 1 with item and its length set
 * and *p moved past it, 0 at the end.
 */
static int next_item(const char **p, const char **item, size_t *len)
{
	const char *nl;

	if (!*p || !**p)
		return 0;
	nl = strchr(*p, '\n');
	*item = *p;
	*len = nl ? (size_t)(nl - *p) : strlen(*p);
	*p += *len + (nl ? 1 : 0);
	return 1;
}

static void add_cand(struct strbuf *list, const char *name)
{
	size_t n = strlen(name), l;
	const char *p = list->buf, *it;

	if (!n)
		return;
	while (next_item(&p, &it, &l))
		if (l == n && !memcmp(it, name, n))
			return;
	if (list->len)
		strbuf_addch(list, '\n');
	strbuf_addstr(list, name);
}

/* Does the request carry name, in its query string or its JSON body? */
static int request_carries(const char *url, const struct json_doc *body, const char *name,
			   struct strbuf *probe)
{
	uint32_t vars;

	if (url_get_query(url, name, probe) == 1)
		return 1;
	if (!body)
		return 0;
	if (json_get(body, 0, name, strlen(name)))
		return 1;
	vars = json_get(body, 0, "variables", 9);
	return vars && json_type(body, vars) == JSON_OBJECT && json_get(body, vars, name, strlen(name));
}

/*
 * The candidates for a token held under member name, one a line, into
 * list: the one the request already carries alone (sure), else the pairs
 * APIs document, in the body first when the request is a JSON POST.
 * Returns 1 when the choice is sure, 0 when page 2 must confirm it.
 */
static int token_candidates(const char *url, const struct json_doc *body, const char *name,
			    struct strbuf *list, struct strbuf *probe)
{
	struct strbuf norm = STRBUF_INIT, der = STRBUF_INIT, names = STRBUF_INIT;
	const char *params = "%d\n%o", *carried = carried_cursor_param(url, probe), *p, *it;
	size_t i, l;
	int sure = 0;

	strbuf_reset(list);
	pgr_norm(name, &norm);
	derived_name(name, &der);
	for (i = 0; i < pgr_ntoken_pairs; i++)
		if (!strcmp(norm.buf, pgr_token_pairs[i].member))
			params = pgr_token_pairs[i].params;
	for (p = params; next_item(&p, &it, &l);) {
		struct strbuf one = STRBUF_INIT;

		if (l == 2 && !memcmp(it, "%d", 2))
			strbuf_add(&one, der.buf, der.len);
		else if (l == 2 && !memcmp(it, "%o", 2))
			strbuf_addstr(&one, name);
		else
			strbuf_add(&one, it, l);
		if (one.len)
			add_cand(&names, one.buf);
		strbuf_release(&one);
	}
	if (!names.len)
		add_cand(&names, "cursor");
	/* the request already names one of them: that one, for sure */
	for (p = names.buf; !sure && next_item(&p, &it, &l);) {
		struct strbuf one = STRBUF_INIT;

		strbuf_add(&one, it, l);
		if (request_carries(url, body, one.buf, probe)) {
			strbuf_reset(list);
			if (url_get_query(url, one.buf, probe) == 1) {
				strbuf_addstr(list, one.buf);
			} else {
				strbuf_addstr(list, "body:");
				if (!json_get(body, 0, one.buf, one.len))
					strbuf_addstr(list, "/variables");
				json_ptr_append(list, one.buf, one.len);
			}
			sure = 1;
		}
		strbuf_release(&one);
	}
	if (!sure && carried) {
		strbuf_addstr(list, carried);
		sure = 1;
	}
	if (!sure) {
		int in_body = body && !json_get(body, 0, "query", 5);
		int pass;

		/* a JSON POST reads its position from the body (Notion, search APIs) */
		for (pass = in_body ? 0 : 1; pass < 2; pass++)
			for (p = names.buf; next_item(&p, &it, &l);) {
				struct strbuf one = STRBUF_INIT;

				if (!pass) {
					strbuf_addstr(&one, "body:");
					json_ptr_append(&one, it, l);
				} else {
					strbuf_add(&one, it, l);
				}
				add_cand(list, one.buf);
				strbuf_release(&one);
			}
	}
	strbuf_release(&norm);
	strbuf_release(&der);
	strbuf_release(&names);
	return sure;
}

/*
 * Choose the cursor style with the token at path (held under member
 * name): its first candidate parameter, the rest kept for page 2 to try.
 */
static void set_cursor(struct pag_spec *s, const char *url, const struct json_doc *body,
		       const char *path, const char *name, struct strbuf *probe)
{
	struct strbuf first = STRBUF_INIT, rest = STRBUF_INIT, list = STRBUF_INIT;
	const char *p, *it;
	size_t l;
	int sure = token_candidates(url, body, name, &list, probe);

	s->style = PAG_CURSOR;
	pag_spec_set(&s->cursor_path, path);
	/* the first candidate goes in force, the others wait as "cursor NAME" lines */
	for (p = list.buf; next_item(&p, &it, &l);) {
		if (!first.len) {
			strbuf_add(&first, it, l);
			continue;
		}
		if (rest.len)
			strbuf_addch(&rest, '\n');
		strbuf_addstr(&rest, "cursor ");
		strbuf_add(&rest, it, l);
	}
	pag_spec_set(&s->cursor_param, first.len ? first.buf : "cursor");
	pag_spec_set(&s->cand, rest.len ? rest.buf : NULL);
	s->confirm = !sure;
	strbuf_release(&first);
	strbuf_release(&list);
	strbuf_release(&rest);
}

/* ---- where the request keeps its position ---- */

/* The request's JSON body, parsed into d: 1, or 0 when it has none. */
static int request_body(const struct http_req *r, struct json_doc *d)
{
	struct json_error je;
	int ok;

	if (!r || !r->has_body || !r->body.len)
		return 0;
	json_error_init(&je);
	ok = json_parse(d, r->body.buf, r->body.len, &je) == 0 && json_type(d, 0) == JSON_OBJECT;
	json_error_release(&je);
	return ok;
}

/*
 * The first of names the request carries with a whole number: in the query
 * string, or in a JSON body (GraphQL's variables, or the body itself).
 * Sets param ("name" or "body:/pointer") and *value; 1, or 0.
 */
static int request_param(const char *url, const struct json_doc *body, const char *const *names,
			 struct strbuf *param, uint64_t *value, struct strbuf *probe)
{
	size_t i;

	for (i = 0; names[i]; i++)
		if (url_get_query(url, names[i], probe) == 1 && probe->len &&
		    num_parse_u64(probe->buf, value, "position", NULL) == 0) {
			strbuf_reset(param);
			strbuf_addstr(param, names[i]);
			return 1;
		}
	if (!body)
		return 0;
	for (i = 0; names[i]; i++) {
		uint32_t vars = json_get(body, 0, "variables", 9), t;

		if (vars && json_type(body, vars) == JSON_OBJECT &&
		    (t = json_get(body, vars, names[i], strlen(names[i]))) &&
		    json_u64(body, t, value) == 0) {
			strbuf_reset(param);
			strbuf_addstr(param, "body:/variables");
			json_ptr_append(param, names[i], strlen(names[i]));
			return 1;
		}
		if ((t = json_get(body, 0, names[i], strlen(names[i]))) && json_u64(body, t, value) == 0) {
			strbuf_reset(param);
			strbuf_addstr(param, "body:");
			json_ptr_append(param, names[i], strlen(names[i]));
			return 1;
		}
	}
	return 0;
}

/*
 * The page-size parameter of the request that a page of nrecords fills
 * (its value in *want), or 0 when no size the request asks for is reached.
 */
static int full_page(const char *url, const struct json_doc *body, size_t nrecords,
		     struct strbuf *param, uint64_t *want, struct strbuf *probe)
{
	return request_param(url, body, pgr_size_params, param, want, probe) && *want > 0 &&
	       nrecords >= *want;
}

/* GraphQL's variable for a Relay cursor: one the request has, or "after". */
static void relay_param(const struct json_doc *body, struct strbuf *out)
{
	static const char *const names[] = { "after", "cursor", "afterCursor", "endCursor", NULL };
	uint32_t vars = body ? json_get(body, 0, "variables", 9) : 0;
	size_t i;

	strbuf_reset(out);
	strbuf_addstr(out, "body:/variables/");
	for (i = 0; vars && json_type(body, vars) == JSON_OBJECT && names[i]; i++)
		if (json_get(body, vars, names[i], strlen(names[i]))) {
			strbuf_addstr(out, names[i]);
			return;
		}
	strbuf_addstr(out, "after");
}

/* ---- --style auto ---- */

/* What pag_detect works with. */
struct detect {
	struct pag_spec *s;
	const char *url;
	const struct http_req *r;
	const struct json_doc *d;
	const struct json_doc *body;	/* the request's JSON body, or NULL */
	struct pag_result res;
	struct signals g;
	struct strbuf v, probe, param, linkv;
	struct strbuf *why;
	int evidence_total;		/* a total beyond this page */
	uint64_t reported_size;		/* a page size the body reports (limit, per_page …), 0: none */
};

/* -v's account of a cursor chosen. */
static void why_cursor(const struct pag_spec *s, struct strbuf *why, int empty)
{
	strbuf_addf(why, "%s holds a cursor%s; it goes back in '%s'", s->cursor_path,
		    empty ? " (empty: the last page)" : "", s->cursor_param);
	if (s->confirm && s->cand)
		strbuf_addstr(why, " (page 2 confirms it, or the other names APIs use are tried)");
}

/* 1: a next URL or a cursor decided the style; 0: neither is there. */
static int detect_links(struct detect *x)
{
	const struct json_doc *d = x->d;
	struct pag_spec *s = x->s;
	uint32_t t;
	size_t i;
	int k;

	/* a next URL at a known place (JSON:API links.next, OData, Facebook paging.next …) */
	for (i = 0; pgr_next_url_paths[i]; i++) {
		t = pagi_at(d, pgr_next_url_paths[i]);
		if (t == JSON_ABSENT || json_type(d, t) != JSON_STRING)
			continue;
		if (pagi_scalar_value(d, t, &x->v) > 0 && pagsig_looks_like_url(x->v.buf)) {
			s->style = PAG_NEXT_URL;
			pag_spec_set(&s->next_path, pgr_next_url_paths[i]);
			strbuf_addf(x->why, "%s holds a URL", pgr_next_url_paths[i]);
			return 1;
		}
	}
	/* a member anywhere whose name says next, holding a URL */
	if (x->g.url.depth >= 0) {
		s->style = PAG_NEXT_URL;
		pag_spec_set(&s->next_path, x->g.url.ptr.buf);
		strbuf_addf(x->why, "%s %s", x->g.url.ptr.buf,
			    x->g.url_empty ? "is empty: the last page" : "holds the next URL");
		return 1;
	}
	/* a Relay connection (GraphQL): pageInfo { hasNextPage endCursor } */
	if (x->g.relay_cursor.depth >= 0) {
		s->style = PAG_CURSOR;
		pag_spec_set(&s->cursor_path, x->g.relay_cursor.ptr.buf);
		pag_spec_set(&s->more_path, x->g.relay_more.ptr.buf);
		if (x->body && json_get(x->body, 0, "query", 5)) {
			relay_param(x->body, &x->param);
			pag_spec_set(&s->cursor_param, x->param.buf);
		} else {
			set_cursor(s, x->url, x->body, x->g.relay_cursor.ptr.buf, "endCursor", &x->probe);
		}
		strbuf_addf(x->why, "a Relay connection: %s says whether more follow, %s is the "
			    "cursor; it goes back in '%s'", x->g.relay_more.ptr.buf,
			    x->g.relay_cursor.ptr.buf, s->cursor_param);
		return 1;
	}
	/* a cursor at a known place (Slack, Google, Twitter …) */
	for (i = 0; pgr_cursor_paths[i]; i++) {
		t = pagi_at(d, pgr_cursor_paths[i]);
		if (t == JSON_ABSENT)
			continue;
		k = pagi_scalar_value(d, t, &x->v);
		if (k < 0 || (k > 0 && json_type(d, t) == JSON_STRING && pagsig_looks_like_url(x->v.buf)))
			continue;
		if (k == 0 && json_type(d, t) != JSON_NULL && json_type(d, t) != JSON_STRING)
			continue;
		set_cursor(s, x->url, x->body, pgr_cursor_paths[i], strrchr(pgr_cursor_paths[i], '/') + 1,
			   &x->probe);
		why_cursor(s, x->why, k == 0);
		return 1;
	}
	/*
	 * a member anywhere whose name says next, holding a token or a number;
	 * then a token under a name APIs give positions (offset, cursor,
	 * marker, bookmark, continue …) beside the records or in a paging object
	 */
	for (i = 0; i < 2; i++) {
		const struct sig *g = i ? &x->g.postoken : &x->g.token;
		const struct strbuf *name = i ? &x->g.postoken_name : &x->g.token_name;

		if (g->depth < 0)
			continue;
		set_cursor(s, x->url, x->body, g->ptr.buf, name->buf, &x->probe);
		why_cursor(s, x->why, i ? x->g.postoken_empty : x->g.token_empty);
		return 1;
	}
	return 0;
}

/* has_more and friends: 1 decided, 0 not, -1 undecidable (why says so). */
static int detect_flag(struct detect *x)
{
	const struct json_doc *d = x->d;
	struct pag_spec *s = x->s;
	uint32_t t;
	int more = pagsig_flag_more(&x->g);

	if (more < 0)
		return 0;
	if (!more) {
		s->style = PAG_NONE;
		adopt_flag(s, &x->g);
		strbuf_addf(x->why, "%s is %s: the only page", x->g.flag.ptr.buf,
			    x->g.flag_value ? "true" : "false");
		return 1;
	}
	t = x->res.nrecords ? json_get(d, pagi_last_record(d, &x->res), "id", 2) : 0;
	if (t && (json_type(d, t) == JSON_STRING || json_type(d, t) == JSON_NUMBER)) {
		s->style = PAG_KEYSET;
		adopt_flag(s, &x->g);
		pag_spec_set(&s->key_field, "/id");
		pag_spec_set(&s->key_param, url_get_query(x->url, "starting_after", &x->probe) == 1 ||
						   url_get_query(x->url, "after", &x->probe) != 1
					   ? "starting_after" : "after");
		strbuf_addf(x->why, "%s says more follow and records have an id: the next page "
			    "starts after the last id ('%s')", x->g.flag.ptr.buf, s->key_param);
		return 1;
	}
	return -1;
}

/* Numbers in the body that echo the position, or describe the page size. */
struct numscan {
	struct strbuf off, off_name, off_parent;	/* an offset echo: where, its name */
	struct strbuf page, page_name, page_parent;	/* a page number echo */
	uint64_t page_value, size;
	int has_off, has_page, has_hint, has_size;
	struct strbuf hint;				/* a page count or size: where */
};

static void scan_numbers(const struct json_doc *d, uint32_t t, struct strbuf *ptr, int depth,
			 const char *parent, struct numscan *ns, struct strbuf *name)
{
	size_t base = ptr->len;
	uint32_t k;
	struct strbuf norm = STRBUF_INIT;

	for (k = json_first(d, t); k; k = json_next(d, t, k)) {
		uint32_t v = k + 1;

		strbuf_reset(name);
		json_str_decode(d, k, name);
		pgr_norm(name->buf, &norm);
		json_ptr_append(ptr, name->buf, name->len);
		if (json_type(d, v) == JSON_OBJECT && depth < 3 &&
		    !pgr_in_list(norm.buf, pgr_foreign_objects)) {
			struct strbuf sub = STRBUF_INIT;

			strbuf_add(&sub, norm.buf, norm.len);
			scan_numbers(d, v, ptr, depth + 1, sub.buf, ns, name);
			strbuf_release(&sub);
		} else if (json_type(d, v) == JSON_NUMBER) {
			uint64_t n = 0;
			int whole = json_u64(d, v, &n) == 0;
			/* Spring's page.number; any page echo elsewhere */
			int is_page = pgr_in_list(norm.buf, pgr_page_echoes) ||
				      (!strcmp(norm.buf, "number") && !strcmp(parent, "page"));
			struct strbuf *w = NULL, *wn = NULL, *wp = NULL;

			if (whole && !ns->has_off && pgr_in_list(norm.buf, pgr_offset_echoes)) {
				ns->has_off = 1;
				w = &ns->off;
				wn = &ns->off_name;
				wp = &ns->off_parent;
			} else if (whole && !ns->has_page && is_page) {
				ns->has_page = 1;
				ns->page_value = n;
				w = &ns->page;
				wn = &ns->page_name;
				wp = &ns->page_parent;
			} else if (whole && pgr_in_list(norm.buf, pgr_page_sizes)) {
				if (!ns->has_size)
					ns->size = n;
				ns->has_size = 1;
			}
			if (pgr_in_list(norm.buf, pgr_page_counts) || pgr_in_list(norm.buf, pgr_page_sizes)) {
				if (!ns->has_hint)
					strbuf_add(&ns->hint, ptr->buf, ptr->len);
				ns->has_hint = 1;
			}
			if (w) {
				strbuf_add(w, ptr->buf, ptr->len);
				strbuf_add(wn, name->buf, name->len);
				strbuf_addstr(wp, depth ? parent : "");
			}
		}
		strbuf_setlen(ptr, base);
	}
	strbuf_release(&norm);
}

static void numscan_init(struct numscan *ns)
{
	struct strbuf *all[] = { &ns->off, &ns->off_name, &ns->off_parent, &ns->page,
				 &ns->page_name, &ns->page_parent, &ns->hint };
	size_t i;

	memset(ns, 0, sizeof(*ns));
	for (i = 0; i < sizeof(all) / sizeof(*all); i++)
		strbuf_init(all[i], 0);
}

static void numscan_release(struct numscan *ns)
{
	strbuf_release(&ns->off);
	strbuf_release(&ns->off_name);
	strbuf_release(&ns->off_parent);
	strbuf_release(&ns->page);
	strbuf_release(&ns->page_name);
	strbuf_release(&ns->page_parent);
	strbuf_release(&ns->hint);
}

/*
 * A query parameter of the request whose name ends with the echo's
 * (Magento's searchCriteria[currentPage] for search_criteria.current_page):
 * into out, 1; else 0.
 */
static int param_like(const char *url, const char *echo, struct strbuf *out)
{
	const char *q = strchr(url, '?');
	struct strbuf want = STRBUF_INIT, n = STRBUF_INIT, raw = STRBUF_INIT;
	int found = 0;

	pgr_norm(echo, &want);
	while (q && *q && !found) {
		const char *amp, *eq;

		q++;
		amp = strchr(q, '&');
		eq = memchr(q, '=', amp ? (size_t)(amp - q) : strlen(q));
		strbuf_reset(&raw);
		strbuf_add(&raw, q, eq ? (size_t)(eq - q) : amp ? (size_t)(amp - q) : strlen(q));
		strbuf_reset(out);
		if (url_decode(out, raw.buf, raw.len) == 0 && out->buf) {
			pgr_norm(out->buf, &n);
			/* per_page ends with page too: a size is never the position */
			found = n.len > want.len && want.len >= 4 &&
				!strcmp(n.buf + n.len - want.len, want.buf) &&
				!strstr(n.buf, "size") && !strstr(n.buf, "per") &&
				!pgr_in_list(n.buf, pgr_page_sizes);
		}
		q = amp;
	}
	if (!found)
		strbuf_reset(out);
	strbuf_release(&want);
	strbuf_release(&n);
	strbuf_release(&raw);
	return found;
}

/* "KIND NAME[ BASE]" lines after the first, into s->cand (the first goes in force). */
static void add_guess(struct strbuf *cand, const char *kind, const char *name, int base)
{
	struct strbuf line = STRBUF_INIT;

	if (base >= 0)
		strbuf_addf(&line, "%s %s %d", kind, name, base);
	else
		strbuf_addf(&line, "%s %s", kind, name);
	add_cand(cand, line.buf);
	strbuf_release(&line);
}

/* Put the first of cand in force: s->cand keeps the rest, and page 2 confirms. */
static void adopt_guesses(struct pag_spec *s, struct strbuf *cand, struct strbuf *why)
{
	pag_spec_set(&s->cand, cand->buf);
	pag_spec_set(&s->cursor_param, NULL);
	s->confirm = 1;
	pag_next_candidate(s, why);
	s->confirm = 1;
	s->per_page = 0;
	s->limit = 0;
}

/* The other names APIs read an offset or a page number under, for page 2 to try. */
static void generic_guesses(struct strbuf *cand, int pages_first)
{
	static const char *const offsets[] = { "offset", "start", "skip", "from", "startAt",
					       "_start", "$skip", NULL };
	size_t i;

	if (pages_first) {
		add_guess(cand, "page", "page", 0);
		add_guess(cand, "page", "page", 1);
	}
	for (i = 0; offsets[i]; i++) {
		add_guess(cand, "offset", offsets[i], -1);
		if (i == 0 && !pages_first) {
			add_guess(cand, "page", "page", 0);
			add_guess(cand, "page", "page", 1);
		}
	}
}

/* offset/limit or a page number in the body: 1 decided, 0 not. */
static int detect_body_position(struct detect *x)
{
	struct numscan ns;
	struct strbuf name = STRBUF_INIT, cand = STRBUF_INIT, which = STRBUF_INIT;
	struct pag_spec *s = x->s;
	int decided = 0;

	numscan_init(&ns);
	if (json_type(x->d, 0) == JSON_OBJECT)
		scan_numbers(x->d, 0, &x->probe, 0, "", &ns, &name);
	strbuf_reset(&x->probe);
	if (ns.has_off && (ns.has_hint || x->res.has_total)) {
		strbuf_reset(&x->param);
		if (request_carries(x->url, NULL, ns.off_name.buf, &x->probe) ||
		    param_like(x->url, ns.off_name.buf, &x->param)) {
			s->style = PAG_OFFSET;
			pag_spec_set(&s->offset_param, x->param.len ? x->param.buf : ns.off_name.buf);
		} else {
			add_guess(&cand, "offset", ns.off_name.buf, -1);
			if (ns.off_parent.len) {
				strbuf_addf(&which, "%s[%s]", ns.off_parent.buf, ns.off_name.buf);
				add_guess(&cand, "offset", which.buf, -1);
			}
			generic_guesses(&cand, 0);
			adopt_guesses(s, &cand, &which);
		}
		s->limit = 0;
		strbuf_addf(x->why, "%s echoes the offset, with %s: offset pagination ('%s', stepping "
			    "by the records each page holds%s)", ns.off.buf,
			    ns.has_hint ? ns.hint.buf : "a total", s->offset_param,
			    s->confirm ? "; page 2 confirms the name, or the other names APIs use "
					 "are tried" : "");
		decided = 1;
	} else if (ns.has_page && (ns.has_hint || x->res.has_total)) {
		int base = (int)(ns.page_value > 1 ? 1 : ns.page_value);

		strbuf_reset(&x->param);
		if (request_carries(x->url, NULL, ns.page_name.buf, &x->probe) ||
		    param_like(x->url, ns.page_name.buf, &x->param)) {
			s->style = PAG_PAGE;
			pag_spec_set(&s->page_param, x->param.len ? x->param.buf : ns.page_name.buf);
			s->start_page = ns.page_value;
			s->per_page = 0;
		} else {
			const char *own = !strcmp(ns.page_name.buf, "number") ? "page" : ns.page_name.buf;

			add_guess(&cand, "page", own, base);
			add_guess(&cand, "page", "page", base);
			if (ns.page_parent.len && strcmp(ns.page_parent.buf, "page")) {
				strbuf_addf(&which, "%s[%s]", ns.page_parent.buf, own);
				add_guess(&cand, "page", which.buf, base);
				strbuf_reset(&which);
				strbuf_addf(&which, "%s[%s]", ns.page_parent.buf, "page");
				add_guess(&cand, "page", which.buf, base);
			}
			adopt_guesses(s, &cand, &which);
			s->start_page = ns.page_value;
		}
		strbuf_addf(x->why, "%s echoes the page number, with %s: page-number pagination "
			    "('%s'%s)", ns.page.buf, ns.has_hint ? ns.hint.buf : "a total",
			    s->page_param, s->confirm ? "; page 2 confirms the name, or the other names "
							"APIs use are tried" : "");
		decided = 1;
	}
	if (!decided && ns.has_size)
		x->reported_size = ns.size;
	numscan_release(&ns);
	strbuf_release(&name);
	strbuf_release(&cand);
	strbuf_release(&which);
	return decided;
}

/*
 * The API reports a total beyond this page and nothing says where the
 * next page is: guess the position parameters APIs use most, each held
 * to being confirmed by page 2 (page 1 again, or a 4xx, moves on) and
 * the crawl to meeting the total.  Page counts put page numbers first.
 */
static int detect_total_guess(struct detect *x)
{
	struct strbuf cand = STRBUF_INIT, which = STRBUF_INIT;
	struct pag_spec *s = x->s;
	struct numscan ns;
	struct strbuf name = STRBUF_INIT;
	size_t i;

	if (!x->evidence_total)
		return 0;
	numscan_init(&ns);
	if (json_type(x->d, 0) == JSON_OBJECT)
		scan_numbers(x->d, 0, &x->probe, 0, "", &ns, &name);
	strbuf_reset(&x->probe);
	/* shapes whose parameter is known (pgr_shapes) first, then the usual names */
	for (i = 0; json_type(x->d, 0) == JSON_OBJECT && i < pgr_nshapes; i++) {
		const struct pgr_shape *sh = &pgr_shapes[i];
		size_t m;

		for (m = 0; m < 3 && sh->members[m]; m++)
			if (!json_get(x->d, 0, sh->members[m], strlen(sh->members[m])))
				break;
		if (m < 3 && sh->members[m])
			continue;
		add_guess(&cand, sh->kind, sh->param, !strcmp(sh->kind, "page") ? 1 : -1);
		strbuf_addf(x->why, "the shape of %s; ", sh->api);
	}
	generic_guesses(&cand, ns.has_hint);
	adopt_guesses(s, &cand, &which);
	s->guessed = 1;
	strbuf_addf(x->why, "the API reports a total of %llu and the page holds %zu, with no "
		    "position to go on from: trying %s (page 2 confirms it, or the other names APIs "
		    "use are tried; the crawl must then fetch that total)",
		    (unsigned long long)x->res.total, x->res.nrecords, which.buf);
	numscan_release(&ns);
	strbuf_release(&name);
	strbuf_release(&cand);
	strbuf_release(&which);
	return 1;
}

/*
 * The page says there is more (a total beyond it, a flag, or as full as
 * the size asked for) and the request carries its position, or names a
 * size whose position parameter is known: go on in it.  1 decided, 0 not.
 */
static int detect_request_position(struct detect *x)
{
	struct pag_spec *s = x->s;
	uint64_t want = 0, pos = 0;
	const char *because;
	int full = full_page(x->url, x->body, x->res.nrecords, &x->param, &want, &x->probe);

	because = x->evidence_total ? "a total beyond it" : pagsig_flag_more(&x->g) == 1 ? "a flag"
		  : full ? "a full page" : NULL;
	if (!because)
		return 0;
	if (request_param(x->url, x->body, pgr_offset_params, &x->param, &pos, &x->probe)) {
		s->style = PAG_OFFSET;
		pag_spec_set(&s->offset_param, x->param.buf);
		s->limit = 0;	/* the size stays as the request gives it */
		strbuf_addf(x->why, "the request carries '%s' and the page says there is more "
			    "(%s): offset pagination, stepping by the records each page holds",
			    x->param.buf, because);
		return 1;
	}
	if (request_param(x->url, x->body, pgr_page_params, &x->param, &pos, &x->probe)) {
		s->style = PAG_PAGE;
		pag_spec_set(&s->page_param, x->param.buf);
		s->start_page = pos;
		s->per_page = 0;
		strbuf_addf(x->why, "the request carries '%s' and the page says there is more "
			    "(%s): page-number pagination", x->param.buf, because);
		return 1;
	}
	return 0;
}

/*
 * The request names only a page size and the API reports a total: go on
 * in the position parameter that usually goes with that size, and hold
 * the crawl to the total (a wrong guess fails, it never ends short).
 */
static int detect_size_family(struct detect *x)
{
	struct pag_spec *s = x->s;
	uint64_t want = 0;
	size_t i;

	if (!x->evidence_total ||
	    !request_param(x->url, x->body, pgr_size_params, &x->param, &want, &x->probe))
		return 0;
	for (i = 0; i < pgr_nfamilies; i++) {
		if (strcmp(x->param.buf, pgr_families[i].size))
			continue;
		s->guessed = 1;
		if (pgr_families[i].offset) {
			s->style = PAG_OFFSET;
			pag_spec_set(&s->offset_param, pgr_families[i].offset);
			s->limit = 0;
		} else {
			s->style = PAG_PAGE;
			pag_spec_set(&s->page_param, pgr_families[i].page);
			s->start_page = 1;
			s->per_page = 0;
		}
		strbuf_addf(x->why, "the request names only its size '%s' and the API reports a total "
			    "of %llu: going on in '%s', the parameter that goes with it; the crawl "
			    "must then fetch that total", x->param.buf, (unsigned long long)x->res.total,
			    pgr_families[i].offset ? pgr_families[i].offset : pgr_families[i].page);
		return 1;
	}
	return 0;
}

/*
 * The style chosen (and compiled), does the first page lead on?  When it does not while
 * the page reports more (a total beyond it, a flag that says so), the
 * choice cannot be right: EX_DATAERR.
 */
static int check_evidence(struct detect *x, struct aperr *e)
{
	struct pag_result res;
	int leads = 0, more = pagsig_flag_more(&x->g), rc = 0;

	pag_result_init(&res);
	if (pag_examine(x->s, x->url, x->r, x->d, &res, e) < 0) {
		pag_result_release(&res);
		return -1;
	}
	switch (x->s->style) {
	case PAG_OFFSET:
	case PAG_PAGE:
		leads = res.nrecords > 0;
		break;
	case PAG_NONE:
		leads = 0;
		break;
	default:
		leads = res.has_token && res.more != 0;
	}
	if (!leads && (x->evidence_total || more == 1)) {
		strbuf_addstr(x->why, "; but ");
		if (more == 1)
			strbuf_addf(x->why, "%s says more pages follow", x->g.flag.ptr.buf);
		else
			strbuf_addf(x->why, "the API reports a total of %llu and the page holds %zu",
				    (unsigned long long)x->res.total, x->res.nrecords);
		rc = aperr_set(e, EX_DATAERR, "cannot tell how this API paginates: %s; name the "
			       "style with --style (and where the next page is: --next-path, "
			       "--cursor-path with --cursor-param, --offset-param, --page-param)",
			       x->why->buf);
	}
	pag_result_release(&res);
	return rc;
}

/*
 * A page count a page size could be: 10 or more, and a multiple of 5 or
 * of 12, or a power of two (the defaults APIs document: 10, 20, 25, 30,
 * 50, 100, 200, 1000; 12, 24; 64, 128, 256).
 */
static int round_count(size_t n)
{
	return n >= 10 && (n % 5 == 0 || n % 12 == 0 || (n & (n - 1)) == 0);
}

/*
 * Page 1 shows nothing that leads on: is it evidently the whole listing?
 * It is when it is empty, when a total says so (a figure that may be the
 * page's own count never does: see pgr_weak_total_names), when it holds fewer
 * records than the page size the request asked for or the body reports,
 * or when its count is not one a page size could be (round_count).
 */
static int one_page_evident(struct detect *x)
{
	uint64_t want = 0;
	size_t n = x->res.nrecords;

	if (!n || (x->res.has_total && x->res.total <= n))
		return 1;
	if (request_param(x->url, x->body, pgr_size_params, &x->param, &want, &x->probe) && want > n)
		return 1;
	if (x->reported_size > n)
		return 1;
	return !round_count(n);
}

/* Nothing decided: a listing of one page, unless the page says otherwise. */
static int detect_none(struct detect *x, struct aperr *e)
{
	uint64_t want = 0;

	if (x->evidence_total || pagsig_flag_more(&x->g) == 1) {
		if (x->why->len)
			strbuf_addstr(x->why, "; ");
		describe(x->d, x->r, &x->res, x->why);
		return aperr_set(e, EX_DATAERR, "cannot tell how this API paginates: the response "
				 "shows %s%s; name the style with --style (for example --style offset "
				 "--offset-param NAME, or --style page --page-param NAME)", x->why->buf,
				 pagsig_flag_more(&x->g) == 1 ? " and a flag that says more pages follow"
								: "");
	}
	/* a full page is evidence only while no total says it is the whole listing */
	if (!(x->res.has_total && x->res.total <= x->res.nrecords) &&
	    full_page(x->url, x->body, x->res.nrecords, &x->param, &want, &x->probe)) {
		describe(x->d, x->r, &x->res, x->why);
		return aperr_set(e, EX_DATAERR, "cannot tell how this API paginates: a full page of "
				 "%zu records (%s=%llu) and %s; name the style with --style",
				 x->res.nrecords, x->param.buf, (unsigned long long)want, x->why->buf);
	}
	if (!one_page_evident(x)) {
		describe(x->d, x->r, &x->res, x->why);
		return aperr_set(e, EX_DATAERR, "cannot tell whether this is the whole listing: "
				 "%zu records, a number of records a page of this API could be cut "
				 "at, and nothing that says where a next page is or that this is the "
				 "last (%s); if it is one page, say so with --style none; else name the "
				 "style (for example --style page --page-param page)",
				 x->res.nrecords, x->why->buf);
	}
	x->s->style = PAG_NONE;
	strbuf_addstr(x->why, "no Link header, next URL, cursor, continuation flag, total, offset "
			      "or page fields: a listing of one page");
	return 0;
}

static int detect_run(struct detect *x, struct aperr *e)
{
	const struct json_doc *d = x->d;
	struct pag_spec *s = x->s;
	size_t n = 0;
	const char *link = NULL;
	int k, kl = 0;

	/* 1. RFC 8288 Link header (GitHub and every API that follows it), every field line */
	if (http_req_header_all(x->r, "link", &x->linkv)) {
		link = x->linkv.buf;
		n = x->linkv.len;
	}
	if (link && (kl = link_find(link, n, "next", &x->probe, e)) < 0) {
		return aperr_prefix(e, "cannot tell how this API paginates");
	}
	if (link && (x->probe.len || kl == 2)) {
		s->style = PAG_LINK;
		strbuf_addstr(x->why, kl == 2 ? "the Link header's rel=\"next\" says results=\"false\": "
						"the last page"
					      : "the Link header has rel=\"next\"");
		return 0;
	}
	if (pagi_find_records(s, d, &x->res, e) < 0) {
		if (e->code == EX_DATAERR && d)
			aperr_prefix(e, "cannot tell how this API paginates");
		return -1;
	}
	pagi_page_total(s, d, x->r, &x->res);
	pagsig_read(&x->g, d, x->res.nrecords);
	if (!x->res.has_total && x->g.total.depth >= 0) {
		x->res.has_total = 1;
		x->res.total = x->g.total_value;
		pag_spec_set(&s->total_path, x->g.total.ptr.buf);
	}
	/* any figure beyond the page's records says there is more, whichever total is used */
	x->evidence_total = (x->res.has_total && x->res.total > x->res.nrecords) || x->g.weak_beyond;
	if (link) {
		static const char *const rels[] = { "last", "prev", "first" };
		size_t m;

		for (m = 0; m < 3; m++) {
			strbuf_reset(&x->probe);
			if (link_find(link, n, rels[m], &x->probe, NULL) == 1)
				break;
		}
		if (m < 3) {
			s->style = PAG_LINK;
			strbuf_addf(x->why, "the Link header has rel=\"%s\" and no rel=\"next\": the "
				    "last page", rels[m]);
			return 0;
		}
	}
	if (json_type(d, 0) != JSON_OBJECT)
		return detect_request_position(x) || detect_size_family(x) || detect_total_guess(x)
			       ? 0 : detect_none(x, e);
	/* 2. a next URL, 3. a cursor */
	if (detect_links(x)) {
		if (!s->more_path)
			adopt_flag(s, &x->g);
		return 0;
	}
	/* 4. offset or page numbers in the body, 5. in the request, 6. a size's usual partner */
	if (detect_body_position(x) || detect_request_position(x) || detect_size_family(x)) {
		adopt_flag(s, &x->g);
		return 0;
	}
	/* 7. a continuation flag (with record ids: the next page starts after the last) */
	k = detect_flag(x);
	if (k > 0)
		return 0;
	/* 8. a total beyond the page and nothing else: the usual names, confirmed by page 2 */
	if (k == 0 && detect_total_guess(x)) {
		adopt_flag(s, &x->g);
		return 0;
	}
	if (k < 0) {
		strbuf_addf(x->why, "%s says more follow but there is no cursor, next URL or "
			    "record id to go on from; ", x->g.flag.ptr.buf);
		describe(d, x->r, &x->res, x->why);
		return aperr_set(e, EX_DATAERR, "cannot tell how this API paginates: %s; name the "
				 "style with --style", x->why->buf);
	}
	return detect_none(x, e);
}

int pag_detect(struct pag_spec *s, const char *url, const struct http_req *r,
	      const struct json_doc *d, struct strbuf *why, struct aperr *e)
{
	struct detect x;
	struct json_doc body;
	int rc;

	memset(&x, 0, sizeof(x));
	x.s = s;
	x.url = url;
	x.r = r;
	x.d = d;
	x.why = why;
	pag_result_init(&x.res);
	pagsig_init(&x.g);
	strbuf_init(&x.v, 0);
	strbuf_init(&x.probe, 0);
	strbuf_init(&x.param, 0);
	strbuf_init(&x.linkv, 0);
	json_doc_init(&body, 64);
	if (request_body(r, &body))
		x.body = &body;
	strbuf_reset(why);
	rc = detect_run(&x, e);
	if (rc == 0)
		rc = pag_spec_compile(s, e);
	if (rc == 0)
		rc = check_evidence(&x, e);
	json_doc_release(&body);
	pag_result_release(&x.res);
	pagsig_release(&x.g);
	strbuf_release(&x.v);
	strbuf_release(&x.probe);
	strbuf_release(&x.param);
	strbuf_release(&x.linkv);
	return rc;
}
