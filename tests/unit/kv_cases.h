/*
 * The store's behaviour table, written once and run against every
 * backend: tests/unit/test_kv_lmdb.c and test_kv_redis.c include this
 * file and give a fixture (a store on a loop, and a way to let time
 * pass). Each case checks the answers' statuses and data, that every
 * call answers exactly once and never from inside the call.
 */
#ifndef NETJES_TESTS_KV_CASES_H
#define NETJES_TESTS_KV_CASES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "store/kv.h"

struct kv_fixture {
	struct event_base	*base;
	struct kv		*kv;
	/* let ms milliseconds pass for the store's expiry */
	void			 (*advance)(struct kv_fixture *, unsigned ms);
	void			*priv;
};

#define KVT_ITEMS	64

struct kvt_answer {
	int		 calls;
	enum kv_status	 status;
	char		 val[512];
	size_t		 vallen;
	int64_t		 num;
	size_t		 nitems;
	char		 items[KVT_ITEMS][160];	/* "key=value" */
};

static void
kvt_on_answer(const struct kv_result *r, void *arg)
{
	struct kvt_answer *a = arg;
	size_t i;

	a->calls++;
	a->status = r->status;
	a->num = r->num;
	a->vallen = r->vallen;
	if (r->vallen > 0 && r->vallen < sizeof(a->val))
		memcpy(a->val, r->val, r->vallen);
	a->nitems = r->nitems;
	for (i = 0; i < r->nitems && i < KVT_ITEMS; i++)
		snprintf(a->items[i], sizeof(a->items[i]), "%.*s=%.*s",
		    (int)r->items[i].keylen, (const char *)r->items[i].key,
		    (int)r->items[i].vallen, (const char *)r->items[i].val);
}

/* Turn the loop until *calls reaches want, for at most five seconds. */
static void
kvt_loop_until(struct kv_fixture *fx, const int *calls, int want)
{
	struct timespec start, now;
	struct timeval tick = { 0, 5000 };

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (*calls >= want)
			return;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 5)
			break;
		event_base_loopexit(fx->base, &tick);
		event_base_dispatch(fx->base);
	}
	fail_msg("no answer in 5 seconds (%d of %d)", *calls, want);
}

/* Wait for the one answer to a call just made (none came yet). */
static void
kvt_wait(struct kv_fixture *fx, struct kvt_answer *a)
{
	assert_int_equal(a->calls, 0);	/* never from inside the call */
	kvt_loop_until(fx, &a->calls, 1);
	assert_int_equal(a->calls, 1);
}

static enum kv_status
kvt_put(struct kv_fixture *fx, const char *k, const char *v, unsigned ttl)
{
	struct kvt_answer a = { 0 };

	assert_non_null(kv_put(fx->kv, k, strlen(k), v, strlen(v), ttl,
	    kvt_on_answer, &a));
	kvt_wait(fx, &a);
	return a.status;
}

static struct kvt_answer
kvt_get(struct kv_fixture *fx, const char *k)
{
	struct kvt_answer a = { 0 };

	assert_non_null(kv_get(fx->kv, k, strlen(k), kvt_on_answer, &a));
	kvt_wait(fx, &a);
	return a;
}

static enum kv_status
kvt_del(struct kv_fixture *fx, const char *k)
{
	struct kvt_answer a = { 0 };

	assert_non_null(kv_del(fx->kv, k, strlen(k), kvt_on_answer, &a));
	kvt_wait(fx, &a);
	return a.status;
}

static struct kvt_answer
kvt_incr(struct kv_fixture *fx, const char *k, int64_t delta, unsigned ttl)
{
	struct kvt_answer a = { 0 };

	assert_non_null(kv_incr(fx->kv, k, strlen(k), delta, ttl,
	    kvt_on_answer, &a));
	kvt_wait(fx, &a);
	return a;
}

static struct kvt_answer
kvt_scan(struct kv_fixture *fx, const char *prefix, size_t limit)
{
	struct kvt_answer a = { 0 };

	assert_non_null(kv_scan(fx->kv, prefix, strlen(prefix), limit,
	    kvt_on_answer, &a));
	kvt_wait(fx, &a);
	return a;
}

static void
kvt_assert_value(const struct kvt_answer *a, const char *want)
{
	assert_int_equal(a->status, KV_OK);
	assert_int_equal(a->vallen, strlen(want));
	assert_memory_equal(a->val, want, a->vallen);
}

/* ---- the cases ---------------------------------------------------------- */

static void
kv_case_put_get(void **state)
{
	struct kv_fixture *fx = *state;
	struct kvt_answer a = { 0 };
	const char bin[] = { 'a', '\0', 'b', '\n', (char)0xff };

	assert_int_equal(kvt_put(fx, "k1", "one", 0), KV_OK);
	a = kvt_get(fx, "k1");
	kvt_assert_value(&a, "one");
	assert_int_equal(kvt_get(fx, "nothing").status, KV_NOTFOUND);
	/* overwrite */
	assert_int_equal(kvt_put(fx, "k1", "two", 0), KV_OK);
	a = kvt_get(fx, "k1");
	kvt_assert_value(&a, "two");
	/* binary keys and values, with NUL bytes; an empty value */
	memset(&a, 0, sizeof(a));
	assert_non_null(kv_put(fx->kv, bin, sizeof(bin), bin, sizeof(bin), 0,
	    kvt_on_answer, &a));
	kvt_wait(fx, &a);
	assert_int_equal(a.status, KV_OK);
	memset(&a, 0, sizeof(a));
	assert_non_null(kv_get(fx->kv, bin, sizeof(bin), kvt_on_answer, &a));
	kvt_wait(fx, &a);
	assert_int_equal(a.status, KV_OK);
	assert_int_equal(a.vallen, sizeof(bin));
	assert_memory_equal(a.val, bin, sizeof(bin));
	assert_int_equal(kvt_put(fx, "empty", "", 0), KV_OK);
	a = kvt_get(fx, "empty");
	kvt_assert_value(&a, "");
}

static void
kv_case_del(void **state)
{
	struct kv_fixture *fx = *state;

	assert_int_equal(kvt_put(fx, "d", "x", 0), KV_OK);
	assert_int_equal(kvt_del(fx, "d"), KV_OK);
	assert_int_equal(kvt_get(fx, "d").status, KV_NOTFOUND);
	assert_int_equal(kvt_del(fx, "d"), KV_NOTFOUND);
}

static void
kv_case_expiry(void **state)
{
	struct kv_fixture *fx = *state;
	struct kvt_answer a;

	assert_int_equal(kvt_put(fx, "short", "s", 1), KV_OK);
	assert_int_equal(kvt_put(fx, "forever", "f", 0), KV_OK);
	assert_int_equal(kvt_put(fx, "long", "l", 3600), KV_OK);
	a = kvt_get(fx, "short");
	kvt_assert_value(&a, "s");
	fx->advance(fx, 1200);
	assert_int_equal(kvt_get(fx, "short").status, KV_NOTFOUND);
	a = kvt_get(fx, "forever");
	kvt_assert_value(&a, "f");
	a = kvt_get(fx, "long");
	kvt_assert_value(&a, "l");
	/* a put over an expired key starts afresh */
	assert_int_equal(kvt_put(fx, "short", "again", 0), KV_OK);
	a = kvt_get(fx, "short");
	kvt_assert_value(&a, "again");
}

/* A fixed window: the expiry comes from the increment that made the key
 * and later increments do not move it. */
static void
kv_case_incr_window(void **state)
{
	struct kv_fixture *fx = *state;
	struct kvt_answer a;

	a = kvt_incr(fx, "fails", 1, 2);
	assert_int_equal(a.status, KV_OK);
	assert_int_equal(a.num, 1);
	kvt_assert_value(&a, "1");
	fx->advance(fx, 1000);
	a = kvt_incr(fx, "fails", 1, 2);
	assert_int_equal(a.num, 2);
	a = kvt_get(fx, "fails");
	kvt_assert_value(&a, "2");
	fx->advance(fx, 1200);	/* 2.2 s after the first increment */
	assert_int_equal(kvt_get(fx, "fails").status, KV_NOTFOUND);
	a = kvt_incr(fx, "fails", 1, 2);
	assert_int_equal(a.num, 1);	/* a new window */
	/* no ttl: no expiry; negative steps; a big step */
	a = kvt_incr(fx, "n", 5, 0);
	assert_int_equal(a.num, 5);
	a = kvt_incr(fx, "n", -7, 0);
	assert_int_equal(a.num, -2);
	kvt_assert_value(&a, "-2");
	a = kvt_incr(fx, "n", 4000000000LL, 0);
	assert_int_equal(a.num, 3999999998LL);
	/* a counter put as text counts on */
	assert_int_equal(kvt_put(fx, "c", "41", 0), KV_OK);
	a = kvt_incr(fx, "c", 1, 0);
	assert_int_equal(a.status, KV_OK);
	assert_int_equal(a.num, 42);
}

/* The window belongs to the key's creation: a key that exists without
 * an expiry gets none from an increment, even one whose result equals
 * the step (0 + 5), which a check on the result alone would take for
 * a new key. */
static void
kv_case_incr_existing_no_expiry(void **state)
{
	struct kv_fixture *fx = *state;
	struct kvt_answer a;

	assert_int_equal(kvt_put(fx, "z", "0", 0), KV_OK);
	a = kvt_incr(fx, "z", 5, 1);
	assert_int_equal(a.num, 5);
	fx->advance(fx, 1200);
	a = kvt_get(fx, "z");
	kvt_assert_value(&a, "5");
}

/* More keys than one SCAN step looks at, and a prefix spread over all
 * of them. */
static void
kv_case_scan_large(void **state)
{
	struct kv_fixture *fx = *state;
	struct kvt_answer a;
	char key[32];
	int i;

	for (i = 0; i < 2500; i++) {
		snprintf(key, sizeof(key), "s:%05d", i);
		assert_non_null(kv_put(fx->kv, key, strlen(key), "v", 1, 0,
		    NULL, NULL));
	}
	/* answered in order: once this one is in, so are the others */
	assert_int_equal(kvt_put(fx, "s:last", "v", 0), KV_OK);
	a = kvt_scan(fx, "s:001", 0);
	assert_int_equal(a.status, KV_OK);
	assert_int_equal(a.nitems, 100);
	assert_string_equal(a.items[0], "s:00100=v");
	assert_string_equal(a.items[63], "s:00163=v");
	a = kvt_scan(fx, "s:", 10);
	assert_int_equal(a.nitems, 10);
	a = kvt_scan(fx, "s:", 0);
	assert_int_equal(a.nitems, KV_SCAN_MAX);
}

static void
kv_case_incr_not_integer(void **state)
{
	struct kv_fixture *fx = *state;
	struct kvt_answer a;

	assert_int_equal(kvt_put(fx, "text", "abc", 0), KV_OK);
	assert_int_equal(kvt_incr(fx, "text", 1, 0).status, KV_ERROR);
	a = kvt_get(fx, "text");
	kvt_assert_value(&a, "abc");	/* untouched */
	assert_int_equal(kvt_put(fx, "sp", " 1", 0), KV_OK);
	assert_int_equal(kvt_incr(fx, "sp", 1, 0).status, KV_ERROR);
	assert_int_equal(kvt_put(fx, "big", "9223372036854775807", 0), KV_OK);
	assert_int_equal(kvt_incr(fx, "big", 1, 0).status, KV_ERROR);
	a = kvt_get(fx, "big");
	kvt_assert_value(&a, "9223372036854775807");
}

static void
kv_case_scan(void **state)
{
	struct kv_fixture *fx = *state;
	struct kvt_answer a;

	assert_int_equal(kvt_put(fx, "p:b", "2", 0), KV_OK);
	assert_int_equal(kvt_put(fx, "p:a", "1", 0), KV_OK);
	assert_int_equal(kvt_put(fx, "p:c", "3", 0), KV_OK);
	assert_int_equal(kvt_put(fx, "p", "0", 0), KV_OK);
	assert_int_equal(kvt_put(fx, "q:a", "9", 0), KV_OK);
	a = kvt_scan(fx, "p:", 0);
	assert_int_equal(a.status, KV_OK);
	assert_int_equal(a.nitems, 3);
	assert_string_equal(a.items[0], "p:a=1");
	assert_string_equal(a.items[1], "p:b=2");
	assert_string_equal(a.items[2], "p:c=3");
	/* bounded: two of the three, in key order */
	a = kvt_scan(fx, "p:", 2);
	assert_int_equal(a.status, KV_OK);
	assert_int_equal(a.nitems, 2);
	assert_true(strncmp(a.items[0], "p:", 2) == 0);
	assert_true(strcmp(a.items[0], a.items[1]) < 0);
	a = kvt_scan(fx, "zz", 10);
	assert_int_equal(a.status, KV_OK);
	assert_int_equal(a.nitems, 0);
	a = kvt_scan(fx, "", 0);
	assert_int_equal(a.nitems, 5);
}

/* A prefix is bytes, not a pattern: Redis's glob characters in it are
 * matched literally. */
static void
kv_case_scan_glob_literal(void **state)
{
	struct kv_fixture *fx = *state;
	struct kvt_answer a;

	assert_int_equal(kvt_put(fx, "g*1", "a", 0), KV_OK);
	assert_int_equal(kvt_put(fx, "g?2", "b", 0), KV_OK);
	assert_int_equal(kvt_put(fx, "g[3]", "c", 0), KV_OK);
	assert_int_equal(kvt_put(fx, "g\\4", "d", 0), KV_OK);
	assert_int_equal(kvt_put(fx, "gx", "e", 0), KV_OK);
	a = kvt_scan(fx, "g*", 0);
	assert_int_equal(a.nitems, 1);
	assert_string_equal(a.items[0], "g*1=a");
	a = kvt_scan(fx, "g?", 0);
	assert_int_equal(a.nitems, 1);
	assert_string_equal(a.items[0], "g?2=b");
	a = kvt_scan(fx, "g[", 0);
	assert_int_equal(a.nitems, 1);
	assert_string_equal(a.items[0], "g[3]=c");
	a = kvt_scan(fx, "g\\", 0);
	assert_int_equal(a.nitems, 1);
	assert_string_equal(a.items[0], "g\\4=d");
	a = kvt_scan(fx, "g", 0);
	assert_int_equal(a.nitems, 5);
}

static void
kv_case_scan_skips_expired(void **state)
{
	struct kv_fixture *fx = *state;
	struct kvt_answer a;

	assert_int_equal(kvt_put(fx, "e:1", "gone", 1), KV_OK);
	assert_int_equal(kvt_put(fx, "e:2", "kept", 0), KV_OK);
	fx->advance(fx, 1200);
	a = kvt_scan(fx, "e:", 0);
	assert_int_equal(a.status, KV_OK);
	assert_int_equal(a.nitems, 1);
	assert_string_equal(a.items[0], "e:2=kept");
}

static void
kv_case_cancel(void **state)
{
	struct kv_fixture *fx = *state;
	struct kvt_answer cancelled = { 0 }, after = { 0 };
	struct kv_req *r;

	r = kv_put(fx->kv, "c", 1, "v", 1, 0, kvt_on_answer, &cancelled);
	kv_cancel(r);
	assert_non_null(kv_get(fx->kv, "c", 1, kvt_on_answer, &after));
	kvt_wait(fx, &after);
	assert_int_equal(cancelled.calls, 0);
	/* the put itself may have happened: both answers are allowed */
	assert_true(after.status == KV_OK || after.status == KV_NOTFOUND);
	r = kv_get(fx->kv, "c", 1, kvt_on_answer, &cancelled);
	kv_cancel(r);
	memset(&after, 0, sizeof(after));
	assert_non_null(kv_scan(fx->kv, "", 0, 1, kvt_on_answer, &after));
	kvt_wait(fx, &after);
	assert_int_equal(cancelled.calls, 0);
}

static void
kv_case_bad_arguments(void **state)
{
	struct kv_fixture *fx = *state;
	struct kvt_answer a = { 0 };
	static char big[KV_KEY_MAX + 1];
	char *huge;

	memset(big, 'k', sizeof(big));
	assert_non_null(kv_get(fx->kv, "", 0, kvt_on_answer, &a));
	kvt_wait(fx, &a);
	assert_int_equal(a.status, KV_ERROR);
	memset(&a, 0, sizeof(a));
	assert_non_null(kv_put(fx->kv, big, sizeof(big), "v", 1, 0,
	    kvt_on_answer, &a));
	kvt_wait(fx, &a);
	assert_int_equal(a.status, KV_ERROR);
	memset(&a, 0, sizeof(a));
	assert_non_null(kv_put(fx->kv, big, KV_KEY_MAX, "v", 1, 0,
	    kvt_on_answer, &a));
	kvt_wait(fx, &a);
	assert_int_equal(a.status, KV_OK);	/* the longest key is fine */
	huge = calloc(1, KV_VALUE_MAX + 1);
	memset(&a, 0, sizeof(a));
	assert_non_null(kv_put(fx->kv, "h", 1, huge, KV_VALUE_MAX + 1, 0,
	    kvt_on_answer, &a));
	kvt_wait(fx, &a);
	assert_int_equal(a.status, KV_ERROR);
	free(huge);
}

struct kvt_chain {
	struct kv_fixture	*fx;
	struct kvt_answer	 second;
	int			 first;
};

static void
kvt_chain_first(const struct kv_result *r, void *arg)
{
	struct kvt_chain *c = arg;

	c->first++;
	assert_int_equal(r->status, KV_OK);
	/* a callback may start the next request */
	assert_non_null(kv_get(c->fx->kv, "chain", 5, kvt_on_answer,
	    &c->second));
}

static void
kv_case_callback_starts_request(void **state)
{
	struct kv_fixture *fx = *state;
	struct kvt_chain c = { .fx = fx };

	assert_non_null(kv_put(fx->kv, "chain", 5, "x", 1, 0, kvt_chain_first,
	    &c));
	kvt_loop_until(fx, &c.second.calls, 1);
	assert_int_equal(c.first, 1);
	kvt_assert_value(&c.second, "x");
}

#define KVT_MANY	400

static void
kv_case_many_concurrent(void **state)
{
	struct kv_fixture *fx = *state;
	static struct kvt_answer incr[KVT_MANY], put[KVT_MANY];
	struct kvt_answer a;
	int64_t seen[KVT_MANY];
	char key[32];
	int i, total = 0;

	memset(incr, 0, sizeof(incr));
	memset(put, 0, sizeof(put));
	for (i = 0; i < KVT_MANY; i++) {
		assert_non_null(kv_incr(fx->kv, "ctr", 3, 1, 0, kvt_on_answer,
		    &incr[i]));
		snprintf(key, sizeof(key), "m:%04d", i);
		assert_non_null(kv_put(fx->kv, key, strlen(key), key,
		    strlen(key), 0, kvt_on_answer, &put[i]));
	}
	for (;;) {
		for (total = 0, i = 0; i < KVT_MANY; i++)
			total += incr[i].calls + put[i].calls;
		if (total == 2 * KVT_MANY)
			break;
		kvt_loop_until(fx, &incr[KVT_MANY - 1].calls, 1);
		kvt_loop_until(fx, &put[KVT_MANY - 1].calls, 1);
	}
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < KVT_MANY; i++) {
		assert_int_equal(incr[i].calls, 1);
		assert_int_equal(put[i].calls, 1);
		assert_int_equal(incr[i].status, KV_OK);
		assert_int_equal(put[i].status, KV_OK);
		/* atomic: every value from 1 to N exactly once */
		assert_true(incr[i].num >= 1 && incr[i].num <= KVT_MANY);
		assert_int_equal(seen[incr[i].num - 1]++, 0);
	}
	a = kvt_get(fx, "ctr");
	assert_int_equal(a.status, KV_OK);
	assert_int_equal(atoi(a.val), KVT_MANY);
	a = kvt_scan(fx, "m:", 0);
	assert_int_equal(a.nitems, KVT_MANY);
	a = kvt_scan(fx, "m:03", 0);
	assert_int_equal(a.nitems, 100);
}

#define KV_CASE(f, setup, teardown) \
	cmocka_unit_test_setup_teardown(f, setup, teardown)
#define KV_CASES(setup, teardown) \
	KV_CASE(kv_case_put_get, setup, teardown), \
	KV_CASE(kv_case_del, setup, teardown), \
	KV_CASE(kv_case_expiry, setup, teardown), \
	KV_CASE(kv_case_incr_window, setup, teardown), \
	KV_CASE(kv_case_incr_existing_no_expiry, setup, teardown), \
	KV_CASE(kv_case_incr_not_integer, setup, teardown), \
	KV_CASE(kv_case_scan, setup, teardown), \
	KV_CASE(kv_case_scan_glob_literal, setup, teardown), \
	KV_CASE(kv_case_scan_skips_expired, setup, teardown), \
	KV_CASE(kv_case_scan_large, setup, teardown), \
	KV_CASE(kv_case_cancel, setup, teardown), \
	KV_CASE(kv_case_bad_arguments, setup, teardown), \
	KV_CASE(kv_case_callback_starts_request, setup, teardown), \
	KV_CASE(kv_case_many_concurrent, setup, teardown)

#endif
