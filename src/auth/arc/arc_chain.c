/*
 * arc_chain — collect the ARC sets of a header section and check their
 * structure (RFC 8617 4.1, 4.2, 5.2 steps 1 to 3). See arc.h.
 *
 * Pure: the fields are read from the parsed header, every string goes
 * to the caller's arena, nothing is looked up. The checks run in the
 * order of 5.2: the top seal's cv=fail ends the chain first, then the
 * instances must run 1..N with one field of each kind, then every cv=,
 * then the tags of every AMS and AS. The first problem is the reason.
 */
#include "auth/arc/arc.h"
#include "auth/arc/arc_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>


const char *
arc_result_name(enum arc_result r)
{
	switch (r) {
	case ARC_RESULT_NONE:	return "none";
	case ARC_RESULT_PASS:	return "pass";
	case ARC_RESULT_FAIL:	return "fail";
	}
	return "none";
}

const char *
arc_cv_name(enum arc_cv cv)
{
	switch (cv) {
	case ARC_CV_NONE:	return "none";
	case ARC_CV_PASS:	return "pass";
	case ARC_CV_FAIL:	return "fail";
	case ARC_CV_INVALID:	break;
	}
	return "invalid";
}

static bool
is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Decimal 0..limit from p[0..n) (no sign, no white space); -1 if not. */
static int64_t
arc_decimal(const char *p, size_t n, int64_t limit)
{
	int64_t x = 0;
	size_t i;

	if (n == 0 || n > 18)
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		x = x * 10 + (p[i] - '0');
	}
	return x <= limit ? x : -1;
}

unsigned
arc_aar_instance(const char *p, size_t n, const char **rest)
{
	size_t i = 0, d;
	int64_t v;

	while (i < n && is_fws(p[i]))
		i++;
	if (i >= n || (p[i] != 'i' && p[i] != 'I'))
		return 0;
	i++;
	while (i < n && is_fws(p[i]))
		i++;
	if (i >= n || p[i] != '=')
		return 0;
	i++;
	while (i < n && is_fws(p[i]))
		i++;
	for (d = i; d < n && p[d] >= '0' && p[d] <= '9'; d++)
		;
	if (d == i || d - i > 3)
		return 0;
	v = arc_decimal(p + i, d - i, 999);
	i = d;
	while (i < n && is_fws(p[i]))
		i++;
	if (i >= n || p[i] != ';' || v <= 0)
		return 0;
	if (rest != NULL)
		*rest = p + i + 1;
	return (unsigned)v;
}

static enum arc_result
chain_fail(struct arc_chain *c, struct arena *a, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum arc_result
chain_fail(struct arc_chain *c, struct arena *a, const char *fmt, ...)
{
	char reason[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	c->result = ARC_RESULT_FAIL;
	c->reason = arena_strdup(a, reason);
	return c->result;
}

/*
 * The tags of one AMS (is_seal false) or AS. Returns NULL when fine,
 * else a reason (static or from the arena).
 */
static const char *
parse_sig(struct arena *a, const struct hdr_field *f, bool is_seal,
    struct arc_sig *s)
{
	static const char *ams_req[] = { "i", "a", "b", "bh", "d", "h", "s" };
	static const char *as_req[] = { "i", "a", "b", "cv", "d", "s" };
	const char **req = is_seal ? as_req : ams_req;
	size_t nreq = is_seal ? 6 : 7, i;
	const struct dkim_tag *t;
	struct dkim_tags tags;
	char why[200];
	int rc;

	if (dkim_tags_parse(f->value, f->value_len, &tags, why,
	    sizeof(why)) != 0)
		return arena_printf(a, "syntax: %s", why);
	for (i = 0; i < nreq; i++)
		if (dkim_tags_get(&tags, req[i]) == NULL)
			return arena_printf(a, "no %s= tag", req[i]);
	t = dkim_tags_get(&tags, "a");
	s->alg = dkim_alg_parse(t->value, t->value_len);
	if (s->alg != DKIM_ALG_RSA_SHA256 && s->alg != DKIM_ALG_ED25519_SHA256)
		return arena_printf(a, "unsupported algorithm a=%.40s",
		    arena_strndup(a, t->value, t->value_len));
	t = dkim_tags_get(&tags, "d");
	if (!dkim_domain_ok(t->value, t->value_len))
		return "d= is not a domain name";
	s->domain = dkim_tag_lower(a, t);
	t = dkim_tags_get(&tags, "s");
	if (!dkim_domain_ok(t->value, t->value_len))
		return "s= is not a selector";
	s->selector = arena_strndup(a, t->value, t->value_len);
	t = dkim_tags_get(&tags, "b");
	s->b_start = t->spec_value_start;
	s->b_end = t->spec_value_end;
	if (dkim_tag_base64(a, t, &s->b, &s->b_len) != 0)
		return "b= is not valid base64";
	s->limit = -1;
	s->timestamp = s->expire = -1;
	if ((t = dkim_tags_get(&tags, "t")) != NULL &&
	    (s->timestamp = arc_decimal(t->value, t->value_len,
	    INT64_C(999999999999))) < 0)
		return "t= is not a decimal number";
	if (is_seal) {
		s->hc = s->bc = DKIM_CANON_RELAXED;
		if (dkim_tags_get(&tags, "h") != NULL)
			return "h= is not allowed in an ARC-Seal";
		t = dkim_tags_get(&tags, "cv");
		if (dkim_tag_value_is(t, "none"))
			s->cv = ARC_CV_NONE;
		else if (dkim_tag_value_is(t, "pass"))
			s->cv = ARC_CV_PASS;
		else if (dkim_tag_value_is(t, "fail"))
			s->cv = ARC_CV_FAIL;
		else
			s->cv = ARC_CV_INVALID;
		return NULL;
	}
	s->hc = s->bc = DKIM_CANON_SIMPLE;
	if ((t = dkim_tags_get(&tags, "c")) != NULL &&
	    dkim_canon_parse(t->value, t->value_len, &s->hc, &s->bc) != 0)
		return "unsupported canonicalization c=";
	rc = dkim_tag_hnames(a, dkim_tags_get(&tags, "h"), "arc-seal", &s->h,
	    &s->nh);
	if (rc < 0)
		return "h= has an empty or invalid header field name";
	if (rc == 1)
		return "h= does not include From";
	if (rc == 2)
		return "h= includes ARC-Seal (RFC 8617 4.1.2)";
	if (dkim_tag_base64(a, dkim_tags_get(&tags, "bh"), &s->bh, &s->bh_len) != 0)
		return "bh= is not valid base64";
	if ((t = dkim_tags_get(&tags, "l")) != NULL &&
	    (s->limit = arc_decimal(t->value, t->value_len,
	    INT64_C(999999999999))) < 0)
		return "l= is not a decimal number";
	if ((t = dkim_tags_get(&tags, "x")) != NULL &&
	    (s->expire = arc_decimal(t->value, t->value_len,
	    INT64_C(999999999999))) < 0)
		return "x= is not a decimal number";
	return NULL;
}

/* i= of an AMS or AS without a full parse: 0 when absent or invalid,
 * ARC_MAX_INSTANCE + 1 for any larger number. */
static unsigned
sig_instance(const struct hdr_field *f, bool *syntax_ok)
{
	struct dkim_tags tags;
	const struct dkim_tag *t;
	int64_t v;
	size_t k;

	*syntax_ok = dkim_tags_parse(f->value, f->value_len, &tags, NULL,
	    0) == 0;
	if (!*syntax_ok || (t = dkim_tags_get(&tags, "i")) == NULL)
		return 0;
	for (k = 0; k < t->value_len; k++)
		if (t->value[k] < '0' || t->value[k] > '9')
			return 0;
	if (t->value_len > 6)
		return ARC_MAX_INSTANCE + 1;
	v = arc_decimal(t->value, t->value_len, 999999);
	if (v <= 0)
		return 0;
	return v > ARC_MAX_INSTANCE ? ARC_MAX_INSTANCE + 1 : (unsigned)v;
}

enum arc_result
arc_chain_parse(const struct hdr_section *hs, struct arena *a,
    struct arc_chain *c)
{
	static const char *kind_name[3] = { "ARC-Authentication-Results",
	    "ARC-Message-Signature", "ARC-Seal" };
	const struct hdr_field *f;
	const char *rest, *why;
	size_t i, *slot, end;
	unsigned inst, k;
	int kind;
	bool ok;

	memset(c, 0, sizeof(*c));
	for (k = 0; k <= ARC_MAX_INSTANCE; k++)
		c->set[k].aar = c->set[k].ams = c->set[k].as = (size_t)-1;
	c->result = ARC_RESULT_NONE;

	/* 5.2 step 1: collect. */
	for (i = 0; i < hs->n; i++) {
		f = &hs->fields[i];
		if (f->flags & HDR_F_NO_COLON)
			continue;
		if (hdr_name_is(f, "ARC-Authentication-Results"))
			kind = 0;
		else if (hdr_name_is(f, "ARC-Message-Signature"))
			kind = 1;
		else if (hdr_name_is(f, "ARC-Seal"))
			kind = 2;
		else
			continue;
		if (c->result == ARC_RESULT_NONE)
			c->result = ARC_RESULT_PASS;
		ok = true;
		if (kind == 0) {
			inst = arc_aar_instance(f->value, f->value_len, &rest);
			if (inst > ARC_MAX_INSTANCE)
				inst = ARC_MAX_INSTANCE + 1;
		} else
			inst = sig_instance(f, &ok);
		if (!ok)
			return chain_fail(c, a, "%s: tag syntax error",
			    kind_name[kind]);
		if (inst == 0)
			return chain_fail(c, a, "%s without a valid i= "
			    "instance", kind_name[kind]);
		if (inst > ARC_MAX_INSTANCE)
			return chain_fail(c, a, "%s instance above the limit "
			    "of %d", kind_name[kind], ARC_MAX_INSTANCE);
		slot = kind == 0 ? &c->set[inst].aar : kind == 1 ?
		    &c->set[inst].ams : &c->set[inst].as;
		if (*slot != (size_t)-1)
			return chain_fail(c, a, "two %s fields with i=%u",
			    kind_name[kind], inst);
		*slot = i;
		if (kind == 0) {
			end = f->value_len - (size_t)(rest - f->value);
			while (end > 0 && is_fws(rest[0])) {
				rest++;
				end--;
			}
			while (end > 0 && is_fws(rest[end - 1]))
				end--;
			c->set[inst].aar_value = arena_strndup(a, rest, end);
		}
		if (inst > c->n)
			c->n = inst;
	}
	if (c->result == ARC_RESULT_NONE)
		return c->result;

	/* 5.2 step 2: a chain already declared failed stays failed. */
	if (c->set[c->n].as != (size_t)-1) {
		why = parse_sig(a, &hs->fields[c->set[c->n].as], true,
		    &c->set[c->n].as_sig);
		if (why == NULL && c->set[c->n].as_sig.cv == ARC_CV_FAIL) {
			c->top_cv_fail = true;
			return chain_fail(c, a, "ARC-Seal i=%u reports cv=fail: "
			    "the chain failed before", c->n);
		}
	}

	/* Step 3: every set complete, instances 1..N. */
	for (k = 1; k <= c->n; k++) {
		if (c->set[k].aar == (size_t)-1 &&
		    c->set[k].ams == (size_t)-1 && c->set[k].as == (size_t)-1)
			return chain_fail(c, a, "ARC set i=%u is missing "
			    "(highest is i=%u)", k, c->n);
		for (kind = 0; kind < 3; kind++) {
			slot = kind == 0 ? &c->set[k].aar : kind == 1 ?
			    &c->set[k].ams : &c->set[k].as;
			if (*slot == (size_t)-1)
				return chain_fail(c, a, "ARC set i=%u has no "
				    "%s", k, kind_name[kind]);
		}
	}
	/* Every seal, and its cv= (4.1.3: none only at i=1). */
	for (k = 1; k <= c->n; k++) {
		why = parse_sig(a, &hs->fields[c->set[k].as], true,
		    &c->set[k].as_sig);
		if (why != NULL)
			return chain_fail(c, a, "ARC-Seal i=%u: %s", k, why);
		switch (c->set[k].as_sig.cv) {
		case ARC_CV_NONE:
			if (k != 1)
				return chain_fail(c, a, "ARC-Seal i=%u has "
				    "cv=none, allowed only at i=1", k);
			break;
		case ARC_CV_PASS:
			if (k == 1)
				return chain_fail(c, a, "ARC-Seal i=1 has "
				    "cv=pass, must be none");
			break;
		case ARC_CV_FAIL:
			return chain_fail(c, a, "ARC-Seal i=%u has cv=fail",
			    k);
		case ARC_CV_INVALID:
			return chain_fail(c, a, "ARC-Seal i=%u has an "
			    "invalid cv= value", k);
		}
		c->set[k].as_sig.field = c->set[k].as;
	}
	for (k = 1; k <= c->n; k++) {
		why = parse_sig(a, &hs->fields[c->set[k].ams], false,
		    &c->set[k].ams_sig);
		if (why != NULL)
			return chain_fail(c, a, "ARC-Message-Signature i=%u: %s",
			    k, why);
		c->set[k].ams_sig.field = c->set[k].ams;
	}
	return c->result;
}

/* --- the seal's hash input ------------------------------------------ */

void
arc_canon_field(const struct hdr_field *f, struct buf *out)
{
	dkim_canon_header(DKIM_CANON_RELAXED, f->name,
	    (size_t)(f->value + f->value_len - f->name), true, out);
}

void
arc_canon_unsigned(enum dkim_canon canon, const struct hdr_field *f,
    size_t b_start, size_t b_end, struct buf *out)
{
	struct buf raw = BUF_INIT;
	size_t vstart = (size_t)(f->value - f->name);

	buf_append(&raw, f->name, vstart + b_start);
	buf_append(&raw, f->value + b_end, f->value_len - b_end);
	dkim_canon_header(canon, raw.data, raw.len, false, out);
	buf_free(&raw);
}
