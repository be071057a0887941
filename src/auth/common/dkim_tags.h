/*
 * dkim_tags — the tag=value list of RFC 6376 section 3.2, shared by the
 * DKIM-Signature header field and the DNS key record (and by ARC).
 *
 * A pure parser: no allocation, no I/O; tags point into the input. It is
 * strict where the grammar is: tag names are ALPHA *(ALPHA / DIGIT / "_"),
 * compared case-sensitively; values hold only VALCHAR and folding white
 * space; a tag named twice is an error (3.2: "Tags with duplicate names
 * MUST NOT occur"). Values are returned with their surrounding white space
 * removed; white space inside a value is kept (callers whose values may
 * be folded, like b= and h=, skip it themselves). One deliberate
 * tolerance: an empty tag-spec ("a=1;;b=2", or a final ";") is skipped,
 * since it cannot change the meaning of the list. The value decoders at
 * the end (lower case, b=/bh= base64, the h= list) allocate only from
 * the arena they are given.
 */
#ifndef NETJES_AUTH_DKIM_TAGS_H
#define NETJES_AUTH_DKIM_TAGS_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/common/dkim_canon.h"
#include "core/arena.h"

#define DKIM_TAGS_MAX	64

struct dkim_tag {
	const char	*name;
	size_t		 name_len;
	const char	*value;		/* trimmed; may be empty */
	size_t		 value_len;
	size_t		 spec_value_start;	/* offset just after '=' */
	size_t		 spec_value_end;	/* offset of ';' or the end */
};

struct dkim_tags {
	struct dkim_tag	 tag[DKIM_TAGS_MAX];
	size_t		 n;
};

/*
 * Parse p[0..n). 0 on success; -1 on a syntax error, with a reason such
 * as "duplicate tag 'b'" written to why (at most whylen bytes, always
 * NUL-terminated when whylen > 0).
 */
int	dkim_tags_parse(const char *p, size_t n, struct dkim_tags *out,
	    char *why, size_t whylen);

/* The tag with that exact name, or NULL. */
const struct dkim_tag	*dkim_tags_get(const struct dkim_tags *,
			    const char *name);

/* Is the value exactly s (case-sensitive, whole value)? */
bool	dkim_tag_value_is(const struct dkim_tag *, const char *s);

/* The value in lower case, NUL-terminated, from the arena (d= domains
 * are compared and reported that way). */
char	*dkim_tag_lower(struct arena *, const struct dkim_tag *);

/* The base64 value (folding white space skipped), in *out from a: 0, or
 * -1 when it is not base64 or decodes to nothing. */
int	dkim_tag_base64(struct arena *, const struct dkim_tag *,
	    unsigned char **out, size_t *outlen);

/*
 * The h= list: header field names (printable US-ASCII, white space
 * around each dropped) joined by ':', into *h (from a, pointing into the
 * tag) and *nh. 0; -1 on an empty or invalid name; 2 when the name
 * forbidden (when not NULL; any case) is listed; 1 when From is not.
 * The first problem met, in list order, decides.
 */
int	dkim_tag_hnames(struct arena *, const struct dkim_tag *,
	    const char *forbidden, struct dkim_hname **h, size_t *nh);

#endif
