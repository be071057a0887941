/*
 * server — the listening side of `netjes serve`.
 *
 * server_run() owns one libevent loop: it makes the data directory, sets
 * up logging and TLS (the configured certificate, or the self-signed
 * default), binds every configured listener, and turns each accepted
 * connection into a session. SIGHUP reloads the certificate for new
 * connections; SIGINT and SIGTERM stop accepting, say 421 to the open
 * sessions, free everything and return.
 *
 * The SMTP dialogue itself is not here yet: a session greets, answers
 * QUIT, and answers every other command with 502 until the command
 * parser and session state machine arrive. Line framing (CRLF only, at
 * most SERVER_LINE_MAX octets), idle timeouts and output back-pressure
 * are already the real ones.
 */
#ifndef NETJES_SMTP_SERVER_H
#define NETJES_SMTP_SERVER_H

#include "core/config.h"

/* RFC 5321 4.5.3.1.6: a text line is at most 1000 octets with the CRLF */
#define SERVER_LINE_MAX		1000
/* RFC 5321 4.5.3.2.7: the server waits at least 5 minutes for a command */
#define SERVER_IDLE_TIMEOUT	300
/* Beyond this many open sessions new connections get 421 and are closed */
#define SERVER_MAX_SESSIONS	1000
/* How long a stopping server lets sessions flush their last reply */
#define SERVER_STOP_GRACE	2

/* Run until SIGINT/SIGTERM; returns a process exit status (0: stopped by
 * a signal, 1: could not start). Errors that stop the start go to stderr. */
int	server_run(const struct config *);

#endif
