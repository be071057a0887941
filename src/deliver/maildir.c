/*
 * maildir — Maildir++ delivery. See maildir.h.
 *
 * The hot path assumes the Maildir exists and opens tmp/<unique> at
 * once; only when that fails with ENOENT are the directories created
 * (durably) and the open retried, so a normal delivery costs open,
 * writes, fsync, rename and one directory fsync.
 *
 * The delivery counter is the one piece of process-wide state: it must
 * be unique per delivery across every thread of the process, which is
 * what the Maildir spec's Q<count> asks for.
 */
#include "deliver/maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/fsutil.h"

#define MAILDIR_IOBUF	(32 * 1024)

static atomic_ulong maildir_counter;

static void
res_set(struct maildir_result *res, enum maildir_status st, int err,
    const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
res_set(struct maildir_result *res, enum maildir_status st, int err,
    const char *dsn, const char *fmt, ...)
{
	va_list ap;

	res->status = st;
	res->err = err;
	snprintf(res->dsn, sizeof(res->dsn), "%s", dsn);
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
}

void
maildir_classify(int err, const char *what, struct maildir_result *res)
{
	const char *dsn, *why;
	enum maildir_status st = MAILDIR_TEMPFAIL;

	switch (err) {
	case EFBIG:
		st = MAILDIR_PERMFAIL;
		dsn = "5.2.3";
		why = "message too large for the mailbox";
		break;
	case ENOSPC:
		dsn = "4.3.1";
		why = "mail file system full";
		break;
	case EDQUOT:
		dsn = "4.2.2";
		why = "mailbox over quota";
		break;
	case EACCES:
	case EPERM:
		dsn = "4.2.0";
		why = "mailbox not writable";
		break;
	case EROFS:
		dsn = "4.3.0";
		why = "mail file system is read-only";
		break;
	case EIO:
		dsn = "4.3.0";
		why = "I/O error on the mail file system";
		break;
	case ENOTDIR:
	case ELOOP:
	case ENAMETOOLONG:
	case ENOENT:
	case EINVAL:
		dsn = "4.3.5";
		why = "mailbox path misconfigured";
		break;
	default:
		dsn = "4.3.0";
		why = "local delivery failed";
		break;
	}
	res_set(res, st, err, dsn, "%s: %s: %s", why, what,
	    err ? strerror(err) : "invalid");
}

bool
maildir_folder_valid(const char *folder)
{
	size_t i, n = strlen(folder);
	bool part_empty = true;

	if (n == 0 || n > MAILDIR_FOLDER_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = folder[i];

		if (c == '.') {
			if (part_empty)
				return false;
			part_empty = true;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr(" _-+&,", c) != NULL))
			return false;
		part_empty = false;
	}
	return !part_empty;
}

void
maildir_unique_name(char *out, size_t n, const char *hostname)
{
	char host[256], safe[256 * 4 + 1];
	struct timeval tv;
	unsigned long q;
	size_t i, j = 0;

	if (hostname == NULL || *hostname == '\0') {
		if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		hostname = host;
	}
	for (i = 0; hostname[i] != '\0' && j + 5 < sizeof(safe); i++) {
		unsigned char c = (unsigned char)hostname[i];

		if (c == '/')
			j += (size_t)snprintf(safe + j, sizeof(safe) - j, "\\057");
		else if (c == ':')
			j += (size_t)snprintf(safe + j, sizeof(safe) - j, "\\072");
		else if (c > 0x20 && c < 0x7f && c != ',')
			safe[j++] = (char)c;
	}
	safe[j] = '\0';
	gettimeofday(&tv, NULL);
	q = atomic_fetch_add(&maildir_counter, 1ul);
	snprintf(out, n, "%lld.M%ldP%ldQ%lu.%s", (long long)tv.tv_sec,
	    (long)tv.tv_usec, (long)getpid(), q, safe);
}

/* Records the failing path without disturbing errno. */
static void
note_failed(char failed[PATH_MAX], const char *path)
{
	int e = errno;

	snprintf(failed, PATH_MAX, "%s", path);
	errno = e;
}

static int
path_join(char *out, const char *a, const char *b, const char *c)
{
	if ((size_t)snprintf(out, PATH_MAX, "%s%s%s", a, b, c) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* dir/cur, dir/new, dir/tmp, and for a folder dir/maildirfolder. */
static int
make_maildir(const char *dir, bool is_folder, char failed[PATH_MAX])
{
	static const char *const subs[] = { "/cur", "/new", "/tmp" };
	char p[PATH_MAX];
	size_t i;
	int fd;

	if (fsutil_mkdir_p(dir, 0700, FSUTIL_MKDIR_SYNC, failed,
	    PATH_MAX) < 0)
		return -1;
	for (i = 0; i < 3; i++) {
		if (path_join(p, dir, subs[i], "") < 0 ||
		    fsutil_mkdir_p(p, 0700, FSUTIL_MKDIR_SYNC, failed,
		    PATH_MAX) < 0) {
			note_failed(failed, p);
			return -1;
		}
	}
	if (!is_folder)
		return 0;
	if (path_join(p, dir, "/maildirfolder", "") < 0)
		return -1;
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || close(fd) < 0 || fsutil_fsync_dir(dir) < 0) {
		note_failed(failed, p);
		return -1;
	}
	return 0;
}

/* The directory of maildir + folder, or -1 with res filled in. */
static int
folder_dir(const char *maildir, const char *folder, char out[PATH_MAX],
    struct maildir_result *res)
{
	/* relative paths are fine: the server runs inside its data
	 * directory (privsep.h), which it may not be able to name */
	if (maildir == NULL || maildir[0] == '\0') {
		maildir_classify(EINVAL, "empty Maildir path", res);
		return -1;
	}
	if (folder == NULL || *folder == '\0') {
		if (path_join(out, maildir, "", "") < 0)
			goto toolong;
		return 0;
	}
	if (!maildir_folder_valid(folder)) {
		maildir_classify(EINVAL, "invalid folder name", res);
		return -1;
	}
	if (path_join(out, maildir, "/.", folder) < 0)
		goto toolong;
	return 0;
toolong:
	maildir_classify(ENAMETOOLONG, maildir, res);
	return -1;
}

enum maildir_status
maildir_create(const char *maildir, const char *folder,
    struct maildir_result *res)
{
	char dir[PATH_MAX], failed[PATH_MAX];

	memset(res, 0, sizeof(*res));
	if (folder_dir(maildir, folder, dir, res) < 0)
		return res->status;
	/* A folder lives inside a complete Maildir. */
	if (folder != NULL && *folder != '\0' &&
	    make_maildir(maildir, false, failed) < 0) {
		maildir_classify(errno, failed, res);
		return res->status;
	}
	if (make_maildir(dir, folder != NULL && *folder != '\0', failed) < 0) {
		maildir_classify(errno, failed, res);
		return res->status;
	}
	res_set(res, MAILDIR_OK, 0, "2.0.0", "created");
	return MAILDIR_OK;
}

/* Output side of the copy: a buffer with CRLF -> LF folding. */
struct copier {
	int		 fd;
	bool		 keep_crlf;
	bool		 pending_cr;
	uint64_t	 written;
	size_t		 len;
	char		 out[MAILDIR_IOBUF];
};

static int
copier_flush(struct copier *c)
{
	if (fsutil_write_all(c->fd, c->out, c->len) < 0)
		return -1;
	c->written += c->len;
	c->len = 0;
	return 0;
}

static int
copier_put(struct copier *c, char ch)
{
	if (c->len == sizeof(c->out) && copier_flush(c) < 0)
		return -1;
	c->out[c->len++] = ch;
	return 0;
}

static int
copier_feed(struct copier *c, const char *p, size_t n)
{
	size_t i;

	if (c->keep_crlf) {
		for (i = 0; i < n; i++)
			if (copier_put(c, p[i]) < 0)
				return -1;
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (c->pending_cr) {
			c->pending_cr = false;
			if (p[i] == '\n') {
				if (copier_put(c, '\n') < 0)
					return -1;
				continue;
			}
			if (copier_put(c, '\r') < 0)
				return -1;
		}
		if (p[i] == '\r')
			c->pending_cr = true;
		else if (copier_put(c, p[i]) < 0)
			return -1;
	}
	return 0;
}

static int
copier_finish(struct copier *c)
{
	if (c->pending_cr) {
		c->pending_cr = false;
		if (copier_put(c, '\r') < 0)
			return -1;
	}
	return copier_flush(c);
}

/* Streams the content fd; -1 with errno, *what says which side failed. */
static int
copy_content(struct copier *c, int fd, const char **what)
{
	char in[MAILDIR_IOBUF];
	off_t off = 0;
	ssize_t r;

	for (;;) {
		r = pread(fd, in, sizeof(in), off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			*what = "read spooled content";
			return -1;
		}
		if (r == 0)
			return 0;
		off += r;
		if (copier_feed(c, in, (size_t)r) < 0) {
			*what = "write";
			return -1;
		}
	}
}

/* rename without replacing: renameat2 NOREPLACE, else link + unlink. */
static int
rename_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (link(from, to) < 0)
		return -1;
	unlink(from);
	return 0;
}

enum maildir_status
maildir_deliver(const struct maildir_delivery *d, struct maildir_result *res)
{
	char dir[PATH_MAX], base[512], tmp[PATH_MAX], dst[PATH_MAX];
	char newdir[PATH_MAX + 8], failed[PATH_MAX + 64];
	struct copier *c = NULL;
	const char *what = "write";
	bool created = false;
	int fd = -1, tries, err;

	memset(res, 0, sizeof(*res));
	if (folder_dir(d->maildir, d->folder, dir, res) < 0)
		return res->status;
	for (tries = 0; ; tries++) {
		maildir_unique_name(base, sizeof(base), d->hostname);
		if (path_join(tmp, dir, "/tmp/", base) < 0) {
			maildir_classify(errno, dir, res);
			return res->status;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0)
			break;
		err = errno;
		if (err == ENOENT && !created) {
			created = true;
			if (maildir_create(d->maildir, d->folder, res) !=
			    MAILDIR_OK)
				return res->status;
			continue;
		}
		if (err == EEXIST && tries < 8)
			continue;
		maildir_classify(err, tmp, res);
		return res->status;
	}

	/* Output buffer on the heap, input buffer on the stack: 32 KB of
	 * stack each is all a delivery thread should have to spare. */
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		err = ENOMEM;
		goto fail;
	}
	c->fd = fd;
	c->keep_crlf = d->keep_crlf;
	if ((d->prefix_len > 0 && copier_feed(c, d->prefix,
	    d->prefix_len) < 0) ||
	    (d->content_fd >= 0 && copy_content(c, d->content_fd, &what) < 0) ||
	    copier_finish(c) < 0) {
		err = errno;
		goto fail;
	}
	res->size = c->written;
	what = "fsync";
	if (fsync(fd) < 0) {
		err = errno;
		goto fail;
	}
	what = "close";
	err = close(fd) < 0 ? errno : 0;
	fd = -1;
	if (err != 0)
		goto fail;

	if ((size_t)snprintf(dst, sizeof(dst), "%s/new/%s,S=%" PRIu64, dir,
	    base, res->size) >= sizeof(dst)) {
		err = ENAMETOOLONG;
		goto fail;
	}
	what = "rename into new/";
	if (rename_noreplace(tmp, dst) < 0) {
		err = errno;
		goto fail;
	}
	what = "fsync new/";
	snprintf(newdir, sizeof(newdir), "%s/new", dir);
	if (fsutil_fsync_dir(newdir) < 0) {
		/* Unknown whether it is on disk: take it back and retry
		 * later rather than risk a silent loss. */
		err = errno;
		unlink(dst);
		goto fail_nounlink;
	}
	free(c);
	snprintf(res->path, sizeof(res->path), "%s", dst);
	res_set(res, MAILDIR_OK, 0, "2.0.0", "delivered to %s", dst);
	return MAILDIR_OK;

fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
fail_nounlink:
	free(c);
	snprintf(failed, sizeof(failed), "%s %s", what, tmp);
	maildir_classify(err, failed, res);
	return res->status;
}
