/*
 * smtp_cmd — the SMTP command parser and the reply formatter.
 *
 * smtp_cmd_parse() turns one command line (its CRLF already removed by
 * smtp_line) into a struct smtp_cmd: a verb and its parsed arguments, or
 * the exact reply the server must send when the line is wrong (basic and
 * enhanced status code plus text). It is a pure function: no I/O, no
 * allocation, no globals; every string it keeps is copied into the
 * caller's struct, so the line buffer may be reused at once.
 *
 * What it knows of the session comes in through flags: which extensions
 * were announced (a parameter of an extension that is off is refused
 * with 555, as an unknown one) and whether the current transaction is
 * SMTPUTF8. Sequencing (MAIL before RCPT, AUTH only under TLS, ...) and
 * limits (SIZE against the configured maximum) are the session's job.
 *
 * RFC 5321 4.1 (syntax) and 4.2 (replies), RFC 3463 and 2034 (enhanced
 * status codes), RFC 1870 (SIZE), RFC 6152 (8BITMIME), RFC 3030
 * (CHUNKING, BINARYMIME), RFC 3461 (DSN: RET, ENVID, NOTIFY, ORCPT, xtext),
 * RFC 4954 (AUTH command and AUTH= parameter), RFC 6531 (SMTPUTF8).
 */
#ifndef NETJES_SMTP_SMTP_CMD_H
#define NETJES_SMTP_SMTP_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/addr.h"

struct buf;

#define SMTP_LINE_MAX		1000	/* octets with CRLF, RFC 5321 4.5.3.1.4 */
#define SMTP_REPLY_LINE_MAX	512	/* octets with CRLF, RFC 5321 4.5.3.1.5 */
#define SMTP_REPLY_TEXT_MAX	160	/* text of a parser-made reply */
#define SMTP_ENVID_MAX		100	/* RFC 3461 4.4 */
#define SMTP_ORCPT_MAX		500	/* RFC 3461 4.2 */
#define SMTP_AUTH_PARAM_MAX	500	/* decoded AUTH= mailbox */
#define SMTP_AUTH_MECH_MAX	20	/* RFC 4422 3.1 */

enum smtp_verb {
	SMTP_VERB_UNKNOWN = 0,
	SMTP_VERB_HELO,
	SMTP_VERB_EHLO,
	SMTP_VERB_MAIL,
	SMTP_VERB_RCPT,
	SMTP_VERB_DATA,
	SMTP_VERB_BDAT,
	SMTP_VERB_RSET,
	SMTP_VERB_NOOP,
	SMTP_VERB_QUIT,
	SMTP_VERB_HELP,
	SMTP_VERB_VRFY,
	SMTP_VERB_EXPN,
	SMTP_VERB_STARTTLS,
	SMTP_VERB_AUTH,
};

/* Extensions the session announced, and the transaction's SMTPUTF8. */
#define SMTP_EXT_SIZE		0x0001	/* SIZE= on MAIL */
#define SMTP_EXT_8BITMIME	0x0002	/* BODY=7BIT / 8BITMIME */
#define SMTP_EXT_SMTPUTF8	0x0004	/* SMTPUTF8 on MAIL */
#define SMTP_EXT_DSN		0x0008	/* RET, ENVID, NOTIFY, ORCPT */
#define SMTP_EXT_AUTH		0x0010	/* AUTH= on MAIL */
#define SMTP_EXT_BINARYMIME	0x0020	/* BODY=BINARYMIME (needs CHUNKING) */
#define SMTP_EXT_ALL		0x003f
#define SMTP_PARSE_UTF8		0x0100	/* RCPT: the MAIL carried SMTPUTF8 */

/* A reply to send; enhanced is a static string, or NULL for none. */
struct smtp_reply {
	int		 code;
	const char	*enhanced;
	char		 text[SMTP_REPLY_TEXT_MAX];
};

enum smtp_body {
	SMTP_BODY_UNSET = 0,
	SMTP_BODY_7BIT,
	SMTP_BODY_8BITMIME,
	SMTP_BODY_BINARYMIME,
};

enum smtp_dsn_ret {
	SMTP_RET_UNSET = 0,
	SMTP_RET_FULL,
	SMTP_RET_HDRS,
};

/* NOTIFY= bits; 0 when the parameter was not given. */
#define SMTP_NOTIFY_NEVER	0x01
#define SMTP_NOTIFY_SUCCESS	0x02
#define SMTP_NOTIFY_FAILURE	0x04
#define SMTP_NOTIFY_DELAY	0x08

struct smtp_mail_args {
	struct mailaddr	 path;		/* is_null for "<>" */
	bool		 size_given;
	uint64_t	 size;		/* UINT64_MAX when it overflowed */
	enum smtp_body	 body;
	bool		 smtputf8;
	enum smtp_dsn_ret ret;
	bool		 envid_given;
	char		 envid[SMTP_ENVID_MAX + 1];	/* xtext as sent */
	bool		 auth_given;
	bool		 auth_null;	/* AUTH=<> */
	char		 auth[SMTP_AUTH_PARAM_MAX + 1];	/* decoded */
};

struct smtp_rcpt_args {
	struct mailaddr	 path;		/* domain "" for "<postmaster>" */
	unsigned	 notify;	/* SMTP_NOTIFY_* */
	bool		 orcpt_given;
	char		 orcpt_type[SMTP_ORCPT_MAX + 1];	/* "rfc822", ... */
	char		 orcpt_addr[SMTP_ORCPT_MAX + 1];	/* xtext as sent */
};

struct smtp_cmd {
	enum smtp_verb	 verb;
	bool		 http;	/* GET/POST/CONNECT...: a proxy probe, hang up */
	union {
		/* HELO, EHLO: the argument as sent, trailing spaces cut */
		char	 helo[SMTP_LINE_MAX];
		/* NOOP, HELP, VRFY, EXPN: the argument, may be "" */
		char	 text[SMTP_LINE_MAX];
		struct smtp_mail_args mail;
		struct smtp_rcpt_args rcpt;
		struct {
			uint64_t size;
			bool	 last;
		} bdat;
		struct {
			char	 mech[SMTP_AUTH_MECH_MAX + 1];	/* uppercased */
			bool	 has_initial;
			/* base64 as sent; "=" stands for an empty response */
			char	 initial[SMTP_LINE_MAX];
		} auth;
	};
	struct smtp_reply reply;	/* set when smtp_cmd_parse() fails */
};

/*
 * Parses line[0..len) (no CRLF). Returns 0 with cmd filled, or -1 with
 * cmd->reply holding the reply to send; cmd->verb is then the verb when
 * it was recognised (MAIL with a bad path, ...) or SMTP_VERB_UNKNOWN.
 */
int	 smtp_cmd_parse(const char *line, size_t len, unsigned flags,
	    struct smtp_cmd *cmd);

const char *smtp_verb_name(enum smtp_verb);	/* "EHLO", "?" */

/*
 * xtext (RFC 3461 4): "+" followed by two hex digits stands for one
 * octet, every other octet from '!' to '~' but '+' and '=' for itself.
 * Decoding writes s[0..n) into out (NUL-terminated) and returns its
 * length, or -1 when the xtext is malformed, decodes to a NUL or to a
 * control character, or does not fit. Octets >= 0x80 are taken as
 * themselves when utf8 is true (RFC 6533 utf-8-addr-unitext), refused
 * otherwise.
 */
ssize_t	 smtp_xtext_decode(const char *s, size_t n, bool utf8, char *out,
	    size_t outlen);
/* The reverse; -1 when it does not fit. */
ssize_t	 smtp_xtext_encode(const char *s, size_t n, char *out,
	    size_t outlen);

/*
 * Replies. smtp_reply_format() appends a complete reply to out: text
 * may hold several lines separated by '\n'; each line but the last is
 * written "250-...", the last "250 ...", each with the enhanced code
 * (RFC 2034) when it is not NULL (the greeting and the EHLO/HELO
 * replies carry none), each ended with CRLF. Control octets in the text
 * are written as '?' and lines are cut to fit SMTP_REPLY_LINE_MAX, so
 * text echoed from a client can never forge a reply line.
 */
void	 smtp_reply_format(struct buf *out, int code, const char *enhanced,
	    const char *text);
/* The same with the lines given one by one (n >= 1). */
void	 smtp_reply_lines(struct buf *out, int code, const char *enhanced,
	    const char *const *lines, size_t n);
/* A struct smtp_reply, as smtp_reply_format() writes it. */
void	 smtp_reply_append(struct buf *out, const struct smtp_reply *);
/* Fills r; the text is cut to fit. */
void	 smtp_reply_set(struct smtp_reply *r, int code, const char *enhanced,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
