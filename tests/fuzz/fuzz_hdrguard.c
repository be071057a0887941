/*
 * Fuzz target for smtp/hdrguard: the filter that renames forged
 * Authentication-Results in the header section of untrusted content.
 *
 * Each input is guarded twice: in one piece and cut into pieces whose
 * sizes come from the input's first octet, and the two outputs must be
 * the same (a TCP read boundary never changes what lands in the spool).
 * The output is the input with "X-Forged-" inserted once per renamed
 * AR field and, when the input's second octet is odd (rename_spam),
 * "X-Original-" once per renamed spam verdict field: nothing is lost,
 * nothing else is added. Anything else aborts.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "smtp/hdrguard.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
collect(void *arg, const char *p, size_t n)
{
	buf_append(arg, p, n);
	return 0;
}

static size_t
run(const char *s, size_t n, size_t step, bool spam, size_t *spams,
    struct buf *out)
{
	struct hdrguard g;
	size_t i, k, renamed;

	hdrguard_init(&g, "mx.example.test", collect, out);
	g.rename_spam = spam;
	for (i = 0; i < n; i += k) {
		k = n - i < step ? n - i : step;
		if (hdrguard_feed(&g, s + i, k) != 0)
			abort();
	}
	if (hdrguard_finish(&g) != 0)
		abort();
	renamed = g.renamed;
	*spams = g.renamed_spam;
	hdrguard_free(&g);
	return renamed;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct buf a = BUF_INIT, b = BUF_INIT;
	size_t step = size > 0 ? (size_t)data[0] % 17 + 1 : 1;
	bool spam = size > 1 && (data[1] & 1);
	size_t ra, rb, sa, sb;

	ra = run(s, size, size > 0 ? size : 1, spam, &sa, &a);
	rb = run(s, size, step, spam, &sb, &b);
	if (ra != rb || sa != sb || a.len != b.len ||
	    (a.len > 0 && memcmp(a.data, b.data, a.len) != 0))
		abort();
	if (!spam && sa != 0)
		abort();
	if (a.len != size + ra * strlen("X-Forged-") +
	    sa * strlen("X-Original-"))
		abort();
	if (ra == 0 && sa == 0 && size > 0 && memcmp(a.data, s, size) != 0)
		abort();
	buf_free(&a);
	buf_free(&b);
	return 0;
}
