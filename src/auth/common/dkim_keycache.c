/*
 * dkim_keycache — decoded DKIM keys keyed by the record text. See
 * dkim_keycache.h.
 *
 * One core/lru table of DKIM_KEYCACHE_BUCKETS chains, per thread (set
 * up on first use: a thread-local cannot be initialised with the
 * address of its own buckets). An entry is one allocation: the outcome,
 * then its own copy of the text (the parsed record points into it).
 */
#include "auth/common/dkim_keycache.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rsa.h>

#include "auth/common/dkim.h"
#include "core/lru.h"

#define DKIM_KEYCACHE_BUCKETS	256	/* a power of two */

struct dkim_keycache_entry {
	struct dkim_keycache_key	 key;	/* first: what callers see */
	struct lru_node			 node;
	unsigned			 refs;	/* holders */
	bool				 cached; /* still findable */
	bool				 ctx_tried;
	EVP_PKEY_CTX			*rsa_ctx;	/* RSA keys */
	EVP_MD_CTX			*ed_tmpl, *ed_work; /* Ed25519 */
	char				 parse_why[160];
	char				 key_why[160];
	size_t				 len;
	char				 text[];
};

struct dkim_keycache {
	struct lru_node			*buckets[DKIM_KEYCACHE_BUCKETS];
	struct lru			 lru;
	bool				 ready;
};

static _Thread_local struct dkim_keycache dkim_keycache;

/*
 * Eight bytes a step (a key record is ~400 bytes; byte-wise FNV was 1%
 * of a verification). Collisions only lengthen a chain: the text is
 * compared in full.
 */
static uint32_t
dkim_keycache_hash(const char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15u ^ n, w;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdu;
		h ^= h >> 32;
	}
	w = 0;
	if (n > i)
		memcpy(&w, p + i, n - i);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
	return (uint32_t)(h ^ h >> 29);
}

/* The entry behind a key handed out (key is its first member). */
static struct dkim_keycache_entry *
dkim_keycache_entry_of(const struct dkim_keycache_key *k)
{
	return (struct dkim_keycache_entry *)(uintptr_t)k;
}

static void
dkim_keycache_entry_free(struct dkim_keycache_entry *e)
{
	EVP_PKEY_CTX_free(e->rsa_ctx);
	EVP_MD_CTX_free(e->ed_tmpl);
	EVP_MD_CTX_free(e->ed_work);
	EVP_PKEY_free(e->key.pkey);
	free(e);
}

/* This thread's cache, set up on first use. */
static struct dkim_keycache *
dkim_keycache_of_thread(void)
{
	struct dkim_keycache *c = &dkim_keycache;

	if (!c->ready) {
		lru_init(&c->lru, c->buckets, DKIM_KEYCACHE_BUCKETS);
		c->ready = true;
	}
	return c;
}

/* Take e out of the cache; it goes when its last holder lets go. */
static void
dkim_keycache_evict(struct dkim_keycache *c, struct dkim_keycache_entry *e)
{
	lru_remove(&c->lru, &e->node);
	e->cached = false;
	if (e->refs == 0)
		dkim_keycache_entry_free(e);
}

static struct dkim_keycache_entry *
dkim_keycache_oldest(const struct dkim_keycache *c)
{
	struct lru_node *n = lru_oldest(&c->lru);

	return n != NULL ? LRU_ENTRY(n, struct dkim_keycache_entry, node) :
	    NULL;
}

/* Parse the entry's copy of the text and decode its key: the work a hit
 * saves. */
static struct dkim_keycache_entry *
dkim_keycache_decode(const char *txt, size_t n)
{
	struct dkim_keycache_entry *e;
	struct dkim_keycache_key *k;

	e = calloc(1, sizeof(*e) + n + 1);
	if (e == NULL)
		abort();
	e->refs = 1;
	e->len = n;
	if (n > 0)
		memcpy(e->text, txt, n);
	k = &e->key;
	k->parse_why = e->parse_why;
	k->key_why = e->key_why;
	k->parse_rc = dkim_key_parse(e->text, n, &k->rec, e->parse_why,
	    sizeof(e->parse_why));
	if (k->parse_rc == 0 && !k->rec.revoked)
		k->pkey = dkim_key_public(&k->rec, &k->bits, e->key_why,
		    sizeof(e->key_why));
	ERR_clear_error();
	return e;
}

const struct dkim_keycache_key *
dkim_keycache_get(const char *txt, size_t n)
{
	struct dkim_keycache *c = dkim_keycache_of_thread();
	uint32_t hash = dkim_keycache_hash(txt, n);
	struct dkim_keycache_entry *e;
	struct lru_node *node;

	for (node = lru_first(&c->lru, hash); node != NULL;
	    node = lru_next(node, hash)) {
		e = LRU_ENTRY(node, struct dkim_keycache_entry, node);
		if (e->len == n && (n == 0 || memcmp(e->text, txt, n) == 0)) {
			lru_touch(&c->lru, node);
			e->refs++;
			return &e->key;
		}
	}
	e = dkim_keycache_decode(txt, n);
	if (n > DKIM_KEYCACHE_TEXT_MAX)
		return &e->key;		/* private: freed on release */
	e->cached = true;
	lru_insert(&c->lru, &e->node, hash);
	while (lru_count(&c->lru) > DKIM_KEYCACHE_ENTRIES)
		dkim_keycache_evict(c, dkim_keycache_oldest(c));
	return &e->key;
}

void
dkim_keycache_release(const struct dkim_keycache_key *k)
{
	struct dkim_keycache_entry *e;

	if (k == NULL)
		return;
	e = dkim_keycache_entry_of(k);
	if (--e->refs == 0 && !e->cached)
		dkim_keycache_entry_free(e);
}

/* RSA: one EVP_PKEY_CTX, ready for EVP_PKEY_verify() again and again. */
static EVP_PKEY_CTX *
dkim_keycache_rsa_ctx(struct dkim_keycache_entry *e)
{
	EVP_PKEY_CTX *ctx;

	if (e->rsa_ctx != NULL || e->ctx_tried)
		return e->rsa_ctx;
	e->ctx_tried = true;
	ctx = EVP_PKEY_CTX_new(e->key.pkey, NULL);
	if (ctx == NULL || EVP_PKEY_verify_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, dkim_sha256()) != 1) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	e->rsa_ctx = ctx;
	return ctx;
}

/*
 * Ed25519: a context initialised once as a template. EVP_DigestVerify()
 * is one-shot, so each check works on a copy (EVP_MD_CTX_copy_ex into a
 * scratch context the entry keeps), which skips the per-call fetch and
 * key set-up of EVP_DigestVerifyInit().
 */
static void
dkim_keycache_ed_setup(struct dkim_keycache_entry *e)
{
	e->ed_tmpl = EVP_MD_CTX_new();
	e->ed_work = EVP_MD_CTX_new();
	if (e->ed_tmpl == NULL || e->ed_work == NULL ||
	    EVP_DigestVerifyInit(e->ed_tmpl, NULL, NULL, NULL,
	    e->key.pkey) != 1) {
		EVP_MD_CTX_free(e->ed_tmpl);
		EVP_MD_CTX_free(e->ed_work);
		e->ed_tmpl = e->ed_work = NULL;
	}
}

static EVP_MD_CTX *
dkim_keycache_ed_ctx(struct dkim_keycache_entry *e)
{
	if (!e->ctx_tried) {
		e->ctx_tried = true;
		dkim_keycache_ed_setup(e);
	}
	if (e->ed_tmpl == NULL ||
	    EVP_MD_CTX_copy_ex(e->ed_work, e->ed_tmpl) != 1)
		return NULL;
	return e->ed_work;
}

bool
dkim_keycache_verify(const struct dkim_keycache_key *k, enum dkim_alg alg,
    const unsigned char *md, size_t mdlen, const unsigned char *sig,
    size_t siglen)
{
	struct dkim_keycache_entry *e = dkim_keycache_entry_of(k);
	EVP_PKEY_CTX *pctx;
	EVP_MD_CTX *mctx;
	bool ok = false;

	if (k->pkey == NULL)
		return false;
	if (alg == DKIM_ALG_RSA_SHA256 && k->rec.type == DKIM_KEY_RSA) {
		if ((pctx = dkim_keycache_rsa_ctx(e)) != NULL)
			ok = EVP_PKEY_verify(pctx, sig, siglen, md, mdlen) == 1;
	} else if (alg == DKIM_ALG_ED25519_SHA256 &&
	    k->rec.type == DKIM_KEY_ED25519) {
		if ((mctx = dkim_keycache_ed_ctx(e)) != NULL)
			ok = EVP_DigestVerify(mctx, sig, siglen, md,
			    mdlen) == 1;
	}
	ERR_clear_error();
	return ok;
}

const struct dkim_keycache_key *
dkim_keycache_answer(enum dns_status st, const char *const *txt,
    const size_t *len, size_t ntxt, const char *name, const char *why,
    struct arena *a, const char **err, bool *temporary)
{
	const struct dkim_keycache_key *key;
	char first[200];
	size_t j;

	*err = NULL;
	*temporary = false;
	if (st == DNS_OK && ntxt == 0)
		st = DNS_NODATA;
	switch (st) {
	case DNS_OK:
		first[0] = '\0';
		for (j = 0; j < ntxt; j++) {
			key = dkim_keycache_get(txt[j], len[j]);
			if (key->parse_rc == 0)
				return key;
			if (first[0] == '\0')
				snprintf(first, sizeof(first), "%s",
				    key->parse_why);
			dkim_keycache_release(key);
		}
		*err = arena_printf(a, "%s: %s", name, first);
		break;
	case DNS_NODATA:
	case DNS_NXDOMAIN:
		*err = arena_printf(a, "no key record at %s (%s)", name,
		    dns_status_name(st));
		break;
	case DNS_SERVFAIL:
	case DNS_TIMEOUT:
	case DNS_ERROR:
		*temporary = true;
		*err = arena_printf(a, "key lookup for %s: %s%s%s", name,
		    dns_status_name(st), why ? ": " : "", why ? why : "");
		break;
	}
	return NULL;
}

size_t
dkim_keycache_size(void)
{
	return lru_count(&dkim_keycache_of_thread()->lru);
}

void
dkim_keycache_clear(void)
{
	struct dkim_keycache *c = dkim_keycache_of_thread();
	struct dkim_keycache_entry *e;

	while ((e = dkim_keycache_oldest(c)) != NULL)
		dkim_keycache_evict(c, e);
}
