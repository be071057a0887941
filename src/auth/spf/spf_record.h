/*
 * spf_record — the SPF record parser (RFC 7208 sections 4.5, 4.6, 5, 6
 * and the ABNF of section 12).
 *
 * A pure function over the bytes of one TXT record (its strings already
 * joined): it decides whether the record is an SPF record at all (the
 * version test of 4.5), and if so parses every term, checking every
 * domain-spec and macro-string at once, so a syntax error anywhere gives
 * permerror before anything is evaluated (4.6). Nothing is looked up and
 * nothing is expanded here; the terms keep their macro-strings for the
 * evaluator. Memory comes from the caller's arena.
 */
#ifndef NETJES_AUTH_SPF_RECORD_H
#define NETJES_AUTH_SPF_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/ip.h"

enum spf_qualifier {
	SPF_QUAL_PASS,		/* "+" or none */
	SPF_QUAL_FAIL,		/* "-" */
	SPF_QUAL_SOFTFAIL,	/* "~" */
	SPF_QUAL_NEUTRAL,	/* "?" */
};

enum spf_mech_kind {
	SPF_MECH_ALL,
	SPF_MECH_INCLUDE,
	SPF_MECH_A,
	SPF_MECH_MX,
	SPF_MECH_PTR,
	SPF_MECH_IP4,
	SPF_MECH_IP6,
	SPF_MECH_EXISTS,
};

struct spf_mech {
	enum spf_mech_kind	 kind;
	enum spf_qualifier	 qual;
	const char		*text;		/* the directive as written */
	const char		*domain_spec;	/* unexpanded; NULL: absent */
	/* domain_spec is a query name as written: no macro, no final dot,
	 * labels of 1..63, no byte that needs a \DDD escape; it is its
	 * own expansion */
	bool			 plain_name;
	unsigned		 cidr4;		/* a, mx: 32 when absent */
	unsigned		 cidr6;		/* a, mx: 128 when absent */
	struct cidr		 net;		/* ip4, ip6 */
};

struct spf_record {
	struct spf_mech	*mechs;
	size_t		 nmechs;
	const char	*redirect;	/* domain-spec, NULL: absent */
	const char	*exp;		/* domain-spec, NULL: absent */
	bool		 has_all;	/* redirect is then ignored (6.1) */
	size_t		 nunknown;	/* unknown modifiers, ignored */
};

enum spf_parse_result {
	SPF_PARSE_OK = 0,
	SPF_PARSE_NOT_SPF,	/* no "v=spf1" version: not an SPF record */
	SPF_PARSE_ERROR,	/* an SPF record with a syntax error */
};

/* "v=spf1" (any case) followed by a space or the end (RFC 7208 4.5). */
bool	 spf_record_is_spf(const char *p, size_t n);

/*
 * Parse p[0..n). On SPF_PARSE_ERROR *reason (from arena) says what and
 * where, quoting the offending term when it is printable.
 */
enum spf_parse_result spf_record_parse(struct arena *, const char *p,
	    size_t n, struct spf_record *out, const char **reason);

/* "all", "include", ... */
const char *spf_mech_kind_name(enum spf_mech_kind);

/* True when the mechanism costs a DNS-querying term (RFC 7208 4.6.4). */
bool	 spf_mech_queries_dns(enum spf_mech_kind);

/* Check a domain-spec (RFC 7208 7.1): a macro-string with a valid
 * domain-end. 0, or -1 with a static *reason. */
int	 spf_domain_spec_check(const char *s, size_t n, const char **reason);

#endif
