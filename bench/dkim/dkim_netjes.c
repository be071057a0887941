/*
 * dkim_netjes — DKIM verify and sign throughput of netjes's library, one
 * core, in process; and the cryptographic floor on the same bytes.
 *
 *	dkim_netjes verify PUBTXT LIST SECONDS
 *	dkim_netjes sign KEY.pem LIST SECONDS
 *	dkim_netjes floor KEY.pem LIST SECONDS [verify|sign]
 *
 * LIST names message files (CRLF line ends), read into memory first.
 * verify: dkim_verify_new / _message / _key / _finish / _free per
 * message, the key record handed in with dkim_verify_key() from memory:
 * a warm cache, as an in-process DNS cache would give it, so DNS is not
 * what is measured (the record is still parsed and its key decoded per
 * message, as after any cache lookup; netjes keeps the decoded key in
 * its key cache, keyed by the record text). sign: dkim_sign_new /
 * _message / _finish / _free per message with the key loaded once,
 * relaxed/relaxed with the default header set, rsa-sha256 or
 * ed25519-sha256 after the key's type. floor: per message, one SHA-256
 * over all the message's bytes plus one verify (and, reported
 * separately, one sign) of a 32-byte digest with the key's algorithm and
 * a context set up once (Ed25519: a copy of a context initialised once,
 * as its one-shot API needs): the least any verifier or signer must do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "auth/common/dkim_keygen.h"
#include "auth/dkim/dkim_sign.h"
#include "auth/dkim/dkim_verify.h"
#include "lib/benchutil.h"

struct corpus {
	char	**msg;
	size_t	 *len;
	size_t	  n;
	size_t	  bytes;
};

static void
corpus_load(const char *list, struct corpus *c)
{
	char **paths = bench_read_lines(list, &c->n);
	size_t i;

	c->msg = calloc(c->n, sizeof(*c->msg));
	c->len = calloc(c->n, sizeof(*c->len));
	if (c->msg == NULL || c->len == NULL)
		abort();
	c->bytes = 0;
	for (i = 0; i < c->n; i++) {
		c->msg[i] = bench_read_file(paths[i], &c->len[i]);
		c->bytes += c->len[i];
	}
}

static const char *txt;
static size_t txt_len;

static const char *
verify_one(const char *m, size_t n)
{
	struct dkim_verify_options o;
	const struct dkim_sig_result *res;
	struct dkim_verify *v;
	const char *out;
	size_t i, k;

	memset(&o, 0, sizeof(o));
	o.clock_skew = -1;
	v = dkim_verify_new(&o);
	dkim_verify_message(v, m, n);
	k = dkim_verify_count(v);
	for (i = 0; i < k; i++)
		if (dkim_verify_key_name(v, i) != NULL)
			dkim_verify_key(v, i, DNS_OK, &txt, &txt_len, 1, NULL);
	k = dkim_verify_finish(v, &res);
	out = k == 0 ? "none" : dkim_result_name(res[0].result);
	dkim_verify_free(v);
	return out;
}

static EVP_PKEY *key;

static const char *
sign_one(const char *m, size_t n)
{
	struct dkim_sign_options o;
	struct dkim_signer *s;
	struct buf sig = BUF_INIT;
	char why[256];
	const char *out;

	dkim_sign_options_init(&o);
	o.domain = "bench.example";
	o.selector = "s2048";
	o.key = key;
	o.now = 1717495200;
	if ((s = dkim_sign_new(&o, why, sizeof(why))) == NULL) {
		fprintf(stderr, "dkim_netjes: %s\n", why);
		exit(1);
	}
	dkim_sign_message(s, m, n);
	out = dkim_sign_finish(s, &sig, why, sizeof(why)) == 0 ? "ok" :
	    "error";
	dkim_sign_free(s);
	buf_free(&sig);
	return out;
}

/* The floor: SHA-256 of every byte, one verify of a fixed digest. */
static EVP_PKEY_CTX *vctx, *sctx;
static EVP_MD *sha256;		/* fetched once: no per-call name lookup */
static EVP_MD_CTX *hctx;
static int floor_sign;
static EVP_MD_CTX *ed_v, *ed_s, *ed_work;
static unsigned char fsig[512];
static size_t fsig_len;

static void
floor_setup_ed25519(void)
{
	unsigned char md[32] = { 0 };

	ed_v = EVP_MD_CTX_new();
	ed_s = EVP_MD_CTX_new();
	ed_work = EVP_MD_CTX_new();
	fsig_len = sizeof(fsig);
	if (ed_v == NULL || ed_s == NULL || ed_work == NULL ||
	    EVP_DigestVerifyInit(ed_v, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestSignInit(ed_s, NULL, NULL, NULL, key) != 1 ||
	    EVP_MD_CTX_copy_ex(ed_work, ed_s) != 1 ||
	    EVP_DigestSign(ed_work, fsig, &fsig_len, md, sizeof(md)) != 1)
		abort();
}

/* One Ed25519 sign or verify of md, on a copy of the set-up context. */
static int
floor_ed25519(const unsigned char *md, size_t mdl)
{
	unsigned char sig[64];
	size_t sl = sizeof(sig);

	if (EVP_MD_CTX_copy_ex(ed_work, floor_sign ? ed_s : ed_v) != 1)
		abort();
	if (floor_sign)
		return EVP_DigestSign(ed_work, sig, &sl, md, mdl);
	return EVP_DigestVerify(ed_work, fsig, fsig_len, md, mdl);
}

static void
floor_setup(void)
{
	unsigned char md[32] = { 0 };

	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	hctx = EVP_MD_CTX_new();
	if (sha256 == NULL || hctx == NULL)
		abort();
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) {
		floor_setup_ed25519();
		return;
	}
	vctx = EVP_PKEY_CTX_new(key, NULL);
	sctx = EVP_PKEY_CTX_new(key, NULL);
	if (vctx == NULL || sctx == NULL ||
	    EVP_PKEY_sign_init(sctx) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(sctx, EVP_sha256()) <= 0 ||
	    EVP_PKEY_verify_init(vctx) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(vctx, EVP_sha256()) <= 0)
		abort();
	fsig_len = sizeof(fsig);
	if (EVP_PKEY_sign(sctx, fsig, &fsig_len, md, sizeof(md)) <= 0)
		abort();
}

static const char *
floor_one(const char *m, size_t n)
{
	unsigned char md[32];
	unsigned char sig[512];
	size_t sl = sizeof(sig);
	unsigned mdl;

	if (EVP_DigestInit_ex(hctx, sha256, NULL) != 1 ||
	    EVP_DigestUpdate(hctx, m, n) != 1 ||
	    EVP_DigestFinal_ex(hctx, md, &mdl) != 1)
		abort();
	if (ed_v != NULL && floor_sign)
		return floor_ed25519(md, mdl) == 1 ? "ok" : "error";
	if (ed_v != NULL) {
		memset(md, 0, sizeof(md));
		return floor_ed25519(md, mdl) == 1 ? "pass" : "fail";
	}
	if (floor_sign) {
		if (EVP_PKEY_sign(sctx, sig, &sl, md, mdl) <= 0)
			abort();
		return "ok";
	}
	memset(md, 0, sizeof(md));
	return EVP_PKEY_verify(vctx, fsig, fsig_len, md, 32) == 1 ? "pass" :
	    "fail";
}

static void
run(const char *impl, const char *op, const char *(*one)(const char *,
    size_t), const struct corpus *c, double secs)
{
	struct bench_check chk;
	size_t i, count = 0, npass = 0;
	double t0, t;

	bench_check_init(&chk);
	for (i = 0; i < c->n; i++) {
		const char *r = one(c->msg[i], c->len[i]);

		npass += strcmp(r, "pass") == 0 || strcmp(r, "ok") == 0;
		bench_check_add(&chk, r);
	}
	t0 = bench_now();
	do {
		for (i = 0; i < c->n; i++)
			(void)one(c->msg[i], c->len[i]);
		count += c->n;
		t = bench_now() - t0;
	} while (t < secs);
	printf("BENCH impl=%s op=%s n=%zu secs=%.3f rate=%.1f check=%016llx "
	    "ok=%zu/%zu avg_bytes=%zu\n", impl, op, count, t,
	    (double)count / t, (unsigned long long)chk.h, npass, c->n,
	    c->bytes / c->n);
}

int
main(int argc, char **argv)
{
	struct corpus c;
	char why[256];
	const char *only = argc == 6 ? argv[5] : "";
	double secs;

	if (argc != 5 && !(argc == 6 && strcmp(argv[1], "floor") == 0)) {
		fprintf(stderr, "usage: dkim_netjes verify|sign|floor "
		    "PUBTXT|KEY LIST SECONDS [verify|sign]\n");
		return 2;
	}
	secs = atof(argv[4]);
	corpus_load(argv[3], &c);
	if (strcmp(argv[1], "verify") == 0) {
		char *t = bench_read_file(argv[2], &txt_len);

		while (txt_len > 0 && (t[txt_len - 1] == '\n' ||
		    t[txt_len - 1] == '\r'))
			t[--txt_len] = '\0';
		txt = t;
		run("netjes", "verify", verify_one, &c, secs);
		return 0;
	}
	if ((key = dkim_keygen_load(argv[2], why, sizeof(why))) == NULL) {
		fprintf(stderr, "dkim_netjes: %s\n", why);
		return 1;
	}
	if (strcmp(argv[1], "sign") == 0) {
		run("netjes", "sign", sign_one, &c, secs);
	} else if (strcmp(argv[1], "floor") == 0) {
		/* one of the two alone, for instruction counts */
		floor_setup();
		if (strcmp(only, "sign") != 0)
			run("floor", "verify", floor_one, &c, secs);
		floor_sign = 1;
		if (strcmp(only, "verify") != 0)
			run("floor", "sign", floor_one, &c, secs);
	} else
		return 2;
	return 0;
}
