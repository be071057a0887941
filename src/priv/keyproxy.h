/*
 * keyproxy — the unprivileged server's side of privsep (privsep.h).
 *
 * The server holds no private key. keyproxy_tls() asks the parent for
 * the certificate chain and a key handle and loads an SSL_CTX with the
 * chain and a proxy key: an RSA or EC key with the public half of the
 * certificate and a method whose private-key operation is a SIGN
 * request to the parent. When OpenSSL frees the proxy (the context it
 * was in is gone), the parent is told to forget the key.
 *
 * Requests are blocking round trips on the channel, one at a time (a
 * mutex serializes threads). A TLS handshake's signature costs one
 * round trip on top of the operation itself.
 */
#ifndef NETJES_PRIV_KEYPROXY_H
#define NETJES_PRIV_KEYPROXY_H

#include <stddef.h>

#include <openssl/ssl.h>

struct keyproxy;

/* The proxy on the child's end of the channel (fd is owned after). */
struct keyproxy *keyproxy_new(int fd);

/* The parent's certificate chain and proxy key into ctx: 0, or -1 with
 * a reason (the parent's, when it refused) in err. */
int	keyproxy_tls(struct keyproxy *, SSL_CTX *ctx, char *err,
	    size_t errlen);

/* The config file's text for a reload (*text malloc'ed, NUL-terminated;
 * *embedded set when the server runs on the embedded default): 0, or -1
 * with a reason in err. */
int	keyproxy_config(struct keyproxy *, char **text, size_t *len,
	    int *embedded, char *err, size_t errlen);

/* Closes the channel; proxy keys still alive fail from then on. */
void	keyproxy_free(struct keyproxy *);

#endif
