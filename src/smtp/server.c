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
#include "deliver/delivery.h"
#include "deliver/local.h"
#include "queue/spool.h"
#include "smtp/session.h"
#include "smtp/tls.h"
#include "store/passwd.h"

#define SERVER_BACKLOG		128
/* Seconds a listener rests after accept() ran out of descriptors */
#define SERVER_ACCEPT_BACKOFF	1
/* "[" address "]:" port */
#define SERVER_ADDR_MAX		(IP_STRLEN + 9)

struct server;

struct server_listener {
	struct server			*srv;
	const struct config_listener	*conf;
	struct evconnlistener		*evl;
	struct event			*backoff;	/* re-enables evl */
	char				 address[SERVER_ADDR_MAX];
};

struct server {
	struct session_host	 host;		/* first: see server_on_gone */
	const struct config	*cfg;
	struct event_base	*base;
	struct tls_server	*tls;
	struct spool		*spool;
	struct delivery		*delivery;
	struct local_table	*local;
	struct passwd_db	*users;
	char			 mail_root[PATH_MAX];
	struct server_listener	 listeners[CONFIG_MAX_LISTENERS];
	size_t			 nlisteners;
	struct event		*sig_int;
	struct event		*sig_term;
	struct event		*sig_hup;
	struct event		*stop_timer;
	bool			 stopping;
};

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

/* A session went away: nothing left to wait for while stopping? */
static void
server_on_gone(struct session_host *h)
{
	struct server *srv = (struct server *)(void *)h;

	if (srv->stopping && LIST_EMPTY(&h->sessions))
		event_base_loopbreak(srv->base);
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
		    "connections, try again later\r\n", l->srv->cfg->hostname);
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
	if (srv->host.nsessions >= SESSION_MAX) {
		server_refuse(l, fd, client, "too-many-sessions");
		return;
	}
	if (ip_from_sockaddr(sa, &ip) == 0) {
		ip_unmap_v4(&ip);
		if (session_count_ip(&srv->host, &ip) >=
		    srv->cfg->limits.connections_per_ip) {
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
	struct session_host *h = &srv->host;

	if (srv->stopping) {
		/* a second signal: do not wait for slow clients */
		event_base_loopbreak(srv->base);
		return;
	}
	srv->stopping = true;
	h->stopping = true;
	log_info("server.stop", "signal=%s sessions=%zu", signame,
	    h->nsessions);
	server_close_listeners(srv);
	session_shutdown_all(h);
	if (LIST_EMPTY(&h->sessions))
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

/* ---- mail: spool, recipients, delivery ------------------------------ */

/* dir/name (or dir alone when name is NULL); -1 with a message when it
 * does not fit. */
static int
server_path(char *out, size_t n, const char *dir, const char *name)
{
	int len = name != NULL ? snprintf(out, n, "%s/%s", dir, name) :
	    snprintf(out, n, "%s", dir);

	if (len < 0 || (size_t)len >= n) {
		fprintf(stderr, "netjes serve: path too long under %s\n", dir);
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

/*
 * The recipient table: the configured domains (with their catch-alls),
 * every user of the users file whose domain is local, and the aliases.
 * A user in a domain that is not ours is skipped with a warning.
 */
static int
server_local_setup(struct server *srv)
{
	const struct config *cfg = srv->cfg;
	const struct passwd_list *list;
	const char *why = NULL, *at;
	char path[PATH_MAX];
	struct stat st;
	size_t i;

	if (server_path(path, sizeof(path), cfg->users_file[0] != '\0' ?
	    cfg->users_file : cfg->data_dir, cfg->users_file[0] != '\0' ?
	    NULL : "users") != 0)
		return -1;
	if ((srv->users = passwd_db_new(path)) == NULL ||
	    (srv->local = local_table_new(srv->mail_root)) == NULL) {
		fprintf(stderr, "netjes serve: out of memory\n");
		return -1;
	}
	srv->host.auth_available = stat(path, &st) == 0;
	if (passwd_db_refresh(srv->users) != 0) {
		fprintf(stderr, "netjes serve: cannot read users file %s\n",
		    path);
		return -1;
	}
	for (i = 0; i < cfg->ndomains && why == NULL; i++)
		(void)local_table_add_domain(srv->local, cfg->domains[i].name,
		    cfg->domains[i].catchall[0] != '\0' ?
		    cfg->domains[i].catchall : NULL, &why);
	if (why == NULL)
		(void)local_table_set_separators(srv->local,
		    cfg->recipient_delimiter, &why);
	list = passwd_db_list(srv->users);
	for (i = 0; list != NULL && i < list->nentries && why == NULL; i++) {
		at = strrchr(list->entries[i].user, '@');
		if (at == NULL || !config_is_local_domain(cfg, at + 1)) {
			log_warn("users.skipped", "user=%s reason=not-in-a-"
			    "local-domain", list->entries[i].user);
			continue;
		}
		(void)local_table_add_user(srv->local, list->entries[i].user,
		    NULL, &why);
	}
	for (i = 0; i < cfg->naliases && why == NULL; i++)
		(void)server_add_alias(srv->local, &cfg->aliases[i], &why);
	if (why == NULL)
		(void)local_table_seal(srv->local, &why);
	if (why != NULL) {
		fprintf(stderr, "netjes serve: recipients: %s\n", why);
		return -1;
	}
	log_info("users.loaded", "file=%s users=%zu aliases=%zu", path,
	    list != NULL ? list->nentries : 0, cfg->naliases);
	return 0;
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
		fprintf(stderr, "netjes serve: spool: %s\n", reason);
		return -1;
	}
	if (spool_recover(srv->spool, &rec, reason, sizeof(reason)) != 0) {
		fprintf(stderr, "netjes serve: spool recovery: %s\n", reason);
		return -1;
	}
	if (spool_attach(srv->spool, srv->base) != 0) {
		spool_recovery_free(&rec);
		fprintf(stderr, "netjes serve: spool: event setup failed\n");
		return -1;
	}
	if (server_path(dir, sizeof(dir), cfg->mail_root[0] != '\0' ?
	    cfg->mail_root : cfg->data_dir, cfg->mail_root[0] != '\0' ?
	    NULL : "mail") != 0) {
		spool_recovery_free(&rec);
		return -1;
	}
	if (server_mkdirs(dir, 0700) == -1 ||
	    realpath(dir, srv->mail_root) == NULL) {
		spool_recovery_free(&rec);
		fprintf(stderr, "netjes serve: cannot create mail root %s: "
		    "%s\n", dir, strerror(errno));
		return -1;
	}
	if (server_local_setup(srv) != 0 ||
	    (srv->delivery = delivery_new(srv->spool, srv->mail_root,
	    cfg->hostname, reason, sizeof(reason))) == NULL) {
		if (srv->local != NULL && srv->delivery == NULL)
			fprintf(stderr, "netjes serve: %s\n", reason);
		spool_recovery_free(&rec);
		return -1;
	}
	for (i = 0; i < rec.nids; i++)
		delivery_enqueue(srv->delivery, rec.ids[i], true);
	spool_recovery_free(&rec);
	srv->host.cfg = cfg;
	srv->host.base = srv->base;
	srv->host.tls = srv->tls;
	srv->host.spool = srv->spool;
	srv->host.delivery = srv->delivery;
	srv->host.local = srv->local;
	srv->host.users = srv->users;
	srv->host.on_gone = server_on_gone;
	return 0;
}

static void
server_free(struct server *srv)
{
	srv->host.on_gone = NULL;
	while (!LIST_EMPTY(&srv->host.sessions))
		session_free(LIST_FIRST(&srv->host.sessions), "shutdown");
	server_close_listeners(srv);
	/* commits still in flight finish (their sessions are gone) */
	delivery_free(srv->delivery);
	if (srv->spool != NULL)
		spool_free(srv->spool);
	local_table_free(srv->local);
	if (srv->users != NULL)
		passwd_db_free(srv->users);
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
	LIST_INIT(&srv->host.sessions);
	if (server_data_dir(cfg) == 0 && server_tls_setup(srv) == 0) {
		if (server_events_setup(srv) == -1)
			fprintf(stderr, "netjes serve: cannot set up the event "
			    "loop\n");
		else if (server_mail_setup(srv) == 0 &&
		    server_listen_all(srv) == 0) {
			log_info("server.start", "hostname=%s listeners=%zu",
			    cfg->hostname, srv->nlisteners);
			if (event_base_dispatch(srv->base) == 0 && srv->stopping)
				rc = 0;
		}
	}
	server_free(srv);
	return rc;
}
