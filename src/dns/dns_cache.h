/*
 * dns_cache — an in-process answer cache in front of any resolver.
 *
 * dns_cache_new() wraps a backend resolver (and takes ownership of it)
 * in another resolver with the same interface: lookups of a (name, type)
 * that was answered recently are answered from memory, on the event-loop
 * thread, without asking the backend; see dns_cache.c for the rules on
 * what is kept and for how long. dns_unbound_new() wraps itself in one
 * when dns_options.cache is set.
 */
#ifndef NETJES_DNS_DNS_CACHE_H
#define NETJES_DNS_DNS_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "dns/dns.h"

#define DNS_CACHE_DEFAULT_ENTRIES	10000
#define DNS_CACHE_DEFAULT_MAX_TTL	3600	/* seconds */
#define DNS_CACHE_DEFAULT_NEG_TTL	60	/* seconds */

/* Milliseconds on a clock that never goes back (tests pass a fake). */
typedef uint64_t dns_cache_clock(void *arg);

struct dns_cache_options {
	size_t		 max_entries;	/* 0: DNS_CACHE_DEFAULT_ENTRIES */
	uint32_t	 max_ttl;	/* cap for answers; 0: default */
	uint32_t	 negative_ttl;	/* NODATA/NXDOMAIN; 0: default */
	dns_cache_clock	*clock;		/* NULL: CLOCK_MONOTONIC */
	void		*clock_arg;
};

struct dns_cache_stats {
	uint64_t	 hits;		/* answered from memory */
	uint64_t	 misses;	/* sent to the backend */
	uint64_t	 coalesced;	/* joined a miss already in flight */
	uint64_t	 evictions;	/* live entries pushed out by the bound */
	size_t		 entries;	/* held now */
};

/* Never NULL; opts may be NULL for the defaults. */
struct dns_resolver	*dns_cache_new(struct dns_resolver *backend,
			    const struct dns_cache_options *opts);
/* Zeroes for a resolver that is not a cache. */
void			 dns_cache_stats(const struct dns_resolver *,
			    struct dns_cache_stats *);

#endif
