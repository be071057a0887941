/*
 * cmd_config — `netjes config check` and `netjes config show`.
 *
 * check -c FILE [--json]: load FILE over the embedded default and say
 * "FILE: ok" (exit 0), or list every error as FILE:LINE: reason on
 * stderr (exit 1). With --json, one object on stdout either way:
 * {"file", "ok", "errors": [{"file", "line", "reason"}]}.
 *
 * show [-c FILE] [--json]: print the effective configuration (defaults
 * plus FILE) in the file's own syntax, so the output is itself a valid
 * config file; or as JSON. Errors in FILE are listed as for check (exit 1).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

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
		case 'h':
			fputs(cli_find("config")->usage, stdout);
			return -1;
		case ':':
			return cli_usage("config", "option '%s' needs an "
			    "argument", argv[optind - 1]);
		default:
			return cli_usage("config", "unknown option '%s'",
			    argv[optind - 1]);
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

/* Defaults, then the file when there is one. 0, or the number of errors
 * (listed on stderr, or as JSON on stdout when json_errors). */
static int
config_load_opts(const struct config_opts *o, struct config *c,
    bool json_errors)
{
	struct config_errors e = { NULL, 0 };
	int n = 0;

	config_defaults(c);
	if (o->file != NULL)
		n = config_load(c, o->file, &e);
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
	rc = config_load_opts(&o, &c, o.json);
	config_free(&c);
	if (rc != 0)
		return CLI_EXIT_FAIL;
	if (!o.json)
		printf("%s: ok\n", o.file);
	return CLI_EXIT_OK;
}

static void
config_json_show(const struct config *c)
{
	struct buf b = BUF_INIT;
	struct json j;
	size_t i;

	json_init(&j, &b);
	json_obj_begin(&j);
	json_key(&j, "file");
	if (c->path[0] != '\0')
		json_str(&j, c->path);
	else
		json_null(&j);
	json_key(&j, "server");
	json_obj_begin(&j);
	json_kv_str(&j, "hostname", c->hostname);
	json_kv_str(&j, "data_dir", c->data_dir);
	json_kv_str(&j, "log_level", config_log_level_name(c->log_level));
	json_kv_str(&j, "log_target", config_log_target_name(c->log_target));
	json_end(&j);
	json_key(&j, "tls");
	json_obj_begin(&j);
	json_kv_str(&j, "cert", c->tls_cert);
	json_kv_str(&j, "key", c->tls_key);
	json_end(&j);
	json_key(&j, "dns");
	json_obj_begin(&j);
	json_kv_str(&j, "nameserver", c->dns_nameserver);
	/* the JSON writer has no fractions: milliseconds are exact */
	json_kv_int(&j, "timeout_ms", (int64_t)(c->dns_timeout * 1000 + 0.5));
	json_kv_int(&j, "message_deadline_ms",
	    (int64_t)(c->dns_message_deadline * 1000 + 0.5));
	json_end(&j);
	json_key(&j, "listeners");
	json_arr_begin(&j);
	for (i = 0; i < c->nlisteners; i++) {
		json_obj_begin(&j);
		json_kv_str(&j, "name", c->listeners[i].name);
		json_kv_str(&j, "address", c->listeners[i].address);
		json_kv_int(&j, "port", c->listeners[i].port);
		json_kv_str(&j, "mode",
		    config_listener_mode_name(c->listeners[i].mode));
		json_end(&j);
	}
	json_end(&j);
	json_key(&j, "domains");
	json_arr_begin(&j);
	for (i = 0; i < c->ndomains; i++)
		json_str(&j, c->domains[i].name);
	json_end(&j);
	json_end(&j);
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
	if (config_load_opts(&o, &c, false) != 0) {
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
