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

#include "core/arena.h"
#include "core/log.h"
#include "deliver/maildir.h"
#include "queue/spool.h"

struct delivery_item {
	char			 id[SPOOL_ID_LEN + 1];
	bool			 check_existing;
	unsigned		 tries;		/* rounds that left work */
	time_t			 due;
	struct delivery_item	*next;
};

struct delivery {
	struct spool		*spool;
	char			 mail_root[PATH_MAX];
	char			 hostname[256];
	pthread_t		 threads[DELIVERY_WORKERS];
	size_t			 nthreads;
	pthread_mutex_t		 lock;
	pthread_cond_t		 wake;
	struct delivery_item	*items;
	size_t			 nitems;	/* queued or being delivered */
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

/* One recipient; true when its state changed. */
static bool
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
		r->state = SPOOL_RCPT_FAILED;
		r->reason = "5.1.3 recipient address cannot be a mailbox";
		log_error("deliver.failed", "queue_id=%s to=<%s> reason=bad-path",
		    env->id, r->addr);
		return true;
	}
	if (it->check_existing && delivery_already_there(maildir, env->folder,
	    tag)) {
		r->state = SPOOL_RCPT_DELIVERED;
		r->reason = "2.0.0 delivered before a restart";
		log_info("deliver.ok", "queue_id=%s to=<%s> result=already-there",
		    env->id, r->addr);
		return true;
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
		r->state = SPOOL_RCPT_DELIVERED;
		r->reason = "2.0.0 delivered";
		log_info("deliver.ok", "queue_id=%s to=<%s> folder=%s size=%"
		    PRIu64, env->id, r->addr, env->folder[0] ? env->folder :
		    "inbox", res.size);
		return true;
	case MAILDIR_TEMPFAIL:
		r->reason = arena_printf(a, "%s %s", res.dsn, res.reason);
		log_warn("deliver.deferred", "queue_id=%s to=<%s> dsn=%s "
		    "reason=\"%s\" attempts=%u", env->id, r->addr, res.dsn,
		    res.reason, r->attempts);
		return true;
	case MAILDIR_PERMFAIL:
		break;
	}
	r->state = SPOOL_RCPT_FAILED;
	r->reason = arena_printf(a, "%s %s", res.dsn, res.reason);
	log_warn("deliver.failed", "queue_id=%s to=<%s> dsn=%s reason=\"%s\" "
	    "dsn_sent=no", env->id, r->addr, res.dsn, res.reason);
	return true;
}

/* One round for one message; true when it must be tried again. */
static bool
delivery_message(struct delivery *d, struct delivery_item *it)
{
	struct spool_envelope env;
	char reason[SPOOL_REASON_MAX];
	struct arena *a = arena_new(0);
	bool changed = false, again;
	size_t i;
	int fd;

	if (spool_load(d->spool, it->id, a, &env, reason,
	    sizeof(reason)) != 0) {
		log_error("deliver.load_failed", "queue_id=%s reason=\"%s\"",
		    it->id, reason);
		arena_free(a);
		return true;
	}
	if ((fd = spool_open_content(d->spool, it->id)) == -1) {
		log_error("deliver.load_failed", "queue_id=%s reason=\"%s\"",
		    it->id, strerror(errno));
		arena_free(a);
		return true;
	}
	for (i = 0; i < env.nrcpts; i++)
		if (env.rcpts[i].state == SPOOL_RCPT_PENDING)
			changed |= delivery_rcpt(d, it, &env, i, fd, a);
	close(fd);
	again = spool_envelope_pending(&env) > 0;
	if (!again) {
		if (spool_remove(d->spool, env.id, reason,
		    sizeof(reason)) != 0) {
			log_error("deliver.remove_failed", "queue_id=%s "
			    "reason=\"%s\"", env.id, reason);
			it->check_existing = true;
			again = true;
		}
	} else if (changed && spool_update(d->spool, &env, reason,
	    sizeof(reason)) != 0) {
		log_error("deliver.update_failed", "queue_id=%s reason=\"%s\"",
		    env.id, reason);
		it->check_existing = true;
	}
	arena_free(a);
	return again;
}

static time_t
delivery_backoff(unsigned tries)
{
	time_t t = DELIVERY_RETRY_FIRST;

	while (tries-- > 1 && t < DELIVERY_RETRY_MAX)
		t *= 2;
	return t < DELIVERY_RETRY_MAX ? t : DELIVERY_RETRY_MAX;
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
		if (delivery_message(d, it)) {
			it->tries++;
			it->due = delivery_now() + delivery_backoff(it->tries);
			pthread_mutex_lock(&d->lock);
			it->next = d->items;
			d->items = it;
		} else {
			free(it);
			pthread_mutex_lock(&d->lock);
			d->nitems--;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

struct delivery *
delivery_new(struct spool *spool, const char *mail_root,
    const char *hostname, char *reason, size_t reasonlen)
{
	struct delivery *d;
	pthread_condattr_t ca;
	int err;

	if (mail_root[0] != '/') {
		snprintf(reason, reasonlen, "mail root %s is not absolute",
		    mail_root);
		return NULL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(reason, reasonlen, "out of memory");
		return NULL;
	}
	d->spool = spool;
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
	d->nitems++;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
}

size_t
delivery_queued(struct delivery *d)
{
	size_t n;

	pthread_mutex_lock(&d->lock);
	n = d->nitems;
	pthread_mutex_unlock(&d->lock);
	return n;
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
	while ((it = d->items) != NULL) {
		d->items = it->next;
		free(it);
	}
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	free(d);
}
