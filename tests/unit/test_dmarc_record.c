/* Unit tests for auth/dmarc/dmarc_record: RFC 7489 6.3/6.4 tags, defaults,
 * invalid values, the rua fallback of 6.6.3, and np. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "auth/dmarc/dmarc_record.h"
#include "core/arena.h"

static enum dmarc_record_status
parse(struct arena *a, const char *s, struct dmarc_record *r)
{
	const char *why = NULL;
	enum dmarc_record_status st;

	st = dmarc_record_parse(s, strlen(s), a, r, &why);
	if (st != DMARC_RECORD_OK)
		assert_non_null(why);
	return st;
}

static void
test_minimal_and_defaults(void **state)
{
	struct arena *a = arena_new(0);
	struct dmarc_record r;

	(void)state;
	assert_int_equal(parse(a, "v=DMARC1; p=none", &r), DMARC_RECORD_OK);
	assert_int_equal(r.p, DMARC_POLICY_NONE);
	assert_int_equal(r.sp, DMARC_POLICY_UNSET);
	assert_int_equal(r.np, DMARC_POLICY_UNSET);
	assert_int_equal(r.adkim, DMARC_ALIGN_RELAXED);
	assert_int_equal(r.aspf, DMARC_ALIGN_RELAXED);
	assert_int_equal(r.pct, 100);
	assert_int_equal(r.ri, 86400);
	assert_string_equal(r.fo, "0");
	assert_string_equal(r.rf, "afrf");
	assert_null(r.ignored);
	assert_false(r.rua_fallback);

	assert_int_equal(parse(a, " v = DMARC1 ;P=Reject;SP=quarantine; "
	    "np=reject; adkim=s; aspf=S; pct=25; ri=3600; fo=1:d; "
	    "rua=mailto:a@x.example,mailto:b@y.example!10m; "
	    "ruf=mailto:f@x.example; x_unknown=whatever;", &r),
	    DMARC_RECORD_OK);
	assert_int_equal(r.p, DMARC_POLICY_REJECT);
	assert_int_equal(r.sp, DMARC_POLICY_QUARANTINE);
	assert_int_equal(r.np, DMARC_POLICY_REJECT);
	assert_int_equal(r.adkim, DMARC_ALIGN_STRICT);
	assert_int_equal(r.aspf, DMARC_ALIGN_STRICT);
	assert_int_equal(r.pct, 25);
	assert_int_equal(r.ri, 3600);
	assert_string_equal(r.fo, "1:d");
	assert_int_equal(r.nrua, 2);
	assert_string_equal(r.rua[1], "mailto:b@y.example!10m");
	assert_int_equal(r.nruf, 1);
	assert_null(r.ignored);
	arena_free(a);
}

static void
test_not_dmarc(void **state)
{
	struct arena *a = arena_new(0);
	struct dmarc_record r;
	static const char *const not[] = {
		"", "v=spf1 -all", "p=reject; v=DMARC1", "v=dmarc1; p=none",
		"v=DMARC2; p=none", "v=DMARC1x; p=none", "; v=DMARC1; p=none",
		"garbage", "v", "v=",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(not) / sizeof(not[0]); i++)
		if (parse(a, not[i], &r) != DMARC_RECORD_NOT_DMARC)
			fail_msg("'%s' should not be a DMARC record", not[i]);
	arena_free(a);
}

static void
test_invalid_values(void **state)
{
	struct arena *a = arena_new(0);
	struct dmarc_record r;

	(void)state;
	/* optional tags fall back to their defaults */
	assert_int_equal(parse(a, "v=DMARC1; p=quarantine; pct=101; "
	    "adkim=x; aspf=; np=maybe; fo=9; ri=-1", &r), DMARC_RECORD_OK);
	assert_int_equal(r.pct, 100);
	assert_int_equal(r.adkim, DMARC_ALIGN_RELAXED);
	assert_int_equal(r.np, DMARC_POLICY_UNSET);
	assert_string_equal(r.fo, "0");
	assert_int_equal(r.ri, 86400);
	assert_non_null(r.ignored);
	assert_non_null(strstr(r.ignored, "pct=101"));
	/* pct edges */
	assert_int_equal(parse(a, "v=DMARC1; p=reject; pct=0", &r),
	    DMARC_RECORD_OK);
	assert_int_equal(r.pct, 0);
	assert_int_equal(parse(a, "v=DMARC1; p=reject; pct=100", &r),
	    DMARC_RECORD_OK);
	assert_int_equal(r.pct, 100);
	/* first tag wins */
	assert_int_equal(parse(a, "v=DMARC1; p=reject; p=none", &r),
	    DMARC_RECORD_OK);
	assert_int_equal(r.p, DMARC_POLICY_REJECT);
	/* a broken tag in the middle is skipped */
	assert_int_equal(parse(a, "v=DMARC1; =x; junk; p=none", &r),
	    DMARC_RECORD_OK);
	assert_int_equal(r.p, DMARC_POLICY_NONE);
	arena_free(a);
}

static void
test_p_required_and_fallback(void **state)
{
	struct arena *a = arena_new(0);
	struct dmarc_record r;

	(void)state;
	assert_int_equal(parse(a, "v=DMARC1", &r), DMARC_RECORD_INVALID);
	assert_int_equal(parse(a, "v=DMARC1; sp=reject", &r),
	    DMARC_RECORD_INVALID);
	assert_int_equal(parse(a, "v=DMARC1; p=block", &r),
	    DMARC_RECORD_INVALID);
	assert_int_equal(parse(a, "v=DMARC1; p=reject; sp=bad", &r),
	    DMARC_RECORD_INVALID);
	assert_int_equal(parse(a, "v=DMARC1; rua=notauri", &r),
	    DMARC_RECORD_INVALID);
	/* 6.6.3: a valid rua turns it into p=none */
	assert_int_equal(parse(a, "v=DMARC1; rua=mailto:r@x.example", &r),
	    DMARC_RECORD_OK);
	assert_true(r.rua_fallback);
	assert_int_equal(r.p, DMARC_POLICY_NONE);
	assert_int_equal(parse(a, "v=DMARC1; p=strict; sp=reject; "
	    "rua=bad, mailto:r@x.example", &r), DMARC_RECORD_OK);
	assert_true(r.rua_fallback);
	assert_int_equal(r.p, DMARC_POLICY_NONE);
	assert_int_equal(r.sp, DMARC_POLICY_UNSET);
	assert_int_equal(r.nrua, 1);
	arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_and_defaults),
		cmocka_unit_test(test_not_dmarc),
		cmocka_unit_test(test_invalid_values),
		cmocka_unit_test(test_p_required_and_fallback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
