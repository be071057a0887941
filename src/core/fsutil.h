/*
 * fsutil — the few file-system loops every layer needs, written once.
 *
 * fsutil_read_all() reads a descriptor to its end into a buf, with a
 * bound. fsutil_write_all() and fsutil_pwrite_all() write every byte or
 * fail:
 * a short write (a pipe, a full socket buffer, a signal part way) goes
 * on from where it stopped, EINTR is retried, anything else is an error
 * with errno set. fsutil_mkdir_p() is "mkdir -p" with a mode, and with
 * FSUTIL_MKDIR_SYNC the parent of every directory it makes is fsynced,
 * so a directory that held a message survives a crash (see spool.h and
 * maildir.h). fsutil_fsync_dir() is the fsync of a directory by name.
 *
 * No allocation, no logging: callers say what failed in their own words.
 */
#ifndef NETJES_CORE_FSUTIL_H
#define NETJES_CORE_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

struct buf;

/*
 * Appends what fd holds from its offset to the end to b (NUL-terminated
 * as every buf). 0, or -1 with errno set: EFBIG when there is more than
 * max octets (b then holds a part; the caller drops it).
 */
int	fsutil_read_all(int fd, struct buf *b, size_t max);

/* 0, or -1 with errno set (bytes before the error may be written). */
int	fsutil_write_all(int fd, const void *p, size_t n);
/* The same at offset off, without moving the file offset. */
int	fsutil_pwrite_all(int fd, const void *p, size_t n, off_t off);

#define FSUTIL_MKDIR_SYNC	0x01	/* fsync the parent of each made */

/*
 * Creates path and every missing parent with mode (the umask applies,
 * as for mkdir(2)); directories that exist are left as they are. 0 when
 * path is a directory at the end, or -1 with errno set (ENOTDIR when a
 * part is something else) and, when failed is not NULL, the part that
 * failed copied into failed (size failedlen).
 */
int	fsutil_mkdir_p(const char *path, mode_t mode, int flags,
	    char *failed, size_t failedlen);

/* open(O_DIRECTORY), fsync, close: 0, or -1 with errno set. */
int	fsutil_fsync_dir(const char *path);

#endif
