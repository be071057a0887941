/*
 * pipeline — the stage driver. See pipeline.h.
 *
 * Holds are a list in the arena; a released hold stays on it (a
 * transaction takes a handful). A stage is complete when no live hold
 * is needed by it; the check each hold belongs to is kept by index so
 * the deadline can tell exactly those checks to expire, and a free can
 * cancel exactly those that still work.
 */
#include "filter/pipeline.h"

#include <string.h>

#include <event2/event.h>

#include "core/arena.h"
#include "core/log.h"
#include "filter/facts.h"

struct pipeline_hold {
	struct pipeline_hold	*next;
	size_t			 check;		/* index into checks */
	enum check_stage	 needed_by;
	bool			 live;
};

struct pipeline {
	const struct check *const *checks;
	size_t			 n;
	void			**states;
	const struct pipeline_env *env;
	const struct check_txn	*txn;
	struct arena		*a;
	struct findings		 findings;
	struct check_facts	 facts;
	struct pipeline_hold	*holds;
	int			 last_stage;	/* -1 before the first */
	size_t			 current;	/* check in its callback, or n */
	/* the stage being waited for */
	bool			 waiting;
	enum check_stage	 wait_stage;
	pipeline_done_cb	*done;
	void			*done_arg;
	struct event		*wake;		/* calls done from the loop */
	struct event		*timer;		/* the deadline */
	bool			 expired;
};

static const char *const stage_names[CHECK_NSTAGES] = {
	[CHECK_CONNECT] = "connect",
	[CHECK_HELO] = "helo",
	[CHECK_MAIL] = "mail",
	[CHECK_RCPT] = "rcpt",
	[CHECK_HEADERS] = "headers",
	[CHECK_EOM] = "eom",
};

const char *
check_stage_name(enum check_stage s)
{
	return (unsigned)s < CHECK_NSTAGES ? stage_names[s] : "?";
}

/* Line by line with memchr (a header section is a few dozen lines of
 * ~80 octets): faster than a substring search for the empty line. A
 * line ends at CRLF only; a bare LF is a byte of the line, as in a
 * search for CRLF CRLF. */
bool
check_header_end(const char *msg, size_t n, size_t *pos)
{
	const char *line = msg + *pos, *end = msg + n, *p = line, *nl;

	while (line < end) {
		if (end - line >= 2 && line[0] == '\r' && line[1] == '\n') {
			*pos = (size_t)(line - msg) + 2;
			return true;
		}
		/* the CRLF that ends this line */
		do {
			if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
				goto partial;
			p = nl + 1;
		} while (nl == line || nl[-1] != '\r');
		line = p;
	}
partial:
	*pos = (size_t)(line - msg);
	return false;
}

size_t
check_header_len(const char *msg, size_t n)
{
	size_t pos = 0;

	return check_header_end(msg, n, &pos) ? pos : n;
}

static void pipeline_on_wake(evutil_socket_t, short, void *);
static void pipeline_on_deadline(evutil_socket_t, short, void *);

struct pipeline *
pipeline_new(const struct check *const *checks, size_t n,
    const struct pipeline_env *env, const struct check_txn *txn,
    struct arena *a)
{
	struct pipeline *p = arena_calloc(a, 1, sizeof(*p));
	size_t i;

	p->checks = checks;
	p->n = n;
	p->env = env;
	p->txn = txn;
	p->a = a;
	p->last_stage = -1;
	p->current = n;
	findings_init(&p->findings, a);
	p->states = arena_calloc(a, n > 0 ? n : 1, sizeof(*p->states));
	for (i = 0; i < n; i++)
		p->states[i] = arena_calloc(a, 1, checks[i]->state_size > 0 ?
		    checks[i]->state_size : 1);
	p->wake = event_new(env->base, -1, 0, pipeline_on_wake, p);
	p->timer = evtimer_new(env->base, pipeline_on_deadline, p);
	if (p->wake == NULL || p->timer == NULL) {
		pipeline_free(p);
		return NULL;
	}
	return p;
}

/* Whether check i holds something not yet done (needed by at most
 * stage; CHECK_NSTAGES: by any stage). */
static bool
pipeline_check_busy(const struct pipeline *p, size_t i,
    enum check_stage stage)
{
	const struct pipeline_hold *h;

	for (h = p->holds; h != NULL; h = h->next)
		if (h->live && h->check == i && h->needed_by <= stage)
			return true;
	return false;
}

static bool
pipeline_stage_busy(const struct pipeline *p, enum check_stage stage)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (pipeline_check_busy(p, i, stage))
			return true;
	return false;
}

void
pipeline_free(struct pipeline *p)
{
	struct pipeline_hold *h;
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		if (pipeline_check_busy(p, i, CHECK_NSTAGES) &&
		    p->checks[i]->cancel != NULL)
			p->checks[i]->cancel(p->states[i]);
	for (h = p->holds; h != NULL; h = h->next)
		h->live = false;
	/* a streamed verifier no DKIM check took over is still ours */
	dkim_verify_free(p->facts.dkim_stream);
	p->facts.dkim_stream = NULL;
	if (p->wake != NULL)
		event_free(p->wake);
	if (p->timer != NULL)
		event_free(p->timer);
	p->wake = p->timer = NULL;
}

/* The stage waited for may be complete: done from the loop. */
static void
pipeline_maybe_done(struct pipeline *p)
{
	if (p->waiting && !pipeline_stage_busy(p, p->wait_stage))
		event_active(p->wake, EV_TIMEOUT, 0);
}

static void
pipeline_on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct pipeline *p = arg;
	pipeline_done_cb *done = p->done;

	(void)fd;
	(void)what;
	if (!p->waiting || pipeline_stage_busy(p, p->wait_stage))
		return;
	p->waiting = false;
	evtimer_del(p->timer);
	p->done = NULL;
	done(p, p->wait_stage, p->done_arg);
}

/* The deadline: every check still busy for the stage expires; a check
 * that still holds on afterwards loses its holds (the stage must end). */
static void
pipeline_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct pipeline *p = arg;
	struct pipeline_hold *h;
	size_t i;

	(void)fd;
	(void)what;
	p->expired = true;
	for (i = 0; i < p->n; i++) {
		if (!pipeline_check_busy(p, i, p->wait_stage))
			continue;
		if (p->checks[i]->expire != NULL)
			p->checks[i]->expire(p, p->states[i]);
		if (!pipeline_check_busy(p, i, p->wait_stage))
			continue;
		log_error("filter.expire_ignored", "check=%s stage=%s",
		    p->checks[i]->name, check_stage_name(p->wait_stage));
		if (p->checks[i]->cancel != NULL)
			p->checks[i]->cancel(p->states[i]);
		for (h = p->holds; h != NULL; h = h->next)
			if (h->check == i)
				h->live = false;
	}
	pipeline_maybe_done(p);
}

static void
pipeline_arm_deadline(struct pipeline *p)
{
	struct timeval tv;
	double d = p->env->deadline;

	if (d <= 0)
		return;
	tv.tv_sec = (time_t)d;
	tv.tv_usec = (suseconds_t)((d - (double)tv.tv_sec) * 1e6);
	evtimer_add(p->timer, &tv);
}

void
pipeline_run(struct pipeline *p, enum check_stage stage,
    pipeline_done_cb *done, void *arg)
{
	size_t i;

	p->last_stage = (int)stage;
	for (i = 0; i < p->n; i++) {
		if ((p->checks[i]->stages & CHECK_AT(stage)) == 0)
			continue;
		p->current = i;
		p->checks[i]->stage(p, p->states[i], stage);
	}
	p->current = p->n;
	p->waiting = true;
	p->wait_stage = stage;
	p->done = done;
	p->done_arg = arg;
	if (pipeline_stage_busy(p, stage))
		pipeline_arm_deadline(p);
	else
		event_active(p->wake, EV_TIMEOUT, 0);
}

static void
pipeline_stage_ended(struct pipeline *p, enum check_stage stage, void *arg)
{
	bool *ended = arg;

	(void)p;
	(void)stage;
	*ended = true;
}

int
pipeline_run_all(struct pipeline *p)
{
	enum check_stage s;
	bool ended;

	for (s = CHECK_CONNECT; s < CHECK_NSTAGES; s++) {
		if (s == CHECK_RCPT && p->txn->nrcpts == 0)
			continue;
		ended = false;
		pipeline_run(p, s, pipeline_stage_ended, &ended);
		while (!ended && event_base_loop(p->env->base,
		    EVLOOP_ONCE) == 0)
			;
		if (!ended)
			return -1;
	}
	return 0;
}

/* The check state belongs to: the one in its stage callback, else found
 * by its state (a hold taken later, from the check's own callback). */
static size_t
pipeline_check_of(const struct pipeline *p, const void *state)
{
	size_t i;

	if (p->current < p->n && p->states[p->current] == state)
		return p->current;
	for (i = 0; i < p->n; i++)
		if (p->states[i] == state)
			return i;
	return p->n;
}

struct pipeline_hold *
pipeline_hold_for(struct pipeline *p, const void *state,
    enum check_stage needed_by)
{
	struct pipeline_hold *h = arena_calloc(p->a, 1, sizeof(*h));

	h->check = pipeline_check_of(p, state);
	/* work cannot be needed by a stage that already passed */
	if (p->last_stage >= 0 && (int)needed_by < p->last_stage)
		needed_by = (enum check_stage)p->last_stage;
	h->needed_by = needed_by;
	h->live = true;
	h->next = p->holds;
	p->holds = h;
	return h;
}

struct pipeline_hold *
pipeline_hold(struct pipeline *p, enum check_stage needed_by)
{
	return pipeline_hold_for(p, p->current < p->n ?
	    p->states[p->current] : NULL, needed_by);
}

/* Tell every check that builds on others that some work finished. A
 * check's progress may release holds of its own (and so come here
 * again): the depth is bounded by the number of checks. */
static void
pipeline_progress(struct pipeline *p, size_t from)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (i != from && p->checks[i]->progress != NULL)
			p->checks[i]->progress(p, p->states[i]);
}

void
pipeline_release(struct pipeline *p, struct pipeline_hold *h)
{
	if (h == NULL || !h->live)
		return;
	h->live = false;
	pipeline_progress(p, h->check);
	pipeline_maybe_done(p);
}

struct findings *
pipeline_findings(struct pipeline *p)
{
	return &p->findings;
}

struct check_facts *
pipeline_facts(struct pipeline *p)
{
	return &p->facts;
}

const struct check_txn *
pipeline_txn(const struct pipeline *p)
{
	return p->txn;
}

const struct pipeline_env *
pipeline_env(const struct pipeline *p)
{
	return p->env;
}

struct arena *
pipeline_arena(const struct pipeline *p)
{
	return p->a;
}

const char *
pipeline_current_check(const struct pipeline *p)
{
	return p->current < p->n ? p->checks[p->current]->name : NULL;
}

bool
pipeline_expired(const struct pipeline *p)
{
	return p->expired;
}

const char *
pipeline_deadline_why(const struct pipeline *p)
{
	return arena_printf(p->a, "no DNS answer within the message's "
	    "deadline of %.3g s", p->env->deadline);
}
