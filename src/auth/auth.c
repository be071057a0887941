/*
 * auth — one message through iprev, SPF (HELO and MAIL FROM), DKIM,
 * DMARC and ARC, all at once on the event loop. See auth.h.
 *
 * The check counts what is outstanding. iprev, both SPF checks, the DKIM
 * key lookups, the DMARC record lookup and ARC start together; DMARC
 * gets SPF for MAIL FROM and DKIM once they are in (it needs both to
 * decide); when the count reaches zero the Authentication-Results
 * header is built from the outcomes and the callback runs. Nothing is
 * decided twice: the header, the JSON and the explanations all read the
 * same outcome.
 *
 * One DNS deadline covers the whole message: during a DNS outage every
 * lookup would otherwise wait its own timeout, and the ones that depend
 * on others (an SPF include, DMARC's organizational domain) add up.
 * When it passes, each check still out is told to stop (its _expire)
 * and ends with temperror; the message goes on with what is known.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "core/json.h"

struct auth_check {
	struct event_base	*base;
	struct dns_resolver	*resolver;
	struct arena		*out;
	auth_done_cb		*cb;
	void			*cb_arg;
	const struct auth_arc_hook *arc_hook;

	struct iprev_check	*iprev;
	struct spf_check	*spf_helo;
	struct spf_check	*spf_mailfrom;
	struct dkim_verify	*dkim;
	struct dmarc_check	*dmarc;
	void			*arc;
	struct event		*kick;
	struct event		*deadline;
	double			 deadline_s;

	bool			 spf_mailfrom_done;
	bool			 dkim_done;
	size_t			 pending;
	struct hdr_section	 hs;
	struct dmarc_request	 dreq;
	const char		*authserv_id;
	struct auth_outcome	 o;
};

static void
auth_free(struct auth_check *c)
{
	if (c->iprev != NULL)
		iprev_check_cancel(c->iprev);
	if (c->spf_helo != NULL)
		spf_check_cancel(c->spf_helo);
	if (c->spf_mailfrom != NULL)
		spf_check_cancel(c->spf_mailfrom);
	if (c->dmarc != NULL)
		dmarc_check_cancel(c->dmarc);
	if (c->arc != NULL && c->arc_hook != NULL)
		c->arc_hook->cancel(c->arc);
	if (c->dkim != NULL)
		dkim_verify_free(c->dkim);
	if (c->kick != NULL)
		event_free(c->kick);
	if (c->deadline != NULL)
		event_free(c->deadline);
	free(c);
}

void
auth_check_cancel(struct auth_check *c)
{
	if (c != NULL)
		auth_free(c);
}

/* --- Authentication-Results from the outcomes ---------------------- */

static void
add_iprev(struct auth_check *c)
{
	const struct iprev_outcome *i = &c->o.iprev;
	struct authres_resinfo *ri;
	char ip[IP_STRLEN];

	ri = authres_add(&c->o.authres, c->out, "iprev",
	    iprev_result_name(i->result));
	ip_format(&i->ip, ip, sizeof(ip));
	authres_resinfo_prop(ri, c->out, "policy", "iprev", ip);
	if (ri->nprops > 0 && i->name != NULL)
		ri->props[0].comment = arena_strdup(c->out, i->name);
	else if (i->result != IPREV_RESULT_PASS && i->reason != NULL)
		authres_resinfo_comment(ri, c->out, i->reason);
}

static void
add_spf(struct auth_check *c, const struct spf_outcome *s)
{
	struct authres_resinfo *ri;

	ri = authres_add(&c->o.authres, c->out, "spf",
	    spf_result_name(s->result));
	if (s->identity == SPF_IDENTITY_MAILFROM)
		authres_resinfo_prop(ri, c->out, "smtp", "mailfrom",
		    s->sender);
	else
		authres_resinfo_prop(ri, c->out, "smtp", "helo", s->helo);
}

static void
add_dkim(struct auth_check *c)
{
	struct authres_resinfo *ri;
	size_t i;

	if (c->o.ndkim == 0) {
		ri = authres_add(&c->o.authres, c->out, "dkim", "none");
		authres_resinfo_comment(ri, c->out, "no signature");
		return;
	}
	for (i = 0; i < c->o.ndkim; i++) {
		const struct dkim_sig_result *d = &c->o.dkim[i];
		char b8[9] = "";

		ri = authres_add(&c->o.authres, c->out, "dkim",
		    dkim_result_name(d->result));
		if (d->reason != NULL)
			authres_resinfo_comment(ri, c->out, d->reason);
		authres_resinfo_prop(ri, c->out, "header", "d", d->domain);
		authres_resinfo_prop(ri, c->out, "header", "s", d->selector);
		if (d->b_prefix != NULL) {
			strncpy(b8, d->b_prefix, 8);
			b8[8] = '\0';
		}
		authres_resinfo_prop(ri, c->out, "header", "b", b8);
	}
}

static void
add_dmarc(struct auth_check *c)
{
	const struct dmarc_outcome *d = &c->o.dmarc;
	struct authres_resinfo *ri;

	ri = authres_add(&c->o.authres, c->out, "dmarc",
	    dmarc_result_name(d->result));
	/* a temperror before the record came in has only its reason */
	if (d->result == DMARC_RESULT_PASS || d->result ==
	    DMARC_RESULT_FAIL || (d->result == DMARC_RESULT_TEMPERROR &&
	    d->record_text != NULL)) {
		const struct dmarc_record *r = &d->record;

		authres_resinfo_comment(ri, c->out, arena_printf(c->out,
		    "p=%s sp=%s pct=%u dis=%s%s", dmarc_policy_name(r->p),
		    dmarc_policy_name(r->sp != DMARC_POLICY_UNSET ? r->sp :
		    r->p), r->pct, dmarc_policy_name(d->applied),
		    d->sampled_out ? " sampled-out" : ""));
	} else if (d->reason != NULL)
		authres_resinfo_comment(ri, c->out, d->reason);
	authres_resinfo_prop(ri, c->out, "header", "from", d->header_from);
	if (d->record_text != NULL && d->result != DMARC_RESULT_PERMERROR) {
		authres_resinfo_prop(ri, c->out, "policy", "dmarc",
		    dmarc_policy_name(d->requested));
		authres_resinfo_prop(ri, c->out, "policy",
		    "evaluated-disposition", dmarc_policy_name(d->evaluated));
		authres_resinfo_prop(ri, c->out, "policy",
		    "applied-disposition", dmarc_policy_name(d->applied));
	}
}

static void
build_authres(struct auth_check *c)
{
	authres_init(&c->o.authres, c->out, c->authserv_id);
	add_iprev(c);
	add_spf(c, &c->o.spf_mailfrom);
	if (c->o.spf_helo.helo != NULL)
		add_spf(c, &c->o.spf_helo);
	add_dkim(c);
	add_dmarc(c);
	/* ARC HOOK: the ARC module's resinfo, when it gave one. */
	if (c->o.arc != NULL)
		authres_add_resinfo(&c->o.authres, c->out, c->o.arc);
}

static void
auth_step_done(struct auth_check *c)
{
	if (--c->pending > 0)
		return;
	build_authres(c);
	c->cb(&c->o, c->cb_arg);
	auth_free(c);
}

/* --- the checks ------------------------------------------------------ */

static void
on_dmarc(const struct dmarc_outcome *d, void *arg)
{
	struct auth_check *c = arg;

	c->dmarc = NULL;
	c->o.dmarc = *d;
	auth_step_done(c);
}

static const struct dkim_sig_result *
copy_dkim(const struct dkim_sig_result *r, size_t n, struct arena *a)
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

/* SPF for MAIL FROM and DKIM are in: DMARC can decide. */
static void
maybe_start_dmarc(struct auth_check *c)
{
	if (!c->spf_mailfrom_done || !c->dkim_done || c->dmarc == NULL)
		return;
	dmarc_check_provide(c->dmarc, &c->o.spf_mailfrom, c->o.dkim,
	    c->o.ndkim);
}

static void
dkim_finish(struct auth_check *c)
{
	const struct dkim_sig_result *res = NULL;
	size_t n = dkim_verify_finish(c->dkim, &res);

	c->o.dkim = copy_dkim(res, n, c->out);
	c->o.ndkim = n;
	dkim_verify_free(c->dkim);
	c->dkim = NULL;
	c->dkim_done = true;
	maybe_start_dmarc(c);
	auth_step_done(c);
}

static void
on_dkim_keys(struct dkim_verify *v, void *arg)
{
	(void)v;
	dkim_finish(arg);
}

static void
on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct auth_check *c = arg;

	(void)fd;
	(void)what;
	dkim_finish(c);
}

static void
on_spf_mailfrom(const struct spf_outcome *s, void *arg)
{
	struct auth_check *c = arg;

	c->spf_mailfrom = NULL;
	c->o.spf_mailfrom = *s;
	c->spf_mailfrom_done = true;
	maybe_start_dmarc(c);
	auth_step_done(c);
}

static void
on_spf_helo(const struct spf_outcome *s, void *arg)
{
	struct auth_check *c = arg;

	c->spf_helo = NULL;
	c->o.spf_helo = *s;
	auth_step_done(c);
}

static void
on_iprev(const struct iprev_outcome *i, void *arg)
{
	struct auth_check *c = arg;

	c->iprev = NULL;
	c->o.iprev = *i;
	auth_step_done(c);
}

/* The message's DNS deadline: whatever is still out ends now. */
static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct auth_check *c = arg;
	const char *why = arena_printf(c->out, "no DNS answer within the "
	    "message's deadline of %.3g s", c->deadline_s);

	(void)fd;
	(void)what;
	c->pending++;	/* held: the callbacks below run from here */
	if (c->iprev != NULL)
		iprev_check_expire(c->iprev, why);
	if (c->spf_helo != NULL)
		spf_check_expire(c->spf_helo, why);
	if (c->spf_mailfrom != NULL)
		spf_check_expire(c->spf_mailfrom, why);
	if (c->dkim != NULL && c->kick == NULL) {
		dkim_verify_expire(c->dkim, why);
		dkim_finish(c);
	}
	if (c->arc != NULL && c->arc_hook->expire != NULL)
		c->arc_hook->expire(c->arc);
	if (c->dmarc != NULL)
		dmarc_check_expire(c->dmarc, why);
	auth_step_done(c);
}

static void
on_arc(void *arg, const struct authres_resinfo *ri)
{
	struct auth_check *c = arg;

	c->arc = NULL;
	if (ri != NULL) {
		struct authres_header tmp;

		/* a deep copy into our arena, through a scratch header */
		memset(&tmp, 0, sizeof(tmp));
		authres_add_resinfo(&tmp, c->out, ri);
		c->o.arc = &tmp.results[0];
	}
	auth_step_done(c);
}

struct auth_check *
auth_check_start(struct event_base *base, struct dns_resolver *resolver,
    const struct auth_request *req, struct arena *out, auth_done_cb *cb,
    void *arg)
{
	struct auth_check *c = calloc(1, sizeof(*c));
	struct spf_request sq;
	const char *sender = req->mail_from != NULL ? req->mail_from : "";

	if (c == NULL)
		abort();
	c->base = base;
	c->resolver = resolver;
	c->out = out;
	c->cb = cb;
	c->cb_arg = arg;
	c->arc_hook = req->arc;
	c->authserv_id = arena_strdup(out, req->authserv_id != NULL ?
	    req->authserv_id : "localhost");
	/* Held until everything has started, so no callback can finish
	 * the check from under us (they all run from the loop anyway). */
	c->pending = 1;

	hdr_parse(req->msg, req->len, out, &c->hs);
	from_parse_header(&c->hs, out, &c->o.from);
	memset(&c->dreq, 0, sizeof(c->dreq));
	c->dreq.ip = req->ip;
	c->dreq.envelope_from = arena_strdup(out, sender);
	c->dreq.seeded = req->dmarc_seeded;
	c->dreq.seed = req->dmarc_seed;

	c->pending++;
	c->iprev = iprev_check_start(base, resolver, &req->ip, out, on_iprev,
	    c);

	memset(&sq, 0, sizeof(sq));
	sq.ip = req->ip;
	sq.sender = sender;
	sq.helo = req->helo;
	sq.receiver = req->receiver;
	sq.now = req->now;
	sq.identity = SPF_IDENTITY_MAILFROM;
	c->pending++;
	c->spf_mailfrom = spf_check_start(base, resolver, &sq, out,
	    on_spf_mailfrom, c);
	if (req->helo != NULL && req->helo[0] != '\0') {
		sq.identity = SPF_IDENTITY_HELO;
		c->pending++;
		c->spf_helo = spf_check_start(base, resolver, &sq, out,
		    on_spf_helo, c);
	}

	/* DMARC looks its record up now and decides once SPF and DKIM
	 * are in (maybe_start_dmarc). */
	c->dreq.from = &c->o.from;
	c->dreq.deferred = true;
	c->pending++;
	c->dmarc = dmarc_check_start(base, resolver, &c->dreq, out, on_dmarc,
	    c);
	c->pending++;	/* DKIM */
	if (req->dkim != NULL) {
		c->dkim = req->dkim;	/* fed while the message came in */
	} else {
		struct dkim_verify_options vo;

		memset(&vo, 0, sizeof(vo));
		vo.now = (time_t)req->now;
		vo.clock_skew = -1;
		c->dkim = dkim_verify_new(&vo);
		dkim_verify_message(c->dkim, req->msg, req->len);
	}
	{
		if (dkim_verify_lookup(c->dkim, resolver, on_dkim_keys, c) ==
		    0) {
			struct timeval now = { 0, 0 };

			c->kick = evtimer_new(base, on_kick, c);
			evtimer_add(c->kick, &now);
		}
	}

	/* ARC HOOK: the ARC module validates the chain, if it is built in. */
	if (req->arc != NULL) {
		c->pending++;
		c->arc = req->arc->start(base, resolver, req->msg, req->len,
		    &req->ip, req->now, out, on_arc, c);
		if (c->arc == NULL)
			c->pending--;
	}

	if (req->deadline > 0) {
		struct timeval tv;

		c->deadline_s = req->deadline;
		tv.tv_sec = (time_t)req->deadline;
		tv.tv_usec = (suseconds_t)((req->deadline -
		    (double)tv.tv_sec) * 1e6);
		if ((c->deadline = evtimer_new(base, on_deadline, c)) == NULL)
			abort();
		evtimer_add(c->deadline, &tv);
	}

	c->pending--;	/* everything has started */
	return c;
}

/* --- JSON ------------------------------------------------------------ */

static void
kv_str_or_null(struct json *j, const char *k, const char *v)
{
	json_key(j, k);
	if (v != NULL)
		json_str(j, v);
	else
		json_null(j);
}

static void
json_spf(struct json *j, const struct spf_outcome *s)
{
	json_obj_begin(j);
	json_kv_str(j, "result", spf_result_name(s->result));
	kv_str_or_null(j, "domain", s->domain);
	kv_str_or_null(j, "mechanism", s->mechanism);
	kv_str_or_null(j, "reason", s->reason);
	json_end(j);
}

static void
json_resinfo(struct json *j, const struct authres_resinfo *ri)
{
	size_t i;

	json_obj_begin(j);
	json_kv_str(j, "result", ri->result);
	kv_str_or_null(j, "reason", ri->reason);
	kv_str_or_null(j, "comment", ri->comment);
	json_key(j, "properties");
	json_obj_begin(j);
	for (i = 0; i < ri->nprops; i++) {
		char key[128];

		snprintf(key, sizeof(key), "%s.%s", ri->props[i].ptype,
		    ri->props[i].property);
		json_kv_str(j, key, ri->props[i].value);
	}
	json_end(j);
	json_end(j);
}

void
auth_outcome_json(const struct auth_outcome *o, struct json *j,
    const char *authres_text)
{
	const struct dmarc_outcome *d = &o->dmarc;
	char ip[IP_STRLEN];
	size_t i;

	json_obj_begin(j);

	json_key(j, "iprev");
	json_obj_begin(j);
	json_kv_str(j, "result", iprev_result_name(o->iprev.result));
	json_kv_str(j, "ip", ip_format(&o->iprev.ip, ip, sizeof(ip)));
	kv_str_or_null(j, "name", o->iprev.name);
	json_key(j, "ptr");
	json_arr_begin(j);
	for (i = 0; i < o->iprev.nnames; i++)
		json_str(j, o->iprev.names[i]);
	json_end(j);
	kv_str_or_null(j, "reason", o->iprev.reason);
	json_end(j);

	json_key(j, "spf");
	json_obj_begin(j);
	json_key(j, "mailfrom");
	json_spf(j, &o->spf_mailfrom);
	json_key(j, "helo");
	if (o->spf_helo.helo != NULL)
		json_spf(j, &o->spf_helo);
	else
		json_null(j);
	json_end(j);

	json_key(j, "dkim");
	json_arr_begin(j);
	for (i = 0; i < o->ndkim; i++) {
		const struct dkim_sig_result *k = &o->dkim[i];

		json_obj_begin(j);
		json_kv_str(j, "result", dkim_result_name(k->result));
		json_kv_str(j, "domain", k->domain ? k->domain : "");
		json_kv_str(j, "selector", k->selector ? k->selector : "");
		json_kv_str(j, "algorithm", k->algorithm ? k->algorithm : "");
		kv_str_or_null(j, "reason", k->reason);
		json_end(j);
	}
	json_end(j);

	json_key(j, "dmarc");
	json_obj_begin(j);
	json_kv_str(j, "result", dmarc_result_name(d->result));
	kv_str_or_null(j, "reason", d->reason);
	kv_str_or_null(j, "header_from", d->header_from);
	json_kv_str(j, "envelope_from", d->envelope_from ? d->envelope_from :
	    "");
	kv_str_or_null(j, "org_domain", d->org_domain);
	kv_str_or_null(j, "record_domain", d->record_domain);
	kv_str_or_null(j, "record", d->record_text);
	json_kv_str(j, "from_status", from_status_name(o->from.status));
	json_kv_bool(j, "spf_aligned", d->spf_aligned);
	json_kv_bool(j, "dkim_aligned", d->dkim_aligned);
	json_key(j, "policy");
	if (d->record_text != NULL && d->result != DMARC_RESULT_PERMERROR) {
		const struct dmarc_record *r = &d->record;

		json_obj_begin(j);
		json_kv_str(j, "p", dmarc_policy_name(r->p));
		json_kv_str(j, "sp", dmarc_policy_name(r->sp));
		json_kv_str(j, "np", dmarc_policy_name(r->np));
		json_kv_str(j, "adkim", r->adkim == DMARC_ALIGN_STRICT ?
		    "s" : "r");
		json_kv_str(j, "aspf", r->aspf == DMARC_ALIGN_STRICT ?
		    "s" : "r");
		json_kv_int(j, "pct", r->pct);
		json_kv_str(j, "requested", dmarc_policy_name(d->requested));
		json_kv_str(j, "source", d->policy_source == DMARC_FROM_NP ?
		    "np" : d->policy_source == DMARC_FROM_SP ? "sp" : "p");
		json_kv_bool(j, "nonexistent_subdomain", d->nonexistent);
		json_end(j);
	} else
		json_null(j);
	json_key(j, "disposition");
	json_obj_begin(j);
	json_kv_str(j, "evaluated", dmarc_policy_name(d->evaluated));
	json_kv_str(j, "applied", dmarc_policy_name(d->applied));
	json_kv_bool(j, "sampled_out", d->sampled_out);
	json_end(j);
	json_end(j);

	json_key(j, "arc");
	if (o->arc != NULL)
		json_resinfo(j, o->arc);
	else
		json_null(j);
	if (authres_text != NULL)
		json_kv_str(j, "authentication_results", authres_text);
	json_end(j);
}
