/*
 * Unit tests for src/priv: the privmsg wire format, and the key holder
 * and key proxy talking over a real socketpair (the holder on a
 * thread): a context loaded through the proxy signs with the holder's
 * key (RSA PKCS#1, RSA-PSS, ECDSA), bad requests get an error and the
 * holder goes on, a key that does not match its certificate is refused.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/config.h"
#include "priv/keyholder.h"
#include "priv/keyproxy.h"
#include "priv/privmsg.h"
#include "priv/privsep.h"

/* ---- privmsg -------------------------------------------------------- */

static void
test_header_round_trip(void **state)
{
	unsigned char h[PRIVMSG_HEADER_LEN];
	struct privmsg m;

	(void)state;
	assert_int_equal(privmsg_header(h, PRIVMSG_SIGN, 7, 300), 0);
	assert_int_equal(privmsg_parse_header(h, sizeof(h), &m), 0);
	assert_int_equal(m.type, PRIVMSG_SIGN);
	assert_int_equal(m.arg, 7);
	assert_int_equal(m.len, 300);
	assert_null(m.payload);
	/* too short, too long, unknown types */
	assert_int_equal(privmsg_parse_header(h, sizeof(h) - 1, &m), -1);
	assert_int_equal(privmsg_header(h, PRIVMSG_SIGN, 0,
	    PRIVMSG_PAYLOAD_MAX + 1), -1);
	h[8] = 0x7f;
	assert_int_equal(privmsg_parse_header(h, sizeof(h), &m), -1);
	assert_int_equal(privmsg_header(h, 0, 0, 0), 0);
	assert_int_equal(privmsg_parse_header(h, sizeof(h), &m), -1);
	assert_int_equal(privmsg_header(h, PRIVMSG_ERROR + 1, 0, 0), 0);
	assert_int_equal(privmsg_parse_header(h, sizeof(h), &m), -1);
	assert_string_equal(privmsg_type_name(PRIVMSG_TLS_IDENT), "tls-ident");
	assert_string_equal(privmsg_type_name(999), "unknown");
}

static void
test_parse_sign(void **state)
{
	unsigned char p[PRIVMSG_SIGN_MAX + 2] = { PRIVMSG_OP_ECDSA, 1, 2 };
	struct privmsg m = { PRIVMSG_SIGN, 1, p, 3 };
	const unsigned char *in;
	enum privmsg_op op;
	size_t n;

	(void)state;
	assert_int_equal(privmsg_parse_sign(&m, &op, &in, &n), 0);
	assert_int_equal(op, PRIVMSG_OP_ECDSA);
	assert_ptr_equal(in, p + 1);
	assert_int_equal(n, 2);
	m.len = 1;		/* no input */
	assert_int_equal(privmsg_parse_sign(&m, &op, &in, &n), -1);
	m.len = sizeof(p);	/* input too long */
	assert_int_equal(privmsg_parse_sign(&m, &op, &in, &n), -1);
	m.len = 3;
	p[0] = 9;		/* unknown operation */
	assert_int_equal(privmsg_parse_sign(&m, &op, &in, &n), -1);
	p[0] = PRIVMSG_OP_RSA_RAW;
	m.type = PRIVMSG_TLS;
	assert_int_equal(privmsg_parse_sign(&m, &op, &in, &n), -1);
}

/* ---- key holder and proxy ------------------------------------------- */

static char dir[64];
static char cert_path[PATH_MAX], key_path[PATH_MAX];

static int
files(const struct config *cfg, char *cert, char *key, size_t n, char *err,
    size_t errlen)
{
	(void)cfg;
	(void)err;
	(void)errlen;
	snprintf(cert, n, "%s", cert_path);
	snprintf(key, n, "%s", key_path);
	return 0;
}

/* A self-signed certificate for key, both written under dir. */
static void
write_pair(EVP_PKEY *key, EVP_PKEY *cert_key, const char *name)
{
	X509 *x = X509_new();
	FILE *f;

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"mx.example.test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, cert_key);
	assert_true(X509_sign(x, cert_key, EVP_sha256()) > 0);
	snprintf(cert_path, sizeof(cert_path), "%s/%s.crt", dir, name);
	snprintf(key_path, sizeof(key_path), "%s/%s.key", dir, name);
	assert_non_null(f = fopen(cert_path, "w"));
	PEM_write_X509(f, x);
	fclose(f);
	assert_non_null(f = fopen(key_path, "w"));
	PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	X509_free(x);
}

struct holder {
	struct keyholder	*kh;
	int			 fd;
	pthread_t		 thread;
	int			 end;	/* what ended the loop */
};

static void *
holder_main(void *arg)
{
	struct holder *h = arg;

	while ((h->end = keyholder_serve(h->kh, h->fd)) == 0)
		;
	return NULL;
}

static int
holder_start(struct holder *h, struct config *cfg)
{
	int sv[2];

	config_defaults(cfg);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_non_null(h->kh = keyholder_new(cfg, files));
	h->fd = sv[0];
	assert_int_equal(pthread_create(&h->thread, NULL, holder_main, h), 0);
	return sv[1];
}

static void
holder_stop(struct holder *h, struct keyproxy *kp)
{
	keyproxy_free(kp);	/* end of file for the holder */
	pthread_join(h->thread, NULL);
	assert_int_equal(h->end, 1);
	close(h->fd);
	keyholder_free(h->kh);
}

/* Signs with the context's (proxy) key and verifies with the
 * certificate's public key. */
static void
sign_and_verify(SSL_CTX *ctx, int pss)
{
	EVP_PKEY *proxy = SSL_CTX_get0_privatekey(ctx);
	EVP_PKEY *pub = X509_get0_pubkey(SSL_CTX_get0_certificate(ctx));
	const unsigned char msg[] = "the quick brown fox";
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);
	EVP_PKEY_CTX *pctx;
	EVP_MD_CTX *md;

	assert_non_null(proxy);
	assert_non_null(md = EVP_MD_CTX_new());
	assert_int_equal(EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL,
	    proxy), 1);
	if (pss)
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &siglen, msg, sizeof(msg)),
	    1);
	EVP_MD_CTX_free(md);
	assert_non_null(md = EVP_MD_CTX_new());
	assert_int_equal(EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL,
	    pub), 1);
	if (pss)
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING), 1);
	assert_int_equal(EVP_DigestVerify(md, sig, siglen, msg, sizeof(msg)),
	    1);
	EVP_MD_CTX_free(md);
}

static void
proxy_round_trip(EVP_PKEY *key, const char *name, bool rsa)
{
	struct config cfg;
	struct holder h;
	struct keyproxy *kp;
	char err[PRIVSEP_ERR_MAX];
	SSL_CTX *ctx;

	write_pair(key, key, name);
	kp = keyproxy_new(holder_start(&h, &cfg));
	assert_non_null(kp);
	assert_non_null(ctx = SSL_CTX_new(TLS_server_method()));
	if (keyproxy_tls(kp, ctx, err, sizeof(err)) != 0)
		fail_msg("keyproxy_tls: %s", err);
	sign_and_verify(ctx, 0);
	if (rsa)
		sign_and_verify(ctx, 1);
	/* the context goes: the holder forgets the key (a FORGET round
	 * trip), and a second load works */
	SSL_CTX_free(ctx);
	assert_non_null(ctx = SSL_CTX_new(TLS_server_method()));
	assert_int_equal(keyproxy_tls(kp, ctx, err, sizeof(err)), 0);
	sign_and_verify(ctx, 0);
	SSL_CTX_free(ctx);
	holder_stop(&h, kp);
	config_free(&cfg);
}

static void
test_proxy_rsa(void **state)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);

	(void)state;
	assert_non_null(key);
	proxy_round_trip(key, "rsa", true);
	EVP_PKEY_free(key);
}

static void
test_proxy_ecdsa(void **state)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");

	(void)state;
	assert_non_null(key);
	proxy_round_trip(key, "ec", false);
	EVP_PKEY_free(key);
}

/* A child that sends nonsense gets an error and the holder goes on;
 * a malformed header ends the channel. */
static void
test_bad_requests(void **state)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	unsigned char req[3] = { PRIVMSG_OP_ECDSA, 1, 2 }, *buf;
	struct config cfg;
	struct privmsg m;
	struct holder h;
	int fd;

	(void)state;
	write_pair(key, key, "bad");
	fd = holder_start(&h, &cfg);
	/* a handle the holder never gave out */
	assert_int_equal(privsep_send(fd, PRIVMSG_SIGN, 42, req, sizeof(req)),
	    0);
	assert_int_equal(privsep_recv(fd, &m, &buf), 0);
	assert_int_equal(m.type, PRIVMSG_ERROR);
	assert_string_equal((char *)buf, "no such key");
	free(buf);
	/* a reply type sent as a request */
	assert_int_equal(privsep_send(fd, PRIVMSG_SIGNATURE, 0, NULL, 0), 0);
	assert_int_equal(privsep_recv(fd, &m, &buf), 0);
	assert_int_equal(m.type, PRIVMSG_ERROR);
	free(buf);
	/* an empty signing request */
	assert_int_equal(privsep_send(fd, PRIVMSG_SIGN, 1, NULL, 0), 0);
	assert_int_equal(privsep_recv(fd, &m, &buf), 0);
	assert_int_equal(m.type, PRIVMSG_ERROR);
	free(buf);
	/* still serving: the embedded default has no config file text */
	assert_int_equal(privsep_send(fd, PRIVMSG_CONFIG, 0, NULL, 0), 0);
	assert_int_equal(privsep_recv(fd, &m, &buf), 0);
	assert_int_equal(m.type, PRIVMSG_CONFIG_TEXT);
	assert_int_equal(m.arg, 0);
	free(buf);
	/* a header that lies about its length ends the conversation */
	assert_int_equal(write(fd, "\0\0\0\5\0\0\0\0\xff\xff\xff\xff", 12), 12);
	pthread_join(h.thread, NULL);
	assert_int_equal(h.end, -1);
	close(fd);
	close(h.fd);
	keyholder_free(h.kh);
	config_free(&cfg);
	EVP_PKEY_free(key);
}

static void
test_mismatched_key(void **state)
{
	EVP_PKEY *key = EVP_EC_gen("P-256"), *other = EVP_EC_gen("P-256");
	char err[PRIVSEP_ERR_MAX];
	struct keyholder *kh;
	struct config cfg;

	(void)state;
	write_pair(other, key, "mismatch");
	config_defaults(&cfg);
	assert_non_null(kh = keyholder_new(&cfg, files));
	assert_int_equal(keyholder_check(kh, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not match"));
	/* and a missing file names itself */
	snprintf(key_path, sizeof(key_path), "%s/none.key", dir);
	assert_int_equal(keyholder_check(kh, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "none.key"));
	keyholder_free(kh);
	config_free(&cfg);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/netjes-privsep-XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_round_trip),
		cmocka_unit_test(test_parse_sign),
		cmocka_unit_test(test_proxy_rsa),
		cmocka_unit_test(test_proxy_ecdsa),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_mismatched_key),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
