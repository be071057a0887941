/*
 * Unit tests for auth/common/dkim_keycache: a hit is the same decode as the
 * text gives afresh, a changed or revoked record is never served an old
 * key, the bound holds while held entries stay usable, and the cached
 * verify contexts keep working after a failed verification.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "auth/common/dkim_keycache.h"
#include "auth/common/dkim_keygen.h"
#include "auth/dkim/dkim_sign.h"
#include "auth/dkim/dkim_verify.h"
#include "core/arena.h"
#include "msg/header.h"

#define NOW	1700000000

static const char *msg =
    "From: Joe SixPack <joe@football.example.com>\r\n"
    "To: Suzie Q <suzie@shopping.example.net>\r\n"
    "Subject: Is dinner ready?\r\n"
    "\r\n"
    "We lost the game.  Are you hungry yet?\r\n";

/* RFC 8463's example key: decoding it needs no key generation. */
static const char *ed_p = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

static EVP_PKEY *
new_key(enum dkim_key_type t)
{
	char why[200];
	EVP_PKEY *pk = dkim_keygen_new(t, 1024, why, sizeof(why));

	assert_non_null(pk);
	return pk;
}

static void
key_txt(EVP_PKEY *pk, struct buf *txt)
{
	buf_reset(txt);
	assert_int_equal(dkim_keygen_txt(pk, txt), 0);
}

static int
setup(void **state)
{
	(void)state;
	dkim_keycache_clear();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	dkim_keycache_clear();
	assert_int_equal(dkim_keycache_size(), 0);
	return 0;
}

static void
test_hit_is_same_entry(void **state)
{
	EVP_PKEY *pk = new_key(DKIM_KEY_RSA);
	struct buf txt = BUF_INIT;
	const struct dkim_keycache_key *a, *b;

	(void)state;
	key_txt(pk, &txt);
	a = dkim_keycache_get(txt.data, txt.len);
	b = dkim_keycache_get(txt.data, txt.len);
	assert_ptr_equal(a, b);
	assert_int_equal(dkim_keycache_size(), 1);
	assert_int_equal(a->parse_rc, 0);
	assert_non_null(a->pkey);
	assert_int_equal(a->bits, 1024);
	assert_int_equal(EVP_PKEY_eq(a->pkey, pk), 1);
	dkim_keycache_release(a);
	dkim_keycache_release(b);
	buf_free(&txt);
	EVP_PKEY_free(pk);
}

/* Any byte of difference is another record: a new key, a revocation,
 * even white space. */
static void
test_changed_text_is_new_entry(void **state)
{
	EVP_PKEY *k1 = new_key(DKIM_KEY_RSA), *k2 = new_key(DKIM_KEY_RSA);
	struct buf t1 = BUF_INIT, t2 = BUF_INIT, t3 = BUF_INIT;
	const struct dkim_keycache_key *a, *b, *c, *r;
	const char *revoked = "v=DKIM1; k=rsa; p=";

	(void)state;
	key_txt(k1, &t1);
	key_txt(k2, &t2);
	buf_printf(&t3, "%s ", t1.data);
	a = dkim_keycache_get(t1.data, t1.len);
	b = dkim_keycache_get(t2.data, t2.len);
	c = dkim_keycache_get(t3.data, t3.len);
	r = dkim_keycache_get(revoked, strlen(revoked));
	assert_ptr_not_equal(a, b);
	assert_ptr_not_equal(a, c);
	assert_int_equal(dkim_keycache_size(), 4);
	assert_int_equal(EVP_PKEY_eq(a->pkey, k1), 1);
	assert_int_equal(EVP_PKEY_eq(b->pkey, k2), 1);
	assert_int_equal(EVP_PKEY_eq(c->pkey, k1), 1);
	assert_int_equal(r->parse_rc, 0);
	assert_true(r->rec.revoked);
	assert_null(r->pkey);
	dkim_keycache_release(a);
	dkim_keycache_release(b);
	dkim_keycache_release(c);
	dkim_keycache_release(r);
	buf_free(&t1);
	buf_free(&t2);
	buf_free(&t3);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
}

/* Failures are pure functions of the text too, kept with their reason. */
static void
test_failures_keep_reasons(void **state)
{
	const char *bad_type = "v=DKIM1; k=dsa; p=AAAA";
	const char *bad_key = "v=DKIM1; k=ed25519; p=AAAA";
	const struct dkim_keycache_key *a, *b, *a2;

	(void)state;
	a = dkim_keycache_get(bad_type, strlen(bad_type));
	assert_int_equal(a->parse_rc, -1);
	assert_non_null(strstr(a->parse_why, "unknown key type"));
	b = dkim_keycache_get(bad_key, strlen(bad_key));
	assert_int_equal(b->parse_rc, 0);
	assert_null(b->pkey);
	assert_non_null(strstr(b->key_why, "not 32"));
	a2 = dkim_keycache_get(bad_type, strlen(bad_type));
	assert_ptr_equal(a, a2);
	assert_string_equal(a2->parse_why, a->parse_why);
	dkim_keycache_release(a);
	dkim_keycache_release(a2);
	dkim_keycache_release(b);
	/* an empty TXT string is a record too: no p= */
	a = dkim_keycache_get("", 0);
	assert_int_equal(a->parse_rc, -1);
	assert_non_null(strstr(a->parse_why, "no p="));
	assert_ptr_equal(dkim_keycache_get("", 0), a);
	dkim_keycache_release(a);
	dkim_keycache_release(a);
}

/* More records than the bound: the oldest go, a held one stays usable
 * until released, and coming back decodes it afresh. */
static void
test_bounded_and_held(void **state)
{
	char t[200];
	const struct dkim_keycache_key *held, *k, *again;
	size_t i, len;

	(void)state;
	len = (size_t)snprintf(t, sizeof(t), "v=DKIM1; k=ed25519; n=held; "
	    "p=%s", ed_p);
	held = dkim_keycache_get(t, len);
	for (i = 0; i < DKIM_KEYCACHE_ENTRIES + 10; i++) {
		char u[200];
		size_t ul = (size_t)snprintf(u, sizeof(u), "v=DKIM1; "
		    "k=ed25519; n=%zu; p=%s", i, ed_p);

		k = dkim_keycache_get(u, ul);
		assert_non_null(k->pkey);
		dkim_keycache_release(k);
		assert_true(dkim_keycache_size() <= DKIM_KEYCACHE_ENTRIES);
	}
	assert_int_equal(dkim_keycache_size(), DKIM_KEYCACHE_ENTRIES);
	/* pushed out but still held: still whole */
	assert_int_equal(held->parse_rc, 0);
	assert_non_null(held->pkey);
	assert_int_equal(held->bits, 256);
	again = dkim_keycache_get(t, len);
	assert_ptr_not_equal(again, held);
	assert_int_equal(EVP_PKEY_eq(again->pkey, held->pkey), 1);
	dkim_keycache_release(held);
	dkim_keycache_release(again);
}

static void
test_oversized_record_not_kept(void **state)
{
	struct buf t = BUF_INIT;
	const struct dkim_keycache_key *k;
	size_t i;

	(void)state;
	buf_append_str(&t, "v=DKIM1; k=ed25519; n=");
	for (i = 0; i < DKIM_KEYCACHE_TEXT_MAX; i++)
		buf_append_char(&t, 'x');
	buf_printf(&t, "; p=%s", ed_p);
	k = dkim_keycache_get(t.data, t.len);
	assert_non_null(k->pkey);
	assert_int_equal(dkim_keycache_size(), 0);
	dkim_keycache_release(k);
	buf_free(&t);
}

static void
sign_digest(EVP_PKEY *pk, enum dkim_alg alg, const unsigned char *md,
    struct buf *sig)
{
	buf_reset(sig);
	assert_int_equal(dkim_sign_digest(pk, alg, md, 32, sig), 0);
}

/* good, bad, good again: the kept contexts survive a failed check */
static void
check_good_bad_good(const struct dkim_keycache_key *k, enum dkim_alg alg,
    EVP_PKEY *pk)
{
	struct buf sig = BUF_INIT;
	unsigned char md[32];
	const unsigned char *s;
	int round;

	memset(md, 0x5a, sizeof(md));
	sign_digest(pk, alg, md, &sig);
	s = (const unsigned char *)sig.data;
	for (round = 0; round < 2; round++) {
		assert_true(dkim_keycache_verify(k, alg, md, 32, s, sig.len));
		md[0] ^= 1;
		assert_false(dkim_keycache_verify(k, alg, md, 32, s, sig.len));
		md[0] ^= 1;
	}
	buf_free(&sig);
}

static void
test_verify_contexts_reused(void **state)
{
	EVP_PKEY *pk = new_key(DKIM_KEY_RSA), *ed = new_key(DKIM_KEY_ED25519);
	struct buf txt = BUF_INIT, sig = BUF_INIT;
	const struct dkim_keycache_key *k, *e;
	unsigned char md[32] = { 0 };

	(void)state;
	key_txt(pk, &txt);
	k = dkim_keycache_get(txt.data, txt.len);
	check_good_bad_good(k, DKIM_ALG_RSA_SHA256, pk);
	key_txt(ed, &txt);
	e = dkim_keycache_get(txt.data, txt.len);
	check_good_bad_good(e, DKIM_ALG_ED25519_SHA256, ed);
	/* a key never verifies under the other algorithm */
	sign_digest(ed, DKIM_ALG_ED25519_SHA256, md, &sig);
	assert_false(dkim_keycache_verify(k, DKIM_ALG_ED25519_SHA256, md, 32,
	    (const unsigned char *)sig.data, sig.len));
	assert_true(dkim_keycache_verify(e, DKIM_ALG_ED25519_SHA256, md, 32,
	    (const unsigned char *)sig.data, sig.len));
	dkim_keycache_release(k);
	dkim_keycache_release(e);
	buf_free(&txt);
	buf_free(&sig);
	EVP_PKEY_free(pk);
	EVP_PKEY_free(ed);
}

static enum dkim_result
verify_msg(const char *m, size_t n, const char *txt)
{
	struct dkim_verify_options o;
	const struct dkim_sig_result *r;
	struct dkim_verify *v;
	enum dkim_result res;
	size_t tl = strlen(txt);

	memset(&o, 0, sizeof(o));
	o.now = NOW;
	v = dkim_verify_new(&o);
	dkim_verify_message(v, m, n);
	assert_int_equal(dkim_verify_count(v), 1);
	dkim_verify_key(v, 0, DNS_OK, &txt, &tl, 1, NULL);
	assert_int_equal(dkim_verify_finish(v, &r), 1);
	res = r[0].result;
	dkim_verify_free(v);
	return res;
}

/* Through the verifier: after a pass with the cached key, the same
 * selector's record changed to another key fails and revoked is a
 * permerror, at once. */
static void
test_verifier_sees_key_changes(void **state)
{
	EVP_PKEY *k1 = new_key(DKIM_KEY_RSA), *k2 = new_key(DKIM_KEY_RSA);
	struct dkim_sign_options so;
	struct dkim_signer *s;
	struct buf m = BUF_INIT, t1 = BUF_INIT, t2 = BUF_INIT;
	char why[200];

	(void)state;
	dkim_sign_options_init(&so);
	so.domain = "football.example.com";
	so.selector = "sel";
	so.key = k1;
	so.now = NOW - 10;
	s = dkim_sign_new(&so, why, sizeof(why));
	assert_non_null(s);
	dkim_sign_message(s, msg, strlen(msg));
	assert_int_equal(dkim_sign_finish(s, &m, why, sizeof(why)), 0);
	dkim_sign_free(s);
	buf_append_str(&m, msg);
	key_txt(k1, &t1);
	key_txt(k2, &t2);
	assert_int_equal(verify_msg(m.data, m.len, t1.data),
	    DKIM_RESULT_PASS);
	assert_int_equal(verify_msg(m.data, m.len, t1.data),
	    DKIM_RESULT_PASS);
	assert_int_equal(verify_msg(m.data, m.len, t2.data),
	    DKIM_RESULT_FAIL);
	assert_int_equal(verify_msg(m.data, m.len, "v=DKIM1; k=rsa; p="),
	    DKIM_RESULT_PERMERROR);
	assert_int_equal(verify_msg(m.data, m.len, t1.data),
	    DKIM_RESULT_PASS);
	buf_free(&m);
	buf_free(&t1);
	buf_free(&t2);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
}

/* A lookup's answer as both verifiers take it: the first record that
 * parses wins, else the first record's reason; no record and DNS trouble
 * have their own words, and only DNS trouble is temporary. */
static void
test_answer(void **state)
{
	struct arena *a = arena_new(0);
	const struct dkim_keycache_key *k;
	char rec[200];
	const char *txt[2];
	size_t len[2];
	const char *err;
	bool temp;

	(void)state;
	snprintf(rec, sizeof(rec), "v=DKIM1; k=ed25519; p=%s", ed_p);
	txt[0] = "v=DKIM1; k=rsa; p=x; p=y";
	txt[1] = rec;
	len[0] = strlen(txt[0]);
	len[1] = strlen(txt[1]);
	k = dkim_keycache_answer(DNS_OK, txt, len, 2, "s._domainkey.example",
	    NULL, a, &err, &temp);
	assert_non_null(k);
	assert_null(err);
	assert_false(temp);
	assert_int_equal(k->rec.type, DKIM_KEY_ED25519);
	dkim_keycache_release(k);

	k = dkim_keycache_answer(DNS_OK, txt, len, 1, "s._domainkey.example",
	    NULL, a, &err, &temp);
	assert_null(k);
	assert_false(temp);
	assert_true(strncmp(err, "s._domainkey.example: ", 22) == 0);
	assert_non_null(strstr(err + 22, "duplicate"));

	k = dkim_keycache_answer(DNS_OK, txt, len, 0, "s._domainkey.example",
	    NULL, a, &err, &temp);
	assert_null(k);
	assert_false(temp);
	assert_string_equal(err, "no key record at s._domainkey.example "
	    "(NODATA)");
	k = dkim_keycache_answer(DNS_NXDOMAIN, NULL, NULL, 0, "x.example",
	    NULL, a, &err, &temp);
	assert_string_equal(err, "no key record at x.example (NXDOMAIN)");
	assert_false(temp);
	k = dkim_keycache_answer(DNS_TIMEOUT, NULL, NULL, 0, "x.example",
	    "no answer in 5 s", a, &err, &temp);
	assert_null(k);
	assert_true(temp);
	assert_string_equal(err, "key lookup for x.example: TIMEOUT: no "
	    "answer in 5 s");
	k = dkim_keycache_answer(DNS_SERVFAIL, NULL, NULL, 0, "x.example",
	    NULL, a, &err, &temp);
	assert_true(temp);
	assert_string_equal(err, "key lookup for x.example: SERVFAIL");
	arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hit_is_same_entry,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_text_is_new_entry,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures_keep_reasons,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded_and_held,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_record_not_kept,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_contexts_reused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_verifier_sees_key_changes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
