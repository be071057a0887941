/*
 * worker — one background thread with a job queue, answering on a
 * libevent loop.
 *
 * A job is two functions and an argument: run(arg) on the worker thread
 * (blocking work: file I/O, fsync, crypt, a database transaction), then
 * done(arg) on the loop thread, woken through a pipe. Jobs run one at a
 * time, in the order they were submitted, so a caller that needs an
 * order (a write before a read) gets it without locks of its own. done
 * is never called from inside worker_submit().
 *
 * worker_cancel() is for a caller that goes away (a closed session):
 * done will not be called; run may already have happened or be running
 * (the argument must stay valid until then: the worker never frees it).
 * worker_free() stops the thread after the job it is running, joins it
 * and drops every pending job without calling done.
 *
 * The thread blocks every signal: signals belong to the loop thread.
 * Everything here except run() happens on the loop thread.
 *
 * This is the one copy of the pattern the users file (store/passwd.c),
 * the spool (queue/spool.c) and delivery (deliver/delivery.c) each still
 * carry; they are meant to move onto it. A periodic job (the users
 * file's poll) is a loop timer that submits a job.
 */
#ifndef NETJES_CORE_WORKER_H
#define NETJES_CORE_WORKER_H

struct event_base;
struct worker;
struct worker_job;

typedef void worker_fn(void *arg);

/* A running worker on base; NULL (errno set) when the pipe, the event or
 * the thread cannot be made. */
struct worker		*worker_new(struct event_base *base);
/* Queue run then done; NULL only when out of memory (nothing queued). */
struct worker_job	*worker_submit(struct worker *, worker_fn *run,
			    worker_fn *done, void *arg);
/* done will not be called for job; the handle is invalid afterwards. A
 * job not yet started is not run either. Only for a job whose done has
 * not been called yet. */
void			 worker_cancel(struct worker *, struct worker_job *);
/* Not from inside a done callback. */
void			 worker_free(struct worker *);

#endif
