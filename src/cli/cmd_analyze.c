/*
 * cmd_analyze — `netjes analyze`: run one message through the check
 * pipeline (src/filter/) with the server's configuration, and say what
 * the server would do with it and why.
 *
 *	netjes analyze --ip IP --helo NAME --mail-from ADDR [--rcpt ADDR...]
 *	    [-c FILE] [--nameserver HOST:PORT | --zone FILE]
 *	    [--dns-timeout S] [--authserv-id ID] [--now UNIXTIME] [--json]
 *	    < message.eml
 *
 * The stages run in the server's order (connect, helo, mail, rcpt,
 * headers, eom), each waiting for what it needs, so every lookup starts
 * as early as it would in a live session. Output: the action, the
 * score, the deciding reason, the SMTP reply when the message would be
 * refused, every finding with its score and reason, and the headers the
 * message would get. --json: one object {action, score, reason, reply,
 * findings, authentication_results, spam_headers}. Exit 0 when the
 * message was analysed (whatever the verdict), 1 on a local error, 2 on
 * a usage error.
 */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authres.h"
#include "cli/cli.h"
#include "cli/cli_msg.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/json.h"
#include "dns/dns.h"
#include "filter/checks.h"
#include "filter/explain.h"
#include "filter/pipeline.h"
#include "filter/verdict.h"

#define ANALYZE_RCPT_MAX	100

struct analyze_opts {
	const char	*ip;
	const char	*helo;
	const char	*mail_from;
	const char	*rcpts[ANALYZE_RCPT_MAX];
	size_t		 nrcpts;
	const char	*config;
	const char	*zone;
	const char	*authserv_id;
	long long	 now;
	bool		 json;
	struct cli_dns	 dns;
};

static int
analyze_parse(int argc, char **argv, struct analyze_opts *o)
{
	enum {
		OPT_IP = 0x2001, OPT_HELO, OPT_MAIL_FROM, OPT_RCPT, OPT_ZONE,
		OPT_AUTHSERV_ID, OPT_NOW,
	};
	static const struct option longopts[] = {
		{ "ip", 1, NULL, OPT_IP },
		{ "helo", 1, NULL, OPT_HELO },
		{ "mail-from", 1, NULL, OPT_MAIL_FROM },
		{ "rcpt", 1, NULL, OPT_RCPT },
		{ "zone", 1, NULL, OPT_ZONE },
		{ "authserv-id", 1, NULL, OPT_AUTHSERV_ID },
		{ "now", 1, NULL, OPT_NOW },
		{ "json", 0, NULL, CLI_OPT_JSON },
		{ "help", 0, NULL, 'h' },
		CLI_LONGOPTS_DNS,
		{ NULL, 0, NULL, 0 },
	};
	int opt, rc;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_IP: o->ip = optarg; break;
		case OPT_HELO: o->helo = optarg; break;
		case OPT_MAIL_FROM: o->mail_from = optarg; break;
		case OPT_ZONE: o->zone = optarg; break;
		case OPT_AUTHSERV_ID: o->authserv_id = optarg; break;
		case 'c': o->config = optarg; break;
		case CLI_OPT_JSON: o->json = true; break;
		case OPT_RCPT:
			if (o->nrcpts == ANALYZE_RCPT_MAX)
				return cli_usage("analyze", "at most %d "
				    "--rcpt", ANALYZE_RCPT_MAX);
			o->rcpts[o->nrcpts++] = optarg;
			break;
		case OPT_NOW:
			if (cli_unixtime("analyze", "--now", optarg,
			    &o->now) != 0)
				return CLI_EXIT_USAGE;
			break;
		default:
			rc = cli_dns_option("analyze", opt, optarg, &o->dns);
			if (rc < 0)
				return CLI_EXIT_USAGE;
			if (rc == 0)
				return cli_getopt_other("analyze", opt, argv);
			break;
		}
	}
	if (optind < argc)
		return cli_usage("analyze", "unexpected argument '%s'",
		    argv[optind]);
	if (o->ip == NULL)
		return cli_usage("analyze", "--ip is required");
	if (o->helo == NULL)
		return cli_usage("analyze", "--helo is required");
	if (o->mail_from == NULL)
		return cli_usage("analyze", "--mail-from is required (\"\" "
		    "for the null sender)");
	if (o->zone != NULL && o->dns.nameserver != NULL)
		return cli_usage("analyze", "--zone and --nameserver exclude "
		    "each other");
	return 0;
}

/* "<a@b>" or "a@b" to "a@b", in the arena. */
static const char *
analyze_unbracket(const char *addr, struct arena *a)
{
	size_t n = strlen(addr);

	if (n >= 2 && addr[0] == '<' && addr[n - 1] == '>')
		return arena_strndup(a, addr + 1, n - 2);
	return addr;
}

/* The first recipient that is never refused (verdict.h), or NULL. */
static const char *
analyze_exempt(const struct check_txn *t, const struct config *cfg)
{
	size_t i;

	for (i = 0; i < t->nrcpts; i++)
		if (verdict_exempt(t->rcpts[i], cfg->verdict_exempt))
			return t->rcpts[i];
	return NULL;
}

static void
analyze_authres_text(const struct findings *f, const char *id,
    struct arena *a, struct buf *out)
{
	struct authres_render_options ro;
	struct authres_header h;

	explain_authres(f, id, a, &h);
	memset(&ro, 0, sizeof(ro));
	ro.eol = "\n";
	authres_render(&h, &ro, out);
}

static void
analyze_print_text(const struct verdict *v, const struct findings *f,
    const struct buf *ar, const struct buf *spam, struct buf *out)
{
	size_t i;

	buf_printf(out, "action: %s\nscore: %.1f\nreason: %s\n",
	    verdict_action_name(v->action), v->score, v->reason);
	if (v->reply != NULL)
		buf_printf(out, "reply: %u %s %s\n", v->code, v->status,
		    v->reply);
	buf_printf(out, "\nfindings:\n");
	for (i = 0; i < f->n; i++)
		buf_printf(out, "  %-24s %+5.1f  %s%s%s\n", f->v[i].symbol,
		    f->v[i].score, finding_reason(&f->v[i], f->arena),
		    f->v[i].wants != FINDING_WANTS_NOTHING ? "; asks for " : "",
		    f->v[i].wants != FINDING_WANTS_NOTHING ?
		    finding_wants_name(f->v[i].wants) : "");
	buf_printf(out, "\n%s\n", buf_cstr(ar));
	buf_append(out, spam->data, spam->len);
	/* the headers end in CRLF; the terminal wants one LF, no CR */
	while (out->len > 0 && (out->data[out->len - 1] == '\n' ||
	    out->data[out->len - 1] == '\r'))
		out->len--;
}

static void
analyze_print_json(const struct verdict *v, const struct findings *f,
    const struct buf *ar, const struct buf *spam, struct buf *out)
{
	struct json j;
	char num[32];

	json_init(&j, out);
	json_obj_begin(&j);
	json_kv_str(&j, "action", verdict_action_name(v->action));
	json_key(&j, "score");
	snprintf(num, sizeof(num), "%.2f", v->score);
	json_number(&j, num);
	json_kv_str(&j, "reason", v->reason);
	json_key(&j, "decided_by");
	if (v->decider != NULL)
		json_str(&j, v->decider->symbol);
	else
		json_null(&j);
	json_key(&j, "reply");
	if (v->reply != NULL) {
		json_obj_begin(&j);
		json_kv_int(&j, "code", v->code);
		json_kv_str(&j, "status", v->status);
		json_kv_str(&j, "text", v->reply);
		json_end(&j);
	} else
		json_null(&j);
	json_key(&j, "findings");
	explain_findings_json(f, &j);
	json_kv_str(&j, "authentication_results", buf_cstr(ar));
	json_kv_str(&j, "spam_headers", buf_cstr(spam));
	json_end(&j);
}

struct analyze_ctx {
	struct analyze_opts	 o;
	struct config		 cfg;
	struct event_base	*base;
	struct dns_resolver	*resolver;
	struct arena		*a;
	struct buf		 msg;
	struct check_txn	 txn;
};

/* The transaction as a session would have it; 0 or a usage error. */
static int
analyze_txn(struct analyze_ctx *c)
{
	struct check_txn *t = &c->txn;
	const char **rcpts;
	size_t i;

	if (ip_parse(c->o.ip, strlen(c->o.ip), &t->ip) != 0)
		return cli_usage("analyze", "--ip '%s' is not an IP address",
		    c->o.ip);
	t->ip_text = c->o.ip;
	t->helo = c->o.helo;
	t->mail_from = analyze_unbracket(c->o.mail_from, c->a);
	rcpts = arena_calloc(c->a, c->o.nrcpts + 1, sizeof(*rcpts));
	for (i = 0; i < c->o.nrcpts; i++)
		rcpts[i] = analyze_unbracket(c->o.rcpts[i], c->a);
	t->rcpts = rcpts;
	t->nrcpts = c->o.nrcpts;
	t->msg = c->msg.data;
	t->len = c->msg.len;
	t->header_len = check_header_len(t->msg, t->len);
	t->authserv_id = c->o.authserv_id != NULL ? c->o.authserv_id :
	    c->cfg.hostname;
	t->trusted = config_is_trusted(&c->cfg, &t->ip);
	t->now = c->o.now;
	return 0;
}

/* Read the message and make the loop and the resolver; 0 or exit code. */
static int
analyze_setup(struct analyze_ctx *c)
{
	if (cli_config_load(c->o.config, &c->cfg) != 0)
		return CLI_EXIT_FAIL;
	if (cli_msg_read("analyze", NULL, &c->msg, NULL) != 0)
		return CLI_EXIT_FAIL;
	if ((c->base = event_base_new()) == NULL) {
		fprintf(stderr, "netjes analyze: cannot create an event "
		    "loop\n");
		return CLI_EXIT_FAIL;
	}
	c->resolver = c->o.zone != NULL ? cli_zone_resolver("analyze",
	    c->o.zone, c->base) :
	    cli_dns_resolver(&c->o.dns, &c->cfg, c->base);
	return c->resolver != NULL ? 0 : CLI_EXIT_FAIL;
}

static int
analyze_run_all(struct analyze_ctx *c)
{
	struct pipeline_env env;
	struct verdict_subject subj;
	struct verdict_policy pol;
	struct verdict v;
	struct pipeline *p;
	struct buf ar = BUF_INIT, spam = BUF_INIT, out = BUF_INIT;
	int rc = CLI_EXIT_OK;

	memset(&env, 0, sizeof(env));
	env.base = c->base;
	env.resolver = c->resolver;
	env.deadline = c->cfg.dns_message_deadline;
	env.cfg = &c->cfg;
	if ((p = pipeline_new(checks_all, checks_n, &env, &c->txn, c->a)) ==
	    NULL || pipeline_run_all(p) != 0) {
		fprintf(stderr, "netjes analyze: the checks did not finish\n");
		pipeline_free(p);
		return CLI_EXIT_FAIL;
	}
	memset(&subj, 0, sizeof(subj));
	subj.trusted = c->txn.trusted;
	subj.exempt_rcpt = analyze_exempt(&c->txn, &c->cfg);
	checks_verdict_policy(&c->cfg, &pol);
	verdict_decide(pipeline_findings(p), &subj, &pol, c->a, &v);
	analyze_authres_text(pipeline_findings(p), c->txn.authserv_id, c->a,
	    &ar);
	explain_spam_headers(pipeline_findings(p), &v, pol.add_header, &spam);
	if (c->o.json)
		analyze_print_json(&v, pipeline_findings(p), &ar, &spam, &out);
	else
		analyze_print_text(&v, pipeline_findings(p), &ar, &spam, &out);
	cli_print(&out);
	pipeline_free(p);
	buf_free(&ar);
	buf_free(&spam);
	buf_free(&out);
	return rc;
}

int
cmd_analyze(int argc, char **argv)
{
	struct analyze_ctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	if ((rc = analyze_parse(argc, argv, &c.o)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	c.a = arena_new(0);
	if ((rc = analyze_setup(&c)) == 0 && (rc = analyze_txn(&c)) == 0)
		rc = analyze_run_all(&c);
	if (c.resolver != NULL)
		dns_resolver_free(c.resolver);
	if (c.base != NULL)
		event_base_free(c.base);
	buf_free(&c.msg);
	arena_free(c.a);
	config_free(&c.cfg);
	return rc;
}
