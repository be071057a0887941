/* Unit tests for auth/spf/spf_record: the RFC 7208 ABNF, term by term. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <sys/socket.h>

#include "auth/spf/spf_record.h"
#include "core/arena.h"

static enum spf_parse_result
parse(struct arena *a, const char *s, struct spf_record *rec)
{
	const char *why = NULL;
	enum spf_parse_result r;

	r = spf_record_parse(a, s, strlen(s), rec, &why);
	if (r == SPF_PARSE_ERROR)
		assert_non_null(why);
	return r;
}

static void
expect_ok(const char *s)
{
	struct arena *a = arena_new(0);
	struct spf_record rec;
	const char *why = NULL;

	if (spf_record_parse(a, s, strlen(s), &rec, &why) != SPF_PARSE_OK)
		fail_msg("'%s' should parse: %s", s, why ? why : "not SPF");
	arena_free(a);
}

static void
expect_error(const char *s)
{
	struct arena *a = arena_new(0);
	struct spf_record rec;
	const char *why = NULL;

	if (spf_record_parse(a, s, strlen(s), &rec, &why) != SPF_PARSE_ERROR)
		fail_msg("'%s' should be a syntax error", s);
	assert_non_null(why);
	arena_free(a);
}

static void
test_version(void **state)
{
	(void)state;
	assert_true(spf_record_is_spf("v=spf1", 6));
	assert_true(spf_record_is_spf("V=SPF1 -all", 11));
	assert_true(spf_record_is_spf("v=spf1 ", 7));
	assert_false(spf_record_is_spf("v=spf10", 7));
	assert_false(spf_record_is_spf("v=spf1-all", 10));
	assert_false(spf_record_is_spf(" v=spf1", 7));
	assert_false(spf_record_is_spf("v=spf", 5));
	assert_false(spf_record_is_spf("spf2.0/pra", 10));
}

static void
test_not_spf(void **state)
{
	struct arena *a = arena_new(0);
	struct spf_record rec;

	(void)state;
	/* non-ASCII in a record that is not SPF is none of our business */
	assert_int_equal(parse(a, "caf\xc3\xa9 v=spf1", &rec),
	    SPF_PARSE_NOT_SPF);
	assert_int_equal(parse(a, "google-site-verification=x", &rec),
	    SPF_PARSE_NOT_SPF);
	arena_free(a);
}

static void
test_mechanisms(void **state)
{
	struct arena *a = arena_new(0);
	struct spf_record rec;
	const char *s = "v=spf1 +all -include:_spf.example.com ~a ?mx:mx.ex.org"
	    "/24//64 ptr ip4:192.0.2.1/24 ip6:2001:db8::/32 exists:%{i}.x.com"
	    " ptr:example.com a//0";

	(void)state;
	assert_int_equal(parse(a, s, &rec), SPF_PARSE_OK);
	assert_int_equal(rec.nmechs, 10);
	assert_int_equal(rec.mechs[0].kind, SPF_MECH_ALL);
	assert_int_equal(rec.mechs[0].qual, SPF_QUAL_PASS);
	assert_true(rec.has_all);
	assert_int_equal(rec.mechs[1].kind, SPF_MECH_INCLUDE);
	assert_int_equal(rec.mechs[1].qual, SPF_QUAL_FAIL);
	assert_string_equal(rec.mechs[1].domain_spec, "_spf.example.com");
	assert_string_equal(rec.mechs[1].text, "-include:_spf.example.com");
	assert_int_equal(rec.mechs[2].kind, SPF_MECH_A);
	assert_int_equal(rec.mechs[2].qual, SPF_QUAL_SOFTFAIL);
	assert_null(rec.mechs[2].domain_spec);
	assert_int_equal(rec.mechs[2].cidr4, 32);
	assert_int_equal(rec.mechs[2].cidr6, 128);
	assert_int_equal(rec.mechs[3].kind, SPF_MECH_MX);
	assert_int_equal(rec.mechs[3].qual, SPF_QUAL_NEUTRAL);
	assert_string_equal(rec.mechs[3].domain_spec, "mx.ex.org");
	assert_int_equal(rec.mechs[3].cidr4, 24);
	assert_int_equal(rec.mechs[3].cidr6, 64);
	assert_int_equal(rec.mechs[4].kind, SPF_MECH_PTR);
	assert_int_equal(rec.mechs[5].kind, SPF_MECH_IP4);
	assert_int_equal(rec.mechs[5].net.prefix, 24);
	assert_int_equal(rec.mechs[5].net.addr.a[3], 0);	/* host bits */
	assert_int_equal(rec.mechs[6].kind, SPF_MECH_IP6);
	assert_int_equal(rec.mechs[6].net.addr.family, AF_INET6);
	assert_int_equal(rec.mechs[6].net.prefix, 32);
	assert_int_equal(rec.mechs[7].kind, SPF_MECH_EXISTS);
	assert_string_equal(rec.mechs[7].domain_spec, "%{i}.x.com");
	assert_string_equal(rec.mechs[8].domain_spec, "example.com");
	assert_int_equal(rec.mechs[9].cidr4, 32);
	assert_int_equal(rec.mechs[9].cidr6, 0);
	arena_free(a);
}

static void
test_modifiers(void **state)
{
	struct arena *a = arena_new(0);
	struct spf_record rec;

	(void)state;
	assert_int_equal(parse(a, "v=spf1 redirect=_spf.example.com "
	    "exp=explain._spf.%{d} moo.cow-far_out=man:dog/cat", &rec),
	    SPF_PARSE_OK);
	assert_int_equal(rec.nmechs, 0);
	assert_string_equal(rec.redirect, "_spf.example.com");
	assert_string_equal(rec.exp, "explain._spf.%{d}");
	assert_int_equal(rec.nunknown, 1);
	assert_false(rec.has_all);
	/* names are case-insensitive */
	assert_int_equal(parse(a, "v=spf1 REDIRECT=x.example.com", &rec),
	    SPF_PARSE_OK);
	assert_string_equal(rec.redirect, "x.example.com");
	arena_free(a);
}

static void
test_spacing(void **state)
{
	(void)state;
	expect_ok("v=spf1");
	expect_ok("v=spf1 ");
	expect_ok("v=spf1   -all   ");
	/* "v=spf1" must be followed by a space: a tab makes it not SPF */
	assert_false(spf_record_is_spf("v=spf1\t-all", 11));
	expect_error("v=spf1 -all\ta");
	expect_error("v=spf1 ip4:192.0.2.5\n include:x.example.com");
	expect_error("v=spf1 -all\r");
}

static void
test_syntax_errors(void **state)
{
	(void)state;
	expect_error("v=spf1 -all.");
	expect_error("v=spf1 -all:foobar");
	expect_error("v=spf1 -all/8");
	expect_error("v=spf1 foo");
	expect_error("v=spf1 !a");
	expect_error("v=spf1 include");
	expect_error("v=spf1 include:");
	expect_error("v=spf1 exists");
	expect_error("v=spf1 ptr:");
	expect_error("v=spf1 a:");
	expect_error("v=spf1 redirect:x.example.com");
	expect_error("v=spf1 =x");
	/* non-ASCII anywhere in an SPF record */
	expect_error("v=spf1 a:caf\xc3\xa9.example.com -all");
	expect_error("v=spf1 -all exp=\xc3\xa9.example.com");
	expect_error("v=spf1 -all moo=\xc3\xa9");
}

static void
test_duplicate_modifiers(void **state)
{
	(void)state;
	expect_error("v=spf1 redirect=a.example.com redirect=b.example.com");
	expect_error("v=spf1 exp=a.example.com exp=b.example.com -all");
	expect_ok("v=spf1 moo=1 moo=2 -all");
}

static void
test_cidr(void **state)
{
	(void)state;
	expect_ok("v=spf1 a/0 a/32 a//0 a//128 a/24//64 mx:x.example.com/1");
	expect_error("v=spf1 a/33");
	expect_error("v=spf1 a//129");
	expect_error("v=spf1 a/024");
	expect_error("v=spf1 a//064");
	expect_error("v=spf1 a/");
	expect_error("v=spf1 a//");
	expect_error("v=spf1 a/24/64");
	expect_error("v=spf1 a:example.com/24/");
	expect_error("v=spf1 ptr/24");
	expect_ok("v=spf1 ip4:0.0.0.0/0 ip6:::/0 ip6:::ffff:1.2.3.4");
	expect_error("v=spf1 ip4:1.2.3.4/33");
	expect_error("v=spf1 ip4:1.2.3.4/");
	expect_error("v=spf1 ip4:1.2.3.4//32");
	expect_error("v=spf1 ip6:::1/129");
	expect_error("v=spf1 ip4:1.2.3");
	expect_error("v=spf1 ip4:1.2.3.04");
	expect_error("v=spf1 ip4:256.2.3.4");
	expect_error("v=spf1 ip4:::1");
	expect_error("v=spf1 ip6:1.2.3.4");
	expect_error("v=spf1 ip4");
	expect_error("v=spf1 ip4:");
}

static void
test_domain_spec(void **state)
{
	const char *why = NULL;

	(void)state;
	expect_ok("v=spf1 a:foo.example.com.");
	expect_ok("v=spf1 a:%{d} a:x.%{d} a:%{l}.x.com a:%{d}.x.com.");
	/* domain-end: a final dot needs a literal top label before it */
	expect_error("v=spf1 a:x.%{d}.");
	expect_ok("v=spf1 a:1-2.x.1-2");
	expect_error("v=spf1 a:museum");
	expect_error("v=spf1 a:museum.");
	expect_error("v=spf1 a:111.222.33.44");
	expect_error("v=spf1 a:foo.-bar");
	expect_error("v=spf1 a:foo.bar-");
	expect_error("v=spf1 include:foo.example.com%");
	expect_error("v=spf1 exists:%(ir).sbl.example.com");
	expect_error("v=spf1 exists:%{c}.example.com");
	expect_error("v=spf1 a:%{a}.example.com");
	expect_error("v=spf1 redirect=%{d0}.example.com");
	/* unknown modifiers may use c, r, t; they are never expanded */
	expect_ok("v=spf1 moo=%{c}%{r}%{t}");
	expect_error("v=spf1 moo=%{z}");
	assert_int_equal(spf_domain_spec_check("x.com", 5, &why), 0);
	assert_int_equal(spf_domain_spec_check("", 0, &why), -1);
}

static void
test_all_makes_redirect_moot(void **state)
{
	struct arena *a = arena_new(0);
	struct spf_record rec;

	(void)state;
	assert_int_equal(parse(a, "v=spf1 redirect=x.example.com ?all", &rec),
	    SPF_PARSE_OK);
	assert_true(rec.has_all);
	assert_non_null(rec.redirect);
	arena_free(a);
}

/* Which domain-specs are query names as written (no expansion, no
 * escapes, queryable): the engine sends those without looking again. */
static void
test_plain_names(void **state)
{
	struct arena *a = arena_new(0);
	struct spf_record rec;
	const char *s = "v=spf1 include:_spf.example.com a:b.example.com. "
	    "mx:%{d}.x.example exists:a..example.com include:x(y).example "
	    "a:x%%y.example a:x\\y.example ptr:.example.com "
	    "include:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    ".example a ip4:192.0.2.1 mx:mx-1.example.org";
	static const bool want[] = {
		true, false, false, false, false, false, false, false, false,
		false, false, true,
	};
	size_t i;

	(void)state;
	assert_int_equal(parse(a, s, &rec), SPF_PARSE_OK);
	assert_int_equal(rec.nmechs, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < rec.nmechs; i++)
		if (rec.mechs[i].plain_name != want[i])
			fail_msg("mechanism %zu (%s): plain_name %d", i,
			    rec.mechs[i].text, rec.mechs[i].plain_name);
	arena_free(a);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(spf_mech_kind_name(SPF_MECH_EXISTS), "exists");
	assert_true(spf_mech_queries_dns(SPF_MECH_INCLUDE));
	assert_true(spf_mech_queries_dns(SPF_MECH_PTR));
	assert_false(spf_mech_queries_dns(SPF_MECH_IP6));
	assert_false(spf_mech_queries_dns(SPF_MECH_ALL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_not_spf),
		cmocka_unit_test(test_mechanisms),
		cmocka_unit_test(test_modifiers),
		cmocka_unit_test(test_spacing),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_duplicate_modifiers),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_domain_spec),
		cmocka_unit_test(test_all_makes_redirect_moot),
		cmocka_unit_test(test_plain_names),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
