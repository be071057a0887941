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
#include <event2/event.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authres.h"
#include "cli/cli.h"
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

static char *
slurp(FILE *f, size_t *n)
{
	struct buf b = BUF_INIT;
	char chunk[65536];
	size_t got;

	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, got);
	if (ferror(f)) {
		buf_free(&b);
		return NULL;
	}
	if (b.data == NULL)
		buf_append(&b, "", 0);
	*n = b.len;
	return buf_steal(&b);
}

/* Mail on the wire has CRLF; a file saved by Unix tools has LF. */
static void
to_crlf(const char *p, size_t n, struct buf *out)
{
	size_t i;

	buf_reserve(out, n + n / 16 + 1);
	for (i = 0; i < n; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			buf_append_char(out, '\r');
		buf_append_char(out, p[i]);
	}
	if (out->data == NULL)
		buf_append(out, "", 0);
}

static struct dns_resolver *
zone_resolver(const char *path, struct event_base *base)
{
	struct dns_resolver *r;
	char err[256];
	size_t n = 0;
	char *text;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "netjes auth: cannot read %s: %s\n", path,
		    strerror(errno));
		return NULL;
	}
	text = slurp(f, &n);
	fclose(f);
	if (text == NULL) {
		fprintf(stderr, "netjes auth: cannot read %s\n", path);
		return NULL;
	}
	if ((r = dns_zone_new(base)) == NULL) {
		free(text);
		return NULL;
	}
	err[0] = '\0';
	if (dns_zone_load(r, text, n, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", path, err);
		free(text);
		dns_resolver_free(r);
		return NULL;
	}
	free(text);
	return r;
}

int
cmd_auth(int argc, char **argv)
{
	enum {
		OPT_IP = 0x2001, OPT_HELO, OPT_MAIL_FROM, OPT_AUTHSERV_ID,
		OPT_ZONE, OPT_SEED, OPT_RECEIVER, OPT_NOW,
	};
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
	struct check_txn t;
	struct pipeline_env env;
	struct event_base *base = NULL;
	struct dns_resolver *r = NULL;
	struct arena *a = NULL;
	struct pipeline *p = NULL;
	struct buf msg = BUF_INIT, out = BUF_INIT;
	const char *ip = NULL, *mail_from = NULL, *zone = NULL;
	char *raw, *end, mbuf[1024];
	size_t rawlen = 0, mlen;
	bool json = false;
	int opt, rc;

	memset(&t, 0, sizeof(t));
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_IP: ip = optarg; break;
		case OPT_HELO: t.helo = optarg; break;
		case OPT_MAIL_FROM: mail_from = optarg; break;
		case OPT_AUTHSERV_ID: t.authserv_id = optarg; break;
		case OPT_ZONE: zone = optarg; break;
		case OPT_RECEIVER: t.receiver = optarg; break;
		case OPT_SEED:
			errno = 0;
			t.dmarc_seed = strtoull(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0')
				return cli_usage("auth", "--dmarc-seed needs "
				    "a number");
			t.dmarc_seeded = true;
			break;
		case OPT_NOW:
			if (cli_unixtime("auth", "--now", optarg, &t.now) != 0)
				return CLI_EXIT_USAGE;
			break;
		case CLI_OPT_JSON: json = true; break;
		case '?':
			return cli_usage("auth", "unknown or incomplete option "
			    "'%s'", argv[optind - 1]);
		default:
			rc = cli_dns_option("auth", opt, optarg, &dns);
			if (rc < 0)
				return CLI_EXIT_USAGE;
			if (rc == 0)
				return cli_usage("auth", "unexpected option");
			break;
		}
	}
	if (optind < argc)
		return cli_usage("auth", "unexpected argument '%s'",
		    argv[optind]);
	if (ip == NULL)
		return cli_usage("auth", "--ip is required");
	if (t.helo == NULL)
		return cli_usage("auth", "--helo is required");
	if (mail_from == NULL)
		return cli_usage("auth", "--mail-from is required (\"\" for "
		    "the null sender)");
	if (ip_parse(ip, strlen(ip), &t.ip) != 0)
		return cli_usage("auth", "--ip '%s' is not an IP address", ip);
	mlen = strlen(mail_from);
	if (mlen >= 2 && mail_from[0] == '<' && mail_from[mlen - 1] == '>' &&
	    mlen - 1 < sizeof(mbuf)) {
		memcpy(mbuf, mail_from + 1, mlen - 2);
		mbuf[mlen - 2] = '\0';
		mail_from = mbuf;
	}
	t.ip_text = ip;
	t.mail_from = mail_from;
	if (t.authserv_id == NULL)
		t.authserv_id = "localhost";
	if (zone != NULL && dns.nameserver != NULL)
		return cli_usage("auth", "--zone and --nameserver exclude "
		    "each other");

	if ((raw = slurp(stdin, &rawlen)) == NULL) {
		fprintf(stderr, "netjes auth: cannot read the message\n");
		return CLI_EXIT_FAIL;
	}
	to_crlf(raw, rawlen, &msg);
	free(raw);
	t.msg = msg.data;
	t.len = msg.len;
	t.header_len = check_header_len(t.msg, t.len);

	if ((base = event_base_new()) == NULL) {
		fprintf(stderr, "netjes auth: cannot create an event loop\n");
		buf_free(&msg);
		return CLI_EXIT_FAIL;
	}
	r = zone != NULL ? zone_resolver(zone, base) :
	    cli_dns_resolver(&dns, NULL, base);
	if (r == NULL) {
		event_base_free(base);
		buf_free(&msg);
		return CLI_EXIT_FAIL;
	}
	/* the authentication checks of the pipeline, with no verdict */
	memset(&env, 0, sizeof(env));
	env.base = base;
	env.resolver = r;
	a = arena_new(0);
	rc = CLI_EXIT_OK;
	if ((p = pipeline_new(checks_all, checks_n, &env, &t, a)) == NULL ||
	    pipeline_run_all(p) != 0) {
		fprintf(stderr, "netjes auth: the checks did not finish\n");
		rc = CLI_EXIT_FAIL;
	} else {
		auth_cli_print(p, t.authserv_id, json, &out);
		cli_print(&out);
	}
	pipeline_free(p);
	buf_free(&out);
	buf_free(&msg);
	arena_free(a);
	dns_resolver_free(r);
	event_base_free(base);
	return rc;
}
