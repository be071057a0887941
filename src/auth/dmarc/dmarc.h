/*
 * dmarc — Domain-based Message Authentication, Reporting and Conformance
 * (RFC 7489), evaluation for one message.
 *
 * Given the From result (msg/from.h), the SPF outcome for MAIL FROM and
 * the DKIM results, dmarc_check_start() discovers the policy record at
 * _dmarc.<From domain>, then at _dmarc.<organizational domain> (found with
 * the public suffix list through libpsl, private entries included; 3.2,
 * 6.6.3), checks identifier alignment (3.1, relaxed or strict for SPF
 * and DKIM each), and decides the result and the policy to apply: p, sp
 * for subdomains, np for non-existent subdomains (DMARCbis; a subdomain
 * is non-existent when A, AAAA and MX all come back NXDOMAIN or NODATA),
 * and pct sampling (6.6.4: a message not sampled gets the next less
 * strict policy). DNS trouble is temperror, never a permanent verdict.
 *
 * The outcome keeps what an aggregate report needs later: source IP,
 * header_from, envelope_from, the SPF and DKIM results with their
 * domains, and the disposition.
 */
#ifndef NETJES_AUTH_DMARC_H
#define NETJES_AUTH_DMARC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/common/dkim.h"
#include "auth/dmarc/dmarc_record.h"
#include "auth/spf/spf.h"
#include "core/arena.h"
#include "core/ip.h"
#include "dns/dns.h"
#include "msg/from.h"

struct event_base;
struct dkim_sig_result;

enum dmarc_result {
	DMARC_RESULT_NONE = 0,	/* no policy published */
	DMARC_RESULT_PASS,
	DMARC_RESULT_FAIL,
	DMARC_RESULT_TEMPERROR,
	DMARC_RESULT_PERMERROR,
};

/* Which tag chose the requested policy. */
enum dmarc_policy_source {
	DMARC_FROM_NONE = 0,	/* no policy */
	DMARC_FROM_P,
	DMARC_FROM_SP,
	DMARC_FROM_NP,
};

struct dmarc_request {
	struct ip_addr			 ip;	/* source IP, for reports */
	const struct from_result	*from;
	/* The SPF outcome for the MAIL FROM identity (for the null sender
	 * it is the HELO domain's, as spf.h checks it); NULL: no SPF. */
	const struct spf_outcome	*spf;
	const char			*envelope_from;	/* "" null sender */
	const struct dkim_sig_result	*dkim;
	size_t				 ndkim;
	/* pct sampling: when seeded, the draw is a pure function of seed
	 * (tests); otherwise random. */
	bool				 seeded;
	uint64_t			 seed;
	/* SPF and DKIM come later, through dmarc_check_provide(): the
	 * record lookup starts now, alongside them. */
	bool				 deferred;
};

struct dmarc_dkim_fact {
	const char		*domain;	/* d= */
	const char		*selector;
	enum dkim_result	 result;
	bool			 aligned;
};

struct dmarc_outcome {
	enum dmarc_result	 result;
	const char		*reason;	/* for a person */
	const char		*header_from;	/* From domain, or NULL */
	const char		*envelope_from;	/* MAIL FROM domain ("" null) */
	const char		*org_domain;	/* of header_from */
	const char		*record_domain;	/* where the record was */
	const char		*record_text;	/* as published, or NULL */
	struct dmarc_record	 record;	/* valid when record_text */
	struct ip_addr		 ip;

	/* SPF as DMARC saw it */
	enum spf_result		 spf_result;
	const char		*spf_domain;
	bool			 spf_aligned;	/* pass and aligned */
	/* DKIM, every signature */
	struct dmarc_dkim_fact	*dkim;
	size_t			 ndkim;
	bool			 dkim_aligned;	/* some pass is aligned */

	/* Policy: requested by the record (by p, sp or np), as it would
	 * apply to this message (evaluated: none on pass), and after pct
	 * sampling (applied). */
	enum dmarc_policy	 requested;
	enum dmarc_policy_source policy_source;
	enum dmarc_policy	 evaluated;
	enum dmarc_policy	 applied;
	bool			 sampled_out;	/* pct kept the policy off */
	bool			 nonexistent;	/* subdomain had no A/AAAA/MX */
};

typedef void dmarc_done_cb(const struct dmarc_outcome *, void *arg);

struct dmarc_check;

/* Strings in the outcome come from out; the request's pointers need
 * only live until the call returns. The callback runs once from the
 * loop, never from inside this call. */
struct dmarc_check *dmarc_check_start(struct event_base *,
	    struct dns_resolver *, const struct dmarc_request *,
	    struct arena *out, dmarc_done_cb *, void *arg);
void	 dmarc_check_cancel(struct dmarc_check *);
/* The SPF outcome and DKIM results of a deferred check (pointers need
 * only live until the call returns); the callback runs from the loop. */
void	 dmarc_check_provide(struct dmarc_check *,
	    const struct spf_outcome *, const struct dkim_sig_result *,
	    size_t ndkim);
/* The message's DNS deadline passed: a record lookup still out ends in
 * temperror (why); A/AAAA/MX still out count as existing. The callback
 * runs now when SPF and DKIM are in, else once they are provided. */
void	 dmarc_check_expire(struct dmarc_check *, const char *why);

/* The organizational domain (RFC 7489 3.2) of a lowercase domain,
 * from the arena; the domain itself when it is a public suffix or
 * libpsl cannot tell. */
const char	*dmarc_org_domain(const char *domain, struct arena *);
/* Identifier alignment of two domains (3.1.1, 3.1.2). */
bool		 dmarc_aligned(const char *a, const char *b,
		    enum dmarc_align);

const char	*dmarc_result_name(enum dmarc_result);

#endif
