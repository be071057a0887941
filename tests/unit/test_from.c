/* Unit tests for msg/from: the From field down to one domain, and the
 * defined outcomes when there is not exactly one (RFC 7489 6.6.1). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "msg/from.h"

static void
expect_domain(const char *value, const char *domain)
{
	struct arena *a = arena_new(0);
	struct from_result r;

	if (from_parse_value(value, strlen(value), a, &r) != FROM_OK)
		fail_msg("'%s': %s", value, r.reason);
	assert_string_equal(r.domain, domain);
	assert_null(r.reason);
	arena_free(a);
}

static void
expect_status(const char *value, enum from_status st)
{
	struct arena *a = arena_new(0);
	struct from_result r;

	if (from_parse_value(value, strlen(value), a, &r) != st)
		fail_msg("'%s': got %s, want %s", value,
		    from_status_name(r.status), from_status_name(st));
	assert_non_null(r.reason);
	assert_null(r.domain);
	arena_free(a);
}

static void
test_forms(void **state)
{
	(void)state;
	expect_domain(" user@Example.COM", "example.com");
	expect_domain(" <user@example.com>", "example.com");
	expect_domain(" John Doe <jdoe@example.com>", "example.com");
	expect_domain(" \"Doe, John\" <jdoe@example.com>", "example.com");
	expect_domain(" \"evil@paypal.com\" <x@attacker.example>",
	    "attacker.example");
	expect_domain(" (comment <a@b.example>) x@c.example (more)",
	    "c.example");
	expect_domain(" x(c)@(c)c.example", "c.example");
	expect_domain(" \"quoted local\"@d.example", "d.example");
	expect_domain(" =?utf-8?q?J=C3=B6rg?= <j@e.example>", "e.example");
	expect_domain(" =?UTF-8?B?Sm9yZw==?= =?utf-8?q?_X?= <j@f.example>",
	    "f.example");
	expect_domain(" Pete(A nice \\) chap) <pete(his account)@silly.test"
	    "(his host)>", "silly.test");
	expect_domain(" team: a@g.example, b@g.example;", "g.example");
	expect_domain(" a@h.example, B <b@H.example>", "h.example");
	expect_domain(" <@route.example:u@i.example>", "i.example");
	expect_domain(" Mr. Obsolete <o@j.example>", "j.example");
	expect_domain(" user@b\xc3\xbc" "cher.example", "xn--bcher-kva.example");
	expect_domain(" x@k.example,", "k.example");
	expect_domain(" folded\r\n <f@l.example>", "l.example");
	expect_domain(" dot . atom@m.example", "m.example");
}

static void
test_display(void **state)
{
	struct arena *a = arena_new(0);
	struct from_result r;
	const char *v = " =?utf-8?q?J=C3=B6rg?= =?utf-8?q?_Z?= \"Q\" "
	    "<j@e.example>";

	(void)state;
	assert_int_equal(from_parse_value(v, strlen(v), a, &r), FROM_OK);
	assert_int_equal(r.nmailboxes, 1);
	assert_string_equal(r.mailboxes[0].display, "J\xc3\xb6rg Z Q");
	assert_string_equal(r.mailboxes[0].local, "j");
	arena_free(a);
}

static void
test_outcomes(void **state)
{
	(void)state;
	expect_status(" a@x.example, b@y.example", FROM_MULTIPLE_DOMAINS);
	expect_status(" undisclosed-recipients:;", FROM_NO_MAILBOX);
	expect_status("", FROM_NO_MAILBOX);
	expect_status("  (only a comment) ", FROM_NO_MAILBOX);
	expect_status(" MAILER-DAEMON", FROM_NO_DOMAIN);
	expect_status(" Someone <someone>", FROM_NO_DOMAIN);
	expect_status(" u@[192.0.2.1]", FROM_NO_DOMAIN);
	expect_status(" u@bad_domain.example", FROM_NO_DOMAIN);
	expect_status(" u@", FROM_SYNTAX);
	expect_status(" <u@x.example", FROM_SYNTAX);
	expect_status(" u@x.example>", FROM_SYNTAX);
	expect_status(" \"unterminated <u@x.example>", FROM_SYNTAX);
	expect_status(" (unterminated u@x.example", FROM_SYNTAX);
	expect_status(" a: b: c@x.example;;", FROM_SYNTAX);
	expect_status(" g: c@x.example", FROM_SYNTAX);
	expect_status(" u@x.example.", FROM_SYNTAX);
	expect_status(" u@x..example", FROM_SYNTAX);
	expect_status(" <>", FROM_SYNTAX);
	expect_status(" a@x.example b@x.example", FROM_SYNTAX);
}

static void
header_case(const char *msg, enum from_status st, size_t nfields)
{
	struct arena *a = arena_new(0);
	struct hdr_section hs;
	struct from_result r;

	hdr_parse(msg, strlen(msg), a, &hs);
	assert_int_equal(from_parse_header(&hs, a, &r), st);
	assert_int_equal(r.nfields, nfields);
	arena_free(a);
}

static void
test_header(void **state)
{
	(void)state;
	header_case("Subject: x\r\nFrom: a@x.example\r\n\r\nbody", FROM_OK, 1);
	header_case("Subject: x\r\n\r\nFrom: a@x.example\r\n", FROM_MISSING,
	    0);
	header_case("From: a@x.example\r\nfrom: a@x.example\r\n\r\n",
	    FROM_MULTIPLE_FIELDS, 2);
	header_case("FROM: a@x.example\n\n", FROM_OK, 1);
}

static void
test_many_mailboxes(void **state)
{
	struct arena *a = arena_new(0);
	struct buf b = BUF_INIT;
	struct from_result r;
	int i;

	(void)state;
	for (i = 0; i < 40; i++)
		buf_printf(&b, "%su%d@x.example", i ? ", " : " ", i);
	assert_int_equal(from_parse_value(b.data, b.len, a, &r),
	    FROM_MULTIPLE_DOMAINS);
	assert_int_equal(r.nmailboxes, 40);
	buf_free(&b);
	arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_display),
		cmocka_unit_test(test_outcomes),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_many_mailboxes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
