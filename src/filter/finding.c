/*
 * finding — the findings list of one message. See finding.h.
 */
#include "filter/finding.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"

#define FINDINGS_FIRST	16

void
findings_init(struct findings *f, struct arena *a)
{
	memset(f, 0, sizeof(*f));
	f->arena = a;
}

/* Room for one more: the arena cannot grow a block, so a full array is
 * copied into one twice its size (the old one stays with the arena). */
static void
findings_grow(struct findings *f)
{
	size_t cap = f->cap == 0 ? FINDINGS_FIRST : f->cap * 2;
	struct finding *v = arena_calloc(f->arena, cap, sizeof(*v));

	if (f->n > 0)
		memcpy(v, f->v, f->n * sizeof(*v));
	f->v = v;
	f->cap = cap;
}

struct finding *
findings_add(struct findings *f, const char *check, const char *symbol,
    double score, const char *fmt, ...)
{
	char reason[FINDING_REASON_MAX];
	struct finding *x;
	va_list ap;

	if (f->n == f->cap)
		findings_grow(f);
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	x = &f->v[f->n++];
	memset(x, 0, sizeof(*x));
	x->check = check;
	x->symbol = symbol;
	x->score = score;
	x->reason = arena_strdup(f->arena, reason);
	return x;
}

struct finding *
findings_add_lazy(struct findings *f, const char *check, const char *symbol,
    double score, finding_explain_fn *explain, const void *ctx)
{
	struct finding *x;

	if (f->n == f->cap)
		findings_grow(f);
	x = &f->v[f->n++];
	memset(x, 0, sizeof(*x));
	x->check = check;
	x->symbol = symbol;
	x->score = score;
	x->explain = explain;
	x->ctx = ctx;
	return x;
}

const char *
finding_reason(const struct finding *x, struct arena *a)
{
	if (x->reason != NULL)
		return x->reason;
	return x->explain != NULL ? x->explain(x->ctx, a) : "";
}

const struct finding *
findings_get(const struct findings *f, const char *symbol)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->v[i].symbol, symbol) == 0)
			return &f->v[i];
	return NULL;
}

double
findings_score(const struct findings *f)
{
	double sum = 0;
	size_t i;

	for (i = 0; i < f->n; i++)
		sum += f->v[i].score;
	return sum;
}

bool
finding_symbol_valid(const char *s)
{
	size_t i;

	if (s == NULL || !(s[0] >= 'A' && s[0] <= 'Z'))
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= FINDING_SYMBOL_MAX)
			return false;
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	}
	return true;
}

const char *
finding_wants_name(enum finding_wants w)
{
	switch (w) {
	case FINDING_WANTS_NOTHING:
		return "nothing";
	case FINDING_WANTS_JUNK:
		return "junk";
	case FINDING_WANTS_TEMPFAIL:
		return "tempfail";
	case FINDING_WANTS_REJECT:
		return "reject";
	}
	return "nothing";
}
