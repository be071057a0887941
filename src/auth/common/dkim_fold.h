/*
 * dkim_fold — write a tag=value list as a folded header field, the way
 * DKIM-Signature (RFC 6376 3.5), ARC-Message-Signature and ARC-Seal
 * (RFC 8617 4.1) are laid out: tags joined by a space, a fold (CRLF TAB)
 * before a token that would pass column 78, the h= list folded between
 * names and the b= value cut at any point. Output only; the parser is
 * dkim_tags.
 */
#ifndef NETJES_AUTH_DKIM_FOLD_H
#define NETJES_AUTH_DKIM_FOLD_H

#include <stddef.h>

#include "auth/common/dkim_canon.h"
#include "core/buf.h"

#define DKIM_FOLD_WIDTH	78	/* fold before this column */

/* out holds the field so far; col is the column it ends at. */
struct dkim_fold {
	struct buf	*out;
	size_t		 col;
};

/* Append tok; sep is written before it when it fits on the line,
 * otherwise a fold is. */
void	dkim_fold_add(struct dkim_fold *, const char *sep, const char *tok,
	    size_t n);
/* Append one formatted tag ("d=example.com;") after a space or fold. */
void	dkim_fold_tag(struct dkim_fold *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Append "h=a:b:c;", folding between names; nothing when n is 0. */
void	dkim_fold_hlist(struct dkim_fold *, const struct dkim_hname *,
	    size_t n);
/* Append the base64 of sig after a field laid out up to "b=", cut to
 * the width, then the final CRLF. */
void	dkim_fold_b64(struct dkim_fold *, const unsigned char *sig,
	    size_t n);

#endif
