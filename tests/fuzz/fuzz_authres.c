/*
 * Fuzz target for auth/authres: authres_parse and authres_parse_arc over
 * arbitrary bytes. Whatever parses must render, and the rendering must
 * parse again to the same methods, results and property values.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authres.h"
#include "core/arena.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static bool
printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return false;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	struct authres_header h, back;
	const char *why = NULL;
	unsigned inst;
	size_t i, j;

	if (authres_parse((const char *)data, size, a, &h, &why) == 0) {
		struct buf b = BUF_INIT;
		bool clean = printable(h.authserv_id) && h.authserv_id[0];

		for (i = 0; i < h.n && clean; i++)
			for (j = 0; j < h.results[i].nprops; j++)
				if (!printable(h.results[i].props[j].value) ||
				    h.results[i].props[j].value[0] == '\0')
					clean = false;
		authres_render(&h, NULL, &b);
		if (clean) {
			size_t skip = strlen(AUTHRES_FIELD) + 1;

			if (authres_parse(b.data + skip, b.len - skip, a,
			    &back, &why) != 0)
				abort();
			if (back.n != h.n || back.none != h.none)
				abort();
			for (i = 0; i < h.n; i++) {
				if (strcmp(back.results[i].method,
				    h.results[i].method) != 0 ||
				    strcmp(back.results[i].result,
				    h.results[i].result) != 0 ||
				    back.results[i].nprops !=
				    h.results[i].nprops)
					abort();
				for (j = 0; j < h.results[i].nprops; j++)
					if (strcmp(back.results[i].props[j].value,
					    h.results[i].props[j].value) != 0)
						abort();
			}
		}
		buf_free(&b);
	} else if (why == NULL)
		abort();
	(void)authres_parse_arc((const char *)data, size, a, &inst, &h, &why);
	arena_free(a);
	return 0;
}
