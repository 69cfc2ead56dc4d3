#include <stdlib.h>
#include <string.h>


#include "json.h"
#include "num.h"
#include "secret.h"
#include "statefile.h"

void secrets_init(struct secrets *s)
{
	memset(s, 0, sizeof(*s));
}

void secrets_release(struct secrets *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		explicit_bzero(s->v[i], strlen(s->v[i]));
		free(s->v[i]);
	}
	free(s->v);
	secrets_init(s);
}

static int add_one(struct secrets *s, const char *value)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], value))
			return 0;
	if (s->n == s->alloc) {
		size_t na = s->alloc ? 2 * s->alloc : 8;
		char **nv = realloc(s->v, na * sizeof(*nv));

		if (!nv)
			return -1;
		s->v = nv;
		s->alloc = na;
	}
	if (!(s->v[s->n] = strdup(value)))
		return -1;
	s->n++;
	return 0;
}

int secrets_add(struct secrets *s, const char *value)
{
	/* its other spellings (escaped, percent-encoded) are found by decoding: see find_all */
	if (strlen(value) < 4)
		return 0;
	return add_one(s, value);
}

/* ---- masking by meaning: every spelling of a held value ---- */

/*
 * A decoded view of source bytes: byte i came from source [from[i], to[i]).
 * Decoding (JSON escapes, percent-encoding, '+') is what makes "a\/b",
 * "a\u002fb", "a%2fb" and "a%2Fb" all show "a/b", so one search finds them.
 */
struct view {
	char *b;
	size_t *from, *to;
	size_t n, a;
};

static int view_put(struct view *v, char c, size_t from, size_t to)
{
	if (v->n == v->a) {
		size_t a = v->a ? v->a * 2 : 256;
		char *b = realloc(v->b, a);
		size_t *f = b ? realloc(v->from, a * sizeof(*f)) : NULL;
		size_t *t = f ? realloc(v->to, a * sizeof(*t)) : NULL;

		if (b)
			v->b = b;
		if (f)
			v->from = f;
		if (!t)
			return -1;
		v->to = t;
		v->a = a;
	}
	v->b[v->n] = c;
	v->from[v->n] = from;
	v->to[v->n] = to;
	v->n++;
	return 0;
}

static void view_release(struct view *v)
{
	if (v->b)
		explicit_bzero(v->b, v->n);
	free(v->b);
	free(v->from);
	free(v->to);
	memset(v, 0, sizeof(*v));
}

/* in's bytes with %XX (either case) and '+' decoded; 1 when anything was, 0 not, -1. */
static int view_pct(const struct view *in, struct view *out)
{
	size_t i;
	int any = 0;

	for (i = 0; i < in->n; i++) {
		int h, l;

		if (in->b[i] == '%' && i + 2 < in->n && (h = num_hexval(in->b[i + 1])) >= 0 &&
		    (l = num_hexval(in->b[i + 2])) >= 0) {
			if (view_put(out, (char)(h << 4 | l), in->from[i], in->to[i + 2]) < 0)
				return -1;
			i += 2;
			any = 1;
		} else if (in->b[i] == '+') {
			if (view_put(out, ' ', in->from[i], in->to[i]) < 0)
				return -1;
			any = 1;
		} else if (view_put(out, in->b[i], in->from[i], in->to[i]) < 0) {
			return -1;
		}
	}
	return any;
}

/* src[0..n) with JSON string escapes decoded (json_escape_decode); 1, 0 or -1 as above. */
static int view_json(const char *src, size_t n, size_t base, struct view *out)
{
	size_t i, k, len, j;
	char u[4];
	int any = 0;

	for (i = 0; i < n; i++) {
		if (src[i] == '\\' && (k = json_escape_decode(src + i, src + n, u, &len)) > 0) {
			for (j = 0; j < len; j++)
				if (view_put(out, u[j], base + i, base + i + k) < 0)
					return -1;
			i += k - 1;
			any = 1;
		} else if (view_put(out, src[i], base + i, base + i + 1) < 0) {
			return -1;
		}
	}
	return any;
}

/* Source ranges to mask. */
struct ranges {
	size_t (*r)[2];
	size_t n, a;
};

static int range_add(struct ranges *rs, size_t from, size_t to)
{
	if (rs->n == rs->a) {
		size_t a = rs->a ? rs->a * 2 : 8;
		size_t (*nr)[2] = realloc(rs->r, a * sizeof(*nr));

		if (!nr)
			return -1;
		rs->r = nr;
		rs->a = a;
	}
	rs->r[rs->n][0] = from;
	rs->r[rs->n][1] = to;
	rs->n++;
	return 0;
}

/* Every held value in view v, as source ranges. */
static int find_in_view(const struct secrets *s, const struct view *v, struct ranges *rs)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		size_t vl = strlen(s->v[i]), pos = 0;
		const char *hit;

		while (v->n >= vl + pos && (hit = memmem(v->b + pos, v->n - pos, s->v[i], vl))) {
			size_t at = (size_t)(hit - v->b);

			if (range_add(rs, v->from[at], v->to[at + vl - 1]) < 0)
				return -1;
			pos = at + vl;
		}
	}
	return 0;
}

/* Every held value in src[0..n) itself, as source ranges (base added). */
static int find_raw(const struct secrets *s, const char *src, size_t n, size_t base,
		    struct ranges *rs)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		size_t vl = strlen(s->v[i]), pos = 0;
		const char *hit;

		while (n >= vl + pos && (hit = memmem(src + pos, n - pos, s->v[i], vl))) {
			size_t at = (size_t)(hit - src);

			if (range_add(rs, base + at, base + at + vl) < 0)
				return -1;
			pos = at + vl;
		}
	}
	return 0;
}

/*
 * Find the held values in src[0..n) (at base in the whole text) in every
 * spelling: as they are, JSON-escaped in any way, percent-encoded in either
 * case or with '+' for space, and both at once.
 */
static int find_all(const struct secrets *s, const char *src, size_t n, size_t base,
		    int json, struct ranges *rs)
{
	struct view j, jp;
	int r = 0, k;
	int esc = memchr(src, '\\', n) != NULL;

	/* in a JSON string a match must not cut an escape: there the decoded view decides */
	if ((!json || !esc) && find_raw(s, src, n, base, rs) < 0)
		return -1;
	if (!esc && !memchr(src, '%', n) && !memchr(src, '+', n))
		return 0;	/* nothing decodes: the bytes were the only spelling */
	memset(&j, 0, sizeof(j));
	memset(&jp, 0, sizeof(jp));
	k = view_json(src, n, base, &j);
	if (k < 0)
		r = -1;
	if (!r && (k > 0 || json) && find_in_view(s, &j, rs) < 0)
		r = -1;
	if (!r && (k = view_pct(&j, &jp)) < 0)
		r = -1;
	if (!r && k > 0 && find_in_view(s, &jp, rs) < 0)
		r = -1;
	view_release(&j);
	view_release(&jp);
	return r;
}

static int cmp_range(const void *x, const void *y)
{
	const size_t *a = x, *b = y;

	return a[0] < b[0] ? -1 : a[0] > b[0];
}

/*
 * Rewrite sb with every range masked (merged when they overlap): each by
 * SECRET_MASK cut to the range's length, so the text never grows.
 * Returns how many ranges were masked.
 */
static size_t apply(struct ranges *rs, struct strbuf *sb)
{
	size_t i, out = 0, in = 0, n = 0, ml = strlen(SECRET_MASK);

	if (!rs->n)
		return 0;
	qsort(rs->r, rs->n, sizeof(*rs->r), cmp_range);
	for (i = 0; i < rs->n; i++) {
		size_t from = rs->r[i][0], to = rs->r[i][1], put;

		while (i + 1 < rs->n && rs->r[i + 1][0] < to) {
			if (rs->r[i + 1][1] > to)
				to = rs->r[i + 1][1];
			i++;
		}
		if (from < in)
			from = in;
		if (to <= from)
			continue;
		memmove(sb->buf + out, sb->buf + in, from - in);
		out += from - in;
		put = ml < to - from ? ml : to - from;
		memcpy(sb->buf + out, SECRET_MASK, put);
		out += put;
		in = to;
		n++;
	}
	memmove(sb->buf + out, sb->buf + in, sb->len - in);
	out += sb->len - in;
	if (out < sb->len)
		explicit_bzero(sb->buf + out, sb->len - out);
	sb->len = out;
	sb->buf[sb->len] = '\0';
	return n;
}

void secrets_scrub(const struct secrets *s, struct strbuf *sb)
{
	struct ranges rs = { NULL, 0, 0 };

	if (!s || !s->n || !sb->len)
		return;
	if (find_all(s, sb->buf, sb->len, 0, 0, &rs) == 0)
		apply(&rs, sb);
	free(rs.r);
}

/* Numbers outside strings that hold a secret become the string "REDACTED". */
static size_t mask_numbers(const struct secrets *s, struct strbuf *sb, size_t from)
{
	struct strbuf out = STRBUF_INIT;
	size_t i, last = 0, hits = 0, k;

	for (i = from; i < sb->len; i++) {
		size_t start;
		int held = 0;

		if (sb->buf[i] == '"') {	/* skip the string */
			for (i++; i < sb->len && sb->buf[i] != '"'; i++)
				if (sb->buf[i] == '\\')
					i++;
			continue;
		}
		if (sb->buf[i] != '-' && (sb->buf[i] < '0' || sb->buf[i] > '9'))
			continue;
		start = i;
		while (i < sb->len && strchr("0123456789+-.eE", sb->buf[i]))
			i++;
		for (k = 0; k < s->n && !held; k++)
			held = memmem(sb->buf + start, i - start, s->v[k], strlen(s->v[k])) != NULL;
		if (held) {
			strbuf_add(&out, sb->buf + last, start - last);
			strbuf_addstr(&out, "\"" SECRET_MASK "\"");
			last = i;
			hits++;
		}
		i--;
	}
	if (hits) {
		strbuf_add(&out, sb->buf + last, sb->len - last);
		explicit_bzero(sb->buf, sb->len);
		strbuf_reset(sb);
		strbuf_add(sb, out.buf, out.len);
	}
	strbuf_release(&out);
	return hits;
}

size_t secrets_scrub_json(const struct secrets *s, struct strbuf *sb)
{
	return secrets_scrub_json_from(s, sb, 0);
}

size_t secrets_scrub_json_from(const struct secrets *s, struct strbuf *sb, size_t from)
{
	struct ranges rs = { NULL, 0, 0 };
	size_t i, hits = 0;

	if (!s || !s->n || sb->len <= from)
		return 0;
	/*
	 * Inside strings (keys and values) a value is masked in place; a number
	 * that holds one becomes the string "REDACTED", so the JSON stays valid.
	 */
	hits = mask_numbers(s, sb, from);
	for (i = from; i < sb->len; i++) {
		size_t start;

		if (sb->buf[i] != '"')
			continue;
		start = ++i;
		while (i < sb->len && sb->buf[i] != '"')
			i += sb->buf[i] == '\\' ? 2 : 1;
		if (i > sb->len)
			i = sb->len;
		if (find_all(s, sb->buf + start, i - start, start, 1, &rs) < 0)
			break;
	}
	hits += apply(&rs, sb);
	free(rs.r);
	return hits;
}

void secrets_scrub_str(const struct secrets *s, char *str)
{
	struct strbuf sb = STRBUF_INIT;

	if (!s->n || strbuf_addstr(&sb, str) < 0) {
		strbuf_release(&sb);
		return;
	}
	secrets_scrub(s, &sb);
	memcpy(str, sb.buf, sb.len + 1);
	strbuf_release(&sb);
}

int secret_is_ref(const char *ref)
{
	return !strncmp(ref, "env:", 4) || !strncmp(ref, "file:", 5);
}

int secret_resolve(const char *ref, const char *what, struct secrets *s, char **out,
		   struct aperr *e)
{
	struct strbuf sb = STRBUF_INIT;

	*out = NULL;
	if (!strncmp(ref, "env:", 4)) {
		const char *v = getenv(ref + 4);

		if (!ref[4])
			return aperr_set(e, EX_USAGE, "%s: env: needs a variable name", what);
		if (!v)
			return aperr_set(e, EX_CONFIG, "%s: environment variable %s is not set",
					 what, ref + 4);
		if (!*v)
			return aperr_set(e, EX_CONFIG, "%s: environment variable %s is empty",
					 what, ref + 4);
		*out = strdup(v);
	} else if (!strncmp(ref, "file:", 5)) {
		int r = statefile_read(ref + 5, &sb, 1 << 20, e);

		if (r != 0) {
			strbuf_release(&sb);
			if (r > 0)
				return aperr_set(e, EX_CONFIG, "%s: %s does not exist", what,
						 ref + 5);
			e->code = EX_CONFIG;
			return aperr_prefix(e, "%s", what);
		}
		if (sb.len && sb.buf[sb.len - 1] == '\n')
			sb.buf[--sb.len] = '\0';
		if (sb.len && sb.buf[sb.len - 1] == '\r')
			sb.buf[--sb.len] = '\0';
		if (!sb.len || memchr(sb.buf, '\0', sb.len)) {
			strbuf_release(&sb);
			return aperr_set(e, EX_CONFIG, "%s: %s is empty or holds a NUL byte",
					 what, ref + 5);
		}
		*out = strbuf_detach(&sb, NULL);
	} else {
		return aperr_set(e, EX_USAGE,
				 "%s: literal secrets are refused (they show in ps); "
				 "use env:NAME or file:PATH", what);
	}
	if (*out && strlen(*out) < 4) {
		explicit_bzero(*out, strlen(*out));
		free(*out);
		*out = NULL;
		return aperr_set(e, EX_CONFIG, "%s: %s holds a secret shorter than 4 bytes, too short "
				 "to be found and masked in what is written without masking ordinary "
				 "text; use a longer one", what, ref);
	}
	if (!*out || (s && secrets_add(s, *out) < 0)) {
		free(*out);
		*out = NULL;
		return aperr_set(e, EX_OSERR, "%s: out of memory", what);
	}
	return 0;
}
