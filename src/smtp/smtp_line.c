/*
 * smtp_line — splits the command stream into lines. See smtp_line.h.
 *
 * Three bits of state carry across calls: the partial line, whether the
 * last octet was a CR (the LF that makes it a CRLF may come in the next
 * read), and whether the current line was already reported as bad and
 * is being skipped. Every decision is made per octet, so the result
 * does not depend on how the stream was cut into reads.
 */
#include "smtp/smtp_line.h"

#include <string.h>

void
smtp_line_init(struct smtp_line *l)
{
	l->len = 0;
	l->cr = false;
	l->discard = false;
	l->buf[0] = '\0';
}

bool
smtp_line_pending(const struct smtp_line *l)
{
	return l->len > 0 || l->cr || l->discard;
}

/* Reports an error for the current line and starts skipping it. */
static void
line_bad(struct smtp_line *l, enum smtp_line_event what,
    enum smtp_line_event *ev)
{
	l->discard = true;
	l->len = 0;
	*ev = what;
}

size_t
smtp_line_feed(struct smtp_line *l, const char *in, size_t n,
    enum smtp_line_event *ev, const char **line, size_t *len)
{
	size_t i;

	*ev = SMTP_LINE_NONE;
	*line = NULL;
	*len = 0;
	for (i = 0; i < n; i++) {
		char c = in[i];

		if (l->cr) {
			l->cr = false;
			if (c == '\n') {
				if (l->discard) {	/* end of a bad line */
					l->discard = false;
					l->len = 0;
					continue;
				}
				l->buf[l->len] = '\0';
				*line = l->buf;
				*len = l->len;
				l->len = 0;
				*ev = SMTP_LINE_OK;
				return i + 1;
			}
			/* A bare CR: the line is bad; c is looked at as
			 * part of the skipped rest (it may be a CR). */
			if (!l->discard) {
				line_bad(l, SMTP_LINE_BARE, ev);
				l->cr = c == '\r';
				return i + 1;
			}
		}
		if (c == '\r') {
			l->cr = true;
			continue;
		}
		if (l->discard)
			continue;
		if (c == '\n') {
			line_bad(l, SMTP_LINE_BARE, ev);
			return i + 1;
		}
		if (l->len >= SMTP_LINE_MAX - 2) {
			line_bad(l, SMTP_LINE_TOO_LONG, ev);
			return i + 1;
		}
		l->buf[l->len++] = c;
	}
	return n;
}

void
smtp_line_error_reply(enum smtp_line_event ev, struct smtp_reply *r)
{
	if (ev == SMTP_LINE_TOO_LONG)
		smtp_reply_set(r, 500, "5.5.2", "Line too long (over %d octets)",
		    SMTP_LINE_MAX);
	else
		smtp_reply_set(r, 500, "5.5.2",
		    "Bare CR or LF not allowed: lines must end with CRLF");
}
