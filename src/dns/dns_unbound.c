/*
 * dns_unbound — the libunbound resolver backend on the libevent loop.
 *
 * One ub_ctx per resolver, resolving in a background thread
 * (ub_ctx_async(ctx, 1)); its result pipe (ub_fd) is watched by a
 * persistent EV_READ event that calls ub_process(). libunbound's result
 * callback only parks the answer on the query; a separate "deliver"
 * event hands parked answers to the callers. So user callbacks never
 * run inside ub_process() (where freeing the context would pull the
 * floor away) and never inside dns_query(). Each query has its own
 * timer: when it fires first the query is ub_cancel()led and answered
 * DNS_TIMEOUT.
 *
 * Without a nameserver, unbound is a plain recursive resolver: it
 * starts from the root itself (not from resolv.conf's servers: DNS
 * blocklists refuse queries relayed by public resolvers, and DANE needs
 * answers this process validated), and validates with the root trust
 * anchor of dns-root-data (DNS_ROOT_KEY) when that file is there, so an
 * answer's secure flag means something. Everything a test needs stays
 * off: loopback servers are not asked and private names stay local.
 *
 * A nameserver option becomes a forward zone for "." (ub_ctx_set_fwd,
 * "HOST@PORT"); unbound then asks with RD=1 and takes the reply as
 * final, which also works against an authoritative-only server (tested
 * with nsd: it answers with AA, without RA, and unbound accepts that).
 * That is a test server or a local forwarder, so it gets the "local"
 * settings (also on their own with dns_options.local): loopback servers
 * need "do-not-query-localhost: no", and libunbound answers some names
 * itself from built-in local zones (RFC 6761/6303): "test." would be
 * NXDOMAIN and 127.in-addr.arpa, RFC 1918 and TEST-NET reverse zones
 * empty, without asking anyone. Tests and private setups publish
 * exactly those names, so they are switched off: unblock-lan-zones for
 * the RFC 1918/TEST-NET ones, and ub_ctx_zone_remove() for the rest
 * ("local-zone: test. nodefault" through ub_ctx_set_option has no
 * effect in libunbound 1.17, tested). localhost and onion stay local.
 * A forwarder gets no trust anchor unless one is given: a test server
 * cannot prove the root's keys, and every answer would be bogus.
 * dns_unbound_settings() lists what a context gets.
 *
 * unbound remembers servers that did not answer (infra cache) and backs
 * off from them; "infra-keep-probing: yes" keeps it asking instead of
 * failing fast, and a small "infra-host-ttl" lets that memory fade, so
 * a server that was down for one lookup does not poison the next one in
 * the same process (tested: a blackholed server that starts answering,
 * and a port nobody listened on that nsd then takes, both answer at the
 * next lookup). Our own timer, not unbound's retry schedule, bounds how
 * long a caller waits. A SERVFAIL from upstream is cached by unbound for
 * about 5 seconds: the same (name, type) keeps failing that long.
 * dns_options.cache = false only shrinks the message cache to its
 * minimum; libunbound has no switch to turn caching off entirely.
 * dns_options.cache = true also puts dns_cache in front (the resolver
 * returned is then the cache's), because even a libunbound cache hit
 * is a round trip to its resolver thread.
 */
#include <arpa/inet.h>
#include <event2/event.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unbound.h>
#include <unistd.h>

#include "dns/dns.h"
#include "dns/dns_backend.h"
#include "dns/dns_cache.h"
#include "dns/dns_rdata.h"

#define UR_DEFAULT_TIMEOUT	5.0
#define UR_CLASS_IN		1

enum ur_state {
	UR_PENDING,	/* asked; waiting for unbound or the timer */
	UR_DONE,	/* answer parked; waiting for the deliver event */
};

struct ur_query;

struct ur_resolver {
	struct dns_resolver	 common;	/* first: see dns_backend.h */
	struct ub_ctx		*ctx;
	struct event		*fd_ev;		/* ub_fd readable */
	struct event		*deliver_ev;	/* hands parked answers out */
	struct timeval		 timeout;
	struct ur_query		*queries;
	bool			 delivering;	/* inside a user callback */
	bool			 dying;		/* freed while delivering */
};

struct ur_query {
	struct dns_query	 common;	/* first: see dns_backend.h */
	struct ur_resolver	*ur;
	enum ur_state		 state;
	int			 async_id;
	struct event		*timer;
	struct dns_answer	*answer;	/* when UR_DONE */
	char			 name[DNS_NAME_WIRE_MAX + 1];
	uint16_t		 type;
	struct ur_query		*next, **prevp;
};

/* ---- query list ---------------------------------------------------- */

static void
ur_link(struct ur_resolver *ur, struct ur_query *q)
{
	q->next = ur->queries;
	q->prevp = &ur->queries;
	if (q->next != NULL)
		q->next->prevp = &q->next;
	ur->queries = q;
}

static void
ur_unlink(struct ur_query *q)
{
	*q->prevp = q->next;
	if (q->next != NULL)
		q->next->prevp = q->prevp;
}

/* Forget a query without calling back: unlink, stop, free. */
static void
ur_drop(struct ur_query *q)
{
	ur_unlink(q);
	if (q->state == UR_PENDING)
		ub_cancel(q->ur->ctx, q->async_id);
	event_free(q->timer);
	dns_answer_free(q->answer);
	free(q);
}

/* Hand q's answer to its caller and forget q. */
static void
ur_finish(struct ur_query *q, struct dns_answer *ans)
{
	dns_cb *cb = q->common.cb;
	void *arg = q->common.arg;

	ur_unlink(q);
	event_free(q->timer);
	free(q);
	cb(ans, arg);
}

/* ---- answers ------------------------------------------------------- */

static void
ur_set(struct dns_answer *ans, enum dns_status st, const char *why)
{
	ans->status = st;
	ans->why = why != NULL ? arena_strdup(ans->arena, why) : NULL;
}

/* Parse every rdata unbound returned; SERVFAIL if one is malformed. */
static void
ur_records(struct dns_answer *ans, const struct ub_result *res)
{
	const char *why;
	size_t n = 0, i;

	while (res->data[n] != NULL)
		n++;
	ans->rr = arena_calloc(ans->arena, n ? n : 1, sizeof(*ans->rr));
	for (i = 0; i < n; i++) {
		if (res->len[i] < 0 || dns_rdata_parse(ans->arena,
		    (uint16_t)res->qtype, (const uint8_t *)res->data[i],
		    (size_t)res->len[i], &ans->rr[i], &why) != DNS_RDATA_OK) {
			ans->n = 0;
			ur_set(ans, DNS_SERVFAIL, arena_printf(ans->arena,
			    "malformed record from the server: %s",
			    res->len[i] < 0 ? "negative length" : why));
			return;
		}
		ans->rr[i].ttl = (uint32_t)(res->ttl < 0 ? 0 : res->ttl);
	}
	ans->n = n;
	ur_set(ans, n > 0 ? DNS_OK : DNS_NODATA, NULL);
}

static void
ur_canonname(struct dns_answer *ans, const char *canon)
{
	size_t len;

	if (canon == NULL || canon[0] == '\0')
		return;
	len = strlen(canon);
	if (len > 1 && canon[len - 1] == '.')
		len--;
	else if (len == 1 && canon[0] == '.')
		len = 0;
	ans->canonname = arena_strndup(ans->arena, canon, len);
}

static struct dns_answer *
ur_answer(const struct ur_query *q, int err, const struct ub_result *res)
{
	struct dns_answer *ans;

	ans = dns_answer_new(q->name, q->type, DNS_OK, NULL);
	if (err != 0 || res == NULL) {
		ur_set(ans, err == UB_SERVFAIL ? DNS_SERVFAIL : DNS_ERROR,
		    err != 0 ? ub_strerror(err) : "no result");
		return ans;
	}
	ans->rcode = res->rcode;
	ans->secure = res->secure != 0;
	ans->bogus = res->bogus != 0;
	ur_canonname(ans, res->canonname);
	if (res->bogus)
		ur_set(ans, DNS_SERVFAIL, res->why_bogus != NULL ?
		    res->why_bogus : "DNSSEC validation failed");
	else if (res->nxdomain || res->rcode == 3)
		ur_set(ans, DNS_NXDOMAIN, "no such name");
	else if (res->rcode != 0)
		ur_set(ans, DNS_SERVFAIL, "the server reported an error");
	else if (!res->havedata)
		ur_set(ans, DNS_NODATA, "no such record");
	else
		ur_records(ans, res);
	return ans;
}

/* ---- event callbacks ----------------------------------------------- */

/* From inside ub_process(): park the answer, deliver from the loop. */
static void
ur_result(void *arg, int err, struct ub_result *res)
{
	struct ur_query *q = arg;

	q->answer = ur_answer(q, err, res);
	q->state = UR_DONE;
	evtimer_del(q->timer);
	if (res != NULL)
		ub_resolve_free(res);
	event_active(q->ur->deliver_ev, EV_TIMEOUT, 0);
}

static void
ur_readable(evutil_socket_t fd, short what, void *arg)
{
	struct ur_resolver *ur = arg;

	(void)fd;
	(void)what;
	ub_process(ur->ctx);
}

static void ur_destroy(struct ur_resolver *);

static struct ur_query *
ur_first_done(struct ur_resolver *ur)
{
	struct ur_query *q;

	for (q = ur->queries; q != NULL; q = q->next)
		if (q->state == UR_DONE)
			return q;
	return NULL;
}

static void
ur_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct ur_resolver *ur = arg;
	struct ur_query *q;
	struct dns_answer *ans;

	(void)fd;
	(void)what;
	ur->delivering = true;
	while (!ur->dying && (q = ur_first_done(ur)) != NULL) {
		ans = q->answer;
		q->answer = NULL;
		ur_finish(q, ans);	/* may free the resolver: dying */
	}
	ur->delivering = false;
	if (ur->dying)
		ur_destroy(ur);
}

static void
ur_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct ur_query *q = arg;
	struct dns_answer *ans;
	char why[64];

	(void)fd;
	(void)what;
	ub_cancel(q->ur->ctx, q->async_id);
	snprintf(why, sizeof(why), "no answer within %.3g s",
	    (double)q->ur->timeout.tv_sec + q->ur->timeout.tv_usec / 1e6);
	ans = dns_answer_new(q->name, q->type, DNS_TIMEOUT, why);
	ur_finish(q, ans);
}

/* ---- backend ops --------------------------------------------------- */

static struct dns_query *
ur_query(struct dns_resolver *r, const char *name, uint16_t type,
    dns_cb *cb, void *arg)
{
	struct ur_resolver *ur = (struct ur_resolver *)r;
	struct ur_query *q;
	int rc;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		abort();
	q->common.resolver = r;
	q->common.cb = cb;
	q->common.arg = arg;
	q->ur = ur;
	q->type = type;
	q->state = UR_PENDING;
	snprintf(q->name, sizeof(q->name), "%s", name[0] ? name : ".");
	if ((q->timer = evtimer_new(r->base, ur_timeout, q)) == NULL)
		abort();
	rc = ub_resolve_async(ur->ctx, q->name, type, UR_CLASS_IN, q,
	    ur_result, &q->async_id);
	if (rc != 0) {
		dns_answer_defer(r->base, dns_answer_new(name, type,
		    DNS_ERROR, ub_strerror(rc)), cb, arg);
		event_free(q->timer);
		free(q);
		return NULL;
	}
	ur_link(ur, q);
	evtimer_add(q->timer, &ur->timeout);
	return &q->common;
}

static void
ur_cancel(struct dns_query *dq)
{
	ur_drop((struct ur_query *)dq);
}

static void
ur_destroy(struct ur_resolver *ur)
{
	while (ur->queries != NULL)
		ur_drop(ur->queries);
	if (ur->fd_ev != NULL)
		event_free(ur->fd_ev);
	if (ur->deliver_ev != NULL)
		event_free(ur->deliver_ev);
	if (ur->ctx != NULL)
		ub_ctx_delete(ur->ctx);
	free(ur);
}

static void
ur_free(struct dns_resolver *r)
{
	struct ur_resolver *ur = (struct ur_resolver *)r;

	if (ur->delivering) {
		/* inside a callback from ur_deliver: it finishes the job */
		while (ur->queries != NULL)
			ur_drop(ur->queries);
		ur->dying = true;
		return;
	}
	ur_destroy(ur);
}

static const struct dns_backend_ops ur_ops = {
	"unbound", false, ur_query, ur_cancel, ur_free,
};

/* ---- setup --------------------------------------------------------- */

/* "HOST", "HOST:PORT", "[V6]:PORT", "V6" → "HOST" or "HOST@PORT". */
static int
ur_forwarder(const char *ns, char *out, size_t n)
{
	char host[INET6_ADDRSTRLEN];
	unsigned char bin[16];
	const char *port = NULL, *end;
	size_t hlen;
	char *pend;
	unsigned long p = 53;

	if (ns[0] == '[') {
		if ((end = strchr(ns, ']')) == NULL)
			return -1;
		hlen = (size_t)(end - ns - 1);
		ns++;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return -1;
	} else if ((end = strchr(ns, ':')) != NULL && !strchr(end + 1, ':')) {
		hlen = (size_t)(end - ns);
		port = end + 1;
	} else {
		hlen = strlen(ns);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, ns, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, bin) != 1 &&
	    inet_pton(AF_INET6, host, bin) != 1)
		return -1;
	if (port != NULL) {
		p = strtoul(port, &pend, 10);
		if (port[0] < '0' || port[0] > '9' || *pend != '\0' || p == 0 ||
		    p > 65535)
			return -1;
	}
	snprintf(out, n, "%s@%lu", host, p);
	return 0;
}

static int
ur_servers(struct ub_ctx *ctx, const struct dns_options *o,
    const char **err)
{
	char fwd[INET6_ADDRSTRLEN + 8];
	int rc;

	if (o->nameserver == NULL || o->nameserver[0] == '\0')
		return 0;	/* unbound recurses from the root itself */
	if (ur_forwarder(o->nameserver, fwd, sizeof(fwd)) != 0) {
		*err = "nameserver must be an IP address: HOST, HOST:PORT "
		    "or [IPv6]:PORT";
		return -1;
	}
	if ((rc = ub_ctx_set_fwd(ctx, fwd)) != 0) {
		*err = ub_strerror(rc);
		return -1;
	}
	return 0;
}

/* The names libunbound answers itself that test and private zones use. */
static const char *ur_local_zones[] = { "test.", "127.in-addr.arpa.",
    "home.arpa.", NULL };

static size_t
ur_add(struct dns_unbound_setting *out, size_t n, size_t max,
    const char *name, const char *value)
{
	if (n < max) {
		out[n].name = name;
		out[n].value = value;
	}
	return n + 1;
}

/*
 * The settings a context for o gets, in order; see the top comment.
 * "trust-anchor-file:" goes through ub_ctx_add_ta_file() and
 * "zone-remove" through ub_ctx_zone_remove() (a "local-zone: nodefault"
 * option has no effect in libunbound), the rest through
 * ub_ctx_set_option(). Returns the count, even past max.
 */
size_t
dns_unbound_settings(const struct dns_options *o,
    struct dns_unbound_setting *out, size_t max)
{
	bool local = o->local || (o->nameserver != NULL &&
	    o->nameserver[0] != '\0');
	size_t n = 0, i;

	n = ur_add(out, n, max, "infra-keep-probing:", "yes");
	n = ur_add(out, n, max, "infra-host-ttl:", "10");
	if (!o->cache)
		n = ur_add(out, n, max, "msg-cache-size:", "0");
	if (o->trust_anchor != NULL && o->trust_anchor[0] != '\0')
		n = ur_add(out, n, max, "trust-anchor-file:", o->trust_anchor);
	if (!local)
		return n;
	n = ur_add(out, n, max, "do-not-query-localhost:", "no");
	n = ur_add(out, n, max, "unblock-lan-zones:", "yes");
	n = ur_add(out, n, max, "insecure-lan-zones:", "yes");
	for (i = 0; ur_local_zones[i] != NULL; i++)
		n = ur_add(out, n, max, "zone-remove", ur_local_zones[i]);
	return n;
}

/* Options first; zone removals last: after them the context is final. */
static int
ur_tune(struct ub_ctx *ctx, const struct dns_options *o, const char **err)
{
	struct dns_unbound_setting set[DNS_UNBOUND_SETTINGS_MAX];
	size_t n, i;
	int rc = 0;

	n = dns_unbound_settings(o, set, DNS_UNBOUND_SETTINGS_MAX);
	if (n > DNS_UNBOUND_SETTINGS_MAX)
		abort();	/* the bound is ours: a bug */
	for (i = 0; i < n && rc == 0; i++) {
		if (strcmp(set[i].name, "trust-anchor-file:") == 0)
			rc = ub_ctx_add_ta_file(ctx, set[i].value);
		else if (strcmp(set[i].name, "zone-remove") != 0)
			rc = ub_ctx_set_option(ctx, set[i].name, set[i].value);
	}
	if (rc != 0) {
		*err = ub_strerror(rc);
		return -1;
	}
	if (ur_servers(ctx, o, err) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (strcmp(set[i].name, "zone-remove") == 0)
			(void)ub_ctx_zone_remove(ctx, set[i].value);
	return 0;
}

static int
ur_setup(struct ur_resolver *ur, const struct dns_options *o,
    const char **err)
{
	int rc;

	if ((ur->ctx = ub_ctx_create()) == NULL) {
		*err = "cannot create the libunbound context";
		return -1;
	}
	if ((rc = ub_ctx_async(ur->ctx, 1)) != 0) {
		*err = ub_strerror(rc);
		return -1;
	}
	/* libunbound reads the file at its first query and would then fail
	 * every lookup: refuse a file that cannot be read now */
	if (o->trust_anchor != NULL && o->trust_anchor[0] != '\0' &&
	    access(o->trust_anchor, R_OK) != 0) {
		*err = "cannot read the DNSSEC trust anchor file";
		return -1;
	}
	if (ur_tune(ur->ctx, o, err) != 0)
		return -1;
	ur->fd_ev = event_new(ur->common.base, ub_fd(ur->ctx),
	    EV_READ | EV_PERSIST, ur_readable, ur);
	ur->deliver_ev = event_new(ur->common.base, -1, 0, ur_deliver, ur);
	if (ur->fd_ev == NULL || ur->deliver_ev == NULL ||
	    event_add(ur->fd_ev, NULL) != 0) {
		*err = "cannot watch the libunbound descriptor";
		return -1;
	}
	return 0;
}

struct dns_resolver *
dns_unbound_new(struct event_base *base, const struct dns_options *o,
    const char **err)
{
	struct ur_resolver *ur;
	double t = o->timeout > 0 && isfinite(o->timeout) ? o->timeout :
	    UR_DEFAULT_TIMEOUT;

	struct dns_options opts = *o;

	*err = NULL;
	if (opts.trust_anchor == NULL && !opts.local &&
	    (opts.nameserver == NULL || opts.nameserver[0] == '\0') &&
	    access(DNS_ROOT_KEY, R_OK) == 0)
		opts.trust_anchor = DNS_ROOT_KEY;
	o = &opts;
	if ((ur = calloc(1, sizeof(*ur))) == NULL)
		abort();
	ur->common.ops = &ur_ops;
	ur->common.base = base;
	ur->timeout.tv_sec = (time_t)t;
	ur->timeout.tv_usec = (suseconds_t)((t - (double)(time_t)t) * 1e6);
	if (ur_setup(ur, o, err) != 0) {
		ur_destroy(ur);
		return NULL;
	}
	if (o->cache) {
		struct dns_cache_options co;

		memset(&co, 0, sizeof(co));
		co.max_entries = o->cache_entries;
		return dns_cache_new(&ur->common, &co);
	}
	return &ur->common;
}
