/*
 * metaschemas: the JSON Schema draft 2020-12 and draft-07 metaschemas,
 * embedded at build time (tools/embed-metaschemas.sh) from the vendored
 * copies, so a schema's $ref to them resolves without the network.  Their
 * source and license are in the generated file's opening comment and in
 * the copy installed beside the manuals.
 */
#ifndef APIPE_METASCHEMAS_H
#define APIPE_METASCHEMAS_H

#include <stddef.h>

struct sch_builtin {
	const char *path;	/* relative to the metaschema directory */
	const char *text;	/* the file, NUL-terminated */
};

extern const struct sch_builtin sch_builtins[];
extern const size_t sch_nbuiltins;

#endif
