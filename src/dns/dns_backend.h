/*
 * dns_backend — what a resolver backend provides to dns.c, and the
 * helpers dns.c offers every backend. Only files in src/dns include this;
 * callers see dns.h alone.
 *
 * A backend's resolver and query structs start with the common struct
 * (struct dns_resolver / struct dns_query as their first member), so
 * dns.c can dispatch through ops and the backend can cast back to its own
 * type. Backends answer through dns_deliver(), which hands the answer to
 * the callback exactly once.
 */
#ifndef NETJES_DNS_DNS_BACKEND_H
#define NETJES_DNS_DNS_BACKEND_H

#include "dns/dns.h"

struct dns_backend_ops {
	const char		*name;
	/* The backend checks names itself (dns_name_valid, refusing with
	 * dns_refuse) where it needs to: dns_query() only trims them. The
	 * cache does, so that a hit skips the check (a name whose key is
	 * known was checked when it was first asked). */
	bool			 checks_names;
	struct dns_query	*(*query)(struct dns_resolver *,
				    const char *name, uint16_t type,
				    dns_cb *, void *);
	void			 (*cancel)(struct dns_query *);
	void			 (*free)(struct dns_resolver *);
};

struct dns_resolver {
	const struct dns_backend_ops	*ops;
	struct event_base		*base;
};

struct dns_query {
	struct dns_resolver	*resolver;
	dns_cb			*cb;
	void			*arg;
	/* NULL: the backend's ops->cancel; set for a refusal (dns_refuse) */
	void			(*cancel)(struct dns_query *);
};

/* A fresh answer (own arena) for qname (a final dot is dropped). */
struct dns_answer	*dns_answer_new(const char *qname, uint16_t type,
			    enum dns_status, const char *why);

/* Refuse a name that is not valid (dns_name_valid): the callback gets
 * DNS_ERROR from the loop. The handle returned can be cancelled like any
 * query: the caller may be freed before the loop turns. */
struct dns_query	*dns_refuse(struct dns_resolver *, const char *name,
			    uint16_t type, dns_cb *, void *);

/* Run cb(answer, arg) from the loop soon, never from here. Used for
 * queries that could not be started; the callback owns the answer. */
void			 dns_answer_defer(struct event_base *,
			    struct dns_answer *, dns_cb *, void *);

/* Deep-copy one record's data into another arena. */
void			 dns_rr_copy(struct arena *, struct dns_rr *dst,
			    const struct dns_rr *src);

#endif
