/*
 * dkim_sign — add one DKIM-Signature to a message (RFC 6376 5, RFC 8463).
 *
 * Like the verifier, the signer streams: header section first, then the
 * body in chunks, then dkim_sign_finish() returns the complete header
 * field ("DKIM-Signature: ...\r\n", folded under 80 columns) to put on
 * top of the message. Two signers over the same message (one RSA, one
 * Ed25519) give dual signing; put both fields on top.
 *
 * Headers: with no explicit list, the signer signs every field of the
 * default set that the message has, each as often as it occurs, and
 * From once more than it occurs (oversigning: no From can be added
 * later). Trace and transport fields (Return-Path, Received, Bcc,
 * DKIM-Signature, Authentication-Results) are never in the default set.
 */
#ifndef NETJES_AUTH_DKIM_SIGN_H
#define NETJES_AUTH_DKIM_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>

#include "auth/common/dkim.h"
#include "core/buf.h"

struct dkim_sign_options {
	const char	*domain;	/* d= */
	const char	*selector;	/* s= */
	EVP_PKEY	*key;		/* borrowed: RSA or Ed25519 private key */
	enum dkim_alg	 alg;		/* UNKNOWN: from the key's type */
	enum dkim_canon	 header_canon;	/* default (after _init) relaxed */
	enum dkim_canon	 body_canon;
	const char	*headers;	/* "from:to:subject" as h=; NULL: the
					 * default set, From oversigned */
	const char	*identity;	/* i=, or NULL */
	time_t		 now;		/* t=; 0: time(NULL) */
	long		 expire;	/* > 0: x = t + expire */
	bool		 body_length;	/* add l= (weak, RFC 6376 8.2: only for
					 * lists that append footers) */
};

/* The default header set, a NULL-terminated list of names. */
extern const char *const dkim_sign_default_headers[];

void	dkim_sign_options_init(struct dkim_sign_options *);

struct dkim_signer;

/* NULL with a reason when the options cannot work (key type vs alg, ...). */
struct dkim_signer *dkim_sign_new(const struct dkim_sign_options *,
	    char *why, size_t whylen);
void	dkim_sign_free(struct dkim_signer *);
void	dkim_sign_header(struct dkim_signer *, const char *p, size_t n);
void	dkim_sign_body(struct dkim_signer *, const char *p, size_t n);
void	dkim_sign_message(struct dkim_signer *, const char *p, size_t n);
/* Append the signature field to out; 0, or -1 with a reason. */
int	dkim_sign_finish(struct dkim_signer *, struct buf *out, char *why,
	    size_t whylen);

/*
 * The signature primitive on its own, for callers that lay out their own
 * field (ARC): sign the SHA-256 digest md of the canonical header data
 * with key (RSA PKCS#1 v1.5, or Ed25519 over the digest as RFC 8463 3
 * says). sig is replaced by the raw signature. 0, or -1.
 */
int	dkim_sign_digest(EVP_PKEY *key, enum dkim_alg, const unsigned char *md,
	    size_t mdlen, struct buf *sig);

#endif
