/* Unit tests for auth/iprev and the authentication checks of the
 * pipeline: forward-confirmed reverse DNS, and one whole message through
 * iprev, SPF, DKIM, DMARC and ARC (filter/check_*.c) into
 * Authentication-Results and JSON (filter/explain.c), over the
 * in-memory zone. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>

#include "auth/authres.h"
#include "auth/iprev.h"
#include "core/arena.h"
#include "core/json.h"
#include "filter/checks.h"
#include "filter/explain.h"
#include "filter/facts.h"
#include "filter/pipeline.h"

static const char zone_text[] =
    "$TTL 300\n"
    "5.0.0.127.in-addr.arpa. PTR mail.example.com.\n"
    "6.0.0.127.in-addr.arpa. PTR liar.example.com.\n"
    "7.0.0.127.in-addr.arpa. PTR slow.example.com.\n"
    "8.0.0.127.in-addr.arpa. PTR a.example.com.\n"
    "8.0.0.127.in-addr.arpa. PTR b.example.com.\n"
    "mail.example.com. A 127.0.0.5\n"
    "liar.example.com. A 192.0.2.1\n"
    "b.example.com. A 127.0.0.8\n"
    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
    ".ip6.arpa. PTR v6.example.com.\n"
    "v6.example.com. AAAA 2001:db8::1\n"
    "example.com. TXT \"v=spf1 ip4:127.0.0.0/24 -all\"\n"
    "mail.example.com. TXT \"v=spf1 a -all\"\n"
    "_dmarc.example.com. TXT \"v=DMARC1; p=reject\"\n";

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
	dns_zone_set_failure(zone, "slow.example.com", 0, DNS_TIMEOUT);
	dns_zone_set_failure(zone, "9.0.0.127.in-addr.arpa", 0, DNS_SERVFAIL);
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

struct iprun {
	int			 calls;
	enum iprev_result	 result;
	char			 name[128];
};

static void
ip_done(const struct iprev_outcome *o, void *arg)
{
	struct iprun *r = arg;

	r->calls++;
	r->result = o->result;
	snprintf(r->name, sizeof(r->name), "%s", o->name ? o->name : "");
	assert_non_null(o->reason);
}

static void
iprev(const char *ip, struct iprun *r)
{
	struct arena *a = arena_new(0);
	struct ip_addr addr;

	memset(r, 0, sizeof(*r));
	assert_int_equal(ip_parse(ip, strlen(ip), &addr), 0);
	iprev_check_start(base, zone, &addr, a, ip_done, r);
	assert_int_equal(r->calls, 0);
	event_base_dispatch(base);
	assert_int_equal(r->calls, 1);
	arena_free(a);
}

static void
test_iprev(void **state)
{
	struct iprun r;

	(void)state;
	iprev("127.0.0.5", &r);
	assert_int_equal(r.result, IPREV_RESULT_PASS);
	assert_string_equal(r.name, "mail.example.com");
	iprev("::ffff:127.0.0.5", &r);
	assert_int_equal(r.result, IPREV_RESULT_PASS);
	iprev("127.0.0.8", &r);		/* the second name confirms */
	assert_int_equal(r.result, IPREV_RESULT_PASS);
	assert_string_equal(r.name, "b.example.com");
	iprev("2001:db8::1", &r);
	assert_int_equal(r.result, IPREV_RESULT_PASS);
	iprev("127.0.0.6", &r);
	assert_int_equal(r.result, IPREV_RESULT_FAIL);
	assert_string_equal(r.name, "");
	iprev("127.0.0.4", &r);
	assert_int_equal(r.result, IPREV_RESULT_PERMERROR);
	iprev("127.0.0.7", &r);
	assert_int_equal(r.result, IPREV_RESULT_TEMPERROR);
	iprev("127.0.0.9", &r);
	assert_int_equal(r.result, IPREV_RESULT_TEMPERROR);
}

static void
test_iprev_cancel(void **state)
{
	struct arena *a = arena_new(0);
	struct iprun r;
	struct ip_addr addr;
	struct iprev_check *c;

	(void)state;
	memset(&r, 0, sizeof(r));
	ip_parse("127.0.0.5", 9, &addr);
	c = iprev_check_start(base, zone, &addr, a, ip_done, &r);
	iprev_check_cancel(c);
	event_base_dispatch(base);
	assert_int_equal(r.calls, 0);
	arena_free(a);
}

struct authrun {
	int		 calls;
	char		 header[2048];
	char		 json[8192];
	enum dmarc_result dmarc;
};

static void
auth(const char *ip, const char *helo, const char *mailfrom,
    const char *msg, struct authrun *r)
{
	struct arena *a = arena_new(0);
	struct authres_render_options ro;
	struct authres_header h;
	struct pipeline_env env;
	struct check_txn t;
	struct pipeline *p;
	struct buf b = BUF_INIT, j = BUF_INIT;
	struct json js;

	memset(r, 0, sizeof(*r));
	memset(&t, 0, sizeof(t));
	memset(&env, 0, sizeof(env));
	env.base = base;
	env.resolver = zone;
	ip_parse(ip, strlen(ip), &t.ip);
	t.ip_text = ip;
	t.helo = helo;
	t.mail_from = mailfrom;
	t.authserv_id = "mx.example.net";
	t.msg = msg;
	t.len = strlen(msg);
	t.header_len = check_header_len(msg, t.len);
	assert_non_null(p = pipeline_new(checks_all, checks_n, &env, &t, a));
	assert_int_equal(pipeline_run_all(p), 0);
	r->calls++;
	explain_authres(pipeline_findings(p), t.authserv_id, a, &h);
	memset(&ro, 0, sizeof(ro));
	ro.eol = "\n";
	authres_render(&h, &ro, &b);
	snprintf(r->header, sizeof(r->header), "%s", buf_cstr(&b));
	json_init(&js, &j);
	explain_facts_json(pipeline_facts(p), &js, buf_cstr(&b));
	snprintf(r->json, sizeof(r->json), "%s", buf_cstr(&j));
	assert_non_null(pipeline_facts(p)->dmarc);
	r->dmarc = pipeline_facts(p)->dmarc->result;
	pipeline_free(p);
	buf_free(&b);
	buf_free(&j);
	arena_free(a);
}

static void
test_auth_pass(void **state)
{
	struct authrun r;

	(void)state;
	auth("127.0.0.5", "mail.example.com", "user@example.com",
	    "From: User <user@example.com>\r\nSubject: hi\r\n\r\nbody\r\n", &r);
	assert_int_equal(r.dmarc, DMARC_RESULT_PASS);
	assert_non_null(strstr(r.header, "Authentication-Results: "
	    "mx.example.net;\n\tiprev=pass policy.iprev=127.0.0.5 "
	    "(mail.example.com);\n\tspf=pass smtp.mailfrom=user@example.com;"
	    "\n\tspf=pass smtp.helo=mail.example.com;\n\tdkim=none"));
	assert_non_null(strstr(r.header, "dmarc=pass"));
	assert_non_null(strstr(r.header, "header.from=example.com"));
	assert_non_null(strstr(r.header, "policy.dmarc=reject"));
	assert_non_null(strstr(r.json, "\"iprev\":{\"result\":\"pass\""));
	assert_non_null(strstr(r.json, "\"dkim\":[]"));
	/* no ARC headers: the chain was looked for, and there is none */
	assert_non_null(strstr(r.json, "\"arc\":{\"result\":\"none\""));
	assert_non_null(strstr(r.header, "arc=none"));
	assert_non_null(strstr(r.json, "\"applied\":\"none\""));
}

static void
test_auth_fail(void **state)
{
	struct authrun r;

	(void)state;
	auth("127.0.0.6", "liar.example.com", "x@mail.example.com",
	    "From: x@example.com\r\n\r\nbody\r\n", &r);
	assert_int_equal(r.dmarc, DMARC_RESULT_FAIL);
	assert_non_null(strstr(r.header, "iprev=fail"));
	assert_non_null(strstr(r.header, "spf=fail"));
	assert_non_null(strstr(r.header, "policy.applied-disposition=reject"));
	/* null sender: SPF checks postmaster@helo */
	auth("127.0.0.5", "mail.example.com", "",
	    "From: a@example.com\r\nFrom: b@example.com\r\n\r\n", &r);
	assert_int_equal(r.dmarc, DMARC_RESULT_PERMERROR);
	assert_non_null(strstr(r.header, "smtp.mailfrom=postmaster@"
	    "mail.example.com"));
	auth("127.0.0.5", "mail.example.com", "a@example.com",
	    "Subject: no from\r\n\r\n", &r);
	assert_int_equal(r.dmarc, DMARC_RESULT_PERMERROR);
	assert_non_null(strstr(r.json, "\"from_status\":\"missing\""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iprev),
		cmocka_unit_test(test_iprev_cancel),
		cmocka_unit_test(test_auth_pass),
		cmocka_unit_test(test_auth_fail),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
