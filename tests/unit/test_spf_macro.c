/* Unit tests for auth/spf/spf_macro: RFC 7208 section 7 syntax and expansion,
 * including every example of section 7.4. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "auth/spf/spf_macro.h"
#include "core/arena.h"

/* The values of RFC 7208 7.4. */
static struct spf_macro_vars
rfc_vars(const char *ip)
{
	struct spf_macro_vars v;

	memset(&v, 0, sizeof(v));
	v.sender = "strong-bad@email.example.com";
	v.local = "strong-bad";
	v.sender_domain = "email.example.com";
	v.domain = "email.example.com";
	v.helo = "mx.example.org";
	v.now = 1700000000;
	assert_int_equal(ip_parse(ip, strlen(ip), &v.ip), 0);
	return v;
}

static void
expect(const struct spf_macro_vars *v, enum spf_macro_kind kind,
    const char *in, const char *want)
{
	struct arena *a = arena_new(0);
	const char *why = NULL;
	char *out = NULL;

	if (spf_macro_expand(a, in, strlen(in), kind, v, &out, &why) != 0)
		fail_msg("%s: %s", in, why);
	assert_string_equal(out, want);
	arena_free(a);
}

static void
expect_error(enum spf_macro_kind kind, const char *in)
{
	struct spf_macro_vars v = rfc_vars("192.0.2.3");
	struct arena *a = arena_new(0);
	const char *why = NULL;
	char *out = NULL;

	if (spf_macro_expand(a, in, strlen(in), kind, &v, &out, &why) == 0)
		fail_msg("'%s' expanded to '%s', expected an error", in, out);
	assert_non_null(why);
	assert_int_equal(spf_macro_check(in, strlen(in), kind, NULL, &why),
	    -1);
	arena_free(a);
}

static void
test_rfc_7_4_letters(void **state)
{
	struct spf_macro_vars v = rfc_vars("192.0.2.3");

	(void)state;
	expect(&v, SPF_MACRO_DOMAIN, "%{s}", "strong-bad@email.example.com");
	expect(&v, SPF_MACRO_DOMAIN, "%{o}", "email.example.com");
	expect(&v, SPF_MACRO_DOMAIN, "%{d}", "email.example.com");
	expect(&v, SPF_MACRO_DOMAIN, "%{d4}", "email.example.com");
	expect(&v, SPF_MACRO_DOMAIN, "%{d3}", "email.example.com");
	expect(&v, SPF_MACRO_DOMAIN, "%{d2}", "example.com");
	expect(&v, SPF_MACRO_DOMAIN, "%{d1}", "com");
	expect(&v, SPF_MACRO_DOMAIN, "%{dr}", "com.example.email");
	expect(&v, SPF_MACRO_DOMAIN, "%{d2r}", "example.email");
	expect(&v, SPF_MACRO_DOMAIN, "%{l}", "strong-bad");
	expect(&v, SPF_MACRO_DOMAIN, "%{l-}", "strong.bad");
	expect(&v, SPF_MACRO_DOMAIN, "%{lr}", "strong-bad");
	expect(&v, SPF_MACRO_DOMAIN, "%{lr-}", "bad.strong");
	expect(&v, SPF_MACRO_DOMAIN, "%{l1r-}", "strong");
}

static void
test_rfc_7_4_strings(void **state)
{
	struct spf_macro_vars v = rfc_vars("192.0.2.3");

	(void)state;
	expect(&v, SPF_MACRO_DOMAIN, "%{ir}.%{v}._spf.%{d2}",
	    "3.2.0.192.in-addr._spf.example.com");
	expect(&v, SPF_MACRO_DOMAIN, "%{lr-}.lp._spf.%{d2}",
	    "bad.strong.lp._spf.example.com");
	expect(&v, SPF_MACRO_DOMAIN, "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
	    "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
	expect(&v, SPF_MACRO_DOMAIN, "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
	    "3.2.0.192.in-addr.strong.lp._spf.example.com");
	expect(&v, SPF_MACRO_DOMAIN, "%{d2}.trusted-domains.example.net",
	    "example.com.trusted-domains.example.net");
}

static void
test_rfc_7_4_ipv6(void **state)
{
	struct spf_macro_vars v = rfc_vars("2001:db8::cb01");

	(void)state;
	expect(&v, SPF_MACRO_DOMAIN, "%{ir}.%{v}._spf.%{d2}",
	    "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
	    ".ip6._spf.example.com");
	expect(&v, SPF_MACRO_EXPLAIN, "%{c}", "2001:db8::cb01");
	expect(&v, SPF_MACRO_DOMAIN, "%{v}", "ip6");
}

static void
test_escapes_and_url_encoding(void **state)
{
	struct spf_macro_vars v = rfc_vars("192.0.2.3");

	(void)state;
	expect(&v, SPF_MACRO_EXPLAIN, "100%% sure%_%-x", "100% sure %20x");
	/* uppercase letters URL-escape everything but unreserved bytes */
	expect(&v, SPF_MACRO_EXPLAIN, "%{S}", "strong-bad%40email.example.com");
	expect(&v, SPF_MACRO_EXPLAIN, "%{L}", "strong-bad");
	v.local = "a b/c~d";
	expect(&v, SPF_MACRO_EXPLAIN, "%{L}", "a%20b%2Fc~d");
	expect(&v, SPF_MACRO_EXPLAIN, "%{l}", "a b/c~d");
	/* explain-strings keep their spaces */
	expect(&v, SPF_MACRO_EXPLAIN, "see  http://x/%{d}",
	    "see  http://x/email.example.com");
}

static void
test_exp_only_letters(void **state)
{
	struct spf_macro_vars v = rfc_vars("192.0.2.3");

	(void)state;
	expect(&v, SPF_MACRO_EXPLAIN, "%{c} %{r} %{t}",
	    "192.0.2.3 unknown 1700000000");
	v.receiver = "mx.example.net";
	expect(&v, SPF_MACRO_EXPLAIN, "%{r}", "mx.example.net");
	expect_error(SPF_MACRO_DOMAIN, "%{c}.example.com");
	expect_error(SPF_MACRO_DOMAIN, "%{r}.example.com");
	expect_error(SPF_MACRO_DOMAIN, "%{t}.example.com");
}

static void
test_delimiters(void **state)
{
	struct spf_macro_vars v = rfc_vars("192.0.2.3");

	(void)state;
	v.local = "foo-bar+zip+quux";
	expect(&v, SPF_MACRO_DOMAIN, "%{l-+}", "foo.bar.zip.quux");
	expect(&v, SPF_MACRO_DOMAIN, "%{l2r+-}", "bar.foo");
	expect(&v, SPF_MACRO_DOMAIN, "%{l=,/_}", "foo-bar+zip+quux");
	/* many more parts requested than there are: all of them */
	expect(&v, SPF_MACRO_DOMAIN, "%{d99999999999}", "email.example.com");
}

static void
test_syntax_errors(void **state)
{
	(void)state;
	expect_error(SPF_MACRO_DOMAIN, "%");
	expect_error(SPF_MACRO_DOMAIN, "a%b");
	expect_error(SPF_MACRO_DOMAIN, "%(ir).x.com");
	expect_error(SPF_MACRO_DOMAIN, "%{");
	expect_error(SPF_MACRO_DOMAIN, "%{d");
	expect_error(SPF_MACRO_DOMAIN, "%{x}");
	expect_error(SPF_MACRO_DOMAIN, "%{d0}");
	expect_error(SPF_MACRO_DOMAIN, "%{d2rr}");
	expect_error(SPF_MACRO_DOMAIN, "%{d!}");
	expect_error(SPF_MACRO_DOMAIN, "a b");
	expect_error(SPF_MACRO_DOMAIN, "a\tb");
	expect_error(SPF_MACRO_EXPLAIN, "caf\xc3\xa9");
	expect_error(SPF_MACRO_EXPLAIN, "%{a}");
}

static void
test_check_ends_in_macro(void **state)
{
	bool end = false;
	const char *why = NULL;

	(void)state;
	assert_int_equal(spf_macro_check("x.%{d}", 6, SPF_MACRO_DOMAIN, &end,
	    &why), 0);
	assert_true(end);
	assert_int_equal(spf_macro_check("%{d}.com", 8, SPF_MACRO_DOMAIN, &end,
	    &why), 0);
	assert_false(end);
	assert_int_equal(spf_macro_check("x%%", 3, SPF_MACRO_DOMAIN, &end,
	    &why), 0);
	assert_true(end);
	assert_int_equal(spf_macro_check("", 0, SPF_MACRO_DOMAIN, &end, &why),
	    0);
	assert_false(end);
}

static void
test_uses_p(void **state)
{
	(void)state;
	assert_true(spf_macro_uses_p("%{p}", 4));
	assert_true(spf_macro_uses_p("x.%{P2r}.y", 10));
	assert_false(spf_macro_uses_p("%%{p}", 5));
	assert_false(spf_macro_uses_p("%{d}.p", 6));
}

static void
test_p_validated(void **state)
{
	struct spf_macro_vars v = rfc_vars("192.0.2.3");
	const char *names[] = { "other.example.net", "mx.example.com",
	    "email.example.com" };

	(void)state;
	expect(&v, SPF_MACRO_EXPLAIN, "%{p}", "unknown");
	v.validated = names;
	v.nvalidated = 1;
	expect(&v, SPF_MACRO_EXPLAIN, "%{p}", "other.example.net");
	/* a subdomain of <domain> is preferred over an unrelated name */
	v.domain = "example.com";
	v.nvalidated = 2;
	expect(&v, SPF_MACRO_EXPLAIN, "%{p}", "mx.example.com");
	/* <domain> itself is preferred over a subdomain */
	v.domain = "email.example.com";
	v.nvalidated = 3;
	expect(&v, SPF_MACRO_EXPLAIN, "%{p}", "email.example.com");
}

static void
test_domain_truncation(void **state)
{
	struct spf_macro_vars v = rfc_vars("192.0.2.3");
	struct arena *a = arena_new(0);
	const char *why = NULL;
	char *out = NULL;
	/* 8 x "email.example.com." (18) + "example.com" = 155 + ... */
	const char *in = "x.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}."
	    "%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.example.com.";

	(void)state;
	assert_int_equal(spf_macro_expand(a, in, strlen(in), SPF_MACRO_DOMAIN,
	    &v, &out, &why), 0);
	assert_true(strlen(out) <= SPF_DOMAIN_MAX);
	/* whole labels went from the left; the final dot went too */
	assert_true(strncmp(out, "email.", 6) == 0 ||
	    strncmp(out, "example.", 8) == 0 || strncmp(out, "com.", 4) == 0);
	assert_true(strcmp(out + strlen(out) - 12, ".example.com") == 0);
	/* a name that fits keeps everything but its final dot */
	expect(&v, SPF_MACRO_DOMAIN, "%{d}.", "email.example.com");
	arena_free(a);
}

static void
test_domain_within(void **state)
{
	(void)state;
	assert_true(spf_domain_within("mail.Example.com", "example.COM"));
	assert_true(spf_domain_within("example.com.", "example.com"));
	assert_false(spf_domain_within("badexample.com", "example.com"));
	assert_false(spf_domain_within("com", "example.com"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_7_4_letters),
		cmocka_unit_test(test_rfc_7_4_strings),
		cmocka_unit_test(test_rfc_7_4_ipv6),
		cmocka_unit_test(test_escapes_and_url_encoding),
		cmocka_unit_test(test_exp_only_letters),
		cmocka_unit_test(test_delimiters),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_check_ends_in_macro),
		cmocka_unit_test(test_uses_p),
		cmocka_unit_test(test_p_validated),
		cmocka_unit_test(test_domain_truncation),
		cmocka_unit_test(test_domain_within),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
