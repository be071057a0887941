/*
 * explain — findings and verdict into headers and JSON. See explain.h.
 */
#include "filter/explain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/json.h"
#include "filter/facts.h"

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
		json_kv_str(j, "reason", finding_reason(&f->v[i], f->arena));
		if (f->v[i].wants != FINDING_WANTS_NOTHING)
			json_kv_str(j, "wants",
			    finding_wants_name(f->v[i].wants));
		json_end(j);
	}
	json_end(j);
}

/* ---- the facts as JSON (netjes auth --json) ---- */

static void
kv_str_or_null(struct json *j, const char *k, const char *v)
{
	json_key(j, k);
	if (v != NULL)
		json_str(j, v);
	else
		json_null(j);
}

static void
json_spf(struct json *j, const struct spf_outcome *s)
{
	json_obj_begin(j);
	json_kv_str(j, "result", spf_result_name(s->result));
	kv_str_or_null(j, "domain", s->domain);
	kv_str_or_null(j, "mechanism", s->mechanism);
	kv_str_or_null(j, "reason", s->reason);
	json_end(j);
}

static void
json_resinfo(struct json *j, const struct authres_resinfo *ri)
{
	size_t i;

	json_obj_begin(j);
	json_kv_str(j, "result", ri->result);
	kv_str_or_null(j, "reason", ri->reason);
	kv_str_or_null(j, "comment", ri->comment);
	json_key(j, "properties");
	json_obj_begin(j);
	for (i = 0; i < ri->nprops; i++) {
		char key[128];

		snprintf(key, sizeof(key), "%s.%s", ri->props[i].ptype,
		    ri->props[i].property);
		json_kv_str(j, key, ri->props[i].value);
	}
	json_end(j);
	json_end(j);
}

static void
json_iprev(struct json *j, const struct iprev_outcome *o)
{
	char ip[IP_STRLEN];
	size_t i;

	json_obj_begin(j);
	json_kv_str(j, "result", iprev_result_name(o->result));
	json_kv_str(j, "ip", ip_format(&o->ip, ip, sizeof(ip)));
	kv_str_or_null(j, "name", o->name);
	json_key(j, "ptr");
	json_arr_begin(j);
	for (i = 0; i < o->nnames; i++)
		json_str(j, o->names[i]);
	json_end(j);
	kv_str_or_null(j, "reason", o->reason);
	json_end(j);
}

static void
json_dmarc_policy(struct json *j, const struct dmarc_outcome *d)
{
	const struct dmarc_record *r = &d->record;

	if (d->record_text == NULL || d->result == DMARC_RESULT_PERMERROR) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
	json_kv_str(j, "p", dmarc_policy_name(r->p));
	json_kv_str(j, "sp", dmarc_policy_name(r->sp));
	json_kv_str(j, "np", dmarc_policy_name(r->np));
	json_kv_str(j, "adkim", r->adkim == DMARC_ALIGN_STRICT ? "s" : "r");
	json_kv_str(j, "aspf", r->aspf == DMARC_ALIGN_STRICT ? "s" : "r");
	json_kv_int(j, "pct", r->pct);
	json_kv_str(j, "requested", dmarc_policy_name(d->requested));
	json_kv_str(j, "source", d->policy_source == DMARC_FROM_NP ? "np" :
	    d->policy_source == DMARC_FROM_SP ? "sp" : "p");
	json_kv_bool(j, "nonexistent_subdomain", d->nonexistent);
	json_end(j);
}

static void
json_dmarc(struct json *j, const struct dmarc_outcome *d,
    const struct from_result *from)
{
	if (d == NULL) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
	json_kv_str(j, "result", dmarc_result_name(d->result));
	kv_str_or_null(j, "reason", d->reason);
	kv_str_or_null(j, "header_from", d->header_from);
	json_kv_str(j, "envelope_from", d->envelope_from ? d->envelope_from :
	    "");
	kv_str_or_null(j, "org_domain", d->org_domain);
	kv_str_or_null(j, "record_domain", d->record_domain);
	kv_str_or_null(j, "record", d->record_text);
	json_kv_str(j, "from_status", from_status_name(from != NULL ?
	    from->status : FROM_MISSING));
	json_kv_bool(j, "spf_aligned", d->spf_aligned);
	json_kv_bool(j, "dkim_aligned", d->dkim_aligned);
	json_key(j, "policy");
	json_dmarc_policy(j, d);
	json_key(j, "disposition");
	json_obj_begin(j);
	json_kv_str(j, "evaluated", dmarc_policy_name(d->evaluated));
	json_kv_str(j, "applied", dmarc_policy_name(d->applied));
	json_kv_bool(j, "sampled_out", d->sampled_out);
	json_end(j);
	json_end(j);
}

void
explain_facts_json(const struct check_facts *f, struct json *j,
    const char *authres_text)
{
	size_t i;

	json_obj_begin(j);
	json_key(j, "iprev");
	if (f->iprev != NULL)
		json_iprev(j, f->iprev);
	else
		json_null(j);

	json_key(j, "spf");
	json_obj_begin(j);
	json_key(j, "mailfrom");
	if (f->spf_mailfrom != NULL)
		json_spf(j, f->spf_mailfrom);
	else
		json_null(j);
	json_key(j, "helo");
	if (f->spf_helo != NULL)
		json_spf(j, f->spf_helo);
	else
		json_null(j);
	json_end(j);

	json_key(j, "dkim");
	json_arr_begin(j);
	for (i = 0; i < f->ndkim; i++) {
		const struct dkim_sig_result *k = &f->dkim[i];

		json_obj_begin(j);
		json_kv_str(j, "result", dkim_result_name(k->result));
		json_kv_str(j, "domain", k->domain ? k->domain : "");
		json_kv_str(j, "selector", k->selector ? k->selector : "");
		json_kv_str(j, "algorithm", k->algorithm ? k->algorithm : "");
		kv_str_or_null(j, "reason", k->reason);
		json_end(j);
	}
	json_end(j);

	json_key(j, "dmarc");
	json_dmarc(j, f->dmarc, f->from);

	json_key(j, "arc");
	if (f->arc != NULL)
		json_resinfo(j, f->arc);
	else
		json_null(j);
	if (authres_text != NULL)
		json_kv_str(j, "authentication_results", authres_text);
	json_end(j);
}
