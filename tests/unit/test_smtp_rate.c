/* Unit tests for smtp/smtp_rate: the DATA/BDAT deadline and rate floor. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "smtp/smtp_rate.h"

/* 10 minutes, 100 octets/s after 30 s: the defaults */
static const struct smtp_rate_limits dflt = { 600000, 30000, 100 };

static enum smtp_rate_verdict
check(const struct smtp_rate_limits *l, uint64_t ms, uint64_t octets,
    uint64_t *next)
{
	return smtp_rate_check(l, ms, octets, next);
}

static void
test_grace_protects_a_slow_start(void **state)
{
	uint64_t next;

	(void)state;
	/* nothing at all for 29.999 s is still fine: the grace */
	assert_int_equal(check(&dflt, 0, 0, &next), SMTP_RATE_OK);
	assert_int_equal(next, 30000);
	assert_int_equal(check(&dflt, 29999, 0, &next), SMTP_RATE_OK);
	assert_int_equal(next, 30000);
	/* at the end of the grace the average counts */
	assert_int_equal(check(&dflt, 30000, 0, &next), SMTP_RATE_TOO_SLOW);
	assert_int_equal(check(&dflt, 30000, 2999, &next),
	    SMTP_RATE_TOO_SLOW);
}

static void
test_exact_boundary(void **state)
{
	uint64_t next;

	(void)state;
	/* 3000 octets in 30 s is exactly 100/s: still enough */
	assert_int_equal(check(&dflt, 30000, 3000, &next), SMTP_RATE_OK);
	assert_int_equal(next, 30001);
	/* one millisecond later it is not, unless more came */
	assert_int_equal(check(&dflt, 30001, 3000, &next),
	    SMTP_RATE_TOO_SLOW);
	assert_int_equal(check(&dflt, 30001, 3001, &next), SMTP_RATE_OK);
	assert_int_equal(next, 30011);
}

static void
test_next_is_when_the_average_would_drop(void **state)
{
	uint64_t next;

	(void)state;
	/* 10000 octets in 40 s last until 100 s at 100/s */
	assert_int_equal(check(&dflt, 40000, 10000, &next), SMTP_RATE_OK);
	assert_int_equal(next, 100001);
	/* inside the grace, a fast start waits for its budget, not the
	 * grace */
	assert_int_equal(check(&dflt, 1000, 5000, &next), SMTP_RATE_OK);
	assert_int_equal(next, 50001);
	/* a small start waits for the end of the grace */
	assert_int_equal(check(&dflt, 1000, 10, &next), SMTP_RATE_OK);
	assert_int_equal(next, 30000);
	/* the deadline comes first when the budget reaches past it */
	assert_int_equal(check(&dflt, 40000, 100000000, &next),
	    SMTP_RATE_OK);
	assert_int_equal(next, 600000);
}

static void
test_deadline(void **state)
{
	uint64_t next;

	(void)state;
	assert_int_equal(check(&dflt, 599999, 100000000, &next),
	    SMTP_RATE_OK);
	assert_int_equal(next, 600000);
	assert_int_equal(check(&dflt, 600000, 100000000, &next),
	    SMTP_RATE_DEADLINE);
	/* past the deadline and too slow: the deadline is the verdict */
	assert_int_equal(check(&dflt, 700000, 0, &next), SMTP_RATE_DEADLINE);
}

static void
test_limits_off(void **state)
{
	const struct smtp_rate_limits none = { 0, 30000, 0 };
	const struct smtp_rate_limits rate_only = { 0, 1000, 1000 };
	const struct smtp_rate_limits deadline_only = { 3000, 1000, 0 };
	uint64_t next;

	(void)state;
	assert_int_equal(check(&none, 1000000000, 0, &next), SMTP_RATE_OK);
	assert_int_equal(next, 0);
	assert_int_equal(check(&rate_only, 5000000, 5000000, &next),
	    SMTP_RATE_OK);
	assert_int_equal(next, 5000001);
	assert_int_equal(check(&rate_only, 1000, 999, &next),
	    SMTP_RATE_TOO_SLOW);
	assert_int_equal(check(&deadline_only, 2999, 0, &next), SMTP_RATE_OK);
	assert_int_equal(next, 3000);
	assert_int_equal(check(&deadline_only, 3000, 1 << 30, &next),
	    SMTP_RATE_DEADLINE);
}

static void
test_no_overflow(void **state)
{
	const struct smtp_rate_limits one = { 0, 0, 1 };
	const struct smtp_rate_limits fast = { 0, 0, 1000000000 };
	uint64_t next;

	(void)state;
	/* octets * 1000 would overflow: the budget saturates instead */
	assert_int_equal(check(&one, UINT64_MAX - 1, UINT64_MAX, &next),
	    SMTP_RATE_OK);
	assert_true(next == UINT64_MAX);
	assert_int_equal(check(&fast, UINT64_MAX - 1, 1, &next),
	    SMTP_RATE_TOO_SLOW);
	/* no grace: the first millisecond without octets is too slow */
	assert_int_equal(check(&fast, 0, 0, &next), SMTP_RATE_OK);
	assert_int_equal(next, 1);
	assert_int_equal(check(&fast, 1, 0, &next), SMTP_RATE_TOO_SLOW);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(smtp_rate_verdict_name(SMTP_RATE_OK), "ok");
	assert_string_equal(smtp_rate_verdict_name(SMTP_RATE_TOO_SLOW),
	    "too-slow");
	assert_string_equal(smtp_rate_verdict_name(SMTP_RATE_DEADLINE),
	    "deadline");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grace_protects_a_slow_start),
		cmocka_unit_test(test_exact_boundary),
		cmocka_unit_test(test_next_is_when_the_average_would_drop),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_limits_off),
		cmocka_unit_test(test_no_overflow),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
