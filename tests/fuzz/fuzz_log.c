/*
 * Fuzz target for core/log escaping: any bytes from the network. The
 * escaped text holds no control byte, DEL or invalid UTF-8, fits its
 * buffer, and unescapes to exactly the prefix of the input it claims
 * to have written; a quoted value is one token with its quotes. The
 * JSON form of a line holding that value (log_kv_json) carries exactly
 * the value, JSON-escaped, and the pair after it intact.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
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

/* What the JSON form must hold for quoted value q: its content, the
 * text's \" and \\ undone, then '"' and '\' JSON-escaped. */
static void
expected_json(const char *q, struct buf *want)
{
	size_t n = strlen(q), i = 0, end = n;
	char c;

	buf_append_str(want, "\"k\":\"");
	if (n >= 2 && q[0] == '"') {
		i = 1;
		end = n - 1;
	}
	for (; i < end; i++) {
		c = q[i];
		if (c == '\\' && i + 1 < end && (q[i + 1] == '"' ||
		    q[i + 1] == '\\'))
			c = q[++i];
		if (c == '"' || c == '\\')
			buf_append_char(want, '\\');
		buf_append_char(want, c);
	}
	buf_append_str(want, "\",\"other\":\"1\"");
}

static void
check_json(const char *src, size_t size)
{
	char q[LOG_QUOTE_MAX];
	struct buf line = BUF_INIT, got = BUF_INIT, want = BUF_INIT;

	log_quote_len(q, sizeof(q), src, size);
	buf_printf(&line, "k=%s other=1", q);
	log_kv_json(buf_cstr(&line), &got);
	expected_json(q, &want);
	if (strcmp(buf_cstr(&got), buf_cstr(&want)) != 0)
		abort();
	check_bytes(buf_cstr(&got));
	buf_free(&line);
	buf_free(&got);
	buf_free(&want);
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
	check_json(src, size);
	return 0;
}
