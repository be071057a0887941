/*
 * Unit tests for core/fsutil: every byte written through short writes
 * and EINTR (a pipe with a one-page buffer, a slow reader thread that
 * interrupts the writer with a signal after each read), and mkdir -p
 * with existing parts, a file in the way, modes and permissions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "testutil.h"

#define BIG	(512 * 1024)

static atomic_uint signals_seen;

static void
on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&signals_seen, 1);
}

/* SIGUSR1 without SA_RESTART: a blocked write() comes back early. */
static void
interrupting_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
}

struct reader {
	int		 fd;
	pthread_t	 writer;	/* interrupted after every read */
	size_t		 want;
	unsigned char	*got;
	size_t		 len;
};

static void *
reader_run(void *arg)
{
	struct reader *r = arg;
	ssize_t n;

	while (r->len < r->want) {
		n = read(r->fd, r->got + r->len, 1000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		r->len += (size_t)n;
		pthread_kill(r->writer, SIGUSR1);
	}
	return NULL;
}

static unsigned char *
pattern(size_t n)
{
	unsigned char *p = malloc(n);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 31 + i / 4093);
	return p;
}

/* A pipe of one page, a reader that takes 1000 octets at a time and
 * signals this thread after each. */
static void
start_reader(struct reader *r, pthread_t *t, int fds[2], size_t want)
{
	assert_int_equal(pipe(fds), 0);
	(void)fcntl(fds[1], F_SETPIPE_SZ, 4096);
	memset(r, 0, sizeof(*r));
	r->fd = fds[0];
	r->writer = pthread_self();
	r->want = want;
	r->got = calloc(1, want);
	assert_non_null(r->got);
	assert_int_equal(pthread_create(t, NULL, reader_run, r), 0);
}

/*
 * The setup is hostile enough to matter: a single write() there comes
 * back short or with EINTR. (Without this the next test could pass with
 * a write_all that is a plain write.)
 */
static void
test_setup_gives_short_writes(void **state)
{
	unsigned char *data = pattern(BIG);
	struct reader r;
	pthread_t t;
	int fds[2];
	ssize_t w;
	size_t done = 0;
	bool cut = false;

	(void)state;
	interrupting_handler();
	start_reader(&r, &t, fds, BIG);
	while (done < BIG) {
		w = write(fds[1], data + done, BIG - done);
		if (w < 0) {
			assert_int_equal(errno, EINTR);
			cut = true;
			continue;
		}
		if ((size_t)w < BIG - done)
			cut = true;
		done += (size_t)w;
	}
	assert_true(cut);
	close(fds[1]);
	pthread_join(t, NULL);
	close(fds[0]);
	free(r.got);
	free(data);
}

static void
test_write_all_through_short_writes_and_eintr(void **state)
{
	unsigned char *data = pattern(BIG);
	struct reader r;
	pthread_t t;
	int fds[2];

	(void)state;
	interrupting_handler();
	atomic_store(&signals_seen, 0);
	start_reader(&r, &t, fds, BIG);
	assert_int_equal(fsutil_write_all(fds[1], data, BIG), 0);
	close(fds[1]);
	pthread_join(t, NULL);
	assert_true(atomic_load(&signals_seen) > 0);
	assert_int_equal(r.len, BIG);
	assert_memory_equal(r.got, data, BIG);
	close(fds[0]);
	free(r.got);
	free(data);
}

static void
test_write_all_errors(void **state)
{
	struct sigaction ign, old;
	int fds[2];

	(void)state;
	assert_int_equal(fsutil_write_all(-1, "x", 1), -1);
	assert_int_equal(errno, EBADF);
	/* nothing to write is no error, even on a bad descriptor */
	assert_int_equal(fsutil_write_all(-1, "", 0), 0);
	/* the reader is gone: EPIPE, not a hang and not a loop */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old);
	assert_int_equal(pipe(fds), 0);
	close(fds[0]);
	assert_int_equal(fsutil_write_all(fds[1], "abc", 3), -1);
	assert_int_equal(errno, EPIPE);
	close(fds[1]);
	sigaction(SIGPIPE, &old, NULL);
}

/* fsutil_read_all from the start of fd. */
static int
read_from_start(int fd, struct buf *b, size_t max)
{
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fsutil_read_all(fd, b, max);
}

/* A writer that feeds the pipe in pieces and interrupts the reader. */
struct feeder {
	int		 fd;
	pthread_t	 reader;
	const unsigned char *data;
	size_t		 len;
};

static void *
feeder_run(void *arg)
{
	struct feeder *f = arg;
	size_t off = 0, n;

	while (off < f->len) {
		n = f->len - off < 777 ? f->len - off : 777;
		assert_int_equal(fsutil_write_all(f->fd, f->data + off, n), 0);
		off += n;
		pthread_kill(f->reader, SIGUSR1);
	}
	close(f->fd);
	return NULL;
}

static void
test_read_all_to_the_end(void **state)
{
	unsigned char *data = pattern(BIG);
	struct buf b = BUF_INIT;
	struct feeder f;
	pthread_t t;
	int fds[2];

	(void)state;
	interrupting_handler();
	atomic_store(&signals_seen, 0);
	assert_int_equal(pipe(fds), 0);
	f.fd = fds[1];
	f.reader = pthread_self();
	f.data = data;
	f.len = BIG;
	buf_append(&b, "kept:", 5);	/* appended after what b holds */
	assert_int_equal(pthread_create(&t, NULL, feeder_run, &f), 0);
	assert_int_equal(fsutil_read_all(fds[0], &b, BIG), 0);
	pthread_join(t, NULL);
	assert_true(atomic_load(&signals_seen) > 0);
	assert_int_equal(b.len, 5 + BIG);
	assert_memory_equal(b.data, "kept:", 5);
	assert_memory_equal(b.data + 5, data, BIG);
	assert_int_equal(b.data[b.len], '\0');
	close(fds[0]);
	buf_free(&b);
	free(data);
}

static void
test_read_all_bound(void **state)
{
	char *dir = testutil_tmpdir("fsutil"), path[PATH_MAX];
	unsigned char *data = pattern(20000);
	struct buf b = BUF_INIT;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fsutil_write_all(fd, data, 20000), 0);
	/* exactly the bound fits; one octet less does not */
	assert_int_equal(read_from_start(fd, &b, 20000), 0);
	assert_int_equal(b.len, 20000);
	assert_memory_equal(b.data, data, 20000);
	buf_reset(&b);
	assert_int_equal(read_from_start(fd, &b, 19999), -1);
	assert_int_equal(errno, EFBIG);
	buf_reset(&b);
	assert_int_equal(read_from_start(fd, &b, 0), -1);
	assert_int_equal(errno, EFBIG);
	/* an empty file is an empty buf, not an error */
	assert_int_equal(ftruncate(fd, 0), 0);
	buf_reset(&b);
	assert_int_equal(read_from_start(fd, &b, 0), 0);
	assert_int_equal(b.len, 0);
	close(fd);
	/* a directory cannot be read */
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_int_equal(fsutil_read_all(fd, &b, 100), -1);
	assert_int_equal(errno, EISDIR);
	close(fd);
	assert_int_equal(fsutil_read_all(-1, &b, 100), -1);
	assert_int_equal(errno, EBADF);
	buf_free(&b);
	free(data);
	testutil_rm_tree(dir);
	free(dir);
}

static void
test_pwrite_all_at_offset(void **state)
{
	char *dir = testutil_tmpdir("fsutil"), path[PATH_MAX], got[16] = "";
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fsutil_write_all(fd, "0123456789", 10), 0);
	assert_int_equal(fsutil_pwrite_all(fd, "abc", 3, 2), 0);
	/* the file offset did not move: the next write appends */
	assert_int_equal(fsutil_write_all(fd, "!", 1), 0);
	assert_int_equal(pread(fd, got, sizeof(got) - 1, 0), 11);
	assert_string_equal(got, "01abc56789!");
	close(fd);
	testutil_rm_tree(dir);
	free(dir);
}

static mode_t
mode_of(const char *dir, const char *sub)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return (mode_t)-1;
	return st.st_mode & 07777;
}

static void
test_mkdir_p_creates_with_mode(void **state)
{
	char *dir = testutil_tmpdir("fsutil"), path[PATH_MAX], failed[PATH_MAX];
	mode_t old = umask(022);
	int flags[] = { 0, FSUTIL_MKDIR_SYNC };
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/m%zu/b/c", dir, i);
		assert_int_equal(fsutil_mkdir_p(path, 0750, flags[i], failed,
		    sizeof(failed)), 0);
	}
	assert_int_equal(mode_of(dir, "m0"), 0750);
	assert_int_equal(mode_of(dir, "m0/b"), 0750);
	assert_int_equal(mode_of(dir, "m0/b/c"), 0750);
	assert_int_equal(mode_of(dir, "m1/b/c"), 0750);
	/* the umask applies, as for mkdir(2) */
	snprintf(path, sizeof(path), "%s/open/x", dir);
	assert_int_equal(fsutil_mkdir_p(path, 0777, 0, NULL, 0), 0);
	assert_int_equal(mode_of(dir, "open/x"), 0755);
	/* doubled and trailing slashes, a path that is all there */
	snprintf(path, sizeof(path), "%s//s1//s2/", dir);
	assert_int_equal(fsutil_mkdir_p(path, 0700, 0, NULL, 0), 0);
	assert_int_equal(mode_of(dir, "s1/s2"), 0700);
	assert_int_equal(fsutil_mkdir_p(path, 0700, 0, NULL, 0), 0);
	assert_int_equal(fsutil_mkdir_p(dir, 0700, 0, NULL, 0), 0);
	assert_int_equal(fsutil_mkdir_p("/", 0700, 0, NULL, 0), 0);
	umask(old);
	testutil_rm_tree(dir);
	free(dir);
}

static void
test_mkdir_p_keeps_existing_parts(void **state)
{
	char *dir = testutil_tmpdir("fsutil"), path[PATH_MAX];
	mode_t old = umask(0);

	(void)state;
	snprintf(path, sizeof(path), "%s/a", dir);
	assert_int_equal(mkdir(path, 0711), 0);
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	assert_int_equal(fsutil_mkdir_p(path, 0750, FSUTIL_MKDIR_SYNC, NULL,
	    0), 0);
	assert_int_equal(mode_of(dir, "a"), 0711);
	assert_int_equal(mode_of(dir, "a/b"), 0750);
	assert_int_equal(mode_of(dir, "a/b/c"), 0750);
	/* a symbolic link to a directory is a directory on the way */
	snprintf(path, sizeof(path), "%s/link", dir);
	assert_int_equal(symlink("a", path), 0);
	snprintf(path, sizeof(path), "%s/link/b/d", dir);
	assert_int_equal(fsutil_mkdir_p(path, 0700, 0, NULL, 0), 0);
	assert_int_equal(mode_of(dir, "a/b/d"), 0700);
	umask(old);
	testutil_rm_tree(dir);
	free(dir);
}

static void
test_mkdir_p_file_in_the_way(void **state)
{
	char *dir = testutil_tmpdir("fsutil"), path[PATH_MAX], file[PATH_MAX];
	char failed[PATH_MAX] = "";
	int fd;

	(void)state;
	snprintf(file, sizeof(file), "%s/file", dir);
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	/* a part of the path */
	snprintf(path, sizeof(path), "%s/file/sub/deeper", dir);
	errno = 0;
	assert_int_equal(fsutil_mkdir_p(path, 0700, 0, failed,
	    sizeof(failed)), -1);
	assert_int_equal(errno, ENOTDIR);
	assert_string_equal(failed, file);
	/* the path itself */
	failed[0] = '\0';
	assert_int_equal(fsutil_mkdir_p(file, 0700, FSUTIL_MKDIR_SYNC,
	    failed, sizeof(failed)), -1);
	assert_int_equal(errno, ENOTDIR);
	assert_string_equal(failed, file);
	testutil_rm_tree(dir);
	free(dir);
}

static void
test_mkdir_p_refused(void **state)
{
	char *dir = testutil_tmpdir("fsutil"), path[PATH_MAX], ro[PATH_MAX];
	char failed[PATH_MAX] = "", *longp;

	(void)state;
	assert_int_equal(fsutil_mkdir_p("", 0700, 0, failed, sizeof(failed)),
	    -1);
	assert_int_equal(errno, ENOENT);
	longp = malloc(PATH_MAX + 2);
	assert_non_null(longp);
	memset(longp, 'a', PATH_MAX + 1);
	longp[PATH_MAX + 1] = '\0';
	assert_int_equal(fsutil_mkdir_p(longp, 0700, 0, NULL, 0), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	free(longp);
	/* a parent we may not write into (root may: nothing to see) */
	snprintf(ro, sizeof(ro), "%s/ro", dir);
	assert_int_equal(mkdir(ro, 0500), 0);
	snprintf(path, sizeof(path), "%s/ro/x/y", dir);
	if (geteuid() != 0) {
		assert_int_equal(fsutil_mkdir_p(path, 0700, 0, failed,
		    sizeof(failed)), -1);
		assert_int_equal(errno, EACCES);
		snprintf(ro, sizeof(ro), "%s/ro/x", dir);
		assert_string_equal(failed, ro);
	}
	testutil_rm_tree(dir);
	free(dir);
}

static void
test_fsync_dir(void **state)
{
	char *dir = testutil_tmpdir("fsutil"), path[PATH_MAX];
	int fd;

	(void)state;
	assert_int_equal(fsutil_fsync_dir(dir), 0);
	snprintf(path, sizeof(path), "%s/none", dir);
	assert_int_equal(fsutil_fsync_dir(path), -1);
	assert_int_equal(errno, ENOENT);
	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(fsutil_fsync_dir(path), -1);
	assert_int_equal(errno, ENOTDIR);
	testutil_rm_tree(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_setup_gives_short_writes),
		cmocka_unit_test(test_write_all_through_short_writes_and_eintr),
		cmocka_unit_test(test_write_all_errors),
		cmocka_unit_test(test_pwrite_all_at_offset),
		cmocka_unit_test(test_read_all_to_the_end),
		cmocka_unit_test(test_read_all_bound),
		cmocka_unit_test(test_mkdir_p_creates_with_mode),
		cmocka_unit_test(test_mkdir_p_keeps_existing_parts),
		cmocka_unit_test(test_mkdir_p_file_in_the_way),
		cmocka_unit_test(test_mkdir_p_refused),
		cmocka_unit_test(test_fsync_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
