/*
 * Fuzz target for auth/dkim_canon, both canonicalizers. Body: feeding the
 * input in 1-byte chunks, or split at a point the input picks, must give
 * the same bytes as feeding it at once, for simple and relaxed; the
 * result ends in CRLF (or, relaxed, is empty) and relaxed output has no
 * white space before a CRLF. Header (for fields as the splitter yields
 * them, CR and LF only in folds): relaxed is idempotent and simple is
 * the identity.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/dkim_canon.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
capture(void *arg, const char *p, size_t n)
{
	buf_append(arg, p, n);
}

static void
body(enum dkim_canon c, const char *p, size_t n, size_t chunk, size_t cut,
    struct buf *out)
{
	struct dkim_body_canon bc;
	size_t i;

	dkim_body_canon_init(&bc, c, capture, out);
	if (chunk == 0) {
		dkim_body_canon_update(&bc, p, cut);
		dkim_body_canon_update(&bc, p + cut, n - cut);
	} else
		for (i = 0; i < n; i += chunk)
			dkim_body_canon_update(&bc, p + i,
			    n - i < chunk ? n - i : chunk);
	dkim_body_canon_final(&bc);
}

static void
check_body(enum dkim_canon c, const char *p, size_t n)
{
	struct buf whole = BUF_INIT, bytes = BUF_INIT, split = BUF_INIT;
	size_t i, cut = n ? (unsigned char)p[0] % (n + 1) : 0;

	body(c, p, n, 0, n, &whole);
	body(c, p, n, 1, 0, &bytes);
	body(c, p, n, 0, cut, &split);
	if (whole.len != bytes.len || whole.len != split.len ||
	    (whole.len && (memcmp(whole.data, bytes.data, whole.len) != 0 ||
	    memcmp(whole.data, split.data, whole.len) != 0)))
		abort();
	if (c == DKIM_CANON_SIMPLE && whole.len < 2)
		abort();
	if (whole.len > 0 && (whole.len < 2 ||
	    memcmp(whole.data + whole.len - 2, "\r\n", 2) != 0))
		abort();
	if (c == DKIM_CANON_RELAXED)
		for (i = 0; i + 2 < whole.len; i++)
			if ((whole.data[i] == ' ' || whole.data[i] == '\t') &&
			    whole.data[i + 1] == '\r' &&
			    whole.data[i + 2] == '\n')
				abort();
	buf_free(&whole);
	buf_free(&bytes);
	buf_free(&split);
}

/* A field as the header splitter gives it: CR and LF only as folds. */
static int
well_formed_field(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r' && i + 2 < n && p[i + 1] == '\n' &&
		    (p[i + 2] == ' ' || p[i + 2] == '\t')) {
			i++;
			continue;
		}
		if (p[i] == '\r' || p[i] == '\n')
			return 0;
	}
	return memchr(p, ':', n) != NULL;
}

static void
check_header(const char *p, size_t n)
{
	struct buf once = BUF_INIT, twice = BUF_INIT;

	if (!well_formed_field(p, n))
		return;
	dkim_canon_header(DKIM_CANON_RELAXED, p, n, false, &once);
	dkim_canon_header(DKIM_CANON_RELAXED, buf_cstr(&once), once.len,
	    false, &twice);
	if (once.len != twice.len ||
	    (once.len && memcmp(once.data, twice.data, once.len) != 0))
		abort();
	buf_reset(&once);
	dkim_canon_header(DKIM_CANON_SIMPLE, p, n, true, &once);
	if (once.len != n + 2 || (n && memcmp(once.data, p, n) != 0))
		abort();
	buf_free(&once);
	buf_free(&twice);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;

	check_body(DKIM_CANON_SIMPLE, p, size);
	check_body(DKIM_CANON_RELAXED, p, size);
	check_header(p, size);
	return 0;
}
