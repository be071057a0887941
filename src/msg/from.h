/*
 * from — the RFC 5322 From field, reduced to the one domain DMARC needs.
 *
 * from_parse_value() reads one field value (RFC 5322 3.4 mailbox-list
 * with the obsolete forms of 4.4): display names as atoms, quoted strings
 * and RFC 2047 encoded words, comments nested to any depth, angle
 * addresses, bare addr-specs, group syntax ("team: a@x, b@x;"), and
 * several mailboxes. from_parse_header() looks at every From field of a
 * header section. Either ends in exactly one From domain or in a defined
 * outcome with a reason (RFC 7489 6.6.1): no From, several From fields,
 * mailboxes in different domains, a mailbox with no domain (or an address
 * literal), or a syntax error.
 *
 * Pure: no I/O, every string from the given arena. The domain is
 * lowercase, without a final dot, IDN converted to A-labels.
 */
#ifndef NETJES_MSG_FROM_H
#define NETJES_MSG_FROM_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "msg/header.h"

#define FROM_MAX_MAILBOXES	32	/* kept; more are counted only */

enum from_status {
	FROM_OK = 0,		/* exactly one From domain */
	FROM_MISSING,		/* no From field */
	FROM_MULTIPLE_FIELDS,	/* more than one From field */
	FROM_MULTIPLE_DOMAINS,	/* mailboxes in different domains */
	FROM_NO_MAILBOX,	/* empty, or only empty groups */
	FROM_NO_DOMAIN,		/* a mailbox without a usable domain */
	FROM_SYNTAX,		/* not a mailbox-list */
};

struct from_mailbox {
	const char	*display;	/* decoded display name, or NULL */
	const char	*local;		/* semantic form (quotes removed) */
	const char	*domain;	/* lowercase A-labels; "" when none */
};

struct from_result {
	enum from_status	 status;
	const char		*reason;	/* NULL for FROM_OK */
	const char		*domain;	/* FROM_OK: the From domain */
	struct from_mailbox	*mailboxes;	/* the first ones */
	size_t			 nmailboxes;	/* all mailboxes seen */
	size_t			 nfields;	/* From fields seen */
};

/* One From field value (after the colon, folding allowed). Returns the
 * status, also stored in out. */
enum from_status from_parse_value(const char *p, size_t n, struct arena *,
	    struct from_result *out);
/* Every From field of a header section. */
enum from_status from_parse_header(const struct hdr_section *,
	    struct arena *, struct from_result *out);

const char	*from_status_name(enum from_status);	/* "ok", ... */

#endif
