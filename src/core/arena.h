/*
 * arena — region allocator for per-transaction memory.
 *
 * Everything a transaction (an SMTP envelope, one DNS check chain, one CLI
 * evaluation) allocates comes from one arena and dies with it in a single
 * arena_free(): no per-object frees, no leaks on error paths. Blocks grow
 * geometrically; large requests get a block of their own.
 */
#ifndef NETJES_CORE_ARENA_H
#define NETJES_CORE_ARENA_H

#include <stddef.h>

struct arena;

struct arena	*arena_new(size_t first_block);	/* 0: a sensible default */
void		 arena_free(struct arena *);
void		 arena_reset(struct arena *);	/* keep the first block */
void		*arena_alloc(struct arena *, size_t);	/* aligned, not zeroed */
void		*arena_calloc(struct arena *, size_t n, size_t size);
char		*arena_strdup(struct arena *, const char *);
char		*arena_strndup(struct arena *, const char *, size_t);
void		*arena_memdup(struct arena *, const void *, size_t);
char		*arena_printf(struct arena *, const char *, ...)
		    __attribute__((format(printf, 2, 3), nonnull(2)));
size_t		 arena_used(const struct arena *);

#endif
