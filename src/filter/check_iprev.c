/*
 * check_iprev — forward-confirmed reverse DNS of the client (RFC 8601
 * 3, "iprev"), started at CONNECT, needed at EOM.
 *
 * A missing or unconfirmed PTR weighs a little (most spam comes from
 * hosts without one, and so does some small legitimate mail): 1.0. DNS
 * trouble is no evidence either way.
 */
#include <string.h>

#include "auth/iprev.h"
#include "core/arena.h"
#include "filter/checks.h"
#include "filter/facts.h"
#include "filter/finding.h"
#include "filter/pipeline.h"

#define IPREV_FAIL_SCORE	1.0
#define IPREV_PERMERROR_SCORE	0.5

struct iprev_state {
	struct pipeline		*p;
	struct iprev_check	*check;
	struct pipeline_hold	*hold;
};

static struct authres_resinfo *
iprev_authres(struct arena *a, const struct iprev_outcome *o)
{
	struct authres_header tmp;
	struct authres_resinfo *ri;
	char ip[IP_STRLEN];

	memset(&tmp, 0, sizeof(tmp));
	ri = authres_add(&tmp, a, "iprev", iprev_result_name(o->result));
	ip_format(&o->ip, ip, sizeof(ip));
	authres_resinfo_prop(ri, a, "policy", "iprev", ip);
	if (ri->nprops > 0 && o->name != NULL)
		ri->props[0].comment = arena_strdup(a, o->name);
	else if (o->result != IPREV_RESULT_PASS && o->reason != NULL)
		authres_resinfo_comment(ri, a, o->reason);
	return ri;
}

/* The reason, made when someone asks (finding.h). */
static const char *
iprev_explain(const void *ctx, struct arena *a)
{
	const struct iprev_outcome *o = ctx;
	const char *why = o->reason;
	char ip[IP_STRLEN];

	ip_format(&o->ip, ip, sizeof(ip));
	switch (o->result) {
	case IPREV_RESULT_PASS:
		return arena_printf(a, "the client %s is %s, and that name "
		    "points back to it", ip, o->name != NULL ? o->name :
		    "named");
	case IPREV_RESULT_FAIL:
		return arena_printf(a, "the client %s has no reverse name that "
		    "points back to it (%s)", ip, why != NULL ? why : "no PTR");
	case IPREV_RESULT_PERMERROR:
		return arena_printf(a, "the client %s has no usable reverse "
		    "name (%s)", ip, why != NULL ? why : "permerror");
	case IPREV_RESULT_TEMPERROR:
	case IPREV_RESULT_NONE:
	default:
		break;
	}
	return arena_printf(a, "the reverse DNS of %s could not be looked up "
	    "(%s)", ip, why != NULL ? why : "DNS trouble");
}

static void
iprev_finding(struct pipeline *p, const struct iprev_outcome *o)
{
	const char *sym = "IPREV_TEMPERROR";
	double score = 0;
	struct finding *x;

	switch (o->result) {
	case IPREV_RESULT_PASS:
		sym = "IPREV_PASS";
		break;
	case IPREV_RESULT_FAIL:
		sym = "IPREV_FAIL";
		score = IPREV_FAIL_SCORE;
		break;
	case IPREV_RESULT_PERMERROR:
		sym = "IPREV_PERMERROR";
		score = IPREV_PERMERROR_SCORE;
		break;
	case IPREV_RESULT_TEMPERROR:
	case IPREV_RESULT_NONE:
	default:
		break;
	}
	x = findings_add_lazy(pipeline_findings(p), "iprev", sym, score,
	    iprev_explain, o);
	x->authres = iprev_authres(pipeline_arena(p), o);
}

static void
iprev_done(const struct iprev_outcome *o, void *arg)
{
	struct iprev_state *st = arg;
	struct iprev_outcome *copy = arena_memdup(pipeline_arena(st->p), o,
	    sizeof(*o));

	st->check = NULL;
	pipeline_facts(st->p)->iprev = copy;
	iprev_finding(st->p, copy);
	pipeline_release(st->p, st->hold);
	st->hold = NULL;
}

static void
iprev_stage(struct pipeline *p, void *state, enum check_stage stage)
{
	struct iprev_state *st = state;
	const struct pipeline_env *env = pipeline_env(p);

	(void)stage;
	st->p = p;
	st->hold = pipeline_hold(p, CHECK_EOM);
	st->check = iprev_check_start(env->base, env->resolver,
	    &pipeline_txn(p)->ip, pipeline_arena(p), iprev_done, st);
}

static void
iprev_cancel(void *state)
{
	struct iprev_state *st = state;

	if (st->check != NULL)
		iprev_check_cancel(st->check);
	st->check = NULL;
}

static void
iprev_expire(struct pipeline *p, void *state)
{
	struct iprev_state *st = state;

	/* the callback runs from here, with a temperror */
	if (st->check != NULL)
		iprev_check_expire(st->check, pipeline_deadline_why(p));
}

const struct check check_iprev = {
	.name = "iprev",
	.stages = CHECK_AT(CHECK_CONNECT),
	.state_size = sizeof(struct iprev_state),
	.stage = iprev_stage,
	.cancel = iprev_cancel,
	.expire = iprev_expire,
};
