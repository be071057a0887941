/*
 * dns_cache — an answer cache on the event-loop thread, as a resolver
 * that wraps another one.
 *
 * Why: libunbound keeps its own cache, but every lookup, even a hit,
 * crosses to its resolver thread and back through pipes; for SPF (3-9
 * lookups per check, mostly the same few names) that hand-off is most of
 * the cost. Here a hit is a hash lookup and a reference to an answer
 * already in memory.
 *
 * Rules. The key is (name in ASCII lowercase, type). Kept: DNS_OK for the
 * smallest record TTL, capped at max_ttl (the TTL a caching backend
 * reports has already been counting down in its own cache, so the two
 * caches never keep a record longer than its owner allowed), and
 * DNS_NODATA / DNS_NXDOMAIN for a fixed negative_ttl. RFC 2308 5 would
 * have the SOA minimum there, but libunbound's ub_result does not carry
 * the authority section, so a short fixed time stands in for it. Never
 * kept: SERVFAIL, TIMEOUT, ERROR (DNS trouble is temporary and must be
 * asked again), answers marked bogus, TTL 0. Callers get the TTLs
 * lowered by the time spent in the cache.
 *
 * Shared answers. An entry keeps its own copy of the answer, and hands
 * callers a "view": a second copy, asked under the caller's spelling of
 * the name, with the TTLs as they stand in the current second. Every hit
 * in that second (same spelling) gets the same view with one more
 * reference (dns_answer.shares); a hit in a later second makes a fresh
 * view. So a hit copies nothing, and answers handed out are read-only
 * (dns.h). A view lives until its last holder frees it, however long
 * after its entry went.
 *
 * Bounded: at most max_entries entries; inserting into a full cache
 * evicts the least recently used one (expired entries go first in
 * practice, since nobody touches them). Misses for a (name, type) that
 * is already being asked join that backend query instead of sending
 * another (coalescing); a query left with no waiters is cancelled.
 *
 * Callbacks never run inside dns_query(). Answered queries (hits and
 * finished misses) wait on one ready list per resolver, in order, and
 * one event per resolver, made active when the list fills, hands them
 * all out in a single loop turn: no timer or allocation per query, and
 * no loop turn per lookup. A lookup started from one of those callbacks
 * that hits joins the list being handed out, so a chain of cached
 * lookups (an SPF check) finishes in one turn; past CACHE_DRAIN_MAX
 * callbacks the rest waits for the next turn (after the loop has polled
 * for I/O), so other events are not starved. dns_cancel() works until
 * the callback starts, and the backend's callback (which only fills the
 * cache and queues the waiters) never runs user code.
 */
#include "dns/dns_cache.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/lru.h"
#include "dns/dns_backend.h"
#include "dns/dns_rdata.h"

struct cache_resolver;

struct cache_entry {
	struct dns_answer	*answer;	/* its arena holds this entry */
	char			*key;		/* lowercase name */
	uint16_t		 type;
	uint64_t		 stored_ms;
	uint64_t		 expires_ms;
	/* What hits get: answer as asked, TTLs as of one second. */
	struct dns_answer	*view;		/* NULL until the first hit */
	uint32_t		 view_elapsed, view_remaining;
	struct lru_node		 node;		/* hash and use order */
};

struct cache_query;

/* One backend query and the callers waiting for it. */
struct cache_flight {
	struct cache_resolver	*cr;		/* NULL: abandoned */
	char			 key[DNS_NAME_WIRE_MAX + 1];
	uint16_t		 type;
	uint32_t		 hash;
	struct dns_query	*backend_q;	/* NULL: not cancellable */
	struct cache_query	*waiters;
	struct cache_flight	*hnext;
};

enum cache_query_state {
	CQ_WAITING,	/* on a flight's waiter list */
	CQ_READY,	/* answer in hand, on the ready list */
};

struct cache_query {
	struct dns_query	 common;	/* first: see dns_backend.h */
	struct cache_resolver	*cr;
	enum cache_query_state	 state;
	struct cache_flight	*flight;	/* when CQ_WAITING */
	struct dns_answer	*answer;	/* when CQ_READY */
	struct cache_query	*next, **prevp;
	char			 name[];	/* as asked (waiters only) */
};

/* Callbacks per loop turn before the rest waits for the next turn. */
#define CACHE_DRAIN_MAX	256

struct cache_resolver {
	struct dns_resolver	 common;	/* first: see dns_backend.h */
	struct dns_resolver	*backend;
	size_t			 max_entries;
	uint32_t		 max_ttl, negative_ttl;
	dns_cache_clock		*clock;
	void			*clock_arg;
	size_t			 nbuckets;	/* a power of two */
	struct lru_node		**buckets;
	struct lru		 entries;
	struct cache_flight	**flights;	/* same hashing */
	/* Answered queries in order, and the event that hands them out. */
	struct cache_query	*ready, **ready_tail;
	struct event		*drain_ev;
	bool			 draining;	/* inside cache_drain() */
	bool			*gone;		/* set when freed meanwhile */
	struct dns_cache_stats	 stats;
};

static const struct dns_backend_ops cache_ops;

/* ---- keys and time ------------------------------------------------- */

static uint64_t
cache_monotonic_ms(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Lowercase name[0..len) into key (ASCII letters only; room for
 * DNS_NAME_WIRE_MAX + 1, len at most DNS_NAME_WIRE_MAX) and hash it
 * with the type, eight bytes a step: every lookup passes here. The
 * case change is done on all eight bytes at once: a byte is
 * an upper-case letter when, on its low seven bits, adding 0x3f sets its
 * top bit ('A' or above) and adding 0x25 does not (not above 'Z'), and
 * its own top bit is clear; those bytes get 0x20 added. No carry crosses
 * a byte, so every byte is judged on its own.
 */
static uint32_t
cache_key(const char *name, size_t len, uint16_t type, char *key)
{
	const uint64_t ones = 0x0101010101010101ull;
	const uint64_t k = 0x9e3779b97f4a7c15ull;
	uint64_t h = k ^ type, w, low7, upper;
	size_t i, n;

	for (i = 0; i < len; i += 8) {
		if (len - i >= 8) {
			memcpy(&w, name + i, 8);
		} else {
			/* the tail, zero-padded, never read past the name */
			unsigned char tail[8] = { 0 };

			for (n = 0; n < len - i; n++)
				tail[n] = (unsigned char)name[i + n];
			memcpy(&w, tail, 8);
		}
		low7 = w & (ones * 0x7f);
		upper = (low7 + ones * (0x80 - 'A')) &
		    ~(low7 + ones * (0x7f - 'Z')) & ~w & (ones * 0x80);
		w |= upper >> 2;
		memcpy(key + i, &w, 8);	/* key has room: i + 8 <= 256 */
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	key[len] = '\0';
	return (uint32_t)(h ^ (h >> 32));
}

/* ---- answer copies ------------------------------------------------- */

/* Room for one arena allocation of n bytes, alignment slack included. */
#define CACHE_ALLOC(n)	((n) + 16)

/*
 * Arena for a copy of src asked as qname, in one block: counted closely,
 * so that a hit's copy (a few hundred bytes) is one small malloc(); if
 * the count falls short the arena just grows. extra: more room (the
 * cache entry, for the copy the cache keeps).
 */
static size_t
cache_answer_size(const struct dns_answer *src, const char *qname,
    size_t extra)
{
	size_t n = CACHE_ALLOC(sizeof(struct dns_answer)) +
	    CACHE_ALLOC(strlen(qname) + 1) + CACHE_ALLOC(extra) +
	    CACHE_ALLOC((src->n ? src->n : 1) * sizeof(struct dns_rr));
	size_t i;

	if (src->canonname != NULL)
		n += CACHE_ALLOC(strlen(src->canonname) + 1);
	for (i = 0; i < src->n; i++) {
		const struct dns_rr *rr = &src->rr[i];

		switch (rr->type) {
		case DNS_T_TXT:
		case DNS_T_SPF:
			n += CACHE_ALLOC(rr->u.txt.joined_len + 1) +
			    CACHE_ALLOC(rr->u.txt.nstrings *
			    sizeof(struct dns_txt_string));
			break;
		case DNS_T_TLSA:
			n += CACHE_ALLOC(rr->u.tlsa.len);
			break;
		case DNS_T_A:
		case DNS_T_AAAA:
			break;
		case DNS_T_NS:
		case DNS_T_CNAME:
		case DNS_T_PTR:
			n += CACHE_ALLOC(strlen(rr->u.name) + 1);
			break;
		case DNS_T_MX:
			n += CACHE_ALLOC(strlen(rr->u.mx.host) + 1);
			break;
		default:
			n += CACHE_ALLOC(rr->u.raw.len);
			break;
		}
	}
	if (src->why != NULL)
		n += CACHE_ALLOC(strlen(src->why) + 1);
	return n;
}

/*
 * A deep copy of src in a new arena, asked as qname, every TTL lowered
 * by elapsed and at most remaining seconds.
 */
static struct dns_answer *
cache_answer_copy(const struct dns_answer *src, const char *qname,
    uint32_t elapsed, uint32_t remaining, size_t extra)
{
	struct arena *a = arena_new(cache_answer_size(src, qname, extra));
	struct dns_answer *ans;
	size_t i;

	ans = arena_calloc(a, 1, sizeof(*ans));
	*ans = *src;
	ans->arena = a;
	ans->shares = 0;
	ans->qname = arena_strdup(a, qname);
	/* canonname == qname (no CNAME) must stay so for the new name */
	if (src->canonname != NULL && strcasecmp(src->canonname,
	    src->qname) != 0)
		ans->canonname = arena_strdup(a, src->canonname);
	else
		ans->canonname = ans->qname;
	ans->why = src->why != NULL ? arena_strdup(a, src->why) : NULL;
	ans->rr = arena_calloc(a, src->n ? src->n : 1, sizeof(*ans->rr));
	for (i = 0; i < src->n; i++) {
		uint32_t ttl = src->rr[i].ttl;

		dns_rr_copy(a, &ans->rr[i], &src->rr[i]);
		ttl = ttl > elapsed ? ttl - elapsed : 0;
		ans->rr[i].ttl = ttl < remaining ? ttl : remaining;
	}
	return ans;
}

/* Seconds to keep ans; 0: do not keep it. */
static uint32_t
cache_lifetime(const struct cache_resolver *cr, const struct dns_answer *ans)
{
	uint32_t ttl;
	size_t i;

	if (ans->bogus)
		return 0;
	switch (ans->status) {
	case DNS_OK:
		if (ans->n == 0)
			return 0;
		ttl = ans->rr[0].ttl;
		for (i = 1; i < ans->n; i++)
			if (ans->rr[i].ttl < ttl)
				ttl = ans->rr[i].ttl;
		return ttl < cr->max_ttl ? ttl : cr->max_ttl;
	case DNS_NODATA:
	case DNS_NXDOMAIN:
		return cr->negative_ttl;
	case DNS_SERVFAIL:
	case DNS_TIMEOUT:
	case DNS_ERROR:
		break;
	}
	return 0;
}

/* ---- entries ------------------------------------------------------- */

static void
cache_entry_remove(struct cache_resolver *cr, struct cache_entry *e)
{
	lru_remove(&cr->entries, &e->node);
	dns_answer_free(e->view);	/* holders keep theirs */
	dns_answer_free(e->answer);	/* e lives in it */
}

/* The live entry for key, moved to the front; NULL if none. */
static struct cache_entry *
cache_lookup(struct cache_resolver *cr, const char *key, uint16_t type,
    uint32_t hash, uint64_t now)
{
	struct lru_node *n;
	struct cache_entry *e;

	for (n = lru_first(&cr->entries, hash); n != NULL;
	    n = lru_next(n, hash)) {
		e = LRU_ENTRY(n, struct cache_entry, node);
		if (e->type != type || strcmp(e->key, key) != 0)
			continue;
		if (e->expires_ms <= now) {
			cache_entry_remove(cr, e);
			return NULL;
		}
		lru_touch(&cr->entries, n);
		return e;
	}
	return NULL;
}

/* Keep ans if the rules allow. */
static void
cache_store(struct cache_resolver *cr, const struct cache_flight *f,
    const struct dns_answer *ans)
{
	uint32_t ttl = cache_lifetime(cr, ans);
	uint64_t now = cr->clock(cr->clock_arg);
	struct dns_answer *copy;
	struct cache_entry *e;

	if (ttl == 0)
		return;
	if ((e = cache_lookup(cr, f->key, f->type, f->hash, now)) != NULL)
		cache_entry_remove(cr, e);
	while (lru_count(&cr->entries) >= cr->max_entries) {
		e = LRU_ENTRY(lru_oldest(&cr->entries), struct cache_entry,
		    node);
		if (e->expires_ms > now)
			cr->stats.evictions++;
		cache_entry_remove(cr, e);
	}
	copy = cache_answer_copy(ans, f->key, 0, ttl,
	    sizeof(struct cache_entry));
	e = arena_calloc(copy->arena, 1, sizeof(*e));
	e->answer = copy;
	e->key = copy->qname;
	e->type = f->type;
	e->stored_ms = now;
	e->expires_ms = now + (uint64_t)ttl * 1000;
	lru_insert(&cr->entries, &e->node, f->hash);
}

/*
 * The entry's answer for a caller who asked as name, one reference more:
 * the current view when it was made in this second for this spelling,
 * else a fresh one (TTLs lowered by the whole seconds spent here, and at
 * most the seconds left).
 */
static struct dns_answer *
cache_view(struct cache_entry *e, const char *name, uint64_t now)
{
	uint32_t elapsed = (uint32_t)((now - e->stored_ms) / 1000);
	uint32_t remaining = (uint32_t)((e->expires_ms - now) / 1000);

	if (e->view == NULL || e->view_elapsed != elapsed ||
	    e->view_remaining != remaining ||
	    strcmp(e->view->qname, name) != 0) {
		dns_answer_free(e->view);
		e->view = cache_answer_copy(e->answer, name, elapsed,
		    remaining, 0);
		e->view_elapsed = elapsed;
		e->view_remaining = remaining;
	}
	e->view->shares++;
	return e->view;
}

/* ---- queries ------------------------------------------------------- */

static void
cache_query_link(struct cache_query **head, struct cache_query *q)
{
	q->next = *head;
	q->prevp = head;
	if (q->next != NULL)
		q->next->prevp = &q->next;
	*head = q;
}

static void
cache_query_unlink(struct cache_resolver *cr, struct cache_query *q)
{
	*q->prevp = q->next;
	if (q->next != NULL)
		q->next->prevp = q->prevp;
	else if (q->state == CQ_READY)
		cr->ready_tail = q->prevp;
}

static const struct timeval cache_next_turn = { 0, 0 };

/* Hand out every answered query, in order (see the top comment). */
static void
cache_drain(evutil_socket_t fd, short what, void *arg)
{
	struct cache_resolver *cr = arg;
	struct cache_query *q;
	struct dns_answer *ans;
	dns_cb *cb;
	void *cbarg;
	bool gone = false;
	unsigned n;

	(void)fd;
	(void)what;
	cr->draining = true;
	cr->gone = &gone;
	for (n = 0; (q = cr->ready) != NULL; n++) {
		if (n == CACHE_DRAIN_MAX) {
			/*
			 * A timer, not event_active(): libevent runs what is
			 * made active during its pass in that same pass, and
			 * the rest must wait until I/O has had its turn.
			 */
			event_add(cr->drain_ev, &cache_next_turn);
			break;
		}
		ans = q->answer;
		cb = q->common.cb;
		cbarg = q->common.arg;
		cache_query_unlink(cr, q);
		free(q);
		cb(ans, cbarg);		/* it may free the resolver */
		if (gone)
			return;
	}
	cr->draining = false;
	cr->gone = NULL;
}

/* Give q its answer and queue it to be handed out from the loop. */
static void
cache_query_ready(struct cache_resolver *cr, struct cache_query *q,
    struct dns_answer *ans)
{
	q->state = CQ_READY;
	q->flight = NULL;
	q->answer = ans;
	q->next = NULL;
	q->prevp = cr->ready_tail;
	*cr->ready_tail = q;
	cr->ready_tail = &q->next;
	if (!cr->draining)
		event_active(cr->drain_ev, EV_TIMEOUT, 1);
}

static void
cache_flight_unlink(struct cache_resolver *cr, struct cache_flight *f)
{
	struct cache_flight **pp = &cr->flights[f->hash & (cr->nbuckets - 1)];

	while (*pp != f)
		pp = &(*pp)->hnext;
	*pp = f->hnext;
}

/* Nobody waits any more: stop the backend query, or let it run out. */
static void
cache_flight_abandon(struct cache_resolver *cr, struct cache_flight *f)
{
	cache_flight_unlink(cr, f);
	if (f->backend_q != NULL) {
		dns_cancel(f->backend_q);
		free(f);
	} else {
		f->cr = NULL;	/* its callback will come and free it */
	}
}

/* The backend's answer: keep it if allowed, arm every waiter. */
static void
cache_backend_done(struct dns_answer *ans, void *arg)
{
	struct cache_flight *f = arg;
	struct cache_resolver *cr = f->cr;
	struct cache_query *q;

	f->backend_q = NULL;
	if (cr == NULL) {
		dns_answer_free(ans);
		free(f);
		return;
	}
	cache_flight_unlink(cr, f);
	cache_store(cr, f, ans);
	/* the backend's own TTLs, uncapped: each waiter gets a copy */
	while ((q = f->waiters) != NULL) {
		cache_query_unlink(cr, q);
		cache_query_ready(cr, q, cache_answer_copy(ans, q->name, 0,
		    UINT32_MAX, 0));
	}
	dns_answer_free(ans);
	free(f);
}

static struct cache_query *
cache_query_new(struct cache_resolver *cr, dns_cb *cb, void *arg,
    size_t namelen)
{
	struct cache_query *q;

	if ((q = malloc(sizeof(*q) + namelen + 1)) == NULL)
		abort();
	q->common.resolver = &cr->common;
	q->common.cb = cb;
	q->common.arg = arg;
	q->common.cancel = NULL;
	q->cr = cr;
	q->answer = NULL;
	return q;
}

/* A new backend query for key, or NULL when name is not valid. */
static struct cache_flight *
cache_flight_start(struct cache_resolver *cr, const char *name,
    const char *key, uint16_t type, uint32_t hash)
{
	struct cache_flight *f;

	/* checked here, once per miss: a known key was checked before */
	if (!dns_name_valid(name))
		return NULL;
	cr->stats.misses++;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		abort();
	f->cr = cr;
	memcpy(f->key, key, sizeof(f->key));
	f->type = type;
	f->hash = hash;
	f->hnext = cr->flights[hash & (cr->nbuckets - 1)];
	cr->flights[hash & (cr->nbuckets - 1)] = f;
	f->backend_q = cr->backend->ops->query(cr->backend, key, type,
	    cache_backend_done, f);
	return f;
}

static struct dns_query *
cache_query(struct dns_resolver *r, const char *name, uint16_t type,
    dns_cb *cb, void *arg)
{
	struct cache_resolver *cr = (struct cache_resolver *)r;
	struct cache_query *q;
	struct cache_flight *f;
	struct cache_entry *e;
	char key[DNS_NAME_WIRE_MAX + 1];
	size_t len = strnlen(name, DNS_NAME_WIRE_MAX);
	uint32_t hash = cache_key(name, len, type, key);
	uint64_t now = cr->clock(cr->clock_arg);

	if ((e = cache_lookup(cr, key, type, hash, now)) != NULL) {
		cr->stats.hits++;
		q = cache_query_new(cr, cb, arg, 0);
		cache_query_ready(cr, q, cache_view(e, name, now));
		return &q->common;
	}
	for (f = cr->flights[hash & (cr->nbuckets - 1)]; f != NULL;
	    f = f->hnext)
		if (f->hash == hash && f->type == type &&
		    strcmp(f->key, key) == 0)
			break;
	if (f != NULL)
		cr->stats.coalesced++;
	else if ((f = cache_flight_start(cr, name, key, type, hash)) == NULL)
		return dns_refuse(r, name, type, cb, arg);
	q = cache_query_new(cr, cb, arg, len);
	memcpy(q->name, name, len);	/* for the copy the answer will be */
	q->name[len] = '\0';
	q->state = CQ_WAITING;
	q->flight = f;
	cache_query_link(&f->waiters, q);
	return &q->common;
}

static void
cache_cancel(struct dns_query *dq)
{
	struct cache_query *q = (struct cache_query *)dq;
	struct cache_flight *f = q->flight;

	cache_query_unlink(q->cr, q);
	if (q->state == CQ_WAITING) {
		if (f->waiters == NULL)
			cache_flight_abandon(q->cr, f);
	} else {
		dns_answer_free(q->answer);
	}
	free(q);
}

static void
cache_free(struct dns_resolver *r)
{
	struct cache_resolver *cr = (struct cache_resolver *)r;
	size_t i;

	if (cr->gone != NULL)
		*cr->gone = true;	/* freed from a callback: stop */
	while (cr->ready != NULL)
		cache_cancel(&cr->ready->common);
	/* a flight always has waiters; cancelling its last one ends it */
	for (i = 0; i < cr->nbuckets; i++)
		while (cr->flights[i] != NULL)
			cache_cancel(&cr->flights[i]->waiters->common);
	while (lru_oldest(&cr->entries) != NULL)
		cache_entry_remove(cr, LRU_ENTRY(lru_oldest(&cr->entries),
		    struct cache_entry, node));
	dns_resolver_free(cr->backend);
	event_free(cr->drain_ev);
	free(cr->buckets);
	free(cr->flights);
	free(cr);
}

static const struct dns_backend_ops cache_ops = {
	"cache", true, cache_query, cache_cancel, cache_free,
};

/* ---- setup --------------------------------------------------------- */

struct dns_resolver *
dns_cache_new(struct dns_resolver *backend,
    const struct dns_cache_options *o)
{
	struct cache_resolver *cr;

	if ((cr = calloc(1, sizeof(*cr))) == NULL)
		abort();
	cr->common.ops = &cache_ops;
	cr->common.base = backend->base;
	cr->backend = backend;
	cr->max_entries = o != NULL && o->max_entries > 0 ? o->max_entries :
	    DNS_CACHE_DEFAULT_ENTRIES;
	cr->max_ttl = o != NULL && o->max_ttl > 0 ? o->max_ttl :
	    DNS_CACHE_DEFAULT_MAX_TTL;
	cr->negative_ttl = o != NULL && o->negative_ttl > 0 ?
	    o->negative_ttl : DNS_CACHE_DEFAULT_NEG_TTL;
	cr->clock = o != NULL && o->clock != NULL ? o->clock :
	    cache_monotonic_ms;
	cr->clock_arg = o != NULL ? o->clock_arg : NULL;
	for (cr->nbuckets = 16; cr->nbuckets < cr->max_entries &&
	    cr->nbuckets < ((size_t)1 << 24); cr->nbuckets <<= 1)
		;
	cr->buckets = calloc(cr->nbuckets, sizeof(*cr->buckets));
	cr->flights = calloc(cr->nbuckets, sizeof(*cr->flights));
	cr->ready_tail = &cr->ready;
	cr->drain_ev = event_new(cr->common.base, -1, 0, cache_drain, cr);
	if (cr->buckets == NULL || cr->flights == NULL || cr->drain_ev == NULL)
		abort();
	lru_init(&cr->entries, cr->buckets, cr->nbuckets);
	return &cr->common;
}

void
dns_cache_stats(const struct dns_resolver *r, struct dns_cache_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (r != NULL && r->ops == &cache_ops) {
		const struct cache_resolver *cr =
		    (const struct cache_resolver *)r;

		*st = cr->stats;
		st->entries = lru_count(&cr->entries);
	}
}
