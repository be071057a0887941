/*
 * Unit tests for queue/spool and queue/spool_envelope: the envelope
 * format (round trip, torn and damaged files), commit and recovery, a
 * real crash (a child killed with SIGKILL mid-message), group commit on
 * a libevent loop, per-recipient state across restarts, and a full disk
 * (a tiny tmpfs, when the test may mount one).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/buf.h"
#include "queue/spool.h"
#include "testutil.h"

/* ---- helpers ----------------------------------------------------------- */

static size_t
count_files(const char *dir, const char *sub)
{
	char path[1024];
	DIR *d;
	struct dirent *de;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
write_file(const char *path, const char *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
}

static struct buf
read_fd(int fd)
{
	struct buf b = BUF_INIT;
	char tmp[4096];
	ssize_t r;

	while ((r = read(fd, tmp, sizeof(tmp))) > 0)
		buf_append(&b, tmp, (size_t)r);
	return b;
}

/* An envelope with three recipients and awkward values. */
static void
fill_envelope(struct spool_envelope *env, struct arena *a)
{
	struct spool_rcpt *r;

	memset(env, 0, sizeof(*env));
	env->received = 1700000000;
	env->mail_from = "alice@example.org";
	env->envid = "QQ314159";
	env->ret = SPOOL_RET_HDRS;
	env->body = SPOOL_BODY_8BITMIME;
	env->smtputf8 = true;
	env->client_ip = "2001:db8::25";
	env->client_helo = "mail.example.org";
	env->auth_user = "alice with space%";
	env->folder = "Junk";
	env->prepend = "Authentication-Results: mx.example.test;\r\n"
	    "\tspf=pass smtp.mailfrom=alice@example.org\r\n";
	spool_envelope_add_rcpt(env, a, "bob@example.test",
	    "rfc822;bob@example.test", SPOOL_NOTIFY_FAILURE |
	    SPOOL_NOTIFY_DELAY);
	r = spool_envelope_add_rcpt(env, a, "carol@example.test", NULL, 0);
	r->orig = "team@example.test";
	r = spool_envelope_add_rcpt(env, a, "-", NULL, SPOOL_NOTIFY_NEVER);
	r->reason = "450 4.2.0 try again\r\n(later)";
	r->attempts = 3;
}

static struct spool *
open_spool(const char *dir)
{
	char reason[SPOOL_REASON_MAX];
	struct spool *sp = spool_open(dir, reason, sizeof(reason));

	if (sp == NULL)
		fail_msg("spool_open: %s", reason);
	return sp;
}

/* Begins, writes content in small chunks, commits synchronously. */
static void
commit_one(struct spool *sp, const char *content, size_t nrcpts,
    char id[SPOOL_ID_LEN + 1])
{
	struct arena *a = arena_new(0);
	struct spool_envelope env;
	char reason[SPOOL_REASON_MAX], addr[64];
	struct spool_msg *msg;
	size_t i, n = strlen(content);

	msg = spool_begin(sp, reason, sizeof(reason));
	assert_non_null(msg);
	for (i = 0; i < n; i += 7)
		assert_int_equal(spool_write(msg, content + i,
		    n - i < 7 ? n - i : 7), 0);
	memset(&env, 0, sizeof(env));
	env.received = 1700000000;
	env.mail_from = "";
	for (i = 0; i < nrcpts; i++) {
		snprintf(addr, sizeof(addr), "user%zu@example.test", i);
		spool_envelope_add_rcpt(&env, a, addr, NULL, 0);
	}
	if (spool_commit(msg, &env, reason, sizeof(reason)) < 0)
		fail_msg("commit: %s", reason);
	assert_true(spool_id_valid(env.id));
	assert_int_equal(env.size, n);
	if (id != NULL)
		memcpy(id, env.id, SPOOL_ID_LEN + 1);
	arena_free(a);
}

/* Re-seals text (without an end line) with a correct end line. */
static void
seal(struct buf *b, size_t count)
{
	uint32_t crc = spool_crc32(0, b->data, b->len);

	buf_printf(b, "end %zu %08x\n", count, (unsigned)crc);
}

static int
parse_buf(const struct buf *b, const char **why)
{
	struct arena *a = arena_new(0);
	struct spool_envelope env;
	int rc;

	rc = spool_envelope_parse(b->data, b->len, a, &env, why);
	arena_free(a);
	return rc;
}

/* ---- ids and the envelope format ------------------------------------- */

static void
test_ids_unique_sorted_safe(void **state)
{
	struct spool *sp;
	char *dir = testutil_tmpdir("spool");
	char prev[SPOOL_ID_LEN + 1] = "", id[SPOOL_ID_LEN + 1];
	int i;

	(void)state;
	sp = open_spool(dir);
	for (i = 0; i < 20000; i++) {
		spool_id_new(sp, id);
		assert_true(spool_id_valid(id));
		assert_null(strchr(id, '/'));
		assert_true(strcmp(prev, id) < 0);
		memcpy(prev, id, sizeof(id));
	}
	assert_false(spool_id_valid("0123456789abcdefghiL"));
	assert_false(spool_id_valid("0123456789abcdefghj"));
	assert_false(spool_id_valid("../456789abcdefghjkm"));
	spool_free(sp);
	testutil_rm_tree(dir);
	free(dir);
}

static void
test_envelope_round_trip(void **state)
{
	struct arena *a = arena_new(0), *b = arena_new(0);
	struct spool_envelope env, got;
	struct buf text = BUF_INIT;
	const char *why = NULL;
	size_t i;

	(void)state;
	fill_envelope(&env, a);
	memcpy(env.id, "0bn1x8c7m2q30004z9rd", SPOOL_ID_LEN + 1);
	env.size = 12345;
	spool_envelope_format(&env, &text);
	assert_int_equal(spool_envelope_parse(text.data, text.len, b, &got,
	    &why), 0);
	assert_string_equal(got.id, env.id);
	assert_int_equal(got.received, env.received);
	assert_int_equal(got.size, env.size);
	assert_string_equal(got.mail_from, env.mail_from);
	assert_string_equal(got.envid, env.envid);
	assert_int_equal(got.ret, env.ret);
	assert_int_equal(got.body, env.body);
	assert_true(got.smtputf8);
	assert_string_equal(got.client_ip, env.client_ip);
	assert_string_equal(got.client_helo, env.client_helo);
	assert_string_equal(got.auth_user, env.auth_user);
	assert_string_equal(got.folder, env.folder);
	assert_string_equal(got.prepend, env.prepend);
	assert_int_equal(got.nrcpts, env.nrcpts);
	for (i = 0; i < env.nrcpts; i++) {
		assert_string_equal(got.rcpts[i].addr, env.rcpts[i].addr);
		assert_string_equal(got.rcpts[i].orig, env.rcpts[i].orig);
		assert_string_equal(got.rcpts[i].orcpt, env.rcpts[i].orcpt);
		assert_string_equal(got.rcpts[i].reason, env.rcpts[i].reason);
		assert_int_equal(got.rcpts[i].notify, env.rcpts[i].notify);
		assert_int_equal(got.rcpts[i].state, env.rcpts[i].state);
		assert_int_equal(got.rcpts[i].attempts,
		    env.rcpts[i].attempts);
	}
	/* A parsed envelope can take more recipients (alias expansion). */
	spool_envelope_add_rcpt(&got, b, "dave@example.test", NULL, 0);
	spool_envelope_add_rcpt(&got, b, "erin@example.test", NULL, 0);
	assert_int_equal(got.nrcpts, 5);
	assert_string_equal(got.rcpts[0].addr, "bob@example.test");
	assert_string_equal(got.rcpts[4].addr, "erin@example.test");
	assert_int_equal(spool_envelope_pending(&got), 5);

	/* The null reverse-path survives as "". */
	env.mail_from = "";
	buf_reset(&text);
	spool_envelope_format(&env, &text);
	assert_int_equal(spool_envelope_parse(text.data, text.len, b, &got,
	    &why), 0);
	assert_string_equal(got.mail_from, "");
	/* No prepend: no line at all, and it reads back as "". */
	env.prepend = "";
	buf_reset(&text);
	spool_envelope_format(&env, &text);
	assert_null(strstr(buf_cstr(&text), "prepend"));
	assert_int_equal(spool_envelope_parse(text.data, text.len, b, &got,
	    &why), 0);
	assert_string_equal(got.prepend, "");
	buf_free(&text);
	arena_free(a);
	arena_free(b);
}

/* The queue life cycle fields: written only when set, read back. */
static void
test_envelope_life_cycle_fields(void **state)
{
	struct arena *a = arena_new(0), *b = arena_new(0);
	struct spool_envelope env, got;
	struct buf text = BUF_INIT, old = BUF_INIT;
	const char *why = NULL;

	(void)state;
	fill_envelope(&env, a);
	memcpy(env.id, "0bn1x8c7m2q30004z9rd", SPOOL_ID_LEN + 1);
	spool_envelope_format(&env, &old);
	assert_null(strstr(old.data, "hold"));
	assert_null(strstr(old.data, "next="));
	env.hold = true;
	env.no_dsn = true;
	env.rcpts[1].first_attempt = 1700000100;
	env.rcpts[1].next_attempt = 1700000700;
	env.rcpts[1].warned = true;
	spool_envelope_format(&env, &text);
	assert_int_equal(spool_envelope_parse(text.data, text.len, b, &got,
	    &why), 0);
	assert_true(got.hold);
	assert_true(got.no_dsn);
	assert_int_equal(got.rcpts[0].first_attempt, 0);
	assert_int_equal(got.rcpts[0].next_attempt, 0);
	assert_false(got.rcpts[0].warned);
	assert_int_equal(got.rcpts[1].first_attempt, 1700000100);
	assert_int_equal(got.rcpts[1].next_attempt, 1700000700);
	assert_true(got.rcpts[1].warned);
	arena_free(b);
	b = arena_new(0);
	assert_int_equal(spool_envelope_parse(old.data, old.len, b, &got,
	    &why), 0);
	assert_false(got.hold);
	assert_false(got.no_dsn);
	buf_free(&text);
	buf_free(&old);
	arena_free(a);
	arena_free(b);
}

static void
test_envelope_torn_or_damaged_is_detected(void **state)
{
	struct arena *a = arena_new(0);
	struct spool_envelope env;
	struct buf text = BUF_INIT, t = BUF_INIT;
	const char *why;
	size_t n;

	(void)state;
	fill_envelope(&env, a);
	memcpy(env.id, "0bn1x8c7m2q30004z9rd", SPOOL_ID_LEN + 1);
	spool_envelope_format(&env, &text);
	/* Every strict prefix is a torn write. */
	for (n = 0; n < text.len; n++) {
		buf_reset(&t);
		buf_append(&t, text.data, n);
		why = NULL;
		assert_int_equal(parse_buf(&t, &why), -1);
		assert_non_null(why);
	}
	/* Every single flipped bit is damage. */
	for (n = 0; n < text.len; n++) {
		buf_reset(&t);
		buf_append(&t, text.data, text.len);
		t.data[n] ^= 0x04;
		assert_int_equal(parse_buf(&t, &why), -1);
	}
	/* Anything after the end line. */
	buf_reset(&t);
	buf_append(&t, text.data, text.len);
	buf_append_str(&t, "x\n");
	assert_int_equal(parse_buf(&t, &why), -1);
	buf_free(&t);
	buf_free(&text);
	arena_free(a);
}

static void
test_envelope_rejects_bad_fields(void **state)
{
	static const char head[] = "netjes-envelope 1\n"
	    "id 0bn1x8c7m2q30004z9rd\nreceived 1\nsize 2\nfrom a@b\n";
	static const char rcpt[] = "rcpt addr=x@y state=pending\n";
	struct {
		const char	*extra;
		size_t		 count;
		const char	*why;
	} cases[] = {
		{ "", 1, NULL },			/* the valid base */
		{ "bogus 1\n", 1, "unknown key" },
		{ "size 3\n", 1, "duplicate key" },
		{ "envid a b\n", 1, "space in value" },
		{ "envid a%0\n", 1, "bad %-escape in value" },
		{ "envid a%00b\n", 1, "NUL in value" },
		{ "ret maybe\n", 1, "bad ret" },
		{ "smtputf8 2\n", 1, "bad smtputf8" },
		{ "rcpt addr=x@y state=done\n", 2, "bad rcpt state" },
		{ "rcpt addr=x@y state=pending notify=never,delay\n", 2,
		    "bad rcpt notify" },
		{ "rcpt addr=x@y state=pending addr=z@y\n", 2,
		    "duplicate rcpt field" },
		{ "rcpt addr=- state=pending\n", 2, "empty rcpt addr" },
		{ "rcpt state=pending\n", 2, "rcpt without addr or state" },
		{ "rcpt addr=x@y state=pending colour=red\n", 2,
		    "unknown rcpt field" },
		{ "rcpt addr=x@y state=pending attempts=99999999999\n", 2,
		    "bad rcpt attempts" },
		{ "", 2, "rcpt count mismatch" },
		{ "\n", 1, "line without value" },
		{ "prepend X-A:%20b%0D%0A\n", 1, NULL },
		{ "prepend X-A:%20b%0D%0AX-B:%20c%0D%0A\n", 1, NULL },
		{ "prepend X-A:%20b\n", 1, "bad prepend" },
		{ "prepend X-A:%20b%0A\n", 1, "bad prepend" },
		{ "prepend X-A:%0Db%0D%0A\n", 1, "bad prepend" },
		{ "prepend X-A:%20b%0D%0A%0D%0A\n", 1, "bad prepend" },
		{ "prepend %20X-A:%20b%0D%0A\n", 1, "bad prepend" },
		{ "prepend %0D%0A\n", 1, "bad prepend" },
		{ "prepend X-A:%20b%0D%0A\nprepend X-B:%20c%0D%0A\n", 1,
		    "duplicate key" },
	};
	struct buf b = BUF_INIT;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		buf_reset(&b);
		buf_append_str(&b, head);
		buf_append_str(&b, rcpt);
		buf_append_str(&b, cases[i].extra);
		seal(&b, cases[i].count);
		why = NULL;
		if (cases[i].why == NULL) {
			assert_int_equal(parse_buf(&b, &why), 0);
			continue;
		}
		assert_int_equal(parse_buf(&b, &why), -1);
		assert_non_null(why);
		if (strcmp(why, cases[i].why) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, why,
			    cases[i].why);
	}
	/* Another version, a missing key. */
	buf_reset(&b);
	buf_append_str(&b, "netjes-envelope 2\nid 0bn1x8c7m2q30004z9rd\n");
	buf_append_str(&b, rcpt);
	seal(&b, 1);
	assert_int_equal(parse_buf(&b, &why), -1);
	assert_string_equal(why, "not a version 1 envelope");
	buf_reset(&b);
	buf_append_str(&b, "netjes-envelope 1\nid 0bn1x8c7m2q30004z9rd\n");
	buf_append_str(&b, rcpt);
	seal(&b, 1);
	assert_int_equal(parse_buf(&b, &why), -1);
	assert_string_equal(why, "required key missing");
	buf_free(&b);
}

static void
test_notify_parse(void **state)
{
	unsigned v;
	char out[64];

	(void)state;
	assert_int_equal(spool_notify_parse("NEVER", 5, &v), 0);
	assert_int_equal(v, SPOOL_NOTIFY_NEVER);
	assert_int_equal(spool_notify_parse("Success,DELAY", 13, &v), 0);
	assert_int_equal(v, SPOOL_NOTIFY_SUCCESS | SPOOL_NOTIFY_DELAY);
	assert_string_equal(spool_notify_format(v, out, sizeof(out)),
	    "success,delay");
	assert_int_equal(spool_notify_parse("never,success", 13, &v), -1);
	assert_int_equal(spool_notify_parse("delay,delay", 11, &v), -1);
	assert_int_equal(spool_notify_parse("delay,", 6, &v), -1);
	assert_int_equal(spool_notify_parse("", 0, &v), -1);
	assert_int_equal(spool_notify_parse("sometimes", 9, &v), -1);
}

/* ---- commit and recovery ---------------------------------------------- */

static void
test_commit_then_recover(void **state)
{
	char *dir = testutil_tmpdir("spool"), id[SPOOL_ID_LEN + 1];
	char reason[SPOOL_REASON_MAX];
	static const char content[] = "Subject: hello\r\n\r\nbody line\r\n";
	struct spool_recovery rec;
	struct spool_envelope env;
	struct arena *a = arena_new(0);
	struct spool *sp;
	struct buf got;
	int fd;

	(void)state;
	sp = open_spool(dir);
	commit_one(sp, content, 2, id);
	assert_int_equal(count_files(dir, "tmp"), 0);
	assert_int_equal(count_files(dir, "queue"), 2);
	spool_free(sp);

	sp = open_spool(dir);
	assert_int_equal(spool_recover(sp, &rec, reason, sizeof(reason)), 0);
	assert_int_equal(rec.nids, 1);
	assert_string_equal(rec.ids[0], id);
	assert_int_equal(rec.tmp_removed + rec.orphans_removed + rec.corrupt,
	    0);
	assert_int_equal(spool_load(sp, id, a, &env, reason, sizeof(reason)),
	    0);
	assert_int_equal(env.nrcpts, 2);
	assert_string_equal(env.rcpts[1].addr, "user1@example.test");
	assert_int_equal(env.size, strlen(content));
	fd = spool_open_content(sp, id);
	assert_true(fd >= 0);
	got = read_fd(fd);
	close(fd);
	assert_int_equal(got.len, strlen(content));
	assert_memory_equal(got.data, content, got.len);
	buf_free(&got);
	assert_int_equal(spool_open_content(sp, "../../../etc/passwd"), -1);
	spool_recovery_free(&rec);
	spool_free(sp);
	arena_free(a);
	testutil_rm_tree(dir);
	free(dir);
}

/* The mapped view shows every byte written so far, buffered ones too,
 * and the message still commits (and aborts) normally after it. */
static void
test_map_written_content(void **state)
{
	char *dir = testutil_tmpdir("spool"), reason[SPOOL_REASON_MAX];
	struct spool_envelope env;
	struct arena *a = arena_new(0);
	struct spool_msg *msg;
	struct spool *sp;
	struct buf big = BUF_INIT;
	const char *p;
	size_t n, i;

	(void)state;
	sp = open_spool(dir);
	msg = spool_begin(sp, reason, sizeof(reason));
	assert_non_null(msg);
	assert_int_equal(spool_msg_map(msg, &p, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(spool_write(msg, "Subject: x\r\n", 13), 0);
	assert_int_equal(spool_msg_map(msg, &p, &n), 0);
	assert_int_equal(n, 13);
	assert_memory_equal(p, "Subject: x\r\n", 13);
	for (i = 0; i < 20000; i++)
		buf_printf(&big, "line %zu\r\n", i);
	assert_int_equal(spool_write(msg, big.data, big.len), 0);
	assert_int_equal(spool_write(msg, "tail\r\n", 6), 0);
	assert_int_equal(spool_msg_map(msg, &p, &n), 0);
	assert_int_equal(n, 13 + big.len + 6);
	assert_memory_equal(p + 13, big.data, big.len);
	assert_memory_equal(p + n - 6, "tail\r\n", 6);
	fill_envelope(&env, a);
	assert_int_equal(spool_commit(msg, &env, reason, sizeof(reason)), 0);
	assert_int_equal(env.size, n);

	msg = spool_begin(sp, reason, sizeof(reason));
	assert_int_equal(spool_write(msg, "x", 1), 0);
	assert_int_equal(spool_msg_map(msg, &p, &n), 0);
	assert_int_equal(n, 1);
	spool_abort(msg);
	spool_free(sp);
	buf_free(&big);
	arena_free(a);
	testutil_rm_tree(dir);
	free(dir);
}

static void
test_large_content_and_abort(void **state)
{
	char *dir = testutil_tmpdir("spool"), id[SPOOL_ID_LEN + 1];
	char reason[SPOOL_REASON_MAX];
	struct spool_msg *msg;
	struct spool *sp;
	struct buf big = BUF_INIT, got;
	size_t i;
	int fd;

	(void)state;
	for (i = 0; i < 100000; i++)
		buf_printf(&big, "line %zu\r\n", i);
	sp = open_spool(dir);
	commit_one(sp, big.data, 1, id);
	fd = spool_open_content(sp, id);
	got = read_fd(fd);
	close(fd);
	assert_int_equal(got.len, big.len);
	assert_memory_equal(got.data, big.data, big.len);
	buf_free(&got);

	msg = spool_begin(sp, reason, sizeof(reason));
	assert_non_null(msg);
	assert_int_equal(spool_write(msg, big.data, big.len), 0);
	assert_int_equal(spool_msg_size(msg), big.len);
	assert_int_equal(count_files(dir, "tmp"), 1);
	spool_abort(msg);
	assert_int_equal(count_files(dir, "tmp"), 0);
	assert_int_equal(count_files(dir, "queue"), 2);
	spool_free(sp);
	buf_free(&big);
	testutil_rm_tree(dir);
	free(dir);
}

static void
test_commit_without_recipients_fails(void **state)
{
	char *dir = testutil_tmpdir("spool"), reason[SPOOL_REASON_MAX];
	struct spool_envelope env;
	struct spool_msg *msg;
	struct spool *sp;

	(void)state;
	sp = open_spool(dir);
	msg = spool_begin(sp, reason, sizeof(reason));
	spool_write(msg, "x\r\n", 3);
	memset(&env, 0, sizeof(env));
	assert_int_equal(spool_commit(msg, &env, reason, sizeof(reason)), -1);
	assert_string_equal(reason, "envelope without recipients");
	assert_int_equal(count_files(dir, "tmp"), 0);
	assert_int_equal(count_files(dir, "queue"), 0);
	spool_free(sp);
	testutil_rm_tree(dir);
	free(dir);
}

static void
test_recover_cleans_torn_and_orphans(void **state)
{
	char *dir = testutil_tmpdir("spool");
	char id[SPOOL_ID_LEN + 1], torn[SPOOL_ID_LEN + 1];
	char path[1024], reason[SPOOL_REASON_MAX], bigger[SPOOL_ID_LEN + 1];
	struct spool_recovery rec;
	struct spool_msg *msg;
	struct spool *sp;
	struct stat st;
	int fd;

	(void)state;
	sp = open_spool(dir);
	commit_one(sp, "kept\r\n", 1, id);
	commit_one(sp, "torn\r\n", 1, torn);
	commit_one(sp, "grown\r\n", 1, bigger);
	/* Half-written files in tmp/: content and an envelope. */
	snprintf(path, sizeof(path), "%s/tmp/0000000000000000000b.msg", dir);
	write_file(path, "half", 4);
	snprintf(path, sizeof(path), "%s/tmp/0000000000000000000b.env", dir);
	write_file(path, "netjes-envelope 1\nid ", 21);
	/* A .msg renamed into queue/ whose .env never followed. */
	snprintf(path, sizeof(path), "%s/queue/0000000000000000000a.msg", dir);
	write_file(path, "orphan", 6);
	/* A torn envelope, content that changed size, a stray file. */
	snprintf(path, sizeof(path), "%s/queue/%s.env", dir, torn);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - 5), 0);
	snprintf(path, sizeof(path), "%s/queue/%s.msg", dir, bigger);
	fd = open(path, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, "!", 1), 1);
	close(fd);
	snprintf(path, sizeof(path), "%s/queue/README", dir);
	write_file(path, "hi", 2);

	/* Recovery refuses to run while a message is being received. */
	msg = spool_begin(sp, reason, sizeof(reason));
	assert_int_equal(spool_recover(sp, &rec, reason, sizeof(reason)), -1);
	spool_abort(msg);
	spool_free(sp);
	sp = open_spool(dir);
	assert_int_equal(spool_recover(sp, &rec, reason, sizeof(reason)), 0);
	assert_int_equal(rec.nids, 1);
	assert_string_equal(rec.ids[0], id);
	assert_int_equal(rec.tmp_removed, 2);
	assert_int_equal(rec.orphans_removed, 1);
	assert_int_equal(rec.corrupt, 3);
	assert_int_equal(count_files(dir, "tmp"), 0);
	assert_int_equal(count_files(dir, "queue"), 2);
	/* Kept for a human, never deleted: 2 + 2 + 1 files. */
	assert_int_equal(count_files(dir, "corrupt"), 5);
	spool_recovery_free(&rec);
	spool_free(sp);
	testutil_rm_tree(dir);
	free(dir);
}

/*
 * A real crash: a child commits messages, starts another, and is killed
 * with SIGKILL in the middle of writing it. Every committed message is
 * there after recovery; the half message is gone.
 */
static void
test_sigkill_mid_message(void **state)
{
	char *dir = testutil_tmpdir("spool"), reason[SPOOL_REASON_MAX];
	struct spool_recovery rec;
	struct spool *sp;
	pid_t pid;
	int status, i;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct spool_msg *msg;

		sp = spool_open(dir, reason, sizeof(reason));
		if (sp == NULL)
			_exit(2);
		for (i = 0; i < 5; i++)
			commit_one(sp, "Subject: x\r\n\r\ny\r\n", 2, NULL);
		msg = spool_begin(sp, reason, sizeof(reason));
		for (i = 0; i < 1000; i++)
			spool_write(msg, "0123456789abcdef0123456789abcdef",
			    32);
		raise(SIGKILL);
		_exit(3);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	sp = open_spool(dir);
	assert_int_equal(spool_recover(sp, &rec, reason, sizeof(reason)), 0);
	assert_int_equal(rec.nids, 5);
	assert_int_equal(rec.tmp_removed, 1);
	assert_int_equal(rec.corrupt, 0);
	for (i = 1; i < 5; i++)
		assert_true(strcmp(rec.ids[i - 1], rec.ids[i]) < 0);
	spool_recovery_free(&rec);
	spool_free(sp);
	testutil_rm_tree(dir);
	free(dir);
}

/* ---- group commit ------------------------------------------------------ */

#define GROUP_N	300

struct group_state {
	size_t	 done, failed, cancelled_ran;
	char	 ids[GROUP_N][SPOOL_ID_LEN + 1];
};

static void
group_cb(void *arg, const char *id, int err, const char *reason)
{
	struct group_state *g = arg;

	(void)reason;
	if (err != 0) {
		g->failed++;
		return;
	}
	memcpy(g->ids[g->done++], id, SPOOL_ID_LEN + 1);
}

static void
cancelled_cb(void *arg, const char *id, int err, const char *reason)
{
	struct group_state *g = arg;

	(void)id;
	(void)err;
	(void)reason;
	g->cancelled_ran++;
}

static void
test_group_commit_on_event_loop(void **state)
{
	char *dir = testutil_tmpdir("spool");
	char reason[SPOOL_REASON_MAX], body[128];
	struct group_state *g = calloc(1, sizeof(*g));
	struct spool_recovery rec;
	struct spool_envelope env;
	struct spool_stats stats;
	struct event_base *base;
	struct arena *a;
	struct spool_msg *msg, *gone = NULL;
	struct spool *sp;
	size_t i, rounds = 0;

	(void)state;
	base = event_base_new();
	sp = open_spool(dir);
	assert_int_equal(spool_attach(sp, base), 0);
	/* Many sessions finishing DATA at about the same time. */
	for (i = 0; i < GROUP_N; i++) {
		a = arena_new(0);
		msg = spool_begin(sp, reason, sizeof(reason));
		assert_non_null(msg);
		snprintf(body, sizeof(body), "Subject: %zu\r\n\r\nbody\r\n", i);
		spool_write(msg, body, strlen(body));
		memset(&env, 0, sizeof(env));
		env.mail_from = "sender@example.org";
		spool_envelope_add_rcpt(&env, a, "bob@example.test", NULL, 0);
		if (i == 7) {
			/* This session goes away before its commit ends:
			 * the runner's callback runs instead of its own. */
			spool_commit_async(msg, &env, cancelled_cb, g);
			gone = msg;
		} else
			spool_commit_async(msg, &env, group_cb, g);
		arena_free(a);	/* the envelope was copied */
	}
	spool_msg_rebind_cb(gone, group_cb, g);
	assert_true(spool_inflight(sp) > 0);
	while (spool_inflight(sp) > 0 && rounds++ < 100000)
		event_base_loop(base, EVLOOP_ONCE);
	assert_int_equal(spool_inflight(sp), 0);
	assert_int_equal(g->done, GROUP_N);
	assert_int_equal(g->failed, 0);
	assert_int_equal(g->cancelled_ran, 0);
	spool_stats(sp, &stats);
	assert_int_equal(stats.jobs, GROUP_N);
	/* The point of group commit: far fewer rounds than messages. */
	print_message("# group commit: %llu messages in %llu batches\n",
	    (unsigned long long)stats.jobs, (unsigned long long)stats.batches);
	assert_true(stats.batches < stats.jobs);
	assert_int_equal(count_files(dir, "tmp"), 0);
	assert_int_equal(count_files(dir, "queue"), 2 * GROUP_N);
	spool_free(sp);

	sp = open_spool(dir);
	assert_int_equal(spool_recover(sp, &rec, reason, sizeof(reason)), 0);
	assert_int_equal(rec.nids, GROUP_N);	/* the cancelled one too */
	spool_recovery_free(&rec);
	spool_free(sp);
	event_base_free(base);
	free(g);
	testutil_rm_tree(dir);
	free(dir);
}

/* spool_free() finishes queued commits and still runs their callbacks. */
static void
test_free_drains_pending(void **state)
{
	char *dir = testutil_tmpdir("spool"), reason[SPOOL_REASON_MAX];
	struct group_state *g = calloc(1, sizeof(*g));
	struct spool_envelope env;
	struct arena *a = arena_new(0);
	struct spool_msg *msg;
	struct spool *sp;
	int i;

	(void)state;
	sp = open_spool(dir);
	memset(&env, 0, sizeof(env));
	spool_envelope_add_rcpt(&env, a, "bob@example.test", NULL, 0);
	for (i = 0; i < 10; i++) {
		msg = spool_begin(sp, reason, sizeof(reason));
		spool_write(msg, "x\r\n", 3);
		spool_commit_async(msg, &env, group_cb, g);
	}
	spool_free(sp);
	assert_int_equal(g->done, 10);
	assert_int_equal(count_files(dir, "queue"), 20);
	arena_free(a);
	free(g);
	testutil_rm_tree(dir);
	free(dir);
}

/* ---- per-recipient state ----------------------------------------------- */

static void
test_per_recipient_state_survives_restart(void **state)
{
	char *dir = testutil_tmpdir("spool"), id[SPOOL_ID_LEN + 1];
	char reason[SPOOL_REASON_MAX];
	struct spool_recovery rec;
	struct spool_envelope env;
	struct arena *a = arena_new(0);
	struct spool *sp;

	(void)state;
	sp = open_spool(dir);
	commit_one(sp, "Subject: three\r\n\r\nx\r\n", 3, id);
	assert_int_equal(spool_load(sp, id, a, &env, reason, sizeof(reason)),
	    0);
	/* Two delivered, the third deferred. */
	env.rcpts[0].state = SPOOL_RCPT_DELIVERED;
	env.rcpts[1].state = SPOOL_RCPT_DELIVERED;
	env.rcpts[2].attempts = 1;
	env.rcpts[2].reason = "4.3.1 mail file system full";
	assert_int_equal(spool_update(sp, &env, reason, sizeof(reason)), 0);
	assert_int_equal(count_files(dir, "tmp"), 0);
	spool_free(sp);	/* crash / restart */

	sp = open_spool(dir);
	assert_int_equal(spool_recover(sp, &rec, reason, sizeof(reason)), 0);
	assert_int_equal(rec.nids, 1);
	spool_recovery_free(&rec);
	arena_reset(a);
	assert_int_equal(spool_load(sp, id, a, &env, reason, sizeof(reason)),
	    0);
	assert_int_equal(env.rcpts[0].state, SPOOL_RCPT_DELIVERED);
	assert_int_equal(env.rcpts[1].state, SPOOL_RCPT_DELIVERED);
	assert_int_equal(env.rcpts[2].state, SPOOL_RCPT_PENDING);
	assert_int_equal(env.rcpts[2].attempts, 1);
	assert_string_equal(env.rcpts[2].reason, "4.3.1 mail file system full");
	assert_int_equal(spool_envelope_pending(&env), 1);

	/* The retry succeeds; the message leaves the queue. */
	env.rcpts[2].state = SPOOL_RCPT_DELIVERED;
	env.rcpts[2].attempts = 2;
	assert_int_equal(spool_update(sp, &env, reason, sizeof(reason)), 0);
	assert_int_equal(spool_remove(sp, id, reason, sizeof(reason)), 0);
	assert_int_equal(count_files(dir, "queue"), 0);
	assert_int_equal(count_files(dir, "tmp"), 0);

	/* Removed is removed: no resurrection by a late update. */
	assert_int_equal(spool_update(sp, &env, reason, sizeof(reason)), -1);
	assert_non_null(strstr(reason, "No such file"));
	assert_int_equal(count_files(dir, "queue"), 0);
	assert_int_equal(spool_remove(sp, id, reason, sizeof(reason)), -1);
	assert_int_equal(spool_remove(sp, "nonsense", reason, sizeof(reason)),
	    -1);
	assert_string_equal(reason, "bad queue id");
	spool_free(sp);

	sp = open_spool(dir);
	assert_int_equal(spool_recover(sp, &rec, reason, sizeof(reason)), 0);
	assert_int_equal(rec.nids, 0);
	spool_recovery_free(&rec);
	spool_free(sp);
	arena_free(a);
	testutil_rm_tree(dir);
	free(dir);
}

/*
 * Content handed to the writer thread in pieces of every size (across
 * chunk bounds, past the in-flight bound, mapped half way) lands in
 * order and complete.
 */
static void
test_writer_thread_keeps_order(void **state)
{
	char *dir = testutil_tmpdir("spool");
	char reason[SPOOL_REASON_MAX], path[PATH_MAX];
	struct arena *a = arena_new(0);
	struct spool_envelope env;
	struct spool_msg *msg;
	struct spool *sp;
	struct buf want = BUF_INIT, got;
	const char *p;
	size_t n, off = 0, len, step = 0;
	int fd;

	(void)state;
	for (n = 0; n < 6 * 1024 * 1024; n++)
		buf_append_char(&want, (char)('a' + (n * 7 + n / 4099) % 26));
	sp = open_spool(dir);
	msg = spool_begin(sp, reason, sizeof(reason));
	assert_non_null(msg);
	while (off < want.len) {
		static const size_t sizes[] = { 1, 1000, 65535, 65536, 70000,
		    300000 };

		len = sizes[step++ % 6];
		if (len > want.len - off)
			len = want.len - off;
		assert_int_equal(spool_write(msg, want.data + off, len), 0);
		off += len;
		if (step == 20) {
			assert_int_equal(spool_msg_map(msg, &p, &n), 0);
			assert_int_equal(n, off);
			assert_memory_equal(p, want.data, n);
		}
	}
	memset(&env, 0, sizeof(env));
	env.mail_from = "";
	spool_envelope_add_rcpt(&env, a, "bob@example.test", NULL, 0);
	assert_int_equal(spool_commit(msg, &env, reason, sizeof(reason)), 0);
	assert_int_equal(env.size, want.len);
	snprintf(path, sizeof(path), "%s/queue/%s.msg", dir, env.id);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	got = read_fd(fd);
	close(fd);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	buf_free(&got);
	buf_free(&want);
	spool_free(sp);
	arena_free(a);
	testutil_rm_tree(dir);
	free(dir);
}

/* ---- a full disk ------------------------------------------------------- */

/*
 * A 64 KB tmpfs in a private mount namespace (root in a test machine may
 * do that; elsewhere the test is skipped, not faked). No spool thread
 * runs while unshare() is called: the process must be single-threaded.
 */
static void
test_full_disk_fails_commit_cleanly(void **state)
{
	char *dir = testutil_tmpdir("spool");
	char reason[SPOOL_REASON_MAX], chunk[4096];
	struct spool_recovery rec;
	struct spool_envelope env;
	struct arena *a = arena_new(0);
	struct spool_msg *msg;
	struct spool *sp;
	int i, wrote_error = 0;

	(void)state;
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", dir, "tmpfs", 0, "size=64k,mode=0700") < 0) {
		print_message("# no private tmpfs here (%s): skipped\n",
		    strerror(errno));
		arena_free(a);
		testutil_rm_tree(dir);
		free(dir);
		skip();
	}
	sp = open_spool(dir);
	msg = spool_begin(sp, reason, sizeof(reason));
	assert_non_null(msg);
	memset(chunk, 'x', sizeof(chunk));
	for (i = 0; i < 64; i++)
		if (spool_write(msg, chunk, sizeof(chunk)) < 0)
			wrote_error = 1;
	memset(&env, 0, sizeof(env));
	spool_envelope_add_rcpt(&env, a, "bob@example.test", NULL, 0);
	/* the writes run on the spool's writer thread: spool_write may
	 * learn of the error only later, the commit always does */
	(void)wrote_error;
	assert_int_equal(spool_commit(msg, &env, reason, sizeof(reason)), -1);
	assert_non_null(strstr(reason, "No space left"));
	assert_int_equal(count_files(dir, "tmp"), 0);
	assert_int_equal(count_files(dir, "queue"), 0);
	/* Space again: the next message goes through. */
	commit_one(sp, "small\r\n", 1, NULL);
	spool_free(sp);
	sp = open_spool(dir);
	assert_int_equal(spool_recover(sp, &rec, reason, sizeof(reason)), 0);
	assert_int_equal(rec.nids, 1);
	spool_recovery_free(&rec);
	spool_free(sp);
	assert_int_equal(umount(dir), 0);
	arena_free(a);
	testutil_rm_tree(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_unique_sorted_safe),
		cmocka_unit_test(test_envelope_round_trip),
		cmocka_unit_test(test_envelope_life_cycle_fields),
		cmocka_unit_test(test_envelope_torn_or_damaged_is_detected),
		cmocka_unit_test(test_envelope_rejects_bad_fields),
		cmocka_unit_test(test_notify_parse),
		cmocka_unit_test(test_commit_then_recover),
		cmocka_unit_test(test_map_written_content),
		cmocka_unit_test(test_large_content_and_abort),
		cmocka_unit_test(test_commit_without_recipients_fails),
		cmocka_unit_test(test_recover_cleans_torn_and_orphans),
		cmocka_unit_test(test_sigkill_mid_message),
		cmocka_unit_test(test_group_commit_on_event_loop),
		cmocka_unit_test(test_free_drains_pending),
		cmocka_unit_test(test_per_recipient_state_survives_restart),
		cmocka_unit_test(test_writer_thread_keeps_order),
		cmocka_unit_test(test_full_disk_fails_commit_cleanly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
