/*
 * keyholder — the privileged parent's side of privsep (privsep.h): the
 * TLS private keys and the config file, served over the channel.
 *
 * The parent answers requests only for what its own configuration
 * names: TLS gives the certificate chain and a handle to the key of the
 * pair the current config names (the child cannot make root open any
 * other file), SIGN uses a key by handle, CONFIG reads the config file
 * the server was started with and makes its TLS pair current. The
 * private key never leaves this process.
 */
#ifndef NETJES_PRIV_KEYHOLDER_H
#define NETJES_PRIV_KEYHOLDER_H

#include <stddef.h>

#include "core/config.h"

#define KEYHOLDER_MAX_KEYS	16

/* The certificate and key files cfg means (its own, or a default made
 * on demand): 0, or -1 with a reason in err. */
typedef int (*keyholder_files_fn)(const struct config *cfg, char *cert,
    char *key, size_t n, char *err, size_t errlen);

struct keyholder;

/* A key holder for the server started with cfg (copied). NULL when out
 * of memory. */
struct keyholder *keyholder_new(const struct config *cfg,
	    keyholder_files_fn files);

/* Load the current TLS pair once and forget it: 0, or -1 with a reason
 * in err (a check; the server lets the child's first TLS request find
 * a bad pair, so that no key is read before the fork). */
int	keyholder_check(struct keyholder *, char *err, size_t errlen);

/* Answer one request that arrived on fd: 0 answered, 1 end of file,
 * -1 the channel failed. */
int	keyholder_serve(struct keyholder *, int fd);

void	keyholder_free(struct keyholder *);

#endif
