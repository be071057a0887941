/*
 * passwd — the Dovecot-compatible users file. See passwd.h.
 *
 * Three parts: a pure parser (text in, entries and bad lines out, memory
 * from an arena), a database that reloads the file when it changes and
 * verifies passwords in one worker thread, and an editor that rewrites
 * the file atomically. The editor scans lines on its own, not through
 * the parser, so a bad line for a user (say a {PLAIN} password) is found,
 * replaced or removed like a good one and never duplicated.
 */
#include "store/passwd.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/fsutil.h"
#include "core/log.h"

#define LINE_MAX_OCTETS		4096
#define FILE_MAX_OCTETS		(64u * 1024 * 1024)

/*
 * What unknown users are checked against, so that "no such user" costs
 * the same crypt as "wrong password". A yescrypt hash of a throw-away
 * phrase, at the default cost passwd_hash_new() gives every user (the
 * unit test holds the two to the same parameters). Not another user's
 * hash: its cost is that user's, and a file may mix costs and schemes.
 */
static const char dummy_hash[] =
    "$y$j9T$cO7m5r/EC6iARD/LscgRP.$NvjfAi0aJS8EItPa0mY93yeGe2owHoQzpCfEv.9bCk2";

static const char *const crypt_schemes[] = {
	"CRYPT", "BLF-CRYPT", "SHA256-CRYPT", "SHA512-CRYPT", "MD5-CRYPT",
};

const char *
passwd_result_name(enum passwd_result r)
{
	switch (r) {
	case PASSWD_OK:
		return "ok";
	case PASSWD_BAD:
		return "bad";
	case PASSWD_UNKNOWN_USER:
		return "unknown_user";
	case PASSWD_TEMPFAIL:
		return "tempfail";
	}
	return "?";
}

/* ---- the pure parser ---- */

static uint32_t
name_hash(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a over ASCII-lowercased bytes */

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h = (h ^ c) * 16777619u;
	}
	return h;
}

static int
has_control(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return 1;
	return 0;
}

static int
all_blank(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return 0;
	return 1;
}

/* reason is static or in the arena */
static void
add_error(struct passwd_list *out, size_t line, const char *reason)
{
	struct passwd_error *e = &out->errors[out->nerrors++];

	e->line = line;
	e->reason = reason;
}

/* The slot of user in the hash index: its entry, or an empty slot. */
static size_t *
index_slot(const struct passwd_list *l, const char *user)
{
	size_t mask = l->nslots - 1, i = name_hash(user) & mask;

	for (;; i = (i + 1) & mask) {
		size_t *s = &l->slots[i];

		if (*s == 0 || strcasecmp(l->entries[*s - 1].user, user) == 0)
			return s;
	}
}

/*
 * Check the password field p[0..n): strip a known {SCHEME}. Returns the
 * hash's offset in the field, or -1 with *why set.
 */
static long
check_password_field(const char *p, size_t n, struct arena *a,
    const char **why)
{
	const char *close;
	size_t i;

	if (n == 0) {
		*why = "empty password field";
		return -1;
	}
	if (p[0] != '{')
		return 0;
	if ((close = memchr(p, '}', n)) == NULL) {
		*why = "unterminated {SCHEME} in the password field";
		return -1;
	}
	for (i = 0; i < sizeof(crypt_schemes) / sizeof(crypt_schemes[0]); i++)
		if (strlen(crypt_schemes[i]) == (size_t)(close - p - 1) &&
		    strncasecmp(crypt_schemes[i], p + 1,
		    (size_t)(close - p - 1)) == 0) {
			if ((size_t)(close - p + 1) == n) {
				*why = "empty password after the scheme";
				return -1;
			}
			return close - p + 1;
		}
	*why = arena_printf(a, "unsupported password scheme %.*s "
	    "(only crypt(3) hashes)", (int)(close - p + 1), p);
	return -1;
}

size_t
passwd_parse(const char *text, size_t n, struct arena *a,
    struct passwd_list *out)
{
	size_t nlines = 1, i, off = 0, lineno = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++)
		if (text[i] == '\n')
			nlines++;
	out->entries = arena_calloc(a, nlines, sizeof(*out->entries));
	out->errors = arena_calloc(a, nlines, sizeof(*out->errors));
	for (out->nslots = 16; out->nslots < nlines * 2; out->nslots *= 2)
		;
	out->slots = arena_calloc(a, out->nslots, sizeof(*out->slots));

	while (off < n) {
		const char *line = text + off, *nl, *colon, *pend;
		size_t len, full, ulen, plen;
		const char *why = NULL;
		long hoff;
		size_t *slot;
		struct passwd_entry *e;
		char *user;

		lineno++;
		nl = memchr(line, '\n', n - off);
		full = nl != NULL ? (size_t)(nl - line) + 1 : n - off;
		len = nl != NULL ? (size_t)(nl - line) : n - off;
		off += full;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len == 0 || line[0] == '#' || all_blank(line, len))
			continue;
		if (memchr(line, '\0', len) != NULL) {
			add_error(out, lineno, "NUL byte in line");
			continue;
		}
		if (len > LINE_MAX_OCTETS) {
			add_error(out, lineno, "line too long");
			continue;
		}
		if ((colon = memchr(line, ':', len)) == NULL) {
			add_error(out, lineno, "no ':' after the user name");
			continue;
		}
		ulen = (size_t)(colon - line);
		if (ulen == 0 || ulen > PASSWD_USER_MAX ||
		    has_control(line, ulen)) {
			add_error(out, lineno, "bad user name");
			continue;
		}
		pend = memchr(colon + 1, ':', len - ulen - 1);
		plen = pend != NULL ? (size_t)(pend - colon - 1) :
		    len - ulen - 1;
		if ((hoff = check_password_field(colon + 1, plen, a,
		    &why)) < 0 || plen - (size_t)hoff > PASSWD_HASH_MAX ||
		    has_control(colon + 1, plen)) {
			user = arena_strndup(a, line, ulen);
			add_error(out, lineno, arena_printf(a,
			    "user '%s': %s", user, why != NULL ? why :
			    "bad password field"));
			continue;
		}
		user = arena_strndup(a, line, ulen);
		slot = index_slot(out, user);
		if (*slot != 0) {
			add_error(out, lineno, arena_printf(a,
			    "user '%s' already on line %zu; this line is "
			    "ignored", user, out->entries[*slot - 1].line));
			continue;
		}
		e = &out->entries[out->nentries++];
		*slot = out->nentries;
		e->user = user;
		e->hash = arena_strndup(a, colon + 1 + hoff, plen - (size_t)hoff);
		e->line = lineno;
		e->off = (size_t)(line - text);
		e->len = full;
		e->pass_off = (size_t)(colon + 1 - text);
		e->pass_len = plen;
	}
	return out->nerrors;
}

const struct passwd_entry *
passwd_list_find(const struct passwd_list *l, const char *user)
{
	size_t *slot;

	if (l == NULL || l->nslots == 0)
		return NULL;
	slot = index_slot(l, user);
	return *slot != 0 ? &l->entries[*slot - 1] : NULL;
}

/* ---- hashing ---- */

static bool
equal_consttime(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* crypt_rn into cd and compare; cd's output is wiped after. */
static bool
hash_check_with(struct crypt_data *cd, const char *password,
    const char *hash)
{
	const char *out;
	bool ok;

	memset(cd, 0, sizeof(*cd));
	out = crypt_rn(password, hash, cd, (int)sizeof(*cd));
	/* libxcrypt may return "*0"/"*1" for failure in other modes */
	ok = out != NULL && out[0] != '*' && equal_consttime(out, hash);
	explicit_bzero(cd, sizeof(*cd));
	return ok;
}

bool
passwd_hash_check(const char *password, const char *hash)
{
	struct crypt_data *cd;
	bool ok;

	if ((cd = malloc(sizeof(*cd))) == NULL)
		return false;
	ok = hash_check_with(cd, password, hash);
	free(cd);
	return ok;
}

int
passwd_hash_new(const char *password, char *out, size_t outlen)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *h;
	int rc = -1;

	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) == NULL)
		return -1;
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return -1;
	h = crypt_rn(password, salt, cd, (int)sizeof(*cd));
	if (h != NULL && h[0] == '$' && strlen(h) < outlen) {
		memcpy(out, h, strlen(h) + 1);
		rc = 0;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return rc;
}

/* ---- the database ---- */

/* What tells one version of the file from another: a change of any of
 * these is a new version (ctime too, so a chmod that makes an unreadable
 * file readable is seen). */
struct file_ident {
	bool			 present;	/* the file existed */
	dev_t			 dev;
	ino_t			 ino;
	off_t			 size;
	struct timespec		 mtime;
	struct timespec		 ctime;
};

/* One reading of the file, made wherever the reading ran (the worker),
 * installed on the loop. */
struct passwd_snapshot {
	struct arena		*arena;		/* holds list; NULL when failed */
	struct passwd_list	 list;
	struct file_ident	 ident;
	int			 error;		/* errno of a failed reading */
};

enum job_kind {
	JOB_VERIFY,		/* one password check */
	JOB_CHANGED,		/* the watched file changed: snap */
};

struct passwd_job {
	struct passwd_job	*next;
	struct passwd_db	*db;
	enum job_kind		 kind;
	passwd_verify_cb	*cb;
	void			*arg;
	struct passwd_snapshot	*snap;		/* JOB_CHANGED */
	bool			 known;		/* the user exists */
	bool			 decided;	/* result known without crypt */
	bool			 cancelled;	/* loop thread only */
	enum passwd_result	 result;
	char			 hash[PASSWD_HASH_MAX + 1];
	char			 password[PASSWD_PASS_MAX + 1];
};

struct job_queue {
	struct passwd_job	*head;
	struct passwd_job	*tail;
};

struct passwd_db {
	char			*path;
	struct arena		*arena;		/* holds list */
	struct passwd_list	 list;
	bool			 loaded;	/* list reflects the file */
	struct file_ident	 ident;		/* of the loaded version */

	/* the watch, loop side */
	passwd_change_cb	*change_cb;	/* NULL: not watching */
	void			*change_arg;

	/* the worker; everything below mu is shared with it */
	struct event_base	*base;
	struct event		*ev;		/* read end of the pipe */
	int			 pipefd[2];
	pthread_t		 thread;
	bool			 started;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;		/* on CLOCK_MONOTONIC */
	struct job_queue	 waiting;
	struct job_queue	 done;
	bool			 stop;
	bool			 watching;	/* poll the file */
	unsigned		 poll_ms;
	struct timespec		 next_poll;
	struct file_ident	 seen;		/* the worker's last report */
	int			 seen_error;
};

void
passwd_snapshot_free(struct passwd_snapshot *snap)
{
	if (snap == NULL)
		return;
	if (snap->arena != NULL)
		arena_free(snap->arena);
	free(snap);
}

int
passwd_snapshot_error(const struct passwd_snapshot *snap)
{
	return snap->error;
}

bool
passwd_snapshot_present(const struct passwd_snapshot *snap)
{
	return snap->ident.present;
}

static void
queue_push(struct job_queue *q, struct passwd_job *j)
{
	j->next = NULL;
	if (q->tail != NULL)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
}

static void
job_free(struct passwd_job *j)
{
	passwd_snapshot_free(j->snap);
	explicit_bzero(j, sizeof(*j));
	free(j);
}

static void
queue_free(struct job_queue *q)
{
	struct passwd_job *j, *next;

	for (j = q->head; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
	q->head = q->tail = NULL;
}

struct passwd_db *
passwd_db_new(const char *path)
{
	struct passwd_db *db;
	pthread_condattr_t ca;

	if ((db = calloc(1, sizeof(*db))) == NULL)
		return NULL;
	if ((db->path = strdup(path)) == NULL) {
		free(db);
		return NULL;
	}
	db->pipefd[0] = db->pipefd[1] = -1;
	pthread_mutex_init(&db->mu, NULL);
	/* the poll interval must not stretch when the wall clock jumps */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&db->cv, &ca);
	pthread_condattr_destroy(&ca);
	return db;
}

void
passwd_db_free(struct passwd_db *db)
{
	if (db == NULL)
		return;
	if (db->started) {
		pthread_mutex_lock(&db->mu);
		db->stop = true;
		pthread_cond_signal(&db->cv);
		pthread_mutex_unlock(&db->mu);
		pthread_join(db->thread, NULL);
	}
	queue_free(&db->waiting);
	queue_free(&db->done);
	if (db->ev != NULL)
		event_free(db->ev);
	if (db->pipefd[0] >= 0)
		close(db->pipefd[0]);
	if (db->pipefd[1] >= 0)
		close(db->pipefd[1]);
	pthread_cond_destroy(&db->cv);
	pthread_mutex_destroy(&db->mu);
	if (db->arena != NULL)
		arena_free(db->arena);
	free(db->path);
	free(db);
}

const char *
passwd_db_path(const struct passwd_db *db)
{
	return db->path;
}

const struct passwd_list *
passwd_db_list(const struct passwd_db *db)
{
	return db->loaded ? &db->list : NULL;
}

static void
ident_of(const struct stat *st, struct file_ident *id)
{
	memset(id, 0, sizeof(*id));
	id->present = true;
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtime = st->st_mtim;
	id->ctime = st->st_ctim;
}

static bool
ident_same(const struct file_ident *a, const struct file_ident *b)
{
	if (!a->present || !b->present)
		return a->present == b->present;
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec &&
	    a->ctime.tv_sec == b->ctime.tv_sec &&
	    a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* Where path stands now: its identity, or errno when stat fails for
 * another reason than absence. */
static int
path_ident(const char *path, struct file_ident *id)
{
	struct stat st;

	if (stat(path, &st) == 0) {
		ident_of(&st, id);
		return 0;
	}
	memset(id, 0, sizeof(*id));
	return errno == ENOENT ? 0 : errno;
}

/*
 * One reading of path: a missing file is an empty list, a file that
 * cannot be read a snapshot with its errno (error != 0, no list). Logs
 * nothing: it runs on the worker as well as on the loop. NULL only when
 * out of memory.
 */
static struct passwd_snapshot *
snapshot_read(const char *path)
{
	struct passwd_snapshot *snap;
	struct buf text = BUF_INIT;
	struct stat st;
	int fd;

	if ((snap = calloc(1, sizeof(*snap))) == NULL)
		return NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 && errno != ENOENT) {
		snap->error = errno;
		path_ident(path, &snap->ident);
		return snap;
	}
	if (fd >= 0 && (fstat(fd, &st) != 0 ||
	    fsutil_read_all(fd, &text, FILE_MAX_OCTETS) != 0)) {
		snap->error = errno != 0 ? errno : EIO;
		if (fstat(fd, &st) == 0)
			ident_of(&st, &snap->ident);
		close(fd);
		buf_free(&text);
		return snap;
	}
	if (fd >= 0) {
		close(fd);
		ident_of(&st, &snap->ident);
	}
	snap->arena = arena_new(0);
	passwd_parse(text.data != NULL ? text.data : "", text.len,
	    snap->arena, &snap->list);
	if (text.data != NULL)
		explicit_bzero(text.data, text.len);
	buf_free(&text);
	return snap;
}

static void
log_unreadable(const char *path, int error)
{
	char q[PATH_MAX + 8];

	log_warn("passwd_unreadable", "file=%s error=%s",
	    log_quote(q, sizeof(q), path), strerror(error));
}

/* Make a good snapshot db's list (consumed), with the log lines of a
 * load. */
static void
db_install(struct passwd_db *db, struct passwd_snapshot *snap)
{
	char q[PATH_MAX + 8], r[512];
	size_t i;

	if (db->arena != NULL)
		arena_free(db->arena);
	db->arena = snap->arena;
	db->list = snap->list;
	db->ident = snap->ident;
	db->loaded = true;
	snap->arena = NULL;
	passwd_snapshot_free(snap);
	if (!db->ident.present)
		return;
	for (i = 0; i < db->list.nerrors; i++)
		log_warn("passwd_bad_line", "file=%s line=%zu reason=%s",
		    log_quote(q, sizeof(q), db->path), db->list.errors[i].line,
		    log_quote(r, sizeof(r), db->list.errors[i].reason));
	log_info("passwd_loaded", "file=%s users=%zu bad_lines=%zu",
	    log_quote(q, sizeof(q), db->path), db->list.nentries,
	    db->list.nerrors);
}

int
passwd_db_adopt(struct passwd_db *db, struct passwd_snapshot *snap)
{
	if (snap->error != 0 || snap->arena == NULL) {
		passwd_snapshot_free(snap);
		return -1;
	}
	db_install(db, snap);
	return 0;
}

int
passwd_db_refresh(struct passwd_db *db)
{
	struct passwd_snapshot *snap;
	struct file_ident now;
	int error;

	if ((error = path_ident(db->path, &now)) != 0) {
		log_unreadable(db->path, error);
		return -1;
	}
	if (db->loaded && ident_same(&db->ident, &now))
		return 0;
	if ((snap = snapshot_read(db->path)) == NULL)
		return -1;
	if (snap->error != 0) {
		log_unreadable(db->path, snap->error);
		passwd_snapshot_free(snap);
		return -1;
	}
	db_install(db, snap);
	return 0;
}

/* The hash to check a password against: the user's, or a stand-in of
 * the same cost for an unknown user. */
static const char *
db_hash_for(const struct passwd_db *db, const char *user, bool *known)
{
	const struct passwd_entry *e = passwd_list_find(&db->list, user);

	*known = e != NULL;
	return e != NULL ? e->hash : dummy_hash;
}

const char *
passwd_dummy_hash(void)
{
	return dummy_hash;
}

enum passwd_result
passwd_verify(struct passwd_db *db, const char *user, const char *password)
{
	const char *hash;
	bool known, ok;

	if (passwd_db_refresh(db) != 0)
		return PASSWD_TEMPFAIL;
	if (strlen(password) > PASSWD_PASS_MAX)
		password = "";
	hash = db_hash_for(db, user, &known);
	ok = passwd_hash_check(password, hash);
	if (!known)
		return PASSWD_UNKNOWN_USER;
	return ok ? PASSWD_OK : PASSWD_BAD;
}

static void
ts_add_ms(struct timespec *t, unsigned ms)
{
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

static bool
ts_due(const struct timespec *when)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > when->tv_sec ||
	    (now.tv_sec == when->tv_sec && now.tv_nsec >= when->tv_nsec);
}

/* A finished job to the loop (mu held). */
static void
worker_post(struct passwd_db *db, struct passwd_job *j)
{
	queue_push(&db->done, j);
	/* a full pipe already holds a wake-up: ignore EAGAIN */
	if (write(db->pipefd[1], "", 1) < 0)
		(void)0;
}

/*
 * The watched file, looked at from the worker (mu held, dropped while
 * reading): a version (or an error) other than the last one reported
 * goes to the loop as a JOB_CHANGED. Errors are reported once, not once
 * a poll.
 */
static void
worker_poll(struct passwd_db *db)
{
	struct passwd_snapshot *snap;
	struct passwd_job *j;
	struct file_ident now, seen = db->seen;
	int error, seen_error = db->seen_error;

	pthread_mutex_unlock(&db->mu);
	error = path_ident(db->path, &now);
	snap = NULL;
	if (error == 0 && ident_same(&now, &seen) && seen_error == 0)
		goto out;
	if (error != 0 && error == seen_error)
		goto out;
	if ((snap = snapshot_read(db->path)) == NULL)
		goto out;
	if (snap->error != 0 && snap->error == seen_error &&
	    ident_same(&snap->ident, &seen)) {
		passwd_snapshot_free(snap);
		snap = NULL;
	}
out:
	pthread_mutex_lock(&db->mu);
	if (snap == NULL)
		return;
	db->seen = snap->ident;
	db->seen_error = snap->error;
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		passwd_snapshot_free(snap);
		return;
	}
	j->db = db;
	j->kind = JOB_CHANGED;
	j->snap = snap;
	worker_post(db, j);
}

/* Wait (mu held) for a job; NULL when stopping or when the watched
 * file is due for a look (the caller tells the two by db->stop). */
static struct passwd_job *
worker_wait(struct passwd_db *db)
{
	struct passwd_job *j;

	for (;;) {
		if (db->stop)
			return NULL;
		if ((j = db->waiting.head) != NULL) {
			if ((db->waiting.head = j->next) == NULL)
				db->waiting.tail = NULL;
			return j;
		}
		if (!db->watching)
			pthread_cond_wait(&db->cv, &db->mu);
		else if (ts_due(&db->next_poll))
			return NULL;
		else
			pthread_cond_timedwait(&db->cv, &db->mu,
			    &db->next_poll);
	}
}

static void
worker_verify(struct crypt_data *cd, struct passwd_job *j)
{
	bool ok;

	if (!j->decided) {
		if (cd == NULL)
			j->result = PASSWD_TEMPFAIL;
		else {
			ok = hash_check_with(cd, j->password, j->hash);
			j->result = !j->known ? PASSWD_UNKNOWN_USER :
			    ok ? PASSWD_OK : PASSWD_BAD;
		}
	}
	explicit_bzero(j->password, sizeof(j->password));
}

static void *
worker_main(void *arg)
{
	struct passwd_db *db = arg;
	struct crypt_data *cd = malloc(sizeof(*cd));
	struct passwd_job *j;

	pthread_mutex_lock(&db->mu);
	for (;;) {
		if ((j = worker_wait(db)) == NULL) {
			if (db->stop)
				break;
			clock_gettime(CLOCK_MONOTONIC, &db->next_poll);
			ts_add_ms(&db->next_poll, db->poll_ms);
			worker_poll(db);
			continue;
		}
		pthread_mutex_unlock(&db->mu);
		worker_verify(cd, j);
		pthread_mutex_lock(&db->mu);
		worker_post(db, j);
	}
	pthread_mutex_unlock(&db->mu);
	free(cd);
	return NULL;
}

/* A finished job's callback, on the loop. The change callback takes the
 * snapshot; without a watch any more it is dropped. */
static void
job_deliver(struct passwd_db *db, struct passwd_job *j)
{
	struct passwd_snapshot *snap;

	if (j->cancelled)
		return;
	if (j->kind == JOB_VERIFY) {
		j->cb(j->result, j->arg);
		return;
	}
	if (db->change_cb == NULL)
		return;
	snap = j->snap;
	j->snap = NULL;
	db->change_cb(snap, db->change_arg);
}

/* On the loop: hand finished jobs to their callbacks. */
static void
worker_done(evutil_socket_t fd, short what, void *arg)
{
	struct passwd_db *db = arg;
	struct job_queue done;
	struct passwd_job *j, *next;
	char drain[64];

	(void)what;
	while (read(fd, drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&db->mu);
	done = db->done;
	db->done.head = db->done.tail = NULL;
	pthread_mutex_unlock(&db->mu);
	for (j = done.head; j != NULL; j = next) {
		next = j->next;
		job_deliver(db, j);
		job_free(j);
	}
}

static int
worker_start(struct passwd_db *db, struct event_base *base)
{
	sigset_t all, old;
	int rc;

	if (db->started)
		return db->base == base ? 0 : -1;
	if (pipe2(db->pipefd, O_NONBLOCK | O_CLOEXEC) != 0)
		return -1;
	db->ev = event_new(base, db->pipefd[0], EV_READ | EV_PERSIST,
	    worker_done, db);
	if (db->ev == NULL || event_add(db->ev, NULL) != 0)
		goto fail;
	/* the worker takes no signals: they belong to the loop thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&db->thread, NULL, worker_main, db);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		goto fail;
	db->base = base;
	db->started = true;
	return 0;
fail:
	if (db->ev != NULL)
		event_free(db->ev);
	db->ev = NULL;
	close(db->pipefd[0]);
	close(db->pipefd[1]);
	db->pipefd[0] = db->pipefd[1] = -1;
	return -1;
}

int
passwd_db_watch(struct passwd_db *db, struct event_base *base,
    unsigned interval_ms, passwd_change_cb *cb, void *arg)
{
	if (!db->loaded || interval_ms == 0 || worker_start(db, base) != 0)
		return -1;
	db->change_cb = cb;
	db->change_arg = arg;
	pthread_mutex_lock(&db->mu);
	/* the version loaded is the one already known to the caller */
	db->seen = db->ident;
	db->seen_error = 0;
	db->poll_ms = interval_ms;
	clock_gettime(CLOCK_MONOTONIC, &db->next_poll);
	ts_add_ms(&db->next_poll, interval_ms);
	db->watching = true;
	pthread_cond_signal(&db->cv);
	pthread_mutex_unlock(&db->mu);
	return 0;
}

void
passwd_db_unwatch(struct passwd_db *db)
{
	db->change_cb = NULL;
	db->change_arg = NULL;
	if (!db->started)
		return;
	pthread_mutex_lock(&db->mu);
	db->watching = false;
	pthread_mutex_unlock(&db->mu);
}

struct passwd_job *
passwd_verify_async(struct passwd_db *db, struct event_base *base,
    const char *user, const char *password, passwd_verify_cb *cb, void *arg)
{
	struct passwd_job *j;
	const char *hash;

	if (worker_start(db, base) != 0)
		return NULL;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	j->db = db;
	j->kind = JOB_VERIFY;
	j->cb = cb;
	j->arg = arg;
	/* the file is not read here, on the loop: the db holds what was
	 * loaded (and a watch keeps it current); never loaded: TEMPFAIL */
	if (!db->loaded) {
		j->decided = true;
		j->result = PASSWD_TEMPFAIL;
	} else {
		hash = db_hash_for(db, user, &j->known);
		memcpy(j->hash, hash, strlen(hash) + 1);	/* <= HASH_MAX */
		if (strlen(password) <= PASSWD_PASS_MAX)
			memcpy(j->password, password, strlen(password) + 1);
	}
	pthread_mutex_lock(&db->mu);
	queue_push(&db->waiting, j);
	pthread_cond_signal(&db->cv);
	pthread_mutex_unlock(&db->mu);
	return j;
}

void
passwd_verify_cancel(struct passwd_job *j)
{
	if (j != NULL)
		j->cancelled = true;
}

/* ---- editing ---- */

/* One physical line of the file, for the editor. */
struct raw_line {
	size_t	 off, len;	/* len includes the newline */
	size_t	 ulen;		/* user field length; 0: comment, blank, none */
	size_t	 pass_off;	/* absolute; valid when ulen > 0 */
	size_t	 pass_len;
};

/* Split the line at text[off..] into its parts; returns the next offset. */
static size_t
raw_line_at(const char *text, size_t n, size_t off, struct raw_line *l)
{
	const char *p = text + off, *nl, *colon, *pend;
	size_t len;

	memset(l, 0, sizeof(*l));
	l->off = off;
	nl = memchr(p, '\n', n - off);
	l->len = nl != NULL ? (size_t)(nl - p) + 1 : n - off;
	len = nl != NULL ? (size_t)(nl - p) : n - off;
	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (len == 0 || p[0] == '#' ||
	    (colon = memchr(p, ':', len)) == NULL)
		return off + l->len;
	l->ulen = (size_t)(colon - p);
	l->pass_off = off + l->ulen + 1;
	pend = memchr(colon + 1, ':', len - l->ulen - 1);
	l->pass_len = pend != NULL ? (size_t)(pend - colon - 1) :
	    len - l->ulen - 1;
	return off + l->len;
}

static bool
raw_line_is(const char *text, const struct raw_line *l, const char *user)
{
	return l->ulen > 0 && l->ulen == strlen(user) &&
	    strncasecmp(text + l->off, user, l->ulen) == 0;
}

static void
set_err(char *err, size_t errlen, const char *what, const char *path)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
}

static int
valid_user(const char *user)
{
	size_t n = strlen(user);

	return n > 0 && n <= PASSWD_USER_MAX && user[0] != '#' &&
	    strchr(user, ':') == NULL && !has_control(user, n) &&
	    !all_blank(user, n);
}

static int
valid_hash(const char *hash)
{
	size_t n = strlen(hash);

	return n > 0 && n <= PASSWD_HASH_MAX && strchr(hash, ':') == NULL &&
	    !has_control(hash, n);
}

/* The directory part of path, for the lock and the directory fsync. */
static void
dir_of(const char *path, char *out, size_t n)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(out, n, ".");
	else if (slash == path)
		snprintf(out, n, "/");
	else
		snprintf(out, n, "%.*s", (int)(slash - path), path);
}

/*
 * Replace path with text atomically: PATH.tmp.PID, fsync, rename, fsync
 * the directory. st is the old file (mode and owner kept), or NULL.
 */
static int
replace_file(const char *path, int dirfd, const struct buf *text,
    const struct stat *st, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	mode_t mode = st != NULL ? (st->st_mode & 0644) : 0600;
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path,
	    (long)getpid()) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		set_err(err, errlen, "cannot write", path);
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) < 0) {
		set_err(err, errlen, "cannot create", tmp);
		return -1;
	}
	if (st != NULL && fchown(fd, st->st_uid, st->st_gid) != 0 &&
	    errno != EPERM)
		goto fail;
	if (fchmod(fd, mode) != 0 ||
	    fsutil_write_all(fd, text->data != NULL ? text->data : "",
	    text->len) != 0 || fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	if (fsync(dirfd) != 0) {
		set_err(err, errlen, "cannot sync the directory of", path);
		return -1;
	}
	return 0;
fail:
	set_err(err, errlen, "cannot write", tmp);
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

enum edit_op { EDIT_ADD, EDIT_SET, EDIT_DEL };

static enum passwd_edit
passwd_file_edit(const char *path, enum edit_op op, const char *user,
    const char *hash, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	struct buf old = BUF_INIT, out = BUF_INIT;
	struct raw_line l;
	struct stat st;
	bool exists = true, found = false;
	enum passwd_edit rc = PASSWD_EDIT_ERROR;
	size_t off;
	int dirfd, fd;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (!valid_user(user) || (hash != NULL && !valid_hash(hash))) {
		if (err != NULL)
			snprintf(err, errlen, "bad user name or hash");
		return PASSWD_EDIT_ERROR;
	}
	dir_of(path, dir, sizeof(dir));
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		set_err(err, errlen, "cannot open directory", dir);
		return PASSWD_EDIT_ERROR;
	}
	/* one editor at a time: lock the directory, not a stray lock file */
	if (flock(dirfd, LOCK_EX) != 0) {
		set_err(err, errlen, "cannot lock directory", dir);
		close(dirfd);
		return PASSWD_EDIT_ERROR;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno != ENOENT) {
			set_err(err, errlen, "cannot read", path);
			goto done;
		}
		exists = false;
	} else if (fstat(fd, &st) != 0 ||
	    fsutil_read_all(fd, &old, FILE_MAX_OCTETS) != 0) {
		set_err(err, errlen, "cannot read", path);
		close(fd);
		goto done;
	} else
		close(fd);

	for (off = 0; off < old.len; ) {
		size_t next = raw_line_at(old.data, old.len, off, &l);
		bool match = raw_line_is(old.data, &l, user);

		if (match && op == EDIT_SET && !found) {
			buf_append(&out, old.data + off, l.pass_off - off);
			buf_printf(&out, "{CRYPT}%s", hash);
			buf_append(&out, old.data + l.pass_off + l.pass_len,
			    next - l.pass_off - l.pass_len);
		} else if (!(match && op == EDIT_DEL))
			buf_append(&out, old.data + off, next - off);
		found = found || match;
		off = next;
	}
	if (op == EDIT_ADD && found) {
		rc = PASSWD_EDIT_EXISTS;
		goto done;
	}
	if (op != EDIT_ADD && !found) {
		rc = PASSWD_EDIT_NOT_FOUND;
		goto done;
	}
	if (op == EDIT_ADD) {
		if (out.len > 0 && out.data[out.len - 1] != '\n')
			buf_append_char(&out, '\n');
		buf_printf(&out, "%s:{CRYPT}%s\n", user, hash);
	}
	if (replace_file(path, dirfd, &out, exists ? &st : NULL, err,
	    errlen) == 0)
		rc = PASSWD_EDIT_OK;
done:
	if (old.data != NULL)
		explicit_bzero(old.data, old.len);
	if (out.data != NULL)
		explicit_bzero(out.data, out.len);
	buf_free(&old);
	buf_free(&out);
	close(dirfd);	/* releases the lock */
	return rc;
}

enum passwd_edit
passwd_file_add(const char *path, const char *user, const char *hash,
    char *err, size_t errlen)
{
	return passwd_file_edit(path, EDIT_ADD, user, hash, err, errlen);
}

enum passwd_edit
passwd_file_set(const char *path, const char *user, const char *hash,
    char *err, size_t errlen)
{
	return passwd_file_edit(path, EDIT_SET, user, hash, err, errlen);
}

enum passwd_edit
passwd_file_del(const char *path, const char *user, char *err,
    size_t errlen)
{
	return passwd_file_edit(path, EDIT_DEL, user, NULL, err, errlen);
}
