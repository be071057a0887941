/*
 * Fuzz target for auth/common/dkim_tags. On success every tag's name and value
 * must lie inside the input, names must be unique and well-formed, and
 * values hold no CR/LF at their ends; on failure a reason must be given.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/common/dkim_tags.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct dkim_tags t;
	char why[128];
	size_t i, k;

	if (dkim_tags_parse(p, size, &t, why, sizeof(why)) != 0) {
		if (why[0] == '\0')
			abort();
		return 0;
	}
	for (i = 0; i < t.n; i++) {
		if (t.tag[i].name < p || t.tag[i].name_len == 0 ||
		    t.tag[i].name + t.tag[i].name_len > p + size)
			abort();
		if (t.tag[i].value < p ||
		    t.tag[i].value + t.tag[i].value_len > p + size)
			abort();
		if (t.tag[i].spec_value_start > t.tag[i].spec_value_end ||
		    t.tag[i].spec_value_end > size)
			abort();
		if (t.tag[i].value_len > 0 &&
		    (t.tag[i].value[0] == ' ' || t.tag[i].value[0] == '\r' ||
		    t.tag[i].value[t.tag[i].value_len - 1] == '\n'))
			abort();
		for (k = 0; k < i; k++)
			if (t.tag[k].name_len == t.tag[i].name_len &&
			    memcmp(t.tag[k].name, t.tag[i].name,
			    t.tag[i].name_len) == 0)
				abort();
		if (dkim_tags_get(&t, "v") == NULL && t.tag[i].name_len == 1 &&
		    t.tag[i].name[0] == 'v')
			abort();
	}
	return 0;
}
