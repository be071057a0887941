/*
 * check_dkim — every DKIM-Signature (RFC 6376): the keys are looked up
 * as soon as the header section is in (HEADERS), the body is hashed at
 * EOM, and the results come when both are done.
 *
 * A valid signature is a fact, not a point in favour (spammers sign
 * too); a broken one weighs a little, since lists and forwarders break
 * signatures on honest mail all the time.
 */
#include <string.h>

#include "auth/dkim/dkim_verify.h"
#include "core/arena.h"
#include "filter/checks.h"
#include "filter/facts.h"
#include "filter/finding.h"
#include "filter/pipeline.h"

#define DKIM_INVALID_SCORE	0.3
#define DKIM_PERMERROR_SCORE	0.2

struct dkim_state {
	struct pipeline		*p;
	struct dkim_verify	*v;
	struct pipeline_hold	*hold;
	bool			 streamed;	/* fed by the driver */
	bool			 body_done;
	bool			 keys_pending;
};

static const char *
dkim_symbol(enum dkim_result r, double *score)
{
	*score = 0;
	switch (r) {
	case DKIM_RESULT_PASS:
		return "DKIM_VALID";
	case DKIM_RESULT_FAIL:
		*score = DKIM_INVALID_SCORE;
		return "DKIM_INVALID";
	case DKIM_RESULT_NEUTRAL:
		return "DKIM_NEUTRAL";
	case DKIM_RESULT_POLICY:
		*score = DKIM_PERMERROR_SCORE;
		return "DKIM_POLICY";
	case DKIM_RESULT_PERMERROR:
		*score = DKIM_PERMERROR_SCORE;
		return "DKIM_PERMERROR";
	case DKIM_RESULT_TEMPERROR:
		return "DKIM_TEMPERROR";
	case DKIM_RESULT_NONE:
		break;
	}
	return "DKIM_NONE";
}

static struct authres_resinfo *
dkim_authres(struct arena *a, const struct dkim_sig_result *d)
{
	struct authres_header tmp;
	struct authres_resinfo *ri;
	char b8[9] = "";

	memset(&tmp, 0, sizeof(tmp));
	ri = authres_add(&tmp, a, "dkim", dkim_result_name(d->result));
	if (d->reason != NULL)
		authres_resinfo_comment(ri, a, d->reason);
	authres_resinfo_prop(ri, a, "header", "d", d->domain);
	authres_resinfo_prop(ri, a, "header", "s", d->selector);
	if (d->b_prefix != NULL) {
		strncpy(b8, d->b_prefix, 8);
		b8[8] = '\0';
	}
	authres_resinfo_prop(ri, a, "header", "b", b8);
	return ri;
}

static const struct dkim_sig_result *
dkim_copy(const struct dkim_sig_result *r, size_t n, struct arena *a)
{
	struct dkim_sig_result *d = arena_calloc(a, n ? n : 1, sizeof(*d));
	size_t i;

#define DUP(f)	(r[i].f != NULL ? arena_strdup(a, r[i].f) : NULL)
	for (i = 0; i < n; i++) {
		d[i] = r[i];
		d[i].domain = DUP(domain);
		d[i].selector = DUP(selector);
		d[i].algorithm = DUP(algorithm);
		d[i].identity = DUP(identity);
		d[i].b_prefix = DUP(b_prefix);
		d[i].reason = DUP(reason);
	}
#undef DUP
	return d;
}

/* The reason of one signature, made when someone asks (finding.h). */
static const char *
dkim_explain(const void *ctx, struct arena *a)
{
	const struct dkim_sig_result *d = ctx;

	return arena_printf(a, "DKIM signature of %s (selector %s): %s",
	    d->domain, d->selector, d->reason != NULL ? d->reason :
	    "verifies");
}

static void
dkim_findings(struct pipeline *p, const struct dkim_sig_result *d,
    size_t n)
{
	struct findings *f = pipeline_findings(p);
	struct authres_header tmp;
	struct authres_resinfo *ri;
	struct finding *x;
	const char *sym;
	double score;
	size_t i;

	if (n == 0) {
		x = findings_add_lazy(f, "dkim", "DKIM_NONE", 0, NULL, NULL);
		x->reason = "the message carries no DKIM signature";
		memset(&tmp, 0, sizeof(tmp));
		ri = authres_add(&tmp, pipeline_arena(p), "dkim", "none");
		authres_resinfo_comment(ri, pipeline_arena(p), "no signature");
		x->authres = ri;
		return;
	}
	for (i = 0; i < n; i++) {
		sym = dkim_symbol(d[i].result, &score);
		x = findings_add_lazy(f, "dkim", sym, score, dkim_explain,
		    &d[i]);
		x->authres = dkim_authres(pipeline_arena(p), &d[i]);
	}
}

/* Body and keys are in: the results. */
static void
dkim_finish(struct dkim_state *st)
{
	const struct dkim_sig_result *res = NULL;
	struct check_facts *facts = pipeline_facts(st->p);
	size_t n = dkim_verify_finish(st->v, &res);

	facts->dkim = dkim_copy(res, n, pipeline_arena(st->p));
	facts->ndkim = n;
	facts->dkim_done = true;
	dkim_verify_free(st->v);
	st->v = NULL;
	dkim_findings(st->p, facts->dkim, n);
	pipeline_release(st->p, st->hold);
	st->hold = NULL;
}

static void
dkim_keys_in(struct dkim_verify *v, void *arg)
{
	struct dkim_state *st = arg;

	(void)v;
	st->keys_pending = false;
	if (st->body_done)
		dkim_finish(st);
}

/* The header section is in: the verifier (the driver's, when it fed
 * the message as it streamed in; else our own), and the key lookups. */
static void
dkim_headers(struct pipeline *p, struct dkim_state *st)
{
	const struct check_txn *t = pipeline_txn(p);
	struct check_facts *facts = pipeline_facts(p);
	struct dkim_verify_options vo;

	if (facts->dkim_stream != NULL) {
		st->v = facts->dkim_stream;	/* ours now */
		facts->dkim_stream = NULL;
		st->streamed = true;
	} else {
		memset(&vo, 0, sizeof(vo));
		vo.now = (time_t)t->now;
		vo.clock_skew = -1;
		st->v = dkim_verify_new(&vo);
		dkim_verify_header(st->v, t->msg, t->header_len);
	}
	st->hold = pipeline_hold(p, CHECK_EOM);
	st->keys_pending = dkim_verify_lookup(st->v, pipeline_env(p)->resolver,
	    dkim_keys_in, st) > 0;
}

static void
dkim_stage(struct pipeline *p, void *state, enum check_stage stage)
{
	struct dkim_state *st = state;
	const struct check_txn *t = pipeline_txn(p);

	st->p = p;
	if (stage == CHECK_HEADERS) {
		dkim_headers(p, st);
		return;
	}
	if (st->v == NULL)		/* no HEADERS stage was run */
		dkim_headers(p, st);
	if (!st->streamed)
		dkim_verify_body(st->v, t->msg + t->header_len,
		    t->len - t->header_len);
	st->body_done = true;
	if (!st->keys_pending)
		dkim_finish(st);
}

static void
dkim_cancel(void *state)
{
	struct dkim_state *st = state;

	if (st->v != NULL)
		dkim_verify_free(st->v);
	st->v = NULL;
}

static void
dkim_expire(struct pipeline *p, void *state)
{
	struct dkim_state *st = state;

	if (st->v == NULL)
		return;
	if (st->keys_pending)
		dkim_verify_expire(st->v, pipeline_deadline_why(p));
	st->keys_pending = false;
	if (st->body_done)
		dkim_finish(st);
}

const struct check check_dkim = {
	.name = "dkim",
	.stages = CHECK_AT(CHECK_HEADERS) | CHECK_AT(CHECK_EOM),
	.state_size = sizeof(struct dkim_state),
	.stage = dkim_stage,
	.cancel = dkim_cancel,
	.expire = dkim_expire,
};
