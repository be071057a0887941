/*
 * server — listeners, signals and the parts sessions share. See server.h.
 *
 * Everything runs on one libevent loop. A listener is a socket bound by
 * hand (so a failure can name the listener, the address and errno) and
 * handed to an evconnlistener; each accepted connection becomes a
 * session (session.c, the SMTP state machine). At startup the server
 * opens the spool and recovers it (messages committed before a stop or
 * a crash go to the delivery runner again), builds the recipient table
 * from the configured domains and aliases and the users file, and
 * starts the delivery runner. At a stop the sessions are told 421,
 * commits in flight finish, and the runner stops after its current
 * message: whatever is still queued is delivered after the next start.
 *
 * Reload (SIGHUP) reads the config file, the users file and the
 * certificate again and builds a new generation of the settings
 * (struct server_conf) beside the old one: new sessions take the new
 * one, open sessions finish under the one they started with, and an
 * old generation is freed after its last session. A reload with any
 * error changes nothing. Listeners, data and mail directories, the
 * hostname, DNS and the log target are bound at start: a reload that
 * changes them keeps the running values and says a restart is needed.
 * A change of the users file alone (netjes user add, an editor) makes a
 * new generation the same way, by itself: the passwd worker thread looks
 * at the file every second and hands the loop a new reading, so the
 * loop never reads the file and new users are recipients within a second.
 */
#include "smtp/server.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/resource.h>
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

#include "core/fsutil.h"
#include "core/ip.h"
#include "core/log.h"
#include "deliver/delivery.h"
#include "deliver/local.h"
#include "dns/dns.h"
#include "priv/keyholder.h"
#include "priv/keyproxy.h"
#include "priv/privsep.h"
#include "queue/spool.h"
#include "smtp/authlimit.h"
#include "store/kv.h"
#include "smtp/session.h"
#include "smtp/tls.h"
#include "store/passwd.h"

#define SERVER_BACKLOG		128
/* Seconds a listener rests after accept() ran out of descriptors */
#define SERVER_ACCEPT_BACKOFF	1
/* "[" address "]:" port */
#define SERVER_ADDR_MAX		(IP_STRLEN + 9)
/* Microseconds a stopping server gives closing TLS connections */
#define SERVER_FLUSH_USEC	200000
/* How often the users file is looked at (from the worker, a stat) */
#define SERVER_USERS_POLL_MS	1000

struct server;

struct server_listener {
	struct server			*srv;
	const struct config_listener	*conf;
	struct evconnlistener		*evl;
	struct event			*backoff;	/* re-enables evl */
	char				 address[SERVER_ADDR_MAX];
};

/*
 * One generation of the settings (session.h). The first uses the config
 * the server was started with (its caller owns it); each good reload
 * makes one that owns its config. Every live generation is on
 * srv->confs: the current one holds a reference of its own, the others
 * are freed (from the loop, by srv->reap) after their last session.
 */
/* A reload's config, shared by its generation and those a users file
 * change makes from it; freed with the last of them. */
struct server_cfg_hold {
	struct config		*cfg;
	unsigned		 refs;
};

struct server_conf {
	struct session_conf	 sc;		/* first: see server_conf_of() */
	struct server		*srv;
	struct server_cfg_hold	*hold;		/* a reload's config, or NULL */
	unsigned		 generation;	/* 1 at start, +1 a reload */
	size_t			 nusers;	/* entries in the users file */
	LIST_ENTRY(server_conf)	 entry;
};

struct server {
	struct session_host	 host;		/* first: see server_on_gone */
	/* the config as started: listeners, directories, DNS, hostname;
	 * its paths are as seen from the data directory (server_localize) */
	const struct config	*cfg;
	struct keyproxy		*keys;		/* the key holder (privsep.h) */
	const int		*fds;		/* bound listeners, by index */
	char			 cwd[PATH_MAX];	/* where relative paths began */
	char			 data_abs[PATH_MAX];	/* the data directory */
	struct event_base	*base;
	struct tls_server	*tls;
	struct spool		*spool;
	struct delivery		*delivery;
	struct server_conf	*conf;		/* current generation */
	LIST_HEAD(, server_conf) confs;		/* every live generation */
	struct event		*reap;		/* frees unused generations */
	unsigned		 generations;	/* the current one's number */
	char			 mail_root[PATH_MAX];
	struct server_listener	 listeners[CONFIG_MAX_LISTENERS];
	size_t			 nlisteners;
	struct event		*sig_int;
	struct event		*sig_term;
	struct event		*sig_hup;
	struct event		*stop_timer;
	bool			 stopping;
};

static void server_watch_users(struct server *);
static void server_on_users_changed(struct passwd_snapshot *, void *);

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

/*
 * Why the server cannot start, as one log line. log_init() runs before
 * anything here, and its default target is stderr, so the terminal of
 * `netjes serve` shows the reason (with syslog, log.c copies errors to
 * a terminal as well).
 */
static void	server_start_failed(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

static void
server_start_failed(const char *fmt, ...)
{
	char why[LOG_QUOTE_MAX], q[LOG_QUOTE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_error("server.start", "result=failed reason=%s",
	    log_quote(q, sizeof(q), why));
}

/* Stopping and every session is gone: leave the loop, after a moment
 * for last TLS replies still on their way to the socket (see
 * tls_server_close()); they are not waited for beyond it. */
static void
server_done(struct server *srv)
{
	struct timeval flush = { 0, SERVER_FLUSH_USEC };

	if (tls_server_nclosing(srv->tls) == 0)
		event_base_loopbreak(srv->base);
	else
		event_base_loopexit(srv->base, &flush);
}

/* A session went away: nothing left to wait for while stopping? */
static void
server_on_gone(struct session_host *h)
{
	struct server *srv = (struct server *)(void *)h;

	if (srv->stopping && LIST_EMPTY(&h->sessions))
		server_done(srv);
}

/* ---- listeners ---------------------------------------------------- */

/* Too many sessions: a plain client hears 421, a TLS client a close. */
static void
server_refuse(struct server_listener *l, evutil_socket_t fd,
    const char *client, const char *why)
{
	char msg[CONFIG_HOST_MAX + 64];
	int n;

	if (l->conf->mode != LISTENER_SMTPS) {
		n = snprintf(msg, sizeof(msg), "421 4.7.0 %s Too many "
		    "connections, try again later\r\n",
		    l->srv->host.cfg->hostname);
		if (n > 0 && (size_t)n < sizeof(msg))
			(void)send(fd, msg, (size_t)n, MSG_NOSIGNAL |
			    MSG_DONTWAIT);
	}
	evutil_closesocket(fd);
	log_warn("smtp.refused", "listener=%s client=%s reason=%s "
	    "sessions=%zu", l->conf->name, client, why,
	    l->srv->host.nsessions);
}

static void
server_on_accept(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct server_listener *l = arg;
	struct server *srv = l->srv;
	char client[SERVER_ADDR_MAX];
	struct ip_addr ip;

	(void)evl;
	(void)salen;
	server_format_sockaddr(sa, client, sizeof(client));
	if (srv->host.nsessions >= srv->host.cfg->limits.connections) {
		server_refuse(l, fd, client, "too-many-sessions");
		return;
	}
	if (ip_from_sockaddr(sa, &ip) == 0) {
		ip_unmap_v4(&ip);
		if (session_count_ip(&srv->host, &ip) >=
		    srv->host.cfg->limits.connections_per_ip) {
			server_refuse(l, fd, client, "too-many-per-ip");
			return;
		}
	}
	if (session_new(&srv->host, l->conf, fd, sa) == NULL) {
		evutil_closesocket(fd);
		log_error("smtp.accept_failed", "listener=%s client=%s "
		    "reason=out-of-memory", l->conf->name, client);
	}
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

/* "address:port" of c, for messages. */
static void
server_listener_name(const struct config_listener *c, char *out, size_t n)
{
	struct ip_addr ip;

	if (ip_parse(c->address, strlen(c->address), &ip) == 0)
		server_format_addr(&ip, c->port, out, n);
	else
		snprintf(out, n, "%s:%u", c->address, (unsigned)c->port);
}

/* Bind every listener of cfg into fds (before privileges go: ports
 * below 1024). 0, or -1 after a log line (fds closed). */
static int
server_bind_all(const struct config *cfg, int *fds)
{
	char err[256], name[SERVER_ADDR_MAX];
	size_t i, j;

	if (cfg->nlisteners == 0) {
		server_start_failed("no listeners configured");
		return -1;
	}
	for (i = 0; i < cfg->nlisteners; i++) {
		if ((fds[i] = server_socket_bind(&cfg->listeners[i], err,
		    sizeof(err))) != -1)
			continue;
		server_listener_name(&cfg->listeners[i], name, sizeof(name));
		server_start_failed("cannot listen on %s (listener %s): %s",
		    name, cfg->listeners[i].name, err);
		for (j = 0; j < i; j++)
			close(fds[j]);
		return -1;
	}
	return 0;
}

static int
server_listen(struct server *srv, const struct config_listener *c,
    evutil_socket_t fd)
{
	struct server_listener *l = &srv->listeners[srv->nlisteners];

	l->srv = srv;
	l->conf = c;
	server_listener_name(c, l->address, sizeof(l->address));
	/* backlog 0: the socket is already listening */
	l->evl = evconnlistener_new(srv->base, server_on_accept, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (l->evl == NULL) {
		close(fd);
		server_start_failed("cannot listen on %s (listener %s): "
		    "event setup failed", l->address, c->name);
		return -1;
	}
	evconnlistener_set_error_cb(l->evl, server_on_accept_error);
	srv->nlisteners++;
	if ((l->backoff = evtimer_new(srv->base, server_on_accept_backoff,
	    l)) == NULL) {
		server_start_failed("cannot listen on %s (listener %s): "
		    "event setup failed", l->address, c->name);
		return -1;
	}
	return 0;
}

static int
server_listen_all(struct server *srv)
{
	const struct config *cfg = srv->cfg;
	size_t i;

	for (i = 0; i < cfg->nlisteners; i++)
		if (server_listen(srv, &cfg->listeners[i], srv->fds[i]) == -1) {
			while (++i < cfg->nlisteners)
				close(srv->fds[i]);
			return -1;
		}
	for (i = 0; i < srv->nlisteners; i++) {
		const struct config_listener *c = srv->listeners[i].conf;
		char q[LOG_QUOTE_MAX];

		log_info("server.listening", "listener=%s mode=%s address=%s",
		    log_quote(q, sizeof(q), c->name),
		    config_listener_mode_name(c->mode),
		    srv->listeners[i].address);
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
	struct session_host *h = &srv->host;

	if (srv->stopping) {
		/* a second signal: do not wait for slow clients */
		event_base_loopbreak(srv->base);
		return;
	}
	srv->stopping = true;
	h->stopping = true;
	passwd_db_unwatch(srv->conf->sc.users);
	log_info("server.stop", "signal=%s sessions=%zu", signame,
	    h->nsessions);
	server_close_listeners(srv);
	session_shutdown_all(h);
	if (LIST_EMPTY(&h->sessions))
		server_done(srv);
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

static void	server_reload(struct server *);
static void	server_on_reap(evutil_socket_t, short, void *);

static void
server_on_hup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	server_reload(arg);
}

/*
 * Each session holds one descriptor (two while a delivery or users-file
 * check runs beside it); the usual soft limit of 1024 would refuse
 * sessions long before [limits] connections. The soft limit goes up to
 * the hard one; a hard limit too low for the setting is logged, since
 * accept() will then fail first (and back off) instead of answering 421.
 */
static void
server_raise_nofile(const struct config *cfg)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)cfg->limits.connections + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max && rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < want)
		log_warn("server.nofile", "limit=%llu connections=%u "
		    "result=too-low action=raise-hard-limit",
		    (unsigned long long)rl.rlim_cur, cfg->limits.connections);
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
	srv->reap = event_new(srv->base, -1, 0, server_on_reap, srv);
	if (srv->reap == NULL || srv->sig_int == NULL ||
	    srv->sig_term == NULL || srv->sig_hup == NULL ||
	    srv->stop_timer == NULL ||
	    evsignal_add(srv->sig_int, NULL) == -1 ||
	    evsignal_add(srv->sig_term, NULL) == -1 ||
	    evsignal_add(srv->sig_hup, NULL) == -1)
		return -1;
	return 0;
}

/* ---- start and stop ----------------------------------------------- */

/* The certificate and key cfg names, or the self-signed default (made
 * when missing). 0, or -1 with a reason in err. */
static int
server_tls_files(const struct config *cfg, char *cert, char *key, size_t n,
    char *err, size_t errlen)
{
	int created;

	/* config_load() insists on both or neither */
	if (cfg->tls_cert[0] != '\0') {
		snprintf(cert, n, "%s", cfg->tls_cert);
		snprintf(key, n, "%s", cfg->tls_key);
		return 0;
	}
	if (tls_selfsigned_ensure(cfg->data_dir, cfg->hostname, cert, key, n,
	    &created, err, errlen) == -1)
		return -1;
	if (created)
		log_info("tls.selfsigned", "cert=%s hostname=%s "
		    "result=created", cert, cfg->hostname);
	return 0;
}

static int
server_tls_setup(struct server *srv)
{
	char err[TLS_ERR_MAX];

	if ((srv->tls = tls_server_new(srv->keys, err, sizeof(err))) == NULL) {
		server_start_failed("%s", err);
		return -1;
	}
	return 0;
}

static int
server_data_dir(const struct config *cfg)
{
	if (fsutil_mkdir_p(cfg->data_dir, 0700, 0, NULL, 0) == -1) {
		server_start_failed("cannot create data directory %s: %s",
		    cfg->data_dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- mail: spool, recipients, delivery ------------------------------ */

/* dir/name (or dir alone when name is NULL); -1 with a message when it
 * does not fit. */
static int
server_path(char *out, size_t n, const char *dir, const char *name)
{
	int len = name != NULL ? snprintf(out, n, "%s/%s", dir, name) :
	    snprintf(out, n, "%s", dir);

	if (len < 0 || (size_t)len >= n) {
		server_start_failed("path too long under %s", dir);
		return -1;
	}
	return 0;
}

/* Splits "a, b@x" into the table's target list and adds the alias. */
static int
server_add_alias(struct local_table *t, const struct config_alias *a,
    const char **why)
{
	char copy[CONFIG_TARGETS_MAX], *save = NULL, *tok;
	const char *targets[CONFIG_TARGETS_MAX / 2];
	size_t n = 0;

	snprintf(copy, sizeof(copy), "%s", a->targets);
	for (tok = strtok_r(copy, ", ", &save); tok != NULL &&
	    n < sizeof(targets) / sizeof(*targets);
	    tok = strtok_r(NULL, ", ", &save))
		targets[n++] = tok;
	return local_table_add_alias(t, a->addr, targets, n, why);
}

/* The recipient table of c from cfg and c's users; -1 with why set. */
static int
server_conf_fill(struct server_conf *c, const struct config *cfg,
    const char **why)
{
	struct local_table *t = c->sc.local;
	const struct passwd_list *list = passwd_db_list(c->sc.users);
	const char *at;
	size_t i;

	for (i = 0; i < cfg->ndomains && *why == NULL; i++)
		(void)local_table_add_domain(t, cfg->domains[i].name,
		    cfg->domains[i].catchall[0] != '\0' ?
		    cfg->domains[i].catchall : NULL, why);
	if (*why == NULL)
		(void)local_table_set_separators(t, cfg->recipient_delimiter,
		    why);
	for (i = 0; list != NULL && i < list->nentries && *why == NULL;
	    i++) {
		at = strrchr(list->entries[i].user, '@');
		if (at == NULL || !config_is_local_domain(cfg, at + 1)) {
			log_warn("users.skipped", "user=%s reason=not-in-a-"
			    "local-domain", list->entries[i].user);
			continue;
		}
		(void)local_table_add_user(t, list->entries[i].user, NULL,
		    why);
	}
	for (i = 0; i < cfg->naliases && *why == NULL; i++)
		(void)server_add_alias(t, &cfg->aliases[i], why);
	if (*why == NULL)
		(void)local_table_seal(t, why);
	c->nusers = list != NULL ? list->nentries : 0;
	return *why == NULL ? 0 : -1;
}

static struct server_conf *
server_conf_of(struct session_conf *sc)
{
	/* sc is the first member */
	return (struct server_conf *)(void *)sc;
}

static void
server_conf_free(struct server_conf *c)
{
	LIST_REMOVE(c, entry);
	local_table_free(c->sc.local);
	if (c->sc.users != NULL)
		passwd_db_free(c->sc.users);
	if (c->hold != NULL && --c->hold->refs == 0) {
		config_free(c->hold->cfg);
		free(c->hold->cfg);
		free(c->hold);
	}
	free(c);
}

/* The last session of an old generation ended. The free waits for the
 * loop: the session may be ending inside one of the users db's
 * callbacks, where the db must not be freed. */
static void
server_on_conf_unused(struct session_conf *sc)
{
	event_active(server_conf_of(sc)->srv->reap, EV_TIMEOUT, 0);
}

static void
server_on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct server_conf *c, *next;

	(void)fd;
	(void)what;
	for (c = LIST_FIRST(&srv->confs); c != NULL; c = next) {
		next = LIST_NEXT(c, entry);
		if (c->sc.refs != 0)
			continue;
		log_info("config.retired", "generation=%u", c->generation);
		server_conf_free(c);
	}
}

/* c's users db and recipient table from path (or snap, a reading of
 * it the watch made; consumed) and cfg; -1 with err. */
static int
server_conf_load(struct server_conf *c, const struct config *cfg,
    const char *path, struct passwd_snapshot *snap, char *err, size_t errlen)
{
	const char *why = NULL;
	struct stat st;

	if ((c->sc.users = passwd_db_new(path)) == NULL ||
	    (c->sc.local = local_table_new(c->srv->mail_root)) == NULL) {
		passwd_snapshot_free(snap);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* AUTH is offered only when there is a users file at all */
	if (snap != NULL) {
		c->sc.auth_available = passwd_snapshot_present(snap);
		if (passwd_db_adopt(c->sc.users, snap) != 0) {
			snprintf(err, errlen, "cannot read users file %s",
			    path);
			return -1;
		}
	} else {
		c->sc.auth_available = stat(path, &st) == 0;
		if (passwd_db_refresh(c->sc.users) != 0) {
			snprintf(err, errlen, "cannot read users file %s",
			    path);
			return -1;
		}
	}
	if (server_conf_fill(c, cfg, &why) != 0) {
		snprintf(err, errlen, "recipients: %s", why);
		return -1;
	}
	return 0;
}

/*
 * A generation for cfg: the users file read afresh and the recipient
 * table built from the configured domains (with their catch-alls),
 * every user of the users file whose domain is local, and the aliases.
 * A user in a domain that is not ours is skipped with a warning. It
 * takes a reference to hold (cfg's owner, or NULL) once it is made, and
 * consumes snap (NULL: read the file now); NULL with a reason in err.
 */
static struct server_conf *
server_conf_new(struct server *srv, const struct config *cfg,
    struct server_cfg_hold *hold, struct passwd_snapshot *snap, char *err,
    size_t errlen)
{
	struct server_conf *c;
	char path[PATH_MAX];
	int n;

	n = cfg->users_file[0] != '\0' ?
	    snprintf(path, sizeof(path), "%s", cfg->users_file) :
	    snprintf(path, sizeof(path), "%s/users", cfg->data_dir);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		passwd_snapshot_free(snap);
		snprintf(err, errlen, "users file path too long");
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		passwd_snapshot_free(snap);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->srv = srv;
	c->generation = srv->generations + 1;
	c->sc.cfg = cfg;
	c->sc.on_unused = server_on_conf_unused;
	LIST_INSERT_HEAD(&srv->confs, c, entry);
	if (server_conf_load(c, cfg, path, snap, err, errlen) != 0) {
		server_conf_free(c);
		return NULL;
	}
	if ((c->hold = hold) != NULL)
		hold->refs++;
	log_info("users.loaded", "file=%s users=%zu aliases=%zu", path,
	    c->nusers, cfg->naliases);
	return c;
}

/* The first generation, from the config the server started with. */
static int
server_conf_setup(struct server *srv)
{
	char err[PATH_MAX + 64];

	if ((srv->conf = server_conf_new(srv, srv->cfg, NULL, NULL, err,
	    sizeof(err))) == NULL) {
		server_start_failed("%s", err);
		return -1;
	}
	srv->generations = srv->conf->generation;
	srv->host.conf = session_conf_ref(&srv->conf->sc);
	srv->host.cfg = srv->cfg;
	return 0;
}

/* The resolver the sessions' authentication checks share ([dns]). */
static int
server_dns_setup(struct server *srv)
{
	struct dns_options o;
	const char *err = NULL;

	memset(&o, 0, sizeof(o));
	o.nameserver = srv->cfg->dns_nameserver[0] != '\0' ?
	    srv->cfg->dns_nameserver : NULL;
	o.timeout = srv->cfg->dns_timeout;
	o.cache = true;
	if ((srv->host.resolver = dns_unbound_new(srv->base, &o,
	    &err)) == NULL) {
		server_start_failed("cannot set up the resolver: %s",
		    err != NULL ? err : "unknown error");
		return -1;
	}
	return 0;
}

/* The Maildir root cfg names: [delivery] mail_root or DATA_DIR/mail. */
static int
server_mail_root(const struct config *cfg, char *out, size_t n)
{
	return server_path(out, n, cfg->mail_root[0] != '\0' ?
	    cfg->mail_root : cfg->data_dir, cfg->mail_root[0] != '\0' ?
	    NULL : "mail");
}

/* The queue life cycle and the local domains, to the delivery runner. */
static void
server_delivery_policy(struct server *srv, const struct config *cfg)
{
	struct delivery_policy pol;
	const char **names;
	size_t i;

	if ((names = calloc(cfg->ndomains + 1, sizeof(*names))) == NULL)
		abort();
	for (i = 0; i < cfg->ndomains; i++)
		names[i] = cfg->domains[i].name;
	pol.retry_interval = cfg->delivery_retry_interval;
	pol.retry_max = cfg->delivery_retry_max;
	pol.queue_lifetime = cfg->delivery_queue_lifetime;
	pol.delay_warning = cfg->delivery_delay_warning;
	delivery_set_policy(srv->delivery, &pol, names, cfg->ndomains);
	free(names);
}

/* The spool, recovered; the Maildir root; the runner with the backlog. */
static int
server_mail_setup(struct server *srv)
{
	const struct config *cfg = srv->cfg;
	struct spool_recovery rec;
	char dir[PATH_MAX], reason[SPOOL_REASON_MAX];
	size_t i;

	if (server_path(dir, sizeof(dir), cfg->data_dir, "spool") != 0)
		return -1;
	if ((srv->spool = spool_open(dir, reason, sizeof(reason))) == NULL) {
		server_start_failed("spool: %s", reason);
		return -1;
	}
	if (spool_recover(srv->spool, &rec, reason, sizeof(reason)) != 0) {
		server_start_failed("spool recovery: %s", reason);
		return -1;
	}
	if (spool_attach(srv->spool, srv->base) != 0) {
		spool_recovery_free(&rec);
		server_start_failed("spool: event setup failed");
		return -1;
	}
	if (server_mail_root(cfg, srv->mail_root, sizeof(srv->mail_root)) !=
	    0) {
		spool_recovery_free(&rec);
		return -1;
	}
	/* relative (to the data directory we run in) when it is below it */
	if (fsutil_mkdir_p(srv->mail_root, 0700, 0, NULL, 0) == -1) {
		spool_recovery_free(&rec);
		server_start_failed("cannot create mail root %s: %s",
		    srv->mail_root, strerror(errno));
		return -1;
	}
	if (server_conf_setup(srv) != 0 ||
	    (srv->delivery = delivery_new(srv->spool, srv->mail_root,
	    cfg->hostname, reason, sizeof(reason))) == NULL) {
		if (srv->conf != NULL && srv->delivery == NULL)
			server_start_failed("%s", reason);
		spool_recovery_free(&rec);
		return -1;
	}
	server_delivery_policy(srv, cfg);
	server_watch_users(srv);
	for (i = 0; i < rec.nids; i++)
		delivery_enqueue(srv->delivery, rec.ids[i], true);
	spool_recovery_free(&rec);
	if (server_dns_setup(srv) != 0)
		return -1;
	srv->host.base = srv->base;
	srv->host.tls = srv->tls;
	srv->host.spool = srv->spool;
	srv->host.delivery = srv->delivery;
	srv->host.on_gone = server_on_gone;
	return 0;
}

/*
 * A path setting as the child sees it: the child runs inside the data
 * directory, and may not be able to name it (a checkout under /root,
 * a test's private temporary directory). A path below the data
 * directory becomes relative to it, any other relative one absolute.
 */
static void
server_localize_path(char *path, size_t n, const char *cwd,
    const char *data_abs)
{
	char abs[PATH_MAX];
	size_t dlen = strlen(data_abs);

	if (path[0] == '\0')
		return;
	if (path[0] == '/')
		snprintf(abs, sizeof(abs), "%s", path);
	else if (snprintf(abs, sizeof(abs), "%s/%s", cwd, path) >=
	    (int)sizeof(abs))
		return;
	if (strncmp(abs, data_abs, dlen) == 0 && abs[dlen] == '/')
		snprintf(path, n, "%s", abs + dlen + 1);
	else
		snprintf(path, n, "%s", abs);
}

static void
server_localize(struct config *cfg, const char *cwd, const char *data_abs)
{
	snprintf(cfg->data_dir, sizeof(cfg->data_dir), ".");
	server_localize_path(cfg->users_file, sizeof(cfg->users_file), cwd,
	    data_abs);
	server_localize_path(cfg->mail_root, sizeof(cfg->mail_root), cwd,
	    data_abs);
}

/* ---- reload (SIGHUP) ------------------------------------------------ */

/* The config file for messages: its path, or the embedded default. */
static const char *
server_config_name(const struct server *srv, char *out, size_t n)
{
	return log_quote(out, n, srv->cfg->path[0] != '\0' ? srv->cfg->path :
	    "embedded-default");
}

/* The file the server started with, again (the embedded default when
 * it started without one), each error logged. NULL when it has any. */
static struct config *
server_reload_config(const struct server *srv)
{
	struct config_errors errs = { NULL, 0 };
	struct config *cfg;
	char name[PATH_MAX + 64], reason[600], qerr[700], *text;
	size_t i, len;
	int n = 0, embedded;

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		log_error("config.reload", "result=failed error=out-of-memory "
		    "action=kept-old-config");
		return NULL;
	}
	config_defaults(cfg);
	/* the key holder reads the file: it may be root's alone */
	if (keyproxy_config(srv->keys, &text, &len, &embedded, reason,
	    sizeof(reason)) == -1) {
		log_error("config.reload", "result=failed file=%s error=%s "
		    "action=kept-old-config", server_config_name(srv, name,
		    sizeof(name)), log_quote(qerr, sizeof(qerr), reason));
		free(cfg);
		return NULL;
	}
	if (!embedded)
		n = config_load_string(cfg, text, len, srv->cfg->path, &errs);
	free(text);
	if (n == 0)
		server_localize(cfg, srv->cwd, srv->data_abs);
	for (i = 0; i < errs.n; i++)
		log_error("config.error", "file=%s line=%d reason=%s",
		    log_quote(name, sizeof(name), errs.v[i].file),
		    errs.v[i].line, log_quote(reason, sizeof(reason),
		    errs.v[i].reason));
	config_errors_free(&errs);
	if (n == 0)
		return cfg;
	log_error("config.reload", "result=failed file=%s errors=%d "
	    "action=kept-old-config", server_config_name(srv, name,
	    sizeof(name)), n);
	config_free(cfg);
	free(cfg);
	return NULL;
}

static bool
server_listeners_equal(const struct config *a, const struct config *b)
{
	size_t i;

	if (a->nlisteners != b->nlisteners)
		return false;
	for (i = 0; i < a->nlisteners; i++)
		if (strcmp(a->listeners[i].name, b->listeners[i].name) != 0 ||
		    strcmp(a->listeners[i].address,
		    b->listeners[i].address) != 0 ||
		    a->listeners[i].port != b->listeners[i].port ||
		    a->listeners[i].mode != b->listeners[i].mode)
			return false;
	return true;
}

static void
server_restart_needed(const char *setting)
{
	log_warn("config.reload", "setting=%s result=restart-needed "
	    "action=kept-running-value", setting);
}

/* A bound-at-start string setting: the running value stays. */
static void
server_keep_string(const char *setting, char *now, const char *running,
    size_t n)
{
	if (strcmp(now, running) == 0)
		return;
	server_restart_needed(setting);
	snprintf(now, n, "%s", running);
}

/*
 * What a running server cannot change: the sockets are bound, the spool
 * and Maildirs are open, the delivery runner, the resolver, the log and
 * the self-signed certificate were made for these values. cfg takes the
 * running values, so it describes what is really in force.
 */
static void
server_keep_bound(const struct config *running, struct config *cfg)
{
	if (!server_listeners_equal(running, cfg)) {
		server_restart_needed("listeners");
		memcpy(cfg->listeners, running->listeners,
		    sizeof(cfg->listeners));
		cfg->nlisteners = running->nlisteners;
	}
	server_keep_string("server.hostname", cfg->hostname,
	    running->hostname, sizeof(cfg->hostname));
	server_keep_string("server.data_dir", cfg->data_dir,
	    running->data_dir, sizeof(cfg->data_dir));
	server_keep_string("delivery.mail_root", cfg->mail_root,
	    running->mail_root, sizeof(cfg->mail_root));
	server_keep_string("dns.nameserver", cfg->dns_nameserver,
	    running->dns_nameserver, sizeof(cfg->dns_nameserver));
	if (cfg->dns_timeout != running->dns_timeout) {
		server_restart_needed("dns.timeout");
		cfg->dns_timeout = running->dns_timeout;
	}
	if (cfg->log_target != running->log_target) {
		server_restart_needed("server.log_target");
		cfg->log_target = running->log_target;
	}
	if (cfg->log_format != running->log_format) {
		server_restart_needed("server.log_format");
		cfg->log_format = running->log_format;
	}
}

/* New connections get the certificate cfg names; -1: the old one stays. */
static int
server_reload_tls(struct server *srv, const struct config *cfg)
{
	char err[TLS_ERR_MAX], qcert[PATH_MAX + 64], qerr[TLS_ERR_MAX + 64];
	const char *cert = cfg->tls_cert[0] != '\0' ? cfg->tls_cert :
	    "self-signed";

	if (tls_server_reload(srv->tls, err, sizeof(err)) == 0) {
		log_info("tls.reload", "cert=%s result=ok",
		    log_quote(qcert, sizeof(qcert), cert));
		return 0;
	}
	log_error("tls.reload", "cert=%s result=failed error=%s "
	    "action=kept-old-certificate", log_quote(qcert, sizeof(qcert),
	    cert), log_quote(qerr, sizeof(qerr), err));
	return -1;
}

/* Swap in the new generation; the old one lives on in its sessions. */
/* Watch the current generation's users file (passwd.h): a change makes
 * the next generation, without SIGHUP and without reading on the loop. */
static void
server_watch_users(struct server *srv)
{
	if (passwd_db_watch(srv->conf->sc.users, srv->base,
	    SERVER_USERS_POLL_MS, server_on_users_changed, srv) != 0)
		log_warn("users.watch", "result=failed action=reload-on-sighup");
}

static void
server_reload_commit(struct server *srv, struct server_conf *next)
{
	struct server_conf *old = srv->conf;

	/* the old generation's file watch would only repeat the news */
	passwd_db_unwatch(old->sc.users);
	srv->conf = next;
	srv->generations = next->generation;
	srv->host.conf = session_conf_ref(&next->sc);
	srv->host.cfg = next->sc.cfg;
	server_delivery_policy(srv, next->sc.cfg);
	session_conf_unref(&old->sc);
	server_watch_users(srv);
}

/*
 * The users file changed (the worker read it): a generation with the
 * same config and the new users, as a SIGHUP would make, so new users
 * are recipients and can log in at once. Open sessions keep theirs. A
 * file that became unreadable keeps the users we have.
 */
static void
server_on_users_changed(struct passwd_snapshot *snap, void *arg)
{
	struct server *srv = arg;
	struct server_conf *cur = srv->conf, *next;
	char err[PATH_MAX + 64], qerr[PATH_MAX + 128], q[PATH_MAX + 8];
	int error;

	if (srv->stopping) {
		passwd_snapshot_free(snap);
		return;
	}
	if ((error = passwd_snapshot_error(snap)) != 0) {
		log_error("users.reload", "result=failed file=%s error=%s "
		    "action=kept-old-users", log_quote(q, sizeof(q),
		    passwd_db_path(cur->sc.users)), strerror(error));
		passwd_snapshot_free(snap);
		return;
	}
	if ((next = server_conf_new(srv, cur->sc.cfg, cur->hold, snap, err,
	    sizeof(err))) == NULL) {
		log_error("users.reload", "result=failed error=%s "
		    "action=kept-old-users", log_quote(qerr, sizeof(qerr),
		    err));
		return;
	}
	server_reload_commit(srv, next);
	log_info("users.reload", "result=ok generation=%u users=%zu "
	    "sessions_on_older=%zu", next->generation, next->nusers,
	    srv->host.nsessions);
}

/*
 * SIGHUP: config file, users file and certificate, all or nothing. The
 * new generation is built completely (and the certificate loaded, the
 * last step that can fail) before anything changes.
 */
static void
server_reload(struct server *srv)
{
	struct server_cfg_hold *hold;
	struct server_conf *next;
	struct config *cfg;
	char name[PATH_MAX + 64], err[PATH_MAX + 64], qerr[PATH_MAX + 128];

	if (srv->stopping || (cfg = server_reload_config(srv)) == NULL)
		return;
	server_keep_bound(srv->cfg, cfg);
	if ((hold = calloc(1, sizeof(*hold))) == NULL ||
	    (hold->cfg = cfg, next = server_conf_new(srv, cfg, hold, NULL,
	    err, sizeof(err))) == NULL) {
		log_error("config.reload", "result=failed file=%s error=%s "
		    "action=kept-old-config", server_config_name(srv, name,
		    sizeof(name)), hold == NULL ? "out of memory" :
		    log_quote(qerr, sizeof(qerr), err));
		free(hold);
		config_free(cfg);
		free(cfg);
		return;
	}
	if (server_reload_tls(srv, cfg) != 0) {
		log_error("config.reload", "result=failed file=%s "
		    "error=certificate action=kept-old-config",
		    server_config_name(srv, name, sizeof(name)));
		server_conf_free(next);
		return;
	}
	server_reload_commit(srv, next);
	log_info("config.reload", "result=ok file=%s generation=%u domains=%zu "
	    "aliases=%zu users=%zu sessions_on_older=%zu",
	    server_config_name(srv, name, sizeof(name)), next->generation,
	    cfg->ndomains, cfg->naliases, next->nusers, srv->host.nsessions);
	/* after the line above, so the reload shows at the old level */
	log_set_level(cfg->log_level);
}

/*
 * Freeing a signal event restores the default action: a second SIGTERM
 * (the parent forwards every one) would then kill a child that is
 * already stopping, and the parent would report it killed. The signals
 * are blocked while their events go, then ignored, so one arriving in
 * between is dropped.
 */
static void
server_free_signals(struct server *srv)
{
	struct sigaction sa;
	sigset_t stop, old;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop, &old);
	if (srv->sig_int != NULL)
		event_free(srv->sig_int);
	if (srv->sig_term != NULL)
		event_free(srv->sig_term);
	if (srv->sig_hup != NULL)
		event_free(srv->sig_hup);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void
server_free(struct server *srv)
{
	srv->host.on_gone = NULL;
	while (!LIST_EMPTY(&srv->host.sessions))
		session_free(LIST_FIRST(&srv->host.sessions), "shutdown");
	server_close_listeners(srv);
	/* commits still in flight finish (their sessions are gone) and
	 * hand their messages to delivery before it stops */
	if (srv->spool != NULL)
		spool_drain(srv->spool);
	delivery_free(srv->delivery);
	if (srv->spool != NULL)
		spool_free(srv->spool);
	/* the sessions are gone, and with them every reference */
	while (!LIST_EMPTY(&srv->confs))
		server_conf_free(LIST_FIRST(&srv->confs));
	if (srv->host.resolver != NULL)
		dns_resolver_free(srv->host.resolver);
	authlimit_free(srv->host.authlimit);
	/* after the sessions: none of them has a request out any more */
	if (srv->host.kv != NULL)
		kv_free(srv->host.kv);
	if (srv->reap != NULL)
		event_free(srv->reap);
	server_free_signals(srv);
	if (srv->stop_timer != NULL)
		event_free(srv->stop_timer);
	tls_server_free(srv->tls);
	keyproxy_free(srv->keys);
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

/* ---- the two processes (privsep.h) ------------------------------- */

/* The state store ([store]): what the AUTH throttle shares between
 * MX hosts (Redis) or keeps across restarts (LMDB). */
static int
server_store_setup(struct server *srv)
{
	char err[512];

	if ((srv->host.kv = kv_open_from_config(srv->cfg, srv->base, err,
	    sizeof(err))) != NULL) {
		log_info("store.open", "backend=%s",
		    kv_backend_name(srv->host.kv));
		return 0;
	}
	server_start_failed("cannot open the store: %s", err);
	return -1;
}

/* The unprivileged server, from the loop to the stop. */
static int
server_child(const struct config *cfg, const int *fds, int chan,
    const char *cwd, const char *data_abs)
{
	struct server *srv;
	int rc = 1;

	if ((srv = calloc(1, sizeof(*srv))) == NULL ||
	    (srv->host.authlimit = authlimit_new(AUTHLIMIT_DEFAULT_CAP)) ==
	    NULL) {
		free(srv);
		server_start_failed("out of memory");
		close(chan);
		return 1;
	}
	srv->cfg = cfg;
	srv->host.cfg = cfg;
	srv->fds = fds;
	snprintf(srv->cwd, sizeof(srv->cwd), "%s", cwd);
	snprintf(srv->data_abs, sizeof(srv->data_abs), "%s", data_abs);
	LIST_INIT(&srv->host.sessions);
	LIST_INIT(&srv->confs);
	if ((srv->keys = keyproxy_new(chan)) == NULL)
		close(chan);
	else if (server_tls_setup(srv) == 0) {
		if (server_events_setup(srv) == -1)
			server_start_failed("cannot set up the event loop");
		else if (server_store_setup(srv) == 0 &&
		    server_mail_setup(srv) == 0 &&
		    server_listen_all(srv) == 0) {
			server_raise_nofile(cfg);
			log_info("server.start", "hostname=%s listeners=%zu "
			    "uid=%lu", cfg->hostname, srv->nlisteners,
			    (unsigned long)getuid());
			if (event_base_dispatch(srv->base) == 0 && srv->stopping)
				rc = 0;
		}
	}
	server_free(srv);
	return rc;
}

/* The key holder's view of the TLS files (keyholder_files_fn). */
static int
server_keyholder_files(const struct config *cfg, char *cert, char *key,
    size_t n, char *err, size_t errlen)
{
	return server_tls_files(cfg, cert, key, n, err, errlen);
}

/* Delivered mail belongs to the server's account: another owner would
 * need a privileged helper per delivery, which netjes does not have. */
static int
server_check_owner(const struct config *cfg, const struct privsep_account *a)
{
	if (cfg->delivery_owner[0] == '\0' ||
	    strcmp(cfg->delivery_owner, a->name) == 0)
		return 0;
	server_start_failed("[delivery] owner '%s' differs from the account "
	    "the server runs as ('%s'): not supported; set [server] user = "
	    "%s instead", cfg->delivery_owner, a->name, cfg->delivery_owner);
	return -1;
}

/* What must happen as root before the fork: the account, the
 * directories it gets, the key checked. -1 after a message. */
static int
server_prepare(const struct config *cfg, struct privsep_account *acct,
    char *data_abs, char *cwd)
{
	char mail_root[PATH_MAX], err[PRIVSEP_ERR_MAX] = "";

	if (server_data_dir(cfg) != 0)
		return -1;
	if (getcwd(cwd, PATH_MAX) == NULL ||
	    realpath(cfg->data_dir, data_abs) == NULL) {
		server_start_failed("cannot resolve data directory %s: %s",
		    cfg->data_dir, strerror(errno));
		return -1;
	}
	if (privsep_account(cfg, acct, err, sizeof(err)) == -1 ||
	    (server_check_owner(cfg, acct) == 0 &&
	    (server_mail_root(cfg, mail_root, sizeof(mail_root)) != 0 ||
	    fsutil_mkdir_p(mail_root, 0700, 0, NULL, 0) == -1 ||
	    privsep_prepare(cfg, mail_root, acct, err, sizeof(err)) == -1))) {
		if (err[0] != '\0')
			server_start_failed("%s", err);
		return -1;
	}
	return 0;
}

int
server_run(struct config *cfg)
{
	struct privsep_account acct;
	struct keyholder *kh;
	char cwd[PATH_MAX], data_abs[PATH_MAX], err[PRIVSEP_ERR_MAX];
	int fds[CONFIG_MAX_LISTENERS], chan, status = 1, rc;

	log_init(cfg->log_level, cfg->log_target, "netjes");
	log_set_format(cfg->log_format);
	server_ignore_sigpipe();
	memset(&acct, 0, sizeof(acct));
	if (server_prepare(cfg, &acct, data_abs, cwd) != 0)
		return 1;
	if ((kh = keyholder_new(cfg, server_keyholder_files)) == NULL) {
		server_start_failed("out of memory");
		return 1;
	}
	/* the key is read only after the fork, in the parent: not a byte
	 * of it (not even in a freed stdio buffer) reaches the child; a bad
	 * pair stops the child's start with the parent's reason */
	if (server_bind_all(cfg, fds) != 0) {
		keyholder_free(kh);
		return 1;
	}
	rc = privsep_fork(&acct, cfg->data_dir, kh, fds, cfg->nlisteners,
	    &chan, &status, err, sizeof(err));
	keyholder_free(kh);
	if (rc == 0) {
		server_localize(cfg, cwd, data_abs);
		return server_child(cfg, fds, chan, cwd, data_abs);
	}
	if (rc == -1) {
		server_start_failed("%s", err);
		return 1;
	}
	return status;
}
