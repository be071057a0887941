/*
 * Fuzz target for auth/dkim_verify: a whole message through the verifier,
 * every signature given the same Ed25519 key record, the body fed in
 * chunks. Exercises signature parsing, header selection, canonicalization
 * and the result logic together; sanitizers catch the rest.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/dkim_verify.h"
#include "core/arena.h"
#include "msg/header.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *key =
	    "v=DKIM1; k=ed25519; p=yi50DjK5O9pqbFpNHklsv9lqaS0ArSYu02qp1S0DW1Y=";
	const char *p = (const char *)data;
	struct dkim_verify_options o;
	const struct dkim_sig_result *r;
	struct dkim_verify *v;
	struct arena *a = arena_new(0);
	struct hdr_section hs;
	size_t i, n, off, keylen = strlen(key);

	memset(&o, 0, sizeof(o));
	o.now = 1700000000;
	v = dkim_verify_new(&o);
	hdr_parse(p, size, a, &hs);
	dkim_verify_header(v, p, hs.body_offset);
	for (i = 0; i < dkim_verify_count(v); i++)
		if (dkim_verify_key_name(v, i) != NULL)
			dkim_verify_key(v, i, DNS_OK, &key, &keylen, 1, NULL);
	for (off = hs.body_offset; off < size; off += 7)
		dkim_verify_body(v, p + off, size - off < 7 ? size - off : 7);
	n = dkim_verify_finish(v, &r);
	for (i = 0; i < n; i++)
		if (r[i].result == DKIM_RESULT_NONE ||
		    (r[i].result != DKIM_RESULT_PASS && r[i].reason == NULL))
			abort();
	dkim_verify_free(v);
	arena_free(a);
	return 0;
}
