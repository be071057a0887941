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
#include <event2/event.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/arc/arc.h"
#include "auth/auth.h"
#include "cli/cli.h"
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
	struct auth_request req;
	struct auth_cli_state st;
	struct event_base *base = NULL;
	struct dns_resolver *r = NULL;
	struct arena *out = NULL;
	struct auth_check *chk;
	struct buf msg = BUF_INIT;
	const char *ip = NULL, *mail_from = NULL, *zone = NULL;
	char *raw, *end, mbuf[1024];
	size_t rawlen = 0, mlen;
	int opt, rc;

	memset(&req, 0, sizeof(req));
	memset(&st, 0, sizeof(st));
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_IP: ip = optarg; break;
		case OPT_HELO: req.helo = optarg; break;
		case OPT_MAIL_FROM: mail_from = optarg; break;
		case OPT_AUTHSERV_ID: req.authserv_id = optarg; break;
		case OPT_ZONE: zone = optarg; break;
		case OPT_RECEIVER: req.receiver = optarg; break;
		case OPT_SEED:
			errno = 0;
			req.dmarc_seed = strtoull(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0')
				return cli_usage("auth", "--dmarc-seed needs "
				    "a number");
			req.dmarc_seeded = true;
			break;
		case OPT_NOW:
			if (cli_unixtime("auth", "--now", optarg, &req.now) != 0)
				return CLI_EXIT_USAGE;
			break;
		case CLI_OPT_JSON: st.json = true; break;
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
	if (req.helo == NULL)
		return cli_usage("auth", "--helo is required");
	if (mail_from == NULL)
		return cli_usage("auth", "--mail-from is required (\"\" for "
		    "the null sender)");
	if (ip_parse(ip, strlen(ip), &req.ip) != 0)
		return cli_usage("auth", "--ip '%s' is not an IP address", ip);
	mlen = strlen(mail_from);
	if (mlen >= 2 && mail_from[0] == '<' && mail_from[mlen - 1] == '>' &&
	    mlen - 1 < sizeof(mbuf)) {
		memcpy(mbuf, mail_from + 1, mlen - 2);
		mbuf[mlen - 2] = '\0';
		mail_from = mbuf;
	}
	req.mail_from = mail_from;
	if (zone != NULL && dns.nameserver != NULL)
		return cli_usage("auth", "--zone and --nameserver exclude "
		    "each other");

	if ((raw = slurp(stdin, &rawlen)) == NULL) {
		fprintf(stderr, "netjes auth: cannot read the message\n");
		return CLI_EXIT_FAIL;
	}
	to_crlf(raw, rawlen, &msg);
	free(raw);
	req.msg = msg.data;
	req.len = msg.len;
	req.arc = &arc_auth_hook;

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
	out = arena_new(0);
	chk = auth_check_start(base, r, &req, out, auth_cli_done, &st);
	while (!st.done && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
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
	dns_resolver_free(r);
	event_base_free(base);
	return rc;
}
