/*
 * Unit tests for auth/common/dkim_tags and auth/common/dkim_key: RFC 6376
 * 3.2 tag lists and 3.6.1 key records, including the dkimpy key-record data.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/common/dkim.h"
#include "auth/common/dkim_fold.h"
#include "auth/common/dkim_key.h"
#include "auth/common/dkim_tags.h"
#include "core/arena.h"
#include "core/buf.h"

static int
parse(const char *s, struct dkim_tags *t, char *why)
{
	return dkim_tags_parse(s, strlen(s), t, why, 200);
}

static void
assert_tag(const struct dkim_tags *t, const char *name, const char *value)
{
	const struct dkim_tag *g = dkim_tags_get(t, name);

	assert_non_null(g);
	assert_int_equal(g->value_len, strlen(value));
	assert_memory_equal(g->value, value, g->value_len);
}

static void
test_tags_basic(void **state)
{
	struct dkim_tags t;
	char why[200];

	(void)state;
	assert_int_equal(parse("v=1; a=rsa-sha256; d=example.com", &t, why), 0);
	assert_int_equal(t.n, 3);
	assert_tag(&t, "v", "1");
	assert_tag(&t, "a", "rsa-sha256");
	assert_tag(&t, "d", "example.com");
	assert_null(dkim_tags_get(&t, "x"));
	assert_true(dkim_tag_value_is(dkim_tags_get(&t, "v"), "1"));
}

static void
test_tags_fws(void **state)
{
	struct dkim_tags t;
	char why[200];
	const char *s = " v = 1 ;\r\n\ta\r\n =\r\n b c ;  h=from :\r\n to ;";

	(void)state;
	assert_int_equal(parse(s, &t, why), 0);
	assert_int_equal(t.n, 3);
	assert_tag(&t, "v", "1");
	assert_tag(&t, "a", "b c");
	assert_tag(&t, "h", "from :\r\n to");
	/* the b= deletion range: everything between '=' and ';' */
	assert_int_equal(t.tag[1].spec_value_end - t.tag[1].spec_value_start,
	    strlen("\r\n b c "));
}

static void
test_tags_empty_values(void **state)
{
	struct dkim_tags t;
	char why[200];

	(void)state;
	assert_int_equal(parse("p=; n=", &t, why), 0);
	assert_int_equal(t.n, 2);
	assert_tag(&t, "p", "");
	assert_tag(&t, "n", "");
	assert_int_equal(parse("", &t, why), 0);
	assert_int_equal(t.n, 0);
	/* one trailing ';' (with FWS after it) is part of the grammar */
	assert_int_equal(parse("a=1; b=2;", &t, why), 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(parse("a=1; b=2;\r\n ", &t, why), 0);
	assert_int_equal(t.n, 2);
	/* an empty tag-spec is not (RFC 6376 3.2) */
	assert_int_equal(parse("a=1;;b=2;", &t, why), -1);
	assert_string_equal(why, "empty tag-spec at offset 4");
	assert_int_equal(parse("s=x;;", &t, why), -1);
	assert_int_equal(parse("; a=1", &t, why), -1);
	assert_int_equal(parse("a=1; ;", &t, why), -1);
}

static void
test_tags_errors(void **state)
{
	struct dkim_tags t;
	char why[200];

	(void)state;
	assert_int_equal(parse("a=1; a=2", &t, why), -1);
	assert_string_equal(why, "duplicate tag 'a'");
	assert_int_equal(parse("a=1; b", &t, why), -1);
	assert_string_equal(why, "tag 'b' has no '='");
	assert_int_equal(parse("1a=1", &t, why), -1);
	assert_non_null(strstr(why, "invalid tag name"));
	assert_int_equal(parse("a-b=1", &t, why), -1);
	assert_int_equal(parse("=1", &t, why), -1);
	assert_int_equal(parse("a=x\x01y", &t, why), -1);
	assert_non_null(strstr(why, "0x01"));
	assert_int_equal(parse("a=\xc3\xa9", &t, why), -1);
	/* a CRLF not followed by white space is not FWS */
	assert_int_equal(parse("a=1\r\nb=2", &t, why), -1);
	/* names are case-sensitive: V and v are different tags */
	assert_int_equal(parse("v=1; V=2", &t, why), 0);
	assert_int_equal(t.n, 2);
}

static void
test_tags_too_many(void **state)
{
	struct dkim_tags t;
	char s[2000], why[200];
	size_t i, k = 0;

	(void)state;
	for (i = 0; i < DKIM_TAGS_MAX + 1; i++)
		k += (size_t)snprintf(s + k, sizeof(s) - k, "t%zu=1;", i);
	assert_int_equal(dkim_tags_parse(s, k, &t, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "more than"));
}

/* --- key records ---------------------------------------------------- */

static int
key(const char *s, struct dkim_key_record *k, char *why)
{
	return dkim_key_parse(s, strlen(s), k, why, 200);
}

static void
test_key_defaults(void **state)
{
	struct dkim_key_record k;
	char why[200];

	(void)state;
	assert_int_equal(key("p=AAAA", &k, why), 0);
	assert_int_equal(k.type, DKIM_KEY_RSA);
	assert_true(k.allow_sha1 && k.allow_sha256);
	assert_false(k.testing || k.strict || k.revoked);
	assert_int_equal(k.p_len, 4);
}

static void
test_key_tags(void **state)
{
	struct dkim_key_record k;
	char why[200];

	(void)state;
	assert_int_equal(key("v=DKIM1; k=ed25519; h=sha256; t=y:s; "
	    "s=email; n=notes; p=AAAA", &k, why), 0);
	assert_int_equal(k.type, DKIM_KEY_ED25519);
	assert_true(k.allow_sha256);
	assert_false(k.allow_sha1);
	assert_true(k.testing && k.strict);
	assert_int_equal(key("h=sha1; p=AAAA", &k, why), 0);
	assert_false(k.allow_sha256);
	assert_int_equal(key("t=x:y; h=foo : sha256; s=* ; p=AAAA", &k, why),
	    0);
	assert_true(k.testing && !k.strict && k.allow_sha256);
	assert_int_equal(key("v=DKIM1; p=", &k, why), 0);
	assert_true(k.revoked);
	assert_int_equal(key("p= \r\n ", &k, why), 0);
	assert_true(k.revoked);
}

static void
test_key_errors(void **state)
{
	struct dkim_key_record k;
	char why[200];

	(void)state;
	assert_int_equal(key("k=rsa; v=DKIM1; p=AAAA", &k, why), -1);
	assert_non_null(strstr(why, "first"));
	assert_int_equal(key("v=DKIM2; p=AAAA", &k, why), -1);
	assert_int_equal(key("k=dsa; p=AAAA", &k, why), -1);
	assert_non_null(strstr(why, "unknown key type"));
	assert_int_equal(key("v=DKIM1; k=rsa", &k, why), -1);
	assert_non_null(strstr(why, "no p="));
	assert_int_equal(key("s=tlsrpt; p=AAAA", &k, why), -1);
	assert_non_null(strstr(why, "not for email"));
	assert_int_equal(key("p=AAAA; p=AAAA", &k, why), -1);
	assert_non_null(strstr(why, "duplicate"));
}

/* --- the dkimpy data files ------------------------------------------ */

static char *
suite_file(const char *name, size_t *len)
{
	char path[1024];
	const char *dir = getenv("NETJES_TESTSUITES");
	FILE *f;
	char *data;
	long n;

	if (dir != NULL)
		snprintf(path, sizeof(path), "%s/dkimpy-data/%s", dir, name);
	else
		snprintf(path, sizeof(path), "%s/dkimpy-data/%s",
		    NETJES_TESTSUITES_DEFAULT, name);
	/* The shared vectors are part of the test run: missing is a
	 * failure, not a skip. */
	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("cannot open %s (set NETJES_TESTSUITES)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = calloc(1, (size_t)n + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
		data[--n] = '\0';
	*len = (size_t)n;
	return data;
}

static void
check_suite_key(const char *file, int parse_rc, int bits)
{
	struct dkim_key_record k;
	EVP_PKEY *pk;
	char why[200];
	size_t n;
	char *txt = suite_file(file, &n);
	int got_bits;

	if (txt == NULL)
		skip();
	assert_int_equal(dkim_key_parse(txt, n, &k, why, sizeof(why)),
	    parse_rc);
	if (parse_rc == 0) {
		pk = dkim_key_public(&k, &got_bits, why, sizeof(why));
		if (bits > 0) {
			assert_non_null(pk);
			assert_int_equal(got_bits, bits);
		} else
			assert_null(pk);
		EVP_PKEY_free(pk);
	}
	free(txt);
}

static void
test_key_suite(void **state)
{
	(void)state;
	check_suite_key("test.txt", 0, 1024);
	check_suite_key("test2.txt", 0, 1024);	/* no k=: rsa */
	check_suite_key("1024_testkey_wo_markers.pub.txt", 0, 1024);
	check_suite_key("2048_testkey_wo_markers.pub.txt", 0, 2048);
	check_suite_key("ed25519test.dns", 0, 256);
	check_suite_key("eximtest.dns", 0, 256);
	check_suite_key("badk.txt", -1, 0);	/* k=ed25519-sha256 */
	check_suite_key("badversion.txt", -1, 0);	/* v=DKIM1: g=* */
}

static void
test_key_suite_pkcs1(void **state)
{
	struct dkim_key_record k;
	EVP_PKEY *pk;
	char why[200], *txt, rec[1200];
	size_t n;
	int bits;

	(void)state;
	/* bare PKCS#1 RSAPublicKey in p=, as some publishers write it */
	if ((txt = suite_file("2048_testkey_wo_markers.pub.rsa.txt", &n)) ==
	    NULL)
		skip();
	if (strncmp(txt, "v=", 2) == 0)
		snprintf(rec, sizeof(rec), "%s", txt);
	else
		snprintf(rec, sizeof(rec), "v=DKIM1; p=%s", txt);
	free(txt);
	assert_int_equal(dkim_key_parse(rec, strlen(rec), &k, why,
	    sizeof(why)), 0);
	pk = dkim_key_public(&k, &bits, why, sizeof(why));
	assert_non_null(pk);
	assert_int_equal(bits, 2048);
	EVP_PKEY_free(pk);
}

static void
test_key_public_errors(void **state)
{
	struct dkim_key_record k;
	char why[200];
	int bits;

	(void)state;
	assert_int_equal(key("p=!!!", &k, why), 0);
	assert_null(dkim_key_public(&k, &bits, why, sizeof(why)));
	assert_non_null(strstr(why, "base64"));
	assert_int_equal(key("p=AAAA", &k, why), 0);
	assert_null(dkim_key_public(&k, &bits, why, sizeof(why)));
	assert_int_equal(key("k=ed25519; p=AAAA", &k, why), 0);
	assert_null(dkim_key_public(&k, &bits, why, sizeof(why)));
	assert_non_null(strstr(why, "not 32"));
	assert_int_equal(key("p=", &k, why), 0);
	assert_null(dkim_key_public(&k, &bits, why, sizeof(why)));
	assert_non_null(strstr(why, "revoked"));
}

/* A tag made from a literal value, as dkim_tags_parse() would give it. */
static struct dkim_tag
tag_of(const char *value)
{
	struct dkim_tag t;

	memset(&t, 0, sizeof(t));
	t.name = "x";
	t.name_len = 1;
	t.value = value;
	t.value_len = strlen(value);
	return t;
}

static int
hnames(struct arena *a, const char *value, const char *forbidden,
    struct dkim_hname **h, size_t *nh)
{
	struct dkim_tag t = tag_of(value);

	return dkim_tag_hnames(a, &t, forbidden, h, nh);
}

static void
test_tag_hnames(void **state)
{
	struct arena *a = arena_new(0);
	struct dkim_hname *h;
	size_t nh = 7;

	(void)state;
	/* white space around names goes, case stays; nh starts from 0 */
	assert_int_equal(hnames(a, "From :\r\n\tTo: subject", NULL, &h, &nh),
	    0);
	assert_int_equal(nh, 3);
	assert_int_equal(h[0].len, 4);
	assert_memory_equal(h[0].p, "From", 4);
	assert_memory_equal(h[1].p, "To", 2);
	assert_memory_equal(h[2].p, "subject", 7);
	assert_int_equal(hnames(a, "to:subject", NULL, &h, &nh), 1);
	assert_int_equal(hnames(a, "from::to", NULL, &h, &nh), -1);
	assert_int_equal(hnames(a, "from:t\x7fo", NULL, &h, &nh), -1);
	assert_int_equal(hnames(a, "", NULL, &h, &nh), -1);
	/* the forbidden name, in any case; the first problem decides */
	assert_int_equal(hnames(a, "from:ARC-Seal", "arc-seal", &h, &nh), 2);
	assert_int_equal(hnames(a, "arc-seal:from::", "arc-seal", &h, &nh),
	    2);
	assert_int_equal(hnames(a, "from::arc-seal", "arc-seal", &h, &nh),
	    -1);
	assert_int_equal(hnames(a, "from:arc-seal", NULL, &h, &nh), 0);
	arena_free(a);
}

static void
test_tag_values(void **state)
{
	struct arena *a = arena_new(0);
	struct dkim_tag t;
	unsigned char *b;
	size_t n;

	(void)state;
	t = tag_of("Example.COM");
	assert_string_equal(dkim_tag_lower(a, &t), "example.com");
	t = tag_of("aGVs\r\n bG8=");
	assert_int_equal(dkim_tag_base64(a, &t, &b, &n), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(b, "hello", 5);
	t = tag_of("");
	assert_int_equal(dkim_tag_base64(a, &t, &b, &n), -1);
	t = tag_of("a*b=");
	assert_int_equal(dkim_tag_base64(a, &t, &b, &n), -1);
	arena_free(a);
}

static void
test_domain_ok(void **state)
{
	char label[70];

	(void)state;
	assert_true(dkim_domain_ok("example.com", 11));
	assert_true(dkim_domain_ok("s_2024-a", 8));
	assert_false(dkim_domain_ok("", 0));
	assert_false(dkim_domain_ok("a..b", 4));
	assert_false(dkim_domain_ok(".a", 2));
	assert_false(dkim_domain_ok("a.", 2));
	assert_false(dkim_domain_ok("a b", 3));
	memset(label, 'a', sizeof(label));
	assert_true(dkim_domain_ok(label, 63));
	assert_false(dkim_domain_ok(label, 64));
}

/* Tags are joined by a space until column 78, then folded; b= is cut
 * at the width and the field ends in CRLF. */
static void
test_fold(void **state)
{
	struct buf out = BUF_INIT;
	struct dkim_fold f = { &out, 0 };
	struct dkim_hname h[] = { { "from", 4 }, { "to", 2 } };
	unsigned char sig[120];
	size_t i, col = 0;

	(void)state;
	memset(sig, 0xa5, sizeof(sig));
	buf_append_str(&out, "DKIM-Signature:");
	f.col = out.len;
	dkim_fold_tag(&f, "v=%d;", 1);
	dkim_fold_tag(&f, "d=%s;", "example.com");
	dkim_fold_hlist(&f, h, 2);
	for (i = 0; i < 6; i++)
		dkim_fold_tag(&f, "x%zu=%s;", i, "0123456789");
	dkim_fold_add(&f, " ", "b=", 2);
	dkim_fold_b64(&f, sig, sizeof(sig));
	assert_true(strncmp(buf_cstr(&out), "DKIM-Signature: v=1; "
	    "d=example.com; h=from:to; x0=", 50) == 0);
	assert_true(out.len > 2 && memcmp(out.data + out.len - 2, "\r\n", 2)
	    == 0);
	assert_non_null(strstr(buf_cstr(&out), "\r\n\t"));
	for (i = 0; i + 2 < out.len; i++) {
		if (out.data[i] == '\r' || out.data[i] == '\n') {
			assert_true(col <= 78);
			col = 0;
			continue;
		}
		col += out.data[i] == '\t' ? 8 : 1;
	}
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tags_basic),
		cmocka_unit_test(test_tags_fws),
		cmocka_unit_test(test_tags_empty_values),
		cmocka_unit_test(test_tags_errors),
		cmocka_unit_test(test_tags_too_many),
		cmocka_unit_test(test_key_defaults),
		cmocka_unit_test(test_key_tags),
		cmocka_unit_test(test_key_errors),
		cmocka_unit_test(test_key_suite),
		cmocka_unit_test(test_key_suite_pkcs1),
		cmocka_unit_test(test_key_public_errors),
		cmocka_unit_test(test_tag_hnames),
		cmocka_unit_test(test_tag_values),
		cmocka_unit_test(test_domain_ok),
		cmocka_unit_test(test_fold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
