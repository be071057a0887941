/*
 * ip — IPv4/IPv6 addresses and CIDR prefixes.
 *
 * One struct for both families, so callers (SPF ip4/ip6, DNSBL, greylist
 * subnets, trusted networks) never juggle sockaddr variants. Parsing is
 * strict: a string is an address exactly when inet_pton(3) says so, which
 * rejects octal and shortened IPv4 forms that spammers use to confuse
 * lists. IPv4 addresses live in the first four bytes of a[].
 */
#ifndef NETJES_CORE_IP_H
#define NETJES_CORE_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

#define IP_STRLEN	46	/* INET6_ADDRSTRLEN */
#define IP_REVLEN	74	/* 32 nibbles + dots + "ip6.arpa" + NUL */
#define CIDR_STRLEN	(IP_STRLEN + 4)	/* address + "/128" */

struct ip_addr {
	int	family;		/* AF_INET or AF_INET6 */
	uint8_t	a[16];
};

struct cidr {
	struct ip_addr	addr;	/* host bits cleared */
	unsigned	prefix;	/* 0..32 or 0..128 */
};

/* 0 on success, -1 when s[0..n) is not an address of either family
 * (empty, longer than IP_STRLEN - 1, embedded NUL, zone id, or anything
 * inet_pton(3) refuses). out is zeroed on failure. */
int	 ip_parse(const char *s, size_t n, struct ip_addr *out);
/* AF_INET / AF_INET6 sockaddrs; -1 for other families. A v4-mapped peer
 * stays IPv6: call ip_unmap_v4() where IPv4 semantics are wanted. */
int	 ip_from_sockaddr(const struct sockaddr *, struct ip_addr *out);
/* Canonical text (RFC 5952 for IPv6) into out[0..n), IP_STRLEN always
 * suffices. Returns out, or NULL (out set to "" when n > 0) when n is too
 * small or the family is unknown. The same holds for the other
 * formatters below. */
const char *ip_format(const struct ip_addr *, char *out, size_t n);
/* Same family and same address bytes. */
bool	 ip_equal(const struct ip_addr *, const struct ip_addr *);

/* ::ffff:a.b.c.d: SPF and DNSBLs must treat such a client as IPv4. */
bool	 ip_is_v4mapped(const struct ip_addr *);
void	 ip_unmap_v4(struct ip_addr *);	/* no-op unless v4-mapped */

/* True when the first prefix bits of a and b are equal (same family);
 * false for different families or a prefix wider than the family. */
bool	 ip_prefix_equal(const struct ip_addr *a, const struct ip_addr *b,
	    unsigned prefix);

/* "192.0.2.0/24", "2001:db8::/32"; a bare address is a host prefix.
 * The prefix length is strict decimal ("0" or no leading zero, no sign,
 * at most 32 or 128). Host bits set in the address are cleared. 0 or -1
 * (out zeroed). */
int	 cidr_parse(const char *s, size_t n, struct cidr *out);
/* The family must match: a v4-mapped IPv6 address does not match an IPv4
 * prefix unless the caller unmaps it first (ip_unmap_v4). */
bool	 cidr_match(const struct cidr *, const struct ip_addr *);
/* Always "address/prefix"; CIDR_STRLEN suffices. */
const char *cidr_format(const struct cidr *, char *out, size_t n);

/* "4.3.2.1.in-addr.arpa" or the 32-nibble ip6.arpa name, no final dot;
 * IP_REVLEN suffices. */
const char *ip_reverse_name(const struct ip_addr *, char *out, size_t n);
/* The reversed address without the arpa suffix, as DNSBLs want it:
 * "4.3.2.1" or dotted nibbles. */
const char *ip_reverse_label(const struct ip_addr *, char *out, size_t n);

#endif
