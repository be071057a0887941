/*
 * kv_lmdb — the embedded store: one LMDB environment under a directory
 * (the daemon's DATA_DIR/state), files mode 0600. See kv.h.
 *
 * Every transaction runs on one core/worker thread, so the loop never
 * waits for the disk. Requests queue on the loop; while one batch runs
 * on the worker the next ones gather, and each batch is one transaction
 * (group commit: one fsync for many writes). Each write in a batch runs
 * in a nested transaction, so one that fails (the map is full) is undone
 * alone and answers KV_ERROR while the others commit; a commit that
 * fails answers KV_ERROR for the whole batch. A batch of reads only
 * takes a read transaction and no fsync.
 *
 * Durability is LMDB's default: a commit returns after the data is
 * flushed, so a crash of the process or of the machine keeps every
 * committed write and never corrupts the file. MDB_NOSYNC would skip
 * that flush: faster, but a machine crash could lose the last commits
 * or corrupt the file, and these counters guard AUTH throttles; group
 * commit already spreads one flush over many writes.
 *
 * A record is an 8-byte big-endian expiry (milliseconds since the epoch,
 * 0 = none; wall clock, so it survives a restart) followed by the value.
 * get, scan and incr treat an expired record as absent; a sweep on the
 * worker every sweep_ms deletes expired records, at most
 * LMDB_SWEEP_EXAMINE records a transaction, resuming where it stopped.
 */
#include "store/kv_backend.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <event2/event.h>
#include <lmdb.h>

#include "core/worker.h"

#define LMDB_BATCH_MAX		256	/* requests in one transaction */
#define LMDB_SWEEP_EXAMINE	1000	/* records one sweep step looks at */
#define LMDB_EXPIRY_LEN		8

struct lmdb_batch {
	struct kv_lmdb		*db;
	struct kv_req		*head, *tail;	/* linked by bnext */
	bool			 writes;
};

struct lmdb_sweep {
	struct kv_lmdb		*db;
	size_t			 deleted;	/* by the last step */
	bool			 more;		/* stopped before the end */
};

struct kv_lmdb {
	struct kv		 kv;
	MDB_env			*env;
	MDB_dbi			 dbi;
	struct worker		*worker;
	int64_t			 (*now_ms)(void *);
	void			*now_arg;
	void			 (*swept)(size_t, void *);
	void			*swept_arg;
	/* the loop's side */
	struct kv_req		*queue_head, *queue_tail;	/* by bnext */
	struct lmdb_batch	*running;
	struct event		*sweep_ev;
	struct lmdb_sweep	 sweep;
	bool			 sweeping;
	/* the worker's side: where the sweep goes on */
	uint8_t			 sweep_pos[KV_KEY_MAX];
	size_t			 sweep_poslen;
};

static int64_t
lmdb_real_now_ms(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- records ------------------------------------------------------------ */

static uint64_t
rec_expiry(const MDB_val *v)
{
	const uint8_t *p = v->mv_data;
	uint64_t e = 0;
	int i;

	for (i = 0; i < LMDB_EXPIRY_LEN; i++)
		e = e << 8 | p[i];
	return e;
}

/* Live: well-formed and not expired at now. */
static bool
rec_live(const MDB_val *v, int64_t now)
{
	uint64_t e;

	if (v->mv_size < LMDB_EXPIRY_LEN)
		return false;
	e = rec_expiry(v);
	return e == 0 || e > (uint64_t)now;
}

static const uint8_t *
rec_value(const MDB_val *v, size_t *n)
{
	*n = v->mv_size - LMDB_EXPIRY_LEN;
	return (const uint8_t *)v->mv_data + LMDB_EXPIRY_LEN;
}

static uint64_t
rec_deadline(int64_t now, unsigned ttl)
{
	return ttl == 0 ? 0 : (uint64_t)now + (uint64_t)ttl * 1000;
}

/* Write key = [expiry][val] in txn. */
static int
rec_put(struct kv_lmdb *db, MDB_txn *txn, MDB_val *key, uint64_t expiry,
    const void *val, size_t vallen)
{
	MDB_val d = { LMDB_EXPIRY_LEN + vallen, NULL };
	uint8_t *p;
	int i, rc;

	/* MDB_RESERVE: LMDB gives the space, we fill it: no second copy */
	if ((rc = mdb_put(txn, db->dbi, key, &d, MDB_RESERVE)) != 0)
		return rc;
	p = d.mv_data;
	for (i = LMDB_EXPIRY_LEN - 1; i >= 0; i--, expiry >>= 8)
		p[i] = (uint8_t)(expiry & 0xff);
	if (vallen > 0)
		memcpy(p + LMDB_EXPIRY_LEN, val, vallen);
	return 0;
}

/* ---- one operation, on the worker --------------------------------------- */

static void
op_get(struct kv_lmdb *db, MDB_txn *txn, struct kv_req *r, int64_t now)
{
	MDB_val k = { r->keylen, r->key }, v;
	const uint8_t *p;
	size_t n;
	int rc = mdb_get(txn, db->dbi, &k, &v);

	if (rc == MDB_NOTFOUND || (rc == 0 && !rec_live(&v, now))) {
		r->status = KV_NOTFOUND;
		return;
	}
	if (rc != 0)
		return;		/* KV_ERROR, the default */
	p = rec_value(&v, &n);
	kv_req_set_value(r, p, n);
	r->status = KV_OK;
}

static int
op_put(struct kv_lmdb *db, MDB_txn *txn, struct kv_req *r, int64_t now)
{
	MDB_val k = { r->keylen, r->key };
	int rc = rec_put(db, txn, &k, rec_deadline(now, r->ttl), r->val,
	    r->vallen);

	if (rc == 0)
		r->status = KV_OK;
	return rc;
}

static int
op_del(struct kv_lmdb *db, MDB_txn *txn, struct kv_req *r, int64_t now)
{
	MDB_val k = { r->keylen, r->key }, v;
	int rc = mdb_get(txn, db->dbi, &k, &v);

	if (rc == MDB_NOTFOUND) {
		r->status = KV_NOTFOUND;
		return 0;
	}
	if (rc != 0)
		return rc;
	/* an expired record goes too, but was not there for the caller */
	r->status = rec_live(&v, now) ? KV_OK : KV_NOTFOUND;
	return mdb_del(txn, db->dbi, &k, NULL);
}

/* The counter's value before the increment: 0 with a fresh expiry when
 * absent or expired; -1 when the value is not a counter. */
static int
incr_current(struct kv_lmdb *db, MDB_txn *txn, struct kv_req *r,
    int64_t now, int64_t *cur, uint64_t *expiry)
{
	MDB_val k = { r->keylen, r->key }, v;
	const uint8_t *p;
	size_t n;
	int rc = mdb_get(txn, db->dbi, &k, &v);

	if (rc == MDB_NOTFOUND || (rc == 0 && !rec_live(&v, now))) {
		*cur = 0;
		*expiry = rec_deadline(now, r->ttl);
		return 0;
	}
	if (rc != 0)
		return -1;
	p = rec_value(&v, &n);
	*expiry = rec_expiry(&v);	/* a fixed window: not extended */
	return kv_parse_int(p, n, cur);
}

static int
op_incr(struct kv_lmdb *db, MDB_txn *txn, struct kv_req *r, int64_t now)
{
	MDB_val k = { r->keylen, r->key };
	char text[24];
	uint64_t expiry;
	int64_t cur;
	int len, rc;

	if (incr_current(db, txn, r, now, &cur, &expiry) != 0)
		return -1;
	if ((r->delta > 0 && cur > INT64_MAX - r->delta) ||
	    (r->delta < 0 && cur < INT64_MIN - r->delta))
		return -1;	/* as Redis: overflow is an error */
	cur += r->delta;
	len = snprintf(text, sizeof(text), "%" PRId64, cur);
	if ((rc = rec_put(db, txn, &k, expiry, text, (size_t)len)) != 0)
		return rc;
	r->num = cur;
	kv_req_set_value(r, text, (size_t)len);
	r->status = KV_OK;
	return 0;
}

static bool
has_prefix(const MDB_val *k, const struct kv_req *r)
{
	return k->mv_size >= r->keylen &&
	    memcmp(k->mv_data, r->key, r->keylen) == 0;
}

static void
op_scan(struct kv_lmdb *db, MDB_txn *txn, struct kv_req *r, int64_t now)
{
	MDB_cursor *cur;
	MDB_val k = { r->keylen, r->key }, v;
	const uint8_t *p;
	size_t n;
	int rc;

	if (mdb_cursor_open(txn, db->dbi, &cur) != 0)
		return;
	rc = mdb_cursor_get(cur, &k, &v, r->keylen > 0 ? MDB_SET_RANGE :
	    MDB_FIRST);
	for (; rc == 0 && has_prefix(&k, r) && r->nitems < r->limit;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (!rec_live(&v, now))
			continue;
		p = rec_value(&v, &n);
		kv_req_add_item(r, k.mv_data, k.mv_size, p, n);
	}
	mdb_cursor_close(cur);
	if (rc == 0 || rc == MDB_NOTFOUND)
		r->status = KV_OK;
	else
		kv_req_clear_answer(r);
}

static int
op_write(struct kv_lmdb *db, MDB_txn *txn, struct kv_req *r, int64_t now)
{
	switch (r->op) {
	case KV_OP_PUT:
		return op_put(db, txn, r, now);
	case KV_OP_DEL:
		return op_del(db, txn, r, now);
	case KV_OP_INCR:
		return op_incr(db, txn, r, now);
	default:
		return -1;
	}
}

/* A write in its own nested transaction: undone alone when it fails. */
static void
op_write_nested(struct kv_lmdb *db, MDB_txn *parent, struct kv_req *r,
    int64_t now)
{
	MDB_txn *child;

	if (mdb_txn_begin(db->env, parent, 0, &child) != 0)
		return;
	if (op_write(db, child, r, now) != 0)
		mdb_txn_abort(child);
	else if (mdb_txn_commit(child) == 0)	/* frees child either way */
		return;
	kv_req_clear_answer(r);
	r->status = KV_ERROR;
}

static void
op_run(struct kv_lmdb *db, MDB_txn *txn, struct kv_req *r, int64_t now)
{
	r->status = KV_ERROR;
	if (r->op == KV_OP_GET)
		op_get(db, txn, r, now);
	else if (r->op == KV_OP_SCAN)
		op_scan(db, txn, r, now);
	else
		op_write_nested(db, txn, r, now);
}

/* ---- batches ------------------------------------------------------------ */

static void
batch_fail(struct lmdb_batch *b)
{
	struct kv_req *r;

	for (r = b->head; r != NULL; r = r->bnext) {
		kv_req_clear_answer(r);
		r->status = KV_ERROR;
	}
}

/* On the worker: the whole batch in one transaction. */
static void
batch_run(void *arg)
{
	struct lmdb_batch *b = arg;
	struct kv_lmdb *db = b->db;
	struct kv_req *r;
	MDB_txn *txn;
	int64_t now = db->now_ms(db->now_arg);

	if (mdb_txn_begin(db->env, NULL, b->writes ? 0 : MDB_RDONLY,
	    &txn) != 0) {
		batch_fail(b);
		return;
	}
	for (r = b->head; r != NULL; r = r->bnext)
		op_run(db, txn, r, now);
	if (!b->writes)
		mdb_txn_abort(txn);	/* how a read transaction ends */
	else if (mdb_txn_commit(txn) != 0)
		batch_fail(b);
}

static void	batch_start(struct kv_lmdb *);

/* On the loop: answer the batch, start the next one. */
static void
batch_done(void *arg)
{
	struct lmdb_batch *b = arg;
	struct kv_lmdb *db = b->db;
	struct kv_req *r, *next;

	for (r = b->head; r != NULL; r = next) {
		next = r->bnext;
		kv_req_complete(r);
	}
	free(b);
	db->running = NULL;
	batch_start(db);
}

static void
batch_start(struct kv_lmdb *db)
{
	struct lmdb_batch *b;
	struct kv_req *r, *next;
	size_t n;

	if (db->running != NULL || db->queue_head == NULL)
		return;
	b = kv_xcalloc(1, sizeof(*b));
	b->db = db;
	for (n = 0, r = db->queue_head; r != NULL && n < LMDB_BATCH_MAX;
	    n++, r = db->queue_head) {
		db->queue_head = r->bnext;
		r->bnext = NULL;
		if (b->tail != NULL)
			b->tail->bnext = r;
		else
			b->head = r;
		b->tail = r;
		if (r->op != KV_OP_GET && r->op != KV_OP_SCAN)
			b->writes = true;
	}
	if (db->queue_head == NULL)
		db->queue_tail = NULL;
	db->running = b;
	if (worker_submit(db->worker, batch_run, batch_done, b) != NULL)
		return;
	batch_fail(b);
	for (r = b->head; r != NULL; r = next) {
		next = r->bnext;
		kv_req_complete(r);
	}
	free(b);
	db->running = NULL;
}

static void
lmdb_submit(struct kv *kv, struct kv_req *r)
{
	struct kv_lmdb *db = (struct kv_lmdb *)kv;

	r->bnext = NULL;
	if (db->queue_tail != NULL)
		db->queue_tail->bnext = r;
	else
		db->queue_head = r;
	db->queue_tail = r;
	batch_start(db);
}

/* ---- the sweep ---------------------------------------------------------- */

/* Where the sweep goes on: the key after the last one examined. */
static void
sweep_remember(struct kv_lmdb *db, MDB_cursor *cur, int rc)
{
	MDB_val k, v;

	db->sweep_poslen = 0;
	if (rc != 0 || mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT) != 0 ||
	    k.mv_size > sizeof(db->sweep_pos))
		return;
	memcpy(db->sweep_pos, k.mv_data, k.mv_size);
	db->sweep_poslen = k.mv_size;
	db->sweep.more = true;
}

static void
sweep_run(void *arg)
{
	struct kv_lmdb *db = ((struct lmdb_sweep *)arg)->db;
	MDB_val k = { db->sweep_poslen, db->sweep_pos }, v;
	MDB_txn *txn;
	MDB_cursor *cur;
	int64_t now = db->now_ms(db->now_arg);
	size_t seen, deleted = 0;
	int rc;

	db->sweep.deleted = 0;
	db->sweep.more = false;
	if (mdb_txn_begin(db->env, NULL, 0, &txn) != 0)
		return;
	if (mdb_cursor_open(txn, db->dbi, &cur) != 0) {
		mdb_txn_abort(txn);
		return;
	}
	rc = mdb_cursor_get(cur, &k, &v, db->sweep_poslen > 0 ?
	    MDB_SET_RANGE : MDB_FIRST);
	for (seen = 0; rc == 0 && seen < LMDB_SWEEP_EXAMINE; seen++) {
		/* after a delete the cursor's next is the following record */
		if (!rec_live(&v, now) && mdb_cursor_del(cur, 0) == 0)
			deleted++;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	sweep_remember(db, cur, rc);
	mdb_cursor_close(cur);
	if (mdb_txn_commit(txn) == 0)
		db->sweep.deleted = deleted;
}

static void
sweep_done(void *arg)
{
	struct kv_lmdb *db = ((struct lmdb_sweep *)arg)->db;

	db->sweeping = false;
	if (db->swept != NULL)
		db->swept(db->sweep.deleted, db->swept_arg);
	/* a backlog: go on at once, between the batches */
	if (db->sweep.more && worker_submit(db->worker, sweep_run, sweep_done,
	    &db->sweep) != NULL)
		db->sweeping = true;
}

static void
sweep_tick(evutil_socket_t fd, short what, void *arg)
{
	struct kv_lmdb *db = arg;

	(void)fd;
	(void)what;
	if (db->sweeping)
		return;
	if (worker_submit(db->worker, sweep_run, sweep_done, &db->sweep) !=
	    NULL)
		db->sweeping = true;
}

/* ---- open and free ------------------------------------------------------ */

static void
lmdb_drop_list(struct kv_req *r)
{
	struct kv_req *next;

	for (; r != NULL; r = next) {
		next = r->bnext;
		kv_req_drop(r);
	}
}

static void
lmdb_free(struct kv *kv)
{
	struct kv_lmdb *db = (struct kv_lmdb *)kv;

	/* first the thread: after this no job touches a request */
	worker_free(db->worker);
	if (db->running != NULL) {
		lmdb_drop_list(db->running->head);
		free(db->running);
	}
	lmdb_drop_list(db->queue_head);
	if (db->sweep_ev != NULL)
		event_free(db->sweep_ev);
	if (db->env != NULL)
		mdb_env_close(db->env);
	free(db);
}

static const struct kv_ops kv_lmdb_ops = {
	.name = "lmdb",
	.submit = lmdb_submit,
	.free = lmdb_free,
};

static int
lmdb_env_open(struct kv_lmdb *db, const struct kv_lmdb_options *o,
    char *err, size_t errlen)
{
	MDB_txn *txn;
	int rc, dead;

	if (mkdir(o->dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", o->dir, strerror(errno));
		return -1;
	}
	if ((rc = mdb_env_create(&db->env)) != 0 ||
	    (rc = mdb_env_set_mapsize(db->env, o->map_size != 0 ?
	    o->map_size : KV_LMDB_MAP_SIZE)) != 0 ||
	    (rc = mdb_env_open(db->env, o->dir, 0, 0600)) != 0)
		goto fail;
	/* readers left by a process that died would pin old pages */
	mdb_reader_check(db->env, &dead);
	if ((rc = mdb_txn_begin(db->env, NULL, 0, &txn)) != 0)
		goto fail;
	if ((rc = mdb_dbi_open(txn, NULL, 0, &db->dbi)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", o->dir, mdb_strerror(rc));
	return -1;
}

static int
lmdb_sweep_start(struct kv_lmdb *db, struct event_base *base, unsigned ms)
{
	struct timeval tv;

	if (ms == 0)
		ms = KV_LMDB_SWEEP_MS;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	db->sweep_ev = event_new(base, -1, EV_PERSIST, sweep_tick, db);
	return db->sweep_ev != NULL && event_add(db->sweep_ev, &tv) == 0 ?
	    0 : -1;
}

struct kv *
kv_lmdb_open(struct event_base *base, const struct kv_lmdb_options *o,
    char *err, size_t errlen)
{
	struct kv_lmdb *db = kv_xcalloc(1, sizeof(*db));

	db->sweep.db = db;
	db->now_ms = o->now_ms != NULL ? o->now_ms : lmdb_real_now_ms;
	db->now_arg = o->now_arg;
	db->swept = o->swept;
	db->swept_arg = o->swept_arg;
	if (kv_init(&db->kv, &kv_lmdb_ops, base) != 0) {
		snprintf(err, errlen, "no memory for an event");
		goto fail;
	}
	if (lmdb_env_open(db, o, err, errlen) != 0)
		goto fail;
	if ((db->worker = worker_new(base)) == NULL) {
		snprintf(err, errlen, "worker thread: %s", strerror(errno));
		goto fail;
	}
	if (lmdb_sweep_start(db, base, o->sweep_ms) != 0) {
		snprintf(err, errlen, "no memory for the sweep timer");
		goto fail;
	}
	return &db->kv;
fail:
	kv_free(&db->kv);
	return NULL;
}
