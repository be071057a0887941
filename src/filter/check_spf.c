/*
 * check_spf — SPF (RFC 7208) for the HELO identity at HELO and for the
 * MAIL FROM identity at MAIL, each as soon as its input is known; both
 * are needed at EOM (DMARC builds on the MAIL FROM result).
 *
 * Scores follow SpamAssassin's soft weighting: a fail alone never
 * refuses a message (forwarders break SPF every day), it adds about one
 * point; pass, none and DNS trouble add nothing.
 */
#include <string.h>

#include "auth/spf/spf.h"
#include "core/arena.h"
#include "filter/checks.h"
#include "filter/facts.h"
#include "filter/finding.h"
#include "filter/pipeline.h"

struct spf_one {
	struct spf_state	*st;
	enum spf_identity	 identity;
	struct spf_check	*check;
	struct pipeline_hold	*hold;
};

struct spf_state {
	struct pipeline		*p;
	struct spf_one		 helo;
	struct spf_one		 mailfrom;
};

struct spf_weight {
	const char	*mailfrom;	/* symbol for MAIL FROM */
	const char	*helo;		/* symbol for HELO */
	double		 score_mailfrom;
	double		 score_helo;
};

static const struct spf_weight spf_weights[] = {
	[SPF_RESULT_NONE] = { "SPF_NONE", "SPF_HELO_NONE", 0, 0 },
	[SPF_RESULT_NEUTRAL] = { "SPF_NEUTRAL", "SPF_HELO_NEUTRAL", 0.2, 0 },
	[SPF_RESULT_PASS] = { "SPF_PASS", "SPF_HELO_PASS", 0, 0 },
	[SPF_RESULT_FAIL] = { "SPF_FAIL", "SPF_HELO_FAIL", 1.0, 0.5 },
	[SPF_RESULT_SOFTFAIL] = { "SPF_SOFTFAIL", "SPF_HELO_SOFTFAIL", 0.7,
	    0.3 },
	[SPF_RESULT_TEMPERROR] = { "SPF_TEMPERROR", "SPF_HELO_TEMPERROR", 0,
	    0 },
	[SPF_RESULT_PERMERROR] = { "SPF_PERMERROR", "SPF_HELO_PERMERROR",
	    0.5, 0.2 },
};

static struct authres_resinfo *
spf_authres(struct arena *a, const struct spf_outcome *o)
{
	struct authres_header tmp;
	struct authres_resinfo *ri;

	memset(&tmp, 0, sizeof(tmp));
	ri = authres_add(&tmp, a, "spf", spf_result_name(o->result));
	if (o->identity == SPF_IDENTITY_MAILFROM)
		authres_resinfo_prop(ri, a, "smtp", "mailfrom", o->sender);
	else
		authres_resinfo_prop(ri, a, "smtp", "helo", o->helo);
	return ri;
}

/* What the result says, in words: the domain's statement about the
 * client, and the directive that made it. */
static const char *
spf_words(struct arena *a, const struct spf_outcome *o, const char *ip)
{
	const char *d = o->domain != NULL ? o->domain : "-";
	const char *m = o->mechanism != NULL ? o->mechanism : "default";
	const char *why = o->reason != NULL ? o->reason : "";

	switch (o->result) {
	case SPF_RESULT_PASS:
		return arena_printf(a, "%s lists %s as a sender (%s)", d, ip,
		    m);
	case SPF_RESULT_FAIL:
		return arena_printf(a, "%s does not allow %s to send its mail "
		    "(%s)", d, ip, m);
	case SPF_RESULT_SOFTFAIL:
		return arena_printf(a, "%s says %s is probably not its sender "
		    "(%s)", d, ip, m);
	case SPF_RESULT_NEUTRAL:
		return arena_printf(a, "%s makes no statement about %s (%s)",
		    d, ip, m);
	case SPF_RESULT_NONE:
		return why[0] != '\0' ? why : arena_printf(a, "%s publishes "
		    "no SPF record", d);
	case SPF_RESULT_TEMPERROR:
		return arena_printf(a, "the SPF record of %s could not be "
		    "looked up: %s", d, why);
	case SPF_RESULT_PERMERROR:
		break;
	}
	return arena_printf(a, "the SPF record of %s is broken: %s", d, why);
}

/* The reason, made when someone asks (finding.h). */
static const char *
spf_explain(const void *ctx, struct arena *a)
{
	const struct spf_outcome *o = ctx;
	char ip[IP_STRLEN];

	ip_format(&o->ip, ip, sizeof(ip));
	return arena_printf(a, "%s: %s", o->identity == SPF_IDENTITY_MAILFROM ?
	    "envelope sender" : "HELO name", spf_words(a, o, ip));
}

static void
spf_finding(struct pipeline *p, const struct spf_outcome *o)
{
	const struct spf_weight *w = &spf_weights[o->result];
	bool mf = o->identity == SPF_IDENTITY_MAILFROM;
	struct finding *x;

	x = findings_add_lazy(pipeline_findings(p), "spf", mf ? w->mailfrom :
	    w->helo, mf ? w->score_mailfrom : w->score_helo, spf_explain, o);
	x->authres = spf_authres(pipeline_arena(p), o);
}

static void
spf_done(const struct spf_outcome *o, void *arg)
{
	struct spf_one *one = arg;
	struct pipeline *p = one->st->p;
	struct check_facts *facts = pipeline_facts(p);
	struct spf_outcome *copy = arena_memdup(pipeline_arena(p), o,
	    sizeof(*o));

	one->check = NULL;
	if (one->identity == SPF_IDENTITY_MAILFROM)
		facts->spf_mailfrom = copy;
	else
		facts->spf_helo = copy;
	spf_finding(p, copy);
	pipeline_release(p, one->hold);
	one->hold = NULL;
}

static void
spf_start(struct pipeline *p, struct spf_one *one)
{
	const struct pipeline_env *env = pipeline_env(p);
	const struct check_txn *t = pipeline_txn(p);
	struct spf_request sq;

	memset(&sq, 0, sizeof(sq));
	sq.ip = t->ip;
	sq.sender = t->mail_from != NULL ? t->mail_from : "";
	sq.helo = t->helo;
	sq.receiver = t->receiver != NULL ? t->receiver : t->authserv_id;
	sq.now = t->now;
	sq.identity = one->identity;
	one->hold = pipeline_hold(p, CHECK_EOM);
	one->check = spf_check_start(env->base, env->resolver, &sq,
	    pipeline_arena(p), spf_done, one);
}

static void
spf_stage(struct pipeline *p, void *state, enum check_stage stage)
{
	struct spf_state *st = state;
	const struct check_txn *t = pipeline_txn(p);

	st->p = p;
	st->helo.st = st->mailfrom.st = st;
	st->helo.identity = SPF_IDENTITY_HELO;
	st->mailfrom.identity = SPF_IDENTITY_MAILFROM;
	if (stage == CHECK_HELO && t->helo != NULL && t->helo[0] != '\0')
		spf_start(p, &st->helo);
	else if (stage == CHECK_MAIL)
		spf_start(p, &st->mailfrom);
}

static void
spf_cancel(void *state)
{
	struct spf_state *st = state;

	if (st->helo.check != NULL)
		spf_check_cancel(st->helo.check);
	if (st->mailfrom.check != NULL)
		spf_check_cancel(st->mailfrom.check);
	st->helo.check = st->mailfrom.check = NULL;
}

static void
spf_expire(struct pipeline *p, void *state)
{
	struct spf_state *st = state;
	const char *why = pipeline_deadline_why(p);

	/* each callback runs from its expire, with a temperror */
	if (st->helo.check != NULL)
		spf_check_expire(st->helo.check, why);
	if (st->mailfrom.check != NULL)
		spf_check_expire(st->mailfrom.check, why);
}

const struct check check_spf = {
	.name = "spf",
	.stages = CHECK_AT(CHECK_HELO) | CHECK_AT(CHECK_MAIL),
	.state_size = sizeof(struct spf_state),
	.stage = spf_stage,
	.cancel = spf_cancel,
	.expire = spf_expire,
};
