/*
 * session — one SMTP conversation, as an explicit state machine.
 *
 * The server (server.c) owns the listeners, the spool, the delivery
 * runner and the recipient table, and hands each accepted connection to
 * session_new(). From then on the session drives itself on the event
 * loop: greeting (with an optional delay that catches clients talking
 * first), EHLO/HELO, STARTTLS, MAIL, RCPT, DATA and BDAT, and the
 * durable commit of each message before its "250".
 *
 * RFC 5321 (dialogue, 4.5.3.2 timeouts), RFC 1870 (SIZE), RFC 2920
 * (PIPELINING: replies in order; input waits while a commit is
 * pending), RFC 3030 (CHUNKING), RFC 3207 (STARTTLS: pipelined bytes
 * after it are discarded, the dialogue starts over after the
 * handshake), RFC 3461 (DSN parameters kept with the envelope), RFC
 * 6531 (SMTPUTF8), RFC 4954 (AUTH PLAIN and LOGIN, offered only under
 * TLS and only when the users file exists).
 */
#ifndef NETJES_SMTP_SESSION_H
#define NETJES_SMTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/util.h>

#include "core/config.h"
#include "core/ip.h"

struct authlimit;
struct kv;
struct delivery;
struct dns_resolver;
struct event_base;
struct local_table;
struct passwd_db;
struct session;
struct sockaddr;
struct spool;
struct tls_server;

/*
 * One generation of the settings: the configuration and what the server
 * built from it. A reload (SIGHUP) makes a new generation for new
 * sessions; a session holds a reference to the one it started with and
 * keeps its rules to the end. When the last reference goes, on_unused
 * runs and the server frees the generation later, from its own loop.
 */
struct session_conf {
	const struct config	*cfg;
	struct local_table	*local;		/* recipients */
	struct passwd_db	*users;		/* SMTP AUTH verification */
	bool			 auth_available;	/* users file present */
	unsigned		 refs;
	void			(*on_unused)(struct session_conf *);
};

/* What every session shares: the server's parts. */
struct session_host {
	/* the current generation: new sessions take a reference; a
	 * session reads its own (s->conf), never this one */
	struct session_conf	*conf;
	const struct config	*cfg;		/* conf->cfg */
	struct event_base	*base;
	struct tls_server	*tls;
	struct spool		*spool;
	struct delivery		*delivery;
	struct dns_resolver	*resolver;	/* authentication checks */
	/* AUTH failures per client address, across sessions and reloads
	 * (authlimit.h); the rules come from each session's own conf */
	struct authlimit	*authlimit;
	/* the state store (store/kv.h): the throttle's counts, shared by
	 * the MX hosts on one Redis; NULL: local counts only */
	struct kv		*kv;
	LIST_HEAD(session_list, session) sessions;
	size_t			 nsessions;
	uint64_t		 next_id;
	bool			 stopping;
	/* called after a session is freed (the server may be done) */
	void			(*on_gone)(struct session_host *);
};

/* A session for an accepted connection; it greets (or starts the TLS
 * handshake) by itself. NULL when out of memory (fd is left open). */
struct session	*session_new(struct session_host *,
		    const struct config_listener *, evutil_socket_t fd,
		    const struct sockaddr *sa);

/* The server is stopping: 421 to the client, then close. */
void		 session_shutdown(struct session *);
/* session_shutdown() for every session of the host. */
void		 session_shutdown_all(struct session_host *);
void		 session_free(struct session *, const char *reason);

struct session_conf *session_conf_ref(struct session_conf *);
/* Drops a reference; the last one calls on_unused. */
void		 session_conf_unref(struct session_conf *);

/* Open sessions from ip (the connections_per_ip limit). */
size_t		 session_count_ip(const struct session_host *,
		    const struct ip_addr *);

#endif
