/*
 * verdict — findings to one action. See verdict.h.
 */
#include "filter/verdict.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"

void
verdict_policy_defaults(struct verdict_policy *p)
{
	p->add_header = VERDICT_ADD_HEADER_DEFAULT;
	p->junk = VERDICT_JUNK_DEFAULT;
	p->tempfail = VERDICT_TEMPFAIL_DEFAULT;
	p->reject = VERDICT_REJECT_DEFAULT;
}

static bool
reaches(double score, double threshold)
{
	return threshold > 0 && score >= threshold;
}

/* What the score alone asks for, and the threshold it reached. */
static enum verdict_action
score_action(double score, const struct verdict_policy *p, double *at)
{
	if (reaches(score, p->reject)) {
		*at = p->reject;
		return VERDICT_REJECT;
	}
	if (reaches(score, p->tempfail)) {
		*at = p->tempfail;
		return VERDICT_TEMPFAIL;
	}
	if (reaches(score, p->junk)) {
		*at = p->junk;
		return VERDICT_JUNK;
	}
	if (reaches(score, p->add_header)) {
		*at = p->add_header;
		return VERDICT_ADD_HEADER;
	}
	*at = 0;
	return VERDICT_ACCEPT;
}

static enum verdict_action
wants_action(enum finding_wants w)
{
	switch (w) {
	case FINDING_WANTS_JUNK:
		return VERDICT_JUNK;
	case FINDING_WANTS_TEMPFAIL:
		return VERDICT_TEMPFAIL;
	case FINDING_WANTS_REJECT:
		return VERDICT_REJECT;
	case FINDING_WANTS_NOTHING:
		break;
	}
	return VERDICT_ACCEPT;
}

/* The finding with the strongest request (the first of equals), or
 * NULL when none asks for anything. */
static const struct finding *
strongest_request(const struct findings *f)
{
	const struct finding *best = NULL;
	size_t i;

	for (i = 0; i < f->n; i++)
		if (f->v[i].wants != FINDING_WANTS_NOTHING &&
		    (best == NULL || f->v[i].wants > best->wants))
			best = &f->v[i];
	return best;
}

/* The finding that added most to the score (the first of equals), or
 * NULL when none added anything. */
static const struct finding *
largest_score(const struct findings *f)
{
	const struct finding *best = NULL;
	size_t i;

	for (i = 0; i < f->n; i++)
		if (f->v[i].score > 0 &&
		    (best == NULL || f->v[i].score > best->score))
			best = &f->v[i];
	return best;
}

/* Printable ASCII of text, at most VERDICT_REPLY_MAX octets: a reason
 * may carry names from the message, and an SMTP reply is 7-bit text
 * on one line. */
static char *
reply_text(struct arena *a, const char *lead, const char *text)
{
	char *out = arena_printf(a, "%s%s", lead, text);
	size_t i;

	for (i = 0; out[i] != '\0'; i++) {
		if (i == VERDICT_REPLY_MAX) {
			out[i] = '\0';
			break;
		}
		if ((unsigned char)out[i] < 0x20 ||
		    (unsigned char)out[i] > 0x7e)
			out[i] = '?';
	}
	return out;
}

static void
decide_by_score(const struct findings *f, enum verdict_action action,
    double at, struct arena *a, struct verdict *v)
{
	const struct finding *top = largest_score(f);

	v->decider = top;
	if (action == VERDICT_ACCEPT)
		v->reason = arena_printf(a, "score %.1f is below every "
		    "threshold", v->score);
	else if (top != NULL)
		v->reason = arena_printf(a, "score %.1f reached the %s "
		    "threshold %.1f; most of it: %s (%s %+.1f)", v->score,
		    verdict_action_name(action), at, finding_reason(top, a),
		    top->symbol,
		    top->score);
	else
		v->reason = arena_printf(a, "score %.1f reached the %s "
		    "threshold %.1f", v->score, verdict_action_name(action),
		    at);
}

/* Step 4: an exempt recipient is never refused. */
static void
spare_exempt(const struct verdict_subject *s,
    const struct verdict_policy *p, struct arena *a, struct verdict *v)
{
	const char *would = verdict_action_name(v->action);

	v->action = reaches(v->score, p->junk) ? VERDICT_JUNK :
	    VERDICT_ADD_HEADER;
	v->reason = arena_printf(a, "would be %s (%s), but %s is never "
	    "refused", strcmp(would, "reject") == 0 ? "rejected" :
	    "deferred", v->reason, s->exempt_rcpt);
}

static void
set_reply(struct arena *a, struct verdict *v)
{
	if (v->action == VERDICT_REJECT) {
		v->code = 550;
		v->status = "5.7.1";
		v->reply = reply_text(a, "Message rejected: ", v->reason);
	} else if (v->action == VERDICT_TEMPFAIL) {
		v->code = 451;
		v->status = "4.7.1";
		v->reply = reply_text(a, "Try again later: ", v->reason);
	}
}

void
verdict_decide(const struct findings *f, const struct verdict_subject *s,
    const struct verdict_policy *p, struct arena *a, struct verdict *v)
{
	const struct finding *req;
	enum verdict_action by_score, by_request;
	double at;

	memset(v, 0, sizeof(*v));
	v->score = findings_score(f);
	if (s->auth_user != NULL) {
		v->reason = arena_printf(a, "sent by our user %s (logged in): "
		    "not filtered", s->auth_user);
		return;
	}
	if (s->trusted) {
		v->reason = "the client is in trusted_networks: not filtered";
		return;
	}
	by_score = score_action(v->score, p, &at);
	req = strongest_request(f);
	by_request = req != NULL ? wants_action(req->wants) : VERDICT_ACCEPT;
	if (req != NULL && by_request >= by_score) {
		v->action = by_request;
		v->decider = req;
		v->reason = arena_printf(a, "%s (%s)", finding_reason(req, a),
		    req->symbol);
	} else {
		v->action = by_score;
		decide_by_score(f, by_score, at, a, v);
	}
	if (s->exempt_rcpt != NULL && !verdict_delivers(v->action))
		spare_exempt(s, p, a, v);
	set_reply(a, v);
}

/* Whether item (n octets: a local part, or an address) names addr,
 * whose local part is local_len octets. */
static bool
exempt_item(const char *item, size_t n, const char *addr, size_t local_len)
{
	if (memchr(item, '@', n) != NULL)
		return strlen(addr) == n && strncasecmp(item, addr, n) == 0;
	return local_len == n && strncasecmp(item, addr, n) == 0;
}

bool
verdict_exempt(const char *addr, const char *list)
{
	const char *at = strrchr(addr, '@');
	size_t local_len, k;

	if (at == NULL)
		return false;
	local_len = (size_t)(at - addr);
	if (exempt_item("postmaster", 10, addr, local_len) ||
	    exempt_item("abuse", 5, addr, local_len))
		return true;
	while (list != NULL && *list != '\0') {
		list += strspn(list, " ");
		if ((k = strcspn(list, " ")) == 0)
			break;
		if (exempt_item(list, k, addr, local_len))
			return true;
		list += k;
	}
	return false;
}

const char *
verdict_action_name(enum verdict_action action)
{
	switch (action) {
	case VERDICT_ACCEPT:
		return "accept";
	case VERDICT_ADD_HEADER:
		return "add_header";
	case VERDICT_JUNK:
		return "junk";
	case VERDICT_TEMPFAIL:
		return "tempfail";
	case VERDICT_REJECT:
		return "reject";
	}
	return "accept";
}

const char *
verdict_folder(enum verdict_action action)
{
	return action == VERDICT_JUNK ? "Junk" : NULL;
}

bool
verdict_delivers(enum verdict_action action)
{
	return action != VERDICT_TEMPFAIL && action != VERDICT_REJECT;
}
