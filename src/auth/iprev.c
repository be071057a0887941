/*
 * iprev — forward-confirmed reverse DNS (RFC 8601 2.7.3). See iprev.h.
 *
 * States: PTR lookup, then up to IPREV_MAX_NAMES forward lookups at once;
 * the first name whose A/AAAA records hold the client address decides a
 * pass and cancels the rest. A check that cannot start (an address of no
 * known family) finishes from a zero timer, so the callback never runs
 * from inside iprev_check_start().
 */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "auth/iprev.h"

struct iprev_slot {
	struct iprev_check	*c;
	struct dns_query	*q;
	size_t			 idx;
};

struct iprev_check {
	struct dns_resolver	*resolver;
	struct arena		*out;
	iprev_done_cb		*cb;
	void			*cb_arg;
	struct event		*kick;
	struct dns_query	*ptr_q;
	struct iprev_slot	 slot[IPREV_MAX_NAMES];
	size_t			 pending;
	bool			 trouble;	/* a forward lookup failed */
	const char		*trouble_why;
	struct iprev_outcome	 o;
};

const char *
iprev_result_name(enum iprev_result r)
{
	switch (r) {
	case IPREV_RESULT_NONE:		return "none";
	case IPREV_RESULT_PASS:		return "pass";
	case IPREV_RESULT_FAIL:		return "fail";
	case IPREV_RESULT_TEMPERROR:	return "temperror";
	case IPREV_RESULT_PERMERROR:	return "permerror";
	}
	return "unknown";
}

static void
iprev_free(struct iprev_check *c)
{
	size_t i;

	if (c->ptr_q != NULL)
		dns_cancel(c->ptr_q);
	for (i = 0; i < IPREV_MAX_NAMES; i++)
		if (c->slot[i].q != NULL)
			dns_cancel(c->slot[i].q);
	if (c->kick != NULL)
		event_free(c->kick);
	free(c);
}

void
iprev_check_cancel(struct iprev_check *c)
{
	if (c != NULL)
		iprev_free(c);
}

static void
iprev_finish(struct iprev_check *c, enum iprev_result r, const char *why)
{
	c->o.result = r;
	c->o.reason = why;
	c->cb(&c->o, c->cb_arg);
	iprev_free(c);
}

void
iprev_check_expire(struct iprev_check *c, const char *why)
{
	iprev_finish(c, IPREV_RESULT_TEMPERROR, arena_strdup(c->out, why));
}

static bool
trouble(enum dns_status s)
{
	return s == DNS_TIMEOUT || s == DNS_SERVFAIL || s == DNS_ERROR;
}

static void
on_forward(struct dns_answer *ans, void *arg)
{
	struct iprev_slot *s = arg;
	struct iprev_check *c = s->c;
	const char *name = c->o.names[s->idx];
	size_t i;

	s->q = NULL;
	c->pending--;
	if (ans->status == DNS_OK) {
		for (i = 0; i < ans->n; i++) {
			if ((ans->rr[i].type != DNS_T_A &&
			    ans->rr[i].type != DNS_T_AAAA) ||
			    !ip_equal(&ans->rr[i].u.ip, &c->o.ip))
				continue;
			dns_answer_free(ans);
			c->o.name = name;
			iprev_finish(c, IPREV_RESULT_PASS, arena_printf(c->out,
			    "%s maps back to the address", name));
			return;
		}
	} else if (trouble(ans->status) && !c->trouble) {
		c->trouble = true;
		c->trouble_why = arena_printf(c->out, "DNS %s looking up %s",
		    dns_status_name(ans->status), name);
	}
	dns_answer_free(ans);
	if (c->pending > 0)
		return;
	if (c->trouble)
		iprev_finish(c, IPREV_RESULT_TEMPERROR, c->trouble_why);
	else
		iprev_finish(c, IPREV_RESULT_FAIL, arena_printf(c->out,
		    "no name of the address maps back to it (%s%s)",
		    c->o.names[0], c->o.nnames > 1 ? ", ..." : ""));
}

static void
on_ptr(struct dns_answer *ans, void *arg)
{
	struct iprev_check *c = arg;
	char ipbuf[IP_STRLEN];
	uint16_t ftype = c->o.ip.family == AF_INET ? DNS_T_A : DNS_T_AAAA;
	size_t i;

	c->ptr_q = NULL;
	ip_format(&c->o.ip, ipbuf, sizeof(ipbuf));
	if (ans->status == DNS_NXDOMAIN || ans->status == DNS_NODATA) {
		dns_answer_free(ans);
		iprev_finish(c, IPREV_RESULT_PERMERROR, arena_printf(c->out,
		    "no PTR record for %s", ipbuf));
		return;
	}
	if (ans->status != DNS_OK) {
		const char *why = arena_printf(c->out, "DNS %s looking up "
		    "the PTR of %s", dns_status_name(ans->status), ipbuf);

		dns_answer_free(ans);
		iprev_finish(c, IPREV_RESULT_TEMPERROR, why);
		return;
	}
	for (i = 0; i < ans->n; i++) {
		const char *nm;
		size_t len;

		if (ans->rr[i].type != DNS_T_PTR)
			continue;
		c->o.nptr++;
		nm = ans->rr[i].u.name;
		if (nm == NULL || !dns_name_valid(nm) ||
		    c->o.nnames >= IPREV_MAX_NAMES)
			continue;
		len = strlen(nm);
		if (len > 0 && nm[len - 1] == '.')
			len--;
		c->o.names[c->o.nnames++] = arena_strndup(c->out, nm, len);
	}
	dns_answer_free(ans);
	if (c->o.nnames == 0) {
		iprev_finish(c, IPREV_RESULT_PERMERROR, arena_printf(c->out,
		    "no usable PTR record for %s", ipbuf));
		return;
	}
	c->pending = c->o.nnames;
	for (i = 0; i < c->o.nnames; i++) {
		c->slot[i].c = c;
		c->slot[i].idx = i;
		c->slot[i].q = dns_query(c->resolver, c->o.names[i], ftype,
		    on_forward, &c->slot[i]);
	}
}

static void
on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct iprev_check *c = arg;

	(void)fd;
	(void)what;
	iprev_finish(c, IPREV_RESULT_PERMERROR, "not an IP address");
}

struct iprev_check *
iprev_check_start(struct event_base *base, struct dns_resolver *resolver,
    const struct ip_addr *ip, struct arena *out, iprev_done_cb *cb,
    void *arg)
{
	struct iprev_check *c = calloc(1, sizeof(*c));
	char rev[IP_REVLEN];

	if (c == NULL)
		abort();
	c->resolver = resolver;
	c->out = out;
	c->cb = cb;
	c->cb_arg = arg;
	c->o.ip = *ip;
	ip_unmap_v4(&c->o.ip);
	if (ip_reverse_name(&c->o.ip, rev, sizeof(rev)) == NULL) {
		struct timeval now = { 0, 0 };

		c->kick = evtimer_new(base, on_kick, c);
		evtimer_add(c->kick, &now);
		return c;
	}
	c->ptr_q = dns_query(resolver, rev, DNS_T_PTR, on_ptr, c);
	return c;
}
