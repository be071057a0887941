/* Unit tests for core/addr: RFC 5321 paths, addr-specs, domains, IDN. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/addr.h"

#define ALL_FLAGS (ADDR_ALLOW_UTF8 | ADDR_ALLOW_NULL | ADDR_ALLOW_NO_DOMAIN)

/* Parses a path that must be accepted; fails the test with the reason. */
static struct mailaddr
path_ok(const char *s, unsigned flags)
{
	struct mailaddr a;
	const char *reason = NULL;

	if (addr_parse_path(s, strlen(s), flags, &a, &reason) != 0)
		fail_msg("%s rejected: %s", s, reason);
	return a;
}

/* Parses a path that must be refused; returns the reason. */
static const char *
path_bad(const char *s, unsigned flags)
{
	struct mailaddr a;
	const char *reason = NULL;

	if (addr_parse_path(s, strlen(s), flags, &a, &reason) == 0)
		fail_msg("%s accepted", s);
	assert_non_null(reason);
	assert_string_equal(a.local, "");
	assert_string_equal(a.domain, "");
	return reason;
}

static struct mailaddr
spec_ok(const char *s, unsigned flags)
{
	struct mailaddr a;
	const char *reason = NULL;

	if (addr_parse_addrspec(s, strlen(s), flags, &a, &reason) != 0)
		fail_msg("%s rejected: %s", s, reason);
	return a;
}

static const char *
spec_bad(const char *s, unsigned flags)
{
	struct mailaddr a;
	const char *reason = NULL;

	if (addr_parse_addrspec(s, strlen(s), flags, &a, &reason) == 0)
		fail_msg("%s accepted", s);
	assert_non_null(reason);
	return reason;
}

static const char *
domain_ok(const char *s, char *out, size_t n)
{
	const char *reason = NULL;

	if (addr_domain_to_ascii(s, strlen(s), out, n, &reason) != 0)
		fail_msg("%s rejected: %s", s, reason);
	return out;
}

static const char *
domain_bad(const char *s)
{
	char out[ADDR_DOMAIN_MAX + 1];
	const char *reason = NULL;

	if (addr_domain_to_ascii(s, strlen(s), out, sizeof(out), &reason) == 0)
		fail_msg("%s accepted as %s", s, out);
	assert_non_null(reason);
	assert_string_equal(out, "");
	return reason;
}

/* Appends t to the string s of capacity cap. */
static void
cat(char *s, size_t cap, const char *t)
{
	size_t len = strlen(s), tl = strlen(t);

	assert_true(len + tl < cap);
	memcpy(s + len, t, tl + 1);
}

/* Appends n copies of c to the string s of capacity cap. */
static void
cat_repeat(char *s, size_t cap, char c, size_t n)
{
	size_t len = strlen(s);

	assert_true(len + n < cap);
	memset(s + len, c, n);
	s[len + n] = '\0';
}

/* Appends three 63-octet labels and one of last octets, dot-separated. */
static void
cat_long_domain(char *s, size_t cap, size_t last)
{
	int i;

	for (i = 0; i < 3; i++) {
		cat_repeat(s, cap, 'b', 63);
		cat(s, cap, ".");
	}
	cat_repeat(s, cap, 'b', last);
}

static void
test_path_simple(void **state)
{
	struct mailaddr a = path_ok("<user@example.com>", 0);

	(void)state;
	assert_string_equal(a.local, "user");
	assert_string_equal(a.domain, "example.com");
	assert_false(a.is_null);
	assert_false(a.local_quoted);
	assert_false(a.local_utf8);
	assert_false(a.ip_literal);
}

static void
test_path_domain_lowercased_local_kept(void **state)
{
	struct mailaddr a = path_ok("<John.Doe@Mail.EXAMPLE.Com>", 0);

	(void)state;
	assert_string_equal(a.local, "John.Doe");
	assert_string_equal(a.domain, "mail.example.com");
}

static void
test_path_atext_local(void **state)
{
	struct mailaddr a;

	(void)state;
	a = path_ok("<!#$%&'*+-/=?^_`{|}~@example.com>", 0);
	assert_string_equal(a.local, "!#$%&'*+-/=?^_`{|}~");
	assert_false(a.local_quoted);
	a = path_ok("<first.last+tag@example.com>", 0);
	assert_string_equal(a.local, "first.last+tag");
}

/* Relay-abuse shapes are parsed as exactly what they are. */
static void
test_path_percent_and_bang_are_plain_local(void **state)
{
	struct mailaddr a;

	(void)state;
	a = path_ok("<a%b@c.example>", 0);
	assert_string_equal(a.local, "a%b");
	assert_string_equal(a.domain, "c.example");
	assert_false(a.local_quoted);
	a = path_ok("<a!b@c.example>", 0);
	assert_string_equal(a.local, "a!b");
	assert_string_equal(a.domain, "c.example");
	a = path_ok("<user%victim.example@relay.example>", 0);
	assert_string_equal(a.local, "user%victim.example");
	assert_string_equal(a.domain, "relay.example");
}

static void
test_path_quoted_local_with_at(void **state)
{
	struct mailaddr a = path_ok("<\"a@b\"@c.example>", 0);
	char out[ADDR_STRLEN];

	(void)state;
	assert_string_equal(a.local, "a@b");
	assert_string_equal(a.domain, "c.example");
	assert_true(a.local_quoted);
	assert_string_equal(addr_format(&a, out, sizeof(out)),
	    "\"a@b\"@c.example");
	assert_string_equal(path_bad("<a@b@c.example>", 0),
	    "invalid character in domain");
}

static void
test_path_quoted_local_semantic_form(void **state)
{
	struct mailaddr a;
	char out[ADDR_STRLEN];

	(void)state;
	/* Quotes around a dot-atom are not needed: local_quoted stays off. */
	a = path_ok("<\"john\"@example.com>", 0);
	assert_string_equal(a.local, "john");
	assert_false(a.local_quoted);
	assert_string_equal(addr_format(&a, out, sizeof(out)),
	    "john@example.com");
	/* Quoted-pairs are resolved. */
	a = path_ok("<\"\\j\\o\\h\\n\"@example.com>", 0);
	assert_string_equal(a.local, "john");
	assert_false(a.local_quoted);
	a = path_ok("<\"john smith\"@example.com>", 0);
	assert_string_equal(a.local, "john smith");
	assert_true(a.local_quoted);
	a = path_ok("<\"a\\\"b\\\\c\"@example.com>", 0);
	assert_string_equal(a.local, "a\"b\\c");
	assert_true(a.local_quoted);
	assert_string_equal(addr_format(&a, out, sizeof(out)),
	    "\"a\\\"b\\\\c\"@example.com");
	a = path_ok("<\"a..b\"@example.com>", 0);
	assert_true(a.local_quoted);
	a = path_ok("<\".a\"@example.com>", 0);
	assert_true(a.local_quoted);
	a = path_ok("<\"a.\"@example.com>", 0);
	assert_true(a.local_quoted);
	a = path_ok("<\"\"@example.com>", 0);
	assert_string_equal(a.local, "");
	assert_true(a.local_quoted);
	assert_string_equal(addr_format(&a, out, sizeof(out)),
	    "\"\"@example.com");
	a = path_ok("<\"<a>,[b];(c):\"@example.com>", 0);
	assert_string_equal(a.local, "<a>,[b];(c):");
	assert_true(a.local_quoted);
}

static void
test_path_quoted_local_rejects(void **state)
{
	(void)state;
	assert_string_equal(path_bad("<\"abc@example.com>", 0),
	    "unterminated quoted local part");
	assert_string_equal(path_bad("<\"abc\\\"@example.com>", 0),
	    "unterminated quoted local part");
	assert_string_equal(path_bad("<\"a\"b@example.com>", 0),
	    "invalid character after quoted local part");
	assert_string_equal(path_bad("<\"a\".\"b\"@example.com>", 0),
	    "invalid character after quoted local part");
	assert_string_equal(path_bad("<\"a\tb\"@example.com>", 0),
	    "invalid character in quoted local part");
	assert_string_equal(path_bad("<\"a\\\tb\"@example.com>", 0),
	    "invalid quoted-pair in local part");
	assert_string_equal(path_bad("<\"a\rb\"@example.com>", 0),
	    "invalid character in quoted local part");
	assert_string_equal(path_bad("<\"a\">", 0), "missing '@'");
	assert_string_equal(path_bad("<a\"b\"@example.com>", 0),
	    "invalid character in local part");
}

static void
test_path_dot_string_rejects(void **state)
{
	(void)state;
	assert_string_equal(path_bad("<.a@example.com>", 0),
	    "local part starts with '.'");
	assert_string_equal(path_bad("<a.@example.com>", 0),
	    "local part ends with '.'");
	assert_string_equal(path_bad("<a..b@example.com>", 0),
	    "consecutive dots in local part");
	assert_string_equal(path_bad("<@example.com>", 0),
	    "source route without ':'");
	assert_string_equal(spec_bad("@example.com", 0), "empty local part");
	assert_string_equal(path_bad("<a b@example.com>", 0),
	    "invalid character in local part");
	assert_string_equal(path_bad("<a(b)@example.com>", 0),
	    "invalid character in local part");
	assert_string_equal(path_bad("<a\\b@example.com>", 0),
	    "invalid character in local part");
	assert_string_equal(path_bad("<userexample.com>", 0), "missing '@'");
	assert_string_equal(path_bad("<user@>", 0),
	    "missing domain after '@'");
}

static void
test_path_brackets(void **state)
{
	(void)state;
	assert_string_equal(path_bad("", 0), "empty path");
	assert_string_equal(path_bad("user@example.com", 0),
	    "path does not start with '<'");
	assert_string_equal(path_bad("<user@example.com", 0),
	    "bare '<' without '>'");
	assert_string_equal(path_bad("<", 0), "bare '<' without '>'");
	assert_string_equal(path_bad("<user@example.com> ", 0),
	    "characters after '>'");
	assert_string_equal(path_bad("<user@example.com>x", 0),
	    "characters after '>'");
	assert_string_equal(path_bad(" <user@example.com>", 0),
	    "path does not start with '<'");
	assert_string_equal(path_bad("<<user@example.com>>", 0),
	    "invalid character in local part");
	assert_string_equal(path_bad("<user@example.com>>", 0),
	    "invalid character in domain");
}

static void
test_path_null(void **state)
{
	struct mailaddr a;
	char out[ADDR_STRLEN];

	(void)state;
	a = path_ok("<>", ADDR_ALLOW_NULL);
	assert_true(a.is_null);
	assert_string_equal(a.local, "");
	assert_string_equal(a.domain, "");
	assert_string_equal(addr_format(&a, out, sizeof(out)), "");
	assert_string_equal(path_bad("<>", 0), "null path '<>' not allowed");
	assert_string_equal(path_bad("<>", ADDR_ALLOW_UTF8 |
	    ADDR_ALLOW_NO_DOMAIN), "null path '<>' not allowed");
	assert_string_equal(path_bad("< >", ADDR_ALLOW_NULL), "missing '@'");
	assert_string_equal(path_bad("< @example.com>", ADDR_ALLOW_NULL),
	    "invalid character in local part");
}

static void
test_path_postmaster(void **state)
{
	struct mailaddr a;
	char out[ADDR_STRLEN];

	(void)state;
	a = path_ok("<postmaster>", ADDR_ALLOW_NO_DOMAIN);
	assert_string_equal(a.local, "postmaster");
	assert_string_equal(a.domain, "");
	assert_string_equal(addr_format(&a, out, sizeof(out)), "postmaster");
	a = path_ok("<PostMaster>", ADDR_ALLOW_NO_DOMAIN);
	assert_string_equal(a.local, "postmaster");
	assert_string_equal(path_bad("<postmaster>", 0), "missing '@'");
	assert_string_equal(path_bad("<abuse>", ADDR_ALLOW_NO_DOMAIN),
	    "missing '@'");
	assert_string_equal(path_bad("<\"postmaster\">", ADDR_ALLOW_NO_DOMAIN),
	    "missing '@'");
	assert_string_equal(path_bad("<postmasters>", ADDR_ALLOW_NO_DOMAIN),
	    "missing '@'");
	a = path_ok("<Postmaster@Example.com>", 0);
	assert_string_equal(a.local, "Postmaster");
	assert_string_equal(a.domain, "example.com");
}

static void
test_path_source_route_dropped(void **state)
{
	struct mailaddr a;

	(void)state;
	a = path_ok("<@relay.example:user@example.com>", 0);
	assert_string_equal(a.local, "user");
	assert_string_equal(a.domain, "example.com");
	a = path_ok("<@a.example,@b.example:user@example.com>", 0);
	assert_string_equal(a.local, "user");
	assert_string_equal(a.domain, "example.com");
	assert_string_equal(path_bad("<@a.example user@example.com>", 0),
	    "source route without ':'");
	assert_string_equal(path_bad("<@a.example,b.example:u@example.com>",
	    0), "invalid source route");
	assert_string_equal(path_bad("<@:user@example.com>", 0),
	    "empty domain");
	assert_string_equal(path_bad("<@a_b.example:user@example.com>", 0),
	    "underscore in domain");
	assert_string_equal(path_bad("<@a.example,:user@example.com>", 0),
	    "invalid source route");
	assert_string_equal(path_bad("<@a.example:>", 0), "empty address");
	assert_string_equal(path_bad("<@b\xc3\xbc.example:u@example.com>", 0),
	    "non-ASCII domain without SMTPUTF8");
}

static void
test_path_ipv4_literal(void **state)
{
	struct mailaddr a;
	char out[ADDR_STRLEN];

	(void)state;
	a = path_ok("<user@[192.0.2.1]>", 0);
	assert_true(a.ip_literal);
	assert_int_equal(a.ip.family, AF_INET);
	assert_int_equal(a.ip.a[0], 192);
	assert_int_equal(a.ip.a[3], 1);
	assert_string_equal(a.domain, "[192.0.2.1]");
	assert_string_equal(addr_format(&a, out, sizeof(out)),
	    "user@[192.0.2.1]");
	assert_string_equal(path_bad("<user@[192.0.2]>", 0),
	    "invalid IPv4 address literal");
	assert_string_equal(path_bad("<user@[192.0.02.1]>", 0),
	    "invalid IPv4 address literal");
	assert_string_equal(path_bad("<user@[example.com]>", 0),
	    "invalid IPv4 address literal");
	assert_string_equal(path_bad("<user@[]>", 0), "empty address literal");
	assert_string_equal(path_bad("<user@[192.0.2.1>", 0),
	    "'[' without ']' in address literal");
	assert_string_equal(path_bad("<user@[192.0.2.1]x>", 0),
	    "'[' without ']' in address literal");
	assert_string_equal(path_bad("<user@[ 192.0.2.1]>", 0),
	    "invalid IPv4 address literal");
}

static void
test_path_ipv6_literal(void **state)
{
	struct mailaddr a;

	(void)state;
	a = path_ok("<user@[IPv6:2001:DB8:0::1]>", 0);
	assert_true(a.ip_literal);
	assert_int_equal(a.ip.family, AF_INET6);
	assert_string_equal(a.domain, "[IPv6:2001:db8::1]");
	a = path_ok("<user@[ipv6:::1]>", 0);
	assert_string_equal(a.domain, "[IPv6:::1]");
	a = path_ok("<user@[IPv6:::ffff:192.0.2.1]>", 0);
	assert_string_equal(a.domain, "[IPv6:::ffff:192.0.2.1]");
	assert_string_equal(path_bad("<user@[IPv6:192.0.2.1]>", 0),
	    "invalid IPv6 address literal");
	assert_string_equal(path_bad("<user@[IPv6:]>", 0),
	    "invalid IPv6 address literal");
	assert_string_equal(path_bad("<user@[IPv6:2001:db8::g]>", 0),
	    "invalid IPv6 address literal");
	assert_string_equal(path_bad("<user@[2001:db8::1]>", 0),
	    "general address literal (tag:content) not supported");
	assert_string_equal(path_bad("<user@[x400:c=us;a=b]>", 0),
	    "general address literal (tag:content) not supported");
}

static void
test_path_length_limits(void **state)
{
	char s[600], out[ADDR_STRLEN];
	struct mailaddr a;

	(void)state;
	s[0] = '\0';
	cat(s, sizeof(s), "<");
	cat_repeat(s, sizeof(s), 'a', 64);
	cat(s, sizeof(s), "@example.com>");
	a = path_ok(s, 0);
	assert_int_equal(strlen(a.local), 64);
	assert_non_null(addr_format(&a, out, sizeof(out)));
	assert_int_equal(strlen(out), strlen(s) - 2);
	assert_memory_equal(out, s + 1, strlen(out));

	s[0] = '\0';
	cat(s, sizeof(s), "<");
	cat_repeat(s, sizeof(s), 'a', 65);
	cat(s, sizeof(s), "@example.com>");
	assert_string_equal(path_bad(s, 0), "local part too long");

	/* Measured as received: quotes and backslashes count. */
	s[0] = '\0';
	cat(s, sizeof(s), "<\"");
	cat_repeat(s, sizeof(s), 'a', 62);
	cat(s, sizeof(s), "\"@example.com>");
	a = path_ok(s, 0);
	assert_int_equal(strlen(a.local), 62);

	s[0] = '\0';
	cat(s, sizeof(s), "<\"");
	cat_repeat(s, sizeof(s), 'a', 63);
	cat(s, sizeof(s), "\"@example.com>");
	assert_string_equal(path_bad(s, 0), "local part too long");

	s[0] = '\0';
	cat(s, sizeof(s), "<\"");
	cat_repeat(s, sizeof(s), '\\', 64);
	cat(s, sizeof(s), "\"@example.com>");
	assert_string_equal(path_bad(s, 0), "local part too long");

	/* 256 octets between the brackets is the maximum path. */
	s[0] = '\0';
	cat(s, sizeof(s), "<a@");
	cat_long_domain(s, sizeof(s), 62);
	cat(s, sizeof(s), ">");
	assert_int_equal(strlen(s), 258);
	a = path_ok(s, 0);
	assert_int_equal(strlen(a.domain), 254);

	s[0] = '\0';
	cat(s, sizeof(s), "<ab@");
	cat_long_domain(s, sizeof(s), 62);
	cat(s, sizeof(s), ">");
	assert_string_equal(path_bad(s, 0), "path too long");

	s[0] = '\0';
	cat(s, sizeof(s), "<@");
	cat_repeat(s, sizeof(s), 'r', 300);
	cat(s, sizeof(s), ":a@b.example>");
	assert_string_equal(path_bad(s, 0), "path too long");
}

static void
test_path_label_limits(void **state)
{
	char s[300];

	(void)state;
	s[0] = '\0';
	cat(s, sizeof(s), "<a@");
	cat_repeat(s, sizeof(s), 'x', 63);
	cat(s, sizeof(s), ".example>");
	(void)path_ok(s, 0);

	s[0] = '\0';
	cat(s, sizeof(s), "<a@");
	cat_repeat(s, sizeof(s), 'x', 64);
	cat(s, sizeof(s), ".example>");
	assert_string_equal(path_bad(s, 0),
	    "domain label longer than 63 octets");
}

static void
test_path_domain_rejects(void **state)
{
	(void)state;
	assert_string_equal(path_bad("<a@example.com.>", 0),
	    "trailing dot in domain");
	assert_string_equal(path_bad("<a@.example.com>", 0),
	    "empty label in domain");
	assert_string_equal(path_bad("<a@example..com>", 0),
	    "empty label in domain");
	assert_string_equal(path_bad("<a@-example.com>", 0),
	    "domain label starts or ends with '-'");
	assert_string_equal(path_bad("<a@example-.com>", 0),
	    "domain label starts or ends with '-'");
	assert_string_equal(path_bad("<a@mail_1.example.com>", 0),
	    "underscore in domain");
	assert_string_equal(path_bad("<a@exa mple.com>", 0),
	    "invalid character in domain");
	assert_string_equal(path_bad("<a@192.0.2.1>", 0),
	    "all-numeric top-level domain label");
}

static void
test_utf8_needs_smtputf8(void **state)
{
	(void)state;
	assert_string_equal(path_bad("<j\xc3\xb6rg@example.com>", 0),
	    "non-ASCII local part without SMTPUTF8");
	assert_string_equal(path_bad("<\"j\xc3\xb6rg\"@example.com>", 0),
	    "non-ASCII local part without SMTPUTF8");
	assert_string_equal(path_bad("<a@b\xc3\xbc" "cher.example>", 0),
	    "non-ASCII domain without SMTPUTF8");
	assert_string_equal(spec_bad("a@b\xc3\xbc" "cher.example", 0),
	    "non-ASCII domain without SMTPUTF8");
}

static void
test_utf8_local_part(void **state)
{
	struct mailaddr a;
	char out[ADDR_STRLEN];

	(void)state;
	a = path_ok("<j\xc3\xb6rg@example.com>", ADDR_ALLOW_UTF8);
	assert_string_equal(a.local, "j\xc3\xb6rg");
	assert_true(a.local_utf8);
	assert_false(a.local_quoted);
	a = path_ok("<\"\xe7\x94\xa8\xe6\x88\xb7\"@example.com>",
	    ADDR_ALLOW_UTF8);
	assert_string_equal(a.local, "\xe7\x94\xa8\xe6\x88\xb7");
	assert_false(a.local_quoted);
	a = path_ok("<\"j\xc3\xb6 rg\"@example.com>", ADDR_ALLOW_UTF8);
	assert_true(a.local_quoted);
	assert_string_equal(addr_format(&a, out, sizeof(out)),
	    "\"j\xc3\xb6 rg\"@example.com");
	a = path_ok("<\xf0\x9f\x93\xa7@example.com>", ADDR_ALLOW_UTF8);
	assert_true(a.local_utf8);
}

static void
test_utf8_malformed(void **state)
{
	(void)state;
	/* Overlong '/', lone continuation, surrogate, above U+10FFFF,
	 * truncated sequence, invalid lead bytes. */
	assert_string_equal(path_bad("<a\xc0\xafz@example.com>",
	    ADDR_ALLOW_UTF8), "invalid UTF-8 in local part");
	assert_string_equal(path_bad("<a\x80@example.com>", ADDR_ALLOW_UTF8),
	    "invalid UTF-8 in local part");
	assert_string_equal(path_bad("<a\xed\xa0\x80@example.com>",
	    ADDR_ALLOW_UTF8), "invalid UTF-8 in local part");
	assert_string_equal(path_bad("<a\xf4\x90\x80\x80@example.com>",
	    ADDR_ALLOW_UTF8), "invalid UTF-8 in local part");
	assert_string_equal(path_bad("<a\xe2\x82@example.com>",
	    ADDR_ALLOW_UTF8), "invalid UTF-8 in local part");
	assert_string_equal(path_bad("<\"a\xe2\x82\"@example.com>",
	    ADDR_ALLOW_UTF8), "invalid UTF-8 in local part");
	assert_string_equal(path_bad("<a\xff@example.com>", ADDR_ALLOW_UTF8),
	    "invalid UTF-8 in local part");
	assert_string_equal(path_bad("<\"a\\\xc3\xb6\"@example.com>",
	    ADDR_ALLOW_UTF8), "invalid quoted-pair in local part");
	assert_string_equal(path_bad("<a@b\xc3.example>", ADDR_ALLOW_UTF8),
	    "invalid UTF-8 in domain");
}

static void
test_idn_domain(void **state)
{
	struct mailaddr a;

	(void)state;
	a = path_ok("<a@b\xc3\xbc" "cher.example>", ADDR_ALLOW_UTF8);
	assert_string_equal(a.domain, "xn--bcher-kva.example");
	a = path_ok("<a@B\xc3\x9c" "CHER.Example>", ADDR_ALLOW_UTF8);
	assert_string_equal(a.domain, "xn--bcher-kva.example");
	/* Non-transitional: sharp s is kept, not mapped to "ss". */
	a = path_ok("<a@fa\xc3\x9f.de>", ADDR_ALLOW_UTF8);
	assert_string_equal(a.domain, "xn--fa-hia.de");
	/* A-labels are accepted without SMTPUTF8 and lowercased. */
	a = path_ok("<a@XN--BCHER-KVA.example>", 0);
	assert_string_equal(a.domain, "xn--bcher-kva.example");
}

static void
test_domain_to_ascii(void **state)
{
	char out[ADDR_DOMAIN_MAX + 1];

	(void)state;
	assert_string_equal(domain_ok("Example.COM", out, sizeof(out)),
	    "example.com");
	assert_string_equal(domain_ok("b\xc3\xbc" "cher.example", out,
	    sizeof(out)), "xn--bcher-kva.example");
	assert_string_equal(domain_ok("\xe4\xbe\x8b\xe3\x81\x88.jp", out,
	    sizeof(out)), "xn--r8jz45g.jp");
	/* Ideographic full stop maps to '.'. */
	assert_string_equal(domain_ok("b\xc3\xbc" "cher\xe3\x80\x82" "example",
	    out, sizeof(out)), "xn--bcher-kva.example");
	/* R-LDH labels other than xn-- stay legal in ASCII domains. */
	assert_string_equal(domain_ok("r3--abc.example", out, sizeof(out)),
	    "r3--abc.example");
	assert_string_equal(domain_ok("localhost", out, sizeof(out)),
	    "localhost");
	assert_string_equal(domain_ok("1.2.3.example", out, sizeof(out)),
	    "1.2.3.example");
	assert_string_equal(domain_ok("a1b", out, sizeof(out)), "a1b");
}

static void
test_domain_rejects_invalid_idn(void **state)
{
	(void)state;
	assert_string_equal(domain_bad("xn--abc-.example"),
	    "domain label starts or ends with '-'");
	assert_string_equal(domain_bad("xn--zzzzzz.example"),
	    "invalid IDN A-label in domain");
	assert_string_equal(domain_bad("xn--.example"),
	    "domain label starts or ends with '-'");
	assert_string_equal(domain_bad("xn--0.example"),
	    "invalid IDN A-label in domain");
	assert_string_equal(domain_bad("xn--a.example"),
	    "invalid IDN A-label in domain");
	assert_string_equal(domain_bad("b\xc3\xbc" "cher.xn--zzzzzz"),
	    "invalid internationalized domain");
	assert_string_equal(domain_bad("b\xc3\xbc" "cher_x.example"),
	    "underscore in domain");
	/* A mapped full stop is still a trailing dot. */
	assert_string_equal(domain_bad("b\xc3\xbc" "cher\xe3\x80\x82"),
	    "trailing dot in domain");
	/* Disallowed code points, a leading combining mark, hyphens. */
	assert_string_equal(domain_bad("\xe2\x98\x83.example"),
	    "invalid internationalized domain");
	assert_string_equal(domain_bad("\xef\xbf\xbf.example"),
	    "invalid internationalized domain");
	assert_string_equal(domain_bad("\xcc\x88" "a.example"),
	    "invalid internationalized domain");
	assert_string_equal(domain_bad("-b\xc3\xbc.example"),
	    "invalid internationalized domain");
}

static void
test_domain_rejects_syntax(void **state)
{
	char s[400], big[ADDR_DOMAIN_MAX + 1], out[8];
	const char *reason = NULL;

	(void)state;
	assert_string_equal(domain_bad(""), "empty domain");
	assert_string_equal(domain_bad("."), "trailing dot in domain");
	assert_string_equal(domain_bad("example.com."),
	    "trailing dot in domain");
	assert_string_equal(domain_bad("a..b"), "empty label in domain");
	assert_string_equal(domain_bad("_dmarc.example.com"),
	    "underscore in domain");
	assert_string_equal(domain_bad("a.b/c"), "invalid character in domain");
	assert_string_equal(domain_bad("123"),
	    "all-numeric top-level domain label");
	assert_int_equal(addr_domain_to_ascii("a\0b", 3, s, sizeof(s),
	    &reason), -1);
	assert_string_equal(reason, "NUL byte in domain");
	s[0] = '\0';
	cat_long_domain(s, sizeof(s), 63);
	assert_int_equal(strlen(s), 255);
	assert_string_equal(domain_ok(s, big, sizeof(big)), s);
	cat(s, sizeof(s), "b");
	assert_string_equal(domain_bad(s), "domain too long");
	assert_int_equal(addr_domain_to_ascii("example.com", 11, out,
	    sizeof(out), &reason), -1);
	assert_string_equal(reason, "domain too long");
	assert_string_equal(out, "");
	/* reason may be NULL */
	assert_int_equal(addr_domain_to_ascii("", 0, out, sizeof(out), NULL),
	    -1);
}

static void
test_addrspec(void **state)
{
	struct mailaddr a;
	const char *reason = NULL;
	char out[ADDR_STRLEN];

	(void)state;
	a = spec_ok("User@Example.COM", 0);
	assert_string_equal(a.local, "User");
	assert_string_equal(a.domain, "example.com");
	a = spec_ok("\"a b\"@example.com", 0);
	assert_string_equal(a.local, "a b");
	assert_true(a.local_quoted);
	assert_string_equal(addr_format(&a, out, sizeof(out)),
	    "\"a b\"@example.com");
	a = spec_ok("u@[IPv6:2001:db8::1]", 0);
	assert_true(a.ip_literal);
	a = spec_ok("postmaster", ADDR_ALLOW_NO_DOMAIN);
	assert_string_equal(a.local, "postmaster");
	assert_string_equal(spec_bad("", ADDR_ALLOW_NULL), "empty address");
	assert_string_equal(spec_bad("<a@example.com>", 0),
	    "invalid character in local part");
	assert_string_equal(spec_bad("a@example.com (comment)", 0),
	    "invalid character in domain");
	assert_string_equal(spec_bad(" a@example.com", 0),
	    "invalid character in local part");
	assert_string_equal(spec_bad("a@example.com\r\n", 0),
	    "invalid character in domain");
	assert_int_equal(addr_parse_addrspec("a\0b@example.com", 15, 0, &a,
	    &reason), -1);
	assert_string_equal(reason, "invalid character in local part");
}

static void
test_addrspec_is_bounded(void **state)
{
	struct mailaddr a;
	const char *reason;
	char s[400];

	(void)state;
	assert_int_equal(addr_parse_addrspec("a@example.comXYZ", 13, 0, &a,
	    &reason), 0);
	assert_string_equal(a.domain, "example.com");
	assert_int_equal(addr_parse_path("<a@b.example>garbage", 13, 0, &a,
	    &reason), 0);
	assert_string_equal(a.domain, "b.example");
	s[0] = '\0';
	cat(s, sizeof(s), "a@");
	cat_long_domain(s, sizeof(s), 63);
	assert_string_equal(spec_bad(s, 0), "address too long");
}

static void
test_format_round_trip(void **state)
{
	static const char *const paths[] = {
		"<user@example.com>",
		"<\"a b\"@example.com>",
		"<\"a\\\"b\"@example.com>",
		"<\"a\\\\b\"@example.com>",
		"<\"a@b\"@example.com>",
		"<a%b@example.com>",
		"<user@[192.0.2.1]>",
		"<user@[IPv6:2001:db8::1]>",
	};
	struct mailaddr a, b;
	char out[ADDR_STRLEN], path[ADDR_STRLEN + 2];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		a = path_ok(paths[i], 0);
		assert_non_null(addr_format(&a, out, sizeof(out)));
		snprintf(path, sizeof(path), "<%s>", out);
		assert_string_equal(path, paths[i]);
		b = path_ok(path, 0);
		assert_memory_equal(&a, &b, sizeof(a));
	}
}

static void
test_format_small_buffer(void **state)
{
	struct mailaddr a = path_ok("<\"a b\"@example.com>", 0);
	char out[ADDR_STRLEN];

	(void)state;
	assert_null(addr_format(&a, out, 17));
	assert_string_equal(out, "");
	assert_non_null(addr_format(&a, out, 18));
	assert_string_equal(out, "\"a b\"@example.com");
	assert_null(addr_format(&a, out, 0));
}

/* ADDR_STRLEN holds the worst struct a caller could build by hand. */
static void
test_format_worst_case(void **state)
{
	struct mailaddr a;
	char out[ADDR_STRLEN];

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(a.local, '"', sizeof(a.local) - 1);
	memset(a.domain, 'd', sizeof(a.domain) - 1);
	a.local_quoted = true;
	assert_non_null(addr_format(&a, out, sizeof(out)));
	assert_int_equal(strlen(out), ADDR_STRLEN - 1);
}

static void
test_reason_may_be_null(void **state)
{
	struct mailaddr a;

	(void)state;
	assert_int_equal(addr_parse_path("<", 1, 0, &a, NULL), -1);
	assert_int_equal(addr_parse_addrspec("x", 1, 0, &a, NULL), -1);
	assert_int_equal(addr_parse_path("<>", 2, ALL_FLAGS, &a, NULL), 0);
	assert_true(a.is_null);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_simple),
		cmocka_unit_test(test_path_domain_lowercased_local_kept),
		cmocka_unit_test(test_path_atext_local),
		cmocka_unit_test(test_path_percent_and_bang_are_plain_local),
		cmocka_unit_test(test_path_quoted_local_with_at),
		cmocka_unit_test(test_path_quoted_local_semantic_form),
		cmocka_unit_test(test_path_quoted_local_rejects),
		cmocka_unit_test(test_path_dot_string_rejects),
		cmocka_unit_test(test_path_brackets),
		cmocka_unit_test(test_path_null),
		cmocka_unit_test(test_path_postmaster),
		cmocka_unit_test(test_path_source_route_dropped),
		cmocka_unit_test(test_path_ipv4_literal),
		cmocka_unit_test(test_path_ipv6_literal),
		cmocka_unit_test(test_path_length_limits),
		cmocka_unit_test(test_path_label_limits),
		cmocka_unit_test(test_path_domain_rejects),
		cmocka_unit_test(test_utf8_needs_smtputf8),
		cmocka_unit_test(test_utf8_local_part),
		cmocka_unit_test(test_utf8_malformed),
		cmocka_unit_test(test_idn_domain),
		cmocka_unit_test(test_domain_to_ascii),
		cmocka_unit_test(test_domain_rejects_invalid_idn),
		cmocka_unit_test(test_domain_rejects_syntax),
		cmocka_unit_test(test_addrspec),
		cmocka_unit_test(test_addrspec_is_bounded),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_format_small_buffer),
		cmocka_unit_test(test_format_worst_case),
		cmocka_unit_test(test_reason_may_be_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
