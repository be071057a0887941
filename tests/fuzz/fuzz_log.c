/*
 * Fuzz target for core/log escaping: any bytes from the network. The
 * escaped text holds no control byte, DEL or invalid UTF-8, fits its
 * buffer, and unescapes to exactly the prefix of the input it claims
 * to have written; a quoted value is one token with its quotes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	abort();
}

/* Undoes log_escape() on s into out; returns the length. */
static size_t
unescape(const char *s, unsigned char *out)
{
	size_t o = 0;

	while (*s != '\0') {
		if (*s != '\\') {
			out[o++] = (unsigned char)*s++;
			continue;
		}
		if (s[1] == '"' || s[1] == '\\') {
			out[o++] = (unsigned char)s[1];
			s += 2;
		} else if (s[1] == 'x') {
			out[o++] = (unsigned char)(hexval(s[2]) * 16 +
			    hexval(s[3]));
			s += 4;
		} else
			abort();
	}
	return o;
}

static void
check_bytes(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t sizes[] = { 1, 2, 5, 7, 16, 64, LOG_QUOTE_MAX };
	char out[LOG_QUOTE_MAX];
	unsigned char back[LOG_QUOTE_MAX];
	const char *src = (const char *)data;
	size_t i, done, len;

	for (i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		done = log_escape(out, sizes[i], src, size);
		if (done > size || strlen(out) >= sizes[i])
			abort();
		check_bytes(out);
		if (unescape(out, back) != done ||
		    (done > 0 && memcmp(back, data, done) != 0))
			abort();
		log_quote_len(out, sizes[i], src, size);
		len = strlen(out);
		if (len >= sizes[i])
			abort();
		check_bytes(out);
		if (len > 0 && out[0] == '"' && (len < 2 || out[len - 1] != '"'))
			abort();
	}
	return 0;
}
