/*
 * schema: JSON Schema (draft 2020-12 and draft-07), compiled once and
 * applied to many instances.
 *
 * The core, applicator, unevaluated and validation vocabularies: $ref and
 * $dynamicRef/$dynamicAnchor (the dynamic scope is the resources entered
 * during evaluation), resources found by $id, $anchor or JSON Pointer
 * among the schema and those registered with sch_add_resource(), $id base
 * URI resolution, unevaluatedProperties/unevaluatedItems from the
 * annotations of each schema's own valid subschemas, patterns through
 * PCRE2 (UTF, no implicit anchoring, ECMA-262 property names), lengths in
 * code points, numbers compared exactly and multipleOf exact on decimals,
 * a metaschema's $vocabulary leaving validation out.  Draft-07 keeps its
 * own rules ($ref siblings ignored, items arrays, additionalItems,
 * dependencies, "$id": "#name" anchors).  Every required test of the
 * official suite passes for both drafts.  "format" is an annotation
 * unless format_assert is set, then lib/format checks it.
 *
 * Ownership: struct sch owns every compiled node, the schema texts it
 * was given (copied), its registry and what validation reuses (PCRE2
 * match data among it); sch_release() frees them.
 *
 * Thread-safety: a struct sch belongs to one thread at a time (validation
 * compiles $ref targets on first use and reuses its state); separate
 * struct sch values share nothing and may validate on separate threads at
 * once (validate -j compiles one a thread).
 * Errors found by sch_validate() go to a struct sch_errors the caller
 * owns and resets.
 */
#ifndef APIPE_SCHEMA_H
#define APIPE_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "json.h"
#include "strbuf.h"

enum sch_draft { SCH_DRAFT_2020_12, SCH_DRAFT_7 };

struct sch_node;
struct sch_resource;
struct sch_reg;
struct sch_vstate;

struct sch {
	enum sch_draft draft;
	struct sch_resource *res;	/* registered documents, by base URI */
	size_t nres, ares;
	struct sch_reg *regs;		/* URI (and URI#anchor) → schema location */
	size_t nregs, aregs;
	struct sch_node *root;
	struct sch_node **nodes;	/* every node, for release */
	size_t nnodes, anodes;
	unsigned max_errors;		/* per instance, default 32 */
	int no_validation;		/* the metaschema's $vocabulary leaves validation out */
	int format_assert;		/* check "format" (lib/format) instead of only noting it */
	struct sch_vstate *vs;		/* what sch_validate() reuses between instances */
	char **bases;			/* base URIs, one copy each */
	size_t nbases, abases;
};

struct sch_error {
	struct strbuf instance, schema;
	char keyword[32];
	char message[200];
};

struct sch_errors {
	struct sch_error *e;
	size_t n, a;
	uint64_t total;		/* including those past the cap */
};

void sch_init(struct sch *s, enum sch_draft draft);
void sch_release(struct sch *s);
/*
 * Register a schema document under uri (its $id wins when it has one),
 * for $ref to find.  The text is copied.  0, or -1 (EX_CONFIG naming the
 * byte or pointer).
 */
int sch_add_resource(struct sch *s, const char *uri, const char *text, size_t n,
		     struct aperr *e);
/*
 * Register every .json file under dir (recursively) as a resource, under
 * prefix/relative-path (relative-path when prefix is "") and its $id.
 * 0, or -1 (EX_NOINPUT for an unreadable directory, or the file's error).
 */
int sch_add_dir(struct sch *s, const char *dir, const char *prefix, struct aperr *e);
/*
 * Compile the schema text as the root (registered under uri, may be
 * "").  0, or -1 with EX_CONFIG and the JSON Pointer into the schema.
 */
int sch_compile(struct sch *s, const char *uri, const char *text, size_t n, struct aperr *e);

void sch_errors_init(struct sch_errors *es);
void sch_errors_reset(struct sch_errors *es);
void sch_errors_release(struct sch_errors *es);
/* 1 when a and b hold the same errors (where, which keyword and schema, the message), in order. */
int sch_errors_same(const struct sch_errors *a, const struct sch_errors *b);
/*
 * 1 valid, 0 invalid (errors in es when non-NULL), -1 a limit was hit (e).
 * Not reentrant: one struct sch validates one instance at a time.
 */
int sch_validate(struct sch *s, const struct json_doc *d, uint32_t t, struct sch_errors *es,
		 struct aperr *e);
/*
 * The root members validation can look at, when the schema names them
 * all (properties, required, dependent*, through $ref and the in-place
 * applicators): they are added to pk, with whole_on_repeat set (every
 * occurrence of a name is validated), and 0 is returned.  -1, with
 * pk->all set, when any member may matter: additionalProperties,
 * patternProperties, propertyNames, min/maxProperties,
 * unevaluatedProperties, enum or const over the object, $dynamicRef, or
 * more names than a pick holds.  Validating a pick-parsed document
 * (json_parse_pick) then gives what validating a full parse gives.
 */
int sch_pick(struct sch *s, struct json_pick *pk);

#endif
