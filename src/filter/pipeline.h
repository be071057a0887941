/*
 * pipeline — drives the checks (check.h) of one transaction through its
 * stages and collects their findings.
 *
 * The driver (the SMTP session, `netjes analyze`) fills the transaction
 * and calls pipeline_run() at each stage; every check that looks at the
 * stage runs at once. pipeline_run() calls done when every hold needed
 * by that stage is released: at CONNECT that is usually at once (iprev
 * is needed by EOM), at EOM everything. done is always called from the
 * event loop, never from inside pipeline_run(), and at most one stage
 * waits at a time.
 *
 * One deadline bounds the waiting of a stage: when it passes, each check
 * that still holds something needed by the stage is told to expire, and
 * must add what it knows and release its holds; done follows.
 */
#ifndef NETJES_FILTER_PIPELINE_H
#define NETJES_FILTER_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>

#include "filter/check.h"
#include "filter/finding.h"

struct arena;
struct dns_resolver;
struct event_base;

/* What the checks share with the rest of the server. */
struct pipeline_env {
	struct event_base	*base;
	struct dns_resolver	*resolver;
	double			 deadline;	/* seconds a stage waits; <= 0: no
						 * limit */
	const void		*cfg;		/* struct config, for checks */
};

typedef void	 pipeline_done_cb(struct pipeline *, enum check_stage,
		    void *arg);

struct pipeline_hold;

/*
 * A pipeline for one transaction running checks[0..n) in that order at
 * each stage. txn and env must outlive it; memory (check states,
 * findings) comes from a, which must outlive it too. NULL when the
 * event for done cannot be made.
 */
struct pipeline	*pipeline_new(const struct check *const *checks, size_t n,
		    const struct pipeline_env *, const struct check_txn *,
		    struct arena *a);
/* Cancels every check that still holds something; done is not called. */
void		 pipeline_free(struct pipeline *);

/* Run stage (later than every stage run before); done(arg) follows. */
void		 pipeline_run(struct pipeline *, enum check_stage,
		    pipeline_done_cb *done, void *arg);

/*
 * Every stage in order, each to its end, on env->base's loop (the CLI,
 * tests and benches; the server never waits like this). RCPT is skipped
 * when the transaction has no recipients. 0, or -1 when the loop ran
 * out of events before a stage ended.
 */
int		 pipeline_run_all(struct pipeline *);

/* From a check's stage callback: keep working; needed_by is the stage
 * that must wait for it (a stage already run means the current one). */
struct pipeline_hold *pipeline_hold(struct pipeline *,
		    enum check_stage needed_by);
/* The same from anywhere else (the check's own callback), naming the
 * check by its state. */
struct pipeline_hold *pipeline_hold_for(struct pipeline *,
		    const void *state, enum check_stage needed_by);
/* The work is done (from the check's own callback, or from expire). */
void		 pipeline_release(struct pipeline *, struct pipeline_hold *);

struct findings	*pipeline_findings(struct pipeline *);
/* What the authentication checks learnt (facts.h), shared by them. */
struct check_facts *pipeline_facts(struct pipeline *);
const struct check_txn *pipeline_txn(const struct pipeline *);
const struct pipeline_env *pipeline_env(const struct pipeline *);
struct arena	*pipeline_arena(const struct pipeline *);
/* The name of the check whose stage callback is running (for findings) */
const char	*pipeline_current_check(const struct pipeline *);
/* Whether a stage ran out of time (a finding's temperror may say so). */
bool		 pipeline_expired(const struct pipeline *);
/* "no DNS answer within the message's deadline of 1.5 s": what an
 * expiring check gives as its temperror's reason (in the arena). */
const char	*pipeline_deadline_why(const struct pipeline *);

#endif
