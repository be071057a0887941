/*
 * Unit tests for auth/arc/arc: the structure rules of the chain parser
 * (missing, duplicate and out-of-range instances, cv= rules, cv=fail at
 * the top), sealing and validating chains of one to three hops in both
 * algorithms, a body changed after the last seal (the newest AMS fails,
 * every seal still verifies), a body changed by a hop before it sealed
 * (pass with oldest-pass), cv=fail propagation, key trouble, and the
 * verification clock the caller passes in (AMS x=, t= in the future).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/arc/arc.h"
#include "auth/common/dkim_keygen.h"

#define NOW	1700000000

static const char *plain_msg =
    "From: Joe SixPack <joe@football.example.com>\r\n"
    "To: Suzie Q <suzie@shopping.example.net>\r\n"
    "Subject: Is dinner ready?\r\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
    "\r\n"
    "Hi.\r\n"
    "\r\n"
    "We lost the game.  Are you hungry yet?\r\n";

struct keys {
	EVP_PKEY	*rsa, *ed;
	struct buf	 rsa_txt, ed_txt;
};

static struct keys K;

static int
setup(void **state)
{
	(void)state;
	K.rsa = dkim_keygen_new(DKIM_KEY_RSA, 1024, NULL, 0);
	K.ed = dkim_keygen_new(DKIM_KEY_ED25519, 0, NULL, 0);
	if (K.rsa == NULL || K.ed == NULL ||
	    dkim_keygen_txt(K.rsa, &K.rsa_txt) != 0 ||
	    dkim_keygen_txt(K.ed, &K.ed_txt) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(K.rsa);
	EVP_PKEY_free(K.ed);
	buf_free(&K.rsa_txt);
	buf_free(&K.ed_txt);
	return 0;
}

/* A verifier fed the whole message and the key for each slot (by the
 * selector: "rsa" or "ed"); status other than DNS_OK for every slot when
 * st says so. The caller frees. */
static struct arc_verify *
verify_at(const char *msg, size_t n, enum dns_status st, time_t now)
{
	struct arc_verify *v = arc_verify_new(&(struct arc_verify_options){
	    .now = now });
	const char *name, *txt;
	size_t i, len;

	arc_verify_message(v, msg, n);
	for (i = 0; i < arc_verify_key_count(v); i++) {
		name = arc_verify_key_name(v, i);
		assert_non_null(name);
		if (strncmp(name, "ed.", 3) == 0) {
			txt = K.ed_txt.data;
			len = K.ed_txt.len;
		} else {
			txt = K.rsa_txt.data;
			len = K.rsa_txt.len;
		}
		arc_verify_key(v, i, st, &txt, &len, st == DNS_OK ? 1 : 0,
		    st == DNS_OK ? NULL : "test");
	}
	assert_true(arc_verify_keys_done(v));
	return v;
}

static struct arc_verify *
verify(const char *msg, size_t n, enum dns_status st)
{
	return verify_at(msg, n, st, NOW);
}

/* Seal msg (verifying it first) with the key of sel; returns a new
 * string, or NULL when arc_seal refused. */
static char *
seal_with(const char *msg, const char *sel, const struct arc_verdict *in)
{
	struct arc_seal_options o = {
		.domain = "fwd.example", .selector = sel,
		.key = strcmp(sel, "ed") == 0 ? K.ed : K.rsa,
		.aar = "mx.fwd.example; dkim=pass header.d=football.example.com",
		.now = NOW,
	};
	struct buf out = BUF_INIT;
	char why[200];

	if (arc_seal(&o, msg, strlen(msg), in, &out, why, sizeof(why)) != 0) {
		buf_free(&out);
		return NULL;
	}
	buf_append_str(&out, msg);
	return buf_steal(&out);
}

static char *
seal(const char *msg, const char *sel)
{
	struct arc_verify *v = verify(msg, strlen(msg), DNS_OK);
	char *r = seal_with(msg, sel, arc_verify_finish(v));

	arc_verify_free(v);
	return r;
}

static char *
hops(const char *const *sels, size_t n)
{
	char *msg = strdup(plain_msg), *next;
	size_t i;

	for (i = 0; i < n; i++) {
		next = seal(msg, sels[i]);
		assert_non_null(next);
		free(msg);
		msg = next;
	}
	return msg;
}

/* Verify and copy out what a test looks at. */
struct outcome {
	enum arc_result	 result;
	char		 reason[300];
	unsigned	 instances, oldest_pass;
	bool		 temporary;
	enum dkim_result ams[ARC_MAX_INSTANCE], as[ARC_MAX_INSTANCE];
};

static struct outcome
check(const char *msg, enum dns_status st)
{
	struct arc_verify *v = verify(msg, strlen(msg), st);
	const struct arc_verdict *r = arc_verify_finish(v);
	struct outcome o;
	size_t i;

	memset(&o, 0, sizeof(o));
	o.result = r->result;
	snprintf(o.reason, sizeof(o.reason), "%s", r->reason ? r->reason : "");
	o.instances = r->instances;
	o.oldest_pass = r->oldest_pass;
	o.temporary = r->temporary;
	for (i = 0; i < r->nsets; i++) {
		o.ams[i] = r->sets[i].ams;
		o.as[i] = r->sets[i].as;
	}
	arc_verify_free(v);
	return o;
}

/* The message without the lines of the fields of one instance. */
static char *
drop_instance(const char *msg, unsigned inst, const char *only)
{
	struct arena *a = arena_new(0);
	struct hdr_section hs;
	struct arc_chain *c = arena_calloc(a, 1, sizeof(*c));
	struct buf out = BUF_INIT;
	size_t i, skip[3];

	hdr_parse(msg, strlen(msg), a, &hs);
	arc_chain_parse(&hs, a, c);
	skip[0] = c->set[inst].aar;
	skip[1] = c->set[inst].ams;
	skip[2] = c->set[inst].as;
	for (i = 0; i < hs.n; i++) {
		if ((i == skip[0] || i == skip[1] || i == skip[2]) &&
		    (only == NULL || hdr_name_is(&hs.fields[i], only)))
			continue;
		buf_append(&out, msg + hs.fields[i].start,
		    hs.fields[i].end - hs.fields[i].start);
	}
	buf_append_str(&out, msg + hs.body_offset - 2);
	arena_free(a);
	return buf_steal(&out);
}

static char *
replace(const char *msg, const char *from, const char *to)
{
	const char *at = strstr(msg, from);
	struct buf out = BUF_INIT;

	assert_non_null(at);
	buf_append(&out, msg, (size_t)(at - msg));
	buf_append_str(&out, to);
	buf_append_str(&out, at + strlen(from));
	return buf_steal(&out);
}

/* --- the pure parser ------------------------------------------------ */

static enum arc_result
parse_text(const char *hdr, char *reason, size_t rlen, unsigned *n)
{
	struct arena *a = arena_new(0);
	struct hdr_section hs;
	struct arc_chain *c = arena_calloc(a, 1, sizeof(*c));
	enum arc_result r;

	hdr_parse(hdr, strlen(hdr), a, &hs);
	r = arc_chain_parse(&hs, a, c);
	snprintf(reason, rlen, "%s", c->reason ? c->reason : "");
	if (n != NULL)
		*n = c->n;
	arena_free(a);
	return r;
}

#define AS(i, cv) "ARC-Seal: i=" #i "; a=rsa-sha256; cv=" cv \
	"; d=x.example; s=s; b=AAAA\r\n"
#define AMS(i) "ARC-Message-Signature: i=" #i "; a=rsa-sha256; " \
	"c=relaxed/relaxed; d=x.example; s=s; h=from; bh=AAAA; b=AAAA\r\n"
#define AAR(i) "ARC-Authentication-Results: i=" #i "; mx.example; " \
	"spf=pass\r\n"

static void
test_parse_structure(void **state)
{
	char why[300];
	unsigned n;

	(void)state;
	assert_int_equal(parse_text("From: a@b\r\n\r\n", why, sizeof(why),
	    &n), ARC_RESULT_NONE);
	assert_int_equal(parse_text(AAR(1) AMS(1) AS(1, "none") "\r\n", why,
	    sizeof(why), &n), ARC_RESULT_PASS);
	assert_int_equal(n, 1);
	assert_int_equal(parse_text(AAR(2) AMS(2) AS(2, "pass")
	    AAR(1) AMS(1) AS(1, "none") "\r\n", why, sizeof(why), &n),
	    ARC_RESULT_PASS);
	assert_int_equal(n, 2);

	/* missing instance */
	assert_int_equal(parse_text(AAR(3) AMS(3) AS(3, "pass")
	    AAR(1) AMS(1) AS(1, "none") "\r\n", why, sizeof(why), NULL),
	    ARC_RESULT_FAIL);
	assert_string_equal(why, "ARC set i=2 is missing (highest is i=3)");
	/* a set missing one field */
	assert_int_equal(parse_text(AAR(1) AS(1, "none") "\r\n", why,
	    sizeof(why), NULL), ARC_RESULT_FAIL);
	assert_string_equal(why, "ARC set i=1 has no ARC-Message-Signature");
	/* duplicate instance */
	assert_int_equal(parse_text(AAR(1) AAR(1) AMS(1) AS(1, "none")
	    "\r\n", why, sizeof(why), NULL), ARC_RESULT_FAIL);
	assert_string_equal(why,
	    "two ARC-Authentication-Results fields with i=1");
	assert_int_equal(parse_text(AAR(1) AMS(1) AS(1, "none")
	    AS(1, "none") "\r\n", why, sizeof(why), NULL), ARC_RESULT_FAIL);
	assert_string_equal(why, "two ARC-Seal fields with i=1");
	/* instance above 50, zero, absent */
	assert_int_equal(parse_text(AAR(51) "\r\n", why, sizeof(why), NULL),
	    ARC_RESULT_FAIL);
	assert_string_equal(why, "ARC-Authentication-Results instance above "
	    "the limit of 50");
	assert_int_equal(parse_text(AS(51, "pass") "\r\n", why, sizeof(why),
	    NULL), ARC_RESULT_FAIL);
	assert_string_equal(why, "ARC-Seal instance above the limit of 50");
	assert_int_equal(parse_text(AMS(0) "\r\n", why, sizeof(why), NULL),
	    ARC_RESULT_FAIL);
	assert_string_equal(why, "ARC-Message-Signature without a valid i= "
	    "instance");
	/* cv rules */
	assert_int_equal(parse_text(AAR(2) AMS(2) AS(2, "none")
	    AAR(1) AMS(1) AS(1, "none") "\r\n", why, sizeof(why), NULL),
	    ARC_RESULT_FAIL);
	assert_string_equal(why, "ARC-Seal i=2 has cv=none, allowed only at "
	    "i=1");
	assert_int_equal(parse_text(AAR(1) AMS(1) AS(1, "pass") "\r\n", why,
	    sizeof(why), NULL), ARC_RESULT_FAIL);
	assert_string_equal(why, "ARC-Seal i=1 has cv=pass, must be none");
	assert_int_equal(parse_text(AAR(1) AMS(1) AS(1, "maybe") "\r\n", why,
	    sizeof(why), NULL), ARC_RESULT_FAIL);
	assert_string_equal(why, "ARC-Seal i=1 has an invalid cv= value");
	/* cv=fail at the top ends the chain before anything else */
	assert_int_equal(parse_text(AAR(3) AMS(3) AS(3, "fail")
	    AAR(1) AMS(1) AS(1, "none") "\r\n", why, sizeof(why), NULL),
	    ARC_RESULT_FAIL);
	assert_string_equal(why, "ARC-Seal i=3 reports cv=fail: the chain "
	    "failed before");
	/* cv=fail below the top */
	assert_int_equal(parse_text(AAR(2) AMS(2) AS(2, "pass")
	    AAR(1) AMS(1) AS(1, "fail") "\r\n", why, sizeof(why), NULL),
	    ARC_RESULT_FAIL);
	assert_string_equal(why, "ARC-Seal i=1 has cv=fail");
	/* tag rules */
	assert_int_equal(parse_text(AAR(1) AMS(1) "ARC-Seal: i=1; "
	    "a=rsa-sha256; cv=none; d=x.example; s=s; h=from; b=AAAA\r\n"
	    "\r\n", why, sizeof(why), NULL), ARC_RESULT_FAIL);
	assert_string_equal(why, "ARC-Seal i=1: h= is not allowed in an "
	    "ARC-Seal");
	assert_int_equal(parse_text(AAR(1) "ARC-Message-Signature: i=1; "
	    "a=rsa-sha256; d=x.example; s=s; h=from:arc-seal; bh=AAAA; "
	    "b=AAAA\r\n" AS(1, "none") "\r\n", why, sizeof(why), NULL),
	    ARC_RESULT_FAIL);
	assert_string_equal(why, "ARC-Message-Signature i=1: h= includes "
	    "ARC-Seal (RFC 8617 4.1.2)");
	assert_int_equal(parse_text(AAR(1) "ARC-Message-Signature: i=1; "
	    "a=rsa-sha1; d=x.example; s=s; h=from; bh=AAAA; b=AAAA\r\n"
	    AS(1, "none") "\r\n", why, sizeof(why), NULL), ARC_RESULT_FAIL);
	assert_string_equal(why, "ARC-Message-Signature i=1: unsupported "
	    "algorithm a=rsa-sha1");
}

static void
test_aar_instance(void **state)
{
	const char *rest = NULL;

	(void)state;
	assert_int_equal(arc_aar_instance(" i=1; mx; spf=pass", 18, &rest), 1);
	assert_string_equal(rest, " mx; spf=pass");
	assert_int_equal(arc_aar_instance("i = 50 ;x", 9, NULL), 50);
	assert_int_equal(arc_aar_instance("\r\n\ti=7;", 7, NULL), 7);
	assert_int_equal(arc_aar_instance("i=0;", 4, NULL), 0);
	assert_int_equal(arc_aar_instance("i=1", 3, NULL), 0);
	assert_int_equal(arc_aar_instance("i=1000;", 7, NULL), 0);
	assert_int_equal(arc_aar_instance("mx; i=1;", 8, NULL), 0);
	assert_int_equal(arc_aar_instance("i=x;", 4, NULL), 0);
	assert_int_equal(arc_aar_instance("", 0, NULL), 0);
}

/* --- chains --------------------------------------------------------- */

static void
test_none(void **state)
{
	struct outcome o = check(plain_msg, DNS_OK);

	(void)state;
	assert_int_equal(o.result, ARC_RESULT_NONE);
	assert_int_equal(o.instances, 0);
}

static void
test_hops_pass(void **state)
{
	static const char *const sels[] = { "rsa", "ed", "rsa" };
	struct outcome o;
	char *msg;
	size_t n;

	(void)state;
	for (n = 1; n <= 3; n++) {
		msg = hops(sels, n);
		o = check(msg, DNS_OK);
		assert_int_equal(o.result, ARC_RESULT_PASS);
		assert_string_equal(o.reason, "");
		assert_int_equal(o.instances, n);
		assert_int_equal(o.oldest_pass, 0);
		assert_int_equal(o.ams[n - 1], DKIM_RESULT_PASS);
		assert_int_equal(o.as[0], DKIM_RESULT_PASS);
		assert_non_null(strstr(msg, n == 1 ? "cv=none" : "cv=pass"));
		free(msg);
	}
	msg = hops(sels + 1, 1);
	assert_non_null(strstr(msg, "ARC-Seal: i=1; a=ed25519-sha256;"));
	free(msg);
}

static void
test_missing_and_duplicate_sets(void **state)
{
	static const char *const sels[] = { "rsa", "rsa", "rsa" };
	char *msg = hops(sels, 3), *bad, *dup;
	struct outcome o;

	(void)state;
	bad = drop_instance(msg, 2, NULL);
	o = check(bad, DNS_OK);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_string_equal(o.reason, "ARC set i=2 is missing (highest is "
	    "i=3)");
	free(bad);
	bad = drop_instance(msg, 1, "ARC-Seal");
	o = check(bad, DNS_OK);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_string_equal(o.reason, "ARC set i=1 has no ARC-Seal");
	free(bad);
	/* the newest set dropped: a shorter chain that still passes */
	bad = drop_instance(msg, 3, NULL);
	o = check(bad, DNS_OK);
	assert_int_equal(o.result, ARC_RESULT_PASS);
	assert_int_equal(o.instances, 2);
	free(bad);
	dup = replace(msg, "ARC-Authentication-Results: i=3;",
	    "ARC-Authentication-Results: i=2;");
	o = check(dup, DNS_OK);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_string_equal(o.reason, "two ARC-Authentication-Results fields "
	    "with i=2");
	free(dup);
	free(msg);
}

static void
test_body_changed_after_seal(void **state)
{
	static const char *const sels[] = { "rsa", "ed" };
	char *msg = hops(sels, 2), *bad;
	struct outcome o;

	(void)state;
	bad = replace(msg, "hungry yet", "hungry now");
	o = check(bad, DNS_OK);
	/* the newest AMS fails and decides; every seal still verifies,
	 * since seals never cover the body */
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_string_equal(o.reason, "ARC-Message-Signature i=2: body hash "
	    "mismatch");
	assert_int_equal(o.ams[1], DKIM_RESULT_FAIL);
	assert_int_equal(o.ams[0], DKIM_RESULT_FAIL);
	assert_int_equal(o.as[1], DKIM_RESULT_PASS);
	assert_int_equal(o.as[0], DKIM_RESULT_PASS);
	assert_false(o.temporary);
	free(bad);
	/* a signed header changed: the newest AMS signature breaks */
	bad = replace(msg, "Subject: Is dinner", "Subject: Is lunch");
	o = check(bad, DNS_OK);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_string_equal(o.reason, "ARC-Message-Signature i=2: signature "
	    "mismatch");
	free(bad);
	/* an AAR changed: the seals over it break, the AMS does not */
	bad = replace(msg, "ARC-Authentication-Results: i=1; mx.fwd",
	    "ARC-Authentication-Results: i=1; mx.evil");
	o = check(bad, DNS_OK);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_string_equal(o.reason, "ARC-Seal i=2: signature mismatch");
	assert_int_equal(o.ams[1], DKIM_RESULT_PASS);
	free(bad);
	free(msg);
}

static void
test_oldest_pass(void **state)
{
	struct arc_verify *v;
	struct outcome o;
	char *one, *footer, *two, *three;

	(void)state;
	one = seal(plain_msg, "rsa");
	/* hop 2 validates, adds a footer, then seals with what it saw */
	v = verify(one, strlen(one), DNS_OK);
	assert_int_equal(arc_verify_finish(v)->result, ARC_RESULT_PASS);
	footer = replace(one, "hungry yet?\r\n", "hungry yet?\r\n-- \r\n"
	    "list footer\r\n");
	two = seal_with(footer, "ed", arc_verify_finish(v));
	arc_verify_free(v);
	assert_non_null(two);
	o = check(two, DNS_OK);
	assert_int_equal(o.result, ARC_RESULT_PASS);
	assert_int_equal(o.oldest_pass, 2);
	assert_int_equal(o.ams[0], DKIM_RESULT_FAIL);
	assert_int_equal(o.ams[1], DKIM_RESULT_PASS);
	/* a third, honest hop: still 2 */
	three = seal(two, "rsa");
	o = check(three, DNS_OK);
	assert_int_equal(o.result, ARC_RESULT_PASS);
	assert_int_equal(o.instances, 3);
	assert_int_equal(o.oldest_pass, 2);
	free(one);
	free(footer);
	free(two);
	free(three);
}

static void
test_cv_fail_propagation(void **state)
{
	char *one = seal(plain_msg, "rsa"), *bad, *two, *three;
	struct outcome o;

	(void)state;
	bad = replace(one, "hungry yet", "hungry now");
	two = seal(bad, "ed");
	assert_non_null(two);
	assert_non_null(strstr(two, "ARC-Seal: i=2; a=ed25519-sha256; t=1700000000; "
	    "cv=fail;"));
	o = check(two, DNS_OK);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_string_equal(o.reason, "ARC-Seal i=2 reports cv=fail: the "
	    "chain failed before");
	/* a chain that failed is not sealed again */
	three = seal(two, "rsa");
	assert_null(three);
	free(one);
	free(bad);
	free(two);
}

static void
test_key_trouble(void **state)
{
	static const char *const sels[] = { "rsa", "ed" };
	char *msg = hops(sels, 2);
	struct outcome o;

	(void)state;
	o = check(msg, DNS_TIMEOUT);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_true(o.temporary);
	assert_non_null(strstr(o.reason, "TIMEOUT"));
	o = check(msg, DNS_NXDOMAIN);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_false(o.temporary);
	assert_non_null(strstr(o.reason, "no key record at ed._domainkey."
	    "fwd.example"));
	free(msg);
}

/* The verdict reason when every slot gets the key record txt. */
static enum arc_result
check_with_key(const char *msg, const char *txt, int min_rsa_bits,
    char *reason, size_t rlen)
{
	struct arc_verify *v = arc_verify_new(&(struct arc_verify_options){
	    .now = NOW, .min_rsa_bits = min_rsa_bits });
	const struct arc_verdict *r;
	enum arc_result res;
	size_t i, len = strlen(txt);

	arc_verify_message(v, msg, strlen(msg));
	for (i = 0; i < arc_verify_key_count(v); i++)
		arc_verify_key(v, i, DNS_OK, &txt, &len, 1, NULL);
	r = arc_verify_finish(v);
	res = r->result;
	snprintf(reason, rlen, "%s", r->reason ? r->reason : "");
	arc_verify_free(v);
	return res;
}

/* Keys come decoded from the DKIM key cache, shared by slots and by
 * messages; a key that cannot serve a slot must still fail it with
 * the reason, whichever slot met the cached entry first. */
static void
test_key_unusable(void **state)
{
	static const char *const sels[] = { "rsa", "rsa" };
	char *msg = hops(sels, 2), *ed_msg = seal(plain_msg, "ed");
	char reason[300];

	(void)state;
	/* the same record for all four slots, twice: cache hits */
	assert_int_equal(check_with_key(msg, K.rsa_txt.data, 0, reason,
	    sizeof(reason)), ARC_RESULT_PASS);
	assert_int_equal(check_with_key(msg, K.rsa_txt.data, 0, reason,
	    sizeof(reason)), ARC_RESULT_PASS);
	assert_int_equal(check_with_key(msg, K.rsa_txt.data, 2048, reason,
	    sizeof(reason)), ARC_RESULT_FAIL);
	assert_string_equal(reason, "ARC-Message-Signature i=2: RSA key of "
	    "1024 bits is too short");
	assert_int_equal(check_with_key(msg, K.ed_txt.data, 0, reason,
	    sizeof(reason)), ARC_RESULT_FAIL);
	assert_string_equal(reason, "ARC-Message-Signature i=2: key type "
	    "k=ed25519 does not match a=rsa-sha256");
	assert_int_equal(check_with_key(msg, "v=DKIM1; k=rsa; p=", 0, reason,
	    sizeof(reason)), ARC_RESULT_FAIL);
	assert_non_null(strstr(reason, "is revoked"));
	assert_int_equal(check_with_key(msg, "v=DKIM1; h=sha1; p=AAAA", 0,
	    reason, sizeof(reason)), ARC_RESULT_FAIL);
	assert_string_equal(reason, "ARC-Message-Signature i=2: key h= does "
	    "not allow sha256");
	assert_int_equal(check_with_key(msg, "v=DKIM1; p=AAAA", 0, reason,
	    sizeof(reason)), ARC_RESULT_FAIL);
	assert_non_null(strstr(reason, "ARC-Message-Signature i=2: "));
	/* an ed25519 chain with its key, then with the RSA one */
	assert_int_equal(check_with_key(ed_msg, K.ed_txt.data, 0, reason,
	    sizeof(reason)), ARC_RESULT_PASS);
	assert_int_equal(check_with_key(ed_msg, K.rsa_txt.data, 0, reason,
	    sizeof(reason)), ARC_RESULT_FAIL);
	free(msg);
	free(ed_msg);
}

/* Only the three ARC field names start the chain parser; a look-alike
 * name leaves the result none, a real one in any case is parsed. */
static void
test_arc_field_names(void **state)
{
	char *msg = hops((const char *const[]){ "rsa" }, 1), *odd;
	struct outcome o;

	(void)state;
	odd = replace(plain_msg, "Subject:", "X-ARC-Seal: i=1\r\nSubject:");
	o = check(odd, DNS_OK);
	assert_int_equal(o.result, ARC_RESULT_NONE);
	free(odd);
	odd = replace(plain_msg, "Subject:", "arc-seal: i=1; cv=none\r\n"
	    "Subject:");
	o = check(odd, DNS_OK);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	free(odd);
	odd = replace(msg, "ARC-Message-Signature:", "arc-message-signature:");
	o = check(odd, DNS_OK);
	assert_int_equal(o.result, ARC_RESULT_PASS);
	assert_int_equal(o.instances, 1);
	free(odd);
	free(msg);
}

/* The verdict on msg as of now, its reason copied to why. */
static enum arc_result
result_at(const char *msg, time_t now, char *why, size_t whylen)
{
	struct arc_verify *v = verify_at(msg, strlen(msg), DNS_OK, now);
	const struct arc_verdict *r = arc_verify_finish(v);
	enum arc_result res = r->result;

	snprintf(why, whylen, "%s", r->reason ? r->reason : "");
	arc_verify_free(v);
	return res;
}

/*
 * The clock is the caller's (the CLI's --now): a chain sealed at NOW
 * with an AMS x= of NOW + 3600 passes from 300 s before NOW (the clock
 * skew) up to x=; after x= the AMS is expired, and before that window
 * the seal is from the future.
 */
static void
test_clock_is_injected(void **state)
{
	struct arc_seal_options o = {
		.domain = "fwd.example", .selector = "ed", .key = K.ed,
		.aar = "mx.fwd.example; dkim=none", .now = NOW,
		.expire = 3600,
	};
	struct arc_verify *v = verify(plain_msg, strlen(plain_msg), DNS_OK);
	struct buf out = BUF_INIT;
	char why[300];

	(void)state;
	assert_int_equal(arc_seal(&o, plain_msg, strlen(plain_msg),
	    arc_verify_finish(v), &out, why, sizeof(why)), 0);
	arc_verify_free(v);
	assert_non_null(strstr(out.data, "x=1700003600;"));
	buf_append_str(&out, plain_msg);

	assert_int_equal(result_at(out.data, NOW, why, sizeof(why)),
	    ARC_RESULT_PASS);
	assert_int_equal(result_at(out.data, NOW + 3600, why, sizeof(why)),
	    ARC_RESULT_PASS);
	assert_int_equal(result_at(out.data, NOW - 300, why, sizeof(why)),
	    ARC_RESULT_PASS);
	assert_int_equal(result_at(out.data, NOW + 3601, why, sizeof(why)),
	    ARC_RESULT_FAIL);
	assert_non_null(strstr(why, "signature expired (x=1700003600)"));
	assert_int_equal(result_at(out.data, NOW - 301, why, sizeof(why)),
	    ARC_RESULT_FAIL);
	assert_non_null(strstr(why, "t=1700000000 is in the future"));
	buf_free(&out);
}

static void
test_seal_refusals(void **state)
{
	struct arc_seal_options o = {
		.domain = "fwd.example", .selector = "rsa", .key = NULL,
		.aar = "mx; none", .now = NOW,
	};
	struct buf out = BUF_INIT;
	char why[200];

	(void)state;
	assert_int_equal(arc_seal(&o, plain_msg, strlen(plain_msg), NULL,
	    &out, why, sizeof(why)), -1);
	o.key = K.ed;
	o.alg = DKIM_ALG_RSA_SHA256;
	assert_int_equal(arc_seal(&o, plain_msg, strlen(plain_msg), NULL,
	    &out, why, sizeof(why)), -1);
	assert_string_equal(why, "the key does not fit rsa-sha256");
	o.alg = DKIM_ALG_UNKNOWN;
	o.headers = "to:subject";
	assert_int_equal(arc_seal(&o, plain_msg, strlen(plain_msg), NULL,
	    &out, why, sizeof(why)), -1);
	o.headers = "from:arc-seal";
	assert_int_equal(arc_seal(&o, plain_msg, strlen(plain_msg), NULL,
	    &out, why, sizeof(why)), -1);
	assert_int_equal(out.len, 0);
	o.headers = "from:to";
	assert_int_equal(arc_seal(&o, plain_msg, strlen(plain_msg), NULL,
	    &out, why, sizeof(why)), 0);
	assert_non_null(strstr(out.data, "h=from:to;"));
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_structure),
		cmocka_unit_test(test_aar_instance),
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_hops_pass),
		cmocka_unit_test(test_missing_and_duplicate_sets),
		cmocka_unit_test(test_body_changed_after_seal),
		cmocka_unit_test(test_oldest_pass),
		cmocka_unit_test(test_cv_fail_propagation),
		cmocka_unit_test(test_key_trouble),
		cmocka_unit_test(test_key_unusable),
		cmocka_unit_test(test_arc_field_names),
		cmocka_unit_test(test_seal_refusals),
		cmocka_unit_test(test_clock_is_injected),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
