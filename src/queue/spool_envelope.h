/*
 * spool_envelope — the envelope of a spooled message and its file format.
 *
 * The envelope is everything about a message that is not its content: the
 * queue id, the reverse-path and the recipients with their RFC 3461 DSN
 * parameters (NOTIFY, ORCPT; ENVID, RET), the BODY and SMTPUTF8 flags,
 * who sent it (client IP, HELO name, AUTH user), when, how many content
 * bytes belong to it, and per recipient the delivery state, so a message
 * is retried only for the recipients still pending.
 *
 * On disk it is a small text file, one field a line, self-describing:
 *
 *	netjes-envelope 1
 *	id 0bn1x8c7m2q30004z9rd
 *	received 1700000000
 *	size 4096
 *	from alice@example.org
 *	...
 *	rcpt addr=bob@example.test orig=- orcpt=rfc822;bob@example.test
 *	    notify=failure,delay state=pending attempts=0 reason=-
 *	end 1 8c3f12ab
 *
 * (the rcpt line is one line). Every value is one token: bytes outside
 * 0x21..0x7e and '%' are written as %XX, an empty value as "-" (a value
 * that is "-" itself is written %2D). The last line holds the recipient
 * count and the CRC-32 of every byte before it, so a torn or damaged file
 * is detected rather than half-read. The optional "hold 1" and
 * "no-dsn 1" lines mark a message held by the operator and one that
 * must never cause a DSN; the optional rcpt fields first=, next= (Unix
 * times of the first and the next delivery attempt) and warned=1 (the
 * "delayed" DSN went out) carry the retry schedule across restarts.
 * All are written only when set, so older envelopes read as before.
 * The optional "prepend" line holds
 * header lines the SMTP server decided on after the content was spooled
 * (Authentication-Results), written above the content at delivery; its
 * CRLFs are %0D%0A like any other byte, and the parser accepts only
 * complete, non-empty header lines (spool_prepend_valid()), so a
 * damaged value can never end the header section early. The version
 * line lets the format change: a reader refuses a version or a key it
 * does not know.
 *
 * The parser is a pure function over a byte range (the file may be torn
 * or corrupt): no I/O, all memory from the caller's arena.
 */
#ifndef NETJES_QUEUE_SPOOL_ENVELOPE_H
#define NETJES_QUEUE_SPOOL_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct arena;

#define SPOOL_ID_LEN		20	/* characters, see spool_id_new() */
#define SPOOL_ENVELOPE_VERSION	1
#define SPOOL_RCPT_MAX		100000	/* a parser limit, far above any policy */

/* RFC 3461 4.1 NOTIFY; 0 means the parameter was not given. */
#define SPOOL_NOTIFY_NEVER	0x01
#define SPOOL_NOTIFY_SUCCESS	0x02
#define SPOOL_NOTIFY_FAILURE	0x04
#define SPOOL_NOTIFY_DELAY	0x08

enum spool_ret {		/* RFC 3461 4.3 RET */
	SPOOL_RET_UNSET = 0,
	SPOOL_RET_FULL,
	SPOOL_RET_HDRS,
};

enum spool_body {		/* RFC 6152 / RFC 3030 BODY= */
	SPOOL_BODY_UNSET = 0,
	SPOOL_BODY_7BIT,
	SPOOL_BODY_8BITMIME,
	SPOOL_BODY_BINARYMIME,
};

enum spool_rcpt_state {
	SPOOL_RCPT_PENDING = 0,	/* not yet delivered (maybe deferred) */
	SPOOL_RCPT_DELIVERED,	/* done: never deliver again */
	SPOOL_RCPT_FAILED,	/* permanent failure: a DSN is owed */
};

/*
 * Strings are never NULL after parsing; "" means absent. When filling an
 * envelope to write, NULL is taken as "".
 */
struct spool_rcpt {
	const char		*addr;	/* where it goes: local@domain */
	const char		*orig;	/* RCPT TO as given, when addr differs
					   (alias expansion), else "" */
	const char		*orcpt;	/* DSN ORCPT "type;xtext", or "" */
	unsigned		 notify;	/* SPOOL_NOTIFY_* */
	enum spool_rcpt_state	 state;
	unsigned		 attempts;	/* delivery attempts so far */
	const char		*reason;	/* last result, for DSN and logs */
	int64_t			 first_attempt;	/* Unix time, 0 = none yet */
	int64_t			 next_attempt;	/* Unix time, 0 = due now */
	bool			 warned;	/* the "delayed" DSN went out */
};

struct spool_envelope {
	char			 id[SPOOL_ID_LEN + 1];
	int64_t			 received;	/* Unix time of the 250 */
	uint64_t		 size;		/* content bytes */
	const char		*mail_from;	/* "" for the null reverse-path */
	const char		*envid;		/* DSN ENVID (xtext), or "" */
	enum spool_ret		 ret;
	enum spool_body		 body;
	bool			 smtputf8;
	const char		*client_ip;
	const char		*client_helo;
	const char		*auth_user;	/* "" when not authenticated */
	const char		*folder;	/* delivery folder ("Junk"), "" = inbox */
	const char		*prepend;	/* header lines written above the
						 * content at delivery (CRLF
						 * ends, spool_prepend_valid()),
						 * "" = none */
	bool			 hold;		/* never retried nor expired
						 * until released */
	bool			 no_dsn;	/* never a DSN for it (the spam
						 * verdict refused it: no
						 * backscatter) */
	struct spool_rcpt	*rcpts;
	size_t			 nrcpts;
	size_t			 rcpts_cap;	/* room in rcpts, for _add_rcpt */
};

/* Appends the file form of env to out. */
void	 spool_envelope_format(const struct spool_envelope *env,
	    struct buf *out);

/*
 * Parses the file form s[0..n). Returns 0, or -1 with *reason set to a
 * static string. All strings and the recipient array come from arena.
 */
int	 spool_envelope_parse(const char *s, size_t n, struct arena *arena,
	    struct spool_envelope *env, const char **reason);

/*
 * Appends a recipient, growing env->rcpts in arena (the old array stays
 * in the arena until it dies). Strings are copied. Returns the new entry.
 */
struct spool_rcpt *spool_envelope_add_rcpt(struct spool_envelope *env,
	    struct arena *arena, const char *addr, const char *orcpt,
	    unsigned notify);

/* Bound of the prepend field (the parser refuses more). */
#define SPOOL_PREPEND_MAX	(64 * 1024)

/* True when p[0..n) may be an envelope's prepend: complete header
 * lines, each ended by CRLF, no bare CR or LF, no empty line. */
bool	 spool_prepend_valid(const char *p, size_t n);

/* Recipients still in SPOOL_RCPT_PENDING. */
size_t	 spool_envelope_pending(const struct spool_envelope *env);

/* "never", "success,failure", ...; "" for 0. Returns out. */
const char *spool_notify_format(unsigned notify, char *out, size_t n);

/* Parses an RFC 3461 NOTIFY value (case-insensitive). 0 or -1. */
int	 spool_notify_parse(const char *s, size_t n, unsigned *out);

/* True when s is SPOOL_ID_LEN characters of the queue-id alphabet. */
bool	 spool_id_valid(const char *s);

/* CRC-32 (IEEE 802.3, as zlib's crc32), continued from crc. */
uint32_t spool_crc32(uint32_t crc, const void *p, size_t n);

#endif
