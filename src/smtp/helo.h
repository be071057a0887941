/*
 * helo — syntax of the EHLO/HELO argument (RFC 5321 4.1.1.1, 4.1.3).
 *
 * The argument is a Domain or an address literal ("[192.0.2.1]",
 * "[IPv6:2001:db8::1]", a General-address-literal "[tag:content]").
 * helo_check() says which, or why it is neither, from the bytes alone:
 * no DNS, no I/O, no allocation. What passes is printable ASCII of at
 * most HELO_MAX octets, so Received: and Authentication-Results can
 * carry it as it is. Whether a name is plausible (an FQDN, one that
 * resolves, ours) is a policy question for a later layer: "localhost"
 * and bare words pass here.
 */
#ifndef NETJES_SMTP_HELO_H
#define NETJES_SMTP_HELO_H

#include <stddef.h>

#define HELO_MAX	255	/* octets, trailing dot included */
#define HELO_LABEL_MAX	63

enum helo_kind {
	HELO_INVALID = 0,
	HELO_DOMAIN,		/* "mail.example.org", "localhost" */
	HELO_ADDRESS_LITERAL,	/* "[192.0.2.1]", "[IPv6:...]", "[x:y]" */
};

/*
 * Checks arg[0..len) (may hold NULs, which make it invalid). When the
 * answer is HELO_INVALID and reason is not NULL, *reason is a static
 * token for the log ("empty-label", "label-too-long", ...); otherwise
 * it is set to NULL.
 */
enum helo_kind	helo_check(const char *arg, size_t len, const char **reason);

#endif
