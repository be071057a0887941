/*
 * fuzz_dns_zone — the zone-file parser on arbitrary text, then a few
 * lookups in whatever zone it accepted (CNAME chasing, empty
 * non-terminals) and the rendering of their answers.
 */
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "core/buf.h"
#include "dns/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct {
	const char	*name;
	uint16_t	 type;
} fuzz_lookups[] = {
	{ "example.org", DNS_T_TXT },
	{ "a.example.org", DNS_T_A },
	{ "a.example.org", DNS_T_CNAME },
	{ "b.example.org", DNS_T_MX },
	{ "example.org", DNS_T_SOA },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct event_base *base;
	struct dns_resolver *r;
	struct dns_answer *ans;
	struct buf b = BUF_INIT;
	char err[256];
	size_t i;

	if (base == NULL && (base = event_base_new()) == NULL)
		return 0;
	r = dns_zone_new(base);
	if (dns_zone_load(r, (const char *)data, size, "example.org", err,
	    sizeof(err)) == 0) {
		for (i = 0; i < sizeof(fuzz_lookups) / sizeof(fuzz_lookups[0]);
		    i++) {
			ans = dns_query_sync(r, base, fuzz_lookups[i].name,
			    fuzz_lookups[i].type);
			dns_answer_format(ans, &b);
			dns_answer_free(ans);
		}
	}
	buf_free(&b);
	dns_resolver_free(r);
	return 0;
}
