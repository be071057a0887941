/*
 * tls — server TLS contexts and the self-signed default. See tls.h.
 *
 * Two halves. The context half turns a certificate chain and a key into
 * an SSL_CTX with netjes' policy, and keeps the current one in a
 * tls_server so SIGHUP can swap in a fresh one. The self-signed half
 * makes a first start work without any TLS setup: an EC P-256 key and a
 * ten-year certificate for the configured hostname, stored under
 * DATA_DIR/tls/ with the usual write-fsync-rename discipline, so a crash
 * never leaves a half-written key behind.
 *
 * A third, small part closes connections (tls_server_close()): a closing
 * connection lingers, owned by the tls_server, until its last records
 * are in the kernel, so tls_server_free() can end the stragglers.
 *
 * The private key is read by the process that also talks to the network;
 * moving it into a separate signing process (OpenSMTPD's ca) is later work.
 */
#include "smtp/tls.h"

#include "priv/keyproxy.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/fsutil.h"
#include "core/ip.h"

/*
 * TLS 1.2: forward-secret AEAD suites only (Mozilla's "intermediate"
 * list), ECDSA and RSA certificates both work. TLS 1.3 uses OpenSSL's
 * default suites, which are all AEAD.
 */
#define TLS_CIPHERS_TLS12 \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
	"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384"

/* X.509 limits a commonName to 64 characters; the SAN carries the name. */
#define TLS_CN_MAX	64

/* A connection on its way out: see tls_server_close(). */
struct tls_closer {
	struct bufferevent		*bev;	/* the TLS bufferevent */
	struct evbuffer			*wire;	/* what still goes to the socket */
	struct evbuffer_cb_entry	*watch;	/* on wire, NULL when unused */
	struct event			*done;	/* flushed, gone or timed out */
	struct tls_server		*owner;
	LIST_ENTRY(tls_closer)		 entry;
};

struct tls_server {
	SSL_CTX		*ctx;
	struct keyproxy	*keys;		/* borrowed: the server's */
	LIST_HEAD(, tls_closer) closing;
	size_t	 nclosing;
};

/* Put "what: OpenSSL's reason" into err and empty OpenSSL's queue. */
static void
tls_err_openssl(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;

	snprintf(err, errlen, "%s: %s", what,
	    reason != NULL ? reason : "unknown OpenSSL error");
	ERR_clear_error();
}

/* ---- contexts ---------------------------------------------------- */

static int
tls_ctx_policy(SSL_CTX *ctx, char *err, size_t errlen)
{
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		tls_err_openssl(err, errlen, "cannot require TLS 1.2");
		return -1;
	}
	if (SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS_TLS12) != 1) {
		tls_err_openssl(err, errlen, "cannot set the cipher list");
		return -1;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_dh_auto(ctx, 1);
	/* idle SMTP sessions are common: give their buffers back */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return 0;
}

/* A server context with our policy, empty; NULL with a reason. */
static SSL_CTX *
tls_ctx_empty(char *err, size_t errlen)
{
	SSL_CTX *ctx;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_err_openssl(err, errlen, "cannot create a TLS context");
		return NULL;
	}
	if (tls_ctx_policy(ctx, err, errlen) == -1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* A server context with the policy and the key holder's identity. */
static SSL_CTX *
tls_ctx_proxied(struct keyproxy *keys, char *err, size_t errlen)
{
	SSL_CTX *ctx = tls_ctx_empty(err, errlen);

	if (ctx != NULL && keyproxy_tls(keys, ctx, err, errlen) == -1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

struct tls_server *
tls_server_new(struct keyproxy *keys, char *err, size_t errlen)
{
	struct tls_server *t;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->keys = keys;
	LIST_INIT(&t->closing);
	if ((t->ctx = tls_ctx_proxied(keys, err, errlen)) == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

SSL_CTX *
tls_server_ctx(const struct tls_server *t)
{
	return t->ctx;
}

int
tls_server_reload(struct tls_server *t, char *err, size_t errlen)
{
	SSL_CTX *fresh;

	if ((fresh = tls_ctx_proxied(t->keys, err, errlen)) == NULL)
		return -1;
	/* sessions still using the old context hold their own reference;
	 * the old proxy key (and the parent's key) goes with the last */
	SSL_CTX_free(t->ctx);
	t->ctx = fresh;
	return 0;
}

/* ---- closing a connection ------------------------------------------ */

static void
tls_closer_free(struct tls_closer *c)
{
	LIST_REMOVE(c, entry);
	c->owner->nclosing--;
	if (c->watch != NULL)
		evbuffer_remove_cb_entry(c->wire, c->watch);
	if (c->done != NULL)
		event_free(c->done);
	/* BEV_OPT_CLOSE_ON_FREE: the SSL, a filter's plain bufferevent
	 * and the socket go with it */
	bufferevent_free(c->bev);
	ERR_clear_error();
	free(c);
}

static void
tls_closer_on_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	tls_closer_free(arg);
}

/* The socket took bytes from the wire buffer: all of them yet? This runs
 * inside libevent's write path, so the free waits for the loop. */
static void
tls_closer_on_wire(struct evbuffer *wire, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct tls_closer *c = arg;

	if (info->n_deleted > 0 && evbuffer_get_length(wire) == 0)
		event_active(c->done, EV_WRITE, 0);
}

/* EOF, an error or a timeout: nothing more will reach the peer. */
static void
tls_closer_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct tls_closer *c = arg;

	(void)bev;
	(void)what;
	event_active(c->done, EV_READ, 0);
}

/* The buffer whose bytes still have to reach the socket: a filter's
 * plain bufferevent holds the records; implicit TLS writes directly. */
static struct evbuffer *
tls_close_wire(struct bufferevent *bev)
{
	struct bufferevent *under = bufferevent_get_underlying(bev);

	return under != NULL ? bufferevent_get_output(under) : NULL;
}

/*
 * close_notify goes out only after a finished handshake and when no
 * plaintext waits in bev's own output (it would come after the alert).
 * A filter puts the alert into the wire buffer; implicit TLS writes it
 * straight to the socket.
 */
static void
tls_close_notify(struct bufferevent *bev)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);

	if (ssl != NULL && SSL_is_init_finished(ssl) &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		(void)SSL_shutdown(ssl);
	ERR_clear_error();
}

void
tls_server_close(struct tls_server *t, struct bufferevent *bev)
{
	struct timeval linger = { TLS_CLOSE_LINGER, 0 };
	struct evbuffer *wire;
	struct tls_closer *c;

	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	bufferevent_disable(bev, EV_READ);
	tls_close_notify(bev);
	wire = tls_close_wire(bev);
	if (wire == NULL || evbuffer_get_length(wire) == 0 ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		bufferevent_free(bev);
		ERR_clear_error();
		return;
	}
	c->bev = bev;
	c->wire = wire;
	c->owner = t;
	LIST_INSERT_HEAD(&t->closing, c, entry);
	t->nclosing++;
	c->done = event_new(bufferevent_get_base(bev), -1, 0,
	    tls_closer_on_done, c);
	c->watch = evbuffer_add_cb(wire, tls_closer_on_wire, c);
	if (c->done == NULL || c->watch == NULL ||
	    event_add(c->done, &linger) == -1) {
		tls_closer_free(c);
		return;
	}
	bufferevent_setcb(bev, NULL, NULL, tls_closer_on_event, c);
}

size_t
tls_server_nclosing(const struct tls_server *t)
{
	return t->nclosing;
}

void
tls_server_free(struct tls_server *t)
{
	if (t == NULL)
		return;
	while (!LIST_EMPTY(&t->closing))
		tls_closer_free(LIST_FIRST(&t->closing));
	SSL_CTX_free(t->ctx);
	free(t);
}

/* ---- the self-signed default ------------------------------------- */

/* A subjectAltName of one entry: iPAddress for a literal, else dNSName. */
static int
tls_cert_add_san(X509 *x, const char *hostname)
{
	GENERAL_NAMES *names;
	GENERAL_NAME *gn;
	ASN1_OCTET_STRING *ip;
	ASN1_IA5STRING *dns;
	struct ip_addr addr;
	int ok = 0;

	if ((names = sk_GENERAL_NAME_new_null()) == NULL)
		return -1;
	if ((gn = GENERAL_NAME_new()) == NULL)
		goto done;
	if (ip_parse(hostname, strlen(hostname), &addr) == 0) {
		if ((ip = a2i_IPADDRESS(hostname)) == NULL) {
			GENERAL_NAME_free(gn);
			goto done;
		}
		GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
	} else {
		if ((dns = ASN1_IA5STRING_new()) == NULL ||
		    ASN1_STRING_set(dns, hostname, -1) != 1) {
			ASN1_IA5STRING_free(dns);
			GENERAL_NAME_free(gn);
			goto done;
		}
		GENERAL_NAME_set0_value(gn, GEN_DNS, dns);
	}
	if (sk_GENERAL_NAME_push(names, gn) == 0) {
		GENERAL_NAME_free(gn);
		goto done;
	}
	ok = X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0,
	    X509V3_ADD_DEFAULT) == 1;
done:
	GENERAL_NAMES_free(names);
	return ok ? 0 : -1;
}

/* The fixed extensions of a server certificate. */
static int
tls_cert_add_extensions(X509 *x)
{
	static const struct {
		int		 nid;
		const char	*value;
	} exts[] = {
		{ NID_basic_constraints, "critical,CA:FALSE" },
		{ NID_key_usage, "critical,digitalSignature" },
		{ NID_ext_key_usage, "serverAuth" },
		{ NID_subject_key_identifier, "hash" },
	};
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	size_t i;

	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	for (i = 0; i < sizeof(exts) / sizeof(*exts); i++) {
		ext = X509V3_EXT_nconf_nid(NULL, &v3, exts[i].nid,
		    exts[i].value);
		if (ext == NULL)
			return -1;
		if (X509_add_ext(x, ext, -1) != 1) {
			X509_EXTENSION_free(ext);
			return -1;
		}
		X509_EXTENSION_free(ext);
	}
	return 0;
}

static int
tls_cert_set_serial(X509 *x)
{
	BIGNUM *bn;
	int ok;

	if ((bn = BN_new()) == NULL)
		return -1;
	/* 127 random bits: positive, unique enough, within RFC 5280's 20 octets */
	ok = BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -1;
}

static int
tls_cert_set_names(X509 *x, const char *hostname)
{
	X509_NAME *name = X509_get_subject_name(x);
	const char *cn = strlen(hostname) <= TLS_CN_MAX ? hostname : "netjes";

	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) != 1)
		return -1;
	return X509_set_issuer_name(x, name) == 1 ? 0 : -1;
}

static X509 *
tls_cert_make(EVP_PKEY *key, const char *hostname)
{
	X509 *x;

	if ((x = X509_new()) == NULL)
		return NULL;
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    tls_cert_set_serial(x) == -1 ||
	    /* an hour of slack for clients whose clock runs behind */
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), TLS_SELFSIGNED_DAYS, 0,
	    NULL) == NULL ||
	    X509_set_pubkey(x, key) != 1 ||
	    tls_cert_set_names(x, hostname) == -1 ||
	    tls_cert_add_san(x, hostname) == -1 ||
	    tls_cert_add_extensions(x) == -1 ||
	    X509_sign(x, key, EVP_sha256()) == 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* dir/name := data, via a temporary file, fsync and rename. */
static int
tls_write_atomic(const char *dir, const char *name, const char *data,
    size_t len, mode_t mode, char *err, size_t errlen)
{
	char tmp[PATH_MAX], final[PATH_MAX];
	int fd, saved;

	if (snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >=
	    (int)sizeof(tmp) ||
	    snprintf(final, sizeof(final), "%s/%s", dir, name) >=
	    (int)sizeof(final)) {
		snprintf(err, errlen, "path too long under %s", dir);
		return -1;
	}
	/* mkstemp creates the file 0600, so a key is never readable */
	if ((fd = mkstemp(tmp)) == -1) {
		snprintf(err, errlen, "cannot create %s: %s", tmp,
		    strerror(errno));
		return -1;
	}
	if (fchmod(fd, mode) == -1 || fsutil_write_all(fd, data, len) == -1 ||
	    fsync(fd) == -1) {
		saved = errno;
		close(fd);
		unlink(tmp);
		snprintf(err, errlen, "cannot write %s: %s", tmp,
		    strerror(saved));
		return -1;
	}
	if (close(fd) == -1 || rename(tmp, final) == -1) {
		saved = errno;
		unlink(tmp);
		snprintf(err, errlen, "cannot write %s: %s", final,
		    strerror(saved));
		return -1;
	}
	return 0;
}

static int
tls_fsync_dir(const char *dir, char *err, size_t errlen)
{
	int fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "cannot open %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	rc = fsync(fd);
	if (rc == -1)
		snprintf(err, errlen, "cannot fsync %s: %s", dir,
		    strerror(errno));
	close(fd);
	return rc;
}

/* Write the PEM text collected in mem to dir/name with mode. */
static int
tls_write_pem(const char *dir, const char *name, mode_t mode, BIO *mem,
    char *err, size_t errlen)
{
	char *data;
	long len;

	len = BIO_get_mem_data(mem, &data);
	if (len <= 0) {
		snprintf(err, errlen, "cannot encode %s", name);
		return -1;
	}
	return tls_write_atomic(dir, name, data, (size_t)len, mode, err,
	    errlen);
}

/*
 * Key first, certificate last: the certificate's presence is what marks
 * a finished pair, so a crash in between only causes a regeneration.
 */
static int
tls_selfsigned_write(const char *dir, EVP_PKEY *key, X509 *x, char *err,
    size_t errlen)
{
	BIO *kmem, *cmem;
	int rc = -1;

	kmem = BIO_new(BIO_s_secmem());
	cmem = BIO_new(BIO_s_mem());
	if (kmem == NULL || cmem == NULL ||
	    PEM_write_bio_PrivateKey(kmem, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_X509(cmem, x) != 1) {
		tls_err_openssl(err, errlen, "cannot encode the key pair");
		goto done;
	}
	if (tls_write_pem(dir, TLS_SELFSIGNED_KEY, 0600, kmem, err,
	    errlen) == -1 ||
	    tls_write_pem(dir, TLS_SELFSIGNED_CERT, 0644, cmem, err,
	    errlen) == -1 ||
	    tls_fsync_dir(dir, err, errlen) == -1)
		goto done;
	rc = 0;
done:
	BIO_free(kmem);
	BIO_free(cmem);
	return rc;
}

static int
tls_selfsigned_generate(const char *dir, const char *hostname, char *err,
    size_t errlen)
{
	EVP_PKEY *key;
	X509 *x;
	int rc;

	ERR_clear_error();
	if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL) {
		tls_err_openssl(err, errlen, "cannot generate an EC P-256 key");
		return -1;
	}
	if ((x = tls_cert_make(key, hostname)) == NULL) {
		tls_err_openssl(err, errlen,
		    "cannot build the self-signed certificate");
		EVP_PKEY_free(key);
		return -1;
	}
	rc = tls_selfsigned_write(dir, key, x, err, errlen);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

static int
tls_is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The stored certificate still names hostname (the config may change). */
static int
tls_cert_matches(const char *cert_path, const char *hostname)
{
	struct ip_addr addr;
	X509 *x = NULL;
	FILE *f;
	int ok;

	if ((f = fopen(cert_path, "r")) == NULL)
		return 0;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL) {
		ERR_clear_error();
		return 0;
	}
	if (ip_parse(hostname, strlen(hostname), &addr) == 0)
		ok = X509_check_ip_asc(x, hostname, 0) == 1;
	else
		ok = X509_check_host(x, hostname, 0,
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
	X509_free(x);
	ERR_clear_error();
	return ok;
}

int
tls_selfsigned_ensure(const char *data_dir, const char *hostname,
    char *cert_out, char *key_out, size_t outlen, int *created, char *err,
    size_t errlen)
{
	char dir[PATH_MAX];

	if (created != NULL)
		*created = 0;
	if (snprintf(dir, sizeof(dir), "%s/%s", data_dir,
	    TLS_SELFSIGNED_DIR) >= (int)sizeof(dir) ||
	    snprintf(cert_out, outlen, "%s/%s", dir, TLS_SELFSIGNED_CERT) >=
	    (int)outlen ||
	    snprintf(key_out, outlen, "%s/%s", dir, TLS_SELFSIGNED_KEY) >=
	    (int)outlen) {
		snprintf(err, errlen, "data directory path too long: %s",
		    data_dir);
		return -1;
	}
	if (fsutil_mkdir_p(dir, 0700, 0, NULL, 0) == -1) {
		snprintf(err, errlen, "cannot create directory %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (tls_is_file(key_out) && tls_is_file(cert_out) &&
	    tls_cert_matches(cert_out, hostname))
		return 0;
	if (tls_selfsigned_generate(dir, hostname, err, errlen) == -1)
		return -1;
	if (created != NULL)
		*created = 1;
	return 0;
}
