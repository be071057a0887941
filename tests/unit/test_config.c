/*
 * Unit tests for core/config: the embedded default, every section and
 * key, every kind of error with its line, and the INI writer's round trip.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/config.h"

static int
load(struct config *c, const char *text, struct config_errors *e)
{
	config_defaults(c);
	return config_load_string(c, text, strlen(text), "t.conf", e);
}

/* Print the errors, so a failing test says what it got. */
static void
dump_errors(const struct config_errors *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		print_message("# %s:%d: %s\n", e->v[i].file, e->v[i].line,
		    e->v[i].reason);
}

static void
assert_error(const struct config_errors *e, size_t i, int line,
    const char *part)
{
	if (i >= e->n || e->v[i].line != line ||
	    strstr(e->v[i].reason, part) == NULL) {
		dump_errors(e);
		fail_msg("want error %zu at line %d containing '%s'", i, line,
		    part);
	}
}

/* ---- defaults ------------------------------------------------------------ */

static void
test_defaults(void **state)
{
	struct config c;

	(void)state;
	unsetenv("NETJES_DATA");
	config_defaults(&c);
	assert_non_null(strchr(c.hostname, '.'));
	assert_string_equal(c.data_dir, "./var");
	assert_int_equal(c.log_level, LOG_LEVEL_INFO);
	assert_int_equal(c.log_target, LOG_TARGET_STDERR);
	assert_int_equal(c.log_format, LOG_FORMAT_TEXT);
	assert_string_equal(c.users_file, "");
	assert_string_equal(c.server_user, "netjes");
	assert_string_equal(c.server_group, "");
	assert_string_equal(c.delivery_owner, "");
	assert_int_equal(c.ntrusted, 0);
	assert_int_equal(c.limits.message_size, 36700160);
	assert_int_equal(c.limits.recipients, 100);
	assert_true(c.limits.banner_delay == 1.0);
	assert_true(c.limits.data_timeout == 600.0);
	assert_int_equal(c.limits.min_data_rate, 100);
	assert_true(c.limits.data_rate_grace == 30.0);
	assert_string_equal(c.mail_root, "");
	assert_string_equal(c.recipient_delimiter, "+");
	assert_int_equal(c.delivery_retry_interval, 300);
	assert_int_equal(c.delivery_retry_max, 4 * 3600);
	assert_int_equal(c.delivery_queue_lifetime, 5 * 86400);
	assert_int_equal(c.delivery_delay_warning, 4 * 3600);
	assert_false(c.dmarc_monitor);	/* enforce */
	assert_int_equal(c.auth_max_failures, 5);
	assert_int_equal(c.auth_failure_window, 900);
	assert_true(c.auth_failure_delay == 1.0);
	assert_int_equal(c.store_backend, CONFIG_STORE_LMDB);
	assert_string_equal(c.store_redis, "127.0.0.1:6379");
	assert_string_equal(c.store_redis_password, "");
	assert_int_equal(c.store_redis_db, 0);
	assert_int_equal(c.store_lmdb_map_size, 256 << 20);
	assert_true(c.verdict_add_header == 5);
	assert_true(c.verdict_junk == 6);
	assert_true(c.verdict_tempfail == 0);
	assert_true(c.verdict_reject == 15);
	assert_string_equal(c.verdict_exempt, "");
	assert_int_equal(c.naliases, 0);
	assert_string_equal(c.tls_cert, "");
	assert_string_equal(c.tls_key, "");
	assert_string_equal(c.dns_nameserver, "");
	assert_true(c.dns_timeout == 5.0);
	assert_true(c.dns_message_deadline == 10.0);
	assert_int_equal(c.nlisteners, 3);
	assert_string_equal(c.listeners[0].name, "smtp");
	assert_string_equal(c.listeners[0].address, "127.0.0.1");
	assert_int_equal(c.listeners[0].port, 2525);
	assert_int_equal(c.listeners[0].mode, LISTENER_SMTP);
	assert_string_equal(c.listeners[1].name, "submission");
	assert_int_equal(c.listeners[1].port, 2587);
	assert_int_equal(c.listeners[1].mode, LISTENER_SUBMISSION);
	assert_string_equal(c.listeners[2].name, "smtps");
	assert_int_equal(c.listeners[2].port, 2465);
	assert_int_equal(c.listeners[2].mode, LISTENER_SMTPS);
	assert_int_equal(c.ndomains, 1);
	assert_string_equal(c.domains[0].name, "example.test");
	assert_string_equal(c.path, "");
	config_free(&c);
}

static void
test_defaults_netjes_data(void **state)
{
	struct config c;

	(void)state;
	setenv("NETJES_DATA", "/srv/netjes", 1);
	config_defaults(&c);
	assert_string_equal(c.data_dir, "/srv/netjes");
	setenv("NETJES_DATA", "", 1);
	config_defaults(&c);
	assert_string_equal(c.data_dir, "./var");
	setenv("NETJES_DATA", "/bad\npath", 1);
	config_defaults(&c);
	assert_string_equal(c.data_dir, "./var");
	unsetenv("NETJES_DATA");
	config_free(&c);
}

static void
test_empty_file_keeps_defaults(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load(&c, "", NULL), 0);
	assert_int_equal(c.nlisteners, 3);
	assert_int_equal(c.ndomains, 1);
	assert_string_equal(c.path, "t.conf");
	assert_int_equal(load(&c, "# only a comment\n\n; and another\n",
	    NULL), 0);
	config_free(&c);
}

/* ---- every section and key ----------------------------------------------- */

static const char full_config[] =
	"[server]\n"
	"hostname = MX.Example.ORG\n"
	"data_dir = /var/lib/netjes\n"
	"log_level = debug\n"
	"log_target = syslog\n"
	"log_format = JSON\n"
	"users_file = /etc/netjes/users\n"
	"user = _mail\n"
	"group = mail-users\n"
	"trusted_networks = 192.0.2.0/24, 2001:db8::/32 10.1.2.3\n"
	"[tls]\n"
	"cert = /etc/netjes/cert.pem\n"
	"key = /etc/netjes/key.pem\n"
	"[dns]\n"
	"nameserver = 127.0.0.1:5353\n"
	"timeout = 2.5\n"
	"message_deadline = 7.5\n"
	"[limits]\n"
	"message_size = 1048576\n"
	"recipients = 5\n"
	"errors = 3\n"
	"commands = 50\n"
	"connections = 7\n"
	"connections_per_ip = 4\n"
	"idle_timeout = 30\n"
	"banner_delay = 0\n"
	"data_timeout = 2.5\n"
	"min_data_rate = 1000\n"
	"data_rate_grace = 0.75\n"
	"[delivery]\n"
	"mail_root = /srv/mail\n"
	"recipient_delimiter = +-\n"
	"owner = _mail\n"
	"retry_interval = 90s\n"
	"retry_max = 2h\n"
	"queue_lifetime = 3d\n"
	"delay_warning = 0\n"
	"[auth]\n"
	"dmarc_policy = Monitor\n"
	"max_failures = 3\n"
	"failure_window = 2m\n"
	"failure_delay = 0.25\n"
	"[store]\n"
	"backend = Redis\n"
	"redis = [2001:db8::6]:6380\n"
	"redis_password = pa ss#word\n"
	"redis_db = 5\n"
	"lmdb_map_size = 1073741824\n"
	"[verdict]\n"
	"add_header = 4.5\n"
	"junk = 7\n"
	"tempfail = 9.25\n"
	"reject = 0\n"
	"exempt = hostmaster, ceo@Example.org  spam-reports\n"
	"[listener \"mx\"]\n"
	"address = 0.0.0.0\n"
	"port = 25\n"
	"mode = smtp\n"
	"[listener \"sub6\"]\n"
	"address = 2001:DB8:0:0::1\n"
	"port = 587\n"
	"mode = submission\n"
	"[listener \"tls\"]\n"
	"address = ::\n"
	"port = 465\n"
	"mode = SMTPS\n"
	"[domain \"Example.ORG\"]\n"
	"catchall = Sink@example.org\n"
	"[domain \"example.net.\"]\n"
	"[alias \"Info@example.org\"]\n"
	"to = alice, bob@example.net,carol@example.com\n";

static void
test_every_key(void **state)
{
	struct config_errors e = { NULL, 0 };
	struct config c;

	(void)state;
	assert_int_equal(load(&c, full_config, &e), 0);
	assert_int_equal(e.n, 0);
	assert_string_equal(c.hostname, "mx.example.org");
	assert_string_equal(c.data_dir, "/var/lib/netjes");
	assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(c.log_target, LOG_TARGET_SYSLOG);
	assert_int_equal(c.log_format, LOG_FORMAT_JSON);
	assert_string_equal(c.users_file, "/etc/netjes/users");
	assert_string_equal(c.server_user, "_mail");
	assert_string_equal(c.server_group, "mail-users");
	assert_string_equal(c.delivery_owner, "_mail");
	assert_int_equal(c.ntrusted, 3);
	assert_int_equal(c.trusted[2].prefix, 32);
	assert_int_equal(c.limits.message_size, 1048576);
	assert_int_equal(c.limits.recipients, 5);
	assert_int_equal(c.limits.errors, 3);
	assert_int_equal(c.limits.commands, 50);
	assert_int_equal(c.limits.connections, 7);
	assert_int_equal(c.limits.connections_per_ip, 4);
	assert_true(c.limits.idle_timeout == 30.0);
	assert_true(c.limits.banner_delay == 0.0);
	assert_true(c.limits.data_timeout == 2.5);
	assert_int_equal(c.limits.min_data_rate, 1000);
	assert_true(c.limits.data_rate_grace == 0.75);
	assert_string_equal(c.mail_root, "/srv/mail");
	assert_string_equal(c.recipient_delimiter, "+-");
	assert_int_equal(c.delivery_retry_interval, 90);
	assert_int_equal(c.delivery_retry_max, 7200);
	assert_int_equal(c.delivery_queue_lifetime, 3 * 86400);
	assert_int_equal(c.delivery_delay_warning, 0);
	assert_true(c.dmarc_monitor);
	assert_int_equal(c.auth_max_failures, 3);
	assert_int_equal(c.auth_failure_window, 120);
	assert_true(c.auth_failure_delay == 0.25);
	assert_int_equal(c.store_backend, CONFIG_STORE_REDIS);
	assert_string_equal(c.store_redis, "[2001:db8::6]:6380");
	assert_string_equal(c.store_redis_password, "pa ss#word");
	assert_int_equal(c.store_redis_db, 5);
	assert_int_equal(c.store_lmdb_map_size, 1073741824);
	assert_true(c.verdict_add_header == 4.5);
	assert_true(c.verdict_junk == 7);
	assert_true(c.verdict_tempfail == 9.25);
	assert_true(c.verdict_reject == 0);
	assert_string_equal(c.verdict_exempt,
	    "hostmaster ceo@Example.org spam-reports");
	assert_string_equal(c.domains[0].catchall, "sink@example.org");
	assert_string_equal(c.domains[1].catchall, "");
	assert_int_equal(c.naliases, 1);
	assert_string_equal(c.aliases[0].addr, "info@example.org");
	assert_string_equal(c.aliases[0].targets,
	    "alice, bob@example.net, carol@example.com");
	assert_string_equal(c.tls_cert, "/etc/netjes/cert.pem");
	assert_string_equal(c.tls_key, "/etc/netjes/key.pem");
	assert_string_equal(c.dns_nameserver, "127.0.0.1:5353");
	assert_true(c.dns_timeout == 2.5);
	assert_true(c.dns_message_deadline == 7.5);
	assert_int_equal(c.nlisteners, 3);
	assert_string_equal(c.listeners[0].name, "mx");
	assert_string_equal(c.listeners[0].address, "0.0.0.0");
	assert_int_equal(c.listeners[0].port, 25);
	assert_int_equal(c.listeners[0].mode, LISTENER_SMTP);
	assert_string_equal(c.listeners[1].address, "2001:db8::1");
	assert_int_equal(c.listeners[1].mode, LISTENER_SUBMISSION);
	assert_string_equal(c.listeners[2].address, "::");
	assert_int_equal(c.listeners[2].mode, LISTENER_SMTPS);
	assert_int_equal(c.ndomains, 2);
	assert_string_equal(c.domains[0].name, "example.org");
	assert_string_equal(c.domains[1].name, "example.net");
	config_free(&c);
}

static void
test_listeners_replace_defaults_domains_stay(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load(&c, "[listener \"only\"]\naddress = ::1\n"
	    "port = 2500\nmode = smtp\n", NULL), 0);
	assert_int_equal(c.nlisteners, 1);
	assert_string_equal(c.listeners[0].name, "only");
	assert_int_equal(c.ndomains, 1);
	assert_string_equal(c.domains[0].name, "example.test");
	config_free(&c);
}

static void
test_domains_replace_defaults_listeners_stay(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load(&c, "[domain \"a.example\"]\n", NULL), 0);
	assert_int_equal(c.nlisteners, 3);
	assert_int_equal(c.ndomains, 1);
	assert_string_equal(c.domains[0].name, "a.example");
	assert_false(config_is_local_domain(&c, "example.test"));
	config_free(&c);
}

static void
test_idn_and_local_domain(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load(&c, "[domain \"b\xc3\xbc" "cher.example\"]\n"
	    "[domain \"Example.COM\"]\n", NULL), 0);
	assert_string_equal(c.domains[0].name, "xn--bcher-kva.example");
	assert_true(config_is_local_domain(&c, "xn--bcher-kva.example"));
	assert_true(config_is_local_domain(&c, "B\xc3\xbc" "cher.Example"));
	assert_true(config_is_local_domain(&c, "EXAMPLE.com"));
	assert_true(config_is_local_domain(&c, "example.com."));
	assert_false(config_is_local_domain(&c, "sub.example.com"));
	assert_false(config_is_local_domain(&c, "example"));
	assert_false(config_is_local_domain(&c, ""));
	assert_false(config_is_local_domain(&c, NULL));
	config_free(&c);
}

static void
test_syntax_niceties(void **state)
{
	struct config c;

	(void)state;
	/* BOM, CRLF, indentation, comments, inline comments, no final LF,
	 * case-insensitive section and key names */
	assert_int_equal(load(&c, "\xEF\xBB\xBF# comment\r\n"
	    "[ Server ]\r\n"
	    "\thostname = a.example ; the name\r\n"
	    "  LOG_LEVEL=warn\r\n"
	    "[listener  \"x\"]   # one\n"
	    "\taddress = 127.0.0.2\n"
	    "\tport = 25\n"
	    "\tmode = smtp", NULL), 0);
	assert_string_equal(c.hostname, "a.example");
	assert_int_equal(c.log_level, LOG_LEVEL_WARN);
	assert_int_equal(c.nlisteners, 1);
	assert_int_equal(c.listeners[0].port, 25);
	config_free(&c);
}

static void
test_empty_tls_and_nameserver_mean_default(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load(&c, "[tls]\ncert =\nkey =\n[dns]\n"
	    "nameserver =\n", NULL), 0);
	assert_string_equal(c.tls_cert, "");
	assert_string_equal(c.dns_nameserver, "");
	config_free(&c);
}

/* The DATA/BDAT deadline and rate floor turn off with 0. */
static void
test_data_limits_off(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load(&c, "[limits]\ndata_timeout = 0\n"
	    "min_data_rate = 0\n", NULL), 0);
	assert_true(c.limits.data_timeout == 0.0);
	assert_int_equal(c.limits.min_data_rate, 0);
	assert_true(c.limits.data_rate_grace == 30.0);
	config_free(&c);
}

static void
test_nameserver_forms(void **state)
{
	static const char *const good[] = {
		"192.0.2.1", "192.0.2.1:53", "::1", "[::1]", "[2001:db8::1]:5353",
	};
	char text[128];
	struct config c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(*good); i++) {
		snprintf(text, sizeof(text), "[dns]\nnameserver = %s\n",
		    good[i]);
		assert_int_equal(load(&c, text, NULL), 0);
		assert_string_equal(c.dns_nameserver, good[i]);
	}
	config_free(&c);
}

static void
test_long_domain_header(void **state)
{
	char text[512], name[256];
	struct config c;

	(void)state;
	/* 4 labels of 61 bytes plus 3 dots and ".ex": 250 bytes, more than
	 * inih's line buffer holds: headers are read by netjes itself */
	memset(name, 'a', 250);
	name[61] = name[123] = name[185] = name[247] = '.';
	memcpy(name + 248, "ex", 2);
	name[250] = '\0';
	snprintf(text, sizeof(text), "[domain \"%s\"]\n", name);
	assert_int_equal(load(&c, text, NULL), 0);
	assert_string_equal(c.domains[0].name, name);
	config_free(&c);
}

/* ---- errors: one per case, with its line ------------------------------- */

struct error_case {
	const char	*text;
	int		 line;
	const char	*reason;	/* a part of it */
};

#define L_OK "[listener \"a\"]\naddress = 127.0.0.1\nport = 25\nmode = smtp\n"

static const struct error_case error_cases[] = {
	{ "[bogus]\n", 1, "unknown section [bogus]" },
	{ "[server]\nfoo = 1\n", 2, "unknown key 'foo' in [server]" },
	{ "[domain \"a.example\"]\nfoo = 1\n", 2,
	  "unknown key 'foo' in [domain \"a.example\"]" },
	{ "hostname = a.example\n", 1, "outside any section" },
	{ "[server]\nhostname\n", 2, "expected 'key = value'" },
	{ "[server]\n= x\n", 2, "missing key name" },
	{ "\n[server\n", 2, "missing ']'" },
	{ "[listener \"a]\n", 1, "missing closing '\"'" },
	{ "[listener a]\n", 1, "in double quotes" },
	{ "[server] x\n", 1, "text after ']'" },
	{ "[]\n", 1, "empty section name" },
	{ "[s/x]\n", 1, "unexpected '/'" },
	{ "[server \"x\"]\n", 1, "[server] takes no name" },
	{ "[listener]\n", 1, "[listener] needs a name" },
	{ "[domain]\n", 1, "[domain] needs a name" },
	{ "[listener \"a b\"]\n", 1, "bad listener name 'a b'" },
	{ "[listener \"\"]\n", 1, "bad listener name" },
	{ "[listener \"a\"]\naddress = 127.0.0.1\nport = 70000\nmode = smtp\n",
	  3, "bad port '70000' in [listener \"a\"]: out of range" },
	{ "[listener \"a\"]\naddress = 127.0.0.1\nport = 0\nmode = smtp\n",
	  3, "out of range" },
	{ "[listener \"a\"]\naddress = 127.0.0.1\nport = 2x\nmode = smtp\n",
	  3, "not a number" },
	{ "[listener \"a\"]\naddress = 127.0.0.256\nport = 25\nmode = smtp\n",
	  2, "bad address '127.0.0.256'" },
	{ "[listener \"a\"]\naddress = localhost\nport = 25\nmode = smtp\n",
	  2, "not an IPv4 or IPv6 address" },
	{ "[listener \"a\"]\naddress = 127.0.0.1\nport = 25\nmode = lmtp\n",
	  4, "bad mode 'lmtp'" },
	{ "[listener \"a\"]\nport = 25\nmode = smtp\n", 1,
	  "[listener \"a\"] has no address" },
	{ "[listener \"a\"]\naddress = ::1\nmode = smtp\n", 1,
	  "[listener \"a\"] has no port" },
	{ "[listener \"a\"]\naddress = ::1\nport = 1\n", 1,
	  "[listener \"a\"] has no mode" },
	{ L_OK "[listener \"a\"]\n", 5, "duplicate listener 'a' (first on "
	  "line 1)" },
	{ L_OK "[listener \"b\"]\naddress = 127.0.0.1\nport = 25\n"
	  "mode = smtps\n", 7, "clashes with listener 'a'" },
	{ L_OK "[listener \"b\"]\naddress = 0.0.0.0\nport = 25\n"
	  "mode = smtps\n", 7, "clashes" },
	{ "[listener \"a\"]\naddress = ::\nport = 25\nmode = smtp\n"
	  "[listener \"b\"]\naddress = ::1\nport = 25\nmode = smtp\n", 7,
	  "clashes" },
	{ "[listener \"a\"]\naddress = 127.0.0.1\nport = 25\nport = 26\n"
	  "mode = smtp\n", 4, "duplicate key 'port' in [listener \"a\"] "
	  "(first on line 3)" },
	{ "[server]\nlog_level = 1\n[server]\nlog_level = 2\n", 2,
	  "bad log_level '1' in [server]: expected error, warn" },
	{ "[server]\nlog_target = file\n", 2, "expected stderr or syslog" },
	{ "[server]\nlog_format = xml\n", 2, "expected text or json" },
	{ "[server]\nhostname = mx\n", 2, "not a fully-qualified" },
	{ "[server]\nhostname = mx_1.example\n", 2, "'_' is not allowed" },
	{ "[server]\nhostname = -a.example\n", 2, "starts or ends with '-'" },
	{ "[server]\nhostname = a..example\n", 2, "empty label" },
	{ "[server]\nhostname = 192.0.2.1\n", 2, "an IP address" },
	{ "[server]\nhostname =\n", 2, "empty" },
	{ "[server]\ndata_dir =\n", 2, "bad data_dir '' in [server]: empty" },
	{ "[server]\ntrusted_networks = 10.0.0.0/33\n", 2, "not an address or network" },
	{ "[limits]\nrecipients = 0\n", 2, "out of range" },
	{ "[limits]\nmessage_size = 12x\n", 2, "not a whole number" },
	{ "[limits]\nbanner_delay = 61\n", 2, "0-60" },
	{ "[limits]\ndata_timeout = 3601\n", 2, "out of range" },
	{ "[limits]\ndata_timeout = 10m\n", 2, "expected seconds" },
	{ "[limits]\nmin_data_rate = -1\n", 2, "not a whole number" },
	{ "[limits]\nmin_data_rate = 1000000001\n", 2, "out of range" },
	{ "[limits]\ndata_rate_grace = 0\n", 2, "out of range" },
	{ "[limits]\ndata_rate_grace = x\n", 2, "expected seconds" },
	{ "[delivery]\nrecipient_delimiter = @\n", 2, "cannot be a delimiter" },
	{ "[server]\nuser =\n", 2, "1 to 32 characters" },
	{ "[server]\nuser = Net Jes\n", 2, "expected an account name" },
	{ "[server]\ngroup = 9mail\n", 2, "expected an account name" },
	{ "[delivery]\nowner = ../x\n", 2, "expected an account name" },
	{ "[delivery]\nretry_interval = 0\n", 2, "out of range (1-86400" },
	{ "[delivery]\nretry_interval = 5x\n", 2, "not a whole number" },
	{ "[delivery]\nqueue_lifetime = d\n", 2, "expected a duration" },
	{ "[delivery]\nretry_max = 8d\n", 2, "out of range" },
	{ "[delivery]\ndelay_warning = -1\n", 2, "not a whole number" },
	{ "[auth]\ndmarc_policy = reject\n", 2, "expected enforce or monitor" },
	{ "[auth]\nmax_failures = 1001\n", 2, "out of range" },
	{ "[auth]\nmax_failures = -1\n", 2, "not a whole number" },
	{ "[auth]\nfailure_window = 0\n", 2, "out of range (1-86400" },
	{ "[auth]\nfailure_window = 2d\n", 2, "out of range (1-86400" },
	{ "[auth]\nfailure_window = 5y\n", 2, "not a whole number" },
	{ "[auth]\nfailure_delay = 31\n", 2, "0-30" },
	{ "[auth]\nfailure_delay = 1s\n", 2, "expected seconds" },
	{ "[store]\nbackend = memcached\n", 2, "expected lmdb or redis" },
	{ "[store]\nredis =\n", 2, "empty" },
	{ "[store]\nredis = redis.example:6379\n", 2, "expected IP, IP:PORT, [IPv6]:PORT or /path" },
	{ "[store]\nredis = 127.0.0.1:0\n", 2, "expected IP, IP:PORT" },
	{ "[store]\nredis = /run/redis\x01.sock\n", 2, "control character" },
	{ "[store]\nredis_db = -1\n", 2, "not a whole number" },
	{ "[store]\nredis_db = 2147483648\n", 2, "out of range" },
	{ "[store]\nlmdb_map_size = 1000\n", 2, "out of range" },
	{ "[store]\nlmdb_map_size = 2T\n", 2, "not a whole number" },
	{ "[store]\nttl = 5\n", 2, "unknown key" },
	{ "[verdict]\nreject = -1\n", 2, "not a score from 0 to 1000" },
	{ "[verdict]\njunk = 1001\n", 2, "not a score from 0 to 1000" },
	{ "[verdict]\nadd_header = five\n", 2, "not a score" },
	{ "[verdict]\ntempfail = 5x\n", 2, "not a score" },
	{ "[verdict]\nexempt = @example.org\n", 2, "neither a local part" },
	{ "[verdict]\nexempt = a@\n", 2, "neither a local part" },
	{ "[verdict]\nquarantine = 5\n", 2, "unknown key" },
	{ "[alias \"nodomain\"]\nto = a\n", 1, "give local@domain" },
	{ "[alias \"a@example.test\"]\n", 1, "has no to" },
	{ "[alias \"a@elsewhere.example\"]\nto = b\n", 1, "not a local domain" },
	{ "[alias \"a@example.test\"]\nto = ,\n", 2, "no target" },
	{ "[domain \"example.test\"]\ncatchall = a b\n", 2, "not an address" },
	{ "[server]\ndata_dir = /a\x01" "b\n", 2, "control character" },
	{ "[dns]\ntimeout = 0\n", 2, "out of range" },
	{ "[dns]\ntimeout = 3601\n", 2, "out of range" },
	{ "[dns]\ntimeout = 5s\n", 2, "expected seconds" },
	{ "[dns]\ntimeout = 1.2.3\n", 2, "expected seconds" },
	{ "[dns]\ntimeout = -1\n", 2, "expected seconds" },
	{ "[dns]\nmessage_deadline = 0\n", 2, "out of range" },
	{ "[dns]\nmessage_deadline = 10s\n", 2, "expected seconds" },
	{ "[dns]\nnameserver = ns.example\n", 2, "not an IPv4 or IPv6" },
	{ "[dns]\nnameserver = 192.0.2.1:99999\n", 2, "out of range" },
	{ "[dns]\nnameserver = [::1\n", 2, "expected IP, IP:PORT" },
	{ "[dns]\nnameserver = [192.0.2.1]:53\n", 2, "expected IP, IP:PORT" },
	{ "[tls]\ncert = /c.pem\n", 2, "cert is set but key is not" },
	{ "\n[tls]\nkey = /k.pem\n", 3, "key is set but cert is not" },
	{ "[domain \"a_b.example\"]\n", 1, "bad domain name 'a_b.example'" },
	{ "[domain \"\"]\n", 1, "bad domain name '': empty" },
	{ "[domain \"10.0.0.1\"]\n", 1, "an IP address" },
	{ "[domain \"xn--a\xff.example\"]\n", 1, "international" },
	{ "[domain \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  ".example\"]\n", 1, "longer than 63" },
	{ "[domain \"a.example\"]\n[domain \"A.Example.\"]\n", 2,
	  "duplicate domain 'a.example' (first on line 1)" },
	{ "[server]\nhostname = a.example\0x\n", 2, "NUL byte" },
};

static void
test_error_cases(void **state)
{
	struct config_errors e = { NULL, 0 };
	struct config c;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(error_cases) / sizeof(*error_cases); i++) {
		const struct error_case *t = &error_cases[i];

		/* the NUL case: measure up to the second line's end */
		n = strlen(t->text);
		if (strstr(t->reason, "NUL") != NULL)
			n += 3;
		config_defaults(&c);
		print_message("# case %zu\n", i);
		assert_true(config_load_string(&c, t->text, n, "t.conf",
		    &e) >= 1);
		assert_true(e.n >= 1);
		assert_string_equal(e.v[0].file, "t.conf");
		assert_error(&e, 0, t->line, t->reason);
		/* and the config is untouched */
		assert_int_equal(c.nlisteners, 3);
		assert_string_equal(c.path, "");
		config_errors_free(&e);
		config_free(&c);
	}
}

static void
test_too_many_listeners(void **state)
{
	struct config_errors e = { NULL, 0 };
	struct buf b = BUF_INIT;
	struct config c;
	int i;

	(void)state;
	for (i = 0; i <= CONFIG_MAX_LISTENERS; i++)
		buf_printf(&b, "[listener \"l%d\"]\naddress = 127.0.0.1\n"
		    "port = %d\nmode = smtp\n", i, 1000 + i);
	assert_int_equal(load(&c, buf_cstr(&b), &e), 1);
	assert_error(&e, 0, 4 * CONFIG_MAX_LISTENERS + 1, "too many listeners");
	config_errors_free(&e);
	buf_free(&b);
	config_free(&c);
}

static void
test_all_errors_collected_in_line_order(void **state)
{
	struct config_errors e = { NULL, 0 };
	struct config c;

	(void)state;
	assert_int_equal(load(&c,
	    "[listener \"a\"]\n"		/* 1: no mode (found at the end) */
	    "address = 127.0.0.1\n"
	    "port = 99999\n"			/* 3 */
	    "[server]\n"
	    "colour = blue\n"			/* 5 */
	    "log_level = chatty\n"		/* 6 */
	    "[nope]\n"				/* 7 */
	    "ignored = yes\n"			/* keys of a bad section */
	    "[dns]\n"
	    "timeout\n",			/* 10 */
	    &e), 6);
	assert_int_equal(e.n, 6);
	assert_error(&e, 0, 1, "has no mode");
	assert_error(&e, 1, 3, "bad port");
	assert_error(&e, 2, 5, "unknown key 'colour'");
	assert_error(&e, 3, 6, "bad log_level 'chatty'");
	assert_error(&e, 4, 7, "unknown section [nope]");
	assert_error(&e, 5, 10, "expected 'key = value'");
	config_errors_free(&e);
	config_free(&c);
}

static void
test_errors_append(void **state)
{
	struct config_errors e = { NULL, 0 };
	struct config c;
	int i;

	(void)state;
	config_defaults(&c);
	for (i = 0; i < 20; i++)
		assert_int_equal(config_load_string(&c, "[x]\n", 4, "t.conf",
		    &e), 1);
	assert_int_equal(e.n, 20);
	assert_error(&e, 19, 1, "unknown section");
	assert_int_equal(config_load_string(&c, "[x]\n", 4, "t.conf", NULL),
	    1);
	config_errors_free(&e);
	assert_null(e.v);
	assert_int_equal(e.n, 0);
}

static void
test_too_many_errors_stop(void **state)
{
	struct config_errors e = { NULL, 0 };
	struct buf b = BUF_INIT;
	struct config c;
	int i;

	(void)state;
	for (i = 0; i < 500; i++)
		buf_append_str(&b, "[x]\n");
	assert_int_equal(load(&c, buf_cstr(&b), &e), CONFIG_MAX_ERRORS + 1);
	assert_int_equal(e.n, CONFIG_MAX_ERRORS + 1);
	assert_error(&e, CONFIG_MAX_ERRORS, CONFIG_MAX_ERRORS, "too many errors");
	config_errors_free(&e);
	buf_free(&b);
}

static void
test_long_lines(void **state)
{
	struct config_errors e = { NULL, 0 };
	struct buf b = BUF_INIT;
	struct config c;
	int i;

	(void)state;
	/* a key line of exactly 199 bytes is fine */
	buf_append_str(&b, "[server]\ndata_dir = /");
	for (i = (int)b.len - 9; i < 199; i++)
		buf_append_char(&b, 'd');
	buf_append_str(&b, "\n");
	assert_int_equal(load(&c, buf_cstr(&b), &e), 0);
	assert_int_equal(strlen(c.data_dir), 199 - strlen("data_dir = "));
	/* one more byte is an error, not a line cut in two; the lines
	 * after it keep their numbers */
	buf_reset(&b);
	buf_append_str(&b, "[server]\n  data_dir = /");
	for (i = 0; i < 300; i++)
		buf_append_char(&b, 'd');
	buf_append_str(&b, "\nlog_level = x\n");
	assert_int_equal(load(&c, buf_cstr(&b), &e), 2);
	assert_error(&e, 0, 2, "line too long (312 bytes; a key line holds "
	    "at most 199)");
	assert_error(&e, 1, 3, "bad log_level");
	config_errors_free(&e);
	buf_free(&b);
	config_free(&c);
}

/* ---- files ------------------------------------------------------------------- */

static int
test_count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		if (*s == '\n')
			n++;
	return n;
}

static void
test_load_file(void **state)
{
	struct config_errors e = { NULL, 0 };
	char path[] = "/tmp/test_config_XXXXXX";
	struct config c;
	FILE *f;
	int fd;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fputs(full_config, f);
	fputs("[server]\nbogus = 1\n", f);
	fclose(f);
	config_defaults(&c);
	assert_int_equal(config_load(&c, path, &e), 1);
	assert_string_equal(e.v[0].file, path);
	/* the bogus key is on the second line after full_config */
	assert_int_equal(e.v[0].line, test_count_lines(full_config) + 2);
	config_errors_free(&e);
	assert_true(truncate(path, (off_t)strlen(full_config)) == 0);
	assert_int_equal(config_load(&c, path, &e), 0);
	assert_string_equal(c.path, path);
	assert_int_equal(c.ndomains, 2);
	/* a second load over the first replaces the domain list again */
	assert_int_equal(config_load(&c, path, &e), 0);
	assert_int_equal(c.ndomains, 2);
	unlink(path);
	assert_int_equal(config_load(&c, path, &e), 1);
	assert_int_equal(e.v[0].line, 0);
	assert_non_null(strstr(e.v[0].reason, "cannot open"));
	assert_int_equal(config_load(&c, "/", &e), 1);
	assert_non_null(strstr(e.v[1].reason, "cannot read"));
	config_errors_free(&e);
	config_free(&c);
}

/* ---- writing ------------------------------------------------------------------ */

static void
assert_config_equal(const struct config *a, const struct config *b)
{
	size_t i;

	assert_string_equal(a->hostname, b->hostname);
	assert_string_equal(a->data_dir, b->data_dir);
	assert_int_equal(a->log_level, b->log_level);
	assert_int_equal(a->log_target, b->log_target);
	assert_int_equal(a->log_format, b->log_format);
	assert_string_equal(a->users_file, b->users_file);
	assert_string_equal(a->server_user, b->server_user);
	assert_string_equal(a->server_group, b->server_group);
	assert_string_equal(a->delivery_owner, b->delivery_owner);
	assert_int_equal(a->ntrusted, b->ntrusted);
	assert_memory_equal(a->trusted, b->trusted,
	    a->ntrusted * sizeof(*a->trusted));
	assert_memory_equal(&a->limits, &b->limits, sizeof(a->limits));
	assert_string_equal(a->mail_root, b->mail_root);
	assert_string_equal(a->recipient_delimiter, b->recipient_delimiter);
	assert_int_equal(a->delivery_retry_interval, b->delivery_retry_interval);
	assert_int_equal(a->delivery_retry_max, b->delivery_retry_max);
	assert_int_equal(a->delivery_queue_lifetime, b->delivery_queue_lifetime);
	assert_int_equal(a->delivery_delay_warning, b->delivery_delay_warning);
	assert_int_equal(a->dmarc_monitor, b->dmarc_monitor);
	assert_int_equal(a->auth_max_failures, b->auth_max_failures);
	assert_int_equal(a->auth_failure_window, b->auth_failure_window);
	assert_true(a->auth_failure_delay == b->auth_failure_delay);
	assert_int_equal(a->naliases, b->naliases);
	for (i = 0; i < a->naliases; i++) {
		assert_string_equal(a->aliases[i].addr, b->aliases[i].addr);
		assert_string_equal(a->aliases[i].targets,
		    b->aliases[i].targets);
	}
	assert_string_equal(a->tls_cert, b->tls_cert);
	assert_string_equal(a->tls_key, b->tls_key);
	assert_string_equal(a->dns_nameserver, b->dns_nameserver);
	assert_true(a->dns_timeout == b->dns_timeout);
	assert_true(a->dns_message_deadline == b->dns_message_deadline);
	assert_int_equal(a->store_backend, b->store_backend);
	assert_string_equal(a->store_redis, b->store_redis);
	assert_string_equal(a->store_redis_password, b->store_redis_password);
	assert_int_equal(a->store_redis_db, b->store_redis_db);
	assert_int_equal(a->store_lmdb_map_size, b->store_lmdb_map_size);
	assert_true(a->verdict_add_header == b->verdict_add_header);
	assert_true(a->verdict_junk == b->verdict_junk);
	assert_true(a->verdict_tempfail == b->verdict_tempfail);
	assert_true(a->verdict_reject == b->verdict_reject);
	assert_string_equal(a->verdict_exempt, b->verdict_exempt);
	assert_int_equal(a->nlisteners, b->nlisteners);
	for (i = 0; i < a->nlisteners; i++) {
		assert_string_equal(a->listeners[i].name, b->listeners[i].name);
		assert_string_equal(a->listeners[i].address,
		    b->listeners[i].address);
		assert_int_equal(a->listeners[i].port, b->listeners[i].port);
		assert_int_equal(a->listeners[i].mode, b->listeners[i].mode);
	}
	assert_int_equal(a->ndomains, b->ndomains);
	for (i = 0; i < a->ndomains; i++) {
		assert_string_equal(a->domains[i].name, b->domains[i].name);
		assert_string_equal(a->domains[i].catchall,
		    b->domains[i].catchall);
	}
}

static void
roundtrip(const char *text)
{
	struct buf b = BUF_INIT;
	struct config a, c;

	assert_int_equal(load(&a, text, NULL), 0);
	config_write_ini(&a, &b);
	assert_int_equal(load(&c, buf_cstr(&b), NULL), 0);
	assert_config_equal(&a, &c);
	buf_free(&b);
	config_free(&a);
	config_free(&c);
}

static void
test_write_ini_roundtrip(void **state)
{
	(void)state;
	roundtrip("");
	roundtrip(full_config);
	roundtrip("[dns]\ntimeout = 0.0015\n");
	roundtrip("[dns]\ntimeout = 3600\n");
	roundtrip("[dns]\nmessage_deadline = 2.5\n");
	roundtrip("[limits]\ndata_timeout = 0\nmin_data_rate = 0\n");
	/* 0 turns the AUTH throttle's block and delay off */
	roundtrip("[auth]\nmax_failures = 0\nfailure_delay = 0\n"
	    "failure_window = 1\n");
	roundtrip("[store]\nbackend = redis\nredis = /run/redis/redis.sock\n");
}

static void
test_auth_throttle_off(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load(&c, "[auth]\nmax_failures = 0\n"
	    "failure_delay = 0\nfailure_window = 86400\n", NULL), 0);
	assert_int_equal(c.auth_max_failures, 0);
	assert_true(c.auth_failure_delay == 0.0);
	assert_int_equal(c.auth_failure_window, 86400);
	config_free(&c);
}

static void
test_write_ini_text(void **state)
{
	struct buf b = BUF_INIT;
	struct config c;

	(void)state;
	assert_int_equal(load(&c, "[dns]\ntimeout = 0.25\n[domain \"a.example\"]\n",
	    NULL), 0);
	config_write_ini(&c, &b);
	assert_non_null(strstr(buf_cstr(&b), "[dns]\nnameserver =\n"
	    "timeout = 0.25\nmessage_deadline = 10\n"));
	assert_non_null(strstr(buf_cstr(&b), "\n[listener \"smtp\"]\n"
	    "address = 127.0.0.1\nport = 2525\nmode = smtp\n"));
	assert_non_null(strstr(buf_cstr(&b), "\n[domain \"a.example\"]\n"));
	assert_non_null(strstr(buf_cstr(&b), "\n[store]\nbackend = lmdb\n"
	    "redis = 127.0.0.1:6379\nredis_password =\nredis_db = 0\n"
	    "lmdb_map_size = 268435456\n"));
	assert_non_null(strstr(buf_cstr(&b), "\n[verdict]\nadd_header = 5\n"
	    "junk = 6\ntempfail = 0\nreject = 15\nexempt =\n"));
	buf_free(&b);
	config_free(&c);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(config_listener_mode_name(LISTENER_SMTP), "smtp");
	assert_string_equal(config_listener_mode_name(LISTENER_SUBMISSION),
	    "submission");
	assert_string_equal(config_listener_mode_name(LISTENER_SMTPS), "smtps");
	assert_string_equal(config_listener_mode_name((enum listener_mode)9),
	    "unknown");
	assert_string_equal(config_log_level_name(LOG_LEVEL_WARN), "warn");
	assert_string_equal(config_log_target_name(LOG_TARGET_SYSLOG),
	    "syslog");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_defaults_netjes_data),
		cmocka_unit_test(test_empty_file_keeps_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_listeners_replace_defaults_domains_stay),
		cmocka_unit_test(test_domains_replace_defaults_listeners_stay),
		cmocka_unit_test(test_idn_and_local_domain),
		cmocka_unit_test(test_syntax_niceties),
		cmocka_unit_test(test_empty_tls_and_nameserver_mean_default),
		cmocka_unit_test(test_data_limits_off),
		cmocka_unit_test(test_nameserver_forms),
		cmocka_unit_test(test_long_domain_header),
		cmocka_unit_test(test_error_cases),
		cmocka_unit_test(test_too_many_listeners),
		cmocka_unit_test(test_all_errors_collected_in_line_order),
		cmocka_unit_test(test_errors_append),
		cmocka_unit_test(test_too_many_errors_stop),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_write_ini_roundtrip),
		cmocka_unit_test(test_auth_throttle_off),
		cmocka_unit_test(test_write_ini_text),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
