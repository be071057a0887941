/*
 * dsn — delivery status notifications. See dsn.h.
 *
 * Everything that comes from a recipient address or a failure reason is
 * cleaned before it goes into a header line (control characters become
 * spaces), so a hostile address cannot add header fields or break the
 * MIME structure. The boundary is derived from the queue id and made
 * longer until it does not occur in the attached headers.
 */
#include "queue/dsn.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DSN_TEXT_MAX	600	/* one cleaned value */

/* s with every byte outside 0x20..0x7e replaced by a space. */
static const char *
dsn_clean(const char *s, char *out, size_t n)
{
	size_t i;

	for (i = 0; s != NULL && s[i] != '\0' && i + 1 < n; i++)
		out[i] = (unsigned char)s[i] < 0x20 ||
		    (unsigned char)s[i] > 0x7e ? ' ' : s[i];
	out[i] = '\0';
	return out;
}

/* RFC 5322 date-time in UTC. */
static void
dsn_date(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, n, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* The status code at the start of reason, or a default for action. */
static void
dsn_status(const struct dsn_rcpt *r, char out[16], const char **text)
{
	const char *s = r->reason != NULL ? r->reason : "";
	size_t i = 0;
	int dots = 0;

	while ((s[i] >= '0' && s[i] <= '9') || s[i] == '.') {
		dots += s[i] == '.';
		i++;
	}
	if (dots == 2 && i >= 5 && i < 12 && (s[0] == '4' || s[0] == '5') &&
	    s[1] == '.' && (s[i] == ' ' || s[i] == '\0')) {
		memcpy(out, s, i);
		out[i] = '\0';
		*text = s[i] == ' ' ? s + i + 1 : s + i;
	} else {
		snprintf(out, 16, "%s", r->action == DSN_FAILED ? "5.0.0" :
		    "4.0.0");
		*text = s;
	}
	/* a delay is never permanent; a failure keeps its code: an expired
	 * temporary failure is reported as "failed" with its 4.x.x, as
	 * Postfix does (RFC 3464 2.3.4) */
	if (r->action == DSN_DELAYED)
		out[0] = '4';
}

size_t
dsn_header_section(const char *p, size_t n)
{
	size_t i, last_eol = 0;

	for (i = 0; i < n && i < DSN_HEADERS_MAX; i++) {
		if (p[i] != '\n')
			continue;
		last_eol = i + 1;
		if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')
			return i + 3 <= DSN_HEADERS_MAX ? i + 3 : last_eol;
		if (i + 1 < n && p[i + 1] == '\n')
			return i + 2;
	}
	return n <= DSN_HEADERS_MAX ? n : last_eol;
}

/* The header lines of the original, with CRLF ends and without the
 * empty line that ended them. */
static void
dsn_put_headers(struct buf *out, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r')
			continue;
		if (p[i] == '\n') {
			if (i + 1 >= n || p[i + 1] == '\n' ||
			    (p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n'))
				break;	/* the empty line */
			buf_append_str(out, "\r\n");
			continue;
		}
		buf_append_char(out, p[i]);
	}
	buf_append_str(out, "\r\n");
}

static bool
dsn_contains(const char *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle), i;

	for (i = 0; m <= n && i + m <= n; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return true;
	return false;
}

static void
dsn_human(struct buf *out, const struct dsn_request *q, bool failed)
{
	char addr[DSN_TEXT_MAX], text[DSN_TEXT_MAX], status[16], date[64];
	const char *why;
	size_t i;

	buf_printf(out, "This is the mail system at host %s.\r\n\r\n",
	    q->reporting_mta);
	if (failed)
		buf_append_str(out, "Your message could not be delivered to "
		    "the recipients below; the mail system gave up on "
		    "them.\r\n");
	else
		buf_append_str(out, "Your message has not been delivered yet "
		    "to the recipients below. The mail system will keep "
		    "trying; you do not need to send it again.\r\n");
	dsn_date(q->arrival, date, sizeof(date));
	buf_printf(out, "It was received on %s as queue id %s.\r\n\r\n",
	    date, q->queue_id);
	for (i = 0; i < q->nrcpts; i++) {
		dsn_status(&q->rcpts[i], status, &why);
		buf_printf(out, "<%s>: %s: %s (status %s)\r\n",
		    dsn_clean(q->rcpts[i].addr, addr, sizeof(addr)),
		    q->rcpts[i].action == DSN_FAILED ? "failed" : "delayed",
		    dsn_clean(why, text, sizeof(text)), status);
	}
}

void
dsn_build(const struct dsn_request *q, struct buf *out)
{
	char date[64], boundary[128], addr[DSN_TEXT_MAX], text[DSN_TEXT_MAX];
	char status[16], orcpt[DSN_TEXT_MAX];
	const char *why;
	bool failed = false;
	size_t i, hlen;

	for (i = 0; i < q->nrcpts; i++)
		failed |= q->rcpts[i].action == DSN_FAILED;
	hlen = q->headers != NULL ? q->headers_len : 0;
	snprintf(boundary, sizeof(boundary), "=_netjes_dsn_%s", q->queue_id);
	while (dsn_contains(q->headers, hlen, boundary) &&
	    strlen(boundary) + 2 < sizeof(boundary))
		strcat(boundary, "_");

	dsn_date(q->now, date, sizeof(date));
	buf_printf(out, "Date: %s\r\n", date);
	buf_printf(out, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n",
	    q->reporting_mta);
	buf_printf(out, "To: <%s>\r\n", dsn_clean(q->sender, addr,
	    sizeof(addr)));
	buf_printf(out, "Subject: %s\r\n", failed ?
	    "Undelivered Mail Returned to Sender" :
	    "Delayed Mail (still being retried)");
	buf_printf(out, "Message-ID: <%s.%s@%s>\r\n", q->queue_id,
	    failed ? "failed" : "delayed", q->reporting_mta);
	/* RFC 3834: an automatic reply, never to be answered by another */
	buf_append_str(out, "Auto-Submitted: auto-replied\r\n");
	buf_append_str(out, "MIME-Version: 1.0\r\n");
	buf_printf(out, "Content-Type: multipart/report; "
	    "report-type=delivery-status;\r\n\tboundary=\"%s\"\r\n", boundary);
	buf_append_str(out, "\r\nThis is a MIME-encapsulated message.\r\n");

	/* 1: for a person */
	buf_printf(out, "\r\n--%s\r\n", boundary);
	buf_append_str(out, "Content-Type: text/plain; charset=us-ascii\r\n"
	    "Content-Description: Notification\r\n\r\n");
	dsn_human(out, q, failed);

	/* 2: for a program (RFC 3464 2.2, 2.3) */
	buf_printf(out, "\r\n--%s\r\n", boundary);
	buf_append_str(out, "Content-Type: message/delivery-status\r\n"
	    "Content-Description: Delivery report\r\n\r\n");
	buf_printf(out, "Reporting-MTA: dns; %s\r\n", q->reporting_mta);
	buf_printf(out, "X-Netjes-Queue-ID: %s\r\n", q->queue_id);
	if (q->envid != NULL && q->envid[0] != '\0')
		buf_printf(out, "Original-Envelope-Id: %s\r\n",
		    dsn_clean(q->envid, text, sizeof(text)));
	dsn_date(q->arrival, date, sizeof(date));
	buf_printf(out, "Arrival-Date: %s\r\n", date);
	for (i = 0; i < q->nrcpts; i++) {
		const struct dsn_rcpt *r = &q->rcpts[i];

		dsn_status(r, status, &why);
		buf_append_str(out, "\r\n");
		if (r->orcpt != NULL && r->orcpt[0] != '\0' &&
		    strchr(r->orcpt, ';') != NULL)
			buf_printf(out, "Original-Recipient: %s\r\n",
			    dsn_clean(r->orcpt, orcpt, sizeof(orcpt)));
		buf_printf(out, "Final-Recipient: rfc822; %s\r\n",
		    dsn_clean(r->addr, addr, sizeof(addr)));
		buf_printf(out, "Action: %s\r\n", r->action == DSN_FAILED ?
		    "failed" : "delayed");
		buf_printf(out, "Status: %s\r\n", status);
		buf_printf(out, "Diagnostic-Code: X-netjes; %s\r\n",
		    dsn_clean(why, text, sizeof(text)));
		if (r->last_attempt > 0) {
			dsn_date(r->last_attempt, date, sizeof(date));
			buf_printf(out, "Last-Attempt-Date: %s\r\n", date);
		}
	}

	/* 3: what the message was (RFC 6522 text/rfc822-headers) */
	buf_printf(out, "\r\n--%s\r\n", boundary);
	buf_append_str(out, "Content-Type: text/rfc822-headers\r\n"
	    "Content-Description: Undelivered message headers\r\n\r\n");
	if (hlen > 0)
		dsn_put_headers(out, q->headers, hlen);
	buf_printf(out, "\r\n--%s--\r\n", boundary);
}
