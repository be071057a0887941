/*
 * cmd_config — `netjes config check` and `netjes config show`.
 *
 * check -c FILE [--json]: load FILE over the embedded default and say
 * "FILE: ok" (exit 0), or list every error as FILE:LINE: reason on
 * stderr (exit 1). A file that loads has its [tls] cert and key opened
 * too: both must exist, be readable PEM, and be one pair (an error names
 * the file). With --json, one object on stdout either way:
 * {"file", "ok", "errors": [{"file", "line", "reason"}]}.
 *
 * show [-c FILE] [--json]: print the effective configuration (defaults
 * plus FILE) in the file's own syntax, so the output is itself a valid
 * config file; or as JSON. Errors in FILE are listed as for check (exit 1).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cli/cli.h"
#include "core/json.h"

struct config_opts {
	const char	*file;
	bool		 json;
};

/* Parse the options after the subcommand; argv[0] is the subcommand.
 * 0 ok, else the exit status of a usage error (already printed). */
static int
config_parse_opts(int argc, char **argv, struct config_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, CLI_OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	opterr = 0;
	optind = 0;	/* GNU: full reinitialisation */
	while ((ch = getopt_long(argc, argv, "+:c:h", longopts, NULL)) != -1)
		switch (ch) {
		case 'c':
			o->file = optarg;
			break;
		case CLI_OPT_JSON:
			o->json = true;
			break;
		default:
			return cli_getopt_other("config", ch, argv);
		}
	if (optind < argc)
		return cli_usage("config", "unexpected argument '%s'",
		    argv[optind]);
	return 0;
}

static void
config_print_errors(const struct config_errors *e)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		if (e->v[i].line > 0)
			fprintf(stderr, "%s:%d: %s\n", e->v[i].file,
			    e->v[i].line, e->v[i].reason);
		else
			fprintf(stderr, "%s: %s\n", e->v[i].file,
			    e->v[i].reason);
	}
}

static void
config_json_errors(const char *file, const struct config_errors *e)
{
	struct buf b = BUF_INIT;
	struct json j;
	size_t i;

	json_init(&j, &b);
	json_obj_begin(&j);
	json_kv_str(&j, "file", file);
	json_kv_bool(&j, "ok", e->n == 0);
	json_key(&j, "errors");
	json_arr_begin(&j);
	for (i = 0; i < e->n; i++) {
		json_obj_begin(&j);
		json_kv_str(&j, "file", e->v[i].file);
		json_kv_int(&j, "line", e->v[i].line);
		json_kv_str(&j, "reason", e->v[i].reason);
		json_end(&j);
	}
	json_end(&j);
	json_end(&j);
	cli_print(&b);
	buf_free(&b);
}

/* An error not tied to a line, in the list config_load() fills. */
static void	config_tls_error(struct config_errors *, const char *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));

static void
config_tls_error(struct config_errors *e, const char *file,
    const char *fmt, ...)
{
	struct config_error *err;
	va_list ap;

	if ((e->v = realloc(e->v, (e->n + 1) * sizeof(*e->v))) == NULL)
		abort();
	err = &e->v[e->n++];
	snprintf(err->file, sizeof(err->file), "%s", file);
	err->line = 0;
	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	va_end(ap);
}

/* What OpenSSL said last, without its error-queue prefix. */
static const char *
config_ssl_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_peek_last_error());

	return r != NULL ? r : "not PEM";
}

static FILE *
config_tls_open(const char *path, const char *what, struct config_errors *e)
{
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		config_tls_error(e, path, "cannot read the %s: %s", what,
		    strerror(errno));
	return f;
}

/* The [tls] files the server would load: the certificate chain's first
 * certificate and the private key, which must belong together. Empty
 * cert and key mean a self-signed pair made at start: nothing to check.
 * Returns the number of errors added. */
static int
config_check_tls(const struct config *c, struct config_errors *e)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	size_t before = e->n;
	FILE *f;

	if (c->tls_cert[0] == '\0' && c->tls_key[0] == '\0')
		return 0;
	ERR_clear_error();
	if ((f = config_tls_open(c->tls_cert, "certificate", e)) != NULL) {
		if ((cert = PEM_read_X509(f, NULL, NULL, NULL)) == NULL)
			config_tls_error(e, c->tls_cert, "no PEM certificate "
			    "in it (%s)", config_ssl_reason());
		fclose(f);
	}
	ERR_clear_error();
	if ((f = config_tls_open(c->tls_key, "private key", e)) != NULL) {
		if ((key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL)
			config_tls_error(e, c->tls_key, "no PEM private key "
			    "in it (%s)", config_ssl_reason());
		fclose(f);
	}
	if (cert != NULL && key != NULL && X509_check_private_key(cert,
	    key) != 1)
		config_tls_error(e, c->tls_key, "this private key does not "
		    "match the certificate in %s", c->tls_cert);
	ERR_clear_error();
	X509_free(cert);
	EVP_PKEY_free(key);
	return (int)(e->n - before);
}

/* Defaults, then the file when there is one, and with check_tls the
 * files [tls] names. 0, or the number of errors (listed on stderr, or
 * as JSON on stdout when json_errors). */
static int
config_load_opts(const struct config_opts *o, struct config *c,
    bool json_errors, bool check_tls)
{
	struct config_errors e = { NULL, 0 };
	int n = 0;

	config_defaults(c);
	if (o->file != NULL)
		n = config_load(c, o->file, &e);
	if (n == 0 && check_tls)
		n = config_check_tls(c, &e);
	if (json_errors)
		config_json_errors(o->file, &e);
	else
		config_print_errors(&e);
	config_errors_free(&e);
	return n;
}

static int
config_check(int argc, char **argv)
{
	struct config_opts o = { NULL, false };
	struct config c;
	int rc;

	if ((rc = config_parse_opts(argc, argv, &o)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (o.file == NULL)
		return cli_usage("config", "check needs -c FILE");
	rc = config_load_opts(&o, &c, o.json, true);
	config_free(&c);
	if (rc != 0)
		return CLI_EXIT_FAIL;
	if (!o.json)
		printf("%s: ok\n", o.file);
	return CLI_EXIT_OK;
}

/* Generated from the config table, so every key is in it. */
static void
config_json_show(const struct config *c)
{
	struct buf b = BUF_INIT;
	struct json j;

	json_init(&j, &b);
	config_write_json(c, &j);
	cli_print(&b);
	buf_free(&b);
}

static int
config_show(int argc, char **argv)
{
	struct config_opts o = { NULL, false };
	struct buf b = BUF_INIT;
	struct config c;
	int rc;

	if ((rc = config_parse_opts(argc, argv, &o)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (config_load_opts(&o, &c, false, false) != 0) {
		config_free(&c);
		return CLI_EXIT_FAIL;
	}
	if (o.json)
		config_json_show(&c);
	else {
		buf_printf(&b, "# effective configuration: defaults%s%s\n\n",
		    o.file != NULL ? " plus " : "", o.file != NULL ? o.file : "");
		config_write_ini(&c, &b);
		fwrite(buf_cstr(&b), 1, b.len, stdout);
		buf_free(&b);
	}
	config_free(&c);
	return CLI_EXIT_OK;
}

static const struct {
	const char	*name;
	int		(*run)(int argc, char **argv);
} config_subcommands[] = {
	{ "check", config_check },
	{ "show", config_show },
};

int
cmd_config(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return cli_usage("config", "missing subcommand (check or show)");
	for (i = 0; i < sizeof(config_subcommands) /
	    sizeof(*config_subcommands); i++)
		if (strcmp(argv[1], config_subcommands[i].name) == 0)
			return config_subcommands[i].run(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(cli_find("config")->usage, stdout);
		return CLI_EXIT_OK;
	}
	return cli_usage("config", "unknown subcommand '%s' (check or show)",
	    argv[1]);
}
