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
 * Temporary failures (a full disk, an unwritable Maildir) leave the
 * recipient pending; the message is retried after a delay that doubles
 * from DELIVERY_RETRY_FIRST up to DELIVERY_RETRY_MAX. A permanent
 * failure marks the recipient failed (a DSN is owed; bounces do not
 * exist yet, so it is logged at warn).
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

#define DELIVERY_RETRY_FIRST	5	/* seconds */
#define DELIVERY_RETRY_MAX	3600
#define DELIVERY_WORKERS	4	/* messages delivered at once */

/* Starts the worker. mail_root must be absolute. NULL with reason. */
struct delivery	*delivery_new(struct spool *, const char *mail_root,
		    const char *hostname, char *reason, size_t reasonlen);

/* Queue a committed message. check_existing: look for copies already
 * delivered before a crash (messages found by spool_recover). */
void		 delivery_enqueue(struct delivery *, const char *id,
		    bool check_existing);

/* Messages queued or being delivered (for tests and logs). */
size_t		 delivery_queued(struct delivery *);

/* Finishes the message being delivered, stops the worker, frees. What
 * is still queued stays in the spool for the next start. */
void		 delivery_free(struct delivery *);

#endif
