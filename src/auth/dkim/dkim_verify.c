/*
 * dkim_verify — DKIM signature verification (RFC 6376 6.1, RFC 8301,
 * RFC 8463). See dkim_verify.h.
 *
 * Each signature lives through three steps: its tags are checked when
 * the header arrives (a signature that is already hopeless is decided
 * there and needs neither key nor body); its key record is checked when
 * the lookup answers; its body hash and header signature are checked at
 * finish. The first verdict reached is final and carries its reason.
 *
 * The body is hashed once per distinct (body canonicalization, l=) among
 * the signatures still undecided, not once per signature: two signers
 * with relaxed bodies and no l= (an ESP and the author's domain, say)
 * share one stream, so the second signature costs no body hashing. Every
 * algorithm accepted here hashes the body with SHA-256. The streams are
 * common/dkim.c's, shared with the ARC verifier.
 *
 * The header hash is computed once per signature as SHA-256 over the
 * canonical fields; RSA checks PKCS#1 v1.5 over that digest and Ed25519
 * signs the digest itself (RFC 8463 3), so both paths share it.
 */
#include "auth/dkim/dkim_verify.h"
#include "auth/common/dkim_keycache.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "core/arena.h"
#include "core/buf.h"
#include "msg/header.h"

#define DKIM_DEFAULT_MAX_SIGS	8
#define DKIM_SHA256_LEN		32

struct dkim_sig {
	struct dkim_verify	*v;
	size_t			 index;
	struct dkim_sig_result	 r;
	bool			 decided;
	size_t			 field;		/* index into the header */
	enum dkim_alg		 alg;
	enum dkim_canon		 hc, bc;
	size_t			 b_start, b_end; /* b= value, offsets into
						 * the field value */
	struct dkim_hname	*h;
	size_t			 nh;
	unsigned char		*bh, *b;
	size_t			 bh_len, b_len;
	const char		*i_domain;	/* NULL when no i= */
	char			*key_name;
	bool			 key_in;
	const struct dkim_keycache_key *key;	/* held until free */
	struct dkim_body_stream	*body;		/* NULL once decided */
	struct dns_query	*q;
};

struct dkim_verify {
	struct dkim_verify_options	 o;
	struct arena			*arena;
	char				*hdr;
	size_t				 hdr_len;
	struct hdr_section		 hs;
	bool				 header_done;
	struct dkim_sig			*sigs;
	size_t				 nsigs;
	struct dkim_body_stream		*streams;	/* room for nsigs */
	size_t				 nstreams;
	struct dkim_sig_result		*results;
	size_t				 pending;
	dkim_verify_cb			*cb;
	void				*cb_arg;
	/* dkim_verify_feed(): the header so far, and its current line */
	struct buf			 feed_hdr;
	size_t				 feed_line;	/* octets before LF */
	char				 feed_first;	/* its first octet */
};

static void
sig_decide(struct dkim_sig *s, enum dkim_result r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
sig_decide(struct dkim_sig *s, enum dkim_result r, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	if (s->decided)
		return;
	s->decided = true;
	s->r.result = r;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(reason, sizeof(reason), fmt, ap);
		va_end(ap);
		s->r.reason = arena_strdup(s->v->arena, reason);
	}
	if (s->body != NULL) {
		dkim_body_stream_leave(s->body);
		s->body = NULL;
	}
}

struct dkim_verify *
dkim_verify_new(const struct dkim_verify_options *o)
{
	struct dkim_verify *v;

	v = calloc(1, sizeof(*v));
	if (v == NULL)
		abort();
	if (o != NULL)
		v->o = *o;
	else
		v->o.clock_skew = -1;
	if (v->o.now == 0)
		v->o.now = time(NULL);
	if (v->o.max_signatures == 0)
		v->o.max_signatures = DKIM_DEFAULT_MAX_SIGS;
	if (v->o.min_rsa_bits <= 0)
		v->o.min_rsa_bits = 1024;
	if (v->o.clock_skew < 0)
		v->o.clock_skew = 300;
	v->arena = arena_new(0);
	return v;
}

void
dkim_verify_free(struct dkim_verify *v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < v->nsigs; i++) {
		if (v->sigs[i].q != NULL)
			dns_cancel(v->sigs[i].q);
		dkim_keycache_release(v->sigs[i].key);
	}
	for (i = 0; i < v->nstreams; i++)
		if (v->streams[i].on)
			dkim_body_hash_free(&v->streams[i].h);
	buf_free(&v->feed_hdr);
	arena_free(v->arena);
	free(v);
}

/* --- tag checks ----------------------------------------------------- */

static bool
is_fws_byte(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Decimal digits only, at most maxdigits of them; saturates at INT64_MAX
 * when saturate is set, else more digits are an error. */
static int
parse_decimal(const char *p, size_t n, size_t maxdigits, bool saturate,
    int64_t *out)
{
	size_t i;
	int64_t x = 0;

	if (n == 0 || n > maxdigits)
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		if (x > (INT64_MAX - 9) / 10) {
			if (!saturate)
				return -1;
			x = INT64_MAX;
			continue;
		}
		x = x * 10 + (p[i] - '0');
	}
	*out = x;
	return 0;
}

/* Is domain sub equal to, or a subdomain of, parent (case-insensitive)? */
static bool
domain_within(const char *sub, size_t sn, const char *parent, size_t pn)
{
	if (sn < pn)
		return false;
	if (!hdr_name_eq(sub + sn - pn, pn, parent, pn))
		return false;
	return sn == pn || sub[sn - pn - 1] == '.';
}

static bool
list_has(const struct dkim_tag *t, const char *item)
{
	const char *p = t->value, *end = t->value + t->value_len, *c, *a, *b;
	size_t len = strlen(item);

	for (;;) {
		c = memchr(p, ':', (size_t)(end - p));
		if (c == NULL)
			c = end;
		a = p;
		b = c;
		while (a < b && is_fws_byte(*a))
			a++;
		while (b > a && is_fws_byte(b[-1]))
			b--;
		if ((size_t)(b - a) == len && memcmp(a, item, len) == 0)
			return true;
		if (c == end)
			return false;
		p = c + 1;
	}
}

static const char *
b_prefix(struct arena *a, const struct dkim_tag *t)
{
	char pre[13];
	size_t i, k = 0;

	for (i = 0; i < t->value_len && k < sizeof(pre) - 1; i++)
		if (!is_fws_byte(t->value[i]))
			pre[k++] = t->value[i];
	pre[k] = '\0';
	return arena_strdup(a, pre);
}

static void
sig_parse(struct dkim_sig *s, const struct hdr_field *f)
{
	struct arena *a = s->v->arena;
	struct dkim_tags tags;
	const struct dkim_tag *t, *tb, *tbh, *td, *ts, *th;
	static const char *required[] = { "v", "a", "b", "bh", "d", "h", "s" };
	char why[200];
	const char *at;
	int64_t ts_val = -1, x_val = -1, l_val;
	size_t i;
	int rc;

	if (dkim_tags_parse(f->value, f->value_len, &tags, why,
	    sizeof(why)) != 0) {
		sig_decide(s, DKIM_RESULT_PERMERROR, "signature syntax: %s",
		    why);
		return;
	}
	/* Name what we can first, so even a broken signature is reported
	 * with its domain and selector. */
	if ((td = dkim_tags_get(&tags, "d")) != NULL)
		s->r.domain = dkim_tag_lower(a, td);
	if ((ts = dkim_tags_get(&tags, "s")) != NULL)
		s->r.selector = arena_strndup(a, ts->value, ts->value_len);
	if ((t = dkim_tags_get(&tags, "a")) != NULL) {
		s->r.algorithm = arena_strndup(a, t->value, t->value_len);
		s->alg = dkim_alg_parse(t->value, t->value_len);
	}
	if ((tb = dkim_tags_get(&tags, "b")) != NULL) {
		s->r.b_prefix = b_prefix(a, tb);
		s->b_start = tb->spec_value_start;
		s->b_end = tb->spec_value_end;
	}
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (dkim_tags_get(&tags, required[i]) == NULL) {
			sig_decide(s, DKIM_RESULT_PERMERROR,
			    "signature has no %s= tag", required[i]);
			return;
		}
	t = dkim_tags_get(&tags, "v");
	if (!dkim_tag_value_is(t, "1")) {
		sig_decide(s, DKIM_RESULT_PERMERROR,
		    "unsupported signature version v=%.20s",
		    arena_strndup(a, t->value, t->value_len));
		return;
	}
	if (!dkim_domain_ok(td->value, td->value_len)) {
		sig_decide(s, DKIM_RESULT_PERMERROR, "d= is not a domain name");
		return;
	}
	if (!dkim_domain_ok(ts->value, ts->value_len)) {
		sig_decide(s, DKIM_RESULT_PERMERROR, "s= is not a selector");
		return;
	}
	th = dkim_tags_get(&tags, "h");
	rc = dkim_tag_hnames(s->v->arena, th, NULL, &s->h, &s->nh);
	if (rc < 0) {
		sig_decide(s, DKIM_RESULT_PERMERROR, "h= has an empty or "
		    "invalid header field name");
		return;
	}
	if (rc > 0) {
		sig_decide(s, DKIM_RESULT_PERMERROR, "h= does not include "
		    "From (RFC 6376 5.4)");
		return;
	}
	if (dkim_tag_base64(a, tb, &s->b, &s->b_len) != 0) {
		sig_decide(s, DKIM_RESULT_PERMERROR, "b= is not valid base64");
		return;
	}
	tbh = dkim_tags_get(&tags, "bh");
	if (dkim_tag_base64(a, tbh, &s->bh, &s->bh_len) != 0) {
		sig_decide(s, DKIM_RESULT_PERMERROR,
		    "bh= is not valid base64");
		return;
	}
	if ((t = dkim_tags_get(&tags, "i")) != NULL) {
		s->r.identity = arena_strndup(a, t->value, t->value_len);
		at = memrchr(t->value, '@', t->value_len);
		if (at == NULL) {
			sig_decide(s, DKIM_RESULT_PERMERROR,
			    "i= has no '@'");
			return;
		}
		/* a copy: the tag text runs on into the next tag */
		s->i_domain = arena_strndup(a, at + 1,
		    (size_t)(t->value + t->value_len - at - 1));
		if (!domain_within(at + 1,
		    (size_t)(t->value + t->value_len - at - 1),
		    td->value, td->value_len)) {
			sig_decide(s, DKIM_RESULT_PERMERROR, "i= domain is "
			    "neither d= nor a subdomain of it");
			return;
		}
	}
	s->r.body_limit = -1;
	if ((t = dkim_tags_get(&tags, "l")) != NULL) {
		if (parse_decimal(t->value, t->value_len, 76, true,
		    &l_val) != 0) {
			sig_decide(s, DKIM_RESULT_PERMERROR,
			    "l= is not a decimal number");
			return;
		}
		s->r.body_limit = l_val;
	}
	if ((t = dkim_tags_get(&tags, "t")) != NULL &&
	    parse_decimal(t->value, t->value_len, 12, false, &ts_val) != 0) {
		sig_decide(s, DKIM_RESULT_PERMERROR,
		    "t= is not a timestamp");
		return;
	}
	if ((t = dkim_tags_get(&tags, "x")) != NULL &&
	    parse_decimal(t->value, t->value_len, 12, false, &x_val) != 0) {
		sig_decide(s, DKIM_RESULT_PERMERROR,
		    "x= is not a timestamp");
		return;
	}
	if (ts_val >= 0 && x_val >= 0 && x_val < ts_val) {
		sig_decide(s, DKIM_RESULT_PERMERROR, "x= is before t=");
		return;
	}
	/* Not processable: neutral (RFC 8601 2.7.1). */
	if ((t = dkim_tags_get(&tags, "c")) != NULL &&
	    dkim_canon_parse(t->value, t->value_len, &s->hc, &s->bc) != 0) {
		sig_decide(s, DKIM_RESULT_NEUTRAL,
		    "unsupported canonicalization c=%.40s",
		    arena_strndup(a, t->value, t->value_len));
		return;
	}
	if ((t = dkim_tags_get(&tags, "q")) != NULL &&
	    !list_has(t, "dns/txt")) {
		sig_decide(s, DKIM_RESULT_NEUTRAL,
		    "unsupported query method q=%.40s",
		    arena_strndup(a, t->value, t->value_len));
		return;
	}
	switch (s->alg) {
	case DKIM_ALG_RSA_SHA1:
		sig_decide(s, DKIM_RESULT_FAIL, "rsa-sha1 is not accepted "
		    "(RFC 8301)");
		return;
	case DKIM_ALG_UNKNOWN:
		sig_decide(s, DKIM_RESULT_NEUTRAL, "unsupported algorithm "
		    "a=%.40s", s->r.algorithm);
		return;
	case DKIM_ALG_RSA_SHA256:
	case DKIM_ALG_ED25519_SHA256:
		break;
	}
	if (x_val >= 0 && x_val < (int64_t)s->v->o.now) {
		sig_decide(s, DKIM_RESULT_FAIL, "signature expired "
		    "(x=%lld)", (long long)x_val);
		return;
	}
	if (ts_val > (int64_t)s->v->o.now + s->v->o.clock_skew) {
		sig_decide(s, DKIM_RESULT_POLICY, "signature timestamp t=%lld "
		    "is in the future", (long long)ts_val);
		return;
	}
	s->key_name = arena_printf(a, "%s._domainkey.%s", s->r.selector,
	    s->r.domain);
	if ((s->body = dkim_body_stream_join(s->v->streams, &s->v->nstreams,
	    s->bc, s->r.body_limit)) == NULL)
		sig_decide(s, DKIM_RESULT_TEMPERROR, "digest unavailable");
}

/* Every DKIM-Signature of the header now in v->hdr and v->hs. */
static void
verify_find_signatures(struct dkim_verify *v)
{
	const struct hdr_field *f;
	struct dkim_sig *s;
	size_t i, count = 0;

	for (i = 0; i < v->hs.n; i++)
		if (hdr_name_is(&v->hs.fields[i], "DKIM-Signature"))
			count++;
	if (count == 0)
		return;
	v->sigs = arena_calloc(v->arena, count, sizeof(*v->sigs));
	v->streams = arena_calloc(v->arena, count, sizeof(*v->streams));
	for (i = 0; i < v->hs.n; i++) {
		f = &v->hs.fields[i];
		if (!hdr_name_is(f, "DKIM-Signature"))
			continue;
		s = &v->sigs[v->nsigs];
		s->v = v;
		s->index = v->nsigs++;
		s->field = i;
		s->r.domain = s->r.selector = s->r.algorithm = "";
		s->r.body_limit = -1;
		if (s->index >= v->o.max_signatures) {
			sig_decide(s, DKIM_RESULT_NEUTRAL, "not checked: more "
			    "than %u signatures", v->o.max_signatures);
			continue;
		}
		sig_parse(s, f);
	}
}

void
dkim_verify_body(struct dkim_verify *v, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < v->nstreams; i++)
		if (v->streams[i].on)
			dkim_body_hash_update(&v->streams[i].h, p, n);
}

void
dkim_verify_header(struct dkim_verify *v, const char *p, size_t n)
{
	if (v->header_done)
		return;
	v->header_done = true;
	v->hdr = arena_memdup(v->arena, p, n ? n : 1);
	v->hdr_len = n;
	hdr_parse(v->hdr, n, v->arena, &v->hs);
	verify_find_signatures(v);
}

/*
 * The header is split once, over the caller's bytes, and its fields are
 * then moved onto the verifier's own copy of the header section: the
 * same result as dkim_verify_header() on that copy, without a second
 * hdr_parse() (which cost as much as all the signature parsing).
 */
void
dkim_verify_message(struct dkim_verify *v, const char *p, size_t n)
{
	struct arena *a;
	struct hdr_field *f;
	struct hdr_section hs;
	size_t i, off;

	if (v->header_done) {	/* the header went in before: body only */
		a = arena_new(0);
		hdr_parse(p, n, a, &hs);
		dkim_verify_body(v, p + hs.body_offset, n - hs.body_offset);
		arena_free(a);
		return;
	}
	v->header_done = true;
	hdr_parse(p, n, v->arena, &v->hs);
	off = v->hs.body_offset;
	v->hdr = arena_memdup(v->arena, p, off ? off : 1);
	v->hdr_len = off;
	for (i = 0; i < v->hs.n; i++) {
		f = &v->hs.fields[i];
		f->name = v->hdr + (f->name - p);
		f->value = v->hdr + (f->value - p);
	}
	verify_find_signatures(v);
	dkim_verify_body(v, p + off, n - off);
}

/*
 * The header ends at the first empty line, "\r\n" or "\n" alone, as
 * hdr_parse() sees it; until then the bytes are kept, then handed to
 * dkim_verify_header() with that line, and the rest is body.
 */
void
dkim_verify_feed(struct dkim_verify *v, const char *p, size_t n)
{
	size_t i;

	if (v->header_done) {
		dkim_verify_body(v, p, n);
		return;
	}
	for (i = 0; i < n; i++) {
		if (p[i] != '\n') {
			if (v->feed_line++ == 0)
				v->feed_first = p[i];
			continue;
		}
		if (v->feed_line == 0 || (v->feed_line == 1 &&
		    v->feed_first == '\r')) {
			buf_append(&v->feed_hdr, p, i + 1);
			dkim_verify_header(v, v->feed_hdr.data,
			    v->feed_hdr.len);
			buf_free(&v->feed_hdr);
			dkim_verify_body(v, p + i + 1, n - i - 1);
			return;
		}
		v->feed_line = 0;
	}
	buf_append(&v->feed_hdr, p, n);
}

void
dkim_verify_feed_end(struct dkim_verify *v)
{
	if (v->header_done)
		return;
	/* no empty line: all of it is header, the body is empty */
	dkim_verify_header(v, v->feed_hdr.len ? v->feed_hdr.data : "",
	    v->feed_hdr.len);
	buf_free(&v->feed_hdr);
}

size_t
dkim_verify_count(const struct dkim_verify *v)
{
	return v->nsigs;
}

const char *
dkim_verify_key_name(const struct dkim_verify *v, size_t i)
{
	if (i >= v->nsigs || v->sigs[i].decided || v->sigs[i].key_in)
		return NULL;
	return v->sigs[i].key_name;
}

/* --- keys ----------------------------------------------------------- */

static void
sig_use_key(struct dkim_sig *s, const struct dkim_keycache_key *key)
{
	const struct dkim_key_record *k = &key->rec;

	s->key = key;
	s->r.testing = k->testing;
	if (k->revoked) {
		sig_decide(s, DKIM_RESULT_PERMERROR, "key %s is revoked "
		    "(empty p=)", s->key_name);
		return;
	}
	if ((s->alg == DKIM_ALG_ED25519_SHA256) !=
	    (k->type == DKIM_KEY_ED25519)) {
		sig_decide(s, DKIM_RESULT_PERMERROR, "key type k=%s does not "
		    "match a=%s", dkim_key_type_name(k->type),
		    dkim_alg_name(s->alg));
		return;
	}
	if (!k->allow_sha256) {
		sig_decide(s, DKIM_RESULT_PERMERROR,
		    "key h= does not allow sha256");
		return;
	}
	if (k->strict && s->i_domain != NULL &&
	    !hdr_name_eq(s->i_domain, strlen(s->i_domain), s->r.domain,
	    strlen(s->r.domain))) {
		sig_decide(s, DKIM_RESULT_PERMERROR, "key has t=s but the "
		    "i= domain is a subdomain of d=");
		return;
	}
	if (key->pkey == NULL) {
		sig_decide(s, DKIM_RESULT_PERMERROR, "%s", key->key_why);
		return;
	}
	s->r.key_bits = key->bits;
	if (k->type == DKIM_KEY_RSA && key->bits < s->v->o.min_rsa_bits)
		sig_decide(s, DKIM_RESULT_FAIL, "RSA key of %d bits is too "
		    "short (RFC 8301 wants at least %d)", key->bits,
		    s->v->o.min_rsa_bits);
}

void
dkim_verify_key(struct dkim_verify *v, size_t i, enum dns_status st,
    const char *const *txt, const size_t *len, size_t ntxt, const char *why)
{
	const struct dkim_keycache_key *key;
	struct dkim_sig *s;
	const char *err;
	bool temporary;

	if (i >= v->nsigs)
		return;
	s = &v->sigs[i];
	if (s->decided || s->key_in)
		return;
	s->key_in = true;
	key = dkim_keycache_answer(st, txt, len, ntxt, s->key_name, why,
	    v->arena, &err, &temporary);
	if (key != NULL)
		sig_use_key(s, key);	/* s holds key */
	else
		sig_decide(s, temporary ? DKIM_RESULT_TEMPERROR :
		    DKIM_RESULT_PERMERROR, "%s", err);
}

static void
verify_dns_cb(struct dns_answer *ans, void *arg)
{
	struct dkim_sig *s = arg;
	struct dkim_verify *v = s->v;
	const char *txt[DNS_TXT_MAX];
	size_t len[DNS_TXT_MAX], n;

	s->q = NULL;
	n = dns_answer_txt(ans, txt, len, DNS_TXT_MAX);
	dkim_verify_key(v, s->index, ans->status, txt, len, n, ans->why);
	dns_answer_free(ans);
	if (v->pending > 0 && --v->pending == 0 && v->cb != NULL)
		v->cb(v, v->cb_arg);
}

size_t
dkim_verify_lookup(struct dkim_verify *v, struct dns_resolver *r,
    dkim_verify_cb *cb, void *arg)
{
	size_t i, started = 0;

	v->cb = cb;
	v->cb_arg = arg;
	for (i = 0; i < v->nsigs; i++)
		if (dkim_verify_key_name(v, i) != NULL && v->sigs[i].q == NULL)
			started++;
	v->pending = started;
	for (i = 0; i < v->nsigs; i++)
		if (dkim_verify_key_name(v, i) != NULL && v->sigs[i].q == NULL)
			v->sigs[i].q = dns_query(r, v->sigs[i].key_name,
			    DNS_T_TXT, verify_dns_cb, &v->sigs[i]);
	return started;
}

void
dkim_verify_expire(struct dkim_verify *v, const char *why)
{
	size_t i;

	for (i = 0; i < v->nsigs; i++) {
		if (v->sigs[i].q == NULL)
			continue;
		dns_cancel(v->sigs[i].q);
		v->sigs[i].q = NULL;
		dkim_verify_key(v, i, DNS_TIMEOUT, NULL, NULL, 0, why);
	}
	v->pending = 0;
}

bool
dkim_verify_keys_done(const struct dkim_verify *v)
{
	size_t i;

	for (i = 0; i < v->nsigs; i++)
		if (!v->sigs[i].decided && !v->sigs[i].key_in)
			return false;
	return true;
}

/* --- finish --------------------------------------------------------- */

static bool
sig_check_header(struct dkim_sig *s, const struct hdr_field *f)
{
	struct buf data = BUF_INIT, raw = BUF_INIT;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t vstart = (size_t)(f->value - f->name);
	bool ok = false;

	dkim_canon_headers(s->hc, &s->v->hs, s->h, s->nh, s->field, &data);
	/* The signature field itself, with the b= value emptied (3.7). */
	buf_append(&raw, f->name, vstart + s->b_start);
	buf_append(&raw, f->value + s->b_end, f->value_len - s->b_end);
	dkim_canon_header(s->hc, raw.data, raw.len, false, &data);
	if (EVP_Digest(data.data, data.len, md, &mdlen, dkim_sha256(),
	    NULL) == 1)
		ok = dkim_keycache_verify(s->key, s->alg, md, mdlen, s->b,
		    s->b_len);
	ERR_clear_error();
	buf_free(&data);
	buf_free(&raw);
	return ok;
}

static void
sig_finish(struct dkim_sig *s)
{
	const struct dkim_body_stream *st = s->body;
	const char *why = NULL;
	enum dkim_result r = DKIM_RESULT_PASS;
	struct dkim_verify *v = s->v;

	if (s->decided)
		return;
	if (!s->key_in) {
		sig_decide(s, DKIM_RESULT_TEMPERROR,
		    "the key for %s was not looked up", s->key_name);
		return;
	}
	dkim_body_stream_final(s->body);
	s->r.body_length = st->length;
	if (st->dlen < 0) {
		sig_decide(s, DKIM_RESULT_TEMPERROR, "digest failed");
		return;
	}
	if (s->r.body_limit >= 0 &&
	    (uint64_t)s->r.body_limit > s->r.body_length) {
		r = DKIM_RESULT_FAIL;
		why = "l= is longer than the body";
	} else if ((size_t)st->dlen != s->bh_len ||
	    memcmp(st->digest, s->bh, s->bh_len) != 0) {
		r = DKIM_RESULT_FAIL;
		why = "body hash mismatch";
	} else if (!sig_check_header(s, &v->hs.fields[s->field])) {
		r = DKIM_RESULT_FAIL;
		why = "signature mismatch";
	}
	if (r == DKIM_RESULT_FAIL && s->r.testing) {
		sig_decide(s, DKIM_RESULT_NEUTRAL, "%s (key in testing mode "
		    "t=y)", why);
		return;
	}
	if (r == DKIM_RESULT_FAIL) {
		sig_decide(s, r, "%s", why);
		return;
	}
	if (s->r.body_limit >= 0 &&
	    (uint64_t)s->r.body_limit < s->r.body_length) {
		s->r.partial_body = true;
		sig_decide(s, v->o.partial_body_is_policy ?
		    DKIM_RESULT_POLICY : DKIM_RESULT_PASS,
		    "l=%lld covers only part of the %llu-octet body",
		    (long long)s->r.body_limit,
		    (unsigned long long)s->r.body_length);
		return;
	}
	if (s->r.testing)
		sig_decide(s, DKIM_RESULT_PASS, "key in testing mode (t=y)");
	else
		sig_decide(s, DKIM_RESULT_PASS, NULL);
}

size_t
dkim_verify_finish(struct dkim_verify *v,
    const struct dkim_sig_result **out)
{
	size_t i;

	if (v->results == NULL && v->nsigs > 0) {
		v->results = arena_calloc(v->arena, v->nsigs,
		    sizeof(*v->results));
		for (i = 0; i < v->nsigs; i++) {
			sig_finish(&v->sigs[i]);
			v->results[i] = v->sigs[i].r;
		}
	}
	*out = v->results;
	return v->nsigs;
}
