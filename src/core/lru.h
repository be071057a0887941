/*
 * lru — a hash table whose entries also form a list in order of use:
 * the shape of every bounded cache here (DNS answers, DKIM keys, parsed
 * SPF records).
 *
 * Intrusive: a cache embeds a struct lru_node in its entry and gets the
 * entry back with LRU_ENTRY(). The table never allocates, never frees an
 * entry, and knows no keys: the caller hashes its key, walks the chain
 * of that hash with lru_first()/lru_next() comparing keys itself, and
 * decides what to evict (lru_oldest()) and when (a count, a byte total,
 * an expiry). So entries can outlive their place in the table (held by
 * a caller while evicted) and a key can be any bytes. Bucket storage is
 * the caller's (a static array, or calloc'ed once): a power of two of
 * NULL pointers. One thread at a time.
 */
#ifndef NETJES_CORE_LRU_H
#define NETJES_CORE_LRU_H

#include <stddef.h>
#include <stdint.h>

struct lru_node {
	struct lru_node	*hnext;		/* bucket chain */
	struct lru_node	*newer, *older;	/* order of use */
	uint32_t	 hash;
};

struct lru {
	struct lru_node	**buckets;
	size_t		 mask;		/* nbuckets - 1 */
	struct lru_node	*newest, *oldest;
	size_t		 count;
};

#define LRU_ENTRY(node, type, member)					\
	((type *)(void *)((char *)(node) - offsetof(type, member)))

/* buckets: nbuckets (a power of two) pointers, all NULL. */
void	lru_init(struct lru *, struct lru_node **buckets, size_t nbuckets);

/* n as the newest entry under hash (n must not be in a table). */
void	lru_insert(struct lru *, struct lru_node *n, uint32_t hash);
/* Takes n out of the table (it must be in it); n is the caller's. */
void	lru_remove(struct lru *, struct lru_node *n);
/* n was used: now the newest. */
void	lru_touch(struct lru *, struct lru_node *n);

/* The first entry, then the next, whose hash is hash; NULL at the end. */
static inline struct lru_node *
lru_next(const struct lru_node *n, uint32_t hash)
{
	for (n = n->hnext; n != NULL && n->hash != hash; n = n->hnext)
		;
	return (struct lru_node *)(uintptr_t)n;
}

static inline struct lru_node *
lru_first(const struct lru *t, uint32_t hash)
{
	struct lru_node *n = t->buckets[hash & t->mask];

	return n == NULL || n->hash == hash ? n : lru_next(n, hash);
}

/* The least recently used entry, NULL when empty. */
static inline struct lru_node *
lru_oldest(const struct lru *t)
{
	return t->oldest;
}

static inline size_t
lru_count(const struct lru *t)
{
	return t->count;
}

#endif
