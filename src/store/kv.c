/*
 * kv — the store interface: argument checks and copies, dispatch to the
 * backend, and the one place callbacks run from. See kv.h and
 * kv_backend.h.
 *
 * Answers are queued on a list and delivered from one event of our own
 * (event_active), so no callback runs inside a call, inside hiredis or
 * while a backend walks its own lists.
 */
#include "store/kv_backend.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/config.h"
#include "core/strnum.h"

void *
kv_xcalloc(size_t n, size_t size)
{
	void *p;

	/* as buf does: out of memory is not a state to carry on in */
	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		abort();
	return p;
}

static uint8_t *
kv_dup(const void *p, size_t n)
{
	uint8_t *d = kv_xcalloc(1, n + 1);

	if (n > 0)
		memcpy(d, p, n);
	return d;
}

static void
kv_req_free(struct kv_req *r)
{
	kv_req_clear_answer(r);
	free(r->key);
	free(r->val);
	free(r);
}

/* On the loop, from our own event: every queued answer to its callback.
 * A callback may start requests, which may queue answers again; those
 * wait for the next round, so one busy caller cannot starve the loop. */
static void
kv_ready(evutil_socket_t fd, short what, void *arg)
{
	struct kv *kv = arg;
	struct kv_req *r, *next;
	struct kv_result res;

	(void)fd;
	(void)what;
	r = kv->ready_head;
	kv->ready_head = kv->ready_tail = NULL;
	for (; r != NULL; r = next) {
		next = r->next;
		if (!r->cancelled && r->cb != NULL) {
			memset(&res, 0, sizeof(res));
			res.status = r->status;
			res.val = r->rval;
			res.vallen = r->rvallen;
			res.num = r->num;
			res.items = r->items;
			res.nitems = r->nitems;
			r->cb(&res, r->arg);
		}
		kv_req_free(r);
	}
}

int
kv_init(struct kv *kv, const struct kv_ops *ops, struct event_base *base)
{
	kv->ops = ops;
	kv->base = base;
	kv->ready_ev = event_new(base, -1, 0, kv_ready, kv);
	return kv->ready_ev != NULL ? 0 : -1;
}

void
kv_req_complete(struct kv_req *r)
{
	struct kv *kv = r->kv;

	if (r->completed)
		abort();	/* a backend answered twice: a bug */
	r->completed = true;
	r->next = NULL;
	if (kv->ready_tail != NULL)
		kv->ready_tail->next = r;
	else
		kv->ready_head = r;
	kv->ready_tail = r;
	event_active(kv->ready_ev, EV_TIMEOUT, 1);
}

void
kv_req_fail(struct kv_req *r)
{
	kv_req_clear_answer(r);
	r->status = KV_ERROR;
	kv_req_complete(r);
}

void
kv_req_drop(struct kv_req *r)
{
	kv_req_free(r);
}

void
kv_req_set_value(struct kv_req *r, const void *p, size_t n)
{
	free(r->rval);
	r->rval = kv_dup(p, n);
	r->rvallen = n;
}

void
kv_req_add_item(struct kv_req *r, const void *key, size_t keylen,
    const void *val, size_t vallen)
{
	struct kv_item *it;
	uint8_t *mem;

	/* the limit bounds the array: allocate it whole on the first */
	if (r->items == NULL)
		r->items = kv_xcalloc(r->limit, sizeof(*r->items));
	if (r->nitems >= r->limit)
		return;
	mem = kv_xcalloc(1, keylen + vallen + 1);
	memcpy(mem, key, keylen);
	if (vallen > 0)
		memcpy(mem + keylen, val, vallen);
	it = &r->items[r->nitems++];
	it->key = mem;
	it->keylen = keylen;
	it->val = mem + keylen;
	it->vallen = vallen;
}

void
kv_req_clear_answer(struct kv_req *r)
{
	size_t i;

	for (i = 0; i < r->nitems; i++)
		free((void *)(uintptr_t)r->items[i].key);
	free(r->items);
	free(r->rval);
	r->items = NULL;
	r->nitems = 0;
	r->rval = NULL;
	r->rvallen = 0;
	r->num = 0;
}

int
kv_parse_int(const uint8_t *s, size_t n, int64_t *out)
{
	uint64_t v = 0, max = INT64_MAX;
	size_t i = 0;
	bool neg = false;

	if (n > 0 && s[0] == '-') {
		neg = true;
		max = (uint64_t)INT64_MAX + 1;
		i = 1;
	}
	if (i == n || n > 20 || (s[i] == '0' && (n - i > 1 || neg)))
		return -1;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (max - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN :
	    -(int64_t)v) : (int64_t)v;
	return 0;
}

/* ---- the calls ---------------------------------------------------------- */

static struct kv_req *
kv_req_new(struct kv *kv, enum kv_op op, const void *key, size_t keylen,
    kv_cb *cb, void *arg)
{
	struct kv_req *r = kv_xcalloc(1, sizeof(*r));

	r->kv = kv;
	r->op = op;
	r->key = kv_dup(key, keylen);
	r->keylen = keylen;
	r->cb = cb;
	r->arg = arg;
	r->status = KV_ERROR;
	return r;
}

/* Hand r to the backend, or answer KV_ERROR when its arguments are out
 * of bounds (still from the loop, like every answer). */
static struct kv_req *
kv_start(struct kv_req *r, bool ok)
{
	if (!ok)
		kv_req_fail(r);
	else
		r->kv->ops->submit(r->kv, r);
	return r;
}

static bool
kv_key_ok(size_t keylen)
{
	return keylen >= 1 && keylen <= KV_KEY_MAX;
}

struct kv_req *
kv_get(struct kv *kv, const void *key, size_t keylen, kv_cb *cb, void *arg)
{
	struct kv_req *r = kv_req_new(kv, KV_OP_GET, key, keylen, cb, arg);

	return kv_start(r, kv_key_ok(keylen));
}

struct kv_req *
kv_put(struct kv *kv, const void *key, size_t keylen, const void *val,
    size_t vallen, unsigned ttl, kv_cb *cb, void *arg)
{
	struct kv_req *r = kv_req_new(kv, KV_OP_PUT, key, keylen, cb, arg);
	bool ok = kv_key_ok(keylen) && vallen <= KV_VALUE_MAX;

	if (ok)
		r->val = kv_dup(val, vallen);
	r->vallen = vallen;
	r->ttl = ttl;
	return kv_start(r, ok);
}

struct kv_req *
kv_del(struct kv *kv, const void *key, size_t keylen, kv_cb *cb, void *arg)
{
	struct kv_req *r = kv_req_new(kv, KV_OP_DEL, key, keylen, cb, arg);

	return kv_start(r, kv_key_ok(keylen));
}

struct kv_req *
kv_incr(struct kv *kv, const void *key, size_t keylen, int64_t delta,
    unsigned ttl, kv_cb *cb, void *arg)
{
	struct kv_req *r = kv_req_new(kv, KV_OP_INCR, key, keylen, cb, arg);

	r->delta = delta;
	r->ttl = ttl;
	return kv_start(r, kv_key_ok(keylen));
}

struct kv_req *
kv_scan(struct kv *kv, const void *prefix, size_t prefixlen, size_t limit,
    kv_cb *cb, void *arg)
{
	struct kv_req *r = kv_req_new(kv, KV_OP_SCAN, prefix, prefixlen, cb,
	    arg);

	r->limit = limit == 0 || limit > KV_SCAN_MAX ? KV_SCAN_MAX : limit;
	return kv_start(r, prefixlen <= KV_KEY_MAX);
}

void
kv_cancel(struct kv_req *r)
{
	if (r != NULL)
		r->cancelled = true;
}

void
kv_free(struct kv *kv)
{
	struct kv_req *r, *next;

	if (kv == NULL)
		return;
	for (r = kv->ready_head; r != NULL; r = next) {
		next = r->next;
		kv_req_free(r);
	}
	kv->ready_head = kv->ready_tail = NULL;
	if (kv->ready_ev != NULL)
		event_free(kv->ready_ev);
	kv->ready_ev = NULL;
	kv->ops->free(kv);
}

const char *
kv_backend_name(const struct kv *kv)
{
	return kv->ops->name;
}

const char *
kv_status_name(enum kv_status s)
{
	switch (s) {
	case KV_OK:
		return "ok";
	case KV_NOTFOUND:
		return "notfound";
	case KV_ERROR:
		break;
	}
	return "error";
}

/* ---- from the config ---------------------------------------------------- */

/* [store] redis as the config checked it: /PATH, IP, IP:PORT, IPv6 or
 * [IPv6]:PORT. */
static int
kv_redis_address(const char *s, struct kv_redis_options *o, char *host,
    size_t hostlen)
{
	const char *colon, *close, *port = NULL;
	size_t len;

	if (s[0] == '/') {
		o->path = s;
		return 0;
	}
	if (s[0] == '[') {
		if ((close = strchr(s, ']')) == NULL)
			return -1;
		len = (size_t)(close - s - 1);
		if (close[1] == ':')
			port = close + 2;
		s++;
	} else if ((colon = strchr(s, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		len = (size_t)(colon - s);
		port = colon + 1;
	} else
		len = strlen(s);
	if (len == 0 || len >= hostlen)
		return -1;
	memcpy(host, s, len);
	host[len] = '\0';
	o->host = host;
	o->port = KV_REDIS_PORT;
	if (port != NULL) {
		uint64_t v;

		if (strnum_decimal(port, strlen(port), 65535, &v) != 0 ||
		    v == 0)
			return -1;
		o->port = (uint16_t)v;
	}
	return 0;
}

struct kv *
kv_open_from_config(const struct config *c, struct event_base *base,
    char *err, size_t errlen)
{
	struct kv_lmdb_options lo;
	struct kv_redis_options ro;
	char dir[PATH_MAX], host[CONFIG_HOST_MAX];

	if (c->store_backend == CONFIG_STORE_REDIS) {
		memset(&ro, 0, sizeof(ro));
		if (kv_redis_address(c->store_redis, &ro, host,
		    sizeof(host)) != 0) {
			snprintf(err, errlen, "[store] redis: bad address");
			return NULL;
		}
		ro.password = c->store_redis_password;
		ro.db = c->store_redis_db;
		return kv_redis_open(base, &ro, err, errlen);
	}
	if ((size_t)snprintf(dir, sizeof(dir), "%s/state", c->data_dir) >=
	    sizeof(dir)) {
		snprintf(err, errlen, "data_dir too long for the store");
		return NULL;
	}
	memset(&lo, 0, sizeof(lo));
	lo.dir = dir;
	lo.map_size = (size_t)c->store_lmdb_map_size;
	return kv_lmdb_open(base, &lo, err, errlen);
}
