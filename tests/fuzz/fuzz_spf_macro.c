/*
 * Fuzz target for auth/spf/spf_macro: check and expand arbitrary bytes as a
 * domain-spec and as an explain-string, with sender, domain and HELO
 * values taken from the input too. The check and the expansion must agree
 * on validity; a domain expansion never exceeds 253 bytes and loses its
 * one final dot. Anything else aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "auth/spf/spf_macro.h"
#include "core/arena.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
one(struct arena *a, const char *s, size_t n, enum spf_macro_kind kind,
    const struct spf_macro_vars *v)
{
	const char *why = NULL;
	char *out = NULL;
	int ok_check, ok_expand;
	size_t len;

	ok_check = spf_macro_check(s, n, kind, NULL, &why);
	ok_expand = spf_macro_expand(a, s, n, kind, v, &out, &why);
	if (ok_check != ok_expand)
		abort();
	if (ok_expand != 0)
		return;
	len = strlen(out);
	/* Only one final dot goes, so "x.." stays "x." and stays unusable
	 * instead of turning into a valid name; the length always fits. */
	if (kind == SPF_MACRO_DOMAIN && len > SPF_DOMAIN_MAX)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	struct spf_macro_vars v;
	const char *names[2];
	char *field[4];
	const char *s = (const char *)data;
	size_t i, k = 0, start = 0;

	/* Input: up to four NUL-separated fields (local, domain, helo) and
	 * the macro-string last. */
	for (i = 0; i <= size && k < 3; i++) {
		if (i == size || data[i] == '\0') {
			field[k++] = arena_strndup(a, s + start, i - start);
			start = i + 1;
		}
	}
	while (k < 3)
		field[k++] = arena_strdup(a, "example.com");
	if (start > size)
		start = size;
	memset(&v, 0, sizeof(v));
	v.local = field[0];
	v.domain = field[1];
	v.sender_domain = field[1];
	v.helo = field[2];
	v.sender = arena_printf(a, "%s@%s", field[0], field[1]);
	v.ip.family = (size & 1) ? AF_INET6 : AF_INET;
	for (i = 0; i < 16 && i < size; i++)
		v.ip.a[i] = data[i];
	v.now = 1234567890;
	names[0] = field[2];
	names[1] = field[1];
	v.validated = names;
	v.nvalidated = size % 3;
	if (v.nvalidated > 2)
		v.nvalidated = 2;
	one(a, s + start, size - start, SPF_MACRO_DOMAIN, &v);
	one(a, s + start, size - start, SPF_MACRO_EXPLAIN, &v);
	one(a, s, size, SPF_MACRO_DOMAIN, &v);
	arena_free(a);
	return 0;
}
