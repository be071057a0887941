/* Unit tests for core/log: level parsing and value quoting. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "core/log.h"

static void
test_quote_plain_and_special(void **state)
{
	char out[64];

	(void)state;
	assert_string_equal(log_quote(out, sizeof(out), "abc@example.org"),
	    "abc@example.org");
	assert_string_equal(log_quote(out, sizeof(out), "a b"), "\"a b\"");
	assert_string_equal(log_quote(out, sizeof(out), "k=v"), "\"k=v\"");
	assert_string_equal(log_quote(out, sizeof(out), "q\"\\"),
	    "\"q\\\"\\\\\"");
	assert_string_equal(log_quote(out, sizeof(out), "x\ny"),
	    "\"x\\x0ay\"");
	assert_string_equal(log_quote(out, sizeof(out), ""), "\"\"");
}

static void
test_quote_truncates_safely(void **state)
{
	char out[8];

	(void)state;
	log_quote(out, sizeof(out), "a very long value with spaces");
	/* cut short, but still one quoted token that fits */
	assert_true(strlen(out) < sizeof(out));
	assert_true(out[0] == '"');
	assert_true(out[strlen(out) - 1] == '"');
	assert_true(strlen(out) >= 3);
}

static void
test_level_parse(void **state)
{
	enum log_level l;
	enum log_target t;

	(void)state;
	assert_int_equal(log_level_parse("debug", &l), 0);
	assert_int_equal(l, LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_parse("WARN", &l), 0);
	assert_int_equal(l, LOG_LEVEL_WARN);
	assert_int_equal(log_level_parse("loud", &l), -1);
	assert_int_equal(log_target_parse("syslog", &t), 0);
	assert_int_equal(t, LOG_TARGET_SYSLOG);
	assert_int_equal(log_target_parse("file", &t), -1);
	log_set_level(LOG_LEVEL_WARN);
	assert_true(log_enabled(LOG_LEVEL_ERROR));
	assert_false(log_enabled(LOG_LEVEL_INFO));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote_plain_and_special),
		cmocka_unit_test(test_quote_truncates_safely),
		cmocka_unit_test(test_level_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
