/*
 * cmd_dns — `netjes dns TYPE NAME`: one lookup through the same resolver
 * the daemon uses, printed as zone-file lines or as one JSON object.
 *
 * The point is to see DNS the way netjes sees it: the outcome (OK,
 * NODATA, NXDOMAIN, SERVFAIL, TIMEOUT) is the answer, so every outcome
 * exits 0; only a local problem (no resolver, unusable name) exits 1 and
 * a usage error exits 2. For PTR, an IP address is turned into its
 * in-addr.arpa / ip6.arpa name.
 */
#include <event2/event.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cli/cli.h"
#include "core/ip.h"
#include "core/json.h"

struct dns_cmd {
	struct cli_dns	 dns;
	const char	*config;
	bool		 json;
	uint16_t	 type;
	char		 name[IP_REVLEN > 256 ? IP_REVLEN : 256];
};

static int
dns_cmd_options(int argc, char **argv, struct dns_cmd *c)
{
	static const struct option longopts[] = {
		CLI_LONGOPTS_DNS,
		{ "json", 0, NULL, CLI_OPT_JSON },
		{ "config", 1, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, r;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":c:", longopts, NULL)) != -1) {
		if ((r = cli_dns_option("dns", opt, optarg, &c->dns)) != 0) {
			if (r < 0)
				return -1;
			continue;
		}
		if (opt == CLI_OPT_JSON)
			c->json = true;
		else if (opt == 'c')
			c->config = optarg;
		else if (opt == ':')
			return cli_usage("dns", "%s needs a value",
			    argv[optind - 1]), -1;
		else
			return cli_usage("dns", "unknown option '%s'",
			    argv[optind - 1]), -1;
	}
	return 0;
}

/* TYPE and NAME; a PTR for an address asks for its reverse name. */
static int
dns_cmd_args(int argc, char **argv, struct dns_cmd *c)
{
	struct ip_addr ip;
	const char *name;
	size_t len;

	if (argc - optind != 2)
		return cli_usage("dns", "wants a TYPE and a NAME, "
		    "e.g. 'netjes dns MX example.org'"), -1;
	if (dns_type_parse(argv[optind], &c->type) != 0)
		return cli_usage("dns", "unknown record type '%s'",
		    argv[optind]), -1;
	name = argv[optind + 1];
	len = strlen(name);
	if (c->type == DNS_T_PTR && ip_parse(name, len, &ip) == 0) {
		ip_reverse_name(&ip, c->name, sizeof(c->name));
		return 0;
	}
	if (name[0] == '\0' || len >= sizeof(c->name))
		return cli_usage("dns", "'%s' is not a domain name", name), -1;
	memcpy(c->name, name, len + 1);
	if (len > 1 && name[len - 1] == '.')
		c->name[len - 1] = '\0';	/* "." alone is the root */
	else if (len == 1 && name[0] == '.')
		c->name[0] = '\0';
	if (!dns_name_valid(c->name))
		return cli_usage("dns", "'%s' is not a domain name", name), -1;
	memcpy(c->name, name, len + 1);	/* as given: dns_query takes both */
	return 0;
}

/* The fields only some types have, next to the generic "data". */
static void
dns_json_typed(struct json *j, const struct dns_rr *rr)
{
	char ip[IP_STRLEN];
	size_t i;

	switch (rr->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		json_kv_str(j, "address", ip_format(&rr->u.ip, ip, sizeof(ip)));
		break;
	case DNS_T_MX:
		json_kv_int(j, "preference", rr->u.mx.pref);
		json_kv_str(j, "exchange", rr->u.mx.host);
		break;
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		json_kv_str(j, "target", rr->u.name);
		break;
	case DNS_T_TXT:
	case DNS_T_SPF:
		json_key(j, "strings");
		json_arr_begin(j);
		for (i = 0; i < rr->u.txt.nstrings; i++)
			json_strn(j, rr->u.txt.strings[i].p,
			    rr->u.txt.strings[i].len);
		json_end(j);
		json_key(j, "text");
		json_strn(j, rr->u.txt.joined, rr->u.txt.joined_len);
		break;
	case DNS_T_TLSA:
		json_kv_int(j, "usage", rr->u.tlsa.usage);
		json_kv_int(j, "selector", rr->u.tlsa.selector);
		json_kv_int(j, "matching_type", rr->u.tlsa.mtype);
		break;
	default:
		break;
	}
}

static void
dns_json_record(struct json *j, const struct dns_answer *ans,
    const struct dns_rr *rr)
{
	struct buf data = BUF_INIT;

	dns_rr_format_rdata(rr, &data);
	json_obj_begin(j);
	json_kv_str(j, "name", ans->canonname);
	json_kv_int(j, "ttl", rr->ttl);
	json_kv_str(j, "type", dns_type_name(rr->type));
	json_kv_str(j, "data", buf_cstr(&data));
	dns_json_typed(j, rr);
	json_end(j);
	buf_free(&data);
}

static void
dns_json(const struct dns_answer *ans, struct buf *out)
{
	struct json j;
	size_t i;

	json_init(&j, out);
	json_obj_begin(&j);
	json_kv_str(&j, "name", ans->qname);
	json_kv_str(&j, "type", dns_type_name(ans->type));
	json_kv_str(&j, "status", dns_status_name(ans->status));
	json_kv_int(&j, "rcode", ans->rcode);
	json_kv_bool(&j, "secure", ans->secure);
	json_kv_bool(&j, "bogus", ans->bogus);
	json_kv_str(&j, "canonname", ans->canonname);
	json_key(&j, "reason");
	if (ans->why != NULL)
		json_str(&j, ans->why);
	else
		json_null(&j);
	json_key(&j, "records");
	json_arr_begin(&j);
	for (i = 0; i < ans->n; i++)
		dns_json_record(&j, ans, &ans->rr[i]);
	json_end(&j);
	json_end(&j);
}

static int
dns_cmd_lookup(const struct dns_cmd *c, const struct config *cfg)
{
	struct event_base *base;
	struct dns_resolver *r;
	struct dns_answer *ans;
	struct buf out = BUF_INIT;
	int rc;

	if ((base = event_base_new()) == NULL) {
		fprintf(stderr, "netjes dns: cannot create an event loop\n");
		return CLI_EXIT_FAIL;
	}
	if ((r = cli_dns_resolver(&c->dns, cfg, base)) == NULL) {
		event_base_free(base);
		return CLI_EXIT_FAIL;
	}
	ans = dns_query_sync(r, base, c->name, c->type);
	if (c->json)
		dns_json(ans, &out);
	else
		dns_answer_format(ans, &out);
	rc = ans->status == DNS_ERROR ? CLI_EXIT_FAIL : CLI_EXIT_OK;
	if (rc == CLI_EXIT_OK || c->json)
		cli_print(&out);
	else
		fputs(buf_cstr(&out), stderr);
	buf_free(&out);
	dns_answer_free(ans);
	dns_resolver_free(r);
	event_base_free(base);
	return rc;
}

int
cmd_dns(int argc, char **argv)
{
	struct dns_cmd c;
	struct config cfg;
	int rc;

	memset(&c, 0, sizeof(c));
	if (dns_cmd_options(argc, argv, &c) != 0 ||
	    dns_cmd_args(argc, argv, &c) != 0)
		return CLI_EXIT_USAGE;
	if (cli_config_load(c.config, &cfg) != 0) {
		config_free(&cfg);
		return CLI_EXIT_FAIL;
	}
	rc = dns_cmd_lookup(&c, &cfg);
	config_free(&cfg);
	return rc;
}
