/*
 * auth_netjes — full message authentication per second through netjes's
 * own library: the check pipeline (filter/: iprev, SPF for HELO and
 * MAIL FROM, every DKIM signature, DMARC, ARC) with its stages run as
 * the SMTP session runs them (connect, helo and mail at once, then
 * headers and eom) and the Authentication-Results header rendered from
 * the findings, on one libevent loop, resolving through the libunbound
 * backend with the answer cache on, as `netjes serve` runs it.
 *
 *	auth_netjes [-j INFLIGHT] [-n PASSES] [-o RESULTS] NAMESERVER CASES
 *	    SECONDS
 *
 * CASES holds "IP HELO MAILFROM RCPT HOSTNAME PATH" lines (corpus.py);
 * every message is read into memory first. One untimed pass warms the
 * caches and fixes each message's results (the check hash and the
 * per-method pass counts); then INFLIGHT checks (default 64) are kept
 * running on the loop, as the SMTP server runs its sessions, until
 * SECONDS have passed (or exactly PASSES passes with -n). -o writes the
 * warm-up pass's results, one line per message ("iprev=pass spf=pass
 * helo=pass dmarc=pass arc=pass dkim=pass,pass"), for run.sh to compare
 * with rspamd's verdicts.
 *
 * Besides the wall-clock rate it prints the process's CPU time per
 * message (getrusage, every thread: libunbound's resolver thread is
 * counted), which is what "per core" means on a shared machine.
 */
#include <event2/event.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "auth/authres.h"
#include "core/buf.h"
#include "dns/dns.h"
#include "filter/checks.h"
#include "filter/explain.h"
#include "filter/facts.h"
#include "filter/pipeline.h"
#include "lib/benchutil.h"

struct auth_case {
	struct ip_addr	 ip;
	const char	*helo;
	const char	*mail_from;
	const char	*rcpt;
	char		*msg;
	size_t		 len;
};

/* Per-method pass counts of the warm-up pass. */
enum { M_IPREV, M_SPF, M_HELO, M_DKIM, M_DMARC, M_ARC, M_ARC_NONE, M_N };
static const char *const auth_method_names[M_N] = {
	"iprev", "spf", "spf_helo", "dkim", "dmarc", "arc", "arc_none",
};

struct slot {
	struct arena	*out;
	struct pipeline	*p;
	struct check_txn txn;
	struct pipeline_env env;
	size_t		 idx;		/* case index */
	bool		 busy, done;
	char		 summary[256];	/* "iprev=pass spf=pass ..." */
	unsigned	 pass[M_N];	/* 0 or 1 per method */
};

static bool
auth_bench_all_dkim_pass(const struct check_facts *f)
{
	size_t i;

	if (f->ndkim == 0)
		return false;
	for (i = 0; i < f->ndkim; i++)
		if (f->dkim[i].result != DKIM_RESULT_PASS)
			return false;
	return true;
}

/* The results as one Authentication-Results (built, not rendered:
 * what the figures before the pipeline counted too). */
static void
auth_bench_header(struct pipeline *p)
{
	struct authres_header h;

	explain_authres(pipeline_findings(p), "mx.rcpt.example",
	    pipeline_arena(p), &h);
}

static void
auth_bench_done(struct pipeline *p, enum check_stage stage, void *arg)
{
	struct slot *s = arg;
	const struct check_facts *f = pipeline_facts(p);
	const char *arc = f->arc != NULL ? f->arc->result : "none";
	enum spf_result helo = f->spf_helo != NULL ? f->spf_helo->result :
	    SPF_RESULT_NONE;
	size_t i, len;

	(void)stage;
	auth_bench_header(p);
	len = (size_t)snprintf(s->summary, sizeof(s->summary),
	    "iprev=%s spf=%s helo=%s dmarc=%s arc=%s dkim=",
	    iprev_result_name(f->iprev->result),
	    spf_result_name(f->spf_mailfrom->result),
	    spf_result_name(helo), dmarc_result_name(f->dmarc->result), arc);
	for (i = 0; i < f->ndkim && len < sizeof(s->summary); i++)
		len += (size_t)snprintf(s->summary + len,
		    sizeof(s->summary) - len, "%s%s", i ? "," : "",
		    dkim_result_name(f->dkim[i].result));
	s->pass[M_IPREV] = f->iprev->result == IPREV_RESULT_PASS;
	s->pass[M_SPF] = f->spf_mailfrom->result == SPF_RESULT_PASS;
	s->pass[M_HELO] = helo == SPF_RESULT_PASS;
	s->pass[M_DKIM] = auth_bench_all_dkim_pass(f);
	s->pass[M_DMARC] = f->dmarc->result == DMARC_RESULT_PASS;
	s->pass[M_ARC] = strcmp(arc, "pass") == 0;
	s->pass[M_ARC_NONE] = strcmp(arc, "none") == 0;
	s->done = true;
}

static void
auth_bench_started(struct pipeline *p, enum check_stage stage, void *arg)
{
	(void)p;
	(void)stage;
	(void)arg;
}

static void
auth_bench_start(struct event_base *base, struct dns_resolver *r,
    const struct auth_case *c, struct slot *s)
{
	struct check_txn *t = &s->txn;
	enum check_stage st;

	memset(t, 0, sizeof(*t));
	t->ip = c->ip;
	t->helo = c->helo;
	t->mail_from = c->mail_from;
	t->authserv_id = "mx.rcpt.example";
	t->msg = c->msg;
	t->len = c->len;
	t->header_len = check_header_len(c->msg, c->len);
	memset(&s->env, 0, sizeof(s->env));
	s->env.base = base;
	s->env.resolver = r;
	s->busy = true;
	s->done = false;
	if ((s->p = pipeline_new(checks_all, checks_n, &s->env, t,
	    s->out)) == NULL)
		abort();
	for (st = CHECK_CONNECT; st < CHECK_EOM; st++)
		if (st != CHECK_RCPT)
			pipeline_run(s->p, st, auth_bench_started, s);
	pipeline_run(s->p, CHECK_EOM, auth_bench_done, s);
}

/*
 * Keep k checks in flight over the cases, in order, until limit checks
 * were started (limit > 0) or secs have passed. When summaries is not
 * NULL, each finished check's summary is kept there by case index.
 */
static size_t
auth_bench_run(struct event_base *base, struct dns_resolver *r,
    const struct auth_case *cases, size_t n, size_t k, size_t limit,
    double secs, char (*summaries)[256], unsigned *pass)
{
	struct slot *sl = calloc(k, sizeof(*sl));
	size_t next = 0, done = 0, i, busy, m;
	double t0 = bench_now();
	bool stop = false;

	if (sl == NULL)
		abort();
	for (i = 0; i < k; i++)
		sl[i].out = arena_new(0);
	for (;;) {
		busy = 0;
		for (i = 0; i < k; i++) {
			if (sl[i].busy && sl[i].done) {
				if (summaries != NULL)
					memcpy(summaries[sl[i].idx],
					    sl[i].summary, 256);
				for (m = 0; pass != NULL && m < M_N; m++)
					pass[m] += sl[i].pass[m];
				sl[i].busy = false;
				done++;
				pipeline_free(sl[i].p);
				sl[i].p = NULL;
				arena_reset(sl[i].out);
			}
			if (limit > 0 && next >= limit)
				stop = true;
			if (!sl[i].busy && !stop) {
				sl[i].idx = next % n;
				auth_bench_start(base, r, &cases[next % n],
				    &sl[i]);
				next++;
			}
			busy += sl[i].busy;
		}
		if (limit == 0 && !stop && bench_now() - t0 >= secs)
			stop = true;
		if (busy == 0)
			break;
		if (event_base_loop(base, EVLOOP_ONCE) != 0)
			abort();
	}
	for (i = 0; i < k; i++)
		arena_free(sl[i].out);
	free(sl);
	return done;
}

static double
auth_bench_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* One line per message, in case order: for run.sh to compare. */
static void
auth_bench_write(const char *path, char (*summaries)[256], size_t n)
{
	FILE *f = fopen(path, "w");
	size_t i;

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	for (i = 0; i < n; i++)
		fprintf(f, "%s\n", summaries[i]);
	if (fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* "IP HELO MAILFROM RCPT HOSTNAME PATH"; the message is read in. */
static void
auth_bench_case(char *line, size_t lineno, struct auth_case *c,
    size_t *bytes)
{
	char *save = NULL, *ip, *path;

	ip = strtok_r(line, " ", &save);
	c->helo = strtok_r(NULL, " ", &save);
	c->mail_from = strtok_r(NULL, " ", &save);
	c->rcpt = strtok_r(NULL, " ", &save);
	(void)strtok_r(NULL, " ", &save);	/* HOSTNAME: for rspamd */
	path = strtok_r(NULL, " ", &save);
	if (path == NULL || ip_parse(ip, strlen(ip), &c->ip) != 0) {
		fprintf(stderr, "auth_netjes: bad case line %zu\n", lineno);
		exit(1);
	}
	c->msg = bench_read_file(path, &c->len);
	*bytes += c->len;
}

int
main(int argc, char **argv)
{
	struct dns_options o = { NULL, 5.0, true, 0, NULL, false };
	struct auth_case *cases;
	struct bench_check chk;
	struct event_base *base;
	struct dns_resolver *r;
	const char *err = NULL, *results = NULL;
	char *text, *line, *save = NULL, (*summaries)[256];
	size_t n, i, count, inflight = 64, passes = 0, bytes = 0;
	unsigned pass[M_N] = { 0 };
	double secs, t0, c0, t, cpu;
	int opt;

	while ((opt = getopt(argc, argv, "j:n:o:")) != -1) {
		switch (opt) {
		case 'j': inflight = (size_t)atol(optarg); break;
		case 'n': passes = (size_t)atol(optarg); break;
		case 'o': results = optarg; break;
		default: return 2;
		}
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (argc != 4 || inflight == 0) {
		fprintf(stderr, "usage: auth_netjes [-j INFLIGHT] [-n PASSES] "
		    "[-o RESULTS] NAMESERVER CASES SECONDS\n");
		return 2;
	}
	o.nameserver = argv[1];
	secs = atof(argv[3]);
	/* bench_read_lines() would keep the text out of reach; split here so
	 * it can be freed (every case points into it). */
	text = bench_read_file(argv[2], NULL);
	for (n = 1, i = 0; text[i] != '\0'; i++)	/* at most */
		n += text[i] == '\n';
	if ((cases = calloc(n, sizeof(*cases))) == NULL ||
	    (summaries = calloc(n, sizeof(*summaries))) == NULL)
		abort();
	for (i = 0, line = strtok_r(text, "\n", &save); line != NULL && i < n;
	    line = strtok_r(NULL, "\n", &save), i++)
		auth_bench_case(line, i + 1, &cases[i], &bytes);
	if (i == 0) {
		fprintf(stderr, "auth_netjes: no cases in %s\n", argv[2]);
		return 1;
	}
	n = i;
	if ((base = event_base_new()) == NULL)
		return 1;
	if ((r = dns_unbound_new(base, &o, &err)) == NULL) {
		fprintf(stderr, "auth_netjes: resolver: %s\n", err ? err : "?");
		return 1;
	}

	/* Warm-up: every message once, results kept per message. */
	(void)auth_bench_run(base, r, cases, n, inflight, n, 0, summaries,
	    pass);
	bench_check_init(&chk);
	for (i = 0; i < n; i++)
		bench_check_add(&chk, summaries[i]);
	if (results != NULL)
		auth_bench_write(results, summaries, n);

	t0 = bench_now();
	c0 = auth_bench_cpu();
	count = auth_bench_run(base, r, cases, n, inflight, passes * n, secs,
	    NULL, NULL);
	t = bench_now() - t0;
	cpu = auth_bench_cpu() - c0;

	printf("BENCH impl=netjes op=auth inflight=%zu n=%zu secs=%.3f "
	    "rate=%.1f cpu_s=%.3f cpu_us=%.1f check=%016llx msgs=%zu "
	    "avg_bytes=%zu", inflight, count, t, (double)count / t, cpu,
	    cpu * 1e6 / (double)count, (unsigned long long)chk.h, n,
	    bytes / n);
	for (i = 0; i < M_N; i++)
		printf(" %s=%u", auth_method_names[i], pass[i]);
	printf("\n");
	dns_resolver_free(r);
	event_base_free(base);
	for (i = 0; i < n; i++)
		free(cases[i].msg);
	free(cases);
	free(summaries);
	free(text);
	return 0;
}
