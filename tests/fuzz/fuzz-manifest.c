/* libFuzzer target: the archive's manifest reader. */
#include <stddef.h>
#include <stdint.h>

#include "../../lib/archive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m;
	struct aperr e;

	if (manifest_parse((const char *)data, size, "fuzz", &m, &e) == 0) {
		if (m.good_len > size)
			__builtin_trap();
		manifest_release(&m);
	}
	return 0;
}
