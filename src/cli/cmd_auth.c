/*
 * cmd_auth — `netjes auth`: authenticate one message as the receiving
 * server would (iprev, SPF for HELO and MAIL FROM, DKIM, DMARC, ARC) and
 * print the Authentication-Results header.
 *
 *	netjes auth --ip IP --helo NAME --mail-from ADDR [--authserv-id ID]
 *	    [--nameserver HOST:PORT | --zone FILE] [--dns-timeout S]
 *	    [--dmarc-seed N] [--now UNIXTIME] [--json] < message.eml
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

#include "auth/arc/arc.h"
#include "auth/auth.h"
#include "cli/cli.h"
#include "cli/cli_msg.h"
#include "core/json.h"

struct auth_cli_state {
	struct buf	 out;
	bool		 json;
	bool		 done;
};

static void
auth_cli_done(const struct auth_outcome *o, void *arg)
{
	struct auth_cli_state *st = arg;
	struct authres_render_options ro;
	struct buf hdr = BUF_INIT;

	memset(&ro, 0, sizeof(ro));
	ro.eol = "\n";
	authres_render(&o->authres, &ro, &hdr);
	if (st->json) {
		struct json j;

		json_init(&j, &st->out);
		auth_outcome_json(o, &j, buf_cstr(&hdr));
	} else
		buf_append(&st->out, hdr.data, hdr.len);
	buf_free(&hdr);
	st->done = true;
}

enum {
	OPT_IP = 0x2001, OPT_HELO, OPT_MAIL_FROM, OPT_AUTHSERV_ID, OPT_ZONE,
	OPT_SEED, OPT_RECEIVER, OPT_NOW,
};

struct auth_args {
	struct auth_request	 req;
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
	case OPT_HELO: a->req.helo = arg; return 0;
	case OPT_MAIL_FROM: a->mail_from = arg; return 0;
	case OPT_AUTHSERV_ID: a->req.authserv_id = arg; return 0;
	case OPT_ZONE: a->zone = arg; return 0;
	case OPT_RECEIVER: a->req.receiver = arg; return 0;
	case OPT_SEED:
		errno = 0;
		a->req.dmarc_seed = strtoull(arg, &end, 10);
		if (errno != 0 || end == arg || *end != '\0')
			return cli_usage("auth", "--dmarc-seed needs a number");
		a->req.dmarc_seeded = true;
		return 0;
	case OPT_NOW:
		if (cli_unixtime("auth", "--now", arg, &a->req.now) != 0)
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
	struct auth_request *req = &a.req;
	struct auth_cli_state st;
	struct arena *out = NULL;
	struct auth_check *chk;
	struct buf msg = BUF_INIT;
	char mbuf[1024];
	int rc;

	memset(&a, 0, sizeof(a));
	memset(&st, 0, sizeof(st));
	if ((rc = cli_parse_options("auth", argc, argv, longopts, auth_take,
	    &a, &dns)) != 0)
		return rc;
	st.json = a.json;
	if (a.ip == NULL)
		return cli_usage("auth", "--ip is required");
	if (req->helo == NULL)
		return cli_usage("auth", "--helo is required");
	if (a.mail_from == NULL)
		return cli_usage("auth", "--mail-from is required (\"\" for "
		    "the null sender)");
	if (ip_parse(a.ip, strlen(a.ip), &req->ip) != 0)
		return cli_usage("auth", "--ip '%s' is not an IP address",
		    a.ip);
	req->mail_from = cli_strip_brackets(a.mail_from, mbuf, sizeof(mbuf));
	if ((rc = cli_resolver_init(&res, "auth", a.zone, &dns)) != 0)
		return rc;

	if (cli_msg_read("auth", NULL, &msg, NULL) != 0) {
		buf_free(&msg);
		return CLI_EXIT_FAIL;
	}
	req->msg = msg.data;
	req->len = msg.len;
	req->arc = &arc_auth_hook;

	if (cli_resolver_get(&res) == NULL) {
		cli_resolver_free(&res);
		buf_free(&msg);
		return CLI_EXIT_FAIL;
	}
	out = arena_new(0);
	chk = auth_check_start(res.base, res.r, req, out, auth_cli_done, &st);
	cli_resolver_wait(&res, &st.done);
	rc = CLI_EXIT_OK;
	if (!st.done) {
		fprintf(stderr, "netjes auth: the checks did not finish\n");
		auth_check_cancel(chk);
		rc = CLI_EXIT_FAIL;
	} else
		cli_print(&st.out);
	buf_free(&st.out);
	buf_free(&msg);
	arena_free(out);
	cli_resolver_free(&res);
	return rc;
}
