/*
 * sasl — the server side of SASL PLAIN (RFC 4616) and LOGIN
 * (draft-murchison-sasl-login) for SMTP AUTH (RFC 4954).
 *
 * A pure state machine: no I/O, no allocation, no globals. The session
 * hands it the mechanism name and the optional initial response of the
 * AUTH command, then every line the client sends (base64 as on the wire,
 * CRLF removed). Each call says what to do next:
 *
 *	SASL_CONTINUE	send "334 " + sasl_challenge() and read one line
 *	SASL_DONE	credentials are in sasl_creds(): verify them, then
 *			send 235 2.7.0 or 535 5.7.8 (the session's job)
 *	SASL_ERROR	send sasl_reply() (a complete reply without CRLF);
 *			the exchange is over, the session stays unauthenticated
 *
 * What it checks: base64 strictly ("=" alone is an empty response, "*"
 * cancels), field lengths (SASL_ID_MAX, SASL_PASS_MAX), UTF-8, no NUL
 * inside a field (PLAIN's two NUL separators only), no control bytes in
 * the identities, a non-empty authcid and password, and an authzid that
 * is empty or equal to the authcid (no proxy authorization).
 *
 * The password lives in the struct: call sasl_clear() when done with it,
 * on every path (it wipes the whole struct with explicit_bzero). The
 * caller should wipe its own copies of the client's lines too.
 */
#ifndef NETJES_SMTP_SASL_H
#define NETJES_SMTP_SASL_H

#include <stdbool.h>
#include <stddef.h>

#define SASL_ID_MAX		320	/* authcid/authzid octets: an address */
#define SASL_PASS_MAX		1024	/* password octets */
/* Longest base64 line accepted (initial response or continuation);
 * RFC 4954 4 allows AUTH command lines of up to 12288 octets. */
#define SASL_LINE_MAX		12288
/* Longest challenge text (base64, without "334 "). */
#define SASL_CHALLENGE_MAX	64

enum sasl_mech {
	SASL_MECH_NONE = 0,
	SASL_MECH_PLAIN,
	SASL_MECH_LOGIN,
};

enum sasl_status {
	SASL_CONTINUE = 0,
	SASL_DONE,
	SASL_ERROR,
};

enum sasl_state {
	SASL_S_IDLE = 0,	/* before sasl_start() or after sasl_clear() */
	SASL_S_PLAIN_RESPONSE,	/* 334 sent, waiting for the PLAIN message */
	SASL_S_LOGIN_USER,	/* "Username:" sent */
	SASL_S_LOGIN_PASS,	/* "Password:" sent */
	SASL_S_DONE,		/* credentials ready */
	SASL_S_FAILED,		/* reply ready */
};

struct sasl_creds {
	char	 authzid[SASL_ID_MAX + 1];	/* "" when not given */
	char	 authcid[SASL_ID_MAX + 1];	/* the user name */
	char	 password[SASL_PASS_MAX + 1];	/* NUL-terminated */
	size_t	 password_len;
};

struct sasl {
	enum sasl_mech		 mech;
	enum sasl_state		 state;
	struct sasl_creds	 creds;
	char			 challenge[SASL_CHALLENGE_MAX + 1];
	const char		*reply;		/* static; set in SASL_S_FAILED */
};

/* Replies this module produces (exact text, no CRLF). */
#define SASL_REPLY_ABORTED	"501 5.7.0 Authentication aborted"
#define SASL_REPLY_BAD_BASE64	"501 5.5.2 Cannot decode base64 response"
#define SASL_REPLY_MALFORMED	"501 5.5.2 Malformed authentication response"
#define SASL_REPLY_TOO_LONG	"500 5.5.6 Authentication exchange line is too long"
#define SASL_REPLY_BAD_UTF8	"501 5.5.2 Authentication response is not valid UTF-8"
#define SASL_REPLY_UNKNOWN_MECH	"504 5.5.4 Unrecognized authentication mechanism"
#define SASL_REPLY_AUTHZID	"535 5.7.8 Authorization identity must be empty or equal the user name"
#define SASL_REPLY_SEQUENCE	"503 5.5.1 No authentication exchange in progress"
/* Replies the session sends around the exchange (RFC 4954 6). */
#define SASL_REPLY_SUCCESS	"235 2.7.0 Authentication successful"
#define SASL_REPLY_BAD_CREDS	"535 5.7.8 Authentication credentials invalid"
#define SASL_REPLY_TEMPFAIL	"454 4.7.0 Temporary authentication failure"
#define SASL_REPLY_NEED_TLS	"538 5.7.11 Encryption required for requested authentication mechanism"

/* "PLAIN" / "LOGIN" (case-insensitive) to the enum; -1 when unknown. */
int		 sasl_mech_parse(const char *s, size_t n, enum sasl_mech *);
const char	*sasl_mech_name(enum sasl_mech);
/* What EHLO advertises: "PLAIN LOGIN". */
#define SASL_MECHS_ADVERTISED	"PLAIN LOGIN"

/*
 * Start an exchange. mech[0..mechlen) is the mechanism as the client
 * wrote it; initial is the initial response (base64, "=" for empty) or
 * NULL when the AUTH command had none. Resets s first, so it may be
 * called on a used struct (it is wiped).
 */
enum sasl_status sasl_start(struct sasl *s, const char *mech, size_t mechlen,
		    const char *initial, size_t initlen);

/* One client line (base64, "*" to cancel), without CRLF. */
enum sasl_status sasl_step(struct sasl *s, const char *line, size_t n);

/* The challenge text to send after "334 " (may be ""), in SASL_CONTINUE. */
const char	*sasl_challenge(const struct sasl *s);
/* The reply to send, in SASL_ERROR. */
const char	*sasl_reply(const struct sasl *s);
/* The credentials, in SASL_DONE; NULL otherwise. */
const struct sasl_creds *sasl_creds(const struct sasl *s);

/* Wipe everything (password included) and return to SASL_S_IDLE. */
void		 sasl_clear(struct sasl *s);

#endif
