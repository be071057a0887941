/*
 * Fuzz target for core/strnum: strnum_decimal over arbitrary bytes and
 * bounds. What it accepts must be what a slow reference reads (digits
 * only, no leading zero, no overflow past the bound) and print back to
 * the same text; what it refuses, the reference refuses too.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strnum.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Digit by digit with 128-bit room: no overflow to get wrong. */
static int
reference(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	unsigned __int128 v = 0;
	size_t i;

	if (n == 0 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > max)
			return -1;
	}
	*out = (uint64_t)v;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t max = UINT64_MAX, got = 0, want = 0;
	char text[32];
	const char *s;
	size_t n;
	int rc;

	/* the first eight bytes, when there are enough, are the bound */
	if (size >= 8) {
		memcpy(&max, data, 8);
		data += 8;
		size -= 8;
	}
	s = (const char *)data;
	n = size;
	rc = strnum_decimal(s, n, max, &got);
	if (rc != reference(s, n, max, &want))
		abort();
	if (rc == 0) {
		if (got != want || got > max)
			abort();
		snprintf(text, sizeof(text), "%" PRIu64, got);
		if (strlen(text) != n || memcmp(text, s, n) != 0)
			abort();
	}
	for (n = 0; n < size; n++)
		if ((strnum_hex_digit(data[n]) >= 0) !=
		    (strchr("0123456789abcdefABCDEF", data[n]) != NULL &&
		    data[n] != '\0'))
			abort();
	return 0;
}
