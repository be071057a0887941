/*
 * Unit tests for deliver/maildir: unique names, first-delivery creation,
 * Maildir++ folders, CRLF folding across buffer boundaries, and honest
 * temporary failures as root (root ignores permission bits, so: a path
 * through a regular file, a child that drops to an unprivileged uid, a
 * tiny tmpfs that fills up and is then remounted read-only). Last, the
 * promise that matters: a failed delivery leaves the recipient pending
 * in the spool, a successful one is never repeated.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/buf.h"
#include "deliver/maildir.h"
#include "queue/spool.h"
#include "testutil.h"

/* ---- helpers ----------------------------------------------------------- */

static size_t
count_files(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static bool
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static struct buf
read_path(const char *path)
{
	struct buf b = BUF_INIT;
	char tmp[8192];
	ssize_t r;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	while ((r = read(fd, tmp, sizeof(tmp))) > 0)
		buf_append(&b, tmp, (size_t)r);
	close(fd);
	return b;
}

/* A file holding data, opened read-only and already unlinked. */
static int
content_fd(const char *dir, const void *data, size_t n)
{
	char path[1024];
	int fd, rfd;

	snprintf(path, sizeof(path), "%s/content.XXXXXX", dir);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
	rfd = open(path, O_RDONLY);
	assert_true(rfd >= 0);
	unlink(path);
	return rfd;
}

static char *
join(const char *a, const char *b)
{
	char *s;

	assert_true(asprintf(&s, "%s%s", a, b) > 0);
	return s;
}

/* ---- names ------------------------------------------------------------- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_unique_names(void **state)
{
	enum { N = 20000 };
	char **v = calloc(N, sizeof(*v)), name[512], host[64];
	long long sec;
	long usec, pid;
	unsigned long q;
	size_t i;

	(void)state;
	for (i = 0; i < N; i++) {
		maildir_unique_name(name, sizeof(name), "mx.example.test");
		v[i] = strdup(name);
	}
	qsort(v, N, sizeof(*v), cmp_str);
	for (i = 1; i < N; i++)
		assert_string_not_equal(v[i - 1], v[i]);
	assert_int_equal(sscanf(v[0], "%lld.M%ldP%ldQ%lu.%63s", &sec, &usec,
	    &pid, &q, host), 5);
	assert_int_equal(pid, (long)getpid());
	assert_true(usec >= 0 && usec < 1000000);
	assert_string_equal(host, "mx.example.test");
	for (i = 0; i < N; i++)
		free(v[i]);
	free(v);

	/* "/" and ":" may not appear in a Maildir name. */
	maildir_unique_name(name, sizeof(name), "a/b:c");
	assert_non_null(strstr(name, ".a\\057b\\072c"));
	assert_null(strchr(name, '/'));
	assert_null(strchr(name, ':'));
	maildir_unique_name(name, sizeof(name), NULL);	/* gethostname */
	assert_null(strchr(name, '/'));
}

static void
test_folder_names(void **state)
{
	(void)state;
	assert_true(maildir_folder_valid("Junk"));
	assert_true(maildir_folder_valid("Lists.netjes"));
	assert_true(maildir_folder_valid("Sent Items"));
	assert_true(maildir_folder_valid("&AOQ-rger"));	/* mUTF-7 */
	assert_false(maildir_folder_valid(""));
	assert_false(maildir_folder_valid(".Junk"));
	assert_false(maildir_folder_valid("Junk."));
	assert_false(maildir_folder_valid("a..b"));
	assert_false(maildir_folder_valid("../etc"));
	assert_false(maildir_folder_valid("a/b"));
	assert_false(maildir_folder_valid("a\nb"));
}

static void
test_classify(void **state)
{
	struct maildir_result r;

	(void)state;
	maildir_classify(EFBIG, "x", &r);
	assert_int_equal(r.status, MAILDIR_PERMFAIL);
	assert_string_equal(r.dsn, "5.2.3");
	maildir_classify(ENOSPC, "x", &r);
	assert_int_equal(r.status, MAILDIR_TEMPFAIL);
	assert_string_equal(r.dsn, "4.3.1");
	maildir_classify(EDQUOT, "x", &r);
	assert_int_equal(r.status, MAILDIR_TEMPFAIL);
	assert_string_equal(r.dsn, "4.2.2");
	maildir_classify(EACCES, "x", &r);
	assert_int_equal(r.status, MAILDIR_TEMPFAIL);
	assert_string_equal(r.dsn, "4.2.0");
	maildir_classify(EROFS, "x", &r);
	assert_int_equal(r.status, MAILDIR_TEMPFAIL);
	maildir_classify(EIO, "x", &r);
	assert_int_equal(r.status, MAILDIR_TEMPFAIL);
	assert_int_equal(r.err, EIO);
	assert_non_null(strstr(r.reason, "x: "));
}

/* ---- delivery ---------------------------------------------------------- */

static void
test_first_delivery_creates_maildir(void **state)
{
	static const char prefix[] = "Received: from a\r\n\tby b; now\r\n";
	static const char content[] = "Subject: hi\r\n\r\nbody\r\n..dots\r\n";
	static const char want[] = "Received: from a\n\tby b; now\n"
	    "Subject: hi\n\nbody\n..dots\n";
	char *dir = testutil_tmpdir("maildir");
	char *md = join(dir, "/example.test/alice");
	char *p, suffix[64];
	struct maildir_delivery d = { 0 };
	struct maildir_result res;
	struct stat st;
	struct buf got;
	int fd = content_fd(dir, content, strlen(content));

	(void)state;
	d.maildir = md;
	d.hostname = "mx.example.test";
	d.prefix = prefix;
	d.prefix_len = strlen(prefix);
	d.content_fd = fd;
	assert_int_equal(maildir_deliver(&d, &res), MAILDIR_OK);
	assert_string_equal(res.dsn, "2.0.0");
	assert_int_equal(res.size, strlen(want));
	got = read_path(res.path);
	assert_int_equal(got.len, strlen(want));
	assert_memory_equal(got.data, want, got.len);
	buf_free(&got);
	/* new/<unique>,S=<size>; the file is private */
	p = join(md, "/new/");
	assert_memory_equal(res.path, p, strlen(p));
	free(p);
	snprintf(suffix, sizeof(suffix), ",S=%zu", strlen(want));
	assert_string_equal(res.path + strlen(res.path) - strlen(suffix),
	    suffix);
	assert_int_equal(stat(res.path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	p = join(md, "/cur");
	assert_true(is_dir(p));
	free(p);
	p = join(md, "/tmp");
	assert_int_equal(count_files(p), 0);
	free(p);

	/* The second delivery uses the Maildir as it is, with a new name. */
	d.keep_crlf = true;
	d.prefix = NULL;
	d.prefix_len = 0;
	assert_int_equal(maildir_deliver(&d, &res), MAILDIR_OK);
	got = read_path(res.path);
	assert_int_equal(got.len, strlen(content));
	assert_memory_equal(got.data, content, got.len);
	buf_free(&got);
	p = join(md, "/new");
	assert_int_equal(count_files(p), 2);
	free(p);
	close(fd);
	free(md);
	testutil_rm_tree(dir);
	free(dir);
}

/* CRLF split over the copy buffer, over prefix and content; bare CR kept. */
static void
test_crlf_folding_across_boundaries(void **state)
{
	char *dir = testutil_tmpdir("maildir"), *md = join(dir, "/m");
	struct maildir_delivery d = { 0 };
	struct maildir_result res;
	struct buf in = BUF_INIT, got;
	size_t i, crs = 0;
	int fd;

	(void)state;
	in.len = 0;
	buf_append_char(&in, '\n');		/* completes the prefix's CR */
	while (in.len < 32 * 1024 - 1)
		buf_append_char(&in, 'a');
	buf_append_str(&in, "\r\n");		/* CR last byte of buffer 1 */
	buf_append_str(&in, "bare\rcr\r\nend");
	fd = content_fd(dir, in.data, in.len);
	d.maildir = md;
	d.hostname = "h";
	d.prefix = "X-Test: 1\r";
	d.prefix_len = 10;
	d.content_fd = fd;
	assert_int_equal(maildir_deliver(&d, &res), MAILDIR_OK);
	got = read_path(res.path);
	assert_null(strstr(got.data, "\r\n"));
	for (i = 0; i < got.len; i++)
		crs += got.data[i] == '\r';
	assert_int_equal(crs, 1);		/* the bare one */
	assert_int_equal(got.len, 10 + in.len - 3);
	assert_int_equal(res.size, got.len);
	assert_memory_equal(got.data, "X-Test: 1\naaa", 13);
	assert_memory_equal(got.data + got.len - 13, "a\nbare\rcr\nend", 13);
	buf_free(&got);
	buf_free(&in);
	close(fd);
	free(md);
	testutil_rm_tree(dir);
	free(dir);
}

static void
test_large_message_streams(void **state)
{
	char *dir = testutil_tmpdir("maildir"), *md = join(dir, "/m");
	struct maildir_delivery d = { 0 };
	struct maildir_result res;
	struct buf in = BUF_INIT;
	struct stat st;
	size_t lines = 0;
	int fd;

	(void)state;
	buf_append_str(&in, "Subject: big\r\n\r\n");
	lines = 2;
	while (in.len < 3 * 1024 * 1024) {
		buf_printf(&in, "%zu the quick brown fox\r\n", lines);
		lines++;
	}
	fd = content_fd(dir, in.data, in.len);
	d.maildir = md;
	d.content_fd = fd;
	assert_int_equal(maildir_deliver(&d, &res), MAILDIR_OK);
	assert_int_equal(stat(res.path, &st), 0);
	assert_int_equal((uint64_t)st.st_size, in.len - lines);
	assert_int_equal(res.size, in.len - lines);
	buf_free(&in);
	close(fd);
	free(md);
	testutil_rm_tree(dir);
	free(dir);
}

static void
test_folders_are_maildirplusplus(void **state)
{
	char *dir = testutil_tmpdir("maildir"), *md = join(dir, "/bob");
	struct maildir_delivery d = { 0 };
	struct maildir_result res;
	char path[1024];
	struct stat st;

	(void)state;
	d.maildir = md;
	d.folder = "Junk";
	d.prefix = "Subject: spam\r\n\r\nx\r\n";
	d.prefix_len = strlen(d.prefix);
	d.content_fd = -1;
	assert_int_equal(maildir_deliver(&d, &res), MAILDIR_OK);
	snprintf(path, sizeof(path), "%s/.Junk/new/", md);
	assert_memory_equal(res.path, path, strlen(path));
	snprintf(path, sizeof(path), "%s/.Junk/maildirfolder", md);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	/* The inbox around it is a complete Maildir too. */
	snprintf(path, sizeof(path), "%s/new", md);
	assert_true(is_dir(path));
	assert_int_equal(count_files(path), 0);
	snprintf(path, sizeof(path), "%s/cur", md);
	assert_true(is_dir(path));
	snprintf(path, sizeof(path), "%s/.Junk/cur", md);
	assert_true(is_dir(path));

	d.folder = "Lists.netjes";
	assert_int_equal(maildir_deliver(&d, &res), MAILDIR_OK);
	snprintf(path, sizeof(path), "%s/.Lists.netjes/new", md);
	assert_int_equal(count_files(path), 1);

	/* maildir_create alone, idempotent */
	assert_int_equal(maildir_create(md, "Archive", &res), MAILDIR_OK);
	assert_int_equal(maildir_create(md, "Archive", &res), MAILDIR_OK);
	snprintf(path, sizeof(path), "%s/.Archive/tmp", md);
	assert_true(is_dir(path));
	free(md);
	testutil_rm_tree(dir);
	free(dir);
}

static void
test_bad_paths_defer(void **state)
{
	static const char *const bad_folders[] = { "../../etc", ".hidden",
	    "a..b", "a/b", "x\ty" };
	char *dir = testutil_tmpdir("maildir"), *file = join(dir, "/plainfile");
	char *md = join(file, "/Maildir");
	struct maildir_delivery d = { 0 };
	struct maildir_result res;
	size_t i;
	int fd;

	(void)state;
	d.prefix = "Subject: x\r\n\r\n";
	d.prefix_len = strlen(d.prefix);
	d.content_fd = -1;

	/* A path through a regular file: ENOTDIR, even for root. */
	fd = open(file, O_WRONLY | O_CREAT, 0600);
	close(fd);
	d.maildir = md;
	assert_int_equal(maildir_deliver(&d, &res), MAILDIR_TEMPFAIL);
	assert_int_equal(res.err, ENOTDIR);
	assert_string_equal(res.dsn, "4.3.5");
	assert_non_null(strstr(res.reason, "misconfigured"));

	/* The Maildir itself is a file. */
	d.maildir = file;
	assert_int_equal(maildir_deliver(&d, &res), MAILDIR_TEMPFAIL);
	assert_int_equal(res.err, ENOTDIR);

	d.maildir = "";
	assert_int_equal(maildir_deliver(&d, &res), MAILDIR_TEMPFAIL);
	d.maildir = NULL;
	assert_int_equal(maildir_deliver(&d, &res), MAILDIR_TEMPFAIL);

	free(md);
	md = join(dir, "/ok");
	d.maildir = md;
	for (i = 0; i < sizeof(bad_folders) / sizeof(*bad_folders); i++) {
		d.folder = bad_folders[i];
		assert_int_equal(maildir_deliver(&d, &res), MAILDIR_TEMPFAIL);
		assert_string_equal(res.dsn, "4.3.5");
	}
	assert_false(is_dir(md));	/* nothing created for a bad folder */
	free(md);
	free(file);
	testutil_rm_tree(dir);
	free(dir);
}

/*
 * An unwritable Maildir, for real: root passes every permission check,
 * so a child process drops to an unprivileged uid and delivers into a
 * Maildir owned by root with mode 0700.
 */
static void
test_unwritable_maildir_defers(void **state)
{
	char *dir = testutil_tmpdir("maildir"), *md = join(dir, "/root-only");
	struct maildir_result res;
	pid_t pid;
	int status;

	(void)state;
	assert_int_equal(maildir_create(md, NULL, &res), MAILDIR_OK);
	if (geteuid() != 0)
		assert_int_equal(chmod(md, 0), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct maildir_delivery d = { 0 };

		if (geteuid() == 0 && (setgroups(0, NULL) < 0 ||
		    setgid(65534) < 0 || setuid(65534) < 0))
			_exit(10);
		d.maildir = md;
		d.prefix = "Subject: x\r\n\r\n";
		d.prefix_len = strlen(d.prefix);
		d.content_fd = -1;
		if (maildir_deliver(&d, &res) != MAILDIR_TEMPFAIL)
			_exit(11);
		if (res.err != EACCES || strcmp(res.dsn, "4.2.0") != 0)
			_exit(12);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	chmod(md, 0700);
	free(md);
	testutil_rm_tree(dir);
	free(dir);
}

/*
 * A full file system and then a read-only one: a 32 KB tmpfs in a
 * private mount namespace. Skipped (and said so) where mounting is not
 * allowed. Nothing half-written may stay behind.
 */
static void
test_full_then_readonly_fs_defers(void **state)
{
	char *dir = testutil_tmpdir("maildir");
	char *md = join(dir, "/m"), path[1024];
	struct maildir_delivery d = { 0 };
	struct maildir_result res;
	struct buf big = BUF_INIT;
	int fd;

	(void)state;
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", dir, "tmpfs", 0, "size=32k,mode=0700") < 0) {
		print_message("# no private tmpfs here (%s): skipped\n",
		    strerror(errno));
		free(md);
		testutil_rm_tree(dir);
		free(dir);
		skip();
	}
	while (big.len < 200 * 1024)
		buf_append_str(&big, "0123456789abcdef0123456789abcdef\r\n");
	fd = content_fd("/tmp", big.data, big.len);
	d.maildir = md;
	d.content_fd = fd;
	assert_int_equal(maildir_deliver(&d, &res), MAILDIR_TEMPFAIL);
	assert_int_equal(res.err, ENOSPC);
	assert_string_equal(res.dsn, "4.3.1");
	snprintf(path, sizeof(path), "%s/tmp", md);
	assert_int_equal(count_files(path), 0);
	snprintf(path, sizeof(path), "%s/new", md);
	assert_int_equal(count_files(path), 0);
	close(fd);

	assert_int_equal(mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY,
	    "size=32k"), 0);
	d.content_fd = -1;
	d.prefix = "Subject: small\r\n\r\n";
	d.prefix_len = strlen(d.prefix);
	assert_int_equal(maildir_deliver(&d, &res), MAILDIR_TEMPFAIL);
	assert_int_equal(res.err, EROFS);
	assert_int_equal(umount(dir), 0);
	buf_free(&big);
	free(md);
	testutil_rm_tree(dir);
	free(dir);
}

/*
 * Spool + Maildir: of two recipients one mailbox is broken. The good one
 * is delivered once and marked; the broken one stays pending across a
 * restart, is delivered when the path is fixed, and the good mailbox
 * never gets a second copy.
 */
static void
deliver_pending(struct spool *sp, struct spool_envelope *env,
    char *const maildirs[], size_t *delivered)
{
	struct maildir_delivery d = { 0 };
	struct maildir_result res;
	char reason[SPOOL_REASON_MAX];
	size_t i;
	int fd;

	fd = spool_open_content(sp, env->id);
	assert_true(fd >= 0);
	for (i = 0; i < env->nrcpts; i++) {
		struct spool_rcpt *r = &env->rcpts[i];

		if (r->state != SPOOL_RCPT_PENDING)
			continue;
		d.maildir = maildirs[i];
		d.content_fd = fd;
		r->attempts++;
		switch (maildir_deliver(&d, &res)) {
		case MAILDIR_OK:
			r->state = SPOOL_RCPT_DELIVERED;
			r->reason = "";
			(*delivered)++;
			break;
		case MAILDIR_TEMPFAIL:
			r->reason = "deferred";	/* res.reason in real life */
			break;
		case MAILDIR_PERMFAIL:
			r->state = SPOOL_RCPT_FAILED;
			break;
		}
	}
	close(fd);
	if (spool_envelope_pending(env) == 0)
		assert_int_equal(spool_remove(sp, env->id, reason,
		    sizeof(reason)), 0);
	else
		assert_int_equal(spool_update(sp, env, reason, sizeof(reason)),
		    0);
}

static void
test_deferred_never_dropped(void **state)
{
	char *dir = testutil_tmpdir("maildir"), *spooldir = join(dir, "/spool");
	char *good = join(dir, "/mail/good"), *blocker = join(dir, "/blocker");
	char *bad = join(blocker, "/bad"), *maildirs[2] = { good, bad };
	char reason[SPOOL_REASON_MAX], id[SPOOL_ID_LEN + 1], *p;
	struct spool_recovery rec;
	struct spool_envelope env;
	struct arena *a = arena_new(0);
	struct spool_msg *msg;
	struct spool *sp;
	size_t delivered = 0;
	int fd;

	(void)state;
	fd = open(blocker, O_WRONLY | O_CREAT, 0600);	/* ENOTDIR */
	close(fd);
	sp = spool_open(spooldir, reason, sizeof(reason));
	assert_non_null(sp);
	msg = spool_begin(sp, reason, sizeof(reason));
	spool_write(msg, "Subject: twice?\r\n\r\nno\r\n", 23);
	memset(&env, 0, sizeof(env));
	env.mail_from = "a@example.org";
	spool_envelope_add_rcpt(&env, a, "good@example.test", NULL, 0);
	spool_envelope_add_rcpt(&env, a, "bad@example.test", NULL, 0);
	assert_int_equal(spool_commit(msg, &env, reason, sizeof(reason)), 0);
	memcpy(id, env.id, sizeof(id));

	assert_int_equal(spool_load(sp, id, a, &env, reason, sizeof(reason)),
	    0);
	deliver_pending(sp, &env, maildirs, &delivered);
	assert_int_equal(delivered, 1);
	spool_free(sp);			/* restart */

	sp = spool_open(spooldir, reason, sizeof(reason));
	assert_int_equal(spool_recover(sp, &rec, reason, sizeof(reason)), 0);
	assert_int_equal(rec.nids, 1);	/* still queued, not dropped */
	spool_recovery_free(&rec);
	arena_reset(a);
	assert_int_equal(spool_load(sp, id, a, &env, reason, sizeof(reason)),
	    0);
	assert_int_equal(env.rcpts[0].state, SPOOL_RCPT_DELIVERED);
	assert_int_equal(env.rcpts[1].state, SPOOL_RCPT_PENDING);
	assert_int_equal(env.rcpts[1].attempts, 1);

	unlink(blocker);		/* the operator fixes the path */
	deliver_pending(sp, &env, maildirs, &delivered);
	assert_int_equal(delivered, 2);
	p = join(good, "/new");
	assert_int_equal(count_files(p), 1);	/* not delivered twice */
	free(p);
	p = join(bad, "/new");
	assert_int_equal(count_files(p), 1);
	free(p);
	assert_int_equal(spool_load(sp, id, a, &env, reason, sizeof(reason)),
	    -1);			/* gone from the queue */
	spool_free(sp);
	arena_free(a);
	free(good);
	free(bad);
	free(blocker);
	free(spooldir);
	testutil_rm_tree(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unique_names),
		cmocka_unit_test(test_folder_names),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_first_delivery_creates_maildir),
		cmocka_unit_test(test_crlf_folding_across_boundaries),
		cmocka_unit_test(test_large_message_streams),
		cmocka_unit_test(test_folders_are_maildirplusplus),
		cmocka_unit_test(test_bad_paths_defer),
		cmocka_unit_test(test_unwritable_maildir_defers),
		cmocka_unit_test(test_deferred_never_dropped),
		/* Last: it moves the process into its own mount namespace. */
		cmocka_unit_test(test_full_then_readonly_fs_defers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
