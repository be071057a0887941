/*
 * spool — the durable message spool: nothing that got "250" is lost.
 *
 * A spooled message is two files named by its queue id: <id>.msg holds
 * the content exactly as received (CRLF lines, dot-unstuffed), <id>.env
 * its envelope (see spool_envelope.h). Under the spool directory:
 *
 *	tmp/	files being written; anything here at startup is garbage
 *	queue/	committed messages: <id>.env exists <=> the message is ours
 *	corrupt/ envelopes that failed to parse, kept for a human, never
 *		deleted by the server
 *
 * Receiving: spool_begin() creates tmp/<id>.msg (O_EXCL, 0600),
 * spool_write() appends content as DATA arrives, and a commit writes
 * tmp/<id>.env, fsyncs both files, renames <id>.msg and then <id>.env
 * into queue/, and fsyncs queue/. Only when the commit reports success
 * may the SMTP server say 250. A crash between the two renames leaves a
 * .msg without .env, which spool_recover() deletes: the client never
 * heard 250 for it.
 *
 * Group commit: spool_commit_async() hands the commit to one worker
 * thread owned by the spool. The worker takes every commit queued since
 * its last round, fsyncs all their files, renames them, fsyncs queue/
 * once for the whole batch, and wakes the event loop through an eventfd;
 * the loop then runs each commit's callback (registered with
 * spool_attach(); spool_drain() and spool_free() run the last ones). Under load a batch is everything
 * that arrived during the previous round's fsyncs, so the cost of the
 * directory fsync is shared and no timer or batch-size guess adds
 * latency; the event loop itself never waits for a disk flush. Content
 * writes go to a second thread, the writer (spool_write hands it 64 KB
 * chunks), so the loop does not make write() calls either; the commit
 * waits for the writer before its fsync, and spool_msg_map() for the
 * chunks still in flight (the checks read the file).
 *
 * Delivery: spool_load() reads an envelope, spool_open_content() the
 * content. After delivery attempts the caller changes the recipients'
 * states and calls spool_update() (atomic rewrite of the envelope:
 * tmp file, fsync, rename, directory fsync), so a recipient marked
 * delivered is never delivered again after a crash; spool_remove()
 * unlinks .env (the commit marker) first, then .msg, then fsyncs queue/.
 * Both run in the calling thread (the delivery runner's), through the
 * same stage/move/fsync pipeline as a commit.
 *
 * Ownership: when root opens a spool whose directory belongs to another
 * user (the daemon's account), every file it creates is given to that
 * user, so an admin's queue command never leaves the daemon a file it
 * cannot read.
 *
 * Threads: spool_commit_async, spool_attach, spool_drain and spool_free
 * belong to one thread (the event loop's); spool_begin and spool_write
 * may run in any thread, one thread per message. The synchronous calls
 * (spool_commit, spool_load, spool_update, spool_remove) may run in any
 * thread, on different messages.
 */
#ifndef NETJES_QUEUE_SPOOL_H
#define NETJES_QUEUE_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue/spool_envelope.h"

struct arena;
struct event_base;
struct spool;
struct spool_msg;

#define SPOOL_REASON_MAX	256

/*
 * Called on the loop thread when an async operation is durable (err 0)
 * or has failed (err is an errno value, reason says what and where).
 * For a failed commit the message is gone: answer 451 4.3.0.
 */
typedef void spool_done_cb(void *arg, const char *id, int err,
	    const char *reason);

/*
 * Opens (creating as needed, mode 0700) the spool under dir and starts
 * its worker thread. NULL with reason on failure.
 */
struct spool	*spool_open(const char *dir, char *reason, size_t reasonlen);

/*
 * Waits for every queued async operation, runs the callbacks that are
 * still due, stops the worker and frees the spool. Every spool_msg must
 * be committed or aborted before.
 */
void		 spool_free(struct spool *);

/* ---- startup ------------------------------------------------------- */

struct spool_recovery {
	char		(*ids)[SPOOL_ID_LEN + 1];	/* sorted: oldest first */
	size_t		 nids;
	size_t		 tmp_removed;	/* half-written files deleted */
	size_t		 orphans_removed;	/* .msg without .env deleted */
	size_t		 corrupt;	/* moved to corrupt/ */
};

/*
 * At startup, before any spool_begin(): deletes everything in tmp/,
 * deletes uncommitted .msg files in queue/, moves unreadable envelopes
 * (and their content) to corrupt/ with an error log line, and lists the
 * committed messages for (re)delivery. 0, or -1 with reason.
 */
int		 spool_recover(struct spool *, struct spool_recovery *out,
		    char *reason, size_t reasonlen);
void		 spool_recovery_free(struct spool_recovery *);

/* ---- receiving ----------------------------------------------------- */

/* A new message with a fresh queue id. NULL with reason on failure. */
struct spool_msg *spool_begin(struct spool *, char *reason, size_t reasonlen);
const char	*spool_msg_id(const struct spool_msg *);
uint64_t	 spool_msg_size(const struct spool_msg *);

/*
 * Appends content: copied into a chunk, which the spool's writer thread
 * writes, so the caller never waits for the file system (only when the
 * writer is more than a few MB behind). -1 once a write error is known
 * (full disk: answer 452 at the end of DATA); the error sticks, later
 * writes are ignored, and the commit, which waits for every write,
 * fails with the reason even when spool_write never reported it.
 */
int		 spool_write(struct spool_msg *, const void *, size_t);

/*
 * A read-only view of the content written so far (buffered bytes are
 * flushed first), mapped from the tmp file: checks read the whole
 * message without a copy on the heap. Valid until the next call, the
 * commit or the abort (which unmap it); do not spool_write() while
 * using it. 0, or -1 with the error kept for the commit (as a failed
 * write).
 */
int		 spool_msg_map(struct spool_msg *, const char **p, size_t *n);

/* Drops the message: deletes its file, frees msg. */
void		 spool_abort(struct spool_msg *);

/*
 * Synchronous commit in the calling thread. env->id and env->size are
 * filled in from msg. msg is freed in every case. 0, or -1 with reason.
 */
int		 spool_commit(struct spool_msg *, struct spool_envelope *env,
		    char *reason, size_t reasonlen);

/*
 * Queues the commit for the worker; cb runs later on the loop thread.
 * The envelope is formatted at once (env may die after the call), with
 * env->id and env->size taken from msg. msg stays valid until cb has
 * run and is freed after it.
 */
void		 spool_commit_async(struct spool_msg *,
		    const struct spool_envelope *env, spool_done_cb *cb,
		    void *arg);

/*
 * The session that waits for msg's commit is going away: cb(arg, ...)
 * runs instead of its callback (NULL: none). The commit itself goes on;
 * whoever outlives the session (the delivery runner) takes the
 * committed message, so a client that hung up before reading the 250
 * does not leave its message stranded until the next start.
 */
void		 spool_msg_rebind_cb(struct spool_msg *, spool_done_cb *cb,
		    void *arg);

/* ---- the event loop -------------------------------------------------- */

/* Registers the spool's eventfd with base: the callbacks of finished
 * async operations then run by themselves. */
int		 spool_attach(struct spool *, struct event_base *base);
/*
 * Waits (on the loop thread, outside the loop) until every async
 * operation has finished and its callback has run: at shutdown, so the
 * callbacks of commits whose sessions are gone still reach delivery.
 */
void		 spool_drain(struct spool *);
/* Async operations queued or running, callbacks not yet run. */
size_t		 spool_inflight(const struct spool *);

/* What group commit achieved, for logs and tests. */
struct spool_stats {
	uint64_t	 batches;	/* worker rounds */
	uint64_t	 jobs;		/* async operations done in them */
};
void		 spool_stats(const struct spool *, struct spool_stats *);

/* ---- delivery ---------------------------------------------------------- */

/* Reads and parses queue/<id>.env into arena. 0, or -1 with reason. */
int		 spool_load(struct spool *, const char *id, struct arena *,
		    struct spool_envelope *env, char *reason,
		    size_t reasonlen);

/* queue/<id>.msg opened read-only, or -1 with errno set. */
int		 spool_open_content(struct spool *, const char *id);

/* Durably replaces the envelope of a queued message (recipient states). */
int		 spool_update(struct spool *, const struct spool_envelope *env,
		    char *reason, size_t reasonlen);

/* Durably removes a delivered message. */
int		 spool_remove(struct spool *, const char *id, char *reason,
		    size_t reasonlen);

/* The spool directory as given to spool_open(). */
const char	*spool_dir(const struct spool *);

/*
 * The queue lock (flock on DIR/lock): the delivery runner holds it
 * shared for one message's round (load, deliver, update), the queue
 * command exclusive for a change of state, so neither overwrites the
 * other's envelope. A descriptor to pass to spool_unlock(), or -1.
 */
int		 spool_lock(struct spool *, bool exclusive);
void		 spool_unlock(int fd);

/*
 * A new queue id: microseconds since the epoch (11 characters), a
 * per-spool counter (4) and 25 random bits (5), in a base32 alphabet
 * whose ASCII order is its numeric order, so ids sort by arrival and are
 * safe as file names. Exposed for tests.
 */
void		 spool_id_new(struct spool *, char out[SPOOL_ID_LEN + 1]);

#endif
