/*
 * check_dmarc — DMARC (RFC 7489) for the From domain: the record is
 * looked up as soon as the header section is in (HEADERS); the decision
 * waits for SPF (MAIL FROM) and DKIM, which it gets from the facts as
 * they come (progress).
 *
 * A failing domain's policy is a request to the verdict: p=reject asks
 * for a refusal, p=quarantine for Junk, unless [auth] dmarc_policy is
 * monitor. Its score is small (rspamd's weights): the request, not the
 * score, is what the domain owner asked for.
 */
#include <string.h>

#include "auth/dmarc/dmarc.h"
#include "core/arena.h"
#include "core/config.h"
#include "filter/checks.h"
#include "filter/facts.h"
#include "filter/finding.h"
#include "filter/pipeline.h"

#define DMARC_REJECT_SCORE	2.0
#define DMARC_QUARANTINE_SCORE	1.5
#define DMARC_NONE_SCORE	0.1

struct dmarc_state {
	struct pipeline		*p;
	struct dmarc_check	*check;
	struct pipeline_hold	*hold;
	struct dmarc_request	 req;
	bool			 started;
	bool			 provided;
};

static struct authres_resinfo *
dmarc_authres(struct arena *a, const struct dmarc_outcome *d)
{
	struct authres_header tmp;
	struct authres_resinfo *ri;
	const struct dmarc_record *r = &d->record;

	memset(&tmp, 0, sizeof(tmp));
	ri = authres_add(&tmp, a, "dmarc", dmarc_result_name(d->result));
	/* a temperror before the record came in has only its reason */
	if (d->result == DMARC_RESULT_PASS || d->result == DMARC_RESULT_FAIL ||
	    (d->result == DMARC_RESULT_TEMPERROR && d->record_text != NULL))
		authres_resinfo_comment(ri, a, arena_printf(a, "p=%s sp=%s "
		    "pct=%u dis=%s%s", dmarc_policy_name(r->p),
		    dmarc_policy_name(r->sp != DMARC_POLICY_UNSET ? r->sp :
		    r->p), r->pct, dmarc_policy_name(d->applied),
		    d->sampled_out ? " sampled-out" : ""));
	else if (d->reason != NULL)
		authres_resinfo_comment(ri, a, d->reason);
	authres_resinfo_prop(ri, a, "header", "from", d->header_from);
	if (d->record_text != NULL && d->result != DMARC_RESULT_PERMERROR) {
		authres_resinfo_prop(ri, a, "policy", "dmarc",
		    dmarc_policy_name(d->requested));
		authres_resinfo_prop(ri, a, "policy", "evaluated-disposition",
		    dmarc_policy_name(d->evaluated));
		authres_resinfo_prop(ri, a, "policy", "applied-disposition",
		    dmarc_policy_name(d->applied));
	}
	return ri;
}

static bool
dmarc_monitor(const struct pipeline *p)
{
	const struct config *cfg = pipeline_env(p)->cfg;

	return cfg != NULL && cfg->dmarc_monitor;
}

/* The reason, made when someone asks (finding.h). */
static const char *
dmarc_explain(const void *ctx, struct arena *a)
{
	const struct dmarc_outcome *d = ctx;
	const char *dom = d->header_from != NULL ? d->header_from : "-";
	const char *why = d->reason != NULL ? d->reason : "";

	switch (d->result) {
	case DMARC_RESULT_PASS:
		return arena_printf(a, "%s passes DMARC: %s aligns with the "
		    "From domain", dom, d->dkim_aligned ? "DKIM" : "SPF");
	case DMARC_RESULT_FAIL:
		if (d->applied == DMARC_POLICY_REJECT ||
		    d->applied == DMARC_POLICY_QUARANTINE)
			return arena_printf(a, "DMARC policy of %s says %s: "
			    "neither SPF nor DKIM aligns with the From domain",
			    dom, dmarc_policy_name(d->applied));
		return arena_printf(a, "%s fails DMARC, and its policy asks "
		    "for nothing (%s)", dom, d->sampled_out ?
		    "sampled out by pct=" : "p=none");
	case DMARC_RESULT_TEMPERROR:
		return arena_printf(a, "the DMARC policy of %s could not be "
		    "looked up: %s", dom, why);
	case DMARC_RESULT_PERMERROR:
		return arena_printf(a, "the DMARC record of %s is broken: %s",
		    dom, why);
	case DMARC_RESULT_NONE:
	default:
		break;
	}
	return arena_printf(a, "no DMARC policy for %s%s%s", dom,
	    why[0] != '\0' ? ": " : "", why);
}

/* A failing domain's policy: a request to the verdict, unless it is
 * only monitored. */
static void
dmarc_fail_symbol(const struct pipeline *p, const struct dmarc_outcome *d,
    const char **sym, double *score, enum finding_wants *wants)
{
	bool enforce = !dmarc_monitor(p);

	switch (d->applied) {
	case DMARC_POLICY_REJECT:
		*sym = "DMARC_POLICY_REJECT";
		*score = DMARC_REJECT_SCORE;
		*wants = enforce ? FINDING_WANTS_REJECT : FINDING_WANTS_NOTHING;
		return;
	case DMARC_POLICY_QUARANTINE:
		*sym = "DMARC_POLICY_QUARANTINE";
		*score = DMARC_QUARANTINE_SCORE;
		*wants = enforce ? FINDING_WANTS_JUNK : FINDING_WANTS_NOTHING;
		return;
	case DMARC_POLICY_UNSET:
	case DMARC_POLICY_NONE:
		break;
	}
	*sym = "DMARC_POLICY_NONE";
	*score = DMARC_NONE_SCORE;
}

static void
dmarc_finding(struct pipeline *p, const struct dmarc_outcome *d)
{
	enum finding_wants wants = FINDING_WANTS_NOTHING;
	const char *sym = "DMARC_NONE";
	double score = 0;
	struct finding *x;

	switch (d->result) {
	case DMARC_RESULT_PASS:
		sym = "DMARC_PASS";
		break;
	case DMARC_RESULT_FAIL:
		dmarc_fail_symbol(p, d, &sym, &score, &wants);
		break;
	case DMARC_RESULT_TEMPERROR:
		sym = "DMARC_TEMPERROR";
		break;
	case DMARC_RESULT_PERMERROR:
		sym = "DMARC_PERMERROR";
		break;
	case DMARC_RESULT_NONE:
	default:
		break;
	}
	x = findings_add_lazy(pipeline_findings(p), "dmarc", sym, score,
	    dmarc_explain, d);
	x->wants = wants;
	x->authres = dmarc_authres(pipeline_arena(p), d);
}

static void
dmarc_done(const struct dmarc_outcome *d, void *arg)
{
	struct dmarc_state *st = arg;
	struct dmarc_outcome *copy = arena_memdup(pipeline_arena(st->p), d,
	    sizeof(*d));

	st->check = NULL;
	pipeline_facts(st->p)->dmarc = copy;
	dmarc_finding(st->p, copy);
	pipeline_release(st->p, st->hold);
	st->hold = NULL;
}

/* SPF for MAIL FROM and DKIM are in: DMARC can decide. */
static void
dmarc_progress(struct pipeline *p, void *state)
{
	struct dmarc_state *st = state;
	const struct check_facts *facts = pipeline_facts(p);

	if (st->check == NULL || st->provided || facts->spf_mailfrom == NULL ||
	    !facts->dkim_done)
		return;
	st->provided = true;
	dmarc_check_provide(st->check, facts->spf_mailfrom, facts->dkim,
	    facts->ndkim);
}

/* The header section: From, parsed once for every check; the record
 * lookup starts now. */
static void
dmarc_headers(struct pipeline *p, struct dmarc_state *st)
{
	const struct check_txn *t = pipeline_txn(p);
	const struct pipeline_env *env = pipeline_env(p);
	struct check_facts *facts = pipeline_facts(p);
	struct arena *a = pipeline_arena(p);
	struct hdr_section *hs = arena_calloc(a, 1, sizeof(*hs));
	struct from_result *from = arena_calloc(a, 1, sizeof(*from));

	hdr_parse(t->msg, t->header_len, a, hs);
	from_parse_header(hs, a, from);
	facts->headers = hs;
	facts->from = from;
	st->req.ip = t->ip;
	st->req.from = from;
	st->req.envelope_from = t->mail_from != NULL ? t->mail_from : "";
	st->req.deferred = true;
	st->req.seeded = t->dmarc_seeded;
	st->req.seed = t->dmarc_seed;
	st->started = true;
	st->hold = pipeline_hold(p, CHECK_EOM);
	st->check = dmarc_check_start(env->base, env->resolver, &st->req, a,
	    dmarc_done, st);
}

static void
dmarc_stage(struct pipeline *p, void *state, enum check_stage stage)
{
	struct dmarc_state *st = state;

	st->p = p;
	if (!st->started)	/* HEADERS, or EOM when no HEADERS ran */
		dmarc_headers(p, st);
	dmarc_progress(p, st);
}

static void
dmarc_cancel(void *state)
{
	struct dmarc_state *st = state;

	if (st->check != NULL)
		dmarc_check_cancel(st->check);
	st->check = NULL;
}

static void
dmarc_expire(struct pipeline *p, void *state)
{
	struct dmarc_state *st = state;

	dmarc_progress(p, st);
	if (st->check != NULL)
		dmarc_check_expire(st->check, pipeline_deadline_why(p));
}

const struct check check_dmarc = {
	.name = "dmarc",
	.stages = CHECK_AT(CHECK_HEADERS) | CHECK_AT(CHECK_EOM),
	.state_size = sizeof(struct dmarc_state),
	.stage = dmarc_stage,
	.cancel = dmarc_cancel,
	.expire = dmarc_expire,
	.progress = dmarc_progress,
};
