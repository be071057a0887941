/*
 * Unit tests for msg/header: the RFC 5322 header-section splitter.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "msg/header.h"

static size_t
split(const char *s, struct arena *a, struct hdr_section *hs)
{
	return hdr_parse(s, strlen(s), a, hs);
}

static void
assert_field(const struct hdr_field *f, const char *name, const char *value)
{
	assert_int_equal(f->name_len, strlen(name));
	assert_memory_equal(f->name, name, f->name_len);
	assert_int_equal(f->value_len, strlen(value));
	assert_memory_equal(f->value, value, f->value_len);
}

static void
test_simple(void **state)
{
	struct arena *a = arena_new(0);
	struct hdr_section hs;
	const char *m = "From: a@example.com\r\nTo: b@example.com\r\n\r\nbody\r\n";

	(void)state;
	assert_int_equal(split(m, a, &hs), 2);
	assert_true(hs.complete);
	assert_int_equal(hs.flags, 0);
	assert_field(&hs.fields[0], "From", " a@example.com");
	assert_field(&hs.fields[1], "To", " b@example.com");
	assert_int_equal(hs.fields[0].start, 0);
	assert_int_equal(hs.fields[0].end, 21);
	assert_int_equal(hs.fields[1].start, 21);
	assert_int_equal(hs.body_offset, strlen(m) - 6);
	assert_string_equal(m + hs.body_offset, "body\r\n");
	arena_free(a);
}

static void
test_folding(void **state)
{
	struct arena *a = arena_new(0);
	struct hdr_section hs;
	const char *m = "Subject: one\r\n two\r\n\tthree\r\nX: y\r\n\r\n";

	(void)state;
	assert_int_equal(split(m, a, &hs), 2);
	assert_field(&hs.fields[0], "Subject", " one\r\n two\r\n\tthree");
	assert_int_equal(hs.fields[0].end, 28);
	assert_field(&hs.fields[1], "X", " y");
	assert_int_equal(hs.body_offset, strlen(m));
	arena_free(a);
}

static void
test_no_body_no_blank(void **state)
{
	struct arena *a = arena_new(0);
	struct hdr_section hs;
	const char *m = "A: 1\r\nB: 2";

	(void)state;
	assert_int_equal(split(m, a, &hs), 2);
	assert_false(hs.complete);
	assert_int_equal(hs.body_offset, strlen(m));
	assert_true(hs.fields[1].flags & HDR_F_NO_EOL);
	assert_field(&hs.fields[1], "B", " 2");
	arena_free(a);
}

static void
test_empty_input(void **state)
{
	struct arena *a = arena_new(0);
	struct hdr_section hs;

	(void)state;
	assert_int_equal(hdr_parse("", 0, a, &hs), 0);
	assert_false(hs.complete);
	assert_int_equal(hs.body_offset, 0);
	assert_int_equal(split("\r\nbody", a, &hs), 0);
	assert_true(hs.complete);
	assert_int_equal(hs.body_offset, 2);
	arena_free(a);
}

static void
test_bare_lf(void **state)
{
	struct arena *a = arena_new(0);
	struct hdr_section hs;
	const char *m = "From: x\nSubject: a\n b\n\nbody\n";

	(void)state;
	assert_int_equal(split(m, a, &hs), 2);
	assert_true(hs.complete);
	assert_true(hs.flags & HDR_F_BARE_LF);
	assert_true(hs.fields[0].flags & HDR_F_BARE_LF);
	assert_field(&hs.fields[1], "Subject", " a\n b");
	assert_string_equal(m + hs.body_offset, "body\n");
	arena_free(a);
}

static void
test_bare_cr_is_a_byte(void **state)
{
	struct arena *a = arena_new(0);
	struct hdr_section hs;
	const char *m = "X: a\rb\r\n\r\n";

	(void)state;
	assert_int_equal(split(m, a, &hs), 1);
	assert_field(&hs.fields[0], "X", " a\rb");
	arena_free(a);
}

static void
test_malformed_lines(void **state)
{
	struct arena *a = arena_new(0);
	struct hdr_section hs;
	const char *m = " orphan\r\nFrom sender Mon\r\nBad Name: v\r\n"
	    "Obs  : w\r\n: empty\r\n\r\n";

	(void)state;
	assert_int_equal(split(m, a, &hs), 5);
	assert_true(hs.fields[0].flags & HDR_F_ORPHAN_FOLD);
	assert_true(hs.fields[1].flags & HDR_F_NO_COLON);
	assert_false(hdr_name_is(&hs.fields[1], "From"));
	assert_true(hs.fields[2].flags & HDR_F_BAD_NAME);
	assert_true(hs.fields[3].flags & HDR_F_OBS_WSP);
	assert_field(&hs.fields[3], "Obs", " w");
	assert_true(hs.fields[4].flags & HDR_F_BAD_NAME);
	/* byte ranges stay contiguous over malformed lines */
	for (size_t i = 1; i < hs.n; i++)
		assert_int_equal(hs.fields[i].start, hs.fields[i - 1].end);
	arena_free(a);
}

static void
test_many_fields(void **state)
{
	struct arena *a = arena_new(0);
	struct hdr_section hs;
	char m[40 * 12 + 3];
	size_t i, k = 0;

	(void)state;
	for (i = 0; i < 40; i++)
		k += (size_t)snprintf(m + k, sizeof(m) - k, "H%02zu: v%03zu\r\n",
		    i, i);
	memcpy(m + k, "\r\n", 3);
	assert_int_equal(hdr_parse(m, k + 2, a, &hs), 40);
	assert_field(&hs.fields[39], "H39", " v039");
	arena_free(a);
}

static void
test_name_compare(void **state)
{
	(void)state;
	assert_true(hdr_name_eq("DKIM-Signature", 14, "dkim-signature", 14));
	assert_false(hdr_name_eq("From", 4, "Fro", 3));
	assert_false(hdr_name_eq("From", 4, "Frmo", 4));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_folding),
		cmocka_unit_test(test_no_body_no_blank),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_bare_lf),
		cmocka_unit_test(test_bare_cr_is_a_byte),
		cmocka_unit_test(test_malformed_lines),
		cmocka_unit_test(test_many_fields),
		cmocka_unit_test(test_name_compare),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
