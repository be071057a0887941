/*
 * test_dns_zone — the in-memory zone backend: zone-file parsing (and its
 * errors), lookups through the resolver interface (NXDOMAIN, NODATA,
 * empty non-terminals, CNAME chains and loops, simulated failures), the
 * asynchronous contract (no callback from inside dns_query, cancel) and
 * the zone-text rendering of answers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "dns/dns.h"

struct fx {
	struct event_base	*base;
	struct dns_resolver	*r;
	struct dns_answer	*ans;
	char			 err[256];
	struct buf		 text;
};

static const char zone[] =
    "$TTL 600\n"
    "@\tIN SOA ns hostmaster (\n"
    "\t\t2024010101 ; serial\n"
    "\t\t3600 600 86400 60 )\n"
    "@\t\tNS ns\n"
    "\t\tMX 10 mx1\n"
    "\t\tMX 20 mx2.example.org.\n"
    "\t300\tTXT \"v=spf1 ip4:192.0.2.0/24\" \" -all\"\n"
    "mx1\t\tA 192.0.2.25\n"
    "MX1\tIN 60\tAAAA 2001:DB8::25\n"
    "www\t120 IN\tCNAME mx1\n"
    "alias\t\tCNAME www\n"
    "dangling\tCNAME nowhere\n"
    "loop1\t\tCNAME loop2\n"
    "loop2\t\tCNAME loop1\n"
    "a.b.c\t\tA 192.0.2.7\n"
    "quote\t\tTXT \"say \\\"hi\\\" \\\\ \\065; not a comment\" plain\n"
    "empty\t\tTXT \"\"\n"
    "_25._tcp.mx1\tTLSA 3 1 1 ( 0123456789abcdef\n"
    "\t\t\t\tFEDCBA9876543210 )\n"
    "$ORIGIN sub.example.org.\n"
    "deep\t\tA 192.0.2.8\n"
    "5.0.0.127.in-addr.arpa. PTR mx1.example.org.\n";

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->base = event_base_new();
	f->r = dns_zone_new(f->base);
	buf_init(&f->text);
	assert_int_equal(dns_zone_load(f->r, zone, strlen(zone), "example.org",
	    f->err, sizeof(f->err)), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	dns_answer_free(f->ans);
	dns_resolver_free(f->r);
	event_base_free(f->base);
	buf_free(&f->text);
	free(f);
	return 0;
}

/* Look up and keep the answer in the fixture (freed at teardown). */
static struct dns_answer *
ask(struct fx *f, const char *name, uint16_t type)
{
	dns_answer_free(f->ans);
	f->ans = dns_query_sync(f->r, f->base, name, type);
	assert_non_null(f->ans);
	return f->ans;
}

static const char *
shown(struct fx *f, const char *name, uint16_t type)
{
	buf_reset(&f->text);
	dns_answer_format(ask(f, name, type), &f->text);
	return buf_cstr(&f->text);
}

/* Load text into a fresh zone; returns the load result, err in f. */
static int
load(struct fx *f, const char *text)
{
	dns_resolver_free(f->r);
	f->r = dns_zone_new(f->base);
	f->err[0] = '\0';
	return dns_zone_load(f->r, text, strlen(text), "example.org", f->err,
	    sizeof(f->err));
}

static void
test_basic_records(void **state)
{
	struct fx *f = *state;
	struct dns_answer *a;

	a = ask(f, "mx1.example.org", DNS_T_A);
	assert_int_equal(a->status, DNS_OK);
	assert_int_equal(a->n, 1);
	assert_int_equal(a->rr[0].ttl, 600);
	assert_string_equal(shown(f, "MX1.Example.ORG.", DNS_T_AAAA),
	    "mx1.example.org. 60 IN AAAA 2001:db8::25\n");
	assert_string_equal(shown(f, "example.org", DNS_T_MX),
	    "example.org. 600 IN MX 10 mx1.example.org.\n"
	    "example.org. 600 IN MX 20 mx2.example.org.\n");
	assert_string_equal(shown(f, "deep.sub.example.org", DNS_T_A),
	    "deep.sub.example.org. 600 IN A 192.0.2.8\n");
	assert_string_equal(shown(f, "5.0.0.127.in-addr.arpa", DNS_T_PTR),
	    "5.0.0.127.in-addr.arpa. 600 IN PTR mx1.example.org.\n");
	assert_string_equal(shown(f, "example.org", DNS_T_SOA),
	    "example.org. 600 IN SOA ns.example.org. "
	    "hostmaster.example.org. 2024010101 3600 600 86400 60\n");
}

static void
test_txt(void **state)
{
	struct fx *f = *state;
	struct dns_answer *a;

	a = ask(f, "example.org", DNS_T_TXT);
	assert_int_equal(a->status, DNS_OK);
	assert_int_equal(a->rr[0].ttl, 300);
	assert_int_equal(a->rr[0].u.txt.nstrings, 2);
	assert_string_equal(a->rr[0].u.txt.joined,
	    "v=spf1 ip4:192.0.2.0/24 -all");
	a = ask(f, "quote.example.org", DNS_T_TXT);
	assert_int_equal(a->rr[0].u.txt.nstrings, 2);
	assert_string_equal(a->rr[0].u.txt.joined,
	    "say \"hi\" \\ A; not a commentplain");
	assert_string_equal(shown(f, "quote.example.org", DNS_T_TXT),
	    "quote.example.org. 600 IN TXT "
	    "\"say \\\"hi\\\" \\\\ A; not a comment\" \"plain\"\n");
	a = ask(f, "empty.example.org", DNS_T_TXT);
	assert_int_equal(a->status, DNS_OK);
	assert_int_equal(a->rr[0].u.txt.nstrings, 1);
	assert_int_equal(a->rr[0].u.txt.joined_len, 0);
}

static void
test_tlsa(void **state)
{
	struct fx *f = *state;

	assert_string_equal(shown(f, "_25._tcp.mx1.example.org", DNS_T_TLSA),
	    "_25._tcp.mx1.example.org. 600 IN TLSA 3 1 1 "
	    "0123456789ABCDEFFEDCBA9876543210\n");
}

static void
test_nxdomain_nodata_ent(void **state)
{
	struct fx *f = *state;

	assert_int_equal(ask(f, "nope.example.org", DNS_T_A)->status,
	    DNS_NXDOMAIN);
	assert_int_equal(f->ans->rcode, 3);
	assert_int_equal(ask(f, "mx1.example.org", DNS_T_TXT)->status,
	    DNS_NODATA);
	assert_int_equal(f->ans->rcode, 0);
	/* b.c and c exist only as parents of a.b.c */
	assert_int_equal(ask(f, "b.c.example.org", DNS_T_A)->status,
	    DNS_NODATA);
	assert_int_equal(ask(f, "c.example.org", DNS_T_TXT)->status,
	    DNS_NODATA);
	assert_int_equal(ask(f, "x.a.b.c.example.org", DNS_T_A)->status,
	    DNS_NXDOMAIN);
	/* a suffix match on a label boundary only */
	assert_int_equal(ask(f, "b.example.org", DNS_T_A)->status,
	    DNS_NXDOMAIN);
	assert_int_equal(ask(f, "sub.example.org", DNS_T_A)->status,
	    DNS_NODATA);
	assert_string_equal(shown(f, "nope.example.org", DNS_T_MX),
	    ";; NXDOMAIN nope.example.org. MX (no such name)\n");
}

static void
test_cname_chain(void **state)
{
	struct fx *f = *state;
	struct dns_answer *a;

	a = ask(f, "alias.example.org", DNS_T_A);
	assert_int_equal(a->status, DNS_OK);
	assert_string_equal(a->qname, "alias.example.org");
	assert_string_equal(a->canonname, "mx1.example.org");
	assert_string_equal(shown(f, "alias.example.org", DNS_T_A),
	    "mx1.example.org. 600 IN A 192.0.2.25\n");
	/* asking for the CNAME itself does not follow it */
	a = ask(f, "alias.example.org", DNS_T_CNAME);
	assert_int_equal(a->status, DNS_OK);
	assert_string_equal(a->rr[0].u.name, "www.example.org");
	assert_string_equal(a->canonname, "alias.example.org");
	/* the chain ends in a name that is not there / has no such type */
	a = ask(f, "dangling.example.org", DNS_T_A);
	assert_int_equal(a->status, DNS_NXDOMAIN);
	assert_string_equal(a->canonname, "nowhere.example.org");
	assert_int_equal(ask(f, "www.example.org", DNS_T_MX)->status,
	    DNS_NODATA);
}

static void
test_cname_loop_and_limit(void **state)
{
	struct fx *f = *state;
	struct buf z = BUF_INIT;
	int i;

	assert_int_equal(ask(f, "loop1.example.org", DNS_T_A)->status,
	    DNS_SERVFAIL);
	assert_non_null(f->ans->why);
	/* 8 CNAMEs are followed, 9 are not */
	for (i = 0; i < 9; i++)
		buf_printf(&z, "c%d CNAME c%d\n", i, i + 1);
	buf_printf(&z, "c9 A 192.0.2.9\n");
	assert_int_equal(load(f, buf_cstr(&z)), 0);
	assert_int_equal(ask(f, "c1.example.org", DNS_T_A)->status, DNS_OK);
	assert_string_equal(f->ans->canonname, "c9.example.org");
	assert_int_equal(ask(f, "c0.example.org", DNS_T_A)->status,
	    DNS_SERVFAIL);
	buf_free(&z);
}

static void
test_set_failure(void **state)
{
	struct fx *f = *state;

	dns_zone_set_failure(f->r, "Example.org.", DNS_T_TXT, DNS_SERVFAIL);
	dns_zone_set_failure(f->r, "gone.example.org", 0, DNS_TIMEOUT);
	assert_int_equal(ask(f, "example.org", DNS_T_TXT)->status,
	    DNS_SERVFAIL);
	assert_int_equal(f->ans->rcode, 2);
	assert_int_equal(ask(f, "example.org", DNS_T_MX)->status, DNS_OK);
	assert_int_equal(ask(f, "gone.example.org", DNS_T_A)->status,
	    DNS_TIMEOUT);
	assert_int_equal(ask(f, "gone.example.org", DNS_T_MX)->status,
	    DNS_TIMEOUT);
	assert_string_equal(shown(f, "example.org", DNS_T_TXT),
	    ";; SERVFAIL example.org. TXT rcode=SERVFAIL "
	    "(simulated failure)\n");
}

struct counter {
	int		 calls;
	enum dns_status	 status;
};

static void
count_cb(struct dns_answer *a, void *arg)
{
	struct counter *c = arg;

	c->calls++;
	c->status = a->status;
	dns_answer_free(a);
}

static void
test_async_contract(void **state)
{
	struct fx *f = *state;
	struct counter c = { 0, DNS_OK }, d = { 0, DNS_OK };
	struct dns_query *q;

	q = dns_query(f->r, "mx1.example.org", DNS_T_A, count_cb, &c);
	assert_non_null(q);
	assert_int_equal(c.calls, 0);	/* never from inside dns_query */
	q = dns_query(f->r, "mx1.example.org", DNS_T_A, count_cb, &d);
	dns_cancel(q);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(c.calls, 1);
	assert_int_equal(d.calls, 0);
	/* a bad name: the callback still comes, from the loop */
	c.calls = 0;
	assert_non_null(dns_query(f->r, "a..b", DNS_T_A, count_cb, &c));
	assert_int_equal(c.calls, 0);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.status, DNS_ERROR);
	/* and it can be cancelled like any query: its caller may be gone
	 * before the loop turns (LeakSanitizer checks the answer is freed) */
	d.calls = 0;
	dns_cancel(dns_query(f->r, "a..b", DNS_T_A, count_cb, &d));
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(d.calls, 0);
	/* freeing the resolver drops what is pending, without calling */
	c.calls = 0;
	dns_query(f->r, "mx1.example.org", DNS_T_A, count_cb, &c);
	dns_resolver_free(f->r);
	f->r = dns_zone_new(f->base);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(c.calls, 0);
}

/* Each bad zone and the start of the message it must produce. */
static void
test_load_errors(void **state)
{
	static const struct {
		const char	*text;
		const char	*err;
	} bad[] = {
		{ "a A 192.0.2.1\nb TXT \"open\n", "line 2: quoted" },
		{ "a FOO 1\n", "line 1: 'FOO' is not a record type" },
		{ "a A 192.0.2.300\n", "line 1: '192.0.2.300' is not an IPv4" },
		{ "a AAAA 192.0.2.1\n", "line 1: '192.0.2.1' is not an IPv6" },
		{ "a A\n", "line 1: A wants 1 value, not 0" },
		{ "a CNAME b\na A 192.0.2.1\n", "line 2: a.example.org has a "
		    "CNAME" },
		{ "a A 192.0.2.1\na CNAME b\n", "line 2: a.example.org has a "
		    "CNAME" },
		{ "\n\na A 192.0.2.1 )\n", "line 3: ')' without '('" },
		{ "a TXT ( \"x\"\n\n", "line 1: '(' is never closed" },
		{ " A 192.0.2.1\n", "line 1: no owner name" },
		{ "a 99999999999 A 192.0.2.1\n", "line 1: '99999999999' is "
		    "not a TTL" },
		{ "a 1x A 192.0.2.1\n", "line 1: '1x' is not a TTL" },
		{ "$INCLUDE other\n", "line 1: $INCLUDE is not supported" },
		{ "$FOO bar\n", "line 1: unknown directive" },
		{ "$TTL\n", "line 1: $TTL wants 1 value" },
		{ "a CH A 192.0.2.1\n", "line 1: only class IN" },
		{ "a..b A 192.0.2.1\n", "line 1: 'a..b' is not a valid" },
		{ "a\\.b A 192.0.2.1\n", "line 1: 'a.b' is not a usable name" },
		{ "a MX 65536 mx\n", "line 1: MX preference" },
		{ "a TLSA 3 1 1 ABC\n", "line 1: hex data" },
		{ "a TLSA 3 1 256 AB\n", "line 1: TLSA field 3" },
		{ "a TXT \"\\300\"\n", "line 1: \\300 is more than 255" },
		{ "a TXT \"\\12\"\n", "line 1: \\DDD needs three digits" },
		{ "a TXT x\\", "line 1: backslash at the end" },
		{ "a\n", "line 1: record without a type" },
		{ "a WKS 1\n", "line 1: 'WKS' is not a record type" },
		{ "a TYPE65 1\n", "line 1: type TYPE65 is not supported" },
	};
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (load(f, bad[i].text) != -1 ||
		    strncmp(f->err, bad[i].err, strlen(bad[i].err)) != 0)
			fail_msg("zone %zu: got '%s', want '%s...'", i, f->err,
			    bad[i].err);
	}
}

/* A zone with one TXT string of n bytes. */
static int
load_txt_of(struct fx *f, size_t n)
{
	struct buf z = BUF_INIT;
	size_t i;
	int rc;

	buf_append_str(&z, "a TXT \"");
	for (i = 0; i < n; i++)
		buf_append_char(&z, 'x');
	buf_append_str(&z, "\"\n");
	rc = load(f, buf_cstr(&z));
	buf_free(&z);
	return rc;
}

static void
test_load_limits(void **state)
{
	struct fx *f = *state;
	char line[128];

	/* a 256-byte TXT string must be split by the author; 255 is fine */
	assert_int_equal(load_txt_of(f, 256), -1);
	assert_non_null(strstr(f->err, "split it"));
	assert_int_equal(load_txt_of(f, 255), 0);
	assert_int_equal(ask(f, "a.example.org", DNS_T_TXT)->rr[0].u.txt
	    .joined_len, 255);
	/* a 64-byte label is not a name, 63 is */
	memset(line, 'l', 64);
	strcpy(line + 64, " A 192.0.2.1\n");
	assert_int_equal(load(f, line), -1);
	assert_int_equal(load(f, line + 1), 0);
}

/* A failed load adds nothing; a good second load adds up. */
static void
test_load_atomic_and_additive(void **state)
{
	static const char more[] = "new A 192.0.2.99\n";
	static const char broken[] = "half A 192.0.2.98\nbad A x\n";
	struct fx *f = *state;

	assert_int_equal(dns_zone_load(f->r, broken, strlen(broken),
	    "example.org", f->err, sizeof(f->err)), -1);
	assert_string_equal(f->err, "line 2: 'x' is not an IPv4 address");
	assert_int_equal(ask(f, "half.example.org", DNS_T_A)->status,
	    DNS_NXDOMAIN);
	assert_int_equal(dns_zone_load(f->r, more, strlen(more), "example.org.",
	    f->err, sizeof(f->err)), 0);
	assert_int_equal(ask(f, "new.example.org", DNS_T_A)->status, DNS_OK);
	assert_int_equal(dns_zone_load(f->r, more, strlen(more), "a..b",
	    f->err, sizeof(f->err)), -1);
	assert_string_equal(f->err, "origin: 'a..b.' is not a valid domain "
	    "name");
	assert_int_equal(ask(f, "mx1.example.org", DNS_T_A)->status, DNS_OK);
}

static void
test_load_syntax_variants(void **state)
{
	static const char z[] =
	    "$ORIGIN other.test.\n"
	    "$TTL 1h\n"
	    "@ IN A 192.0.2.1 ; trailing comment\n"
	    "; a whole-line comment\n"
	    "\n"
	    "x 1d IN TXT unquoted words ( \"and\" \n"
	    "   \"more\" )\n"
	    "y IN 1h30m SPF \"v=spf1 -all\"\r\n"
	    "z.example.org. MX 0 .\n";
	struct fx *f = *state;
	struct dns_answer *a;

	assert_int_equal(load(f, z), 0);
	a = ask(f, "other.test", DNS_T_A);
	assert_int_equal(a->rr[0].ttl, 3600);
	a = ask(f, "x.other.test", DNS_T_TXT);
	assert_int_equal(a->rr[0].ttl, 86400);
	assert_int_equal(a->rr[0].u.txt.nstrings, 4);
	assert_string_equal(a->rr[0].u.txt.joined, "unquotedwordsandmore");
	a = ask(f, "y.other.test", DNS_T_SPF);
	assert_int_equal(a->rr[0].ttl, 5400);
	assert_int_equal(ask(f, "y.other.test", DNS_T_TXT)->status,
	    DNS_NODATA);
	assert_string_equal(shown(f, "z.example.org", DNS_T_MX),
	    "z.example.org. 3600 IN MX 0 .\n");
}

/* dns_answer_txt: TXT records in order, capped, none unless DNS_OK */
static void
test_answer_txt(void **state)
{
	struct fx *f = *state;
	const char *txt[2];
	size_t len[2];

	assert_int_equal(load(f, "k TXT \"one\"\nk TXT \"t\" \"wo\"\n"
	    "k TXT \"three\"\nk A 192.0.2.1\n"), 0);
	assert_int_equal(dns_answer_txt(ask(f, "k.example.org", DNS_T_TXT),
	    txt, len, 2), 2);
	assert_int_equal(len[0], 3);
	assert_memory_equal(txt[0], "one", 3);
	assert_int_equal(len[1], 3);
	assert_memory_equal(txt[1], "two", 3);
	assert_int_equal(dns_answer_txt(ask(f, "nx.example.org", DNS_T_TXT),
	    txt, len, 2), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_basic_records, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_txt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tlsa, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nxdomain_nodata_ent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cname_chain, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cname_loop_and_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_set_failure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_async_contract, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_answer_txt, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_limits, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_atomic_and_additive,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_syntax_variants, setup,
		    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
