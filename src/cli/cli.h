/*
 * cli — the netjes command line: one file per subcommand (cmd_*.c), one
 * table of commands (main.c), shared option helpers (cli_common.c).
 *
 * Conventions every subcommand keeps: results on stdout, diagnostics on
 * stderr; a usage error prints one line and a hint and exits 2
 * (CLI_EXIT_USAGE); every subcommand that prints a result accepts --json;
 * every subcommand that resolves names accepts --nameserver HOST:PORT and
 * --dns-timeout SECONDS (cli_dns_option()).
 */
#ifndef NETJES_CLI_CLI_H
#define NETJES_CLI_CLI_H

#include <stdbool.h>

#include "core/buf.h"
#include "core/config.h"
#include "dns/dns.h"

#define CLI_EXIT_OK	0
#define CLI_EXIT_FAIL	1
#define CLI_EXIT_USAGE	2

struct cli_cmd {
	const char	*name;
	int		(*run)(int argc, char **argv);	/* argv[0] = name */
	const char	*summary;	/* one line for `netjes help`; NULL:
					 * hidden from it and the manual */
	const char	*usage;		/* full text for `netjes help CMD` */
};

const struct cli_cmd	*cli_find(const char *name);
extern const struct cli_cmd cli_commands[];

/* Print "netjes CMD: MESSAGE" and "Try 'netjes help CMD'." to stderr;
 * returns CLI_EXIT_USAGE so callers can `return cli_usage(...)`. */
int	cli_usage(const char *cmd, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Resolver options shared by every subcommand that resolves names. */
struct cli_dns {
	const char	*nameserver;	/* NULL: config, then the system's */
	double		 timeout;	/* 0: config, then 5 s */
};

/* getopt_long entries and their values for --nameserver / --dns-timeout */
#define CLI_OPT_NAMESERVER	0x1001
#define CLI_OPT_DNS_TIMEOUT	0x1002
#define CLI_OPT_JSON		0x1003
#define CLI_LONGOPTS_DNS \
	{ "nameserver", 1, NULL, CLI_OPT_NAMESERVER }, \
	{ "dns-timeout", 1, NULL, CLI_OPT_DNS_TIMEOUT }

/* Handle one getopt result if it is a DNS option: 1 handled, 0 not ours,
 * -1 bad value (a usage message was printed). */
int	cli_dns_option(const char *cmd, int opt, const char *arg,
	    struct cli_dns *);

/* A resolver for a CLI command, from options over config over defaults. */
struct dns_resolver *cli_dns_resolver(const struct cli_dns *,
	    const struct config *, struct event_base *);

/* Load -c FILE (or the defaults when path is NULL), printing every error
 * to stderr as FILE:LINE: reason. 0 ok, -1 errors. */
int	cli_config_load(const char *path, struct config *);

/*
 * The getopt_long() results every subcommand answers alike: 'h' prints
 * cmd's usage (returns -1: done, exit 0), ':' and anything unknown are
 * usage errors (CLI_EXIT_USAGE). For the default: of an option switch
 * whose optstring starts with ':' (after any '+').
 */
int	cli_getopt_other(const char *cmd, int ch, char **argv);

/*
 * A point in time given on the command line (--now, --timestamp):
 * seconds since the epoch as plain decimal digits, 1 up to the end of
 * year 9999 (no sign, no space, no suffix). 0 with *out set, or a usage
 * message naming opt and CLI_EXIT_USAGE. 0 itself is refused because
 * the libraries read a zero clock as "use time(NULL)".
 */
int	cli_unixtime(const char *cmd, const char *opt, const char *arg,
	    long long *out);

/* Write a buffer to stdout and a final newline. */
void	cli_print(const struct buf *);

int	cmd_help(int argc, char **argv);
int	cmd_version(int argc, char **argv);
int	cmd_serve(int argc, char **argv);
int	cmd_config(int argc, char **argv);
int	cmd_dns(int argc, char **argv);
int	cmd_dkim(int argc, char **argv);
int	cmd_arc(int argc, char **argv);
int	cmd_analyze(int argc, char **argv);
int	cmd_auth(int argc, char **argv);
int	cmd_spf(int argc, char **argv);
int	cmd_user(int argc, char **argv);
int	cmd_queue(int argc, char **argv);
int	cmd_doc(int argc, char **argv);

#endif
