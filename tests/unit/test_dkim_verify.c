/*
 * Unit tests for auth/dkim/dkim_verify, auth/dkim/dkim_sign and
 * auth/common/dkim_keygen: the RFC 8463 / dkimpy vectors, sign-then-verify
 * in every algorithm and canonicalization, tampering, every per-signature
 * result with its reason, and key lookups through the in-memory DNS zone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/common/dkim_keygen.h"
#include "auth/dkim/dkim_sign.h"
#include "auth/dkim/dkim_verify.h"

#define NOW	1700000000

static const char *rfc8463_brisbane =
    "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

static const char *plain_msg =
    "From: Joe SixPack <joe@football.example.com>\r\n"
    "To: Suzie Q <suzie@shopping.example.net>\r\n"
    "Subject: Is dinner ready?\r\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
    "\r\n"
    "Hi.\r\n"
    "\r\n"
    "We lost the game.  Are you hungry yet?\r\n"
    "\r\n"
    "Joe.\r\n";

/* --- helpers -------------------------------------------------------- */

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
	*len = (size_t)n;
	return data;
}

/* Bare LF to CRLF, as the CLI does with files from Unix tools. */
static void
to_crlf(const char *p, size_t n, struct buf *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			buf_append_char(out, '\r');
		buf_append_char(out, p[i]);
	}
}

/* Trim the line end a key file ends with. */
static char *
suite_record(const char *name)
{
	size_t n;
	char *t = suite_file(name, &n);

	if (t == NULL)
		return NULL;
	while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r'))
		t[--n] = '\0';
	return t;
}

struct fake_key {
	const char	*name;
	const char	*txt;		/* NULL: the status below */
	enum dns_status	 status;
};

struct outcome {
	struct dkim_verify		*v;
	const struct dkim_sig_result	*r;
	size_t				 n;
};

static void
verify_with(struct outcome *o, const char *msg, size_t len,
    const struct fake_key *keys, size_t nkeys,
    const struct dkim_verify_options *opts, size_t chunk)
{
	struct dkim_verify_options def;
	struct arena *a = arena_new(0);
	struct hdr_section hs;
	const char *name;
	size_t i, k, off;

	memset(&def, 0, sizeof(def));
	def.now = NOW;
	o->v = dkim_verify_new(opts != NULL ? opts : &def);
	hdr_parse(msg, len, a, &hs);
	dkim_verify_header(o->v, msg, hs.body_offset);
	for (i = 0; i < dkim_verify_count(o->v); i++) {
		if ((name = dkim_verify_key_name(o->v, i)) == NULL)
			continue;
		for (k = 0; k < nkeys; k++)
			if (strcmp(keys[k].name, name) == 0)
				break;
		if (k == nkeys)
			dkim_verify_key(o->v, i, DNS_NXDOMAIN, NULL, NULL, 0,
			    NULL);
		else if (keys[k].txt == NULL)
			dkim_verify_key(o->v, i, keys[k].status, NULL, NULL, 0,
			    "test");
		else {
			size_t tl = strlen(keys[k].txt);
			dkim_verify_key(o->v, i, DNS_OK, &keys[k].txt, &tl, 1,
			    NULL);
		}
	}
	for (off = hs.body_offset; off < len; off += chunk ? chunk : len) {
		size_t n = chunk && len - off > chunk ? chunk : len - off;
		dkim_verify_body(o->v, msg + off, n);
	}
	o->n = dkim_verify_finish(o->v, &o->r);
	arena_free(a);
}

/* Keys for every signature that still needs one, from keys[]. */
static void
give_keys(struct dkim_verify *v, const struct fake_key *keys, size_t nkeys)
{
	const char *name;
	size_t i, k, tl;

	for (i = 0; i < dkim_verify_count(v); i++) {
		if ((name = dkim_verify_key_name(v, i)) == NULL)
			continue;
		for (k = 0; k < nkeys && strcmp(keys[k].name, name) != 0; k++)
			;
		if (k == nkeys) {
			dkim_verify_key(v, i, DNS_NXDOMAIN, NULL, NULL, 0, NULL);
			continue;
		}
		tl = strlen(keys[k].txt);
		dkim_verify_key(v, i, DNS_OK, &keys[k].txt, &tl, 1, NULL);
	}
}

/* The message in pieces of chunk octets through dkim_verify_feed(). */
static void
feed_with(struct outcome *o, const char *msg, size_t len,
    const struct fake_key *keys, size_t nkeys, size_t chunk)
{
	struct dkim_verify_options def;
	size_t off, n;

	memset(&def, 0, sizeof(def));
	def.now = NOW;
	o->v = dkim_verify_new(&def);
	for (off = 0; off < len; off += n) {
		n = len - off > chunk ? chunk : len - off;
		dkim_verify_feed(o->v, msg + off, n);
	}
	dkim_verify_feed_end(o->v);
	give_keys(o->v, keys, nkeys);
	o->n = dkim_verify_finish(o->v, &o->r);
}

static void
outcome_free(struct outcome *o)
{
	dkim_verify_free(o->v);
}

static void
assert_result(const struct dkim_sig_result *r, enum dkim_result want,
    const char *reason_part)
{
	if (r->result != want)
		fail_msg("result %s, wanted %s (reason: %s)",
		    dkim_result_name(r->result), dkim_result_name(want),
		    r->reason ? r->reason : "-");
	if (reason_part == NULL)
		return;
	assert_non_null(r->reason);
	if (strstr(r->reason, reason_part) == NULL)
		fail_msg("reason '%s' lacks '%s'", r->reason, reason_part);
}

static EVP_PKEY *
suite_key(const char *file)
{
	char why[200];
	size_t n;
	char *t = suite_file(file, &n);
	EVP_PKEY *pk;

	if (t == NULL)
		return NULL;
	pk = dkim_keygen_load_mem(t, n, why, sizeof(why));
	free(t);
	assert_non_null(pk);
	return pk;
}

/* Sign msg and return signature field + msg in out; key record in txt. */
static void
sign_msg(EVP_PKEY *pk, const char *msg, size_t len, enum dkim_canon hc,
    enum dkim_canon bc, const char *headers, bool l, struct buf *out,
    struct buf *txt)
{
	struct dkim_sign_options o;
	struct dkim_signer *s;
	char why[200];

	dkim_sign_options_init(&o);
	o.domain = "football.example.com";
	o.selector = "sel";
	o.key = pk;
	o.header_canon = hc;
	o.body_canon = bc;
	o.headers = headers;
	o.now = NOW - 10;
	o.body_length = l;
	s = dkim_sign_new(&o, why, sizeof(why));
	assert_non_null(s);
	dkim_sign_message(s, msg, len);
	assert_int_equal(dkim_sign_finish(s, out, why, sizeof(why)), 0);
	dkim_sign_free(s);
	buf_append(out, msg, len);
	if (txt != NULL)
		assert_int_equal(dkim_keygen_txt(pk, txt), 0);
}

/* --- vectors -------------------------------------------------------- */

static void
test_rfc8463_example(void **state)
{
	struct buf m = BUF_INIT;
	struct outcome o;
	size_t n;
	char *raw = suite_file("rfc6376.signed.msg", &n);
	char *rsa = suite_record("test.txt");
	struct fake_key keys[] = {
		{ "brisbane._domainkey.football.example.com", rfc8463_brisbane,
		  DNS_OK },
		{ "test._domainkey.football.example.com", rsa, DNS_OK },
	};

	(void)state;
	if (raw == NULL || rsa == NULL)
		skip();
	to_crlf(raw, n, &m);
	verify_with(&o, m.data, m.len, keys, 2, NULL, 0);
	assert_int_equal(o.n, 2);
	assert_result(&o.r[0], DKIM_RESULT_PASS, NULL);
	assert_string_equal(o.r[0].algorithm, "ed25519-sha256");
	assert_string_equal(o.r[0].domain, "football.example.com");
	assert_string_equal(o.r[0].selector, "brisbane");
	assert_int_equal(o.r[0].key_bits, 256);
	assert_result(&o.r[1], DKIM_RESULT_PASS, NULL);
	assert_string_equal(o.r[1].algorithm, "rsa-sha256");
	assert_int_equal(o.r[1].key_bits, 1024);
	outcome_free(&o);
	/* the same, body fed a byte at a time */
	verify_with(&o, m.data, m.len, keys, 2, NULL, 1);
	assert_result(&o.r[0], DKIM_RESULT_PASS, NULL);
	assert_result(&o.r[1], DKIM_RESULT_PASS, NULL);
	outcome_free(&o);
	/* a wrong key for the RSA one */
	free(rsa);
	rsa = suite_record("test_bad.txt");
	keys[1].txt = rsa;
	verify_with(&o, m.data, m.len, keys, 2, NULL, 0);
	assert_result(&o.r[0], DKIM_RESULT_PASS, NULL);
	assert_result(&o.r[1], DKIM_RESULT_PERMERROR,
	    "not an RSA public key");
	outcome_free(&o);
	free(rsa);
	free(raw);
	buf_free(&m);
}

static void
test_rfc8463_rsa_file(void **state)
{
	struct buf m = BUF_INIT;
	struct outcome o;
	size_t n;
	char *raw = suite_file("rfc6376.signed.rsa.msg", &n);
	char *rsa = suite_record("test.txt");
	struct fake_key keys[] = {
		{ "test._domainkey.football.example.com", rsa, DNS_OK },
	};

	(void)state;
	if (raw == NULL || rsa == NULL)
		skip();
	to_crlf(raw, n, &m);
	verify_with(&o, m.data, m.len, keys, 1, NULL, 7);
	assert_int_equal(o.n, 1);
	assert_result(&o.r[0], DKIM_RESULT_PASS, NULL);
	outcome_free(&o);
	free(rsa);
	free(raw);
	buf_free(&m);
}

static void
test_exim_ed25519(void **state)
{
	struct outcome o;
	size_t n;
	char *raw = suite_file("ed25519test2.msg", &n);
	char *key = suite_record("eximtest.dns");
	struct fake_key keys[] = {
		{ "sed._domainkey.test.ex", key, DNS_OK },
	};

	(void)state;
	if (raw == NULL || key == NULL)
		skip();
	verify_with(&o, raw, n, keys, 1, NULL, 0);
	assert_int_equal(o.n, 1);
	assert_result(&o.r[0], DKIM_RESULT_PASS, NULL);
	assert_string_equal(o.r[0].domain, "test.ex");
	outcome_free(&o);
	free(key);
	free(raw);
}

static void
test_sign_rfc8032_key(void **state)
{
	EVP_PKEY *pk = suite_key("rfc8032_7_1.key");
	struct buf m = BUF_INIT, txt = BUF_INIT;
	struct outcome o;
	struct fake_key keys[] = {
		{ "sel._domainkey.football.example.com", rfc8463_brisbane,
		  DNS_OK },
	};

	(void)state;
	if (pk == NULL)
		skip();
	sign_msg(pk, plain_msg, strlen(plain_msg), DKIM_CANON_SIMPLE,
	    DKIM_CANON_SIMPLE, NULL, false, &m, &txt);
	/* the public key we derive is the one RFC 8463 publishes */
	assert_string_equal(buf_cstr(&txt), rfc8463_brisbane);
	verify_with(&o, m.data, m.len, keys, 1, NULL, 0);
	assert_result(&o.r[0], DKIM_RESULT_PASS, NULL);
	outcome_free(&o);
	EVP_PKEY_free(pk);
	buf_free(&m);
	buf_free(&txt);
}

/* --- sign and verify ------------------------------------------------ */

static void
roundtrip(EVP_PKEY *pk)
{
	static const enum dkim_canon cs[] = { DKIM_CANON_SIMPLE,
	    DKIM_CANON_RELAXED };
	struct buf m = BUF_INIT, txt = BUF_INIT;
	struct outcome o;
	struct fake_key keys[1] = {
		{ "sel._domainkey.football.example.com", NULL, DNS_OK },
	};
	size_t hc, bc;
	char *p;

	for (hc = 0; hc < 2; hc++)
		for (bc = 0; bc < 2; bc++) {
			buf_reset(&m);
			buf_reset(&txt);
			sign_msg(pk, plain_msg, strlen(plain_msg), cs[hc],
			    cs[bc], NULL, false, &m, &txt);
			keys[0].txt = txt.data;
			verify_with(&o, m.data, m.len, keys, 1, NULL, 0);
			assert_int_equal(o.n, 1);
			assert_result(&o.r[0], DKIM_RESULT_PASS, NULL);
			outcome_free(&o);
			/* one body byte changed */
			p = strstr(m.data, "hungry");
			*p = 'H';
			verify_with(&o, m.data, m.len, keys, 1, NULL, 0);
			assert_result(&o.r[0], DKIM_RESULT_FAIL,
			    "body hash mismatch");
			outcome_free(&o);
			*p = 'h';
			/* one signed header byte changed */
			p = strstr(m.data, "dinner");
			*p = 'D';
			verify_with(&o, m.data, m.len, keys, 1, NULL, 0);
			assert_result(&o.r[0], DKIM_RESULT_FAIL,
			    "signature mismatch");
			outcome_free(&o);
		}
	buf_free(&m);
	buf_free(&txt);
}

static void
test_roundtrip_ed25519(void **state)
{
	char why[200];
	EVP_PKEY *pk = dkim_keygen_new(DKIM_KEY_ED25519, 0, why, sizeof(why));

	(void)state;
	assert_non_null(pk);
	roundtrip(pk);
	EVP_PKEY_free(pk);
}

static void
test_roundtrip_rsa(void **state)
{
	EVP_PKEY *pk = suite_key("2048_testkey.key");

	(void)state;
	if (pk == NULL)
		skip();
	roundtrip(pk);
	EVP_PKEY_free(pk);
}

static void
test_relaxed_survives_rewrapping(void **state)
{
	EVP_PKEY *pk = suite_key("ed25519test.key");
	struct buf m = BUF_INIT, txt = BUF_INIT, t = BUF_INIT;
	struct outcome o;
	struct fake_key keys[1] = {
		{ "sel._domainkey.football.example.com", NULL, DNS_OK },
	};
	const char *sub = "Subject: Is dinner ready?";
	char *p;

	(void)state;
	if (pk == NULL)
		skip();
	sign_msg(pk, plain_msg, strlen(plain_msg), DKIM_CANON_RELAXED,
	    DKIM_CANON_RELAXED, NULL, false, &m, &txt);
	keys[0].txt = txt.data;
	/* refold Subject, change header case, add trailing white space to a
	 * body line: relaxed/relaxed still verifies */
	p = strstr(m.data, sub);
	buf_append(&t, m.data, (size_t)(p - m.data));
	buf_append_str(&t, "SUBJECT:  Is dinner\r\n\tready?  ");
	p += strlen(sub);
	buf_append(&t, p, strlen(p));
	p = strstr(t.data, "Joe.\r\n");
	memmove(p + 6, p + 4, strlen(p + 4) + 1);
	memcpy(p + 4, " \t", 2);
	t.len += 2;
	buf_append_str(&t, "\r\n\r\n");
	verify_with(&o, t.data, t.len, keys, 1, NULL, 3);
	assert_result(&o.r[0], DKIM_RESULT_PASS, NULL);
	outcome_free(&o);
	EVP_PKEY_free(pk);
	buf_free(&m);
	buf_free(&t);
	buf_free(&txt);
}

static void
test_oversigned_from(void **state)
{
	EVP_PKEY *pk = suite_key("ed25519test.key");
	struct buf m = BUF_INIT, txt = BUF_INIT, t = BUF_INIT;
	struct outcome o;
	struct fake_key keys[1] = {
		{ "sel._domainkey.football.example.com", NULL, DNS_OK },
	};
	char *h;

	(void)state;
	if (pk == NULL)
		skip();
	sign_msg(pk, plain_msg, strlen(plain_msg), DKIM_CANON_RELAXED,
	    DKIM_CANON_RELAXED, NULL, false, &m, &txt);
	keys[0].txt = txt.data;
	/* From is listed twice: once for the field, once against additions */
	h = strstr(m.data, "h=");
	assert_non_null(h);
	assert_non_null(strstr(h, "from:"));
	assert_non_null(strstr(strstr(h, "from:") + 5, "from"));
	assert_null(strstr(m.data, "received"));
	/* a second From added anywhere breaks the signature */
	h = strstr(m.data, "From: Joe");
	buf_append(&t, m.data, (size_t)(h - m.data));
	buf_append_str(&t, "From: Mallory <m@evil.example>\r\n");
	buf_append_str(&t, h);
	verify_with(&o, t.data, t.len, keys, 1, NULL, 0);
	assert_result(&o.r[0], DKIM_RESULT_FAIL, "signature mismatch");
	outcome_free(&o);
	/* an unsigned header added does not */
	buf_reset(&t);
	buf_append_str(&t, "Received: from somewhere\r\n");
	buf_append(&t, m.data, m.len);
	verify_with(&o, t.data, t.len, keys, 1, NULL, 0);
	assert_result(&o.r[0], DKIM_RESULT_PASS, NULL);
	outcome_free(&o);
	EVP_PKEY_free(pk);
	buf_free(&m);
	buf_free(&t);
	buf_free(&txt);
}

static void
test_explicit_headers_and_dual(void **state)
{
	EVP_PKEY *ed = suite_key("ed25519test.key");
	EVP_PKEY *rsa = suite_key("2048_testkey.key");
	struct buf m1 = BUF_INIT, m2 = BUF_INIT, t1 = BUF_INIT, t2 = BUF_INIT;
	struct outcome o;
	struct fake_key keys[1] = {
		{ "sel._domainkey.football.example.com", NULL, DNS_OK },
	};

	(void)state;
	if (ed == NULL || rsa == NULL)
		skip();
	sign_msg(ed, plain_msg, strlen(plain_msg), DKIM_CANON_RELAXED,
	    DKIM_CANON_SIMPLE, "From : to:subject", false, &m1, &t1);
	assert_non_null(strstr(m1.data, "h=From:to:subject;"));
	/* the second signer signs the message as the first left it */
	sign_msg(rsa, m1.data, m1.len, DKIM_CANON_SIMPLE, DKIM_CANON_RELAXED,
	    NULL, false, &m2, &t2);
	/* both signatures use selector sel: serve the key by algorithm */
	keys[0].txt = t2.data;
	verify_with(&o, m2.data, m2.len, keys, 1, NULL, 0);
	assert_int_equal(o.n, 2);
	assert_result(&o.r[0], DKIM_RESULT_PASS, NULL);
	assert_result(&o.r[1], DKIM_RESULT_PERMERROR, "does not match");
	outcome_free(&o);
	keys[0].txt = t1.data;
	verify_with(&o, m2.data, m2.len, keys, 1, NULL, 0);
	assert_result(&o.r[0], DKIM_RESULT_PERMERROR, "does not match");
	assert_result(&o.r[1], DKIM_RESULT_PASS, NULL);
	outcome_free(&o);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(rsa);
	buf_free(&m1);
	buf_free(&m2);
	buf_free(&t1);
	buf_free(&t2);
}

/*
 * Four signatures over one body: two relaxed without l= (one body hash
 * between them), one relaxed with l=, one simple. Each must come out as
 * if it were alone, under any chunking, including when the signature
 * that opened a shared body hash is decided before the body arrives.
 */
/* Fed in pieces of every small size, the header end falling anywhere in
 * a piece (even between CR and LF), the results are those of the whole
 * message at once: four signatures with different c= and l=, a changed
 * body byte, a message without a body, and one without an empty line. */
static void
test_feed_in_pieces(void **state)
{
	char why[200];
	EVP_PKEY *pk = dkim_keygen_new(DKIM_KEY_ED25519, 0, why, sizeof(why));
	struct buf a = BUF_INIT, b = BUF_INIT, txt = BUF_INIT;
	struct outcome o, whole;
	struct fake_key keys[1] = {
		{ "sel._domainkey.football.example.com", NULL, DNS_OK },
	};
	static const char nobody[] = "From: joe@football.example.com\r\n"
	    "Subject: x\r\n";
	size_t chunk, i, lens[2];
	char *p;

	(void)state;
	assert_non_null(pk);
	sign_msg(pk, plain_msg, strlen(plain_msg), DKIM_CANON_RELAXED,
	    DKIM_CANON_SIMPLE, NULL, false, &a, &txt);
	sign_msg(pk, a.data, a.len, DKIM_CANON_RELAXED, DKIM_CANON_RELAXED,
	    NULL, true, &b, NULL);
	buf_reset(&a);
	sign_msg(pk, b.data, b.len, DKIM_CANON_SIMPLE, DKIM_CANON_RELAXED,
	    NULL, false, &a, NULL);
	buf_reset(&b);
	sign_msg(pk, a.data, a.len, DKIM_CANON_SIMPLE, DKIM_CANON_SIMPLE,
	    NULL, false, &b, NULL);
	keys[0].txt = txt.data;
	for (chunk = 1; chunk <= 70; chunk++) {
		feed_with(&o, b.data, b.len, keys, 1, chunk);
		assert_int_equal(o.n, 4);
		for (i = 0; i < 4; i++)
			assert_result(&o.r[i], DKIM_RESULT_PASS, NULL);
		outcome_free(&o);
	}
	p = strstr(b.data, "hungry");
	*p = 'H';
	for (chunk = 1; chunk <= 9; chunk += 4) {
		feed_with(&o, b.data, b.len, keys, 1, chunk);
		for (i = 0; i < 4; i++)
			assert_result(&o.r[i], DKIM_RESULT_FAIL,
			    "body hash mismatch");
		outcome_free(&o);
	}
	*p = 'h';
	/* the header alone, with and without the empty line */
	buf_reset(&a);
	sign_msg(pk, nobody, strlen(nobody), DKIM_CANON_RELAXED,
	    DKIM_CANON_RELAXED, NULL, false, &a, NULL);
	lens[0] = a.len;		/* no empty line */
	buf_append_str(&a, "\r\n");
	lens[1] = a.len;		/* an empty line, no body */
	for (i = 0; i < 2; i++) {
		verify_with(&whole, a.data, lens[i], keys, 1, NULL, 0);
		assert_int_equal(whole.r[0].result, DKIM_RESULT_PASS);
		for (chunk = 1; chunk <= 5; chunk++) {
			feed_with(&o, a.data, lens[i], keys, 1, chunk);
			assert_int_equal(o.n, whole.n);
			assert_int_equal(o.r[0].result, whole.r[0].result);
			assert_int_equal(o.r[0].body_length,
			    whole.r[0].body_length);
			outcome_free(&o);
		}
		outcome_free(&whole);
	}
	EVP_PKEY_free(pk);
	buf_free(&a);
	buf_free(&b);
	buf_free(&txt);
}

static void
test_shared_body_hash(void **state)
{
	EVP_PKEY *pk = suite_key("ed25519test.key");
	struct buf a = BUF_INIT, b = BUF_INIT, txt = BUF_INIT;
	struct outcome o;
	struct fake_key keys[1] = {
		{ "sel._domainkey.football.example.com", NULL, DNS_OK },
	};
	static const size_t chunks[] = { 0, 1, 7, 64 };
	size_t i, k;
	char *p;

	(void)state;
	if (pk == NULL)
		skip();
	sign_msg(pk, plain_msg, strlen(plain_msg), DKIM_CANON_RELAXED,
	    DKIM_CANON_SIMPLE, NULL, false, &a, &txt);
	sign_msg(pk, a.data, a.len, DKIM_CANON_RELAXED, DKIM_CANON_RELAXED,
	    NULL, true, &b, NULL);
	buf_reset(&a);
	sign_msg(pk, b.data, b.len, DKIM_CANON_SIMPLE, DKIM_CANON_RELAXED,
	    NULL, false, &a, NULL);
	buf_reset(&b);
	sign_msg(pk, a.data, a.len, DKIM_CANON_RELAXED, DKIM_CANON_RELAXED,
	    NULL, false, &b, NULL);
	keys[0].txt = txt.data;
	for (k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
		verify_with(&o, b.data, b.len, keys, 1, NULL, chunks[k]);
		assert_int_equal(o.n, 4);
		for (i = 0; i < 4; i++)
			assert_result(&o.r[i], DKIM_RESULT_PASS, NULL);
		assert_int_equal(o.r[0].body_length, o.r[1].body_length);
		outcome_free(&o);
	}
	/* one body byte changed: every signature sees it */
	p = strstr(b.data, "hungry");
	*p = 'H';
	verify_with(&o, b.data, b.len, keys, 1, NULL, 5);
	for (i = 0; i < 4; i++)
		assert_result(&o.r[i], DKIM_RESULT_FAIL, "body hash mismatch");
	outcome_free(&o);
	*p = 'h';
	/* the first signature (it opened the shared hash) loses its key
	 * before the body: the second still gets its body hash */
	p = strstr(b.data, "s=sel;");
	assert_non_null(p);
	memcpy(p, "s=gon;", 6);
	verify_with(&o, b.data, b.len, keys, 1, NULL, 3);
	assert_result(&o.r[0], DKIM_RESULT_PERMERROR, "no key record");
	for (i = 1; i < 4; i++)
		assert_result(&o.r[i], DKIM_RESULT_PASS, NULL);
	outcome_free(&o);
	EVP_PKEY_free(pk);
	buf_free(&a);
	buf_free(&b);
	buf_free(&txt);
}

static void
test_body_length_tag(void **state)
{
	EVP_PKEY *pk = suite_key("ed25519test.key");
	struct buf m = BUF_INIT, txt = BUF_INIT;
	struct dkim_verify_options vo;
	struct outcome o;
	struct fake_key keys[1] = {
		{ "sel._domainkey.football.example.com", NULL, DNS_OK },
	};

	(void)state;
	if (pk == NULL)
		skip();
	sign_msg(pk, plain_msg, strlen(plain_msg), DKIM_CANON_RELAXED,
	    DKIM_CANON_RELAXED, NULL, true, &m, &txt);
	keys[0].txt = txt.data;
	assert_non_null(strstr(m.data, " l="));
	verify_with(&o, m.data, m.len, keys, 1, NULL, 0);
	assert_result(&o.r[0], DKIM_RESULT_PASS, NULL);
	assert_false(o.r[0].partial_body);
	outcome_free(&o);
	/* something appended: still a pass, but flagged and explained */
	buf_append_str(&m, "Buy now!\r\n");
	verify_with(&o, m.data, m.len, keys, 1, NULL, 0);
	assert_result(&o.r[0], DKIM_RESULT_PASS, "covers only part");
	assert_true(o.r[0].partial_body);
	outcome_free(&o);
	memset(&vo, 0, sizeof(vo));
	vo.now = NOW;
	vo.partial_body_is_policy = true;
	verify_with(&o, m.data, m.len, keys, 1, &vo, 0);
	assert_result(&o.r[0], DKIM_RESULT_POLICY, "covers only part");
	outcome_free(&o);
	EVP_PKEY_free(pk);
	buf_free(&m);
	buf_free(&txt);
}

/* --- results for broken signatures ---------------------------------- */

static void
check_sig(const char *sigvalue, enum dkim_result want, const char *why)
{
	struct buf m = BUF_INIT;
	struct outcome o;

	buf_printf(&m, "DKIM-Signature:%s\r\n%s", sigvalue, plain_msg);
	verify_with(&o, m.data, m.len, NULL, 0, NULL, 0);
	assert_int_equal(o.n, 1);
	assert_result(&o.r[0], want, why);
	outcome_free(&o);
	buf_free(&m);
}

#define GOODTAGS " v=1; d=example.com; s=s; h=from; bh=AAAA; b=AAAA"

static void
test_signature_results(void **state)
{
	(void)state;
	check_sig(" v=1; a=rsa-sha256; d=example.com; s=s; h=from; b=AAAA",
	    DKIM_RESULT_PERMERROR, "no bh= tag");
	check_sig(" a=rsa-sha256;" GOODTAGS "; d=example.org",
	    DKIM_RESULT_PERMERROR, "duplicate tag 'd'");
	check_sig(" a=rsa-sha256; v=2; d=example.com; s=s; h=from; bh=AAAA; "
	    "b=AAAA", DKIM_RESULT_PERMERROR, "version");
	check_sig(" a=rsa-sha256; v=1; d=example.com; s=s; h=from; bh=AAAA; "
	    "b=A*AA", DKIM_RESULT_PERMERROR, "b= is not valid base64");
	check_sig(" a=rsa-sha256; v=1; d=example.com; s=s; h=to:subject; "
	    "bh=AAAA; b=AAAA", DKIM_RESULT_PERMERROR, "From");
	check_sig(" a=rsa-sha256; v=1; d=example.com; s=s; h=from::to; "
	    "bh=AAAA; b=AAAA", DKIM_RESULT_PERMERROR, "h=");
	check_sig(" a=rsa-sha256; i=@example.org;" GOODTAGS,
	    DKIM_RESULT_PERMERROR, "i= domain");
	check_sig(" a=rsa-sha256; i=user@mail.notexample.com;" GOODTAGS,
	    DKIM_RESULT_PERMERROR, "i= domain");
	check_sig(" a=rsa-sha256; i=user@example.com.evil;" GOODTAGS,
	    DKIM_RESULT_PERMERROR, "i= domain");
	check_sig(" a=rsa-sha256; t=200; x=100;" GOODTAGS,
	    DKIM_RESULT_PERMERROR, "x= is before t=");
	check_sig(" a=rsa-sha256; l=12a;" GOODTAGS,
	    DKIM_RESULT_PERMERROR, "l=");
	check_sig(" a=rsa-sha256; d=exa mple.com; v=1; s=s; h=from; bh=AAAA; "
	    "b=AAAA", DKIM_RESULT_PERMERROR, "d=");
	check_sig(" a=rsa-sha1;" GOODTAGS, DKIM_RESULT_FAIL, "RFC 8301");
	check_sig(" a=rsa-md5;" GOODTAGS, DKIM_RESULT_NEUTRAL,
	    "unsupported algorithm");
	check_sig(" a=rsa-sha256; c=nowsp;" GOODTAGS, DKIM_RESULT_NEUTRAL,
	    "canonicalization");
	check_sig(" a=rsa-sha256; q=http;" GOODTAGS, DKIM_RESULT_NEUTRAL,
	    "query method");
	check_sig(" a=rsa-sha256; x=1600000000;" GOODTAGS, DKIM_RESULT_FAIL,
	    "expired");
	check_sig(" a=rsa-sha256; t=1800000000;" GOODTAGS,
	    DKIM_RESULT_POLICY, "future");
	check_sig(" a=rsa-sha256 v=1", DKIM_RESULT_PERMERROR, "no ");
	check_sig(" a=rsa-sha256; \x01", DKIM_RESULT_PERMERROR, "syntax");
	/* no key: NXDOMAIN from the fake resolver */
	check_sig(" a=rsa-sha256; q=dns/txt;" GOODTAGS, DKIM_RESULT_PERMERROR,
	    "no key record at s._domainkey.example.com");
}

/*
 * The verification clock is the caller's (the CLI's --now): one real
 * signature with t= and x=, judged at several moments. Before x= it
 * passes, after x= it is expired, and a clock well before t= sees a
 * signature from the future.
 */
static void
test_clock_is_injected(void **state)
{
	static const struct {
		long long	 now;
		enum dkim_result want;
		const char	*reason;
	} at[] = {
		{ NOW - 10, DKIM_RESULT_PASS, NULL },		/* = t= */
		{ NOW + 3590, DKIM_RESULT_PASS, NULL },		/* = x= */
		{ NOW + 3591, DKIM_RESULT_FAIL, "signature expired (x=" },
		{ NOW + 86400 * 365, DKIM_RESULT_FAIL, "expired" },
		{ NOW - 310, DKIM_RESULT_PASS, NULL },		/* in skew */
		{ NOW - 311, DKIM_RESULT_POLICY, "in the future" },
	};
	struct fake_key keys[1] = {
		{ "sel._domainkey.football.example.com", NULL, DNS_OK },
	};
	struct dkim_sign_options so;
	struct dkim_verify_options vo;
	struct buf m = BUF_INIT, txt = BUF_INIT;
	struct dkim_signer *s;
	struct outcome o;
	char why[200];
	EVP_PKEY *pk = dkim_keygen_new(DKIM_KEY_ED25519, 0, why, sizeof(why));
	size_t i;

	(void)state;
	assert_non_null(pk);
	dkim_sign_options_init(&so);
	so.domain = "football.example.com";
	so.selector = "sel";
	so.key = pk;
	so.now = NOW - 10;
	so.expire = 3600;
	assert_non_null(s = dkim_sign_new(&so, why, sizeof(why)));
	dkim_sign_message(s, plain_msg, strlen(plain_msg));
	assert_int_equal(dkim_sign_finish(s, &m, why, sizeof(why)), 0);
	dkim_sign_free(s);
	assert_non_null(strstr(m.data, "x=1700003590;"));
	buf_append_str(&m, plain_msg);
	assert_int_equal(dkim_keygen_txt(pk, &txt), 0);
	keys[0].txt = txt.data;
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		memset(&vo, 0, sizeof(vo));
		vo.now = (time_t)at[i].now;
		vo.clock_skew = -1;
		verify_with(&o, m.data, m.len, keys, 1, &vo, 0);
		assert_int_equal(o.n, 1);
		assert_result(&o.r[0], at[i].want, at[i].reason);
		outcome_free(&o);
	}
	EVP_PKEY_free(pk);
	buf_free(&m);
	buf_free(&txt);
}

static void
test_unsigned_and_many(void **state)
{
	struct buf m = BUF_INIT;
	struct outcome o;
	int i;

	(void)state;
	verify_with(&o, plain_msg, strlen(plain_msg), NULL, 0, NULL, 0);
	assert_int_equal(o.n, 0);
	outcome_free(&o);
	for (i = 0; i < 10; i++)
		buf_printf(&m, "DKIM-Signature: a=rsa-sha256;" GOODTAGS
		    "\r\n");
	buf_append_str(&m, plain_msg);
	verify_with(&o, m.data, m.len, NULL, 0, NULL, 0);
	assert_int_equal(o.n, 10);
	assert_result(&o.r[7], DKIM_RESULT_PERMERROR, "no key record");
	assert_result(&o.r[8], DKIM_RESULT_NEUTRAL, "more than 8");
	outcome_free(&o);
	buf_free(&m);
}

static void
key_case(const char *msg, size_t len, const char *txt, enum dns_status st,
    enum dkim_result want, const char *why)
{
	struct fake_key keys[1] = {
		{ "sel._domainkey.football.example.com", txt, st },
	};
	struct outcome o;

	verify_with(&o, msg, len, keys, 1, NULL, 0);
	assert_int_equal(o.n, 1);
	assert_result(&o.r[0], want, why);
	outcome_free(&o);
}

static void
test_key_results(void **state)
{
	EVP_PKEY *pk = suite_key("ed25519test.key");
	EVP_PKEY *rsa = suite_key("2048_testkey.key");
	struct buf m = BUF_INIT, txt = BUF_INIT, rm = BUF_INIT;
	struct buf rtxt = BUF_INIT, t = BUF_INIT;
	const char *p;

	(void)state;
	if (pk == NULL || rsa == NULL)
		skip();
	sign_msg(pk, plain_msg, strlen(plain_msg), DKIM_CANON_RELAXED,
	    DKIM_CANON_RELAXED, NULL, false, &m, &txt);
	p = strstr(txt.data, "p=") + 2;
	key_case(m.data, m.len, NULL, DNS_SERVFAIL, DKIM_RESULT_TEMPERROR,
	    "SERVFAIL");
	key_case(m.data, m.len, NULL, DNS_TIMEOUT, DKIM_RESULT_TEMPERROR,
	    "TIMEOUT");
	key_case(m.data, m.len, NULL, DNS_NODATA, DKIM_RESULT_PERMERROR,
	    "no key record");
	key_case(m.data, m.len, "v=DKIM1; k=ed25519; p=", DNS_OK,
	    DKIM_RESULT_PERMERROR, "revoked");
	buf_printf(&t, "v=DKIM1; k=rsa; p=%s", p);
	key_case(m.data, m.len, t.data, DNS_OK, DKIM_RESULT_PERMERROR,
	    "does not match");
	buf_reset(&t);
	buf_printf(&t, "v=DKIM1; k=ed25519; h=sha1; p=%s", p);
	key_case(m.data, m.len, t.data, DNS_OK, DKIM_RESULT_PERMERROR,
	    "h= does not allow");
	key_case(m.data, m.len, "v=DKIM1; k=ed25519; p=AAA", DNS_OK,
	    DKIM_RESULT_PERMERROR, "base64");
	key_case(m.data, m.len, "v=DKIM1; k=ed25519; p=AAAA; p=AAAA", DNS_OK,
	    DKIM_RESULT_PERMERROR, "key record syntax");
	key_case(m.data, m.len, "v=DKIM1; k=ed25519; p=AAAA", DNS_OK,
	    DKIM_RESULT_PERMERROR, "not 32");
	/* testing mode: a pass is a pass, a failure is neutral */
	buf_reset(&t);
	buf_printf(&t, "v=DKIM1; k=ed25519; t=y; p=%s", p);
	key_case(m.data, m.len, t.data, DNS_OK, DKIM_RESULT_PASS, "testing");
	m.data[m.len - 3] ^= 1;
	key_case(m.data, m.len, t.data, DNS_OK, DKIM_RESULT_NEUTRAL,
	    "testing mode");
	/* an RSA key under 1024 bits fails (RFC 8301) */
	sign_msg(rsa, plain_msg, strlen(plain_msg), DKIM_CANON_RELAXED,
	    DKIM_CANON_RELAXED, NULL, false, &rm, &rtxt);
	key_case(rm.data, rm.len, rtxt.data, DNS_OK, DKIM_RESULT_PASS, NULL);
	EVP_PKEY_free(rsa);
	buf_reset(&rm);
	buf_reset(&rtxt);
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)768);
	assert_non_null(rsa);
	sign_msg(rsa, plain_msg, strlen(plain_msg), DKIM_CANON_RELAXED,
	    DKIM_CANON_RELAXED, NULL, false, &rm, &rtxt);
	key_case(rm.data, rm.len, rtxt.data, DNS_OK, DKIM_RESULT_FAIL,
	    "768 bits is too short");
	EVP_PKEY_free(pk);
	EVP_PKEY_free(rsa);
	buf_free(&m);
	buf_free(&txt);
	buf_free(&rm);
	buf_free(&rtxt);
	buf_free(&t);
}

static void
test_strict_subdomain_flag(void **state)
{
	EVP_PKEY *pk = suite_key("ed25519test.key");
	struct dkim_sign_options so;
	struct dkim_signer *s;
	struct buf m = BUF_INIT, txt = BUF_INIT, t = BUF_INIT;
	char why[200];

	(void)state;
	if (pk == NULL)
		skip();
	dkim_sign_options_init(&so);
	so.domain = "football.example.com";
	so.selector = "sel";
	so.key = pk;
	so.identity = "joe@mail.football.example.com";
	so.now = NOW;
	s = dkim_sign_new(&so, why, sizeof(why));
	assert_non_null(s);
	dkim_sign_message(s, plain_msg, strlen(plain_msg));
	assert_int_equal(dkim_sign_finish(s, &m, why, sizeof(why)), 0);
	dkim_sign_free(s);
	buf_append_str(&m, plain_msg);
	assert_int_equal(dkim_keygen_txt(pk, &txt), 0);
	key_case(m.data, m.len, txt.data, DNS_OK, DKIM_RESULT_PASS, NULL);
	buf_printf(&t, "v=DKIM1; k=ed25519; t=s; p=%s",
	    strstr(txt.data, "p=") + 2);
	key_case(m.data, m.len, t.data, DNS_OK, DKIM_RESULT_PERMERROR, "t=s");
	/* i= in d= itself passes under t=s, wherever i= stands among the
	 * tags (its value is not the end of the field's text) */
	buf_free(&m);
	so.identity = "joe@Football.Example.COM";
	s = dkim_sign_new(&so, why, sizeof(why));
	assert_non_null(s);
	dkim_sign_message(s, plain_msg, strlen(plain_msg));
	assert_int_equal(dkim_sign_finish(s, &m, why, sizeof(why)), 0);
	dkim_sign_free(s);
	assert_non_null(strstr(m.data, "i=joe@Football.Example.COM;"));
	buf_append_str(&m, plain_msg);
	key_case(m.data, m.len, t.data, DNS_OK, DKIM_RESULT_PASS, NULL);
	EVP_PKEY_free(pk);
	buf_free(&m);
	buf_free(&txt);
	buf_free(&t);
}

/* --- DNS through the in-memory zone --------------------------------- */

static void
keys_done(struct dkim_verify *v, void *arg)
{
	(void)v;
	event_base_loopbreak(arg);
}

static void
test_lookup_zone(void **state)
{
	EVP_PKEY *pk = suite_key("ed25519test.key");
	struct buf m = BUF_INIT, txt = BUF_INIT, zone = BUF_INIT;
	struct buf m2 = BUF_INIT;
	struct event_base *base = event_base_new();
	struct dns_resolver *r;
	struct dkim_verify_options vo;
	struct dkim_verify *v;
	const struct dkim_sig_result *res;
	struct dkim_sign_options so;
	struct dkim_signer *s;
	char err[200];

	(void)state;
	if (pk == NULL)
		skip();
	sign_msg(pk, plain_msg, strlen(plain_msg), DKIM_CANON_RELAXED,
	    DKIM_CANON_RELAXED, NULL, false, &m, &txt);
	/* a second signature whose key lookup fails */
	dkim_sign_options_init(&so);
	so.domain = "broken.example";
	so.selector = "sel";
	so.key = pk;
	so.now = NOW;
	s = dkim_sign_new(&so, err, sizeof(err));
	dkim_sign_message(s, m.data, m.len);
	assert_int_equal(dkim_sign_finish(s, &m2, err, sizeof(err)), 0);
	dkim_sign_free(s);
	buf_append(&m2, m.data, m.len);

	r = dns_zone_new(base);
	assert_non_null(r);
	buf_printf(&zone, "sel._domainkey.football.example.com. 300 IN TXT ");
	dkim_keygen_txt_strings(txt.data, txt.len, &zone);
	buf_append_str(&zone, "\n");
	assert_int_equal(dns_zone_load(r, zone.data, zone.len, NULL, err,
	    sizeof(err)), 0);
	dns_zone_set_failure(r, "sel._domainkey.broken.example", 0,
	    DNS_SERVFAIL);
	memset(&vo, 0, sizeof(vo));
	vo.now = NOW;
	v = dkim_verify_new(&vo);
	dkim_verify_message(v, m2.data, m2.len);
	assert_int_equal(dkim_verify_lookup(v, r, keys_done, base), 2);
	assert_false(dkim_verify_keys_done(v));
	event_base_dispatch(base);
	assert_true(dkim_verify_keys_done(v));
	assert_int_equal(dkim_verify_finish(v, &res), 2);
	assert_result(&res[0], DKIM_RESULT_TEMPERROR, "SERVFAIL");
	assert_result(&res[1], DKIM_RESULT_PASS, NULL);
	dkim_verify_free(v);

	/* freeing with lookups in flight cancels them */
	v = dkim_verify_new(&vo);
	dkim_verify_message(v, m2.data, m2.len);
	assert_int_equal(dkim_verify_lookup(v, r, keys_done, base), 2);
	dkim_verify_free(v);
	event_base_loop(base, EVLOOP_NONBLOCK);

	dns_resolver_free(r);
	event_base_free(base);
	EVP_PKEY_free(pk);
	buf_free(&m);
	buf_free(&m2);
	buf_free(&txt);
	buf_free(&zone);
}

/* --- keys ----------------------------------------------------------- */

static void
test_keygen_files(void **state)
{
	char dir[] = "/tmp/netjes-dkim-XXXXXX", path[256], why[200];
	struct buf txt = BUF_INIT, z = BUF_INIT;
	EVP_PKEY *pk, *back;
	struct stat st;
	char big[600];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/k.pem", dir);
	pk = dkim_keygen_new(DKIM_KEY_ED25519, 0, why, sizeof(why));
	assert_non_null(pk);
	assert_int_equal(dkim_keygen_write(pk, path, why, sizeof(why)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* never over an existing file */
	assert_int_equal(dkim_keygen_write(pk, path, why, sizeof(why)), -1);
	back = dkim_keygen_load(path, why, sizeof(why));
	assert_non_null(back);
	assert_int_equal(EVP_PKEY_eq(pk, back), 1);
	assert_int_equal(dkim_keygen_txt(back, &txt), 0);
	assert_int_equal(strncmp(txt.data, "v=DKIM1; k=ed25519; p=", 22), 0);
	assert_int_equal(txt.len, 22 + 44);
	EVP_PKEY_free(back);
	EVP_PKEY_free(pk);
	unlink(path);
	rmdir(dir);
	assert_null(dkim_keygen_new(DKIM_KEY_RSA, 512, why, sizeof(why)));

	/* TXT strings: at most 255 bytes each, quotes escaped */
	memset(big, 'a', sizeof(big));
	big[300] = '"';
	dkim_keygen_txt_strings(big, sizeof(big), &z);
	assert_int_equal(z.len, 600 + 1 + 3 * 2 + 2);
	assert_int_equal(z.data[0], '"');
	assert_int_equal(z.data[256], '"');
	assert_int_equal(z.data[257], ' ');
	buf_free(&txt);
	buf_free(&z);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc8463_example),
		cmocka_unit_test(test_rfc8463_rsa_file),
		cmocka_unit_test(test_exim_ed25519),
		cmocka_unit_test(test_sign_rfc8032_key),
		cmocka_unit_test(test_roundtrip_ed25519),
		cmocka_unit_test(test_roundtrip_rsa),
		cmocka_unit_test(test_relaxed_survives_rewrapping),
		cmocka_unit_test(test_oversigned_from),
		cmocka_unit_test(test_explicit_headers_and_dual),
		cmocka_unit_test(test_body_length_tag),
		cmocka_unit_test(test_shared_body_hash),
		cmocka_unit_test(test_feed_in_pieces),
		cmocka_unit_test(test_signature_results),
		cmocka_unit_test(test_clock_is_injected),
		cmocka_unit_test(test_unsigned_and_many),
		cmocka_unit_test(test_key_results),
		cmocka_unit_test(test_strict_subdomain_flag),
		cmocka_unit_test(test_lookup_zone),
		cmocka_unit_test(test_keygen_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
