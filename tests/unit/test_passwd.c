/*
 * Unit tests for store/passwd: the passwd-file parser, crypt(3) hashes
 * made here (yescrypt, sha512-crypt, sha256-crypt, bcrypt), the database
 * with reload and synchronous and asynchronous verification on a real
 * event loop, and the editor's byte-for-byte preservation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <crypt.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/log.h"
#include "store/passwd.h"

static char tmpdir[64];

static int
setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/netjes-passwd-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
teardown_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *
tmp_path(const char *name)
{
	static char path[4][128];
	static int next;
	char *p = path[next++ % 4];

	snprintf(p, sizeof(path[0]), "%s/%s", tmpdir, name);
	return p;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

/* The whole file into b (NUL-terminated). */
static void
read_file(const char *path, struct buf *b)
{
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	buf_reset(b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(b, chunk, n);
	fclose(f);
	buf_append(b, "", 0);
}

/* A crypt(3) hash with the given prefix ($6$, $5$, $2b$, $y$). */
static void
make_hash(const char *prefix, const char *pw, char *out, size_t n)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *h;

	assert_non_null(cd);
	assert_non_null(crypt_gensalt_rn(prefix, 0, NULL, 0, salt,
	    sizeof(salt)));
	h = crypt_rn(pw, salt, cd, (int)sizeof(*cd));
	assert_non_null(h);
	assert_true(strlen(h) < n);
	strcpy(out, h);
	free(cd);
}

/* Files in tmpdir with ".tmp." in their name: the editor's leftovers. */
static int
count_tmp_files(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".tmp.") != NULL)
			n++;
	closedir(d);
	return n;
}

/* ---- parser ---- */

static void
test_parse_good_and_bad(void **state)
{
	static const char text[] =
	    "# users\n"					/* 1 */
	    "\n"					/* 2 */
	    "a@x.test:{CRYPT}$y$abc\n"			/* 3 */
	    "b@x.test:$6$salt$hash:1000:1000::/home/b::\r\n" /* 4 */
	    "no colon here\n"				/* 5 */
	    "c@x.test:{PLAIN}secret\n"			/* 6 */
	    "   \t\n"					/* 7 */
	    "d@x.test:\n"				/* 8 */
	    ":{CRYPT}$y$x\n"				/* 9 */
	    "A@X.test:{CRYPT}$y$dup\n"			/* 10 */
	    "e@x.test:{SHA512-CRYPT}$6$s$h:::::\n"	/* 11 */
	    "f@x.test:{CRYPT\n"				/* 12 */
	    "g@x.test:{blf-crypt}$2b$05$abc\n"		/* 13 */
	    "h@x.test:{CRYPT}\n"			/* 14 */
	    "last@x.test:$5$s$h";			/* 15, no newline */
	struct arena *a = arena_new(0);
	struct passwd_list l;
	const struct passwd_entry *e;

	(void)state;
	assert_int_equal(passwd_parse(text, sizeof(text) - 1, a, &l), 7);
	assert_int_equal(l.nentries, 5);
	assert_string_equal(l.entries[0].user, "a@x.test");
	assert_string_equal(l.entries[0].hash, "$y$abc");
	assert_int_equal(l.entries[0].line, 3);
	assert_string_equal(l.entries[1].user, "b@x.test");
	assert_string_equal(l.entries[1].hash, "$6$salt$hash");
	assert_int_equal(l.entries[1].line, 4);
	assert_string_equal(l.entries[2].hash, "$6$s$h");
	assert_string_equal(l.entries[3].hash, "$2b$05$abc");
	assert_string_equal(l.entries[4].user, "last@x.test");
	assert_int_equal(l.entries[4].line, 15);
	/* the byte ranges point at the line and its password field */
	assert_memory_equal(text + l.entries[1].off, "b@x.test:", 9);
	assert_int_equal(l.entries[1].len,
	    strlen("b@x.test:$6$salt$hash:1000:1000::/home/b::\r\n"));
	assert_memory_equal(text + l.entries[0].pass_off, "{CRYPT}$y$abc",
	    l.entries[0].pass_len);

	assert_int_equal(l.errors[0].line, 5);
	assert_non_null(strstr(l.errors[0].reason, "no ':'"));
	assert_int_equal(l.errors[1].line, 6);
	assert_non_null(strstr(l.errors[1].reason, "{PLAIN}"));
	assert_int_equal(l.errors[2].line, 8);
	assert_non_null(strstr(l.errors[2].reason, "empty password"));
	assert_int_equal(l.errors[3].line, 9);
	assert_non_null(strstr(l.errors[3].reason, "bad user name"));
	assert_int_equal(l.errors[4].line, 10);
	assert_non_null(strstr(l.errors[4].reason, "already on line 3"));
	assert_int_equal(l.errors[5].line, 12);
	assert_int_equal(l.errors[6].line, 14);
	assert_non_null(strstr(l.errors[6].reason, "empty password"));

	/* lookup is case-insensitive over the whole address */
	assert_non_null(e = passwd_list_find(&l, "A@X.TEST"));
	assert_int_equal(e->line, 3);
	assert_non_null(passwd_list_find(&l, "G@x.test"));
	assert_null(passwd_list_find(&l, "c@x.test"));
	assert_null(passwd_list_find(&l, "a@x.tes"));
	assert_null(passwd_list_find(&l, ""));
	arena_free(a);
}

static void
test_parse_more_errors(void **state)
{
	static const char text[] =
	    "h@x.test:{CRYPT}\n"
	    "nul\0user:$y$x\n"
	    "ctl\x01user:$y$x\n"
	    "ok@x.test:$y$x\n";
	struct arena *a = arena_new(0);
	struct passwd_list l;
	struct buf longline = BUF_INIT;
	size_t i;

	(void)state;
	assert_int_equal(passwd_parse(text, sizeof(text) - 1, a, &l), 3);
	assert_int_equal(l.nentries, 1);
	assert_int_equal(l.errors[0].line, 1);
	assert_int_equal(l.errors[1].line, 2);
	assert_non_null(strstr(l.errors[1].reason, "NUL"));
	assert_int_equal(l.errors[2].line, 3);
	assert_int_equal(l.entries[0].line, 4);

	/* a line over 4096 octets, and a user name over the limit */
	buf_append_str(&longline, "u:$y$");
	for (i = 0; i < 5000; i++)
		buf_append_char(&longline, 'x');
	buf_append_str(&longline, "\n");
	for (i = 0; i < PASSWD_USER_MAX + 1; i++)
		buf_append_char(&longline, 'u');
	buf_append_str(&longline, ":$y$x\n");
	assert_int_equal(passwd_parse(longline.data, longline.len, a, &l), 2);
	assert_non_null(strstr(l.errors[0].reason, "too long"));
	assert_non_null(strstr(l.errors[1].reason, "user name"));
	buf_free(&longline);

	/* empty text, only comments */
	assert_int_equal(passwd_parse("", 0, a, &l), 0);
	assert_int_equal(l.nentries, 0);
	assert_null(passwd_list_find(&l, "x"));
	assert_int_equal(passwd_parse("#a\n#b", 5, a, &l), 0);
	assert_int_equal(l.nentries, 0);
	arena_free(a);
}

static void
test_parse_many_users(void **state)
{
	struct buf b = BUF_INIT;
	struct arena *a = arena_new(0);
	struct passwd_list l;
	char name[64];
	size_t i;

	(void)state;
	for (i = 0; i < 2000; i++)
		buf_printf(&b, "user%zu@Example.test:$y$h%zu\n", i, i);
	assert_int_equal(passwd_parse(b.data, b.len, a, &l), 0);
	assert_int_equal(l.nentries, 2000);
	for (i = 0; i < 2000; i += 37) {
		snprintf(name, sizeof(name), "USER%zu@example.TEST", i);
		assert_non_null(passwd_list_find(&l, name));
		assert_int_equal(passwd_list_find(&l, name)->line, i + 1);
	}
	assert_null(passwd_list_find(&l, "user2000@example.test"));
	buf_free(&b);
	arena_free(a);
}

/* ---- hashes ---- */

static void
test_hash_new_is_yescrypt(void **state)
{
	char h1[PASSWD_HASH_MAX + 1], h2[PASSWD_HASH_MAX + 1];

	(void)state;
	assert_int_equal(passwd_hash_new("correct horse", h1, sizeof(h1)), 0);
	assert_memory_equal(h1, "$y$", 3);
	assert_true(passwd_hash_check("correct horse", h1));
	assert_false(passwd_hash_check("correct horsE", h1));
	assert_false(passwd_hash_check("", h1));
	/* a fresh salt each time */
	assert_int_equal(passwd_hash_new("correct horse", h2, sizeof(h2)), 0);
	assert_string_not_equal(h1, h2);
	/* too small an output buffer */
	assert_int_equal(passwd_hash_new("x", h2, 10), -1);
}

static void
test_hash_check_other_schemes(void **state)
{
	static const char *const prefixes[] = { "$6$", "$5$", "$2b$", "$y$" };
	char h[PASSWD_HASH_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		make_hash(prefixes[i], "p\xc3\xa4ss w0rd", h, sizeof(h));
		assert_true(passwd_hash_check("p\xc3\xa4ss w0rd", h));
		assert_false(passwd_hash_check("p\xc3\xa4ss w0rD", h));
	}
	/* garbage and locked hashes never match */
	assert_false(passwd_hash_check("x", "*"));
	assert_false(passwd_hash_check("x", "!$y$abc"));
	assert_false(passwd_hash_check("", ""));
	assert_false(passwd_hash_check("x", "$y$"));
	assert_false(passwd_hash_check("x", "plaintext"));
}

/* ---- the database ---- */

static void
test_db_verify(void **state)
{
	char y[PASSWD_HASH_MAX + 1], s6[PASSWD_HASH_MAX + 1];
	struct buf text = BUF_INIT;
	const char *path = tmp_path("users-verify");
	struct passwd_db *db;

	(void)state;
	make_hash("$y$", "yes pw", y, sizeof(y));
	make_hash("$6$", "sha pw", s6, sizeof(s6));
	buf_printf(&text, "# test\nyes@x.test:{CRYPT}%s\n"
	    "Sha@X.test:%s:1000:1000::/home/sha::\n"
	    "broken@x.test:{PLAIN}yes pw\n", y, s6);
	write_file(path, text.data);
	assert_non_null(db = passwd_db_new(path));
	assert_string_equal(passwd_db_path(db), path);
	assert_null(passwd_db_list(db));	/* nothing read yet */
	assert_int_equal(passwd_verify(db, "yes@x.test", "yes pw"), PASSWD_OK);
	assert_int_equal(passwd_verify(db, "YES@x.test", "yes pw"), PASSWD_OK);
	assert_int_equal(passwd_verify(db, "yes@x.test", "yes PW"),
	    PASSWD_BAD);
	assert_int_equal(passwd_verify(db, "sha@x.test", "sha pw"), PASSWD_OK);
	assert_int_equal(passwd_verify(db, "sha@x.test", "yes pw"),
	    PASSWD_BAD);
	assert_int_equal(passwd_verify(db, "nobody@x.test", "yes pw"),
	    PASSWD_UNKNOWN_USER);
	/* a bad line's user is unknown, not "plaintext accepted" */
	assert_int_equal(passwd_verify(db, "broken@x.test", "yes pw"),
	    PASSWD_UNKNOWN_USER);
	assert_non_null(passwd_db_list(db));
	assert_int_equal(passwd_db_list(db)->nentries, 2);
	assert_int_equal(passwd_db_list(db)->nerrors, 1);
	assert_int_equal(passwd_db_list(db)->errors[0].line, 4);
	passwd_db_free(db);
	buf_free(&text);
	assert_string_equal(passwd_result_name(PASSWD_TEMPFAIL), "tempfail");
	assert_string_equal(passwd_result_name(PASSWD_UNKNOWN_USER),
	    "unknown_user");
}

/*
 * Unknown users cost one yescrypt of the default parameters, the cost
 * every user netjes adds has: the dummy's parameter field ("$y$j9T$",
 * up to the salt) is the one passwd_hash_new() writes, and the dummy
 * really is a hash the checker computes (a wrong password fails it).
 */
static void
test_dummy_hash_costs_what_a_user_costs(void **state)
{
	char h[PASSWD_HASH_MAX + 1];
	const char *dummy = passwd_dummy_hash();
	const char *salt_h, *salt_d;

	(void)state;
	assert_int_equal(passwd_hash_new("pw", h, sizeof(h)), 0);
	/* "$y$PARAMS$SALT$HASH": compare up to the third '$' */
	salt_h = strchr(strchr(h + 1, '$') + 1, '$');
	salt_d = strchr(strchr(dummy + 1, '$') + 1, '$');
	assert_non_null(salt_h);
	assert_non_null(salt_d);
	assert_int_equal(salt_h - h, salt_d - dummy);
	assert_memory_equal(h, dummy, (size_t)(salt_h - h));
	assert_false(passwd_hash_check("pw", dummy));
	assert_true(passwd_hash_check("pw", h));
}

static void
test_db_missing_and_unreadable(void **state)
{
	struct passwd_db *db;
	const char *dir = tmp_path("a-directory");

	(void)state;
	/* a missing file: every user unknown */
	assert_non_null(db = passwd_db_new(tmp_path("no-such-file")));
	assert_int_equal(passwd_verify(db, "a@x.test", "pw"),
	    PASSWD_UNKNOWN_USER);
	assert_int_equal(passwd_db_refresh(db), 0);
	assert_int_equal(passwd_db_list(db)->nentries, 0);
	passwd_db_free(db);
	/* something that cannot be read as a file: TEMPFAIL */
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_non_null(db = passwd_db_new(dir));
	assert_int_equal(passwd_db_refresh(db), -1);
	assert_int_equal(passwd_verify(db, "a@x.test", "pw"),
	    PASSWD_TEMPFAIL);
	passwd_db_free(db);
}

static void
test_db_reload_on_change(void **state)
{
	char h1[PASSWD_HASH_MAX + 1], h2[PASSWD_HASH_MAX + 1];
	struct buf text = BUF_INIT;
	const char *path = tmp_path("users-reload");
	struct passwd_db *db;
	struct timespec ts[2];

	(void)state;
	make_hash("$5$", "one", h1, sizeof(h1));
	make_hash("$5$", "two", h2, sizeof(h2));
	assert_int_equal(strlen(h1), strlen(h2));
	buf_printf(&text, "u@x.test:%s\n", h1);
	write_file(path, text.data);
	assert_non_null(db = passwd_db_new(path));
	assert_int_equal(passwd_verify(db, "u@x.test", "one"), PASSWD_OK);

	/* rewritten in place, same size, same inode: the mtime tells */
	buf_reset(&text);
	buf_printf(&text, "u@x.test:%s\n", h2);
	write_file(path, text.data);
	ts[0].tv_sec = ts[1].tv_sec = 1000000000;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	assert_int_equal(passwd_verify(db, "u@x.test", "two"), PASSWD_OK);
	assert_int_equal(passwd_verify(db, "u@x.test", "one"), PASSWD_BAD);

	/* replaced through the editor (a new inode) */
	assert_int_equal(passwd_file_add(path, "v@x.test", h1, NULL, 0),
	    PASSWD_EDIT_OK);
	assert_int_equal(passwd_verify(db, "v@x.test", "one"), PASSWD_OK);
	assert_int_equal(passwd_file_del(path, "u@x.test", NULL, 0),
	    PASSWD_EDIT_OK);
	assert_int_equal(passwd_verify(db, "u@x.test", "two"),
	    PASSWD_UNKNOWN_USER);

	/* removed: everyone unknown; back again: known */
	assert_int_equal(rename(path, tmp_path("users-reload.away")), 0);
	assert_int_equal(passwd_verify(db, "v@x.test", "one"),
	    PASSWD_UNKNOWN_USER);
	assert_int_equal(rename(tmp_path("users-reload.away"), path), 0);
	assert_int_equal(passwd_verify(db, "v@x.test", "one"), PASSWD_OK);
	passwd_db_free(db);
	buf_free(&text);
}

/* ---- asynchronous verification on a real loop ---- */

struct async_expect {
	enum passwd_result	 want;
	enum passwd_result	 got;
	int			 calls;
	int			*pending;
	struct event_base	*base;
};

static void
async_cb(enum passwd_result r, void *arg)
{
	struct async_expect *x = arg;

	x->got = r;
	x->calls++;
	if (--*x->pending == 0)
		event_base_loopexit(x->base, NULL);
}

static void
test_async_verify(void **state)
{
	char h[PASSWD_HASH_MAX + 1];
	struct buf text = BUF_INIT;
	const char *path = tmp_path("users-async");
	struct event_base *base = event_base_new();
	struct passwd_db *db;
	struct async_expect x[5], cancelled;
	struct passwd_job *job;
	struct timeval limit = { 60, 0 };
	int pending = 0, i;
	char pw[16];

	(void)state;
	assert_non_null(base);
	assert_int_equal(passwd_hash_new("async pw", h, sizeof(h)), 0);
	buf_printf(&text, "a@x.test:{CRYPT}%s\n", h);
	write_file(path, text.data);
	assert_non_null(db = passwd_db_new(path));
	/* verification uses what was read; it never reads the file */
	assert_int_equal(passwd_db_refresh(db), 0);

	memset(x, 0, sizeof(x));
	memset(&cancelled, 0, sizeof(cancelled));
	x[0].want = PASSWD_OK;
	x[1].want = PASSWD_BAD;
	x[2].want = PASSWD_UNKNOWN_USER;
	x[3].want = PASSWD_OK;
	x[4].want = PASSWD_BAD;
	for (i = 0; i < 5; i++) {
		x[i].pending = &pending;
		x[i].base = base;
		x[i].got = PASSWD_TEMPFAIL;
	}
	cancelled.pending = &pending;
	cancelled.base = base;

	/* the password buffer is copied: overwrite it after the call */
	snprintf(pw, sizeof(pw), "async pw");
	assert_non_null(passwd_verify_async(db, base, "a@x.test", pw,
	    async_cb, &x[0]));
	memset(pw, 'X', sizeof(pw) - 1);
	assert_non_null(passwd_verify_async(db, base, "a@x.test", "wrong",
	    async_cb, &x[1]));
	assert_non_null(passwd_verify_async(db, base, "zz@x.test", "async pw",
	    async_cb, &x[2]));
	assert_non_null(job = passwd_verify_async(db, base, "a@x.test",
	    "async pw", async_cb, &cancelled));
	passwd_verify_cancel(job);
	assert_non_null(passwd_verify_async(db, base, "A@X.TEST", "async pw",
	    async_cb, &x[3]));
	assert_non_null(passwd_verify_async(db, base, "a@x.test", "",
	    async_cb, &x[4]));
	pending = 5;
	/* never called from inside passwd_verify_async() */
	for (i = 0; i < 5; i++)
		assert_int_equal(x[i].calls, 0);

	event_base_loopexit(base, &limit);
	assert_int_equal(event_base_dispatch(base), 0);
	assert_int_equal(pending, 0);
	for (i = 0; i < 5; i++) {
		assert_int_equal(x[i].calls, 1);
		assert_int_equal(x[i].got, x[i].want);
	}
	assert_int_equal(cancelled.calls, 0);

	/* a db serves one event_base */
	{
		struct event_base *other = event_base_new();

		assert_null(passwd_verify_async(db, other, "a@x.test", "x",
		    async_cb, &x[0]));
		event_base_free(other);
	}
	passwd_db_free(db);
	event_base_free(base);
	buf_free(&text);
}

static void
test_async_tempfail_and_free_pending(void **state)
{
	struct event_base *base = event_base_new();
	const char *dir = tmp_path("async-dir");
	struct passwd_db *db;
	struct async_expect x, never;
	struct timeval limit = { 30, 0 };
	int pending = 1, nothing = 1;

	(void)state;
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_non_null(db = passwd_db_new(dir));
	memset(&x, 0, sizeof(x));
	x.pending = &pending;
	x.base = base;
	x.got = PASSWD_OK;
	assert_non_null(passwd_verify_async(db, base, "a@x.test", "pw",
	    async_cb, &x));
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	assert_int_equal(x.calls, 1);
	assert_int_equal(x.got, PASSWD_TEMPFAIL);

	/* jobs still queued when the db goes away: dropped, no callback,
	 * nothing leaked */
	memset(&never, 0, sizeof(never));
	never.pending = &nothing;
	never.base = base;
	assert_non_null(passwd_verify_async(db, base, "a@x.test", "pw",
	    async_cb, &never));
	assert_non_null(passwd_verify_async(db, base, "b@x.test", "pw",
	    async_cb, &never));
	passwd_db_free(db);
	assert_int_equal(never.calls, 0);
	event_base_free(base);
}

/* ---- the watch: new versions from the worker ---- */

struct watch_seen {
	struct event_base	*base;
	int			 calls;
	int			 error;		/* of the last snapshot */
	bool			 present;
	struct passwd_db	*adopted;	/* a db made from the last one */
};

static void
watch_cb(struct passwd_snapshot *snap, void *arg)
{
	struct watch_seen *w = arg;

	w->calls++;
	w->error = passwd_snapshot_error(snap);
	w->present = passwd_snapshot_present(snap);
	if (w->adopted != NULL)
		passwd_db_free(w->adopted);
	w->adopted = passwd_db_new("unused");
	assert_non_null(w->adopted);
	if (w->error == 0)
		assert_int_equal(passwd_db_adopt(w->adopted, snap), 0);
	else
		assert_int_equal(passwd_db_adopt(w->adopted, snap), -1);
	event_base_loopexit(w->base, NULL);
}

/* Run base until the callback or seconds pass; the number of calls. */
static int
watch_run(struct watch_seen *w, int seconds)
{
	struct timeval limit = { seconds, 0 };
	int before = w->calls;

	event_base_loopexit(w->base, &limit);
	assert_int_equal(event_base_dispatch(w->base), 0);
	return w->calls - before;
}

static void
test_watch_reports_each_version_once(void **state)
{
	char h[PASSWD_HASH_MAX + 1];
	const char *path = tmp_path("users-watch");
	struct watch_seen w;
	struct passwd_db *db;
	struct buf text = BUF_INIT;

	(void)state;
	memset(&w, 0, sizeof(w));
	assert_non_null(w.base = event_base_new());
	make_hash("$5$", "pw", h, sizeof(h));
	buf_printf(&text, "a@x.test:%s\n", h);
	write_file(path, text.data);
	assert_non_null(db = passwd_db_new(path));
	/* a db never read cannot be watched: there is no version to
	 * compare with */
	assert_int_equal(passwd_db_watch(db, w.base, 20, watch_cb, &w), -1);
	assert_int_equal(passwd_db_refresh(db), 0);
	assert_int_equal(passwd_db_watch(db, w.base, 20, watch_cb, &w), 0);

	/* the version already loaded is not news */
	assert_int_equal(watch_run(&w, 1), 0);

	/* a user added through the editor: one report, with that user */
	assert_int_equal(passwd_file_add(path, "b@x.test", h, NULL, 0),
	    PASSWD_EDIT_OK);
	assert_int_equal(watch_run(&w, 10), 1);
	assert_int_equal(w.error, 0);
	assert_true(w.present);
	assert_non_null(passwd_list_find(passwd_db_list(w.adopted),
	    "b@x.test"));
	assert_int_equal(passwd_db_list(w.adopted)->nentries, 2);
	assert_int_equal(watch_run(&w, 1), 0);

	/* unreadable (a directory where the file was): reported once,
	 * not at every look */
	assert_int_equal(rename(path, tmp_path("users-watch.old")), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(watch_run(&w, 10), 1);
	assert_int_equal(w.error, EISDIR);
	assert_int_equal(watch_run(&w, 1), 0);

	/* gone: a reading with no users, and no file */
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(watch_run(&w, 10), 1);
	assert_int_equal(w.error, 0);
	assert_false(w.present);
	assert_int_equal(passwd_db_list(w.adopted)->nentries, 0);

	/* back: reported again; after unwatch nothing more comes */
	assert_int_equal(rename(tmp_path("users-watch.old"), path), 0);
	assert_int_equal(watch_run(&w, 10), 1);
	assert_true(w.present);
	assert_int_equal(passwd_db_list(w.adopted)->nentries, 2);
	passwd_db_unwatch(db);
	assert_int_equal(passwd_file_del(path, "b@x.test", NULL, 0),
	    PASSWD_EDIT_OK);
	assert_int_equal(watch_run(&w, 1), 0);

	/* the db itself never changed: it holds the first reading */
	assert_int_equal(passwd_db_list(db)->nentries, 1);
	passwd_db_free(w.adopted);
	passwd_db_free(db);
	event_base_free(w.base);
	buf_free(&text);
}

/* ---- the editor ---- */

static const char edit_text[] =
    "# netjes users\n"
    "\n"
    "alice@x.test:{SHA512-CRYPT}$6$old$alice:1000:1000:Alice:/home/alice::"
    "userdb_quota_rule=*:storage=1G\n"
    "bob@x.test:$y$old$bob\r\n"
    "  # indented comment\n"
    "broken line\n"
    "carol@x.test:{PLAIN}plain:::\n"
    "dave@x.test:$5$old$dave";

static void
test_edit_preserves_bytes(void **state)
{
	const char *path = tmp_path("users-edit");
	struct buf got = BUF_INIT, want = BUF_INIT;
	char err[256];
	struct stat st;

	(void)state;
	write_file(path, edit_text);
	assert_int_equal(chmod(path, 0600), 0);

	/* set: only the password field of that line changes */
	assert_int_equal(passwd_file_set(path, "BOB@x.test", "$y$new$bob",
	    err, sizeof(err)), PASSWD_EDIT_OK);
	read_file(path, &got);
	buf_append_str(&want,
	    "# netjes users\n"
	    "\n"
	    "alice@x.test:{SHA512-CRYPT}$6$old$alice:1000:1000:Alice:"
	    "/home/alice::userdb_quota_rule=*:storage=1G\n"
	    "bob@x.test:{CRYPT}$y$new$bob\r\n"
	    "  # indented comment\n"
	    "broken line\n"
	    "carol@x.test:{PLAIN}plain:::\n"
	    "dave@x.test:$5$old$dave");
	assert_string_equal(got.data, want.data);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);	/* mode kept */

	/* set keeps the trailing fields of a full line */
	assert_int_equal(passwd_file_set(path, "alice@x.test", "$y$new$al",
	    err, sizeof(err)), PASSWD_EDIT_OK);
	read_file(path, &got);
	assert_non_null(strstr(got.data, "alice@x.test:{CRYPT}$y$new$al:1000:"
	    "1000:Alice:/home/alice::userdb_quota_rule=*:storage=1G\n"));

	/* a bad line's user is found too: passwd replaces {PLAIN} */
	assert_int_equal(passwd_file_set(path, "carol@x.test", "$y$c",
	    err, sizeof(err)), PASSWD_EDIT_OK);
	read_file(path, &got);
	assert_non_null(strstr(got.data, "\ncarol@x.test:{CRYPT}$y$c:::\n"));

	/* add to a file without a final newline */
	assert_int_equal(passwd_file_add(path, "erin@x.test", "$y$erin",
	    err, sizeof(err)), PASSWD_EDIT_OK);
	read_file(path, &got);
	assert_non_null(strstr(got.data,
	    "dave@x.test:$5$old$dave\nerin@x.test:{CRYPT}$y$erin\n"));
	assert_int_equal(got.data[got.len - 1], '\n');

	/* exists / not found, whatever the case */
	assert_int_equal(passwd_file_add(path, "Erin@X.test", "$y$x",
	    err, sizeof(err)), PASSWD_EDIT_EXISTS);
	assert_int_equal(passwd_file_set(path, "zed@x.test", "$y$x",
	    err, sizeof(err)), PASSWD_EDIT_NOT_FOUND);
	assert_int_equal(passwd_file_del(path, "zed@x.test", err,
	    sizeof(err)), PASSWD_EDIT_NOT_FOUND);
	/* "broken line" is nobody's line */
	assert_int_equal(passwd_file_del(path, "broken line", err,
	    sizeof(err)), PASSWD_EDIT_NOT_FOUND);

	/* del removes exactly one line */
	assert_int_equal(passwd_file_del(path, "bob@x.test", err,
	    sizeof(err)), PASSWD_EDIT_OK);
	read_file(path, &got);
	assert_null(strstr(got.data, "bob@"));
	assert_non_null(strstr(got.data,
	    "storage=1G\n  # indented comment\nbroken line\n"));
	assert_int_equal(passwd_file_del(path, "dave@x.test", err,
	    sizeof(err)), PASSWD_EDIT_OK);
	read_file(path, &got);
	assert_non_null(strstr(got.data, ":::\nerin@x.test:{CRYPT}$y$erin\n"));
	assert_memory_equal(got.data, "# netjes users\n\nalice@", 22);

	/* no temporary file is left behind */
	assert_int_equal(count_tmp_files(), 0);
	buf_free(&got);
	buf_free(&want);
}

static void
test_edit_new_file_and_bad_input(void **state)
{
	const char *path = tmp_path("users-new");
	char err[256];
	struct buf got = BUF_INIT;
	struct stat st;
	char h[PASSWD_HASH_MAX + 1];
	struct passwd_db *db;

	(void)state;
	assert_int_equal(passwd_hash_new("pw one", h, sizeof(h)), 0);
	assert_int_equal(passwd_file_add(path, "new@x.test", h, err,
	    sizeof(err)), PASSWD_EDIT_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);	/* the server's account alone */
	read_file(path, &got);
	assert_memory_equal(got.data, "new@x.test:{CRYPT}$y$", 21);
	assert_non_null(db = passwd_db_new(path));
	assert_int_equal(passwd_verify(db, "new@x.test", "pw one"), PASSWD_OK);
	passwd_db_free(db);

	/* user names and hashes that would break the format */
	assert_int_equal(passwd_file_add(path, "a:b@x.test", "$y$x", err,
	    sizeof(err)), PASSWD_EDIT_ERROR);
	assert_int_equal(passwd_file_add(path, "a\n@x.test", "$y$x", err,
	    sizeof(err)), PASSWD_EDIT_ERROR);
	assert_int_equal(passwd_file_add(path, "#a@x.test", "$y$x", err,
	    sizeof(err)), PASSWD_EDIT_ERROR);
	assert_int_equal(passwd_file_add(path, "", "$y$x", err,
	    sizeof(err)), PASSWD_EDIT_ERROR);
	assert_int_equal(passwd_file_add(path, "b@x.test", "$y$x:1", err,
	    sizeof(err)), PASSWD_EDIT_ERROR);
	assert_int_equal(passwd_file_add(path, "b@x.test", "", err,
	    sizeof(err)), PASSWD_EDIT_ERROR);
	/* a directory that does not exist */
	assert_int_equal(passwd_file_add(tmp_path("nodir/users"), "b@x.test",
	    "$y$x", err, sizeof(err)), PASSWD_EDIT_ERROR);
	assert_non_null(strstr(err, "nodir"));
	buf_free(&got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good_and_bad),
		cmocka_unit_test(test_dummy_hash_costs_what_a_user_costs),
		cmocka_unit_test(test_parse_more_errors),
		cmocka_unit_test(test_parse_many_users),
		cmocka_unit_test(test_hash_new_is_yescrypt),
		cmocka_unit_test(test_hash_check_other_schemes),
		cmocka_unit_test(test_db_verify),
		cmocka_unit_test(test_db_missing_and_unreadable),
		cmocka_unit_test(test_db_reload_on_change),
		cmocka_unit_test(test_async_verify),
		cmocka_unit_test(test_async_tempfail_and_free_pending),
		cmocka_unit_test(test_watch_reports_each_version_once),
		cmocka_unit_test(test_edit_preserves_bytes),
		cmocka_unit_test(test_edit_new_file_and_bad_input),
	};

	log_set_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
