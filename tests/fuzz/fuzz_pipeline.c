/*
 * Fuzz target for the check pipeline (filter/) on an untrusted message:
 * what `netjes analyze` and the server run. The message goes through
 * every check over an in-memory zone (the sender's records exist, so the
 * DKIM, DMARC and SPF code paths past the lookups run), then the verdict
 * and every output: Authentication-Results, X-Spam-*, the JSON, every
 * finding's reason. The header section the pipeline is given is checked
 * against a plain scan: it ends at the first empty line, or is all of
 * the message. Anything else (a crash, a leak, a hang) is a finding.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/ip.h"
#include "core/json.h"
#include "core/log.h"
#include "dns/dns.h"
#include "filter/checks.h"
#include "filter/explain.h"
#include "filter/pipeline.h"
#include "filter/verdict.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char zone[] =
    "$TTL 300\n"
    "5.0.0.127.in-addr.arpa. PTR mail.example.com.\n"
    "mail.example.com. A 127.0.0.5\n"
    "example.com. TXT \"v=spf1 ip4:127.0.0.0/24 include:_i.example.com ~all\"\n"
    "_i.example.com. TXT \"v=spf1 a:mail.example.com -all\"\n"
    "_dmarc.example.com. TXT \"v=DMARC1; p=reject; pct=50\"\n"
    "s._domainkey.example.com. TXT \"v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG"
    "9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\"\n";

/* The end of the header section by the plainest scan there is. */
static size_t
plain_header_len(const char *p, size_t n)
{
	size_t i;

	if (n >= 2 && p[0] == '\r' && p[1] == '\n')
		return 2;
	for (i = 0; i + 3 < n; i++)
		if (memcmp(p + i, "\r\n\r\n", 4) == 0)
			return i + 4;
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event_base *base = event_base_new();
	struct dns_resolver *r = dns_zone_new(base);
	struct arena *a = arena_new(0);
	struct pipeline_env env;
	struct check_txn t;
	struct pipeline *p;
	struct verdict_subject subj;
	struct verdict_policy pol;
	struct verdict v;
	struct authres_header h;
	struct authres_render_options ro;
	struct buf out = BUF_INIT;
	struct json j;
	char err[128];
	size_t i;

	log_init(LOG_LEVEL_ERROR, LOG_TARGET_STDERR, NULL);
	if (dns_zone_load(r, zone, sizeof(zone) - 1, NULL, err,
	    sizeof(err)) != 0)
		abort();
	memset(&t, 0, sizeof(t));
	memset(&env, 0, sizeof(env));
	env.base = base;
	env.resolver = r;
	ip_parse("127.0.0.5", 9, &t.ip);
	t.ip_text = "127.0.0.5";
	t.helo = "mail.example.com";
	t.mail_from = "bounce@example.com";
	t.authserv_id = "mx.example.test";
	t.msg = (const char *)data;
	t.len = size;
	t.header_len = check_header_len(t.msg, t.len);
	if (t.header_len != plain_header_len(t.msg, t.len))
		abort();
	if ((p = pipeline_new(checks_all, checks_n, &env, &t, a)) == NULL ||
	    pipeline_run_all(p) != 0)
		abort();
	memset(&subj, 0, sizeof(subj));
	verdict_policy_defaults(&pol);
	verdict_decide(pipeline_findings(p), &subj, &pol, a, &v);
	for (i = 0; i < pipeline_findings(p)->n; i++)
		if (finding_reason(&pipeline_findings(p)->v[i], a) == NULL)
			abort();
	explain_authres(pipeline_findings(p), t.authserv_id, a, &h);
	memset(&ro, 0, sizeof(ro));
	ro.eol = "\r\n";
	authres_render(&h, &ro, &out);
	explain_spam_headers(pipeline_findings(p), &v, pol.add_header, &out);
	json_init(&j, &out);
	explain_facts_json(pipeline_facts(p), &j, NULL);
	buf_reset(&out);
	json_init(&j, &out);
	explain_findings_json(pipeline_findings(p), &j);
	pipeline_free(p);
	buf_free(&out);
	arena_free(a);
	dns_resolver_free(r);
	event_base_free(base);
	return 0;
}
