/*
 * received — the Received: trace header the server prepends to every
 * message it accepts (RFC 5321 4.4, RFC 5322 3.6.7).
 *
 *	Received: from HELO (RDNS [IP])
 *		(authenticated as USER)
 *		by HOSTNAME (netjes) with ESMTPSA id QUEUEID
 *		(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384)
 *		for <rcpt@example.test>; Tue, 14 Nov 2023 22:13:20 +0000
 *
 * The protocol word follows RFC 3848 and RFC 6531 (SMTP, ESMTP, ESMTPS,
 * ESMTPA, ESMTPSA, UTF8SMTP...). The TLS comment appears only under
 * TLS, "for" only when the message has exactly one recipient (naming
 * several would tell each one about the others). RDNS, the client's
 * forward-confirmed reverse name (iprev), appears only when known
 * (RFC 5321 4.4 TCP-info); the "authenticated as" comment only for a
 * client that logged in with SMTP AUTH, so a reader can trace a
 * message to the account that sent it, as Sendmail and Postfix (with
 * smtpd_sasl_authenticated_header) do. Text from the client (the HELO
 * name, the user name) is cut to 255 octets and any octet that could
 * break out of the header or a comment becomes '?'; the session passes
 * only HELO names helo_check() accepted (printable ASCII, at most 255
 * octets), so for those this is a second line of defence, touching only
 * the '(', ')', ';', '<', '>' and '"' a General-address-literal may hold.
 * Pure: no I/O, no clock (the caller passes the time).
 */
#ifndef NETJES_SMTP_RECEIVED_H
#define NETJES_SMTP_RECEIVED_H

#include <stdbool.h>
#include <time.h>

struct buf;

struct received_info {
	const char	*helo;		/* as sent, helo_check()ed; "" when none */
	const char	*client_ip;	/* "192.0.2.1" or "2001:db8::1" */
	const char	*client_rdns;	/* confirmed reverse name, or NULL */
	const char	*auth_user;	/* SMTP AUTH identity, or NULL */
	const char	*hostname;	/* ours */
	const char	*protocol;	/* received_protocol() */
	const char	*queue_id;
	const char	*tls_version;	/* NULL when not under TLS */
	const char	*tls_cipher;
	const char	*for_rcpt;	/* NULL unless exactly one recipient */
	time_t		 when;
	long		 gmtoff;	/* seconds east of UTC for the date */
};

/* "ESMTPSA", "UTF8SMTPS", "SMTP", ... */
const char	*received_protocol(bool ehlo, bool tls, bool auth, bool utf8);

/* Appends the whole header, folded, each line ended by CRLF. */
void		 received_format(const struct received_info *, struct buf *);

/* An RFC 5322 date-time: "Tue, 14 Nov 2023 22:13:20 +0000". */
void		 received_date(time_t when, long gmtoff, char *out, size_t n);

#endif
