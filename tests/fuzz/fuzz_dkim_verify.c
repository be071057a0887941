/*
 * Fuzz target for auth/dkim/dkim_verify: a whole message through the verifier,
 * every signature given the same Ed25519 key, every second one with t=s
 * (so the i= domain comparison runs on fuzzed tag text), the body fed in
 * chunks. Exercises signature parsing, header selection, canonicalization
 * (body hashes shared between signatures included) and the result logic
 * together; sanitizers catch the rest. The same message then goes in
 * whole through dkim_verify_message(), which splits the header only once:
 * every result and reason must be the same.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/dkim/dkim_verify.h"
#include "core/arena.h"
#include "msg/header.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *keys[] = {
	"v=DKIM1; k=ed25519; p=yi50DjK5O9pqbFpNHklsv9lqaS0ArSYu02qp1S0DW1Y=",
	"v=DKIM1; k=ed25519; t=s; "
	    "p=yi50DjK5O9pqbFpNHklsv9lqaS0ArSYu02qp1S0DW1Y=",
};

static void
give_keys(struct dkim_verify *v)
{
	size_t i, keylen;

	for (i = 0; i < dkim_verify_count(v); i++)
		if (dkim_verify_key_name(v, i) != NULL) {
			keylen = strlen(keys[i % 2]);
			dkim_verify_key(v, i, DNS_OK, &keys[i % 2], &keylen, 1,
			    NULL);
		}
}

static bool
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct dkim_verify_options o;
	const struct dkim_sig_result *r, *w;
	struct dkim_verify *v, *whole;
	struct arena *a = arena_new(0);
	struct hdr_section hs;
	size_t i, n, off;

	memset(&o, 0, sizeof(o));
	o.now = 1700000000;
	v = dkim_verify_new(&o);
	hdr_parse(p, size, a, &hs);
	dkim_verify_header(v, p, hs.body_offset);
	give_keys(v);
	for (off = hs.body_offset; off < size; off += 7)
		dkim_verify_body(v, p + off, size - off < 7 ? size - off : 7);
	n = dkim_verify_finish(v, &r);
	for (i = 0; i < n; i++)
		if (r[i].result == DKIM_RESULT_NONE ||
		    (r[i].result != DKIM_RESULT_PASS && r[i].reason == NULL))
			abort();
	whole = dkim_verify_new(&o);
	dkim_verify_message(whole, p, size);
	give_keys(whole);
	if (dkim_verify_finish(whole, &w) != n)
		abort();
	for (i = 0; i < n; i++)
		if (w[i].result != r[i].result ||
		    !same_str(w[i].reason, r[i].reason) ||
		    !same_str(w[i].domain, r[i].domain) ||
		    w[i].body_length != r[i].body_length)
			abort();
	dkim_verify_free(whole);
	dkim_verify_free(v);
	arena_free(a);
	return 0;
}
