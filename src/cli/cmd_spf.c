/*
 * cmd_spf — `netjes spf`: evaluate SPF (RFC 7208) for one client IP and
 * sender, and say why.
 *
 *	netjes spf --ip IP --sender MAILFROM [--helo NAME] [--receiver NAME]
 *	    [--record 'v=spf1 ...'] [--zone FILE]
 *	    [--nameserver HOST:PORT] [--dns-timeout S] [--json]
 *
 * Output (a contract other checks and scripts rely on): the first line is
 * exactly the result word; then "mechanism: ...", "explanation: ..." (when
 * there is one), "lookups: N", and "reason: ..." for a person. --json
 * prints one object. Exit 0 whenever a result was computed, 1 when the
 * resolver or zone could not be set up, 2 on a usage error.
 *
 * --record evaluates a record in place of the one the sender's domain
 * publishes; --zone FILE answers every lookup from a zone file instead of
 * the network: both answer "what if I publish this?".
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "auth/spf/spf.h"
#include "cli/cli.h"
#include "core/json.h"

struct spf_cli_state {
	struct buf	 out;
	bool		 json;
	bool		 done;
};

static void
spf_cli_print(const struct spf_outcome *o, struct spf_cli_state *st)
{
	struct buf *b = &st->out;

	if (st->json) {
		struct json j;

		json_init(&j, b);
		json_obj_begin(&j);
		json_kv_str(&j, "result", spf_result_name(o->result));
		json_key(&j, "mechanism");
		if (o->mechanism != NULL)
			json_str(&j, o->mechanism);
		else
			json_null(&j);
		json_key(&j, "explanation");
		if (o->explanation != NULL)
			json_str(&j, o->explanation);
		else
			json_null(&j);
		json_kv_int(&j, "lookups", o->lookups);
		json_kv_int(&j, "void_lookups", o->void_lookups);
		json_kv_str(&j, "domain", o->domain ? o->domain : "");
		json_kv_str(&j, "sender", o->sender ? o->sender : "");
		json_key(&j, "reason");
		if (o->reason != NULL)
			json_str(&j, o->reason);
		else
			json_null(&j);
		json_kv_str(&j, "received_spf", o->received_spf);
		json_kv_str(&j, "authentication_results", o->authres);
		json_end(&j);
		return;
	}
	buf_printf(b, "%s\n", spf_result_name(o->result));
	buf_printf(b, "mechanism: %s\n", o->mechanism ? o->mechanism :
	    "(none)");
	if (o->explanation != NULL)
		buf_printf(b, "explanation: %s\n", o->explanation);
	buf_printf(b, "lookups: %u\n", o->lookups);
	if (o->reason != NULL)
		buf_printf(b, "reason: %s\n", o->reason);
}

static void
spf_cli_done(const struct spf_outcome *o, void *arg)
{
	struct spf_cli_state *st = arg;

	spf_cli_print(o, st);
	st->done = true;
}

enum {
	OPT_IP = 0x2001, OPT_SENDER, OPT_HELO, OPT_RECORD, OPT_ZONE,
	OPT_RECEIVER,
};

struct spf_args {
	struct spf_request	 req;
	const char		*ip, *sender, *zone;
	bool			 json;
};

static int
spf_take(int opt, const char *arg, void *p)
{
	struct spf_args *a = p;

	switch (opt) {
	case OPT_IP: a->ip = arg; return 0;
	case OPT_SENDER: a->sender = arg; return 0;
	case OPT_HELO: a->req.helo = arg; return 0;
	case OPT_RECORD: a->req.record = arg; return 0;
	case OPT_ZONE: a->zone = arg; return 0;
	case OPT_RECEIVER: a->req.receiver = arg; return 0;
	case CLI_OPT_JSON: a->json = true; return 0;
	}
	return cli_usage("spf", "unexpected option");
}

int
cmd_spf(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ip", 1, NULL, OPT_IP },
		{ "sender", 1, NULL, OPT_SENDER },
		{ "helo", 1, NULL, OPT_HELO },
		{ "record", 1, NULL, OPT_RECORD },
		{ "zone", 1, NULL, OPT_ZONE },
		{ "receiver", 1, NULL, OPT_RECEIVER },
		{ "json", 0, NULL, CLI_OPT_JSON },
		CLI_LONGOPTS_DNS,
		{ NULL, 0, NULL, 0 },
	};
	struct cli_dns dns = { NULL, 0 };
	struct cli_resolver res;
	struct spf_args a;
	struct spf_request *req = &a.req;
	struct spf_cli_state st;
	struct arena *out = NULL;
	struct spf_check *chk;
	char sbuf[1024];
	int rc;

	memset(&a, 0, sizeof(a));
	memset(&st, 0, sizeof(st));
	req->identity = SPF_IDENTITY_MAILFROM;
	if ((rc = cli_parse_options("spf", argc, argv, longopts, spf_take,
	    &a, &dns)) != 0)
		return rc;
	st.json = a.json;
	if (a.ip == NULL)
		return cli_usage("spf", "--ip is required");
	if (a.sender == NULL)
		return cli_usage("spf", "--sender is required (\"\" for the "
		    "null sender, with --helo)");
	if (ip_parse(a.ip, strlen(a.ip), &req->ip) != 0)
		return cli_usage("spf", "--ip '%s' is not an IP address",
		    a.ip);
	req->sender = cli_strip_brackets(a.sender, sbuf, sizeof(sbuf));
	if (req->sender[0] == '\0' && (req->helo == NULL || !req->helo[0]))
		return cli_usage("spf", "the null sender needs --helo");
	if ((rc = cli_resolver_init(&res, "spf", a.zone, &dns)) != 0)
		return rc;

	if (cli_resolver_get(&res) == NULL) {
		cli_resolver_free(&res);
		return CLI_EXIT_FAIL;
	}
	out = arena_new(0);
	chk = spf_check_start(res.base, res.r, req, out, spf_cli_done, &st);
	cli_resolver_wait(&res, &st.done);
	rc = CLI_EXIT_OK;
	if (!st.done) {
		fprintf(stderr, "netjes spf: the evaluation did not finish\n");
		spf_check_cancel(chk);
		rc = CLI_EXIT_FAIL;
	} else
		cli_print(&st.out);
	buf_free(&st.out);
	arena_free(out);
	cli_resolver_free(&res);
	return rc;
}
