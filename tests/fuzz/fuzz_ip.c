/*
 * Fuzz target for core/ip: ip_parse and cidr_parse over arbitrary bytes.
 * Whatever parses must format, parse back to the same value, match its
 * own prefix and yield reverse names; anything else aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/ip.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_addr(const struct ip_addr *ip)
{
	char text[IP_STRLEN], rev[IP_REVLEN];
	struct ip_addr again, unmapped;
	struct cidr host;

	if (ip_format(ip, text, sizeof(text)) == NULL)
		abort();
	if (ip_parse(text, strlen(text), &again) != 0 || !ip_equal(ip, &again))
		abort();
	if (ip_reverse_name(ip, rev, sizeof(rev)) == NULL ||
	    ip_reverse_label(ip, rev, sizeof(rev)) == NULL)
		abort();
	unmapped = *ip;
	ip_unmap_v4(&unmapped);
	if (ip_is_v4mapped(ip) != (unmapped.family != ip->family))
		abort();
	host.addr = *ip;
	host.prefix = ip->family == AF_INET ? 32 : 128;
	if (!cidr_match(&host, ip))
		abort();
	if (ip_is_v4mapped(ip) && cidr_match(&host, &unmapped))
		abort();
}

static void
check_cidr(const struct cidr *c)
{
	char text[CIDR_STRLEN];
	struct cidr again;

	if (cidr_format(c, text, sizeof(text)) == NULL)
		abort();
	if (cidr_parse(text, strlen(text), &again) != 0 ||
	    again.prefix != c->prefix || !ip_equal(&again.addr, &c->addr))
		abort();
	if (!cidr_match(c, &c->addr))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct ip_addr ip;
	struct cidr c;

	if (ip_parse(s, size, &ip) == 0)
		check_addr(&ip);
	if (cidr_parse(s, size, &c) == 0)
		check_cidr(&c);
	return 0;
}
