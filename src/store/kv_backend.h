/*
 * kv_backend — what a store backend provides to kv.c, and the helpers
 * kv.c offers every backend. Only files in src/store include this;
 * callers see kv.h alone.
 *
 * A backend's store struct starts with struct kv, so kv.c can dispatch
 * through ops and the backend can cast back. kv.c copies the arguments
 * into a struct kv_req and hands it to ops->submit; the backend fills in
 * the result and calls kv_req_complete() exactly once, from the loop
 * thread (a worker thread hands the request back to the loop first).
 * kv.c then runs the callback from its own event, never from inside a
 * call and never from inside a backend's library callback, so a callback
 * may start new requests freely. A cancelled request still goes through
 * the backend; only its callback is skipped.
 */
#ifndef NETJES_STORE_KV_BACKEND_H
#define NETJES_STORE_KV_BACKEND_H

#include <stdbool.h>

#include "store/kv.h"

enum kv_op {
	KV_OP_GET,
	KV_OP_PUT,
	KV_OP_DEL,
	KV_OP_INCR,
	KV_OP_SCAN,
};

struct kv_req {
	struct kv		*kv;
	struct kv_req		*next;		/* kv.c's list of answers */
	/* the backend's own lists */
	struct kv_req		*bprev, *bnext;
	void			*backend;	/* per-request backend state */
	/* the call */
	enum kv_op		 op;
	uint8_t			*key;		/* the prefix for a scan */
	size_t			 keylen;
	uint8_t			*val;		/* put */
	size_t			 vallen;
	unsigned		 ttl;
	int64_t			 delta;
	size_t			 limit;
	kv_cb			*cb;
	void			*arg;
	bool			 cancelled;
	bool			 completed;
	/* the answer, filled in by the backend */
	enum kv_status		 status;
	uint8_t			*rval;
	size_t			 rvallen;
	int64_t			 num;
	struct kv_item		*items;
	size_t			 nitems;
};

struct kv_ops {
	const char		*name;
	void			 (*submit)(struct kv *, struct kv_req *);
	/* free the backend, dropping (kv_req_drop) every request it holds */
	void			 (*free)(struct kv *);
};

struct kv {
	const struct kv_ops	*ops;
	struct event_base	*base;
	struct event		*ready_ev;
	struct kv_req		*ready_head, *ready_tail;
};

/* 0, or -1 when the loop's event cannot be made. */
int	 kv_init(struct kv *, const struct kv_ops *, struct event_base *);
/* Queue the answer for its callback, from the loop thread. */
void	 kv_req_complete(struct kv_req *);
void	 kv_req_fail(struct kv_req *);		/* KV_ERROR, then complete */
/* Free a request the backend holds, without a callback (kv_free). */
void	 kv_req_drop(struct kv_req *);
/* Copy a value into the answer; replaces an earlier one. */
void	 kv_req_set_value(struct kv_req *, const void *, size_t);
/* Append one scan item (copied). */
void	 kv_req_add_item(struct kv_req *, const void *key, size_t keylen,
	    const void *val, size_t vallen);
/* Forget the answer's value and items (a batch that failed). */
void	 kv_req_clear_answer(struct kv_req *);
/* Strict decimal int64 ("-12"; no blanks, no "+", no leading zeros
 * beyond "0"): 0, or -1. */
int	 kv_parse_int(const uint8_t *, size_t, int64_t *);

void	*kv_xcalloc(size_t n, size_t size);

#endif
