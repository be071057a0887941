/*
 * test_dns_rdata — the wire-format rdata parser and the zone-text
 * rendering of what it produces (dns_rr_format_rdata).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/arena.h"
#include "core/buf.h"
#include "dns/dns.h"
#include "dns/dns_rdata.h"

struct fx {
	struct arena	*a;
	struct dns_rr	 rr;
	const char	*why;
	struct buf	 text;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->a = arena_new(0);
	buf_init(&f->text);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	arena_free(f->a);
	buf_free(&f->text);
	free(f);
	return 0;
}

static enum dns_rdata_result
parse(struct fx *f, uint16_t type, const void *p, size_t n)
{
	return dns_rdata_parse(f->a, type, p, n, &f->rr, &f->why);
}

/* Parse and render; returns the text. */
static const char *
render(struct fx *f, uint16_t type, const void *p, size_t n)
{
	assert_int_equal(parse(f, type, p, n), DNS_RDATA_OK);
	buf_reset(&f->text);
	dns_rr_format_rdata(&f->rr, &f->text);
	return buf_cstr(&f->text);
}

static void
test_a_and_aaaa(void **state)
{
	struct fx *f = *state;
	static const uint8_t a[] = { 192, 0, 2, 1 };
	static const uint8_t aaaa[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	assert_string_equal(render(f, DNS_T_A, a, 4), "192.0.2.1");
	assert_int_equal(f->rr.u.ip.family, AF_INET);
	assert_string_equal(render(f, DNS_T_AAAA, aaaa, 16), "2001:db8::1");
	assert_int_equal(f->rr.u.ip.family, AF_INET6);
	assert_int_equal(parse(f, DNS_T_A, a, 3), DNS_RDATA_TRUNCATED);
	assert_non_null(f->why);
	assert_int_equal(parse(f, DNS_T_AAAA, aaaa, 4), DNS_RDATA_TRUNCATED);
	assert_int_equal(parse(f, DNS_T_A, aaaa, 5), DNS_RDATA_TRAILING);
	assert_int_equal(parse(f, DNS_T_A, a, 0), DNS_RDATA_TRUNCATED);
}

static void
test_names(void **state)
{
	struct fx *f = *state;
	static const uint8_t host[] = "\4mail\7example\3org";	/* + NUL */
	static const uint8_t root[] = { 0 };
	static const uint8_t odd[] = { 3, 'a', '.', 'b', 2, 0x01, ' ', 0 };

	assert_string_equal(render(f, DNS_T_CNAME, host, sizeof(host)),
	    "mail.example.org.");
	assert_string_equal(f->rr.u.name, "mail.example.org");
	assert_string_equal(render(f, DNS_T_NS, root, 1), ".");
	assert_string_equal(f->rr.u.name, "");
	assert_string_equal(render(f, DNS_T_PTR, odd, sizeof(odd)),
	    "a\\.b.\\001\\032.");
}

static void
test_name_malformed(void **state)
{
	struct fx *f = *state;
	static const uint8_t ptr[] = { 3, 'w', 'w', 'w', 0xc0, 12 };
	static const uint8_t trunc[] = { 5, 'a', 'b' };
	static const uint8_t noend[] = { 2, 'a', 'b' };
	static const uint8_t trailing[] = { 1, 'a', 0, 7 };
	uint8_t big[70] = { 64 };

	assert_int_equal(parse(f, DNS_T_CNAME, ptr, sizeof(ptr)),
	    DNS_RDATA_MALFORMED);
	assert_int_equal(parse(f, DNS_T_CNAME, trunc, sizeof(trunc)),
	    DNS_RDATA_TRUNCATED);
	assert_int_equal(parse(f, DNS_T_CNAME, noend, sizeof(noend)),
	    DNS_RDATA_TRUNCATED);
	assert_int_equal(parse(f, DNS_T_PTR, trailing, sizeof(trailing)),
	    DNS_RDATA_TRAILING);
	assert_int_equal(parse(f, DNS_T_NS, "", 0), DNS_RDATA_TRUNCATED);
	/* 64 = 0x40: a label type that does not exist, not a long label */
	assert_int_equal(parse(f, DNS_T_NS, big, sizeof(big)),
	    DNS_RDATA_MALFORMED);
}

/* A name of exactly max wire bytes is fine, one more is not. */
static void
test_name_length_limit(void **state)
{
	struct fx *f = *state;
	uint8_t wire[300];
	char text[DNS_NAME_TEXT_MAX];
	const char *why;
	size_t used, o = 0;

	/* 4 labels of 63 = 256 bytes of labels + root: too long */
	memset(wire, 'x', sizeof(wire));
	while (o + 64 <= 256) {
		wire[o] = 63;
		o += 64;
	}
	wire[o] = 0;
	assert_int_equal(dns_name_from_wire(wire, o + 1, text, &used, &why),
	    DNS_RDATA_MALFORMED);
	/* 3 x 63 + one of 61 = 253 + 1 + 1 = 255 bytes: the maximum */
	wire[192] = 61;
	wire[254] = 0;
	assert_int_equal(dns_name_from_wire(wire, 255, text, &used, &why),
	    DNS_RDATA_OK);
	assert_int_equal(used, 255);
	assert_int_equal(strlen(text), 253);
	(void)f;
}

static void
test_mx(void **state)
{
	struct fx *f = *state;
	static const uint8_t mx[] = { 0, 10, 2, 'm', 'x', 0 };
	static const uint8_t extra[] = { 0, 10, 2, 'm', 'x', 0, 0 };

	assert_string_equal(render(f, DNS_T_MX, mx, sizeof(mx)), "10 mx.");
	assert_int_equal(f->rr.u.mx.pref, 10);
	assert_string_equal(f->rr.u.mx.host, "mx");
	assert_int_equal(parse(f, DNS_T_MX, mx, 1), DNS_RDATA_TRUNCATED);
	assert_int_equal(parse(f, DNS_T_MX, mx, 2), DNS_RDATA_TRUNCATED);
	assert_int_equal(parse(f, DNS_T_MX, extra, sizeof(extra)),
	    DNS_RDATA_TRAILING);
}

static void
test_txt_strings(void **state)
{
	struct fx *f = *state;
	static const uint8_t txt[] = "\6v=spf1\5 -all\0";	/* 3 strings */

	assert_string_equal(render(f, DNS_T_TXT, txt, sizeof(txt) - 1),
	    "\"v=spf1\" \" -all\" \"\"");
	assert_int_equal(f->rr.u.txt.nstrings, 3);
	assert_int_equal(f->rr.u.txt.strings[0].len, 6);
	assert_memory_equal(f->rr.u.txt.strings[1].p, " -all", 5);
	assert_int_equal(f->rr.u.txt.strings[2].len, 0);
	assert_string_equal(f->rr.u.txt.joined, "v=spf1 -all");
	assert_int_equal(f->rr.u.txt.joined_len, 11);
}

static void
test_txt_escapes_and_nul(void **state)
{
	struct fx *f = *state;
	static const uint8_t txt[] = { 6, 'a', '"', '\\', 0, '\n', 0xff };

	assert_string_equal(render(f, DNS_T_SPF, txt, sizeof(txt)),
	    "\"a\\\"\\\\\\000\\010\\255\"");
	assert_int_equal(f->rr.u.txt.joined_len, 6);
	assert_int_equal(f->rr.u.txt.joined[3], 0);
}

static void
test_txt_malformed(void **state)
{
	struct fx *f = *state;
	static const uint8_t over[] = { 3, 'a', 'b' };
	static const uint8_t second[] = { 1, 'a', 9, 'b' };

	assert_int_equal(parse(f, DNS_T_TXT, "", 0), DNS_RDATA_TRUNCATED);
	assert_int_equal(parse(f, DNS_T_TXT, over, sizeof(over)),
	    DNS_RDATA_TRUNCATED);
	assert_int_equal(parse(f, DNS_T_TXT, second, sizeof(second)),
	    DNS_RDATA_TRUNCATED);
}

/* 255-byte strings, as a long SPF record arrives split. */
static void
test_txt_long(void **state)
{
	struct fx *f = *state;
	uint8_t txt[2 * 256 + 11];

	memset(txt, 'q', sizeof(txt));
	txt[0] = 255;
	txt[256] = 255;
	txt[512] = 10;
	assert_int_equal(parse(f, DNS_T_TXT, txt, sizeof(txt)), DNS_RDATA_OK);
	assert_int_equal(f->rr.u.txt.nstrings, 3);
	assert_int_equal(f->rr.u.txt.joined_len, 520);
	assert_int_equal(strlen(f->rr.u.txt.joined), 520);
}

static void
test_tlsa(void **state)
{
	struct fx *f = *state;
	static const uint8_t tlsa[] = { 3, 1, 1, 0xde, 0xad, 0xbe, 0xef };

	assert_string_equal(render(f, DNS_T_TLSA, tlsa, sizeof(tlsa)),
	    "3 1 1 DEADBEEF");
	assert_int_equal(f->rr.u.tlsa.usage, 3);
	assert_int_equal(f->rr.u.tlsa.len, 4);
	assert_int_equal(parse(f, DNS_T_TLSA, tlsa, 3), DNS_RDATA_TRUNCATED);
}

static void
test_unknown_and_soa(void **state)
{
	struct fx *f = *state;
	static const uint8_t raw[] = { 0, 1, 0xab };
	static const uint8_t soa[] = { 2, 'n', 's', 0, 1, 'h', 0,
	    0, 0, 0, 7, 0, 0, 0x0e, 0x10, 0, 0, 2, 0x58, 0, 1, 0x51, 0x80,
	    0, 0, 0, 60 };

	assert_string_equal(render(f, 257, raw, sizeof(raw)),
	    "\\# 3 0001AB");
	assert_int_equal(f->rr.u.raw.len, 3);
	assert_string_equal(render(f, 99 + 1, "", 0), "\\# 0");
	assert_string_equal(render(f, DNS_T_SOA, soa, sizeof(soa)),
	    "ns. h. 7 3600 600 86400 60");
	/* a broken SOA still renders, as raw bytes */
	assert_string_equal(render(f, DNS_T_SOA, soa, 5), "\\# 5 026E730001");
}

static void
test_type_names(void **state)
{
	uint16_t t;

	(void)state;
	assert_string_equal(dns_type_name(DNS_T_TXT), "TXT");
	assert_string_equal(dns_type_name(65), "TYPE65");
	assert_int_equal(dns_type_parse("mx", &t), 0);
	assert_int_equal(t, DNS_T_MX);
	assert_int_equal(dns_type_parse("TYPE257", &t), 0);
	assert_int_equal(t, 257);
	assert_int_equal(dns_type_parse("TYPE0", &t), -1);
	assert_int_equal(dns_type_parse("TYPE65536", &t), -1);
	assert_int_equal(dns_type_parse("TYPE", &t), -1);
	assert_int_equal(dns_type_parse("MXX", &t), -1);
	assert_int_equal(dns_type_parse("", &t), -1);
	assert_string_equal(dns_status_name(DNS_NXDOMAIN), "NXDOMAIN");
	assert_string_equal(dns_status_name(DNS_TIMEOUT), "TIMEOUT");
}

static void
test_name_valid(void **state)
{
	char longname[300];

	(void)state;
	assert_true(dns_name_valid("example.org"));
	assert_true(dns_name_valid(""));
	assert_true(dns_name_valid("_dmarc.example.org"));
	assert_false(dns_name_valid("a..b"));
	assert_false(dns_name_valid(".a"));
	assert_false(dns_name_valid("a b"));
	/* RFC 1035 escapes: an SPF macro may expand to a space */
	assert_true(dns_name_valid("a\\.b"));
	assert_true(dns_name_valid("a\\032b.example"));
	assert_false(dns_name_valid("a\\256b"));
	assert_false(dns_name_valid("a\\03"));
	assert_false(dns_name_valid("a\\"));
	assert_false(dns_name_valid("a\\ b"));
	memset(longname, 'a', sizeof(longname));
	longname[64] = '\0';
	assert_false(dns_name_valid(longname));
	longname[63] = '\0';
	assert_true(dns_name_valid(longname));
}

/*
 * The rules of dns_name_valid() written out byte by byte, the plain way:
 * dns_name_valid() is table-driven for speed, and must agree with this
 * on every name.
 */
static bool
ref_name_valid(const char *name)
{
	size_t label = 0, octets = 0;
	const char *p;

	for (p = name; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7f)
			return false;
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			octets++;
			continue;
		}
		if (c == '\\') {
			if (p[1] >= '0' && p[1] <= '9') {
				if (p[2] < '0' || p[2] > '9' || p[3] < '0' ||
				    p[3] > '9' || (p[1] - '0') * 100 +
				    (p[2] - '0') * 10 + (p[3] - '0') > 255)
					return false;
				p += 3;
			} else if ((unsigned char)p[1] <= 0x20 ||
			    (unsigned char)p[1] >= 0x7f) {
				return false;
			} else {
				p++;
			}
		}
		octets++;
		if (++label > 63 || octets > 253)
			return false;
	}
	return p == name || label > 0;
}

/* Random names from an alphabet heavy in dots, escapes and edge bytes,
 * lengths around the 63-octet label and 253-octet name bounds. */
static void
test_name_valid_agrees(void **state)
{
	static const char alphabet[] = "a.\\09Z- _\x7f\x01\x80\"";
	char name[600];
	unsigned seed = 12345;
	size_t i, j, n;

	(void)state;
	for (i = 0; i < 200000; i++) {
		seed = seed * 1103515245u + 12345u;
		n = (seed >> 8) % 300;
		for (j = 0; j < n; j++) {
			seed = seed * 1103515245u + 12345u;
			/* mostly letters, so that long labels happen */
			name[j] = (seed >> 16) % 4 != 0 ? 'x' :
			    alphabet[(seed >> 8) % (sizeof(alphabet) - 1)];
		}
		name[n] = '\0';
		if (dns_name_valid(name) != ref_name_valid(name))
			fail_msg("disagree on '%s'", name);
	}
	/* the bounds exactly: 63-octet labels, 253 octets in all */
	memset(name, 'a', sizeof(name));
	for (n = 240; n < 260; n++) {
		for (j = 63; j < n; j += 64)
			name[j] = '.';
		name[n] = '\0';
		assert_int_equal(dns_name_valid(name), ref_name_valid(name));
		memset(name, 'a', sizeof(name));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_and_aaaa, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name_malformed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_name_length_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_mx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_txt_strings, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_txt_escapes_and_nul, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_txt_malformed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_txt_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tlsa, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_and_soa, setup,
		    teardown),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_name_valid_agrees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
