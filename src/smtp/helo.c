/*
 * helo — syntax of the EHLO/HELO argument. See helo.h.
 *
 * RFC 5321 4.1.2 spells a sub-domain as a letter or digit, then letters,
 * digits and hyphens, ending in a letter or digit. Two deliberate
 * departures, both towards what real clients send:
 *
 *  - An underscore counts as a letter. Windows and NetBIOS-derived
 *    machine names ("MY_PC.corp.example") reach the Internet as HELO
 *    names, DNS itself allows any octet in a label (RFC 2181 11), and
 *    Postfix's reject_invalid_helo_hostname lets them through; refusing
 *    them would lose mail over a character that is harmless in every
 *    header we write.
 *  - One trailing dot is tolerated: "mail.example.org." is the absolute
 *    form some MTAs send; SPF strips it (RFC 7208 4.3) and the header
 *    writers take it as it is. A lone "." and ".." are still invalid.
 *
 * A dotted quad without brackets is, by that grammar, a Domain and passes
 * here; that it is no FQDN is for the plausibility checks to weigh.
 * Eight-bit octets are refused: the EHLO comes before the client knows
 * whether we speak SMTPUTF8, so U-labels must arrive as A-labels
 * (RFC 6531 3.7.1).
 */
#include "smtp/helo.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/ip.h"

static bool
helo_is_letdig(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* Why c cannot be in a label. */
static const char *
helo_char_reason(unsigned char c)
{
	if (c < 0x20 || c == 0x7f)
		return "control-character";
	if (c >= 0x80)
		return "8bit-character";
	return "bad-character";
}

static enum helo_kind
helo_invalid(const char **reason, const char *why)
{
	if (reason != NULL)
		*reason = why;
	return HELO_INVALID;
}

/* One label s[0..n): NULL when it is good, else why not. */
static const char *
helo_label(const unsigned char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return "empty-label";
	for (i = 0; i < n; i++)
		if (!helo_is_letdig(s[i]) && s[i] != '_' && s[i] != '-')
			return helo_char_reason(s[i]);
	if (n > HELO_LABEL_MAX)
		return "label-too-long";
	if (s[0] == '-' || s[n - 1] == '-')
		return "misplaced-hyphen";
	return NULL;
}

static enum helo_kind
helo_domain(const unsigned char *s, size_t n, const char **reason)
{
	const char *why;
	size_t start = 0, i;

	if (n > 1 && s[n - 1] == '.')
		n--;		/* the absolute form */
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if ((why = helo_label(s + start, i - start)) != NULL)
			return helo_invalid(reason, why);
		start = i + 1;
	}
	return HELO_DOMAIN;
}

/* IPv4-address-literal content: Snum 3("." Snum), Snum 1*3DIGIT <= 255. */
static bool
helo_ipv4(const unsigned char *s, size_t n)
{
	size_t i = 0, part;

	for (part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;

		if (part > 0) {
			if (i >= n || s[i] != '.')
				return false;
			i++;
		}
		while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(s[i] - '0');
			digits++;
			i++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return false;
	}
	return i == n;
}

/* RFC 5321 dcontent: printable US-ASCII but "[", "\" and "]". */
static bool
helo_dcontent(const unsigned char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < 33 || s[i] > 126 || (s[i] >= 91 && s[i] <= 93))
			return false;
	return true;
}

/* Standardized-tag = Ldh-str: let-dig and hyphens, ending in let-dig. */
static bool
helo_tag(const unsigned char *s, size_t n)
{
	size_t i;

	if (n == 0 || !helo_is_letdig(s[n - 1]))
		return false;
	for (i = 0; i < n; i++)
		if (!helo_is_letdig(s[i]) && s[i] != '-')
			return false;
	return true;
}

/* s[0..n) is what lies between "[" and "]". */
static enum helo_kind
helo_literal(const unsigned char *s, size_t n, const char **reason)
{
	const unsigned char *colon = memchr(s, ':', n);
	struct ip_addr ip;

	if (colon == NULL)
		return helo_ipv4(s, n) ? HELO_ADDRESS_LITERAL :
		    helo_invalid(reason, "bad-address-literal");
	if (colon - s == 4 && strncasecmp((const char *)s, "IPv6", 4) == 0) {
		/* inet_pton's IPv6 forms are RFC 5321's IPv6-addr: full,
		 * compressed, each with an IPv4 tail; no zone id */
		if (ip_parse((const char *)colon + 1,
		    n - (size_t)(colon + 1 - s), &ip) == 0 &&
		    ip.family == AF_INET6)
			return HELO_ADDRESS_LITERAL;
		return helo_invalid(reason, "bad-address-literal");
	}
	if (helo_tag(s, (size_t)(colon - s)) &&
	    helo_dcontent(colon + 1, n - (size_t)(colon + 1 - s)))
		return HELO_ADDRESS_LITERAL;
	return helo_invalid(reason, "bad-address-literal");
}

enum helo_kind
helo_check(const char *arg, size_t len, const char **reason)
{
	const unsigned char *s = (const unsigned char *)arg;
	size_t i;

	if (reason != NULL)
		*reason = NULL;
	if (len == 0)
		return helo_invalid(reason, "empty");
	if (len > HELO_MAX)
		return helo_invalid(reason, "too-long");
	if (s[0] != '[')
		return helo_domain(s, len, reason);
	/* a literal: control and 8-bit octets named as such in the log */
	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] >= 0x7f)
			return helo_invalid(reason, helo_char_reason(s[i]));
	if (len < 2 || s[len - 1] != ']')
		return helo_invalid(reason, "bad-address-literal");
	return helo_literal(s + 1, len - 2, reason);
}
