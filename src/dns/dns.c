/*
 * dns — the backend-independent half of the resolver interface.
 *
 * Dispatches dns_query/dns_cancel/dns_resolver_free to the backend's ops
 * (see dns_backend.h), checks query names once for every backend, runs
 * the loop for dns_query_sync(), and renders answers as zone-file text
 * (RFC 1035 5.1; RFC 3597 5 for types without a parser). Backends never
 * call the user's callback from inside dns_query(): refusals go through
 * dns_answer_defer(), which hops through the event loop.
 */
#include "dns/dns.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "dns/dns_backend.h"
#include "dns/dns_rdata.h"

static const struct {
	uint16_t	 type;
	const char	*name;
} dns_types[] = {
	{ DNS_T_A, "A" },
	{ DNS_T_NS, "NS" },
	{ DNS_T_CNAME, "CNAME" },
	{ DNS_T_SOA, "SOA" },
	{ DNS_T_PTR, "PTR" },
	{ DNS_T_MX, "MX" },
	{ DNS_T_TXT, "TXT" },
	{ DNS_T_AAAA, "AAAA" },
	{ DNS_T_TLSA, "TLSA" },
	{ DNS_T_SPF, "SPF" },
};

#define DNS_NTYPES	(sizeof(dns_types) / sizeof(dns_types[0]))

/* ---- answers ------------------------------------------------------- */

struct dns_answer *
dns_answer_new(const char *qname, uint16_t type, enum dns_status status,
    const char *why)
{
	struct arena *a = arena_new(0);
	struct dns_answer *ans;
	size_t len = qname != NULL ? strlen(qname) : 0;

	if (len > 0 && qname[len - 1] == '.')
		len--;
	ans = arena_calloc(a, 1, sizeof(*ans));
	ans->arena = a;
	ans->status = status;
	ans->type = type;
	ans->qname = arena_strndup(a, qname != NULL ? qname : "", len);
	ans->canonname = ans->qname;
	ans->why = why != NULL ? arena_strdup(a, why) : NULL;
	return ans;
}

size_t
dns_answer_txt(const struct dns_answer *ans, const char **txt, size_t *len,
    size_t max)
{
	size_t i, n = 0;

	if (ans->status != DNS_OK)
		return 0;
	for (i = 0; i < ans->n && n < max; i++)
		if (ans->rr[i].type == DNS_T_TXT) {
			txt[n] = ans->rr[i].u.txt.joined;
			len[n++] = ans->rr[i].u.txt.joined_len;
		}
	return n;
}

void
dns_answer_free(struct dns_answer *ans)
{
	if (ans == NULL)
		return;
	if (ans->shares > 0)
		ans->shares--;	/* another holder still reads it */
	else
		arena_free(ans->arena);
}

struct dns_deferred {
	struct dns_answer	*answer;
	dns_cb			*cb;
	void			*arg;
};

static void
dns_deferred_fire(evutil_socket_t fd, short what, void *arg)
{
	struct dns_deferred *d = arg;

	(void)fd;
	(void)what;
	d->cb(d->answer, d->arg);	/* d lives in the answer's arena */
}

void
dns_answer_defer(struct event_base *base, struct dns_answer *ans,
    dns_cb *cb, void *arg)
{
	static const struct timeval now = { 0, 0 };
	struct dns_deferred *d;

	d = arena_alloc(ans->arena, sizeof(*d));
	d->answer = ans;
	d->cb = cb;
	d->arg = arg;
	if (event_base_once(base, -1, EV_TIMEOUT, dns_deferred_fire, d,
	    &now) != 0)
		abort();	/* out of memory inside libevent */
}

void
dns_rr_copy(struct arena *a, struct dns_rr *dst, const struct dns_rr *src)
{
	size_t i;

	*dst = *src;
	switch (src->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		break;
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		dst->u.name = arena_strdup(a, src->u.name);
		break;
	case DNS_T_MX:
		dst->u.mx.host = arena_strdup(a, src->u.mx.host);
		break;
	case DNS_T_TXT:
	case DNS_T_SPF:
		dst->u.txt.joined = arena_memdup(a, src->u.txt.joined,
		    src->u.txt.joined_len + 1);
		dst->u.txt.strings = arena_calloc(a, src->u.txt.nstrings,
		    sizeof(*dst->u.txt.strings));
		for (i = 0; i < src->u.txt.nstrings; i++) {
			dst->u.txt.strings[i].len = src->u.txt.strings[i].len;
			dst->u.txt.strings[i].p = dst->u.txt.joined +
			    (src->u.txt.strings[i].p - src->u.txt.joined);
		}
		break;
	case DNS_T_TLSA:
		dst->u.tlsa.data = arena_memdup(a, src->u.tlsa.data,
		    src->u.tlsa.len);
		break;
	default:
		dst->u.raw.data = arena_memdup(a, src->u.raw.data,
		    src->u.raw.len);
		break;
	}
}

/*
 * Length of the presentation-format escape at p ("\DDD" or "\X"), or 0
 * when it is malformed. RFC 1035 5.1: such escapes let a name carry any
 * octet; SPF macros (RFC 7208 7) can expand to spaces, which callers pass
 * as "\032".
 */
static size_t
dns_name_escape_len(const char *p)
{
	if (p[1] >= '0' && p[1] <= '9') {
		if (p[2] < '0' || p[2] > '9' || p[3] < '0' || p[3] > '9')
			return 0;
		if ((p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0') > 255)
			return 0;
		return 4;
	}
	if ((unsigned char)p[1] <= 0x20 || (unsigned char)p[1] >= 0x7f)
		return 0;
	return 2;
}

/*
 * Octets that stand for themselves in a name: printable ASCII except
 * '.' and '\\'. A table, because every query's name passes here.
 */
static bool
dns_name_plain(unsigned char c)
{
	static const uint64_t plain[4] = {
		/* 0x21-0x3f without '.' (0x2e) */
		0xffffbffe00000000ull,
		/* 0x40-0x7e without '\\' (0x5c) */
		0x7fffffffefffffffull, 0, 0,
	};

	return (plain[c >> 6] >> (c & 63)) & 1;
}

bool
dns_name_valid(const char *name)
{
	size_t label = 0, octets = 0, esc;
	const char *p;

	for (p = name; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (dns_name_plain(c)) {
			label++;
			continue;
		}
		if (c == '.') {
			if (label == 0 || label > DNS_LABEL_MAX)
				return false;	/* empty or long label */
			octets += label + 1;
			label = 0;
			continue;
		}
		if (c != '\\' || (esc = dns_name_escape_len(p)) == 0)
			return false;
		p += esc - 1;
		label++;
	}
	if (label > DNS_LABEL_MAX || octets + label > 253)
		return false;
	return p == name || label > 0;
}

/* ---- dispatch ------------------------------------------------------ */

struct dns_query *
dns_query(struct dns_resolver *r, const char *name, uint16_t type,
    dns_cb *cb, void *arg)
{
	char clean[DNS_NAME_WIRE_MAX + 1];
	size_t len = strlen(name);

	if (name[0] == '\0' || type == 0)
		goto bad;
	if (name[len - 1] == '.') {
		len--;
		if (len >= sizeof(clean))
			goto bad;
		memcpy(clean, name, len);	/* without the final dot */
		clean[len] = '\0';
		name = clean;
	}
	if (len >= sizeof(clean))
		goto bad;
	if (!r->ops->checks_names && !dns_name_valid(name))
		goto bad;
	return r->ops->query(r, name, type, cb, arg);
bad:
	return dns_refuse(r, len < 256 ? name : "", type, cb, arg);
}

/* A refused query: its answer waits for the loop, and can be cancelled. */
struct dns_refusal {
	struct dns_query	 common;	/* first */
	struct dns_answer	*answer;
	struct event		*ev;
};

static void
dns_refusal_fire(evutil_socket_t fd, short what, void *arg)
{
	struct dns_refusal *rq = arg;
	struct dns_answer *ans = rq->answer;
	dns_cb *cb = rq->common.cb;
	void *cb_arg = rq->common.arg;

	(void)fd;
	(void)what;
	event_free(rq->ev);
	free(rq);
	cb(ans, cb_arg);
}

static void
dns_refusal_cancel(struct dns_query *q)
{
	struct dns_refusal *rq = (struct dns_refusal *)q;

	event_free(rq->ev);
	dns_answer_free(rq->answer);
	free(rq);
}

struct dns_query *
dns_refuse(struct dns_resolver *r, const char *name, uint16_t type,
    dns_cb *cb, void *arg)
{
	static const struct timeval now = { 0, 0 };
	struct dns_refusal *rq;

	if ((rq = calloc(1, sizeof(*rq))) == NULL)
		abort();
	rq->common.resolver = r;
	rq->common.cb = cb;
	rq->common.arg = arg;
	rq->common.cancel = dns_refusal_cancel;
	rq->answer = dns_answer_new(name, type, DNS_ERROR,
	    "not a valid domain name");
	if ((rq->ev = evtimer_new(r->base, dns_refusal_fire, rq)) == NULL ||
	    evtimer_add(rq->ev, &now) != 0)
		abort();	/* out of memory inside libevent */
	return &rq->common;
}

void
dns_cancel(struct dns_query *q)
{
	if (q == NULL)
		return;
	if (q->cancel != NULL)
		q->cancel(q);
	else
		q->resolver->ops->cancel(q);
}

void
dns_resolver_free(struct dns_resolver *r)
{
	if (r != NULL)
		r->ops->free(r);
}

struct dns_sync {
	struct dns_answer	*answer;
};

static void
dns_sync_done(struct dns_answer *ans, void *arg)
{
	struct dns_sync *s = arg;

	s->answer = ans;
}

struct dns_answer *
dns_query_sync(struct dns_resolver *r, struct event_base *base,
    const char *name, uint16_t type)
{
	struct dns_sync s = { NULL };
	struct dns_query *q;

	q = dns_query(r, name, type, dns_sync_done, &s);
	while (s.answer == NULL) {
		/* 1: nothing left to wait for, -1: the loop broke */
		if (event_base_loop(base, EVLOOP_ONCE) != 0)
			break;
	}
	if (s.answer != NULL)
		return s.answer;
	dns_cancel(q);
	return dns_answer_new(name, type, DNS_ERROR,
	    "the event loop stopped before the answer came");
}

/* ---- names --------------------------------------------------------- */

const char *
dns_type_name(uint16_t type)
{
	static _Thread_local char other[sizeof("TYPE65535")];
	size_t i;

	for (i = 0; i < DNS_NTYPES; i++)
		if (dns_types[i].type == type)
			return dns_types[i].name;
	snprintf(other, sizeof(other), "TYPE%u", (unsigned)type);
	return other;
}

int
dns_type_parse(const char *s, uint16_t *out)
{
	unsigned long v;
	char *end;
	size_t i;

	for (i = 0; i < DNS_NTYPES; i++) {
		if (strcasecmp(s, dns_types[i].name) == 0) {
			*out = dns_types[i].type;
			return 0;
		}
	}
	/* RFC 3597 5: TYPEnnn for any type */
	if (strncasecmp(s, "TYPE", 4) != 0 || s[4] < '0' || s[4] > '9')
		return -1;
	v = strtoul(s + 4, &end, 10);
	if (*end != '\0' || v == 0 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

const char *
dns_status_name(enum dns_status st)
{
	switch (st) {
	case DNS_OK:		return "OK";
	case DNS_NODATA:	return "NODATA";
	case DNS_NXDOMAIN:	return "NXDOMAIN";
	case DNS_SERVFAIL:	return "SERVFAIL";
	case DNS_TIMEOUT:	return "TIMEOUT";
	case DNS_ERROR:		return "ERROR";
	}
	return "UNKNOWN";
}

static const char *
dns_rcode_name(int rcode)
{
	static const char *names[] = { "NOERROR", "FORMERR", "SERVFAIL",
	    "NXDOMAIN", "NOTIMP", "REFUSED" };

	if (rcode >= 0 && rcode < 6)
		return names[rcode];
	return NULL;
}

/* ---- zone-file text ------------------------------------------------ */

/* A name as stored (no final dot) in absolute zone-file form. */
static void
dns_put_name(struct buf *b, const char *name)
{
	buf_append_str(b, name);	/* "" is the root: just the dot */
	buf_append_char(b, '.');
}

static void
dns_put_hex(struct buf *b, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf_printf(b, "%02X", p[i]);
}

static void
dns_put_txt_string(struct buf *b, const char *p, size_t n)
{
	size_t i;

	buf_append_char(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '"' || c == '\\') {
			buf_append_char(b, '\\');
			buf_append_char(b, (char)c);
		} else if (c < 0x20 || c >= 0x7f) {
			buf_printf(b, "\\%03u", (unsigned)c);
		} else {
			buf_append_char(b, (char)c);
		}
	}
	buf_append_char(b, '"');
}

static void
dns_put_raw(struct buf *b, const uint8_t *p, size_t n)
{
	buf_printf(b, "\\# %zu", n);
	if (n > 0) {
		buf_append_char(b, ' ');
		dns_put_hex(b, p, n);
	}
}

/* SOA is kept raw by the rdata parser; show it in its usual form. */
static void
dns_put_soa(struct buf *b, const uint8_t *p, size_t n)
{
	char mname[DNS_NAME_TEXT_MAX], rname[DNS_NAME_TEXT_MAX];
	const char *why;
	size_t u1, u2, i;
	uint32_t v[5];

	if (dns_name_from_wire(p, n, mname, &u1, &why) != DNS_RDATA_OK ||
	    dns_name_from_wire(p + u1, n - u1, rname, &u2, &why) !=
	    DNS_RDATA_OK || n - u1 - u2 != 20) {
		dns_put_raw(b, p, n);
		return;
	}
	p += u1 + u2;
	for (i = 0; i < 5; i++, p += 4)
		v[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		    (uint32_t)p[2] << 8 | p[3];
	dns_put_name(b, mname);
	buf_append_char(b, ' ');
	dns_put_name(b, rname);
	buf_printf(b, " %u %u %u %u %u", v[0], v[1], v[2], v[3], v[4]);
}

static void
dns_put_txt(struct buf *b, const struct dns_rr *rr)
{
	size_t i;

	for (i = 0; i < rr->u.txt.nstrings; i++) {
		if (i > 0)
			buf_append_char(b, ' ');
		dns_put_txt_string(b, rr->u.txt.strings[i].p,
		    rr->u.txt.strings[i].len);
	}
}

void
dns_rr_format_rdata(const struct dns_rr *rr, struct buf *b)
{
	char ip[INET6_ADDRSTRLEN];

	switch (rr->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		if (inet_ntop(rr->u.ip.family, rr->u.ip.a, ip, sizeof(ip)))
			buf_append_str(b, ip);
		break;
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		dns_put_name(b, rr->u.name);
		break;
	case DNS_T_MX:
		buf_printf(b, "%u ", (unsigned)rr->u.mx.pref);
		dns_put_name(b, rr->u.mx.host);
		break;
	case DNS_T_TXT:
	case DNS_T_SPF:
		dns_put_txt(b, rr);
		break;
	case DNS_T_TLSA:
		buf_printf(b, "%u %u %u ", rr->u.tlsa.usage,
		    rr->u.tlsa.selector, rr->u.tlsa.mtype);
		dns_put_hex(b, rr->u.tlsa.data, rr->u.tlsa.len);
		break;
	case DNS_T_SOA:
		dns_put_soa(b, rr->u.raw.data, rr->u.raw.len);
		break;
	default:
		dns_put_raw(b, rr->u.raw.data, rr->u.raw.len);
		break;
	}
}

static void
dns_put_failure(const struct dns_answer *ans, struct buf *b)
{
	const char *rc = dns_rcode_name(ans->rcode);

	buf_printf(b, ";; %s ", dns_status_name(ans->status));
	dns_put_name(b, ans->qname);
	buf_printf(b, " %s", dns_type_name(ans->type));
	if (ans->status == DNS_SERVFAIL && ans->rcode != 0) {
		if (rc != NULL)
			buf_printf(b, " rcode=%s", rc);
		else
			buf_printf(b, " rcode=%d", ans->rcode);
	}
	if (ans->bogus)
		buf_append_str(b, " bogus");
	if (ans->why != NULL && ans->why[0] != '\0')
		buf_printf(b, " (%s)", ans->why);
	buf_append_char(b, '\n');
}

void
dns_answer_format(const struct dns_answer *ans, struct buf *b)
{
	size_t i;

	if (ans->status != DNS_OK) {
		dns_put_failure(ans, b);
		return;
	}
	for (i = 0; i < ans->n; i++) {
		const struct dns_rr *rr = &ans->rr[i];

		dns_put_name(b, ans->canonname);
		buf_printf(b, " %u IN %s ", rr->ttl, dns_type_name(rr->type));
		dns_rr_format_rdata(rr, b);
		buf_append_char(b, '\n');
	}
}
