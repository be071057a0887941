/*
 * tls — the server side of TLS: OpenSSL 3 contexts for STARTTLS and for
 * implicit TLS (RFC 8314), and the self-signed default certificate.
 *
 * A struct tls_server owns the SSL_CTX that new connections use. Reload
 * (SIGHUP) builds a complete new context from the same files and swaps
 * it in only when it loaded cleanly; connections already open keep the
 * old one alive through OpenSSL's own reference count (SSL_new takes a
 * reference on its SSL_CTX), so nothing is dropped and nothing leaks.
 *
 * Policy: TLS 1.2 at least, forward-secret AEAD ciphers for TLS 1.2 and
 * OpenSSL's TLS 1.3 suites, no compression, no client renegotiation.
 *
 * tls_server_close() ends a connection without losing its last reply:
 * after STARTTLS the TLS records pass through a filter into the plain
 * bufferevent below it, so "the output is empty" on the filter does not
 * mean the bytes reached the socket. The close sends close_notify and
 * frees the connection only once the socket has taken every byte (or
 * after TLS_CLOSE_LINGER seconds).
 *
 * Errors are returned as a result code plus a sentence for a person in
 * the caller's buffer ("cannot read certificate /x.pem: No such file or
 * directory"); this module never logs and never exits.
 */
#ifndef NETJES_SMTP_TLS_H
#define NETJES_SMTP_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

#define TLS_ERR_MAX	512

/* Files of the self-signed default, under DATA_DIR/tls/. */
#define TLS_SELFSIGNED_DIR	"tls"
#define TLS_SELFSIGNED_CERT	"selfsigned.crt"
#define TLS_SELFSIGNED_KEY	"selfsigned.key"
#define TLS_SELFSIGNED_DAYS	3650

/* Seconds a closing connection may take to hand its last bytes over */
#define TLS_CLOSE_LINGER	5

struct bufferevent;
struct keyproxy;
struct tls_server;

/*
 * Make sure DATA_DIR/tls/ holds a self-signed certificate and key for
 * hostname (an IP literal gets an iPAddress SAN, anything else a
 * dNSName), creating them on first use and reusing them afterwards.
 * The directory is made mode 0700, the key 0600; each file is written
 * to a temporary name, fsync'ed and renamed, then the directory is
 * fsync'ed. The paths are written to cert_out and key_out (each of
 * size outlen). Sets *created to 1 when new files were made (may be
 * NULL). Returns 0, or -1 with a reason in err.
 */
int	 tls_selfsigned_ensure(const char *data_dir, const char *hostname,
	    char *cert_out, char *key_out, size_t outlen, int *created,
	    char *err, size_t errlen);

/* A tls_server whose contexts get the certificate chain and a proxy of
 * the private key from the key holder (keyproxy.h); NULL with a reason
 * in err. */
struct tls_server *tls_server_new(struct keyproxy *keys, char *err,
	    size_t errlen);

/* The context new connections should use (borrowed: SSL_new() takes
 * its own reference). */
SSL_CTX	*tls_server_ctx(const struct tls_server *);

/* A new context from the key holder's current pair (which follows the
 * config it read last). 0: in use for new connections; -1: the old one
 * stays, reason in err. */
int	 tls_server_reload(struct tls_server *, char *err, size_t errlen);

/*
 * Take over bev (a TLS bufferevent: implicit TLS, or a STARTTLS filter)
 * and close it: close_notify once the handshake is done and nothing is
 * left unencrypted, then free it when every byte has reached the socket,
 * the peer went away, or TLS_CLOSE_LINGER seconds passed. bev's
 * callbacks are replaced at once, so its owner may go away right after.
 */
void	 tls_server_close(struct tls_server *, struct bufferevent *bev);
/* Connections still closing (tests, shutdown). */
size_t	 tls_server_nclosing(const struct tls_server *);

/* Frees the context and ends any connection still closing. */
void	 tls_server_free(struct tls_server *);

#endif
