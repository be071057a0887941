/*
 * smtp_line — splits the command stream into lines, smuggling-proof.
 *
 * Bytes go in as they arrive, in pieces of any size; complete command
 * lines come out, one per call, without their CRLF. Only CRLF ends a
 * line (RFC 5321 2.3.8): a bare LF or a bare CR is never a line end, it
 * makes the whole line (up to the next CRLF) an error. A line longer
 * than SMTP_LINE_MAX octets with its CRLF (RFC 5321 4.5.3.1.4) is an
 * error too. Either error is reported as soon as it is seen, once per
 * line; the rest of that line is then discarded silently up to its CRLF
 * and the session goes on in step with the client.
 *
 * smtp_line_feed() stops after each line or error and says how many
 * input octets it used, so the caller always knows where the next
 * command starts: where DATA or BDAT content begins, and which octets a
 * client pipelined after STARTTLS (those must be thrown away, RFC 3207
 * 4.2). The splitter holds at most one partial line and allocates
 * nothing; it does no I/O.
 */
#ifndef NETJES_SMTP_SMTP_LINE_H
#define NETJES_SMTP_SMTP_LINE_H

#include <stdbool.h>
#include <stddef.h>

#include "smtp/smtp_cmd.h"	/* SMTP_LINE_MAX */

enum smtp_line_event {
	SMTP_LINE_NONE = 0,	/* all input used, no complete line yet */
	SMTP_LINE_OK,		/* a line is ready */
	SMTP_LINE_TOO_LONG,	/* 500 5.5.2 Line too long */
	SMTP_LINE_BARE,		/* 500 5.5.2 bare CR or LF */
};

struct smtp_line {
	char		 buf[SMTP_LINE_MAX];	/* the line being collected */
	size_t		 len;
	bool		 cr;		/* the last octet seen was a CR */
	bool		 discard;	/* reported; drop up to the CRLF */
};

void	 smtp_line_init(struct smtp_line *);

/*
 * Consumes octets from in[0..n) and returns how many it used, stopping
 * right after the first event. On SMTP_LINE_OK *line and *len give the
 * line without CRLF (valid until the next call; NUL-terminated, though
 * it may hold NULs of its own, which smtp_cmd_parse refuses). On
 * SMTP_LINE_NONE all of in was used. A caller loops until n is used up.
 */
size_t	 smtp_line_feed(struct smtp_line *, const char *in, size_t n,
	    enum smtp_line_event *ev, const char **line, size_t *len);

/* Octets of an unfinished line held back (for "pipelined after
 * STARTTLS" and early-talker checks). */
bool	 smtp_line_pending(const struct smtp_line *);

/* The reply for an error event (TOO_LONG, BARE). */
void	 smtp_line_error_reply(enum smtp_line_event, struct smtp_reply *);

#endif
