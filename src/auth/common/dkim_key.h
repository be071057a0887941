/*
 * dkim_key — the DKIM public key record (RFC 6376 3.6.1, RFC 8463).
 *
 * dkim_key_parse() is pure: it reads the TXT record text (the strings of
 * one record joined) into a struct whose pointers point into the input.
 * It rejects what a verifier must ignore: a v= that is not "DKIM1" or not
 * first, an unknown k=, a missing p=, and an s= that excludes email. A
 * revoked key (empty p=) parses fine and is flagged: it is the verifier
 * that turns it into a result. dkim_key_public() then decodes p= into an
 * OpenSSL key: RSA as SubjectPublicKeyInfo (or bare PKCS#1, which some
 * publishers use), Ed25519 as the raw 32 bytes RFC 8463 prescribes.
 */
#ifndef NETJES_AUTH_DKIM_KEY_H
#define NETJES_AUTH_DKIM_KEY_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

enum dkim_key_type {
	DKIM_KEY_RSA = 1,
	DKIM_KEY_ED25519,
};

struct dkim_key_record {
	enum dkim_key_type	 type;		/* k=, default rsa */
	bool			 allow_sha1;	/* h=, default both */
	bool			 allow_sha256;
	bool			 testing;	/* t=y */
	bool			 strict;	/* t=s: i= domain must equal d= */
	bool			 revoked;	/* p= present and empty */
	const char		*p;		/* base64, may hold FWS */
	size_t			 p_len;
};

/* 0 ok; -1 with a reason in why. */
int	 dkim_key_parse(const char *txt, size_t n, struct dkim_key_record *,
	    char *why, size_t whylen);

/*
 * The public key of a parsed, non-revoked record, or NULL with a reason.
 * *bits receives the key size (RSA modulus bits; 256 for Ed25519).
 */
EVP_PKEY *dkim_key_public(const struct dkim_key_record *, int *bits,
	    char *why, size_t whylen);

const char *dkim_key_type_name(enum dkim_key_type);

#endif
