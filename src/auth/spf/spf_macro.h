/*
 * spf_macro — SPF macro strings (RFC 7208 section 7): syntax check and
 * expansion.
 *
 * Both functions are pure: bytes in, text or a reason out, memory from
 * the caller's arena, no I/O. Expansion needs facts the evaluator owns;
 * the one that costs DNS lookups, %{p} (the validated PTR name), is not
 * looked up here: the evaluator asks spf_macro_uses_p() first, validates
 * the client's PTR names asynchronously, and passes them in. Without
 * them %{p} expands to "unknown", as RFC 7208 7.3 says for a name that
 * cannot be validated.
 *
 * Three contexts: a domain-spec (no c, r, t; no spaces; the result is a
 * query name, so a final dot goes and an over-long name is cut from the
 * left, RFC 7208 7.3), an explain-string (all letters, spaces allowed),
 * and the value of an unknown modifier (checked, never expanded).
 */
#ifndef NETJES_AUTH_SPF_MACRO_H
#define NETJES_AUTH_SPF_MACRO_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/ip.h"

#define SPF_DOMAIN_MAX		253	/* RFC 7208 7.3 (4.8) */
#define SPF_PTR_NAMES_MAX	10	/* RFC 7208 4.6.4 */

enum spf_macro_kind {
	SPF_MACRO_DOMAIN,	/* domain-spec: macro-string, no c r t */
	SPF_MACRO_EXPLAIN,	/* explain-string: spaces, all letters */
	SPF_MACRO_MODIFIER,	/* unknown-modifier value: macro-string */
};

/* The values the letters stand for (RFC 7208 7.2). */
struct spf_macro_vars {
	const char	*sender;	/* s: local@domain */
	const char	*local;		/* l */
	const char	*sender_domain;	/* o */
	const char	*domain;	/* d: the current domain */
	struct ip_addr	 ip;		/* i, c, v (already unmapped) */
	/* ip as c shows it, worked out once per check; NULL: on demand */
	const char	*ip_text;
	const char	*helo;		/* h */
	const char	*receiver;	/* r: NULL gives "unknown" */
	long long	 now;		/* t: seconds since the epoch */
	/* p: the client's validated PTR names, in DNS order. */
	const char	*const *validated;
	size_t		 nvalidated;
};

/*
 * Check s[0..n) against the grammar of kind. *ends_in_macro (may be
 * NULL) tells whether the last element is a macro-expand, which the
 * domain-spec rule "domain-end" needs. 0, or -1 with a static *reason.
 */
int	 spf_macro_check(const char *s, size_t n, enum spf_macro_kind kind,
	    bool *ends_in_macro, const char **reason);

/* True when s[0..n) holds a %{p} (either case). */
bool	 spf_macro_uses_p(const char *s, size_t n);

/*
 * Expand s[0..n) (kind DOMAIN or EXPLAIN). For DOMAIN the result has no
 * final dot and at most SPF_DOMAIN_MAX bytes. 0 with *out (NUL-
 * terminated, from arena), or -1 with a static *reason when s does not
 * follow the grammar.
 */
int	 spf_macro_expand(struct arena *, const char *s, size_t n,
	    enum spf_macro_kind kind, const struct spf_macro_vars *,
	    char **out, const char **reason);

/*
 * The name %{p} stands for, for the current domain d (RFC 7208 7.3):
 * d itself if validated, else a validated subdomain of d, else the first
 * validated name, else "unknown".
 */
const char *spf_macro_pick_ptr(const struct spf_macro_vars *);

/* True when name equals domain or ends in "." domain, ignoring case and
 * one final dot on either. */
bool	 spf_domain_within(const char *name, const char *domain);

#endif
