/*
 * Fuzz target for auth/common/dkim_canon, both canonicalizers. Body: feeding
 * the input in 1-byte chunks, or split at a point the input picks, must give
 * the same bytes as feeding it at once, for simple and relaxed, and the same
 * bytes as a deliberately plain reference below that works on the whole body
 * a byte at a time (the library's scanning fast paths are checked against
 * it); the result ends in CRLF (or, relaxed, is empty) and relaxed output
 * has no white space before a CRLF. The body hash with an l= limit is the
 * digest of the first l reference bytes. Header: relaxed matches a byte-wise
 * reference for any bytes; for fields as the splitter yields them (CR and LF
 * only in folds) relaxed is idempotent and simple is the identity.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/common/dkim_canon.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
capture(void *arg, const char *p, size_t n)
{
	buf_append(arg, p, n);
}

/*
 * Reference body canonicalization (RFC 6376 3.4.3, 3.4.4), written for
 * obviousness, not speed: split the body into lines at CRLF (a bare CR
 * or LF is an ordinary byte; the last line may lack its CRLF),
 * canonicalize each line and end it with CRLF, then cut off the empty
 * lines at the end. An empty body is one CRLF (simple) or nothing
 * (relaxed).
 */
static void
ref_body(enum dkim_canon c, const char *p, size_t n, struct buf *out)
{
	struct buf all = BUF_INIT;
	size_t i = 0, keep = 0, before;
	bool wsp = false;

	while (i < n) {
		before = all.len;
		wsp = false;
		for (; i < n && !(p[i] == '\r' && i + 1 < n &&
		    p[i + 1] == '\n'); i++) {
			if (c == DKIM_CANON_RELAXED &&
			    (p[i] == ' ' || p[i] == '\t')) {
				wsp = true;
				continue;
			}
			if (wsp)
				buf_append_char(&all, ' ');
			wsp = false;
			buf_append_char(&all, p[i]);
		}
		i += 2;		/* the CRLF, or past the end */
		if (all.len > before)
			keep = all.len + 2;
		buf_append(&all, "\r\n", 2);
	}
	if (keep > 0)
		buf_append(out, all.data, keep);
	else if (c == DKIM_CANON_SIMPLE)
		buf_append(out, "\r\n", 2);
	buf_free(&all);
}

/* Reference relaxed header field: lower-case name without trailing
 * white space, ':', the value unfolded, runs of white space as one SP,
 * none at either end. */
static void
ref_header(const char *p, size_t n, struct buf *out)
{
	const char *colon = memchr(p, ':', n);
	size_t nl = colon ? (size_t)(colon - p) : n, i;
	bool wsp = false, started = false;
	char ch;

	while (nl > 0 && (p[nl - 1] == ' ' || p[nl - 1] == '\t'))
		nl--;
	for (i = 0; i < nl; i++) {
		ch = p[i];
		buf_append_char(out, ch >= 'A' && ch <= 'Z' ?
		    (char)(ch - 'A' + 'a') : ch);
	}
	buf_append_char(out, ':');
	if (colon == NULL)
		return;
	for (i = (size_t)(colon - p) + 1; i < n; i++) {
		if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') {
			i++;
			continue;
		}
		if (p[i] == ' ' || p[i] == '\t') {
			wsp = true;
			continue;
		}
		if (wsp && started)
			buf_append_char(out, ' ');
		wsp = false;
		started = true;
		buf_append_char(out, p[i]);
	}
}

static bool
same(const struct buf *a, const struct buf *b)
{
	return a->len == b->len &&
	    (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
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

/* l=: the body hash with a limit is the digest of the first l canonical
 * bytes; fed split at cut, the limit taken from the input too. */
static void
check_limit(enum dkim_canon c, const char *p, size_t n, size_t cut,
    const struct buf *ref)
{
	struct dkim_body_hash h;
	unsigned char got[EVP_MAX_MD_SIZE], want[EVP_MAX_MD_SIZE];
	unsigned int wl = 0;
	size_t limit = n > 1 ? (unsigned char)p[1] % (ref->len + 2) : 0;
	int gl;

	if (dkim_body_hash_init(&h, c, EVP_sha256(), (int64_t)limit) != 0)
		abort();
	dkim_body_hash_update(&h, p, cut);
	dkim_body_hash_update(&h, p + cut, n - cut);
	gl = dkim_body_hash_final(&h, got);
	if (h.length != ref->len || h.hashed != (limit < ref->len ? limit :
	    ref->len))
		abort();
	dkim_body_hash_free(&h);
	if (EVP_Digest(ref->len ? ref->data : "", h.hashed, want, &wl,
	    EVP_sha256(), NULL) != 1 || gl != (int)wl ||
	    memcmp(got, want, wl) != 0)
		abort();
}

static void
check_body(enum dkim_canon c, const char *p, size_t n)
{
	struct buf whole = BUF_INIT, bytes = BUF_INIT, split = BUF_INIT;
	struct buf ref = BUF_INIT;
	size_t i, cut = n ? (unsigned char)p[0] % (n + 1) : 0;

	body(c, p, n, 0, n, &whole);
	body(c, p, n, 1, 0, &bytes);
	body(c, p, n, 0, cut, &split);
	ref_body(c, p, n, &ref);
	if (!same(&whole, &bytes) || !same(&whole, &split) ||
	    !same(&whole, &ref))
		abort();
	check_limit(c, p, n, cut, &ref);
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
	buf_free(&ref);
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

	dkim_canon_header(DKIM_CANON_RELAXED, p, n, true, &once);
	ref_header(p, n, &twice);
	buf_append(&twice, "\r\n", 2);
	if (!same(&once, &twice))
		abort();
	buf_reset(&once);
	buf_reset(&twice);
	if (!well_formed_field(p, n)) {
		buf_free(&once);
		buf_free(&twice);
		return;
	}
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
