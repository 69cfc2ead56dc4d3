#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "json.h"
#include "num.h"
#include "utf8.h"

void json_doc_init(struct json_doc *d, unsigned max_depth)
{
	memset(d, 0, sizeof(*d));
	d->max_depth = max_depth ? max_depth : JSON_DEFAULT_DEPTH;
}

void json_doc_release(struct json_doc *d)
{
	free(d->tok);
	free(d->stack);
	d->tok = NULL;
	d->stack = NULL;
	d->ntok = d->atok = 0;
}

void json_error_init(struct json_error *je)
{
	je->offset = 0;
	je->msg[0] = '\0';
	strbuf_init(&je->pointer, 1 << 20);
}

void json_error_release(struct json_error *je)
{
	strbuf_release(&je->pointer);
}

const char *json_type_name(enum json_type t)
{
	switch (t) {
	case JSON_NULL: return "null";
	case JSON_FALSE: case JSON_TRUE: return "boolean";
	case JSON_NUMBER: return "number";
	case JSON_STRING: return "string";
	case JSON_ARRAY: return "array";
	case JSON_OBJECT: return "object";
	default: return "nothing";
	}
}

static int grow_tape(struct json_doc *d)
{
	uint32_t n = d->atok ? d->atok * 2 : 256;
	struct json_tok *t;

	if (d->atok >= UINT32_MAX / 2)
		return -1;
	t = realloc(d->tok, (size_t)n * sizeof(*t));
	if (!t)
		return -1;
	d->tok = t;
	d->atok = n;
	return 0;
}

/*
 * The pointer of the innermost value being read when parsing stopped.  A
 * token whose next is 0 is still open (a container on the stack, or the
 * value that failed); complete tokens have next set.
 */
static void error_pointer(struct json_doc *d, unsigned depth, struct json_error *je)
{
	struct strbuf *p = &je->pointer;
	unsigned k;

	strbuf_reset(p);
	for (k = 0; k < depth; k++) {
		uint32_t c = d->stack[k];
		uint32_t stop = k + 1 < depth ? d->stack[k + 1] + 1 : d->ntok;
		uint32_t i = c + 1;

		if (d->tok[c].type == JSON_ARRAY) {
			size_t idx = 0;

			while (i < stop && d->tok[i].next != 0) {
				i = d->tok[i].next;
				idx++;
			}
			if (i < stop)
				json_ptr_append_index(p, idx);
		} else {
			uint32_t key = 0;

			while (i < stop) {
				key = i;
				if (i + 1 >= stop || d->tok[i + 1].next == 0)
					break;
				i = d->tok[i + 1].next;
				key = 0;
			}
			if (key) {
				struct strbuf dec = STRBUF_INIT;

				if (json_str_decode(d, key, &dec) == 0)
					json_ptr_append(p, dec.buf, dec.len);
				strbuf_release(&dec);
			}
		}
	}
}

static int fail(struct json_doc *d, unsigned depth, struct json_error *je,
		const char *p, const char *msg)
{
	if (!je)
		return -1;
	je->offset = (size_t)(p - d->src);
	if (p >= d->src + d->len)
		snprintf(je->msg, sizeof(je->msg), "%s at end of input", msg);
	else if ((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f)
		snprintf(je->msg, sizeof(je->msg), "%s, found '%c'", msg, *p);
	else
		snprintf(je->msg, sizeof(je->msg), "%s, found byte 0x%02x", msg,
			 (unsigned char)*p);
	error_pointer(d, depth, je);
	return -1;
}

static inline const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}


/*
 * Scan a string starting at the opening quote.  Returns the position after
 * the closing quote, or NULL with *why set.  Sets *escaped.
 */
static inline __attribute__((always_inline)) const char *
scan_string(const char *p, const char *end, int *escaped,
			       const char **errat, const char **why)
{
	p++;
	for (;;) {
#ifdef __SSE2__
		while (end - p >= 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
			__m128i m = _mm_or_si128(
				_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
					     _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
				_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
			int mask = _mm_movemask_epi8(m);

			if (mask) {
				p += __builtin_ctz((unsigned)mask);
				break;
			}
			p += 16;
		}
#endif
		if (p >= end) {
			*errat = p;
			*why = "unterminated string";
			return NULL;
		}
		unsigned char c = (unsigned char)*p;
		if (c == '"')
			return p + 1;
		if (c == '\\') {
			*escaped = 1;
			if (end - p < 2) {
				*errat = end;
				*why = "unterminated escape";
				return NULL;
			}
			switch (p[1]) {
			case '"': case '\\': case '/': case 'b': case 'f':
			case 'n': case 'r': case 't':
				p += 2;
				continue;
			case 'u':
				if (end - p < 6 || num_hexval(p[2]) < 0 || num_hexval(p[3]) < 0 ||
				    num_hexval(p[4]) < 0 || num_hexval(p[5]) < 0) {
					*errat = p;
					*why = "bad \\u escape (four hex digits expected)";
					return NULL;
				}
				p += 6;
				continue;
			default:
				*errat = p;
				*why = "bad escape in string";
				return NULL;
			}
		}
		if (c < 0x20) {
			*errat = p;
			*why = "control character in string (must be escaped)";
			return NULL;
		}
		if (c < 0x80) {
			p++;
			continue;
		}
		size_t n = utf8_valid_seq((const unsigned char *)p, (size_t)(end - p));
		if (!n) {
			*errat = p;
			*why = "invalid UTF-8 in string";
			return NULL;
		}
		p += n;
	}
}

static const char *scan_number(const char *p, const char *end)
{
	if (p < end && *p == '-')
		p++;
	if (p >= end)
		return NULL;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (++p < end && *p >= '0' && *p <= '9')
			;
	else
		return NULL;
	if (p < end && *p == '.') {
		if (++p >= end || *p < '0' || *p > '9')
			return NULL;
		while (++p < end && *p >= '0' && *p <= '9')
			;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || *p < '0' || *p > '9')
			return NULL;
		while (++p < end && *p >= '0' && *p <= '9')
			;
	}
	return p;
}

/* The literal w (n bytes) at p: its end, or NULL with *errat and *why. */
static inline const char *scan_word(const char *p, const char *end, const char *w, size_t n,
				    const char **errat, const char **why)
{
	if ((size_t)(end - p) < n || memcmp(p, w, n)) {
		*errat = p;
		*why = "expected a value";
		return NULL;
	}
	return p + n;
}

/*
 * The scalar at p < end (a string, number, true, false or null), for both
 * the tokenizer and skip_value, so the two accept the same grammar: its
 * end, *type and *esc (a string with escapes), or NULL with *errat and
 * *why saying where and what is wrong.
 */
static inline const char *scan_scalar(const char *p, const char *end, enum json_type *type,
				      int *esc, const char **errat, const char **why)
{
	const char *q;

	*esc = 0;
	switch (*p) {
	case '"':
		*type = JSON_STRING;
		return scan_string(p, end, esc, errat, why);
	case 't':
		*type = JSON_TRUE;
		return scan_word(p, end, "true", 4, errat, why);
	case 'f':
		*type = JSON_FALSE;
		return scan_word(p, end, "false", 5, errat, why);
	case 'n':
		*type = JSON_NULL;
		return scan_word(p, end, "null", 4, errat, why);
	default:
		*type = JSON_NUMBER;
		if (!(q = scan_number(p, end))) {
			*errat = p;
			*why = "expected a value";
		}
		return q;
	}
}

/* Put the object key src[p..q) on the tape: 0, or -2 when out of memory. */
static inline int push_key(struct json_doc *d, const char *p, const char *q, int esc)
{
	uint32_t t;

	if (d->ntok == d->atok && grow_tape(d) < 0)
		return -2;
	t = d->ntok++;
	d->tok[t].type = JSON_STRING;
	d->tok[t].flags = esc ? JSON_F_ESCAPED : 0;
	d->tok[t].start = (uint32_t)(p - d->src);
	d->tok[t].end = (uint32_t)(q - d->src);
	d->tok[t].next = t + 1;
	return 0;
}

/*
 * Tokenize the one value at *pp onto the tape, with base containers
 * already open on d->stack; *pp moves past it.  0, -1 (a syntax error,
 * filled into je) or -2 (out of memory).
 */
static int parse_tape(struct json_doc *d, const char **pp, const char *end, unsigned base,
		      struct json_error *je)
{
	const char *src = d->src, *p = *pp, *q;
	unsigned depth = base;
	uint32_t t;

value:
	if (d->ntok == d->atok && grow_tape(d) < 0)
		return -2;
	t = d->ntok++;
	d->tok[t].start = (uint32_t)(p - src);
	d->tok[t].flags = 0;
	d->tok[t].next = 0;
	if (p >= end)
		return fail(d, depth, je, p, "expected a value");
	switch (*p) {
	case '{':
	case '[':
		if (depth >= d->max_depth)
			return fail(d, depth, je, p, "nesting too deep");
		d->tok[t].type = *p == '{' ? JSON_OBJECT : JSON_ARRAY;
		d->tok[t].next = 0;
		d->stack[depth++] = t;
		q = skip_ws(p + 1, end);
		if (q != p + 1)
			d->has_ws = 1;
		p = q;
		if (p < end && *p == (d->tok[t].type == JSON_OBJECT ? '}' : ']'))
			goto close;
		if (d->tok[t].type == JSON_OBJECT) {
			goto key;
		}
		goto value;
	default: {
		enum json_type type;
		int esc;
		const char *errat, *why;

		if (!(q = scan_scalar(p, end, &type, &esc, &errat, &why)))
			return fail(d, depth, je, errat, why);
		d->tok[t].type = (uint16_t)type;
		d->tok[t].flags = esc ? JSON_F_ESCAPED : 0;
		p = q;
		break;
	}
	}
	d->tok[t].end = (uint32_t)(p - src);
	d->tok[t].next = t + 1;

after:
	if (depth == base) {
		*pp = p;
		return 0;
	}
	q = skip_ws(p, end);
	if (q != p)
		d->has_ws = 1;
	p = q;
	t = d->stack[depth - 1];
	if (p < end && *p == ',') {
		q = skip_ws(p + 1, end);
		if (q != p + 1)
			d->has_ws = 1;
		p = q;
		if (d->tok[t].type == JSON_OBJECT) {
			goto key;
		}
		goto value;
	}
	if (p < end && *p == (d->tok[t].type == JSON_OBJECT ? '}' : ']'))
		goto close;
	return fail(d, depth, je, p, d->tok[t].type == JSON_OBJECT ?
		    "expected ',' or '}' after object member" :
		    "expected ',' or ']' after array element");

close:
	t = d->stack[--depth];
	p++;
	d->tok[t].end = (uint32_t)(p - src);
	d->tok[t].next = d->ntok;
	goto after;

key:
	if (p >= end || *p != '"')
		return fail(d, depth, je, p, "expected a string key");
	{
		int esc = 0;
		const char *errat = NULL, *why = NULL;

		q = scan_string(p, end, &esc, &errat, &why);
		if (!q)
			return fail(d, depth, je, errat, why);
		if (push_key(d, p, q, esc) < 0)
			return -2;
		p = q;
	}
	q = skip_ws(p, end);
	if (q != p)
		d->has_ws = 1;
	p = q;
	if (p >= end || *p != ':')
		return fail(d, depth, je, p, "expected ':' after object key");
	q = skip_ws(p + 1, end);
	if (q != p + 1)
		d->has_ws = 1;
	p = q;
	goto value;
}

static int parse_begin(struct json_doc *d, const char *src, size_t len, struct json_error *je)
{
	d->src = src;
	d->len = len;
	d->ntok = 0;
	d->has_ws = 0;
	if (je) {
		je->msg[0] = '\0';
		strbuf_reset(&je->pointer);
	}
	if (len > JSON_MAX_SIZE)
		return fail(d, 0, je, src, "document too large");
	if (!d->stack) {
		d->stack = malloc(sizeof(*d->stack) * d->max_depth);
		if (!d->stack)
			return -2;
	}
	return 0;
}

int json_parse(struct json_doc *d, const char *src, size_t len, struct json_error *je)
{
	const char *p, *end = src + len;
	int r = parse_begin(d, src, len, je);

	if (r < 0)
		return r;
	p = skip_ws(src, end);
	if ((r = parse_tape(d, &p, end, 0, je)) < 0)
		return r;
	p = skip_ws(p, end);
	if (p != end)
		return fail(d, 0, je, p, "trailing data after the JSON value");
	return 0;
}

/*
 * Check the one value at p without building tokens (depth containers
 * already open): its end, or NULL when it is not valid JSON.  It accepts
 * exactly what parse_tape accepts; json_parse_pick() leaves the message
 * of a rejected document to json_parse().
 */
static const char *skip_value(struct json_doc *d, const char *p, const char *end, unsigned depth)
{
	unsigned base = depth;
	uint32_t *close = d->stack;
	const char *errat, *why;
	enum json_type type;
	int esc;

value:
	if (p >= end)
		return NULL;
	switch (*p) {
	case '{':
	case '[':
		if (depth >= d->max_depth)
			return NULL;
		close[depth++] = *p == '{' ? '}' : ']';
		p = skip_ws(p + 1, end);
		if (p < end && *p == (char)close[depth - 1]) {
			p++;
			depth--;
			goto after;
		}
		if (close[depth - 1] == '}')
			goto key;
		goto value;
	default:
		if (!(p = scan_scalar(p, end, &type, &esc, &errat, &why)))
			return NULL;
	}
after:
	if (depth == base)
		return p;
	p = skip_ws(p, end);
	if (p < end && *p == ',') {
		p = skip_ws(p + 1, end);
		if (close[depth - 1] == '}')
			goto key;
		goto value;
	}
	if (p < end && *p == (char)close[depth - 1]) {
		p++;
		depth--;
		goto after;
	}
	return NULL;
key:
	if (p >= end || *p != '"' || !(p = scan_string(p, end, &esc, &errat, &why)))
		return NULL;
	p = skip_ws(p, end);
	if (p >= end || *p != ':')
		return NULL;
	p = skip_ws(p + 1, end);
	goto value;
}

void json_pick_init(struct json_pick *pk)
{
	memset(pk, 0, sizeof(*pk));
}

int json_pick_add_name(struct json_pick *pk, const char *s, size_t n)
{
	size_t k;

	for (k = 0; k < pk->n; k++)
		if (pk->name[k].n == n && !memcmp(pk->name[k].s, s, n))
			return 0;
	if (pk->n == JSON_PICK_MAX) {
		pk->all = 1;
		return -1;
	}
	pk->name[pk->n].s = s;
	pk->name[pk->n++].n = n;
	return 0;
}

void json_pick_add(struct json_pick *pk, const struct json_ptr *p)
{
	if (!p->nseg)
		pk->all = 1;
	else
		json_pick_add_name(pk, p->seg[0].s, p->seg[0].n);
}

/* The index in pk of the member name of key body s[0..n), or -1. */
static int pick_index(const struct json_pick *pk, const char *s, size_t n, int esc)
{
	struct strbuf dec = STRBUF_INIT;
	size_t k;
	int r = -1;

	if (esc) {
		if (json_unescape(s, n, &dec) < 0) {
			strbuf_release(&dec);
			return -2;
		}
		s = dec.buf;
		n = dec.len;
	}
	for (k = 0; k < pk->n && r < 0; k++)
		if (pk->name[k].n == n && !memcmp(pk->name[k].s, s, n))
			r = (int)k;
	if (esc)	/* a name without escapes is compared in place: nothing to free */
		strbuf_release(&dec);
	return r;
}

int json_parse_pick(struct json_doc *d, const char *src, size_t len, const struct json_pick *pk,
		    struct json_error *je)
{
	const char *p, *q, *end = src + len, *errat, *why;
	unsigned char taken[JSON_PICK_MAX];
	size_t found = 0;
	int r, esc, k;

	if (!pk || pk->all)
		return json_parse(d, src, len, je);
	if ((r = parse_begin(d, src, len, je)) < 0)
		return r;
	p = skip_ws(src, end);
	if (p == end || *p != '{' || !d->max_depth)
		return json_parse(d, src, len, je);
	if (d->ntok == d->atok && grow_tape(d) < 0)
		return -2;
	memset(taken, 0, pk->n);
	d->has_ws = 1;	/* the root's members are not all on the tape: never copied whole */
	d->ntok = 1;
	d->tok[0].type = JSON_OBJECT;
	d->tok[0].flags = 0;
	d->tok[0].start = (uint32_t)(p - src);
	d->stack[0] = 0;
	p = skip_ws(p + 1, end);
	if (p < end && *p == '}')
		goto close;
	for (;;) {
		if (p >= end || *p != '"')
			goto slow;
		esc = 0;
		if (!(q = scan_string(p, end, &esc, &errat, &why)))
			goto slow;
		k = pick_index(pk, p + 1, (size_t)(q - p) - 2, esc);
		if (k == -2)
			return -2;
		if (k >= 0 && !taken[k]) {
			taken[k] = 1;
			if (push_key(d, p, q, esc) < 0)
				return -2;
		} else {
			/* a picked name twice: its last value counts, as on a full parse */
			if (k >= 0 && !pk->lazy)
				return json_parse(d, src, len, je);
			k = -1;
		}
		p = skip_ws(q, end);
		if (p >= end || *p != ':')
			goto slow;
		p = skip_ws(p + 1, end);
		if (k >= 0) {
			if ((r = parse_tape(d, &p, end, 1, NULL)) == -2)
				return -2;
			if (r < 0)
				goto slow;
			if (pk->lazy && ++found == pk->n) {
				/* every picked name is on the tape: the rest is not read */
				d->tok[0].end = (uint32_t)(p - src);
				d->tok[0].next = d->ntok;
				return 0;
			}
		} else if (!(p = skip_value(d, p, end, 1))) {
			goto slow;
		}
		p = skip_ws(p, end);
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}')
			break;
		goto slow;
	}
close:
	p++;
	d->tok[0].end = (uint32_t)(p - src);
	d->tok[0].next = d->ntok;
	if (skip_ws(p, end) != end)
		goto slow;
	return 0;
slow:
	/* not valid JSON: the full parser finds the same fault and words it */
	return json_parse(d, src, len, je);
}

int json_error_to_aperr(const struct json_error *je, struct aperr *e)
{
	if (je->pointer.len)
		return aperr_set(e, EX_DATAERR, "invalid JSON at byte %zu (in %s): %s",
				 je->offset + 1, je->pointer.buf, je->msg);
	return aperr_set(e, EX_DATAERR, "invalid JSON at byte %zu: %s",
			 je->offset + 1, je->msg);
}

size_t json_count(const struct json_doc *d, uint32_t c)
{
	size_t n = 0;
	uint32_t i;

	for (i = json_first(d, c); i; i = json_next(d, c, i))
		n++;
	return n;
}

/* Decode one escape at s (s[0] == '\\'); returns bytes consumed, fills out. */
static size_t decode_escape(const char *s, const char *end, char out[4], size_t *outn,
			    int exact);

size_t json_escape_decode(const char *s, const char *end, char out[4], size_t *outn)
{
	if (end - s < 2 || s[0] != '\\')
		return 0;
	if (s[1] == 'u') {
		if (end - s < 6 || num_hexval(s[2]) < 0 || num_hexval(s[3]) < 0 ||
		    num_hexval(s[4]) < 0 || num_hexval(s[5]) < 0)
			return 0;
	} else if (!s[1] || !strchr("\"\\/bfnrt", s[1])) {
		return 0;
	}
	return decode_escape(s, end, out, outn, 1);
}

static size_t decode_escape(const char *s, const char *end, char out[4], size_t *outn,
			    int exact)
{
	unsigned cp;

	switch (s[1]) {
	case 'b': out[0] = '\b'; *outn = 1; return 2;
	case 'f': out[0] = '\f'; *outn = 1; return 2;
	case 'n': out[0] = '\n'; *outn = 1; return 2;
	case 'r': out[0] = '\r'; *outn = 1; return 2;
	case 't': out[0] = '\t'; *outn = 1; return 2;
	case 'u':
		break;
	default: out[0] = s[1]; *outn = 1; return 2;
	}
	cp = (unsigned)(num_hexval(s[2]) << 12 | num_hexval(s[3]) << 8 | num_hexval(s[4]) << 4 |
		       num_hexval(s[5]));
	/* the low half is read only when it is four hex digits (json_escape_decode's text) */
	if (cp >= 0xd800 && cp <= 0xdbff && end - s >= 12 && s[6] == '\\' && s[7] == 'u' &&
	    num_hexval(s[8]) >= 0 && num_hexval(s[9]) >= 0 && num_hexval(s[10]) >= 0 &&
	    num_hexval(s[11]) >= 0) {
		unsigned lo = (unsigned)(num_hexval(s[8]) << 12 | num_hexval(s[9]) << 8 |
					 num_hexval(s[10]) << 4 | num_hexval(s[11]));

		if (lo >= 0xdc00 && lo <= 0xdfff) {
			*outn = utf8_encode(0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00), out);
			return 12;
		}
	}
	if (cp >= 0xd800 && cp <= 0xdfff) {
		if (exact) {
			/* WTF-8: the surrogate's code point in three bytes */
			out[0] = (char)(0xe0 | (cp >> 12));
			out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
			out[2] = (char)(0x80 | (cp & 0x3f));
			*outn = 3;
			return 6;
		}
		cp = 0xfffd;
	}
	*outn = utf8_encode(cp, out);
	return 6;
}

static int unescape(const char *s, size_t n, struct strbuf *out, int exact)
{
	const char *end = s + n, *run = s;

	while (s < end) {
		const char *bs = memchr(s, '\\', (size_t)(end - s));
		char buf[4];
		size_t bn;

		if (!bs)
			break;
		if (strbuf_add(out, run, (size_t)(bs - run)) < 0)
			return -1;
		s = bs + decode_escape(bs, end, buf, &bn, exact);
		if (strbuf_add(out, buf, bn) < 0)
			return -1;
		run = s;
	}
	return strbuf_add(out, run, (size_t)(end - run));
}

int json_unescape(const char *s, size_t n, struct strbuf *out)
{
	return unescape(s, n, out, 0);
}

int json_unescape_exact(const char *s, size_t n, struct strbuf *out)
{
	return unescape(s, n, out, 1);
}

int json_has_lone_surrogate(const struct json_doc *d, uint32_t t)
{
	const char *s = json_src(d, t) + 1, *end = s + json_srclen(d, t) - 2;

	if (!(d->tok[t].flags & JSON_F_ESCAPED))
		return 0;
	while (s < end && (s = memchr(s, '\\', (size_t)(end - s)))) {
		char buf[4];
		size_t bn, k = decode_escape(s, end, buf, &bn, 1);

		if (bn == 3 && (unsigned char)buf[0] == 0xed && (unsigned char)buf[1] >= 0xa0)
			return 1;
		s += k;
	}
	return 0;
}

int json_str_decode(const struct json_doc *d, uint32_t t, struct strbuf *out)
{
	const char *s = json_src(d, t) + 1;
	size_t n = json_srclen(d, t) - 2;

	if (!(d->tok[t].flags & JSON_F_ESCAPED))
		return strbuf_add(out, s, n);
	return json_unescape(s, n, out);
}

int json_str_view(const struct json_doc *d, uint32_t t, struct strbuf *buf, const char **p,
		  size_t *n)
{
	if (!(d->tok[t].flags & JSON_F_ESCAPED)) {
		*p = json_src(d, t) + 1;
		*n = json_srclen(d, t) - 2;
		return 0;
	}
	strbuf_reset(buf);
	if (json_str_decode(d, t, buf) < 0)
		return -1;
	*p = buf->buf;
	*n = buf->len;
	return 0;
}

int json_u64(const struct json_doc *d, uint32_t t, uint64_t *out)
{
	int64_t v;

	if (json_type(d, t) != JSON_NUMBER || num_to_i64(json_src(d, t), json_srclen(d, t), &v) < 0 ||
	    v < 0)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

int json_str_eq_escaped(const struct json_doc *d, uint32_t t, const char *k, size_t kn)
{
	const char *s = json_src(d, t) + 1;
	const char *end = s + json_srclen(d, t) - 2;

	while (s < end) {
		if (*s == '\\') {
			char buf[4];
			size_t bn;

			s += decode_escape(s, end, buf, &bn, 1);
			if (kn < bn || memcmp(k, buf, bn))
				return 0;
			k += bn;
			kn -= bn;
		} else {
			if (!kn || *k != *s)
				return 0;
			k++;
			kn--;
			s++;
		}
	}
	return kn == 0;
}

uint32_t json_get(const struct json_doc *d, uint32_t obj, const char *key, size_t klen)
{
	uint32_t i, found = 0;

	if (d->tok[obj].type != JSON_OBJECT)
		return 0;
	/* a name given twice: the last one counts, as in JavaScript and Python */
	for (i = json_first(d, obj); i; i = json_next(d, obj, i))
		if (json_str_eq(d, i, key, klen))
			found = i + 1;
	return found;
}

size_t json_minify_to(const struct json_doc *d, uint32_t t, char *out0)
{
	const char *s = json_src(d, t), *end = s + json_srclen(d, t);
	char *out = out0;
	int in_str = 0;

	if (!d->has_ws || d->tok[t].type < JSON_ARRAY) {
		memcpy(out, s, (size_t)(end - s));
		return (size_t)(end - s);
	}
	while (s < end) {
		char c = *s++;

		if (in_str) {
			*out++ = c;
			if (c == '\\')
				*out++ = *s++;
			else if (c == '"')
				in_str = 0;
		} else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
			continue;
		} else {
			if (c == '"')
				in_str = 1;
			*out++ = c;
		}
	}
	return (size_t)(out - out0);
}

int json_minify(const struct json_doc *d, uint32_t t, struct strbuf *out)
{
	size_t n = json_srclen(d, t);

	if (strbuf_grow(out, n) < 0)
		return -1;
	out->len += json_minify_to(d, t, out->buf + out->len);
	out->buf[out->len] = '\0';
	return 0;
}

int json_quote(struct strbuf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + n, *run;

	if (strbuf_addch(out, '"') < 0)
		return -1;
	run = p;
	while (p < end) {
		unsigned char c = *p;
		char esc[7];
		size_t en = 2;

		if (c >= 0x20 && c != '"' && c != '\\') {
			p++;
			continue;
		}
		if (strbuf_add(out, run, (size_t)(p - run)) < 0)
			return -1;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
			esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
			en = 6;
		}
		if (strbuf_add(out, esc, en) < 0)
			return -1;
		run = ++p;
	}
	if (strbuf_add(out, run, (size_t)(p - run)) < 0)
		return -1;
	return strbuf_addch(out, '"');
}

static int canon_bytes(struct strbuf *out, char tag, const char *s, size_t n)
{
	unsigned char hdr[5];

	hdr[0] = (unsigned char)tag;
	hdr[1] = (unsigned char)(n >> 24);
	hdr[2] = (unsigned char)(n >> 16);
	hdr[3] = (unsigned char)(n >> 8);
	hdr[4] = (unsigned char)n;
	if (strbuf_add(out, hdr, 5) < 0)
		return -1;
	return strbuf_add(out, s, n);
}

/* A string token's exact content as a canonical string ('s', length, bytes). */
static int canon_string(const struct json_doc *d, uint32_t t, struct strbuf *out)
{
	size_t at, n;
	unsigned char *h;

	if (!(d->tok[t].flags & JSON_F_ESCAPED))
		return canon_bytes(out, 's', json_src(d, t) + 1, json_srclen(d, t) - 2);
	if (canon_bytes(out, 's', "", 0) < 0)
		return -1;
	at = out->len;
	if (json_unescape_exact(json_src(d, t) + 1, json_srclen(d, t) - 2, out) < 0)
		return -1;
	n = out->len - at;
	h = (unsigned char *)out->buf + at - 4;
	h[0] = (unsigned char)(n >> 24);
	h[1] = (unsigned char)(n >> 16);
	h[2] = (unsigned char)(n >> 8);
	h[3] = (unsigned char)n;
	return 0;
}

static int canon_scalar(const struct json_doc *d, uint32_t t, struct strbuf *out)
{
	switch (d->tok[t].type) {
	case JSON_NULL: return strbuf_addch(out, 'z');
	case JSON_FALSE: return strbuf_addch(out, 'f');
	case JSON_TRUE: return strbuf_addch(out, 't');
	case JSON_NUMBER: {
		/* the header's length is patched in once the digits are written */
		size_t at = out->len, n;

		if (canon_bytes(out, 'n', "", 0) < 0 ||
		    num_canon(json_src(d, t), json_srclen(d, t), out) < 0)
			return -1;
		n = out->len - at - 5;
		out->buf[at + 1] = (char)(n >> 24);
		out->buf[at + 2] = (char)(n >> 16);
		out->buf[at + 3] = (char)(n >> 8);
		out->buf[at + 4] = (char)n;
		return 0;
	}
	case JSON_STRING:
		return canon_string(d, t, out);
	default:
		return -1;
	}
}

/* An object member: its name token and where its canonical name lies in names. */
struct canon_mem {
	uint32_t key;
	size_t off, len;
};

/* One open container of json_canon's walk. */
struct canon_frame {
	uint32_t t, cur;		/* the container; an array's next element (0: done) */
	struct canon_mem *m;		/* an object's members, sorted; NULL for an array */
	size_t n, i;
	struct strbuf names;		/* an object's canonical names, back to back */
};

static int cmp_mem(const void *x, const void *y, void *ctx)
{
	const struct canon_mem *a = x, *b = y;
	const char *names = ctx;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(names + a->off, names + b->off, n);

	if (c)
		return c;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a->key < b->key ? -1 : a->key > b->key;	/* the first occurrence first */
}

/* Open container t on the stack (its bracket written).  0 or -1. */
static int canon_open(const struct json_doc *d, uint32_t t, struct canon_frame **fs,
		      size_t *nf, size_t *af, struct strbuf *out)
{
	struct canon_frame *f;
	uint32_t k;
	size_t i, j;

	if (*nf == *af) {
		size_t na = *af ? 2 * *af : 16;
		struct canon_frame *nfs = realloc(*fs, na * sizeof(*nfs));

		if (!nfs)
			return -1;
		*fs = nfs;
		*af = na;
	}
	f = &(*fs)[(*nf)++];
	memset(f, 0, sizeof(*f));
	strbuf_init(&f->names, 0);
	f->t = t;
	if (d->tok[t].type == JSON_ARRAY) {
		f->cur = json_first(d, t);
		return strbuf_addch(out, '[');
	}
	f->n = json_count(d, t);
	if (f->n && !(f->m = malloc(f->n * sizeof(*f->m))))
		return -1;
	for (k = json_first(d, t), i = 0; k && i < f->n; k = json_next(d, t, k), i++) {
		f->m[i].key = k;
		f->m[i].off = f->names.len;
		if (canon_string(d, k, &f->names) < 0)
			return -1;
		f->m[i].len = f->names.len - f->m[i].off;
	}
	f->n = i;
	if (f->n > 1) {
		qsort_r(f->m, f->n, sizeof(*f->m), cmp_mem, f->names.buf);
		/* a repeated name counts once: keep its last occurrence, as lookups do */
		for (i = 1, j = 1; i < f->n; i++) {
			const struct canon_mem *p = &f->m[j - 1], *c = &f->m[i];

			if (p->len == c->len && !memcmp(f->names.buf + p->off, f->names.buf + c->off,
							c->len)) {
				f->m[j - 1] = *c;
				continue;
			}
			f->m[j++] = *c;
		}
		f->n = j;
	}
	return strbuf_addch(out, '{');
}

int json_canon(const struct json_doc *d, uint32_t t, struct strbuf *out)
{
	struct canon_frame *fs = NULL;
	size_t nf = 0, af = 0;
	int rc = 0;

	if (d->tok[t].type != JSON_ARRAY && d->tok[t].type != JSON_OBJECT)
		return canon_scalar(d, t, out);
	if (canon_open(d, t, &fs, &nf, &af, out) < 0)
		rc = -1;
	while (!rc && nf) {
		struct canon_frame *f = &fs[nf - 1];
		uint32_t v;

		if (!f->m && d->tok[f->t].type == JSON_ARRAY) {
			if (!f->cur) {
				rc = strbuf_addch(out, ']');
				strbuf_release(&f->names);
				nf--;
				continue;
			}
			v = f->cur;
			f->cur = json_next(d, f->t, v);
		} else {
			if (f->i == f->n) {
				rc = strbuf_addch(out, '}');
				free(f->m);
				strbuf_release(&f->names);
				nf--;
				continue;
			}
			if (strbuf_add(out, f->names.buf + f->m[f->i].off, f->m[f->i].len) < 0) {
				rc = -1;
				break;
			}
			v = f->m[f->i++].key + 1;
		}
		if (d->tok[v].type == JSON_ARRAY || d->tok[v].type == JSON_OBJECT)
			rc = canon_open(d, v, &fs, &nf, &af, out);
		else
			rc = canon_scalar(d, v, out);
	}
	while (nf) {
		nf--;
		free(fs[nf].m);
		strbuf_release(&fs[nf].names);
	}
	free(fs);
	return rc < 0 || strbuf_failed(out) ? -1 : 0;
}
