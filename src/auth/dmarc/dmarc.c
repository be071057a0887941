/*
 * dmarc — DMARC evaluation for one message (RFC 7489 3, 6.6; np from
 * DMARCbis). See dmarc.h.
 *
 * States: FROM_DOMAIN (TXT at _dmarc.<From domain>), ORG_DOMAIN (TXT at
 * _dmarc.<organizational domain>, only when the first set was empty),
 * EXISTS (A, AAAA and MX of the From domain at once, only when the
 * record came from the organizational domain and has np=), then
 * evaluation, which is pure (dmarc_evaluate). The public suffix list is
 * loaded once per process, read-only afterwards.
 */
#include <event2/event.h>
#include <libpsl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/dkim/dkim_verify.h"
#include "auth/dmarc/dmarc.h"

enum dmarc_state {
	DMARC_S_FROM_DOMAIN,
	DMARC_S_ORG_DOMAIN,
	DMARC_S_EXISTS,
	DMARC_S_DONE,
};

#define EXISTS_QUERIES	3

struct dmarc_check;

struct exists_slot {
	struct dmarc_check	*c;
	struct dns_query	*q;
};

/* A deferred check that got as far as it can without SPF and DKIM. */
enum dmarc_park {
	DMARC_PARK_NONE,
	DMARC_PARK_EVALUATE,	/* record known: evaluate when they come */
	DMARC_PARK_FINISH,	/* result known (none, temperror, ...) */
};

struct dmarc_check {
	enum dmarc_state	 state;
	struct event_base	*base;
	struct dns_resolver	*resolver;
	struct arena		*out;
	dmarc_done_cb		*cb;
	void			*cb_arg;
	struct event		*kick;
	struct dns_query	*q;
	struct exists_slot	 ex[EXISTS_QUERIES];
	size_t			 ex_pending;
	bool			 ex_found;	/* some A/AAAA/MX, or trouble */
	bool			 seeded;
	uint64_t		 seed;
	bool			 spf_temp_aligned;
	bool			 dkim_temp_aligned;
	bool			 waiting;	/* for dmarc_check_provide() */
	enum dmarc_park		 parked;
	struct dmarc_outcome	 o;
};

/* --- public suffix list --------------------------------------------- */

static pthread_once_t	 psl_once = PTHREAD_ONCE_INIT;
static psl_ctx_t	*psl_ctx;	/* written once, then read-only */

static void
psl_load(void)
{
	/* The system list (/usr/share/publicsuffix) when it is newer than
	 * the one built into libpsl, which is the fallback. */
	psl_ctx = psl_latest(NULL);
}

const char *
dmarc_org_domain(const char *domain, struct arena *a)
{
	const char *r;

	pthread_once(&psl_once, psl_load);
	r = psl_ctx != NULL ? psl_registrable_domain(psl_ctx, domain) :
	    psl_registrable_domain(psl_builtin(), domain);
	return arena_strdup(a, r != NULL ? r : domain);
}

bool
dmarc_aligned(const char *a, const char *b, enum dmarc_align mode)
{
	struct arena *ar;
	bool same;

	if (a == NULL || b == NULL || a[0] == '\0' || b[0] == '\0')
		return false;
	if (strcasecmp(a, b) == 0)
		return true;
	if (mode == DMARC_ALIGN_STRICT)
		return false;
	ar = arena_new(512);
	same = strcasecmp(dmarc_org_domain(a, ar), dmarc_org_domain(b, ar))
	    == 0;
	arena_free(ar);
	return same;
}

const char *
dmarc_result_name(enum dmarc_result r)
{
	switch (r) {
	case DMARC_RESULT_NONE:		return "none";
	case DMARC_RESULT_PASS:		return "pass";
	case DMARC_RESULT_FAIL:		return "fail";
	case DMARC_RESULT_TEMPERROR:	return "temperror";
	case DMARC_RESULT_PERMERROR:	return "permerror";
	}
	return "unknown";
}

/* --- the check ------------------------------------------------------- */

static void
dmarc_free(struct dmarc_check *c)
{
	size_t i;

	if (c->q != NULL)
		dns_cancel(c->q);
	for (i = 0; i < EXISTS_QUERIES; i++)
		if (c->ex[i].q != NULL)
			dns_cancel(c->ex[i].q);
	if (c->kick != NULL)
		event_free(c->kick);
	free(c);
}

void
dmarc_check_cancel(struct dmarc_check *c)
{
	if (c != NULL)
		dmarc_free(c);
}

static void
dmarc_finish(struct dmarc_check *c, enum dmarc_result r, const char *why)
{
	c->state = DMARC_S_DONE;
	c->o.result = r;
	c->o.reason = why;
	if (c->waiting) {
		c->parked = DMARC_PARK_FINISH;
		return;
	}
	c->cb(&c->o, c->cb_arg);
	dmarc_free(c);
}

/* splitmix64: a fixed, well-mixed function of the seed. */
static uint64_t
mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static enum dmarc_policy
less_strict(enum dmarc_policy p)
{
	return p == DMARC_POLICY_REJECT ? DMARC_POLICY_QUARANTINE :
	    DMARC_POLICY_NONE;
}

/* Alignment, result and policy once the record is known. */
static void
dmarc_evaluate(struct dmarc_check *c)
{
	struct dmarc_outcome *o = &c->o;
	const struct dmarc_record *rec = &o->record;
	bool subdomain = strcasecmp(o->record_domain, o->header_from) != 0;
	enum dmarc_result r;
	const char *why;
	size_t i;

	if (c->waiting) {
		c->parked = DMARC_PARK_EVALUATE;
		return;
	}
	o->spf_aligned = o->spf_result == SPF_RESULT_PASS &&
	    dmarc_aligned(o->spf_domain, o->header_from, rec->aspf);
	c->spf_temp_aligned = o->spf_result == SPF_RESULT_TEMPERROR &&
	    dmarc_aligned(o->spf_domain, o->header_from, rec->aspf);
	for (i = 0; i < o->ndkim; i++) {
		struct dmarc_dkim_fact *f = &o->dkim[i];
		bool al = dmarc_aligned(f->domain, o->header_from, rec->adkim);

		f->aligned = al;
		if (al && f->result == DKIM_RESULT_PASS)
			o->dkim_aligned = true;
		if (al && f->result == DKIM_RESULT_TEMPERROR)
			c->dkim_temp_aligned = true;
	}

	/* The policy the record requests for this From domain. */
	if (!subdomain) {
		o->requested = rec->p;
		o->policy_source = DMARC_FROM_P;
	} else if (o->nonexistent && rec->np != DMARC_POLICY_UNSET) {
		o->requested = rec->np;
		o->policy_source = DMARC_FROM_NP;
	} else if (rec->sp != DMARC_POLICY_UNSET) {
		o->requested = rec->sp;
		o->policy_source = DMARC_FROM_SP;
	} else {
		o->requested = rec->p;
		o->policy_source = DMARC_FROM_P;
	}

	if (o->spf_aligned || o->dkim_aligned) {
		r = DMARC_RESULT_PASS;
		why = arena_printf(c->out, "%s aligned with %s",
		    o->dkim_aligned && o->spf_aligned ? "DKIM and SPF" :
		    o->dkim_aligned ? "DKIM" : "SPF", o->header_from);
	} else if (c->spf_temp_aligned || c->dkim_temp_aligned) {
		r = DMARC_RESULT_TEMPERROR;
		why = arena_printf(c->out, "no aligned pass, and an aligned "
		    "%s check had a temporary error", c->dkim_temp_aligned ?
		    "DKIM" : "SPF");
	} else {
		r = DMARC_RESULT_FAIL;
		why = arena_printf(c->out, "neither SPF (%s, %s) nor DKIM "
		    "passed aligned with %s (adkim=%s aspf=%s)",
		    spf_result_name(o->spf_result),
		    o->spf_domain && o->spf_domain[0] ? o->spf_domain :
		    "no domain", o->header_from,
		    rec->adkim == DMARC_ALIGN_STRICT ? "s" : "r",
		    rec->aspf == DMARC_ALIGN_STRICT ? "s" : "r");
	}

	o->evaluated = r == DMARC_RESULT_FAIL ? o->requested :
	    DMARC_POLICY_NONE;
	o->applied = o->evaluated;
	if (o->evaluated != DMARC_POLICY_NONE && rec->pct < 100) {
		unsigned draw = c->seeded ? (unsigned)(mix64(c->seed) % 100) :
		    arc4random_uniform(100);

		if (draw >= rec->pct) {
			o->sampled_out = true;
			o->applied = less_strict(o->evaluated);
		}
	}
	dmarc_finish(c, r, why);
}

static void
on_exists(struct dns_answer *ans, void *arg)
{
	struct exists_slot *s = arg;
	struct dmarc_check *c = s->c;

	s->q = NULL;
	/* Only NXDOMAIN or NODATA for all three makes it non-existent;
	 * DNS trouble counts as existing (the milder sp/p applies). */
	if (ans->status != DNS_NXDOMAIN && ans->status != DNS_NODATA)
		c->ex_found = true;
	dns_answer_free(ans);
	if (--c->ex_pending > 0)
		return;
	c->o.nonexistent = !c->ex_found;
	dmarc_evaluate(c);
}

static void start_lookup(struct dmarc_check *, const char *domain);

static void
on_txt(struct dns_answer *ans, void *arg)
{
	struct dmarc_check *c = arg;
	const char *domain = c->state == DMARC_S_FROM_DOMAIN ?
	    c->o.header_from : c->o.org_domain;
	const char *found = NULL, *why = NULL;
	enum dmarc_record_status st = DMARC_RECORD_NOT_DMARC;
	struct dmarc_record rec;
	size_t i, nrec = 0;

	c->q = NULL;
	memset(&rec, 0, sizeof(rec));
	if (ans->status == DNS_TIMEOUT || ans->status == DNS_SERVFAIL ||
	    ans->status == DNS_ERROR) {
		why = arena_printf(c->out, "DNS %s looking up _dmarc.%s TXT",
		    dns_status_name(ans->status), domain);
		dns_answer_free(ans);
		dmarc_finish(c, DMARC_RESULT_TEMPERROR, why);
		return;
	}
	for (i = 0; ans->status == DNS_OK && i < ans->n; i++) {
		const struct dns_rr *rr = &ans->rr[i];
		struct dmarc_record tmp;
		const char *tmpwhy = NULL;
		enum dmarc_record_status s;

		if (rr->type != DNS_T_TXT)
			continue;
		s = dmarc_record_parse(rr->u.txt.joined, rr->u.txt.joined_len,
		    c->out, &tmp, &tmpwhy);
		if (s == DMARC_RECORD_NOT_DMARC)
			continue;
		if (nrec++ == 0) {
			st = s;
			rec = tmp;
			why = tmpwhy;
			found = arena_strndup(c->out, rr->u.txt.joined,
			    rr->u.txt.joined_len);
		}
	}
	dns_answer_free(ans);

	if (nrec == 0) {
		if (c->state == DMARC_S_FROM_DOMAIN &&
		    strcasecmp(c->o.org_domain, c->o.header_from) != 0) {
			c->state = DMARC_S_ORG_DOMAIN;
			start_lookup(c, c->o.org_domain);
			return;
		}
		dmarc_finish(c, DMARC_RESULT_NONE, arena_printf(c->out,
		    "no DMARC record for %s", c->o.header_from));
		return;
	}
	c->o.record_domain = arena_strdup(c->out, domain);
	c->o.record_text = found;
	if (nrec > 1) {
		dmarc_finish(c, DMARC_RESULT_PERMERROR, arena_printf(c->out,
		    "_dmarc.%s has %zu DMARC records; DMARC does not apply",
		    domain, nrec));
		return;
	}
	if (st == DMARC_RECORD_INVALID) {
		dmarc_finish(c, DMARC_RESULT_PERMERROR, arena_printf(c->out,
		    "the DMARC record of %s is invalid: %s", domain, why));
		return;
	}
	c->o.record = rec;
	if (strcasecmp(domain, c->o.header_from) != 0 &&
	    rec.np != DMARC_POLICY_UNSET) {
		static const uint16_t types[EXISTS_QUERIES] = { DNS_T_A,
		    DNS_T_AAAA, DNS_T_MX };

		c->state = DMARC_S_EXISTS;
		c->ex_pending = EXISTS_QUERIES;
		for (i = 0; i < EXISTS_QUERIES; i++) {
			c->ex[i].c = c;
			c->ex[i].q = dns_query(c->resolver, c->o.header_from,
			    types[i], on_exists, &c->ex[i]);
		}
		return;
	}
	dmarc_evaluate(c);
}

static void
start_lookup(struct dmarc_check *c, const char *domain)
{
	char *name = arena_printf(c->out, "_dmarc.%s", domain);

	c->q = dns_query(c->resolver, name, DNS_T_TXT, on_txt, c);
}

static void
on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct dmarc_check *c = arg;

	(void)fd;
	(void)what;
	if (c->parked == DMARC_PARK_EVALUATE)
		dmarc_evaluate(c);
	else
		dmarc_finish(c, c->o.result, c->o.reason);
}

/* What DMARC keeps of the SPF outcome and the DKIM results. */
static void
dmarc_take_auth(struct dmarc_check *c, const struct spf_outcome *spf,
    const struct dkim_sig_result *dkim, size_t ndkim)
{
	struct dmarc_outcome *o = &c->o;
	struct arena *out = c->out;
	size_t i;

	if (spf != NULL) {
		o->spf_result = spf->result;
		o->spf_domain = spf->domain ? arena_strdup(out, spf->domain) :
		    NULL;
	}
	o->ndkim = ndkim;
	o->dkim = arena_calloc(out, ndkim ? ndkim : 1, sizeof(*o->dkim));
	for (i = 0; i < ndkim; i++) {
		o->dkim[i].domain = arena_strdup(out, dkim[i].domain ?
		    dkim[i].domain : "");
		o->dkim[i].selector = arena_strdup(out, dkim[i].selector ?
		    dkim[i].selector : "");
		o->dkim[i].result = dkim[i].result;
	}
}

void
dmarc_check_provide(struct dmarc_check *c, const struct spf_outcome *spf,
    const struct dkim_sig_result *dkim, size_t ndkim)
{
	struct timeval now = { 0, 0 };

	if (!c->waiting)
		return;
	c->waiting = false;
	dmarc_take_auth(c, spf, dkim, ndkim);
	if (c->parked == DMARC_PARK_NONE)
		return;		/* lookups still out: they go on */
	if (c->kick == NULL && (c->kick = evtimer_new(c->base, on_kick,
	    c)) == NULL)
		abort();
	evtimer_add(c->kick, &now);
}

void
dmarc_check_expire(struct dmarc_check *c, const char *why)
{
	size_t i;

	if (c->parked != DMARC_PARK_NONE || c->state == DMARC_S_DONE)
		return;		/* nothing is out */
	if (c->state == DMARC_S_EXISTS) {
		for (i = 0; i < EXISTS_QUERIES; i++)
			if (c->ex[i].q != NULL) {
				dns_cancel(c->ex[i].q);
				c->ex[i].q = NULL;
			}
		c->ex_pending = 0;
		c->o.nonexistent = false;	/* trouble counts as existing */
		dmarc_evaluate(c);
		return;
	}
	if (c->q != NULL) {
		dns_cancel(c->q);
		c->q = NULL;
	}
	dmarc_finish(c, DMARC_RESULT_TEMPERROR, arena_strdup(c->out, why));
}

struct dmarc_check *
dmarc_check_start(struct event_base *base, struct dns_resolver *resolver,
    const struct dmarc_request *req, struct arena *out, dmarc_done_cb *cb,
    void *arg)
{
	struct dmarc_check *c = calloc(1, sizeof(*c));
	struct dmarc_outcome *o;

	if (c == NULL)
		abort();
	o = &c->o;
	c->base = base;
	c->resolver = resolver;
	c->out = out;
	c->cb = cb;
	c->cb_arg = arg;
	c->seeded = req->seeded;
	c->seed = req->seed;
	o->ip = req->ip;
	o->record.pct = 100;
	o->evaluated = o->applied = DMARC_POLICY_NONE;
	o->envelope_from = arena_strdup(out, req->envelope_from ?
	    req->envelope_from : "");
	c->waiting = req->deferred;
	if (!c->waiting)
		dmarc_take_auth(c, req->spf, req->dkim, req->ndkim);

	if (req->from == NULL || req->from->status != FROM_OK) {
		struct timeval now = { 0, 0 };

		o->result = DMARC_RESULT_PERMERROR;
		o->reason = req->from == NULL ? "no From field was given" :
		    arena_strdup(out, req->from->reason);
		c->state = DMARC_S_DONE;	/* nothing to look up */
		c->kick = evtimer_new(base, on_kick, c);
		evtimer_add(c->kick, &now);
		return c;
	}
	o->header_from = arena_strdup(out, req->from->domain);
	o->org_domain = dmarc_org_domain(o->header_from, out);
	c->state = DMARC_S_FROM_DOMAIN;
	start_lookup(c, o->header_from);
	return c;
}
