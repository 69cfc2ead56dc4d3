/*
 * jsonw: the one way the project writes JSON.
 *
 * A writer appends to a caller's strbuf and keeps the commas and colons
 * itself: open a container, write keys and values, close it.  Every call
 * returns nothing; a failure (the buffer's cap or memory, a string that is
 * not UTF-8, a key outside an object, nesting past JSONW_MAX_DEPTH) is
 * sticky, every later call does nothing, and jw_finish() reports it.  So a
 * line is either whole or refused: a writer never leaves "body":} behind.
 *
 * Ownership: the writer borrows out (which must outlive it) and owns
 * nothing; there is nothing to release.  jw_init() appends after whatever
 * out already holds, so a prefix (the state line's RS) may come first.
 *
 * Thread-safety: a writer and its buffer belong to one thread; writers on
 * different buffers share nothing.
 */
#ifndef APIPE_JSONW_H
#define APIPE_JSONW_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "strbuf.h"

struct json_doc;

/* Nesting a writer keeps track of; deeper is a failure. */
#define JSONW_MAX_DEPTH 64

struct jsonw {
	struct strbuf *out;
	unsigned depth;
	uint64_t member;	/* bit d: the container at depth d has an element */
	uint64_t is_object;	/* bit d: the container at depth d is an object */
	int after_key;		/* a key was written; its value comes next */
	const char *why;	/* the first failure, or NULL */
};

void jw_init(struct jsonw *w, struct strbuf *out);

/* Open and close containers; inside an object a jw_key() comes before each value. */
void jw_object(struct jsonw *w);
void jw_end_object(struct jsonw *w);
void jw_array(struct jsonw *w);
void jw_end_array(struct jsonw *w);
/* The next member's name (inside an object only). */
void jw_key(struct jsonw *w, const char *key);
void jw_keyn(struct jsonw *w, const char *key, size_t n);
/* A key as the escaped content of a JSON string the caller vouches for (a parsed key's source). */
void jw_key_json(struct jsonw *w, const char *escaped, size_t n);

/* Values: in an array, or after jw_key(). */
void jw_str(struct jsonw *w, const char *s);	/* NULL writes null */
void jw_strn(struct jsonw *w, const char *s, size_t n);
/*
 * Text from outside (a header, a server's message): as a string when it is
 * UTF-8, else each byte read as Latin-1 (RFC 9110's obs-text), so a line
 * is never refused for it.
 */
void jw_text(struct jsonw *w, const char *s, size_t n);
void jw_key_text(struct jsonw *w, const char *s, size_t n);
void jw_u64(struct jsonw *w, uint64_t v);
void jw_i64(struct jsonw *w, int64_t v);
/* A double as a JSON number, %.*f with prec digits (NaN and infinities: null). */
void jw_fixed(struct jsonw *w, double v, int prec);
void jw_bool(struct jsonw *w, int v);
void jw_null(struct jsonw *w);
/* JSON text the caller vouches for (a minified record, a kept value), as is. */
void jw_raw(struct jsonw *w, const char *json, size_t n);
/* Value t of document d with its insignificant whitespace removed. */
void jw_value(struct jsonw *w, const struct json_doc *d, uint32_t t);

/* Key and value in one call; jw_member_str writes nothing when s is NULL. */
void jw_member_str(struct jsonw *w, const char *key, const char *s);
void jw_member_u64(struct jsonw *w, const char *key, uint64_t v);
void jw_member_raw(struct jsonw *w, const char *key, const char *json, size_t n);

/*
 * {"i":counts[i],…} for every non-zero counts[i], i < n: a table of counts
 * by HTTP status as a value.
 */
void jw_counts(struct jsonw *w, const uint64_t *counts, size_t n);

/*
 * Bytes of unknown kind as one member: names[0] with the JSON value when
 * they parse as JSON (minified; d is scratch), else names[1] with a string
 * when they are UTF-8, else names[2] with their base64.  Writes nothing for
 * zero bytes.  The envelope's body, a dead letter's input and a webhook
 * event's body are all written by this.
 */
struct jw_body_names {
	const char *json, *text, *base64;
};
extern const struct jw_body_names jw_body_names;	/* body, body_text, body_base64 */
void jw_body(struct jsonw *w, const struct jw_body_names *names, const char *bytes, size_t n,
	     struct json_doc *d);
/* The same for bytes known not to be JSON: names[1] or names[2]. */
void jw_bytes(struct jsonw *w, const struct jw_body_names *names, const char *bytes, size_t n);

/* Fail the writer with why (a static string), as a caller's own check may. */
void jw_fail(struct jsonw *w, const char *why);
/* 0 when everything was written and every container closed, else -1. */
/*
 * Append an in-band state line (jsonl.h: RS, then
 * {"apipe_state":NAME,"value":VALUE}, VALUE the caller's JSON text) to out.
 * 0, or -1 with EX_OSERR in e.
 */
int jw_state_line(struct strbuf *out, const char *name, size_t nl, const char *value,
		  size_t vn, struct aperr *e);
int jw_finish(struct jsonw *w);
/* The same, then a newline after the value: a JSON Lines line.  On -1 jw_error() says why. */
int jw_finish_line(struct jsonw *w);
/* Why the writer failed (a static string), or NULL. */
static inline const char *jw_error(const struct jsonw *w)
{
	return w->why;
}

#endif
