/*
 * spool — the durable message spool. See spool.h for the layout and the
 * promises.
 *
 * Every change to queue/ goes through one pipeline, spool_batch_run(),
 * whether it runs inline (the synchronous calls) or in the worker thread
 * (spool_commit_async, batched): stage (write and fsync files in tmp/),
 * move (renames and unlinks in queue/), then one fsync of queue/ for the
 * whole batch. A job's callback runs only after the directory fsync, so
 * a success always means "on disk".
 *
 * The worker and the loop thread share only two job lists under one
 * mutex: pending (loop -> worker) and done (worker -> loop), and an
 * eventfd that says "done is not empty". A job is touched by one thread
 * at a time: the thread that took it from a list.
 */
#include "queue/spool.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/fsutil.h"
#include "core/log.h"

#define SPOOL_WBUF		(64 * 1024)	/* one content chunk */
#define SPOOL_WPENDING_MAX	(4u * 1024 * 1024)	/* per message, in
							   flight to the writer */
#define SPOOL_ENV_MAX		(64u * 1024 * 1024)	/* sanity bound */
#define SPOOL_NAME_MAX		(SPOOL_ID_LEN + 8)

enum spool_job_kind {
	SPOOL_JOB_COMMIT,
	SPOOL_JOB_UPDATE,
	SPOOL_JOB_REMOVE,
};

struct spool_job {
	struct spool_job	*next;
	enum spool_job_kind	 kind;
	char			 id[SPOOL_ID_LEN + 1];
	struct spool_msg	*msg;	/* COMMIT: the message that owns us */
	struct buf		 env;	/* COMMIT, UPDATE: envelope text */
	bool			 moved;	/* queue/ changed: needs the dir fsync */
	int			 err;
	char			 reason[SPOOL_REASON_MAX];
	spool_done_cb		*cb;
	void			*arg;
};

/* Content on its way from the loop thread to the writer thread. */
struct spool_chunk {
	struct spool_chunk	*next;
	struct spool_msg	*msg;
	off_t			 off;
	size_t			 len;
	char			 data[SPOOL_WBUF];
};

struct spool_msg {
	struct spool		*spool;
	int			 fd;
	uint64_t		 size;
	int			 err;
	char			 reason[SPOOL_REASON_MAX];
	struct spool_chunk	*cur;	/* being filled, or NULL */
	off_t			 woff;	/* file offset of the next chunk */
	/* under the spool's wlock: chunks handed off and not yet written,
	 * and the first error the writer met */
	size_t			 wpending, wpending_bytes;
	int			 werr;
	char			 wreason[SPOOL_REASON_MAX];
	void			*map;	/* spool_msg_map(), or NULL */
	size_t			 maplen;
	struct spool_job	 job;
};

struct spool {
	char			*dir;
	int			 tmpfd, queuefd, corruptfd;
	int			 efd;
	pthread_t		 worker;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct spool_job	*pending, **pending_tail;
	struct spool_job	*done, **done_tail;
	bool			 stopping;
	size_t			 inflight;	/* loop thread only */
	atomic_uint		 open_msgs;
	atomic_uint		 counter;
	atomic_ullong		 batches, jobs;
	struct event		*ev;
	/* the owner of the spool directory: files made by root (the queue
	 * command run by an admin) are given to it, so the unprivileged
	 * daemon can still read and replace them */
	uid_t			 owner_uid;
	gid_t			 owner_gid;
	bool			 give_away;
	/* the content writer: chunks from spool_write, written in order of
	 * arrival with pwrite, so the loop thread never waits for write() */
	pthread_t		 writer;
	pthread_mutex_t		 wlock;
	pthread_cond_t		 wcond;		/* work for the writer */
	pthread_cond_t		 wdone;		/* a message's chunks written */
	struct spool_chunk	*wq, **wq_tail;
	bool			 wstop;
};

static const char id_alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

static void
set_reason(char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_reason(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (out == NULL || n == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(out, n, fmt, ap);
	va_end(ap);
}

static void
job_fail(struct spool_job *job, int err, const char *what, const char *name)
{
	if (job->err != 0)
		return;		/* keep the first cause */
	job->err = err;
	set_reason(job->reason, sizeof(job->reason), "%s %s: %s", what, name,
	    strerror(err));
}

static void
name_of(char out[SPOOL_NAME_MAX], const char *id, const char *ext)
{
	snprintf(out, SPOOL_NAME_MAX, "%s.%s", id, ext);
}

/* ---- ids ------------------------------------------------------------- */

static void
put_base32(char *out, uint64_t v, int nchars)
{
	int i;

	for (i = nchars - 1; i >= 0; i--) {
		out[i] = id_alphabet[v & 31];
		v >>= 5;
	}
}

void
spool_id_new(struct spool *sp, char out[SPOOL_ID_LEN + 1])
{
	struct timespec ts;
	uint64_t us;
	uint32_t rnd, ctr;

	clock_gettime(CLOCK_REALTIME, &ts);
	us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	ctr = atomic_fetch_add(&sp->counter, 1u);
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (uint32_t)getpid() * 2654435761u ^ (uint32_t)ts.tv_nsec;
	put_base32(out, us, 11);
	put_base32(out + 11, ctr, 4);
	put_base32(out + 15, rnd, 5);
	out[SPOOL_ID_LEN] = '\0';
}

/* ---- the pipeline ---------------------------------------------------- */

/* Writes and fsyncs tmp/<name>; the file is removed again on failure. */
/* A new file in the spool belongs to the spool directory's owner. */
static int
give_to_owner(const struct spool *sp, int fd)
{
	if (!sp->give_away)
		return 0;
	return fchown(fd, sp->owner_uid, sp->owner_gid);
}

static int
stage_file(struct spool *sp, struct spool_job *job, const char *name,
    int flags)
{
	int fd;

	fd = openat(sp->tmpfd, name, O_WRONLY | O_CREAT | O_CLOEXEC | flags,
	    0600);
	if (fd < 0) {
		job_fail(job, errno, "create tmp/", name);
		return -1;
	}
	if (give_to_owner(sp, fd) < 0) {
		job_fail(job, errno, "chown tmp/", name);
		goto bad;
	}
	if (fsutil_write_all(fd, job->env.data, job->env.len) < 0) {
		job_fail(job, errno, "write tmp/", name);
		goto bad;
	}
	if (fsync(fd) < 0) {
		job_fail(job, errno, "fsync tmp/", name);
		goto bad;
	}
	if (close(fd) < 0) {
		fd = -1;
		job_fail(job, errno, "close tmp/", name);
		goto bad;
	}
	return 0;
bad:
	if (fd >= 0)
		close(fd);
	unlinkat(sp->tmpfd, name, 0);
	return -1;
}

static int	 msg_wait_written(struct spool_msg *);

static void
stage(struct spool *sp, struct spool_job *job)
{
	char msgname[SPOOL_NAME_MAX], envname[SPOOL_NAME_MAX];
	struct spool_msg *msg = job->msg;

	switch (job->kind) {
	case SPOOL_JOB_COMMIT:
		name_of(msgname, job->id, "msg");
		name_of(envname, job->id, "env");
		/* the writer's last chunks land before the fsync */
		if (msg_wait_written(msg) < 0 && job->err == 0) {
			job->err = msg->err;
			memcpy(job->reason, msg->reason, sizeof(job->reason));
		}
		if (job->err == 0 && fsync(msg->fd) < 0)
			job_fail(job, errno, "fsync tmp/", msgname);
		if (close(msg->fd) < 0)
			job_fail(job, errno, "close tmp/", msgname);
		msg->fd = -1;
		if (job->err == 0)
			stage_file(sp, job, envname, O_EXCL);
		if (job->err != 0)
			unlinkat(sp->tmpfd, msgname, 0);
		break;
	case SPOOL_JOB_UPDATE:
		name_of(envname, job->id, "new");
		stage_file(sp, job, envname, O_TRUNC);
		break;
	case SPOOL_JOB_REMOVE:
		break;
	}
}

static void
move(struct spool *sp, struct spool_job *job)
{
	char msgname[SPOOL_NAME_MAX], envname[SPOOL_NAME_MAX];
	char newname[SPOOL_NAME_MAX];
	struct stat st;
	int env_gone;

	if (job->err != 0)
		return;
	name_of(msgname, job->id, "msg");
	name_of(envname, job->id, "env");
	switch (job->kind) {
	case SPOOL_JOB_COMMIT:
		/* .msg first: .env in queue/ is what makes it committed. */
		if (renameat(sp->tmpfd, msgname, sp->queuefd, msgname) < 0) {
			job_fail(job, errno, "rename to queue/", msgname);
			unlinkat(sp->tmpfd, msgname, 0);
			unlinkat(sp->tmpfd, envname, 0);
			return;
		}
		job->moved = true;
		if (renameat(sp->tmpfd, envname, sp->queuefd, envname) < 0) {
			job_fail(job, errno, "rename to queue/", envname);
			unlinkat(sp->queuefd, msgname, 0);
			unlinkat(sp->tmpfd, envname, 0);
		}
		break;
	case SPOOL_JOB_UPDATE:
		name_of(newname, job->id, "new");
		/* Never bring back the envelope of a removed message. */
		if (fstatat(sp->queuefd, msgname, &st, 0) < 0) {
			job_fail(job, errno, "stat queue/", msgname);
			unlinkat(sp->tmpfd, newname, 0);
			return;
		}
		if (renameat(sp->tmpfd, newname, sp->queuefd, envname) < 0) {
			job_fail(job, errno, "rename to queue/", envname);
			unlinkat(sp->tmpfd, newname, 0);
			return;
		}
		job->moved = true;
		break;
	case SPOOL_JOB_REMOVE:
		env_gone = 0;
		if (unlinkat(sp->queuefd, envname, 0) < 0) {
			if (errno != ENOENT) {
				job_fail(job, errno, "unlink queue/", envname);
				return;
			}
			env_gone = 1;
		} else
			job->moved = true;
		if (unlinkat(sp->queuefd, msgname, 0) < 0) {
			if (errno != ENOENT || env_gone) {
				job_fail(job, errno, "unlink queue/", msgname);
				return;
			}
		} else
			job->moved = true;
		break;
	}
}

static void
spool_batch_run(struct spool *sp, struct spool_job *list)
{
	struct spool_job *job;
	char msgname[SPOOL_NAME_MAX], envname[SPOOL_NAME_MAX];
	bool need_sync = false;
	int err;

	for (job = list; job != NULL; job = job->next)
		stage(sp, job);
	for (job = list; job != NULL; job = job->next) {
		move(sp, job);
		need_sync |= job->moved;
	}
	if (!need_sync || fsync(sp->queuefd) == 0)
		return;
	err = errno;
	for (job = list; job != NULL; job = job->next) {
		if (!job->moved || job->err != 0)
			continue;
		job_fail(job, err, "fsync", "queue/");
		if (job->kind == SPOOL_JOB_COMMIT) {
			/* Not said 250: take it back rather than keep a
			 * message whose client will send it again. */
			name_of(msgname, job->id, "msg");
			name_of(envname, job->id, "env");
			unlinkat(sp->queuefd, envname, 0);
			unlinkat(sp->queuefd, msgname, 0);
		}
	}
}

static void *
spool_writer(void *arg)
{
	struct spool *sp = arg;
	struct spool_chunk *c;
	struct spool_msg *msg;
	int err;

	pthread_mutex_lock(&sp->wlock);
	for (;;) {
		while (sp->wq == NULL && !sp->wstop)
			pthread_cond_wait(&sp->wcond, &sp->wlock);
		if ((c = sp->wq) == NULL)
			break;
		if ((sp->wq = c->next) == NULL)
			sp->wq_tail = &sp->wq;
		msg = c->msg;
		err = msg->werr;
		pthread_mutex_unlock(&sp->wlock);
		/* after an error the rest is not written: the commit fails */
		if (err == 0 && fsutil_pwrite_all(msg->fd, c->data, c->len,
		    c->off) < 0)
			err = errno;
		pthread_mutex_lock(&sp->wlock);
		if (err != 0 && msg->werr == 0) {
			msg->werr = err;
			set_reason(msg->wreason, sizeof(msg->wreason),
			    "write tmp/%s.msg: %s", msg->job.id,
			    strerror(err));
		}
		msg->wpending--;
		msg->wpending_bytes -= c->len;
		pthread_cond_broadcast(&sp->wdone);
		free(c);
	}
	pthread_mutex_unlock(&sp->wlock);
	return NULL;
}

/* Hands the chunk being filled to the writer. */
static void
msg_submit(struct spool_msg *msg)
{
	struct spool *sp = msg->spool;
	struct spool_chunk *c = msg->cur;

	if (c == NULL)
		return;
	msg->cur = NULL;
	if (c->len == 0 || msg->err != 0) {
		free(c);
		return;
	}
	c->msg = msg;
	c->off = msg->woff;
	msg->woff += (off_t)c->len;
	c->next = NULL;
	pthread_mutex_lock(&sp->wlock);
	msg->wpending++;
	msg->wpending_bytes += c->len;
	*sp->wq_tail = c;
	sp->wq_tail = &c->next;
	pthread_cond_signal(&sp->wcond);
	/* back-pressure only when the disk is far behind the network */
	while (msg->wpending_bytes > SPOOL_WPENDING_MAX)
		pthread_cond_wait(&sp->wdone, &sp->wlock);
	if (msg->werr != 0 && msg->err == 0) {
		msg->err = msg->werr;
		memcpy(msg->reason, msg->wreason, sizeof(msg->reason));
	}
	pthread_mutex_unlock(&sp->wlock);
}

/* Waits until every chunk handed off is written (any thread); 0, or -1
 * with msg->err. */
static int
msg_wait_written(struct spool_msg *msg)
{
	struct spool *sp = msg->spool;

	pthread_mutex_lock(&sp->wlock);
	while (msg->wpending > 0)
		pthread_cond_wait(&sp->wdone, &sp->wlock);
	if (msg->werr != 0 && msg->err == 0) {
		msg->err = msg->werr;
		memcpy(msg->reason, msg->wreason, sizeof(msg->reason));
	}
	pthread_mutex_unlock(&sp->wlock);
	return msg->err ? -1 : 0;
}

/* The same after handing off the last chunk (the owner's thread). */
static int
msg_wait(struct spool_msg *msg)
{
	msg_submit(msg);
	return msg_wait_written(msg);
}

static void *
spool_worker(void *arg)
{
	struct spool *sp = arg;
	struct spool_job *batch, *last;
	uint64_t one = 1;

	pthread_mutex_lock(&sp->lock);
	for (;;) {
		while (sp->pending == NULL && !sp->stopping)
			pthread_cond_wait(&sp->cond, &sp->lock);
		if (sp->pending == NULL)
			break;
		batch = sp->pending;
		sp->pending = NULL;
		sp->pending_tail = &sp->pending;
		pthread_mutex_unlock(&sp->lock);

		spool_batch_run(sp, batch);

		atomic_fetch_add(&sp->batches, 1u);
		for (last = batch; ; last = last->next) {
			atomic_fetch_add(&sp->jobs, 1u);
			if (last->next == NULL)
				break;
		}
		pthread_mutex_lock(&sp->lock);
		*sp->done_tail = batch;
		sp->done_tail = &last->next;
		pthread_mutex_unlock(&sp->lock);
		while (write(sp->efd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
		pthread_mutex_lock(&sp->lock);
	}
	pthread_mutex_unlock(&sp->lock);
	return NULL;
}

static void
submit(struct spool *sp, struct spool_job *job)
{
	job->next = NULL;
	sp->inflight++;
	pthread_mutex_lock(&sp->lock);
	*sp->pending_tail = job;
	sp->pending_tail = &job->next;
	pthread_cond_signal(&sp->cond);
	pthread_mutex_unlock(&sp->lock);
}

static void
msg_unmap(struct spool_msg *msg)
{
	if (msg->map != NULL)
		munmap(msg->map, msg->maplen);
	msg->map = NULL;
	msg->maplen = 0;
}

static void
msg_free(struct spool_msg *msg)
{
	msg_unmap(msg);
	free(msg->cur);
	buf_free(&msg->job.env);
	atomic_fetch_sub(&msg->spool->open_msgs, 1u);
	free(msg);
}

/* A commit job is part of its message; other jobs stand alone. */
static void
job_free(struct spool_job *job)
{
	if (job->msg != NULL) {
		msg_free(job->msg);
		return;
	}
	buf_free(&job->env);
	free(job);
}

static void
job_log(const struct spool_job *job)
{
	static const char *const kinds[] = { "commit", "update", "remove" };
	char q[SPOOL_REASON_MAX * 2];

	if (job->err == 0)
		log_debug("spool_done", "queue_id=%s op=%s", job->id,
		    kinds[job->kind]);
	else
		log_warn("spool_failed", "queue_id=%s op=%s reason=%s",
		    job->id, kinds[job->kind],
		    log_quote(q, sizeof(q), job->reason));
}

/* Runs the callbacks of finished async operations; returns how many. */
static size_t
spool_dispatch(struct spool *sp)
{
	struct spool_job *list, *job, *next;
	uint64_t v;
	size_t n = 0;

	while (read(sp->efd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&sp->lock);
	list = sp->done;
	sp->done = NULL;
	sp->done_tail = &sp->done;
	pthread_mutex_unlock(&sp->lock);
	for (job = list; job != NULL; job = next) {
		next = job->next;
		sp->inflight--;
		job_log(job);
		if (job->cb != NULL)
			job->cb(job->arg, job->id, job->err, job->reason);
		job_free(job);
		n++;
	}
	return n;
}

void
spool_drain(struct spool *sp)
{
	struct pollfd pfd;

	while (sp->inflight > 0) {
		pfd.fd = sp->efd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			break;
		spool_dispatch(sp);
	}
}

static void
spool_on_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	spool_dispatch(arg);
}

int
spool_attach(struct spool *sp, struct event_base *base)
{
	if (sp->ev != NULL)
		return -1;
	sp->ev = event_new(base, sp->efd, EV_READ | EV_PERSIST,
	    spool_on_event, sp);
	if (sp->ev == NULL || event_add(sp->ev, NULL) < 0)
		return -1;
	return 0;
}

size_t
spool_inflight(const struct spool *sp)
{
	return sp->inflight;
}

void
spool_stats(const struct spool *sp, struct spool_stats *st)
{
	st->batches = atomic_load(&sp->batches);
	st->jobs = atomic_load(&sp->jobs);
}

/* ---- open and close ---------------------------------------------------- */

static int
open_subdir(const char *dir, const char *sub, char *reason,
    size_t reasonlen)
{
	char path[4096], part[4096];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, sub) >=
	    sizeof(path)) {
		set_reason(reason, reasonlen, "spool path too long");
		return -1;
	}
	/* mkdir -p, fsyncing the parent of every directory it makes */
	if (fsutil_mkdir_p(path, 0700, FSUTIL_MKDIR_SYNC, part,
	    sizeof(part)) < 0) {
		set_reason(reason, reasonlen, "mkdir %s: %s", part,
		    strerror(errno));
		return -1;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		set_reason(reason, reasonlen, "open %s: %s", path,
		    strerror(errno));
	return fd;
}

struct spool *
spool_open(const char *dir, char *reason, size_t reasonlen)
{
	struct spool *sp;
	sigset_t all, old;
	int rc;

	sp = calloc(1, sizeof(*sp));
	if (sp == NULL)
		abort();
	sp->tmpfd = sp->queuefd = sp->corruptfd = sp->efd = -1;
	sp->dir = strdup(dir);
	if (sp->dir == NULL)
		abort();
	sp->pending_tail = &sp->pending;
	sp->done_tail = &sp->done;
	atomic_init(&sp->open_msgs, 0u);
	atomic_init(&sp->counter, 0u);
	atomic_init(&sp->batches, 0u);
	atomic_init(&sp->jobs, 0u);
	if ((sp->tmpfd = open_subdir(dir, "tmp", reason, reasonlen)) < 0 ||
	    (sp->queuefd = open_subdir(dir, "queue", reason, reasonlen)) < 0 ||
	    (sp->corruptfd = open_subdir(dir, "corrupt", reason,
	    reasonlen)) < 0)
		goto bad;
	{
		struct stat st;

		if (stat(dir, &st) == 0 && geteuid() == 0 &&
		    st.st_uid != 0) {
			sp->owner_uid = st.st_uid;
			sp->owner_gid = st.st_gid;
			sp->give_away = true;
		}
	}
	sp->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (sp->efd < 0) {
		set_reason(reason, reasonlen, "eventfd: %s", strerror(errno));
		goto bad;
	}
	pthread_mutex_init(&sp->lock, NULL);
	pthread_cond_init(&sp->cond, NULL);
	pthread_mutex_init(&sp->wlock, NULL);
	pthread_cond_init(&sp->wcond, NULL);
	pthread_cond_init(&sp->wdone, NULL);
	sp->wq_tail = &sp->wq;
	/* Signals belong to the event loop, never to the workers. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&sp->writer, NULL, spool_writer, sp);
	if (rc == 0 && (rc = pthread_create(&sp->worker, NULL, spool_worker,
	    sp)) != 0) {
		pthread_mutex_lock(&sp->wlock);
		sp->wstop = true;
		pthread_cond_signal(&sp->wcond);
		pthread_mutex_unlock(&sp->wlock);
		pthread_join(sp->writer, NULL);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		set_reason(reason, reasonlen, "worker thread: %s",
		    strerror(rc));
		pthread_mutex_destroy(&sp->lock);
		pthread_cond_destroy(&sp->cond);
		pthread_mutex_destroy(&sp->wlock);
		pthread_cond_destroy(&sp->wcond);
		pthread_cond_destroy(&sp->wdone);
		goto bad;
	}
	return sp;
bad:
	if (sp->efd >= 0)
		close(sp->efd);
	if (sp->tmpfd >= 0)
		close(sp->tmpfd);
	if (sp->queuefd >= 0)
		close(sp->queuefd);
	if (sp->corruptfd >= 0)
		close(sp->corruptfd);
	free(sp->dir);
	free(sp);
	return NULL;
}

void
spool_free(struct spool *sp)
{
	if (sp == NULL)
		return;
	pthread_mutex_lock(&sp->lock);
	sp->stopping = true;
	pthread_cond_signal(&sp->cond);
	pthread_mutex_unlock(&sp->lock);
	pthread_join(sp->worker, NULL);
	pthread_mutex_lock(&sp->wlock);
	sp->wstop = true;
	pthread_cond_signal(&sp->wcond);
	pthread_mutex_unlock(&sp->wlock);
	pthread_join(sp->writer, NULL);
	pthread_mutex_destroy(&sp->wlock);
	pthread_cond_destroy(&sp->wcond);
	pthread_cond_destroy(&sp->wdone);
	while (sp->inflight > 0 && spool_dispatch(sp) > 0)
		;
	if (sp->ev != NULL)
		event_free(sp->ev);
	pthread_mutex_destroy(&sp->lock);
	pthread_cond_destroy(&sp->cond);
	close(sp->efd);
	close(sp->tmpfd);
	close(sp->queuefd);
	close(sp->corruptfd);
	free(sp->dir);
	free(sp);
}

/* ---- receiving ----------------------------------------------------- */

struct spool_msg *
spool_begin(struct spool *sp, char *reason, size_t reasonlen)
{
	struct spool_msg *msg;
	char name[SPOOL_NAME_MAX];
	int tries;

	msg = calloc(1, sizeof(*msg));
	if (msg == NULL)
		abort();
	msg->spool = sp;
	for (tries = 0; tries < 8; tries++) {
		spool_id_new(sp, msg->job.id);
		name_of(name, msg->job.id, "msg");
		/* read too: spool_msg_map() maps what was written */
		msg->fd = openat(sp->tmpfd, name, O_RDWR | O_CREAT |
		    O_EXCL | O_CLOEXEC, 0600);
		if (msg->fd >= 0 || errno != EEXIST)
			break;
	}
	if (msg->fd < 0) {
		set_reason(reason, reasonlen, "create tmp/%s: %s", name,
		    strerror(errno));
		free(msg);
		return NULL;
	}
	if (give_to_owner(sp, msg->fd) < 0) {
		set_reason(reason, reasonlen, "chown tmp/%s: %s", name,
		    strerror(errno));
		close(msg->fd);
		unlinkat(sp->tmpfd, name, 0);
		free(msg);
		return NULL;
	}
	msg->job.kind = SPOOL_JOB_COMMIT;
	msg->job.msg = msg;
	buf_init(&msg->job.env);
	atomic_fetch_add(&sp->open_msgs, 1u);
	return msg;
}

const char *
spool_msg_id(const struct spool_msg *msg)
{
	return msg->job.id;
}

uint64_t
spool_msg_size(const struct spool_msg *msg)
{
	return msg->size;
}

/*
 * Appends content: copied into chunks that the writer thread writes, so
 * the loop thread only copies (and waits only when the disk is more than
 * SPOOL_WPENDING_MAX behind). A write error is noticed at a later call,
 * at the latest by the commit, which then fails: never a 250 for it.
 */
int
spool_write(struct spool_msg *msg, const void *p, size_t n)
{
	const char *s = p;
	size_t room;

	if (msg->err != 0)
		return -1;
	msg->size += n;
	while (n > 0) {
		if (msg->cur == NULL) {
			if ((msg->cur = malloc(sizeof(*msg->cur))) == NULL)
				abort();	/* as buf */
			msg->cur->len = 0;
		}
		room = SPOOL_WBUF - msg->cur->len;
		if (room > n)
			room = n;
		memcpy(msg->cur->data + msg->cur->len, s, room);
		msg->cur->len += room;
		s += room;
		n -= room;
		if (msg->cur->len == SPOOL_WBUF)
			msg_submit(msg);
	}
	return msg->err ? -1 : 0;
}

int
spool_msg_map(struct spool_msg *msg, const char **p, size_t *n)
{
	void *m;

	/* the checks read the file: what is still in flight must land
	 * (at most SPOOL_WPENDING_MAX, usually the last chunk) */
	if (msg_wait(msg) < 0)
		return -1;
	msg_unmap(msg);
	if (msg->size == 0) {
		*p = "";
		*n = 0;
		return 0;
	}
	if ((uint64_t)(size_t)msg->size != msg->size) {
		msg->err = EFBIG;
		set_reason(msg->reason, sizeof(msg->reason), "map tmp/%s.msg: "
		    "%s", msg->job.id, strerror(EFBIG));
		return -1;
	}
	m = mmap(NULL, (size_t)msg->size, PROT_READ, MAP_SHARED, msg->fd, 0);
	if (m == MAP_FAILED) {
		msg->err = errno;
		set_reason(msg->reason, sizeof(msg->reason), "map tmp/%s.msg: "
		    "%s", msg->job.id, strerror(errno));
		return -1;
	}
	msg->map = m;
	msg->maplen = (size_t)msg->size;
	*p = m;
	*n = msg->maplen;
	return 0;
}

void
spool_abort(struct spool_msg *msg)
{
	char name[SPOOL_NAME_MAX];

	name_of(name, msg->job.id, "msg");
	msg->err = ECANCELED;	/* nothing more goes to the writer */
	msg_wait(msg);
	close(msg->fd);
	unlinkat(msg->spool->tmpfd, name, 0);
	msg_free(msg);
}

/* Flushes the content and formats the envelope into msg's job. */
static void
commit_prepare(struct spool_msg *msg, const struct spool_envelope *env)
{
	struct spool_envelope e = *env;

	memcpy(e.id, msg->job.id, sizeof(e.id));
	e.size = msg->size;
	msg_unmap(msg);
	/* the last chunk goes to the writer; the commit worker waits for
	 * the writes to land before its fsync (stage) */
	msg_submit(msg);
	if (msg->err != 0) {
		msg->job.err = msg->err;
		memcpy(msg->job.reason, msg->reason, sizeof(msg->reason));
	} else if (env->nrcpts == 0) {
		msg->job.err = EINVAL;
		set_reason(msg->job.reason, sizeof(msg->job.reason),
		    "envelope without recipients");
	} else
		spool_envelope_format(&e, &msg->job.env);
}

int
spool_commit(struct spool_msg *msg, struct spool_envelope *env,
    char *reason, size_t reasonlen)
{
	struct spool_job *job = &msg->job;
	int rc;

	commit_prepare(msg, env);
	job->next = NULL;
	spool_batch_run(msg->spool, job);
	memcpy(env->id, job->id, sizeof(env->id));
	env->size = msg->size;
	rc = job->err ? -1 : 0;
	if (rc < 0)
		set_reason(reason, reasonlen, "%s", job->reason);
	job_log(job);
	msg_free(msg);
	return rc;
}

void
spool_commit_async(struct spool_msg *msg, const struct spool_envelope *env,
    spool_done_cb *cb, void *arg)
{
	commit_prepare(msg, env);
	msg->job.cb = cb;
	msg->job.arg = arg;
	submit(msg->spool, &msg->job);
}

void
spool_msg_rebind_cb(struct spool_msg *msg, spool_done_cb *cb, void *arg)
{
	msg->job.cb = cb;
	msg->job.arg = arg;
}

/* ---- delivery side --------------------------------------------------- */

static struct spool_job *
job_new(enum spool_job_kind kind, const char *id)
{
	struct spool_job *job;

	job = calloc(1, sizeof(*job));
	if (job == NULL)
		abort();
	job->kind = kind;
	buf_init(&job->env);
	if (spool_id_valid(id))
		memcpy(job->id, id, SPOOL_ID_LEN + 1);
	else {
		job->err = EINVAL;
		set_reason(job->reason, sizeof(job->reason), "bad queue id");
	}
	return job;
}

static int
run_one(struct spool *sp, struct spool_job *job, char *reason,
    size_t reasonlen)
{
	int rc;

	spool_batch_run(sp, job);
	rc = job->err ? -1 : 0;
	if (rc < 0)
		set_reason(reason, reasonlen, "%s", job->reason);
	job_log(job);
	job_free(job);
	return rc;
}

static struct spool_job *
update_job(const struct spool_envelope *env)
{
	struct spool_job *job = job_new(SPOOL_JOB_UPDATE, env->id);

	if (job->err == 0)
		spool_envelope_format(env, &job->env);
	return job;
}

int
spool_update(struct spool *sp, const struct spool_envelope *env,
    char *reason, size_t reasonlen)
{
	return run_one(sp, update_job(env), reason, reasonlen);
}

int
spool_remove(struct spool *sp, const char *id, char *reason,
    size_t reasonlen)
{
	return run_one(sp, job_new(SPOOL_JOB_REMOVE, id), reason, reasonlen);
}

int
spool_open_content(struct spool *sp, const char *id)
{
	char name[SPOOL_NAME_MAX];

	if (!spool_id_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	name_of(name, id, "msg");
	return openat(sp->queuefd, name, O_RDONLY | O_CLOEXEC);
}

/* Reads dirfd/name whole into a malloc'ed buffer. */
static char *
read_whole(int dirfd, const char *name, size_t *len, int *err)
{
	struct buf text = BUF_INIT;
	struct stat st;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*err = errno;
		return NULL;
	}
	if (fstat(fd, &st) < 0)
		*err = errno;
	else if (!S_ISREG(st.st_mode))
		*err = EINVAL;
	else if (fsutil_read_all(fd, &text, SPOOL_ENV_MAX) < 0)
		*err = errno;	/* EFBIG past the sanity bound */
	else {
		close(fd);
		*len = text.len;
		return buf_steal(&text);
	}
	buf_free(&text);
	close(fd);
	return NULL;
}

static int
load_at(int dirfd, const char *id, struct arena *arena,
    struct spool_envelope *env, char *reason, size_t reasonlen)
{
	char name[SPOOL_NAME_MAX];
	const char *why = NULL;
	size_t len;
	char *text;
	int err = 0, rc;

	if (!spool_id_valid(id)) {
		set_reason(reason, reasonlen, "bad queue id");
		return -1;
	}
	name_of(name, id, "env");
	text = read_whole(dirfd, name, &len, &err);
	if (text == NULL) {
		set_reason(reason, reasonlen, "read queue/%s: %s", name,
		    strerror(err));
		return -1;
	}
	rc = spool_envelope_parse(text, len, arena, env, &why);
	free(text);
	if (rc < 0) {
		set_reason(reason, reasonlen, "queue/%s: %s", name, why);
		return -1;
	}
	if (strcmp(env->id, id) != 0) {
		set_reason(reason, reasonlen, "queue/%s: holds id %s", name,
		    env->id);
		return -1;
	}
	return 0;
}

int
spool_load(struct spool *sp, const char *id, struct arena *arena,
    struct spool_envelope *env, char *reason, size_t reasonlen)
{
	return load_at(sp->queuefd, id, arena, env, reason, reasonlen);
}

const char *
spool_dir(const struct spool *sp)
{
	return sp->dir;
}

int
spool_lock(struct spool *sp, bool exclusive)
{
	int fd;

	fd = openat(sp->tmpfd, "../lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (give_to_owner(sp, fd) < 0 ||
	    flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

void
spool_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* ---- recovery ---------------------------------------------------------- */

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every name in dirfd except . and .., sorted. NULL on error (errno). */
static char **
list_dir(int dirfd, size_t *n)
{
	DIR *d;
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0;
	int fd;

	*n = 0;
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			v = realloc(v, cap * sizeof(*v));
			if (v == NULL)
				abort();
		}
		if ((v[(*n)++] = strdup(de->d_name)) == NULL)
			abort();
	}
	closedir(d);
	if (v == NULL) {
		v = malloc(sizeof(*v));
		if (v == NULL)
			abort();
	}
	qsort(v, *n, sizeof(*v), cmp_names);
	return v;
}

static void
free_names(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* "<id>.<ext>" with a valid id: returns ext, else NULL. */
static const char *
split_name(const char *name, char id[SPOOL_ID_LEN + 1])
{
	if (strlen(name) != SPOOL_ID_LEN + 4 || name[SPOOL_ID_LEN] != '.')
		return NULL;
	memcpy(id, name, SPOOL_ID_LEN);
	id[SPOOL_ID_LEN] = '\0';
	if (!spool_id_valid(id))
		return NULL;
	return name + SPOOL_ID_LEN + 1;
}

static bool
has_name(char **v, size_t n, const char *name)
{
	return bsearch(&name, v, n, sizeof(*v), cmp_names) != NULL;
}

static void
quarantine(struct spool *sp, const char *name, const char *why)
{
	char q[SPOOL_REASON_MAX * 2];

	log_error("spool_corrupt", "file=queue/%s reason=%s moved=corrupt/",
	    name, log_quote(q, sizeof(q), why));
	if (renameat(sp->queuefd, name, sp->corruptfd, name) < 0)
		log_error("spool_quarantine_failed", "file=queue/%s error=%s",
		    name, log_quote(q, sizeof(q), strerror(errno)));
}

int
spool_recover(struct spool *sp, struct spool_recovery *out, char *reason,
    size_t reasonlen)
{
	char **names;
	size_t n, i;
	char id[SPOOL_ID_LEN + 1], other[SPOOL_NAME_MAX], why[SPOOL_REASON_MAX];
	const char *ext;
	struct arena *arena;
	struct spool_envelope env;
	struct stat st;
	bool changed = false;

	memset(out, 0, sizeof(*out));
	if (atomic_load(&sp->open_msgs) > 0 || sp->inflight > 0) {
		set_reason(reason, reasonlen,
		    "spool_recover with messages in flight");
		return -1;
	}

	/* tmp/: whatever is there was never committed. */
	if ((names = list_dir(sp->tmpfd, &n)) == NULL) {
		set_reason(reason, reasonlen, "list tmp/: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (unlinkat(sp->tmpfd, names[i], 0) == 0)
			out->tmp_removed++;
		else
			log_warn("spool_tmp_unlink_failed", "file=tmp/%s "
			    "errno=%d", names[i], errno);
	}
	free_names(names, n);

	if ((names = list_dir(sp->queuefd, &n)) == NULL) {
		set_reason(reason, reasonlen, "list queue/: %s",
		    strerror(errno));
		return -1;
	}
	out->ids = calloc(n ? n : 1, sizeof(*out->ids));
	if (out->ids == NULL)
		abort();
	arena = arena_new(0);
	for (i = 0; i < n; i++) {
		ext = split_name(names[i], id);
		if (ext == NULL || (strcmp(ext, "env") != 0 &&
		    strcmp(ext, "msg") != 0)) {
			quarantine(sp, names[i], "unknown file in queue/");
			out->corrupt++;
			changed = true;
			continue;
		}
		if (strcmp(ext, "msg") == 0) {
			name_of(other, id, "env");
			if (has_name(names, n, other))
				continue;	/* handled with its .env */
			/* Content whose commit never finished: no 250. */
			if (unlinkat(sp->queuefd, names[i], 0) == 0) {
				log_info("spool_orphan_removed",
				    "queue_id=%s", id);
				out->orphans_removed++;
				changed = true;
			}
			continue;
		}
		name_of(other, id, "msg");
		arena_reset(arena);
		if (!has_name(names, n, other))
			snprintf(why, sizeof(why), "content file missing");
		else if (load_at(sp->queuefd, id, arena, &env, why,
		    sizeof(why)) < 0)
			;
		else if (fstatat(sp->queuefd, other, &st, 0) < 0)
			snprintf(why, sizeof(why), "stat: %s", strerror(errno));
		else if ((uint64_t)st.st_size != env.size)
			snprintf(why, sizeof(why), "content is %jd bytes, "
			    "envelope says %" PRIu64, (intmax_t)st.st_size,
			    env.size);
		else {
			memcpy(out->ids[out->nids++], id, SPOOL_ID_LEN + 1);
			continue;
		}
		quarantine(sp, names[i], why);
		if (has_name(names, n, other))
			quarantine(sp, other, why);
		out->corrupt++;
		changed = true;
	}
	arena_free(arena);
	free_names(names, n);
	if (changed && (fsync(sp->queuefd) < 0 || fsync(sp->corruptfd) < 0)) {
		set_reason(reason, reasonlen, "fsync queue/: %s",
		    strerror(errno));
		spool_recovery_free(out);
		return -1;
	}
	log_info("spool_recovered", "queued=%zu tmp_removed=%zu "
	    "orphans_removed=%zu corrupt=%zu", out->nids, out->tmp_removed,
	    out->orphans_removed, out->corrupt);
	return 0;
}

void
spool_recovery_free(struct spool_recovery *r)
{
	free(r->ids);
	memset(r, 0, sizeof(*r));
}
