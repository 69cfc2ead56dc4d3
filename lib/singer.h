/*
 * singer: the Singer specification's messages (SCHEMA, RECORD, STATE,
 * ACTIVATE_VERSION; one JSON object a line, "type" read case-insensitively)
 * read from a tap's output and written for a target.
 *
 * Ownership: nothing is kept; a struct singer_msg's tokens point into the
 * caller's parsed document.
 */
#ifndef APIPE_SINGER_H
#define APIPE_SINGER_H

#include "err.h"
#include "json.h"
#include "strbuf.h"

enum singer_type { SINGER_OTHER, SINGER_SCHEMA, SINGER_RECORD, SINGER_STATE, SINGER_ACTIVATE };

/* A message's parts, as tokens of its document (0: absent). */
struct singer_msg {
	enum singer_type type;
	uint32_t stream;	/* a string */
	uint32_t record;	/* RECORD: an object */
	uint32_t schema;	/* SCHEMA: an object */
	uint32_t value;		/* STATE: any value */
};

/*
 * Read message d: 0, or -1 with EX_DATAERR in e when it breaks the
 * specification (not an object, no "type", a RECORD without a "stream"
 * string or a "record" object, a SCHEMA without "schema" and
 * "key_properties", a STATE without "value").  A type the specification
 * does not name is SINGER_OTHER, which readers skip.
 */
int singer_read(const struct json_doc *d, struct singer_msg *m, struct aperr *e);

/* Append a RECORD message of stream (JSON string text) holding record's bytes as given. */
int singer_record(struct strbuf *out, const char *stream, size_t sn, const char *rec, size_t n);
/* Append a SCHEMA message; schema is minified JSON, keys a JSON array of names. */
int singer_schema(struct strbuf *out, const char *stream, size_t sn, const char *schema,
		  size_t schn, const char *keys, size_t kn);
/* Append a STATE message whose value is the JSON text v. */
int singer_state(struct strbuf *out, const char *v, size_t n);

#endif
