/*
 * arc_verify — validate the ARC chain of one message (RFC 8617 5.2).
 * See arc.h.
 *
 * The structure is checked when the header arrives (arc_chain_parse);
 * only a structurally sound chain asks for keys and hashes the body.
 * Every AMS needs a body hash, because the oldest-pass instance needs
 * them all, but only the newest AMS and the seals decide the result: a
 * body changed after hop k breaks AMS 1..k and leaves the seals, which
 * never cover the body, intact (5.2 steps 4 to 6).
 *
 * Most messages carry no ARC at all, so the per-message state is small
 * and everything sized by the chain (key slots, body hashes, per-set
 * results) comes from the arena once the chain is known. AMSs with the
 * same body canonicalization and l= share one body hash (the DKIM
 * verifier's dkim_body_stream): forwarders seal with relaxed bodies and
 * no l=, so a chain of any length hashes the body once. Keys come from
 * the DKIM key cache (decoded once per record text, not per AMS and AS).
 */
#include "auth/arc/arc.h"
#include "auth/arc/arc_internal.h"
#include "auth/common/dkim_keycache.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arc_key {
	struct arc_verify	*v;
	size_t			 slot;
	char			*name;
	bool			 in;		/* outcome handed in */
	const struct dkim_keycache_key *key;	/* held; NULL when unusable */
	const char		*err;		/* why there is no key */
	bool			 temporary;	/* err is DNS trouble */
	struct dns_query	*q;
};

struct arc_verify {
	struct arc_verify_options	 o;
	struct arena			*arena;
	char				*hdr;
	struct hdr_section		 hs;
	bool				 header_done;
	struct arc_chain		*chain;		/* NULL: no ARC field */
	size_t				 nslots;
	struct arc_key			*keys;		/* [nslots] */
	struct dkim_body_stream		*streams;	/* room for chain->n */
	size_t				 nstreams;
	struct dkim_body_stream		**ams_body;	/* [1..n]; NULL: no
							 * digest */
	size_t				 pending;
	arc_verify_cb			*cb;
	void				*cb_arg;
	bool				 finished;
	struct arc_verdict		 verdict;
};

struct arc_verify *
arc_verify_new(const struct arc_verify_options *o)
{
	struct arc_verify *v;

	v = calloc(1, sizeof(*v));
	if (v == NULL)
		abort();
	if (o != NULL)
		v->o = *o;
	if (v->o.now == 0)
		v->o.now = time(NULL);
	if (v->o.min_rsa_bits <= 0)
		v->o.min_rsa_bits = 1024;
	if (v->o.clock_skew <= 0)
		v->o.clock_skew = 300;
	v->arena = arena_new(0);
	return v;
}

void
arc_verify_free(struct arc_verify *v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < v->nslots; i++) {
		if (v->keys[i].q != NULL)
			dns_cancel(v->keys[i].q);
		dkim_keycache_release(v->keys[i].key);
	}
	for (i = 0; i < v->nstreams; i++)
		if (v->streams[i].on)
			dkim_body_hash_free(&v->streams[i].h);
	arena_free(v->arena);
	free(v);
}

static const struct arc_sig *
slot_sig(const struct arc_verify *v, size_t slot)
{
	const struct arc_set *s = &v->chain->set[slot / 2 + 1];

	return slot % 2 == 0 ? &s->ams_sig : &s->as_sig;
}

/* Does the header have any ARC field? Without one the chain parser
 * (and its 51-set chain) is not needed: the result is none. */
static bool
has_arc_field(const struct hdr_section *hs)
{
	const struct hdr_field *f;
	size_t i;

	for (i = 0; i < hs->n; i++) {
		f = &hs->fields[i];
		if ((f->flags & HDR_F_NO_COLON) == 0 &&
		    (hdr_name_is(f, "ARC-Seal") ||
		    hdr_name_is(f, "ARC-Message-Signature") ||
		    hdr_name_is(f, "ARC-Authentication-Results")))
			return true;
	}
	return false;
}

/* A key slot per AMS and AS, and a shared body hash per distinct
 * (c= body part, l=) of the AMSs, now that the chain is known. */
static void
chain_prepare(struct arc_verify *v)
{
	const struct arc_sig *sig;
	unsigned k, n = v->chain->n;
	size_t i;

	v->nslots = 2 * (size_t)n;
	v->keys = arena_calloc(v->arena, v->nslots, sizeof(*v->keys));
	for (i = 0; i < v->nslots; i++) {
		sig = slot_sig(v, i);
		v->keys[i].v = v;
		v->keys[i].slot = i;
		v->keys[i].name = arena_printf(v->arena, "%s._domainkey.%s",
		    sig->selector, sig->domain);
	}
	v->streams = arena_calloc(v->arena, n, sizeof(*v->streams));
	v->ams_body = arena_calloc(v->arena, (size_t)n + 1,
	    sizeof(*v->ams_body));
	for (k = 1; k <= n; k++) {
		sig = &v->chain->set[k].ams_sig;
		v->ams_body[k] = dkim_body_stream_join(v->streams,
		    &v->nstreams, sig->bc, sig->limit);
	}
}

void
arc_verify_header(struct arc_verify *v, const char *p, size_t n)
{
	if (v->header_done)
		return;
	v->header_done = true;
	v->hdr = arena_memdup(v->arena, p, n ? n : 1);
	hdr_parse(v->hdr, n, v->arena, &v->hs);
	if (!has_arc_field(&v->hs))
		return;
	v->chain = arena_calloc(v->arena, 1, sizeof(*v->chain));
	if (arc_chain_parse(&v->hs, v->arena, v->chain) != ARC_RESULT_PASS)
		return;
	chain_prepare(v);
}

void
arc_verify_body(struct arc_verify *v, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < v->nstreams; i++)
		if (v->streams[i].on)
			dkim_body_hash_update(&v->streams[i].h, p, n);
}

void
arc_verify_message(struct arc_verify *v, const char *p, size_t n)
{
	struct arena *a = arena_new(0);
	struct hdr_section hs;

	hdr_parse(p, n, a, &hs);
	arc_verify_header(v, p, hs.body_offset);
	arc_verify_body(v, p + hs.body_offset, n - hs.body_offset);
	arena_free(a);
}

size_t
arc_verify_key_count(const struct arc_verify *v)
{
	return v->nslots;
}

const char *
arc_verify_key_name(const struct arc_verify *v, size_t slot)
{
	if (slot >= v->nslots || v->keys[slot].in)
		return NULL;
	return v->keys[slot].name;
}

/* --- keys ----------------------------------------------------------- */

/* Why the cached key cannot check this slot's signature, or NULL. */
static const char *
key_unusable(struct arc_verify *v, struct arc_key *k,
    const struct dkim_keycache_key *key)
{
	const struct arc_sig *sig = slot_sig(v, k->slot);
	const struct dkim_key_record *r = &key->rec;

	if (r->revoked)
		return arena_printf(v->arena, "key %s is revoked", k->name);
	if ((sig->alg == DKIM_ALG_ED25519_SHA256) !=
	    (r->type == DKIM_KEY_ED25519))
		return arena_printf(v->arena, "key type k=%s does not match "
		    "a=%s", dkim_key_type_name(r->type),
		    dkim_alg_name(sig->alg));
	if (!r->allow_sha256)
		return "key h= does not allow sha256";
	if (key->pkey == NULL)
		return arena_strdup(v->arena, key->key_why);
	if (r->type == DKIM_KEY_RSA && key->bits < v->o.min_rsa_bits)
		return arena_printf(v->arena, "RSA key of %d bits is too "
		    "short", key->bits);
	return NULL;
}

/* The slot keeps the key if it can be used, else only the reason. */
static void
key_use(struct arc_verify *v, struct arc_key *k,
    const struct dkim_keycache_key *key)
{
	if ((k->err = key_unusable(v, k, key)) != NULL) {
		dkim_keycache_release(key);
		return;
	}
	k->key = key;
}

void
arc_verify_key(struct arc_verify *v, size_t slot, enum dns_status st,
    const char *const *txt, const size_t *len, size_t ntxt, const char *why)
{
	const struct dkim_keycache_key *key;
	struct arc_key *k;

	if (slot >= v->nslots || v->keys[slot].in)
		return;
	k = &v->keys[slot];
	k->in = true;
	key = dkim_keycache_answer(st, txt, len, ntxt, k->name, why,
	    v->arena, &k->err, &k->temporary);
	if (key != NULL)
		key_use(v, k, key);
}

static void
verify_dns_cb(struct dns_answer *ans, void *arg)
{
	struct arc_key *k = arg;
	struct arc_verify *v = k->v;
	const char *txt[DNS_TXT_MAX];
	size_t len[DNS_TXT_MAX], n;

	k->q = NULL;
	n = dns_answer_txt(ans, txt, len, DNS_TXT_MAX);
	arc_verify_key(v, k->slot, ans->status, txt, len, n, ans->why);
	dns_answer_free(ans);
	if (v->pending > 0 && --v->pending == 0 && v->cb != NULL)
		v->cb(v, v->cb_arg);
}

void
arc_verify_expire(struct arc_verify *v)
{
	size_t i;

	for (i = 0; i < v->nslots; i++)
		if (v->keys[i].q != NULL) {
			dns_cancel(v->keys[i].q);
			v->keys[i].q = NULL;
		}
	v->pending = 0;
}

size_t
arc_verify_lookup(struct arc_verify *v, struct dns_resolver *r,
    arc_verify_cb *cb, void *arg)
{
	size_t i, started = 0;

	v->cb = cb;
	v->cb_arg = arg;
	for (i = 0; i < v->nslots; i++)
		if (!v->keys[i].in && v->keys[i].q == NULL)
			started++;
	v->pending = started;
	for (i = 0; i < v->nslots; i++)
		if (!v->keys[i].in && v->keys[i].q == NULL)
			v->keys[i].q = dns_query(r, v->keys[i].name, DNS_T_TXT,
			    verify_dns_cb, &v->keys[i]);
	return started;
}

bool
arc_verify_keys_done(const struct arc_verify *v)
{
	size_t i;

	for (i = 0; i < v->nslots; i++)
		if (!v->keys[i].in)
			return false;
	return true;
}

/* --- finish --------------------------------------------------------- */

static bool
check_sig(const struct arc_key *k, const struct arc_sig *sig,
    const struct buf *data)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(data->data ? data->data : "", data->len, md, &mdlen,
	    dkim_sha256(), NULL) != 1)
		return false;
	return dkim_keycache_verify(k->key, sig->alg, md, mdlen, sig->b,
	    sig->b_len);
}

/* The clock tags of an AMS or AS: NULL when fine, else why it fails. */
static const char *
clock_problem(struct arc_verify *v, const struct arc_sig *sig)
{
	if (sig->expire >= 0 && sig->expire < (int64_t)v->o.now)
		return arena_printf(v->arena, "signature expired (x=%lld)",
		    (long long)sig->expire);
	if (sig->timestamp > (int64_t)v->o.now + v->o.clock_skew)
		return arena_printf(v->arena, "timestamp t=%lld is in the "
		    "future", (long long)sig->timestamp);
	return NULL;
}

/* AMS of instance i: body hash, then the header signature. */
static enum dkim_result
check_ams(struct arc_verify *v, unsigned i, const char **why, bool *temp)
{
	const struct arc_sig *sig = &v->chain->set[i].ams_sig;
	const struct arc_key *k = &v->keys[2 * (i - 1)];
	struct dkim_body_stream *st = v->ams_body[i];
	struct buf data = BUF_INIT;
	bool ok;

	if (st != NULL)
		dkim_body_stream_final(st);
	*temp = false;
	if ((*why = clock_problem(v, sig)) != NULL)
		return DKIM_RESULT_FAIL;
	if (!k->in || k->key == NULL) {
		*temp = !k->in || k->temporary;
		*why = k->in ? k->err : "the key was not looked up";
		return DKIM_RESULT_FAIL;
	}
	if (st == NULL || st->dlen < 0 || (size_t)st->dlen != sig->bh_len ||
	    memcmp(st->digest, sig->bh, sig->bh_len) != 0) {
		*why = "body hash mismatch";
		return DKIM_RESULT_FAIL;
	}
	dkim_canon_headers(sig->hc, &v->hs, sig->h, sig->nh, sig->field,
	    &data);
	arc_canon_unsigned(sig->hc, &v->hs.fields[sig->field], sig->b_start,
	    sig->b_end, &data);
	ok = check_sig(k, sig, &data);
	buf_free(&data);
	if (!ok) {
		*why = "signature mismatch";
		return DKIM_RESULT_FAIL;
	}
	*why = NULL;
	return DKIM_RESULT_PASS;
}

/* AS of instance i: sets 1..i, the seal itself without b=. */
static enum dkim_result
check_as(struct arc_verify *v, unsigned i, const char **why, bool *temp)
{
	const struct arc_sig *sig = &v->chain->set[i].as_sig;
	const struct arc_key *k = &v->keys[2 * (i - 1) + 1];
	const struct arc_set *s;
	struct buf data = BUF_INIT;
	unsigned j;
	bool ok;

	*temp = false;
	if ((*why = clock_problem(v, sig)) != NULL)
		return DKIM_RESULT_FAIL;
	if (!k->in || k->key == NULL) {
		*temp = !k->in || k->temporary;
		*why = k->in ? k->err : "the key was not looked up";
		return DKIM_RESULT_FAIL;
	}
	for (j = 1; j <= i; j++) {
		s = &v->chain->set[j];
		arc_canon_field(&v->hs.fields[s->aar], &data);
		arc_canon_field(&v->hs.fields[s->ams], &data);
		if (j < i)
			arc_canon_field(&v->hs.fields[s->as], &data);
	}
	arc_canon_unsigned(DKIM_CANON_RELAXED, &v->hs.fields[sig->field],
	    sig->b_start, sig->b_end, &data);
	ok = check_sig(k, sig, &data);
	buf_free(&data);
	if (!ok) {
		*why = "signature mismatch";
		return DKIM_RESULT_FAIL;
	}
	*why = NULL;
	return DKIM_RESULT_PASS;
}

static void
verdict_fail(struct arc_verify *v, bool temp, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
verdict_fail(struct arc_verify *v, bool temp, const char *fmt, ...)
{
	char reason[400];
	va_list ap;

	if (v->verdict.result == ARC_RESULT_FAIL)
		return;		/* the first reason stays */
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	v->verdict.result = ARC_RESULT_FAIL;
	v->verdict.reason = arena_strdup(v->arena, reason);
	v->verdict.temporary = temp;
}

const struct arc_verdict *
arc_verify_finish(struct arc_verify *v)
{
	struct arc_chain *c = v->chain;
	struct arc_set_result *r, *sets;
	const char *why;
	unsigned i, n;
	bool temp;

	if (v->finished)
		return &v->verdict;
	v->finished = true;
	if (c == NULL) {
		v->verdict.result = ARC_RESULT_NONE;
		return &v->verdict;
	}
	n = c->n;
	v->verdict.instances = n;
	sets = arena_calloc(v->arena, n ? n : 1, sizeof(*sets));
	v->verdict.sets = sets;
	for (i = 1; i <= n; i++) {
		r = &sets[i - 1];
		r->instance = i;
		r->cv = c->set[i].as_sig.cv;
		r->aar = c->set[i].aar_value;
		r->ams_domain = c->set[i].ams_sig.domain;
		r->ams_selector = c->set[i].ams_sig.selector;
		r->as_domain = c->set[i].as_sig.domain;
		r->as_selector = c->set[i].as_sig.selector;
	}
	v->verdict.nsets = n;
	if (c->result != ARC_RESULT_PASS) {
		v->verdict.result = c->result;
		v->verdict.reason = c->reason;
		return &v->verdict;
	}
	v->verdict.result = ARC_RESULT_PASS;

	/* Step 4: the newest AMS must verify. */
	r = &sets[n - 1];
	r->ams = check_ams(v, n, &r->ams_reason, &temp);
	if (r->ams != DKIM_RESULT_PASS)
		verdict_fail(v, temp, "ARC-Message-Signature i=%u: %s", n,
		    r->ams_reason);
	/* Step 5: the oldest instance from which every AMS verifies. */
	for (i = n - 1; i >= 1; i--) {
		r = &sets[i - 1];
		r->ams = check_ams(v, i, &r->ams_reason, &temp);
		if (r->ams != DKIM_RESULT_PASS && v->verdict.oldest_pass == 0)
			v->verdict.oldest_pass = i + 1;
	}
	if (sets[n - 1].ams != DKIM_RESULT_PASS)
		v->verdict.oldest_pass = 0;
	/* Step 6: every seal, newest first. */
	for (i = n; i >= 1; i--) {
		r = &sets[i - 1];
		r->as = check_as(v, i, &why, &temp);
		r->as_reason = why;
		if (r->as != DKIM_RESULT_PASS)
			verdict_fail(v, temp, "ARC-Seal i=%u: %s", i, why);
	}
	if (v->verdict.result == ARC_RESULT_PASS)
		v->verdict.reason = NULL;
	return &v->verdict;
}
