/*
 * netjes — one binary, many subcommands. This file holds the table of
 * subcommands and the dispatch; each subcommand lives in cmd_NAME.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <unbound.h>

#include "cli/cli.h"
#include "core/json.h"
#include "netjes_version.h"

const struct cli_cmd cli_commands[] = {
	{ "serve", cmd_serve, "run the mail server",
	  "usage: netjes serve [-c FILE] [--foreground]\n"
	  "\n"
	  "Run the mail server in the foreground until it is stopped: receive\n"
	  "mail on the listeners, check it (iprev, SPF, DKIM, DMARC, ARC), queue\n"
	  "it and deliver it into the Maildirs of the local users.\n"
	  "\n"
	  "  -c FILE       the configuration (see netjes.conf(5) and 'netjes config\n"
	  "                check'). Without it, the embedded default: listeners on\n"
	  "                127.0.0.1 ports 2525 (smtp), 2587 (submission) and 2465\n"
	  "                (smtps), data under ./var (or $NETJES_DATA), local domain\n"
	  "                example.test, and a self-signed certificate made on first\n"
	  "                start.\n"
	  "  --foreground  accepted for service files; netjes never daemonizes.\n"
	  "\n"
	  "Started as root, netjes binds its listeners and forks: a root parent\n"
	  "keeps the TLS private key and signs for the child, which runs the\n"
	  "sessions, the queue and the deliveries as the [server] user (default\n"
	  "netjes). Started as another user, both run as that user.\n"
	  "\n"
	  "Signals:\n"
	  "  SIGHUP           read the config file, the users file and the\n"
	  "                   certificate again; a file with errors changes nothing.\n"
	  "                   Listeners, data_dir, mail_root, hostname, [dns] and\n"
	  "                   log_target need a restart.\n"
	  "  SIGINT, SIGTERM  stop: open sessions are told 421, messages being\n"
	  "                   committed finish, queued mail is delivered after the\n"
	  "                   next start.\n"
	  "\n"
	  "The log goes to stderr or syslog ([server] log_target). Exit 0 after a\n"
	  "stop, 1 when the server cannot start, 2 on a usage error.\n" },
	{ "config", cmd_config, "check a configuration file",
	  "usage: netjes config check -c FILE [--json]\n"
	  "       netjes config show [-c FILE] [--json]\n"
	  "\n"
	  "check: report every error in FILE as FILE:LINE: reason, and check that\n"
	  "       the [tls] certificate and key exist, are readable and match;\n"
	  "       exit 1 if anything is wrong.\n"
	  "show:  print the effective configuration (defaults plus FILE), every\n"
	  "       key, in the file's syntax; --json prints it as one object.\n" },
	{ "dns", cmd_dns, "look up a DNS record the way netjes sees it",
	  "usage: netjes dns TYPE NAME [--nameserver HOST:PORT] [--dns-timeout S] [--json]\n"
	  "\n"
	  "TYPE is A, AAAA, MX, TXT, PTR, CNAME, NS, SOA, TLSA or SPF. For PTR, NAME\n"
	  "may be an IP address. Prints the records in zone-file syntax, or one\n"
	  "line ';; NXDOMAIN' / NODATA / SERVFAIL / TIMEOUT; exit 0 when the\n"
	  "lookup had an outcome, 1 on a local error, 2 on a usage error.\n" },
	{ "spf", cmd_spf, "evaluate SPF for a client IP and sender (RFC 7208)",
	  "usage: netjes spf --ip IP --sender MAILFROM [--helo NAME]\n"
	  "           [--nameserver HOST:PORT] [--dns-timeout S] [--json]\n"
	  "       netjes spf --ip IP --sender MAILFROM --record 'v=spf1 ...'\n"
	  "       netjes spf --ip IP --sender MAILFROM --zone FILE\n"
	  "\n"
	  "Run check_host() for the domain of MAILFROM (\"\" is the null sender:\n"
	  "postmaster@NAME of --helo is checked). --record evaluates the given\n"
	  "record in place of the published one; --zone answers every lookup\n"
	  "from a zone file: \"what if I publish this?\". --receiver NAME sets\n"
	  "%{r}. The first output line is the result (pass fail softfail neutral\n"
	  "none permerror temperror), then mechanism:, explanation: (if any),\n"
	  "lookups: and reason:. --json prints one object with result,\n"
	  "mechanism, explanation, lookups and received_spf. Exit 0 when a\n"
	  "result was computed, 1 on a local error, 2 on a usage error.\n" },
	{ "dkim", cmd_dkim, "sign and verify DKIM, make DKIM keys (RFC 6376, 8463)",
	  "usage: netjes dkim keygen --domain D --selector S [--algorithm rsa|ed25519]\n"
	  "           [--bits N] [--out KEYFILE] [--json]\n"
	  "       netjes dkim sign --domain D --selector S --key KEYFILE\n"
	  "           [--algorithm rsa-sha256|ed25519-sha256] [--canon relaxed/relaxed]\n"
	  "           [--headers from:to:subject] [--identity I] [--expire SECONDS]\n"
	  "           < in.eml > out.eml\n"
	  "       netjes dkim verify [--nameserver HOST:PORT | --zone FILE]\n"
	  "           [--dns-timeout S] [--now UNIXTIME] [--json] < message.eml\n"
	  "\n"
	  "keygen: make a key pair (RSA 2048 bits by default), write the private key\n"
	  "  as PEM to KEYFILE (default DOMAIN.SELECTOR.key, mode 0600, never over an\n"
	  "  existing file) and print the TXT record as a zone-file line, split into\n"
	  "  strings of at most 255 bytes.\n"
	  "sign: write the message with a new DKIM-Signature field on top. Default:\n"
	  "  the key's algorithm, relaxed/relaxed, the usual header set with From\n"
	  "  oversigned, t= now. KEYFILE is PEM, or a base64 Ed25519 seed.\n"
	  "verify: one line per signature, 'RESULT d=D s=S a=A', with the reason in\n"
	  "  parentheses for anything but a plain pass (pass, fail, neutral, policy,\n"
	  "  permerror, temperror), or 'none' for an unsigned message. --json\n"
	  "  prints an array of objects with result, domain, selector, algorithm and\n"
	  "  reason. --zone FILE answers key lookups from a zone file. --now\n"
	  "  UNIXTIME verifies as of that time (x= expiry, t= in the future), to\n"
	  "  check a message as of its arrival or reproduce a result.\n"
	  "\n"
	  "Bare LF line ends are read as CRLF. Exit 0 when results were computed,\n"
	  "1 on a local error, 2 on a usage error.\n" },
	{ "user", cmd_user, "manage the users file for SMTP AUTH (and Dovecot)",
	  "usage: netjes user add ADDRESS [-c FILE] [--users-file PATH]\n"
	  "       netjes user passwd ADDRESS [-c FILE] [--users-file PATH]\n"
	  "       netjes user del ADDRESS [-c FILE] [--users-file PATH]\n"
	  "       netjes user list [-c FILE] [--users-file PATH] [--json]\n"
	  "       netjes user verify ADDRESS [-c FILE] [--users-file PATH]\n"
	  "\n"
	  "The users file is a Dovecot passwd-file (user:{CRYPT}hash:...), so\n"
	  "Dovecot can serve IMAP from the same file. It is PATH, else users_file\n"
	  "in [server] of FILE, else DATA_DIR/users. New passwords are hashed\n"
	  "with yescrypt; $6$, $5$ and $2b$ hashes already there keep working.\n"
	  "Edits rewrite the file atomically and keep every other line as it was.\n"
	  "\n"
	  "The password is never an argument: it is read from the terminal\n"
	  "without echo (twice for add and passwd), or as the first line of\n"
	  "stdin when stdin is not a terminal.\n"
	  "\n"
	  "add: a new user (fails if it exists). passwd: a new password. del:\n"
	  "remove the user. list: one user a line, bad lines as FILE:LINE: reason\n"
	  "on stderr; --json prints {file, users, errors}. verify: check a\n"
	  "password. Exit 0 ok, 1 failure (exists, not found, passwords differ,\n"
	  "wrong password), 2 usage.\n" },
	{ "queue", cmd_queue, "list the mail queue; retry, hold, release, delete",
	  "usage: netjes queue list [-c FILE] [--json]\n"
	  "       netjes queue show ID [-c FILE] [--json]\n"
	  "       netjes queue retry|hold|release|delete ID [-c FILE] [--json]\n"
	  "\n"
	  "Works on the spool in DATA_DIR/spool of FILE, whether the server\n"
	  "runs or not; a running server acts on a change at once.\n"
	  "\n"
	  "list: one message a line: ID, arrival, size, sender, pending/all\n"
	  "  recipients, active or held, next attempt (UTC).\n"
	  "show: the envelope and every recipient's state, attempts, first and\n"
	  "  next attempt and last result.\n"
	  "retry: every pending recipient is due now.\n"
	  "hold: never tried nor expired until released.\n"
	  "release: back in the queue, due now.\n"
	  "delete: removed from the queue without a delivery status\n"
	  "  notification.\n"
	  "\n"
	  "A DSN to a sender outside our domains stays in the queue until its\n"
	  "queue_lifetime ends: this server has no outbound delivery yet.\n"
	  "--json prints one object (list: {spool, messages}). Files written as\n"
	  "root belong to the spool directory's owner. Exit 0 ok, 1 not found\n"
	  "or failed, 2 usage.\n" },
	{ "analyze", cmd_analyze, "what the server would do with a message, and why",
	  "usage: netjes analyze --ip IP --helo NAME --mail-from ADDR [--rcpt ADDR]...\n"
	  "           [-c FILE] [--nameserver HOST:PORT | --zone FILE]\n"
	  "           [--dns-timeout S] [--authserv-id ID] [--now UNIXTIME]\n"
	  "           [--json] < message.eml\n"
	  "\n"
	  "Run the message through the same checks, in the same order of stages\n"
	  "(connect, helo, mail, rcpt, headers, end of message), as the server\n"
	  "would for a client at IP that said HELO NAME and MAIL FROM ADDR (\"\"\n"
	  "is the null sender), with the configuration of -c FILE (or the\n"
	  "embedded default). Prints the action (accept, add_header, junk,\n"
	  "tempfail, reject), the score, the reason that decided, the SMTP reply\n"
	  "when the message would be refused, every finding (symbol, score,\n"
	  "reason) and the Authentication-Results and X-Spam-* headers it would\n"
	  "get. A --rcpt of postmaster@ or abuse@ is never refused. --now is the\n"
	  "clock of every check. --json: one object {action, score, reason,\n"
	  "decided_by, reply, findings, authentication_results, spam_headers}.\n"
	  "Exit 0 when the message was analysed, whatever the verdict; 1 on a\n"
	  "local error; 2 on a usage error.\n" },
	{ "auth", cmd_auth, "authenticate a message: iprev, SPF, DKIM, DMARC, ARC",
	  "usage: netjes auth --ip IP --helo NAME --mail-from ADDR [--authserv-id ID]\n"
	  "           [--nameserver HOST:PORT | --zone FILE] [--dns-timeout S]\n"
	  "           [--dmarc-seed N] [--now UNIXTIME] [--json] < message.eml\n"
	  "\n"
	  "Run every check a receiving server runs on one message: iprev of IP,\n"
	  "SPF for the HELO name and MAIL FROM (\"\" is the null sender), every\n"
	  "DKIM signature, DMARC for the From domain (RFC 7489; sp, np and pct)\n"
	  "and ARC. Prints exactly one header, 'Authentication-Results: ...',\n"
	  "folded at 78 columns, and nothing else. --json prints one object with\n"
	  "iprev, spf, dkim (an array), dmarc (policy and disposition), arc and\n"
	  "authentication_results. --dmarc-seed makes pct sampling repeatable;\n"
	  "--now UNIXTIME is the clock of every check (DKIM x= and t=, SPF %{t},\n"
	  "ARC), so a message is judged as of its arrival.\n"
	  "Exit 0 when results were computed, 1 on a local error, 2 on a usage\n"
	  "error.\n" },
	{ "arc", cmd_arc, "verify and seal ARC chains (RFC 8617)",
	  "usage: netjes arc verify [--nameserver HOST:PORT | --zone FILE]\n"
	  "           [--dns-timeout S] [--now UNIXTIME] [--json] < message.eml\n"
	  "       netjes arc seal --domain D --selector S --key KEYFILE\n"
	  "           [--authserv-id ID] --ip IP --helo NAME --mail-from ADDR\n"
	  "           [--auth-results 'ID; method=result ...']\n"
	  "           [--algorithm rsa-sha256|ed25519-sha256]\n"
	  "           [--timestamp UNIXTIME] [--headers from:to:subject]\n"
	  "           [--nameserver HOST:PORT | --zone FILE] < in.eml > out.eml\n"
	  "\n"
	  "verify: validate the ARC chain; one line 'RESULT i=N oldest-pass=K'\n"
	  "  with the reason in parentheses for a failure, or 'none'. --json\n"
	  "  prints result, reason, temporary, instances, oldest_pass and sets.\n"
	  "  --now UNIXTIME validates as of that time (AMS x=, t= in the future).\n"
	  "seal: validate the incoming chain, then write the message with the\n"
	  "  next ARC set (ARC-Seal, ARC-Message-Signature,\n"
	  "  ARC-Authentication-Results) on top; cv= is the chain's result. The\n"
	  "  AAR holds --auth-results when given, else the DKIM and ARC results\n"
	  "  of this command's own checks with smtp.remote-ip. --timestamp is the\n"
	  "  t= of the new AMS and AS (default now) and the clock of those checks.\n"
	  "  --headers is the AMS h= list, header field names joined by ':' that\n"
	  "  include From and not ARC-Seal (default: the usual DKIM set with From\n"
	  "  oversigned, and every DKIM-Signature).\n"
	  "\n"
	  "Bare LF line ends are read as CRLF. Exit 0 when a result was computed\n"
	  "or the message sealed, 1 on a local error, 2 on a usage error.\n" },
	{ "help", cmd_help, "show help for netjes or for one command",
	  "usage: netjes help [COMMAND]\n" },
	{ "version", cmd_version, "print the version",
	  "usage: netjes version [--json]   (or netjes --version)\n"
	  "\n"
	  "--json prints {name, version, openssl, libevent, unbound}.\n" },
	/* hidden (no summary): the build makes the manual pages with it */
	{ "doc", cmd_doc, NULL,
	  "usage: netjes doc man|man-conf\n"
	  "\n"
	  "Print netjes(8) or netjes.conf(5) as roff, made from the command\n"
	  "table and the configuration table.\n" },
	{ NULL, NULL, NULL, NULL },
};

const struct cli_cmd *
cli_find(const char *name)
{
	const struct cli_cmd *c;

	for (c = cli_commands; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void
cli_overview(FILE *f)
{
	const struct cli_cmd *c;

	fprintf(f, "usage: netjes COMMAND [ARGS]\n\ncommands:\n");
	for (c = cli_commands; c->name != NULL; c++)
		if (c->summary != NULL)
			fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\n'netjes help COMMAND' tells more about one.\n");
}

int
cmd_help(int argc, char **argv)
{
	const struct cli_cmd *c;

	if (argc < 2) {
		cli_overview(stdout);
		return CLI_EXIT_OK;
	}
	if (argc > 2)
		return cli_usage("help", "too many arguments");
	if ((c = cli_find(argv[1])) == NULL)
		return cli_usage("help", "unknown command '%s'", argv[1]);
	fputs(c->usage, stdout);
	return CLI_EXIT_OK;
}

int
cmd_version(int argc, char **argv)
{
	struct buf b = BUF_INIT;
	struct json j;

	if (argc == 2 && strcmp(argv[1], "--json") == 0) {
		/* the libraries as loaded, not as built: what a bug report
		 * needs */
		json_init(&j, &b);
		json_obj_begin(&j);
		json_kv_str(&j, "name", "netjes");
		json_kv_str(&j, "version", NETJES_VERSION);
		json_kv_str(&j, "openssl", OpenSSL_version(OPENSSL_VERSION));
		json_kv_str(&j, "libevent", event_get_version());
		json_kv_str(&j, "unbound", ub_version());
		json_end(&j);
		cli_print(&b);
		buf_free(&b);
		return CLI_EXIT_OK;
	}
	if (argc > 1)
		return cli_usage("version", "unexpected argument '%s'",
		    argv[1]);
	printf("netjes %s\n", NETJES_VERSION);
	return CLI_EXIT_OK;
}

int
main(int argc, char **argv)
{
	const struct cli_cmd *c;

	if (argc < 2) {
		cli_overview(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		return cmd_version(1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(1, argv + 1);
	if ((c = cli_find(argv[1])) == NULL) {
		fprintf(stderr, "netjes: unknown command '%s'. "
		    "Try 'netjes help'.\n", argv[1]);
		return CLI_EXIT_USAGE;
	}
	return c->run(argc - 1, argv + 1);
}
