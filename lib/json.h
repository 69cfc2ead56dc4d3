/*
 * json: the project's JSON core.
 *
 * A document (one JSONL line) is parsed into a flat tape of tokens that
 * point into the caller's source bytes; nothing is converted or copied, so
 * every string and number keeps its exact source text.  The parser is
 * strict RFC 8259: UTF-8 is validated, control characters in strings and
 * trailing garbage are rejected, numbers follow the grammar, and nesting is
 * bounded (default 512) with an explicit stack, never recursion.  Duplicate
 * object keys are accepted; lookups return the last occurrence.
 *
 * Ownership: struct json_doc owns its token array and reuses it across
 * json_parse() calls (parse line after line into one doc and the array
 * stops growing).  The source buffer stays the caller's and must outlive
 * every use of the tokens.  json_doc_release() frees the tape.
 *
 * Thread-safety: no global state; a json_doc (and its json_error) belongs
 * to one thread at a time, and threads parse with their own (webhook-recv's
 * connection threads do).
 */
#ifndef APIPE_JSON_H
#define APIPE_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "strbuf.h"

enum json_type {
	JSON_NONE = 0,
	JSON_NULL,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

#define JSON_F_ESCAPED 1	/* string contains backslash escapes */

struct json_tok {
	uint32_t start;	/* offset of the first byte ('"', '[', digit …) */
	uint32_t end;	/* offset one past the last byte */
	uint32_t next;	/* index of the first token after this value's subtree */
	uint16_t type;	/* enum json_type */
	uint16_t flags;	/* JSON_F_* */
};

#define JSON_DEFAULT_DEPTH 512
#define JSON_MAX_SIZE ((size_t)UINT32_MAX - 1)

struct json_doc {
	const char *src;	/* borrowed: the parsed bytes */
	size_t len;
	struct json_tok *tok;	/* owned: tok[0] is the root value */
	uint32_t ntok, atok;
	uint32_t *stack;	/* owned: open containers while parsing */
	unsigned max_depth;
	int has_ws;	/* insignificant whitespace inside the root value */
};

/* Where and why the last json_parse() failed. */
struct json_error {
	size_t offset;		/* byte offset of the offending byte */
	char msg[128];		/* e.g. "unexpected ',' after value" */
	struct strbuf pointer;	/* JSON Pointer of the value being read */
};

void json_doc_init(struct json_doc *d, unsigned max_depth);
void json_doc_release(struct json_doc *d);
void json_error_init(struct json_error *je);
void json_error_release(struct json_error *je);

/*
 * Parse exactly one JSON value (with optional surrounding whitespace) from
 * src[0..len).  Returns 0 on success (d->tok[0] is the root), -1 on a syntax
 * error (filled into je when non-NULL), -2 when memory ran out.
 */
int json_parse(struct json_doc *d, const char *src, size_t len,
	       struct json_error *je);

/* Format a parse failure as "byte N (at /ptr): msg" into e->msg. */
int json_error_to_aperr(const struct json_error *je, struct aperr *e);

static inline enum json_type json_type(const struct json_doc *d, uint32_t t)
{
	return (enum json_type)d->tok[t].type;
}
static inline const char *json_src(const struct json_doc *d, uint32_t t)
{
	return d->src + d->tok[t].start;
}
static inline size_t json_srclen(const struct json_doc *d, uint32_t t)
{
	return d->tok[t].end - d->tok[t].start;
}
const char *json_type_name(enum json_type t);

/*
 * Iteration.  For arrays: for (i = json_first(d, a); i; i = json_next(d, a, i)).
 * For objects the iterator visits keys; the value is key + 1.
 * 0 means "no more" (the root token is never a child).
 */
static inline uint32_t json_first(const struct json_doc *d, uint32_t c)
{
	return c + 1 < d->tok[c].next ? c + 1 : 0;
}
static inline uint32_t json_next(const struct json_doc *d, uint32_t c, uint32_t i)
{
	uint32_t n = d->tok[c].type == JSON_OBJECT ? d->tok[i + 1].next : d->tok[i].next;

	return n < d->tok[c].next ? n : 0;
}
/* Number of elements or members. */
size_t json_count(const struct json_doc *d, uint32_t c);

/*
 * Member lookup by unescaped key; returns the value token or 0.  A name
 * an object holds twice gives its last value, as JavaScript and Python do.
 */
uint32_t json_get(const struct json_doc *d, uint32_t obj, const char *key, size_t klen);

/*
 * The JSON string escape at s (s[0] is its backslash), decoded into out
 * (*outn bytes: UTF-8, a surrogate pair as one code point, a lone
 * surrogate as WTF-8, as json_str_decode does): how many bytes of s it
 * spans, or 0 when s holds no valid escape.  For text that may hold
 * escapes, valid or not (lib/secret's masking).
 */
size_t json_escape_decode(const char *s, const char *end, char out[4], size_t *outn);

/* json_str_eq() of a string that holds escapes (decoded as it is compared). */
int json_str_eq_escaped(const struct json_doc *d, uint32_t t, const char *s, size_t n);
/*
 * Does string token t decode to exactly s[0..n)?  A string without escapes
 * (nearly every name) is told apart by its length, then its bytes, in place.
 */
static inline int json_str_eq(const struct json_doc *d, uint32_t t, const char *s, size_t n)
{
	const struct json_tok *k = &d->tok[t];

	if (k->type != JSON_STRING)
		return 0;
	if (k->flags & JSON_F_ESCAPED)
		return json_str_eq_escaped(d, t, s, n);
	return k->end - k->start == n + 2 && memcmp(d->src + k->start + 1, s, n) == 0;
}
/*
 * Append the decoded bytes of string token t to out.  Lone surrogates
 * decode to U+FFFD.  Returns 0 or -1 (out of room).
 */
int json_str_decode(const struct json_doc *d, uint32_t t, struct strbuf *out);
/*
 * The decoded text of string token t in *p, *n: its source bytes when it
 * has no escapes (no copy), else decoded into buf (reset first).  Returns
 * 0 or -1 (out of room).
 */
int json_str_view(const struct json_doc *d, uint32_t t, struct strbuf *buf, const char **p,
		  size_t *n);
/* A number token that is a whole number from 0 to 2^63-1 (2.0 and 1e2 are) into *out: 0 or -1. */
int json_u64(const struct json_doc *d, uint32_t t, uint64_t *out);
/* Decode a raw JSON string body (between the quotes, already validated). */
int json_unescape(const char *s, size_t n, struct strbuf *out);

/*
 * Append value t with insignificant whitespace removed; strings and
 * numbers are copied byte for byte.
 */
int json_minify(const struct json_doc *d, uint32_t t, struct strbuf *out);
/* Same, into a caller buffer known to hold json_srclen() bytes; returns bytes written. */
size_t json_minify_to(const struct json_doc *d, uint32_t t, char *out);

/* Append s[0..n) as a JSON string literal (quotes included). */
int json_quote(struct strbuf *out, const char *s, size_t n);

/*
 * Canonical form for key equality and hashing: strings unescaped exactly
 * (a lone surrogate such as \ud800 stays itself, as WTF-8, so it equals no
 * other string), numbers by exact value (1, 1.0 and 10e-1 alike), object
 * members sorted by name (a repeated name counts once, its last value,
 * as lookups do), arrays in order.  Two values are equal as keys exactly
 * when they are equal as JSON values, and exactly then are their canonical
 * forms equal.  The encoding is self-delimiting, so concatenating several
 * values gives an unambiguous composite key.  Iterative: any depth the
 * parser accepted works.  0, or -1 when out failed.
 */
int json_canon(const struct json_doc *d, uint32_t t, struct strbuf *out);
/*
 * Unescape a JSON string's content exactly: like json_unescape, but a lone
 * surrogate becomes its three-byte WTF-8 form instead of U+FFFD.  The
 * result is valid UTF-8 exactly when json_has_lone_surrogate() is 0.
 */
int json_unescape_exact(const char *s, size_t n, struct strbuf *out);
/* 1 when string token t holds an escaped lone surrogate (not Unicode text). */
int json_has_lone_surrogate(const struct json_doc *d, uint32_t t);

/*
 * JSON Pointer (RFC 6901).  A pointer is compiled once with json_ptr_parse()
 * and evaluated per document.  struct json_ptr owns its segment storage.
 */
struct json_ptr_seg {
	char *s;	/* unescaped reference token (owned by the pointer) */
	size_t n;
	long idx;	/* array index, or -1 when the token is not one */
};
struct json_ptr {
	char *text;	/* the pointer as given (owned) */
	struct json_ptr_seg *seg;
	size_t nseg;
};

/* Returns 0, or -1 with EX_USAGE in e for a malformed pointer. */
int json_ptr_parse(struct json_ptr *p, const char *text, struct aperr *e);
void json_ptr_release(struct json_ptr *p);
#define JSON_ABSENT UINT32_MAX
/* Token the pointer refers to, starting at token root; JSON_ABSENT when absent. */
uint32_t json_ptr_eval(const struct json_ptr *p, const struct json_doc *d, uint32_t root);
/* Append "/" and the escaped reference token (~ → ~0, / → ~1). */
int json_ptr_append(struct strbuf *ptr, const char *tok, size_t n);
int json_ptr_append_index(struct strbuf *ptr, size_t i);
/*
 * out (replaced) becomes document d (NULL: none, as if empty) with the
 * value at p set to the JSON text v[0..vn), which the caller vouches for:
 * members and objects on the way are created, an array element is
 * replaced ("-" appends), everything else is copied minified.  0, or -1
 * (EX_USAGE: an array on the way without that element; EX_OSERR).
 */
int json_ptr_set(const struct json_ptr *p, const struct json_doc *d, const char *v, size_t vn,
		 struct strbuf *out, struct aperr *e);

/*
 * Picking: parse only what a few pointers need.  A filter that reads one
 * or two members of each record (dedupe's key, watermark's field) names
 * them in a json_pick; json_parse_pick() then checks the whole document
 * exactly as json_parse() does (same acceptance, same error and message),
 * but when the root is an object only the first occurrence of each picked
 * top-level member goes on the tape: the rest is checked by a scan that
 * builds no tokens.  json_ptr_eval() of every added pointer answers as on
 * a full parse; the root's iteration, count, minify and canon see only the
 * picked members.  A root that is not an object is parsed whole.
 *
 * A picked name that comes twice in the root makes the parse whole, as
 * json_parse(), so that its last value counts as on a full parse
 * (whole_on_repeat is kept for the callers that set it; it changes nothing).
 *
 * With lazy set, parsing stops once every picked name was found: what
 * follows the last of them is neither read nor checked, and the root
 * token ends there.  The bytes before it are checked as always, so a
 * fault there, or a picked name that never comes (the whole document is
 * then read), gets the same answer and message as json_parse().  For a
 * filter whose input a later stage checks (dedupe --lazy, watermark
 * track --lazy); a picked name that comes twice then keeps its first
 * value, the one read before the parse stopped.
 *
 * Ownership: a json_pick borrows the added pointers' segments and names
 * (they must outlive it) and holds nothing to free.
 */
#define JSON_PICK_MAX 16
struct json_pick {
	struct {
		const char *s;
		size_t n;
	} name[JSON_PICK_MAX];	/* first segments of the added pointers */
	size_t n;
	int all;		/* a pointer needs the whole document */
	int whole_on_repeat;	/* a picked name twice: parse whole */
	int lazy;		/* stop once every picked name was found */
};
void json_pick_init(struct json_pick *pk);
/* Make pointer p answer on picked documents (the root pointer, or too many names: pick all). */
void json_pick_add(struct json_pick *pk, const struct json_ptr *p);
/* Pick the root member named s[0..n) (borrowed): 0, or -1 when pk was full (it picks all). */
int json_pick_add_name(struct json_pick *pk, const char *s, size_t n);
/* As json_parse(); pk NULL, or picking all, is json_parse(). */
int json_parse_pick(struct json_doc *d, const char *src, size_t len, const struct json_pick *pk,
		    struct json_error *je);

#endif
