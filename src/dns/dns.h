/*
 * dns — the one resolver interface everything above it uses.
 *
 * Callers ask for (name, type) and get a struct dns_answer in a callback
 * on the libevent loop; the callback holds a reference to the answer and
 * lets go of it with dns_answer_free(). Answers are read-only: the answer
 * cache (dns_cache.h) hands the same answer to every caller that asks for
 * the same name within a second. Outcomes are distinct, because SPF,
 * DKIM and DMARC each treat them differently (RFC 7208 2.6, RFC 6376
 * 6.1.2):
 *
 *	DNS_OK		records of the asked type (after following CNAMEs)
 *	DNS_NODATA	the name exists, no records of that type
 *	DNS_NXDOMAIN	the name does not exist
 *	DNS_SERVFAIL	SERVFAIL or another error rcode (in rcode)
 *	DNS_TIMEOUT	no answer within the timeout
 *	DNS_ERROR	a local problem: bad name, resolver not usable
 *
 * Backends: dns_unbound.c (libunbound on the event loop, caching, real
 * servers) and dns_zone.c (an in-memory zone parsed from zone-file text,
 * for tests and for "what if I publish this record" checks). Callbacks
 * always run from the event loop, never from inside dns_query(), so
 * callers need not guard against re-entry.
 */
#ifndef NETJES_DNS_DNS_H
#define NETJES_DNS_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/ip.h"

struct event_base;

enum dns_type {
	DNS_T_A = 1,
	DNS_T_NS = 2,
	DNS_T_CNAME = 5,
	DNS_T_SOA = 6,
	DNS_T_PTR = 12,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28,
	DNS_T_TLSA = 52,
	DNS_T_SPF = 99,
};

enum dns_status {
	DNS_OK = 0,
	DNS_NODATA,
	DNS_NXDOMAIN,
	DNS_SERVFAIL,
	DNS_TIMEOUT,
	DNS_ERROR,
};

struct dns_txt_string {
	const char	*p;	/* not NUL-terminated by contract; len rules */
	size_t		 len;
};

struct dns_rr {
	uint16_t	 type;
	uint32_t	 ttl;
	union {
		struct ip_addr	 ip;		/* A, AAAA */
		char		*name;		/* PTR, CNAME, NS */
		struct {
			uint16_t	 pref;
			char		*host;
		} mx;
		struct {
			size_t			 nstrings;
			struct dns_txt_string	*strings;
			char			*joined;	/* all strings, NUL after */
			size_t			 joined_len;
		} txt;				/* TXT, SPF */
		struct {
			uint8_t		 usage, selector, mtype;
			uint8_t		*data;
			size_t		 len;
		} tlsa;
		struct {
			uint8_t		*data;
			size_t		 len;
		} raw;				/* any other type */
	} u;
};

struct dns_answer {
	enum dns_status	 status;
	int		 rcode;		/* as received; 0 when not known */
	uint16_t	 type;
	char		*qname;		/* as asked, no final dot */
	char		*canonname;	/* after CNAMEs; = qname without */
	bool		 secure;	/* DNSSEC-validated */
	bool		 bogus;		/* DNSSEC validation failed */
	size_t		 n;
	struct dns_rr	*rr;
	const char	*why;		/* human reason when not DNS_OK */
	struct arena	*arena;		/* owns everything above */
	unsigned	 shares;	/* holders besides one; for dns/ only */
};

typedef void dns_cb(struct dns_answer *answer, void *arg);

struct dns_options {
	const char	*nameserver;	/* "HOST", "HOST:PORT", "[V6]:PORT"; NULL: system */
	double		 timeout;	/* seconds per lookup; <= 0: 5 */
	bool		 cache;		/* keep a cache between lookups: the
					 * backend's, and (dns_cache.h) an
					 * answer cache on the loop thread */
	size_t		 cache_entries;	/* bound of the latter; 0: 10000 */
	const char	*trust_anchor;	/* DNSSEC root key file; NULL: the
					 * system's (DNS_ROOT_KEY) when no
					 * nameserver is set, else none */
	bool		 local;		/* private and loopback names and
					 * servers without a nameserver too
					 * (a nameserver implies it) */
};

/* Debian's dns-root-data: the root zone's trust anchor (DS and DNSKEY). */
#define DNS_ROOT_KEY	"/usr/share/dns/root.key"

struct dns_resolver;
struct dns_query;

/* Backends. err receives a static or strerror-style reason on failure. */
struct dns_resolver	*dns_unbound_new(struct event_base *,
			    const struct dns_options *, const char **err);
struct dns_resolver	*dns_zone_new(struct event_base *);

/* One libunbound setting ("name:", "value") the unbound backend applies
 * for a set of options; dns_unbound_settings() lists them (at most max,
 * returns how many there are), so tests can see what production gets. */
struct dns_unbound_setting {
	const char	*name;
	const char	*value;
};
#define DNS_UNBOUND_SETTINGS_MAX	16
size_t		 dns_unbound_settings(const struct dns_options *,
		    struct dns_unbound_setting *, size_t max);
/*
 * Load zone-file text (RFC 1035 5.1 master-file syntax: $ORIGIN, $TTL,
 * parentheses, quoted TXT strings with \DDD escapes; relative names
 * against origin). Several loads add up. On error returns -1 and writes
 * "line N: reason" into err.
 */
int		 dns_zone_load(struct dns_resolver *, const char *text,
		    size_t n, const char *origin, char *err, size_t errlen);
/* Make every lookup of (name, type) fail with status (SERVFAIL, TIMEOUT);
 * type 0 means every type. */
void		 dns_zone_set_failure(struct dns_resolver *, const char *name,
		    uint16_t type, enum dns_status status);

/* Start a lookup. The callback runs exactly once, from the loop (a name
 * that is not valid gets DNS_ERROR), unless the query is cancelled. NULL
 * only when a backend could not even start the query; the callback then
 * still runs from the loop and cannot be cancelled. */
struct dns_query	*dns_query(struct dns_resolver *, const char *name,
			    uint16_t type, dns_cb *cb, void *arg);
/* The callback will not run; safe until the callback has started. */
void		 dns_cancel(struct dns_query *);
void		 dns_resolver_free(struct dns_resolver *);

/* Blocking lookup for CLI use: runs the loop until the answer is in. */
struct dns_answer	*dns_query_sync(struct dns_resolver *,
			    struct event_base *, const char *name,
			    uint16_t type);

/* Let go of one reference; the last one frees the answer. */
void		 dns_answer_free(struct dns_answer *);

/* Key lookups (DKIM, ARC) try each TXT record of a name in turn; more
 * than this many at one selector is not a key set, and the rest is
 * ignored. */
#define DNS_TXT_MAX	16

/* The TXT records of an answer (their joined strings), in order, at most
 * max of them: pointers into the answer. 0 unless the status is DNS_OK. */
size_t		 dns_answer_txt(const struct dns_answer *, const char **txt,
		    size_t *len, size_t max);

/* True when name (without the final dot; "" is the root) is usable in
 * a query: presentation format, at most 253 octets, labels of 1..63
 * octets of printable ASCII; any other octet (a space from an SPF macro)
 * as an RFC 1035 "\DDD" or "\X" escape, counted as one octet. */
bool		 dns_name_valid(const char *name);

const char	*dns_type_name(uint16_t type);	/* "TYPE65" for unknown */
int		 dns_type_parse(const char *, uint16_t *out);	/* 0 or -1 */
const char	*dns_status_name(enum dns_status);	/* "NXDOMAIN", ... */
/* Zone-file lines (one per record) for answers, a ";; STATUS" comment
 * line otherwise. */
void		 dns_answer_format(const struct dns_answer *, struct buf *);
/* The rdata of one record as zone-file text ("10 mx.example.", quoted
 * TXT strings, "3 1 1 HEX", RFC 3597 "\\# LEN HEX" for unknown types). */
void		 dns_rr_format_rdata(const struct dns_rr *, struct buf *);

#endif
