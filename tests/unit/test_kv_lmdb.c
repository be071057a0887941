/*
 * Unit tests for store/kv_lmdb: the shared behaviour table (kv_cases.h)
 * on a real LMDB environment in a temporary directory (under $TMPDIR),
 * with the store's clock injected so expiry needs no sleeping; then what
 * only the embedded store has: files mode 0600, data kept across a
 * close and a reopen, the sweep of expired records, a write that does
 * not fit failing alone, and kv_open_from_config.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "core/config.h"
#include "kv_cases.h"

static char tmpdir[PATH_MAX];
static char statedir[PATH_MAX + 16];
static _Atomic int64_t fake_now_ms;
static _Atomic size_t swept_total;
static int sweeps;

static int64_t
fake_now(void *arg)
{
	(void)arg;
	return atomic_load(&fake_now_ms);
}

static void
on_swept(size_t n, void *arg)
{
	(void)arg;
	atomic_fetch_add(&swept_total, n);
	sweeps++;
}

static void
fake_advance(struct kv_fixture *fx, unsigned ms)
{
	(void)fx;
	atomic_fetch_add(&fake_now_ms, (int64_t)ms);
}

static int
make_tmpdir(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/netjes-kv-XXXXXX",
	    t != NULL && t[0] != '\0' ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(statedir, sizeof(statedir), "%s/state", tmpdir);
	return 0;
}

static void
remove_tmpdir(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

static struct kv *
open_store(struct event_base *base, size_t map_size, unsigned sweep_ms)
{
	struct kv_lmdb_options o = {
		.dir = statedir, .map_size = map_size, .sweep_ms = sweep_ms,
		.now_ms = fake_now, .swept = on_swept,
	};
	char err[256] = "";
	struct kv *kv = kv_lmdb_open(base, &o, err, sizeof(err));

	if (kv == NULL)
		fprintf(stderr, "kv_lmdb_open: %s\n", err);
	return kv;
}

static int
setup(void **state)
{
	struct kv_fixture *fx = calloc(1, sizeof(*fx));

	atomic_store(&fake_now_ms, (int64_t)1700000000 * 1000);
	atomic_store(&swept_total, 0);
	sweeps = 0;
	if (fx == NULL || make_tmpdir() != 0)
		return -1;
	fx->base = event_base_new();
	fx->advance = fake_advance;
	if ((fx->kv = open_store(fx->base, 0, 0)) == NULL)
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
	remove_tmpdir();
	return 0;
}

/* ---- what only LMDB has ------------------------------------------------- */

static void
test_files_private(void **state)
{
	struct kv_fixture *fx = *state;
	char path[PATH_MAX + 32];
	struct stat st;

	assert_int_equal(kvt_put(fx, "a", "b", 0), KV_OK);
	assert_int_equal(stat(statedir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/data.mdb", statedir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0077, 0);
	assert_string_equal(kv_backend_name(fx->kv), "lmdb");
}

static void
test_reopen_keeps_data(void **state)
{
	struct kv_fixture *fx = *state;
	struct kvt_answer a;

	assert_int_equal(kvt_put(fx, "kept", "yes", 0), KV_OK);
	assert_int_equal(kvt_incr(fx, "count", 7, 3600).status, KV_OK);
	assert_int_equal(kvt_put(fx, "brief", "x", 1), KV_OK);
	kv_free(fx->kv);
	fx->kv = open_store(fx->base, 0, 0);
	assert_non_null(fx->kv);
	a = kvt_get(fx, "kept");
	kvt_assert_value(&a, "yes");
	a = kvt_incr(fx, "count", 1, 3600);
	assert_int_equal(a.num, 8);
	/* the expiry is stored with the value: it holds across a reopen */
	fake_advance(fx, 1500);
	assert_int_equal(kvt_get(fx, "brief").status, KV_NOTFOUND);
	a = kvt_get(fx, "count");
	kvt_assert_value(&a, "8");
}

/* Count the records in the file, with the store closed (LMDB wants one
 * environment per file in a process). */
static size_t
count_records(void)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_stat st;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_open(env, statedir, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
	assert_int_equal(mdb_stat(txn, dbi, &st), 0);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return st.ms_entries;
}

static void
test_sweep_deletes_expired(void **state)
{
	struct kv_fixture *fx = *state;
	char key[32];
	int i;

	kv_free(fx->kv);
	fx->kv = open_store(fx->base, 0, 20);	/* a sweep every 20 ms */
	/* more than one sweep step (1000 records) of expired keys */
	for (i = 0; i < 2500; i++) {
		snprintf(key, sizeof(key), "old:%05d", i);
		/* no callback: nothing to be told */
		assert_non_null(kv_put(fx->kv, key, strlen(key), "v", 1, 10,
		    NULL, NULL));
	}
	assert_int_equal(kvt_put(fx, "live", "v", 0), KV_OK);
	assert_int_equal(kvt_put(fx, "later", "v", 3600), KV_OK);
	fake_advance(fx, 11000);
	{
		struct timespec start, now;

		clock_gettime(CLOCK_MONOTONIC, &start);
		while (atomic_load(&swept_total) < 2500) {
			struct timeval tick = { 0, 10000 };

			clock_gettime(CLOCK_MONOTONIC, &now);
			assert_true(now.tv_sec - start.tv_sec < 10);
			event_base_loopexit(fx->base, &tick);
			event_base_dispatch(fx->base);
		}
	}
	assert_int_equal(atomic_load(&swept_total), 2500);
	assert_true(sweeps >= 3);	/* bounded steps, not one transaction */
	kv_free(fx->kv);
	assert_int_equal(count_records(), 2);
	fx->kv = open_store(fx->base, 0, 0);
	assert_non_null(fx->kv);
}

static void
test_write_too_big_fails_alone(void **state)
{
	struct kv_fixture *fx = *state;
	struct kvt_answer small1 = { 0 }, big = { 0 }, small2 = { 0 };
	struct kvt_answer a;
	size_t n = KV_VALUE_MAX;	/* more pages than the whole map */
	char *v = malloc(n);

	kv_free(fx->kv);
	fx->kv = open_store(fx->base, (size_t)1 << 20, 0);	/* 1 MiB */
	assert_non_null(fx->kv);
	memset(v, 'x', n);
	/* queued together: the second batch holds the big one and small2 */
	assert_non_null(kv_put(fx->kv, "s1", 2, "1", 1, 0, kvt_on_answer,
	    &small1));
	assert_non_null(kv_put(fx->kv, "big", 3, v, n, 0, kvt_on_answer,
	    &big));
	assert_non_null(kv_put(fx->kv, "s2", 2, "2", 1, 0, kvt_on_answer,
	    &small2));
	kvt_loop_until(fx, &small2.calls, 1);
	assert_int_equal(small1.status, KV_OK);
	assert_int_equal(big.status, KV_ERROR);
	assert_int_equal(small2.status, KV_OK);
	a = kvt_get(fx, "s2");
	kvt_assert_value(&a, "2");
	assert_int_equal(kvt_get(fx, "big").status, KV_NOTFOUND);
	free(v);
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
	/* closed with requests queued: no callback, nothing leaks */
	kv_free(fx->kv);
	event_base_loop(fx->base, EVLOOP_NONBLOCK);
	for (i = 0; i < 100; i++)
		assert_int_equal(a[i].calls, 0);
	fx->kv = open_store(fx->base, 0, 0);
	assert_non_null(fx->kv);
}

static void
test_open_errors(void **state)
{
	struct kv_fixture *fx = *state;
	struct kv_lmdb_options o = { .dir = "/nonexistent/dir/state" };
	char err[256] = "";

	assert_null(kv_lmdb_open(fx->base, &o, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/dir/state"));
}

static void
test_open_from_config(void **state)
{
	struct kv_fixture *fx = *state;
	struct config c;
	struct kv *kv;
	char err[256] = "", text[PATH_MAX + 64], path[PATH_MAX + 32];
	struct stat st;
	int n;

	kv_free(fx->kv);
	fx->kv = NULL;
	config_defaults(&c);
	n = snprintf(text, sizeof(text), "[server]\ndata_dir = %s\n"
	    "[store]\nlmdb_map_size = 2097152\n", tmpdir);
	assert_int_equal(config_load_string(&c, text, (size_t)n, "t", NULL), 0);
	kv = kv_open_from_config(&c, fx->base, err, sizeof(err));
	assert_non_null(kv);
	assert_string_equal(kv_backend_name(kv), "lmdb");
	fx->kv = kv;
	assert_int_equal(kvt_put(fx, "cfg", "1", 0), KV_OK);
	snprintf(path, sizeof(path), "%s/state/data.mdb", tmpdir);
	assert_int_equal(stat(path, &st), 0);
	config_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		KV_CASES(setup, teardown),
		cmocka_unit_test_setup_teardown(test_files_private, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_data, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sweep_deletes_expired,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_too_big_fails_alone,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_with_pending, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_from_config, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
