/*
 * Fuzz target for msg/from: from_parse_value over arbitrary bytes, and
 * from_parse_header over the same bytes as a header section. An OK
 * outcome must carry one lowercase domain that every mailbox shares; any
 * other outcome a reason and no domain.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "msg/from.h"
#include "msg/header.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(const struct from_result *r)
{
	size_t i;

	if (r->status == FROM_OK) {
		if (r->domain == NULL || r->domain[0] == '\0' ||
		    r->reason != NULL || r->nmailboxes == 0)
			abort();
		for (i = 0; r->domain[i]; i++)
			if (isupper((unsigned char)r->domain[i]))
				abort();
		for (i = 0; i < r->nmailboxes && i < FROM_MAX_MAILBOXES; i++)
			if (strcmp(r->mailboxes[i].domain, r->domain) != 0)
				abort();
	} else if (r->reason == NULL || r->domain != NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	struct from_result r;
	struct hdr_section hs;

	from_parse_value((const char *)data, size, a, &r);
	check(&r);
	hdr_parse((const char *)data, size, a, &hs);
	from_parse_header(&hs, a, &r);
	check(&r);
	arena_free(a);
	return 0;
}
