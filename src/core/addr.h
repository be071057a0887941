/*
 * addr — email address parsing, RFC 5321 paths and RFC 5322 addr-specs.
 *
 * The parsers are pure: bytes in, a struct mailaddr or a reason out. The
 * local part is kept in its semantic form (quotes removed, quoted-pairs
 * resolved) with a flag saying it must be quoted again when written;
 * the domain is kept lowercased and in A-label (ASCII) form, IDN U-labels
 * converted with libidn2 (IDNA 2008, UTS #46 transitional off). Domain
 * literals ([192.0.2.1], [IPv6:2001:db8::1]) keep their brackets and set
 * ip_literal with the parsed address.
 */
#ifndef NETJES_CORE_ADDR_H
#define NETJES_CORE_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/ip.h"

#define ADDR_LOCAL_MAX	64	/* RFC 5321 4.5.3.1.1 */
#define ADDR_DOMAIN_MAX	255	/* RFC 5321 4.5.3.1.2 */
#define ADDR_PATH_MAX	256	/* RFC 5321 4.5.3.1.3, without brackets */
/* Enough for addr_format() of any struct mailaddr. */
#define ADDR_STRLEN	(2 * ADDR_LOCAL_MAX * 4 + 2 + 1 + ADDR_DOMAIN_MAX + 1)

/* flags */
#define ADDR_ALLOW_UTF8		0x01	/* SMTPUTF8 (RFC 6531) was given */
#define ADDR_ALLOW_NULL		0x02	/* "<>" is a valid reverse-path */
#define ADDR_ALLOW_NO_DOMAIN	0x04	/* "<postmaster>" style, RCPT only */

/*
 * Without ADDR_ALLOW_UTF8 any non-ASCII byte is refused; with it, local
 * parts may hold well-formed UTF-8 and domains U-labels (RFC 6531).
 * The local part is limited to ADDR_LOCAL_MAX octets as received (quotes
 * and backslashes counted). The bare postmaster of ADDR_ALLOW_NO_DOMAIN
 * is matched case-insensitively and stored as local "postmaster" with an
 * empty domain.
 */

struct mailaddr {
	char		 local[ADDR_LOCAL_MAX * 4 + 1];	/* semantic form */
	char		 domain[ADDR_DOMAIN_MAX + 1];	/* A-labels, lowercase;
							 * "" for null and
							 * bare postmaster */
	bool		 is_null;	/* "<>" */
	bool		 local_quoted;	/* not a dot-atom: quote when written */
	bool		 local_utf8;	/* local part has non-ASCII bytes */
	bool		 ip_literal;	/* domain is "[192.0.2.1]" or
					 * "[IPv6:2001:db8::1]", canonical */
	struct ip_addr	 ip;		/* valid when ip_literal */
};

/*
 * RFC 5321 Reverse-path / Forward-path: "<local@domain>", "<>" (with
 * ADDR_ALLOW_NULL), an obsolete source route "<@a,@b:local@domain>" is
 * accepted and dropped (RFC 5321 4.1.2, C). s[0..n) is the path only,
 * without "MAIL FROM:" and without ESMTP parameters. At most
 * ADDR_PATH_MAX octets between the brackets. General address literals
 * ("[tag:content]") are refused.
 * Returns 0, or -1 with *reason (if not NULL) set to a static string;
 * out is zeroed on failure.
 */
int	 addr_parse_path(const char *s, size_t n, unsigned flags,
	    struct mailaddr *out, const char **reason);

/* A bare RFC 5322 addr-spec "local@domain" (no brackets, no display
 * name), held to the RFC 5321 Mailbox grammar: no CFWS, no obsolete
 * forms, at most ADDR_PATH_MAX octets. ADDR_ALLOW_NULL has no effect. */
int	 addr_parse_addrspec(const char *s, size_t n, unsigned flags,
	    struct mailaddr *out, const char **reason);

/* Domain name syntax and IDN: writes the lowercase A-label form.
 * A trailing dot is an error (RFC 5321 domains have none); so are
 * underscores, labels over 63 octets, hyphens at a label's ends, an
 * all-numeric last label, invalid "xn--" labels, and more than
 * ADDR_DOMAIN_MAX octets. Non-ASCII input is always converted here
 * (callers gate it on SMTPUTF8). out is "" on failure. */
int	 addr_domain_to_ascii(const char *s, size_t n, char *out,
	    size_t outlen, const char **reason);

/* "local@domain" with the local part quoted when needed ('"' and '\\'
 * escaped); "" for null. ADDR_STRLEN always suffices; NULL (out set to
 * "" when n > 0) when out is too small. */
const char *addr_format(const struct mailaddr *, char *out, size_t n);

#endif
