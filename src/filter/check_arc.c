/*
 * check_arc — the ARC chain (RFC 8617) of the whole message at EOM,
 * through arc_auth. Its result is a fact for now: what a
 * valid chain from a trusted forwarder may override (a DMARC failure
 * after a mailing list) is a verdict rule still to come.
 */
#include <string.h>

#include "auth/arc/arc.h"
#include "core/arena.h"
#include "filter/checks.h"
#include "filter/facts.h"
#include "filter/finding.h"
#include "filter/pipeline.h"

#define ARC_FAIL_SCORE	0.3

struct arc_state {
	struct pipeline		*p;
	void			*handle;
	struct pipeline_hold	*hold;
};

/* The reason, made when someone asks (finding.h). */
static const char *
arc_explain(const void *ctx, struct arena *a)
{
	const struct authres_resinfo *ri = ctx;
	const char *c = ri->comment;

	return arena_printf(a, "the ARC chain is %s%s%s",
	    strcmp(ri->result, "pass") == 0 ? "intact" : "broken",
	    c != NULL ? ": " : "", c != NULL ? c : "");
}

static void
arc_finding(struct pipeline *p, const struct authres_resinfo *ri)
{
	struct findings *f = pipeline_findings(p);
	struct finding *x;

	if (ri != NULL && strcmp(ri->result, "pass") == 0)
		x = findings_add_lazy(f, "arc", "ARC_PASS", 0, arc_explain, ri);
	else if (ri != NULL && strcmp(ri->result, "fail") == 0)
		x = findings_add_lazy(f, "arc", "ARC_FAIL", ARC_FAIL_SCORE,
		    arc_explain, ri);
	else {
		x = findings_add_lazy(f, "arc", "ARC_NONE", 0, NULL, NULL);
		x->reason = "no ARC chain";
	}
	x->authres = ri;
}

static void
arc_done(void *arg, const struct authres_resinfo *ri)
{
	struct arc_state *st = arg;
	struct check_facts *facts = pipeline_facts(st->p);

	st->handle = NULL;
	if (ri != NULL) {
		struct authres_header tmp;

		/* a deep copy into our arena, through a scratch header */
		memset(&tmp, 0, sizeof(tmp));
		authres_add_resinfo(&tmp, pipeline_arena(st->p), ri);
		facts->arc = &tmp.results[0];
	}
	facts->arc_done = true;
	arc_finding(st->p, facts->arc);
	pipeline_release(st->p, st->hold);
	st->hold = NULL;
}

static void
arc_stage(struct pipeline *p, void *state, enum check_stage stage)
{
	struct arc_state *st = state;
	const struct pipeline_env *env = pipeline_env(p);
	const struct check_txn *t = pipeline_txn(p);

	(void)stage;
	st->p = p;
	st->hold = pipeline_hold(p, CHECK_EOM);
	st->handle = arc_auth_start(env->base, env->resolver, t->msg,
	    t->len, &t->ip, t->now, pipeline_arena(p), arc_done, st);
	if (st->handle == NULL) {
		/* arc_auth will not call back: no ARC result */
		pipeline_facts(p)->arc_done = true;
		pipeline_release(p, st->hold);
		st->hold = NULL;
	}
}

static void
arc_cancel(void *state)
{
	struct arc_state *st = state;

	if (st->handle != NULL)
		arc_auth_cancel(st->handle);
	st->handle = NULL;
}

static void
arc_expire(struct pipeline *p, void *state)
{
	struct arc_state *st = state;

	(void)p;
	if (st->handle != NULL)
		arc_auth_expire(st->handle);
}

const struct check check_arc = {
	.name = "arc",
	.stages = CHECK_AT(CHECK_EOM),
	.state_size = sizeof(struct arc_state),
	.stage = arc_stage,
	.cancel = arc_cancel,
	.expire = arc_expire,
};
