/*
 * kv_redis — the shared store: one Redis server for several MX hosts,
 * spoken to with hiredis on the event loop (its libevent adapter). See
 * kv.h.
 *
 * put is SET key val [EX ttl]; incr is one Lua script (INCRBY, and
 * EXPIRE only when the key did not exist, so the window is fixed); scan
 * is SCAN with MATCH on the prefix, glob characters escaped, until the
 * limit, then one MGET; the items are sorted by key as LMDB gives them.
 * A value that vanished between SCAN and MGET is left out.
 *
 * A new connection sends AUTH (with a password) and SELECT first;
 * requests made meanwhile wait for SELECT's answer, so none can run
 * unauthenticated or in database 0 by mistake. A refusal of either
 * closes the connection like a failure.
 *
 * Redis down or not reachable: every request that is waiting gets
 * KV_ERROR at once (hiredis answers its queue when the connection
 * closes), every new one too until the connection is back, and one log
 * line says so. The connection is made again in the background, with a
 * backoff doubling from backoff_min_ms to backoff_max_ms. A request
 * also has a timeout: an answer that has not come in timeout_ms is
 * KV_ERROR, and when nothing at all came from Redis for that long the
 * connection is taken for dead (a stopped server, a lost peer) and made
 * again. Requests never hang.
 *
 * A request's state (struct redis_req) lives until both the caller has
 * had its answer and hiredis has called back for the command it holds;
 * hiredis always calls back, with NULL when the connection goes.
 */
#include "store/kv_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>

#include "core/log.h"

#define REDIS_SCAN_COUNT	"1000"	/* keys SCAN looks at a step */

/* KEYS[1] the counter, ARGV[1] the increment, ARGV[2] the ttl (0: none).
 * EXISTS rather than "the result equals the increment": a counter that
 * comes back to its increment (from below) is not new. */
static const char redis_incr_script[] =
    "local new = redis.call('EXISTS', KEYS[1]) == 0\n"
    "local v = redis.call('INCRBY', KEYS[1], ARGV[1])\n"
    "if new and tonumber(ARGV[2]) > 0 then\n"
    "  redis.call('EXPIRE', KEYS[1], ARGV[2])\n"
    "end\n"
    "return v\n";

struct kv_redis {
	struct kv		 kv;
	struct kv_redis_options	 opt;
	char			*host, *path, *password;
	redisAsyncContext	*ac;		/* NULL: down */
	bool			 ready;		/* AUTH and SELECT answered */
	struct redis_req	*wait_head, *wait_tail;
	bool			 down_logged;
	bool			 closing;	/* kv_free */
	unsigned		 backoff_ms;
	struct event		*retry_ev;	/* the next connect */
	struct event		*connect_ev;	/* a connect that takes too long */
	struct event		*kill_ev;	/* close, outside hiredis */
	int64_t			 last_reply_ms;	/* monotonic */
};

struct redis_req {
	struct kv_redis		*rd;
	struct redis_req	*prev, *next;	/* waiting for the setup */
	bool			 waiting;
	struct kv_req		*req;		/* NULL once answered */
	struct event		*timer;
	bool			 in_redis;	/* hiredis holds a callback */
	/* a scan */
	char			 cursor[24];
	uint8_t			*pattern;
	size_t			 patternlen;
	uint8_t			**keys;
	size_t			*keylens;
	size_t			 nkeys;
};

static int64_t
redis_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timeval
redis_tv(unsigned ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) *
	    1000 };

	return tv;
}

/* ---- requests ----------------------------------------------------------- */

static void
rreq_free(struct redis_req *rr)
{
	size_t i;

	for (i = 0; i < rr->nkeys; i++)
		free(rr->keys[i]);
	free(rr->keys);
	free(rr->keylens);
	free(rr->pattern);
	if (rr->timer != NULL)
		event_free(rr->timer);
	free(rr);
}

/* Hand the answer to kv.c; the request is kv.c's from here on. */
static void
rreq_answer(struct redis_req *rr)
{
	struct kv_req *r = rr->req;

	if (r == NULL)
		return;
	rr->req = NULL;
	r->backend = NULL;
	event_del(rr->timer);
	if (rr->rd->closing)
		kv_req_drop(r);
	else
		kv_req_complete(r);
}

static void
rreq_fail(struct redis_req *rr)
{
	if (rr->req != NULL) {
		kv_req_clear_answer(rr->req);
		rr->req->status = KV_ERROR;
	}
	rreq_answer(rr);
}

/* Requests made while a connection is being set up wait here: sent
 * before SELECT is answered, a write could land in the wrong database. */
static void
rreq_wait(struct redis_req *rr)
{
	struct kv_redis *rd = rr->rd;

	rr->waiting = true;
	rr->next = NULL;
	rr->prev = rd->wait_tail;
	if (rd->wait_tail != NULL)
		rd->wait_tail->next = rr;
	else
		rd->wait_head = rr;
	rd->wait_tail = rr;
}

static void
rreq_unwait(struct redis_req *rr)
{
	struct kv_redis *rd = rr->rd;

	if (!rr->waiting)
		return;
	if (rr->prev != NULL)
		rr->prev->next = rr->next;
	else
		rd->wait_head = rr->next;
	if (rr->next != NULL)
		rr->next->prev = rr->prev;
	else
		rd->wait_tail = rr->prev;
	rr->prev = rr->next = NULL;
	rr->waiting = false;
}

/* The connection went before it was ready: the waiting fail, at once. */
static void
redis_fail_waiting(struct kv_redis *rd)
{
	struct redis_req *rr;

	while ((rr = rd->wait_head) != NULL) {
		rreq_unwait(rr);
		rreq_fail(rr);
		rreq_free(rr);
	}
}

/* ---- the connection ----------------------------------------------------- */

static void	redis_connect(struct kv_redis *);
static void	redis_start(struct redis_req *);

static void
redis_schedule_retry(struct kv_redis *rd)
{
	struct timeval tv = redis_tv(rd->backoff_ms);

	event_add(rd->retry_ev, &tv);
	rd->backoff_ms = rd->backoff_ms * 2 > rd->opt.backoff_max_ms ?
	    rd->opt.backoff_max_ms : rd->backoff_ms * 2;
}

static void
redis_log_down(struct kv_redis *rd, const char *why)
{
	char q[256];

	if (rd->down_logged || rd->closing)
		return;
	rd->down_logged = true;
	log_warn("store_redis_down", "server=%s reason=%s retry=background",
	    rd->path != NULL ? rd->path : rd->host,
	    log_quote(q, sizeof(q), why));
}

/*
 * The connection is gone (or going): forget it and try again later.
 * With free_it, hiredis has not freed it itself; that answers every
 * command it holds with NULL, so pending requests fail here, at once.
 * Never from inside a hiredis callback with free_it.
 */
static void
redis_lost(struct kv_redis *rd, const char *why, bool free_it)
{
	redisAsyncContext *ac = rd->ac;

	if (ac == NULL)
		return;
	rd->ac = NULL;
	rd->ready = false;
	event_del(rd->connect_ev);
	redis_fail_waiting(rd);
	redis_log_down(rd, why);
	if (!rd->closing)
		redis_schedule_retry(rd);
	if (free_it)
		redisAsyncFree(ac);
}

static void
redis_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct kv_redis *rd = ac->data;

	(void)status;
	if (rd->ac == ac)
		redis_lost(rd, ac->errstr != NULL && ac->err != 0 ?
		    ac->errstr : "connection closed", false);
}

static void
redis_on_connect(const redisAsyncContext *ac, int status)
{
	struct kv_redis *rd = ac->data;

	if (rd->ac != ac)
		return;
	if (status != REDIS_OK) {
		/* hiredis frees the context after this returns */
		redis_lost(rd, ac->errstr, false);
		return;
	}
	event_del(rd->connect_ev);
}

/* AUTH and SELECT: a refusal makes the connection useless. True when
 * the reply was a yes. */
static bool
redis_setup_ok(redisAsyncContext *ac, struct kv_redis *rd, redisReply *rep)
{
	char q[256];

	if (rep == NULL || rd->ac != ac)
		return false;
	rd->last_reply_ms = redis_mono_ms();
	if (rep->type != REDIS_REPLY_ERROR)
		return true;
	snprintf(q, sizeof(q), "setup refused: %s", rep->str);
	redis_log_down(rd, q);
	event_active(rd->kill_ev, EV_TIMEOUT, 1);
	return false;
}

static void
redis_auth_reply(redisAsyncContext *ac, void *reply, void *arg)
{
	(void)redis_setup_ok(ac, arg, reply);
}

/* The last setup answer: the connection is ready; send what waited. */
static void
redis_select_reply(redisAsyncContext *ac, void *reply, void *arg)
{
	struct kv_redis *rd = arg;
	struct redis_req *rr;

	if (!redis_setup_ok(ac, rd, reply))
		return;
	if (rd->down_logged && !rd->closing)
		log_info("store_redis_up", "server=%s",
		    rd->path != NULL ? rd->path : rd->host);
	rd->down_logged = false;
	rd->backoff_ms = rd->opt.backoff_min_ms;
	rd->ready = true;
	while ((rr = rd->wait_head) != NULL) {
		rreq_unwait(rr);
		redis_start(rr);
	}
}

static void
redis_kill(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	redis_lost(arg, "refused by the server", true);
}

static void
redis_connect_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	redis_lost(arg, "connect timed out", true);
}

/* Queue AUTH and SELECT ahead of every request on a new connection. */
static int
redis_setup(struct kv_redis *rd)
{
	char db[16];

	if (rd->password != NULL && redisAsyncCommand(rd->ac,
	    redis_auth_reply, rd, "AUTH %s", rd->password) != REDIS_OK)
		return -1;
	snprintf(db, sizeof(db), "%u", rd->opt.db);
	/* SELECT 0 too: its answer says the connection is ready */
	return redisAsyncCommand(rd->ac, redis_select_reply, rd, "SELECT %s",
	    db) == REDIS_OK ? 0 : -1;
}

static void
redis_connect(struct kv_redis *rd)
{
	redisAsyncContext *ac;
	struct timeval tv = redis_tv(rd->opt.timeout_ms);

	ac = rd->path != NULL ? redisAsyncConnectUnix(rd->path) :
	    redisAsyncConnect(rd->host, rd->opt.port);
	if (ac == NULL || ac->err != 0) {
		redis_log_down(rd, ac != NULL ? ac->errstr : "no memory");
		if (ac != NULL)
			redisAsyncFree(ac);
		redis_schedule_retry(rd);
		return;
	}
	ac->data = rd;
	rd->ac = ac;
	rd->last_reply_ms = redis_mono_ms();
	if (redisLibeventAttach(ac, rd->kv.base) != REDIS_OK ||
	    redisAsyncSetConnectCallback(ac, redis_on_connect) != REDIS_OK ||
	    redisAsyncSetDisconnectCallback(ac, redis_on_disconnect) !=
	    REDIS_OK || redis_setup(rd) != 0) {
		redis_lost(rd, "cannot set up the connection", true);
		return;
	}
	event_add(rd->connect_ev, &tv);
}

static void
redis_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	redis_connect(arg);
}

/* ---- commands ----------------------------------------------------------- */

static void	redis_reply(redisAsyncContext *, void *, void *);

/* Send one command for rr; a refusal fails rr (from the loop, later). */
static void
redis_send(struct redis_req *rr, int argc, const char **argv,
    const size_t *lens)
{
	struct kv_redis *rd = rr->rd;

	if (rd->ac == NULL || redisAsyncCommandArgv(rd->ac, redis_reply, rr,
	    argc, argv, lens) != REDIS_OK) {
		rreq_fail(rr);
		if (!rr->in_redis)
			rreq_free(rr);
		return;
	}
	rr->in_redis = true;
}

static void
redis_send_scan(struct redis_req *rr)
{
	const char *argv[6] = { "SCAN", rr->cursor, "MATCH",
	    (const char *)rr->pattern, "COUNT", REDIS_SCAN_COUNT };
	size_t lens[6] = { 4, strlen(rr->cursor), 5, rr->patternlen, 5,
	    sizeof(REDIS_SCAN_COUNT) - 1 };

	redis_send(rr, 6, argv, lens);
}

static void
redis_send_mget(struct redis_req *rr)
{
	const char **argv = kv_xcalloc(rr->nkeys + 1, sizeof(*argv));
	size_t *lens = kv_xcalloc(rr->nkeys + 1, sizeof(*lens));
	size_t i;

	argv[0] = "MGET";
	lens[0] = 4;
	for (i = 0; i < rr->nkeys; i++) {
		argv[i + 1] = (const char *)rr->keys[i];
		lens[i + 1] = rr->keylens[i];
	}
	redis_send(rr, (int)rr->nkeys + 1, argv, lens);
	free(argv);
	free(lens);
}

/* The MATCH pattern for a prefix: glob characters escaped, then '*'. */
static void
redis_scan_pattern(struct redis_req *rr, const uint8_t *p, size_t n)
{
	size_t i, o = 0;

	rr->pattern = kv_xcalloc(1, 2 * n + 2);
	for (i = 0; i < n; i++) {
		if (strchr("*?[]\\", p[i]) != NULL && p[i] != '\0')
			rr->pattern[o++] = '\\';
		rr->pattern[o++] = p[i];
	}
	rr->pattern[o++] = '*';
	rr->patternlen = o;
}

/* A command's arguments: pointers and lengths, binary-safe. */
struct redis_args {
	const char	*v[6];
	size_t		 len[6];
	int		 n;
};

static void
redis_arg(struct redis_args *a, const void *p, size_t len)
{
	a->v[a->n] = p;
	a->len[a->n++] = len;
}

static void
redis_arg_str(struct redis_args *a, const char *s)
{
	redis_arg(a, s, strlen(s));
}

static void
redis_start(struct redis_req *rr)
{
	struct kv_req *r = rr->req;
	struct redis_args a = { .n = 0 };
	char delta[24], ttl[24];

	snprintf(delta, sizeof(delta), "%lld", (long long)r->delta);
	snprintf(ttl, sizeof(ttl), "%u", r->ttl);
	switch (r->op) {
	case KV_OP_GET:
	case KV_OP_DEL:
		redis_arg_str(&a, r->op == KV_OP_GET ? "GET" : "DEL");
		redis_arg(&a, r->key, r->keylen);
		break;
	case KV_OP_PUT:
		redis_arg_str(&a, "SET");
		redis_arg(&a, r->key, r->keylen);
		redis_arg(&a, r->val, r->vallen);
		if (r->ttl > 0) {
			redis_arg_str(&a, "EX");
			redis_arg_str(&a, ttl);
		}
		break;
	case KV_OP_INCR:
		redis_arg_str(&a, "EVAL");
		redis_arg_str(&a, redis_incr_script);
		redis_arg_str(&a, "1");
		redis_arg(&a, r->key, r->keylen);
		redis_arg_str(&a, delta);
		redis_arg_str(&a, ttl);
		break;
	case KV_OP_SCAN:
		snprintf(rr->cursor, sizeof(rr->cursor), "0");
		redis_scan_pattern(rr, r->key, r->keylen);
		redis_send_scan(rr);
		return;
	}
	redis_send(rr, a.n, a.v, a.len);
}

/* ---- answers ------------------------------------------------------------ */

static int
redis_item_cmp(const void *a, const void *b)
{
	const struct kv_item *x = a, *y = b;
	size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;
	int c = memcmp(x->key, y->key, n);

	if (c != 0)
		return c;
	return x->keylen < y->keylen ? -1 : x->keylen > y->keylen;
}

static bool
redis_scan_has(const struct redis_req *rr, const char *k, size_t n)
{
	size_t i;

	/* SCAN may return a key twice; the limit keeps this loop short */
	for (i = 0; i < rr->nkeys; i++)
		if (rr->keylens[i] == n && memcmp(rr->keys[i], k, n) == 0)
			return true;
	return false;
}

static void
redis_scan_keep(struct redis_req *rr, const redisReply *keys)
{
	size_t i, limit = rr->req->limit;
	const redisReply *k;

	if (rr->keys == NULL) {
		rr->keys = kv_xcalloc(limit, sizeof(*rr->keys));
		rr->keylens = kv_xcalloc(limit, sizeof(*rr->keylens));
	}
	for (i = 0; i < keys->elements && rr->nkeys < limit; i++) {
		k = keys->element[i];
		if (k->type != REDIS_REPLY_STRING ||
		    redis_scan_has(rr, k->str, (size_t)k->len))
			continue;
		rr->keys[rr->nkeys] = kv_xcalloc(1, (size_t)k->len + 1);
		memcpy(rr->keys[rr->nkeys], k->str, (size_t)k->len);
		rr->keylens[rr->nkeys++] = (size_t)k->len;
	}
}

/* One SCAN reply: keep its keys, then scan on or fetch the values.
 * True when a next command went out (or failed and took rr). */
static bool
redis_scan_step(struct redis_req *rr, const redisReply *rep)
{
	const redisReply *cur;

	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	    rep->element[0]->type != REDIS_REPLY_STRING ||
	    rep->element[1]->type != REDIS_REPLY_ARRAY)
		return false;
	cur = rep->element[0];
	if ((size_t)cur->len >= sizeof(rr->cursor))
		return false;
	memcpy(rr->cursor, cur->str, (size_t)cur->len);
	rr->cursor[cur->len] = '\0';
	redis_scan_keep(rr, rep->element[1]);
	if (strcmp(rr->cursor, "0") != 0 && rr->nkeys < rr->req->limit) {
		redis_send_scan(rr);
		return true;
	}
	if (rr->nkeys == 0) {
		rr->req->status = KV_OK;
		return false;
	}
	rr->cursor[0] = '\0';	/* from here on: the MGET */
	redis_send_mget(rr);
	return true;
}

static void
redis_mget_done(struct redis_req *rr, const redisReply *rep)
{
	struct kv_req *r = rr->req;
	const redisReply *v;
	size_t i;

	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != rr->nkeys)
		return;
	for (i = 0; i < rr->nkeys; i++) {
		v = rep->element[i];
		if (v->type == REDIS_REPLY_STRING)
			kv_req_add_item(r, rr->keys[i], rr->keylens[i], v->str,
			    (size_t)v->len);
	}
	if (r->nitems > 1)
		qsort(r->items, r->nitems, sizeof(*r->items), redis_item_cmp);
	r->status = KV_OK;
}

static void
redis_integer_done(struct kv_req *r, const redisReply *rep)
{
	char text[24];
	int len;

	if (rep->type != REDIS_REPLY_INTEGER)
		return;
	if (r->op == KV_OP_DEL) {
		r->status = rep->integer > 0 ? KV_OK : KV_NOTFOUND;
		return;
	}
	r->num = rep->integer;
	len = snprintf(text, sizeof(text), "%lld", rep->integer);
	kv_req_set_value(r, text, (size_t)len);
	r->status = KV_OK;
}

/* Fill in rr's answer from rep; true when rr went on to a next command
 * (a scan), and is no longer the caller's to free. */
static bool
redis_handle(struct redis_req *rr, const redisReply *rep)
{
	struct kv_req *r = rr->req;

	r->status = KV_ERROR;
	if (rep->type == REDIS_REPLY_ERROR)
		return false;	/* not a counter, a script refused: no data */
	switch (r->op) {
	case KV_OP_GET:
		if (rep->type == REDIS_REPLY_NIL)
			r->status = KV_NOTFOUND;
		else if (rep->type == REDIS_REPLY_STRING) {
			kv_req_set_value(r, rep->str, (size_t)rep->len);
			r->status = KV_OK;
		}
		break;
	case KV_OP_PUT:
		if (rep->type == REDIS_REPLY_STATUS)
			r->status = KV_OK;
		break;
	case KV_OP_DEL:
	case KV_OP_INCR:
		redis_integer_done(r, rep);
		break;
	case KV_OP_SCAN:
		if (rr->cursor[0] != '\0')
			return redis_scan_step(rr, rep);
		redis_mget_done(rr, rep);
		break;
	}
	return false;
}

static void
redis_reply(redisAsyncContext *ac, void *reply, void *arg)
{
	struct redis_req *rr = arg;

	(void)ac;
	rr->in_redis = false;
	if (reply != NULL)
		rr->rd->last_reply_ms = redis_mono_ms();
	if (rr->req == NULL) {
		rreq_free(rr);		/* answered already: timed out */
		return;
	}
	if (reply == NULL)
		rreq_fail(rr);		/* the connection went */
	else if (redis_handle(rr, reply))
		return;
	rreq_answer(rr);
	rreq_free(rr);
}

/* A request not answered in time. When nothing came from Redis for as
 * long, the connection is stalled: close it, which fails the rest. */
static void
rreq_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct redis_req *rr = arg;
	struct kv_redis *rd = rr->rd;
	bool stalled = rd->ac != NULL &&
	    redis_mono_ms() - rd->last_reply_ms >= rd->opt.timeout_ms;

	(void)fd;
	(void)what;
	rreq_unwait(rr);
	rreq_fail(rr);
	if (!rr->in_redis)
		rreq_free(rr);
	/* last: closing answers hiredis's callbacks, which may free rr */
	if (stalled)
		redis_lost(rd, "no answer in time", true);
}

/* ---- the backend -------------------------------------------------------- */

static void
redis_submit(struct kv *kv, struct kv_req *r)
{
	struct kv_redis *rd = (struct kv_redis *)kv;
	struct redis_req *rr = kv_xcalloc(1, sizeof(*rr));
	struct timeval tv = redis_tv(rd->opt.timeout_ms);

	rr->rd = rd;
	rr->req = r;
	r->backend = rr;
	if ((rr->timer = evtimer_new(kv->base, rreq_timeout, rr)) == NULL ||
	    evtimer_add(rr->timer, &tv) != 0 || rd->ac == NULL) {
		/* down: the answer is KV_ERROR, at once */
		rreq_fail(rr);
		rreq_free(rr);
		return;
	}
	if (!rd->ready)
		rreq_wait(rr);
	else
		redis_start(rr);
}

static void
redis_free(struct kv *kv)
{
	struct kv_redis *rd = (struct kv_redis *)kv;
	redisAsyncContext *ac = rd->ac;

	rd->closing = true;
	rd->ac = NULL;
	redis_fail_waiting(rd);		/* dropped: closing */
	/* answers every command with NULL: those requests are dropped */
	if (ac != NULL)
		redisAsyncFree(ac);
	if (rd->retry_ev != NULL)
		event_free(rd->retry_ev);
	if (rd->connect_ev != NULL)
		event_free(rd->connect_ev);
	if (rd->kill_ev != NULL)
		event_free(rd->kill_ev);
	free(rd->host);
	free(rd->path);
	if (rd->password != NULL)
		explicit_bzero(rd->password, strlen(rd->password));
	free(rd->password);
	free(rd);
}

static const struct kv_ops kv_redis_ops = {
	.name = "redis",
	.submit = redis_submit,
	.free = redis_free,
};

static char *
redis_strdup(const char *s)
{
	size_t n;

	if (s == NULL || s[0] == '\0')
		return NULL;
	n = strlen(s);
	return memcpy(kv_xcalloc(1, n + 1), s, n);
}

static void
redis_defaults(struct kv_redis_options *o)
{
	if (o->timeout_ms == 0)
		o->timeout_ms = KV_REDIS_TIMEOUT_MS;
	if (o->backoff_min_ms == 0)
		o->backoff_min_ms = 100;
	if (o->backoff_max_ms == 0)
		o->backoff_max_ms = 5000;
	if (o->backoff_max_ms < o->backoff_min_ms)
		o->backoff_max_ms = o->backoff_min_ms;
	if (o->port == 0)
		o->port = KV_REDIS_PORT;
}

struct kv *
kv_redis_open(struct event_base *base, const struct kv_redis_options *o,
    char *err, size_t errlen)
{
	struct kv_redis *rd;

	if ((o->host == NULL || o->host[0] == '\0') &&
	    (o->path == NULL || o->path[0] == '\0')) {
		snprintf(err, errlen, "redis: no address and no socket path");
		return NULL;
	}
	rd = kv_xcalloc(1, sizeof(*rd));
	rd->opt = *o;
	redis_defaults(&rd->opt);
	rd->host = redis_strdup(o->host);
	rd->path = redis_strdup(o->path);
	rd->password = redis_strdup(o->password);
	rd->backoff_ms = rd->opt.backoff_min_ms;
	if (kv_init(&rd->kv, &kv_redis_ops, base) != 0 ||
	    (rd->retry_ev = evtimer_new(base, redis_retry, rd)) == NULL ||
	    (rd->connect_ev = evtimer_new(base, redis_connect_timeout,
	    rd)) == NULL ||
	    (rd->kill_ev = event_new(base, -1, 0, redis_kill, rd)) == NULL) {
		snprintf(err, errlen, "redis: no memory for events");
		kv_free(&rd->kv);
		return NULL;
	}
	rd->last_reply_ms = redis_mono_ms();
	redis_connect(rd);
	return &rd->kv;
}
