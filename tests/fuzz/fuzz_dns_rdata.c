/*
 * fuzz_dns_rdata — the wire-format rdata parser on arbitrary bytes.
 *
 * The first two bytes pick the record type (so every parser and the raw
 * fallback are reached), the rest is the rdata. A record that parses is
 * also rendered as zone text, which walks every field the parser filled.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "dns/dns.h"
#include "dns/dns_rdata.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[DNS_NAME_TEXT_MAX];
	struct arena *a;
	struct buf b = BUF_INIT;
	struct dns_rr rr;
	const char *why;
	uint16_t type;
	size_t used;

	if (size < 2)
		return 0;
	type = (uint16_t)(data[0] << 8 | data[1]);
	a = arena_new(0);
	if (dns_rdata_parse(a, type, data + 2, size - 2, &rr, &why) ==
	    DNS_RDATA_OK)
		dns_rr_format_rdata(&rr, &b);
	(void)dns_name_from_wire(data + 2, size - 2, name, &used, &why);
	buf_free(&b);
	arena_free(a);
	return 0;
}
