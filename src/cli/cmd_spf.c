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
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
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

static char *
read_file(const char *path, size_t *n)
{
	struct buf b = BUF_INIT;
	char chunk[8192];
	size_t got;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, got);
	if (ferror(f)) {
		fclose(f);
		buf_free(&b);
		return NULL;
	}
	fclose(f);
	*n = b.len;
	if (b.data == NULL)
		buf_append(&b, "", 0);
	return buf_steal(&b);
}

static struct dns_resolver *
zone_resolver(const char *path, struct event_base *base)
{
	struct dns_resolver *r;
	char err[256];
	size_t n = 0;
	char *text;

	if ((text = read_file(path, &n)) == NULL) {
		fprintf(stderr, "netjes spf: cannot read %s: %s\n", path,
		    strerror(errno));
		return NULL;
	}
	if ((r = dns_zone_new(base)) == NULL) {
		free(text);
		fprintf(stderr, "netjes spf: cannot set up a zone\n");
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

/* "<a@b>" and "a@b" alike; "<>" is the null sender. */
static const char *
strip_brackets(const char *s, char *tmp, size_t n)
{
	size_t len = strlen(s);

	if (len >= 2 && s[0] == '<' && s[len - 1] == '>' && len - 1 < n) {
		memcpy(tmp, s + 1, len - 2);
		tmp[len - 2] = '\0';
		return tmp;
	}
	return s;
}

int
cmd_spf(int argc, char **argv)
{
	enum {
		OPT_IP = 0x2001, OPT_SENDER, OPT_HELO, OPT_RECORD, OPT_ZONE,
		OPT_RECEIVER,
	};
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
	struct spf_request req;
	struct spf_cli_state st;
	struct event_base *base = NULL;
	struct dns_resolver *r = NULL;
	struct arena *out = NULL;
	struct spf_check *chk;
	const char *ip = NULL, *sender = NULL, *zone = NULL;
	char sbuf[1024];
	int opt, rc;

	memset(&req, 0, sizeof(req));
	memset(&st, 0, sizeof(st));
	req.identity = SPF_IDENTITY_MAILFROM;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_IP: ip = optarg; break;
		case OPT_SENDER: sender = optarg; break;
		case OPT_HELO: req.helo = optarg; break;
		case OPT_RECORD: req.record = optarg; break;
		case OPT_ZONE: zone = optarg; break;
		case OPT_RECEIVER: req.receiver = optarg; break;
		case CLI_OPT_JSON: st.json = true; break;
		case '?':
			return cli_usage("spf", "unknown or incomplete option "
			    "'%s'", argv[optind - 1]);
		default:
			rc = cli_dns_option("spf", opt, optarg, &dns);
			if (rc < 0)
				return CLI_EXIT_USAGE;
			if (rc == 0)
				return cli_usage("spf", "unexpected option");
			break;
		}
	}
	if (optind < argc)
		return cli_usage("spf", "unexpected argument '%s'",
		    argv[optind]);
	if (ip == NULL)
		return cli_usage("spf", "--ip is required");
	if (sender == NULL)
		return cli_usage("spf", "--sender is required (\"\" for the "
		    "null sender, with --helo)");
	if (ip_parse(ip, strlen(ip), &req.ip) != 0)
		return cli_usage("spf", "--ip '%s' is not an IP address", ip);
	req.sender = strip_brackets(sender, sbuf, sizeof(sbuf));
	if (req.sender[0] == '\0' && (req.helo == NULL || !req.helo[0]))
		return cli_usage("spf", "the null sender needs --helo");
	if (zone != NULL && dns.nameserver != NULL)
		return cli_usage("spf", "--zone and --nameserver exclude "
		    "each other");

	if ((base = event_base_new()) == NULL) {
		fprintf(stderr, "netjes spf: cannot create an event loop\n");
		return CLI_EXIT_FAIL;
	}
	r = zone != NULL ? zone_resolver(zone, base) :
	    cli_dns_resolver(&dns, NULL, base);
	if (r == NULL) {
		event_base_free(base);
		return CLI_EXIT_FAIL;
	}
	out = arena_new(0);
	chk = spf_check_start(base, r, &req, out, spf_cli_done, &st);
	(void)chk;
	while (!st.done && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
	rc = CLI_EXIT_OK;
	if (!st.done) {
		fprintf(stderr, "netjes spf: the evaluation did not finish\n");
		spf_check_cancel(chk);
		rc = CLI_EXIT_FAIL;
	} else {
		cli_print(&st.out);
	}
	buf_free(&st.out);
	arena_free(out);
	dns_resolver_free(r);
	event_base_free(base);
	return rc;
}
