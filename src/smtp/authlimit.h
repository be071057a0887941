/*
 * authlimit — recent SMTP AUTH failures per client address.
 *
 * What Postfix's anvil and OpenSMTPD do for authentication: a small
 * table remembers, per client, how many AUTH attempts failed and when
 * the last one was. The session asks it how long to hold back its next
 * AUTH reply (nothing before the first failure, then the base delay,
 * doubling per failure up to AUTHLIMIT_DELAY_MAX) and whether the
 * client is blocked (max_failures reached), which it answers with 421.
 *
 * A client is an IPv4 address, or the /64 of an IPv6 address: a site
 * gets a whole /64, and a host that rotates its low 64 bits (privacy
 * addresses) must not get a fresh count each time. A v4-mapped IPv6
 * address counts as the IPv4 address.
 *
 * An entry lives until `window` seconds have passed since its last
 * failure: a client that keeps guessing keeps its count, and a blocked
 * one stays blocked for a whole window after its last try. A success
 * clears nothing: behind a shared (NAT) address one user's login must
 * not wipe another client's failures, and an attacker who holds one
 * valid account must not reset the count between guesses at others.
 *
 * Bounded: at most cap entries. A new client takes a free or expired
 * entry, else the one whose last failure is oldest is evicted. Lookups
 * scan the table: cap is small and AUTH failures are rare next to other
 * commands. Pure: no I/O and no clock; every call is given the time
 * (monotonic seconds), so tests drive it with their own clock.
 */
#ifndef NETJES_SMTP_AUTHLIMIT_H
#define NETJES_SMTP_AUTHLIMIT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/ip.h"

#define AUTHLIMIT_DEFAULT_CAP	4096	/* clients remembered */
#define AUTHLIMIT_DELAY_MAX	30.0	/* seconds, the longest delay */

/* From [auth] max_failures, failure_window, failure_delay. */
struct authlimit_rules {
	unsigned	 max_failures;	/* blocked at this many; 0 = never */
	double		 window;	/* seconds after the last failure */
	double		 delay;		/* after the first failure; 0 = none */
};

struct authlimit;

/* NULL when out of memory; cap 0 is taken as 1. */
struct authlimit *authlimit_new(size_t cap);
void		 authlimit_free(struct authlimit *);

/* The failures of ip's client inside the window (0: none, or expired). */
unsigned	 authlimit_failures(const struct authlimit *,
		    const struct authlimit_rules *, const struct ip_addr *,
		    double now);
/* Count one failure of ip's client at now; returns its failures, this
 * one included. */
unsigned	 authlimit_fail(struct authlimit *,
		    const struct authlimit_rules *, const struct ip_addr *,
		    double now);

/*
 * What another MX (through the shared store) knows of ip's client:
 * raise its count to at least count, as of now. Returns its failures.
 */
unsigned	 authlimit_raise(struct authlimit *,
		    const struct authlimit_rules *, const struct ip_addr *,
		    double now, unsigned count);
/* The client as text, the key of the shared count: "192.0.2.1", or
 * "2001:db8:1:2::/64". */
const char	*authlimit_client_text(const struct ip_addr *, char *out,
		    size_t n);

/* A client with this many failures gets no more tries. */
bool		 authlimit_blocked(const struct authlimit_rules *,
		    unsigned failures);
/* Seconds to hold back the next AUTH reply of a client with this many
 * failures: 0, then delay, 2 * delay, 4 * delay ... at most
 * AUTHLIMIT_DELAY_MAX. */
double		 authlimit_delay(const struct authlimit_rules *,
		    unsigned failures);

/* Clients remembered and not expired at now (tests, diagnostics). */
size_t		 authlimit_clients(const struct authlimit *,
		    const struct authlimit_rules *, double now);

#endif
