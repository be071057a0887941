/*
 * cli_msg — what the commands that read a message share (`netjes dkim`,
 * `netjes arc`, `netjes auth`): the message on stdin with its line ends
 * made CRLF, the signed result written back in the input's style, the
 * signing key and algorithm options, and a DKIM verification of the
 * whole message over a cli_resolver.
 *
 * Files saved by Unix tools have bare LF line ends; mail on the wire has
 * CRLF, and that is what signatures cover. So every bare LF is read as
 * CRLF, and a message that came with LF line ends only leaves with LF
 * line ends (the new fields too).
 */
#ifndef NETJES_CLI_CLI_MSG_H
#define NETJES_CLI_CLI_MSG_H

#include <stdbool.h>
#include <time.h>

#include <openssl/evp.h>

#include "auth/common/dkim.h"
#include "auth/dkim/dkim_verify.h"
#include "cli/cli.h"
#include "core/buf.h"

/*
 * Read stdin into raw (as it came) and msg (CRLF; data never NULL); raw
 * may be NULL when the caller needs only msg. *unix_lf (may be NULL):
 * the input had a bare LF and no CRLF at all. 0, or -1 after "netjes
 * CMD: cannot read the message: ..." on stderr.
 */
int	cli_msg_read(const char *cmd, struct buf *raw, struct buf *msg,
	    bool *unix_lf);

/* Bare LF becomes CRLF; true when the input was a Unix text file. */
bool	cli_msg_crlf(const struct buf *in, struct buf *out);

/*
 * Write fields (CRLF-terminated header fields to put on top) and the
 * message to stdout: with LF line ends and the raw input when unix_lf,
 * else with CRLF and msg. CLI_EXIT_OK, or CLI_EXIT_FAIL when stdout
 * cannot take it.
 */
int	cli_msg_write(const struct buf *fields, const struct buf *raw,
	    const struct buf *msg, bool unix_lf);

/* The private key in a PEM file; NULL after "netjes CMD: why". */
EVP_PKEY *cli_msg_key(const char *cmd, const char *path);

/* --algorithm for signing: rsa-sha256 or ed25519-sha256; else a usage
 * message and CLI_EXIT_USAGE. */
int	cli_msg_sign_alg(const char *cmd, const char *arg, enum dkim_alg *);

/*
 * Verify every DKIM signature of msg as of now (0: the real time), with
 * the keys looked up through res when the message needs any. NULL when
 * the resolver could not be set up (a message was printed); else the
 * verifier, finished or not (dkim_verify_keys_done() tells), for the
 * caller to read and free.
 */
struct dkim_verify *cli_msg_dkim(const struct buf *msg, time_t now,
	    struct cli_resolver *res);

#endif
