/*
 * test_dns_cache — the answer cache in front of a backend (here the
 * in-memory zone backend, which counts as "the network"): hits and
 * misses, TTL expiry and the TTL cap on a fake clock, negative caching,
 * failures never kept, the size bound and LRU order, cancel of a pending
 * hit and of a pending miss, coalesced misses, case-insensitive keys,
 * hits sharing one read-only answer that outlives its entry, and ready
 * answers handed out in order in one loop turn without starving others.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"
#include "dns/dns_cache.h"

struct fx {
	struct event_base	*base;
	struct dns_resolver	*r;
	uint64_t		 now_ms;
	struct dns_answer	*ans;
};

static const char zone[] =
    "$TTL 600\n"
    "@\tIN SOA ns hostmaster 1 3600 600 86400 60\n"
    "www\t300\tA 192.0.2.1\n"
    "www\t500\tA 192.0.2.2\n"
    "long\t86400\tTXT \"v=spf1 -all\"\n"
    "zero\t0\tA 192.0.2.9\n"
    "alias\t\tCNAME www\n"
    "n0\tA 192.0.2.10\n"
    "n1\tA 192.0.2.11\n"
    "n2\tA 192.0.2.12\n"
    "n3\tA 192.0.2.13\n"
    "n4\tA 192.0.2.14\n"
    "n5\tA 192.0.2.15\n"
    "bad\tA 192.0.2.66\n"
    "slow\tA 192.0.2.67\n";

static uint64_t
fake_clock(void *arg)
{
	return ((struct fx *)arg)->now_ms;
}

static struct fx *
fx_new(size_t max_entries)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct dns_cache_options o;
	struct dns_resolver *zr;
	char err[128];

	f->base = event_base_new();
	f->now_ms = 1000000;
	zr = dns_zone_new(f->base);
	assert_int_equal(dns_zone_load(zr, zone, strlen(zone), "example.org",
	    err, sizeof(err)), 0);
	dns_zone_set_failure(zr, "bad.example.org", 0, DNS_SERVFAIL);
	dns_zone_set_failure(zr, "slow.example.org", 0, DNS_TIMEOUT);
	memset(&o, 0, sizeof(o));
	o.max_entries = max_entries;
	o.clock = fake_clock;
	o.clock_arg = f;
	f->r = dns_cache_new(zr, &o);
	return f;
}

static int
setup(void **state)
{
	*state = fx_new(0);
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	dns_answer_free(f->ans);
	dns_resolver_free(f->r);
	event_base_free(f->base);
	free(f);
	return 0;
}

static struct dns_answer *
ask(struct fx *f, const char *name, uint16_t type)
{
	dns_answer_free(f->ans);
	f->ans = dns_query_sync(f->r, f->base, name, type);
	assert_non_null(f->ans);
	return f->ans;
}

static struct dns_cache_stats
stats(struct fx *f)
{
	struct dns_cache_stats st;

	dns_cache_stats(f->r, &st);
	return st;
}

struct got {
	int			 calls;
	struct dns_answer	*ans;
};

static void
got_cb(struct dns_answer *ans, void *arg)
{
	struct got *g = arg;

	g->calls++;
	dns_answer_free(g->ans);
	g->ans = ans;
}

static void
run(struct fx *f)
{
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
}

static void
test_hit_and_miss(void **state)
{
	struct fx *f = *state;
	struct dns_answer *a;
	struct got g = { 0, NULL };

	a = ask(f, "www.example.org", DNS_T_A);
	assert_int_equal(a->status, DNS_OK);
	assert_int_equal(a->n, 2);
	assert_int_equal(stats(f).misses, 1);
	assert_int_equal(stats(f).hits, 0);
	assert_int_equal(stats(f).entries, 1);

	/* a hit still answers from the loop, never inside dns_query */
	assert_non_null(dns_query(f->r, "www.example.org", DNS_T_A, got_cb,
	    &g));
	assert_int_equal(g.calls, 0);
	run(f);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.ans->status, DNS_OK);
	assert_int_equal(g.ans->n, 2);
	assert_string_equal(g.ans->qname, "www.example.org");
	assert_ptr_equal(g.ans->canonname, g.ans->qname);
	assert_int_equal(stats(f).hits, 1);
	assert_int_equal(stats(f).misses, 1);
	dns_answer_free(g.ans);

	/* another type is another key */
	ask(f, "www.example.org", DNS_T_AAAA);
	assert_int_equal(f->ans->status, DNS_NODATA);
	assert_int_equal(stats(f).misses, 2);

	/* CNAMEs: the canonical name survives the cache */
	ask(f, "alias.example.org", DNS_T_A);
	ask(f, "alias.example.org", DNS_T_A);
	assert_int_equal(stats(f).hits, 2);
	assert_string_equal(f->ans->canonname, "www.example.org");
	assert_string_equal(f->ans->qname, "alias.example.org");
}

static void
test_ttl_expiry(void **state)
{
	struct fx *f = *state;
	struct dns_answer *a;

	ask(f, "www.example.org", DNS_T_A);	/* TTLs 300 and 500 */
	f->now_ms += 100 * 1000;
	a = ask(f, "www.example.org", DNS_T_A);
	assert_int_equal(stats(f).hits, 1);
	/* kept for min(TTL) = 300 s; every TTL lowered by the 100 s */
	assert_int_equal(a->rr[0].ttl + a->rr[1].ttl, 200 + 200);
	f->now_ms += 199 * 1000 + 999;
	a = ask(f, "www.example.org", DNS_T_A);
	assert_int_equal(stats(f).hits, 2);
	assert_int_equal(a->rr[0].ttl, 0);
	f->now_ms += 1;			/* exactly 300 s after the store */
	ask(f, "www.example.org", DNS_T_A);
	assert_int_equal(stats(f).hits, 2);
	assert_int_equal(stats(f).misses, 2);
	assert_int_equal(f->ans->rr[0].ttl + f->ans->rr[1].ttl, 300 + 500);

	/* long TTLs are capped (default 1 h) */
	ask(f, "long.example.org", DNS_T_TXT);
	f->now_ms += 60 * 1000;
	a = ask(f, "long.example.org", DNS_T_TXT);
	assert_int_equal(stats(f).hits, 3);
	assert_int_equal(a->rr[0].ttl, 3600 - 60);
	f->now_ms += 3540 * 1000;
	ask(f, "long.example.org", DNS_T_TXT);
	assert_int_equal(stats(f).hits, 3);
	assert_int_equal(stats(f).misses, 4);

	/* TTL 0 means do not keep */
	ask(f, "zero.example.org", DNS_T_A);
	ask(f, "zero.example.org", DNS_T_A);
	assert_int_equal(stats(f).misses, 6);
	assert_int_equal(stats(f).hits, 3);
}

static void
test_negative(void **state)
{
	struct fx *f = *state;

	ask(f, "nowhere.example.org", DNS_T_A);
	assert_int_equal(f->ans->status, DNS_NXDOMAIN);
	ask(f, "www.example.org", DNS_T_MX);
	assert_int_equal(f->ans->status, DNS_NODATA);
	f->now_ms += 59 * 1000;
	ask(f, "NOWHERE.example.org", DNS_T_A);
	assert_int_equal(f->ans->status, DNS_NXDOMAIN);
	assert_string_equal(f->ans->qname, "NOWHERE.example.org");
	ask(f, "www.example.org", DNS_T_MX);
	assert_int_equal(f->ans->status, DNS_NODATA);
	assert_int_equal(stats(f).hits, 2);
	assert_int_equal(stats(f).misses, 2);
	f->now_ms += 1000;		/* negative answers: 60 s */
	ask(f, "nowhere.example.org", DNS_T_A);
	ask(f, "www.example.org", DNS_T_MX);
	assert_int_equal(stats(f).hits, 2);
	assert_int_equal(stats(f).misses, 4);
}

static void
test_failures_not_kept(void **state)
{
	struct fx *f = *state;
	int i;

	for (i = 0; i < 3; i++) {
		ask(f, "bad.example.org", DNS_T_TXT);
		assert_int_equal(f->ans->status, DNS_SERVFAIL);
		ask(f, "slow.example.org", DNS_T_TXT);
		assert_int_equal(f->ans->status, DNS_TIMEOUT);
	}
	assert_int_equal(stats(f).hits, 0);
	assert_int_equal(stats(f).misses, 6);
	assert_int_equal(stats(f).entries, 0);

	/* a bad name is refused before the cache and never kept either */
	ask(f, "a..b", DNS_T_A);
	assert_int_equal(f->ans->status, DNS_ERROR);
	assert_int_equal(stats(f).entries, 0);
}

static void
test_eviction_bound(void **state)
{
	struct fx *f = fx_new(4);
	char name[64];
	int i;

	*state = f;
	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "n%d.example.org", i);
		ask(f, name, DNS_T_A);
		assert_true(stats(f).entries <= 4);
		if (i == 2)	/* touch n0: now the most recently used */
			ask(f, "n0.example.org", DNS_T_A);
	}
	assert_int_equal(stats(f).entries, 4);
	assert_int_equal(stats(f).evictions, 2);
	/* n1 and n2 were the least recently used; n0 survived */
	ask(f, "n0.example.org", DNS_T_A);
	ask(f, "n5.example.org", DNS_T_A);
	assert_int_equal(stats(f).hits, 3);
	ask(f, "n1.example.org", DNS_T_A);
	assert_int_equal(stats(f).hits, 3);
	assert_int_equal(stats(f).misses, 7);
	assert_int_equal(stats(f).entries, 4);
	assert_int_equal(stats(f).evictions, 3);	/* n3 went for n1 */

	/* expired entries are not counted as evictions of live ones */
	f->now_ms += 3600 * 1000;
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "n%d.example.org", i + 2);
		ask(f, name, DNS_T_AAAA);
	}
	assert_int_equal(stats(f).evictions, 3);
	assert_int_equal(stats(f).entries, 4);
}

static void
test_cancel(void **state)
{
	struct fx *f = *state;
	struct got g = { 0, NULL }, h = { 0, NULL };
	struct dns_query *q;

	ask(f, "www.example.org", DNS_T_A);
	/* a pending hit */
	q = dns_query(f->r, "www.example.org", DNS_T_A, got_cb, &g);
	assert_non_null(q);
	dns_cancel(q);
	run(f);
	assert_int_equal(g.calls, 0);
	assert_int_equal(stats(f).hits, 1);

	/* a pending miss: the backend query goes too */
	q = dns_query(f->r, "n0.example.org", DNS_T_A, got_cb, &g);
	dns_cancel(q);
	run(f);
	assert_int_equal(g.calls, 0);
	assert_int_equal(stats(f).entries, 1);

	/* one of two coalesced waiters cancelled: the other is answered */
	q = dns_query(f->r, "n1.example.org", DNS_T_A, got_cb, &g);
	assert_non_null(dns_query(f->r, "N1.example.org", DNS_T_A, got_cb,
	    &h));
	dns_cancel(q);
	run(f);
	assert_int_equal(g.calls, 0);
	assert_int_equal(h.calls, 1);
	assert_string_equal(h.ans->qname, "N1.example.org");
	assert_int_equal(h.ans->status, DNS_OK);
	dns_answer_free(h.ans);

	/* freeing the resolver with queries pending: no calls, no leaks */
	assert_non_null(dns_query(f->r, "www.example.org", DNS_T_A, got_cb,
	    &g));
	assert_non_null(dns_query(f->r, "n2.example.org", DNS_T_A, got_cb,
	    &g));
	dns_resolver_free(f->r);
	f->r = NULL;
	run(f);
	assert_int_equal(g.calls, 0);
}

static void
test_coalescing(void **state)
{
	struct fx *f = *state;
	struct got g[3] = { { 0, NULL }, { 0, NULL }, { 0, NULL } };
	int i;

	for (i = 0; i < 3; i++)
		assert_non_null(dns_query(f->r, "www.example.org", DNS_T_A,
		    got_cb, &g[i]));
	assert_int_equal(stats(f).misses, 1);
	assert_int_equal(stats(f).coalesced, 2);
	run(f);
	for (i = 0; i < 3; i++) {
		assert_int_equal(g[i].calls, 1);
		assert_int_equal(g[i].ans->n, 2);
	}
	/* each has its own copy */
	assert_ptr_not_equal(g[0].ans->rr, g[1].ans->rr);
	for (i = 0; i < 3; i++)
		dns_answer_free(g[i].ans);

	/* failures are shared by the waiters of that one query, not kept */
	memset(g, 0, sizeof(g));
	for (i = 0; i < 2; i++)
		assert_non_null(dns_query(f->r, "bad.example.org", DNS_T_A,
		    got_cb, &g[i]));
	run(f);
	for (i = 0; i < 2; i++) {
		assert_int_equal(g[i].ans->status, DNS_SERVFAIL);
		dns_answer_free(g[i].ans);
	}
	assert_int_equal(stats(f).misses, 2);
	ask(f, "bad.example.org", DNS_T_A);
	assert_int_equal(stats(f).misses, 3);
}

static void
test_case_insensitive(void **state)
{
	struct fx *f = *state;

	ask(f, "WWW.Example.ORG.", DNS_T_A);
	ask(f, "www.example.org", DNS_T_A);
	ask(f, "wWw.eXample.org", DNS_T_A);
	assert_int_equal(stats(f).misses, 1);
	assert_int_equal(stats(f).hits, 2);
	assert_string_equal(f->ans->qname, "wWw.eXample.org");
	assert_ptr_equal(f->ans->canonname, f->ans->qname);
}

/* Only A-Z fold to a-z: the bytes next to them in ASCII stay apart. */
static void
test_case_folding_bytes(void **state)
{
	static const char *const apart[][2] = {
		{ "a@b.example.org", "a`b.example.org" },
		{ "a[b.example.org", "a{b.example.org" },
		{ "a^b.example.org", "a~b.example.org" },
		{ "long-label-with-an-at-sign@x.example.org",
		  "long-label-with-an-at-sign`x.example.org" },
	};
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof(apart) / sizeof(apart[0]); i++) {
		ask(f, apart[i][0], DNS_T_A);
		ask(f, apart[i][1], DNS_T_A);
	}
	assert_int_equal(stats(f).hits, 0);
	assert_int_equal(stats(f).misses, 8);
	/* a name longer than eight bytes folds in every word */
	ask(f, "LONG-LABEL-WITH-AN-AT-SIGN@X.EXAMPLE.ORG", DNS_T_A);
	ask(f, "a^B.Example.Org", DNS_T_A);
	assert_int_equal(stats(f).hits, 2);
}

/*
 * Hits share one read-only answer per entry, spelling and second: no
 * copy per hit. The cache's own copy is not the one handed out, and a
 * holder's answer outlives its entry and the resolver.
 */
static void
test_shared_answers(void **state)
{
	struct fx *f = *state;
	struct got g = { 0, NULL }, h = { 0, NULL }, k = { 0, NULL };
	struct dns_answer *first;

	ask(f, "long.example.org", DNS_T_TXT);		/* the miss */
	assert_non_null(dns_query(f->r, "long.example.org", DNS_T_TXT,
	    got_cb, &g));
	assert_non_null(dns_query(f->r, "long.example.org", DNS_T_TXT,
	    got_cb, &h));
	run(f);
	assert_int_equal(stats(f).hits, 2);
	assert_ptr_equal(g.ans, h.ans);
	assert_ptr_not_equal(g.ans, f->ans);	/* the miss had its own */
	assert_string_equal(g.ans->rr[0].u.txt.joined, "v=spf1 -all");
	first = g.ans;
	dns_answer_free(h.ans);			/* one holder lets go */
	h.ans = NULL;
	assert_string_equal(first->rr[0].u.txt.joined, "v=spf1 -all");

	/* another spelling gets its own qname; a later second, new TTLs */
	assert_non_null(dns_query(f->r, "LONG.example.org", DNS_T_TXT,
	    got_cb, &h));
	f->now_ms += 1000;
	assert_non_null(dns_query(f->r, "long.example.org", DNS_T_TXT,
	    got_cb, &k));
	run(f);
	assert_string_equal(h.ans->qname, "LONG.example.org");
	assert_int_equal(h.ans->rr[0].ttl, 3600);
	assert_ptr_not_equal(k.ans, first);
	assert_int_equal(k.ans->rr[0].ttl, 3599);
	assert_int_equal(first->rr[0].ttl, 3600);	/* untouched */

	/* the entry expires and the resolver goes: holders keep reading */
	f->now_ms += 3600 * 1000;
	ask(f, "long.example.org", DNS_T_TXT);
	assert_int_equal(stats(f).misses, 2);
	dns_resolver_free(f->r);
	f->r = NULL;
	assert_string_equal(first->rr[0].u.txt.joined, "v=spf1 -all");
	assert_string_equal(k.ans->rr[0].u.txt.joined, "v=spf1 -all");
	dns_answer_free(g.ans);
	dns_answer_free(h.ans);
	dns_answer_free(k.ans);
}

/* A chain of lookups, each started from the previous one's callback. */
struct chain {
	struct fx	*f;
	int		 left;		/* lookups still to start */
	int		 calls;
	bool		 in_query;	/* inside dns_query() right now */
	bool		 reentered;	/* a callback ran inside it */
};

static void
chain_cb(struct dns_answer *ans, void *arg)
{
	struct chain *ch = arg;

	ch->calls++;
	if (ch->in_query)
		ch->reentered = true;
	dns_answer_free(ans);
	if (ch->left-- > 0) {
		ch->in_query = true;
		assert_non_null(dns_query(ch->f->r, "www.example.org",
		    DNS_T_A, chain_cb, ch));
		ch->in_query = false;
	}
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(*(int *)arg)++;
}

/*
 * Ready answers go out from one event per resolver: a chain of hits
 * finishes in one loop turn, never inside dns_query(), in the order
 * asked; a chain that never ends leaves other events their turn.
 */
static void
test_ready_in_one_turn(void **state)
{
	struct fx *f = *state;
	struct chain ch = { f, 5, 0, false, false };
	struct got g[3] = { { 0, NULL }, { 0, NULL }, { 0, NULL } };
	struct timeval zero = { 0, 0 };
	struct event *t;
	int i, fired = 0;

	ask(f, "www.example.org", DNS_T_A);
	ask(f, "n0.example.org", DNS_T_A);
	ch.in_query = true;
	assert_non_null(dns_query(f->r, "www.example.org", DNS_T_A,
	    chain_cb, &ch));
	ch.in_query = false;
	assert_int_equal(ch.calls, 0);
	event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_int_equal(ch.calls, 6);
	assert_false(ch.reentered);

	/* first asked, first answered */
	assert_non_null(dns_query(f->r, "n0.example.org", DNS_T_A, got_cb,
	    &g[0]));
	assert_non_null(dns_query(f->r, "www.example.org", DNS_T_A, got_cb,
	    &g[1]));
	assert_non_null(dns_query(f->r, "n0.example.org", DNS_T_A, got_cb,
	    &g[2]));
	dns_cancel(dns_query(f->r, "n0.example.org", DNS_T_A, got_cb,
	    &g[0]));
	event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	for (i = 0; i < 3; i++)
		assert_int_equal(g[i].calls, 1);
	assert_int_equal(g[1].ans->n, 2);
	for (i = 0; i < 3; i++)
		dns_answer_free(g[i].ans);

	/* a long chain: a timer due now still runs before it ends */
	ch.left = 100000;
	ch.calls = 0;
	assert_non_null(dns_query(f->r, "www.example.org", DNS_T_A,
	    chain_cb, &ch));
	t = evtimer_new(f->base, timer_cb, &fired);
	evtimer_add(t, &zero);
	event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_int_equal(fired, 1);
	assert_true(ch.calls > 0);
	assert_true(ch.left > 0);	/* the rest waits for later turns */
	i = ch.calls;
	event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_true(ch.calls > i);	/* and gets them */
	event_free(t);
	ch.left = 0;
	run(f);
	assert_false(ch.reentered);
}

/* The callback may free the resolver (as a CLI does when it is done). */
static void
free_in_cb(struct dns_answer *ans, void *arg)
{
	struct fx *f = arg;

	dns_answer_free(ans);
	dns_resolver_free(f->r);
	f->r = NULL;
}

static void
test_free_from_callback(void **state)
{
	struct fx *f = *state;
	struct got g = { 0, NULL };

	ask(f, "www.example.org", DNS_T_A);
	assert_non_null(dns_query(f->r, "www.example.org", DNS_T_A,
	    free_in_cb, f));
	assert_non_null(dns_query(f->r, "n3.example.org", DNS_T_A, got_cb,
	    &g));
	run(f);
	assert_null(f->r);
	assert_int_equal(g.calls, 0);
}

static void
test_not_a_cache(void **state)
{
	struct fx *f = *state;
	struct dns_resolver *z = dns_zone_new(f->base);
	struct dns_cache_stats st;

	st.hits = 42;
	dns_cache_stats(z, &st);
	assert_int_equal(st.hits, 0);
	dns_resolver_free(z);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hit_and_miss, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ttl_expiry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_negative, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_failures_not_kept, setup,
		    teardown),
		cmocka_unit_test_teardown(test_eviction_bound, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coalescing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_case_insensitive, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_case_folding_bytes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_shared_answers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ready_in_one_turn, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_free_from_callback, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_not_a_cache, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
