/*
 * secret: where secrets come from, and keeping them out of what is written.
 *
 * A secret is named on the command line by reference only: env:NAME (an
 * environment variable) or file:PATH (the file's content, one trailing
 * newline removed).  A literal value is refused, because command lines are
 * visible to every user through ps(1).
 *
 * struct secrets remembers every secret value the run holds, so anything
 * about to be written -- an error message, a verbose line, a URL -- can be
 * scrubbed of them in any spelling (JSON-escaped, percent-encoded: the
 * scrub decodes what it reads).
 *
 * Thread-safety: a struct secrets is built before any thread starts and
 * only read afterwards; secrets_scrub() and secrets_scrub_json() may then
 * run in several threads at once (webhook-recv's connection threads).
 */
#ifndef APIPE_SECRET_H
#define APIPE_SECRET_H

#include <stddef.h>

#include "err.h"
#include "strbuf.h"

#define SECRET_MASK "REDACTED"

struct secrets {
	char **v;
	size_t n, alloc;
};

void secrets_init(struct secrets *s);
void secrets_release(struct secrets *s);	/* wipes and frees the values */
/* Remember a value (copied) to be scrubbed; values shorter than 4 bytes are not. */
int secrets_add(struct secrets *s, const char *value);
/*
 * Replace every remembered value in sb by SECRET_MASK (cut to the length
 * of what it covers), in every spelling: as it is, JSON-escaped in any
 * way, percent-encoded in either case or with '+' for space.
 */
void secrets_scrub(const struct secrets *s, struct strbuf *sb);
/*
 * The same in JSON text: inside strings, where a match never cuts an
 * escape, and a number that holds a value becomes the string "REDACTED",
 * so the text stays valid JSON.  Returns how many values were replaced.
 */
size_t secrets_scrub_json(const struct secrets *s, struct strbuf *sb);
/*
 * The same over sb[from..] only, which must begin between tokens (a value
 * or a member just written): what came before is left as it is.
 */
size_t secrets_scrub_json_from(const struct secrets *s, struct strbuf *sb, size_t from);
/* The same for a NUL-terminated string in place (the mask is never longer). */
void secrets_scrub_str(const struct secrets *s, char *str);

/*
 * Resolve ref (env:NAME or file:PATH) into a newly allocated string in
 * *out (caller frees) and remember it in s when s is non-NULL.  what names
 * the option for messages.  A literal is refused with EX_CONFIG, as is an
 * unset variable or unreadable file.
 */
int secret_resolve(const char *ref, const char *what, struct secrets *s, char **out,
		   struct aperr *e);
/* Is ref a reference (env: or file:) rather than a literal? */
int secret_is_ref(const char *ref);

#endif
