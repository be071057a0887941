/*
 * dkim_keycache — decoded DKIM keys, shared between verifications.
 *
 * Turning a key record into something OpenSSL can verify with is a pure
 * function of the record's text, and it is not cheap: the tag parse, the
 * base64 and DER decoding, and for RSA the Montgomery set-up of the
 * modulus and a ready verify context cost together about half an RSA-2048
 * verify. So the outcome is kept, keyed by the record's exact bytes: a
 * hit is what parsing the same text again would give, failures and their
 * reasons included.
 *
 * Nothing about DNS is cached here. The verifier still looks the record
 * up for every message (the DNS layer decides how long an answer lives);
 * a changed or revoked record is different text, so it finds a
 * different entry (or none) at once, never a stale key.
 *
 * The cache is bounded (DKIM_KEYCACHE_ENTRIES entries, least recently
 * used out first; records longer than DKIM_KEYCACHE_TEXT_MAX are decoded
 * per call and never kept). It belongs to the thread that calls it, like
 * the SPF record cache: a key is got, used and released on one thread.
 * An entry still held when it is pushed out lives until its release.
 */
#ifndef NETJES_AUTH_DKIM_KEYCACHE_H
#define NETJES_AUTH_DKIM_KEYCACHE_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "auth/common/dkim.h"
#include "auth/common/dkim_key.h"
#include "core/arena.h"
#include "dns/dns.h"

#define DKIM_KEYCACHE_ENTRIES	256
#define DKIM_KEYCACHE_TEXT_MAX	4096

/* Read-only for callers; valid until dkim_keycache_release(). */
struct dkim_keycache_key {
	int			 parse_rc;	/* dkim_key_parse(): 0 or -1 */
	const char		*parse_why;	/* its reason when -1 */
	struct dkim_key_record	 rec;		/* when parse_rc == 0; points
						 * into the entry's copy */
	EVP_PKEY		*pkey;		/* NULL when revoked or not
						 * decodable */
	int			 bits;
	const char		*key_why;	/* why pkey is NULL */
};

/* The decoded record txt[0..n), held once more by the caller. Never NULL. */
const struct dkim_keycache_key *dkim_keycache_get(const char *txt, size_t n);
void	 dkim_keycache_release(const struct dkim_keycache_key *);

/*
 * Does sig verify over the SHA-256 digest md with this key under alg?
 * rsa-sha256: PKCS#1 v1.5; ed25519-sha256: Ed25519 over the digest
 * itself (RFC 8463 3). The OpenSSL contexts are set up on first use and
 * kept with the entry, so a hit pays for the signature check alone.
 * False too when the key does not fit alg or OpenSSL fails.
 */
bool	 dkim_keycache_verify(const struct dkim_keycache_key *, enum dkim_alg,
	    const unsigned char *md, size_t mdlen, const unsigned char *sig,
	    size_t siglen);

/*
 * The key a TXT lookup for name answered, as DKIM and ARC verifiers take
 * it: the first record (of ntxt, each one's strings joined) that parses,
 * held for the caller; or NULL with *err (allocated from a) naming the
 * trouble: the first record's parse failure, no record, or DNS trouble
 * (why: the DNS layer's words), and *temporary telling DNS trouble from
 * a permanent failure.
 */
const struct dkim_keycache_key *dkim_keycache_answer(enum dns_status,
	    const char *const *txt, const size_t *len, size_t ntxt,
	    const char *name, const char *why, struct arena *a,
	    const char **err, bool *temporary);

/* Entries now in the cache of this thread. */
size_t	 dkim_keycache_size(void);
/* Empty this thread's cache (held entries live on until released). */
void	 dkim_keycache_clear(void);

#endif
