/*
 * cli_common — option helpers shared by the subcommands. See cli.h.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int
cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "netjes %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ". Try 'netjes help %s'.\n", cmd);
	return CLI_EXIT_USAGE;
}

int
cli_dns_option(const char *cmd, int opt, const char *arg, struct cli_dns *d)
{
	char why[160], *end;
	double t;

	switch (opt) {
	case CLI_OPT_NAMESERVER:
		if (arg[0] == '\0') {
			cli_usage(cmd, "--nameserver needs HOST or HOST:PORT");
			return -1;
		}
		/* an IP: the resolver must reach its server before it can
		 * resolve any name, so a host name would fail later and
		 * obscurely */
		if (config_nameserver_check(arg, why, sizeof(why)) != 0) {
			cli_usage(cmd, "--nameserver '%s': %s (IP, IP:PORT or "
			    "[IPv6]:PORT)", arg, why);
			return -1;
		}
		d->nameserver = arg;
		return 1;
	case CLI_OPT_DNS_TIMEOUT:
		errno = 0;
		t = strtod(arg, &end);
		if (errno != 0 || end == arg || *end != '\0' || !isfinite(t) ||
		    t <= 0 || t > 3600) {
			cli_usage(cmd, "--dns-timeout wants seconds, "
			    "more than 0 and at most 3600, not '%s'", arg);
			return -1;
		}
		d->timeout = t;
		return 1;
	default:
		return 0;
	}
}

struct dns_resolver *
cli_dns_resolver(const struct cli_dns *d, const struct config *cfg,
    struct event_base *base)
{
	struct dns_options o;
	struct dns_resolver *r;
	const char *err = NULL;

	memset(&o, 0, sizeof(o));
	o.nameserver = d->nameserver;
	if (o.nameserver == NULL && cfg != NULL && cfg->dns_nameserver[0])
		o.nameserver = cfg->dns_nameserver;
	o.timeout = d->timeout > 0 ? d->timeout :
	    (cfg != NULL && cfg->dns_timeout > 0 ? cfg->dns_timeout : 5.0);
	o.cache = true;
	r = dns_unbound_new(base, &o, &err);
	if (r == NULL)
		fprintf(stderr, "netjes: cannot set up the resolver: %s\n",
		    err ? err : "unknown error");
	return r;
}

int
cli_config_load(const char *path, struct config *cfg)
{
	struct config_errors errs = { NULL, 0 };
	size_t i;
	int n;

	config_defaults(cfg);
	if (path == NULL)
		return 0;
	n = config_load(cfg, path, &errs);
	for (i = 0; i < errs.n; i++) {
		if (errs.v[i].line > 0)
			fprintf(stderr, "%s:%d: %s\n", errs.v[i].file,
			    errs.v[i].line, errs.v[i].reason);
		else
			fprintf(stderr, "%s: %s\n", errs.v[i].file,
			    errs.v[i].reason);
	}
	config_errors_free(&errs);
	return n == 0 ? 0 : -1;
}

/* 9999-12-31T23:59:59Z: far enough, and clock + skew cannot overflow */
#define CLI_UNIXTIME_MAX	253402300799LL

int
cli_unixtime(const char *cmd, const char *opt, const char *arg,
    long long *out)
{
	long long v = 0;
	size_t i;

	for (i = 0; arg[i] != '\0'; i++) {
		if (arg[i] < '0' || arg[i] > '9' || i >= 12)
			break;
		v = v * 10 + (arg[i] - '0');
	}
	if (i == 0 || arg[i] != '\0' || v < 1 || v > CLI_UNIXTIME_MAX)
		return cli_usage(cmd, "%s wants seconds since 1970-01-01 UTC "
		    "(1 to %lld, digits only), not '%s'", opt,
		    CLI_UNIXTIME_MAX, arg);
	*out = v;
	return 0;
}

void
cli_print(const struct buf *b)
{
	fwrite(buf_cstr(b), 1, b->len, stdout);
	if (b->len == 0 || b->data[b->len - 1] != '\n')
		fputc('\n', stdout);
}

int
cli_getopt_other(const char *cmd, int ch, char **argv)
{
	if (ch == 'h') {
		fputs(cli_find(cmd)->usage, stdout);
		return -1;
	}
	if (ch == ':')
		return cli_usage(cmd, "option '%s' needs an argument",
		    argv[optind - 1]);
	return cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
}
