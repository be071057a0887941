/*
 * check — what a check is: the stages of the SMTP transaction it looks
 * at, and what it does at each. A check reads the transaction
 * (struct check_txn), adds findings (finding.h) and may keep working
 * after a stage returns: it takes a hold (pipeline_hold) saying by which
 * stage its work must be done, and releases it from its own callback.
 * So iprev starts at CONNECT and is needed only at EOM; SPF starts at
 * MAIL and a greylist can still ask for it at RCPT.
 *
 * A check never talks SMTP and knows nothing of the session: the same
 * checks run in the server and in `netjes analyze`, which drives the
 * stages itself from a message file.
 */
#ifndef NETJES_FILTER_CHECK_H
#define NETJES_FILTER_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "core/ip.h"

struct check_facts;
struct pipeline;

enum check_stage {
	CHECK_CONNECT = 0,	/* the client's address is known */
	CHECK_HELO,		/* EHLO/HELO given */
	CHECK_MAIL,		/* MAIL FROM given */
	CHECK_RCPT,		/* one more RCPT TO (the last in rcpts) */
	CHECK_HEADERS,		/* the header section is in */
	CHECK_EOM,		/* the whole message is in */
	CHECK_NSTAGES
};

#define CHECK_AT(stage)	(1u << (stage))

/* What the checks may read; the driver fills each part as its stage
 * comes, and it stays valid (and unchanged) until the transaction ends. */
struct check_txn {
	struct ip_addr		 ip;
	const char		*ip_text;
	const char		*helo;		/* from CHECK_HELO */
	const char		*mail_from;	/* from CHECK_MAIL; "" null */
	const char *const	*rcpts;		/* from CHECK_RCPT */
	size_t			 nrcpts;
	const char		*msg;		/* CRLF; the header section */
	size_t			 header_len;	/* from CHECK_HEADERS */
	size_t			 len;		/* all of it from CHECK_EOM */
	const char		*authserv_id;	/* ours, for A-R */
	const char		*receiver;	/* SPF %{r}; NULL: authserv_id */
	bool			 dmarc_seeded;	/* pct draws from dmarc_seed */
	unsigned long long	 dmarc_seed;	/* (tests), else random */
	const char		*auth_user;	/* logged in as, or NULL */
	bool			 trusted;	/* in trusted_networks */
	bool			 tls;
	long long		 now;		/* the clock; 0: time(NULL) */
};

struct check {
	const char		*name;		/* "spf": log and --json */
	unsigned		 stages;	/* CHECK_AT() bits */
	size_t			 state_size;	/* zeroed for each message */
	/* Look at the transaction at this stage (one of stages). */
	void			(*stage)(struct pipeline *, void *state,
				    enum check_stage);
	/* The transaction is gone: stop what was started. Its holds are
	 * dropped by the pipeline; no callback may touch it afterwards. */
	void			(*cancel)(void *state);
	/* The message's deadline passed: finish now with what is known
	 * (adding findings, e.g. a temperror) and release every hold. */
	void			(*expire)(struct pipeline *, void *state);
	/* Optional: another check finished some work (the facts may have
	 * grown); for a check that builds on others, as DMARC does. */
	void			(*progress)(struct pipeline *, void *state);
};

/* "connect", "helo", "mail", "rcpt", "headers", "eom" */
const char	*check_stage_name(enum check_stage);

/* The length of msg's header section with the empty line after it (all
 * of msg when it has no body): check_txn.header_len. */
size_t		 check_header_len(const char *msg, size_t n);
/*
 * The same as the message grows: *pos is where to resume (0 at first,
 * then what the last call left there: the start of the line not yet
 * complete). true with *pos the header section's length once its empty
 * line is in.
 */
bool		 check_header_end(const char *msg, size_t n, size_t *pos);

#endif
