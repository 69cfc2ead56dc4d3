#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "statefile.h"
#include "wmstate.h"

void wm_state_init(struct wm_state *s)
{
	memset(s, 0, sizeof(*s));
	strbuf_init(&s->field, 0);
	strbuf_init(&s->current, 0);
	strbuf_init(&s->pending, 0);
	strbuf_init(&s->file, 0);
}

void wm_state_release(struct wm_state *s)
{
	strbuf_release(&s->field);
	strbuf_release(&s->current);
	strbuf_release(&s->pending);
	strbuf_release(&s->file);
}

int wm_valid_name(const char *s)
{
	size_t i;

	if (!*s || *s == '.' || *s == '-' || strlen(s) > 200)
		return 0;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

int wm_lock(const char *dir, const char *path, const char *name, struct aperr *e)
{
	struct strbuf what = STRBUF_INIT;
	int fd;

	if (statefile_mkdirs(dir, e) < 0)
		return -1;
	strbuf_addf(&what, "watermark %s", name);
	fd = statefile_lock(path, what.len ? what.buf : "watermark", e);
	strbuf_release(&what);
	return fd;
}

static int damaged(const char *path, const char *why, struct aperr *e)
{
	return aperr_set(e, EX_DATAERR, "%s: damaged state file (%s); it was left as it is: "
			 "repair it or set a value with 'watermark set'", path, why);
}

/* The state's "current" or "pending" value, checked to be of its kind, into dst. */
static int value(const char *path, const struct json_doc *d, const char *name,
		 enum ordkind kind, struct strbuf *dst, struct aperr *e)
{
	uint32_t t = json_get(d, 0, name, strlen(name));
	struct ordval v;
	int r = 0;

	if (!t || json_type(d, t) == JSON_NULL)
		return 0;
	ordval_init(&v);
	if (ordval_set(&v, d, t, kind, e) < 0) {
		char why[sizeof(e->msg) + 16];

		snprintf(why, sizeof(why), "%s: %s", name, e->msg);
		r = damaged(path, why, e);
	} else if (strbuf_add(dst, v.raw.buf, v.raw.len) < 0) {
		r = aperr_set(e, EX_OSERR, "out of memory");
	}
	ordval_release(&v);
	return r;
}

int wm_state_load(const char *path, struct wm_state *s, struct aperr *e)
{
	struct strbuf ty = STRBUF_INIT;
	struct json_doc d;
	uint32_t t;
	int r;

	r = statefile_read(path, &s->file, 1 << 20, e);
	if (r != 0)
		return r < 0 ? -1 : 0;
	s->exists = 1;
	json_doc_init(&d, 16);
	if (json_parse(&d, s->file.buf, s->file.len, NULL) != 0 || json_type(&d, 0) != JSON_OBJECT) {
		r = damaged(path, "not a JSON object", e);
	} else if (!(t = json_get(&d, 0, "type", 4)) || json_type(&d, t) != JSON_STRING) {
		r = damaged(path, "no type", e);
	} else {
		json_str_decode(&d, t, &ty);
		r = ordkind_parse(ty.buf);
		if (r <= ORD_AUTO) {
			r = damaged(path, "unknown type", e);
		} else {
			s->kind = (enum ordkind)r;
			r = 0;
		}
	}
	if (r == 0) {
		t = json_get(&d, 0, "field", 5);
		if (t && json_type(&d, t) == JSON_STRING)
			json_str_decode(&d, t, &s->field);
		if (value(path, &d, "current", s->kind, &s->current, e) < 0 ||
		    value(path, &d, "pending", s->kind, &s->pending, e) < 0)
			r = -1;
	}
	strbuf_release(&ty);
	json_doc_release(&d);
	return r;
}

static void member_raw_or_null(struct jsonw *w, const char *key, const struct strbuf *v)
{
	jw_key(w, key);
	if (v->len)
		jw_raw(w, v->buf, v->len);
	else
		jw_null(w);
}

int wm_state_save(const char *dir, const char *path, const char *name, const struct wm_state *s,
		  struct aperr *e)
{
	struct strbuf j = STRBUF_INIT;
	struct jsonw w;
	struct instant now;
	char ts[64];
	int r;

	instant_now(&now);
	now.asec -= now.asec % 1000000000000000ULL;
	instant_format(&now, ts, sizeof(ts));
	jw_init(&w, &j);
	jw_object(&w);
	jw_key(&w, "name");
	jw_text(&w, name, strlen(name));
	jw_member_str(&w, "type", ordkind_name(s->kind));
	jw_key(&w, "field");
	if (s->field.len)
		jw_text(&w, s->field.buf, s->field.len);
	else
		jw_null(&w);
	member_raw_or_null(&w, "current", &s->current);
	member_raw_or_null(&w, "pending", &s->pending);
	jw_member_str(&w, "updated_at", ts);
	jw_end_object(&w);
	if (jw_finish_line(&w) < 0)
		r = aperr_set(e, EX_OSERR, "%s: %s", path, jw_error(&w));
	else
		r = statefile_mkdirs(dir, e) < 0 ? -1 : statefile_write(path, j.buf, j.len, 0, e);
	strbuf_release(&j);
	return r;
}

int wm_commit_pending(struct wm_state *s, struct aperr *e)
{
	struct ordval x, y;
	int r = 0;

	if (s->current.len && s->pending.len) {
		ordval_init(&x);
		ordval_init(&y);
		if (ordval_set_text(&x, s->current.buf, s->current.len, s->kind, e) < 0 ||
		    ordval_set_text(&y, s->pending.buf, s->pending.len, s->kind, e) < 0)
			r = -1;
		else if (ordval_cmp(&x, &y) >= 0)
			strbuf_reset(&s->pending);	/* current stays */
		ordval_release(&x);
		ordval_release(&y);
	}
	if (r == 0 && s->pending.len) {
		strbuf_reset(&s->current);
		if (strbuf_add(&s->current, s->pending.buf, s->pending.len) < 0)
			r = aperr_set(e, EX_OSERR, "out of memory");
	}
	strbuf_reset(&s->pending);
	return r;
}

int wm_format(enum ordkind kind, const char *val, size_t n, const char *fmt,
	      const struct instant *lookback, struct strbuf *out, struct aperr *e)
{
	struct ordval v;
	char buf[64];
	int r = 0, timed = kind == ORD_TIMESTAMP || kind == ORD_EPOCH || kind == ORD_EPOCH_MS;

	if (!fmt)
		fmt = lookback ? (kind == ORD_TIMESTAMP ? "rfc3339" : kind == ORD_EPOCH ? "epoch"
										   : "epoch-ms")
			       : "raw";
	if (!timed && (lookback || strcmp(fmt, "raw")))
		return aperr_set(e, EX_USAGE, "a %s: --lookback and --format need a timestamp or "
				 "epoch watermark", ordkind_name(kind));
	ordval_init(&v);
	if (ordval_set_text(&v, val, n, kind, e) < 0) {
		ordval_release(&v);
		return -1;
	}
	if (lookback)
		instant_sub(&v.t, lookback);
	if (!strcmp(fmt, "raw")) {
		if (v.kind == ORD_STRING || v.kind == ORD_TIMESTAMP)
			strbuf_add(out, v.str.buf, v.str.len);
		else
			strbuf_add(out, v.raw.buf, v.raw.len);
		strbuf_addch(out, '\n');
	} else if (!strcmp(fmt, "rfc3339")) {
		instant_format(&v.t, buf, sizeof(buf));
		strbuf_addf(out, "%s\n", buf);
	} else if (!strcmp(fmt, "epoch") || !strcmp(fmt, "epoch-ms")) {
		strbuf_addf(out, "%lld\n", (long long)instant_epoch(&v.t, fmt[5] == '-'));
	} else {
		r = aperr_set(e, EX_USAGE, "--format: '%s' is not raw, rfc3339, epoch or epoch-ms", fmt);
	}
	ordval_release(&v);
	return r;
}

int wm_track_init(struct wm_track *t, const char *field, enum ordkind kind, struct aperr *e)
{
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	ordval_init(&t->max);
	ordval_init(&t->cur);
	if (json_ptr_parse(&t->field, field, e) < 0)
		return aperr_prefix(e, "--order-field");
	return 0;
}

void wm_track_release(struct wm_track *t)
{
	ordval_release(&t->max);
	ordval_release(&t->cur);
	json_ptr_release(&t->field);
}

int wm_track_record(struct wm_track *t, const struct json_doc *d, struct aperr *e)
{
	uint32_t v = json_ptr_eval(&t->field, d, 0);

	if (v == JSON_ABSENT)
		return aperr_set(e, EX_DATAERR, "field is missing");
	if (ordval_set(&t->cur, d, v, t->kind, e) < 0)
		return -1;
	if (t->have_max && t->cur.kind != t->max.kind)
		return aperr_set(e, EX_DATAERR, "a %s, but earlier records had a %s",
				 ordkind_name(t->cur.kind), ordkind_name(t->max.kind));
	if (!t->have_max || ordval_cmp(&t->cur, &t->max) > 0) {
		struct ordval tmp = t->max;

		t->max = t->cur;
		t->cur = tmp;
		t->have_max = 1;
		t->kind = t->max.kind;
	}
	return 0;
}

/* State file dir/name, minified, as a line of out. */
static int list_one(const char *dir, const char *name, struct strbuf *out, struct aperr *e)
{
	struct strbuf file = STRBUF_INIT, path = STRBUF_INIT;
	struct json_doc d;
	int r;

	strbuf_addf(&path, "%s/%s", dir, name);
	json_doc_init(&d, 16);
	r = statefile_read(path.buf, &file, 1 << 20, e) < 0 ? -1 : 0;
	if (r == 0 && json_parse(&d, file.buf, file.len, NULL) != 0)
		r = damaged(path.buf, "not JSON", e);
	if (r == 0 && (json_minify(&d, 0, out) < 0 || strbuf_addch(out, '\n') < 0))
		r = aperr_set(e, EX_OSERR, "out of memory");
	json_doc_release(&d);
	strbuf_release(&file);
	strbuf_release(&path);
	return r;
}

int wm_list(const char *dir, struct strbuf *out, struct aperr *e)
{
	struct dirent **ents;
	int n, i, r = 0;

	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0)
		return aperr_set(e, EX_NOINPUT, "%s: cannot read state directory", dir);
	for (i = 0; i < n; i++) {
		size_t len = strlen(ents[i]->d_name);

		if (!r && len > 5 && !strcmp(ents[i]->d_name + len - 5, ".json") &&
		    ents[i]->d_name[0] != '.')
			r = list_one(dir, ents[i]->d_name, out, e);
		free(ents[i]);
	}
	free(ents);
	return r;
}
