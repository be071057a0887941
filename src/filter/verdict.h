/*
 * verdict — one action for a message from its findings, with the reason
 * that decided it. Pure: no I/O, no clock, no config reading; the caller
 * passes the thresholds.
 *
 * The order, each step in words in the verdict's reason:
 *
 *   1. Our own users (authenticated) and trusted networks are accepted:
 *      their mail is not judged here.
 *   2. Findings may ask for an action whatever the score (DMARC
 *      p=reject, a greylist); the strongest request stands, decided by
 *      the finding that made it.
 *   3. The score (the sum of every finding's score) against the
 *      thresholds: add_header, junk, tempfail, reject (each <= 0: off).
 *      The stronger of 2 and 3 wins; a score decision names the finding
 *      that added most.
 *   4. Exempt recipients (postmaster@, abuse@ and a configured list) are
 *      never refused: a refusal becomes Junk when the score reaches the
 *      junk threshold, else a delivery with the spam headers. RFC 5321
 *      4.5.1 wants postmaster reachable, and abuse@ is where the very
 *      reports about refused mail go.
 *
 * Spam is refused during the SMTP dialogue, never bounced: the only
 * actions are to deliver (maybe to Junk) or to answer 4xx/5xx.
 */
#ifndef NETJES_FILTER_VERDICT_H
#define NETJES_FILTER_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "filter/finding.h"

struct arena;

enum verdict_action {
	VERDICT_ACCEPT = 0,	/* deliver */
	VERDICT_ADD_HEADER,	/* deliver, marked as spam (X-Spam-Flag) */
	VERDICT_JUNK,		/* deliver to the Junk folder, marked */
	VERDICT_TEMPFAIL,	/* 451 4.7.1 */
	VERDICT_REJECT,		/* 550 5.7.1 */
};

/* Score thresholds; a threshold <= 0 is off. */
struct verdict_policy {
	double		 add_header;
	double		 junk;
	double		 tempfail;
	double		 reject;
};

/* The defaults: SpamAssassin's 5 marks, 6 goes to Junk, 15 refuses (as
 * rspamd does), no score-based temporary refusal. */
#define VERDICT_ADD_HEADER_DEFAULT	5.0
#define VERDICT_JUNK_DEFAULT		6.0
#define VERDICT_TEMPFAIL_DEFAULT	0.0
#define VERDICT_REJECT_DEFAULT		15.0

void		 verdict_policy_defaults(struct verdict_policy *);

/* Who the message comes from and goes to, as far as the verdict cares. */
struct verdict_subject {
	const char	*auth_user;	/* logged in as; NULL: not */
	bool		 trusted;	/* client in trusted_networks */
	const char	*exempt_rcpt;	/* an exempt recipient; NULL: none */
};

#define VERDICT_REPLY_MAX	400	/* octets of reply text */

struct verdict {
	enum verdict_action	 action;
	double			 score;
	/* the finding that decided, or NULL (step 1, or nothing stood out) */
	const struct finding	*decider;
	const char		*reason;	/* one sentence, in the arena */
	/* for TEMPFAIL and REJECT: the reply (code, enhanced status, text
	 * of printable ASCII that names the deciding reason) */
	unsigned		 code;
	const char		*status;
	const char		*reply;
};

void		 verdict_decide(const struct findings *,
		    const struct verdict_subject *,
		    const struct verdict_policy *, struct arena *,
		    struct verdict *out);

/*
 * Whether a recipient is never refused: postmaster@ or abuse@ of any
 * domain, or on list (space separated: a local part for any domain, or
 * a whole address; ASCII case-insensitive). list may be NULL.
 */
bool		 verdict_exempt(const char *addr, const char *list);

/* "accept", "add_header", "junk", "tempfail", "reject" */
const char	*verdict_action_name(enum verdict_action);
/* The delivery folder the action means: "Junk" or NULL (the inbox). */
const char	*verdict_folder(enum verdict_action);
/* Whether the message goes in (the SMTP reply is 250). */
bool		 verdict_delivers(enum verdict_action);

#endif
