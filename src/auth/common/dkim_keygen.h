/*
 * dkim_keygen — DKIM key pairs: generate, store, load, publish.
 *
 * Private keys are written as PKCS#8 PEM into a file created with mode
 * 0600 (never over an existing file). The public half becomes the DNS TXT
 * record text "v=DKIM1; k=...; p=...", and dkim_keygen_txt_strings() cuts
 * it into character-strings of at most 255 bytes (RFC 1035 3.3.14) for a
 * zone file. Loading accepts PEM (PKCS#8 or PKCS#1) and, for Ed25519,
 * the raw 32-byte seed in base64 that dkimpy and RFC 8463 examples use.
 */
#ifndef NETJES_AUTH_DKIM_KEYGEN_H
#define NETJES_AUTH_DKIM_KEYGEN_H

#include <stddef.h>

#include <openssl/evp.h>

#include "auth/common/dkim_key.h"
#include "core/buf.h"

/* bits: RSA modulus size (0: 2048); ignored for Ed25519. NULL on error. */
EVP_PKEY	*dkim_keygen_new(enum dkim_key_type, int bits, char *why,
		    size_t whylen);
/* 0 or -1 (with a reason; an existing file is never replaced). */
int		 dkim_keygen_write(EVP_PKEY *, const char *path, char *why,
		    size_t whylen);
EVP_PKEY	*dkim_keygen_load(const char *path, char *why, size_t whylen);
EVP_PKEY	*dkim_keygen_load_mem(const char *p, size_t n, char *why,
		    size_t whylen);
/* Append "v=DKIM1; k=rsa; p=..." for the public half; 0 or -1. */
int		 dkim_keygen_txt(EVP_PKEY *, struct buf *out);
/* Append text as zone-file strings: "..." "..." (each <= 255 bytes). */
void		 dkim_keygen_txt_strings(const char *txt, size_t n,
		    struct buf *out);

#endif
