/*
 * sender_auth — which sender addresses a logged-in user may use.
 *
 * A user who authenticated (SMTP AUTH) may send as their own address,
 * its subaddresses (user+tag, and user-tag when "-" is a separator, as
 * local delivery understands them) and any alias that delivers to
 * them. A domain's catch-all grants nothing: it would make every
 * address of the domain the catch-all user's. Used for the envelope
 * sender at MAIL (553 5.7.1) and for every From: mailbox at the end of
 * DATA (550 5.7.1).
 *
 * Pure: no I/O, the recipient table is only read; scratch memory comes
 * from the given arena.
 */
#ifndef NETJES_SMTP_SENDER_AUTH_H
#define NETJES_SMTP_SENDER_AUTH_H

#include <stdbool.h>

struct arena;
struct local_table;

/* True when local@domain belongs to user ("alice@example.test"). local
 * is the semantic form, domain lowercase A-labels. */
bool	sender_auth_owns(const struct local_table *, const char *user,
	    const char *local, const char *domain, struct arena *);

#endif
