/*
 * cmd_auth — `netjes auth`: authenticate one message as the receiving
 * server would (iprev, SPF for HELO and MAIL FROM, DKIM, DMARC, ARC) and
 * print the Authentication-Results header.
 *
 *	netjes auth --ip IP --helo NAME --mail-from ADDR [--authserv-id ID]
 *	    [--nameserver HOST:PORT | --zone FILE] [--dns-timeout S]
 *	    [--dmarc-seed N] [--now UNIXTIME] [--json] < message.eml
 *
 * It runs the authentication checks of the check pipeline (filter/),
 * the same code the server runs, stage by stage, without a verdict.
 *
 * Output (a contract other checks rely on): exactly one header field,
 * "Authentication-Results: ...", folded at 78 columns with LF line ends,
 * and nothing else on stdout; --json prints one object with iprev, spf,
 * dkim (an array), dmarc (with policy and disposition), arc and the
 * header. An empty --mail-from is the null sender. Exit 0 when results
 * were computed, 1 on a local error, 2 on a usage error. --now is the
 * clock of every check (DKIM x= and t=, SPF %{t}, ARC), so a message is
 * judged as of its arrival and the header can be reproduced.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authres.h"
#include "cli/cli.h"
#include "cli/cli_msg.h"
#include "core/arena.h"
#include "core/json.h"
#include "dns/dns.h"
#include "filter/checks.h"
#include "filter/explain.h"
#include "filter/pipeline.h"

/* The header (or the JSON) of a pipeline that ran to its end. */
static void
auth_cli_print(struct pipeline *p, const char *authserv_id, bool json,
    struct buf *out)
{
	struct authres_render_options ro;
	struct authres_header h;
	struct buf hdr = BUF_INIT;

	explain_authres(pipeline_findings(p), authserv_id,
	    pipeline_arena(p), &h);
	memset(&ro, 0, sizeof(ro));
	ro.eol = "\n";
	authres_render(&h, &ro, &hdr);
	if (json) {
		struct json j;

		json_init(&j, out);
		explain_facts_json(pipeline_facts(p), &j, buf_cstr(&hdr));
	} else
		buf_append(out, hdr.data, hdr.len);
	buf_free(&hdr);
}

enum {
	OPT_IP = 0x2001, OPT_HELO, OPT_MAIL_FROM, OPT_AUTHSERV_ID, OPT_ZONE,
	OPT_SEED, OPT_RECEIVER, OPT_NOW,
};

struct auth_args {
	struct check_txn	 t;
	const char		*ip, *mail_from, *zone;
	bool			 json;
};

static int
auth_take(int opt, const char *arg, void *p)
{
	struct auth_args *a = p;
	char *end;

	switch (opt) {
	case OPT_IP: a->ip = arg; return 0;
	case OPT_HELO: a->t.helo = arg; return 0;
	case OPT_MAIL_FROM: a->mail_from = arg; return 0;
	case OPT_AUTHSERV_ID: a->t.authserv_id = arg; return 0;
	case OPT_ZONE: a->zone = arg; return 0;
	case OPT_RECEIVER: a->t.receiver = arg; return 0;
	case OPT_SEED:
		errno = 0;
		a->t.dmarc_seed = strtoull(arg, &end, 10);
		if (errno != 0 || end == arg || *end != '\0')
			return cli_usage("auth", "--dmarc-seed needs a number");
		a->t.dmarc_seeded = true;
		return 0;
	case OPT_NOW:
		if (cli_unixtime("auth", "--now", arg, &a->t.now) != 0)
			return CLI_EXIT_USAGE;
		return 0;
	case CLI_OPT_JSON: a->json = true; return 0;
	}
	return cli_usage("auth", "unexpected option");
}

int
cmd_auth(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ip", 1, NULL, OPT_IP },
		{ "helo", 1, NULL, OPT_HELO },
		{ "mail-from", 1, NULL, OPT_MAIL_FROM },
		{ "authserv-id", 1, NULL, OPT_AUTHSERV_ID },
		{ "zone", 1, NULL, OPT_ZONE },
		{ "dmarc-seed", 1, NULL, OPT_SEED },
		{ "receiver", 1, NULL, OPT_RECEIVER },
		{ "now", 1, NULL, OPT_NOW },
		{ "json", 0, NULL, CLI_OPT_JSON },
		CLI_LONGOPTS_DNS,
		{ NULL, 0, NULL, 0 },
	};
	struct cli_dns dns = { NULL, 0 };
	struct cli_resolver res;
	struct auth_args a;
	struct check_txn *t = &a.t;
	struct pipeline_env env;
	struct arena *ar = NULL;
	struct pipeline *p = NULL;
	struct buf msg = BUF_INIT, out = BUF_INIT;
	char mbuf[1024];
	int rc;

	memset(&a, 0, sizeof(a));
	if ((rc = cli_parse_options("auth", argc, argv, longopts, auth_take,
	    &a, &dns)) != 0)
		return rc;
	if (a.ip == NULL)
		return cli_usage("auth", "--ip is required");
	if (t->helo == NULL)
		return cli_usage("auth", "--helo is required");
	if (a.mail_from == NULL)
		return cli_usage("auth", "--mail-from is required (\"\" for "
		    "the null sender)");
	if (ip_parse(a.ip, strlen(a.ip), &t->ip) != 0)
		return cli_usage("auth", "--ip '%s' is not an IP address",
		    a.ip);
	t->ip_text = a.ip;
	t->mail_from = cli_strip_brackets(a.mail_from, mbuf, sizeof(mbuf));
	if (t->authserv_id == NULL)
		t->authserv_id = "localhost";
	if ((rc = cli_resolver_init(&res, "auth", a.zone, &dns)) != 0)
		return rc;

	if (cli_msg_read("auth", NULL, &msg, NULL) != 0) {
		buf_free(&msg);
		return CLI_EXIT_FAIL;
	}
	t->msg = msg.data;
	t->len = msg.len;
	t->header_len = check_header_len(t->msg, t->len);

	if (cli_resolver_get(&res) == NULL) {
		cli_resolver_free(&res);
		buf_free(&msg);
		return CLI_EXIT_FAIL;
	}
	/* the authentication checks of the pipeline, with no verdict */
	memset(&env, 0, sizeof(env));
	env.base = res.base;
	env.resolver = res.r;
	ar = arena_new(0);
	rc = CLI_EXIT_OK;
	if ((p = pipeline_new(checks_all, checks_n, &env, t, ar)) == NULL ||
	    pipeline_run_all(p) != 0) {
		fprintf(stderr, "netjes auth: the checks did not finish\n");
		rc = CLI_EXIT_FAIL;
	} else {
		auth_cli_print(p, t->authserv_id, a.json, &out);
		cli_print(&out);
	}
	pipeline_free(p);
	buf_free(&out);
	buf_free(&msg);
	arena_free(ar);
	cli_resolver_free(&res);
	return rc;
}
