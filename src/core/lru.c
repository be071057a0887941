/*
 * lru — hash chains plus a doubly linked use list. See lru.h.
 */
#include "core/lru.h"

#include <assert.h>

void
lru_init(struct lru *t, struct lru_node **buckets, size_t nbuckets)
{
	assert(nbuckets > 0 && (nbuckets & (nbuckets - 1)) == 0);
	t->buckets = buckets;
	t->mask = nbuckets - 1;
	t->newest = t->oldest = NULL;
	t->count = 0;
}

static void
lru_unlink(struct lru *t, struct lru_node *n)
{
	if (n->newer != NULL)
		n->newer->older = n->older;
	else
		t->newest = n->older;
	if (n->older != NULL)
		n->older->newer = n->newer;
	else
		t->oldest = n->newer;
	n->newer = n->older = NULL;
}

static void
lru_push(struct lru *t, struct lru_node *n)
{
	n->newer = NULL;
	n->older = t->newest;
	if (t->newest != NULL)
		t->newest->newer = n;
	else
		t->oldest = n;
	t->newest = n;
}

void
lru_insert(struct lru *t, struct lru_node *n, uint32_t hash)
{
	struct lru_node **bucket = &t->buckets[hash & t->mask];

	n->hash = hash;
	n->hnext = *bucket;
	*bucket = n;
	lru_push(t, n);
	t->count++;
}

void
lru_remove(struct lru *t, struct lru_node *n)
{
	struct lru_node **pp = &t->buckets[n->hash & t->mask];

	while (*pp != n)
		pp = &(*pp)->hnext;
	*pp = n->hnext;
	n->hnext = NULL;
	lru_unlink(t, n);
	t->count--;
}

void
lru_touch(struct lru *t, struct lru_node *n)
{
	if (t->newest == n)
		return;
	lru_unlink(t, n);
	lru_push(t, n);
}
