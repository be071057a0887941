/* Unit tests for auth/dmarc/dmarc: discovery, organizational domains (co.uk
 * and a private suffix), alignment, p/sp/np, pct and DNS trouble, over
 * the in-memory zone on a real libevent loop. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>

#include "auth/dkim/dkim_verify.h"
#include "auth/dmarc/dmarc.h"
#include "core/arena.h"

static const char zone_text[] =
    "$TTL 300\n"
    "_dmarc.example.com. TXT \"v=DMARC1; p=reject; sp=quarantine; "
    "np=reject\"\n"
    "example.com. A 192.0.2.1\n"
    "mail.example.com. A 192.0.2.2\n"
    "_dmarc.strict.example.net. TXT \"v=DMARC1; p=reject; adkim=s; "
    "aspf=s\"\n"
    "_dmarc.pct0.example.net. TXT \"v=DMARC1; p=reject; pct=0\"\n"
    "_dmarc.pct0q.example.net. TXT \"v=DMARC1; p=quarantine; pct=0\"\n"
    "_dmarc.pct100.example.net. TXT \"v=DMARC1; p=reject; pct=100\"\n"
    "_dmarc.pct50.example.net. TXT \"v=DMARC1; p=reject; pct=50\"\n"
    "_dmarc.bad.example.net. TXT \"v=DMARC1; p=block\"\n"
    "_dmarc.two.example.net. TXT \"v=DMARC1; p=none\"\n"
    "_dmarc.two.example.net. TXT \"v=DMARC1; p=reject\"\n"
    "_dmarc.mixed.example.net. TXT \"v=spf1 -all\"\n"
    "_dmarc.mixed.example.net. TXT \"v=DMARC1; p=quarantine\"\n"
    "_dmarc.rua.example.net. TXT \"v=DMARC1; rua=mailto:r@example.net\"\n"
    "_dmarc.split.example.net. TXT \"v=DMARC1; \" \"p=reject\"\n"
    "_dmarc.example.co.uk. TXT \"v=DMARC1; p=reject\"\n"
    "_dmarc.foo.blogspot.com. TXT \"v=DMARC1; p=quarantine\"\n"
    "_dmarc.blogspot.com. TXT \"v=DMARC1; p=none\"\n"
    "_dmarc.example.org. TXT \"v=DMARC1; p=reject; np=none\"\n"
    "example.org. MX 10 mx.example.org.\n";

static struct event_base *base;
static struct dns_resolver *zone;

struct run {
	int			 calls;
	enum dmarc_result	 result;
	enum dmarc_policy	 requested, evaluated, applied;
	enum dmarc_policy_source source;
	bool			 sampled_out, nonexistent;
	bool			 spf_aligned, dkim_aligned;
	char			 record_domain[128];
	char			 org[128];
	char			 reason[256];
};

static int
setup(void **state)
{
	char err[256];

	(void)state;
	base = event_base_new();
	zone = dns_zone_new(base);
	if (dns_zone_load(zone, zone_text, strlen(zone_text), NULL, err,
	    sizeof(err)) != 0)
		fail_msg("zone: %s", err);
	dns_zone_set_failure(zone, "_dmarc.slow.example.net", 0, DNS_TIMEOUT);
	dns_zone_set_failure(zone, "_dmarc.example.info", 0, DNS_SERVFAIL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	dns_resolver_free(zone);
	event_base_free(base);
	return 0;
}

static void
done(const struct dmarc_outcome *o, void *arg)
{
	struct run *r = arg;

	r->calls++;
	r->result = o->result;
	r->requested = o->requested;
	r->evaluated = o->evaluated;
	r->applied = o->applied;
	r->source = o->policy_source;
	r->sampled_out = o->sampled_out;
	r->nonexistent = o->nonexistent;
	r->spf_aligned = o->spf_aligned;
	r->dkim_aligned = o->dkim_aligned;
	snprintf(r->record_domain, sizeof(r->record_domain), "%s",
	    o->record_domain ? o->record_domain : "");
	snprintf(r->org, sizeof(r->org), "%s",
	    o->org_domain ? o->org_domain : "");
	snprintf(r->reason, sizeof(r->reason), "%s",
	    o->reason ? o->reason : "");
}

struct sig {
	const char		*d;
	enum dkim_result	 res;
};

/* from_value: the From field value; spf: result and domain; sigs. */
static void
run_full(const char *from_value, enum spf_result spf, const char *spf_dom,
    const struct sig *sigs, size_t nsigs, bool seeded, uint64_t seed,
    struct run *r)
{
	struct arena *a = arena_new(0);
	struct from_result from;
	struct spf_outcome so;
	struct dkim_sig_result dk[4];
	struct dmarc_request req;
	size_t i;

	memset(r, 0, sizeof(*r));
	memset(&so, 0, sizeof(so));
	memset(dk, 0, sizeof(dk));
	memset(&req, 0, sizeof(req));
	from_parse_value(from_value, strlen(from_value), a, &from);
	so.result = spf;
	so.domain = spf_dom;
	for (i = 0; i < nsigs; i++) {
		dk[i].domain = sigs[i].d;
		dk[i].selector = "s";
		dk[i].result = sigs[i].res;
	}
	ip_parse("192.0.2.99", 10, &req.ip);
	req.from = &from;
	req.spf = &so;
	req.envelope_from = spf_dom;
	req.dkim = dk;
	req.ndkim = nsigs;
	req.seeded = seeded;
	req.seed = seed;
	dmarc_check_start(base, zone, &req, a, done, r);
	assert_int_equal(r->calls, 0);
	event_base_dispatch(base);
	assert_int_equal(r->calls, 1);
	arena_free(a);
}

static void
run(const char *from_domain, enum spf_result spf, const char *spf_dom,
    const char *dkim_d, enum dkim_result dkim, struct run *r)
{
	char from[256];
	struct sig s = { dkim_d, dkim };

	snprintf(from, sizeof(from), " Someone <someone@%s>", from_domain);
	run_full(from, spf, spf_dom, &s, dkim_d ? 1 : 0, true, 1, r);
}

static void
test_org_domain(void **state)
{
	struct arena *a = arena_new(0);

	(void)state;
	assert_string_equal(dmarc_org_domain("a.b.example.com", a),
	    "example.com");
	assert_string_equal(dmarc_org_domain("a.b.example.co.uk", a),
	    "example.co.uk");
	assert_string_equal(dmarc_org_domain("x.foo.blogspot.com", a),
	    "foo.blogspot.com");
	assert_string_equal(dmarc_org_domain("co.uk", a), "co.uk");
	assert_true(dmarc_aligned("mail.example.com", "example.com",
	    DMARC_ALIGN_RELAXED));
	assert_false(dmarc_aligned("mail.example.com", "example.com",
	    DMARC_ALIGN_STRICT));
	assert_true(dmarc_aligned("Example.COM", "example.com",
	    DMARC_ALIGN_STRICT));
	assert_false(dmarc_aligned("a.co.uk", "b.co.uk", DMARC_ALIGN_RELAXED));
	assert_false(dmarc_aligned("foo.blogspot.com", "bar.blogspot.com",
	    DMARC_ALIGN_RELAXED));
	assert_false(dmarc_aligned("", "example.com", DMARC_ALIGN_RELAXED));
	arena_free(a);
}

static void
test_alignment(void **state)
{
	struct run r;

	(void)state;
	/* SPF aligned, exact and relaxed */
	run("example.com", SPF_RESULT_PASS, "example.com", NULL, 0, &r);
	assert_int_equal(r.result, DMARC_RESULT_PASS);
	assert_true(r.spf_aligned);
	assert_int_equal(r.requested, DMARC_POLICY_REJECT);
	assert_int_equal(r.applied, DMARC_POLICY_NONE);
	run("example.com", SPF_RESULT_PASS, "bounce.example.com", NULL, 0, &r);
	assert_int_equal(r.result, DMARC_RESULT_PASS);
	/* DKIM aligned only */
	run("example.com", SPF_RESULT_FAIL, "example.com", "mail.example.com",
	    DKIM_RESULT_PASS, &r);
	assert_int_equal(r.result, DMARC_RESULT_PASS);
	assert_false(r.spf_aligned);
	assert_true(r.dkim_aligned);
	/* misaligned: both pass, for another domain */
	run("example.com", SPF_RESULT_PASS, "other.example", "other.example",
	    DKIM_RESULT_PASS, &r);
	assert_int_equal(r.result, DMARC_RESULT_FAIL);
	assert_int_equal(r.requested, DMARC_POLICY_REJECT);
	assert_int_equal(r.evaluated, DMARC_POLICY_REJECT);
	assert_int_equal(r.applied, DMARC_POLICY_REJECT);
	assert_int_equal(r.source, DMARC_FROM_P);
	/* aligned but not passing */
	run("example.com", SPF_RESULT_SOFTFAIL, "example.com", "example.com",
	    DKIM_RESULT_FAIL, &r);
	assert_int_equal(r.result, DMARC_RESULT_FAIL);
	/* strict */
	run("strict.example.net", SPF_RESULT_PASS, "mail.strict.example.net",
	    "sub.strict.example.net", DKIM_RESULT_PASS, &r);
	assert_int_equal(r.result, DMARC_RESULT_FAIL);
	run("strict.example.net", SPF_RESULT_PASS, "mail.strict.example.net",
	    "strict.example.net", DKIM_RESULT_PASS, &r);
	assert_int_equal(r.result, DMARC_RESULT_PASS);
	run("strict.example.net", SPF_RESULT_PASS, "Strict.Example.NET", NULL,
	    0, &r);
	assert_int_equal(r.result, DMARC_RESULT_PASS);
}

static void
test_org_fallback(void **state)
{
	struct run r;
	struct sig two[2] = {
		{ "bar.blogspot.com", DKIM_RESULT_PASS },
		{ "foo.blogspot.com", DKIM_RESULT_PASS },
	};

	(void)state;
	run("a.b.example.co.uk", SPF_RESULT_NONE, "", "example.co.uk",
	    DKIM_RESULT_PASS, &r);
	assert_int_equal(r.result, DMARC_RESULT_PASS);
	assert_string_equal(r.record_domain, "example.co.uk");
	assert_string_equal(r.org, "example.co.uk");
	run("a.b.example.co.uk", SPF_RESULT_PASS, "other.co.uk",
	    "other.co.uk", DKIM_RESULT_PASS, &r);
	assert_int_equal(r.result, DMARC_RESULT_FAIL);
	assert_int_equal(r.requested, DMARC_POLICY_REJECT);
	/* a private suffix: blogspot.com's own record is never used */
	run("x.foo.blogspot.com", SPF_RESULT_PASS, "bar.blogspot.com",
	    "bar.blogspot.com", DKIM_RESULT_PASS, &r);
	assert_int_equal(r.result, DMARC_RESULT_FAIL);
	assert_string_equal(r.record_domain, "foo.blogspot.com");
	assert_int_equal(r.requested, DMARC_POLICY_QUARANTINE);
	run_full(" u@x.foo.blogspot.com", SPF_RESULT_NONE, "", two, 2, true,
	    1, &r);
	assert_int_equal(r.result, DMARC_RESULT_PASS);
	/* no record anywhere */
	run("sub.example.edu", SPF_RESULT_PASS, "sub.example.edu", NULL, 0,
	    &r);
	assert_int_equal(r.result, DMARC_RESULT_NONE);
	assert_int_equal(r.applied, DMARC_POLICY_NONE);
}

static void
test_p_sp_np(void **state)
{
	struct run r;

	(void)state;
	/* existing subdomain: sp */
	run("mail.example.com", SPF_RESULT_FAIL, "x.example", NULL, 0, &r);
	assert_int_equal(r.result, DMARC_RESULT_FAIL);
	assert_int_equal(r.requested, DMARC_POLICY_QUARANTINE);
	assert_int_equal(r.source, DMARC_FROM_SP);
	assert_false(r.nonexistent);
	/* non-existent subdomain: np */
	run("nx.example.com", SPF_RESULT_FAIL, "x.example", NULL, 0, &r);
	assert_int_equal(r.requested, DMARC_POLICY_REJECT);
	assert_int_equal(r.source, DMARC_FROM_NP);
	assert_true(r.nonexistent);
	/* np=none for a non-existent name, p for the domain itself */
	run("ghost.example.org", SPF_RESULT_FAIL, "x.example", NULL, 0, &r);
	assert_int_equal(r.requested, DMARC_POLICY_NONE);
	assert_int_equal(r.source, DMARC_FROM_NP);
	run("example.org", SPF_RESULT_FAIL, "x.example", NULL, 0, &r);
	assert_int_equal(r.requested, DMARC_POLICY_REJECT);
	/* no sp: a subdomain gets p */
	run("deep.a.example.co.uk", SPF_RESULT_FAIL, "x.example", NULL, 0,
	    &r);
	assert_int_equal(r.requested, DMARC_POLICY_REJECT);
	assert_int_equal(r.source, DMARC_FROM_P);
}

static void
test_pct(void **state)
{
	struct run r;
	int seen_in = 0, seen_out = 0;
	uint64_t seed;

	(void)state;
	run("pct0.example.net", SPF_RESULT_FAIL, "x.example", NULL, 0, &r);
	assert_int_equal(r.evaluated, DMARC_POLICY_REJECT);
	assert_int_equal(r.applied, DMARC_POLICY_QUARANTINE);
	assert_true(r.sampled_out);
	run("pct0q.example.net", SPF_RESULT_FAIL, "x.example", NULL, 0, &r);
	assert_int_equal(r.applied, DMARC_POLICY_NONE);
	run("pct100.example.net", SPF_RESULT_FAIL, "x.example", NULL, 0, &r);
	assert_int_equal(r.applied, DMARC_POLICY_REJECT);
	assert_false(r.sampled_out);
	/* pct=50: a seed decides, the same way every time */
	for (seed = 0; seed < 40; seed++) {
		struct run r2;

		run_full(" u@pct50.example.net", SPF_RESULT_FAIL, "x.example",
		    NULL, 0, true, seed, &r);
		run_full(" u@pct50.example.net", SPF_RESULT_FAIL, "x.example",
		    NULL, 0, true, seed, &r2);
		assert_int_equal(r.applied, r2.applied);
		if (r.sampled_out)
			seen_out++;
		else
			seen_in++;
	}
	assert_true(seen_in > 0 && seen_out > 0);
	/* a pass is never touched by pct */
	run("pct0.example.net", SPF_RESULT_PASS, "pct0.example.net", NULL, 0,
	    &r);
	assert_int_equal(r.applied, DMARC_POLICY_NONE);
	assert_false(r.sampled_out);
}

static void
test_records(void **state)
{
	struct run r;

	(void)state;
	run("bad.example.net", SPF_RESULT_PASS, "bad.example.net", NULL, 0,
	    &r);
	assert_int_equal(r.result, DMARC_RESULT_PERMERROR);
	assert_non_null(strstr(r.reason, "invalid"));
	run("two.example.net", SPF_RESULT_PASS, "two.example.net", NULL, 0,
	    &r);
	assert_int_equal(r.result, DMARC_RESULT_PERMERROR);
	run("mixed.example.net", SPF_RESULT_FAIL, "x.example", NULL, 0, &r);
	assert_int_equal(r.result, DMARC_RESULT_FAIL);
	assert_int_equal(r.requested, DMARC_POLICY_QUARANTINE);
	run("rua.example.net", SPF_RESULT_FAIL, "x.example", NULL, 0, &r);
	assert_int_equal(r.result, DMARC_RESULT_FAIL);
	assert_int_equal(r.requested, DMARC_POLICY_NONE);
	run("split.example.net", SPF_RESULT_FAIL, "x.example", NULL, 0, &r);
	assert_int_equal(r.requested, DMARC_POLICY_REJECT);
}

static void
test_dns_trouble(void **state)
{
	struct run r;

	(void)state;
	run("slow.example.net", SPF_RESULT_PASS, "slow.example.net", NULL, 0,
	    &r);
	assert_int_equal(r.result, DMARC_RESULT_TEMPERROR);
	assert_non_null(strstr(r.reason, "TIMEOUT"));
	/* trouble at the organizational domain too */
	run("www.example.info", SPF_RESULT_PASS, "www.example.info", NULL, 0,
	    &r);
	assert_int_equal(r.result, DMARC_RESULT_TEMPERROR);
	/* an aligned SPF temperror without any pass */
	run("example.com", SPF_RESULT_TEMPERROR, "example.com", NULL, 0, &r);
	assert_int_equal(r.result, DMARC_RESULT_TEMPERROR);
	assert_int_equal(r.applied, DMARC_POLICY_NONE);
	run("example.com", SPF_RESULT_FAIL, "x.example", "example.com",
	    DKIM_RESULT_TEMPERROR, &r);
	assert_int_equal(r.result, DMARC_RESULT_TEMPERROR);
}

static void
test_from_outcomes(void **state)
{
	struct run r;

	(void)state;
	run_full(" a@example.com, b@example.net", SPF_RESULT_PASS,
	    "example.com", NULL, 0, true, 1, &r);
	assert_int_equal(r.result, DMARC_RESULT_PERMERROR);
	assert_non_null(strstr(r.reason, "different domains"));
	run_full(" MAILER-DAEMON", SPF_RESULT_PASS, "example.com", NULL, 0,
	    true, 1, &r);
	assert_int_equal(r.result, DMARC_RESULT_PERMERROR);
	run_full(" a@example.com, Second <b@example.com>", SPF_RESULT_PASS,
	    "example.com", NULL, 0, true, 1, &r);
	assert_int_equal(r.result, DMARC_RESULT_PASS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_org_domain),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_org_fallback),
		cmocka_unit_test(test_p_sp_np),
		cmocka_unit_test(test_pct),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_dns_trouble),
		cmocka_unit_test(test_from_outcomes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
