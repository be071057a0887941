/*
 * privmsg — the messages between the unprivileged server and the
 * privileged parent that holds the private keys (privsep.h).
 *
 * A message is a 12-octet header, three unsigned 32-bit integers in
 * network order (type, arg, payload length), then the payload. The
 * server asks, the parent answers, one request at a time:
 *
 *	CONFIG		→ CONFIG_TEXT (the config file's text) or ERROR
 *	TLS		→ TLS_IDENT (arg: key handle; payload: the PEM
 *			  certificate chain) or ERROR
 *	SIGN		arg: key handle; payload: one octet of PRIVMSG_OP_*
 *			then the input → SIGNATURE or ERROR
 *	FORGET		arg: key handle → DONE
 *
 * ERROR carries a sentence for a person. This module is pure: it
 * encodes into a buffer and decodes from one, and never trusts a length
 * it has not checked against PRIVMSG_PAYLOAD_MAX.
 */
#ifndef NETJES_PRIV_PRIVMSG_H
#define NETJES_PRIV_PRIVMSG_H

#include <stddef.h>
#include <stdint.h>

#define PRIVMSG_HEADER_LEN	12
/* The largest payload: a config file or a certificate chain */
#define PRIVMSG_PAYLOAD_MAX	(1024 * 1024)
/* The largest input to one signing operation (an RSA-16384 block) */
#define PRIVMSG_SIGN_MAX	2048

enum privmsg_type {
	PRIVMSG_CONFIG = 1,
	PRIVMSG_CONFIG_TEXT,
	PRIVMSG_TLS,
	PRIVMSG_TLS_IDENT,
	PRIVMSG_SIGN,
	PRIVMSG_SIGNATURE,
	PRIVMSG_FORGET,
	PRIVMSG_DONE,
	PRIVMSG_ERROR,
};

/* What a SIGN asks for: the padding an RSA private-key operation uses
 * (the input is already hashed and encoded by OpenSSL), or ECDSA over a
 * digest (the answer is the DER signature). */
enum privmsg_op {
	PRIVMSG_OP_RSA_PKCS1 = 1,
	PRIVMSG_OP_RSA_RAW,
	PRIVMSG_OP_ECDSA,
};

struct privmsg {
	uint32_t		 type;
	uint32_t		 arg;
	const unsigned char	*payload;	/* into the decoded buffer */
	size_t			 len;
};

/* Writes the header for a message into out (PRIVMSG_HEADER_LEN octets).
 * -1 when len is too large. */
int	privmsg_header(unsigned char *out, uint32_t type, uint32_t arg,
	    size_t len);

/*
 * Decodes the header in buf (at least PRIVMSG_HEADER_LEN octets): 0 and
 * the type, arg and payload length in m (payload NULL), or -1 when the
 * type is unknown or the length exceeds PRIVMSG_PAYLOAD_MAX.
 */
int	privmsg_parse_header(const unsigned char *buf, size_t n,
	    struct privmsg *m);

/*
 * A SIGN payload: the operation and its input. 0, or -1 when the
 * payload is empty, the operation unknown or the input too long or
 * empty.
 */
int	privmsg_parse_sign(const struct privmsg *m, enum privmsg_op *op,
	    const unsigned char **in, size_t *inlen);

const char *privmsg_type_name(uint32_t type);

#endif
