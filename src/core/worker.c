/*
 * worker — one background thread with a job queue. See worker.h.
 *
 * Two lists under one mutex: waiting (submitted, not started) and done
 * (run finished, done not called yet). The worker takes from waiting,
 * runs the job unlocked and moves it to done, writing a byte into the
 * pipe; the loop drains the pipe and calls done for each job that was
 * not cancelled. A job's state says where it is, so a cancel knows
 * whether it can unlink the job (waiting) or only mark it (running,
 * done).
 */
#include "core/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

enum worker_job_state {
	JOB_WAITING,
	JOB_RUNNING,
	JOB_DONE,
};

struct worker_job {
	struct worker_job	*prev, *next;	/* in waiting or done */
	worker_fn		*run, *done;
	void			*arg;
	enum worker_job_state	 state;
	bool			 cancelled;
};

struct worker_list {
	struct worker_job	*head, *tail;
};

struct worker {
	struct event		*ev;		/* the pipe's read end */
	int			 pipefd[2];
	pthread_t		 thread;
	bool			 started;
	/* shared with the thread, under mu */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct worker_list	 waiting;
	struct worker_list	 done;
	bool			 stop;
};

static void
list_push(struct worker_list *l, struct worker_job *j)
{
	j->next = NULL;
	j->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
}

static void
list_unlink(struct worker_list *l, struct worker_job *j)
{
	if (j->prev != NULL)
		j->prev->next = j->next;
	else
		l->head = j->next;
	if (j->next != NULL)
		j->next->prev = j->prev;
	else
		l->tail = j->prev;
	j->prev = j->next = NULL;
}

static void
list_free(struct worker_list *l)
{
	struct worker_job *j, *next;

	for (j = l->head; j != NULL; j = next) {
		next = j->next;
		free(j);
	}
	l->head = l->tail = NULL;
}

/* Wait (mu held) for a job; NULL when stopping. */
static struct worker_job *
worker_take(struct worker *w)
{
	struct worker_job *j;

	while (!w->stop && w->waiting.head == NULL)
		pthread_cond_wait(&w->cv, &w->mu);
	if (w->stop)
		return NULL;
	j = w->waiting.head;
	list_unlink(&w->waiting, j);
	j->state = JOB_RUNNING;
	return j;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct worker_job *j;

	pthread_mutex_lock(&w->mu);
	while ((j = worker_take(w)) != NULL) {
		pthread_mutex_unlock(&w->mu);
		j->run(j->arg);
		pthread_mutex_lock(&w->mu);
		j->state = JOB_DONE;
		list_push(&w->done, j);
		/* a full pipe already holds a wake-up: EAGAIN is fine */
		if (write(w->pipefd[1], "", 1) < 0)
			(void)0;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* On the loop: call done for every finished job. A done callback may
 * submit or cancel jobs; one cancelled by an earlier callback of this
 * round is skipped, since cancel marks jobs in done. */
static void
worker_wakeup(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct worker_job *j;
	char drain[64];
	bool cancelled;

	(void)what;
	while (read(fd, drain, sizeof(drain)) > 0)
		;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		if ((j = w->done.head) != NULL)
			list_unlink(&w->done, j);
		pthread_mutex_unlock(&w->mu);
		if (j == NULL)
			return;
		cancelled = j->cancelled;
		if (!cancelled && j->done != NULL)
			j->done(j->arg);
		free(j);
	}
}

static int
worker_start_thread(struct worker *w)
{
	sigset_t all, old;
	int rc;

	/* the thread takes no signals: they belong to the loop thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	w->started = true;
	return 0;
}

struct worker *
worker_new(struct event_base *base)
{
	struct worker *w;
	int saved;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->pipefd[0] = w->pipefd[1] = -1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pipe2(w->pipefd, O_NONBLOCK | O_CLOEXEC) != 0)
		goto fail;
	w->ev = event_new(base, w->pipefd[0], EV_READ | EV_PERSIST,
	    worker_wakeup, w);
	if (w->ev == NULL || event_add(w->ev, NULL) != 0) {
		errno = ENOMEM;
		goto fail;
	}
	if (worker_start_thread(w) != 0)
		goto fail;
	return w;
fail:
	saved = errno;
	worker_free(w);
	errno = saved;
	return NULL;
}

struct worker_job *
worker_submit(struct worker *w, worker_fn *run, worker_fn *done, void *arg)
{
	struct worker_job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	j->run = run;
	j->done = done;
	j->arg = arg;
	j->state = JOB_WAITING;
	pthread_mutex_lock(&w->mu);
	list_push(&w->waiting, j);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return j;
}

void
worker_cancel(struct worker *w, struct worker_job *j)
{
	bool unlinked = false;

	pthread_mutex_lock(&w->mu);
	if (j->state == JOB_WAITING) {
		list_unlink(&w->waiting, j);
		unlinked = true;
	} else
		j->cancelled = true;	/* freed when the loop reaches it */
	pthread_mutex_unlock(&w->mu);
	if (unlinked)
		free(j);
}

void
worker_free(struct worker *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (w->started)
		pthread_join(w->thread, NULL);
	list_free(&w->waiting);
	list_free(&w->done);
	if (w->ev != NULL)
		event_free(w->ev);
	if (w->pipefd[0] >= 0)
		close(w->pipefd[0]);
	if (w->pipefd[1] >= 0)
		close(w->pipefd[1]);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
