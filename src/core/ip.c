/*
 * ip — IPv4/IPv6 addresses and CIDR prefixes. See ip.h.
 *
 * Text is parsed by inet_pton(3) on a bounded, NUL-terminated copy, so the
 * accepted forms are exactly the standard ones: dotted quads without
 * leading zeros, and RFC 4291 IPv6 text (with an optional trailing dotted
 * quad), no zone ids. Prefix lengths are strict decimal: no sign, no
 * leading zeros, no spaces, within the family's width.
 *
 * A v4-mapped IPv6 address (::ffff:a.b.c.d) is an IPv6 address here: it
 * matches only IPv6 prefixes. Callers that want such a client treated as
 * IPv4 (SPF, DNSBLs) call ip_unmap_v4() first; this module never guesses.
 */
#include "core/ip.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/strnum.h"

static const uint8_t v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* Address width in bits for a family; 0 for an unknown family. */
static unsigned
ip_family_bits(int family)
{
	if (family == AF_INET)
		return 32;
	if (family == AF_INET6)
		return 128;
	return 0;
}

int
ip_parse(const char *s, size_t n, struct ip_addr *out)
{
	char copy[IP_STRLEN];

	memset(out, 0, sizeof(*out));
	if (n == 0 || n >= sizeof(copy) || memchr(s, '\0', n) != NULL)
		return -1;
	memcpy(copy, s, n);
	copy[n] = '\0';
	if (inet_pton(AF_INET, copy, out->a) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, copy, out->a) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return -1;
}

int
ip_from_sockaddr(const struct sockaddr *sa, struct ip_addr *out)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	memset(out, 0, sizeof(*out));
	if (sa == NULL)
		return -1;
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		out->family = AF_INET;
		memcpy(out->a, &sin->sin_addr, 4);
		return 0;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		out->family = AF_INET6;
		memcpy(out->a, &sin6->sin6_addr, 16);
		return 0;
	default:
		return -1;
	}
}

/* Finds the longest run (at least two) of zero groups; *len 0 if none. */
static void
ip6_zero_run(const uint16_t g[8], int *start, int *len)
{
	int i, j;

	*start = -1;
	*len = 0;
	for (i = 0; i < 8; i = j + 1) {
		for (j = i; j < 8 && g[j] == 0; j++)
			;
		if (j - i >= 2 && j - i > *len) {
			*start = i;
			*len = j - i;
		}
	}
}

/*
 * RFC 5952 text: lowercase hex without leading zeros, the longest run of
 * two or more zero groups (the first on a tie) as "::", and the dotted
 * quad for v4-mapped addresses. Done here rather than by inet_ntop(3),
 * whose output for some forms (::/96) differs between C libraries.
 */
static int
ip6_format(const struct ip_addr *ip, char *out, size_t n)
{
	char tmp[IP_STRLEN];
	uint16_t g[8];
	int i, start, len, pos = 0;

	if (ip_is_v4mapped(ip))
		return snprintf(out, n, "::ffff:%u.%u.%u.%u", ip->a[12],
		    ip->a[13], ip->a[14], ip->a[15]);
	for (i = 0; i < 8; i++)
		g[i] = (uint16_t)(ip->a[2 * i] << 8 | ip->a[2 * i + 1]);
	ip6_zero_run(g, &start, &len);
	for (i = 0; i < 8; i++) {
		if (i == start) {
			pos += snprintf(tmp + pos, sizeof(tmp) - (size_t)pos,
			    "::");
			i += len - 1;
			continue;
		}
		pos += snprintf(tmp + pos, sizeof(tmp) - (size_t)pos, "%s%x",
		    i > 0 && i != start + len ? ":" : "", (unsigned)g[i]);
	}
	return snprintf(out, n, "%s", tmp);
}

const char *
ip_format(const struct ip_addr *ip, char *out, size_t n)
{
	int len;

	if (n > 0)
		out[0] = '\0';
	if (ip->family == AF_INET)
		len = snprintf(out, n, "%u.%u.%u.%u", ip->a[0], ip->a[1],
		    ip->a[2], ip->a[3]);
	else if (ip->family == AF_INET6)
		len = ip6_format(ip, out, n);
	else
		return NULL;
	if (len < 0 || (size_t)len >= n) {
		if (n > 0)
			out[0] = '\0';
		return NULL;
	}
	return out;
}

bool
ip_equal(const struct ip_addr *a, const struct ip_addr *b)
{
	unsigned bits;

	if (a->family != b->family)
		return false;
	bits = ip_family_bits(a->family);
	return bits != 0 && memcmp(a->a, b->a, bits / 8) == 0;
}

bool
ip_is_v4mapped(const struct ip_addr *ip)
{
	return ip->family == AF_INET6 &&
	    memcmp(ip->a, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0;
}

void
ip_unmap_v4(struct ip_addr *ip)
{
	uint8_t v4[4];

	if (!ip_is_v4mapped(ip))
		return;
	memcpy(v4, ip->a + 12, 4);
	memset(ip->a, 0, sizeof(ip->a));
	memcpy(ip->a, v4, 4);
	ip->family = AF_INET;
}

bool
ip_prefix_equal(const struct ip_addr *a, const struct ip_addr *b,
    unsigned prefix)
{
	unsigned bits, whole, rest;
	uint8_t mask;

	if (a->family != b->family)
		return false;
	bits = ip_family_bits(a->family);
	if (bits == 0 || prefix > bits)
		return false;
	whole = prefix / 8;
	rest = prefix % 8;
	if (memcmp(a->a, b->a, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return ((a->a[whole] ^ b->a[whole]) & mask) == 0;
}

/* Zero every bit after the first prefix bits. */
static void
ip_clear_host_bits(struct ip_addr *ip, unsigned prefix)
{
	unsigned whole = prefix / 8, rest = prefix % 8;

	if (rest != 0) {
		ip->a[whole] &= (uint8_t)(0xff << (8 - rest));
		whole++;
	}
	if (whole < sizeof(ip->a))
		memset(ip->a + whole, 0, sizeof(ip->a) - whole);
}

int
cidr_parse(const char *s, size_t n, struct cidr *out)
{
	const char *slash;
	size_t alen;
	unsigned bits;
	uint64_t prefix;

	memset(out, 0, sizeof(*out));
	slash = memchr(s, '/', n);
	alen = slash != NULL ? (size_t)(slash - s) : n;
	if (ip_parse(s, alen, &out->addr) != 0)
		return -1;
	bits = ip_family_bits(out->addr.family);
	out->prefix = bits;
	/* strict decimal: "0" or no leading zero, at most the width */
	if (slash != NULL) {
		if (strnum_decimal(slash + 1, n - alen - 1, bits, &prefix) !=
		    0) {
			memset(out, 0, sizeof(*out));
			return -1;
		}
		out->prefix = (unsigned)prefix;
	}
	ip_clear_host_bits(&out->addr, out->prefix);
	return 0;
}

bool
cidr_match(const struct cidr *c, const struct ip_addr *ip)
{
	return ip_prefix_equal(&c->addr, ip, c->prefix);
}

const char *
cidr_format(const struct cidr *c, char *out, size_t n)
{
	char addr[IP_STRLEN];
	int len;

	if (n > 0)
		out[0] = '\0';
	if (ip_format(&c->addr, addr, sizeof(addr)) == NULL)
		return NULL;
	len = snprintf(out, n, "%s/%u", addr, c->prefix);
	if (len < 0 || (size_t)len >= n) {
		if (n > 0)
			out[0] = '\0';
		return NULL;
	}
	return out;
}

/* Writes the reversed address followed by suffix ("" for none). */
static const char *
ip_reverse(const struct ip_addr *ip, const char *suffix, char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[IP_REVLEN];
	size_t pos = 0;
	int i, len;

	if (n > 0)
		out[0] = '\0';
	if (ip->family == AF_INET) {
		len = snprintf(tmp, sizeof(tmp), "%u.%u.%u.%u", ip->a[3],
		    ip->a[2], ip->a[1], ip->a[0]);
		pos = (size_t)len;
	} else if (ip->family == AF_INET6) {
		for (i = 15; i >= 0; i--) {
			if (pos > 0)
				tmp[pos++] = '.';
			tmp[pos++] = hex[ip->a[i] & 0x0f];
			tmp[pos++] = '.';
			tmp[pos++] = hex[ip->a[i] >> 4];
		}
	} else
		return NULL;
	len = snprintf(out, n, "%.*s%s", (int)pos, tmp, suffix);
	if (len < 0 || (size_t)len >= n) {
		if (n > 0)
			out[0] = '\0';
		return NULL;
	}
	return out;
}

const char *
ip_reverse_name(const struct ip_addr *ip, char *out, size_t n)
{
	return ip_reverse(ip, ip->family == AF_INET ? ".in-addr.arpa" :
	    ".ip6.arpa", out, n);
}

const char *
ip_reverse_label(const struct ip_addr *ip, char *out, size_t n)
{
	return ip_reverse(ip, "", out, n);
}
