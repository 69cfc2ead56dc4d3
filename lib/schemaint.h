/*
 * schemaint: what lib/schema's three parts share, and nothing outside
 * them uses: schema.c holds the resources, the URI registry and loading;
 * schemacomp.c compiles schemas into nodes through the keyword table;
 * schemaval.c validates instances against the nodes.
 */
#ifndef APIPE_SCHEMAINT_H
#define APIPE_SCHEMAINT_H

#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <openssl/bn.h>

#include "format.h"
#include "metaschemas.h"
#include "num.h"
#include "schema.h"
#include "statefile.h"
#include "utf8.h"

struct sch_resource {
	char *uri;		/* absolute, without fragment */
	char *text;
	size_t n;
	struct json_doc doc;
};

struct sch_reg {
	char *uri;		/* absolute; "#name" appended for anchors */
	size_t res;
	uint32_t tok;
	int dynamic;		/* a $dynamicAnchor */
};

enum {
	T_NULL = 1, T_BOOLEAN = 2, T_OBJECT = 4, T_ARRAY = 8, T_NUMBER = 16, T_STRING = 32,
	T_INTEGER = 64
};

enum { N_MIN, N_MAX, N_XMIN, N_XMAX, N_MULT };

struct prop {
	struct strbuf name;
	struct sch_node *s;
	pcre2_code *re;		/* patternProperties */
};

struct depreq {
	struct strbuf name;
	struct strbuf *req;
	size_t n;
};

struct sch_node {
	size_t res;
	uint32_t tok;
	int boolean;		/* -1: an object schema; 0 false; 1 true */
	struct strbuf path;	/* where the schema is: its resource's URI and a pointer */
	unsigned types;		/* 0: any */
	const char *num[5];
	size_t numlen[5];
	int has_len[2], has_items[2], has_props[2], has_contains[2], unique;
	uint64_t len[2], items_n[2], props_n[2], contains_n[2];
	pcre2_code *pattern;
	struct prop *props, *pats, *depschemas;
	size_t nprops, npats, ndepschemas;
	struct sch_node *additional, *names, *items, *contains, *not_, *if_, *then_, *else_;
	struct sch_node *more_items;	/* draft-07 additionalItems after an items array */
	struct sch_node *uneval_props, *uneval_items;
	struct sch_node **prefix, **all, **any, **one;
	size_t nprefix, nall, nany, none;
	struct strbuf *required;
	size_t nrequired;
	struct depreq *depreq;
	size_t ndepreq;
	uint32_t enum_tok, const_tok;	/* in the node's resource */
	int has_enum, has_const;
	char *ref;		/* absolute URI of $ref, resolved when first used */
	struct sch_node *ref_node;
	char *dynref;		/* absolute URI of $dynamicRef */
	struct sch_node *dyn_node;	/* its initial target */
	const char *base;	/* the URI of the schema resource this schema is in (interned) */
	char *format;
	format_fn format_fn;	/* its check (lib/format), NULL when not known */
};

/* One step of the instance location: a member name or an array index. */
struct seg {
	const char *name;	/* NULL for an index */
	size_t n;		/* name length, or the index */
};

/* What validation reuses from one instance to the next. */
struct sch_vstate {
	struct seg *segs;
	size_t asegs;
	const char **scope;
	size_t ascope;
	pcre2_match_data *md;	/* for every pattern: only whether it matches counts */
};

/* A compilation: the schema set and where its first failure goes. */
struct comp {
	struct sch *s;
	struct aperr *e;
};

/* schema.c */
/* Free node n and what it owns (not the nodes it points to). */
void sch_node_free(struct sch_node *n);
/* RFC 3986 section 5.2 for the URIs schemas use: ref against base into out (reset). */
void sch_uri_resolve(const char *base, const char *ref, struct strbuf *out);
/* The registered location of uri[0..n), or NULL. */
const struct sch_reg *sch_reg_find(const struct sch *s, const char *uri, size_t n);
/* The string member key of object tok, decoded into out: 1 present, 0 not. */
int sch_str_member(const struct json_doc *d, uint32_t tok, const char *key, struct strbuf *out);

/* schemacomp.c */
/* The schema an absolute URI names, compiled on first use (n: the referring schema). */
struct sch_node *sch_resolve(struct sch *s, const struct sch_node *n, const char *uri,
			     struct aperr *e);
/* The schema n's $ref names, compiled on first use. */
struct sch_node *sch_target(struct sch *s, struct sch_node *n, struct aperr *e);

#endif
