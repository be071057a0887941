/*
 * config — the daemon's and the CLI's configuration.
 *
 * INI with git-config style named sections, parsed by libinih:
 *
 *	[server]		hostname, data_dir, log_level, log_target, log_format,
 *				users_file, user, group, trusted_networks
 *	[tls]			cert, key (empty: self-signed, made on first start)
 *	[dns]			nameserver, timeout, message_deadline
 *	[limits]		message_size, recipients, errors, commands,
 *				connections, connections_per_ip, idle_timeout,
 *				banner_delay, data_timeout, min_data_rate,
 *				data_rate_grace
 *	[delivery]		mail_root, recipient_delimiter, owner,
 *				retry_interval, retry_max, queue_lifetime,
 *				delay_warning
 *	[auth]			dmarc_policy = enforce|monitor,
 *				max_failures, failure_window, failure_delay
 *	[store]			backend = lmdb|redis, redis, redis_password,
 *				redis_db, lmdb_map_size
 *	[listener "NAME"]	address, port, mode = smtp|submission|smtps
 *	[domain "NAME"]		a local domain; catchall
 *	[alias "LOCAL@DOMAIN"]	to = one or more addresses
 *
 * config_defaults() is the embedded default: loopback listeners on 2525
 * (smtp), 2587 (submission) and 2465 (smtps), data under ./var (or
 * $NETJES_DATA), local domain example.test. A config file replaces the
 * listener, domain and alias lists when it names any. Unknown sections and keys
 * are errors with file:line, never silently ignored.
 *
 * The hostname default is gethostname() when that is a fully-qualified
 * name, else localhost.localdomain (no DNS lookup). A listener needs all
 * of address, port and mode. Domain names and the hostname are kept as
 * lowercase A-labels (non-ASCII names are converted with libidn2). A load
 * applies completely or, on any error, leaves the config untouched.
 * config_defaults() does not allocate; after any config_load*() that
 * succeeded, config_free() releases the domain and alias lists.
 */
#ifndef NETJES_CORE_CONFIG_H
#define NETJES_CORE_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/ip.h"
#include "core/log.h"

#define CONFIG_MAX_LISTENERS	16
#define CONFIG_NAME_MAX		64
#define CONFIG_HOST_MAX		256
#define CONFIG_ACCOUNT_MAX	33	/* a user or group name, useradd(8) */
#define CONFIG_DEFAULT_USER	"netjes"
#define CONFIG_MAX_ERRORS	100	/* a load stops collecting after these */
#define CONFIG_MAX_TRUSTED	32	/* networks in trusted_networks */
#define CONFIG_ADDR_MAX		320	/* local@domain */
#define CONFIG_TARGETS_MAX	1024	/* an alias's targets, ", "-joined */
#define CONFIG_SECRET_MAX	256	/* a password in the file */

/* Where the state store lives (store/kv.h). */
enum config_store_backend {
	CONFIG_STORE_LMDB = 0,	/* embedded, DATA_DIR/state */
	CONFIG_STORE_REDIS,	/* shared by several MX hosts */
};

enum listener_mode {
	LISTENER_SMTP = 0,	/* port 25: MX, STARTTLS offered */
	LISTENER_SUBMISSION,	/* port 587: RFC 6409, AUTH after STARTTLS */
	LISTENER_SMTPS,		/* port 465: implicit TLS, RFC 8314 */
};

#define CONFIG_EXEMPT_MAX	1024	/* octets of [verdict] exempt */

struct config_listener {
	char			 name[CONFIG_NAME_MAX];
	char			 address[CONFIG_HOST_MAX];	/* IPv4 or IPv6 literal */
	uint16_t		 port;
	enum listener_mode	 mode;
};

struct config_domain {
	char			 name[CONFIG_HOST_MAX];		/* A-label, lowercase */
	char			 catchall[CONFIG_ADDR_MAX];	/* "" = off */
};

struct config_alias {
	char			 addr[CONFIG_ADDR_MAX];		/* lowercase */
	char			 targets[CONFIG_TARGETS_MAX];	/* "a@x, b" */
};

/* Safe defaults; see etc/netjes.conf.example. */
struct config_limits {
	uint64_t		 message_size;	/* octets, RFC 1870 SIZE */
	unsigned		 recipients;	/* per message */
	unsigned		 errors;	/* per session, then 421 */
	unsigned		 commands;	/* per session, then 421 */
	unsigned		 connections;	/* open sessions in all */
	unsigned		 connections_per_ip;
	double			 idle_timeout;	/* seconds */
	double			 banner_delay;	/* seconds, 0 = none */
	/* one DATA or BDAT transfer (slowloris): its deadline, and the
	 * average rate it must keep after the grace (smtp_rate.h) */
	double			 data_timeout;	/* seconds, 0 = none */
	unsigned		 min_data_rate;	/* octets/s, 0 = none */
	double			 data_rate_grace;	/* seconds */
};

struct config {
	/* [server] */
	char			 hostname[CONFIG_HOST_MAX];
	char			 data_dir[PATH_MAX];
	enum log_level		 log_level;
	enum log_target		 log_target;
	enum log_format		 log_format;
	char			 users_file[PATH_MAX];	/* "" = DATA_DIR/users */
	/* the account sessions run as when started as root (privsep.h) */
	char			 server_user[CONFIG_ACCOUNT_MAX];
	char			 server_group[CONFIG_ACCOUNT_MAX];	/* "" = user's */
	struct cidr		 trusted[CONFIG_MAX_TRUSTED];	/* may relay */
	size_t			 ntrusted;
	/* [tls] */
	char			 tls_cert[PATH_MAX];	/* "" = self-signed in data_dir */
	char			 tls_key[PATH_MAX];
	/* [dns] */
	char			 dns_nameserver[CONFIG_HOST_MAX];	/* "" = system */
	double			 dns_timeout;
	double			 dns_message_deadline;	/* all of one
							 * message's checks */
	/* [limits] */
	struct config_limits	 limits;
	/* [delivery] */
	char			 mail_root[PATH_MAX];	/* "" = DATA_DIR/mail */
	char			 recipient_delimiter[16];	/* "" = off */
	/* who owns delivered mail; "" = server_user (the only one today) */
	char			 delivery_owner[CONFIG_ACCOUNT_MAX];
	/* the queue life cycle, in seconds: the first retry after
	 * retry_interval, doubling up to retry_max; a failure DSN after
	 * queue_lifetime; a "delayed" DSN after delay_warning (0 = none) */
	unsigned		 delivery_retry_interval;
	unsigned		 delivery_retry_max;
	unsigned		 delivery_queue_lifetime;
	unsigned		 delivery_delay_warning;
	/* [auth] dmarc_policy: monitor only records DMARC failures in
	 * Authentication-Results; enforce (false) also rejects and
	 * quarantines as the domain asks */
	bool			 dmarc_monitor;
	/* [auth] the SMTP AUTH failure throttle (smtp/authlimit.h): a
	 * client is blocked at max_failures (0 = never) until
	 * failure_window seconds after its last failure; its AUTH replies
	 * wait failure_delay seconds after the first, doubling */
	unsigned		 auth_max_failures;
	unsigned		 auth_failure_window;
	double			 auth_failure_delay;
	/* [store] */
	enum config_store_backend store_backend;
	/* IP, IP:PORT, [IPv6]:PORT or /path/to/socket: an address, not a
	 * name, since resolving one would block the loop */
	char			 store_redis[PATH_MAX];
	char			 store_redis_password[CONFIG_SECRET_MAX];	/* "" = no AUTH */
	unsigned		 store_redis_db;
	uint64_t		 store_lmdb_map_size;	/* octets */
	/* [verdict]: score thresholds (<= 0: off), and who is never
	 * refused besides postmaster@ and abuse@ ("local" or "a@b", space
	 * separated) */
	double			 verdict_add_header;
	double			 verdict_junk;
	double			 verdict_tempfail;
	double			 verdict_reject;
	char			 verdict_exempt[CONFIG_EXEMPT_MAX];
	/* [listener "..."] */
	struct config_listener	 listeners[CONFIG_MAX_LISTENERS];
	size_t			 nlisteners;
	/* [domain "..."] */
	struct config_domain	*domains;
	size_t			 ndomains;
	/* [alias "..."] */
	struct config_alias	*aliases;
	size_t			 naliases;
	/* where it came from, for messages; "" for the embedded default */
	char			 path[PATH_MAX];
};

/* One problem found while loading; a load collects all of them. */
struct config_error {
	char		 file[PATH_MAX];
	int		 line;		/* 0 when not tied to a line */
	char		 reason[256];
};

struct config_errors {
	struct config_error	*v;
	size_t			 n;
};

void	 config_defaults(struct config *);
/* Load path over the defaults. Returns the number of errors (0 = ok);
 * errors are appended to errs when it is not NULL. */
int	 config_load(struct config *, const char *path, struct config_errors *);
/* Same, from text already in memory (tests, fuzzing). name is used in
 * error messages. */
int	 config_load_string(struct config *, const char *text, size_t n,
	    const char *name, struct config_errors *);
void	 config_free(struct config *);
void	 config_errors_free(struct config_errors *);

const char *config_listener_mode_name(enum listener_mode);
const char *config_log_level_name(enum log_level);
const char *config_log_target_name(enum log_target);
/* Case-insensitive; a trailing dot and a U-label are accepted too. */
bool	 config_is_local_domain(const struct config *, const char *domain);
/* True when ip is in one of the trusted networks. */
bool	 config_is_trusted(const struct config *, const struct ip_addr *);

/* Append c to b in the file syntax config_load() reads, every key shown:
 * `netjes config show`, and a round-trip check in the tests. */
void	 config_write_ini(const struct config *, struct buf *);
/* The same as one JSON object: {"file", "server": {...}, ...,
 * "listeners": [{"name", ...}], "domains": [...], "aliases": [...]}; an
 * unnamed section is an object of its keys, a named one a list. */
struct json;
void	 config_write_json(const struct config *, struct json *);

/* One key as netjes.conf(5) documents it. */
struct config_key_info {
	const char	*section;	/* "server", "listener", ... */
	bool		 named;		/* [section "NAME"] */
	const char	*section_doc;	/* one sentence on the section */
	const char	*key;
	const char	*syntax;	/* "SECONDS", "smtp|submission|smtps" */
	const char	*desc;
};
/* The n-th key, in the order of the sections; its default is appended
 * to def. 0 ok, 1 when the key is parsed but has no description (a
 * bug the unit tests catch), -1 past the last key. */
int	 config_key_describe(size_t n, struct config_key_info *,
	    struct buf *def);
/* The check [dns] nameserver gets: IP, IP:PORT, IPv6 or [IPv6]:PORT.
 * 0 ok, else -1 with the reason in why. */
int	 config_nameserver_check(const char *, char *why, size_t whysz);

#endif
