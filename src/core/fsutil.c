/*
 * fsutil — write-everything loops and mkdir -p. See fsutil.h.
 */
#include "core/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"

#define FSUTIL_READ_STEP	8192

int
fsutil_read_all(int fd, struct buf *b, size_t max)
{
	size_t start = b->len, room;
	ssize_t r;

	for (;;) {
		buf_reserve(b, FSUTIL_READ_STEP);
		/* one octet past max is enough to know it is too much */
		room = max - (b->len - start);
		room = room >= FSUTIL_READ_STEP ? FSUTIL_READ_STEP : room + 1;
		r = read(fd, b->data + b->len, room);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		b->len += (size_t)r;
		b->data[b->len] = '\0';
		if (b->len - start > max) {
			errno = EFBIG;
			return -1;
		}
	}
}

int
fsutil_write_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, s, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int
fsutil_pwrite_all(int fd, const void *p, size_t n, off_t off)
{
	const char *s = p;
	ssize_t w;

	while (n > 0) {
		if ((w = pwrite(fd, s, n, off)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

int
fsutil_fsync_dir(const char *path)
{
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	if (fsync(fd) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

static int
fsutil_fail(const char *part, char *failed, size_t failedlen)
{
	int e = errno;

	if (failed != NULL && failedlen > 0)
		snprintf(failed, failedlen, "%s", part);
	errno = e;
	return -1;
}

/* The directory that holds p (cut at its last slash), fsynced. */
static int
fsutil_sync_parent(char *p)
{
	char *up = strrchr(p, '/');
	int rc;

	if (up == NULL)
		return fsutil_fsync_dir(".");
	if (up == p)
		return fsutil_fsync_dir("/");
	*up = '\0';
	rc = fsutil_fsync_dir(p);
	*up = '/';
	return rc;
}

/* One part of the path: made (and its parent synced), or a directory. */
static int
fsutil_mkdir_one(char *p, mode_t mode, int flags)
{
	struct stat st;

	if (mkdir(p, mode) == 0)
		return (flags & FSUTIL_MKDIR_SYNC) ? fsutil_sync_parent(p) : 0;
	if (errno != EEXIST)
		return -1;
	if (stat(p, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int
fsutil_mkdir_p(const char *path, mode_t mode, int flags, char *failed,
    size_t failedlen)
{
	char p[PATH_MAX];
	size_t i, n = strlen(path);

	if (n == 0 || n >= sizeof(p)) {
		errno = n ? ENAMETOOLONG : ENOENT;
		return fsutil_fail(path, failed, failedlen);
	}
	memcpy(p, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		/* "a//b" and a trailing slash: nothing new to make */
		if (p[i - 1] == '/')
			continue;
		p[i] = '\0';
		if (fsutil_mkdir_one(p, mode, flags) < 0)
			return fsutil_fail(p, failed, failedlen);
		if (i < n)
			p[i] = '/';
	}
	return 0;
}
