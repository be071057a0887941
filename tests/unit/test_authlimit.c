/*
 * Unit tests for smtp/authlimit: failures are counted per client (IPv4
 * address, IPv6 /64) across calls, expire a window after the last one,
 * block at max_failures, give a doubling capped delay, and the table
 * never grows past its cap (the oldest client goes). The clock is the
 * test's: every call is given its time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/ip.h"
#include "smtp/authlimit.h"

static const struct authlimit_rules rules = {
	.max_failures = 3, .window = 60, .delay = 1,
};

static struct ip_addr
ip(const char *s)
{
	struct ip_addr a;

	if (ip_parse(s, strlen(s), &a) != 0)
		fail_msg("bad test address %s", s);
	return a;
}

static void
test_counts_per_address(void **state)
{
	struct authlimit *t = authlimit_new(16);
	struct ip_addr a = ip("192.0.2.1"), b = ip("192.0.2.2");

	(void)state;
	assert_non_null(t);
	assert_int_equal(authlimit_failures(t, &rules, &a, 100), 0);
	assert_int_equal(authlimit_fail(t, &rules, &a, 100), 1);
	assert_int_equal(authlimit_fail(t, &rules, &a, 101), 2);
	assert_int_equal(authlimit_failures(t, &rules, &a, 102), 2);
	/* another address has its own count */
	assert_int_equal(authlimit_failures(t, &rules, &b, 102), 0);
	assert_int_equal(authlimit_fail(t, &rules, &b, 102), 1);
	assert_int_equal(authlimit_failures(t, &rules, &a, 102), 2);
	assert_int_equal(authlimit_clients(t, &rules, 102), 2);
	authlimit_free(t);
}

static void
test_blocked_at_max(void **state)
{
	struct authlimit *t = authlimit_new(16);
	struct ip_addr a = ip("198.51.100.7");
	struct authlimit_rules off = rules;
	unsigned n = 0;

	(void)state;
	assert_false(authlimit_blocked(&rules, 0));
	n = authlimit_fail(t, &rules, &a, 10);
	assert_false(authlimit_blocked(&rules, n));
	n = authlimit_fail(t, &rules, &a, 11);
	assert_false(authlimit_blocked(&rules, n));
	n = authlimit_fail(t, &rules, &a, 12);
	assert_true(authlimit_blocked(&rules, n));
	assert_true(authlimit_blocked(&rules,
	    authlimit_failures(t, &rules, &a, 13)));
	/* max_failures 0: counted, never blocked */
	off.max_failures = 0;
	assert_false(authlimit_blocked(&off, 1000));
	authlimit_free(t);
}

static void
test_window_after_last_failure(void **state)
{
	struct authlimit *t = authlimit_new(16);
	struct ip_addr a = ip("203.0.113.5");

	(void)state;
	authlimit_fail(t, &rules, &a, 0);
	authlimit_fail(t, &rules, &a, 50);
	/* 60 s after the first but 10 s after the last: still counted */
	assert_int_equal(authlimit_failures(t, &rules, &a, 60), 2);
	assert_int_equal(authlimit_failures(t, &rules, &a, 109.9), 2);
	/* a whole window after the last failure: forgotten */
	assert_int_equal(authlimit_failures(t, &rules, &a, 110), 0);
	assert_int_equal(authlimit_clients(t, &rules, 110), 0);
	/* and a new failure starts from one */
	assert_int_equal(authlimit_fail(t, &rules, &a, 111), 1);
	assert_int_equal(authlimit_clients(t, &rules, 111), 1);
	authlimit_free(t);
}

static void
test_ipv6_by_64_and_v4_mapped(void **state)
{
	struct authlimit *t = authlimit_new(16);
	struct ip_addr a1 = ip("2001:db8:1:2::1");
	struct ip_addr a2 = ip("2001:db8:1:2:ffff:eeee:dddd:cccc");
	struct ip_addr other = ip("2001:db8:1:3::1");
	struct ip_addr v4 = ip("192.0.2.9"), mapped = ip("::ffff:192.0.2.9");
	struct ip_addr v4b = ip("192.0.2.10");

	(void)state;
	authlimit_fail(t, &rules, &a1, 1);
	assert_int_equal(authlimit_fail(t, &rules, &a2, 2), 2);
	assert_int_equal(authlimit_failures(t, &rules, &other, 3), 0);
	/* IPv4 is the whole address, and a mapped one is the same client */
	authlimit_fail(t, &rules, &v4, 3);
	assert_int_equal(authlimit_failures(t, &rules, &mapped, 4), 1);
	assert_int_equal(authlimit_fail(t, &rules, &mapped, 4), 2);
	assert_int_equal(authlimit_failures(t, &rules, &v4b, 4), 0);
	assert_int_equal(authlimit_clients(t, &rules, 5), 2);
	authlimit_free(t);
}

static void
test_delay_doubles_to_cap(void **state)
{
	struct authlimit_rules r = rules, none = rules, half = rules;

	(void)state;
	assert_true(authlimit_delay(&r, 0) == 0);
	assert_true(authlimit_delay(&r, 1) == 1);
	assert_true(authlimit_delay(&r, 2) == 2);
	assert_true(authlimit_delay(&r, 3) == 4);
	assert_true(authlimit_delay(&r, 5) == 16);
	assert_true(authlimit_delay(&r, 6) == AUTHLIMIT_DELAY_MAX);
	assert_true(authlimit_delay(&r, 4000000000u) == AUTHLIMIT_DELAY_MAX);
	none.delay = 0;
	assert_true(authlimit_delay(&none, 7) == 0);
	half.delay = 0.25;
	assert_true(authlimit_delay(&half, 3) == 1);
	r.delay = 100;	/* a base past the cap is cut to it */
	assert_true(authlimit_delay(&r, 1) == AUTHLIMIT_DELAY_MAX);
}

static void
test_cap_evicts_oldest(void **state)
{
	struct authlimit *t = authlimit_new(4);
	char text[32];
	struct ip_addr a;
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		snprintf(text, sizeof(text), "10.0.0.%d", i);
		a = ip(text);
		authlimit_fail(t, &rules, &a, 10 + i);
	}
	a = ip("10.0.0.0");	/* the oldest gets one more: now newest */
	authlimit_fail(t, &rules, &a, 20);
	for (i = 4; i < 6; i++) {
		snprintf(text, sizeof(text), "10.0.0.%d", i);
		a = ip(text);
		authlimit_fail(t, &rules, &a, 21 + i);
	}
	assert_int_equal(authlimit_clients(t, &rules, 30), 4);
	/* 10.0.0.1 and .2 had the oldest last failures: evicted */
	a = ip("10.0.0.1");
	assert_int_equal(authlimit_failures(t, &rules, &a, 30), 0);
	a = ip("10.0.0.2");
	assert_int_equal(authlimit_failures(t, &rules, &a, 30), 0);
	a = ip("10.0.0.0");
	assert_int_equal(authlimit_failures(t, &rules, &a, 30), 2);
	a = ip("10.0.0.3");
	assert_int_equal(authlimit_failures(t, &rules, &a, 30), 1);
	a = ip("10.0.0.5");
	assert_int_equal(authlimit_failures(t, &rules, &a, 30), 1);
	authlimit_free(t);
}

static void
test_expired_entry_is_reused_first(void **state)
{
	struct authlimit *t = authlimit_new(2);
	struct ip_addr a = ip("192.0.2.1"), b = ip("192.0.2.2");
	struct ip_addr c = ip("192.0.2.3");

	(void)state;
	authlimit_fail(t, &rules, &a, 0);
	authlimit_fail(t, &rules, &b, 30);
	/* a expired at 60: c takes its place, b (older than c) stays */
	authlimit_fail(t, &rules, &c, 70);
	assert_int_equal(authlimit_failures(t, &rules, &b, 71), 1);
	assert_int_equal(authlimit_failures(t, &rules, &c, 71), 1);
	assert_int_equal(authlimit_failures(t, &rules, &a, 71), 0);
	/* cap 0 still gives a working table of one */
	authlimit_free(t);
	t = authlimit_new(0);
	assert_non_null(t);
	assert_int_equal(authlimit_fail(t, &rules, &a, 0), 1);
	assert_int_equal(authlimit_fail(t, &rules, &b, 1), 1);
	assert_int_equal(authlimit_failures(t, &rules, &a, 1), 0);
	authlimit_free(t);
	authlimit_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_per_address),
		cmocka_unit_test(test_blocked_at_max),
		cmocka_unit_test(test_window_after_last_failure),
		cmocka_unit_test(test_ipv6_by_64_and_v4_mapped),
		cmocka_unit_test(test_delay_doubles_to_cap),
		cmocka_unit_test(test_cap_evicts_oldest),
		cmocka_unit_test(test_expired_entry_is_reused_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
