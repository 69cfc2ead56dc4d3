/* libFuzzer target: the archive's manifest reader. */
#include <stddef.h>
#include <stdint.h>

#include "../../lib/archive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct archive_manifest m;
	struct aperr e;

	if (archive_manifest_parse((const char *)data, size, "fuzz", &m, &e) == 0) {
		if (m.good_len > size)
			__builtin_trap();
		archive_manifest_release(&m);
	}
	return 0;
}
