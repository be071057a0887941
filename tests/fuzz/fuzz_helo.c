/*
 * Fuzz target for smtp/helo: any EHLO/HELO argument. Whatever passes
 * must be what the header writers rely on: at most HELO_MAX octets of
 * printable ASCII, a literal in brackets, a domain without them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "smtp/helo.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *arg = (const char *)data, *why = NULL;
	enum helo_kind k = helo_check(arg, size, &why);
	size_t i;

	if (k == HELO_INVALID) {
		if (why == NULL)
			abort();
		return 0;
	}
	if (why != NULL || size == 0 || size > HELO_MAX)
		abort();
	for (i = 0; i < size; i++)
		if (data[i] <= 0x20 || data[i] >= 0x7f)
			abort();
	if ((k == HELO_ADDRESS_LITERAL) !=
	    (data[0] == '[' && data[size - 1] == ']'))
		abort();
	return 0;
}
