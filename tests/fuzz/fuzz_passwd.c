/*
 * Fuzz target for the passwd-file parser in store/passwd. Checks that
 * every entry points back into the text at its own line, that its user
 * is found again by passwd_list_find() (the first of its spellings), that
 * line numbers only grow, and that no line is both an entry and an
 * error. Any violation aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "store/passwd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct arena *a = arena_new(0);
	struct passwd_list l;
	size_t i, j, nerr;

	nerr = passwd_parse(text, size, a, &l);
	if (nerr != l.nerrors)
		abort();
	for (i = 0; i < l.nentries; i++) {
		const struct passwd_entry *e = &l.entries[i];
		size_t ulen = strlen(e->user);

		if (e->off > size || e->len > size - e->off ||
		    e->pass_off < e->off + ulen + 1 ||
		    e->pass_off + e->pass_len > e->off + e->len)
			abort();
		if (ulen == 0 || ulen > PASSWD_USER_MAX ||
		    memcmp(text + e->off, e->user, ulen) != 0 ||
		    text[e->off + ulen] != ':')
			abort();
		if (e->hash[0] == '\0' || strlen(e->hash) > PASSWD_HASH_MAX ||
		    strlen(e->hash) > e->pass_len)
			abort();
		if (passwd_list_find(&l, e->user) != e)
			abort();
		if (i > 0 && e->line <= l.entries[i - 1].line)
			abort();
		for (j = 0; j < l.nerrors; j++)
			if (l.errors[j].line == e->line)
				abort();
	}
	for (j = 1; j < l.nerrors; j++)
		if (l.errors[j].line <= l.errors[j - 1].line)
			abort();
	arena_free(a);
	return 0;
}
