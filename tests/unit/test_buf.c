/* Unit tests for core/buf. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

static void
test_empty_is_empty_string(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_string_equal(buf_cstr(&b), "");
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void
test_append_grows_and_keeps_nul(void **state)
{
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < 10000; i++)
		buf_append_char(&b, (char)('a' + i % 26));
	assert_int_equal(b.len, 10000);
	assert_int_equal(b.data[10000], '\0');
	assert_int_equal(b.data[9999], 'a' + 9999 % 26);
	assert_true(b.cap > b.len);
	buf_free(&b);
}

static void
test_binary_content_keeps_length(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_append(&b, "a\0b", 3);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 3);
	buf_free(&b);
}

static void
test_printf_appends(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_append_str(&b, "x=");
	buf_printf(&b, "%d,%s", 42, "y");
	assert_string_equal(buf_cstr(&b), "x=42,y");
	buf_reset(&b);
	assert_string_equal(buf_cstr(&b), "");
	buf_printf(&b, "%0500d", 7);
	assert_int_equal(b.len, 500);
	buf_free(&b);
}

static void
test_steal_hands_over(void **state)
{
	struct buf b = BUF_INIT;
	char *s;

	(void)state;
	s = buf_steal(&b);
	assert_string_equal(s, "");
	free(s);
	buf_append_str(&b, "hello");
	s = buf_steal(&b);
	assert_string_equal(s, "hello");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_is_empty_string),
		cmocka_unit_test(test_append_grows_and_keeps_nul),
		cmocka_unit_test(test_binary_content_keeps_length),
		cmocka_unit_test(test_printf_appends),
		cmocka_unit_test(test_steal_hands_over),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
