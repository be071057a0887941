/*
 * cli_common — option helpers shared by the subcommands. See cli.h.
 */
#include <errno.h>
#include <event2/event.h>
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

int
cli_parse_options(const char *cmd, int argc, char **argv,
    const struct option *longopts, int (*take)(int, const char *, void *),
    void *arg, struct cli_dns *dns)
{
	int opt, rc;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == '?')
			return cli_usage(cmd, "unknown or incomplete option "
			    "'%s'", argv[optind - 1]);
		if (dns != NULL) {
			rc = cli_dns_option(cmd, opt, optarg, dns);
			if (rc < 0)
				return CLI_EXIT_USAGE;
			if (rc > 0)
				continue;
		}
		if ((rc = take(opt, optarg, arg)) != 0)
			return rc;
	}
	if (optind < argc)
		return cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
	return 0;
}

int
cli_read_stream(FILE *f, struct buf *b)
{
	char chunk[65536];
	size_t got;

	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(b, chunk, got);
	return ferror(f) ? -1 : 0;
}

const char *
cli_strip_brackets(const char *s, char *tmp, size_t n)
{
	size_t len = strlen(s);

	if (len >= 2 && s[0] == '<' && s[len - 1] == '>' && len - 1 < n) {
		memcpy(tmp, s + 1, len - 2);
		tmp[len - 2] = '\0';
		return tmp;
	}
	return s;
}

struct dns_resolver *
cli_zone_resolver(const char *cmd, const char *path, struct event_base *base)
{
	struct dns_resolver *r;
	struct buf text = BUF_INIT;
	char err[256];
	FILE *f;

	if ((f = fopen(path, "r")) == NULL || cli_read_stream(f, &text) != 0) {
		fprintf(stderr, "netjes %s: cannot read %s: %s\n", cmd, path,
		    strerror(errno));
		if (f != NULL)
			fclose(f);
		buf_free(&text);
		return NULL;
	}
	fclose(f);
	if ((r = dns_zone_new(base)) == NULL) {
		fprintf(stderr, "netjes %s: cannot set up a zone\n", cmd);
		buf_free(&text);
		return NULL;
	}
	err[0] = '\0';
	if (dns_zone_load(r, buf_cstr(&text), text.len, NULL, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", path, err);
		dns_resolver_free(r);
		r = NULL;
	}
	buf_free(&text);
	return r;
}

int
cli_resolver_init(struct cli_resolver *res, const char *cmd,
    const char *zone, const struct cli_dns *dns)
{
	memset(res, 0, sizeof(*res));
	res->cmd = cmd;
	res->zone = zone;
	res->dns = dns;
	if (zone != NULL && dns->nameserver != NULL)
		return cli_usage(cmd, "--zone and --nameserver exclude each "
		    "other");
	return 0;
}

struct dns_resolver *
cli_resolver_get(struct cli_resolver *res)
{
	if (res->r != NULL || res->failed)
		return res->r;
	if ((res->base = event_base_new()) == NULL) {
		fprintf(stderr, "netjes %s: cannot create an event loop\n",
		    res->cmd);
		res->failed = true;
	} else if ((res->r = res->zone != NULL ? cli_zone_resolver(res->cmd,
	    res->zone, res->base) : cli_dns_resolver(res->dns, NULL,
	    res->base)) == NULL)
		res->failed = true;
	return res->r;
}

void
cli_resolver_wait(struct cli_resolver *res, const bool *done)
{
	while (!*done && event_base_loop(res->base, EVLOOP_ONCE) == 0)
		;
}

void
cli_resolver_free(struct cli_resolver *res)
{
	if (res->r != NULL)
		dns_resolver_free(res->r);
	if (res->base != NULL)
		event_base_free(res->base);
	res->r = NULL;
	res->base = NULL;
}
