/*
 * dkim_sign — DKIM signing. See dkim_sign.h.
 *
 * The signature field is laid out first with an empty b=, exactly as it
 * will be written; that text, canonicalized, ends the header hash input
 * (RFC 6376 3.7). The b= value is then appended with folding white space,
 * which a verifier removes together with the value.
 */
#include "core/reason.h"
#include "auth/dkim/dkim_sign.h"
#include "auth/common/dkim_fold.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rsa.h>

#include "core/arena.h"
#include "core/base64.h"
#include "msg/header.h"


const char *const dkim_sign_default_headers[] = {
	"from", "reply-to", "subject", "date", "to", "cc", "message-id",
	"in-reply-to", "references", "mime-version", "content-type",
	"content-transfer-encoding", "sender", "list-id", "list-help",
	"list-owner", "list-post", "list-subscribe", "list-unsubscribe",
	"list-unsubscribe-post", "list-archive",
	NULL,
};

struct dkim_signer {
	struct dkim_sign_options	 o;
	struct arena			*arena;
	char				*hdr;
	struct hdr_section		 hs;
	bool				 header_done;
	struct dkim_body_hash		 body;
	bool				 body_on;
};

void
dkim_sign_options_init(struct dkim_sign_options *o)
{
	memset(o, 0, sizeof(*o));
	o->header_canon = DKIM_CANON_RELAXED;
	o->body_canon = DKIM_CANON_RELAXED;
}

struct dkim_signer *
dkim_sign_new(const struct dkim_sign_options *o, char *why, size_t whylen)
{
	struct dkim_signer *s;
	enum dkim_alg alg = o->alg;

	if (o->key == NULL || o->domain == NULL || o->domain[0] == '\0' ||
	    o->selector == NULL || o->selector[0] == '\0') {
		reason_set(why, whylen, "a key, a domain and a selector are "
		    "needed");
		return NULL;
	}
	alg = dkim_alg_for_key(o->key, alg);
	if (alg == DKIM_ALG_RSA_SHA1) {
		reason_set(why, whylen, "rsa-sha1 is obsolete (RFC 8301)");
		return NULL;
	}
	if (!dkim_alg_fits_key(alg, o->key)) {
		reason_set(why, whylen, "the key does not fit %s",
		    dkim_alg_name(alg));
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		abort();
	s->arena = arena_new(0);
	s->o = *o;
	s->o.alg = alg;
	s->o.domain = arena_strdup(s->arena, o->domain);
	s->o.selector = arena_strdup(s->arena, o->selector);
	if (o->headers != NULL)
		s->o.headers = arena_strdup(s->arena, o->headers);
	if (o->identity != NULL)
		s->o.identity = arena_strdup(s->arena, o->identity);
	if (s->o.now == 0)
		s->o.now = time(NULL);
	if (dkim_body_hash_init(&s->body, s->o.body_canon, dkim_sha256(),
	    -1) != 0) {
		reason_set(why, whylen, "SHA-256 is unavailable");
		dkim_sign_free(s);
		return NULL;
	}
	s->body_on = true;
	return s;
}

void
dkim_sign_free(struct dkim_signer *s)
{
	if (s == NULL)
		return;
	if (s->body_on)
		dkim_body_hash_free(&s->body);
	arena_free(s->arena);
	free(s);
}

void
dkim_sign_header(struct dkim_signer *s, const char *p, size_t n)
{
	if (s->header_done)
		return;
	s->header_done = true;
	s->hdr = arena_memdup(s->arena, p, n ? n : 1);
	hdr_parse(s->hdr, n, s->arena, &s->hs);
}

void
dkim_sign_body(struct dkim_signer *s, const char *p, size_t n)
{
	if (s->body_on)
		dkim_body_hash_update(&s->body, p, n);
}

void
dkim_sign_message(struct dkim_signer *s, const char *p, size_t n)
{
	struct arena *a = arena_new(0);
	struct hdr_section hs;

	hdr_parse(p, n, a, &hs);
	dkim_sign_header(s, p, hs.body_offset);
	dkim_sign_body(s, p + hs.body_offset, n - hs.body_offset);
	arena_free(a);
}

/* --- the h= list ---------------------------------------------------- */

struct hlist {
	struct dkim_hname	*v;
	size_t			 n, cap;
};

static void
hlist_add(struct dkim_signer *s, struct hlist *h, const char *p, size_t n)
{
	struct dkim_hname *nv;

	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 16;
		nv = arena_calloc(s->arena, h->cap, sizeof(*nv));
		if (h->n)
			memcpy(nv, h->v, h->n * sizeof(*nv));
		h->v = nv;
	}
	h->v[h->n].p = p;
	h->v[h->n].len = n;
	h->n++;
}

static int
sign_hlist(struct dkim_signer *s, struct hlist *h, char *why, size_t whylen)
{
	const char *p, *c, *a, *b, *end;
	size_t i, k, count;
	bool from = false;

	if (s->o.headers != NULL) {
		p = s->o.headers;
		end = p + strlen(p);
		for (;;) {
			c = memchr(p, ':', (size_t)(end - p));
			if (c == NULL)
				c = end;
			for (a = p; a < c && (*a == ' ' || *a == '\t'); a++)
				;
			for (b = c; b > a && (b[-1] == ' ' || b[-1] == '\t');
			    b--)
				;
			for (k = 0; k < (size_t)(b - a); k++)
				if ((unsigned char)a[k] < 33 ||
				    (unsigned char)a[k] > 126)
					break;
			if (a == b || k < (size_t)(b - a)) {
				reason_set(why, whylen, "bad header name in "
				    "the header list");
				return -1;
			}
			if (hdr_name_eq(a, (size_t)(b - a), "from", 4))
				from = true;
			hlist_add(s, h, a, (size_t)(b - a));
			if (c == end)
				break;
			p = c + 1;
		}
		if (!from) {
			reason_set(why, whylen, "the header list must include "
			    "From (RFC 6376 5.4)");
			return -1;
		}
		return 0;
	}
	for (i = 0; dkim_sign_default_headers[i] != NULL; i++) {
		p = dkim_sign_default_headers[i];
		count = 0;
		for (k = 0; k < s->hs.n; k++)
			if (hdr_name_is(&s->hs.fields[k], p))
				count++;
		if (strcmp(p, "from") == 0)
			count++;	/* oversign From */
		for (k = 0; k < count; k++)
			hlist_add(s, h, p, strlen(p));
	}
	return 0;
}

/* --- the field ------------------------------------------------------ */

int
dkim_sign_digest(EVP_PKEY *key, enum dkim_alg alg, const unsigned char *md,
    size_t mdlen, struct buf *sig)
{
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD_CTX *mctx = NULL;
	size_t len = 0;
	int ok = 0;

	if (alg == DKIM_ALG_ED25519_SHA256) {
		mctx = EVP_MD_CTX_new();
		if (mctx != NULL &&
		    EVP_DigestSignInit(mctx, NULL, NULL, NULL, key) == 1 &&
		    EVP_DigestSign(mctx, NULL, &len, md, mdlen) == 1) {
			buf_reserve(sig, len);
			ok = EVP_DigestSign(mctx, (unsigned char *)sig->data,
			    &len, md, mdlen) == 1;
		}
	} else {
		pctx = EVP_PKEY_CTX_new(key, NULL);
		if (pctx != NULL && EVP_PKEY_sign_init(pctx) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_signature_md(pctx, dkim_sha256()) == 1 &&
		    EVP_PKEY_sign(pctx, NULL, &len, md, mdlen) == 1) {
			buf_reserve(sig, len);
			ok = EVP_PKEY_sign(pctx, (unsigned char *)sig->data,
			    &len, md, mdlen) == 1;
		}
	}
	if (ok)
		sig->len = len;
	ERR_clear_error();
	EVP_MD_CTX_free(mctx);
	EVP_PKEY_CTX_free(pctx);
	return ok ? 0 : -1;
}

int
dkim_sign_finish(struct dkim_signer *s, struct buf *out, char *why,
    size_t whylen)
{
	unsigned char bh[EVP_MAX_MD_SIZE], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct buf field = BUF_INIT, data = BUF_INIT, b64 = BUF_INIT;
	struct buf sig = BUF_INIT;
	struct hlist h = { NULL, 0, 0 };
	struct dkim_fold f = { &field, 0 };
	int bhlen, rc = -1;

	if (!s->body_on) {
		reason_set(why, whylen, "already finished");
		return -1;
	}
	bhlen = dkim_body_hash_final(&s->body, bh);
	dkim_body_hash_free(&s->body);
	s->body_on = false;
	if (bhlen < 0) {
		reason_set(why, whylen, "body digest failed");
		return -1;
	}
	if (sign_hlist(s, &h, why, whylen) != 0)
		return -1;

	buf_append_str(&field, "DKIM-Signature:");
	f.col = field.len;
	dkim_fold_tag(&f, "v=1;");
	dkim_fold_tag(&f, "a=%s;", dkim_alg_name(s->o.alg));
	dkim_fold_tag(&f, "c=%s/%s;", dkim_canon_name(s->o.header_canon),
	    dkim_canon_name(s->o.body_canon));
	dkim_fold_tag(&f, "d=%s;", s->o.domain);
	dkim_fold_tag(&f, "s=%s;", s->o.selector);
	if (s->o.identity != NULL)
		dkim_fold_tag(&f, "i=%s;", s->o.identity);
	dkim_fold_tag(&f, "t=%lld;", (long long)s->o.now);
	if (s->o.body_length)
		dkim_fold_tag(&f, "l=%llu;",
		    (unsigned long long)s->body.length);
	if (s->o.expire > 0)
		dkim_fold_tag(&f, "x=%lld;",
		    (long long)s->o.now + (long long)s->o.expire);
	dkim_fold_hlist(&f, h.v, h.n);
	base64_encode(bh, (size_t)bhlen, &b64);
	dkim_fold_tag(&f, "bh=%s;", buf_cstr(&b64));
	dkim_fold_add(&f, " ", "b=", 2);

	dkim_canon_headers(s->o.header_canon, &s->hs, h.v, h.n, (size_t)-1,
	    &data);
	dkim_canon_header(s->o.header_canon, field.data, field.len, false,
	    &data);
	if (EVP_Digest(data.data, data.len, md, &mdlen, dkim_sha256(),
	    NULL) != 1 || dkim_sign_digest(s->o.key, s->o.alg, md, mdlen,
	    &sig) != 0) {
		reason_set(why, whylen, "signing failed");
		goto out;
	}
	dkim_fold_b64(&f, (const unsigned char *)sig.data, sig.len);
	buf_append(out, field.data, field.len);
	rc = 0;
out:
	buf_free(&field);
	buf_free(&data);
	buf_free(&b64);
	buf_free(&sig);
	return rc;
}
