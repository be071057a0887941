/* Unit tests for core/ip: parsing, formatting, CIDR, reverse names. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "core/ip.h"

/* Parses a string literal; fails the test when it is not an address. */
static struct ip_addr
ip_of(const char *s)
{
	struct ip_addr ip;

	assert_int_equal(ip_parse(s, strlen(s), &ip), 0);
	return ip;
}

static struct cidr
cidr_of(const char *s)
{
	struct cidr c;

	assert_int_equal(cidr_parse(s, strlen(s), &c), 0);
	return c;
}

static int
parse_str(const char *s)
{
	struct ip_addr ip;

	return ip_parse(s, strlen(s), &ip);
}

static int
cidr_str(const char *s)
{
	struct cidr c;

	return cidr_parse(s, strlen(s), &c);
}

static void
test_parse_ipv4(void **state)
{
	struct ip_addr ip = ip_of("192.0.2.1");
	static const uint8_t want[16] = { 192, 0, 2, 1 };

	(void)state;
	assert_int_equal(ip.family, AF_INET);
	assert_memory_equal(ip.a, want, 16);
	ip = ip_of("0.0.0.0");
	assert_int_equal(ip.family, AF_INET);
	ip = ip_of("255.255.255.255");
	assert_int_equal(ip.a[3], 255);
}

static void
test_parse_ipv6(void **state)
{
	struct ip_addr ip = ip_of("2001:db8::1");

	(void)state;
	assert_int_equal(ip.family, AF_INET6);
	assert_int_equal(ip.a[0], 0x20);
	assert_int_equal(ip.a[1], 0x01);
	assert_int_equal(ip.a[2], 0x0d);
	assert_int_equal(ip.a[3], 0xb8);
	assert_int_equal(ip.a[15], 1);
	ip = ip_of("::");
	assert_int_equal(ip.family, AF_INET6);
	ip = ip_of("::ffff:192.0.2.1");
	assert_int_equal(ip.family, AF_INET6);
	ip = ip_of("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
	assert_int_equal(ip.a[0], 0xff);
	ip = ip_of("2001:DB8::A");
	assert_int_equal(ip.a[15], 0x0a);
}

/* Forms that lenient parsers accept and spammers use to dodge lists. */
static void
test_parse_rejects_sloppy_ipv4(void **state)
{
	(void)state;
	assert_int_equal(parse_str("192.0.2"), -1);
	assert_int_equal(parse_str("3221225985"), -1);
	assert_int_equal(parse_str("0300.0.2.1"), -1);
	assert_int_equal(parse_str("0xc0.0.2.1"), -1);
	assert_int_equal(parse_str("192.0.02.1"), -1);
	assert_int_equal(parse_str("256.0.0.1"), -1);
	assert_int_equal(parse_str("192.0.2.1."), -1);
	assert_int_equal(parse_str(" 192.0.2.1"), -1);
	assert_int_equal(parse_str("192.0.2.1 "), -1);
	assert_int_equal(parse_str("192.0.2.1/32"), -1);
}

static void
test_parse_rejects_bad_input(void **state)
{
	struct ip_addr ip;
	char big[100];

	(void)state;
	assert_int_equal(ip_parse("", 0, &ip), -1);
	assert_int_equal(ip_parse("192.0.2.1\0", 10, &ip), -1);
	assert_int_equal(ip_parse("::1\0x", 5, &ip), -1);
	assert_int_equal(parse_str("fe80::1%eth0"), -1);
	assert_int_equal(parse_str("2001:db8:::1"), -1);
	assert_int_equal(parse_str("1:2:3:4:5:6:7:8:9"), -1);
	assert_int_equal(parse_str("[::1]"), -1);
	assert_int_equal(parse_str("g::1"), -1);
	assert_int_equal(parse_str("example.com"), -1);
	memset(big, '0', sizeof(big));
	memcpy(big, "::", 2);
	assert_int_equal(ip_parse(big, sizeof(big), &ip), -1);
	assert_int_equal(ip.family, 0);
}

/* The length bound, not the NUL, ends the input. */
static void
test_parse_is_bounded(void **state)
{
	struct ip_addr ip;

	(void)state;
	assert_int_equal(ip_parse("192.0.2.1xyz", 9, &ip), 0);
	assert_int_equal(ip.family, AF_INET);
	assert_int_equal(ip_parse("192.0.2.1xyz", 8, &ip), -1);
}

static void
test_from_sockaddr(void **state)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr sa;
	struct ip_addr ip, want;

	(void)state;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(25);
	assert_int_equal(inet_pton(AF_INET, "198.51.100.7", &sin.sin_addr), 1);
	assert_int_equal(ip_from_sockaddr((struct sockaddr *)&sin, &ip), 0);
	want = ip_of("198.51.100.7");
	assert_true(ip_equal(&ip, &want));

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "::ffff:198.51.100.7",
	    &sin6.sin6_addr), 1);
	assert_int_equal(ip_from_sockaddr((struct sockaddr *)&sin6, &ip), 0);
	assert_int_equal(ip.family, AF_INET6);
	assert_true(ip_is_v4mapped(&ip));

	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNIX;
	assert_int_equal(ip_from_sockaddr(&sa, &ip), -1);
}

static void
test_format_canonical(void **state)
{
	char out[IP_STRLEN];
	struct ip_addr ip;

	(void)state;
	ip = ip_of("2001:0DB8:0000:0000:0000:0000:0000:0001");
	assert_string_equal(ip_format(&ip, out, sizeof(out)), "2001:db8::1");
	ip = ip_of("192.0.2.10");
	assert_string_equal(ip_format(&ip, out, sizeof(out)), "192.0.2.10");
	ip = ip_of("::ffff:192.0.2.1");
	assert_string_equal(ip_format(&ip, out, sizeof(out)),
	    "::ffff:192.0.2.1");
	ip = ip_of("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_string_equal(ip_format(&ip, out, sizeof(out)),
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

/* RFC 5952 section 4: the one text form of each IPv6 address. */
static void
test_format_rfc5952(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "0:0:0:0:0:0:0:0", "::" },
		{ "0:0:0:0:0:0:0:1", "::1" },
		{ "1:0:0:0:0:0:0:0", "1::" },
		{ "::1:2", "::1:2" },
		{ "::192.0.2.1", "::c000:201" },
		{ "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" },
		{ "2001:0:0:1:0:0:0:1", "2001:0:0:1::1" },
		{ "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1" },
		{ "2001:db8::aaaa:0:0:1", "2001:db8::aaaa:0:0:1" },
		{ "2001:DB8:00AA::0001", "2001:db8:aa::1" },
		{ "::FFFF:c000:0201", "::ffff:192.0.2.1" },
		{ "1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0" },
		{ "fe80::", "fe80::" },
	};
	char out[IP_STRLEN];
	struct ip_addr ip;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ip = ip_of(cases[i].in);
		assert_string_equal(ip_format(&ip, out, sizeof(out)),
		    cases[i].want);
	}
}

static void
test_format_small_buffer(void **state)
{
	char out[8];
	struct ip_addr ip = ip_of("192.0.2.100"), bad;

	(void)state;
	assert_null(ip_format(&ip, out, sizeof(out)));
	assert_string_equal(out, "");
	assert_null(ip_format(&ip, out, 0));
	memset(&bad, 0, sizeof(bad));
	assert_null(ip_format(&bad, out, sizeof(out)));
}

static void
test_equal(void **state)
{
	struct ip_addr a = ip_of("192.0.2.1"), b = ip_of("192.0.2.1");
	struct ip_addr c = ip_of("192.0.2.2"), m = ip_of("::ffff:192.0.2.1");
	struct ip_addr d = ip_of("2001:db8::1"), e = ip_of("2001:db8:0::1");

	(void)state;
	assert_true(ip_equal(&a, &b));
	assert_false(ip_equal(&a, &c));
	assert_false(ip_equal(&a, &m));
	assert_true(ip_equal(&d, &e));
	assert_false(ip_equal(&a, &d));
}

static void
test_v4mapped(void **state)
{
	struct ip_addr m = ip_of("::ffff:192.0.2.1"), v4 = ip_of("192.0.2.1");
	struct ip_addr compat = ip_of("::192.0.2.1"), v6 = ip_of("2001:db8::1");
	struct ip_addr copy;

	(void)state;
	assert_true(ip_is_v4mapped(&m));
	assert_false(ip_is_v4mapped(&v4));
	assert_false(ip_is_v4mapped(&compat));
	assert_false(ip_is_v4mapped(&v6));
	ip_unmap_v4(&m);
	assert_int_equal(m.family, AF_INET);
	assert_true(ip_equal(&m, &v4));
	assert_memory_equal(m.a, v4.a, 16);
	copy = v6;
	ip_unmap_v4(&v6);
	assert_memory_equal(&copy, &v6, sizeof(v6));
	copy = v4;
	ip_unmap_v4(&v4);
	assert_memory_equal(&copy, &v4, sizeof(v4));
}

static void
test_prefix_equal(void **state)
{
	struct ip_addr a = ip_of("192.0.2.1"), b = ip_of("192.0.3.1");
	struct ip_addr x = ip_of("2001:db8::1"), y = ip_of("2001:db9::1");

	(void)state;
	assert_true(ip_prefix_equal(&a, &b, 0));
	assert_true(ip_prefix_equal(&a, &b, 23));
	assert_false(ip_prefix_equal(&a, &b, 24));
	assert_false(ip_prefix_equal(&a, &b, 32));
	assert_true(ip_prefix_equal(&a, &a, 32));
	assert_false(ip_prefix_equal(&a, &a, 33));
	assert_true(ip_prefix_equal(&x, &y, 31));
	assert_false(ip_prefix_equal(&x, &y, 32));
	assert_true(ip_prefix_equal(&x, &x, 128));
	assert_false(ip_prefix_equal(&x, &x, 129));
	assert_false(ip_prefix_equal(&a, &x, 0));
}

static void
test_cidr_parse_basic(void **state)
{
	struct cidr c = cidr_of("192.0.2.0/24");
	char out[CIDR_STRLEN];

	(void)state;
	assert_int_equal(c.prefix, 24);
	assert_int_equal(c.addr.family, AF_INET);
	assert_string_equal(cidr_format(&c, out, sizeof(out)), "192.0.2.0/24");
	c = cidr_of("2001:db8::/32");
	assert_int_equal(c.prefix, 32);
	assert_string_equal(cidr_format(&c, out, sizeof(out)), "2001:db8::/32");
}

static void
test_cidr_bare_address_is_host(void **state)
{
	struct cidr c = cidr_of("192.0.2.7");
	char out[CIDR_STRLEN];

	(void)state;
	assert_int_equal(c.prefix, 32);
	assert_string_equal(cidr_format(&c, out, sizeof(out)), "192.0.2.7/32");
	c = cidr_of("2001:db8::7");
	assert_int_equal(c.prefix, 128);
	assert_string_equal(cidr_format(&c, out, sizeof(out)),
	    "2001:db8::7/128");
}

static void
test_cidr_clears_host_bits(void **state)
{
	struct cidr c = cidr_of("192.0.2.77/24");
	char out[CIDR_STRLEN];

	(void)state;
	assert_string_equal(cidr_format(&c, out, sizeof(out)), "192.0.2.0/24");
	c = cidr_of("192.0.2.255/25");
	assert_string_equal(cidr_format(&c, out, sizeof(out)),
	    "192.0.2.128/25");
	c = cidr_of("203.0.113.9/0");
	assert_string_equal(cidr_format(&c, out, sizeof(out)), "0.0.0.0/0");
	c = cidr_of("2001:db8:ffff::1/33");
	assert_string_equal(cidr_format(&c, out, sizeof(out)),
	    "2001:db8:8000::/33");
	c = cidr_of("2001:db8::1/0");
	assert_string_equal(cidr_format(&c, out, sizeof(out)), "::/0");
	c = cidr_of("2001:db8::1/128");
	assert_string_equal(cidr_format(&c, out, sizeof(out)),
	    "2001:db8::1/128");
}

static void
test_cidr_edges(void **state)
{
	struct cidr c;

	(void)state;
	c = cidr_of("0.0.0.0/0");
	assert_int_equal(c.prefix, 0);
	c = cidr_of("192.0.2.1/32");
	assert_int_equal(c.prefix, 32);
	c = cidr_of("::/0");
	assert_int_equal(c.prefix, 0);
	c = cidr_of("::1/128");
	assert_int_equal(c.prefix, 128);
	c = cidr_of("192.0.2.0/10");
	assert_int_equal(c.prefix, 10);
}

static void
test_cidr_rejects_bad_prefix(void **state)
{
	struct cidr c;

	(void)state;
	assert_int_equal(cidr_str("192.0.2.0/33"), -1);
	assert_int_equal(cidr_str("192.0.2.0/01"), -1);
	assert_int_equal(cidr_str("192.0.2.0/00"), -1);
	assert_int_equal(cidr_str("192.0.2.0/-1"), -1);
	assert_int_equal(cidr_str("192.0.2.0/+8"), -1);
	assert_int_equal(cidr_str("192.0.2.0/"), -1);
	assert_int_equal(cidr_str("192.0.2.0/ 8"), -1);
	assert_int_equal(cidr_str("192.0.2.0/8 "), -1);
	assert_int_equal(cidr_str("192.0.2.0/8/8"), -1);
	assert_int_equal(cidr_str("192.0.2.0/0x8"), -1);
	assert_int_equal(cidr_str("192.0.2.0/4294967320"), -1);
	assert_int_equal(cidr_str("2001:db8::/129"), -1);
	assert_int_equal(cidr_str("2001:db8::/0128"), -1);
	assert_int_equal(cidr_str("/24"), -1);
	assert_int_equal(cidr_str("192.0.2/24"), -1);
	assert_int_equal(cidr_str(""), -1);
	assert_int_equal(cidr_parse("192.0.2.0/2\0", 12, &c), -1);
	assert_int_equal(c.prefix, 0);
}

static void
test_cidr_match(void **state)
{
	struct cidr net = cidr_of("192.0.2.0/24"), all4 = cidr_of("0.0.0.0/0");
	struct cidr net6 = cidr_of("2001:db8::/32"), all6 = cidr_of("::/0");
	struct cidr host = cidr_of("192.0.2.1");
	struct ip_addr in = ip_of("192.0.2.200"), out = ip_of("192.0.3.1");
	struct ip_addr in6 = ip_of("2001:db8:1::5"), out6 = ip_of("2001:db9::");

	(void)state;
	assert_true(cidr_match(&net, &in));
	assert_false(cidr_match(&net, &out));
	assert_true(cidr_match(&all4, &out));
	assert_false(cidr_match(&all4, &in6));
	assert_true(cidr_match(&net6, &in6));
	assert_false(cidr_match(&net6, &out6));
	assert_true(cidr_match(&all6, &out6));
	assert_false(cidr_match(&all6, &in));
	assert_false(cidr_match(&host, &in));
	in = ip_of("192.0.2.1");
	assert_true(cidr_match(&host, &in));
}

/* A mapped client matches IPv4 lists only after the caller unmaps it. */
static void
test_cidr_match_v4mapped_needs_unmap(void **state)
{
	struct cidr net = cidr_of("192.0.2.0/24");
	struct cidr mapped_net = cidr_of("::ffff:0:0/96");
	struct ip_addr m = ip_of("::ffff:192.0.2.9");

	(void)state;
	assert_false(cidr_match(&net, &m));
	assert_true(cidr_match(&mapped_net, &m));
	ip_unmap_v4(&m);
	assert_true(cidr_match(&net, &m));
	assert_false(cidr_match(&mapped_net, &m));
}

static void
test_cidr_format_small_buffer(void **state)
{
	struct cidr c = cidr_of("192.0.2.0/24");
	char out[13];

	(void)state;
	assert_null(cidr_format(&c, out, 12));
	assert_string_equal(out, "");
	assert_non_null(cidr_format(&c, out, 13));
	assert_string_equal(out, "192.0.2.0/24");
}

static void
test_reverse_ipv4(void **state)
{
	struct ip_addr ip = ip_of("192.0.2.1");
	char out[IP_REVLEN];

	(void)state;
	assert_string_equal(ip_reverse_name(&ip, out, sizeof(out)),
	    "1.2.0.192.in-addr.arpa");
	assert_string_equal(ip_reverse_label(&ip, out, sizeof(out)),
	    "1.2.0.192");
	ip = ip_of("127.0.0.5");
	assert_string_equal(ip_reverse_name(&ip, out, sizeof(out)),
	    "5.0.0.127.in-addr.arpa");
}

static void
test_reverse_ipv6(void **state)
{
	struct ip_addr ip = ip_of("2001:db8::567:89ab");
	char out[IP_REVLEN];

	(void)state;
	assert_string_equal(ip_reverse_name(&ip, out, sizeof(out)),
	    "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	assert_string_equal(ip_reverse_label(&ip, out, sizeof(out)),
	    "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2");
	ip = ip_of("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_non_null(ip_reverse_name(&ip, out, sizeof(out)));
	assert_int_equal(strlen(out), IP_REVLEN - 2);
}

static void
test_reverse_small_buffer(void **state)
{
	struct ip_addr ip = ip_of("192.0.2.1");
	char out[IP_REVLEN];

	(void)state;
	assert_null(ip_reverse_name(&ip, out, 22));
	assert_string_equal(out, "");
	assert_non_null(ip_reverse_name(&ip, out, 23));
	assert_null(ip_reverse_label(&ip, out, 9));
	assert_non_null(ip_reverse_label(&ip, out, 10));
	memset(&ip, 0, sizeof(ip));
	assert_null(ip_reverse_name(&ip, out, sizeof(out)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ipv4),
		cmocka_unit_test(test_parse_ipv6),
		cmocka_unit_test(test_parse_rejects_sloppy_ipv4),
		cmocka_unit_test(test_parse_rejects_bad_input),
		cmocka_unit_test(test_parse_is_bounded),
		cmocka_unit_test(test_from_sockaddr),
		cmocka_unit_test(test_format_canonical),
		cmocka_unit_test(test_format_rfc5952),
		cmocka_unit_test(test_format_small_buffer),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_v4mapped),
		cmocka_unit_test(test_prefix_equal),
		cmocka_unit_test(test_cidr_parse_basic),
		cmocka_unit_test(test_cidr_bare_address_is_host),
		cmocka_unit_test(test_cidr_clears_host_bits),
		cmocka_unit_test(test_cidr_edges),
		cmocka_unit_test(test_cidr_rejects_bad_prefix),
		cmocka_unit_test(test_cidr_match),
		cmocka_unit_test(test_cidr_match_v4mapped_needs_unmap),
		cmocka_unit_test(test_cidr_format_small_buffer),
		cmocka_unit_test(test_reverse_ipv4),
		cmocka_unit_test(test_reverse_ipv6),
		cmocka_unit_test(test_reverse_small_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
