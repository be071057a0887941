/*
 * server — listeners, sessions and signals of `netjes serve`. See server.h.
 *
 * Everything runs on one libevent loop. A listener is a socket bound by
 * hand (so a failure can name the listener, the address and errno) and
 * handed to an evconnlistener. A session is a bufferevent plus an
 * explicit state:
 *
 *	SESSION_TLS_HANDSHAKE	smtps only: the handshake runs; no bytes yet
 *	SESSION_COMMAND		greeted; each CRLF-terminated line is a command
 *	SESSION_CLOSING		the last reply is queued; free once it is sent
 *
 * session_enter() is the one place a state is entered and does that
 * state's entry action (send the banner; stop reading). The command
 * dispatcher, session_command(), is where the SMTP command parser and its
 * HELO/MAIL/RCPT/DATA states plug in; today it knows only QUIT.
 *
 * Line framing follows DESIGN.md: only CRLF ends a line, a bare LF is
 * just a byte of the line. A line longer than SERVER_LINE_MAX is dropped
 * as it streams in (memory stays bounded) and answered with one 500 when
 * its CRLF arrives. When a client does not read its replies, reading
 * pauses once SERVER_OUTPUT_MAX bytes are waiting and resumes when they
 * are sent.
 */
#include "smtp/server.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/ip.h"
#include "core/log.h"
#include "smtp/tls.h"

/* Pending replies beyond which the session stops reading commands */
#define SERVER_OUTPUT_MAX	(64 * 1024)
/* Unprocessed input beyond which libevent stops reading the socket */
#define SERVER_INPUT_MAX	(64 * 1024)
#define SERVER_BACKLOG		128
/* Seconds a listener rests after accept() ran out of descriptors */
#define SERVER_ACCEPT_BACKOFF	1
/* "[" address "]:" port */
#define SERVER_ADDR_MAX		(IP_STRLEN + 9)

enum session_state {
	SESSION_TLS_HANDSHAKE,
	SESSION_COMMAND,
	SESSION_CLOSING,
};

/* The line reader's own state, apart from the session's. */
enum line_state {
	LINE_NORMAL,
	LINE_OVERLONG,		/* dropping bytes until the next CRLF */
};

enum line_result {
	LINE_NONE,		/* no complete line yet */
	LINE_READY,		/* s->line holds one line, CRLF removed */
	LINE_TOO_LONG,		/* a line over the limit ended; it was dropped */
};

struct server;

struct server_listener {
	struct server			*srv;
	const struct config_listener	*conf;
	struct evconnlistener		*evl;
	struct event			*backoff;	/* re-enables evl */
	char				 address[SERVER_ADDR_MAX];
};

struct session {
	struct server			*srv;
	const struct server_listener	*listener;
	struct bufferevent		*bev;
	bool				 tls;
	enum session_state		 state;
	enum line_state			 line_state;
	bool				 read_paused;
	const char			*close_reason;
	uint64_t			 id;
	char				 client[SERVER_ADDR_MAX];
	struct timespec			 started;
	char				 line[SERVER_LINE_MAX];
	LIST_ENTRY(session)		 entry;
};

struct server {
	const struct config	*cfg;
	struct event_base	*base;
	struct tls_server	*tls;
	struct server_listener	 listeners[CONFIG_MAX_LISTENERS];
	size_t			 nlisteners;
	struct event		*sig_int;
	struct event		*sig_term;
	struct event		*sig_hup;
	struct event		*stop_timer;
	LIST_HEAD(, session)	 sessions;
	size_t			 nsessions;
	uint64_t		 next_session_id;
	bool			 stopping;
};

static bool	session_enter(struct session *, enum session_state);
static void	session_free(struct session *, const char *reason);

/* ---- helpers ------------------------------------------------------ */

/* "192.0.2.1:25" or "[2001:db8::1]:25" */
static void
server_format_addr(const struct ip_addr *ip, unsigned port, char *out,
    size_t n)
{
	char text[IP_STRLEN];

	ip_format(ip, text, sizeof(text));
	if (ip->family == AF_INET6)
		snprintf(out, n, "[%s]:%u", text, port);
	else
		snprintf(out, n, "%s:%u", text, port);
}

static void
server_format_sockaddr(const struct sockaddr *sa, char *out, size_t n)
{
	struct ip_addr ip;
	unsigned port;

	if (ip_from_sockaddr(sa, &ip) == -1) {
		snprintf(out, n, "unknown");
		return;
	}
	if (sa->sa_family == AF_INET6)
		port = ntohs(((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_port);
	else
		port = ntohs(((const struct sockaddr_in *)(const void *)sa)->
		    sin_port);
	server_format_addr(&ip, port, out, n);
}

/* mkdir -p with mode for the directories it creates. */
static int
server_mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	struct stat st;
	char *p, saved;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		saved = *p;
		*p = '\0';
		if (mkdir(buf, mode) == -1 && errno != EEXIST)
			return -1;
		*p = saved;
		if (saved == '\0')
			break;
	}
	if (stat(path, &st) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

static double
server_elapsed(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) +
	    (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

/* Nothing left to wait for while stopping: leave the loop. */
static void
server_maybe_done(struct server *srv)
{
	if (srv->stopping && LIST_EMPTY(&srv->sessions))
		event_base_loopbreak(srv->base);
}

/* ---- sessions: output --------------------------------------------- */

static void
session_reply(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
session_reply(struct session *s, const char *fmt, ...)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	va_list ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

static void
session_pause_reading(struct session *s)
{
	s->read_paused = true;
	bufferevent_disable(s->bev, EV_READ);
}

/* ---- sessions: input ---------------------------------------------- */

static enum line_result
session_read_line(struct session *s, size_t *lenp)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	struct evbuffer_ptr eol;
	size_t avail, len;

	eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_CRLF_STRICT);
	if (eol.pos == -1) {
		avail = evbuffer_get_length(in);
		/* 998 octets and a CR may still be a legal line */
		if (avail < SERVER_LINE_MAX)
			return LINE_NONE;
		/* keep one byte: it may be the CR of the CRLF to come */
		evbuffer_drain(in, avail - 1);
		s->line_state = LINE_OVERLONG;
		return LINE_NONE;
	}
	len = (size_t)eol.pos;
	if (s->line_state == LINE_OVERLONG || len + 2 > SERVER_LINE_MAX) {
		evbuffer_drain(in, len + 2);
		s->line_state = LINE_NORMAL;
		return LINE_TOO_LONG;
	}
	evbuffer_remove(in, s->line, len);
	evbuffer_drain(in, 2);
	*lenp = len;
	return LINE_READY;
}

/*
 * One command line, CRLF removed (it may hold any byte but CRLF). This
 * is where the SMTP command parser will plug in; until then only QUIT
 * works. Returns false when the session is gone.
 */
static bool
session_command(struct session *s, const char *line, size_t len)
{
	if (len == 4 && strncasecmp(line, "QUIT", 4) == 0) {
		session_reply(s, "221 2.0.0 Bye");
		s->close_reason = "quit";
		return session_enter(s, SESSION_CLOSING);
	}
	session_reply(s, "502 5.5.1 Command not implemented yet");
	return true;
}

/* Handle every complete line there is, unless output backs up. */
static void
session_process_input(struct session *s)
{
	size_t len;

	while (s->state == SESSION_COMMAND) {
		if (evbuffer_get_length(bufferevent_get_output(s->bev)) >=
		    SERVER_OUTPUT_MAX) {
			session_pause_reading(s);
			return;
		}
		switch (session_read_line(s, &len)) {
		case LINE_NONE:
			return;
		case LINE_TOO_LONG:
			session_reply(s, "500 5.5.2 Line too long");
			break;
		case LINE_READY:
			if (!session_command(s, s->line, len))
				return;
			break;
		}
	}
}

/* ---- sessions: states and events ---------------------------------- */

/* Enter a state and run its entry action; false when s was freed. */
static bool
session_enter(struct session *s, enum session_state state)
{
	s->state = state;
	switch (state) {
	case SESSION_TLS_HANDSHAKE:
		break;
	case SESSION_COMMAND:
		session_reply(s, "220 %s ESMTP netjes", s->srv->cfg->hostname);
		break;
	case SESSION_CLOSING:
		bufferevent_disable(s->bev, EV_READ);
		if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0) {
			session_free(s, s->close_reason);
			return false;
		}
		break;
	}
	return true;
}

static void
session_log_tls(const struct session *s)
{
	SSL *ssl = bufferevent_openssl_get_ssl(s->bev);

	log_info("smtp.tls", "session=%06" PRIx64 " version=%s cipher=%s",
	    s->id, SSL_get_version(ssl), SSL_get_cipher_name(ssl));
}

static void
session_timeout(struct session *s, short what)
{
	if (s->state != SESSION_COMMAND || (what & BEV_EVENT_WRITING)) {
		session_free(s, "timeout");
		return;
	}
	session_reply(s, "421 4.4.2 %s Idle timeout, closing connection",
	    s->srv->cfg->hostname);
	s->close_reason = "timeout";
	session_enter(s, SESSION_CLOSING);
}

/* Why a connection failed, as a log value. */
static const char *
session_error_text(struct session *s, char *out, size_t n)
{
	unsigned long e;

	if (s->tls && (e = bufferevent_get_openssl_error(s->bev)) != 0) {
		ERR_error_string_n(e, out, n);
		return out;
	}
	snprintf(out, n, "%s", strerror(EVUTIL_SOCKET_ERROR()));
	return out;
}

static void
session_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	char text[256], quoted[300];

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		/* only TLS sessions get this: the handshake is done */
		session_log_tls(s);
		session_enter(s, SESSION_COMMAND);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		session_timeout(s, what);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		/* a client may hang up right after QUIT: keep that reason */
		session_free(s, s->state == SESSION_CLOSING ? s->close_reason :
		    "eof");
		return;
	}
	log_info("smtp.error", "session=%06" PRIx64 " error=%s", s->id,
	    log_quote(quoted, sizeof(quoted),
	    session_error_text(s, text, sizeof(text))));
	session_free(s, s->state == SESSION_TLS_HANDSHAKE ? "tls-error" :
	    "error");
}

static void
session_on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	session_process_input(arg);
}

/* The output buffer drained (low watermark 0). */
static void
session_on_write(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	(void)bev;
	if (s->state == SESSION_CLOSING) {
		session_free(s, s->close_reason);
		return;
	}
	if (s->read_paused) {
		s->read_paused = false;
		bufferevent_enable(s->bev, EV_READ);
		session_process_input(s);
	}
}

/* ---- sessions: life cycle ----------------------------------------- */

static struct bufferevent *
session_bev_new(struct server *srv, evutil_socket_t fd, bool tls)
{
	struct bufferevent *bev;
	SSL *ssl;

	if (!tls)
		return bufferevent_socket_new(srv->base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
	if ((ssl = SSL_new(tls_server_ctx(srv->tls))) == NULL) {
		ERR_clear_error();
		return NULL;
	}
	bev = bufferevent_openssl_socket_new(srv->base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	/* clients that just close the TCP connection are normal, not errors */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

static struct session *
session_new(struct server_listener *l, evutil_socket_t fd,
    const struct sockaddr *sa)
{
	struct server *srv = l->srv;
	struct timeval idle = { SERVER_IDLE_TIMEOUT, 0 };
	struct session *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->tls = l->conf->mode == LISTENER_SMTPS;
	if ((s->bev = session_bev_new(srv, fd, s->tls)) == NULL) {
		free(s);
		return NULL;
	}
	s->srv = srv;
	s->listener = l;
	s->id = ++srv->next_session_id;
	s->close_reason = "eof";
	clock_gettime(CLOCK_MONOTONIC, &s->started);
	server_format_sockaddr(sa, s->client, sizeof(s->client));
	bufferevent_setcb(s->bev, session_on_read, session_on_write,
	    session_on_event, s);
	bufferevent_set_timeouts(s->bev, &idle, &idle);
	bufferevent_setwatermark(s->bev, EV_READ, 0, SERVER_INPUT_MAX);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	LIST_INSERT_HEAD(&srv->sessions, s, entry);
	srv->nsessions++;
	return s;
}

static void
session_free(struct session *s, const char *reason)
{
	struct server *srv = s->srv;
	SSL *ssl;

	log_info("smtp.disconnect", "session=%06" PRIx64 " listener=%s "
	    "client=%s reason=%s duration=%.3f", s->id, s->listener->conf->name,
	    s->client, reason, server_elapsed(&s->started));
	if (s->tls && s->state != SESSION_TLS_HANDSHAKE) {
		/* best effort close_notify; the socket is non-blocking */
		ssl = bufferevent_openssl_get_ssl(s->bev);
		if (ssl != NULL)
			SSL_shutdown(ssl);
		ERR_clear_error();
	}
	LIST_REMOVE(s, entry);
	srv->nsessions--;
	bufferevent_free(s->bev);
	free(s);
	server_maybe_done(srv);
}

/* The server is stopping: say so to whoever can still hear it. */
static void
session_shutdown(struct session *s)
{
	switch (s->state) {
	case SESSION_TLS_HANDSHAKE:
		session_free(s, "shutdown");
		break;
	case SESSION_COMMAND:
		session_reply(s, "421 4.3.2 %s Service shutting down",
		    s->srv->cfg->hostname);
		s->close_reason = "shutdown";
		session_enter(s, SESSION_CLOSING);
		break;
	case SESSION_CLOSING:
		break;
	}
}

/* ---- listeners ---------------------------------------------------- */

/* Too many sessions: a plain client hears 421, a TLS client a close. */
static void
server_refuse(struct server_listener *l, evutil_socket_t fd,
    const char *client)
{
	char msg[CONFIG_HOST_MAX + 64];
	int n;

	if (l->conf->mode != LISTENER_SMTPS) {
		n = snprintf(msg, sizeof(msg), "421 4.7.0 %s Too many "
		    "connections, try again later\r\n", l->srv->cfg->hostname);
		if (n > 0 && (size_t)n < sizeof(msg))
			(void)send(fd, msg, (size_t)n, MSG_NOSIGNAL |
			    MSG_DONTWAIT);
	}
	evutil_closesocket(fd);
	log_warn("smtp.refused", "listener=%s client=%s reason=too-many-sessions "
	    "sessions=%zu", l->conf->name, client, l->srv->nsessions);
}

static void
server_on_accept(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct server_listener *l = arg;
	struct server *srv = l->srv;
	struct session *s;
	char client[SERVER_ADDR_MAX];

	(void)evl;
	(void)salen;
	server_format_sockaddr(sa, client, sizeof(client));
	if (srv->nsessions >= SERVER_MAX_SESSIONS) {
		server_refuse(l, fd, client);
		return;
	}
	if ((s = session_new(l, fd, sa)) == NULL) {
		evutil_closesocket(fd);
		log_error("smtp.accept_failed", "listener=%s client=%s "
		    "reason=out-of-memory", l->conf->name, client);
		return;
	}
	log_info("smtp.connect", "session=%06" PRIx64 " listener=%s client=%s",
	    s->id, l->conf->name, s->client);
	if (!s->tls)
		session_enter(s, SESSION_COMMAND);
	else
		session_enter(s, SESSION_TLS_HANDSHAKE);
}

/*
 * accept() failed. Out of descriptors or memory, the pending connection
 * stays queued and the socket stays readable: without a pause the loop
 * would spin, so the listener rests for a moment.
 */
static void
server_on_accept_error(struct evconnlistener *evl, void *arg)
{
	struct server_listener *l = arg;
	struct timeval rest = { SERVER_ACCEPT_BACKOFF, 0 };
	int err = EVUTIL_SOCKET_ERROR();
	bool rest_needed;

	rest_needed = err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM;
	log_warn("smtp.accept_error", "listener=%s error=\"%s\" pause=%d",
	    l->conf->name, strerror(err),
	    rest_needed ? SERVER_ACCEPT_BACKOFF : 0);
	if (rest_needed) {
		evconnlistener_disable(evl);
		evtimer_add(l->backoff, &rest);
	}
}

static void
server_on_accept_backoff(evutil_socket_t fd, short what, void *arg)
{
	struct server_listener *l = arg;

	(void)fd;
	(void)what;
	if (l->evl != NULL)
		evconnlistener_enable(l->evl);
}

/* socket, bind and listen by hand so errno reaches the message. */
static evutil_socket_t
server_socket_bind(const struct config_listener *c, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&ss;
	struct ip_addr ip;
	socklen_t sslen;
	evutil_socket_t fd;
	int one = 1, saved;

	if (ip_parse(c->address, strlen(c->address), &ip) == -1) {
		snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address",
		    c->address);
		return -1;
	}
	memset(&ss, 0, sizeof(ss));
	if (ip.family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(c->port);
		memcpy(&sin6->sin6_addr, ip.a, 16);
		sslen = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(c->port);
		memcpy(&sin->sin_addr, ip.a, 4);
		sslen = sizeof(*sin);
	}
	fd = socket(ip.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* IPV6_V6ONLY lets [::] and 0.0.0.0 be two listeners on one port */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    (ip.family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) == -1) ||
	    bind(fd, (struct sockaddr *)&ss, sslen) == -1 ||
	    listen(fd, SERVER_BACKLOG) == -1) {
		saved = errno;
		close(fd);
		snprintf(err, errlen, "%s", strerror(saved));
		return -1;
	}
	return fd;
}

static int
server_listen(struct server *srv, const struct config_listener *c)
{
	struct server_listener *l = &srv->listeners[srv->nlisteners];
	struct ip_addr ip;
	char err[256];
	evutil_socket_t fd;

	l->srv = srv;
	l->conf = c;
	if (ip_parse(c->address, strlen(c->address), &ip) == 0)
		server_format_addr(&ip, c->port, l->address, sizeof(l->address));
	else
		snprintf(l->address, sizeof(l->address), "%s:%u", c->address,
		    (unsigned)c->port);
	if ((fd = server_socket_bind(c, err, sizeof(err))) == -1) {
		fprintf(stderr, "netjes serve: cannot listen on %s "
		    "(listener %s): %s\n", l->address, c->name, err);
		return -1;
	}
	/* backlog 0: the socket is already listening */
	l->evl = evconnlistener_new(srv->base, server_on_accept, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (l->evl == NULL) {
		close(fd);
		fprintf(stderr, "netjes serve: cannot listen on %s "
		    "(listener %s): event setup failed\n", l->address, c->name);
		return -1;
	}
	evconnlistener_set_error_cb(l->evl, server_on_accept_error);
	srv->nlisteners++;
	if ((l->backoff = evtimer_new(srv->base, server_on_accept_backoff,
	    l)) == NULL) {
		fprintf(stderr, "netjes serve: cannot listen on %s "
		    "(listener %s): event setup failed\n", l->address, c->name);
		return -1;
	}
	return 0;
}

static int
server_listen_all(struct server *srv)
{
	const struct config *cfg = srv->cfg;
	size_t i;

	if (cfg->nlisteners == 0) {
		fprintf(stderr, "netjes serve: no listeners configured\n");
		return -1;
	}
	for (i = 0; i < cfg->nlisteners; i++)
		if (server_listen(srv, &cfg->listeners[i]) == -1)
			return -1;
	for (i = 0; i < srv->nlisteners; i++) {
		const struct config_listener *c = srv->listeners[i].conf;

		if (strcmp(c->name, config_listener_mode_name(c->mode)) == 0)
			fprintf(stderr, "netjes: listening on %s (%s)\n",
			    srv->listeners[i].address, c->name);
		else
			fprintf(stderr, "netjes: listening on %s (%s, %s)\n",
			    srv->listeners[i].address, c->name,
			    config_listener_mode_name(c->mode));
	}
	return 0;
}

static void
server_close_listeners(struct server *srv)
{
	size_t i;

	for (i = 0; i < srv->nlisteners; i++) {
		if (srv->listeners[i].evl != NULL)
			evconnlistener_free(srv->listeners[i].evl);
		srv->listeners[i].evl = NULL;
		if (srv->listeners[i].backoff != NULL)
			event_free(srv->listeners[i].backoff);
		srv->listeners[i].backoff = NULL;
	}
}

/* ---- signals ------------------------------------------------------ */

static void
server_stop(struct server *srv, const char *signame)
{
	struct timeval grace = { SERVER_STOP_GRACE, 0 };
	struct session *s, *next;

	if (srv->stopping) {
		/* a second signal: do not wait for slow clients */
		event_base_loopbreak(srv->base);
		return;
	}
	srv->stopping = true;
	log_info("server.stop", "signal=%s sessions=%zu", signame,
	    srv->nsessions);
	server_close_listeners(srv);
	for (s = LIST_FIRST(&srv->sessions); s != NULL; s = next) {
		next = LIST_NEXT(s, entry);
		session_shutdown(s);
	}
	if (LIST_EMPTY(&srv->sessions))
		event_base_loopbreak(srv->base);
	else
		evtimer_add(srv->stop_timer, &grace);
}

static void
server_on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	server_stop(arg, sig == SIGINT ? "SIGINT" : "SIGTERM");
}

static void
server_on_stop_timer(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(srv->base);
}

static void
server_on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;
	char err[TLS_ERR_MAX], quoted[TLS_ERR_MAX + 64];
	char path[PATH_MAX + 64];

	(void)sig;
	(void)what;
	log_quote(path, sizeof(path), tls_server_cert_path(srv->tls));
	if (tls_server_reload(srv->tls, err, sizeof(err)) == 0)
		log_info("tls.reload", "cert=%s result=ok", path);
	else
		log_error("tls.reload", "cert=%s result=failed error=%s "
		    "action=kept-old-certificate", path,
		    log_quote(quoted, sizeof(quoted), err));
}

static int
server_events_setup(struct server *srv)
{
	if ((srv->base = event_base_new()) == NULL)
		return -1;
	srv->sig_int = evsignal_new(srv->base, SIGINT, server_on_stop_signal,
	    srv);
	srv->sig_term = evsignal_new(srv->base, SIGTERM, server_on_stop_signal,
	    srv);
	srv->sig_hup = evsignal_new(srv->base, SIGHUP, server_on_hup, srv);
	srv->stop_timer = evtimer_new(srv->base, server_on_stop_timer, srv);
	if (srv->sig_int == NULL || srv->sig_term == NULL ||
	    srv->sig_hup == NULL || srv->stop_timer == NULL ||
	    evsignal_add(srv->sig_int, NULL) == -1 ||
	    evsignal_add(srv->sig_term, NULL) == -1 ||
	    evsignal_add(srv->sig_hup, NULL) == -1)
		return -1;
	return 0;
}

/* ---- start and stop ----------------------------------------------- */

static int
server_tls_setup(struct server *srv)
{
	const struct config *cfg = srv->cfg;
	char cert[PATH_MAX], key[PATH_MAX], err[TLS_ERR_MAX];
	int created;

	/* config_load() insists on both or neither */
	if (cfg->tls_cert[0] != '\0') {
		snprintf(cert, sizeof(cert), "%s", cfg->tls_cert);
		snprintf(key, sizeof(key), "%s", cfg->tls_key);
	} else {
		if (tls_selfsigned_ensure(cfg->data_dir, cfg->hostname, cert, key,
		    sizeof(cert), &created, err, sizeof(err)) == -1) {
			fprintf(stderr, "netjes serve: %s\n", err);
			return -1;
		}
		if (created)
			log_info("tls.selfsigned", "cert=%s hostname=%s "
			    "result=created", cert, cfg->hostname);
	}
	if ((srv->tls = tls_server_new(cert, key, err, sizeof(err))) == NULL) {
		fprintf(stderr, "netjes serve: %s\n", err);
		return -1;
	}
	return 0;
}

static int
server_data_dir(const struct config *cfg)
{
	if (server_mkdirs(cfg->data_dir, 0700) == -1) {
		fprintf(stderr, "netjes serve: cannot create data directory "
		    "%s: %s\n", cfg->data_dir, strerror(errno));
		return -1;
	}
	return 0;
}

static void
server_free(struct server *srv)
{
	while (!LIST_EMPTY(&srv->sessions))
		session_free(LIST_FIRST(&srv->sessions), "shutdown");
	server_close_listeners(srv);
	if (srv->sig_int != NULL)
		event_free(srv->sig_int);
	if (srv->sig_term != NULL)
		event_free(srv->sig_term);
	if (srv->sig_hup != NULL)
		event_free(srv->sig_hup);
	if (srv->stop_timer != NULL)
		event_free(srv->stop_timer);
	tls_server_free(srv->tls);
	if (srv->base != NULL)
		event_base_free(srv->base);
	free(srv);
}

static void
server_ignore_sigpipe(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
}

int
server_run(const struct config *cfg)
{
	struct server *srv;
	int rc = 1;

	log_init(cfg->log_level, cfg->log_target, "netjes");
	server_ignore_sigpipe();
	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		fprintf(stderr, "netjes serve: out of memory\n");
		return 1;
	}
	srv->cfg = cfg;
	LIST_INIT(&srv->sessions);
	if (server_data_dir(cfg) == 0 && server_tls_setup(srv) == 0) {
		if (server_events_setup(srv) == -1)
			fprintf(stderr, "netjes serve: cannot set up the event "
			    "loop\n");
		else if (server_listen_all(srv) == 0) {
			log_info("server.start", "hostname=%s listeners=%zu",
			    cfg->hostname, srv->nlisteners);
			if (event_base_dispatch(srv->base) == 0 && srv->stopping)
				rc = 0;
		}
	}
	server_free(srv);
	return rc;
}
