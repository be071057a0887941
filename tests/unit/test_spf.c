/* Unit tests for auth/spf/spf: check_host() over the in-memory zone backend,
 * on a real libevent loop: results, limits, DNS failures, identities,
 * cancellation, concurrency and the rendered headers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/spf/spf.h"
#include "core/arena.h"

static const char zone_text[] =
    "$ORIGIN example.com.\n"
    "$TTL 300\n"
    "@        TXT \"v=spf1 ip4:192.0.2.0/24 include:_i.example.com mx -all "
    "exp=why.%{d}\"\n"
    "why      TXT \"%{c} may not send for %{d}\"\n"
    "_i       TXT \"v=spf1 ip6:2001:db8::/32 ?all\"\n"
    "@        MX 10 mail\n"
    "mail     A 198.51.100.25\n"
    "soft     TXT \"v=spf1 redirect=_r.example.com\"\n"
    "_r       TXT \"v=spf1 ~all\"\n"
    "two      TXT \"v=spf1 -all\"\n"
    "two      TXT \"v=spf1 +all\"\n"
    "loop     TXT \"v=spf1 include:loop.example.com\"\n"
    "voids    TXT \"v=spf1 a:n1.example.com a:n2.example.com "
    "a:n3.example.com +all\"\n"
    "inc-nx   TXT \"v=spf1 include:nowhere.example.com +all\"\n"
    "broken   TXT \"v=spf1 ip4:1.2.3.4/33 +all\"\n"
    "fails    TXT \"v=spf1 a:dead.example.com +all\"\n"
    "helo     TXT \"v=spf1 a -all\"\n"
    "helo     A 203.0.113.7\n"
    "ptr      TXT \"v=spf1 ptr -all\"\n"
    "h.ptr    A 203.0.113.9\n"
    "9.113.0.203.in-addr.arpa. PTR h.ptr.example.com.\n"
    "plain    TXT \"v=spf1 -all\"\n"
    /* a match inside include: that does not pass resumes the parent */
    "inc-a    TXT \"v=spf1 include:_a.example.com -all\"\n"
    "_a       TXT \"v=spf1 -a:mail.example.com +all\"\n"
    "inc-ex   TXT \"v=spf1 include:_ex.example.com ?all\"\n"
    "_ex      TXT \"v=spf1 ~exists:mail.example.com +all\"\n"
    "inc-mx   TXT \"v=spf1 include:_mx.example.com ~all\"\n"
    "_mx      TXT \"v=spf1 ?mx:example.com +all\"\n"
    "inc-ptr  TXT \"v=spf1 include:_ptr.example.com -all\"\n"
    "_ptr     TXT \"v=spf1 -ptr:ptr.example.com +all\"\n";

struct run {
	struct arena		*out;
	const struct spf_outcome *o;
	int			 calls;
	enum spf_result		 result;
	char			 mechanism[128];
	char			 explanation[256];
	char			 received[512];
	char			 authres[256];
	unsigned		 lookups;
};

static struct event_base *base;
static struct dns_resolver *zone;

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
	dns_zone_set_failure(zone, "dead.example.com", 0, DNS_SERVFAIL);
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
done(const struct spf_outcome *o, void *arg)
{
	struct run *r = arg;

	r->calls++;
	r->result = o->result;
	snprintf(r->mechanism, sizeof(r->mechanism), "%s",
	    o->mechanism ? o->mechanism : "");
	snprintf(r->explanation, sizeof(r->explanation), "%s",
	    o->explanation ? o->explanation : "");
	snprintf(r->received, sizeof(r->received), "%s", o->received_spf);
	snprintf(r->authres, sizeof(r->authres), "%s", o->authres);
	r->lookups = o->lookups;
}

static void
check(const char *ip, const char *sender, const char *helo,
    enum spf_identity id, struct run *r)
{
	struct spf_request req;

	memset(&req, 0, sizeof(req));
	memset(r, 0, sizeof(*r));
	assert_int_equal(ip_parse(ip, strlen(ip), &req.ip), 0);
	req.sender = sender;
	req.helo = helo;
	req.identity = id;
	req.receiver = "mx.example.net";
	r->out = arena_new(0);
	spf_check_start(base, zone, &req, r->out, done, r);
	assert_int_equal(r->calls, 0);	/* never from inside start */
	event_base_dispatch(base);
	assert_int_equal(r->calls, 1);
	arena_free(r->out);
}

static void
test_results(void **state)
{
	struct run r;

	(void)state;
	check("192.0.2.9", "a@example.com", "h.example.org",
	    SPF_IDENTITY_MAILFROM, &r);
	assert_int_equal(r.result, SPF_RESULT_PASS);
	assert_string_equal(r.mechanism, "ip4:192.0.2.0/24");
	assert_int_equal(r.lookups, 0);

	check("2001:db8::1", "a@example.com", "h.example.org",
	    SPF_IDENTITY_MAILFROM, &r);
	assert_int_equal(r.result, SPF_RESULT_PASS);
	assert_string_equal(r.mechanism, "include:_i.example.com");

	check("198.51.100.25", "a@example.com", "h.example.org",
	    SPF_IDENTITY_MAILFROM, &r);
	assert_int_equal(r.result, SPF_RESULT_PASS);
	assert_string_equal(r.mechanism, "mx");
	assert_int_equal(r.lookups, 2);

	/* an include's neutral does not match; -all then fails, exp= */
	check("::ffff:10.1.2.3", "a@example.com", "h.example.org",
	    SPF_IDENTITY_MAILFROM, &r);
	assert_int_equal(r.result, SPF_RESULT_FAIL);
	assert_string_equal(r.mechanism, "-all");
	assert_string_equal(r.explanation,
	    "10.1.2.3 may not send for example.com");
	assert_string_equal(r.authres, "spf=fail smtp.mailfrom=a@example.com");
	assert_non_null(strstr(r.received, "Received-SPF: fail (mx.example.net:"
	    " domain of a@example.com does not designate 10.1.2.3 as "
	    "permitted sender) client-ip=10.1.2.3;"));
	assert_non_null(strstr(r.received, "mechanism=-all"));

	check("10.1.2.3", "a@soft.example.com", "h.example.org",
	    SPF_IDENTITY_MAILFROM, &r);
	assert_int_equal(r.result, SPF_RESULT_SOFTFAIL);

	check("10.1.2.3", "a@nothing.example.com", "h.example.org",
	    SPF_IDENTITY_MAILFROM, &r);
	assert_int_equal(r.result, SPF_RESULT_NONE);
}

/*
 * RFC 7208 5.2: an include: whose record ends in fail, softfail or
 * neutral does not match, and the including record goes on. The match
 * comes from a DNS answer here (a, exists, mx, ptr), the path that
 * once forgot to resume and left the check hanging.
 */
static void
test_include_nonpass_match_resumes(void **state)
{
	static const struct {
		const char	*ip, *sender;
		enum spf_result	 want;
		const char	*mech;
	} cases[] = {
		/* matched with a non-+ qualifier inside: the parent's all */
		{ "198.51.100.25", "a@inc-a.example.com", SPF_RESULT_FAIL,
		    "-all" },
		{ "198.51.100.25", "a@inc-ex.example.com", SPF_RESULT_NEUTRAL,
		    "?all" },
		{ "198.51.100.25", "a@inc-mx.example.com", SPF_RESULT_SOFTFAIL,
		    "~all" },
		{ "203.0.113.9", "a@inc-ptr.example.com", SPF_RESULT_FAIL,
		    "-all" },
		/* not matched inside: +all passes the include */
		{ "10.9.9.9", "a@inc-a.example.com", SPF_RESULT_PASS,
		    "include:_a.example.com" },
		{ "10.9.9.9", "a@inc-mx.example.com", SPF_RESULT_PASS,
		    "include:_mx.example.com" },
		{ "10.9.9.9", "a@inc-ptr.example.com", SPF_RESULT_PASS,
		    "include:_ptr.example.com" },
	};
	struct run r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		check(cases[i].ip, cases[i].sender, "h.example.org",
		    SPF_IDENTITY_MAILFROM, &r);
		if (r.result != cases[i].want ||
		    strcmp(r.mechanism, cases[i].mech) != 0)
			fail_msg("%s from %s: result %d by '%s', want %d by "
			    "'%s'", cases[i].sender, cases[i].ip, r.result,
			    r.mechanism, cases[i].want, cases[i].mech);
	}
}

static void
test_errors(void **state)
{
	struct run r;

	(void)state;
	check("10.1.2.3", "a@two.example.com", "h", SPF_IDENTITY_MAILFROM, &r);
	assert_int_equal(r.result, SPF_RESULT_PERMERROR);
	check("10.1.2.3", "a@loop.example.com", "h", SPF_IDENTITY_MAILFROM, &r);
	assert_int_equal(r.result, SPF_RESULT_PERMERROR);
	assert_int_equal(r.lookups, SPF_LOOKUP_LIMIT + 1);
	check("10.1.2.3", "a@voids.example.com", "h", SPF_IDENTITY_MAILFROM,
	    &r);
	assert_int_equal(r.result, SPF_RESULT_PERMERROR);
	check("10.1.2.3", "a@inc-nx.example.com", "h", SPF_IDENTITY_MAILFROM,
	    &r);
	assert_int_equal(r.result, SPF_RESULT_PERMERROR);
	check("10.1.2.3", "a@broken.example.com", "h", SPF_IDENTITY_MAILFROM,
	    &r);
	assert_int_equal(r.result, SPF_RESULT_PERMERROR);
	assert_non_null(strstr(r.received, "problem="));
	/* DNS trouble is temporary, never permanent */
	check("10.1.2.3", "a@fails.example.com", "h", SPF_IDENTITY_MAILFROM,
	    &r);
	assert_int_equal(r.result, SPF_RESULT_TEMPERROR);
}

static void
test_identities(void **state)
{
	struct run r;

	(void)state;
	/* null sender: postmaster@helo */
	check("203.0.113.7", "", "helo.example.com", SPF_IDENTITY_MAILFROM,
	    &r);
	assert_int_equal(r.result, SPF_RESULT_PASS);
	assert_string_equal(r.authres,
	    "spf=pass smtp.mailfrom=postmaster@helo.example.com");
	/* HELO identity */
	check("203.0.113.8", "a@example.com", "helo.example.com",
	    SPF_IDENTITY_HELO, &r);
	assert_int_equal(r.result, SPF_RESULT_FAIL);
	assert_string_equal(r.authres, "spf=fail smtp.helo=helo.example.com");
	assert_non_null(strstr(r.received, "identity=helo"));
	/* a single-label HELO cannot be checked */
	check("203.0.113.8", "", "localhost", SPF_IDENTITY_MAILFROM, &r);
	assert_int_equal(r.result, SPF_RESULT_NONE);
}

static void
test_ptr(void **state)
{
	struct run r;

	(void)state;
	check("203.0.113.9", "a@ptr.example.com", "h", SPF_IDENTITY_MAILFROM,
	    &r);
	assert_int_equal(r.result, SPF_RESULT_PASS);
	assert_string_equal(r.mechanism, "ptr");
	check("203.0.113.10", "a@ptr.example.com", "h", SPF_IDENTITY_MAILFROM,
	    &r);
	assert_int_equal(r.result, SPF_RESULT_FAIL);
}

static void
test_many_at_once_and_cancel(void **state)
{
	struct run runs[8], cancelled;
	struct spf_check *c;
	struct spf_request req;
	struct arena *out = arena_new(0);
	int i;

	(void)state;
	memset(&req, 0, sizeof(req));
	memset(runs, 0, sizeof(runs));
	memset(&cancelled, 0, sizeof(cancelled));
	req.helo = "h.example.org";
	for (i = 0; i < 8; i++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "198.51.100.%d", 20 + i);
		assert_int_equal(ip_parse(ip, strlen(ip), &req.ip), 0);
		req.sender = "someone@example.com";
		spf_check_start(base, zone, &req, out, done, &runs[i]);
	}
	c = spf_check_start(base, zone, &req, out, done, &cancelled);
	event_base_loop(base, EVLOOP_ONCE);	/* let it get going */
	spf_check_cancel(c);
	event_base_dispatch(base);
	for (i = 0; i < 8; i++) {
		assert_int_equal(runs[i].calls, 1);
		assert_int_equal(runs[i].result, i == 5 ? SPF_RESULT_PASS :
		    SPF_RESULT_FAIL);
	}
	assert_int_equal(cancelled.calls, 0);
	arena_free(out);
}

/*
 * Parsed records are shared between checks (keyed by the exact text):
 * the same text gives the same outcome every time, errors included;
 * records differing only in case are separate keys; a check still
 * holding a record when many other records push it out of the cache
 * finishes normally (the sanitizers see any early free).
 */
static void
override_check(const char *ip, const char *record, struct run *r,
    struct arena *out, struct spf_check **cp)
{
	struct spf_request req;
	struct spf_check *c;

	memset(&req, 0, sizeof(req));
	memset(r, 0, sizeof(*r));
	assert_int_equal(ip_parse(ip, strlen(ip), &req.ip), 0);
	req.sender = "a@example.com";
	req.helo = "h.example.org";
	req.record = record;
	c = spf_check_start(base, zone, &req, out, done, r);
	if (cp != NULL)
		*cp = c;
}

static void
test_shared_records(void **state)
{
	struct arena *out = arena_new(0);
	struct run held, gone, r, err1, err2, upper, *many;
	struct spf_check *cancelled;
	char rec[64];
	int i;

	(void)state;
	/* held and gone wait on DNS (mx) holding their record while 1100
	 * other records, all in flight at once, push it out of the cache */
	many = calloc(1100, sizeof(*many));
	assert_non_null(many);
	override_check("192.0.2.200", "v=spf1 mx ip4:192.0.2.0/24 -all",
	    &held, out, NULL);
	override_check("192.0.2.201", "v=spf1 mx ip4:192.0.2.0/24 -all",
	    &gone, out, &cancelled);
	for (i = 0; i < 1100; i++) {
		snprintf(rec, sizeof(rec), "v=spf1 ip4:10.%d.%d.0/24 -all",
		    i / 256, i % 256);
		override_check("10.0.0.1", rec, &many[i], out, NULL);
	}
	event_base_loop(base, EVLOOP_ONCE);
	spf_check_cancel(cancelled);
	event_base_dispatch(base);
	for (i = 0; i < 1100; i++) {
		assert_int_equal(many[i].calls, 1);
		assert_int_equal(many[i].result, i == 0 ? SPF_RESULT_PASS :
		    SPF_RESULT_FAIL);
	}
	free(many);
	assert_int_equal(gone.calls, 0);
	assert_int_equal(held.calls, 1);
	assert_int_equal(held.result, SPF_RESULT_PASS);
	assert_string_equal(held.mechanism, "ip4:192.0.2.0/24");

	/* the same broken text twice: the same permerror and reason */
	override_check("10.0.0.1", "v=spf1 ip4:10.0.0.0/33 -all", &err1, out,
	    NULL);
	event_base_dispatch(base);
	override_check("10.0.0.1", "v=spf1 ip4:10.0.0.0/33 -all", &err2, out,
	    NULL);
	event_base_dispatch(base);
	assert_int_equal(err1.result, SPF_RESULT_PERMERROR);
	assert_string_equal(err1.received, err2.received);

	/* different text, different key: the mechanism is as written */
	override_check("10.0.0.1", "v=spf1 IP4:10.0.0.0/8 -all", &upper, out,
	    NULL);
	event_base_dispatch(base);
	assert_int_equal(upper.result, SPF_RESULT_PASS);
	assert_string_equal(upper.mechanism, "IP4:10.0.0.0/8");
	override_check("10.0.0.1", "v=spf1 ip4:10.0.0.0/8 -all", &r, out,
	    NULL);
	event_base_dispatch(base);
	assert_string_equal(r.mechanism, "ip4:10.0.0.0/8");
	arena_free(out);
}

/*
 * A fail without exp= explains itself as "%{d} does not designate %{c}
 * as a permitted sender for %{s}", and the client address reads the
 * same there and in Received-SPF as core's RFC 5952 text (ip_format):
 * zero runs at either end, ties, one zero group, no zero group.
 */
static void
test_default_explanation_and_address_text(void **state)
{
	static const char *const ips[] = {
		"10.1.2.3", "192.0.2.255", "0.0.0.0", "2001:db8::1", "::1",
		"::", "1::", "fe80::", "2001:db8:0:0:1:0:0:1",
		"2001:0:0:1:0:0:0:1", "1:0:2:3:4:5:6:7", "1:2:3:4:5:6:7:8",
		"abcd:ef01:2345:6789:a:bc:def:f00", "0:0:1:0:0:1:0:0",
		"::ffff:192.0.2.1", "::192.0.2.1", "64:ff9b::c000:201",
	};
	struct ip_addr ip;
	char text[IP_STRLEN], want[512];
	struct run r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
		assert_int_equal(ip_parse(ips[i], strlen(ips[i]), &ip), 0);
		ip_unmap_v4(&ip);
		assert_non_null(ip_format(&ip, text, sizeof(text)));
		check(ips[i], "a@plain.example.com", "h.example.org",
		    SPF_IDENTITY_MAILFROM, &r);
		assert_int_equal(r.result, SPF_RESULT_FAIL);
		snprintf(want, sizeof(want), "plain.example.com does not "
		    "designate %s as a permitted sender for "
		    "a@plain.example.com", text);
		assert_string_equal(r.explanation, want);
		snprintf(want, sizeof(want), "client-ip=%s;", text);
		assert_non_null(strstr(r.received, want));
	}
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(spf_result_name(SPF_RESULT_NONE), "none");
	assert_string_equal(spf_result_name(SPF_RESULT_TEMPERROR),
	    "temperror");
	assert_string_equal(spf_result_name(SPF_RESULT_PERMERROR),
	    "permerror");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_results),
		cmocka_unit_test(test_include_nonpass_match_resumes),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_identities),
		cmocka_unit_test(test_ptr),
		cmocka_unit_test(test_many_at_once_and_cancel),
		cmocka_unit_test(test_shared_records),
		cmocka_unit_test(test_default_explanation_and_address_text),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
