/*
 * keyholder — private keys and config file in the privileged parent.
 * See keyholder.h.
 */
#include "priv/keyholder.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "priv/privmsg.h"
#include "priv/privsep.h"

struct keyholder_key {
	EVP_PKEY	*pkey;		/* NULL: free slot */
	uint32_t	 handle;
};

struct keyholder {
	const struct config	*started;	/* borrowed: outlives us */
	struct config		*current;	/* the last reload's, or NULL */
	keyholder_files_fn	 files;
	struct keyholder_key	 keys[KEYHOLDER_MAX_KEYS];
	uint32_t		 next_handle;
};

struct keyholder *
keyholder_new(const struct config *cfg, keyholder_files_fn files)
{
	struct keyholder *kh;

	if ((kh = calloc(1, sizeof(*kh))) == NULL)
		return NULL;
	kh->started = cfg;
	kh->files = files;
	kh->next_handle = 1;
	return kh;
}

static const struct config *
keyholder_config(const struct keyholder *kh)
{
	return kh->current != NULL ? kh->current : kh->started;
}

static void
keyholder_openssl_err(char *err, size_t errlen, const char *what,
    const char *path)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;

	snprintf(err, errlen, "%s %s: %s", what, path,
	    reason != NULL ? reason : "unknown OpenSSL error");
	ERR_clear_error();
}

/* The whole file at path, NUL-terminated, in *out; -1 with err. */
static int
keyholder_read_file(const char *path, const char *what, unsigned char **out,
    size_t *outlen, char *err, size_t errlen)
{
	struct buf b = BUF_INIT;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fsutil_read_all(fd, &b, PRIVMSG_PAYLOAD_MAX) < 0) {
		if (errno == EFBIG)
			snprintf(err, errlen, "%s %s: larger than %d octets",
			    what, path, PRIVMSG_PAYLOAD_MAX);
		else
			snprintf(err, errlen, "cannot read %s %s: %s", what,
			    path, strerror(errno));
		if (fd >= 0)
			close(fd);
		buf_free(&b);
		return -1;
	}
	close(fd);
	*outlen = b.len;
	*out = (unsigned char *)buf_steal(&b);
	return 0;
}

/* The key at key_path, checked against the leaf of the chain in pem. */
static EVP_PKEY *
keyholder_load_key(const char *key_path, const char *cert_path,
    const unsigned char *pem, size_t pemlen, char *err, size_t errlen)
{
	EVP_PKEY *pkey = NULL, *pub;
	X509 *leaf = NULL;
	BIO *bio;
	FILE *f;

	if ((bio = BIO_new_mem_buf(pem, (int)pemlen)) != NULL)
		leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (leaf == NULL) {
		keyholder_openssl_err(err, errlen, "cannot load certificate "
		    "chain from", cert_path);
		return NULL;
	}
	if ((f = fopen(key_path, "r")) == NULL) {
		snprintf(err, errlen, "cannot read private key %s: %s",
		    key_path, strerror(errno));
		X509_free(leaf);
		return NULL;
	}
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (pkey == NULL) {
		keyholder_openssl_err(err, errlen, "cannot load private key "
		    "from", key_path);
	} else if ((pub = X509_get0_pubkey(leaf)) == NULL ||
	    EVP_PKEY_eq(pkey, pub) != 1) {
		snprintf(err, errlen, "private key %s does not match "
		    "certificate %s", key_path, cert_path);
		EVP_PKEY_free(pkey);
		pkey = NULL;
	} else if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA &&
	    EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC) {
		snprintf(err, errlen, "private key %s: only RSA and ECDSA "
		    "keys are supported", key_path);
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	ERR_clear_error();
	X509_free(leaf);
	return pkey;
}

static struct keyholder_key *
keyholder_slot(struct keyholder *kh, uint32_t handle)
{
	size_t i;

	for (i = 0; i < KEYHOLDER_MAX_KEYS; i++)
		if ((handle == 0) == (kh->keys[i].pkey == NULL) &&
		    (handle == 0 || kh->keys[i].handle == handle))
			return &kh->keys[i];
	return NULL;
}

/*
 * The current TLS pair: the chain's PEM in *pem and the key in a slot
 * (*handle). -1 with a reason in err.
 */
static int
keyholder_load(struct keyholder *kh, unsigned char **pem, size_t *pemlen,
    uint32_t *handle, char *err, size_t errlen)
{
	char cert[PATH_MAX], key[PATH_MAX];
	struct keyholder_key *slot;
	EVP_PKEY *pkey;

	if (kh->files(keyholder_config(kh), cert, key, sizeof(cert), err,
	    errlen) == -1)
		return -1;
	if ((slot = keyholder_slot(kh, 0)) == NULL) {
		snprintf(err, errlen, "too many keys in use");
		return -1;
	}
	if (keyholder_read_file(cert, "certificate", pem, pemlen, err,
	    errlen) == -1)
		return -1;
	if ((pkey = keyholder_load_key(key, cert, *pem, *pemlen, err,
	    errlen)) == NULL) {
		free(*pem);
		return -1;
	}
	slot->pkey = pkey;
	slot->handle = kh->next_handle++;
	if (kh->next_handle == 0)
		kh->next_handle = 1;
	*handle = slot->handle;
	return 0;
}

int
keyholder_check(struct keyholder *kh, char *err, size_t errlen)
{
	unsigned char *pem;
	size_t pemlen;
	uint32_t handle;

	if (keyholder_load(kh, &pem, &pemlen, &handle, err, errlen) == -1)
		return -1;
	free(pem);
	EVP_PKEY_free(keyholder_slot(kh, handle)->pkey);
	keyholder_slot(kh, handle)->pkey = NULL;
	return 0;
}

/* ---- requests ------------------------------------------------------- */

static int
keyholder_error(int fd, const char *err)
{
	return privsep_send(fd, PRIVMSG_ERROR, 0, err, strlen(err));
}

static int
keyholder_on_tls(struct keyholder *kh, int fd)
{
	char err[PRIVSEP_ERR_MAX];
	unsigned char *pem;
	size_t pemlen;
	uint32_t handle;
	int rc;

	if (keyholder_load(kh, &pem, &pemlen, &handle, err,
	    sizeof(err)) == -1)
		return keyholder_error(fd, err);
	rc = privsep_send(fd, PRIVMSG_TLS_IDENT, handle, pem, pemlen);
	free(pem);
	return rc;
}

/*
 * The config file again, as text for the child, and parsed here for the
 * TLS pair it names. A file that does not parse still goes to the child
 * (which logs its errors and keeps running as it is); this side keeps
 * the pair of the last good one. The running data directory and
 * hostname stay: changing them needs a restart.
 */
static int
keyholder_on_config(struct keyholder *kh, int fd)
{
	struct config_errors errs = { NULL, 0 };
	char err[PRIVSEP_ERR_MAX];
	unsigned char *text;
	struct config *cfg;
	size_t len;
	int rc;

	if (kh->started->path[0] == '\0')
		return privsep_send(fd, PRIVMSG_CONFIG_TEXT, 0, NULL, 0);
	if (keyholder_read_file(kh->started->path, "config file", &text,
	    &len, err, sizeof(err)) == -1)
		return keyholder_error(fd, err);
	if ((cfg = calloc(1, sizeof(*cfg))) != NULL) {
		config_defaults(cfg);
		if (config_load_string(cfg, (const char *)text, len,
		    kh->started->path, &errs) == 0) {
			snprintf(cfg->data_dir, sizeof(cfg->data_dir), "%s",
			    kh->started->data_dir);
			snprintf(cfg->hostname, sizeof(cfg->hostname), "%s",
			    kh->started->hostname);
			if (kh->current != NULL) {
				config_free(kh->current);
				free(kh->current);
			}
			kh->current = cfg;
			cfg = NULL;
		}
		config_errors_free(&errs);
		if (cfg != NULL) {
			config_free(cfg);
			free(cfg);
		}
	}
	rc = privsep_send(fd, PRIVMSG_CONFIG_TEXT, 1, text, len);
	free(text);
	return rc;
}

/* The private-key operation itself; the answer's length in *outlen. */
static int
keyholder_sign(EVP_PKEY *pkey, enum privmsg_op op, const unsigned char *in,
    size_t inlen, unsigned char *out, size_t *outlen)
{
	EVP_PKEY_CTX *ctx;
	int ok;

	if ((ctx = EVP_PKEY_CTX_new(pkey, NULL)) == NULL)
		return -1;
	ok = EVP_PKEY_sign_init(ctx) == 1;
	if (ok && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA)
		ok = op != PRIVMSG_OP_ECDSA &&
		    EVP_PKEY_CTX_set_rsa_padding(ctx,
		    op == PRIVMSG_OP_RSA_PKCS1 ? RSA_PKCS1_PADDING :
		    RSA_NO_PADDING) == 1;
	else if (ok)
		ok = op == PRIVMSG_OP_ECDSA;
	ok = ok && EVP_PKEY_sign(ctx, out, outlen, in, inlen) == 1;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ok ? 0 : -1;
}

static int
keyholder_on_sign(struct keyholder *kh, int fd, const struct privmsg *m)
{
	unsigned char out[PRIVMSG_SIGN_MAX];
	size_t outlen = sizeof(out), inlen;
	const unsigned char *in;
	struct keyholder_key *k;
	enum privmsg_op op;

	if (privmsg_parse_sign(m, &op, &in, &inlen) == -1)
		return keyholder_error(fd, "malformed signing request");
	if (m->arg == 0 || (k = keyholder_slot(kh, m->arg)) == NULL)
		return keyholder_error(fd, "no such key");
	if (EVP_PKEY_get_size(k->pkey) > (int)sizeof(out) ||
	    keyholder_sign(k->pkey, op, in, inlen, out, &outlen) == -1)
		return keyholder_error(fd, "signing failed");
	return privsep_send(fd, PRIVMSG_SIGNATURE, 0, out, outlen);
}

static int
keyholder_on_forget(struct keyholder *kh, int fd, uint32_t handle)
{
	struct keyholder_key *k;

	if (handle != 0 && (k = keyholder_slot(kh, handle)) != NULL) {
		EVP_PKEY_free(k->pkey);
		k->pkey = NULL;
	}
	return privsep_send(fd, PRIVMSG_DONE, 0, NULL, 0);
}

int
keyholder_serve(struct keyholder *kh, int fd)
{
	struct privmsg m;
	unsigned char *buf = NULL;
	int rc;

	if ((rc = privsep_recv(fd, &m, &buf)) != 0)
		return rc;
	switch (m.type) {
	case PRIVMSG_CONFIG:
		rc = keyholder_on_config(kh, fd);
		break;
	case PRIVMSG_TLS:
		rc = keyholder_on_tls(kh, fd);
		break;
	case PRIVMSG_SIGN:
		rc = keyholder_on_sign(kh, fd, &m);
		break;
	case PRIVMSG_FORGET:
		rc = keyholder_on_forget(kh, fd, m.arg);
		break;
	default:
		log_warn("privsep.request", "type=%s result=refused",
		    privmsg_type_name(m.type));
		rc = keyholder_error(fd, "unexpected request");
		break;
	}
	free(buf);
	return rc;
}

void
keyholder_free(struct keyholder *kh)
{
	size_t i;

	if (kh == NULL)
		return;
	for (i = 0; i < KEYHOLDER_MAX_KEYS; i++)
		EVP_PKEY_free(kh->keys[i].pkey);
	if (kh->current != NULL) {
		config_free(kh->current);
		free(kh->current);
	}
	free(kh);
}
