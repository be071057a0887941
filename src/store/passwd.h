/*
 * passwd — the users file: a Dovecot-compatible passwd-file with crypt(3)
 * hashes, so one file serves SMTP AUTH here and IMAP in Dovecot.
 *
 * Format, one user a line (Dovecot's passwd-file):
 *
 *	user:{SCHEME}hash:uid:gid:gecos:home:shell:extra_fields
 *
 * Only user and password are required; the trailing fields may be empty
 * or absent and are kept untouched. '#' starts a comment line; blank
 * lines are allowed. Schemes: {CRYPT}, {BLF-CRYPT}, {SHA256-CRYPT},
 * {SHA512-CRYPT}, {MD5-CRYPT} or no prefix (Dovecot's default, CRYPT):
 * all are crypt(3) strings verified by libxcrypt ($y$ yescrypt, $2b$,
 * $6$, $5$, ...). Any other scheme ({PLAIN}, {SSHA}, ...) and an empty
 * password are reported as bad lines; bad lines are skipped with their
 * line number and the good ones kept. A user named twice: the first wins.
 *
 * User names are full addresses. Lookup is ASCII case-insensitive over
 * the whole name: the domain is case-insensitive by definition, and the
 * local part is treated the same way here (one mailbox per spelling would
 * only confuse people), as Dovecot does with auth_username_format=%Lu.
 *
 * A passwd_db holds one reading of its file. passwd_db_refresh() (start,
 * SIGHUP, CLI) reads it again when the file's inode, size, mtime or ctime
 * changed. The daemon does no file I/O on its loop after that: a watch
 * (passwd_db_watch) looks at the file from the worker thread and hands a
 * new reading (a snapshot) to the loop, where the server builds a new
 * generation from it. A missing file is an empty user list (every user
 * unknown); a file that exists but cannot be read fails the refresh, and
 * a db that was never read answers TEMPFAIL (the session: 454 4.7.0).
 *
 * Verification runs crypt in one worker thread per db with a queue; the
 * result comes back on the event loop (through a pipe) and the callback
 * never runs from inside passwd_verify_async(). Unknown users are checked
 * against a dummy hash of the same cost, so timing does not tell whether a
 * user exists; report UNKNOWN_USER to the client as a plain 535.
 *
 * Editing (passwd_file_*) rewrites the file atomically (temporary file,
 * fsync, rename, directory fsync) under a lock, keeping every other line,
 * comment and byte as it was. A new file gets mode 0640; an existing
 * file keeps its mode (group/world write and execute bits removed) and
 * owner.
 */
#ifndef NETJES_STORE_PASSWD_H
#define NETJES_STORE_PASSWD_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct event_base;

#define PASSWD_USER_MAX		320	/* octets of a user name */
#define PASSWD_HASH_MAX		383	/* crypt(3) output, CRYPT_OUTPUT_SIZE - 1 */
#define PASSWD_PASS_MAX		1024	/* longest password verified */

enum passwd_result {
	PASSWD_OK = 0,		/* user known, password right */
	PASSWD_BAD,		/* user known, password wrong: 535 5.7.8 */
	PASSWD_UNKNOWN_USER,	/* no such user: also 535 5.7.8 to the client */
	PASSWD_TEMPFAIL,	/* file unreadable, out of resources: 454 4.7.0 */
};

const char	*passwd_result_name(enum passwd_result);	/* "ok", "bad", ... */

/* ---- the pure parser ---- */

struct passwd_entry {
	const char	*user;		/* as written */
	const char	*hash;		/* the crypt(3) string, {SCHEME} removed */
	size_t		 line;		/* 1-based */
	size_t		 off;		/* the line's bytes in the text, */
	size_t		 len;		/* its newline included when present */
	size_t		 pass_off;	/* the password field's bytes */
	size_t		 pass_len;
};

struct passwd_error {
	size_t		 line;
	const char	*reason;	/* in the arena */
};

struct passwd_list {
	struct passwd_entry	*entries;	/* file order, duplicates dropped */
	size_t			 nentries;
	struct passwd_error	*errors;
	size_t			 nerrors;
	size_t			*slots;		/* private: the lookup index */
	size_t			 nslots;
};

/*
 * Parse a passwd-file from text[0..n). Everything is allocated from a;
 * out stays valid while a lives. Returns the number of bad lines. A NUL
 * byte or a line over 4096 octets is a bad line; so is a user name that
 * is empty, longer than PASSWD_USER_MAX or holds control bytes.
 */
size_t		 passwd_parse(const char *text, size_t n, struct arena *a,
		    struct passwd_list *out);

/* The entry for user (ASCII case-insensitive), or NULL. Hashed. */
const struct passwd_entry *passwd_list_find(const struct passwd_list *,
		    const char *user);

/* ---- hashing ---- */

/* A new yescrypt hash of password (crypt_gensalt "$y$" default cost,
 * random salt) into out, without a {SCHEME} prefix. 0, or -1. */
int		 passwd_hash_new(const char *password, char *out, size_t outlen);
/* What an unknown user's password is checked against (same cost). */
const char	*passwd_dummy_hash(void);
/* Constant-time check of password against a crypt(3) hash (no prefix).
 * true when it matches; false on mismatch or an unusable hash. */
bool		 passwd_hash_check(const char *password, const char *hash);

/* ---- the database the daemon uses ---- */

struct passwd_db;

/* Never reads the file yet; NULL only when out of memory. */
struct passwd_db *passwd_db_new(const char *path);
/* Joins the worker thread; pending callbacks are dropped (not called). */
void		 passwd_db_free(struct passwd_db *);
/* Re-read the file if it changed. 0 ok (bad lines are logged once per
 * load, and kept in passwd_db_list()), -1 unreadable. */
int		 passwd_db_refresh(struct passwd_db *);

/* One reading of the file, handed from the worker to a watch's callback. */
struct passwd_snapshot;

/* errno of a reading that failed (the file exists but cannot be read),
 * or 0 for a good one. */
int		 passwd_snapshot_error(const struct passwd_snapshot *);
/* Whether the file existed (a missing file reads as no users). */
bool		 passwd_snapshot_present(const struct passwd_snapshot *);
void		 passwd_snapshot_free(struct passwd_snapshot *);
/* Make a good snapshot the db's contents (for a db not yet read). The
 * snapshot is consumed either way; -1 when it was a failed reading. */
int		 passwd_db_adopt(struct passwd_db *, struct passwd_snapshot *);

/* cb owns snap (free it, or give it to passwd_db_adopt()). */
typedef void	 passwd_change_cb(struct passwd_snapshot *snap, void *arg);

/*
 * Look at the file every interval_ms from the worker thread; each new
 * version (or a new reason it cannot be read; each reported once) comes
 * to cb on base's loop. The version already loaded is not reported. The
 * db must have been read (passwd_db_refresh or _adopt). 0, or -1.
 */
int		 passwd_db_watch(struct passwd_db *, struct event_base *base,
		    unsigned interval_ms, passwd_change_cb *cb, void *arg);
/* No more change callbacks (one already read is dropped). */
void		 passwd_db_unwatch(struct passwd_db *);
/* The entries of the last successful load (tests, CLI). */
const struct passwd_list *passwd_db_list(const struct passwd_db *);
const char	*passwd_db_path(const struct passwd_db *);

/* Synchronous: blocks for one crypt (tens of milliseconds). CLI, tests. */
enum passwd_result passwd_verify(struct passwd_db *, const char *user,
		    const char *password);

typedef void	 passwd_verify_cb(enum passwd_result, void *arg);
struct passwd_job;

/*
 * Asynchronous: queue the crypt to the worker (against the reading the
 * db holds: the file is not looked at here), and call
 * cb(result, arg) later from base's loop. Every call gets exactly one
 * callback unless the job is cancelled first. The password is copied
 * (and wiped after use); user and password need not outlive the call.
 * A db serves one event_base (the first one it was given). Returns the
 * job handle for passwd_verify_cancel(), or NULL when the job could not
 * be queued (no callback then: answer 454 4.7.0).
 */
struct passwd_job *passwd_verify_async(struct passwd_db *,
		    struct event_base *base, const char *user,
		    const char *password, passwd_verify_cb *cb, void *arg);
/* The callback will not be called (for a session that goes away).
 * Call it only before the job's callback ran; the job is freed by the
 * db after its callback (or its cancellation) was handled, and by
 * passwd_db_free(). Do not free the db from inside a callback. */
void		 passwd_verify_cancel(struct passwd_job *);

/* ---- editing the file (CLI) ---- */

enum passwd_edit {
	PASSWD_EDIT_OK = 0,
	PASSWD_EDIT_EXISTS,	/* add: the user is already there */
	PASSWD_EDIT_NOT_FOUND,	/* set, del: no such user */
	PASSWD_EDIT_ERROR,	/* I/O: err says what */
};

/* Add "user:{CRYPT}hash" at the end (the file is created if missing). */
enum passwd_edit passwd_file_add(const char *path, const char *user,
		    const char *hash, char *err, size_t errlen);
/* Replace the password field of user's line, rest of the line untouched. */
enum passwd_edit passwd_file_set(const char *path, const char *user,
		    const char *hash, char *err, size_t errlen);
/* Remove user's line. */
enum passwd_edit passwd_file_del(const char *path, const char *user,
		    char *err, size_t errlen);

#endif
