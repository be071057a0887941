/*
 * Fuzz target for auth/dmarc/dmarc_record: dmarc_record_parse over arbitrary
 * bytes. A valid record holds a policy and values in range; anything not
 * valid says why.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/dmarc/dmarc_record.h"
#include "core/arena.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	struct dmarc_record r;
	const char *why = NULL;
	enum dmarc_record_status st;

	st = dmarc_record_parse((const char *)data, size, a, &r, &why);
	if (st == DMARC_RECORD_OK) {
		if (r.p == DMARC_POLICY_UNSET || r.p > DMARC_POLICY_REJECT ||
		    r.sp > DMARC_POLICY_REJECT || r.np > DMARC_POLICY_REJECT ||
		    r.pct > 100 || r.nrua > DMARC_MAX_URIS ||
		    r.nruf > DMARC_MAX_URIS || why != NULL)
			abort();
		if (r.rua_fallback && (r.nrua == 0 ||
		    r.p != DMARC_POLICY_NONE))
			abort();
		if (size < 8 || memmem(data, size, "DMARC1", 6) == NULL)
			abort();
	} else if (why == NULL)
		abort();
	arena_free(a);
	return 0;
}
