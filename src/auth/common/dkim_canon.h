/*
 * dkim_canon — DKIM canonicalization (RFC 6376 3.4) and the body hash.
 *
 * Header fields are canonicalized one at a time from their raw bytes.
 * The body canonicalizer streams: feed it chunks of any size, split
 * anywhere (inside a CRLF, inside a run of white space); it keeps a few
 * bytes of state, never the body. Empty lines are counted, not buffered,
 * and written out only when a non-empty line follows, so "ignore empty
 * lines at the end of the body" costs nothing and needs no look-ahead.
 * Only CRLF ends a line: a bare CR or LF is an ordinary byte, as on the
 * wire. The relaxed canonicalizer also drops white space at the end of an
 * unterminated last line before adding the final CRLF (3.4.4 "ignore all
 * whitespace at the end of lines").
 *
 * dkim_body_hash wraps a canonicalizer around an OpenSSL digest and applies
 * the l= limit (3.5): only the first l canonical octets are hashed.
 */
#ifndef NETJES_AUTH_DKIM_CANON_H
#define NETJES_AUTH_DKIM_CANON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "core/buf.h"
#include "msg/header.h"

enum dkim_canon {
	DKIM_CANON_SIMPLE = 0,
	DKIM_CANON_RELAXED,
};

/* "simple", "relaxed", "relaxed/simple", ...; a missing body part means
 * simple (3.5 c=). 0 or -1. */
int		 dkim_canon_parse(const char *v, size_t n,
		    enum dkim_canon *header, enum dkim_canon *body);
const char	*dkim_canon_name(enum dkim_canon);

/*
 * Append the canonical form of one header field to out. field holds the
 * raw bytes "Name: value" with any folding, without the final CRLF;
 * crlf says whether to end it with CRLF (not for the DKIM-Signature
 * field being signed or verified, 3.7).
 */
void	 dkim_canon_header(enum dkim_canon, const char *field, size_t len,
	    bool crlf, struct buf *out);

/* One name of an h= list, pointing into the list. */
struct dkim_hname {
	const char	*p;
	size_t		 len;
};

/*
 * Append the canonical header fields that h[0..nh) selects (RFC 6376
 * 5.4.2): for each name the last instance not yet selected, counting from
 * the bottom; a name with no instance left selects nothing, which is how
 * oversigning works. The field at index skip (the signature itself) is
 * never selected; pass (size_t)-1 for none.
 */
void	 dkim_canon_headers(enum dkim_canon, const struct hdr_section *,
	    const struct dkim_hname *h, size_t nh, size_t skip,
	    struct buf *out);

typedef void dkim_canon_sink(void *arg, const char *p, size_t n);

struct dkim_body_canon {
	enum dkim_canon	 canon;
	dkim_canon_sink	*sink;
	void		*arg;
	uint64_t	 pending_crlf;	/* line ends not yet written */
	bool		 cr_pending;	/* last byte fed was CR */
	bool		 wsp_pending;	/* relaxed: white space not yet written */
	bool		 any_content;	/* something but line ends written */
	size_t		 stage_len;
	char		 stage[2048];	/* small writes are batched here */
};

void	 dkim_body_canon_init(struct dkim_body_canon *, enum dkim_canon,
	    dkim_canon_sink *, void *arg);
void	 dkim_body_canon_update(struct dkim_body_canon *, const char *p,
	    size_t n);
/* Writes the final line end (and flushes); call once. */
void	 dkim_body_canon_final(struct dkim_body_canon *);

struct dkim_body_hash {
	struct dkim_body_canon	 canon;
	EVP_MD_CTX		*md;
	bool			 limited;
	uint64_t		 limit;		/* l=, when limited */
	uint64_t		 hashed;	/* octets given to the digest */
	uint64_t		 length;	/* canonical body length */
};

/* limit < 0: hash the whole body. 0, or -1 if OpenSSL failed. */
int	 dkim_body_hash_init(struct dkim_body_hash *, enum dkim_canon,
	    const EVP_MD *, int64_t limit);
void	 dkim_body_hash_update(struct dkim_body_hash *, const char *p,
	    size_t n);
/* Finish: out gets the digest (EVP_MAX_MD_SIZE room); its length or -1. */
int	 dkim_body_hash_final(struct dkim_body_hash *, unsigned char *out);
void	 dkim_body_hash_free(struct dkim_body_hash *);

#endif
