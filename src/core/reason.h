/*
 * reason — fill a caller's reason buffer.
 *
 * Parsers and checks say why something failed in words a person reads
 * (STYLE.md 7: errors by kind, with a reason). They write into a buffer
 * the caller owns, which may be absent; this is the one helper for that.
 */
#ifndef NETJES_CORE_REASON_H
#define NETJES_CORE_REASON_H

#include <stddef.h>

/* printf into why[0..whylen); nothing when why is NULL or whylen 0. */
void	reason_set(char *why, size_t whylen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4), nonnull(3)));

#endif
