/*
 * dkim — names of results and algorithms, the shared SHA-256, body hash
 * streams shared between signatures. See dkim.h.
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

enum dkim_alg
dkim_alg_for_key(EVP_PKEY *key, enum dkim_alg alg)
{
	if (alg != DKIM_ALG_UNKNOWN)
		return alg;
	return EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ?
	    DKIM_ALG_ED25519_SHA256 : DKIM_ALG_RSA_SHA256;
}

bool
dkim_alg_fits_key(enum dkim_alg alg, EVP_PKEY *key)
{
	int id = EVP_PKEY_get_base_id(key);

	return (alg == DKIM_ALG_RSA_SHA256 && id == EVP_PKEY_RSA) ||
	    (alg == DKIM_ALG_ED25519_SHA256 && id == EVP_PKEY_ED25519);
}

/* A domain name or selector: dot-separated labels of letters, digits,
 * '-' and '_' (selectors and some d= use underscores). */
bool
dkim_domain_ok(const char *p, size_t n)
{
	size_t i, label = 0;
	unsigned char c;

	if (n == 0 || n > 253)
		return false;
	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

/* A stream no undecided signature needs stops hashing at once. */
void
dkim_body_stream_leave(struct dkim_body_stream *st)
{
	if (--st->users == 0 && st->on) {
		dkim_body_hash_free(&st->h);
		st->on = false;
	}
}

/* The stream for (bc, limit): an existing one, or a new one; NULL if
 * OpenSSL cannot set up the digest. */
struct dkim_body_stream *
dkim_body_stream_join(struct dkim_body_stream *streams, size_t *nstreams,
    enum dkim_canon bc, int64_t limit)
{
	struct dkim_body_stream *st;
	size_t i;

	for (i = 0; i < *nstreams; i++) {
		st = &streams[i];
		if (st->on && st->bc == bc && st->limit == limit) {
			st->users++;
			return st;
		}
	}
	st = &streams[*nstreams];
	if (dkim_body_hash_init(&st->h, bc, dkim_sha256(), limit) != 0)
		return NULL;
	(*nstreams)++;
	st->bc = bc;
	st->limit = limit;
	st->users = 1;
	st->on = true;
	return st;
}

/* Finish the stream's digest the first time one of its users asks. */
void
dkim_body_stream_final(struct dkim_body_stream *st)
{
	if (st->final)
		return;
	st->final = true;
	st->dlen = dkim_body_hash_final(&st->h, st->digest);
	st->length = st->h.length;
	dkim_body_hash_free(&st->h);
	st->on = false;
}
