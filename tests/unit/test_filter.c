/*
 * Unit tests for filter/: the findings list, the verdict's order of
 * decision (our users, trusted networks, requested actions, thresholds,
 * exempt recipients) and the reply it gives, and the pipeline driver on
 * a real event loop: checks run at their stages only, a stage waits for
 * exactly the work it needs, done never runs inside pipeline_run(), the
 * deadline expires the checks still working, and a free cancels them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include <event2/event.h>

#include "core/arena.h"
#include "filter/explain.h"
#include "filter/finding.h"
#include "filter/pipeline.h"
#include "filter/verdict.h"

/* ---- findings ---- */

static int explained;

static const char *
explain_count(const void *ctx, struct arena *a)
{
	explained++;
	return arena_printf(a, "made from %s", (const char *)ctx);
}

static void
test_findings_add_get_score(void **state)
{
	struct arena *a = arena_new(0);
	struct findings f;
	struct finding *x;
	char big[2000];
	int i;

	(void)state;
	findings_init(&f, a);
	assert_int_equal(f.n, 0);
	assert_true(findings_score(&f) == 0);
	x = findings_add(&f, "spf", "SPF_FAIL", 1.5, "%s does not list %s",
	    "example.org", "192.0.2.1");
	assert_string_equal(x->reason, "example.org does not list 192.0.2.1");
	assert_int_equal(x->wants, FINDING_WANTS_NOTHING);
	assert_null(x->authres);
	findings_add(&f, "dkim", "DKIM_VALID", -0.5, "signed");
	/* many: the array grows, earlier findings keep their contents */
	for (i = 0; i < 100; i++)
		findings_add(&f, "rules", "R_MANY", 0.01, "rule %d", i);
	assert_int_equal(f.n, 102);
	assert_string_equal(findings_get(&f, "SPF_FAIL")->reason,
	    "example.org does not list 192.0.2.1");
	assert_string_equal(findings_get(&f, "R_MANY")->reason, "rule 0");
	assert_null(findings_get(&f, "NOPE"));
	assert_true(findings_score(&f) > 1.99 && findings_score(&f) < 2.01);
	/* an overlong reason is cut, not overflowed */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	x = findings_add(&f, "t", "LONG", 0, "%s", big);
	assert_int_equal(strlen(x->reason), FINDING_REASON_MAX - 1);
	assert_string_equal(finding_reason(x, a), x->reason);
	/* a lazy reason costs nothing until it is read, then each read */
	explained = 0;
	x = findings_add_lazy(&f, "t", "LAZY", 2, explain_count, "ctx");
	assert_null(x->reason);
	assert_int_equal(explained, 0);
	assert_string_equal(finding_reason(x, a), "made from ctx");
	assert_int_equal(explained, 1);
	x = findings_add_lazy(&f, "t", "NONE", 0, NULL, NULL);
	assert_string_equal(finding_reason(x, a), "");
	arena_free(a);
}

static void
test_symbol_syntax(void **state)
{
	char long_sym[FINDING_SYMBOL_MAX + 2];

	(void)state;
	assert_true(finding_symbol_valid("SPF_FAIL"));
	assert_true(finding_symbol_valid("R_1"));
	assert_false(finding_symbol_valid(NULL));
	assert_false(finding_symbol_valid(""));
	assert_false(finding_symbol_valid("spf_fail"));
	assert_false(finding_symbol_valid("1SPF"));
	assert_false(finding_symbol_valid("_SPF"));
	assert_false(finding_symbol_valid("SPF-FAIL"));
	assert_false(finding_symbol_valid("SPF FAIL"));
	memset(long_sym, 'A', sizeof(long_sym) - 1);
	long_sym[FINDING_SYMBOL_MAX] = '\0';
	assert_true(finding_symbol_valid(long_sym));
	long_sym[FINDING_SYMBOL_MAX] = 'A';
	long_sym[FINDING_SYMBOL_MAX + 1] = '\0';
	assert_false(finding_symbol_valid(long_sym));
	assert_string_equal(finding_wants_name(FINDING_WANTS_REJECT),
	    "reject");
}

/* ---- verdict ---- */

struct vfix {
	struct arena		*a;
	struct findings		 f;
	struct verdict_policy	 p;
	struct verdict_subject	 s;
	struct verdict		 v;
};

static void
vfix_init(struct vfix *x)
{
	memset(x, 0, sizeof(*x));
	x->a = arena_new(0);
	findings_init(&x->f, x->a);
	verdict_policy_defaults(&x->p);
}

static void
vfix_decide(struct vfix *x)
{
	verdict_decide(&x->f, &x->s, &x->p, x->a, &x->v);
}

static void
test_verdict_thresholds(void **state)
{
	struct vfix x;

	(void)state;
	vfix_init(&x);
	vfix_decide(&x);
	assert_int_equal(x.v.action, VERDICT_ACCEPT);
	assert_null(x.v.decider);
	assert_string_equal(x.v.reason, "score 0.0 is below every threshold");
	assert_int_equal(x.v.code, 0);

	findings_add(&x.f, "spf", "SPF_SOFTFAIL", 2.0, "softfail");
	findings_add(&x.f, "rules", "SUBJ_CAPS", 3.0, "the subject shouts");
	vfix_decide(&x);
	assert_int_equal(x.v.action, VERDICT_ADD_HEADER);	/* 5 */
	assert_string_equal(x.v.decider->symbol, "SUBJ_CAPS");
	assert_string_equal(x.v.reason, "score 5.0 reached the add_header "
	    "threshold 5.0; most of it: the subject shouts (SUBJ_CAPS +3.0)");
	assert_true(verdict_delivers(x.v.action));
	assert_null(verdict_folder(x.v.action));

	findings_add(&x.f, "bayes", "BAYES_99", 4.0, "Bayes says spam");
	vfix_decide(&x);
	assert_int_equal(x.v.action, VERDICT_JUNK);		/* 9 */
	assert_string_equal(x.v.decider->symbol, "BAYES_99");
	assert_string_equal(verdict_folder(x.v.action), "Junk");

	/* a score-based 4xx, when configured, sits between Junk and 5xx */
	x.p.tempfail = 8;
	vfix_decide(&x);
	assert_int_equal(x.v.action, VERDICT_TEMPFAIL);
	assert_int_equal(x.v.code, 451);
	assert_string_equal(x.v.status, "4.7.1");
	assert_non_null(strstr(x.v.reply, "Try again later: score 9.0"));

	findings_add(&x.f, "dnsbl", "RBL_HIT", 7.0, "listed");
	vfix_decide(&x);
	assert_int_equal(x.v.action, VERDICT_REJECT);		/* 16 */
	assert_int_equal(x.v.code, 550);
	assert_string_equal(x.v.status, "5.7.1");
	assert_false(verdict_delivers(x.v.action));
	assert_true(x.v.score > 15.99 && x.v.score < 16.01);

	/* every threshold off: nothing but accept */
	x.p.add_header = x.p.junk = x.p.tempfail = x.p.reject = 0;
	vfix_decide(&x);
	assert_int_equal(x.v.action, VERDICT_ACCEPT);
	arena_free(x.a);
}

static void
test_verdict_requests_and_who(void **state)
{
	struct vfix x;
	struct finding *d;

	(void)state;
	vfix_init(&x);
	/* a request decides even with a score of 0 ... */
	d = findings_add(&x.f, "dmarc", "DMARC_REJECT", 0, "example.org "
	    "publishes p=reject and neither SPF nor DKIM aligns");
	d->wants = FINDING_WANTS_REJECT;
	findings_add(&x.f, "rules", "R_X", 1.0, "x");
	vfix_decide(&x);
	assert_int_equal(x.v.action, VERDICT_REJECT);
	assert_ptr_equal(x.v.decider, d);
	assert_string_equal(x.v.reply, "Message rejected: example.org "
	    "publishes p=reject and neither SPF nor DKIM aligns "
	    "(DMARC_REJECT)");

	/* ... but our own users and trusted networks are not judged */
	x.s.auth_user = "alice@example.test";
	vfix_decide(&x);
	assert_int_equal(x.v.action, VERDICT_ACCEPT);
	assert_null(x.v.decider);
	assert_non_null(strstr(x.v.reason, "alice@example.test"));
	x.s.auth_user = NULL;
	x.s.trusted = true;
	vfix_decide(&x);
	assert_int_equal(x.v.action, VERDICT_ACCEPT);
	assert_non_null(strstr(x.v.reason, "trusted_networks"));
	x.s.trusted = false;

	/* postmaster is never refused: Junk when the score says so, else
	 * delivered with the spam headers */
	x.s.exempt_rcpt = "postmaster@example.test";
	vfix_decide(&x);
	assert_int_equal(x.v.action, VERDICT_ADD_HEADER);
	assert_int_equal(x.v.code, 0);
	assert_null(x.v.reply);
	assert_non_null(strstr(x.v.reason, "would be rejected"));
	assert_non_null(strstr(x.v.reason, "postmaster@example.test"));
	findings_add(&x.f, "rules", "R_BIG", 6.0, "big");
	vfix_decide(&x);
	assert_int_equal(x.v.action, VERDICT_JUNK);
	x.s.exempt_rcpt = NULL;

	/* a weaker request loses to a stronger score decision */
	arena_free(x.a);
	vfix_init(&x);
	d = findings_add(&x.f, "dmarc", "DMARC_QUARANTINE", 0, "p=quarantine");
	d->wants = FINDING_WANTS_JUNK;
	findings_add(&x.f, "dnsbl", "RBL_HIT", 20, "listed");
	vfix_decide(&x);
	assert_int_equal(x.v.action, VERDICT_REJECT);
	assert_string_equal(x.v.decider->symbol, "RBL_HIT");
	/* the strongest request among several, the first of equals */
	findings_add(&x.f, "greylist", "GREYLIST", 0, "new triplet")->wants =
	    FINDING_WANTS_TEMPFAIL;
	x.p.reject = 0;
	vfix_decide(&x);
	assert_int_equal(x.v.action, VERDICT_TEMPFAIL);
	assert_string_equal(x.v.decider->symbol, "GREYLIST");
	arena_free(x.a);
}

static void
test_verdict_reply_is_clean_ascii(void **state)
{
	struct vfix x;
	char evil[1000];
	size_t i;

	(void)state;
	vfix_init(&x);
	memset(evil, 'a', sizeof(evil) - 1);
	evil[sizeof(evil) - 1] = '\0';
	memcpy(evil, "\r\n250 ok \xc3\xa9\x1b", 12);
	findings_add(&x.f, "dmarc", "DMARC_REJECT", 0, "%s", evil)->wants =
	    FINDING_WANTS_REJECT;
	vfix_decide(&x);
	assert_true(strlen(x.v.reply) <= VERDICT_REPLY_MAX);
	for (i = 0; x.v.reply[i] != '\0'; i++)
		assert_true(x.v.reply[i] >= 0x20 && x.v.reply[i] <= 0x7e);
	assert_non_null(strstr(x.v.reply, "??250 ok ???"));
	arena_free(x.a);
}

static void
test_verdict_exempt(void **state)
{
	(void)state;
	assert_true(verdict_exempt("postmaster@example.org", NULL));
	assert_true(verdict_exempt("PostMaster@example.org", ""));
	assert_true(verdict_exempt("abuse@x.example", NULL));
	assert_false(verdict_exempt("abuser@x.example", NULL));
	assert_false(verdict_exempt("postmaster", NULL));	/* no domain */
	assert_false(verdict_exempt("bob@example.org", NULL));
	assert_true(verdict_exempt("hostmaster@a.example",
	    "hostmaster ceo@example.org"));
	assert_true(verdict_exempt("CEO@Example.ORG",
	    "hostmaster ceo@example.org"));
	assert_false(verdict_exempt("ceo@other.example",
	    "hostmaster ceo@example.org"));
	assert_false(verdict_exempt("host@a.example", "hostmaster"));
	assert_false(verdict_exempt("hostmasters@a.example", "hostmaster"));
}

/* ---- explain ---- */

/* One resinfo "method=pass" with an smtp.PROP=VALUE when prop is set. */
static const struct authres_resinfo *
ri_new(struct arena *a, const char *method, const char *prop,
    const char *value)
{
	struct authres_header tmp;
	struct authres_resinfo *ri;

	memset(&tmp, 0, sizeof(tmp));
	ri = authres_add(&tmp, a, method, "pass");
	if (prop != NULL)
		authres_resinfo_prop(ri, a, "smtp", prop, value);
	return ri;
}

static void
test_explain_headers(void **state)
{
	struct arena *a = arena_new(0);
	struct authres_header h;
	struct authres_render_options ro;
	struct findings f;
	struct verdict v;
	struct buf out = BUF_INIT;
	char sym[32];
	int i;

	(void)state;
	findings_init(&f, a);
	/* results arrive in any order; the header has the usual one */
	findings_add(&f, "dmarc", "DMARC_PASS", 0, "ok")->authres =
	    ri_new(a, "dmarc", NULL, NULL);
	findings_add(&f, "spf", "SPF_HELO_PASS", 0, "ok")->authres =
	    ri_new(a, "spf", "helo", "h.example");
	findings_add(&f, "spf", "SPF_PASS", 0, "ok")->authres =
	    ri_new(a, "spf", "mailfrom", "a@b.example");
	findings_add(&f, "iprev", "IPREV_PASS", 0, "ok")->authres =
	    ri_new(a, "iprev", NULL, NULL);
	findings_add(&f, "rules", "NO_AUTHRES", 0, "not an auth result");
	explain_authres(&f, "mx.example", a, &h);
	assert_int_equal(h.n, 4);
	assert_string_equal(h.results[0].method, "iprev");
	assert_string_equal(h.results[1].method, "spf");
	assert_non_null(authres_prop_get(&h.results[1], "smtp", "mailfrom"));
	assert_non_null(authres_prop_get(&h.results[2], "smtp", "helo"));
	assert_string_equal(h.results[3].method, "dmarc");
	memset(&ro, 0, sizeof(ro));
	ro.eol = "\n";
	authres_render(&h, &ro, &out);
	assert_non_null(strstr(buf_cstr(&out), "mx.example;"));

	/* X-Spam-*: sorted, deduplicated, folded with the comma kept */
	for (i = 0; i < 12; i++) {
		snprintf(sym, sizeof(sym), "LONG_SYMBOL_NUMBER_%02d", 11 - i);
		findings_add(&f, "t", arena_strdup(a, sym), 1, "x");
	}
	findings_add(&f, "t", "LONG_SYMBOL_NUMBER_00", 1, "twice");
	memset(&v, 0, sizeof(v));
	v.action = VERDICT_JUNK;
	v.score = findings_score(&f);
	buf_reset(&out);
	explain_spam_headers(&f, &v, 5.0, &out);
	assert_non_null(strstr(buf_cstr(&out), "X-Spam-Flag: YES\r\n"));
	assert_non_null(strstr(buf_cstr(&out), "X-Spam-Score: 13.0\r\n"));
	assert_non_null(strstr(buf_cstr(&out), "X-Spam-Status: Yes, "
	    "score=13.0 required=5.0 tests=DMARC_PASS,IPREV_PASS,"));
	assert_null(strstr(buf_cstr(&out), "_00,LONG_SYMBOL_NUMBER_00"));
	{
		const char *p = buf_cstr(&out), *nl;
		size_t folds = 0;

		while ((nl = strstr(p, "\r\n")) != NULL) {
			assert_true((size_t)(nl - p) <= 78);
			if (nl[2] == '\t') {
				assert_int_equal(nl[-1], ',');
				folds++;
			}
			p = nl + 2;
		}
		assert_true(folds >= 2);
	}
	/* nothing marked: no flag, "No" */
	v.action = VERDICT_ACCEPT;
	buf_reset(&out);
	explain_spam_headers(&f, &v, 5.0, &out);
	assert_null(strstr(buf_cstr(&out), "X-Spam-Flag"));
	assert_non_null(strstr(buf_cstr(&out), "X-Spam-Status: No, "));
	buf_free(&out);
	arena_free(a);
}

/* ---- the header section's end ---- */

static void
test_header_end(void **state)
{
	static const char msg[] = "A: 1\r\nB: 2\r\n\tfold\r\n\r\nbody\r\n\r\n";
	size_t pos = 0, i;

	(void)state;
	assert_int_equal(check_header_len(msg, strlen(msg)), 21);
	assert_int_equal(check_header_len("\r\nbody", 6), 2);
	assert_int_equal(check_header_len("A: 1\r\n", 6), 6);	/* no body */
	assert_int_equal(check_header_len("", 0), 0);
	/* a bare LF ends no line: the empty line is the CRLF after CRLF */
	assert_int_equal(check_header_len("\n\n\r\n\r\n", 6), 6);
	assert_int_equal(check_header_len("A: 1\n\r\nB\r\n\r\n", 12), 12);
	/* fed a byte at a time: the same end, found when it is in */
	for (i = 1; i <= strlen(msg); i++) {
		if (check_header_end(msg, i, &pos))
			break;
		assert_true(pos <= i);
	}
	assert_int_equal(i, 21);
	assert_int_equal(pos, 21);
}

/* ---- pipeline ---- */

/* A check that records what it saw and, at the stages listed in
 * async_at, keeps working until a timer fires after delay_ms. */
struct probe {
	unsigned		 seen;		/* CHECK_AT bits */
	int			 cancelled;
	int			 expired;
	int			 finished;
	struct pipeline		*p;
	struct pipeline_hold	*hold;
	struct event		*timer;
};

static struct probe *probes[4];
static unsigned async_at;		/* stage bits that start work */
static enum check_stage needed_by = CHECK_EOM;
static int delay_ms = 20;
static struct event_base *base;

static void
probe_finished(evutil_socket_t fd, short what, void *arg)
{
	struct probe *pr = arg;

	(void)fd;
	(void)what;
	pr->finished++;
	findings_add(pipeline_findings(pr->p), "probe", "PROBE_DONE", 1,
	    "finished");
	pipeline_release(pr->p, pr->hold);
	pr->hold = NULL;
}

static void
probe_stage(struct pipeline *p, void *state, enum check_stage stage)
{
	struct probe *pr = state;
	struct timeval tv = { 0, delay_ms * 1000 };

	pr->p = p;
	pr->seen |= CHECK_AT(stage);
	assert_string_equal(pipeline_current_check(p), "probe");
	if (probes[0] == NULL)
		probes[0] = pr;
	else if (probes[0] != pr && probes[1] == NULL)
		probes[1] = pr;
	if ((async_at & CHECK_AT(stage)) == 0)
		return;
	pr->hold = pipeline_hold(p, needed_by);
	if (pr->timer == NULL)
		pr->timer = evtimer_new(base, probe_finished, pr);
	evtimer_add(pr->timer, &tv);
}

static void
probe_cancel(void *state)
{
	struct probe *pr = state;

	pr->cancelled++;
	if (pr->timer != NULL)
		evtimer_del(pr->timer);
}

static void
probe_expire(struct pipeline *p, void *state)
{
	struct probe *pr = state;

	pr->expired++;
	evtimer_del(pr->timer);
	findings_add(pipeline_findings(p), "probe", "PROBE_TEMPERROR", 0,
	    "out of time");
	pipeline_release(p, pr->hold);
	pr->hold = NULL;
}

static const struct check probe_check = {
	.name = "probe",
	.stages = CHECK_AT(CHECK_CONNECT) | CHECK_AT(CHECK_MAIL) |
	    CHECK_AT(CHECK_EOM),
	.state_size = sizeof(struct probe),
	.stage = probe_stage,
	.cancel = probe_cancel,
	.expire = probe_expire,
};

struct run_result {
	int			 calls;
	enum check_stage	 stage;
	bool			 inside;	/* called from pipeline_run */
};

static bool in_run;

static void
run_done(struct pipeline *p, enum check_stage stage, void *arg)
{
	struct run_result *r = arg;

	(void)p;
	r->calls++;
	r->stage = stage;
	r->inside = in_run;
	event_base_loopexit(base, NULL);
}

/* Run stage and the loop until done (or 10 s). */
static void
run_stage(struct pipeline *p, enum check_stage stage, struct run_result *r)
{
	struct timeval limit = { 10, 0 };

	memset(r, 0, sizeof(*r));
	in_run = true;
	pipeline_run(p, stage, run_done, r);
	in_run = false;
	assert_int_equal(r->calls, 0);
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	assert_int_equal(r->calls, 1);
	assert_int_equal(r->stage, stage);
	assert_false(r->inside);
}

static void
probe_free_timers(void)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (probes[i] != NULL && probes[i]->timer != NULL)
			event_free(probes[i]->timer);
		probes[i] = NULL;
	}
}

static void
test_pipeline_stages_and_holds(void **state)
{
	const struct check *checks[] = { &probe_check };
	struct pipeline_env env = { 0 };
	struct check_txn txn = { 0 };
	struct arena *a = arena_new(0);
	struct run_result r;
	struct pipeline *p;
	struct probe *pr;

	(void)state;
	assert_non_null(base = event_base_new());
	env.base = base;
	async_at = CHECK_AT(CHECK_CONNECT);
	needed_by = CHECK_EOM;
	delay_ms = 50;
	assert_non_null(p = pipeline_new(checks, 1, &env, &txn, a));
	assert_ptr_equal(pipeline_txn(p), &txn);
	assert_ptr_equal(pipeline_env(p), &env);
	assert_ptr_equal(pipeline_arena(p), a);
	assert_null(pipeline_current_check(p));

	/* connect starts work needed only at EOM: connect is done at once */
	run_stage(p, CHECK_CONNECT, &r);
	pr = probes[0];
	assert_non_null(pr);
	assert_int_equal(pr->finished, 0);
	/* a stage the check does not look at still completes */
	run_stage(p, CHECK_HELO, &r);
	assert_int_equal(pr->seen, CHECK_AT(CHECK_CONNECT));
	run_stage(p, CHECK_MAIL, &r);
	/* EOM waits for the work from connect */
	run_stage(p, CHECK_EOM, &r);
	assert_int_equal(pr->finished, 1);
	assert_int_equal(pr->seen, CHECK_AT(CHECK_CONNECT) |
	    CHECK_AT(CHECK_MAIL) | CHECK_AT(CHECK_EOM));
	assert_non_null(findings_get(pipeline_findings(p), "PROBE_DONE"));
	assert_false(pipeline_expired(p));
	pipeline_free(p);
	assert_int_equal(pr->cancelled, 0);	/* nothing was running */
	probe_free_timers();
	arena_free(a);
	event_base_free(base);
}

static void
test_pipeline_waits_where_needed(void **state)
{
	const struct check *checks[] = { &probe_check, &probe_check };
	struct pipeline_env env = { 0 };
	struct check_txn txn = { 0 };
	struct arena *a = arena_new(0);
	struct run_result r;
	struct pipeline *p;

	(void)state;
	assert_non_null(base = event_base_new());
	env.base = base;
	/* work started at MAIL, needed at MAIL: MAIL waits for both */
	async_at = CHECK_AT(CHECK_MAIL);
	needed_by = CHECK_MAIL;
	delay_ms = 30;
	assert_non_null(p = pipeline_new(checks, 2, &env, &txn, a));
	run_stage(p, CHECK_CONNECT, &r);
	run_stage(p, CHECK_MAIL, &r);
	assert_int_equal(probes[0]->finished, 1);
	assert_int_equal(probes[1]->finished, 1);
	/* needed by a stage already past: the current one waits */
	needed_by = CHECK_CONNECT;
	async_at = CHECK_AT(CHECK_EOM);
	run_stage(p, CHECK_EOM, &r);
	assert_int_equal(probes[0]->finished, 2);
	assert_int_equal(probes[1]->finished, 2);
	pipeline_free(p);
	probe_free_timers();
	arena_free(a);
	event_base_free(base);
}

static void
test_pipeline_deadline_and_cancel(void **state)
{
	const struct check *checks[] = { &probe_check };
	struct pipeline_env env = { 0 };
	struct check_txn txn = { 0 };
	struct arena *a = arena_new(0);
	struct run_result r;
	struct pipeline *p;
	struct probe *pr;

	(void)state;
	assert_non_null(base = event_base_new());
	env.base = base;
	env.deadline = 0.05;
	async_at = CHECK_AT(CHECK_CONNECT);
	needed_by = CHECK_EOM;
	delay_ms = 5000;		/* far beyond the deadline */
	assert_non_null(p = pipeline_new(checks, 1, &env, &txn, a));
	run_stage(p, CHECK_CONNECT, &r);
	run_stage(p, CHECK_EOM, &r);
	pr = probes[0];
	assert_int_equal(pr->expired, 1);
	assert_int_equal(pr->finished, 0);
	assert_true(pipeline_expired(p));
	assert_non_null(findings_get(pipeline_findings(p),
	    "PROBE_TEMPERROR"));
	pipeline_free(p);
	assert_int_equal(pr->cancelled, 0);
	probe_free_timers();

	/* freed while a check works: cancelled, and no done ever */
	env.deadline = 0;
	assert_non_null(p = pipeline_new(checks, 1, &env, &txn, a));
	run_stage(p, CHECK_CONNECT, &r);
	memset(&r, 0, sizeof(r));
	pipeline_run(p, CHECK_EOM, run_done, &r);
	pr = probes[0];
	pipeline_free(p);
	assert_int_equal(pr->cancelled, 1);
	{
		struct timeval limit = { 0, 100000 };

		event_base_loopexit(base, &limit);
		event_base_dispatch(base);
	}
	assert_int_equal(r.calls, 0);
	assert_int_equal(pr->finished, 0);
	probe_free_timers();
	arena_free(a);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_findings_add_get_score),
		cmocka_unit_test(test_symbol_syntax),
		cmocka_unit_test(test_verdict_thresholds),
		cmocka_unit_test(test_verdict_requests_and_who),
		cmocka_unit_test(test_verdict_reply_is_clean_ascii),
		cmocka_unit_test(test_verdict_exempt),
		cmocka_unit_test(test_explain_headers),
		cmocka_unit_test(test_header_end),
		cmocka_unit_test(test_pipeline_stages_and_holds),
		cmocka_unit_test(test_pipeline_waits_where_needed),
		cmocka_unit_test(test_pipeline_deadline_and_cancel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
