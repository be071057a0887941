/*
 * cmd_arc — `netjes arc verify | seal` (RFC 8617).
 *
 *	netjes arc verify [--nameserver HOST:PORT | --zone FILE]
 *	    [--dns-timeout S] [--now UNIXTIME] [--json] < message
 *	netjes arc seal --domain D --selector S --key KEYFILE
 *	    [--authserv-id ID] --ip IP --helo NAME --mail-from ADDR
 *	    [--auth-results 'ID; method=result ...'] [--algorithm A]
 *	    [--timestamp T] [--headers h1:h2:...]
 *	    [--nameserver HOST:PORT | --zone FILE] < in > out
 *
 * verify prints "RESULT" and, for anything but none, the instance count,
 * the oldest-pass instance and the reason: "pass i=2 oldest-pass=0",
 * "fail i=2 oldest-pass=0 (ARC-Seal i=1: signature mismatch)".
 *
 * seal validates the incoming chain first (its verdict is the new cv=)
 * and writes the message with the new set on top. The AAR payload is
 * --auth-results when given; otherwise what this command checks itself:
 * every DKIM signature and the ARC chain, with smtp.remote-ip, under
 * the authserv-id (default: localhost). Bare LF line ends are read as
 * CRLF and kept in the output, as `netjes dkim sign` does (cli_msg.h).
 *
 * For reproducible results the clock is an option: verify --now judges
 * the chain as of that time; seal --timestamp is the t= of the new AMS
 * and AS and also the clock its own checks of the incoming message use
 * (the message is sealed as of T). seal --headers is the AMS h= list.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/arc/arc.h"
#include "cli/cli.h"
#include "cli/cli_msg.h"
#include "core/ip.h"
#include "core/json.h"

enum {
	OPT_DOMAIN = 0x2001, OPT_SELECTOR, OPT_KEY, OPT_AUTHSERV, OPT_IP,
	OPT_HELO, OPT_MAILFROM, OPT_AUTHRES, OPT_ALGORITHM, OPT_ZONE,
	OPT_NOW, OPT_TIMESTAMP, OPT_HEADERS,
};

struct arc_args {
	const char	*domain, *selector, *key, *authserv_id, *ip, *helo;
	const char	*mail_from, *auth_results, *algorithm, *zone;
	const char	*headers;	/* seal: AMS h=; NULL: the default */
	long long	 now;		/* verify --now, seal --timestamp;
					 * 0: the real time */
	bool		 json;
	bool		 seal;		/* seal's options, not verify's */
	struct cli_dns	 dns;
};

static const struct option arc_longopts[] = {
	{ "domain", 1, NULL, OPT_DOMAIN },
	{ "selector", 1, NULL, OPT_SELECTOR },
	{ "key", 1, NULL, OPT_KEY },
	{ "authserv-id", 1, NULL, OPT_AUTHSERV },
	{ "ip", 1, NULL, OPT_IP },
	{ "helo", 1, NULL, OPT_HELO },
	{ "mail-from", 1, NULL, OPT_MAILFROM },
	{ "auth-results", 1, NULL, OPT_AUTHRES },
	{ "algorithm", 1, NULL, OPT_ALGORITHM },
	{ "zone", 1, NULL, OPT_ZONE },
	{ "json", 0, NULL, CLI_OPT_JSON },
	{ "now", 1, NULL, OPT_NOW },
	{ "timestamp", 1, NULL, OPT_TIMESTAMP },
	{ "headers", 1, NULL, OPT_HEADERS },
	CLI_LONGOPTS_DNS,
	{ NULL, 0, NULL, 0 },
};

static const char *
opt_name(int opt)
{
	const struct option *o;

	for (o = arc_longopts; o->name != NULL; o++)
		if (o->val == opt)
			return o->name;
	return "?";
}

static int
arc_take(int opt, const char *arg, void *p)
{
	struct arc_args *a = p;

	if (!a->seal && opt != OPT_ZONE && opt != CLI_OPT_JSON &&
	    opt != OPT_NOW)
		return cli_usage("arc", "verify takes no '--%s'",
		    opt_name(opt));
	if (a->seal && opt == OPT_NOW)
		return cli_usage("arc", "seal takes --timestamp, not --now");
	switch (opt) {
	case OPT_DOMAIN: a->domain = arg; break;
	case OPT_SELECTOR: a->selector = arg; break;
	case OPT_KEY: a->key = arg; break;
	case OPT_AUTHSERV: a->authserv_id = arg; break;
	case OPT_IP: a->ip = arg; break;
	case OPT_HELO: a->helo = arg; break;
	case OPT_MAILFROM: a->mail_from = arg; break;
	case OPT_AUTHRES: a->auth_results = arg; break;
	case OPT_ALGORITHM: a->algorithm = arg; break;
	case OPT_ZONE: a->zone = arg; break;
	case OPT_HEADERS: a->headers = arg; break;
	case OPT_NOW:
	case OPT_TIMESTAMP:
		if (cli_unixtime("arc", opt == OPT_NOW ? "--now" :
		    "--timestamp", arg, &a->now) != 0)
			return CLI_EXIT_USAGE;
		break;
	case CLI_OPT_JSON:
		if (a->seal)
			return cli_usage("arc", "seal writes a message, not "
			    "JSON");
		a->json = true;
		break;
	}
	return 0;
}

/* The options, and the resolver they ask for (made on first need). */
static int
parse_args(int argc, char **argv, bool seal, struct arc_args *a,
    struct cli_resolver *res)
{
	int rc;

	memset(a, 0, sizeof(*a));
	a->seal = seal;
	if ((rc = cli_parse_options("arc", argc, argv, arc_longopts, arc_take,
	    a, &a->dns)) != 0)
		return rc;
	return cli_resolver_init(res, "arc", a->zone, &a->dns);
}

static void
arc_keys_done(struct arc_verify *v, void *arg)
{
	(void)v;
	*(bool *)arg = true;
}

/* Validate the chain of msg; NULL (after a message) on a local error. */
static const struct arc_verdict *
run_arc(struct arc_verify *v, const struct buf *msg, struct cli_resolver *res)
{
	bool done = false;

	arc_verify_message(v, msg->data, msg->len);
	if (!arc_verify_keys_done(v)) {
		if (cli_resolver_get(res) == NULL)
			return NULL;
		if (arc_verify_lookup(v, res->r, arc_keys_done, &done) > 0)
			cli_resolver_wait(res, &done);
		if (!arc_verify_keys_done(v)) {
			fprintf(stderr, "netjes arc: the key lookups did not "
			    "finish\n");
			return NULL;
		}
	}
	return arc_verify_finish(v);
}

static void
print_verdict(const struct arc_verdict *r, bool json, struct buf *out)
{
	const struct arc_set_result *s;
	struct json j;
	size_t i;

	if (!json) {
		buf_append_str(out, arc_result_name(r->result));
		if (r->result != ARC_RESULT_NONE)
			buf_printf(out, " i=%u oldest-pass=%u", r->instances,
			    r->oldest_pass);
		if (r->reason != NULL)
			buf_printf(out, " (%s)", r->reason);
		return;
	}
	json_init(&j, out);
	json_obj_begin(&j);
	json_kv_str(&j, "result", arc_result_name(r->result));
	json_key(&j, "reason");
	if (r->reason != NULL)
		json_str(&j, r->reason);
	else if (r->result == ARC_RESULT_NONE)
		json_str(&j, "no ARC sets");
	else
		json_null(&j);
	json_kv_bool(&j, "temporary", r->temporary);
	json_kv_int(&j, "instances", r->instances);
	json_kv_int(&j, "oldest_pass", r->oldest_pass);
	json_key(&j, "sets");
	json_arr_begin(&j);
	for (i = 0; i < r->nsets; i++) {
		s = &r->sets[i];
		json_obj_begin(&j);
		json_kv_int(&j, "instance", s->instance);
		json_kv_str(&j, "cv", arc_cv_name(s->cv));
		json_kv_str(&j, "aar", s->aar ? s->aar : "");
		json_key(&j, "ams");
		json_obj_begin(&j);
		json_kv_str(&j, "result", dkim_result_name(s->ams));
		json_kv_str(&j, "domain", s->ams_domain ? s->ams_domain : "");
		json_kv_str(&j, "selector", s->ams_selector ?
		    s->ams_selector : "");
		json_key(&j, "reason");
		if (s->ams_reason != NULL)
			json_str(&j, s->ams_reason);
		else
			json_null(&j);
		json_end(&j);
		json_key(&j, "as");
		json_obj_begin(&j);
		json_kv_str(&j, "result", dkim_result_name(s->as));
		json_kv_str(&j, "domain", s->as_domain ? s->as_domain : "");
		json_kv_str(&j, "selector", s->as_selector ?
		    s->as_selector : "");
		json_key(&j, "reason");
		if (s->as_reason != NULL)
			json_str(&j, s->as_reason);
		else
			json_null(&j);
		json_end(&j);
		json_end(&j);
	}
	json_end(&j);
	json_end(&j);
}

static int
arc_verify_cmd(int argc, char **argv)
{
	struct arc_args a;
	struct cli_resolver res;
	struct arc_verify_options vo;
	struct buf msg = BUF_INIT, out = BUF_INIT;
	struct arc_verify *v;
	const struct arc_verdict *r;
	int rc;

	if ((rc = parse_args(argc, argv, false, &a, &res)) != 0)
		return rc;
	memset(&vo, 0, sizeof(vo));
	vo.now = (time_t)a.now;
	if (cli_msg_read("arc", NULL, &msg, NULL) != 0) {
		buf_free(&msg);
		return CLI_EXIT_FAIL;
	}
	v = arc_verify_new(&vo);
	rc = CLI_EXIT_FAIL;
	if ((r = run_arc(v, &msg, &res)) != NULL) {
		print_verdict(r, a.json, &out);
		cli_print(&out);
		rc = CLI_EXIT_OK;
	}
	arc_verify_free(v);
	cli_resolver_free(&res);
	buf_free(&msg);
	buf_free(&out);
	return rc;
}

/* The AAR payload from our own checks: DKIM and the incoming chain. */
static int
own_results(const struct arc_args *a, const struct buf *msg,
    const struct arc_verdict *chain, struct cli_resolver *res,
    struct buf *out)
{
	const struct dkim_sig_result *r;
	struct dkim_verify *v;
	size_t n, i;

	if ((v = cli_msg_dkim(msg, (time_t)a->now, res)) == NULL)
		return -1;
	buf_printf(out, "%s;", a->authserv_id ? a->authserv_id : "localhost");
	n = dkim_verify_finish(v, &r);
	if (n == 0)
		buf_append_str(out, "\r\n\tdkim=none;");
	for (i = 0; i < n; i++) {
		buf_printf(out, "\r\n\tdkim=%s", dkim_result_name(r[i].result));
		if (r[i].domain[0] != '\0')
			buf_printf(out, " header.d=%s", r[i].domain);
		if (r[i].selector[0] != '\0')
			buf_printf(out, " header.s=%s", r[i].selector);
		if (r[i].b_prefix != NULL && r[i].b_prefix[0] != '\0')
			buf_printf(out, " header.b=\"%.8s\"",
			    r[i].b_prefix);
		buf_append_char(out, ';');
	}
	buf_printf(out, "\r\n\tarc=%s", arc_result_name(chain->result));
	if (chain->result != ARC_RESULT_NONE)
		buf_printf(out, " (i=%u oldest-pass=%u)", chain->instances,
		    chain->oldest_pass);
	buf_printf(out, " smtp.remote-ip=%s", a->ip);
	dkim_verify_free(v);
	return 0;
}

static bool
results_text_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((*s == '\r' || *s == '\n') && s[1] != ' ' && s[1] != '\t' &&
		    !(*s == '\r' && s[1] == '\n'))
			return false;
	return true;
}

/*
 * --headers: header field names (RFC 5322 3.6.8: printable US-ASCII
 * but ':') joined by ':', From among them and no ARC-Seal (RFC 8617
 * 4.1.2). NULL when fine, else what is wrong.
 */
static const char *
headers_problem(const char *h)
{
	const char *name = h, *p;
	bool from = false;

	for (p = h;; p++) {
		if (*p != ':' && *p != '\0') {
			if ((unsigned char)*p < 33 || (unsigned char)*p > 126)
				return "a header field name is printable "
				    "US-ASCII without ':' or white space";
			continue;
		}
		if (p == name)
			return "a header field name is empty";
		if ((size_t)(p - name) == 4 && strncasecmp(name, "from", 4) == 0)
			from = true;
		if ((size_t)(p - name) == 8 &&
		    strncasecmp(name, "arc-seal", 8) == 0)
			return "ARC-Seal cannot be signed by the "
			    "ARC-Message-Signature (RFC 8617 4.1.2)";
		if (*p == '\0')
			break;
		name = p + 1;
	}
	return from ? NULL : "the list must include From";
}

static int
arc_seal_cmd(int argc, char **argv)
{
	struct arc_args a;
	struct cli_resolver res;
	struct arc_seal_options o;
	struct buf in = BUF_INIT, msg = BUF_INIT, set = BUF_INIT;
	struct buf aar = BUF_INIT;
	struct arc_verify_options vo;
	struct arc_verify *v = NULL;
	const struct arc_verdict *r;
	struct ip_addr ip;
	const char *bad;
	EVP_PKEY *pk = NULL;
	char why[256];
	bool unix_lf;
	int rc;

	if ((rc = parse_args(argc, argv, true, &a, &res)) != 0)
		return rc;
	if (a.domain == NULL || a.selector == NULL || a.key == NULL)
		return cli_usage("arc", "seal needs --domain, --selector and "
		    "--key");
	if (a.ip == NULL || a.helo == NULL || a.mail_from == NULL)
		return cli_usage("arc", "seal needs --ip, --helo and "
		    "--mail-from");
	if (ip_parse(a.ip, strlen(a.ip), &ip) != 0)
		return cli_usage("arc", "--ip wants an IP address, not '%s'",
		    a.ip);
	if (a.auth_results != NULL && (a.auth_results[0] == '\0' ||
	    !results_text_ok(a.auth_results)))
		return cli_usage("arc", "--auth-results wants one header "
		    "value ('ID; method=result ...')");
	if (a.headers != NULL && (bad = headers_problem(a.headers)) != NULL)
		return cli_usage("arc", "--headers '%s': %s (names joined by "
		    "':', e.g. from:to:subject)", a.headers, bad);
	memset(&o, 0, sizeof(o));
	o.domain = a.domain;
	o.selector = a.selector;
	o.headers = a.headers;
	o.now = (time_t)a.now;
	if (a.algorithm != NULL &&
	    (rc = cli_msg_sign_alg("arc", a.algorithm, &o.alg)) != 0)
		return rc;
	if ((pk = cli_msg_key("arc", a.key)) == NULL)
		return CLI_EXIT_FAIL;
	o.key = pk;
	rc = CLI_EXIT_FAIL;
	if (cli_msg_read("arc", &in, &msg, &unix_lf) != 0)
		goto out;
	memset(&vo, 0, sizeof(vo));
	vo.now = (time_t)a.now;
	v = arc_verify_new(&vo);
	if ((r = run_arc(v, &msg, &res)) == NULL)
		goto out;
	if (a.auth_results != NULL)
		buf_append_str(&aar, a.auth_results);
	else if (own_results(&a, &msg, r, &res, &aar) != 0)
		goto out;
	o.aar = buf_cstr(&aar);
	if (arc_seal(&o, msg.data, msg.len, r, &set, why, sizeof(why)) != 0) {
		fprintf(stderr, "netjes arc: %s\n", why);
		goto out;
	}
	rc = cli_msg_write(&set, &in, &msg, unix_lf);
out:
	arc_verify_free(v);
	cli_resolver_free(&res);
	EVP_PKEY_free(pk);
	buf_free(&in);
	buf_free(&msg);
	buf_free(&set);
	buf_free(&aar);
	return rc;
}

int
cmd_arc(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage("arc", "needs verify or seal");
	if (strcmp(argv[1], "verify") == 0)
		return arc_verify_cmd(argc - 1, argv + 1);
	if (strcmp(argv[1], "seal") == 0)
		return arc_seal_cmd(argc - 1, argv + 1);
	return cli_usage("arc", "unknown subcommand '%s'", argv[1]);
}
