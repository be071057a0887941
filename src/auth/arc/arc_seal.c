/*
 * arc_seal — add the next ARC set to a message (RFC 8617 5.1). See arc.h.
 *
 * The three fields are laid out the way dkim_sign lays out its
 * signature: every tag first, b= last and empty, folded under 78
 * columns; that text, canonicalized, ends the hash input; the b= value
 * is then appended with folding white space, which a verifier drops
 * together with the value. The AMS covers the message as it will leave
 * (its h= never names an ARC field), the AS covers every set up to and
 * including the new one, or only the new one when the chain failed
 * (5.1.2).
 */
#include "core/reason.h"
#include "auth/arc/arc.h"
#include "auth/arc/arc_internal.h"
#include "auth/common/dkim_fold.h"
#include "auth/dkim/dkim_sign.h"

#include <stdio.h>
#include <string.h>

#include "core/base64.h"

/* Parse the field text (one field, CRLF-terminated) into a section. */
static const struct hdr_field *
one_field(struct arena *a, const struct buf *text)
{
	struct hdr_section hs;

	hdr_parse(text->data, text->len, a, &hs);
	return hs.n == 1 ? &hs.fields[0] : NULL;
}

/* Sign data, append b= to the field. */
static int
seal_sign(const struct arc_seal_options *o, enum dkim_alg alg,
    const struct buf *data, struct dkim_fold *f)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct buf sig = BUF_INIT;
	int rc = -1;

	if (EVP_Digest(data->data, data->len, md, &mdlen, EVP_sha256(),
	    NULL) == 1 &&
	    dkim_sign_digest(o->key, alg, md, mdlen, &sig) == 0) {
		dkim_fold_b64(f, (const unsigned char *)sig.data, sig.len);
		rc = 0;
	}
	buf_free(&sig);
	return rc;
}

/* The AMS h= list: the given one, or the DKIM default set (each name
 * as often as it occurs, From once more) plus every DKIM-Signature. */
static void
ams_hlist(const struct arc_seal_options *o, const struct hdr_section *hs,
    struct buf *h)
{
	const char *name;
	size_t i, k, count;

	if (o->headers != NULL) {
		buf_append_str(h, o->headers);
		return;
	}
	for (i = 0; dkim_sign_default_headers[i] != NULL; i++) {
		name = dkim_sign_default_headers[i];
		count = strcmp(name, "from") == 0 ? 1 : 0;
		for (k = 0; k < hs->n; k++)
			if (hdr_name_is(&hs->fields[k], name))
				count++;
		for (k = 0; k < count; k++)
			buf_printf(h, "%s%s", h->len ? ":" : "", name);
	}
	for (k = 0; k < hs->n; k++)
		if (hdr_name_is(&hs->fields[k], "DKIM-Signature"))
			buf_printf(h, "%sdkim-signature", h->len ? ":" : "");
}

/* Names of h= as dkim_hname entries pointing into h. */
static size_t
split_h(struct arena *a, const struct buf *h, struct dkim_hname **out)
{
	const char *p = buf_cstr(h), *end = p + h->len, *c;
	size_t n = 1, i;

	for (i = 0; i < h->len; i++)
		if (p[i] == ':')
			n++;
	*out = arena_calloc(a, n, sizeof(**out));
	for (n = 0;; p = c + 1) {
		c = memchr(p, ':', (size_t)(end - p));
		if (c == NULL)
			c = end;
		(*out)[n].p = p;
		(*out)[n].len = (size_t)(c - p);
		n++;
		if (c == end)
			break;
	}
	return n;
}

static bool
hlist_ok(const struct buf *h)
{
	const char *p = buf_cstr(h);
	size_t i, start = 0;
	bool from = false;

	for (i = 0; i <= h->len; i++) {
		if (i < h->len && p[i] != ':') {
			if ((unsigned char)p[i] < 33 ||
			    (unsigned char)p[i] > 126)
				return false;
			continue;
		}
		if (i == start)
			return false;
		if (hdr_name_eq(p + start, i - start, "from", 4))
			from = true;
		if (hdr_name_eq(p + start, i - start, "arc-seal", 8))
			return false;
		start = i + 1;
	}
	return from;
}

int
arc_seal(const struct arc_seal_options *o, const char *p, size_t n,
    const struct arc_verdict *incoming, struct buf *out, char *why,
    size_t whylen)
{
	struct arena *a = arena_new(0);
	struct hdr_section hs;
	struct arc_chain *c = arena_calloc(a, 1, sizeof(*c));
	struct buf aar = BUF_INIT, ams = BUF_INIT, as = BUF_INIT;
	struct buf h = BUF_INIT, data = BUF_INIT, b64 = BUF_INIT;
	struct dkim_body_hash body;
	struct dkim_hname *hv;
	const struct hdr_field *faar, *fams, *fas;
	struct dkim_fold f;
	unsigned char bh[EVP_MAX_MD_SIZE];
	enum dkim_alg alg = o->alg;
	enum arc_cv cv;
	unsigned inst, j;
	size_t nh;
	time_t now = o->now ? o->now : time(NULL);
	int bhlen, rc = -1;

	if (o->key == NULL || o->domain == NULL ||
	    !dkim_domain_ok(o->domain, strlen(o->domain)) ||
	    o->selector == NULL ||
	    !dkim_domain_ok(o->selector, strlen(o->selector)) ||
	    o->aar == NULL || o->aar[0] == '\0') {
		reason_set(why, whylen, "a key, a domain, a selector and the "
		    "authentication results are needed");
		goto out;
	}
	alg = dkim_alg_for_key(o->key, alg);
	if (!dkim_alg_fits_key(alg, o->key)) {
		reason_set(why, whylen, "the key does not fit %s",
		    dkim_alg_name(alg));
		goto out;
	}
	hdr_parse(p, n, a, &hs);
	arc_chain_parse(&hs, a, c);
	if (c->top_cv_fail) {
		reason_set(why, whylen, "the chain already carries cv=fail at "
		    "i=%u: not sealed again", c->n);
		goto out;
	}
	if (c->n >= ARC_MAX_INSTANCE) {
		reason_set(why, whylen, "the chain has %d sets already",
		    ARC_MAX_INSTANCE);
		goto out;
	}
	inst = c->n + 1;
	if (c->n == 0)
		cv = ARC_CV_NONE;
	else if (c->result == ARC_RESULT_PASS && incoming != NULL &&
	    incoming->result == ARC_RESULT_PASS)
		cv = ARC_CV_PASS;
	else
		cv = ARC_CV_FAIL;

	/* AAR */
	buf_printf(&aar, "ARC-Authentication-Results: i=%u; %s\r\n", inst,
	    o->aar);

	/* AMS */
	ams_hlist(o, &hs, &h);
	if (!hlist_ok(&h)) {
		reason_set(why, whylen, "the header list must name From and "
		    "no ARC-Seal");
		goto out;
	}
	if (dkim_body_hash_init(&body, DKIM_CANON_RELAXED, EVP_sha256(),
	    -1) != 0) {
		reason_set(why, whylen, "SHA-256 is unavailable");
		goto out;
	}
	dkim_body_hash_update(&body, p + hs.body_offset, n - hs.body_offset);
	bhlen = dkim_body_hash_final(&body, bh);
	dkim_body_hash_free(&body);
	if (bhlen < 0) {
		reason_set(why, whylen, "body digest failed");
		goto out;
	}
	buf_append_str(&ams, "ARC-Message-Signature:");
	f.out = &ams;
	f.col = ams.len;
	dkim_fold_tag(&f, "i=%u;", inst);
	dkim_fold_tag(&f, "a=%s;", dkim_alg_name(alg));
	dkim_fold_tag(&f, "c=relaxed/relaxed;");
	dkim_fold_tag(&f, "d=%s;", o->domain);
	dkim_fold_tag(&f, "s=%s;", o->selector);
	dkim_fold_tag(&f, "t=%lld;", (long long)now);
	if (o->expire > 0)
		dkim_fold_tag(&f, "x=%lld;", (long long)now + o->expire);
	nh = split_h(a, &h, &hv);
	dkim_fold_hlist(&f, hv, nh);
	base64_encode(bh, (size_t)bhlen, &b64);
	dkim_fold_tag(&f, "bh=%s;", buf_cstr(&b64));
	dkim_fold_add(&f, " ", "b=", 2);
	dkim_canon_headers(DKIM_CANON_RELAXED, &hs, hv, nh, (size_t)-1, &data);
	dkim_canon_header(DKIM_CANON_RELAXED, ams.data, ams.len, false, &data);
	if (seal_sign(o, alg, &data, &f) != 0) {
		reason_set(why, whylen, "signing failed");
		goto out;
	}

	/* AS */
	buf_append_str(&as, "ARC-Seal:");
	f.out = &as;
	f.col = as.len;
	dkim_fold_tag(&f, "i=%u;", inst);
	dkim_fold_tag(&f, "a=%s;", dkim_alg_name(alg));
	dkim_fold_tag(&f, "t=%lld;", (long long)now);
	dkim_fold_tag(&f, "cv=%s;", arc_cv_name(cv));
	dkim_fold_tag(&f, "d=%s;", o->domain);
	dkim_fold_tag(&f, "s=%s;", o->selector);
	dkim_fold_add(&f, " ", "b=", 2);
	buf_reset(&data);
	if (cv != ARC_CV_FAIL)
		for (j = 1; j < inst; j++) {
			arc_canon_field(&hs.fields[c->set[j].aar], &data);
			arc_canon_field(&hs.fields[c->set[j].ams], &data);
			arc_canon_field(&hs.fields[c->set[j].as], &data);
		}
	faar = one_field(a, &aar);
	fams = one_field(a, &ams);
	if (faar == NULL || fams == NULL) {
		reason_set(why, whylen, "the authentication results do not "
		    "make one header field");
		goto out;
	}
	arc_canon_field(faar, &data);
	arc_canon_field(fams, &data);
	dkim_canon_header(DKIM_CANON_RELAXED, as.data, as.len, false, &data);
	if (seal_sign(o, alg, &data, &f) != 0) {
		reason_set(why, whylen, "signing failed");
		goto out;
	}
	fas = one_field(a, &as);
	if (fas == NULL) {
		reason_set(why, whylen, "internal: the seal is not one field");
		goto out;
	}
	buf_append(out, as.data, as.len);
	buf_append(out, ams.data, ams.len);
	buf_append(out, aar.data, aar.len);
	rc = 0;
out:
	buf_free(&aar);
	buf_free(&ams);
	buf_free(&as);
	buf_free(&h);
	buf_free(&data);
	buf_free(&b64);
	arena_free(a);
	return rc;
}
