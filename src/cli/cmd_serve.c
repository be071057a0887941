/*
 * cmd_serve — `netjes serve [-c FILE] [--foreground]`: load the
 * configuration (the embedded default without -c) and run the server
 * until SIGINT or SIGTERM; SIGHUP reloads the same file (server.h).
 * netjes never daemonizes: a service manager supervises it, so
 * --foreground is accepted and changes nothing.
 */
#include <getopt.h>
#include <stdio.h>

#include <event2/event.h>

#include "cli/cli.h"
#include "smtp/server.h"

#define SERVE_OPT_FOREGROUND	0x2001

int
cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", 1, NULL, 'c' },
		{ "foreground", 0, NULL, SERVE_OPT_FOREGROUND },
		{ NULL, 0, NULL, 0 },
	};
	struct config cfg;
	const char *path = NULL;
	int opt, rc;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+:c:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case SERVE_OPT_FOREGROUND:
			break;
		case ':':
			return cli_usage("serve", "-c needs a FILE");
		default:
			if (optopt != 0)
				return cli_usage("serve", "unknown option "
				    "'-%c'", optopt);
			return cli_usage("serve", "unknown option '%s'",
			    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage("serve", "unexpected argument '%s'",
		    argv[optind]);
	if (cli_config_load(path, &cfg) == -1) {
		config_free(&cfg);
		return CLI_EXIT_FAIL;
	}
	rc = server_run(&cfg);
	config_free(&cfg);
	/* hand libevent's global state back so leak checkers see none */
	libevent_global_shutdown();
	return rc;
}
