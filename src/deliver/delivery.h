/*
 * delivery — the local delivery runner: spooled messages into Maildirs.
 *
 * Worker threads (DELIVERY_WORKERS) take queue ids (a message just committed, or one
 * found by spool_recover() at startup), loads the envelope, and delivers
 * the content to every recipient still pending, each into
 * MAIL_ROOT/DOMAIN/LOCAL (the recipient addresses in the envelope are
 * final mailboxes: the SMTP session resolved aliases and subaddresses
 * at RCPT time) and into the envelope's folder ("" inbox, "Junk"),
 * as Return-Path (RFC 5321 4.4) and Delivered-To, the envelope's
 * prepend (the Authentication-Results the SMTP session decided on),
 * then the spooled content.
 * Each recipient's state is then written back durably (spool_update),
 * and a message with no recipient left pending is removed from the
 * spool. The event loop never waits for any of it.
 *
 * The queue life cycle (delivery_policy): a temporary failure (a full
 * disk, an unwritable Maildir) leaves the recipient pending, retried
 * after retry_interval, then after twice as long each time up to
 * retry_max; the schedule (attempts, first and next attempt, last
 * error) is in the envelope, so it survives a restart. Once, after
 * delay_warning, the sender gets a "delayed" DSN; after queue_lifetime,
 * or at once for a permanent failure, the recipient is failed and the
 * sender gets a "failed" DSN (RFC 3464, see queue/dsn.h), spooled from
 * the null sender and delivered like any message. No DSN for a null
 * sender, for a message marked no_dsn (refused by the spam verdict: no
 * backscatter) or against the recipient's NOTIFY. A recipient outside
 * our domains (a DSN to a remote sender) waits in the queue for the
 * outbound delivery this server does not have yet, and is dropped
 * without a DSN when its lifetime ends (its sender is null).
 *
 * A held message (envelope "hold") is neither tried nor expired. The
 * runner reads the envelope again before every round, under the shared
 * queue lock (spool_lock), and watches queue/ (inotify), so a change the
 * queue command makes while the daemon runs (hold, release, retry,
 * delete) takes effect at once.
 *
 * Exactly once across crashes: every Maildir file name carries a tag
 * "q<QUEUEID>r<N>" (in the host part of the unique name). When a
 * message was recovered after a restart, or its envelope could not be
 * updated, a recipient whose Maildir already holds a file with its tag
 * is marked delivered instead of being delivered again.
 */
#ifndef NETJES_DELIVER_DELIVERY_H
#define NETJES_DELIVER_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>

struct spool;
struct delivery;

#define DELIVERY_RETRY_INTERVAL	300		/* defaults, seconds */
#define DELIVERY_RETRY_MAX	(4 * 3600)
#define DELIVERY_QUEUE_LIFETIME	(5 * 86400)
#define DELIVERY_DELAY_WARNING	(4 * 3600)
#define DELIVERY_WORKERS	4	/* messages delivered at once */

/* The queue life cycle ([delivery] in the config), in seconds. */
struct delivery_policy {
	unsigned	 retry_interval;	/* first retry, then doubling */
	unsigned	 retry_max;		/* at most this between tries */
	unsigned	 queue_lifetime;	/* then a failure DSN */
	unsigned	 delay_warning;		/* a "delayed" DSN; 0 = none */
};

/* Starts the worker. mail_root must be absolute. NULL with reason. */
struct delivery	*delivery_new(struct spool *, const char *mail_root,
		    const char *hostname, char *reason, size_t reasonlen);

/*
 * The life cycle and our domains (recipients elsewhere wait for outbound
 * delivery): at start and after a reload. Copied.
 */
void		 delivery_set_policy(struct delivery *,
		    const struct delivery_policy *,
		    const char *const *domains, size_t ndomains);

/* Queue a committed message. check_existing: look for copies already
 * delivered before a crash (messages found by spool_recover). */
void		 delivery_enqueue(struct delivery *, const char *id,
		    bool check_existing);

/* Finishes the message being delivered, stops the worker, frees. What
 * is still queued stays in the spool for the next start. */
void		 delivery_free(struct delivery *);

#endif
