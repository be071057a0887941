/*
 * checks — every check netjes has, and the list the server and
 * `netjes analyze` run, in that order at each stage. A new check is one
 * file in src/filter/ and one line here.
 */
#ifndef NETJES_FILTER_CHECKS_H
#define NETJES_FILTER_CHECKS_H

#include <stddef.h>

#include "filter/check.h"

/* The authentication checks (RFC 8601 methods) */
extern const struct check check_iprev;		/* check_iprev.c */
extern const struct check check_spf;		/* check_spf.c */
extern const struct check check_dkim;		/* check_dkim.c */
extern const struct check check_dmarc;		/* check_dmarc.c */
extern const struct check check_arc;		/* check_arc.c */

/* Every check, in running order; checks_n entries. */
extern const struct check *const checks_all[];
extern const size_t checks_n;

struct config;
struct verdict_policy;

/* The verdict's thresholds from [verdict]. */
void	 checks_verdict_policy(const struct config *, struct verdict_policy *);

#endif
