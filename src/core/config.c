/*
 * config — the embedded default, then an INI file on top of it.
 *
 * libinih splits each key line into key and value and strips comments.
 * It reads the text through config_read_line(), our own line reader, and
 * that reader is what keeps the messages exact: Debian builds inih
 * without line numbers for the handler, so the reader counts lines; it
 * reports lines longer than inih's 200-byte buffer instead of letting
 * them be cut in two; and it parses section headers itself, because inih
 * keeps only 50 bytes of a section name and never reports a section that
 * has no keys (a bare [domain "NAME"] is exactly that).
 *
 * The rules, shown to users in etc/netjes.conf.example:
 * - keys may be indented; there are no continuation lines and no quoting
 *   of values; a line starting with '#' or ';' is a comment, and so is
 *   the rest of a line after whitespace and ';';
 * - a key line holds at most 199 bytes after its indentation;
 * - unknown sections and keys, bad values and a key given twice are
 *   errors; all of them are collected (up to CONFIG_MAX_ERRORS), each
 *   with its line; values may not hold control characters;
 * - a listener needs address, port and mode: where a mail server listens
 *   is never guessed;
 * - domain names (and the hostname) are lowercased; a non-ASCII name is
 *   converted to its A-label with libidn2 (IDNA 2008, non-transitional);
 * - a file that names any listener replaces the default listeners, a
 *   file that names any domain replaces the default domains;
 * - a load applies completely, or on any error leaves the config as it
 *   was.
 * Nothing here logs or exits: problems are returned as config_errors.
 */
#include "core/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <idn2.h>
#include <ini.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/json.h"

#define CONFIG_FILE_MAX		(1024 * 1024)	/* bytes in a config file */
#define CONFIG_KEY_LINE_MAX	(INI_MAX_LINE - 1)
#define CONFIG_SECTION_MAX	32	/* "listener" and friends */
#define CONFIG_SUB_MAX		1024	/* a quoted name, before checks */
#define CONFIG_LABEL_MAX	(CONFIG_HOST_MAX + 32)
#define CONFIG_SHOWN_MAX	64	/* bytes of user text quoted back */
#define CONFIG_TIMEOUT_MAX	3600.0

/*
 * The embedded default's domain list. config_defaults() points at it
 * rather than allocating, so a caller that never loads a file owes
 * nothing to config_free(); config_free() knows not to free it.
 */
static struct config_domain config_default_domains[] = {
	{ "example.test", "" },
};

static const char *const config_mode_names[] = {
	[LISTENER_SMTP] = "smtp",
	[LISTENER_SUBMISSION] = "submission",
	[LISTENER_SMTPS] = "smtps",
};

enum config_section {
	SECTION_NONE = 0,	/* before the first header */
	SECTION_SKIP,		/* after a bad header: its keys are ignored */
	SECTION_SERVER,
	SECTION_TLS,
	SECTION_DNS,
	SECTION_LIMITS,
	SECTION_DELIVERY,
	SECTION_AUTH,
	SECTION_STORE,
	SECTION_VERDICT,
	SECTION_LISTENER,
	SECTION_DOMAIN,
	SECTION_ALIAS,
};

struct config_section_kind {
	const char		*name;
	enum config_section	 id;
	bool			 named;		/* [NAME "SUB"] rather than [NAME] */
};

static const struct config_section_kind config_sections[] = {
	{ "server",	SECTION_SERVER,		false },
	{ "tls",	SECTION_TLS,		false },
	{ "dns",	SECTION_DNS,		false },
	{ "limits",	SECTION_LIMITS,		false },
	{ "delivery",	SECTION_DELIVERY,	false },
	{ "auth",	SECTION_AUTH,		false },
	{ "store",	SECTION_STORE,		false },
	{ "verdict",	SECTION_VERDICT,	false },
	{ "listener",	SECTION_LISTENER,	true },
	{ "domain",	SECTION_DOMAIN,		true },
	{ "alias",	SECTION_ALIAS,		true },
};

struct config_parse;
typedef int config_setter(struct config_parse *, const char *value,
    char *why, size_t whysz);

enum config_key_id {
	KEY_HOSTNAME,
	KEY_DATA_DIR,
	KEY_LOG_LEVEL,
	KEY_LOG_TARGET,
	KEY_LOG_FORMAT,
	KEY_USERS_FILE,
	KEY_SERVER_USER,
	KEY_SERVER_GROUP,
	KEY_TRUSTED_NETWORKS,
	KEY_TLS_CERT,
	KEY_TLS_KEY,
	KEY_DNS_NAMESERVER,
	KEY_DNS_TIMEOUT,
	KEY_DNS_MESSAGE_DEADLINE,
	KEY_LIMIT_MESSAGE_SIZE,
	KEY_LIMIT_RECIPIENTS,
	KEY_LIMIT_ERRORS,
	KEY_LIMIT_COMMANDS,
	KEY_LIMIT_CONNECTIONS,
	KEY_LIMIT_CONNECTIONS_PER_IP,
	KEY_LIMIT_IDLE_TIMEOUT,
	KEY_LIMIT_BANNER_DELAY,
	KEY_LIMIT_DATA_TIMEOUT,
	KEY_LIMIT_MIN_DATA_RATE,
	KEY_LIMIT_DATA_RATE_GRACE,
	KEY_MAIL_ROOT,
	KEY_RECIPIENT_DELIMITER,
	KEY_DELIVERY_OWNER,
	KEY_RETRY_INTERVAL,
	KEY_RETRY_MAX,
	KEY_QUEUE_LIFETIME,
	KEY_DELAY_WARNING,
	KEY_AUTH_DMARC_POLICY,
	KEY_AUTH_MAX_FAILURES,
	KEY_AUTH_FAILURE_WINDOW,
	KEY_AUTH_FAILURE_DELAY,
	KEY_STORE_BACKEND,
	KEY_STORE_REDIS,
	KEY_STORE_REDIS_PASSWORD,
	KEY_STORE_REDIS_DB,
	KEY_STORE_LMDB_MAP_SIZE,
	KEY_VERDICT_ADD_HEADER,
	KEY_VERDICT_JUNK,
	KEY_VERDICT_TEMPFAIL,
	KEY_VERDICT_REJECT,
	KEY_VERDICT_EXEMPT,
	KEY_LISTENER_ADDRESS,
	KEY_LISTENER_PORT,
	KEY_LISTENER_MODE,
	KEY_DOMAIN_CATCHALL,
	KEY_ALIAS_TO,
	KEY_COUNT
};

struct config_key {
	enum config_section	 section;
	const char		*name;
	config_setter		*set;
};

/* One [listener "NAME"] as read, with where each of its keys was. */
struct config_pending_listener {
	struct config_listener	 l;
	int			 line;		/* of its header */
	int			 seen[KEY_COUNT];	/* line per key, 0 = absent */
	bool			 bad;		/* a value was rejected */
};

struct config_pending_domain {
	struct config_domain	 d;
	int			 line;
	int			 seen[KEY_COUNT];
};

struct config_pending_alias {
	struct config_alias	 a;
	int			 line;
	int			 seen[KEY_COUNT];
};

/* Everything one load needs; heap-allocated (it is a few dozen KiB). */
struct config_parse {
	struct config		 work;		/* committed on success */
	const char		*name;		/* file name for messages */
	struct config_errors	*errs;		/* NULL: count only */
	int			 nerrs;
	bool			 stop;		/* too many errors */
	/* the line reader */
	const char		*p, *end;
	int			 lineno;
	int			 key_line;	/* key line given to inih, or 0 */
	bool			 handled;	/* inih called back for it */
	/* the section being read */
	enum config_section	 section;
	char			 label[CONFIG_LABEL_MAX];	/* for messages */
	struct config_pending_listener *listener;	/* in [listener "..."] */
	struct config_pending_domain *domain;	/* in [domain "..."] */
	struct config_pending_alias *alias;	/* in [alias "..."] */
	int			*cur_seen;	/* the section's seen[] */
	int			 seen[KEY_COUNT];	/* the unnamed sections */
	/* what the file names */
	struct config_pending_listener listeners[CONFIG_MAX_LISTENERS];
	size_t			 nlisteners;
	struct config_pending_domain *domains;
	size_t			 ndomains;
	size_t			 domains_cap;
	struct config_pending_alias *aliases;
	size_t			 naliases;
	size_t			 aliases_cap;
};

static void	config_error(struct config_parse *, int line, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* ---- small helpers ---------------------------------------------------- */

/* Copy user text into out for a message: control bytes become '?', and
 * more than CONFIG_SHOWN_MAX bytes end in "...". */
static const char *
config_shown(char *out, size_t n, const char *s)
{
	size_t i, max = n - 1 < CONFIG_SHOWN_MAX ? n - 1 : CONFIG_SHOWN_MAX;

	for (i = 0; s[i] != '\0' && i < max; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ?
		    '?' : s[i];
	out[i] = '\0';
	if (s[i] != '\0' && i >= 3)
		memcpy(out + i - 3, "...", 3);
	return out;
}

static bool
config_has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* Copy s into out when it fits: 0, or -1 with a reason. */
static int
config_copy(char *out, size_t n, const char *s, char *why, size_t whysz)
{
	size_t len = strlen(s);

	if (len >= n) {
		snprintf(why, whysz, "too long (at most %zu bytes)", n - 1);
		return -1;
	}
	memcpy(out, s, len + 1);
	return 0;
}

static void *
config_xrealloc(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		abort();
	if ((p = realloc(p, n * size)) == NULL)
		abort();	/* as buf does: no half-built config */
	return p;
}

/* ---- errors ------------------------------------------------------------ */

/* Append one error. Capacity is implied by n: the array grows whenever n
 * reaches a power of two (at least 8), so appends stay amortised O(1)
 * without a capacity field in the public struct. */
static void
config_errors_push(struct config_errors *e, const char *file, int line,
    const char *reason)
{
	struct config_error *err;

	if (e == NULL)
		return;
	if (e->n == 0 || ((e->n & (e->n - 1)) == 0 && e->n >= 8))
		e->v = config_xrealloc(e->v, e->n < 8 ? 8 : e->n * 2,
		    sizeof(*e->v));
	err = &e->v[e->n++];
	snprintf(err->file, sizeof(err->file), "%s", file);
	err->line = line;
	snprintf(err->reason, sizeof(err->reason), "%s", reason);
}

static void
config_error(struct config_parse *p, int line, const char *fmt, ...)
{
	char reason[sizeof(((struct config_error *)NULL)->reason)];
	va_list ap;

	p->nerrs++;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	config_errors_push(p->errs, p->name, line, reason);
}

/* Stop collecting after CONFIG_MAX_ERRORS: a file that bad is likely not
 * a config file at all, and the first hundred errors say enough. */
static void
config_error_limit(struct config_parse *p)
{
	if (p->nerrs < CONFIG_MAX_ERRORS || p->stop)
		return;
	config_error(p, p->lineno, "too many errors, stopped reading here");
	p->stop = true;
}

/* Sort the errors this load appended by line, keeping their order within
 * a line (insertion sort: stable, and there are at most a hundred). */
static void
config_errors_sort(struct config_errors *e, size_t from)
{
	struct config_error tmp;
	size_t i, j;

	if (e == NULL)
		return;
	for (i = from + 1; i < e->n; i++) {
		if (e->v[i - 1].line <= e->v[i].line)
			continue;
		tmp = e->v[i];
		for (j = i; j > from && e->v[j - 1].line > tmp.line; j--)
			e->v[j] = e->v[j - 1];
		e->v[j] = tmp;
	}
}

/* ---- value checks, shared by the setters ------------------------------- */

/* Seconds to whole milliseconds, for t >= 0 (no libm needed). */
static long long
config_ms(double t)
{
	return (long long)(t * 1000.0 + 0.5);
}

/* A port: 1 to 65535, decimal digits only. */
static int
config_parse_port(const char *s, uint16_t *out, char *why, size_t whysz)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9') {
			snprintf(why, whysz, "not a number");
			return -1;
		}
		if (v <= 65535)
			v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (i == 0) {
		snprintf(why, whysz, "empty");
		return -1;
	}
	if (v < 1 || v > 65535) {
		snprintf(why, whysz, "out of range (1-65535)");
		return -1;
	}
	*out = (uint16_t)v;
	return 0;
}

/* One DNS label: 1-63 letters, digits and hyphens, no hyphen at an end. */
static int
config_check_label(const char *s, size_t len, char *why, size_t whysz)
{
	size_t i;

	if (len == 0) {
		snprintf(why, whysz, "empty label");
		return -1;
	}
	if (len > 63) {
		snprintf(why, whysz, "label longer than 63 bytes");
		return -1;
	}
	if (s[0] == '-' || s[len - 1] == '-') {
		snprintf(why, whysz, "label starts or ends with '-'");
		return -1;
	}
	for (i = 0; i < len; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= '0' && s[i] <= '9')
		    && s[i] != '-') {
			snprintf(why, whysz, "'%c' is not allowed (letters, "
			    "digits, '-' and '.' only)", s[i]);
			return -1;
		}
	return 0;
}

/* Check a lowercase ASCII name label by label; the last must not be all
 * digits (that is an IP address, not a domain; RFC 3696 section 2). */
static int
config_check_ldh(const char *s, char *why, size_t whysz)
{
	const char *label = s, *dot;
	size_t len;

	for (;;) {
		dot = strchr(label, '.');
		len = dot ? (size_t)(dot - label) : strlen(label);
		if (config_check_label(label, len, why, whysz) != 0)
			return -1;
		if (dot == NULL)
			break;
		label = dot + 1;
	}
	if (strspn(label, "0123456789") == len) {
		snprintf(why, whysz, "an IP address is not a domain name");
		return -1;
	}
	return 0;
}

/*
 * Turn a domain name as written into the form netjes keeps: the A-label
 * (via libidn2 when it is not ASCII), lowercase, no trailing dot, at
 * most 253 bytes. 0, or -1 with a reason.
 */
static int
config_domain_normalize(const char *in, char *out, size_t n, char *why,
    size_t whysz)
{
	char *ascii = NULL;
	const char *s = in;
	size_t i, len;
	int rc;

	for (i = 0; in[i] != '\0'; i++)
		if ((unsigned char)in[i] >= 0x80)
			break;
	if (in[i] != '\0') {
		rc = idn2_to_ascii_8z(in, &ascii,
		    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
		if (rc != IDN2_OK) {
			snprintf(why, whysz, "not a valid international "
			    "domain name: %s", idn2_strerror(rc));
			return -1;
		}
		s = ascii;
	}
	len = strlen(s);
	if (len > 0 && s[len - 1] == '.')
		len--;
	rc = -1;
	if (len == 0)
		snprintf(why, whysz, "empty");
	else if (len > 253 || len >= n)
		snprintf(why, whysz, "longer than 253 bytes");
	else {
		for (i = 0; i < len; i++)
			out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ?
			    s[i] - 'A' + 'a' : s[i]);
		out[len] = '\0';
		rc = config_check_ldh(out, why, whysz);
	}
	idn2_free(ascii);
	return rc;
}

/* A host name for HELO and the banner: a domain with at least one dot
 * (RFC 5321 section 4.1.1.1 wants a fully-qualified name). */
static int
config_hostname_normalize(const char *in, char *out, size_t n, char *why,
    size_t whysz)
{
	if (config_domain_normalize(in, out, n, why, whysz) != 0)
		return -1;
	if (strchr(out, '.') == NULL) {
		snprintf(why, whysz, "not a fully-qualified domain name");
		return -1;
	}
	return 0;
}

/* An IP literal, written back in its canonical form. */
static int
config_parse_ip(const char *s, char *out, size_t n, char *why, size_t whysz)
{
	unsigned char bin[sizeof(struct in6_addr)];
	int af = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;

	if (inet_pton(af, s, bin) != 1) {
		snprintf(why, whysz, "not an IPv4 or IPv6 address");
		return -1;
	}
	if (inet_ntop(af, bin, out, (socklen_t)n) == NULL) {
		snprintf(why, whysz, "too long");
		return -1;
	}
	return 0;
}

/* HOST, HOST:PORT, V6 or [V6]:PORT, where HOST is an IP address: the
 * resolver has to reach its server before it can resolve names. */
static int
config_check_nameserver(const char *s, char *why, size_t whysz)
{
	char host[CONFIG_HOST_MAX], ip[INET6_ADDRSTRLEN];
	const char *colon, *close, *port = NULL;
	uint16_t p16;
	size_t len;

	if (s[0] == '[') {
		if ((close = strchr(s, ']')) == NULL)
			goto bad;
		len = (size_t)(close - s - 1);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			goto bad;
		if (len >= sizeof(host) || memchr(s + 1, ':', len) == NULL)
			goto bad;
		memcpy(host, s + 1, len);
		host[len] = '\0';
	} else if ((colon = strchr(s, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		len = (size_t)(colon - s);
		if (len >= sizeof(host))
			goto bad;
		memcpy(host, s, len);
		host[len] = '\0';
		port = colon + 1;
	} else if (config_copy(host, sizeof(host), s, why, whysz) != 0)
		return -1;
	if (config_parse_ip(host, ip, sizeof(ip), why, whysz) != 0)
		return -1;
	if (port != NULL && config_parse_port(port, &p16, why, whysz) != 0)
		return -1;
	return 0;
bad:
	snprintf(why, whysz, "expected IP, IP:PORT or [IPv6]:PORT");
	return -1;
}

/* Seconds, more than 0 and at most an hour, kept to the millisecond. */
static int
config_parse_timeout(const char *s, double *out, char *why, size_t whysz)
{
	char *end;
	double t;

	if (s[0] == '\0' || strspn(s, "0123456789.") != strlen(s)) {
		snprintf(why, whysz, "expected seconds, such as 5 or 2.5");
		return -1;
	}
	errno = 0;
	t = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(t)) {
		snprintf(why, whysz, "expected seconds, such as 5 or 2.5");
		return -1;
	}
	if (t > CONFIG_TIMEOUT_MAX || config_ms(t) < 1) {
		snprintf(why, whysz, "out of range (0.001-%g seconds)",
		    CONFIG_TIMEOUT_MAX);
		return -1;
	}
	*out = (double)config_ms(t) / 1000.0;
	return 0;
}

/* ---- setters: one per key, in the table below ------------------------- */

static int
config_set_hostname(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	return config_hostname_normalize(v, p->work.hostname,
	    sizeof(p->work.hostname), why, n);
}

static int
config_set_data_dir(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	if (v[0] == '\0') {
		snprintf(why, n, "empty");
		return -1;
	}
	return config_copy(p->work.data_dir, sizeof(p->work.data_dir), v,
	    why, n);
}

static int
config_set_log_level(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	if (log_level_parse(v, &p->work.log_level) == 0)
		return 0;
	snprintf(why, n, "expected error, warn, info or debug");
	return -1;
}

static int
config_set_log_target(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	if (log_target_parse(v, &p->work.log_target) == 0)
		return 0;
	snprintf(why, n, "expected stderr or syslog");
	return -1;
}

static int
config_set_log_format(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	if (log_format_parse(v, &p->work.log_format) == 0)
		return 0;
	snprintf(why, n, "expected text or json");
	return -1;
}

static int
config_set_users_file(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	return config_copy(p->work.users_file, sizeof(p->work.users_file), v,
	    why, n);
}

/* A user or group name as useradd(8) makes them ("" for the group:
 * the user's own). */
static int
config_account_name(const char *v, char *out, size_t outlen, bool empty_ok,
    char *why, size_t n)
{
	size_t i, len = strlen(v);

	if (len == 0 && empty_ok) {
		out[0] = '\0';
		return 0;
	}
	if (len == 0 || len >= outlen || len > 32) {
		snprintf(why, n, "expected an account name of 1 to 32 "
		    "characters");
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (!((ch >= 'a' && ch <= 'z') || ch == '_' || (i > 0 &&
		    ((ch >= '0' && ch <= '9') || ch == '-' ||
		    (ch == '$' && i == len - 1))))) {
			snprintf(why, n, "expected an account name "
			    "([a-z_][a-z0-9_-]*)");
			return -1;
		}
	}
	memcpy(out, v, len + 1);
	return 0;
}

static int
config_set_server_user(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	return config_account_name(v, p->work.server_user,
	    sizeof(p->work.server_user), false, why, n);
}

static int
config_set_server_group(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	return config_account_name(v, p->work.server_group,
	    sizeof(p->work.server_group), true, why, n);
}

static int
config_set_delivery_owner(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	return config_account_name(v, p->work.delivery_owner,
	    sizeof(p->work.delivery_owner), true, why, n);
}

/* Networks that may relay: CIDRs or addresses, separated by blanks or
 * commas; "" for none. */
static int
config_set_trusted_networks(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	struct cidr c;
	size_t len;

	p->work.ntrusted = 0;
	for (;;) {
		v += strspn(v, " \t,");
		if (*v == '\0')
			return 0;
		len = strcspn(v, " \t,");
		if (cidr_parse(v, len, &c) != 0) {
			snprintf(why, n, "'%.*s' is not an address or network "
			    "(such as 192.0.2.0/24 or 2001:db8::/32)",
			    len > 64 ? 64 : (int)len, v);
			return -1;
		}
		if (p->work.ntrusted == CONFIG_MAX_TRUSTED) {
			snprintf(why, n, "more than %d networks",
			    CONFIG_MAX_TRUSTED);
			return -1;
		}
		p->work.trusted[p->work.ntrusted++] = c;
		v += len;
	}
}

static int
config_set_tls_cert(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	return config_copy(p->work.tls_cert, sizeof(p->work.tls_cert), v,
	    why, n);
}

static int
config_set_tls_key(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	return config_copy(p->work.tls_key, sizeof(p->work.tls_key), v,
	    why, n);
}

static int
config_set_dns_nameserver(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	if (v[0] != '\0' && config_check_nameserver(v, why, n) != 0)
		return -1;
	return config_copy(p->work.dns_nameserver,
	    sizeof(p->work.dns_nameserver), v, why, n);
}

static int
config_set_dns_timeout(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	return config_parse_timeout(v, &p->work.dns_timeout, why, n);
}

static int
config_set_dns_message_deadline(struct config_parse *p, const char *v,
    char *why, size_t n)
{
	return config_parse_timeout(v, &p->work.dns_message_deadline, why, n);
}

/* A whole number from min to max, decimal digits only. */
static int
config_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    char *why, size_t whysz)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9') {
			snprintf(why, whysz, "not a whole number");
			return -1;
		}
		if (v <= max)
			v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0) {
		snprintf(why, whysz, "empty");
		return -1;
	}
	if (v < min || v > max) {
		snprintf(why, whysz, "out of range (%" PRIu64 "-%" PRIu64 ")",
		    min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int
config_set_unsigned(const char *v, unsigned *out, uint64_t max, char *why,
    size_t n)
{
	uint64_t u;

	if (config_parse_uint(v, 1, max, &u, why, n) != 0)
		return -1;
	*out = (unsigned)u;
	return 0;
}

static int
config_set_message_size(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	/* at least a small message; at most 2 GiB, far past any sane limit */
	return config_parse_uint(v, 1024, (uint64_t)1 << 31,
	    &p->work.limits.message_size, why, n);
}

static int
config_set_recipients(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	return config_set_unsigned(v, &p->work.limits.recipients, 10000, why,
	    n);
}

static int
config_set_errors(struct config_parse *p, const char *v, char *why, size_t n)
{
	return config_set_unsigned(v, &p->work.limits.errors, 10000, why, n);
}

static int
config_set_commands(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	return config_set_unsigned(v, &p->work.limits.commands, 10000000, why,
	    n);
}

static int
config_set_connections(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	return config_set_unsigned(v, &p->work.limits.connections, 1000000,
	    why, n);
}

static int
config_set_connections_per_ip(struct config_parse *p, const char *v,
    char *why, size_t n)
{
	return config_set_unsigned(v, &p->work.limits.connections_per_ip,
	    100000, why, n);
}

static int
config_set_idle_timeout(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	return config_parse_timeout(v, &p->work.limits.idle_timeout, why, n);
}

static int
config_set_banner_delay(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	if (strcmp(v, "0") == 0) {
		p->work.limits.banner_delay = 0;
		return 0;
	}
	if (config_parse_timeout(v, &p->work.limits.banner_delay, why, n) != 0)
		return -1;
	if (p->work.limits.banner_delay > 60) {
		snprintf(why, n, "out of range (0-60 seconds)");
		return -1;
	}
	return 0;
}

/* The deadline of one DATA or BDAT transfer; 0 turns it off. */
static int
config_set_data_timeout(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	if (strcmp(v, "0") == 0) {
		p->work.limits.data_timeout = 0;
		return 0;
	}
	return config_parse_timeout(v, &p->work.limits.data_timeout, why, n);
}

/* Octets per second; 0 turns the rate check off. */
static int
config_set_min_data_rate(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	uint64_t u;

	if (config_parse_uint(v, 0, 1000000000, &u, why, n) != 0)
		return -1;
	p->work.limits.min_data_rate = (unsigned)u;
	return 0;
}

static int
config_set_data_rate_grace(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	return config_parse_timeout(v, &p->work.limits.data_rate_grace, why,
	    n);
}

static int
config_set_mail_root(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	return config_copy(p->work.mail_root, sizeof(p->work.mail_root), v,
	    why, n);
}

static int
config_set_recipient_delimiter(struct config_parse *p, const char *v,
    char *why, size_t n)
{
	size_t i;

	for (i = 0; v[i] != '\0'; i++)
		if (strchr("+-_=.#~", v[i]) == NULL) {
			snprintf(why, n, "'%c' cannot be a delimiter (use some "
			    "of + - _ = . # ~)", v[i]);
			return -1;
		}
	return config_copy(p->work.recipient_delimiter,
	    sizeof(p->work.recipient_delimiter), v, why, n);
}

/*
 * A queue duration: whole seconds, or a number with a unit s, m, h, d
 * ("300", "5m", "4h", "5d"), from min to max seconds. Returns 0 or -1.
 */
static int
config_parse_duration(const char *s, uint64_t min, uint64_t max,
    unsigned *out, char *why, size_t whysz)
{
	static const struct { char unit; uint64_t mult; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};
	char digits[24];
	size_t len = strlen(s), i;
	uint64_t mult = 1, v;

	for (i = 0; len > 0 && i < sizeof(units) / sizeof(*units); i++)
		if (s[len - 1] == units[i].unit) {
			mult = units[i].mult;
			len--;
			break;
		}
	if (len == 0 || len >= sizeof(digits)) {
		snprintf(why, whysz, "expected a duration, such as 300, 5m, "
		    "4h or 5d");
		return -1;
	}
	memcpy(digits, s, len);
	digits[len] = '\0';
	if (config_parse_uint(digits, 0, UINT32_MAX, &v, why, whysz) != 0)
		return -1;
	v *= mult;
	if (v < min || v > max) {
		snprintf(why, whysz, "out of range (%" PRIu64 "-%" PRIu64
		    " seconds)", min, max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int
config_set_retry_interval(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	return config_parse_duration(v, 1, 86400,
	    &p->work.delivery_retry_interval, why, n);
}

static int
config_set_retry_max(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	return config_parse_duration(v, 1, 7 * 86400,
	    &p->work.delivery_retry_max, why, n);
}

static int
config_set_queue_lifetime(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	return config_parse_duration(v, 1, 365 * 86400,
	    &p->work.delivery_queue_lifetime, why, n);
}

static int
config_set_delay_warning(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	return config_parse_duration(v, 0, 365 * 86400,
	    &p->work.delivery_delay_warning, why, n);
}

/* An address target as written: local or local@domain, lowercased. */
static int
config_addr_normalize(const char *s, size_t len, char *out, size_t n,
    char *why, size_t whysz)
{
	size_t i;

	if (len == 0) {
		snprintf(why, whysz, "empty address");
		return -1;
	}
	if (len >= n) {
		snprintf(why, whysz, "address too long");
		return -1;
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] <= ' ' || s[i] == '<' || s[i] == '>' ||
		    s[i] == '"' || s[i] == ',') {
			snprintf(why, whysz, "'%.*s' is not an address",
			    len > 64 ? 64 : (int)len, s);
			return -1;
		}
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' :
		    s[i]);
	}
	out[len] = '\0';
	if (out[0] == '@' || out[len - 1] == '@' ||
	    strchr(out, '@') != strrchr(out, '@')) {
		snprintf(why, whysz, "'%s' is not an address", out);
		return -1;
	}
	return 0;
}

static int
config_set_domain_catchall(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	if (v[0] == '\0') {
		p->domain->d.catchall[0] = '\0';
		return 0;
	}
	return config_addr_normalize(v, strlen(v), p->domain->d.catchall,
	    sizeof(p->domain->d.catchall), why, n);
}

/* Targets separated by commas and/or blanks, kept ", "-joined. */
static int
config_set_alias_to(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	char one[CONFIG_ADDR_MAX];
	struct buf b = BUF_INIT;
	size_t len;
	int rc = 0;

	for (;;) {
		v += strspn(v, " \t,");
		if (*v == '\0')
			break;
		len = strcspn(v, " \t,");
		if ((rc = config_addr_normalize(v, len, one, sizeof(one), why,
		    n)) != 0)
			break;
		buf_printf(&b, "%s%s", b.len > 0 ? ", " : "", one);
		v += len;
	}
	if (rc == 0 && b.len == 0) {
		snprintf(why, n, "no target");
		rc = -1;
	}
	if (rc == 0)
		rc = config_copy(p->alias->a.targets,
		    sizeof(p->alias->a.targets), buf_cstr(&b), why, n);
	buf_free(&b);
	return rc;
}

static int
config_set_dmarc_policy(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	if (strcasecmp(v, "enforce") == 0)
		p->work.dmarc_monitor = false;
	else if (strcasecmp(v, "monitor") == 0)
		p->work.dmarc_monitor = true;
	else {
		snprintf(why, n, "expected enforce or monitor");
		return -1;
	}
	return 0;
}

static int
config_set_auth_max_failures(struct config_parse *p, const char *v,
    char *why, size_t n)
{
	uint64_t u;

	/* 0 is allowed here: counted and delayed, never blocked */
	if (config_parse_uint(v, 0, 1000, &u, why, n) != 0)
		return -1;
	p->work.auth_max_failures = (unsigned)u;
	return 0;
}

static int
config_set_auth_failure_window(struct config_parse *p, const char *v,
    char *why, size_t n)
{
	return config_parse_duration(v, 1, 86400,
	    &p->work.auth_failure_window, why, n);
}

/* Seconds as banner_delay takes them; 0 turns the delay off. */
static int
config_set_auth_failure_delay(struct config_parse *p, const char *v,
    char *why, size_t n)
{
	if (strcmp(v, "0") == 0) {
		p->work.auth_failure_delay = 0;
		return 0;
	}
	if (config_parse_timeout(v, &p->work.auth_failure_delay, why, n) != 0)
		return -1;
	if (p->work.auth_failure_delay > 30) {
		snprintf(why, n, "out of range (0-30 seconds)");
		return -1;
	}
	return 0;
}

/* A score threshold: a number from 0 (off) to 1000. */
static int
config_parse_score(const char *v, double *out, char *why, size_t n)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno != 0 || end == v || *end != '\0' || !(d >= 0 && d <= 1000)) {
		snprintf(why, n, "not a score from 0 to 1000");
		return -1;
	}
	*out = d;
	return 0;
}

static int
config_set_verdict_add_header(struct config_parse *p, const char *v,
    char *why, size_t n)
{
	return config_parse_score(v, &p->work.verdict_add_header, why, n);
}

static int
config_set_verdict_junk(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	return config_parse_score(v, &p->work.verdict_junk, why, n);
}

static int
config_set_verdict_tempfail(struct config_parse *p, const char *v,
    char *why, size_t n)
{
	return config_parse_score(v, &p->work.verdict_tempfail, why, n);
}

static int
config_set_verdict_reject(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	return config_parse_score(v, &p->work.verdict_reject, why, n);
}

/* Local parts ("hostmaster") or addresses ("ceo@example.org"),
 * separated by spaces or commas; kept as one normalised string. */
static int
config_set_verdict_exempt(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	char *out = p->work.verdict_exempt, item[CONFIG_EXEMPT_MAX];
	size_t len = 0, k;

	out[0] = '\0';
	while (*v != '\0') {
		v += strspn(v, " \t,");
		if ((k = strcspn(v, " \t,")) == 0)
			break;
		if (k >= sizeof(item) || len + k + 2 > CONFIG_EXEMPT_MAX) {
			snprintf(why, n, "list too long (at most %d octets)",
			    CONFIG_EXEMPT_MAX - 1);
			return -1;
		}
		memcpy(item, v, k);
		item[k] = '\0';
		if (item[0] == '@' || item[k - 1] == '@' ||
		    strchr(item, '"') != NULL) {
			snprintf(why, n, "'%s' is neither a local part nor an "
			    "address", item);
			return -1;
		}
		len += (size_t)snprintf(out + len, CONFIG_EXEMPT_MAX - len,
		    "%s%s", len > 0 ? " " : "", item);
		v += k;
	}
	return 0;
}

static int
config_set_store_backend(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	if (strcasecmp(v, "lmdb") == 0)
		p->work.store_backend = CONFIG_STORE_LMDB;
	else if (strcasecmp(v, "redis") == 0)
		p->work.store_backend = CONFIG_STORE_REDIS;
	else {
		snprintf(why, n, "expected lmdb or redis");
		return -1;
	}
	return 0;
}

/* A Unix socket path, or an IP address with an optional port: hiredis
 * would resolve a name with a blocking call on the loop. */
static int
config_set_store_redis(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	if (v[0] == '\0') {
		snprintf(why, n, "empty");
		return -1;
	}
	if (v[0] != '/' && config_check_nameserver(v, why, n) != 0) {
		snprintf(why, n, "expected IP, IP:PORT, [IPv6]:PORT or "
		    "/path/to/socket");
		return -1;
	}
	return config_copy(p->work.store_redis, sizeof(p->work.store_redis),
	    v, why, n);
}

static int
config_set_store_redis_password(struct config_parse *p, const char *v,
    char *why, size_t n)
{
	return config_copy(p->work.store_redis_password,
	    sizeof(p->work.store_redis_password), v, why, n);
}

static int
config_set_store_redis_db(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	uint64_t u;

	if (config_parse_uint(v, 0, INT32_MAX, &u, why, n) != 0)
		return -1;
	p->work.store_redis_db = (unsigned)u;
	return 0;
}

static int
config_set_store_lmdb_map_size(struct config_parse *p, const char *v,
    char *why, size_t n)
{
	/* at least 1 MiB; at most 1 TiB, the address space LMDB maps */
	return config_parse_uint(v, (uint64_t)1 << 20, (uint64_t)1 << 40,
	    &p->work.store_lmdb_map_size, why, n);
}

static int
config_set_listener_address(struct config_parse *p, const char *v,
    char *why, size_t n)
{
	return config_parse_ip(v, p->listener->l.address,
	    sizeof(p->listener->l.address), why, n);
}

static int
config_set_listener_port(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	return config_parse_port(v, &p->listener->l.port, why, n);
}

static int
config_set_listener_mode(struct config_parse *p, const char *v, char *why,
    size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(config_mode_names) / sizeof(*config_mode_names);
	    i++)
		if (strcasecmp(v, config_mode_names[i]) == 0) {
			p->listener->l.mode = (enum listener_mode)i;
			return 0;
		}
	snprintf(why, n, "expected smtp, submission or smtps");
	return -1;
}

static const struct config_key config_keys[KEY_COUNT] = {
	[KEY_HOSTNAME] = { SECTION_SERVER, "hostname", config_set_hostname },
	[KEY_DATA_DIR] = { SECTION_SERVER, "data_dir", config_set_data_dir },
	[KEY_LOG_LEVEL] = { SECTION_SERVER, "log_level",
	    config_set_log_level },
	[KEY_LOG_TARGET] = { SECTION_SERVER, "log_target",
	    config_set_log_target },
	[KEY_LOG_FORMAT] = { SECTION_SERVER, "log_format",
	    config_set_log_format },
	[KEY_USERS_FILE] = { SECTION_SERVER, "users_file",
	    config_set_users_file },
	[KEY_SERVER_USER] = { SECTION_SERVER, "user",
	    config_set_server_user },
	[KEY_SERVER_GROUP] = { SECTION_SERVER, "group",
	    config_set_server_group },
	[KEY_TRUSTED_NETWORKS] = { SECTION_SERVER, "trusted_networks",
	    config_set_trusted_networks },
	[KEY_TLS_CERT] = { SECTION_TLS, "cert", config_set_tls_cert },
	[KEY_TLS_KEY] = { SECTION_TLS, "key", config_set_tls_key },
	[KEY_DNS_NAMESERVER] = { SECTION_DNS, "nameserver",
	    config_set_dns_nameserver },
	[KEY_DNS_TIMEOUT] = { SECTION_DNS, "timeout", config_set_dns_timeout },
	[KEY_DNS_MESSAGE_DEADLINE] = { SECTION_DNS, "message_deadline",
	    config_set_dns_message_deadline },
	[KEY_LIMIT_MESSAGE_SIZE] = { SECTION_LIMITS, "message_size",
	    config_set_message_size },
	[KEY_LIMIT_RECIPIENTS] = { SECTION_LIMITS, "recipients",
	    config_set_recipients },
	[KEY_LIMIT_ERRORS] = { SECTION_LIMITS, "errors", config_set_errors },
	[KEY_LIMIT_COMMANDS] = { SECTION_LIMITS, "commands",
	    config_set_commands },
	[KEY_LIMIT_CONNECTIONS] = { SECTION_LIMITS, "connections",
	    config_set_connections },
	[KEY_LIMIT_CONNECTIONS_PER_IP] = { SECTION_LIMITS,
	    "connections_per_ip", config_set_connections_per_ip },
	[KEY_LIMIT_IDLE_TIMEOUT] = { SECTION_LIMITS, "idle_timeout",
	    config_set_idle_timeout },
	[KEY_LIMIT_BANNER_DELAY] = { SECTION_LIMITS, "banner_delay",
	    config_set_banner_delay },
	[KEY_LIMIT_DATA_TIMEOUT] = { SECTION_LIMITS, "data_timeout",
	    config_set_data_timeout },
	[KEY_LIMIT_MIN_DATA_RATE] = { SECTION_LIMITS, "min_data_rate",
	    config_set_min_data_rate },
	[KEY_LIMIT_DATA_RATE_GRACE] = { SECTION_LIMITS, "data_rate_grace",
	    config_set_data_rate_grace },
	[KEY_MAIL_ROOT] = { SECTION_DELIVERY, "mail_root",
	    config_set_mail_root },
	[KEY_RECIPIENT_DELIMITER] = { SECTION_DELIVERY, "recipient_delimiter",
	    config_set_recipient_delimiter },
	[KEY_DELIVERY_OWNER] = { SECTION_DELIVERY, "owner",
	    config_set_delivery_owner },
	[KEY_RETRY_INTERVAL] = { SECTION_DELIVERY, "retry_interval",
	    config_set_retry_interval },
	[KEY_RETRY_MAX] = { SECTION_DELIVERY, "retry_max",
	    config_set_retry_max },
	[KEY_QUEUE_LIFETIME] = { SECTION_DELIVERY, "queue_lifetime",
	    config_set_queue_lifetime },
	[KEY_DELAY_WARNING] = { SECTION_DELIVERY, "delay_warning",
	    config_set_delay_warning },
	[KEY_AUTH_DMARC_POLICY] = { SECTION_AUTH, "dmarc_policy",
	    config_set_dmarc_policy },
	[KEY_AUTH_MAX_FAILURES] = { SECTION_AUTH, "max_failures",
	    config_set_auth_max_failures },
	[KEY_AUTH_FAILURE_WINDOW] = { SECTION_AUTH, "failure_window",
	    config_set_auth_failure_window },
	[KEY_AUTH_FAILURE_DELAY] = { SECTION_AUTH, "failure_delay",
	    config_set_auth_failure_delay },
	[KEY_STORE_BACKEND] = { SECTION_STORE, "backend",
	    config_set_store_backend },
	[KEY_STORE_REDIS] = { SECTION_STORE, "redis", config_set_store_redis },
	[KEY_STORE_REDIS_PASSWORD] = { SECTION_STORE, "redis_password",
	    config_set_store_redis_password },
	[KEY_STORE_REDIS_DB] = { SECTION_STORE, "redis_db",
	    config_set_store_redis_db },
	[KEY_STORE_LMDB_MAP_SIZE] = { SECTION_STORE, "lmdb_map_size",
	    config_set_store_lmdb_map_size },
	[KEY_VERDICT_ADD_HEADER] = { SECTION_VERDICT, "add_header",
	    config_set_verdict_add_header },
	[KEY_VERDICT_JUNK] = { SECTION_VERDICT, "junk",
	    config_set_verdict_junk },
	[KEY_VERDICT_TEMPFAIL] = { SECTION_VERDICT, "tempfail",
	    config_set_verdict_tempfail },
	[KEY_VERDICT_REJECT] = { SECTION_VERDICT, "reject",
	    config_set_verdict_reject },
	[KEY_VERDICT_EXEMPT] = { SECTION_VERDICT, "exempt",
	    config_set_verdict_exempt },
	[KEY_LISTENER_ADDRESS] = { SECTION_LISTENER, "address",
	    config_set_listener_address },
	[KEY_LISTENER_PORT] = { SECTION_LISTENER, "port",
	    config_set_listener_port },
	[KEY_LISTENER_MODE] = { SECTION_LISTENER, "mode",
	    config_set_listener_mode },
	[KEY_DOMAIN_CATCHALL] = { SECTION_DOMAIN, "catchall",
	    config_set_domain_catchall },
	[KEY_ALIAS_TO] = { SECTION_ALIAS, "to", config_set_alias_to },
};

/* ---- keys: the inih handler -------------------------------------------- */

static int
config_key_find(enum config_section section, const char *name)
{
	int i;

	for (i = 0; i < KEY_COUNT; i++)
		if (config_keys[i].section == section &&
		    strcasecmp(config_keys[i].name, name) == 0)
			return i;
	return -1;
}

static void
config_set_key(struct config_parse *p, const char *key, const char *value)
{
	char why[160], k[CONFIG_SHOWN_MAX + 1], v[CONFIG_SHOWN_MAX + 1];
	int *seen, i;

	config_shown(k, sizeof(k), key);
	if (key[0] == '\0') {
		config_error(p, p->lineno, "missing key name before '='");
		return;
	}
	if (p->section == SECTION_NONE) {
		config_error(p, p->lineno, "key '%s' outside any section", k);
		return;
	}
	if ((i = config_key_find(p->section, key)) < 0) {
		config_error(p, p->lineno, "unknown key '%s' in %s", k,
		    p->label);
		return;
	}
	seen = p->cur_seen != NULL ? p->cur_seen : p->seen;
	if (seen[i] != 0) {
		config_error(p, p->lineno, "duplicate key '%s' in %s "
		    "(first on line %d)", config_keys[i].name, p->label,
		    seen[i]);
		return;
	}
	seen[i] = p->lineno;
	why[0] = '\0';
	if (config_has_control(value))
		snprintf(why, sizeof(why), "holds a control character");
	else if (config_keys[i].set(p, value, why, sizeof(why)) == 0)
		return;
	if (p->listener != NULL)
		p->listener->bad = true;
	config_error(p, p->lineno, "bad %s '%s' in %s: %s",
	    config_keys[i].name, config_shown(v, sizeof(v), value), p->label,
	    why);
}

/* inih calls this for every key line; the section comes from our reader,
 * which saw the header (see the top comment), so inih's is not used. */
static int
config_ini_handler(void *user, const char *section, const char *key,
    const char *value)
{
	struct config_parse *p = user;

	(void)section;
	p->handled = true;
	if (p->section != SECTION_SKIP && !p->stop) {
		config_set_key(p, key, value);
		config_error_limit(p);
	}
	return 1;	/* never stop inih: we collect every error */
}

/* ---- section headers ----------------------------------------------------- */

struct config_header {
	char	 name[CONFIG_SECTION_MAX];
	char	 sub[CONFIG_SUB_MAX];
	bool	 has_sub;
};

static bool
config_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool
config_is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

/* The quoted part of [NAME "SUB"], from the opening quote at s[*i]. */
static int
config_header_sub(const char *s, size_t n, size_t *i, struct config_header *h,
    char *why, size_t whysz)
{
	const char *close = memchr(s + *i + 1, '"', n - *i - 1);
	size_t len;

	if (close == NULL) {
		snprintf(why, whysz, "missing closing '\"'");
		return -1;
	}
	len = (size_t)(close - (s + *i + 1));
	if (len >= sizeof(h->sub)) {
		snprintf(why, whysz, "name too long");
		return -1;
	}
	memcpy(h->sub, s + *i + 1, len);
	h->sub[len] = '\0';
	h->has_sub = true;
	*i = (size_t)(close - s) + 1;
	return 0;
}

/*
 * Parse "[NAME]" or "[NAME "SUB"]" (git-config's subsection syntax; no
 * escapes, since no name we accept could use one), then only blanks or
 * a comment. s[0] is '['. 0, or -1 with a reason.
 */
static int
config_header_parse(const char *s, size_t n, struct config_header *h,
    char *why, size_t whysz)
{
	size_t i = 1, start;

	memset(h, 0, sizeof(*h));
	while (i < n && config_is_blank(s[i]))
		i++;
	for (start = i; i < n && config_is_name_char(s[i]); i++)
		;
	if (i == start) {
		snprintf(why, whysz, i < n && s[i] != ']' && s[i] != '"' ?
		    "bad character in section name" : "empty section name");
		return -1;
	}
	if (i - start >= sizeof(h->name)) {
		snprintf(why, whysz, "section name too long");
		return -1;
	}
	memcpy(h->name, s + start, i - start);
	while (i < n && config_is_blank(s[i]))
		i++;
	if (i < n && s[i] == '"') {
		if (config_header_sub(s, n, &i, h, why, whysz) != 0)
			return -1;
		while (i < n && config_is_blank(s[i]))
			i++;
	}
	if (i >= n || s[i] != ']') {
		if (i >= n)
			snprintf(why, whysz, "missing ']'");
		else if (!h->has_sub && config_is_name_char(s[i]))
			snprintf(why, whysz, "a name in a section header goes "
			    "in double quotes: [%s \"NAME\"]", h->name);
		else
			snprintf(why, whysz, "unexpected '%c' in section "
			    "header", s[i]);
		return -1;
	}
	for (i++; i < n && config_is_blank(s[i]); i++)
		;
	if (i < n && s[i] != '#' && s[i] != ';') {
		snprintf(why, whysz, "text after ']'");
		return -1;
	}
	return 0;
}

/* Listener names: what shows in logs, so a short plain word. */
static int
config_check_listener_name(const char *s, char *why, size_t whysz)
{
	size_t i, len = strlen(s);

	if (len == 0 || len >= CONFIG_NAME_MAX) {
		snprintf(why, whysz, "a listener name has 1 to %d bytes",
		    CONFIG_NAME_MAX - 1);
		return -1;
	}
	for (i = 0; i < len; i++)
		if (!config_is_name_char(s[i])) {
			snprintf(why, whysz, "a listener name has only "
			    "letters, digits, '-', '_' and '.'");
			return -1;
		}
	return 0;
}

static void
config_enter_listener(struct config_parse *p, const char *name)
{
	struct config_pending_listener *l;
	char why[160], shown[CONFIG_SHOWN_MAX + 1];
	size_t i;

	if (config_check_listener_name(name, why, sizeof(why)) != 0) {
		config_error(p, p->lineno, "bad listener name '%s': %s",
		    config_shown(shown, sizeof(shown), name), why);
		return;
	}
	for (i = 0; i < p->nlisteners; i++)
		if (strcmp(p->listeners[i].l.name, name) == 0) {
			config_error(p, p->lineno, "duplicate listener '%s' "
			    "(first on line %d)", name, p->listeners[i].line);
			return;
		}
	if (p->nlisteners == CONFIG_MAX_LISTENERS) {
		config_error(p, p->lineno, "too many listeners (at most %d)",
		    CONFIG_MAX_LISTENERS);
		return;
	}
	l = &p->listeners[p->nlisteners++];
	memset(l, 0, sizeof(*l));
	memcpy(l->l.name, name, strlen(name) + 1);
	l->line = p->lineno;
	p->listener = l;
	p->cur_seen = l->seen;
	p->section = SECTION_LISTENER;
	snprintf(p->label, sizeof(p->label), "[listener \"%s\"]", name);
}

static void
config_enter_domain(struct config_parse *p, const char *name)
{
	struct config_pending_domain *d;
	char norm[CONFIG_HOST_MAX], why[160], shown[CONFIG_SHOWN_MAX + 1];
	size_t i;

	if (config_domain_normalize(name, norm, sizeof(norm), why,
	    sizeof(why)) != 0) {
		config_error(p, p->lineno, "bad domain name '%s': %s",
		    config_shown(shown, sizeof(shown), name), why);
		return;
	}
	for (i = 0; i < p->ndomains; i++)
		if (strcmp(p->domains[i].d.name, norm) == 0) {
			config_error(p, p->lineno, "duplicate domain '%s' "
			    "(first on line %d)", norm, p->domains[i].line);
			return;
		}
	if (p->ndomains == p->domains_cap) {
		p->domains_cap = p->domains_cap ? p->domains_cap * 2 : 8;
		p->domains = config_xrealloc(p->domains, p->domains_cap,
		    sizeof(*p->domains));
	}
	d = &p->domains[p->ndomains++];
	memset(d, 0, sizeof(*d));
	memcpy(d->d.name, norm, strlen(norm) + 1);
	d->line = p->lineno;
	p->domain = d;
	p->cur_seen = d->seen;
	p->section = SECTION_DOMAIN;
	snprintf(p->label, sizeof(p->label), "[domain \"%s\"]", norm);
}

static void
config_enter_alias(struct config_parse *p, const char *name)
{
	struct config_pending_alias *a;
	char norm[CONFIG_ADDR_MAX], why[160], shown[CONFIG_SHOWN_MAX + 1];
	size_t i;

	if (config_addr_normalize(name, strlen(name), norm, sizeof(norm), why,
	    sizeof(why)) != 0 || strchr(norm, '@') == NULL) {
		if (strchr(norm, '@') == NULL)
			snprintf(why, sizeof(why), "give local@domain");
		config_error(p, p->lineno, "bad alias '%s': %s",
		    config_shown(shown, sizeof(shown), name), why);
		return;
	}
	for (i = 0; i < p->naliases; i++)
		if (strcmp(p->aliases[i].a.addr, norm) == 0) {
			config_error(p, p->lineno, "duplicate alias '%s' "
			    "(first on line %d)", norm, p->aliases[i].line);
			return;
		}
	if (p->naliases == p->aliases_cap) {
		p->aliases_cap = p->aliases_cap ? p->aliases_cap * 2 : 8;
		p->aliases = config_xrealloc(p->aliases, p->aliases_cap,
		    sizeof(*p->aliases));
	}
	a = &p->aliases[p->naliases++];
	memset(a, 0, sizeof(*a));
	memcpy(a->a.addr, norm, strlen(norm) + 1);
	a->line = p->lineno;
	p->alias = a;
	p->cur_seen = a->seen;
	p->section = SECTION_ALIAS;
	snprintf(p->label, sizeof(p->label), "[alias \"%s\"]", norm);
}

static const struct config_section_kind *
config_section_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(config_sections) / sizeof(*config_sections);
	    i++)
		if (strcasecmp(config_sections[i].name, name) == 0)
			return &config_sections[i];
	return NULL;
}

/* A header line: parse it and make its section the current one. Any
 * problem makes it SECTION_SKIP, so its keys add no further noise. */
static void
config_section_line(struct config_parse *p, const char *s, size_t n)
{
	const struct config_section_kind *kind;
	struct config_header h;
	char why[160];

	p->section = SECTION_SKIP;
	p->listener = NULL;
	p->domain = NULL;
	p->alias = NULL;
	p->cur_seen = NULL;
	if (config_header_parse(s, n, &h, why, sizeof(why)) != 0) {
		config_error(p, p->lineno, "bad section header: %s", why);
		return;
	}
	if ((kind = config_section_find(h.name)) == NULL) {
		config_error(p, p->lineno, "unknown section [%s]", h.name);
		return;
	}
	if (kind->named && !h.has_sub) {
		config_error(p, p->lineno, "[%s] needs a name: [%s \"NAME\"]",
		    kind->name, kind->name);
		return;
	}
	if (!kind->named && h.has_sub) {
		config_error(p, p->lineno, "[%s] takes no name", kind->name);
		return;
	}
	if (kind->id == SECTION_LISTENER)
		config_enter_listener(p, h.sub);
	else if (kind->id == SECTION_DOMAIN)
		config_enter_domain(p, h.sub);
	else if (kind->id == SECTION_ALIAS)
		config_enter_alias(p, h.sub);
	else {
		p->section = kind->id;
		snprintf(p->label, sizeof(p->label), "[%s]", kind->name);
	}
}

/* ---- the line reader inih reads through -------------------------------- */

/* The previous line was a key line; if inih found no '=' in it, it did
 * not call the handler, and that is the one error inih alone sees. */
static void
config_check_key_line(struct config_parse *p)
{
	if (p->key_line != 0 && !p->handled && !p->stop) {
		config_error(p, p->key_line, "expected 'key = value'");
		config_error_limit(p);
	}
	p->key_line = 0;
}

/* Sort one physical line: what inih should see goes into str (size num),
 * everything else becomes an empty line so inih's count stays ours. */
static void
config_take_line(struct config_parse *p, const char *s, size_t n, char *str,
    int num)
{
	if (memchr(s, '\0', n) != NULL) {
		config_error(p, p->lineno, "NUL byte in line");
		return;
	}
	if (p->lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;		/* a UTF-8 byte order mark */
		n -= 3;
	}
	while (n > 0 && config_is_blank(*s)) {
		s++;
		n--;
	}
	if (n == 0 || *s == '#' || *s == ';')
		return;
	if (*s == '[') {
		config_section_line(p, s, n);
		return;
	}
	if (num <= 0 || n >= (size_t)num) {
		config_error(p, p->lineno, "line too long (%zu bytes; a key "
		    "line holds at most %d)", n, num > 0 ? num - 1 : 0);
		return;
	}
	memcpy(str, s, n);
	str[n] = '\0';
	p->key_line = p->lineno;
	p->handled = false;
}

/* ini_reader: hand inih one line per call, as fgets would. */
static char *
config_read_line(char *str, int num, void *stream)
{
	struct config_parse *p = stream;
	const char *line, *eol;
	size_t n;

	config_check_key_line(p);
	if (p->stop || p->p >= p->end)
		return NULL;
	line = p->p;
	eol = memchr(line, '\n', (size_t)(p->end - line));
	n = eol != NULL ? (size_t)(eol - line) : (size_t)(p->end - line);
	p->p = eol != NULL ? eol + 1 : p->end;
	p->lineno++;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	if (num > 0)
		str[0] = '\0';
	config_take_line(p, line, n, str, num);
	config_error_limit(p);
	return str;
}

/* ---- after the last line ------------------------------------------------- */

static void
config_finish_tls(struct config_parse *p)
{
	const struct config *w = &p->work;

	if ((w->tls_cert[0] != '\0') == (w->tls_key[0] != '\0'))
		return;
	if (w->tls_cert[0] != '\0')
		config_error(p, p->seen[KEY_TLS_CERT], "[tls] cert is set "
		    "but key is not: give both, or neither for a self-signed "
		    "certificate");
	else
		config_error(p, p->seen[KEY_TLS_KEY], "[tls] key is set but "
		    "cert is not: give both, or neither for a self-signed "
		    "certificate");
}

/* Two listeners on one address and port cannot both bind; a wildcard
 * address (0.0.0.0, ::) takes the port on every address of its family. */
static bool
config_listeners_clash(const struct config_listener *a,
    const struct config_listener *b)
{
	bool v6a = strchr(a->address, ':') != NULL;
	bool v6b = strchr(b->address, ':') != NULL;

	if (a->port != b->port || v6a != v6b)
		return false;
	return strcmp(a->address, b->address) == 0 ||
	    strcmp(a->address, v6a ? "::" : "0.0.0.0") == 0 ||
	    strcmp(b->address, v6b ? "::" : "0.0.0.0") == 0;
}

static void
config_finish_listener(struct config_parse *p, size_t i)
{
	static const enum config_key_id need[] = {
		KEY_LISTENER_ADDRESS, KEY_LISTENER_PORT, KEY_LISTENER_MODE,
	};
	struct config_pending_listener *l = &p->listeners[i];
	size_t k, j;

	for (k = 0; k < sizeof(need) / sizeof(*need); k++)
		if (l->seen[need[k]] == 0) {
			config_error(p, l->line, "[listener \"%s\"] has no %s",
			    l->l.name, config_keys[need[k]].name);
			l->bad = true;
		}
	if (l->bad)
		return;
	for (j = 0; j < i; j++)
		if (!p->listeners[j].bad &&
		    config_listeners_clash(&p->listeners[j].l, &l->l)) {
			config_error(p, l->seen[KEY_LISTENER_PORT],
			    "listener '%s' on %s port %u clashes with "
			    "listener '%s' on %s (line %d)", l->l.name,
			    l->l.address, l->l.port, p->listeners[j].l.name,
			    p->listeners[j].l.address, p->listeners[j].line);
			return;
		}
}

/* An alias needs targets, and lives in a local domain. */
static void
config_finish_aliases(struct config_parse *p)
{
	const char *domain;
	size_t i, j;
	bool local;

	for (i = 0; i < p->naliases; i++) {
		if (p->aliases[i].seen[KEY_ALIAS_TO] == 0) {
			config_error(p, p->aliases[i].line, "[alias \"%s\"] "
			    "has no to", p->aliases[i].a.addr);
			continue;
		}
		domain = strchr(p->aliases[i].a.addr, '@') + 1;
		local = false;
		if (p->ndomains > 0) {
			for (j = 0; j < p->ndomains; j++)
				if (strcmp(p->domains[j].d.name, domain) == 0)
					local = true;
		} else {
			for (j = 0; j < p->work.ndomains; j++)
				if (strcmp(p->work.domains[j].name, domain) == 0)
					local = true;
		}
		if (!local)
			config_error(p, p->aliases[i].line, "[alias \"%s\"]: "
			    "%s is not a local domain", p->aliases[i].a.addr,
			    domain);
	}
}

static void
config_finish(struct config_parse *p)
{
	size_t i;

	config_finish_tls(p);
	config_finish_aliases(p);
	for (i = 0; i < p->nlisteners; i++)
		config_finish_listener(p, i);
	if (p->nlisteners > 0) {
		for (i = 0; i < p->nlisteners; i++)
			p->work.listeners[i] = p->listeners[i].l;
		p->work.nlisteners = p->nlisteners;
	}
	if (p->work.nlisteners == 0)
		config_error(p, 0, "no listener: name at least one "
		    "[listener \"NAME\"]");
}

/* Make the load visible: the parse's work becomes the config. */
static void
config_commit(struct config_parse *p, struct config *c)
{
	struct config_domain *d;
	struct config_alias *a;
	size_t i;

	if (p->ndomains > 0) {
		d = config_xrealloc(NULL, p->ndomains, sizeof(*d));
		for (i = 0; i < p->ndomains; i++)
			d[i] = p->domains[i].d;
		if (c->domains != config_default_domains)
			free(c->domains);
		p->work.domains = d;
		p->work.ndomains = p->ndomains;
	}
	if (p->naliases > 0) {
		a = config_xrealloc(NULL, p->naliases, sizeof(*a));
		for (i = 0; i < p->naliases; i++)
			a[i] = p->aliases[i].a;
		free(c->aliases);
		p->work.aliases = a;
		p->work.naliases = p->naliases;
	}
	snprintf(p->work.path, sizeof(p->work.path), "%s", p->name);
	*c = p->work;
}

/* ---- the interface -------------------------------------------------------- */

/* The machine's name when it looks like a mail server's FQDN, else
 * localhost.localdomain; no DNS lookup, so this is quick and quiet. */
static void
config_default_hostname(char *out, size_t n)
{
	char host[CONFIG_HOST_MAX], why[160];

	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		if (config_hostname_normalize(host, out, n, why,
		    sizeof(why)) == 0)
			return;
	}
	snprintf(out, n, "localhost.localdomain");
}

void
config_defaults(struct config *c)
{
	static const struct config_listener listeners[] = {
		{ "smtp", "127.0.0.1", 2525, LISTENER_SMTP },
		{ "submission", "127.0.0.1", 2587, LISTENER_SUBMISSION },
		{ "smtps", "127.0.0.1", 2465, LISTENER_SMTPS },
	};
	const char *data = getenv("NETJES_DATA");
	size_t i;

	memset(c, 0, sizeof(*c));
	config_default_hostname(c->hostname, sizeof(c->hostname));
	if (data == NULL || data[0] == '\0' ||
	    strlen(data) >= sizeof(c->data_dir) || config_has_control(data))
		data = "./var";
	snprintf(c->data_dir, sizeof(c->data_dir), "%s", data);
	c->log_level = LOG_LEVEL_INFO;
	c->log_target = LOG_TARGET_STDERR;
	c->log_format = LOG_FORMAT_TEXT;
	c->dns_timeout = 5.0;
	c->dns_message_deadline = 10.0;
	c->limits.message_size = 36700160;	/* 35 MiB */
	c->limits.recipients = 100;
	c->limits.errors = 20;
	c->limits.commands = 100000;
	c->limits.connections = 10000;
	c->limits.connections_per_ip = 20;
	c->limits.idle_timeout = 300;
	c->limits.banner_delay = 1;
	c->limits.data_timeout = 600;	/* as RFC 5321 4.5.3.2.6 */
	c->limits.min_data_rate = 100;
	c->limits.data_rate_grace = 30;
	snprintf(c->recipient_delimiter, sizeof(c->recipient_delimiter), "+");
	snprintf(c->server_user, sizeof(c->server_user), "%s",
	    CONFIG_DEFAULT_USER);
	c->delivery_retry_interval = 300;	/* 5 min, doubling */
	c->delivery_retry_max = 4 * 3600;
	c->delivery_queue_lifetime = 5 * 86400;
	c->delivery_delay_warning = 4 * 3600;
	c->auth_max_failures = 5;
	c->auth_failure_window = 900;	/* 15 min */
	c->auth_failure_delay = 1;
	c->store_backend = CONFIG_STORE_LMDB;
	snprintf(c->store_redis, sizeof(c->store_redis), "127.0.0.1:6379");
	c->store_lmdb_map_size = (uint64_t)256 << 20;	/* 256 MiB */
	/* SpamAssassin's 5 marks, 6 goes to Junk, 15 refuses (as rspamd
	 * does); no score-based temporary refusal */
	c->verdict_add_header = 5;
	c->verdict_junk = 6;
	c->verdict_tempfail = 0;
	c->verdict_reject = 15;
	for (i = 0; i < sizeof(listeners) / sizeof(*listeners); i++)
		c->listeners[i] = listeners[i];
	c->nlisteners = i;
	c->domains = config_default_domains;
	c->ndomains = sizeof(config_default_domains) /
	    sizeof(*config_default_domains);
}

int
config_load_string(struct config *c, const char *text, size_t n,
    const char *name, struct config_errors *errs)
{
	struct config_parse *p;
	size_t first = errs != NULL ? errs->n : 0;
	int nerrs;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		abort();
	p->work = *c;
	p->name = name != NULL ? name : "<string>";
	p->errs = errs;
	p->p = text;
	p->end = text + n;
	(void)ini_parse_stream(config_read_line, p, config_ini_handler, p);
	if (!p->stop) {
		config_finish(p);
		config_errors_sort(errs, first);
	}
	if (p->nerrs == 0)
		config_commit(p, c);
	nerrs = p->nerrs;
	free(p->domains);
	free(p->aliases);
	free(p);
	return nerrs;
}

/* Read a whole file into b: 0, or -1 with a reason. */
static int
config_read_file(const char *path, struct buf *b, char *why, size_t whysz)
{
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(why, whysz, "cannot open: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		buf_reserve(b, 65536);
		r = read(fd, b->data + b->len, 65536);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		b->len += (size_t)r;
		b->data[b->len] = '\0';
		if (b->len > CONFIG_FILE_MAX)
			break;
	}
	close(fd);
	if (r < 0) {
		snprintf(why, whysz, "cannot read: %s", strerror(errno));
		return -1;
	}
	if (b->len > CONFIG_FILE_MAX) {
		snprintf(why, whysz, "larger than %d bytes", CONFIG_FILE_MAX);
		return -1;
	}
	return 0;
}

int
config_load(struct config *c, const char *path, struct config_errors *errs)
{
	struct buf text = BUF_INIT;
	char why[200];
	int nerrs;

	if (config_read_file(path, &text, why, sizeof(why)) != 0) {
		config_errors_push(errs, path, 0, why);
		buf_free(&text);
		return 1;
	}
	nerrs = config_load_string(c, buf_cstr(&text), text.len, path, errs);
	buf_free(&text);
	return nerrs;
}

void
config_free(struct config *c)
{
	if (c->domains != config_default_domains)
		free(c->domains);
	c->domains = NULL;
	c->ndomains = 0;
	free(c->aliases);
	c->aliases = NULL;
	c->naliases = 0;
}

void
config_errors_free(struct config_errors *e)
{
	free(e->v);
	e->v = NULL;
	e->n = 0;
}

const char *
config_listener_mode_name(enum listener_mode mode)
{
	if ((size_t)mode >= sizeof(config_mode_names) /
	    sizeof(*config_mode_names))
		return "unknown";
	return config_mode_names[mode];
}

bool
config_is_local_domain(const struct config *c, const char *domain)
{
	char norm[CONFIG_HOST_MAX], why[160];
	size_t i;

	if (domain == NULL || config_domain_normalize(domain, norm,
	    sizeof(norm), why, sizeof(why)) != 0)
		return false;
	for (i = 0; i < c->ndomains; i++)
		if (strcmp(c->domains[i].name, norm) == 0)
			return true;
	return false;
}

bool
config_is_trusted(const struct config *c, const struct ip_addr *ip)
{
	struct ip_addr plain = *ip;
	size_t i;

	ip_unmap_v4(&plain);
	for (i = 0; i < c->ntrusted; i++)
		if (cidr_match(&c->trusted[i], &plain))
			return true;
	return false;
}

/* ---- what every key means: show, JSON and the manual page -------------
 *
 * config_key_docs[] runs parallel to config_keys[] (same index): how to
 * read a key's value back out of a struct config, how JSON shows it, and
 * one line for netjes.conf(5). `netjes config show`, its --json and the
 * manual page are all generated from these two tables, so a key cannot
 * be parsed and yet missing from them: test_config.c fails for a key
 * whose entry here is empty.
 */

enum config_json {
	CONFIG_JSON_NONE = 0,	/* no entry: the key is not described */
	CONFIG_JSON_STRING,
	CONFIG_JSON_NUMBER,
	CONFIG_JSON_LIST,	/* blank- or comma-separated words */
};

struct config_key_doc;
/* Append key's value in the file's syntax; instance is the index of the
 * [listener/domain/alias "NAME"] section, 0 for the unnamed ones. */
typedef void config_getter(const struct config *, const struct config_key_doc *,
    size_t instance, struct buf *);

struct config_key_doc {
	enum config_json	 json;
	config_getter		*get;
	size_t			 off;	/* field, for the offset getters */
	const char		*syntax;	/* the value, for the manual */
	const char		*desc;
	const char		*default_doc;	/* when not from config_defaults() */
};

static const char *const config_section_docs[] = {
	[SECTION_SERVER] = "The server as a whole.",
	[SECTION_TLS] = "The certificate for STARTTLS and implicit TLS.",
	[SECTION_DNS] = "How DNS lookups (SPF, DKIM, DMARC, iprev) are made.",
	[SECTION_LIMITS] = "Per-message and per-session limits.",
	[SECTION_DELIVERY] = "Local delivery into Maildirs.",
	[SECTION_AUTH] = "Authentication checks of incoming mail, and the "
	    "throttle on failed SMTP AUTH logins.",
	[SECTION_VERDICT] = "What the score of a message leads to, and who "
	    "is never refused. Thresholds are sums of the findings' scores "
	    "(netjes analyze shows them); 0 turns one off.",
	[SECTION_STORE] = "The state store: what checks remember between "
	    "sessions (AUTH failures, rate counters).",
	[SECTION_LISTENER] = "Where the server listens. Naming any listener "
	    "replaces the three default ones (smtp on 127.0.0.1:2525, "
	    "submission on 2587, smtps on 2465); two listeners cannot share "
	    "an address and port.",
	[SECTION_DOMAIN] = "A local domain: mail for it is delivered here. "
	    "Naming any domain replaces the default, example.test. Names "
	    "are kept as lowercase A-labels.",
	[SECTION_ALIAS] = "An alias LOCAL@DOMAIN in a local domain.",
};

static const void *
config_field(const struct config *c, const struct config_key_doc *d)
{
	return (const char *)c + d->off;
}

static void
config_get_str(const struct config *c, const struct config_key_doc *d,
    size_t i, struct buf *b)
{
	buf_append_str(b, config_field(c, d));
}

static void
config_get_unsigned(const struct config *c, const struct config_key_doc *d,
    size_t i, struct buf *b)
{
	buf_printf(b, "%u", *(const unsigned *)config_field(c, d));
}

static void
config_get_u64(const struct config *c, const struct config_key_doc *d,
    size_t i, struct buf *b)
{
	buf_printf(b, "%" PRIu64, *(const uint64_t *)config_field(c, d));
}

/* Seconds with up to three decimals and no trailing zeros. */
static void
config_get_seconds(const struct config *c, const struct config_key_doc *d,
    size_t i, struct buf *b)
{
	long long ms = config_ms(*(const double *)config_field(c, d));
	int frac = (int)(ms % 1000), digits = 3;

	buf_printf(b, "%lld", ms / 1000);
	if (frac == 0)
		return;
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	buf_printf(b, ".%0*d", digits, frac);
}

static void
config_get_log_level(const struct config *c, const struct config_key_doc *d,
    size_t i, struct buf *b)
{
	buf_append_str(b, config_log_level_name(c->log_level));
}

static void
config_get_log_target(const struct config *c, const struct config_key_doc *d,
    size_t i, struct buf *b)
{
	buf_append_str(b, config_log_target_name(c->log_target));
}

static void
config_get_log_format(const struct config *c, const struct config_key_doc *d,
    size_t i, struct buf *b)
{
	buf_append_str(b, log_format_name(c->log_format));
}

static void
config_get_trusted(const struct config *c, const struct config_key_doc *d,
    size_t i, struct buf *b)
{
	char cidr[CIDR_STRLEN];
	size_t k;

	for (k = 0; k < c->ntrusted; k++)
		buf_printf(b, "%s%s", k > 0 ? " " : "",
		    cidr_format(&c->trusted[k], cidr, sizeof(cidr)));
}

static void
config_get_dmarc_policy(const struct config *c,
    const struct config_key_doc *d, size_t i, struct buf *b)
{
	buf_append_str(b, c->dmarc_monitor ? "monitor" : "enforce");
}

static void
config_get_store_backend(const struct config *c,
    const struct config_key_doc *d, size_t i, struct buf *b)
{
	buf_append_str(b, c->store_backend == CONFIG_STORE_REDIS ? "redis" :
	    "lmdb");
}

static void
config_get_listener_address(const struct config *c,
    const struct config_key_doc *d, size_t i, struct buf *b)
{
	buf_append_str(b, c->listeners[i].address);
}

static void
config_get_listener_port(const struct config *c,
    const struct config_key_doc *d, size_t i, struct buf *b)
{
	buf_printf(b, "%u", c->listeners[i].port);
}

static void
config_get_listener_mode(const struct config *c,
    const struct config_key_doc *d, size_t i, struct buf *b)
{
	buf_append_str(b, config_listener_mode_name(c->listeners[i].mode));
}

static void
config_get_domain_catchall(const struct config *c,
    const struct config_key_doc *d, size_t i, struct buf *b)
{
	buf_append_str(b, c->domains[i].catchall);
}

static void
config_get_alias_to(const struct config *c, const struct config_key_doc *d,
    size_t i, struct buf *b)
{
	buf_append_str(b, c->aliases[i].targets);
}

#define CONFIG_OFF(field)	offsetof(struct config, field)

static const struct config_key_doc config_key_docs[KEY_COUNT] = {
	[KEY_HOSTNAME] = { CONFIG_JSON_STRING, config_get_str,
	    CONFIG_OFF(hostname), "NAME",
	    "The fully-qualified name given in the greeting, in EHLO and "
	    "in Received.",
	    "the machine's name when it is fully qualified, else "
	    "localhost.localdomain" },
	[KEY_DATA_DIR] = { CONFIG_JSON_STRING, config_get_str,
	    CONFIG_OFF(data_dir), "DIRECTORY",
	    "Where the queue, the state and the self-signed certificate "
	    "live.",
	    "$NETJES_DATA when set, else ./var" },
	[KEY_LOG_LEVEL] = { CONFIG_JSON_STRING, config_get_log_level, 0,
	    "error|warn|info|debug", "How much is logged.", NULL },
	[KEY_LOG_TARGET] = { CONFIG_JSON_STRING, config_get_log_target, 0,
	    "stderr|syslog", "Where the log goes (syslog: facility mail).",
	    NULL },
	[KEY_LOG_FORMAT] = { CONFIG_JSON_STRING, config_get_log_format, 0,
	    "text|json", "text: level=... event=... key=value pairs; json: "
	    "the same as one JSON object a line (every value a string), for "
	    "log shippers. Set at start.", NULL },
	[KEY_USERS_FILE] = { CONFIG_JSON_STRING, config_get_str,
	    CONFIG_OFF(users_file), "FILE",
	    "The users, a Dovecot passwd-file managed by netjes user: the "
	    "local recipients and the accounts that may log in with AUTH. "
	    "Empty: DATA_DIR/users.", NULL },
	[KEY_SERVER_USER] = { CONFIG_JSON_STRING, config_get_str,
	    CONFIG_OFF(server_user), "ACCOUNT",
	    "Started as root, the account everything that reads the network, "
	    "DNS and messages runs as; a root parent keeps the TLS key. "
	    "Create it with useradd --system.", NULL },
	[KEY_SERVER_GROUP] = { CONFIG_JSON_STRING, config_get_str,
	    CONFIG_OFF(server_group), "GROUP",
	    "The group to run as. Empty: the user's own.", NULL },
	[KEY_TRUSTED_NETWORKS] = { CONFIG_JSON_LIST, config_get_trusted, 0,
	    "CIDR ...",
	    "Networks whose clients may relay without logging in, "
	    "separated by blanks or commas. Empty: none, not even "
	    "loopback.", NULL },
	[KEY_TLS_CERT] = { CONFIG_JSON_STRING, config_get_str,
	    CONFIG_OFF(tls_cert), "FILE",
	    "A PEM certificate chain. Give cert and key, or neither for a "
	    "self-signed certificate made in DATA_DIR on first start.",
	    NULL },
	[KEY_TLS_KEY] = { CONFIG_JSON_STRING, config_get_str,
	    CONFIG_OFF(tls_key), "FILE",
	    "The PEM private key of cert.", NULL },
	[KEY_DNS_NAMESERVER] = { CONFIG_JSON_STRING, config_get_str,
	    CONFIG_OFF(dns_nameserver), "IP|IP:PORT|[IPv6]:PORT",
	    "The DNS server to ask. Empty: the system's resolvers.", NULL },
	[KEY_DNS_TIMEOUT] = { CONFIG_JSON_NUMBER, config_get_seconds,
	    CONFIG_OFF(dns_timeout), "SECONDS",
	    "Time per lookup, more than 0 and at most 3600, to the "
	    "millisecond.", NULL },
	[KEY_DNS_MESSAGE_DEADLINE] = { CONFIG_JSON_NUMBER, config_get_seconds,
	    CONFIG_OFF(dns_message_deadline), "SECONDS",
	    "All DNS of one message's checks: what is still unanswered then "
	    "is temperror, and the message goes on.", NULL },
	[KEY_LIMIT_MESSAGE_SIZE] = { CONFIG_JSON_NUMBER, config_get_u64,
	    CONFIG_OFF(limits.message_size), "OCTETS",
	    "Largest message accepted, announced with SIZE.", NULL },
	[KEY_LIMIT_RECIPIENTS] = { CONFIG_JSON_NUMBER, config_get_unsigned,
	    CONFIG_OFF(limits.recipients), "N",
	    "Recipients per message; more get 452 4.5.3.", NULL },
	[KEY_LIMIT_ERRORS] = { CONFIG_JSON_NUMBER, config_get_unsigned,
	    CONFIG_OFF(limits.errors), "N",
	    "Bad commands and refused recipients per session before 421.",
	    NULL },
	[KEY_LIMIT_COMMANDS] = { CONFIG_JSON_NUMBER, config_get_unsigned,
	    CONFIG_OFF(limits.commands), "N",
	    "Commands per session before 421.", NULL },
	[KEY_LIMIT_CONNECTIONS] = { CONFIG_JSON_NUMBER, config_get_unsigned,
	    CONFIG_OFF(limits.connections), "N",
	    "Open sessions in all; more get 421 4.7.0.", NULL },
	[KEY_LIMIT_CONNECTIONS_PER_IP] = { CONFIG_JSON_NUMBER,
	    config_get_unsigned, CONFIG_OFF(limits.connections_per_ip), "N",
	    "Open sessions from one client address; more get 421 4.7.0.",
	    NULL },
	[KEY_LIMIT_IDLE_TIMEOUT] = { CONFIG_JSON_NUMBER, config_get_seconds,
	    CONFIG_OFF(limits.idle_timeout), "SECONDS",
	    "How long a client may stay silent.", NULL },
	[KEY_LIMIT_BANNER_DELAY] = { CONFIG_JSON_NUMBER, config_get_seconds,
	    CONFIG_OFF(limits.banner_delay), "SECONDS",
	    "Wait before the greeting; a client that talks first gets 554. "
	    "0 turns it off; at most 60.", NULL },
	[KEY_LIMIT_DATA_TIMEOUT] = { CONFIG_JSON_NUMBER, config_get_seconds,
	    CONFIG_OFF(limits.data_timeout), "SECONDS",
	    "The longest one DATA or BDAT transfer may take, from the 354 "
	    "or the first BDAT to the end of the message; then 451 4.4.2 "
	    "and the connection closes. 0 turns it off; at most 3600.",
	    NULL },
	[KEY_LIMIT_MIN_DATA_RATE] = { CONFIG_JSON_NUMBER, config_get_unsigned,
	    CONFIG_OFF(limits.min_data_rate), "OCTETS",
	    "The slowest average rate, in octets per second over the whole "
	    "transfer, a DATA or BDAT transfer may have after "
	    "data_rate_grace; a slower one gets 451 4.4.2 and the "
	    "connection closes. 0 turns it off.", NULL },
	[KEY_LIMIT_DATA_RATE_GRACE] = { CONFIG_JSON_NUMBER, config_get_seconds,
	    CONFIG_OFF(limits.data_rate_grace), "SECONDS",
	    "How long a transfer runs before min_data_rate applies.", NULL },
	[KEY_MAIL_ROOT] = { CONFIG_JSON_STRING, config_get_str,
	    CONFIG_OFF(mail_root), "DIRECTORY",
	    "Where Maildirs live, as MAIL_ROOT/DOMAIN/USER. Empty: "
	    "DATA_DIR/mail.", NULL },
	[KEY_RECIPIENT_DELIMITER] = { CONFIG_JSON_STRING, config_get_str,
	    CONFIG_OFF(recipient_delimiter), "CHARACTERS",
	    "Characters that start a subaddress (some of + - _ = . # ~). "
	    "Empty: no subaddressing.", NULL },
	[KEY_DELIVERY_OWNER] = { CONFIG_JSON_STRING, config_get_str,
	    CONFIG_OFF(delivery_owner), "ACCOUNT",
	    "Who owns delivered mail (directories 0700, files 0600). Empty: "
	    "the [server] user; another account is refused.", NULL },
	[KEY_RETRY_INTERVAL] = { CONFIG_JSON_NUMBER, config_get_unsigned,
	    CONFIG_OFF(delivery_retry_interval), "DURATION",
	    "The first retry of a failed delivery, doubling after each "
	    "(s, m, h, d suffixes).", NULL },
	[KEY_RETRY_MAX] = { CONFIG_JSON_NUMBER, config_get_unsigned,
	    CONFIG_OFF(delivery_retry_max), "DURATION",
	    "The longest wait between two retries.", NULL },
	[KEY_QUEUE_LIFETIME] = { CONFIG_JSON_NUMBER, config_get_unsigned,
	    CONFIG_OFF(delivery_queue_lifetime), "DURATION",
	    "How long a message is retried before a failure DSN goes to its "
	    "sender.", NULL },
	[KEY_DELAY_WARNING] = { CONFIG_JSON_NUMBER, config_get_unsigned,
	    CONFIG_OFF(delivery_delay_warning), "DURATION",
	    "When the sender is told that a message is delayed; 0: never.",
	    NULL },
	[KEY_AUTH_DMARC_POLICY] = { CONFIG_JSON_STRING,
	    config_get_dmarc_policy, 0, "enforce|monitor",
	    "enforce: reject or quarantine as a failed DMARC check's domain "
	    "asks; monitor: only record the results.", NULL },
	[KEY_AUTH_MAX_FAILURES] = { CONFIG_JSON_NUMBER, config_get_unsigned,
	    CONFIG_OFF(auth_max_failures), "N",
	    "Failed SMTP AUTH attempts from one client address (an IPv6 /64) "
	    "within failure_window before its AUTH gets 421 4.7.0 and the "
	    "session ends; 0: never blocked. At most 1000.", NULL },
	[KEY_AUTH_FAILURE_WINDOW] = { CONFIG_JSON_NUMBER, config_get_unsigned,
	    CONFIG_OFF(auth_failure_window), "DURATION",
	    "How long a client's AUTH failures are remembered after its last "
	    "one (s, m, h, d suffixes; at most 1d).", NULL },
	[KEY_AUTH_FAILURE_DELAY] = { CONFIG_JSON_NUMBER, config_get_seconds,
	    CONFIG_OFF(auth_failure_delay), "SECONDS",
	    "After a client's first AUTH failure its next AUTH reply waits "
	    "this long, doubling with each further failure up to 30 s; 0 "
	    "turns it off; at most 30.", NULL },
	[KEY_STORE_BACKEND] = { CONFIG_JSON_STRING, config_get_store_backend,
	    0, "lmdb|redis",
	    "lmdb: an embedded database in DATA_DIR/state; redis: a Redis "
	    "server, so several MX hosts share what they count.", NULL },
	[KEY_STORE_REDIS] = { CONFIG_JSON_STRING, config_get_str,
	    CONFIG_OFF(store_redis), "IP|IP:PORT|[IPv6]:PORT|PATH",
	    "The Redis server (port 6379 when not given), or the path of "
	    "its Unix socket. An address, not a name.", NULL },
	[KEY_STORE_REDIS_PASSWORD] = { CONFIG_JSON_STRING, config_get_str,
	    CONFIG_OFF(store_redis_password), "PASSWORD",
	    "Sent with AUTH after connecting. Empty: no AUTH.", NULL },
	[KEY_STORE_REDIS_DB] = { CONFIG_JSON_NUMBER, config_get_unsigned,
	    CONFIG_OFF(store_redis_db), "N",
	    "The Redis database number (SELECT).", NULL },
	[KEY_STORE_LMDB_MAP_SIZE] = { CONFIG_JSON_NUMBER, config_get_u64,
	    CONFIG_OFF(store_lmdb_map_size), "OCTETS",
	    "The largest the LMDB file may grow, 1 MiB to 1 TiB; writes "
	    "past it fail (the state is then not kept).", NULL },
	[KEY_VERDICT_ADD_HEADER] = { CONFIG_JSON_NUMBER, config_get_seconds,
	    CONFIG_OFF(verdict_add_header), "SCORE",
	    "From this score a delivered message is marked as spam "
	    "(X-Spam-Flag: YES, X-Spam-Status: Yes).", NULL },
	[KEY_VERDICT_JUNK] = { CONFIG_JSON_NUMBER, config_get_seconds,
	    CONFIG_OFF(verdict_junk), "SCORE",
	    "From this score a message goes to the recipient's Junk folder.",
	    NULL },
	[KEY_VERDICT_TEMPFAIL] = { CONFIG_JSON_NUMBER, config_get_seconds,
	    CONFIG_OFF(verdict_tempfail), "SCORE",
	    "From this score a message gets 451 4.7.1 at the end of DATA "
	    "(0: never for its score alone).", NULL },
	[KEY_VERDICT_REJECT] = { CONFIG_JSON_NUMBER, config_get_seconds,
	    CONFIG_OFF(verdict_reject), "SCORE",
	    "From this score a message gets 550 5.7.1 at the end of DATA, "
	    "naming the reason; it is never bounced.", NULL },
	[KEY_VERDICT_EXEMPT] = { CONFIG_JSON_STRING, config_get_str,
	    CONFIG_OFF(verdict_exempt), "LOCAL|ADDR ...",
	    "Recipients that are never refused, besides postmaster@ and "
	    "abuse@ of every domain: local parts (any domain) or addresses. "
	    "Mail for them that would be refused goes to Junk or is "
	    "delivered marked.", NULL },
	[KEY_LISTENER_ADDRESS] = { CONFIG_JSON_STRING,
	    config_get_listener_address, 0, "IP",
	    "The IPv4 or IPv6 address to listen on (0.0.0.0 or :: for all). "
	    "Required.", "none" },
	[KEY_LISTENER_PORT] = { CONFIG_JSON_NUMBER, config_get_listener_port,
	    0, "PORT", "The TCP port, 1-65535. Required.", "none" },
	[KEY_LISTENER_MODE] = { CONFIG_JSON_STRING, config_get_listener_mode,
	    0, "smtp|submission|smtps",
	    "smtp: mail from other servers, STARTTLS offered; submission: "
	    "mail from your users, AUTH required after STARTTLS; smtps: the "
	    "same over implicit TLS. Required.", "none" },
	[KEY_DOMAIN_CATCHALL] = { CONFIG_JSON_STRING,
	    config_get_domain_catchall, 0, "LOCAL|ADDRESS",
	    "Where mail for unknown local parts goes. Empty: refused.", "" },
	[KEY_ALIAS_TO] = { CONFIG_JSON_LIST, config_get_alias_to, 0,
	    "ADDRESS ...",
	    "The targets, separated by commas or blanks; a bare local part "
	    "is in the alias's own domain. Required.", "none" },
};

/* Named sections: how many the config holds, and the name of one. */
static size_t
config_section_count(const struct config *c, enum config_section s)
{
	switch (s) {
	case SECTION_LISTENER:
		return c->nlisteners;
	case SECTION_DOMAIN:
		return c->ndomains;
	case SECTION_ALIAS:
		return c->naliases;
	default:
		return 1;
	}
}

static const char *
config_section_sub(const struct config *c, enum config_section s, size_t i)
{
	switch (s) {
	case SECTION_LISTENER:
		return c->listeners[i].name;
	case SECTION_DOMAIN:
		return c->domains[i].name;
	case SECTION_ALIAS:
		return c->aliases[i].addr;
	default:
		return "";
	}
}

/* The JSON name of a named section's list: "listeners", "aliases". */
static void
config_section_plural(const char *name, char *out, size_t n)
{
	size_t len = strlen(name);

	snprintf(out, n, "%s%s", name, len > 0 && name[len - 1] == 's' ?
	    "es" : "s");
}

static void
config_key_value(const struct config *c, int key, size_t instance,
    struct buf *b)
{
	const struct config_key_doc *d = &config_key_docs[key];

	if (d->get != NULL)
		d->get(c, d, instance, b);
}

/* The keys of one section, in the file's syntax. */
static void
config_write_section_keys(const struct config *c, enum config_section s,
    size_t instance, struct buf *b)
{
	size_t start;
	int i;

	for (i = 0; i < KEY_COUNT; i++) {
		if (config_keys[i].section != s)
			continue;
		buf_printf(b, "%s =", config_keys[i].name);
		start = b->len;
		buf_append_char(b, ' ');
		config_key_value(c, i, instance, b);
		if (b->len == start + 1)	/* "key =" when empty */
			b->len = start;
		buf_append_char(b, '\n');
	}
}

void
config_write_ini(const struct config *c, struct buf *b)
{
	const struct config_section_kind *k;
	size_t s, i, n;
	bool first = true;

	for (s = 0; s < sizeof(config_sections) / sizeof(*config_sections);
	    s++) {
		k = &config_sections[s];
		n = config_section_count(c, k->id);
		for (i = 0; i < n; i++) {
			buf_append_str(b, first ? "" : "\n");
			first = false;
			if (k->named)
				buf_printf(b, "[%s \"%s\"]\n", k->name,
				    config_section_sub(c, k->id, i));
			else
				buf_printf(b, "[%s]\n", k->name);
			config_write_section_keys(c, k->id, i, b);
		}
	}
}

static void
config_json_value(struct json *j, enum config_json kind, const char *v)
{
	size_t len;

	switch (kind) {
	case CONFIG_JSON_NUMBER:
		json_number(j, v);
		break;
	case CONFIG_JSON_LIST:
		json_arr_begin(j);
		for (;;) {
			v += strspn(v, " \t,");
			if (*v == '\0')
				break;
			len = strcspn(v, " \t,");
			json_strn(j, v, len);
			v += len;
		}
		json_end(j);
		break;
	default:
		json_str(j, v);
		break;
	}
}

static void
config_json_section_keys(const struct config *c, enum config_section s,
    size_t instance, struct json *j)
{
	struct buf v = BUF_INIT;
	int i;

	for (i = 0; i < KEY_COUNT; i++) {
		if (config_keys[i].section != s)
			continue;
		v.len = 0;
		config_key_value(c, i, instance, &v);
		json_key(j, config_keys[i].name);
		config_json_value(j, config_key_docs[i].json, buf_cstr(&v));
	}
	buf_free(&v);
}

void
config_write_json(const struct config *c, struct json *j)
{
	const struct config_section_kind *k;
	char plural[CONFIG_SECTION_MAX + 2];
	size_t s, i, n;

	json_obj_begin(j);
	json_key(j, "file");
	if (c->path[0] != '\0')
		json_str(j, c->path);
	else
		json_null(j);
	for (s = 0; s < sizeof(config_sections) / sizeof(*config_sections);
	    s++) {
		k = &config_sections[s];
		if (!k->named) {
			json_key(j, k->name);
			json_obj_begin(j);
			config_json_section_keys(c, k->id, 0, j);
			json_end(j);
			continue;
		}
		config_section_plural(k->name, plural, sizeof(plural));
		json_key(j, plural);
		json_arr_begin(j);
		n = config_section_count(c, k->id);
		for (i = 0; i < n; i++) {
			json_obj_begin(j);
			json_kv_str(j, "name", config_section_sub(c, k->id, i));
			config_json_section_keys(c, k->id, i, j);
			json_end(j);
		}
		json_end(j);
	}
	json_end(j);
}

/* The i-th key in the order of the sections, or -1 past the end. */
static int
config_key_nth(size_t n)
{
	size_t s;
	int i;

	for (s = 0; s < sizeof(config_sections) / sizeof(*config_sections);
	    s++)
		for (i = 0; i < KEY_COUNT; i++)
			if (config_keys[i].section == config_sections[s].id &&
			    n-- == 0)
				return i;
	return -1;
}

static const struct config_section_kind *
config_section_of(enum config_section id)
{
	size_t s;

	for (s = 0; s < sizeof(config_sections) / sizeof(*config_sections);
	    s++)
		if (config_sections[s].id == id)
			return &config_sections[s];
	return NULL;
}

int
config_key_describe(size_t n, struct config_key_info *info, struct buf *def)
{
	const struct config_section_kind *k;
	const struct config_key_doc *d;
	struct config c;
	int i;

	if ((i = config_key_nth(n)) < 0)
		return -1;
	d = &config_key_docs[i];
	k = config_section_of(config_keys[i].section);
	memset(info, 0, sizeof(*info));
	info->section = k != NULL ? k->name : "";
	info->named = k != NULL && k->named;
	info->section_doc = config_section_docs[config_keys[i].section];
	info->key = config_keys[i].name;
	info->syntax = d->syntax;
	info->desc = d->desc;
	if (d->json == CONFIG_JSON_NONE || d->get == NULL ||
	    d->syntax == NULL || d->desc == NULL)
		return 1;	/* parsed but not described: a bug */
	if (d->default_doc != NULL)
		buf_append_str(def, d->default_doc);
	else {
		config_defaults(&c);
		config_key_value(&c, i, 0, def);
		config_free(&c);
	}
	return 0;
}

int
config_nameserver_check(const char *s, char *why, size_t whysz)
{
	return config_check_nameserver(s, why, whysz);
}

const char *
config_log_level_name(enum log_level level)
{
	static const char *const names[] = {
		[LOG_LEVEL_ERROR] = "error",
		[LOG_LEVEL_WARN] = "warn",
		[LOG_LEVEL_INFO] = "info",
		[LOG_LEVEL_DEBUG] = "debug",
	};

	if ((size_t)level >= sizeof(names) / sizeof(*names))
		return "info";
	return names[level];
}

const char *
config_log_target_name(enum log_target target)
{
	return target == LOG_TARGET_SYSLOG ? "syslog" : "stderr";
}
