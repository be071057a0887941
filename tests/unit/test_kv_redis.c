/*
 * Unit tests for store/kv_redis against a real Debian redis-server,
 * started here on a free loopback port with its own directory and no
 * persistence, and always stopped (SIGKILL at the end, and the kernel
 * kills it should this process die first). redis-server missing is a
 * failure, not a skip: `make test` installs it.
 *
 * The shared behaviour table (kv_cases.h) runs first; then what only a
 * networked store has: the server killed (requests answer KV_ERROR at
 * once) and started again (requests work again, same store), a stopped
 * server (requests time out, bounded), AUTH and SELECT, a Unix socket,
 * nobody listening, and kv_open_from_config.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "core/config.h"
#include "core/log.h"
#include "kv_cases.h"

struct redis_server {
	pid_t		 pid;
	uint16_t	 port;
	char		 dir[PATH_MAX];
	char		 sock[PATH_MAX + 16];
	const char	*password;
};

static struct redis_server main_server;

static uint16_t
free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port = 0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static void
server_exec(const struct redis_server *s)
{
	char port[8], log[PATH_MAX + 16];
	const char *argv[24];
	int n = 0, fd;

	snprintf(port, sizeof(port), "%u", s->port);
	snprintf(log, sizeof(log), "%s/redis.log", s->dir);
	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlives the test */
	if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600)) >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	argv[n++] = "redis-server";
	argv[n++] = "--port";
	argv[n++] = port;
	argv[n++] = "--bind";
	argv[n++] = "127.0.0.1";
	argv[n++] = "--save";
	argv[n++] = "";
	argv[n++] = "--appendonly";
	argv[n++] = "no";
	argv[n++] = "--dir";
	argv[n++] = s->dir;
	argv[n++] = "--unixsocket";
	argv[n++] = s->sock;
	argv[n++] = "--unixsocketperm";
	argv[n++] = "700";
	if (s->password != NULL) {
		argv[n++] = "--requirepass";
		argv[n++] = s->password;
	}
	argv[n] = NULL;
	execvp(argv[0], (char *const *)(uintptr_t)argv);
	fprintf(stderr, "redis-server: %s\n", strerror(errno));
	_exit(127);
}

/* Up when a PING over a plain connection is answered at all. */
static bool
server_answers(const struct redis_server *s)
{
	struct timeval tv = { 0, 200000 };
	redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
	redisReply *r;
	bool ok = false;

	if (c != NULL && c->err == 0 &&
	    (r = redisCommand(c, "PING")) != NULL) {
		ok = true;
		freeReplyObject(r);
	}
	if (c != NULL)
		redisFree(c);
	return ok;
}

/* Start (or start again, same port and directory); fails the test when
 * redis-server is missing or does not come up in five seconds. */
static void
server_start(struct redis_server *s)
{
	struct timespec pause = { 0, 20000000 };
	int i, status;

	if ((s->pid = fork()) == 0)
		server_exec(s);
	assert_true(s->pid > 0);
	for (i = 0; i < 250; i++) {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			fail_msg("redis-server did not start (is the "
			    "redis-server package installed?); see %s/redis.log",
			    s->dir);
		}
		if (server_answers(s))
			return;
		nanosleep(&pause, NULL);
	}
	fail_msg("redis-server on port %u did not answer in 5 s", s->port);
}

static void
server_stop(struct redis_server *s)
{
	if (s->pid <= 0)
		return;
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
}

static int
server_new(struct redis_server *s, const char *password)
{
	const char *t = getenv("TMPDIR");

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s/netjes-redis-XXXXXX",
	    t != NULL && t[0] != '\0' ? t : "/tmp");
	if (mkdtemp(s->dir) == NULL)
		return -1;
	snprintf(s->sock, sizeof(s->sock), "%s/redis.sock", s->dir);
	s->password = password;
	if ((s->port = free_port()) == 0)
		return -1;
	return 0;
}

static void
server_remove(struct redis_server *s)
{
	char cmd[PATH_MAX + 16];

	server_stop(s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", s->dir);
}

/* A plain command on the side, as another MX host would see the data. */
static redisReply *
server_command(const struct redis_server *s, const char *fmt, ...)
{
	struct timeval tv = { 2, 0 };
	redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
	redisReply *r = NULL;
	va_list ap;

	assert_non_null(c);
	assert_int_equal(c->err, 0);
	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	redisFree(c);
	assert_non_null(r);
	return r;
}

static int
group_setup(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_ERROR);	/* the down/up lines are expected */
	if (server_new(&main_server, NULL) != 0)
		return -1;
	server_start(&main_server);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	server_remove(&main_server);
	return 0;
}

static void
real_advance(struct kv_fixture *fx, unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	(void)fx;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static struct kv *
open_redis(struct event_base *base, const struct kv_redis_options *o)
{
	char err[256] = "";
	struct kv *kv = kv_redis_open(base, o, err, sizeof(err));

	if (kv == NULL)
		fprintf(stderr, "kv_redis_open: %s\n", err);
	return kv;
}

static int
setup(void **state)
{
	struct kv_fixture *fx = calloc(1, sizeof(*fx));
	struct kv_redis_options o = { .host = "127.0.0.1",
	    .port = main_server.port };

	if (fx == NULL)
		return -1;
	if (main_server.pid <= 0)
		server_start(&main_server);
	freeReplyObject(server_command(&main_server, "FLUSHALL"));
	fx->base = event_base_new();
	fx->advance = real_advance;
	if ((fx->kv = open_redis(fx->base, &o)) == NULL)
		return -1;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct kv_fixture *fx = *state;

	kv_free(fx->kv);
	event_base_free(fx->base);
	free(fx);
	return 0;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Put until it works again, for at most ten seconds. */
static void
put_until_ok(struct kv_fixture *fx)
{
	int64_t end = mono_ms() + 10000;

	while (mono_ms() < end) {
		if (kvt_put(fx, "back", "yes", 0) == KV_OK)
			return;
		real_advance(fx, 50);
	}
	fail_msg("the store did not come back in 10 s");
}

/* Send stderr (the log) to a file for a while. */
static int
log_to(const char *path)
{
	int saved, fd;

	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	return saved;
}

static void
log_back(int saved)
{
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
}

static int
log_count(const char *path, const char *needle)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(f);
	return n;
}

/* ---- what only Redis has ------------------------------------------------ */

static void
test_shared_with_another_client(void **state)
{
	struct kv_fixture *fx = *state;
	redisReply *r;

	assert_string_equal(kv_backend_name(fx->kv), "redis");
	assert_int_equal(kvt_put(fx, "seen", "by others", 0), KV_OK);
	r = server_command(&main_server, "GET seen");
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	assert_string_equal(r->str, "by others");
	freeReplyObject(r);
	assert_int_equal(kvt_incr(fx, "win", 1, 600).status, KV_OK);
	r = server_command(&main_server, "TTL win");
	assert_true(r->integer > 590 && r->integer <= 600);
	freeReplyObject(r);
	assert_int_equal(kvt_incr(fx, "win", 1, 5).status, KV_OK);
	r = server_command(&main_server, "TTL win");
	assert_true(r->integer > 590);	/* not moved by the second */
	freeReplyObject(r);
}

static void
test_killed_then_back(void **state)
{
	struct kv_fixture *fx = *state;
	struct kvt_answer a = { 0 };
	int64_t t0;
	char log[PATH_MAX + 16];
	int saved;

	snprintf(log, sizeof(log), "%s/netjes.log", main_server.dir);
	assert_int_equal(kvt_put(fx, "k", "v", 0), KV_OK);
	log_set_level(LOG_LEVEL_INFO);
	saved = log_to(log);
	server_stop(&main_server);
	/* the waiting request and every new one: KV_ERROR, promptly */
	t0 = mono_ms();
	assert_non_null(kv_get(fx->kv, "k", 1, kvt_on_answer, &a));
	kvt_wait(fx, &a);
	assert_int_equal(a.status, KV_ERROR);
	assert_int_equal(kvt_put(fx, "k", "w", 0), KV_ERROR);
	assert_int_equal(kvt_incr(fx, "n", 1, 0).status, KV_ERROR);
	assert_int_equal(kvt_scan(fx, "", 0).status, KV_ERROR);
	assert_true(mono_ms() - t0 < 1500);
	/* back: the same store works again, without reopening */
	server_start(&main_server);
	put_until_ok(fx);
	log_back(saved);
	log_set_level(LOG_LEVEL_ERROR);
	a = kvt_get(fx, "back");
	kvt_assert_value(&a, "yes");
	/* one line when it went, one when it came back: not one a retry */
	assert_int_equal(log_count(log, "event=store_redis_down"), 1);
	assert_int_equal(log_count(log, "event=store_redis_up"), 1);
}

static void
test_stopped_times_out(void **state)
{
	struct kv_fixture *fx = *state;
	struct kv_redis_options o = { .host = "127.0.0.1",
	    .port = main_server.port, .timeout_ms = 300 };
	struct kvt_answer a;
	int64_t t0, took;

	kv_free(fx->kv);
	assert_non_null(fx->kv = open_redis(fx->base, &o));
	assert_int_equal(kvt_put(fx, "k", "v", 0), KV_OK);
	kill(main_server.pid, SIGSTOP);
	t0 = mono_ms();
	a = kvt_get(fx, "k");
	took = mono_ms() - t0;
	kill(main_server.pid, SIGCONT);
	assert_int_equal(a.status, KV_ERROR);
	assert_true(took >= 250 && took < 2000);
	put_until_ok(fx);
	a = kvt_get(fx, "k");
	kvt_assert_value(&a, "v");
}

static void
test_nobody_listening(void **state)
{
	struct kv_fixture *fx = *state;
	struct kv_redis_options o = { .host = "127.0.0.1",
	    .port = free_port() };
	int64_t t0 = mono_ms();

	kv_free(fx->kv);
	assert_non_null(fx->kv = open_redis(fx->base, &o));
	assert_int_equal(kvt_put(fx, "k", "v", 0), KV_ERROR);
	assert_int_equal(kvt_get(fx, "k").status, KV_ERROR);
	assert_true(mono_ms() - t0 < 1500);
}

static void
test_unix_socket(void **state)
{
	struct kv_fixture *fx = *state;
	struct kv_redis_options o = { .path = main_server.sock };
	struct kvt_answer a;

	kv_free(fx->kv);
	assert_non_null(fx->kv = open_redis(fx->base, &o));
	assert_int_equal(kvt_put(fx, "via", "socket", 0), KV_OK);
	a = kvt_get(fx, "via");
	kvt_assert_value(&a, "socket");
}

static void
test_password_and_db(void **state)
{
	struct kv_fixture *fx = *state;
	struct redis_server s;
	struct kv_redis_options o = { .host = "127.0.0.1",
	    .password = "wrong" };
	struct kvt_answer a;
	redisReply *r;
	int i;

	kv_free(fx->kv);
	fx->kv = NULL;
	assert_int_equal(server_new(&s, "s3cret"), 0);
	server_start(&s);
	o.port = s.port;
	/* a wrong password: nothing works, and nothing hangs */
	assert_non_null(fx->kv = open_redis(fx->base, &o));
	for (i = 0; i < 3; i++)
		assert_int_equal(kvt_put(fx, "k", "v", 0), KV_ERROR);
	kv_free(fx->kv);
	/* the right one, database 3 */
	o.password = "s3cret";
	o.db = 3;
	assert_non_null(fx->kv = open_redis(fx->base, &o));
	assert_int_equal(kvt_put(fx, "k", "in db 3", 0), KV_OK);
	a = kvt_get(fx, "k");
	kvt_assert_value(&a, "in db 3");
	{
		struct timeval tv = { 2, 0 };
		redisContext *c = redisConnectWithTimeout("127.0.0.1", s.port,
		    tv);

		assert_non_null(c);
		freeReplyObject(redisCommand(c, "AUTH s3cret"));
		r = redisCommand(c, "GET k");
		assert_int_equal(r->type, REDIS_REPLY_NIL);	/* db 0 */
		freeReplyObject(r);
		freeReplyObject(redisCommand(c, "SELECT 3"));
		r = redisCommand(c, "GET k");
		assert_int_equal(r->type, REDIS_REPLY_STRING);
		assert_string_equal(r->str, "in db 3");
		freeReplyObject(r);
		redisFree(c);
	}
	server_remove(&s);
}

/* A database Redis does not have: SELECT is refused, and nothing that
 * was asked meanwhile runs in database 0 instead. */
static void
test_select_refused(void **state)
{
	struct kv_fixture *fx = *state;
	struct kv_redis_options o = { .host = "127.0.0.1",
	    .port = main_server.port, .db = 99 };
	redisReply *r;

	kv_free(fx->kv);
	assert_non_null(fx->kv = open_redis(fx->base, &o));
	assert_int_equal(kvt_put(fx, "wrongdb", "v", 0), KV_ERROR);
	assert_int_equal(kvt_put(fx, "wrongdb", "v", 0), KV_ERROR);
	r = server_command(&main_server, "EXISTS wrongdb");
	assert_int_equal(r->type, REDIS_REPLY_INTEGER);
	assert_int_equal(r->integer, 0);
	freeReplyObject(r);
}

static void
test_free_with_pending(void **state)
{
	struct kv_fixture *fx = *state;
	static struct kvt_answer a[100];
	int i;

	memset(a, 0, sizeof(a));
	for (i = 0; i < 100; i++)
		assert_non_null(kv_incr(fx->kv, "p", 1, 1, 0, kvt_on_answer,
		    &a[i]));
	kv_free(fx->kv);
	event_base_loop(fx->base, EVLOOP_NONBLOCK);
	for (i = 0; i < 100; i++)
		assert_int_equal(a[i].calls, 0);
	fx->kv = open_redis(fx->base, &(struct kv_redis_options){
	    .host = "127.0.0.1", .port = main_server.port });
	assert_non_null(fx->kv);
}

static void
test_open_from_config(void **state)
{
	struct kv_fixture *fx = *state;
	struct config c;
	char err[256] = "", text[256];
	struct kvt_answer a;
	int n;

	kv_free(fx->kv);
	config_defaults(&c);
	n = snprintf(text, sizeof(text), "[store]\nbackend = redis\n"
	    "redis = 127.0.0.1:%u\nredis_db = 2\n", main_server.port);
	assert_int_equal(config_load_string(&c, text, (size_t)n, "t", NULL), 0);
	assert_non_null(fx->kv = kv_open_from_config(&c, fx->base, err,
	    sizeof(err)));
	assert_string_equal(kv_backend_name(fx->kv), "redis");
	assert_int_equal(kvt_put(fx, "cfg", "2", 0), KV_OK);
	a = kvt_get(fx, "cfg");
	kvt_assert_value(&a, "2");
	config_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		KV_CASES(setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_with_another_client,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_then_back, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stopped_times_out, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_nobody_listening, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unix_socket, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_password_and_db, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_select_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_free_with_pending, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_from_config, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
