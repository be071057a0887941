/*
 * dkim — DomainKeys Identified Mail (RFC 6376, RFC 8301, RFC 8463).
 *
 * The umbrella header: the result and algorithm vocabulary shared by the
 * verifier (dkim_verify.h) and the signer (dkim_sign.h). The parts:
 *   dkim_tags    tag=value lists (signature header, key record)
 *   dkim_key     key records and public keys
 *   dkim_canon   simple/relaxed canonicalization, streaming body hash
 *   dkim_verify  every signature of a message, keys over async DNS
 *   dkim_sign    one signature per signer, dual signing by two signers
 *   dkim_keygen  key pairs, PEM files and the DNS TXT record
 */
#ifndef NETJES_AUTH_DKIM_H
#define NETJES_AUTH_DKIM_H

#include <stddef.h>

/* Per-signature results, with RFC 8601 2.7.1 meanings. */
enum dkim_result {
	DKIM_RESULT_NONE = 0,	/* no signature */
	DKIM_RESULT_PASS,
	DKIM_RESULT_FAIL,	/* bad body hash or signature, expired,
				 * rsa-sha1, RSA key under 1024 bits */
	DKIM_RESULT_NEUTRAL,	/* not processable: unknown a=, c=, q=;
				 * a failure under a testing (t=y) key */
	DKIM_RESULT_POLICY,	/* verifies, but local policy refuses it */
	DKIM_RESULT_PERMERROR,	/* syntax, missing or revoked key, ... */
	DKIM_RESULT_TEMPERROR,	/* DNS trouble: try again later */
};

enum dkim_alg {
	DKIM_ALG_UNKNOWN = 0,
	DKIM_ALG_RSA_SHA1,
	DKIM_ALG_RSA_SHA256,
	DKIM_ALG_ED25519_SHA256,
};

const char	*dkim_result_name(enum dkim_result);
const char	*dkim_alg_name(enum dkim_alg);	/* "rsa-sha256", ... */
enum dkim_alg	 dkim_alg_parse(const char *, size_t);

#include "auth/dkim_canon.h"
#include "auth/dkim_key.h"
#include "auth/dkim_tags.h"

#endif
