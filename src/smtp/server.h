/*
 * server — the listening side of `netjes serve`.
 *
 * server_run() owns one libevent loop: it makes the data directory, sets
 * up logging and TLS (the configured certificate, or the self-signed
 * default), opens and recovers the spool (DATA_DIR/spool), builds the
 * recipient table (domains, aliases, the users file), starts the local
 * delivery runner (Maildirs under [delivery] mail_root, DATA_DIR/mail
 * by default), binds every configured listener, and turns each accepted
 * connection into a session (session.h). SIGHUP reloads the config
 * file (the embedded default when started without one), the users file
 * and the certificate, all or nothing: new sessions use the new
 * settings, open ones finish under theirs; listeners, directories,
 * hostname, DNS and log target need a restart (logged). SIGINT and
 * SIGTERM stop accepting, say 421 to the open sessions, let commits in
 * flight finish, free everything and return.
 */
#ifndef NETJES_SMTP_SERVER_H
#define NETJES_SMTP_SERVER_H

#include "core/config.h"

/* How long a stopping server lets sessions flush their last reply */
#define SERVER_STOP_GRACE	2

/* Run until SIGINT/SIGTERM; returns a process exit status (0: stopped by
 * a signal, 1: could not start). Errors that stop the start go to stderr.
 * The config must outlive the call: reloads read cfg->path again. */
int	server_run(struct config *);

#endif
