/*
 * arena — region allocator. See arena.h.
 *
 * A singly linked list of blocks, newest first. Allocation bumps a pointer
 * in the newest block; when it does not fit, a new block twice the size of
 * the last (or the request, if larger) is pushed.
 */
#include "core/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN	_Alignof(max_align_t)
#define ARENA_DEFAULT	4096
#define ARENA_MAX_BLOCK	(1u << 20)	/* growth stops here */

struct arena_block {
	struct arena_block	*next;
	size_t			 size;	/* usable bytes in mem[] */
	size_t			 used;
	_Alignas(max_align_t) unsigned char mem[];
};

struct arena {
	struct arena_block	*head;
	size_t			 next_size;
	size_t			 total;
};

static struct arena_block *
arena_block_new(size_t size)
{
	struct arena_block *b;

	if (size > SIZE_MAX - sizeof(*b))
		abort();
	b = malloc(sizeof(*b) + size);
	if (b == NULL)
		abort();
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

struct arena *
arena_new(size_t first_block)
{
	struct arena *a;

	a = malloc(sizeof(*a));
	if (a == NULL)
		abort();
	a->next_size = first_block ? first_block : ARENA_DEFAULT;
	a->head = arena_block_new(a->next_size);
	a->total = 0;
	return a;
}

void
arena_free(struct arena *a)
{
	struct arena_block *b, *next;

	if (a == NULL)
		return;
	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}

void
arena_reset(struct arena *a)
{
	struct arena_block *b, *next;

	/* Keep only the oldest (first) block: it is at the list's tail. */
	for (b = a->head; b->next != NULL; b = next) {
		next = b->next;
		free(b);
	}
	a->head = b;
	b->used = 0;
	a->total = 0;
}

void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_block *b = a->head;
	size_t off, want;
	void *p;

	if (n == 0)
		n = 1;
	off = (b->used + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (off > b->size || n > b->size - off) {
		if (n > SIZE_MAX / 2)
			abort();
		/* A request larger than the next block gets a block of its
		 * own size and leaves the growth schedule alone, so a few big
		 * requests do not inflate every later block. */
		if (n > a->next_size)
			want = n;
		else {
			want = a->next_size;
			if (a->next_size < ARENA_MAX_BLOCK)
				a->next_size *= 2;
		}
		b = arena_block_new(want);
		b->next = a->head;
		a->head = b;
		off = 0;
	}
	p = b->mem + off;
	b->used = off + n;
	a->total += n;
	return p;
}

void *
arena_calloc(struct arena *a, size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size)
		abort();
	p = arena_alloc(a, n * size);
	memset(p, 0, n * size);
	return p;
}

void *
arena_memdup(struct arena *a, const void *src, size_t n)
{
	void *p = arena_alloc(a, n);

	if (n > 0)
		memcpy(p, src, n);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	if (n > 0)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	p = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

size_t
arena_used(const struct arena *a)
{
	return a->total;
}
