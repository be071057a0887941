/* Unit tests for core/arena. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "core/arena.h"

static void
test_alloc_is_aligned_and_distinct(void **state)
{
	struct arena *a = arena_new(64);
	char *p, *q;
	int i;

	(void)state;
	for (i = 1; i < 200; i++) {
		p = arena_alloc(a, (size_t)i);
		assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
		memset(p, 0xAA, (size_t)i);	/* ASan catches overruns */
	}
	p = arena_strdup(a, "one");
	q = arena_strdup(a, "two");
	assert_ptr_not_equal(p, q);
	assert_string_equal(p, "one");
	assert_string_equal(q, "two");
	arena_free(a);
}

static void
test_large_request_gets_its_own_block(void **state)
{
	struct arena *a = arena_new(16);
	char *big;

	(void)state;
	big = arena_alloc(a, 1 << 20);
	memset(big, 1, 1 << 20);
	assert_true(arena_used(a) >= (1 << 20));
	arena_free(a);
}

static void
test_helpers(void **state)
{
	struct arena *a = arena_new(0);
	unsigned char *z;
	size_t i;

	(void)state;
	assert_string_equal(arena_strndup(a, "abcdef", 3), "abc");
	assert_string_equal(arena_printf(a, "%s=%d", "n", 5), "n=5");
	assert_memory_equal(arena_memdup(a, "x\0y", 3), "x\0y", 3);
	z = arena_calloc(a, 10, 10);
	for (i = 0; i < 100; i++)
		assert_int_equal(z[i], 0);
	arena_free(a);
}

static void
test_reset_reuses(void **state)
{
	struct arena *a = arena_new(32);
	int i;

	(void)state;
	for (i = 0; i < 100; i++)
		arena_alloc(a, 100);
	arena_reset(a);
	assert_int_equal(arena_used(a), 0);
	assert_string_equal(arena_strdup(a, "again"), "again");
	arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_is_aligned_and_distinct),
		cmocka_unit_test(test_large_request_gets_its_own_block),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_reset_reuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
