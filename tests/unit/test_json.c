/* Unit tests for core/json. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/json.h"

static void
test_nested_object_and_array(void **state)
{
	struct buf b = BUF_INIT;
	struct json j;

	(void)state;
	json_init(&j, &b);
	json_obj_begin(&j);
	json_kv_str(&j, "result", "pass");
	json_kv_int(&j, "lookups", 3);
	json_key(&j, "list");
	json_arr_begin(&j);
	json_int(&j, 1);
	json_str(&j, "two");
	json_obj_begin(&j);
	json_end(&j);
	json_null(&j);
	json_end(&j);
	json_kv_bool(&j, "ok", true);
	json_end(&j);
	assert_string_equal(buf_cstr(&b),
	    "{\"result\":\"pass\",\"lookups\":3,"
	    "\"list\":[1,\"two\",{},null],\"ok\":true}");
	buf_free(&b);
}

static void
test_escapes_and_invalid_utf8(void **state)
{
	struct buf b = BUF_INIT;
	struct json j;

	(void)state;
	json_init(&j, &b);
	json_strn(&j, "a\"b\\c\n\x01\xc3\xa9\xff", 10);
	assert_string_equal(buf_cstr(&b),
	    "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\\ufffd\"");
	buf_free(&b);
}

static void
test_overlong_utf8_replaced(void **state)
{
	struct buf b = BUF_INIT;
	struct json j;

	(void)state;
	json_init(&j, &b);
	json_str(&j, "\xc0\xaf");	/* overlong '/' */
	assert_string_equal(buf_cstr(&b), "\"\\ufffd\\ufffd\"");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_object_and_array),
		cmocka_unit_test(test_escapes_and_invalid_utf8),
		cmocka_unit_test(test_overlong_utf8_replaced),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
