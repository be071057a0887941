/*
 * spf — Sender Policy Framework evaluation, RFC 7208 check_host()
 * (sections 2.3-2.4, 4, 5, 6, 8, 9).
 *
 * An evaluation is a small state machine driven by DNS answers on the
 * libevent loop: it never blocks, keeps at most one lookup outstanding,
 * and the SMTP server can run as many at once as it has sessions. Start
 * one with spf_check_start(); the callback runs once, from the loop,
 * with the outcome, after which the check frees itself. Cancel a check
 * that is still running (the session went away) with spf_check_cancel().
 *
 * The outcome is data, like every finding in netjes: the result, the
 * directive that decided it, the explanation, the counts, and a human
 * reason. spf_render_received_spf() and spf_render_authres() turn it
 * into header text; the outcome also carries both, rendered once.
 */
#ifndef NETJES_AUTH_SPF_H
#define NETJES_AUTH_SPF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/ip.h"
#include "dns/dns.h"

struct event_base;

#define SPF_LOOKUP_LIMIT	10	/* DNS-querying terms, 4.6.4 */
#define SPF_VOID_LIMIT		2	/* void lookups, 4.6.4 */
#define SPF_MX_LIMIT		10	/* MX names per mx term, 4.6.4 */

enum spf_result {
	SPF_RESULT_NONE = 0,
	SPF_RESULT_NEUTRAL,
	SPF_RESULT_PASS,
	SPF_RESULT_FAIL,
	SPF_RESULT_SOFTFAIL,
	SPF_RESULT_TEMPERROR,
	SPF_RESULT_PERMERROR,
};

enum spf_identity {
	SPF_IDENTITY_MAILFROM,	/* RFC 7208 2.4 */
	SPF_IDENTITY_HELO,	/* RFC 7208 2.3 */
};

struct spf_request {
	struct ip_addr		 ip;		/* the SMTP client */
	/* MAIL FROM address without brackets; NULL or "" is the null
	 * sender, checked as postmaster@helo (2.4). */
	const char		*sender;
	const char		*helo;		/* as given in HELO/EHLO */
	const char		*receiver;	/* our name, for %{r} */
	enum spf_identity	 identity;
	/* What-if: evaluate this text as the checked domain's record
	 * instead of looking it up. NULL: look it up. */
	const char		*record;
	long long		 now;		/* %{t}; 0: time(NULL) */
};

struct spf_outcome {
	enum spf_result		 result;
	enum spf_identity	 identity;
	struct ip_addr		 ip;		/* as evaluated (unmapped) */
	const char		*domain;	/* the checked domain */
	const char		*sender;	/* the <sender> used */
	const char		*helo;
	const char		*receiver;	/* NULL when not given */
	/* The directive that decided ("-all", "include:x"), "default"
	 * when no mechanism matched, NULL when no record was evaluated. */
	const char		*mechanism;
	const char		*explanation;	/* fail only, else NULL */
	const char		*reason;	/* why, for a person */
	unsigned		 lookups;	/* DNS-querying terms used */
	unsigned		 void_lookups;
	const char		*received_spf;	/* "Received-SPF: ..." */
	const char		*authres;	/* "spf=pass smtp.mailfrom=..." */
};

typedef void spf_done_cb(const struct spf_outcome *, void *arg);

struct spf_check;

/*
 * Start check_host() for req through resolver. The outcome's strings
 * come from out (the caller's, say the transaction's, arena) and live as
 * long as it does; the check's own memory is freed when it finishes.
 * The callback never runs from inside this call.
 */
struct spf_check *spf_check_start(struct event_base *,
	    struct dns_resolver *, const struct spf_request *,
	    struct arena *out, spf_done_cb *, void *arg);
/* Stop a running check: no callback, nothing left behind. */
void	 spf_check_cancel(struct spf_check *);
/* Stop waiting (the message's DNS deadline passed): the callback runs
 * now, from here, with temperror and why. */
void	 spf_check_expire(struct spf_check *, const char *why);

const char *spf_result_name(enum spf_result);	/* "pass", ... */

/* "Received-SPF: pass (comment) client-ip=...; ..." (RFC 7208 9.1),
 * one line, no CRLF. */
void	 spf_render_received_spf(const struct spf_outcome *, struct buf *);
/* "spf=pass smtp.mailfrom=user@example.com" (RFC 8601 2.7.2). */
void	 spf_render_authres(const struct spf_outcome *, struct buf *);

#endif
