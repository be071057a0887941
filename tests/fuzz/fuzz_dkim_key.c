/*
 * Fuzz target for auth/common/dkim_key and auth/common/dkim_keycache: the
 * key-record parser and the decoding of p= into an OpenSSL key (DER parsing
 * of untrusted DNS data); then the same text through the key cache, which
 * must give exactly what a fresh parse and decode give, and the same entry
 * when asked again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/common/dkim_key.h"
#include "auth/common/dkim_keycache.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The cache's answer for txt against a fresh parse and decode. */
static void
check_cache(const char *txt, size_t size, int rc, EVP_PKEY *pk, int bits)
{
	const struct dkim_keycache_key *c, *again;

	c = dkim_keycache_get(txt, size);
	if (c->parse_rc != rc)
		abort();
	if ((c->pkey != NULL) != (pk != NULL))
		abort();
	if (pk != NULL && (c->bits != bits || EVP_PKEY_eq(c->pkey, pk) != 1))
		abort();
	again = dkim_keycache_get(txt, size);
	if ((again == c) != (size <= DKIM_KEYCACHE_TEXT_MAX))
		abort();
	dkim_keycache_release(again);
	dkim_keycache_release(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *txt = (const char *)data;
	struct dkim_key_record k;
	EVP_PKEY *pk = NULL;
	char why[128];
	int bits = 0, rc;

	rc = dkim_key_parse(txt, size, &k, why, sizeof(why));
	if (rc == 0) {
		if (k.p_len > size)
			abort();
		pk = dkim_key_public(&k, &bits, why, sizeof(why));
		if (pk != NULL && (bits <= 0 || k.revoked))
			abort();
	}
	check_cache(txt, size, rc, pk, bits);
	EVP_PKEY_free(pk);
	return 0;
}
