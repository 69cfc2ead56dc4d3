#include <string.h>

#include "crawl.h"
#include "jsonw.h"

void crawl_ck_write(struct jsonw *w, const struct crawl_ck *ck)
{
	jw_object(w);
	jw_member_u64(w, "version", CRAWL_CK_VERSION);
	jw_member_u64(w, "listing", ck->listing);
	jw_member_u64(w, "output_bytes", ck->output_bytes);
	if (ck->at_page) {
		jw_key(w, "start");
		jw_text(w, ck->start, strlen(ck->start));
		jw_member_str(w, "start_id", ck->start_id);
		jw_key(w, "next");
		jw_text(w, ck->next ? ck->next : "", ck->next_len);
		if (ck->next_body) {
			jw_key(w, "next_body");
			jw_text(w, ck->next_body, ck->next_body_len);
		}
		jw_member_u64(w, "page", ck->page);
		jw_member_u64(w, "pos", ck->pos);
		jw_member_u64(w, "step", ck->step);
		jw_member_u64(w, "empty_run", ck->empty_run);
		jw_member_u64(w, "records", ck->records);
		jw_member_u64(w, "pages", ck->pages);
		if (ck->has_total)
			jw_member_u64(w, "total", ck->total);
		jw_key(w, "spec");
		pg_spec_json(ck->spec, w);
	}
	jw_end_object(w);
}

void crawl_ck_complete(struct jsonw *w)
{
	jw_object(w);
	jw_member_u64(w, "version", CRAWL_CK_VERSION);
	jw_key(w, "complete");
	jw_bool(w, 1);
	jw_end_object(w);
}

/* Member name of d's root as a whole number >= 0 into *out. */
static int whole(const struct json_doc *d, const char *name, uint64_t *out, struct aperr *e)
{
	uint32_t t = json_get(d, 0, name, strlen(name));

	if (!t || json_type(d, t) != JSON_NUMBER || json_u64(d, t, out) < 0)
		return aperr_set(e, EX_DATAERR, "/%s: not a whole number", name);
	return 0;
}

/* Member name as a string token into *out (0 when absent and optional). */
static int string(const struct json_doc *d, const char *name, int optional, uint32_t *out,
		  struct aperr *e)
{
	uint32_t t = json_get(d, 0, name, strlen(name));

	*out = 0;
	if (!t && optional)
		return 0;
	if (!t || json_type(d, t) != JSON_STRING)
		return aperr_set(e, EX_DATAERR, "/%s: not a string", name);
	*out = t;
	return 0;
}

int crawl_ck_read(const struct json_doc *d, struct crawl_ck *ck, struct crawl_ck_tokens *tk,
		  struct aperr *e)
{
	uint64_t version;
	uint32_t t;

	memset(ck, 0, sizeof(*ck));
	memset(tk, 0, sizeof(*tk));
	if (json_type(d, 0) != JSON_OBJECT)
		return aperr_set(e, EX_DATAERR, "not a paginate checkpoint (not a JSON object)");
	if (whole(d, "version", &version, e) < 0)
		return -1;
	if (version != CRAWL_CK_VERSION)
		return aperr_set(e, EX_DATAERR, "/version: %llu, not a version this paginate reads",
				 (unsigned long long)version);
	t = json_get(d, 0, "complete", 8);
	if (t && json_type(d, t) == JSON_TRUE)
		return 0;
	if (whole(d, "listing", &ck->listing, e) < 0)
		return -1;
	if (whole(d, "output_bytes", &ck->output_bytes, e) < 0)
		return -1;
	if (!json_get(d, 0, "next", 4))
		return 1;		/* between listings */
	ck->at_page = 1;
	if (string(d, "start", 0, &tk->start, e) < 0 || string(d, "start_id", 0, &tk->start_id, e) < 0 ||
	    string(d, "next", 0, &tk->next, e) < 0 || string(d, "next_body", 1, &tk->next_body, e) < 0 ||
	    whole(d, "page", &ck->page, e) < 0 || whole(d, "pos", &ck->pos, e) < 0 ||
	    whole(d, "step", &ck->step, e) < 0 || whole(d, "empty_run", &ck->empty_run, e) < 0 ||
	    whole(d, "records", &ck->records, e) < 0 || whole(d, "pages", &ck->pages, e) < 0)
		return -1;
	if (json_get(d, 0, "total", 5)) {
		ck->has_total = 1;
		if (whole(d, "total", &ck->total, e) < 0)
			return -1;
	}
	tk->spec = json_get(d, 0, "spec", 4);
	if (!tk->spec || json_type(d, tk->spec) != JSON_OBJECT)
		return aperr_set(e, EX_DATAERR, "/spec: not an object");
	return 1;
}
