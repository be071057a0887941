/*
 * auth — authenticate one message the way a receiving server must:
 * iprev of the client, SPF for HELO and MAIL FROM, every DKIM signature,
 * DMARC for the From domain, and ARC (through a hook). Everything runs
 * at once on the event loop; DMARC starts when SPF and DKIM are in.
 *
 * The outcome holds each check's own outcome (the findings, with their
 * reasons) and the Authentication-Results header built from them
 * (authres.h). The SMTP session starts a check at end of data and
 * renders the header with authres_render().
 *
 * ARC HOOK. The ARC module plugs in through struct auth_arc_hook, so
 * this layer does not depend on arc/: callers (`netjes auth`, the SMTP
 * session) pass &arc_auth_hook from auth/arc/arc.h in auth_request.arc.
 * The hook validates the chain and hands back one resinfo ("arc=pass
 * ..."), added after DMARC and shown as "arc" in --json.
 */
#ifndef NETJES_AUTH_AUTH_H
#define NETJES_AUTH_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/authres.h"
#include "auth/dkim/dkim_verify.h"
#include "auth/dmarc/dmarc.h"
#include "auth/iprev.h"
#include "auth/spf/spf.h"
#include "core/arena.h"
#include "core/ip.h"
#include "dns/dns.h"
#include "msg/from.h"

struct event_base;
struct json;

/*
 * done: call exactly once, from the event loop (never from inside
 * start), with the resinfo to add ("arc" method; copied by the callee)
 * or NULL when ARC has nothing to say. Its strings may come from out.
 */
typedef void auth_arc_done_cb(void *done_arg,
	    const struct authres_resinfo *arc);

struct auth_arc_hook {
	/* Validate the ARC chain of msg[0..n) (CRLF line ends) as of now
	 * (seconds since the epoch; 0: time(NULL)). Returns a handle for
	 * cancel; NULL means done will never be called and there is no
	 * ARC result. */
	void	*(*start)(struct event_base *, struct dns_resolver *,
		    const char *msg, size_t n, const struct ip_addr *client,
		    long long now, struct arena *out, auth_arc_done_cb *done,
		    void *done_arg);
	/* Stop a running validation: done will not be called. */
	void	 (*cancel)(void *handle);
	/* The message's DNS deadline passed: call done now, from here,
	 * with what is known (missing keys are DNS trouble). */
	void	 (*expire)(void *handle);
};

struct auth_request {
	struct ip_addr		 ip;
	const char		*helo;
	const char		*mail_from;	/* NULL or "": null sender */
	const char		*authserv_id;	/* NULL: "localhost" */
	const char		*receiver;	/* for SPF %{r}; may be NULL */
	const char		*msg;		/* whole message, CRLF */
	size_t			 len;
	const struct auth_arc_hook *arc;	/* NULL: no ARC */
	bool			 dmarc_seeded;	/* see dmarc_request */
	uint64_t		 dmarc_seed;
	long long		 now;		/* the clock of every check (DKIM,
						 * SPF %{t}, ARC); 0: time(NULL) */
	/* One DNS deadline for the whole message, in seconds (<= 0: none):
	 * when it passes, every check still waiting for DNS ends with
	 * temperror and the outcome is delivered with what is known. */
	double			 deadline;
	/* A verifier that has seen the message already (fed while it
	 * streamed in), or NULL; the check takes it over either way. It
	 * keeps the clock it was made with: now above does not reach it. */
	struct dkim_verify	*dkim;
};

struct auth_outcome {
	struct iprev_outcome		 iprev;
	struct spf_outcome		 spf_helo;
	struct spf_outcome		 spf_mailfrom;
	const struct dkim_sig_result	*dkim;	/* valid as the outcome */
	size_t				 ndkim;
	struct from_result		 from;
	struct dmarc_outcome		 dmarc;
	const struct authres_resinfo	*arc;	/* NULL: none */
	struct authres_header		 authres;	/* all of the above */
};

typedef void auth_done_cb(const struct auth_outcome *, void *arg);

struct auth_check;

/* Everything in the outcome comes from out. The callback runs once from
 * the loop, never from inside this call. */
struct auth_check *auth_check_start(struct event_base *,
	    struct dns_resolver *, const struct auth_request *,
	    struct arena *out, auth_done_cb *, void *arg);
void	 auth_check_cancel(struct auth_check *);

/* One JSON object: iprev, spf (mailfrom, helo), dkim (array), dmarc
 * (with policy and disposition), arc, and authentication_results with
 * the given rendered header when it is not NULL. */
void	 auth_outcome_json(const struct auth_outcome *, struct json *,
	    const char *authres_text);

#endif
