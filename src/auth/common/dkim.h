/*
 * dkim — DomainKeys Identified Mail (RFC 6376, RFC 8301, RFC 8463).
 *
 * The umbrella header: the result and algorithm vocabulary shared by the
 * verifier (dkim_verify.h) and the signer (dkim_sign.h), and by ARC,
 * which is built from the same parts. In auth/common/, shared with ARC:
 *   dkim_tags     tag=value lists (signature header, key record)
 *   dkim_fold     writing a tag list as a folded header field
 *   dkim_key      key records and public keys
 *   dkim_keycache decoded keys by record text; the signature check
 *   dkim_canon    simple/relaxed canonicalization, streaming body hash
 *   dkim_keygen   key pairs, PEM files and the DNS TXT record
 * In auth/dkim/, DKIM's own:
 *   dkim_verify   every signature of a message, keys over async DNS
 *   dkim_sign     one signature per signer, dual signing by two signers
 */
#ifndef NETJES_AUTH_DKIM_H
#define NETJES_AUTH_DKIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

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
/*
 * SHA-256, fetched from OpenSSL's default provider once per process.
 * EVP_sha256() makes every EVP_DigestInit_ex() fetch it again by name
 * (~25 000 instructions a time with OpenSSL 3.0: more than hashing a
 * short body); a fetched EVP_MD is immutable and safe to share between
 * threads. Never NULL (falls back to EVP_sha256()).
 */
const EVP_MD	*dkim_sha256(void);
const char	*dkim_alg_name(enum dkim_alg);	/* "rsa-sha256", ... */
enum dkim_alg	 dkim_alg_parse(const char *, size_t);
/* The signing algorithm: alg, or for DKIM_ALG_UNKNOWN the one the key's
 * type implies (Ed25519: ed25519-sha256, else rsa-sha256). */
enum dkim_alg	 dkim_alg_for_key(EVP_PKEY *, enum dkim_alg);
/* Can this key sign alg? rsa-sha256 wants RSA, ed25519-sha256 Ed25519;
 * nothing else signs. */
bool		 dkim_alg_fits_key(enum dkim_alg, EVP_PKEY *);
/* A d= domain or s= selector: dot-separated labels of letters, digits,
 * '-' and '_' (selectors and some d= use underscores), at most 253
 * octets, labels of at most 63. */
bool		 dkim_domain_ok(const char *, size_t);

#include "auth/common/dkim_canon.h"
#include "auth/common/dkim_key.h"
#include "auth/common/dkim_tags.h"

/*
 * A body hash shared by every signature with the same body
 * canonicalization and l= (DKIM-Signature and ARC-Message-Signature
 * alike; defined in dkim.c). A verifier keeps an array with room
 * for one stream per signature, joins each signature to a stream while
 * the header is parsed (before any body), feeds the body to the streams
 * that are on, and finishes a stream when its first user asks; a stream
 * every user has left stops hashing. The digest is always SHA-256.
 */
struct dkim_body_stream {
	enum dkim_canon		 bc;
	int64_t			 limit;		/* l=, -1 when absent */
	unsigned		 users;		/* undecided signatures */
	bool			 on;		/* hashing: h is live */
	bool			 final;		/* digest and length are set */
	int			 dlen;		/* digest length, -1: failed */
	unsigned char		 digest[EVP_MAX_MD_SIZE];
	uint64_t		 length;	/* canonical body octets */
	struct dkim_body_hash	 h;
};

/* An existing stream for (bc, limit) with one more user, or a new one at
 * streams[*nstreams]; NULL if OpenSSL cannot set up the digest. */
struct dkim_body_stream *dkim_body_stream_join(struct dkim_body_stream *,
	    size_t *nstreams, enum dkim_canon bc, int64_t limit);
void	 dkim_body_stream_leave(struct dkim_body_stream *);
/* Sets digest, dlen and length, once; later calls do nothing. */
void	 dkim_body_stream_final(struct dkim_body_stream *);

#endif
