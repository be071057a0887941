/*
 * dsn — delivery status notifications (RFC 3464), the bounce a sender
 * gets when a message failed or is delayed.
 *
 * dsn_build() renders one complete message (header and body, CRLF
 * lines) from a description of what happened: a multipart/report;
 * report-type=delivery-status with a human-readable part that says
 * which recipient failed and why, a message/delivery-status part
 * (Reporting-MTA, Arrival-Date, then per recipient Final-Recipient,
 * Action, Status, Diagnostic-Code, Last-Attempt-Date) and the original
 * header section as text/rfc822-headers (RFC 6522). The notification
 * comes from the null reverse-path, so it can never cause another one
 * (RFC 5321 4.5.5); the caller spools it like any other message.
 *
 * Pure: no I/O, no clock, no randomness (times and names are given),
 * so its output can be checked byte for byte.
 */
#ifndef NETJES_QUEUE_DSN_H
#define NETJES_QUEUE_DSN_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define DSN_HEADERS_MAX	(64 * 1024)	/* original header bytes attached */

enum dsn_action {
	DSN_FAILED,	/* given up: permanent failure or queue lifetime */
	DSN_DELAYED,	/* still trying: the delay warning */
};

struct dsn_rcpt {
	const char	*addr;		/* the final recipient */
	const char	*orcpt;		/* DSN ORCPT "type;addr", or "" */
	enum dsn_action	 action;
	const char	*reason;	/* "5.1.1 text" or "4.3.0 text": the
					   status code, then what happened */
	int64_t		 last_attempt;	/* Unix time, 0 = none */
};

struct dsn_request {
	const char		*reporting_mta;	/* our host name */
	const char		*queue_id;	/* of the original message */
	const char		*envid;		/* its ENVID (xtext), or "" */
	const char		*sender;	/* its reverse-path: the
						 * notification's recipient */
	int64_t			 arrival;	/* when it was received */
	int64_t			 now;		/* Date: of the notification */
	const struct dsn_rcpt	*rcpts;
	size_t			 nrcpts;
	const char		*headers;	/* original header section */
	size_t			 headers_len;
};

/* Appends the notification to out (CRLF lines, 7-bit unless the
 * original headers are not). */
void	 dsn_build(const struct dsn_request *, struct buf *out);

/*
 * Length of the header section at the start of p[0..n): up to and
 * including the empty line, or all of it when there is none, bounded by
 * DSN_HEADERS_MAX (cut at a line end).
 */
size_t	 dsn_header_section(const char *p, size_t n);

#endif
