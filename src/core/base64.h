/*
 * base64 — RFC 4648 section 4 encoding and decoding.
 *
 * The decoder is strict by default (alphabet, padding, no trailing data)
 * because DKIM's b= and bh=, SASL and key records must reject garbage
 * rather than guess; BASE64_IGNORE_WS skips folding whitespace, which
 * DKIM tag values may contain (RFC 6376 3.5).
 */
#ifndef NETJES_CORE_BASE64_H
#define NETJES_CORE_BASE64_H

#include <stddef.h>

#include "core/buf.h"

#define BASE64_IGNORE_WS	0x01	/* skip SP, HTAB, CR, LF */

size_t	 base64_encoded_len(size_t n);	/* without NUL */
/* Appends the encoding of p[0..n) to out. */
void	 base64_encode(const void *p, size_t n, struct buf *out);
/* Appends the decoded bytes to out; 0, or -1 on bad input (out is then
 * restored to its length before the call). Strict: padding is required
 * (unpadded input is an error), '=' only ends the last quantum, unused
 * bits before the padding must be zero, and any byte outside the
 * alphabet is an error unless it is whitespace skipped under
 * BASE64_IGNORE_WS. Empty input decodes to nothing. */
int	 base64_decode(const char *s, size_t n, unsigned flags,
	    struct buf *out);

#endif
