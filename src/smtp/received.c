/*
 * received — the Received: header. See received.h.
 *
 * The date is formatted by hand rather than with strftime(), so the
 * header never depends on the process locale.
 */
#include "smtp/received.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"

#define RECEIVED_HELO_MAX	255

const char *
received_protocol(bool ehlo, bool tls, bool auth, bool utf8)
{
	static const char *const names[2][4] = {
		{ "ESMTP", "ESMTPS", "ESMTPA", "ESMTPSA" },
		{ "UTF8SMTP", "UTF8SMTPS", "UTF8SMTPA", "UTF8SMTPSA" },
	};

	if (!ehlo)
		return "SMTP";
	return names[utf8 ? 1 : 0][(tls ? 1 : 0) + (auth ? 2 : 0)];
}

void
received_date(time_t when, long gmtoff, char *out, size_t n)
{
	static const char *const days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
	};
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
		"Oct", "Nov", "Dec",
	};
	time_t local = when + gmtoff;
	struct tm tm;
	long off = gmtoff < 0 ? -gmtoff : gmtoff;

	gmtime_r(&local, &tm);
	snprintf(out, n, "%s, %d %s %04d %02d:%02d:%02d %c%02ld%02ld",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    gmtoff < 0 ? '-' : '+', off / 3600, (off % 3600) / 60);
}

/* Client text made safe for the from clause: printable, no comment or
 * clause delimiters, at most RECEIVED_HELO_MAX octets. */
static void
received_safe(struct buf *out, const char *s)
{
	size_t i;

	if (s == NULL || *s == '\0') {
		buf_append_str(out, "unknown");
		return;
	}
	for (i = 0; s[i] != '\0' && i < RECEIVED_HELO_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		buf_append_char(out, c > 0x20 && c < 0x7f &&
		    strchr("()\\;<>\"", c) == NULL ? (char)c : '?');
	}
}

void
received_format(const struct received_info *r, struct buf *out)
{
	char date[64];

	buf_append_str(out, "Received: from ");
	received_safe(out, r->helo);
	buf_append_str(out, " (");
	if (r->client_rdns != NULL && r->client_rdns[0] != '\0') {
		received_safe(out, r->client_rdns);
		buf_append_char(out, ' ');
	}
	buf_printf(out, "[%s])", r->client_ip);
	if (r->auth_user != NULL && r->auth_user[0] != '\0') {
		buf_append_str(out, "\r\n\t(authenticated as ");
		received_safe(out, r->auth_user);
		buf_append_char(out, ')');
	}
	buf_printf(out, "\r\n\tby %s (netjes) with %s id %s", r->hostname,
	    r->protocol, r->queue_id);
	if (r->tls_version != NULL)
		buf_printf(out, "\r\n\t(version=%s cipher=%s)", r->tls_version,
		    r->tls_cipher != NULL ? r->tls_cipher : "unknown");
	if (r->for_rcpt != NULL) {
		buf_append_str(out, "\r\n\tfor <");
		buf_append_str(out, r->for_rcpt);
		buf_append_str(out, ">");
	}
	received_date(r->when, r->gmtoff, date, sizeof(date));
	buf_printf(out, ";\r\n\t%s\r\n", date);
}
