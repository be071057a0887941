/*
 * keyproxy — private-key operations by request to the parent. See
 * keyproxy.h.
 *
 * OpenSSL 3 still lets an RSA or EC_KEY carry its own method, and keeps
 * such a "foreign" key on the legacy path, where a TLS signature ends in
 * the method's private-key call: exactly the hook a key that lives in
 * another process needs. Those APIs are marked deprecated in 3.0; the
 * provider interface that replaces them would take a whole provider.
 */
#define OPENSSL_API_COMPAT 10101
#define OPENSSL_SUPPRESS_DEPRECATED

#include "priv/keyproxy.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "priv/privmsg.h"
#include "priv/privsep.h"

struct keyproxy {
	int		 fd;		/* -1 once closed */
	unsigned	 refs;		/* the owner and every proxy key */
	pthread_mutex_t	 lock;
};

/* What a proxy key knows: its channel and the parent's handle. */
struct keyproxy_ref {
	struct keyproxy	*kp;
	uint32_t	 handle;
};

static pthread_once_t	 keyproxy_once = PTHREAD_ONCE_INIT;
static RSA_METHOD	*keyproxy_rsa_meth;
static EC_KEY_METHOD	*keyproxy_ec_meth;
static int		 keyproxy_rsa_idx = -1;
static int		 keyproxy_ec_idx = -1;

struct keyproxy *
keyproxy_new(int fd)
{
	struct keyproxy *kp;

	if ((kp = calloc(1, sizeof(*kp))) == NULL)
		return NULL;
	kp->fd = fd;
	kp->refs = 1;
	pthread_mutex_init(&kp->lock, NULL);
	return kp;
}

static void
keyproxy_unref(struct keyproxy *kp)
{
	bool last;

	pthread_mutex_lock(&kp->lock);
	last = --kp->refs == 0;
	pthread_mutex_unlock(&kp->lock);
	if (!last)
		return;
	if (kp->fd != -1)
		close(kp->fd);
	pthread_mutex_destroy(&kp->lock);
	free(kp);
}

void
keyproxy_free(struct keyproxy *kp)
{
	if (kp == NULL)
		return;
	pthread_mutex_lock(&kp->lock);
	if (kp->fd != -1)
		close(kp->fd);
	kp->fd = -1;
	pthread_mutex_unlock(&kp->lock);
	keyproxy_unref(kp);
}

/*
 * One round trip: the request, then its answer in *m and *buf (the
 * caller frees *buf). An ERROR answer is -1 with its text in err.
 */
static int
keyproxy_call(struct keyproxy *kp, uint32_t type, uint32_t arg,
    const void *payload, size_t len, uint32_t want, struct privmsg *m,
    unsigned char **buf, char *err, size_t errlen)
{
	int rc = -1;

	*buf = NULL;
	pthread_mutex_lock(&kp->lock);
	if (kp->fd == -1)
		snprintf(err, errlen, "key holder channel closed");
	else if (privsep_send(kp->fd, type, arg, payload, len) == -1 ||
	    privsep_recv(kp->fd, m, buf) != 0)
		snprintf(err, errlen, "key holder does not answer");
	else if (m->type == PRIVMSG_ERROR)
		snprintf(err, errlen, "%s", (const char *)*buf);
	else if (m->type != want)
		snprintf(err, errlen, "key holder: unexpected %s",
		    privmsg_type_name(m->type));
	else
		rc = 0;
	pthread_mutex_unlock(&kp->lock);
	if (rc == -1) {
		free(*buf);
		*buf = NULL;
	}
	return rc;
}

/* A signature from the parent into out; its length, or -1. */
static int
keyproxy_sign(const struct keyproxy_ref *ref, enum privmsg_op op,
    const unsigned char *in, size_t inlen, unsigned char *out,
    size_t outmax)
{
	unsigned char req[1 + PRIVMSG_SIGN_MAX], *buf;
	char err[PRIVSEP_ERR_MAX];
	struct privmsg m;
	int n = -1;

	if (ref == NULL || inlen == 0 || inlen > PRIVMSG_SIGN_MAX)
		return -1;
	req[0] = (unsigned char)op;
	memcpy(req + 1, in, inlen);
	if (keyproxy_call(ref->kp, PRIVMSG_SIGN, ref->handle, req, inlen + 1,
	    PRIVMSG_SIGNATURE, &m, &buf, err, sizeof(err)) == -1)
		return -1;
	if (m.len <= outmax) {
		memcpy(out, buf, m.len);
		n = (int)m.len;
	}
	free(buf);
	return n;
}

static void
keyproxy_forget(struct keyproxy_ref *ref)
{
	char err[PRIVSEP_ERR_MAX];
	unsigned char *buf;
	struct privmsg m;

	if (ref == NULL)
		return;
	if (keyproxy_call(ref->kp, PRIVMSG_FORGET, ref->handle, NULL, 0,
	    PRIVMSG_DONE, &m, &buf, err, sizeof(err)) == 0)
		free(buf);
	keyproxy_unref(ref->kp);
	free(ref);
}

/* ---- RSA ------------------------------------------------------------ */

static int
keyproxy_rsa_priv_enc(int flen, const unsigned char *from, unsigned char *to,
    RSA *rsa, int padding)
{
	const struct keyproxy_ref *ref = RSA_get_ex_data(rsa,
	    keyproxy_rsa_idx);
	enum privmsg_op op;

	/* PKCS#1 v1.5 for TLS 1.2; PSS arrives padded already (no padding) */
	if (padding == RSA_PKCS1_PADDING)
		op = PRIVMSG_OP_RSA_PKCS1;
	else if (padding == RSA_NO_PADDING)
		op = PRIVMSG_OP_RSA_RAW;
	else
		return -1;
	return keyproxy_sign(ref, op, from, (size_t)flen, to,
	    (size_t)RSA_size(rsa));
}

/* No RSA key exchange is offered: decryption is never asked for. */
static int
keyproxy_rsa_priv_dec(int flen, const unsigned char *from, unsigned char *to,
    RSA *rsa, int padding)
{
	(void)flen;
	(void)from;
	(void)to;
	(void)rsa;
	(void)padding;
	return -1;
}

static int
keyproxy_rsa_finish(RSA *rsa)
{
	keyproxy_forget(RSA_get_ex_data(rsa, keyproxy_rsa_idx));
	RSA_set_ex_data(rsa, keyproxy_rsa_idx, NULL);
	return 1;
}

/* ---- EC ------------------------------------------------------------- */

static int
keyproxy_ec_sign(int type, const unsigned char *dgst, int dlen,
    unsigned char *sig, unsigned int *siglen, const BIGNUM *kinv,
    const BIGNUM *r, EC_KEY *ec)
{
	const struct keyproxy_ref *ref = EC_KEY_get_ex_data(ec,
	    keyproxy_ec_idx);
	int n;

	(void)type;
	(void)kinv;
	(void)r;
	n = keyproxy_sign(ref, PRIVMSG_OP_ECDSA, dgst, (size_t)dlen, sig,
	    (size_t)ECDSA_size(ec));
	if (n < 0)
		return 0;
	*siglen = (unsigned)n;
	return 1;
}

static ECDSA_SIG *
keyproxy_ec_sign_sig(const unsigned char *dgst, int dlen, const BIGNUM *kinv,
    const BIGNUM *r, EC_KEY *ec)
{
	unsigned char der[256];
	const unsigned char *p = der;
	unsigned int len = 0;

	if (ECDSA_size(ec) > (int)sizeof(der) ||
	    keyproxy_ec_sign(0, dgst, dlen, der, &len, kinv, r, ec) != 1)
		return NULL;
	return d2i_ECDSA_SIG(NULL, &p, (long)len);
}

static void
keyproxy_ec_finish(EC_KEY *ec)
{
	keyproxy_forget(EC_KEY_get_ex_data(ec, keyproxy_ec_idx));
	EC_KEY_set_ex_data(ec, keyproxy_ec_idx, NULL);
}

static void
keyproxy_methods(void)
{
	int (*init)(EC_KEY *) = NULL;
	void (*finish)(EC_KEY *) = NULL;
	int (*copy)(EC_KEY *, const EC_KEY *) = NULL;
	int (*set_group)(EC_KEY *, const EC_GROUP *) = NULL;
	int (*set_private)(EC_KEY *, const BIGNUM *) = NULL;
	int (*set_public)(EC_KEY *, const EC_POINT *) = NULL;

	keyproxy_rsa_idx = RSA_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	keyproxy_ec_idx = EC_KEY_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if ((keyproxy_rsa_meth = RSA_meth_dup(RSA_PKCS1_OpenSSL())) != NULL) {
		RSA_meth_set1_name(keyproxy_rsa_meth, "netjes key proxy");
		RSA_meth_set_priv_enc(keyproxy_rsa_meth,
		    keyproxy_rsa_priv_enc);
		RSA_meth_set_priv_dec(keyproxy_rsa_meth,
		    keyproxy_rsa_priv_dec);
		RSA_meth_set_finish(keyproxy_rsa_meth, keyproxy_rsa_finish);
	}
	if ((keyproxy_ec_meth = EC_KEY_METHOD_new(EC_KEY_OpenSSL())) !=
	    NULL) {
		EC_KEY_METHOD_get_init(keyproxy_ec_meth, &init, &finish,
		    &copy, &set_group, &set_private, &set_public);
		EC_KEY_METHOD_set_init(keyproxy_ec_meth, init,
		    keyproxy_ec_finish, copy, set_group, set_private,
		    set_public);
		EC_KEY_METHOD_set_sign(keyproxy_ec_meth, keyproxy_ec_sign,
		    NULL, keyproxy_ec_sign_sig);
	}
}

/* ---- the proxy key -------------------------------------------------- */

static struct keyproxy_ref *
keyproxy_ref_new(struct keyproxy *kp, uint32_t handle)
{
	struct keyproxy_ref *ref;

	if ((ref = calloc(1, sizeof(*ref))) == NULL)
		return NULL;
	pthread_mutex_lock(&kp->lock);
	kp->refs++;
	pthread_mutex_unlock(&kp->lock);
	ref->kp = kp;
	ref->handle = handle;
	return ref;
}

static EVP_PKEY *
keyproxy_rsa_key(const EVP_PKEY *pub, struct keyproxy_ref *ref)
{
	const RSA *src = EVP_PKEY_get0_RSA(pub);
	const BIGNUM *n, *e;
	EVP_PKEY *pkey;
	RSA *rsa;

	if (src == NULL || keyproxy_rsa_meth == NULL ||
	    (rsa = RSA_new()) == NULL)
		return NULL;
	RSA_get0_key(src, &n, &e, NULL);
	if (RSA_set0_key(rsa, BN_dup(n), BN_dup(e), NULL) != 1 ||
	    RSA_set_method(rsa, keyproxy_rsa_meth) != 1 ||
	    (pkey = EVP_PKEY_new()) == NULL) {
		RSA_free(rsa);
		return NULL;
	}
	/* from here on the key's finish releases ref */
	RSA_set_ex_data(rsa, keyproxy_rsa_idx, ref);
	if (EVP_PKEY_assign_RSA(pkey, rsa) != 1) {
		RSA_set_ex_data(rsa, keyproxy_rsa_idx, NULL);
		RSA_free(rsa);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return pkey;
}

static EVP_PKEY *
keyproxy_ec_key(const EVP_PKEY *pub, struct keyproxy_ref *ref)
{
	const EC_KEY *src = EVP_PKEY_get0_EC_KEY(pub);
	EVP_PKEY *pkey;
	EC_KEY *ec;

	if (src == NULL || keyproxy_ec_meth == NULL ||
	    (ec = EC_KEY_new()) == NULL)
		return NULL;
	if (EC_KEY_set_method(ec, keyproxy_ec_meth) != 1 ||
	    EC_KEY_set_group(ec, EC_KEY_get0_group(src)) != 1 ||
	    EC_KEY_set_public_key(ec, EC_KEY_get0_public_key(src)) != 1 ||
	    (pkey = EVP_PKEY_new()) == NULL) {
		EC_KEY_free(ec);
		return NULL;
	}
	EC_KEY_set_ex_data(ec, keyproxy_ec_idx, ref);
	if (EVP_PKEY_assign_EC_KEY(pkey, ec) != 1) {
		EC_KEY_set_ex_data(ec, keyproxy_ec_idx, NULL);
		EC_KEY_free(ec);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return pkey;
}

/* A proxy for the public key pub; it owns ref from the start (freed
 * with it, or here on failure). */
static EVP_PKEY *
keyproxy_key(const EVP_PKEY *pub, struct keyproxy_ref *ref)
{
	EVP_PKEY *pkey = NULL;
	bool taken = false;

	if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA) {
		pkey = keyproxy_rsa_key(pub, ref);
		taken = pkey != NULL;
	} else if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC) {
		pkey = keyproxy_ec_key(pub, ref);
		taken = pkey != NULL;
	}
	if (!taken)
		keyproxy_forget(ref);
	return pkey;
}

/* The chain in pem into ctx: the leaf, then every further certificate. */
static int
keyproxy_use_chain(SSL_CTX *ctx, const unsigned char *pem, size_t len,
    X509 **leaf)
{
	BIO *bio;
	X509 *x;

	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return -1;
	if ((*leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL ||
	    SSL_CTX_use_certificate(ctx, *leaf) != 1) {
		BIO_free(bio);
		return -1;
	}
	SSL_CTX_clear_chain_certs(ctx);
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			X509_free(x);
			BIO_free(bio);
			return -1;
		}
	ERR_clear_error();	/* the end of the PEM data */
	BIO_free(bio);
	return 0;
}

int
keyproxy_tls(struct keyproxy *kp, SSL_CTX *ctx, char *err, size_t errlen)
{
	struct keyproxy_ref *ref;
	struct privmsg m;
	unsigned char *pem;
	X509 *leaf = NULL;
	EVP_PKEY *key;
	int rc = -1;

	pthread_once(&keyproxy_once, keyproxy_methods);
	if (keyproxy_call(kp, PRIVMSG_TLS, 0, NULL, 0, PRIVMSG_TLS_IDENT, &m,
	    &pem, err, errlen) == -1)
		return -1;
	if ((ref = keyproxy_ref_new(kp, m.arg)) == NULL) {
		snprintf(err, errlen, "out of memory");
	} else if (keyproxy_use_chain(ctx, pem, m.len, &leaf) == -1) {
		snprintf(err, errlen, "the key holder's certificate chain "
		    "does not load");
		keyproxy_forget(ref);
	} else if ((key = keyproxy_key(X509_get0_pubkey(leaf),
	    ref)) == NULL) {
		snprintf(err, errlen, "cannot make a proxy for the "
		    "certificate's key type");
	} else {
		if (SSL_CTX_use_PrivateKey(ctx, key) == 1 &&
		    SSL_CTX_check_private_key(ctx) == 1)
			rc = 0;
		else
			snprintf(err, errlen, "the proxy key does not fit "
			    "the certificate");
		EVP_PKEY_free(key);	/* ctx holds its own reference */
	}
	X509_free(leaf);
	free(pem);
	ERR_clear_error();
	return rc;
}

int
keyproxy_config(struct keyproxy *kp, char **text, size_t *len,
    int *embedded, char *err, size_t errlen)
{
	struct privmsg m;
	unsigned char *buf;

	if (keyproxy_call(kp, PRIVMSG_CONFIG, 0, NULL, 0, PRIVMSG_CONFIG_TEXT,
	    &m, &buf, err, errlen) == -1)
		return -1;
	*text = (char *)buf;
	*len = m.len;
	*embedded = m.arg == 0;
	return 0;
}
