/*
 * benchutil — clock, file reading and the result hash for the drivers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchutil.h"

double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *
bench_read_file(const char *path, size_t *len)
{
	size_t cap = 65536, n = 0, got;
	char *p = malloc(cap + 1);
	FILE *f;

	if (p == NULL || (f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	while ((got = fread(p + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			cap *= 2;
			if ((p = realloc(p, cap + 1)) == NULL)
				abort();
		}
	}
	fclose(f);
	p[n] = '\0';
	if (len != NULL)
		*len = n;
	return p;
}

char **
bench_read_lines(const char *path, size_t *n)
{
	char *text = bench_read_file(path, NULL), *line, *save = NULL;
	char **v = NULL;
	size_t cap = 0;

	*n = 0;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((v = realloc(v, cap * sizeof(*v))) == NULL)
				abort();
		}
		v[(*n)++] = line;
	}
	return v;
}

void
bench_check_init(struct bench_check *c)
{
	c->h = 1469598103934665603ULL;
}

void
bench_check_add(struct bench_check *c, const char *s)
{
	for (; *s != '\0'; s++) {
		c->h ^= (unsigned char)*s;
		c->h *= 1099511628211ULL;
	}
	c->h ^= '\n';
	c->h *= 1099511628211ULL;
}
