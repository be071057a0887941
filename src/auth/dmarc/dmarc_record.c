/*
 * dmarc_record — the DMARC policy record (RFC 7489 6.3, 6.4, 6.6.3;
 * np from DMARCbis). See dmarc_record.h.
 *
 * The record is a list of tag=value pairs separated by ';' with optional
 * white space around each part (6.4). v=DMARC1 must come first; then the
 * tags are read in any order. A tag given twice keeps its first value.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/dmarc/dmarc_record.h"
#include "core/buf.h"

static bool
is_wsp(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
eq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

static bool
parse_policy(const char *s, size_t n, enum dmarc_policy *out)
{
	if (eq(s, n, "none"))
		*out = DMARC_POLICY_NONE;
	else if (eq(s, n, "quarantine"))
		*out = DMARC_POLICY_QUARANTINE;
	else if (eq(s, n, "reject"))
		*out = DMARC_POLICY_REJECT;
	else
		return false;
	return true;
}

static bool
parse_align(const char *s, size_t n, enum dmarc_align *out)
{
	if (eq(s, n, "r"))
		*out = DMARC_ALIGN_RELAXED;
	else if (eq(s, n, "s"))
		*out = DMARC_ALIGN_STRICT;
	else
		return false;
	return true;
}

/* 1*DIGIT within [0, max]. */
static bool
parse_uint(const char *s, size_t n, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 10)
		return false;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/*
 * dmarc-uri = URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ] (6.4). The
 * URI is checked for a scheme (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
 * ":") and something after it, without spaces; that is what "valid"
 * needs for the rua fallback.
 */
static bool
valid_uri(const char *s, size_t n)
{
	size_t i = 0, bang;

	while (n > 0 && is_wsp((unsigned char)s[n - 1]))
		n--;
	while (n > 0 && is_wsp((unsigned char)*s)) {
		s++;
		n--;
	}
	if (n == 0 || !isalpha((unsigned char)s[0]))
		return false;
	while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '+' ||
	    s[i] == '-' || s[i] == '.'))
		i++;
	if (i >= n || s[i] != ':' || i + 1 >= n)
		return false;
	for (bang = i + 1; bang < n && s[bang] != '!'; bang++)
		if ((unsigned char)s[bang] <= 0x20 ||
		    (unsigned char)s[bang] >= 0x7f)
			return false;
	if (bang == i + 1)
		return false;
	if (bang < n) {
		size_t j = bang + 1;

		if (j >= n || !isdigit((unsigned char)s[j]))
			return false;
		while (j < n && isdigit((unsigned char)s[j]))
			j++;
		if (j < n && strchr("kmgtKMGT", s[j]) != NULL)
			j++;
		if (j != n)
			return false;
	}
	return true;
}

/* Comma-separated URIs; the valid ones go to out. */
static size_t
parse_uris(const char *s, size_t n, struct arena *a, const char **out,
    bool *any_invalid)
{
	size_t i = 0, k = 0;

	while (i <= n) {
		size_t st = i, e, ws = i;

		while (i < n && s[i] != ',')
			i++;
		e = i;
		while (ws < e && is_wsp((unsigned char)s[ws]))
			ws++;
		while (e > ws && is_wsp((unsigned char)s[e - 1]))
			e--;
		(void)st;
		if (valid_uri(s + ws, e - ws)) {
			if (k < DMARC_MAX_URIS)
				out[k++] = arena_strndup(a, s + ws, e - ws);
		} else
			*any_invalid = true;
		i++;
	}
	return k;
}

static bool
valid_fo(const char *s, size_t n)
{
	size_t i = 0;

	/* fo = "0" / "1" / "d" / "s" separated by ':' */
	while (i < n) {
		while (i < n && is_wsp((unsigned char)s[i]))
			i++;
		if (i >= n || strchr("01dsDS", s[i]) == NULL || s[i] == '\0')
			return false;
		i++;
		while (i < n && is_wsp((unsigned char)s[i]))
			i++;
		if (i < n && s[i] != ':')
			return false;
		if (i < n && ++i >= n)
			return false;
	}
	return n > 0;
}

static int
tag_index(const char *t, size_t n)
{
	static const char *const known[] = { "p", "sp", "np", "adkim",
	    "aspf", "pct", "ri", "fo", "rf", "rua", "ruf" };
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (eq(t, n, known[i]))
			return (int)i;
	return -1;
}

static void
note_ignored(struct buf *ign, const char *tag, size_t tn, const char *v,
    size_t vn)
{
	if (ign->len > 0)
		buf_append_char(ign, ' ');
	buf_append(ign, tag, tn);
	buf_append_char(ign, '=');
	buf_append(ign, v, vn > 40 ? 40 : vn);
}

enum dmarc_record_status
dmarc_record_parse(const char *p, size_t n, struct arena *a,
    struct dmarc_record *r, const char **reason)
{
	struct buf ign = BUF_INIT;
	bool seen_p = false, p_invalid = false, sp_invalid = false;
	bool seen[16] = { false };
	bool any_bad_rua = false;
	size_t i = 0;
	int ntag = 0, k;
	const char *why = NULL;
	enum dmarc_record_status st = DMARC_RECORD_OK;

	memset(r, 0, sizeof(*r));
	r->pct = 100;
	r->ri = 86400;
	r->fo = "0";
	r->rf = "afrf";

	while (i < n) {
		size_t ts, te, vs, ve;
		const char *tag, *v;
		size_t tn, vn;

		while (i < n && is_wsp((unsigned char)p[i]))
			i++;
		if (i >= n)
			break;
		ts = i;
		while (i < n && (isalnum((unsigned char)p[i]) || p[i] == '_'))
			i++;
		te = i;
		while (i < n && is_wsp((unsigned char)p[i]))
			i++;
		if (te == ts || i >= n || p[i] != '=') {
			if (ntag == 0) {
				st = DMARC_RECORD_NOT_DMARC;
				why = "the record does not start with v=DMARC1";
				goto out;
			}
			/* A broken tag: skip to the next ';' (6.3: syntax
			 * errors in the remainder are discarded). */
			while (i < n && p[i] != ';')
				i++;
			note_ignored(&ign, p + ts, (te > ts ? te : i) - ts,
			    "", 0);
			if (i < n)
				i++;
			continue;
		}
		i++;	/* '=' */
		while (i < n && is_wsp((unsigned char)p[i]))
			i++;
		vs = i;
		while (i < n && p[i] != ';')
			i++;
		ve = i;
		while (ve > vs && is_wsp((unsigned char)p[ve - 1]))
			ve--;
		if (i < n)
			i++;	/* ';' */
		tag = p + ts;
		tn = te - ts;
		v = p + vs;
		vn = ve - vs;

		if (ntag++ == 0) {
			/* dmarc-version = "v" *WSP "=" *WSP %x44 %x4d %x41
			 * %x52 %x43 %x31: the value is case-sensitive. */
			if (!eq(tag, tn, "v") || vn != 6 ||
			    memcmp(v, "DMARC1", 6) != 0) {
				st = DMARC_RECORD_NOT_DMARC;
				why = "the record does not start with v=DMARC1";
				goto out;
			}
			continue;
		}
		if ((k = tag_index(tag, tn)) >= 0) {
			if (seen[k])
				continue;	/* the first one counts */
			seen[k] = true;
		}
		if (eq(tag, tn, "p")) {
			seen_p = true;
			if (!parse_policy(v, vn, &r->p)) {
				p_invalid = true;
				r->p = DMARC_POLICY_UNSET;
			}
		} else if (eq(tag, tn, "sp")) {
			if (!parse_policy(v, vn, &r->sp)) {
				sp_invalid = true;
				r->sp = DMARC_POLICY_UNSET;
			}
		} else if (eq(tag, tn, "np")) {
			if (!parse_policy(v, vn, &r->np)) {
				r->np = DMARC_POLICY_UNSET;
				note_ignored(&ign, tag, tn, v, vn);
			}
		} else if (eq(tag, tn, "adkim")) {
			if (!parse_align(v, vn, &r->adkim))
				note_ignored(&ign, tag, tn, v, vn);
		} else if (eq(tag, tn, "aspf")) {
			if (!parse_align(v, vn, &r->aspf))
				note_ignored(&ign, tag, tn, v, vn);
		} else if (eq(tag, tn, "pct")) {
			unsigned long pct;

			if (parse_uint(v, vn, 100, &pct))
				r->pct = (unsigned)pct;
			else
				note_ignored(&ign, tag, tn, v, vn);
		} else if (eq(tag, tn, "ri")) {
			unsigned long ri;

			if (parse_uint(v, vn, 0xffffffffUL, &ri))
				r->ri = ri;
			else
				note_ignored(&ign, tag, tn, v, vn);
		} else if (eq(tag, tn, "fo")) {
			if (valid_fo(v, vn))
				r->fo = arena_strndup(a, v, vn);
			else
				note_ignored(&ign, tag, tn, v, vn);
		} else if (eq(tag, tn, "rf")) {
			if (vn > 0)
				r->rf = arena_strndup(a, v, vn);
		} else if (eq(tag, tn, "rua")) {
			r->nrua = parse_uris(v, vn, a, r->rua, &any_bad_rua);
			if (any_bad_rua)
				note_ignored(&ign, tag, tn, v, vn);
		} else if (eq(tag, tn, "ruf")) {
			bool bad = false;

			r->nruf = parse_uris(v, vn, a, r->ruf, &bad);
			if (bad)
				note_ignored(&ign, tag, tn, v, vn);
		} else if (eq(tag, tn, "v")) {
			note_ignored(&ign, tag, tn, v, vn);
		}
		/* unknown tags are ignored (6.3) */
	}
	if (ntag == 0) {
		st = DMARC_RECORD_NOT_DMARC;
		why = "the record does not start with v=DMARC1";
		goto out;
	}
	if (!seen_p || p_invalid || sp_invalid) {
		/* 6.6.3: without a valid p (or with an invalid sp), a valid
		 * rua makes it p=none; otherwise no DMARC processing. */
		if (r->nrua > 0) {
			r->rua_fallback = true;
			r->p = DMARC_POLICY_NONE;
			r->sp = DMARC_POLICY_UNSET;
			r->np = DMARC_POLICY_UNSET;
		} else {
			st = DMARC_RECORD_INVALID;
			why = !seen_p ? "the record has no p= tag" :
			    p_invalid ? "the record's p= is not none, "
			    "quarantine or reject" : "the record's sp= is not "
			    "none, quarantine or reject";
			goto out;
		}
	}
out:
	if (ign.len > 0)
		r->ignored = arena_strndup(a, buf_cstr(&ign), ign.len);
	buf_free(&ign);
	if (reason != NULL)
		*reason = why;
	return st;
}

const char *
dmarc_policy_name(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_POLICY_UNSET:	return "unset";
	case DMARC_POLICY_NONE:		return "none";
	case DMARC_POLICY_QUARANTINE:	return "quarantine";
	case DMARC_POLICY_REJECT:	return "reject";
	}
	return "unknown";
}
