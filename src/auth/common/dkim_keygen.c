/*
 * dkim_keygen — DKIM key generation, storage and publication. See
 * dkim_keygen.h.
 */
#include "core/reason.h"
#include "auth/common/dkim_keygen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/base64.h"

#define KEYFILE_MAX	(64 * 1024)

EVP_PKEY *
dkim_keygen_new(enum dkim_key_type type, int bits, char *why, size_t whylen)
{
	EVP_PKEY *pk;

	if (type == DKIM_KEY_ED25519)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else {
		if (bits == 0)
			bits = 2048;
		if (bits < 1024 || bits > 8192) {
			reason_set(why, whylen, "RSA keys must have 1024 to 8192 "
			    "bits (2048 or more recommended)");
			return NULL;
		}
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	}
	if (pk == NULL)
		reason_set(why, whylen, "key generation failed");
	ERR_clear_error();
	return pk;
}

int
dkim_keygen_write(EVP_PKEY *pk, const char *path, char *why, size_t whylen)
{
	BIO *mem;
	char *data;
	long len;
	ssize_t w;
	size_t off = 0;
	int fd, rc = -1;

	mem = BIO_new(BIO_s_mem());
	if (mem == NULL || PEM_write_bio_PrivateKey(mem, pk, NULL, NULL, 0,
	    NULL, NULL) != 1) {
		reason_set(why, whylen, "cannot encode the private key");
		BIO_free(mem);
		ERR_clear_error();
		return -1;
	}
	len = BIO_get_mem_data(mem, &data);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		reason_set(why, whylen, "%s: %s", path, strerror(errno));
		BIO_free(mem);
		return -1;
	}
	if (fchmod(fd, 0600) != 0)
		goto fail;
	while (off < (size_t)len) {
		w = write(fd, data + off, (size_t)len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	BIO_free(mem);
	return 0;
fail:
	reason_set(why, whylen, "%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(path);
	BIO_free(mem);
	return rc;
}

EVP_PKEY *
dkim_keygen_load_mem(const char *p, size_t n, char *why, size_t whylen)
{
	struct buf raw = BUF_INIT;
	EVP_PKEY *pk = NULL;
	BIO *mem;

	mem = BIO_new_mem_buf(p, (int)n);
	if (mem != NULL)
		pk = PEM_read_bio_PrivateKey(mem, NULL, NULL, NULL);
	BIO_free(mem);
	ERR_clear_error();
	if (pk != NULL)
		return pk;
	/* A bare base64 Ed25519 seed (RFC 8463 examples, dkimpy). */
	if (base64_decode(p, n, BASE64_IGNORE_WS, &raw) == 0 && raw.len == 32)
		pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
		    (const unsigned char *)raw.data, raw.len);
	buf_free(&raw);
	ERR_clear_error();
	if (pk == NULL)
		reason_set(why, whylen, "not a PEM private key nor a base64 "
		    "Ed25519 seed");
	return pk;
}

EVP_PKEY *
dkim_keygen_load(const char *path, char *why, size_t whylen)
{
	char buf[KEYFILE_MAX];
	size_t n = 0;
	ssize_t r;
	EVP_PKEY *pk;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		reason_set(why, whylen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	while (n < sizeof(buf)) {
		r = read(fd, buf + n, sizeof(buf) - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n == sizeof(buf)) {
		reason_set(why, whylen, "%s: too large for a key file", path);
		return NULL;
	}
	pk = dkim_keygen_load_mem(buf, n, why, whylen);
	OPENSSL_cleanse(buf, sizeof(buf));
	return pk;
}

int
dkim_keygen_txt(EVP_PKEY *pk, struct buf *out)
{
	unsigned char raw[64], *der = NULL;
	size_t rawlen = sizeof(raw);
	int len;

	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_ED25519) {
		if (EVP_PKEY_get_raw_public_key(pk, raw, &rawlen) != 1)
			return -1;
		buf_append_str(out, "v=DKIM1; k=ed25519; p=");
		base64_encode(raw, rawlen, out);
		return 0;
	}
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA)
		return -1;
	len = i2d_PUBKEY(pk, &der);
	if (len <= 0)
		return -1;
	buf_append_str(out, "v=DKIM1; k=rsa; p=");
	base64_encode(der, (size_t)len, out);
	OPENSSL_free(der);
	return 0;
}

void
dkim_keygen_txt_strings(const char *txt, size_t n, struct buf *out)
{
	size_t i, chunk;

	for (i = 0; i < n || i == 0; i += chunk) {
		chunk = n - i > 255 ? 255 : n - i;
		if (i > 0)
			buf_append_char(out, ' ');
		buf_append_char(out, '"');
		for (size_t k = 0; k < chunk; k++) {
			if (txt[i + k] == '"' || txt[i + k] == '\\')
				buf_append_char(out, '\\');
			buf_append_char(out, txt[i + k]);
		}
		buf_append_char(out, '"');
		if (n == 0)
			break;
	}
}
