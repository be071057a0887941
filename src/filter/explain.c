/*
 * explain — findings and verdict into headers and JSON. See explain.h.
 */
#include "filter/explain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/json.h"

/* Header lines are folded before this many octets. */
#define EXPLAIN_FOLD_AT		76

static int
method_rank(const struct authres_resinfo *ri)
{
	static const char *const order[] = {
		"iprev", "spf", "dkim", "dmarc", "arc",
	};
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (strcmp(ri->method, order[i]) == 0)
			return (int)i * 2 + (i == 1 &&
			    authres_prop_get(ri, "smtp", "helo") != NULL);
	return 100;
}

struct ranked {
	const struct authres_resinfo	*ri;
	int				 rank;
	size_t				 seq;
};

static int
ranked_cmp(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void
explain_authres(const struct findings *f, const char *authserv_id,
    struct arena *a, struct authres_header *out)
{
	struct ranked *r = arena_calloc(a, f->n > 0 ? f->n : 1, sizeof(*r));
	size_t i, n = 0;

	authres_init(out, a, authserv_id);
	for (i = 0; i < f->n; i++) {
		if (f->v[i].authres == NULL)
			continue;
		r[n].ri = f->v[i].authres;
		r[n].rank = method_rank(f->v[i].authres);
		r[n].seq = i;
		n++;
	}
	qsort(r, n, sizeof(*r), ranked_cmp);
	for (i = 0; i < n; i++)
		authres_add_resinfo(out, a, r[i].ri);
}

static int
symbol_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Append word to the header in out, folding before EXPLAIN_FOLD_AT;
 * *col is the current line's length. */
static void
fold_append(struct buf *out, size_t *col, const char *sep, const char *word)
{
	size_t need = strlen(sep) + strlen(word);

	if (*col + need > EXPLAIN_FOLD_AT && *col > 1) {
		/* a list separator stays at the end of the line it ends */
		if (strcmp(sep, ",") == 0)
			buf_append(out, ",", 1);
		buf_append(out, "\r\n\t", 3);
		*col = 1;
		sep = strcmp(sep, ",") == 0 ? "" : sep + strspn(sep, " ");
	}
	buf_printf(out, "%s%s", sep, word);
	*col += strlen(sep) + strlen(word);
}

void
explain_spam_headers(const struct findings *f, const struct verdict *v,
    double required, struct buf *out)
{
	const char **sym = calloc(f->n > 0 ? f->n : 1, sizeof(*sym));
	bool marked = v->action != VERDICT_ACCEPT;
	char head[128];
	size_t i, n = 0, col;

	if (sym == NULL)
		return;
	for (i = 0; i < f->n; i++)
		sym[n++] = f->v[i].symbol;
	qsort(sym, n, sizeof(*sym), symbol_cmp);
	if (marked)
		buf_append(out, "X-Spam-Flag: YES\r\n", 18);
	buf_printf(out, "X-Spam-Score: %.1f\r\n", v->score);
	snprintf(head, sizeof(head), "X-Spam-Status: %s, score=%.1f "
	    "required=%.1f", marked ? "Yes" : "No", v->score, required);
	buf_printf(out, "%s", head);
	col = strlen(head);
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(sym[i], sym[i - 1]) == 0)
			continue;
		fold_append(out, &col, i == 0 ? " tests=" : ",", sym[i]);
	}
	if (n == 0)
		fold_append(out, &col, " ", "tests=none");
	buf_append(out, "\r\n", 2);
	free(sym);
}

void
explain_findings_json(const struct findings *f, struct json *j)
{
	char num[32];
	size_t i;

	json_arr_begin(j);
	for (i = 0; i < f->n; i++) {
		json_obj_begin(j);
		json_kv_str(j, "symbol", f->v[i].symbol);
		json_key(j, "score");
		snprintf(num, sizeof(num), "%.2f", f->v[i].score);
		json_number(j, num);
		json_kv_str(j, "check", f->v[i].check);
		json_kv_str(j, "reason", f->v[i].reason);
		if (f->v[i].wants != FINDING_WANTS_NOTHING)
			json_kv_str(j, "wants",
			    finding_wants_name(f->v[i].wants));
		json_end(j);
	}
	json_end(j);
}
