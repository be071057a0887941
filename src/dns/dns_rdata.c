/*
 * dns_rdata — wire-format rdata parsers. See dns_rdata.h.
 *
 * Implements the rdata layouts of RFC 1035 3.3 (NS, CNAME, PTR, MX, TXT)
 * and 3.4.1 (A), RFC 3596 2.2 (AAAA), RFC 6698 2.1 (TLSA) and RFC 7208
 * 3.1 (SPF, laid out as TXT). Every length is checked against what is
 * left before it is used; a parser never reads past p + n.
 */
#include "dns/dns_rdata.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* Bytes that mean something in a zone file and need a backslash. */
static bool
dns_name_special(uint8_t c)
{
	return c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' ||
	    c == ')' || c == '@' || c == '$';
}

/* Append one label byte in presentation form; returns the new length. */
static size_t
dns_name_put_byte(char *out, size_t o, uint8_t c)
{
	if (dns_name_special(c)) {
		out[o++] = '\\';
		out[o++] = (char)c;
	} else if (c > 0x20 && c < 0x7f) {
		out[o++] = (char)c;
	} else {
		snprintf(out + o, 5, "\\%03u", (unsigned)c);
		o += 4;
	}
	return o;
}

enum dns_rdata_result
dns_name_from_wire(const uint8_t *p, size_t n, char *out, size_t *used,
    const char **why)
{
	size_t i = 0, o = 0, j, len;

	for (;;) {
		if (i >= n) {
			*why = "name runs past the end of the data";
			return DNS_RDATA_TRUNCATED;
		}
		len = p[i];
		if ((len & 0xc0) != 0) {
			*why = "compressed or extended label in a name";
			return DNS_RDATA_MALFORMED;
		}
		if (len == 0)
			break;
		/* this label, its length byte and the final root byte */
		if (i + 2 + len > DNS_NAME_WIRE_MAX) {
			*why = "name longer than 255 bytes";
			return DNS_RDATA_MALFORMED;
		}
		if (len > n - i - 1) {
			*why = "label runs past the end of the data";
			return DNS_RDATA_TRUNCATED;
		}
		if (o > 0)
			out[o++] = '.';
		for (j = 0; j < len; j++)
			o = dns_name_put_byte(out, o, p[i + 1 + j]);
		i += 1 + len;
	}
	out[o] = '\0';
	*used = i + 1;
	return DNS_RDATA_OK;
}

/* A whole rdata that is exactly one name (NS, CNAME, PTR). */
static enum dns_rdata_result
dns_rdata_name(struct arena *a, const uint8_t *p, size_t n, char **name,
    const char **why)
{
	char text[DNS_NAME_TEXT_MAX];
	enum dns_rdata_result r;
	size_t used;

	if ((r = dns_name_from_wire(p, n, text, &used, why)) != DNS_RDATA_OK)
		return r;
	if (used != n) {
		*why = "bytes after the name";
		return DNS_RDATA_TRAILING;
	}
	*name = arena_strdup(a, text);
	return DNS_RDATA_OK;
}

static enum dns_rdata_result
dns_rdata_addr(const uint8_t *p, size_t n, uint16_t type, struct dns_rr *rr,
    const char **why)
{
	size_t want = type == DNS_T_A ? 4 : 16;

	if (n != want) {
		*why = type == DNS_T_A ? "A rdata is not 4 bytes" :
		    "AAAA rdata is not 16 bytes";
		return n < want ? DNS_RDATA_TRUNCATED : DNS_RDATA_TRAILING;
	}
	memset(&rr->u.ip, 0, sizeof(rr->u.ip));
	rr->u.ip.family = type == DNS_T_A ? AF_INET : AF_INET6;
	memcpy(rr->u.ip.a, p, want);
	return DNS_RDATA_OK;
}

static enum dns_rdata_result
dns_rdata_mx(struct arena *a, const uint8_t *p, size_t n, struct dns_rr *rr,
    const char **why)
{
	if (n < 2) {
		*why = "MX rdata shorter than its preference";
		return DNS_RDATA_TRUNCATED;
	}
	rr->u.mx.pref = (uint16_t)(p[0] << 8 | p[1]);
	return dns_rdata_name(a, p + 2, n - 2, &rr->u.mx.host, why);
}

/* Count the character-strings in p[0..n), checking every length. */
static enum dns_rdata_result
dns_txt_count(const uint8_t *p, size_t n, size_t *count, size_t *total,
    const char **why)
{
	size_t i = 0;

	*count = 0;
	*total = 0;
	if (n == 0) {
		*why = "TXT rdata without any string";
		return DNS_RDATA_TRUNCATED;
	}
	while (i < n) {
		if (p[i] > n - i - 1) {
			*why = "TXT string runs past the end of the data";
			return DNS_RDATA_TRUNCATED;
		}
		*total += p[i];
		i += 1 + (size_t)p[i];
		(*count)++;
	}
	return DNS_RDATA_OK;
}

static enum dns_rdata_result
dns_rdata_txt(struct arena *a, const uint8_t *p, size_t n, struct dns_rr *rr,
    const char **why)
{
	enum dns_rdata_result r;
	size_t count, total, i = 0, k, o = 0;
	char *joined;

	if ((r = dns_txt_count(p, n, &count, &total, why)) != DNS_RDATA_OK)
		return r;
	rr->u.txt.strings = arena_calloc(a, count, sizeof(*rr->u.txt.strings));
	joined = arena_alloc(a, total + 1);
	for (k = 0; k < count; k++) {
		size_t len = p[i];

		memcpy(joined + o, p + i + 1, len);
		rr->u.txt.strings[k].p = joined + o;
		rr->u.txt.strings[k].len = len;
		o += len;
		i += 1 + len;
	}
	joined[o] = '\0';
	rr->u.txt.nstrings = count;
	rr->u.txt.joined = joined;
	rr->u.txt.joined_len = o;
	return DNS_RDATA_OK;
}

static enum dns_rdata_result
dns_rdata_tlsa(struct arena *a, const uint8_t *p, size_t n,
    struct dns_rr *rr, const char **why)
{
	if (n < 4) {
		*why = "TLSA rdata shorter than its fields";
		return DNS_RDATA_TRUNCATED;
	}
	rr->u.tlsa.usage = p[0];
	rr->u.tlsa.selector = p[1];
	rr->u.tlsa.mtype = p[2];
	rr->u.tlsa.len = n - 3;
	rr->u.tlsa.data = arena_memdup(a, p + 3, n - 3);
	return DNS_RDATA_OK;
}

enum dns_rdata_result
dns_rdata_parse(struct arena *a, uint16_t type, const uint8_t *p, size_t n,
    struct dns_rr *rr, const char **why)
{
	memset(&rr->u, 0, sizeof(rr->u));
	rr->type = type;
	*why = NULL;
	switch (type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		return dns_rdata_addr(p, n, type, rr, why);
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		return dns_rdata_name(a, p, n, &rr->u.name, why);
	case DNS_T_MX:
		return dns_rdata_mx(a, p, n, rr, why);
	case DNS_T_TXT:
	case DNS_T_SPF:
		return dns_rdata_txt(a, p, n, rr, why);
	case DNS_T_TLSA:
		return dns_rdata_tlsa(a, p, n, rr, why);
	default:
		rr->u.raw.len = n;
		rr->u.raw.data = arena_memdup(a, p, n);
		return DNS_RDATA_OK;
	}
}
