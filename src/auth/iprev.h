/*
 * iprev — forward-confirmed reverse DNS of the SMTP client (RFC 8601
 * 2.7.3, RFC 1912 2.1).
 *
 * The PTR names of the client address are looked up, then the A (IPv4)
 * or AAAA (IPv6) records of at most IPREV_MAX_NAMES of them, all in
 * parallel on the event loop. pass: a name maps back to the address
 * (that name is kept: the SMTP server writes it in Received:). fail: the
 * names do not map back. permerror: no PTR is published. temperror: DNS
 * trouble stood in the way of an answer.
 */
#ifndef NETJES_AUTH_IPREV_H
#define NETJES_AUTH_IPREV_H

#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/ip.h"
#include "dns/dns.h"

struct event_base;

#define IPREV_MAX_NAMES	10

enum iprev_result {
	IPREV_RESULT_NONE = 0,	/* not evaluated */
	IPREV_RESULT_PASS,
	IPREV_RESULT_FAIL,
	IPREV_RESULT_TEMPERROR,
	IPREV_RESULT_PERMERROR,
};

struct iprev_outcome {
	enum iprev_result	 result;
	struct ip_addr		 ip;		/* as evaluated (unmapped) */
	const char		*name;		/* the confirmed name (pass),
						 * else NULL */
	const char		*names[IPREV_MAX_NAMES]; /* PTR names tried */
	size_t			 nnames;
	size_t			 nptr;		/* PTR records published */
	const char		*reason;	/* for a person */
};

typedef void iprev_done_cb(const struct iprev_outcome *, void *arg);

struct iprev_check;

/* Strings in the outcome come from out. The callback runs once, from
 * the loop, never from inside this call; then the check frees itself. */
struct iprev_check *iprev_check_start(struct event_base *,
	    struct dns_resolver *, const struct ip_addr *,
	    struct arena *out, iprev_done_cb *, void *arg);
void	 iprev_check_cancel(struct iprev_check *);
/* Stop waiting (the message's DNS deadline passed): the callback runs
 * now, from here, with temperror and why. */
void	 iprev_check_expire(struct iprev_check *, const char *why);

const char	*iprev_result_name(enum iprev_result);

#endif
