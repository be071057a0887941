/*
 * Fuzz target for msg/header. Checks the splitter's promises on any
 * input: fields tile the header section without gaps or overlap, every
 * name and value lies inside its field, and the body offset is where the
 * last field (or the empty line) ends. Any violation aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/arena.h"
#include "msg/header.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct arena *a = arena_new(0);
	struct hdr_section hs;
	const struct hdr_field *f;
	size_t i, pos = 0;

	hdr_parse(p, size, a, &hs);
	for (i = 0; i < hs.n; i++) {
		f = &hs.fields[i];
		if (f->start != pos || f->end <= f->start || f->end > size)
			abort();
		if (f->name < p + f->start ||
		    f->name + f->name_len > p + f->end ||
		    f->value < p + f->start ||
		    f->value + f->value_len > p + f->end)
			abort();
		pos = f->end;
	}
	if (hs.body_offset > size || hs.body_offset < pos)
		abort();
	if (!hs.complete && hs.body_offset != size)
		abort();
	arena_free(a);
	return 0;
}
