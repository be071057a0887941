/*
 * kv — the state store: a small asynchronous key-value interface for
 * what checks remember between sessions (AUTH failures, rate counters,
 * greylisting triplets, reputation).
 *
 * Operations: get, put with expiry, delete, atomic increment with expiry
 * and a prefix scan bounded by a limit. Keys and values are byte strings
 * with lengths (keys 1 to KV_KEY_MAX bytes, values up to KV_VALUE_MAX);
 * both are copied at the call. An expiry is in whole seconds, 0 = none.
 *
 * The event loop never blocks on the store: every call returns at once
 * and gives exactly one callback later, from the loop and never from
 * inside the call, with a status: KV_OK, KV_NOTFOUND (absent or
 * expired) or KV_ERROR (the backend is unavailable or refused the
 * operation; a caller treats it as "no information", never as a
 * verdict). The request handle a call returns may be cancelled until
 * the callback has run (a session that goes away): the callback is then
 * not called, though the operation may still take effect.
 *
 * kv_incr() is a fixed-window counter: the expiry is set when the key is
 * created by the increment and not extended by later increments, so
 * "N failures in 10 minutes" needs one call per event. Counters are kept
 * as decimal text (a get returns "3"); incr on another value is an error.
 *
 * Backends (struct kv_ops in kv_backend.h): kv_lmdb.c, the embedded
 * default (a file under DATA_DIR/state, operations on a worker thread),
 * and kv_redis.c, shared by several MX hosts (hiredis on the loop).
 *
 * No fuzz target: the store parses no network input but Redis replies,
 * and hiredis parses those.
 */
#ifndef NETJES_STORE_KV_H
#define NETJES_STORE_KV_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct event_base;
struct kv;
struct kv_req;

#define KV_KEY_MAX	511		/* LMDB's default key limit */
#define KV_VALUE_MAX	(1u << 20)	/* 1 MiB: state, not messages */
#define KV_SCAN_MAX	1000		/* items one scan returns at most */

enum kv_status {
	KV_OK = 0,
	KV_NOTFOUND,
	KV_ERROR,
};

struct kv_item {
	const uint8_t	*key;
	size_t		 keylen;
	const uint8_t	*val;
	size_t		 vallen;
};

/* What a callback gets; everything it points to is valid only during the
 * callback. get: val/vallen. incr: num, and val as its decimal text.
 * scan: items in key order (KV_OK with nitems 0 when nothing matches).
 * put and del: status only (del: KV_NOTFOUND when there was no key). */
struct kv_result {
	enum kv_status		 status;
	const uint8_t		*val;
	size_t			 vallen;
	int64_t			 num;
	const struct kv_item	*items;
	size_t			 nitems;
};

typedef void kv_cb(const struct kv_result *, void *arg);

/* The handle is valid until the callback returns or kv_cancel(). The
 * callback may be NULL: a write nobody waits for. */
struct kv_req	*kv_get(struct kv *, const void *key, size_t keylen,
		    kv_cb *, void *arg);
struct kv_req	*kv_put(struct kv *, const void *key, size_t keylen,
		    const void *val, size_t vallen, unsigned ttl,
		    kv_cb *, void *arg);
struct kv_req	*kv_del(struct kv *, const void *key, size_t keylen,
		    kv_cb *, void *arg);
/* Add delta (may be negative); a new key starts at 0 and gets ttl. */
struct kv_req	*kv_incr(struct kv *, const void *key, size_t keylen,
		    int64_t delta, unsigned ttl, kv_cb *, void *arg);
/* Keys starting with prefix (may be empty), at most limit of them
 * (0 or more than KV_SCAN_MAX: KV_SCAN_MAX), with their values, sorted
 * by key. When more match, which ones come is the backend's choice
 * (LMDB: the first in key order; Redis: the first SCAN finds). */
struct kv_req	*kv_scan(struct kv *, const void *prefix, size_t prefixlen,
		    size_t limit, kv_cb *, void *arg);
void		 kv_cancel(struct kv_req *);

/* Drops pending requests without their callbacks; not from inside a
 * callback. */
void		 kv_free(struct kv *);
const char	*kv_backend_name(const struct kv *);
const char	*kv_status_name(enum kv_status);

/* Options of the LMDB backend. */
struct kv_lmdb_options {
	const char	*dir;		/* made (0700) when missing */
	size_t		 map_size;	/* bytes; 0 = KV_LMDB_MAP_SIZE */
	/* every so many milliseconds a sweep deletes expired keys; 0 =
	 * KV_LMDB_SWEEP_MS */
	unsigned	 sweep_ms;
	/* tests: the clock, in milliseconds since the epoch (called on
	 * the worker thread); NULL = the real clock */
	int64_t		 (*now_ms)(void *);
	void		*now_arg;
	/* tests: told on the loop after each sweep how many it deleted */
	void		 (*swept)(size_t deleted, void *);
	void		*swept_arg;
};

#define KV_LMDB_MAP_SIZE	((size_t)256 << 20)	/* 256 MiB */
#define KV_LMDB_SWEEP_MS	60000

/* Options of the Redis backend. */
struct kv_redis_options {
	const char	*host;		/* an IP address, or NULL with path */
	uint16_t	 port;
	const char	*path;		/* a Unix socket, or NULL */
	const char	*password;	/* NULL or "": no AUTH */
	unsigned	 db;		/* SELECT; 0 = the default */
	unsigned	 timeout_ms;	/* per request; 0 = KV_REDIS_TIMEOUT_MS */
	unsigned	 backoff_min_ms;	/* 0 = 100 */
	unsigned	 backoff_max_ms;	/* 0 = 5000 */
};

#define KV_REDIS_TIMEOUT_MS	1000
#define KV_REDIS_PORT		6379

/* Open a store; NULL with a reason in err. Opening LMDB is synchronous
 * (it happens once, at start); a Redis store is returned before it is
 * connected and connects (and reconnects) in the background. Open it in
 * the process that uses it, after any fork(): neither an LMDB
 * environment nor a Redis connection may be shared across one. */
struct kv	*kv_lmdb_open(struct event_base *, const struct kv_lmdb_options *,
		    char *err, size_t errlen);
struct kv	*kv_redis_open(struct event_base *,
		    const struct kv_redis_options *, char *err, size_t errlen);
/* The store [store] names: LMDB under DATA_DIR/state, or Redis. */
struct kv	*kv_open_from_config(const struct config *, struct event_base *,
		    char *err, size_t errlen);

#endif
