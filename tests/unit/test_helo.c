/* Unit tests for smtp/helo: the EHLO/HELO argument syntax. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "smtp/helo.h"

/* The kind of a NUL-terminated argument; *why set to the reason. */
static enum helo_kind
check(const char *s, const char **why)
{
	return helo_check(s, strlen(s), why);
}

static void
expect_domain(const char *s)
{
	const char *why = "unset";

	if (check(s, &why) != HELO_DOMAIN)
		fail_msg("\"%s\" refused: %s", s, why ? why : "?");
	assert_null(why);
}

static void
expect_literal(const char *s)
{
	const char *why = "unset";

	if (check(s, &why) != HELO_ADDRESS_LITERAL)
		fail_msg("\"%s\" not a literal: %s", s, why ? why : "?");
	assert_null(why);
}

static void
expect_invalid_n(const char *s, size_t n, const char *reason)
{
	const char *why = NULL;

	if (helo_check(s, n, &why) != HELO_INVALID)
		fail_msg("\"%.*s\" accepted", (int)n, s);
	assert_non_null(why);
	assert_string_equal(why, reason);
}

static void
expect_invalid(const char *s, const char *reason)
{
	expect_invalid_n(s, strlen(s), reason);
}

/* "a.a.a...." of n octets, every label one letter. */
static void
dotted(char *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = i % 2 ? '.' : 'a';
	out[n] = '\0';
}

static void
test_domains(void **state)
{
	(void)state;
	expect_domain("mail.example.org");
	expect_domain("MAIL.Example.ORG");
	expect_domain("mx1.example.org");
	expect_domain("xn--bcher-kva.example");
	expect_domain("a-b--c.example");
	expect_domain("3com.example");
	expect_domain("a");
	expect_domain("9");
	/* syntactically Domains; plausibility is judged elsewhere */
	expect_domain("localhost");
	expect_domain("WORKSTATION");
	expect_domain("192.0.2.1");
}

static void
test_underscore_and_trailing_dot(void **state)
{
	(void)state;
	expect_domain("MY_PC.corp.example");
	expect_domain("_host.example");
	expect_domain("host_.example");
	expect_domain("mail.example.org.");
	expect_domain("localhost.");
	expect_invalid(".", "empty-label");
	expect_invalid("..", "empty-label");
	expect_invalid("mail.example.org..", "empty-label");
}

static void
test_bad_labels(void **state)
{
	(void)state;
	expect_invalid(".example.org", "empty-label");
	expect_invalid("mail..example.org", "empty-label");
	expect_invalid("-mail.example.org", "misplaced-hyphen");
	expect_invalid("mail-.example.org", "misplaced-hyphen");
	expect_invalid("mail.-", "misplaced-hyphen");
	expect_invalid("-", "misplaced-hyphen");
	expect_invalid("mail example.org", "bad-character");
	expect_invalid("mail.example.org\t", "control-character");
	expect_invalid("user@example.org", "bad-character");
	expect_invalid("<mail.example.org>", "bad-character");
	expect_invalid("mail.example.org;", "bad-character");
	expect_invalid("\"quoted\"", "bad-character");
	expect_invalid("a(b)", "bad-character");
	expect_invalid("mail\\.example", "bad-character");
	expect_invalid("mail:25", "bad-character");
	expect_invalid("192.0.2.1]", "bad-character");
}

static void
test_control_nul_8bit(void **state)
{
	(void)state;
	expect_invalid("mail\rexample", "control-character");
	expect_invalid("mail\nlevel=info event=forged", "control-character");
	expect_invalid("\x1b[31mred", "control-character");
	expect_invalid("del\x7f", "control-character");
	expect_invalid_n("mail\0.example.org", 17, "control-character");
	expect_invalid_n("\0", 1, "control-character");
	expect_invalid("b\xc3\xbc" "cher.example", "8bit-character");
	expect_invalid("\xff\xfe", "8bit-character");
	expect_invalid("[\xc3\xbc]", "8bit-character");
	expect_invalid("[192.0.2.1\n]", "control-character");
}

static void
test_lengths(void **state)
{
	char name[600];

	(void)state;
	expect_invalid("", "empty");
	memset(name, 'a', 63);
	strcpy(name + 63, ".example");
	expect_domain(name);
	memset(name, 'a', 64);
	strcpy(name + 64, ".example");
	expect_invalid(name, "label-too-long");
	memset(name, 'a', 64);
	name[64] = '\0';
	expect_invalid(name, "label-too-long");
	/* the last label too */
	strcpy(name, "mail.");
	memset(name + 5, 'b', 64);
	name[69] = '\0';
	expect_invalid(name, "label-too-long");
	dotted(name, 255);
	expect_domain(name);
	dotted(name, 254);	/* ends in a dot: tolerated */
	expect_domain(name);
	dotted(name, 256);
	expect_invalid(name, "too-long");
	/* the 993-octet name of the review */
	dotted(name, 593);
	expect_invalid(name, "too-long");
	memset(name, 'x', 255);
	name[255] = '\0';
	expect_invalid(name, "label-too-long");
}

static void
test_ipv4_literals(void **state)
{
	(void)state;
	expect_literal("[192.0.2.1]");
	expect_literal("[0.0.0.0]");
	expect_literal("[255.255.255.255]");
	expect_literal("[010.0.0.1]");	/* Snum allows leading zeros */
	expect_invalid("[256.0.0.1]", "bad-address-literal");
	expect_invalid("[192.0.2]", "bad-address-literal");
	expect_invalid("[192.0.2.1.5]", "bad-address-literal");
	expect_invalid("[192.0.2.]", "bad-address-literal");
	expect_invalid("[.192.0.2]", "bad-address-literal");
	expect_invalid("[1922.0.2.1]", "bad-address-literal");
	expect_invalid("[0001.0.2.1]", "bad-address-literal");
	expect_invalid("[192.0.2.1", "bad-address-literal");
	expect_invalid("[192.0.2.1] ", "bad-address-literal");
	expect_invalid("[192.0.2.1]x", "bad-address-literal");
	expect_invalid("[]", "bad-address-literal");
	expect_invalid("[", "bad-address-literal");
	expect_invalid("[ 192.0.2.1]", "bad-address-literal");
	expect_invalid("[mail.example.org]", "bad-address-literal");
}

static void
test_ipv6_literals(void **state)
{
	(void)state;
	expect_literal("[IPv6:2001:db8::1]");
	expect_literal("[ipv6:2001:DB8::1]");
	expect_literal("[IPv6:2001:db8:0:0:0:0:0:1]");
	expect_literal("[IPv6:::1]");
	expect_literal("[IPv6:::]");
	expect_literal("[IPv6:::ffff:192.0.2.1]");
	expect_literal("[IPv6:2001:db8::192.0.2.1]");
	expect_invalid("[IPv6:2001:db8::1::2]", "bad-address-literal");
	expect_invalid("[IPv6:2001:db8:::1]", "bad-address-literal");
	expect_invalid("[IPv6:12345::1]", "bad-address-literal");
	expect_invalid("[IPv6:fe80::1%eth0]", "bad-address-literal");
	expect_invalid("[IPv6:192.0.2.1]", "bad-address-literal");
	expect_invalid("[IPv6:]", "bad-address-literal");
	expect_invalid("[IPv6:g::1]", "bad-address-literal");
	/* without the tag an IPv6 address is no IPv6 literal: this one
	 * still parses as a General-address-literal with tag "2001" */
	expect_literal("[2001:db8::1]");
	expect_invalid("[::1]", "bad-address-literal");
}

static void
test_general_literals(void **state)
{
	(void)state;
	expect_literal("[x-tag:content]");
	expect_literal("[X400:c=us;a=;p=x]");
	expect_literal("[tag:!\"#$%&'()*+,-./Z^_`{|}~]");
	expect_invalid("[tag:]", "bad-address-literal");
	expect_invalid("[:content]", "bad-address-literal");
	expect_literal("[-tag:content]");	/* Ldh-str may start with '-' */
	expect_invalid("[tag-:content]", "bad-address-literal");
	expect_invalid("[t_g:content]", "bad-address-literal");
	expect_invalid("[tag:a b]", "bad-address-literal");
	expect_invalid("[tag:a[b]", "bad-address-literal");
	expect_invalid("[tag:a\\b]", "bad-address-literal");
	expect_invalid("[tag:a]b]", "bad-address-literal");
}

static void
test_reason_optional(void **state)
{
	(void)state;
	assert_int_equal(helo_check("mail.example.org", 16, NULL),
	    HELO_DOMAIN);
	assert_int_equal(helo_check("bad..name", 9, NULL), HELO_INVALID);
	/* the length is the bound, not a NUL */
	assert_int_equal(helo_check("mail.example.org", 4, NULL),
	    HELO_DOMAIN);
	assert_int_equal(helo_check("[192.0.2.1]", 10, NULL), HELO_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domains),
		cmocka_unit_test(test_underscore_and_trailing_dot),
		cmocka_unit_test(test_bad_labels),
		cmocka_unit_test(test_control_nul_8bit),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_ipv4_literals),
		cmocka_unit_test(test_ipv6_literals),
		cmocka_unit_test(test_general_literals),
		cmocka_unit_test(test_reason_optional),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
