/*
 * arc_auth — ARC for the check pipeline (filter/check_arc.c): run
 * arc_verify on a message with the pipeline's resolver and hand back
 * one resinfo, "arc=RESULT (i=N)" with header.oldest-pass and
 * smtp.remote-ip (RFC 8617 10.1), reason= for a failure, or a bare
 * "arc=none" for a message without ARC headers. The result is
 * always delivered from the event loop, never from inside start.
 */
#include "auth/arc/arc.h"
#include "auth/authres.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arc_run {
	struct arc_verify	*v;
	struct event		*ev;
	struct arena		*out;
	arc_auth_done_cb	*done;
	void			*done_arg;
	char			 ip[64];
};

static void
run_free(struct arc_run *r)
{
	if (r->ev != NULL)
		event_free(r->ev);
	arc_verify_free(r->v);
	free(r);
}

static void
run_deliver(struct arc_run *r)
{
	const struct arc_verdict *vd = arc_verify_finish(r->v);
	struct authres_header h;
	struct authres_resinfo *ri;
	arc_auth_done_cb *done = r->done;
	void *arg = r->done_arg;
	char num[32];

	authres_init(&h, r->out, "arc");
	ri = authres_add(&h, r->out, "arc", arc_result_name(vd->result));
	/* no ARC header at all: "arc=none" says we looked (RFC 8617 10.1) */
	if (vd->result == ARC_RESULT_NONE) {
		run_free(r);
		done(arg, ri);
		return;
	}
	snprintf(num, sizeof(num), "i=%u", vd->instances);
	authres_resinfo_comment(ri, r->out, num);
	if (vd->reason != NULL)
		authres_resinfo_reason(ri, r->out, vd->reason);
	if (vd->result == ARC_RESULT_PASS) {
		snprintf(num, sizeof(num), "%u", vd->oldest_pass);
		authres_resinfo_prop(ri, r->out, "header", "oldest-pass", num);
	}
	authres_resinfo_prop(ri, r->out, "smtp", "remote-ip", r->ip);
	run_free(r);
	done(arg, ri);
}

static void
run_keys_done(struct arc_verify *v, void *arg)
{
	(void)v;
	run_deliver(arg);
}

static void
run_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	run_deliver(arg);
}

void *
arc_auth_start(struct event_base *base, struct dns_resolver *res,
    const char *msg, size_t n, const struct ip_addr *client, long long now,
    struct arena *out, arc_auth_done_cb *done, void *done_arg)
{
	struct arc_run *r = calloc(1, sizeof(*r));
	struct arc_verify_options vo;
	struct timeval soon = { 0, 0 };

	if (r == NULL)
		abort();
	r->out = out;
	r->done = done;
	r->done_arg = done_arg;
	if (client != NULL)
		ip_format(client, r->ip, sizeof(r->ip));
	memset(&vo, 0, sizeof(vo));
	vo.now = (time_t)now;
	r->v = arc_verify_new(&vo);
	arc_verify_message(r->v, msg, n);
	if (!arc_verify_keys_done(r->v) && res != NULL &&
	    arc_verify_lookup(r->v, res, run_keys_done, r) > 0)
		return r;
	/* nothing to look up (or no resolver): answer from the loop */
	if ((r->ev = evtimer_new(base, run_later, r)) == NULL ||
	    evtimer_add(r->ev, &soon) != 0) {
		run_free(r);
		return NULL;
	}
	return r;
}

void
arc_auth_cancel(void *handle)
{
	if (handle != NULL)
		run_free(handle);
}

/* The DNS deadline passed: keys not in count as DNS trouble. */
void
arc_auth_expire(void *handle)
{
	struct arc_run *r = handle;

	arc_verify_expire(r->v);
	run_deliver(r);
}
