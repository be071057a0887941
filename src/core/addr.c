/*
 * addr — email addresses: RFC 5321 paths and RFC 5322 addr-specs. See
 * addr.h.
 *
 * One grammar serves both entry points: the RFC 5321 Mailbox (Dot-string
 * or Quoted-string local part, Domain or address-literal), extended by
 * RFC 6531 with UTF-8 in local parts and U-labels in domains when the
 * caller says SMTPUTF8 is in force. RFC 5322 addr-specs are held to the
 * same grammar: no comments, no folding whitespace, no obsolete forms, no
 * general domain literals, since anything else could not be used in an
 * SMTP envelope anyway.
 *
 * The parser never guesses what an address "really" means: "a%b@c" has
 * the local part "a%b", "a!b@c" the local part "a!b", and "\"a@b\"@c" the
 * local part "a@b" (flagged local_quoted). Relay checks depend on that.
 *
 * Domains are checked as LDH host names (RFC 5321 2.3.5, RFC 1123 2.1):
 * labels of 1..63 letters, digits and hyphens, no hyphen at either end,
 * no underscore, an all-numeric top-level label refused (RFC 3696 2), at
 * most 255 octets, no trailing dot. Non-ASCII domains go through libidn2
 * (UTS #46 non-transitional mapping, then IDNA 2008) and the result is
 * checked again; "xn--" labels in ASCII domains are validated by libidn2
 * one label at a time, so R-LDH labels such as "r3--x" elsewhere in an
 * ASCII domain stay acceptable.
 *
 * Every rejection sets a static, human-readable reason.
 */
#include "core/addr.h"

#include <idn2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define ADDR_DOMAIN_INPUT_MAX	1024	/* UTF-8 input before IDNA */

static int
addr_fail(const char **reason, const char *why)
{
	if (reason != NULL)
		*reason = why;
	return -1;
}

/*
 * Length of the well-formed UTF-8 sequence at p[0..n) whose lead byte is
 * non-ASCII, or 0 (RFC 3629 section 4: no overlong forms, no surrogates,
 * nothing above U+10FFFF).
 */
static size_t
utf8_seq_len(const unsigned char *p, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

static bool
utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = utf8_seq_len(u + i, n - i)) == 0)
			return false;
		i += k;
	}
	return true;
}

static bool
has_non_ascii(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

/* RFC 5322 3.2.3 atext, ASCII part. */
static bool
is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* RFC 5321 4.1.2 qtextSMTP: printable ASCII and space, except '"', '\'. */
static bool
is_qtext_smtp(unsigned char c)
{
	return c >= 32 && c <= 126 && c != '"' && c != '\\';
}

static char
ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ---- domains ---- */

/* An "xn--" label must be a valid A-label; libidn2 decodes and checks. */
static int
domain_check_alabel(const char *label, size_t n, const char **reason)
{
	char copy[64];
	uint8_t *res = NULL;
	int rc;

	memcpy(copy, label, n);
	copy[n] = '\0';
	rc = idn2_lookup_u8((const uint8_t *)copy, &res,
	    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	idn2_free(res);
	if (rc != IDN2_OK)
		return addr_fail(reason, "invalid IDN A-label in domain");
	return 0;
}

/* One lowercase ASCII label d[0..n); top says it is the last one. */
static int
domain_check_label(const char *d, size_t n, bool top, const char **reason)
{
	bool numeric = true;
	size_t i;

	if (n == 0)
		return addr_fail(reason, "empty label in domain");
	if (n > 63)
		return addr_fail(reason, "domain label longer than 63 octets");
	if (d[0] == '-' || d[n - 1] == '-')
		return addr_fail(reason, "domain label starts or ends with '-'");
	for (i = 0; i < n; i++) {
		if (d[i] == '_')
			return addr_fail(reason, "underscore in domain");
		if (!(d[i] >= 'a' && d[i] <= 'z') && d[i] != '-' &&
		    !(d[i] >= '0' && d[i] <= '9'))
			return addr_fail(reason, "invalid character in domain");
		if (!(d[i] >= '0' && d[i] <= '9'))
			numeric = false;
	}
	if (top && numeric)
		return addr_fail(reason, "all-numeric top-level domain label");
	if (n >= 4 && memcmp(d, "xn--", 4) == 0)
		return domain_check_alabel(d, n, reason);
	return 0;
}

/*
 * Lowercases the ASCII domain s[0..n) into out (outlen > n) and checks
 * its syntax label by label.
 */
static int
domain_ascii(const char *s, size_t n, char *out, size_t outlen,
    const char **reason)
{
	size_t i, start = 0;

	if (n == 0)
		return addr_fail(reason, "empty domain");
	if (n > ADDR_DOMAIN_MAX || n >= outlen)
		return addr_fail(reason, "domain too long");
	if (s[n - 1] == '.')
		return addr_fail(reason, "trailing dot in domain");
	for (i = 0; i < n; i++)
		out[i] = ascii_lower(s[i]);
	out[n] = '\0';
	for (i = 0; i <= n; i++) {
		if (i < n && out[i] != '.')
			continue;
		if (domain_check_label(out + start, i - start, i == n,
		    reason) != 0)
			return -1;
		start = i + 1;
	}
	return 0;
}

/* A domain with U-labels: IDNA to ASCII, then the ASCII checks. */
static int
domain_idna(const char *s, size_t n, char *out, size_t outlen,
    const char **reason)
{
	char copy[ADDR_DOMAIN_INPUT_MAX + 1];
	uint8_t *res = NULL;
	int rc;

	if (!utf8_valid(s, n))
		return addr_fail(reason, "invalid UTF-8 in domain");
	memcpy(copy, s, n);
	copy[n] = '\0';
	rc = idn2_lookup_u8((const uint8_t *)copy, &res,
	    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK) {
		idn2_free(res);
		return addr_fail(reason, "invalid internationalized domain");
	}
	rc = domain_ascii((const char *)res, strlen((const char *)res), out,
	    outlen, reason);
	idn2_free(res);
	return rc;
}

int
addr_domain_to_ascii(const char *s, size_t n, char *out, size_t outlen,
    const char **reason)
{
	int rc;

	if (outlen > 0)
		out[0] = '\0';
	if (n == 0)
		return addr_fail(reason, "empty domain");
	if (memchr(s, '\0', n) != NULL)
		return addr_fail(reason, "NUL byte in domain");
	if (n > ADDR_DOMAIN_INPUT_MAX)
		return addr_fail(reason, "domain too long");
	if (s[n - 1] == '.')
		return addr_fail(reason, "trailing dot in domain");
	if (has_non_ascii(s, n))
		rc = domain_idna(s, n, out, outlen, reason);
	else
		rc = domain_ascii(s, n, out, outlen, reason);
	if (rc != 0 && outlen > 0)
		out[0] = '\0';
	return rc;
}

/* ---- address literals ---- */

/*
 * s[0..n) starts with '['. RFC 5321 4.1.3: IPv4-address-literal or
 * "IPv6:" IPv6-addr; the general "tag:content" form names no protocol we
 * could deliver over, so it is refused. The domain is stored in canonical
 * form: "[192.0.2.1]", "[IPv6:2001:db8::1]".
 */
static int
domain_literal(const char *s, size_t n, struct mailaddr *out,
    const char **reason)
{
	char text[IP_STRLEN];
	const char *in;
	size_t len;

	if (n < 2 || s[n - 1] != ']')
		return addr_fail(reason, "'[' without ']' in address literal");
	in = s + 1;
	len = n - 2;
	if (len == 0)
		return addr_fail(reason, "empty address literal");
	if (len >= 5 && strncasecmp(in, "IPv6:", 5) == 0) {
		if (ip_parse(in + 5, len - 5, &out->ip) != 0 ||
		    out->ip.family != AF_INET6)
			return addr_fail(reason, "invalid IPv6 address literal");
	} else if (memchr(in, ':', len) != NULL) {
		return addr_fail(reason,
		    "general address literal (tag:content) not supported");
	} else if (ip_parse(in, len, &out->ip) != 0 ||
	    out->ip.family != AF_INET) {
		return addr_fail(reason, "invalid IPv4 address literal");
	}
	ip_format(&out->ip, text, sizeof(text));
	(void)snprintf(out->domain, sizeof(out->domain), "[%s%s]",
	    out->ip.family == AF_INET6 ? "IPv6:" : "", text);
	out->ip_literal = true;
	return 0;
}

/* The domain after '@', by flags: ASCII, U-labels or a literal. */
static int
mailbox_domain(const char *s, size_t n, unsigned flags,
    struct mailaddr *out, const char **reason)
{
	if (n == 0)
		return addr_fail(reason, "missing domain after '@'");
	if (s[0] == '[')
		return domain_literal(s, n, out, reason);
	if (!(flags & ADDR_ALLOW_UTF8) && has_non_ascii(s, n))
		return addr_fail(reason, "non-ASCII domain without SMTPUTF8");
	return addr_domain_to_ascii(s, n, out->domain, sizeof(out->domain),
	    reason);
}

/* ---- local parts ---- */

/* A non-ASCII sequence in a local part; its length, or 0. */
static size_t
local_utf8(const char *s, size_t n, unsigned flags, const char **reason)
{
	size_t k;

	if (!(flags & ADDR_ALLOW_UTF8)) {
		addr_fail(reason, "non-ASCII local part without SMTPUTF8");
		return 0;
	}
	if ((k = utf8_seq_len((const unsigned char *)s, n)) == 0)
		addr_fail(reason, "invalid UTF-8 in local part");
	return k;
}

/* RFC 5321 Dot-string (RFC 6531: UTF-8 allowed), copied as is. */
static int
local_dot_string(const char *s, size_t n, unsigned flags,
    struct mailaddr *out, const char **reason)
{
	size_t i = 0, k;

	if (n == 0)
		return addr_fail(reason, "empty local part");
	if (s[0] == '.')
		return addr_fail(reason, "local part starts with '.'");
	if (s[n - 1] == '.')
		return addr_fail(reason, "local part ends with '.'");
	while (i < n) {
		if ((unsigned char)s[i] >= 0x80) {
			if ((k = local_utf8(s + i, n - i, flags, reason)) == 0)
				return -1;
			i += k;
			continue;
		}
		if (s[i] == '.' && s[i + 1] == '.')
			return addr_fail(reason,
			    "consecutive dots in local part");
		if (s[i] != '.' && !is_atext((unsigned char)s[i]))
			return addr_fail(reason,
			    "invalid character in local part");
		i++;
	}
	memcpy(out->local, s, n);
	out->local[n] = '\0';
	return 0;
}

/*
 * Length of the Quoted-string at s[0..n) (s[0] is '"'), through the
 * closing quote; only the quoted-pairs are looked at here.
 */
static int
local_quoted_span(const char *s, size_t n, size_t *len, const char **reason)
{
	size_t i = 1;

	while (i < n) {
		if (s[i] == '\\') {
			i += 2;
			continue;
		}
		if (s[i] == '"') {
			*len = i + 1;
			return 0;
		}
		i++;
	}
	return addr_fail(reason, "unterminated quoted local part");
}

/* RFC 5321 Quoted-string s[0..n) into its semantic form. */
static int
local_quoted_string(const char *s, size_t n, unsigned flags,
    struct mailaddr *out, const char **reason)
{
	size_t i, j = 0, k;

	for (i = 1; i + 1 < n; i++) {
		if (s[i] == '\\') {
			i++;
			if (s[i] < 32 || s[i] > 126)
				return addr_fail(reason,
				    "invalid quoted-pair in local part");
		} else if ((unsigned char)s[i] >= 0x80) {
			if ((k = local_utf8(s + i, n - 1 - i, flags,
			    reason)) == 0)
				return -1;
			memcpy(out->local + j, s + i, k);
			j += k;
			i += k - 1;
			continue;
		} else if (!is_qtext_smtp((unsigned char)s[i])) {
			return addr_fail(reason,
			    "invalid character in quoted local part");
		}
		out->local[j++] = s[i];
	}
	out->local[j] = '\0';
	return 0;
}

/* Whether the semantic local part can be written without quotes. */
static bool
local_is_dot_atom(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] == '.' && s[i + 1] == '.')
			return false;
		if (s[i] != '.' && (unsigned char)s[i] < 0x80 &&
		    !is_atext((unsigned char)s[i]))
			return false;
	}
	return true;
}

/*
 * Finds where the local part of s[0..n) ends (the index of its '@') and
 * decodes it into out->local. The length limit applies to the wire form.
 */
static int
mailbox_local(const char *s, size_t n, unsigned flags, struct mailaddr *out,
    size_t *at, const char **reason)
{
	const char *p;
	size_t len;
	int rc;

	if (s[0] == '"') {
		if (local_quoted_span(s, n, &len, reason) != 0)
			return -1;
		if (len < n && s[len] != '@')
			return addr_fail(reason,
			    "invalid character after quoted local part");
	} else {
		p = memchr(s, '@', n);
		len = p != NULL ? (size_t)(p - s) : n;
	}
	if (len == n)
		return addr_fail(reason, "missing '@'");
	if (len > ADDR_LOCAL_MAX)
		return addr_fail(reason, "local part too long");
	if (s[0] == '"')
		rc = local_quoted_string(s, len, flags, out, reason);
	else
		rc = local_dot_string(s, len, flags, out, reason);
	if (rc != 0)
		return -1;
	out->local_quoted = !local_is_dot_atom(out->local);
	out->local_utf8 = has_non_ascii(out->local, strlen(out->local));
	*at = len;
	return 0;
}

/* RFC 5321 Mailbox, or a bare "postmaster" when the flags allow it. */
static int
parse_mailbox(const char *s, size_t n, unsigned flags, struct mailaddr *out,
    const char **reason)
{
	size_t at;

	if (n == 0)
		return addr_fail(reason, "empty address");
	if ((flags & ADDR_ALLOW_NO_DOMAIN) && n == 10 &&
	    strncasecmp(s, "postmaster", 10) == 0) {
		memcpy(out->local, "postmaster", sizeof("postmaster"));
		return 0;
	}
	if (mailbox_local(s, n, flags, out, &at, reason) != 0)
		return -1;
	return mailbox_domain(s + at + 1, n - at - 1, flags, out, reason);
}

/* ---- paths ---- */

/*
 * Skips an obsolete source route "@a,@b:" at the start of s[0..n),
 * checking each domain's syntax; *skip is its length with the ':'.
 */
static int
path_source_route(const char *s, size_t n, unsigned flags, size_t *skip,
    const char **reason)
{
	char domain[ADDR_DOMAIN_MAX + 1];
	size_t i = 0, end;

	for (;;) {
		if (i >= n || s[i] != '@')
			return addr_fail(reason, "invalid source route");
		for (end = ++i; end < n && s[end] != ',' && s[end] != ':';
		    end++)
			;
		if (end == n)
			return addr_fail(reason, "source route without ':'");
		if (!(flags & ADDR_ALLOW_UTF8) && has_non_ascii(s + i, end - i))
			return addr_fail(reason,
			    "non-ASCII domain without SMTPUTF8");
		if (addr_domain_to_ascii(s + i, end - i, domain,
		    sizeof(domain), reason) != 0)
			return -1;
		i = end + 1;
		if (s[end] == ':') {
			*skip = i;
			return 0;
		}
	}
}

static int
parse_path(const char *s, size_t n, unsigned flags, struct mailaddr *out,
    const char **reason)
{
	size_t skip = 0;

	if (n == 0)
		return addr_fail(reason, "empty path");
	if (s[0] != '<')
		return addr_fail(reason, "path does not start with '<'");
	if (n < 2 || s[n - 1] != '>')
		return addr_fail(reason, memchr(s, '>', n) == NULL ?
		    "bare '<' without '>'" : "characters after '>'");
	s++;
	n -= 2;
	if (n > ADDR_PATH_MAX)
		return addr_fail(reason, "path too long");
	if (n == 0) {
		if (!(flags & ADDR_ALLOW_NULL))
			return addr_fail(reason, "null path '<>' not allowed");
		out->is_null = true;
		return 0;
	}
	if (s[0] == '@' &&
	    path_source_route(s, n, flags, &skip, reason) != 0)
		return -1;
	return parse_mailbox(s + skip, n - skip, flags, out, reason);
}

int
addr_parse_path(const char *s, size_t n, unsigned flags,
    struct mailaddr *out, const char **reason)
{
	memset(out, 0, sizeof(*out));
	if (parse_path(s, n, flags, out, reason) == 0)
		return 0;
	memset(out, 0, sizeof(*out));
	return -1;
}

int
addr_parse_addrspec(const char *s, size_t n, unsigned flags,
    struct mailaddr *out, const char **reason)
{
	memset(out, 0, sizeof(*out));
	if (n > ADDR_PATH_MAX)
		return addr_fail(reason, "address too long");
	if (parse_mailbox(s, n, flags & ~(unsigned)ADDR_ALLOW_NULL, out,
	    reason) == 0)
		return 0;
	memset(out, 0, sizeof(*out));
	return -1;
}

/* ---- formatting ---- */

struct addr_writer {
	char	*out;
	size_t	 n;
	size_t	 pos;
	bool	 overflow;
};

static void
writer_put(struct addr_writer *w, const char *s, size_t len)
{
	if (w->overflow || len >= w->n - w->pos) {
		w->overflow = true;
		return;
	}
	memcpy(w->out + w->pos, s, len);
	w->pos += len;
}

static void
writer_put_quoted(struct addr_writer *w, const char *s)
{
	writer_put(w, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			writer_put(w, "\\", 1);
		writer_put(w, s, 1);
	}
	writer_put(w, "\"", 1);
}

const char *
addr_format(const struct mailaddr *a, char *out, size_t n)
{
	struct addr_writer w = { out, n, 0, false };

	if (n == 0)
		return NULL;
	out[0] = '\0';
	if (a->is_null)
		return out;
	if (a->local_quoted)
		writer_put_quoted(&w, a->local);
	else
		writer_put(&w, a->local, strlen(a->local));
	if (a->domain[0] != '\0') {
		writer_put(&w, "@", 1);
		writer_put(&w, a->domain, strlen(a->domain));
	}
	if (w.overflow) {
		out[0] = '\0';
		return NULL;
	}
	out[w.pos] = '\0';
	return out;
}
