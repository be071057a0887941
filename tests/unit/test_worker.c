/*
 * Unit tests for core/worker: jobs run on the worker thread in order,
 * done runs on the loop thread and never inside submit, cancel before
 * and while a job runs, free with jobs pending, and the thread's signal
 * mask.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "core/worker.h"

struct job {
	int		 id;
	int		 ran, done;
	bool		 ran_off_loop, done_on_loop;
	bool		 sigterm_blocked;
	sem_t		*started, *gate;	/* optional */
	int		*order;			/* done order, shared */
	int		*norder;
	struct worker	*w;			/* chain: submit again */
	int		 chain;
};

static pthread_t loop_thread;

static void
job_run(void *arg)
{
	struct job *j = arg;
	sigset_t set;

	j->ran++;
	j->ran_off_loop = !pthread_equal(pthread_self(), loop_thread);
	pthread_sigmask(SIG_BLOCK, NULL, &set);
	j->sigterm_blocked = sigismember(&set, SIGTERM) == 1;
	if (j->started != NULL)
		sem_post(j->started);
	if (j->gate != NULL)
		sem_wait(j->gate);
}

static void
job_done(void *arg)
{
	struct job *j = arg;

	j->done++;
	j->done_on_loop = pthread_equal(pthread_self(), loop_thread);
	if (j->order != NULL)
		j->order[(*j->norder)++] = j->id;
	if (j->chain > 0) {
		j->chain--;
		assert_non_null(worker_submit(j->w, job_run, job_done, j));
	}
}

/* Turn the loop until *flag is set, for at most five seconds. */
static void
loop_until(struct event_base *base, const int *flag)
{
	time_t end = time(NULL) + 5;
	struct timeval tick = { 0, 10000 };

	while (*flag == 0 && time(NULL) < end) {
		event_base_loopexit(base, &tick);
		event_base_dispatch(base);
	}
	assert_true(*flag != 0);
}

static void
test_order_and_threads(void **state)
{
	struct event_base *base = event_base_new();
	struct worker *w;
	struct job jobs[20];
	int order[20], norder = 0, i;

	(void)state;
	loop_thread = pthread_self();
	assert_non_null(w = worker_new(base));
	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < 20; i++) {
		jobs[i].id = i;
		jobs[i].order = order;
		jobs[i].norder = &norder;
		assert_non_null(worker_submit(w, job_run, job_done, &jobs[i]));
	}
	/* never from inside the call */
	for (i = 0; i < 20; i++)
		assert_int_equal(jobs[i].done, 0);
	loop_until(base, &jobs[19].done);
	assert_int_equal(norder, 20);
	for (i = 0; i < 20; i++) {
		assert_int_equal(order[i], i);
		assert_int_equal(jobs[i].ran, 1);
		assert_int_equal(jobs[i].done, 1);
		assert_true(jobs[i].ran_off_loop);
		assert_true(jobs[i].done_on_loop);
		assert_true(jobs[i].sigterm_blocked);
	}
	worker_free(w);
	event_base_free(base);
}

static void
test_done_submits_again(void **state)
{
	struct event_base *base = event_base_new();
	struct worker *w;
	struct job j;

	(void)state;
	loop_thread = pthread_self();
	assert_non_null(w = worker_new(base));
	memset(&j, 0, sizeof(j));
	j.w = w;
	j.chain = 3;
	assert_non_null(worker_submit(w, job_run, job_done, &j));
	for (int want = 1; want <= 4; want++) {
		int reached = 0;
		time_t end = time(NULL) + 5;
		struct timeval tick = { 0, 10000 };

		while (j.done < want && time(NULL) < end) {
			event_base_loopexit(base, &tick);
			event_base_dispatch(base);
		}
		reached = j.done >= want;
		assert_true(reached);
	}
	assert_int_equal(j.ran, 4);
	assert_int_equal(j.done, 4);
	worker_free(w);
	event_base_free(base);
}

static void
test_cancel_waiting_and_running(void **state)
{
	struct event_base *base = event_base_new();
	struct worker *w;
	struct job busy, waiting, sentinel;
	struct worker_job *hb, *hw;
	sem_t started, gate;

	(void)state;
	loop_thread = pthread_self();
	sem_init(&started, 0, 0);
	sem_init(&gate, 0, 0);
	assert_non_null(w = worker_new(base));
	memset(&busy, 0, sizeof(busy));
	memset(&waiting, 0, sizeof(waiting));
	memset(&sentinel, 0, sizeof(sentinel));
	busy.started = &started;
	busy.gate = &gate;
	assert_non_null(hb = worker_submit(w, job_run, job_done, &busy));
	assert_non_null(hw = worker_submit(w, job_run, job_done, &waiting));
	sem_wait(&started);		/* busy is running now */
	worker_cancel(w, hb);		/* running: runs on, no done */
	worker_cancel(w, hw);		/* waiting: never runs */
	sem_post(&gate);
	assert_non_null(worker_submit(w, job_run, job_done, &sentinel));
	loop_until(base, &sentinel.done);
	assert_int_equal(busy.ran, 1);
	assert_int_equal(busy.done, 0);
	assert_int_equal(waiting.ran, 0);
	assert_int_equal(waiting.done, 0);
	worker_free(w);
	event_base_free(base);
	sem_destroy(&started);
	sem_destroy(&gate);
}

static void
test_cancel_finished_not_delivered(void **state)
{
	struct event_base *base = event_base_new();
	struct worker *w;
	struct job a, sentinel;
	struct worker_job *ha;

	(void)state;
	loop_thread = pthread_self();
	assert_non_null(w = worker_new(base));
	memset(&a, 0, sizeof(a));
	memset(&sentinel, 0, sizeof(sentinel));
	assert_non_null(ha = worker_submit(w, job_run, job_done, &a));
	assert_non_null(worker_submit(w, job_run, job_done, &sentinel));
	/* both finish on the worker before the loop turns: a is in done */
	while (__atomic_load_n(&sentinel.ran, __ATOMIC_SEQ_CST) == 0)
		sched_yield();
	worker_cancel(w, ha);
	loop_until(base, &sentinel.done);
	assert_int_equal(a.ran, 1);
	assert_int_equal(a.done, 0);
	worker_free(w);
	event_base_free(base);
}

static void
test_free_drops_pending(void **state)
{
	struct event_base *base = event_base_new();
	struct worker *w;
	struct job busy, rest[5];
	sem_t started, gate;
	int i;

	(void)state;
	loop_thread = pthread_self();
	sem_init(&started, 0, 0);
	sem_init(&gate, 0, 0);
	assert_non_null(w = worker_new(base));
	memset(&busy, 0, sizeof(busy));
	memset(rest, 0, sizeof(rest));
	busy.started = &started;
	busy.gate = &gate;
	assert_non_null(worker_submit(w, job_run, job_done, &busy));
	for (i = 0; i < 5; i++)
		assert_non_null(worker_submit(w, job_run, job_done, &rest[i]));
	sem_wait(&started);
	sem_post(&gate);	/* busy finishes; free stops after it */
	worker_free(w);
	assert_int_equal(busy.ran, 1);
	assert_int_equal(busy.done, 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(rest[i].done, 0);
	/* nothing is left on the loop: no callback after free */
	event_base_loop(base, EVLOOP_NONBLOCK);
	event_base_free(base);
	sem_destroy(&started);
	sem_destroy(&gate);
}

static void
test_free_idle(void **state)
{
	struct event_base *base = event_base_new();

	(void)state;
	worker_free(worker_new(base));
	worker_free(NULL);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_threads),
		cmocka_unit_test(test_done_submits_again),
		cmocka_unit_test(test_cancel_waiting_and_running),
		cmocka_unit_test(test_cancel_finished_not_delivered),
		cmocka_unit_test(test_free_drops_pending),
		cmocka_unit_test(test_free_idle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
