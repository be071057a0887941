/*
 * Unit tests for core/lru: lookups through shared buckets and equal
 * hashes, the order of use, removal anywhere in the list, and a long
 * random run checked against a plain array model of the same cache.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/lru.h"

struct item {
	int		 key;
	struct lru_node	 node;
	bool		 in;
};

/* A poor hash on purpose: every fourth key shares one, all collide. */
static uint32_t
hash_of(int key)
{
	return (uint32_t)(key / 4);
}

static struct item *
find(struct lru *t, int key)
{
	struct lru_node *n;
	struct item *it;

	for (n = lru_first(t, hash_of(key)); n != NULL;
	    n = lru_next(n, hash_of(key))) {
		it = LRU_ENTRY(n, struct item, node);
		if (it->key == key)
			return it;
	}
	return NULL;
}

static int
oldest_key(const struct lru *t)
{
	struct lru_node *n = lru_oldest(t);

	return n == NULL ? -1 : LRU_ENTRY(n, struct item, node)->key;
}

static void
test_lookup_through_collisions(void **state)
{
	struct lru_node *buckets[4] = { 0 };
	struct item items[40];
	struct lru t;
	int i;

	(void)state;
	lru_init(&t, buckets, 4);
	assert_null(lru_oldest(&t));
	assert_null(lru_first(&t, 7));
	for (i = 0; i < 40; i++) {
		items[i].key = i;
		lru_insert(&t, &items[i].node, hash_of(i));
	}
	assert_int_equal(lru_count(&t), 40);
	for (i = 0; i < 40; i++)
		assert_ptr_equal(find(&t, i), &items[i]);
	assert_null(find(&t, 40));
	assert_null(find(&t, -1));
	/* removing from the middle of a chain keeps the rest findable */
	lru_remove(&t, &items[17].node);
	lru_remove(&t, &items[0].node);
	lru_remove(&t, &items[39].node);
	assert_int_equal(lru_count(&t), 37);
	for (i = 0; i < 40; i++)
		if (i == 17 || i == 0 || i == 39)
			assert_null(find(&t, i));
		else
			assert_ptr_equal(find(&t, i), &items[i]);
}

static void
test_order_of_use(void **state)
{
	static const int want[] = { 1, 3, 0, 4, 2 };
	struct lru_node *buckets[8] = { 0 };
	struct item items[5];
	struct lru t;
	int i;

	(void)state;
	lru_init(&t, buckets, 8);
	for (i = 0; i < 5; i++) {
		items[i].key = i;
		lru_insert(&t, &items[i].node, hash_of(i));
	}
	assert_int_equal(oldest_key(&t), 0);
	lru_touch(&t, &items[0].node);
	assert_int_equal(oldest_key(&t), 1);
	lru_touch(&t, &items[4].node);
	lru_touch(&t, &items[2].node);
	lru_touch(&t, &items[2].node);	/* the newest already */
	/* eviction order now: 1 3 0 4 2 */
	for (i = 0; i < 5; i++) {
		assert_int_equal(oldest_key(&t), want[i]);
		lru_remove(&t, lru_oldest(&t));
	}
	assert_int_equal(lru_count(&t), 0);
	assert_null(lru_oldest(&t));
	assert_null(buckets[0]);
	assert_null(buckets[1]);
	/* a removed node can go in again */
	lru_insert(&t, &items[3].node, hash_of(3));
	assert_ptr_equal(find(&t, 3), &items[3]);
	assert_int_equal(oldest_key(&t), 3);
}

/*
 * A bounded cache of CAP over KEYS keys, driven at random, against a
 * model: an array of keys from oldest to newest.
 */
#define KEYS	200
#define CAP	37

static void
model_touch(int *m, size_t *mn, int key)
{
	size_t i;

	for (i = 0; i < *mn && m[i] != key; i++)
		;
	if (i < *mn) {
		memmove(m + i, m + i + 1, (*mn - i - 1) * sizeof(*m));
		(*mn)--;
	}
	m[(*mn)++] = key;
}

static void
model_drop(int *m, size_t *mn, int key)
{
	size_t i;

	for (i = 0; i < *mn && m[i] != key; i++)
		;
	/* an if, not assert_true: -O3 must see that i < *mn below */
	if (i == *mn) {
		fail_msg("key %d not in the model", key);
		return;
	}
	memmove(m + i, m + i + 1, (*mn - i - 1) * sizeof(*m));
	(*mn)--;
}

static void
test_random_against_model(void **state)
{
	struct lru_node *buckets[16] = { 0 };
	struct item items[KEYS];
	int model[KEYS + 1];
	size_t mn = 0, step;
	struct lru t;
	struct item *it;
	unsigned seed = 12345;
	int key;

	(void)state;
	memset(items, 0, sizeof(items));
	lru_init(&t, buckets, 16);
	for (step = 0; step < 200000; step++) {
		seed = seed * 1103515245u + 12345u;
		key = (int)((seed >> 8) % KEYS);
		it = find(&t, key);
		assert_int_equal(it != NULL, items[key].in);
		if (it != NULL && (seed & 0x7) == 0) {
			lru_remove(&t, &it->node);
			it->in = false;
			model_drop(model, &mn, key);
		} else if (it != NULL) {
			lru_touch(&t, &it->node);
			model_touch(model, &mn, key);
		} else {
			if (lru_count(&t) == CAP) {
				it = LRU_ENTRY(lru_oldest(&t), struct item,
				    node);
				assert_int_equal(it->key, model[0]);
				lru_remove(&t, &it->node);
				it->in = false;
				model_drop(model, &mn, it->key);
			}
			items[key].key = key;
			items[key].in = true;
			lru_insert(&t, &items[key].node, hash_of(key));
			model_touch(model, &mn, key);
		}
		assert_int_equal(lru_count(&t), mn);
		assert_int_equal(oldest_key(&t), mn ? model[0] : -1);
	}
	/* the whole order, oldest first, once more at the end */
	for (step = 0; step < mn; step++) {
		assert_int_equal(oldest_key(&t), model[step]);
		lru_remove(&t, lru_oldest(&t));
	}
	assert_int_equal(lru_count(&t), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_through_collisions),
		cmocka_unit_test(test_order_of_use),
		cmocka_unit_test(test_random_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
