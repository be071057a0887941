/*
 * Fuzz target for auth/dkim_key: the key-record parser and the decoding
 * of p= into an OpenSSL key (DER parsing of untrusted DNS data).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "auth/dkim_key.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dkim_key_record k;
	EVP_PKEY *pk;
	char why[128];
	int bits;

	if (dkim_key_parse((const char *)data, size, &k, why,
	    sizeof(why)) != 0)
		return 0;
	if (k.p_len > size)
		abort();
	pk = dkim_key_public(&k, &bits, why, sizeof(why));
	if (pk != NULL && bits <= 0)
		abort();
	if (pk != NULL && k.revoked)
		abort();
	EVP_PKEY_free(pk);
	return 0;
}
