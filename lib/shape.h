/*
 * shape: the observed structure of records (types, members, array items,
 * string formats, presence), for `schema infer` and `schema diff`.
 *
 * A shape tree is fed one record at a time with shape_observe().  Each
 * node counts how often it was present, which JSON types it held (an
 * integer is a number written without fraction or exponent), which of the
 * detectable string formats every string matched, and, for objects, which
 * members it had and how often each was missing.  Items of every array at
 * one place merge into one node.
 *
 * For diff the tree is first loaded from a baseline schema
 * (shape_load_baseline): the subset of JSON Schema that infer writes
 * ("type", "properties", "required", "items", "format"); other keywords
 * are ignored.  Observing then also counts, per baseline node, values of
 * a type the baseline does not allow, nulls it did not allow, strings that
 * no longer match its format and records where a required member was
 * missing, each with the first line it happened on; members the baseline
 * does not know are added to the tree as they appear.
 *
 * Ownership: struct shape owns its children and names; shape_free()
 * frees a tree.
 */
#ifndef APIPE_SHAPE_H
#define APIPE_SHAPE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "json.h"
#include "strbuf.h"

/* JSON Schema's types as bits, in the order they are written. */
enum {
	SH_OBJECT = 1, SH_ARRAY = 2, SH_STRING = 4, SH_NUMBER = 8, SH_INTEGER = 16,
	SH_BOOLEAN = 32, SH_NULL = 64
};
#define SH_NTYPES 7

/* The formats infer detects, in order of preference. */
enum { SHF_DATE_TIME = 1, SHF_DATE = 2, SHF_UUID = 4, SHF_EMAIL = 8, SHF_URI = 16 };
#define SHF_ALL 31
#define SHF_N 5

struct shape {
	char *name;		/* decoded member name; NULL for the root and items */
	size_t namelen;
	uint64_t count;		/* times present */
	uint64_t first_line;	/* line it was first present on */
	uint64_t nobj;		/* times it was an object */
	unsigned types;		/* SH_* seen */
	unsigned formats;	/* SHF_* every string matched (SHF_ALL before the first) */
	uint64_t nstrings;
	struct shape **props;	/* members, in order of first appearance */
	size_t nprops, aprops, hint;
	struct shape *items;	/* every array item here, merged */
	uint64_t stamp;		/* its parent's occurrence (nobj) it was last seen in */

	/* from the baseline (diff) */
	int baseline;		/* node came from the baseline */
	int required;		/* listed in its parent's "required" */
	unsigned btypes;	/* baseline's types; 0: any */
	unsigned bformat;	/* baseline's format as SHF_*, 0: none or unknown */
	uint64_t missing, first_missing;	/* parent objects lacking it */
	uint64_t bad_type, first_bad_type;	/* values of a type not allowed */
	unsigned bad_types;	/* which types those were */
	uint64_t nulls, first_null;	/* nulls the baseline did not allow */
	uint64_t bad_format, first_bad_format;	/* strings not of bformat */
};

/* A new empty shape (NULL when out of memory); shape_free() frees it and its children. */
struct shape *shape_new(void);
void shape_free(struct shape *sh);
/*
 * Fold value t of d, found on line lineno, into sh.  0, or -1 (out of
 * memory, EX_OSERR in e).
 */
int shape_observe(struct shape *sh, const struct json_doc *d, uint32_t t, uint64_t lineno,
		  struct aperr *e);
/*
 * Build a tree from baseline schema t of d.  NULL with EX_CONFIG in e
 * naming the pointer when the baseline is not a schema object.
 */
struct shape *shape_load_baseline(const struct json_doc *d, uint32_t t, struct aperr *e);

/* The name of one SH_* bit, or of one SHF_* bit. */
const char *shape_type_name(unsigned bit);
const char *shape_format_name(unsigned bit);
/* The preferred format of a mask (0 when empty). */
unsigned shape_format_pick(unsigned mask);
/*
 * Append types as a JSON value: "string" for one, ["string","null"] for
 * several, null for none.  An integer seen with a number merges into
 * "number".
 */
void shape_types_json(struct strbuf *out, unsigned types);
/* Append sh as a JSON Schema 2020-12 document, indented two spaces. */
void shape_schema_json(struct strbuf *out, const struct shape *sh, uint64_t records);

#endif
