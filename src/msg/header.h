/*
 * header — split an RFC 5322 header section into its fields.
 *
 * hdr_parse() is a pure function over a byte range: it finds where the
 * header section ends (the first empty line) and lists every field with
 * its raw name, its raw value (everything after the colon, folding line
 * breaks included, the final line break excluded) and its exact byte
 * range, so DKIM, ARC and DMARC can canonicalize or re-emit the bytes that
 * were really received. It never unfolds, decodes or lowercases anything.
 *
 * Line ends: CRLF is the line end of mail on the wire (RFC 5322 2.1). A
 * bare LF is accepted as a line end too, so files saved by Unix tools can
 * be read by the CLI; such fields are marked HDR_F_BARE_LF and callers
 * that need exact bytes (DKIM) convert the message to CRLF first. A bare
 * CR is an ordinary byte of the line.
 *
 * Malformed lines are kept, not dropped, so byte ranges stay contiguous:
 * a line with no colon (an mbox "From " line, garbage) becomes a field
 * with HDR_F_NO_COLON, and a continuation line before the first field
 * becomes a field with HDR_F_ORPHAN_FOLD. Names holding bytes outside
 * RFC 5322 ftext, or whitespace before the colon (obsolete syntax), are
 * flagged HDR_F_BAD_NAME / HDR_F_OBS_WSP; the name then excludes that
 * whitespace.
 */
#ifndef NETJES_MSG_HEADER_H
#define NETJES_MSG_HEADER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"

#define HDR_F_NO_COLON		0x01	/* not a field: no colon on the line */
#define HDR_F_ORPHAN_FOLD	0x02	/* continuation before any field */
#define HDR_F_BAD_NAME		0x04	/* empty name or bytes outside ftext */
#define HDR_F_OBS_WSP		0x08	/* whitespace between name and colon */
#define HDR_F_BARE_LF		0x10	/* some line of the field ends in LF */
#define HDR_F_NO_EOL		0x20	/* input ended inside the field */

struct hdr_field {
	const char	*name;		/* into the input; no colon */
	size_t		 name_len;
	const char	*value;		/* after the colon, up to the last EOL */
	size_t		 value_len;
	size_t		 start;		/* offset of the first byte */
	size_t		 end;		/* offset after the final line end */
	unsigned	 flags;		/* HDR_F_* */
};

struct hdr_section {
	struct hdr_field	*fields;	/* from the arena, in order */
	size_t			 n;
	size_t			 body_offset;	/* first body byte, or the input
						 * length when there is none */
	bool			 complete;	/* the empty line was seen */
	unsigned		 flags;		/* OR of all field flags, plus
						 * HDR_F_BARE_LF when the empty
						 * line itself was a bare LF */
};

/*
 * Split p[0..n). Always succeeds (malformed input is reported in flags);
 * returns the number of fields. The fields point into p, which must
 * outlive the result.
 */
size_t	hdr_parse(const char *p, size_t n, struct arena *,
	    struct hdr_section *out);

/* Case-insensitive field name comparison (ASCII). */
bool	hdr_name_is(const struct hdr_field *, const char *name);
bool	hdr_name_eq(const char *a, size_t alen, const char *b, size_t blen);

#endif
