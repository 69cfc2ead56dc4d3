#include <stdlib.h>
#include <string.h>


#include "json.h"
#include "secret.h"
#include "url.h"
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
	struct strbuf enc = STRBUF_INIT;
	int r;

	if (strlen(value) < 4)
		return 0;
	if (add_one(s, value) < 0)
		return -1;
	/* The percent-encoded form, as it appears in a query string. */
	if (url_encode(&enc, value, strlen(value)) < 0) {
		strbuf_release(&enc);
		return -1;
	}
	r = strcmp(enc.buf, value) ? add_one(s, enc.buf) : 0;
	strbuf_release(&enc);
	if (r == 0) {
		/* The JSON-escaped form, as it appears inside a JSON string. */
		struct strbuf q = STRBUF_INIT;

		if (json_quote(&q, value, strlen(value)) < 0 || q.len < 2)
			r = -1;
		else if (q.len - 2 != strlen(value) || memcmp(q.buf + 1, value, q.len - 2)) {
			q.buf[q.len - 1] = '\0';
			r = add_one(s, q.buf + 1);
		}
		if (q.buf)
			explicit_bzero(q.buf, q.len);
		strbuf_release(&q);
	}
	return r;
}

void secrets_scrub(const struct secrets *s, struct strbuf *sb)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		const char *v = s->v[i];
		size_t vl = strlen(v), ml = strlen(SECRET_MASK), pos = 0;
		char *hit;

		while (sb->len && (hit = memmem(sb->buf + pos, sb->len - pos, v, vl))) {
			size_t at = (size_t)(hit - sb->buf), tail = sb->len - at - vl;

			/* The mask is never longer than a remembered value. */
			if (ml > vl)
				ml = vl;
			memcpy(sb->buf + at, SECRET_MASK, ml);
			memmove(sb->buf + at + ml, sb->buf + at + vl, tail);
			sb->len -= vl - ml;
			sb->buf[sb->len] = '\0';
			pos = at + ml;
		}
	}
}

/*
 * Where a match at sb[at] really starts in JSON text: at an escape it cuts
 * into ("\n" whose 'n' begins the value, or the hex digits of a \uXXXX).
 */
static size_t json_match_start(const struct strbuf *sb, size_t at)
{
	size_t i, k;

	for (i = 1; i <= 5 && i <= at; i++) {
		char c = sb->buf[at - i];

		if (c != '\\') {
			if (i == 1 || c == 'u' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			    (c >= 'A' && c <= 'F'))
				continue;
			break;
		}
		/* an escape starts here when an odd run of backslashes ends here */
		for (k = 0; k < at - i + 1 && sb->buf[at - i - k] == '\\'; k++)
			;
		if (k % 2 == 1 && (i == 1 || sb->buf[at - i + 1] == 'u'))
			return at - i;
		break;
	}
	return at;
}

size_t secrets_scrub_json(const struct secrets *s, struct strbuf *sb)
{
	size_t i, hits = 0, ml = strlen(SECRET_MASK);

	for (i = 0; i < s->n; i++) {
		const char *v = s->v[i];
		size_t vl = strlen(v), pos = 0;
		char *hit;

		while (sb->len > pos && (hit = memmem(sb->buf + pos, sb->len - pos, v, vl))) {
			size_t at = (size_t)(hit - sb->buf), from = json_match_start(sb, at);
			size_t cut = at + vl - from, put = ml < cut ? ml : cut;

			memcpy(sb->buf + from, SECRET_MASK, put);
			memmove(sb->buf + from + put, sb->buf + from + cut, sb->len - from - cut);
			sb->len -= cut - put;
			sb->buf[sb->len] = '\0';
			pos = from + put;
			hits++;
		}
	}
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
	if (!*out || (s && secrets_add(s, *out) < 0)) {
		free(*out);
		*out = NULL;
		return aperr_set(e, EX_OSERR, "%s: out of memory", what);
	}
	return 0;
}
