/* Unit tests for core/strnum: strict decimals and hex digits. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "core/strnum.h"

static int
dec(const char *s, uint64_t max, uint64_t *out)
{
	return strnum_decimal(s, strlen(s), max, out);
}

static void
test_decimal_accepts(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(dec("0", 0, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(dec("128", 128, &v), 0);
	assert_int_equal(v, 128);
	assert_int_equal(dec("18446744073709551615", UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(dec("9223372036854775807", INT64_MAX, &v), 0);
	assert_true(v == (uint64_t)INT64_MAX);
	/* the length is the truth: what follows is not read */
	assert_int_equal(strnum_decimal("42xyz", 2, 100, &v), 0);
	assert_int_equal(v, 42);
}

static void
test_decimal_refuses(void **state)
{
	static const char *const bad[] = {
		"", "00", "01", "+1", "-1", " 1", "1 ", "0x1", "1e3", "1.0",
		"12a", "\xd9\xa1",	/* ARABIC-INDIC DIGIT ONE */
	};
	uint64_t v = 7;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(dec(bad[i], UINT64_MAX, &v), -1);
		assert_int_equal(v, 7);	/* untouched */
	}
	assert_int_equal(strnum_decimal(NULL, 0, 10, &v), -1);
	/* above the bound, by one and by overflow */
	assert_int_equal(dec("129", 128, &v), -1);
	assert_int_equal(dec("1", 0, &v), -1);
	assert_int_equal(dec("9", 8, &v), -1);
	assert_int_equal(dec("9223372036854775808", INT64_MAX, &v), -1);
	assert_int_equal(dec("18446744073709551616", UINT64_MAX, &v), -1);
	assert_int_equal(dec("99999999999999999999999", UINT64_MAX, &v), -1);
	assert_int_equal(v, 7);
}

static void
test_hex_digit(void **state)
{
	int c;

	(void)state;
	assert_int_equal(strnum_hex_digit('0'), 0);
	assert_int_equal(strnum_hex_digit('9'), 9);
	assert_int_equal(strnum_hex_digit('a'), 10);
	assert_int_equal(strnum_hex_digit('F'), 15);
	for (c = -128; c < 256; c++) {
		int want = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F');

		assert_int_equal(strnum_hex_digit(c) >= 0, want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decimal_accepts),
		cmocka_unit_test(test_decimal_refuses),
		cmocka_unit_test(test_hex_digit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
