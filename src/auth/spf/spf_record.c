/*
 * spf_record — SPF record parser, RFC 7208 ABNF (section 12). See
 * spf_record.h.
 *
 *	record    = version terms *SP
 *	terms     = *( 1*SP ( directive / modifier ) )
 *	directive = [ qualifier ] mechanism
 *	modifier  = redirect / explanation / unknown-modifier
 *	name      = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
 *
 * Only SP separates terms: a tab or any other control byte is a syntax
 * error, and so is any byte outside 7-bit ASCII (RFC 7208 3.1). A term
 * that starts with a name followed by "=" is a modifier; anything else
 * must be a directive.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "auth/spf/spf_macro.h"
#include "auth/spf/spf_record.h"

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alnum(char c)
{
	return is_alpha(c) || is_digit(c);
}

static bool
eq_nocase(const char *s, size_t n, const char *word)
{
	size_t i;

	if (strlen(word) != n)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != word[i])
			return false;
	}
	return true;
}

bool
spf_record_is_spf(const char *p, size_t n)
{
	if (n < 6 || !eq_nocase(p, 6, "v=spf1"))
		return false;
	return n == 6 || p[6] == ' ';
}

const char *
spf_mech_kind_name(enum spf_mech_kind k)
{
	switch (k) {
	case SPF_MECH_ALL: return "all";
	case SPF_MECH_INCLUDE: return "include";
	case SPF_MECH_A: return "a";
	case SPF_MECH_MX: return "mx";
	case SPF_MECH_PTR: return "ptr";
	case SPF_MECH_IP4: return "ip4";
	case SPF_MECH_IP6: return "ip6";
	case SPF_MECH_EXISTS: return "exists";
	}
	return "?";
}

bool
spf_mech_queries_dns(enum spf_mech_kind k)
{
	return k == SPF_MECH_INCLUDE || k == SPF_MECH_A || k == SPF_MECH_MX ||
	    k == SPF_MECH_PTR || k == SPF_MECH_EXISTS;
}

/*
 * toplabel = ( *alphanum ALPHA *alphanum ) /
 *            ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
 */
static bool
toplabel_valid(const char *s, size_t n)
{
	bool alpha = false, hyphen = false;
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] == '-')
			hyphen = true;
		else if (is_alpha(s[i]))
			alpha = true;
		else if (!is_digit(s[i]))
			return false;
	}
	if (hyphen)
		return is_alnum(s[0]) && is_alnum(s[n - 1]);
	return alpha;
}

/* domain-spec = macro-string domain-end
 * domain-end  = ( "." toplabel [ "." ] ) / macro-expand */
int
spf_domain_spec_check(const char *s, size_t n, const char **reason)
{
	bool macro_end = false;
	size_t end, i;

	if (n == 0) {
		*reason = "empty domain-spec";
		return -1;
	}
	if (spf_macro_check(s, n, SPF_MACRO_DOMAIN, &macro_end, reason) != 0)
		return -1;
	if (macro_end)
		return 0;
	end = n;
	if (s[end - 1] == '.')
		end--;
	for (i = end; i > 0; i--)
		if (s[i - 1] == '.')
			break;
	if (i == 0 || !toplabel_valid(s + i, end - i)) {
		*reason = "domain-spec does not end in a valid top label";
		return -1;
	}
	return 0;
}

/* Strict decimal: "0" or no leading zero, at most max. */
static bool
parse_cidr_len(const char *s, size_t n, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return false;
	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* Length of the run of digits that ends at s[n]. */
static size_t
trailing_digits(const char *s, size_t n)
{
	size_t k = 0;

	while (k < n && is_digit(s[n - 1 - k]))
		k++;
	return k;
}

/*
 * dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ], read
 * from the end of s[0..*n); *n shrinks to what is left before it.
 * false when a suffix is there but out of range.
 */
static bool
strip_dual_cidr(const char *s, size_t *n, unsigned *c4, unsigned *c6)
{
	size_t len = *n, k;

	*c4 = 32;
	*c6 = 128;
	k = trailing_digits(s, len);
	if (k > 0 && len >= k + 2 && s[len - k - 1] == '/' &&
	    s[len - k - 2] == '/') {
		if (!parse_cidr_len(s + len - k, k, 128, c6))
			return false;
		len -= k + 2;
	}
	k = trailing_digits(s, len);
	if (k > 0 && len >= k + 1 && s[len - k - 1] == '/') {
		if (!parse_cidr_len(s + len - k, k, 32, c4))
			return false;
		len -= k + 1;
	}
	*n = len;
	return true;
}

/* qnum "." qnum "." qnum "." qnum, qnum 0..255 without leading zeros */
static bool
ip4_network_valid(const char *s, size_t n)
{
	size_t i = 0, q;

	for (q = 0; q < 4; q++) {
		size_t start = i;
		unsigned v = 0;

		while (i < n && is_digit(s[i]) && i - start < 3) {
			v = v * 10 + (unsigned)(s[i] - '0');
			i++;
		}
		if (i == start || v > 255 || (i - start > 1 && s[start] == '0'))
			return false;
		if (q < 3) {
			if (i >= n || s[i] != '.')
				return false;
			i++;
		}
	}
	return i == n;
}

static int
fail(struct arena *a, const char **reason, const char *why, const char *t,
    size_t n)
{
	*reason = arena_printf(a, "%s in '%.*s'", why, (int)n, t);
	return -1;
}

/* a and mx (after any CIDR) and ptr: nothing or ":domain-spec" in
 * rest[0..rn). */
static int
opt_domain_spec(struct arena *a, struct spf_mech *m, const char *t,
    size_t tn, const char *rest, size_t rn, const char **reason)
{
	const char *why;

	if (rn == 0)
		return 0;
	if (rest[0] != ':')
		return fail(a, reason, "malformed mechanism", t, tn);
	if (spf_domain_spec_check(rest + 1, rn - 1, &why) != 0)
		return fail(a, reason, why, t, tn);
	m->domain_spec = arena_strndup(a, rest + 1, rn - 1);
	return 0;
}

/* ip4:NET[/LEN] and ip6:NET[/LEN], rest points after the name. */
static int
parse_ip(struct arena *a, struct spf_mech *m, const char *t, size_t tn,
    const char *rest, size_t rn, const char **reason)
{
	bool v6 = m->kind == SPF_MECH_IP6;
	unsigned max = v6 ? 128 : 32, len = max;
	size_t net_n, k;
	char tmp[CIDR_STRLEN];

	if (rn < 2 || rest[0] != ':')
		return fail(a, reason, "missing network", t, tn);
	rest++;
	rn--;
	net_n = rn;
	k = trailing_digits(rest, rn);
	if (k > 0 && rn > k && rest[rn - k - 1] == '/') {
		if (!parse_cidr_len(rest + rn - k, k, max, &len))
			return fail(a, reason, "bad CIDR length", t, tn);
		net_n = rn - k - 1;
	} else if (memchr(rest, '/', rn) != NULL) {
		return fail(a, reason, "bad CIDR length", t, tn);
	}
	if (!v6 && !ip4_network_valid(rest, net_n))
		return fail(a, reason, "bad IPv4 network", t, tn);
	if (net_n >= IP_STRLEN ||
	    ip_parse(rest, net_n, &m->net.addr) != 0 ||
	    m->net.addr.family != (v6 ? AF_INET6 : AF_INET))
		return fail(a, reason, v6 ? "bad IPv6 network" :
		    "bad IPv4 network", t, tn);
	/* cidr_parse clears the host bits and checks the family's limit. */
	snprintf(tmp, sizeof(tmp), "%.*s/%u", (int)net_n, rest, len);
	if (cidr_parse(tmp, strlen(tmp), &m->net) != 0)
		return fail(a, reason, "bad network", t, tn);
	return 0;
}

static int
parse_directive(struct arena *a, struct spf_record *rec, const char *t,
    size_t tn, const char **reason)
{
	struct spf_mech *m = &rec->mechs[rec->nmechs];
	const char *name, *rest, *why = NULL;
	size_t nn, rn;

	memset(m, 0, sizeof(*m));
	m->text = arena_strndup(a, t, tn);
	m->cidr4 = 32;
	m->cidr6 = 128;
	name = t;
	switch (t[0]) {
	case '+': m->qual = SPF_QUAL_PASS; name++; break;
	case '-': m->qual = SPF_QUAL_FAIL; name++; break;
	case '~': m->qual = SPF_QUAL_SOFTFAIL; name++; break;
	case '?': m->qual = SPF_QUAL_NEUTRAL; name++; break;
	default: m->qual = SPF_QUAL_PASS; break;
	}
	nn = 0;
	while (name + nn < t + tn && is_alnum(name[nn]))
		nn++;
	rest = name + nn;
	rn = tn - (size_t)(rest - t);

	if (eq_nocase(name, nn, "all")) {
		m->kind = SPF_MECH_ALL;
		if (rn != 0)
			return fail(a, reason, "'all' takes no argument", t, tn);
		rec->has_all = true;
	} else if (eq_nocase(name, nn, "include") ||
	    eq_nocase(name, nn, "exists")) {
		m->kind = (name[0] == 'i' || name[0] == 'I') ?
		    SPF_MECH_INCLUDE : SPF_MECH_EXISTS;
		if (rn < 2 || rest[0] != ':')
			return fail(a, reason, "missing domain-spec", t, tn);
		if (spf_domain_spec_check(rest + 1, rn - 1, &why) != 0)
			return fail(a, reason, why, t, tn);
		m->domain_spec = arena_strndup(a, rest + 1, rn - 1);
	} else if (eq_nocase(name, nn, "a") || eq_nocase(name, nn, "mx")) {
		m->kind = nn == 1 ? SPF_MECH_A : SPF_MECH_MX;
		if (!strip_dual_cidr(rest, &rn, &m->cidr4, &m->cidr6))
			return fail(a, reason, "bad CIDR length", t, tn);
		if (opt_domain_spec(a, m, t, tn, rest, rn, reason) != 0)
			return -1;
	} else if (eq_nocase(name, nn, "ptr")) {
		m->kind = SPF_MECH_PTR;
		if (opt_domain_spec(a, m, t, tn, rest, rn, reason) != 0)
			return -1;
	} else if (eq_nocase(name, nn, "ip4") || eq_nocase(name, nn, "ip6")) {
		m->kind = name[2] == '4' ? SPF_MECH_IP4 : SPF_MECH_IP6;
		if (parse_ip(a, m, t, tn, rest, rn, reason) != 0)
			return -1;
	} else {
		return fail(a, reason, "unknown mechanism", t, tn);
	}
	rec->nmechs++;
	return 0;
}

static int
parse_modifier(struct arena *a, struct spf_record *rec, const char *t,
    size_t tn, size_t nn, const char **reason)
{
	const char *val = t + nn + 1, *why = NULL;
	size_t vn = tn - nn - 1;

	if (eq_nocase(t, nn, "redirect") || eq_nocase(t, nn, "exp")) {
		const char **slot = (nn == 3) ? &rec->exp : &rec->redirect;

		if (*slot != NULL)
			return fail(a, reason, "modifier given twice", t, tn);
		if (spf_domain_spec_check(val, vn, &why) != 0)
			return fail(a, reason, why, t, tn);
		*slot = arena_strndup(a, val, vn);
		return 0;
	}
	/* Unknown modifiers are ignored, but their syntax still counts. */
	if (spf_macro_check(val, vn, SPF_MACRO_MODIFIER, NULL, &why) != 0)
		return fail(a, reason, why, t, tn);
	rec->nunknown++;
	return 0;
}

/*
 * A domain-spec that is a query name as it stands: no macro, no final
 * dot, 1..253 bytes, labels of 1..63, and nothing a zone file would
 * misread (controls, space, DEL and up, \ " ( ) ;). Worked out once per
 * parse, so that an evaluation of a cached parse neither expands,
 * escapes nor checks it.
 */
static bool
domain_spec_plain(const char *s)
{
	size_t n, label = 0;

	for (n = 0; s[n] != '\0'; n++) {
		unsigned char ch = (unsigned char)s[n];

		if (ch <= 0x20 || ch >= 0x7f || ch == '%' || ch == '\\' ||
		    ch == '"' || ch == '(' || ch == ')' || ch == ';')
			return false;
		if (ch != '.')
			label++;
		else if (label == 0)
			return false;	/* empty label */
		else
			label = 0;
		if (label > 63)
			return false;
	}
	return label > 0 && n <= SPF_DOMAIN_MAX;
}

static void
mark_plain_names(struct spf_record *rec)
{
	size_t i;

	for (i = 0; i < rec->nmechs; i++)
		rec->mechs[i].plain_name = rec->mechs[i].domain_spec != NULL &&
		    domain_spec_plain(rec->mechs[i].domain_spec);
}

enum spf_parse_result
spf_record_parse(struct arena *a, const char *p, size_t n,
    struct spf_record *out, const char **reason)
{
	size_t i, nterms = 0;

	memset(out, 0, sizeof(*out));
	*reason = NULL;
	if (!spf_record_is_spf(p, n))
		return SPF_PARSE_NOT_SPF;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x80) {
			*reason = arena_printf(a, "non-ASCII byte at offset "
			    "%zu", i);
			return SPF_PARSE_ERROR;
		}
		if (c < 0x20 || c == 0x7f) {
			*reason = arena_printf(a, "control character 0x%02x at "
			    "offset %zu (terms are separated by spaces only)",
			    c, i);
			return SPF_PARSE_ERROR;
		}
		if (c == ' ' && i + 1 < n && p[i + 1] != ' ')
			nterms++;
	}
	out->mechs = arena_calloc(a, nterms + 1, sizeof(*out->mechs));
	i = 6;
	while (i < n) {
		size_t start, tn, nn;
		const char *t;

		while (i < n && p[i] == ' ')
			i++;
		if (i == n)
			break;
		start = i;
		while (i < n && p[i] != ' ')
			i++;
		t = p + start;
		tn = i - start;

		nn = 0;
		if (is_alpha(t[0])) {
			nn = 1;
			while (nn < tn && (is_alnum(t[nn]) || t[nn] == '-' ||
			    t[nn] == '_' || t[nn] == '.'))
				nn++;
		}
		if (nn > 0 && nn < tn && t[nn] == '=') {
			if (parse_modifier(a, out, t, tn, nn, reason) != 0)
				return SPF_PARSE_ERROR;
		} else if (parse_directive(a, out, t, tn, reason) != 0) {
			return SPF_PARSE_ERROR;
		}
	}
	mark_plain_names(out);
	return SPF_PARSE_OK;
}
