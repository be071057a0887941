/*
 * delivery — the local delivery runner. See delivery.h.
 *
 * The queue is a plain list under a mutex: each item has a due time,
 * the worker sleeps on a condition variable until the earliest is due
 * or a new one arrives. A local server's queue is short (messages leave
 * it within milliseconds unless a Maildir is broken), so a linear scan
 * for the earliest item is cheaper than keeping a heap.
 *
 * DELIVERY_WORKERS threads take items from it. An item is unlinked
 * while it is delivered, so two workers never hold the same message;
 * each delivery ends in fsyncs, and running several at once lets the
 * file system batch them (one worker delivered at half the rate the
 * SMTP side accepted). The spool's synchronous calls and the Maildir
 * writer are safe on different messages in different threads.
 */
#include "deliver/delivery.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <poll.h>
#include <sys/inotify.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/log.h"
#include "deliver/maildir.h"
#include "queue/dsn.h"
#include "queue/spool.h"

/* A held message, or one only waiting for outbound delivery, is looked
 * at again this often even when no change to its envelope wakes it. */
#define DELIVERY_IDLE_RECHECK	3600

struct delivery_item {
	char			 id[SPOOL_ID_LEN + 1];
	bool			 check_existing;
	time_t			 due;
	struct delivery_item	*next;
};

struct delivery {
	struct spool		*spool;
	char			 mail_root[PATH_MAX];
	char			 hostname[256];
	struct delivery_policy	 policy;	/* under lock */
	char			**domains;	/* local domains, under lock */
	size_t			 ndomains;
	pthread_t		 threads[DELIVERY_WORKERS];
	size_t			 nthreads;
	pthread_t		 watcher;	/* inotify on queue/ */
	bool			 watching;
	int			 inotify_fd;
	pthread_mutex_t		 lock;
	pthread_cond_t		 wake;
	struct delivery_item	*items;
	bool			 stop;
};

static time_t
delivery_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

/* MAIL_ROOT/DOMAIN/LOCAL for addr, or -1 when addr could make a path
 * outside mail_root (it never should: addresses come from the table). */
static int
delivery_maildir(const struct delivery *d, const char *addr, char *out,
    size_t n)
{
	const char *at = strrchr(addr, '@');
	size_t local_len;

	if (at == NULL || at == addr || at[1] == '\0')
		return -1;
	local_len = (size_t)(at - addr);
	if (memchr(addr, '/', local_len) != NULL || strchr(at, '/') != NULL ||
	    addr[0] == '.' || at[1] == '.')
		return -1;
	if ((size_t)snprintf(out, n, "%s/%s/%.*s", d->mail_root, at + 1,
	    (int)local_len, addr) >= n)
		return -1;
	return 0;
}

/* Does dir hold a file whose name carries tag (followed by a non-digit)? */
static bool
delivery_dir_has_tag(const char *dir, const char *tag)
{
	struct dirent *de;
	const char *hit;
	size_t len = strlen(tag);
	bool found = false;
	DIR *dp;

	if ((dp = opendir(dir)) == NULL)
		return false;
	while (!found && (de = readdir(dp)) != NULL)
		for (hit = strstr(de->d_name, tag); hit != NULL && !found;
		    hit = strstr(hit + 1, tag))
			found = hit[len] < '0' || hit[len] > '9';
	closedir(dp);
	return found;
}

static bool
delivery_already_there(const char *maildir, const char *folder,
    const char *tag)
{
	char dir[PATH_MAX + MAILDIR_FOLDER_MAX + 16];
	const char *sub[] = { "new", "cur" };
	size_t i;

	for (i = 0; i < 2; i++) {
		if (folder != NULL && folder[0] != '\0')
			snprintf(dir, sizeof(dir), "%s/.%s/%s", maildir, folder,
			    sub[i]);
		else
			snprintf(dir, sizeof(dir), "%s/%s", maildir, sub[i]);
		if (delivery_dir_has_tag(dir, tag))
			return true;
	}
	return false;
}

/* What one attempt for one recipient came to. */
enum delivery_outcome {
	DELIVERY_DONE,		/* delivered (or found delivered) */
	DELIVERY_DEFER,		/* temporary failure: retry later */
	DELIVERY_FAIL,		/* permanent failure: a DSN is owed */
};

/* One attempt for recipient i; r->reason says what happened. */
static enum delivery_outcome
delivery_rcpt(struct delivery *d, struct delivery_item *it,
    const struct spool_envelope *env, size_t i, int fd, struct arena *a)
{
	struct spool_rcpt *r = &env->rcpts[i];
	struct maildir_delivery md;
	struct maildir_result res;
	char maildir[PATH_MAX], tag[SPOOL_ID_LEN + 32], host[512];
	const char *prefix;

	snprintf(tag, sizeof(tag), "q%sr%zu", env->id, i);
	if (delivery_maildir(d, r->addr, maildir, sizeof(maildir)) != 0) {
		r->reason = "5.1.3 recipient address cannot be a mailbox";
		return DELIVERY_FAIL;
	}
	if (it->check_existing && delivery_already_there(maildir, env->folder,
	    tag)) {
		r->reason = "2.0.0 delivered before a restart";
		log_info("deliver.ok", "queue_id=%s to=<%s> result=already-there",
		    env->id, r->addr);
		return DELIVERY_DONE;
	}
	snprintf(host, sizeof(host), "%s.%s", d->hostname, tag);
	/* RFC 5321 4.4: final delivery records the reverse-path as
	 * Return-Path (null: "<>"), on top; then Delivered-To (the final
	 * mailbox, which also lets a looping alias be recognised), then
	 * what the session decided after the content was spooled
	 * (Authentication-Results), then the content, which starts with
	 * our Received: newest trace first. The spool file stays as it
	 * was received. */
	prefix = arena_printf(a, "Return-Path: <%s>\r\nDelivered-To: %s\r\n%s",
	    env->mail_from, r->addr, env->prepend);
	memset(&md, 0, sizeof(md));
	md.maildir = maildir;
	md.folder = env->folder;
	md.hostname = host;
	md.prefix = prefix;
	md.prefix_len = strlen(prefix);
	md.content_fd = fd;
	r->attempts++;
	switch (maildir_deliver(&md, &res)) {
	case MAILDIR_OK:
		r->reason = "2.0.0 delivered";
		log_info("deliver.ok", "queue_id=%s to=<%s> folder=%s size=%"
		    PRIu64, env->id, r->addr, env->folder[0] ? env->folder :
		    "inbox", res.size);
		return DELIVERY_DONE;
	case MAILDIR_TEMPFAIL:
		r->reason = arena_printf(a, "%s %s", res.dsn, res.reason);
		return DELIVERY_DEFER;
	case MAILDIR_PERMFAIL:
		break;
	}
	r->reason = arena_printf(a, "%s %s", res.dsn, res.reason);
	return DELIVERY_FAIL;
}

/* Seconds before attempt number attempts + 1: retry_interval doubling,
 * capped at retry_max. */
static time_t
delivery_backoff(const struct delivery_policy *p, unsigned attempts)
{
	time_t t = p->retry_interval > 0 ? p->retry_interval : 1;

	while (attempts-- > 1 && t < (time_t)p->retry_max)
		t *= 2;
	return t < (time_t)p->retry_max ? t : (time_t)p->retry_max;
}

/* Is addr in one of our domains (so it can have a Maildir here)? */
static bool
delivery_is_local(struct delivery *d, const char *addr)
{
	const char *at = strrchr(addr, '@');
	bool found = false;
	size_t i;

	if (at == NULL)
		return false;
	pthread_mutex_lock(&d->lock);
	for (i = 0; i < d->ndomains && !found; i++)
		found = strcasecmp(d->domains[i], at + 1) == 0;
	pthread_mutex_unlock(&d->lock);
	return found;
}

/*
 * Spools a notification about env's recipients listed in which[] (with
 * action) to env's sender, from the null sender, and queues it.
 */
static void
delivery_send_dsn(struct delivery *d, const struct spool_envelope *env,
    int content_fd, const size_t *which, size_t n, enum dsn_action action,
    time_t now)
{
	struct dsn_rcpt *rcpts;
	struct dsn_request q;
	struct spool_envelope denv;
	struct spool_msg *msg;
	struct buf text = BUF_INIT;
	struct arena *a = arena_new(0);
	char reason[SPOOL_REASON_MAX], *hdrs, qa[LOG_QUOTE_MAX];
	ssize_t got;
	size_t i;

	hdrs = arena_alloc(a, DSN_HEADERS_MAX);
	got = pread(content_fd, hdrs, DSN_HEADERS_MAX, 0);
	rcpts = arena_calloc(a, n, sizeof(*rcpts));
	for (i = 0; i < n; i++) {
		const struct spool_rcpt *r = &env->rcpts[which[i]];

		rcpts[i].addr = r->addr;
		rcpts[i].orcpt = r->orcpt;
		rcpts[i].action = action;
		rcpts[i].reason = r->reason;
		rcpts[i].last_attempt = r->attempts > 0 ? now : 0;
	}
	memset(&q, 0, sizeof(q));
	q.reporting_mta = d->hostname;
	q.queue_id = env->id;
	q.envid = env->envid;
	q.sender = env->mail_from;
	q.arrival = env->received;
	q.now = now;
	q.rcpts = rcpts;
	q.nrcpts = n;
	q.headers = hdrs;
	q.headers_len = got > 0 ? dsn_header_section(hdrs, (size_t)got) : 0;
	dsn_build(&q, &text);

	memset(&denv, 0, sizeof(denv));
	denv.received = now;
	denv.mail_from = "";		/* RFC 5321 4.5.5: never bounced */
	denv.no_dsn = true;
	spool_envelope_add_rcpt(&denv, a, env->mail_from, NULL,
	    SPOOL_NOTIFY_NEVER);
	if ((msg = spool_begin(d->spool, reason, sizeof(reason))) == NULL ||
	    (spool_write(msg, text.data, text.len), spool_commit(msg, &denv,
	    reason, sizeof(reason))) != 0) {
		log_error("deliver.dsn_failed", "queue_id=%s to=%s "
		    "action=%s reason=\"%s\"", env->id, log_quote_addr(qa,
		    sizeof(qa), env->mail_from),
		    action == DSN_FAILED ? "failed" : "delayed", reason);
	} else {
		log_info("deliver.dsn", "queue_id=%s dsn_id=%s to=%s "
		    "action=%s nrcpt=%zu", env->id, denv.id, log_quote_addr(qa,
		    sizeof(qa), env->mail_from),
		    action == DSN_FAILED ? "failed" : "delayed", n);
		delivery_enqueue(d, denv.id, false);
	}
	buf_free(&text);
	arena_free(a);
}

/* May env's sender hear about recipient r (RFC 3461 NOTIFY)? */
static bool
delivery_dsn_wanted(const struct spool_envelope *env,
    const struct spool_rcpt *r, unsigned what)
{
	if (env->no_dsn || env->mail_from[0] == '\0')
		return false;	/* no backscatter, no bounce of a bounce */
	if (r->notify == 0)
		return true;	/* RFC 3461 4.1: failure and delay */
	return (r->notify & what) != 0;
}

/*
 * One round for one message. Returns true when it stays queued, with
 * *due the time of its next round.
 */
static bool
delivery_message(struct delivery *d, struct delivery_item *it, time_t *due)
{
	struct delivery_policy pol;
	struct spool_envelope env;
	char reason[SPOOL_REASON_MAX];
	struct arena *a = arena_new(0);
	size_t *failed, *delayed, nfailed = 0, ndelayed = 0, i;
	bool changed = false, again;
	time_t now = delivery_now(), next = 0;
	int fd, lock;

	pthread_mutex_lock(&d->lock);
	pol = d->policy;
	pthread_mutex_unlock(&d->lock);
	*due = now + pol.retry_interval;
	/* shared with the other workers, exclusive against the queue
	 * command: its change is either read now or made after our update */
	lock = spool_lock(d->spool, false);
	if ((fd = spool_open_content(d->spool, it->id)) == -1) {
		if (errno == ENOENT) {
			log_info("deliver.gone", "queue_id=%s reason=\"not in "
			    "the queue (deleted)\"", it->id);
			goto gone;
		}
		log_error("deliver.load_failed", "queue_id=%s reason=\"%s\"",
		    it->id, strerror(errno));
		goto later;
	}
	if (spool_load(d->spool, it->id, a, &env, reason,
	    sizeof(reason)) != 0) {
		close(fd);
		if (strstr(reason, strerror(ENOENT)) != NULL) {
			log_info("deliver.gone", "queue_id=%s reason=\"not in "
			    "the queue (deleted)\"", it->id);
			goto gone;
		}
		log_error("deliver.load_failed", "queue_id=%s reason=\"%s\"",
		    it->id, reason);
		goto later;
	}
	if (env.hold) {
		/* held: neither tried nor expired; the release wakes it */
		log_info("deliver.held", "queue_id=%s", env.id);
		close(fd);
		*due = now + DELIVERY_IDLE_RECHECK;
		goto later;
	}
	failed = arena_calloc(a, env.nrcpts, sizeof(*failed));
	delayed = arena_calloc(a, env.nrcpts, sizeof(*delayed));
	for (i = 0; i < env.nrcpts; i++) {
		struct spool_rcpt *r = &env.rcpts[i];
		bool expired = now - env.received >=
		    (time_t)pol.queue_lifetime;
		enum delivery_outcome o;

		if (r->state != SPOOL_RCPT_PENDING)
			continue;
		if (r->next_attempt > now) {
			if (next == 0 || r->next_attempt < next)
				next = r->next_attempt;
			continue;
		}
		if (!delivery_is_local(d, r->addr)) {
			/* no outbound delivery yet: it waits (a DSN to a
			 * remote sender), until the queue lifetime ends */
			o = DELIVERY_DEFER;
			r->reason = "4.4.0 waiting for outbound delivery, "
			    "which this server does not have yet";
		} else {
			if (r->first_attempt == 0)
				r->first_attempt = now;
			o = delivery_rcpt(d, it, &env, i, fd, a);
		}
		changed = true;
		if (o == DELIVERY_DONE) {
			r->state = SPOOL_RCPT_DELIVERED;
			r->next_attempt = 0;
			continue;
		}
		if (o == DELIVERY_DEFER && expired) {
			r->reason = arena_printf(a, "%s (gave up: still failing "
			    "after %u attempts over %u seconds)", r->reason,
			    r->attempts, pol.queue_lifetime);
			o = DELIVERY_FAIL;
		}
		if (o == DELIVERY_FAIL) {
			r->state = SPOOL_RCPT_FAILED;
			r->next_attempt = 0;
			if (delivery_dsn_wanted(&env, r, SPOOL_NOTIFY_FAILURE))
				failed[nfailed++] = i;
			log_warn("deliver.failed", "queue_id=%s to=<%s> "
			    "reason=\"%s\" attempts=%u dsn=%s", env.id,
			    r->addr, r->reason, r->attempts,
			    delivery_dsn_wanted(&env, r, SPOOL_NOTIFY_FAILURE) ?
			    "yes" : "no");
			continue;
		}
		r->next_attempt = now + (r->attempts > 0 ?
		    delivery_backoff(&pol, r->attempts) : DELIVERY_IDLE_RECHECK);
		if (r->next_attempt > env.received + (time_t)pol.queue_lifetime)
			r->next_attempt = env.received +
			    (time_t)pol.queue_lifetime;
		if (r->next_attempt <= now)
			r->next_attempt = now + 1;
		if (next == 0 || r->next_attempt < next)
			next = r->next_attempt;
		log_warn("deliver.deferred", "queue_id=%s to=<%s> reason=\"%s\" "
		    "attempts=%u next=%" PRId64, env.id, r->addr, r->reason,
		    r->attempts, r->next_attempt);
		if (pol.delay_warning > 0 && !r->warned &&
		    now - env.received >= (time_t)pol.delay_warning) {
			r->warned = true;
			if (delivery_dsn_wanted(&env, r, SPOOL_NOTIFY_DELAY))
				delayed[ndelayed++] = i;
		}
	}
	/* the notifications first: a crash before the update below sends
	 * one twice, never none */
	if (nfailed > 0)
		delivery_send_dsn(d, &env, fd, failed, nfailed, DSN_FAILED,
		    now);
	if (ndelayed > 0)
		delivery_send_dsn(d, &env, fd, delayed, ndelayed, DSN_DELAYED,
		    now);
	close(fd);
	again = spool_envelope_pending(&env) > 0;
	if (!again) {
		if (spool_remove(d->spool, env.id, reason,
		    sizeof(reason)) != 0) {
			log_error("deliver.remove_failed", "queue_id=%s "
			    "reason=\"%s\"", env.id, reason);
			it->check_existing = true;
			goto later;
		}
		goto gone;
	}
	if (changed && spool_update(d->spool, &env, reason,
	    sizeof(reason)) != 0) {
		log_error("deliver.update_failed", "queue_id=%s reason=\"%s\"",
		    env.id, reason);
		it->check_existing = true;
	} else
		it->check_existing = false;
	if (next != 0)
		*due = next;
later:
	spool_unlock(lock);
	arena_free(a);
	return true;
gone:
	spool_unlock(lock);
	arena_free(a);
	return false;
}

/* Unlinks and returns the earliest item; NULL when there is none. */
static struct delivery_item *
delivery_take_earliest(struct delivery *d, time_t *due)
{
	struct delivery_item **pp, **best = NULL, *it;

	for (pp = &d->items; *pp != NULL; pp = &(*pp)->next)
		if (best == NULL || (*pp)->due < (*best)->due)
			best = pp;
	if (best == NULL)
		return NULL;
	*due = (*best)->due;
	if (*due > delivery_now())
		return NULL;
	it = *best;
	*best = it->next;
	return it;
}

static void *
delivery_main(void *arg)
{
	struct delivery *d = arg;
	struct delivery_item *it;
	struct timespec until;
	time_t due = 0;

	pthread_mutex_lock(&d->lock);
	while (!d->stop) {
		if ((it = delivery_take_earliest(d, &due)) == NULL) {
			if (d->items == NULL)
				pthread_cond_wait(&d->wake, &d->lock);
			else {
				until.tv_sec = due;
				until.tv_nsec = 0;
				pthread_cond_timedwait(&d->wake, &d->lock,
				    &until);
			}
			continue;
		}
		pthread_mutex_unlock(&d->lock);
		if (delivery_message(d, it, &due)) {
			it->due = due;
			pthread_mutex_lock(&d->lock);
			it->next = d->items;
			d->items = it;
		} else {
			free(it);
			pthread_mutex_lock(&d->lock);
		}
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/* Wakes the item for id, when it waits in the list: its envelope was
 * changed (the queue command) or removed. */
static void
delivery_wake(struct delivery *d, const char *id)
{
	struct delivery_item *it;

	pthread_mutex_lock(&d->lock);
	for (it = d->items; it != NULL; it = it->next)
		if (strcmp(it->id, id) == 0) {
			it->due = 0;
			pthread_cond_signal(&d->wake);
			break;
		}
	pthread_mutex_unlock(&d->lock);
}

/*
 * Watches queue/ for envelopes renamed into place or removed, so a
 * change made by the queue command while the daemon runs takes effect
 * at once (our own updates happen while the item is out of the list,
 * or cost one extra look at an envelope that is not due).
 */
static void *
delivery_watch(void *arg)
{
	struct delivery *d = arg;
	char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	char id[SPOOL_ID_LEN + 1];
	const struct inotify_event *ie;
	struct pollfd pfd;
	ssize_t n, off;
	bool stop = false;

	while (!stop) {
		pfd.fd = d->inotify_fd;
		pfd.events = POLLIN;
		/* the timeout only lets a stop be noticed */
		if (poll(&pfd, 1, 200) > 0 &&
		    (n = read(d->inotify_fd, ev, sizeof(ev))) > 0)
			for (off = 0; off < n; off += (ssize_t)sizeof(*ie) +
			    ie->len) {
				ie = (const struct inotify_event *)(ev + off);
				if (ie->len < SPOOL_ID_LEN + 4 ||
				    strcmp(ie->name + SPOOL_ID_LEN, ".env") != 0)
					continue;
				memcpy(id, ie->name, SPOOL_ID_LEN);
				id[SPOOL_ID_LEN] = '\0';
				delivery_wake(d, id);
			}
		pthread_mutex_lock(&d->lock);
		stop = d->stop;
		pthread_mutex_unlock(&d->lock);
	}
	return NULL;
}

static void
delivery_watch_start(struct delivery *d)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/queue", spool_dir(d->spool));
	d->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (d->inotify_fd < 0 || inotify_add_watch(d->inotify_fd, path,
	    IN_MOVED_TO | IN_DELETE) < 0 ||
	    pthread_create(&d->watcher, NULL, delivery_watch, d) != 0) {
		log_warn("deliver.watch", "result=off reason=\"%s\" "
		    "effect=\"queue changes are seen at the next round\"",
		    strerror(errno));
		if (d->inotify_fd >= 0)
			close(d->inotify_fd);
		d->inotify_fd = -1;
		return;
	}
	d->watching = true;
}

void
delivery_set_policy(struct delivery *d, const struct delivery_policy *p,
    const char *const *domains, size_t ndomains)
{
	char **v = calloc(ndomains + 1, sizeof(*v)), **old;
	size_t i, nold;

	if (v == NULL)
		abort();
	for (i = 0; i < ndomains; i++)
		if ((v[i] = strdup(domains[i])) == NULL)
			abort();
	pthread_mutex_lock(&d->lock);
	d->policy = *p;
	old = d->domains;
	nold = d->ndomains;
	d->domains = v;
	d->ndomains = ndomains;
	pthread_mutex_unlock(&d->lock);
	for (i = 0; i < nold; i++)
		free(old[i]);
	free(old);
}

struct delivery *
delivery_new(struct spool *spool, const char *mail_root,
    const char *hostname, char *reason, size_t reasonlen)
{
	struct delivery *d;
	pthread_condattr_t ca;
	int err;

	if (mail_root[0] == '\0') {
		snprintf(reason, reasonlen, "no mail root");
		return NULL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(reason, reasonlen, "out of memory");
		return NULL;
	}
	d->spool = spool;
	d->inotify_fd = -1;
	d->policy.retry_interval = DELIVERY_RETRY_INTERVAL;
	d->policy.retry_max = DELIVERY_RETRY_MAX;
	d->policy.queue_lifetime = DELIVERY_QUEUE_LIFETIME;
	d->policy.delay_warning = DELIVERY_DELAY_WARNING;
	snprintf(d->mail_root, sizeof(d->mail_root), "%s", mail_root);
	snprintf(d->hostname, sizeof(d->hostname), "%s", hostname);
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_REALTIME);
	pthread_cond_init(&d->wake, &ca);
	pthread_condattr_destroy(&ca);
	for (; d->nthreads < DELIVERY_WORKERS; d->nthreads++) {
		err = pthread_create(&d->threads[d->nthreads], NULL,
		    delivery_main, d);
		if (err != 0) {
			snprintf(reason, reasonlen, "cannot start a delivery "
			    "thread: %s", strerror(err));
			delivery_free(d);
			return NULL;
		}
	}
	delivery_watch_start(d);
	return d;
}

void
delivery_enqueue(struct delivery *d, const char *id, bool check_existing)
{
	struct delivery_item *it;

	if ((it = calloc(1, sizeof(*it))) == NULL)
		abort();	/* as buf: a queued message must not be lost */
	snprintf(it->id, sizeof(it->id), "%s", id);
	it->check_existing = check_existing;
	it->due = 0;
	pthread_mutex_lock(&d->lock);
	it->next = d->items;
	d->items = it;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
}

void
delivery_free(struct delivery *d)
{
	struct delivery_item *it;
	size_t i;

	if (d == NULL)
		return;
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_broadcast(&d->wake);
	pthread_mutex_unlock(&d->lock);
	for (i = 0; i < d->nthreads; i++)
		pthread_join(d->threads[i], NULL);
	if (d->watching)
		pthread_join(d->watcher, NULL);
	if (d->inotify_fd >= 0)
		close(d->inotify_fd);
	for (i = 0; i < d->ndomains; i++)
		free(d->domains[i]);
	free(d->domains);
	while ((it = d->items) != NULL) {
		d->items = it->next;
		free(it);
	}
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	free(d);
}
