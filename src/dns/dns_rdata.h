/*
 * dns_rdata — pure parsers of DNS wire-format record data.
 *
 * The bytes come from the network (through libunbound, which hands each
 * record's rdata separately and with names uncompressed), so every
 * function here is a pure parser of untrusted input: pointer and length
 * in, a struct filled from the caller's arena out, a result code and a
 * static reason string. No I/O, no globals, no allocation elsewhere.
 *
 * Names come out in presentation form without the final dot ("" for the
 * root); bytes that would be ambiguous in a zone file are escaped as \c
 * or \DDD (RFC 1035 5.1). Compression pointers are rejected: rdata as
 * libunbound delivers it never holds them.
 */
#ifndef NETJES_DNS_DNS_RDATA_H
#define NETJES_DNS_DNS_RDATA_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "dns/dns.h"

#define DNS_NAME_WIRE_MAX	255	/* RFC 1035 2.3.4 */
#define DNS_LABEL_MAX		63
#define DNS_TXT_STRING_MAX	255
/* Every one of the 255 wire bytes escaped as \DDD, plus the NUL. */
#define DNS_NAME_TEXT_MAX	(4 * DNS_NAME_WIRE_MAX + 1)

enum dns_rdata_result {
	DNS_RDATA_OK = 0,
	DNS_RDATA_TRUNCATED,	/* ran out of bytes mid-field */
	DNS_RDATA_MALFORMED,	/* bytes present but not a valid value */
	DNS_RDATA_TRAILING,	/* bytes left after the last field */
};

/*
 * Parse one uncompressed wire-format name at p[0..n). On success writes
 * the presentation form into out (size DNS_NAME_TEXT_MAX) and the wire
 * length into *used.
 */
enum dns_rdata_result	 dns_name_from_wire(const uint8_t *p, size_t n,
			    char *out, size_t *used, const char **why);

/*
 * Parse the rdata of one record of the given type into rr (rr->type is
 * set, rr->ttl is left alone). Types without a parser of their own are
 * kept as raw bytes. Everything rr points to comes from arena.
 */
enum dns_rdata_result	 dns_rdata_parse(struct arena *, uint16_t type,
			    const uint8_t *p, size_t n, struct dns_rr *rr,
			    const char **why);

#endif
