/*
 * dkim — names of results and algorithms, the shared SHA-256. See
 * dkim.h.
 */
#include "auth/common/dkim.h"

#include <pthread.h>
#include <string.h>

static EVP_MD *dkim_sha256_md;
static pthread_once_t dkim_sha256_once = PTHREAD_ONCE_INIT;

/* Kept for the life of the process: one object, shared, never freed. */
static void
dkim_sha256_fetch(void)
{
	dkim_sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_MD *
dkim_sha256(void)
{
	pthread_once(&dkim_sha256_once, dkim_sha256_fetch);
	return dkim_sha256_md != NULL ? dkim_sha256_md : EVP_sha256();
}

const char *
dkim_result_name(enum dkim_result r)
{
	switch (r) {
	case DKIM_RESULT_NONE:		return "none";
	case DKIM_RESULT_PASS:		return "pass";
	case DKIM_RESULT_FAIL:		return "fail";
	case DKIM_RESULT_NEUTRAL:	return "neutral";
	case DKIM_RESULT_POLICY:	return "policy";
	case DKIM_RESULT_PERMERROR:	return "permerror";
	case DKIM_RESULT_TEMPERROR:	return "temperror";
	}
	return "none";
}

const char *
dkim_alg_name(enum dkim_alg a)
{
	switch (a) {
	case DKIM_ALG_RSA_SHA1:		return "rsa-sha1";
	case DKIM_ALG_RSA_SHA256:	return "rsa-sha256";
	case DKIM_ALG_ED25519_SHA256:	return "ed25519-sha256";
	case DKIM_ALG_UNKNOWN:		break;
	}
	return "unknown";
}

enum dkim_alg
dkim_alg_parse(const char *s, size_t n)
{
	static const struct {
		const char	*name;
		enum dkim_alg	 alg;
	} algs[] = {
		{ "rsa-sha1", DKIM_ALG_RSA_SHA1 },
		{ "rsa-sha256", DKIM_ALG_RSA_SHA256 },
		{ "ed25519-sha256", DKIM_ALG_ED25519_SHA256 },
	};
	size_t i;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strlen(algs[i].name) == n &&
		    memcmp(algs[i].name, s, n) == 0)
			return algs[i].alg;
	return DKIM_ALG_UNKNOWN;
}
