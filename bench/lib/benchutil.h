/*
 * benchutil — the little the benchmark drivers share: a monotonic clock,
 * whole-file reading, a list of lines, and one output line format.
 *
 * Every driver prints exactly one line for the scripts to parse:
 *
 *	BENCH impl=NAME op=OP n=COUNT secs=S rate=R/s check=HEX [k=v ...]
 *
 * check is an FNV-1a hash over the per-item results of one full pass
 * over the input, so run.sh can tell whether implementations agree on
 * every item, not only on the totals. Not part of netjes: bench only.
 */
#ifndef NETJES_BENCH_BENCHUTIL_H
#define NETJES_BENCH_BENCHUTIL_H

#include <stddef.h>
#include <stdint.h>

double	 bench_now(void);		/* seconds, CLOCK_MONOTONIC */
/* The whole file, NUL-terminated; exits on error. */
char	*bench_read_file(const char *path, size_t *len);
/* Non-empty lines of a file (modified in place); exits on error. */
char   **bench_read_lines(const char *path, size_t *n);

struct bench_check {
	uint64_t	 h;
};
void	 bench_check_init(struct bench_check *);
void	 bench_check_add(struct bench_check *, const char *s);

#endif
