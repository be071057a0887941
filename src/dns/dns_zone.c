/*
 * dns_zone — an in-memory zone as a resolver backend.
 *
 * Zone-file text (RFC 1035 5.1: $ORIGIN, $TTL, '@', relative names,
 * optional TTL and class in either order, parentheses across lines, ';'
 * comments, quoted strings with \X and \DDD escapes) becomes a flat list
 * of records. The text is untrusted ("what if I publish this record?"),
 * so the lexer checks every length and never reads past the end.
 *
 * Lookups answer from the loop (a zero-delay timer, so they can still be
 * cancelled), follow up to 8 CNAMEs, and tell NXDOMAIN from NODATA the
 * way an authoritative server does: a name that only exists as a parent
 * of other names (an empty non-terminal, RFC 8020) is NODATA. Names are
 * compared case-insensitively (stored lowercase). Not supported:
 * wildcards, $INCLUDE, escapes inside names, classes other than IN.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/strnum.h"
#include "dns/dns.h"
#include "dns/dns_backend.h"
#include "dns/dns_rdata.h"

#define ZONE_MAX_CNAMES		8
#define ZONE_DEFAULT_TTL	3600
#define ZONE_TTL_MAX		2147483647u	/* RFC 2181 8 */

struct zone_rec {
	char		*owner;		/* lowercase, no final dot */
	struct dns_rr	 rr;
};

struct zone_failure {
	char		*name;
	uint16_t	 type;		/* 0: every type */
	enum dns_status	 status;
};

struct zone_query;

struct zone_resolver {
	struct dns_resolver	 common;	/* first: see dns_backend.h */
	struct arena		*arena;		/* records and names */
	struct zone_rec		*recs;
	size_t			 nrecs, caprecs;
	struct zone_failure	*fails;
	size_t			 nfails, capfails;
	struct zone_query	*pending;
};

struct zone_query {
	struct dns_query	 common;	/* first: see dns_backend.h */
	struct zone_resolver	*zr;
	struct event		*ev;
	char			 name[DNS_NAME_WIRE_MAX + 1];
	uint16_t		 type;
	struct zone_query	*next, **prevp;
};

/* ---- lexer --------------------------------------------------------- */

struct zone_tok {
	char	*p;		/* decoded bytes, NUL after */
	size_t	 len;
	bool	 quoted;
	bool	 escaped;	/* held a backslash escape */
};

struct zone_parser {
	struct zone_resolver	*zr;
	const char		*p, *end;
	size_t			 line;		/* of *p */
	size_t			 entry_line;	/* where the entry began */
	struct arena		*scratch;	/* tokens of one entry */
	struct zone_tok		*toks;
	size_t			 ntoks, captoks;
	bool			 leading_blank;
	char			 origin[DNS_NAME_WIRE_MAX + 1];
	char			 owner[DNS_NAME_WIRE_MAX + 1];
	bool			 have_owner;
	uint32_t		 default_ttl;	/* $TTL, else 3600 */
	char			*err;
	size_t			 errlen;
};

static int zone_fail(struct zone_parser *, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
zone_fail(struct zone_parser *zp, size_t line, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (zp->errlen > 0 && line == 0)	/* the origin argument */
		snprintf(zp->err, zp->errlen, "origin: %s", reason);
	else if (zp->errlen > 0)
		snprintf(zp->err, zp->errlen, "line %zu: %s", line, reason);
	return -1;
}

/* A token made safe to quote in a message: printable, at most 40. */
static const char *
zone_show(const struct zone_tok *t, char *out, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < t->len && o + 4 < n && i < 40; i++)
		out[o++] = isprint((unsigned char)t->p[i]) ? t->p[i] : '?';
	if (i < t->len && o + 4 < n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

static bool
zone_word_end(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' ||
	    c == '(' || c == ')' || c == '"';
}

/* One backslash escape at zp->p (just after the '\'): \DDD or \X. */
static int
zone_escape(struct zone_parser *zp, char *out)
{
	const char *p = zp->p;
	unsigned v;

	if (p >= zp->end || *p == '\n')
		return zone_fail(zp, zp->line, "backslash at the end of a line");
	if (!isdigit((unsigned char)*p)) {
		*out = *p;
		zp->p++;
		return 0;
	}
	if (zp->end - p < 3 || !isdigit((unsigned char)p[1]) ||
	    !isdigit((unsigned char)p[2]))
		return zone_fail(zp, zp->line, "\\DDD needs three digits");
	v = (unsigned)(p[0] - '0') * 100 + (unsigned)(p[1] - '0') * 10 +
	    (unsigned)(p[2] - '0');
	if (v > 255)
		return zone_fail(zp, zp->line, "\\%.3s is more than 255", p);
	*out = (char)v;
	zp->p += 3;
	return 0;
}

static struct zone_tok *
zone_tok_push(struct zone_parser *zp)
{
	struct zone_tok *t;

	if (zp->ntoks == zp->captoks) {
		zp->captoks = zp->captoks ? zp->captoks * 2 : 16;
		t = reallocarray(zp->toks, zp->captoks, sizeof(*t));
		if (t == NULL)
			abort();
		zp->toks = t;
	}
	t = &zp->toks[zp->ntoks++];
	memset(t, 0, sizeof(*t));
	return t;
}

/* Raw bytes up to the token's end: an upper bound of its decoded size,
 * so each token costs its own length, not the rest of the text. */
static size_t
zone_token_span(const struct zone_parser *zp, bool quoted)
{
	const char *p = zp->p;

	while (p < zp->end && *p != '\n' &&
	    (quoted ? *p != '"' : !zone_word_end(*p)))
		p += *p == '\\' && p + 1 < zp->end ? 2 : 1;
	return (size_t)(p - zp->p);
}

/* A word or (when quoted) a "string" starting at zp->p. */
static int
zone_read_token(struct zone_parser *zp, bool quoted)
{
	struct zone_tok *t = zone_tok_push(zp);

	if (quoted)
		zp->p++;
	t->p = arena_alloc(zp->scratch, zone_token_span(zp, quoted) + 1);
	t->quoted = quoted;
	for (;;) {
		if (zp->p >= zp->end || (quoted && *zp->p == '\n')) {
			if (quoted)
				return zone_fail(zp, zp->line,
				    "quoted string without its closing quote");
			break;
		}
		if (quoted ? *zp->p == '"' : zone_word_end(*zp->p))
			break;
		if (*zp->p == '\\') {
			zp->p++;
			t->escaped = true;
			if (zone_escape(zp, &t->p[t->len++]) != 0)
				return -1;
			continue;
		}
		if (*zp->p == '\0')
			return zone_fail(zp, zp->line,
			    "NUL byte in the text (write \\000)");
		t->p[t->len++] = *zp->p++;
	}
	if (quoted)
		zp->p++;	/* the closing quote */
	t->p[t->len] = '\0';
	return 0;
}

/* Skip blanks, comments and parentheses; 1 at a token, 0 at the end of
 * the entry (newline outside parentheses or end of text), -1 error. */
static int
zone_skip(struct zone_parser *zp, int *paren)
{
	while (zp->p < zp->end) {
		char c = *zp->p;

		if (c == '\n') {
			zp->p++;
			zp->line++;
			if (*paren == 0)
				return 0;
		} else if (c == ' ' || c == '\t' || c == '\r') {
			zp->p++;
		} else if (c == ';') {
			while (zp->p < zp->end && *zp->p != '\n')
				zp->p++;
		} else if (c == '(') {
			(*paren)++;
			zp->p++;
		} else if (c == ')') {
			if (*paren == 0)
				return zone_fail(zp, zp->line,
				    "')' without '('");
			(*paren)--;
			zp->p++;
		} else {
			return 1;
		}
	}
	if (*paren > 0)
		return zone_fail(zp, zp->entry_line, "'(' is never closed");
	return 0;
}

/* Read the tokens of one entry; 0 when the text is used up. */
static int
zone_read_entry(struct zone_parser *zp, bool *done)
{
	int paren = 0, r;

	arena_reset(zp->scratch);
	zp->ntoks = 0;
	zp->entry_line = zp->line;
	zp->leading_blank = zp->p < zp->end &&
	    (*zp->p == ' ' || *zp->p == '\t');
	while ((r = zone_skip(zp, &paren)) == 1)
		if (zone_read_token(zp, *zp->p == '"') != 0)
			return -1;
	*done = zp->p >= zp->end;
	return r;
}

/* ---- names and numbers --------------------------------------------- */

/*
 * Make tok an absolute, lowercase name without the final dot, relative
 * names taken against the current origin.
 */
static int
zone_name(struct zone_parser *zp, const struct zone_tok *t, char *out)
{
	char show[64];
	size_t n = t->len, i;
	int len;

	if (t->quoted || t->escaped || n == 0)
		return zone_fail(zp, zp->entry_line, "'%s' is not a usable "
		    "name (no quotes or escapes in names)",
		    zone_show(t, show, sizeof(show)));
	if (n == 1 && t->p[0] == '@')
		len = snprintf(out, DNS_NAME_WIRE_MAX + 1, "%s", zp->origin);
	else if (n == 1 && t->p[0] == '.')
		len = snprintf(out, DNS_NAME_WIRE_MAX + 1, "%s", "");
	else if (t->p[n - 1] == '.')
		len = snprintf(out, DNS_NAME_WIRE_MAX + 1, "%.*s",
		    (int)(n - 1), t->p);
	else
		len = snprintf(out, DNS_NAME_WIRE_MAX + 1, "%s%s%s", t->p,
		    zp->origin[0] ? "." : "", zp->origin);
	if (len < 0 || len > 253 || !dns_name_valid(out) ||
	    strlen(out) != (size_t)len)
		return zone_fail(zp, zp->entry_line, "'%s' is not a valid "
		    "domain name", zone_show(t, show, sizeof(show)));
	for (i = 0; out[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	return 0;
}

static char *
zone_name_dup(struct zone_parser *zp, const struct zone_tok *t)
{
	char name[DNS_NAME_WIRE_MAX + 1];

	if (zone_name(zp, t, name) != 0)
		return NULL;
	return arena_strdup(zp->zr->arena, name);
}

/* Unsigned decimal of at most max; -1 if t is not one. */
static int
zone_uint(const struct zone_tok *t, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (t->quoted || t->len == 0 || t->len > 10)
		return -1;
	for (i = 0; i < t->len; i++) {
		if (!isdigit((unsigned char)t->p[i]))
			return -1;
		v = v * 10 + (uint64_t)(t->p[i] - '0');
	}
	if (v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* A TTL: seconds, or BIND-style units ("1h30m", "2d"). */
static int
zone_ttl(const struct zone_tok *t, uint32_t *out)
{
	uint64_t total = 0, v = 0, mult;
	bool digits = false;
	size_t i;

	if (zone_uint(t, ZONE_TTL_MAX, out) == 0)
		return 0;
	if (t->quoted || t->len == 0 || t->len > 32)
		return -1;
	for (i = 0; i < t->len; i++) {
		char c = (char)tolower((unsigned char)t->p[i]);

		if (isdigit((unsigned char)c)) {
			v = v * 10 + (uint64_t)(c - '0');
			digits = true;
			if (v > ZONE_TTL_MAX)
				return -1;
			continue;
		}
		mult = c == 's' ? 1 : c == 'm' ? 60 : c == 'h' ? 3600 :
		    c == 'd' ? 86400 : c == 'w' ? 604800 : 0;
		if (mult == 0 || !digits)
			return -1;
		total += v * mult;
		if (total > ZONE_TTL_MAX)
			return -1;
		v = 0;
		digits = false;
	}
	if (digits)
		return -1;	/* "1h30": a number without a unit at the end */
	*out = (uint32_t)total;
	return 0;
}

/* ---- records ------------------------------------------------------- */

static int
zone_want(struct zone_parser *zp, size_t have, size_t want, const char *type)
{
	if (have == want)
		return 0;
	return zone_fail(zp, zp->entry_line, "%s wants %zu value%s, not %zu",
	    type, want, want == 1 ? "" : "s", have);
}

static int
zone_rdata_addr(struct zone_parser *zp, struct zone_tok *v, size_t n,
    struct dns_rr *rr)
{
	int af = rr->type == DNS_T_A ? AF_INET : AF_INET6;
	char show[64];

	if (zone_want(zp, n, 1, dns_type_name(rr->type)) != 0)
		return -1;
	memset(&rr->u.ip, 0, sizeof(rr->u.ip));
	rr->u.ip.family = af;
	if (v[0].quoted || inet_pton(af, v[0].p, rr->u.ip.a) != 1)
		return zone_fail(zp, zp->entry_line, "'%s' is not an %s "
		    "address", zone_show(&v[0], show, sizeof(show)),
		    af == AF_INET ? "IPv4" : "IPv6");
	return 0;
}

static int
zone_rdata_mx(struct zone_parser *zp, struct zone_tok *v, size_t n,
    struct dns_rr *rr)
{
	uint32_t pref;

	if (zone_want(zp, n, 2, "MX") != 0)
		return -1;
	if (zone_uint(&v[0], 65535, &pref) != 0)
		return zone_fail(zp, zp->entry_line,
		    "MX preference must be a number from 0 to 65535");
	rr->u.mx.pref = (uint16_t)pref;
	rr->u.mx.host = zone_name_dup(zp, &v[1]);
	return rr->u.mx.host != NULL ? 0 : -1;
}

static int
zone_rdata_txt(struct zone_parser *zp, struct zone_tok *v, size_t n,
    struct dns_rr *rr)
{
	struct arena *a = zp->zr->arena;
	size_t i, total = 0, o = 0;

	if (n == 0)
		return zone_fail(zp, zp->entry_line, "TXT needs a string");
	for (i = 0; i < n; i++) {
		if (v[i].len > DNS_TXT_STRING_MAX)
			return zone_fail(zp, zp->entry_line, "string %zu is "
			    "%zu bytes; split it into strings of at most 255",
			    i + 1, v[i].len);
		total += v[i].len;
	}
	rr->u.txt.joined = arena_alloc(a, total + 1);
	rr->u.txt.strings = arena_calloc(a, n, sizeof(*rr->u.txt.strings));
	for (i = 0; i < n; i++) {
		memcpy(rr->u.txt.joined + o, v[i].p, v[i].len);
		rr->u.txt.strings[i].p = rr->u.txt.joined + o;
		rr->u.txt.strings[i].len = v[i].len;
		o += v[i].len;
	}
	rr->u.txt.joined[o] = '\0';
	rr->u.txt.nstrings = n;
	rr->u.txt.joined_len = o;
	return 0;
}

/* Hex data spread over tokens v[0..n) (RFC 6698 2.2 allows spaces). */
static int
zone_hex(struct zone_parser *zp, struct zone_tok *v, size_t n,
    uint8_t **out, size_t *outlen)
{
	size_t i, j, digits = 0, o = 0;
	uint8_t *p;
	int hi = -1, d;

	for (i = 0; i < n; i++)
		digits += v[i].len;
	if (digits == 0 || digits % 2 != 0)
		return zone_fail(zp, zp->entry_line,
		    "hex data must be a non-empty, even number of digits");
	p = arena_alloc(zp->zr->arena, digits / 2);
	for (i = 0; i < n; i++) {
		for (j = 0; j < v[i].len; j++) {
			if (v[i].quoted || (d = strnum_hex_digit(v[i].p[j])) < 0)
				return zone_fail(zp, zp->entry_line,
				    "hex data holds a non-hex character");
			if (hi < 0) {
				hi = d;
			} else {
				p[o++] = (uint8_t)(hi << 4 | d);
				hi = -1;
			}
		}
	}
	*out = p;
	*outlen = o;
	return 0;
}

static int
zone_rdata_tlsa(struct zone_parser *zp, struct zone_tok *v, size_t n,
    struct dns_rr *rr)
{
	uint32_t f[3];
	size_t i;

	if (n < 4)
		return zone_fail(zp, zp->entry_line,
		    "TLSA wants usage, selector, matching type and data");
	for (i = 0; i < 3; i++)
		if (zone_uint(&v[i], 255, &f[i]) != 0)
			return zone_fail(zp, zp->entry_line, "TLSA field %zu "
			    "must be a number from 0 to 255", i + 1);
	rr->u.tlsa.usage = (uint8_t)f[0];
	rr->u.tlsa.selector = (uint8_t)f[1];
	rr->u.tlsa.mtype = (uint8_t)f[2];
	return zone_hex(zp, v + 3, n - 3, &rr->u.tlsa.data, &rr->u.tlsa.len);
}

/* Append name (validated, no escapes) in wire form. */
static size_t
zone_name_wire(const char *name, uint8_t *out)
{
	size_t o = 0, len;
	const char *dot;

	while (*name != '\0') {
		dot = strchr(name, '.');
		len = dot ? (size_t)(dot - name) : strlen(name);
		out[o++] = (uint8_t)len;
		memcpy(out + o, name, len);
		o += len;
		name += len + (dot ? 1 : 0);
	}
	out[o++] = 0;
	return o;
}

/* SOA is stored as its wire rdata (the rr union has no SOA member). */
static int
zone_rdata_soa(struct zone_parser *zp, struct zone_tok *v, size_t n,
    struct dns_rr *rr)
{
	char mname[DNS_NAME_WIRE_MAX + 1], rname[DNS_NAME_WIRE_MAX + 1];
	uint8_t wire[2 * DNS_NAME_WIRE_MAX + 20];
	size_t o, i;
	uint32_t x;

	if (zone_want(zp, n, 7, "SOA") != 0 ||
	    zone_name(zp, &v[0], mname) != 0 ||
	    zone_name(zp, &v[1], rname) != 0)
		return -1;
	o = zone_name_wire(mname, wire);
	o += zone_name_wire(rname, wire + o);
	for (i = 2; i < 7; i++) {
		if (zone_ttl(&v[i], &x) != 0 && zone_uint(&v[i], UINT32_MAX,
		    &x) != 0)
			return zone_fail(zp, zp->entry_line,
			    "SOA field %zu must be a number", i + 1);
		wire[o++] = (uint8_t)(x >> 24);
		wire[o++] = (uint8_t)(x >> 16);
		wire[o++] = (uint8_t)(x >> 8);
		wire[o++] = (uint8_t)x;
	}
	rr->u.raw.data = arena_memdup(zp->zr->arena, wire, o);
	rr->u.raw.len = o;
	return 0;
}

static int
zone_rdata(struct zone_parser *zp, struct zone_tok *v, size_t n,
    struct dns_rr *rr)
{
	switch (rr->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		return zone_rdata_addr(zp, v, n, rr);
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		if (zone_want(zp, n, 1, dns_type_name(rr->type)) != 0)
			return -1;
		rr->u.name = zone_name_dup(zp, &v[0]);
		return rr->u.name != NULL ? 0 : -1;
	case DNS_T_MX:
		return zone_rdata_mx(zp, v, n, rr);
	case DNS_T_TXT:
	case DNS_T_SPF:
		return zone_rdata_txt(zp, v, n, rr);
	case DNS_T_TLSA:
		return zone_rdata_tlsa(zp, v, n, rr);
	case DNS_T_SOA:
		return zone_rdata_soa(zp, v, n, rr);
	default:
		return zone_fail(zp, zp->entry_line, "type %s is not "
		    "supported here", dns_type_name(rr->type));
	}
}

/* RFC 2181 10.1: a CNAME owner holds nothing else. */
static int
zone_check_cname(struct zone_parser *zp, const char *owner, uint16_t type)
{
	struct zone_resolver *zr = zp->zr;
	size_t i;

	for (i = 0; i < zr->nrecs; i++) {
		if (strcmp(zr->recs[i].owner, owner) != 0)
			continue;
		if (type == DNS_T_CNAME || zr->recs[i].rr.type == DNS_T_CNAME)
			return zone_fail(zp, zp->entry_line, "%s has a CNAME "
			    "and other data", owner[0] ? owner : ".");
	}
	return 0;
}

static void
zone_add(struct zone_resolver *zr, char *owner, const struct dns_rr *rr)
{
	struct zone_rec *r;

	if (zr->nrecs == zr->caprecs) {
		zr->caprecs = zr->caprecs ? zr->caprecs * 2 : 32;
		r = reallocarray(zr->recs, zr->caprecs, sizeof(*r));
		if (r == NULL)
			abort();
		zr->recs = r;
	}
	zr->recs[zr->nrecs].owner = owner;
	zr->recs[zr->nrecs].rr = *rr;
	zr->nrecs++;
}

/* Is t the class field? Only IN is accepted; others are errors. */
static int
zone_class(struct zone_parser *zp, const struct zone_tok *t, bool *is)
{
	*is = false;
	if (t->quoted)
		return 0;
	if (strcasecmp(t->p, "IN") == 0) {
		*is = true;
		return 0;
	}
	if (strcasecmp(t->p, "CH") == 0 || strcasecmp(t->p, "HS") == 0 ||
	    strcasecmp(t->p, "CS") == 0)
		return zone_fail(zp, zp->entry_line,
		    "only class IN is supported");
	return 0;
}

/* [TTL] [class] or [class] [TTL] starting at toks[*i]. */
static int
zone_ttl_class(struct zone_parser *zp, size_t *i, uint32_t *ttl)
{
	bool have_ttl = false, have_class = false, is;
	char show[64];

	*ttl = zp->default_ttl;
	while (*i < zp->ntoks) {
		struct zone_tok *t = &zp->toks[*i];

		if (!have_ttl && !t->quoted && isdigit((unsigned char)t->p[0])) {
			if (zone_ttl(t, ttl) != 0)
				return zone_fail(zp, zp->entry_line, "'%s' is "
				    "not a TTL", zone_show(t, show, sizeof(show)));
			have_ttl = true;
		} else if (!have_class) {
			if (zone_class(zp, t, &is) != 0)
				return -1;
			if (!is)
				break;
			have_class = true;
		} else {
			break;
		}
		(*i)++;
	}
	return 0;
}

static int
zone_record(struct zone_parser *zp)
{
	struct dns_rr rr;
	char owner[DNS_NAME_WIRE_MAX + 1], show[64];
	size_t i = 0;
	uint32_t ttl;

	if (zp->leading_blank) {
		if (!zp->have_owner)
			return zone_fail(zp, zp->entry_line,
			    "no owner name yet for an indented record");
		memcpy(owner, zp->owner, sizeof(owner));
	} else {
		if (zone_name(zp, &zp->toks[0], owner) != 0)
			return -1;
		memcpy(zp->owner, owner, sizeof(owner));
		zp->have_owner = true;
		i = 1;
	}
	if (zone_ttl_class(zp, &i, &ttl) != 0)
		return -1;
	if (i >= zp->ntoks)
		return zone_fail(zp, zp->entry_line, "record without a type");
	memset(&rr, 0, sizeof(rr));
	if (zp->toks[i].quoted || dns_type_parse(zp->toks[i].p, &rr.type) != 0)
		return zone_fail(zp, zp->entry_line, "'%s' is not a record type",
		    zone_show(&zp->toks[i], show, sizeof(show)));
	rr.ttl = ttl;
	if (zone_rdata(zp, zp->toks + i + 1, zp->ntoks - i - 1, &rr) != 0 ||
	    zone_check_cname(zp, owner, rr.type) != 0)
		return -1;
	zone_add(zp->zr, arena_strdup(zp->zr->arena, owner), &rr);
	return 0;
}

static int
zone_directive(struct zone_parser *zp)
{
	const struct zone_tok *d = &zp->toks[0];
	char show[64];

	if (strcasecmp(d->p, "$ORIGIN") == 0) {
		if (zone_want(zp, zp->ntoks - 1, 1, "$ORIGIN") != 0)
			return -1;
		return zone_name(zp, &zp->toks[1], zp->origin);
	}
	if (strcasecmp(d->p, "$TTL") == 0) {
		if (zone_want(zp, zp->ntoks - 1, 1, "$TTL") != 0)
			return -1;
		if (zone_ttl(&zp->toks[1], &zp->default_ttl) != 0)
			return zone_fail(zp, zp->entry_line, "'%s' is not a "
			    "TTL", zone_show(&zp->toks[1], show, sizeof(show)));
		return 0;
	}
	if (strcasecmp(d->p, "$INCLUDE") == 0)
		return zone_fail(zp, zp->entry_line,
		    "$INCLUDE is not supported");
	return zone_fail(zp, zp->entry_line, "unknown directive '%s'",
	    zone_show(d, show, sizeof(show)));
}

static int
zone_entry(struct zone_parser *zp)
{
	const struct zone_tok *t = &zp->toks[0];

	if (!zp->leading_blank && !t->quoted && t->len > 0 && t->p[0] == '$')
		return zone_directive(zp);
	return zone_record(zp);
}

static int
zone_parse(struct zone_parser *zp)
{
	bool done = false;

	while (!done) {
		if (zone_read_entry(zp, &done) != 0)
			return -1;
		if (zp->ntoks > 0 && zone_entry(zp) != 0)
			return -1;
	}
	return 0;
}

int
dns_zone_load(struct dns_resolver *r, const char *text, size_t n,
    const char *origin, char *err, size_t errlen)
{
	struct zone_resolver *zr = (struct zone_resolver *)r;
	struct zone_parser zp;
	struct zone_tok otok;
	size_t before = zr->nrecs;
	int rc;

	memset(&zp, 0, sizeof(zp));
	zp.zr = zr;
	zp.p = text;
	zp.end = text + n;
	zp.line = 1;
	zp.default_ttl = ZONE_DEFAULT_TTL;
	zp.err = err;
	zp.errlen = errlen;
	zp.scratch = arena_new(0);
	rc = 0;
	if (origin != NULL && origin[0] != '\0') {
		memset(&otok, 0, sizeof(otok));
		/* the origin is absolute, whether or not it ends in a dot */
		otok.len = strlen(origin);
		otok.p = origin[otok.len - 1] == '.' ?
		    arena_strdup(zp.scratch, origin) :
		    arena_printf(zp.scratch, "%s.", origin);
		otok.len = strlen(otok.p);
		rc = zone_name(&zp, &otok, zp.origin);
	}
	if (rc == 0)
		rc = zone_parse(&zp);
	if (rc != 0)
		zr->nrecs = before;	/* all or nothing */
	free(zp.toks);
	arena_free(zp.scratch);
	return rc;
}

/* ---- lookups ------------------------------------------------------- */

void
dns_zone_set_failure(struct dns_resolver *r, const char *name,
    uint16_t type, enum dns_status status)
{
	struct zone_resolver *zr = (struct zone_resolver *)r;
	struct zone_failure *f;
	size_t len = strlen(name), i;
	char *lower;

	if (len > 0 && name[len - 1] == '.')
		len--;
	lower = arena_strndup(zr->arena, name, len);
	for (i = 0; i < len; i++)
		lower[i] = (char)tolower((unsigned char)lower[i]);
	if (zr->nfails == zr->capfails) {
		zr->capfails = zr->capfails ? zr->capfails * 2 : 8;
		f = reallocarray(zr->fails, zr->capfails, sizeof(*f));
		if (f == NULL)
			abort();
		zr->fails = f;
	}
	zr->fails[zr->nfails].name = lower;
	zr->fails[zr->nfails].type = type;
	zr->fails[zr->nfails].status = status;
	zr->nfails++;
}

static const struct zone_failure *
zone_find_failure(const struct zone_resolver *zr, const char *name,
    uint16_t type)
{
	size_t i;

	for (i = 0; i < zr->nfails; i++)
		if (strcmp(zr->fails[i].name, name) == 0 &&
		    (zr->fails[i].type == 0 || zr->fails[i].type == type))
			return &zr->fails[i];
	return NULL;
}

/* owner is name itself or a name below it. */
static bool
zone_at_or_below(const char *owner, const char *name)
{
	size_t lo = strlen(owner), ln = strlen(name);

	if (ln == 0)
		return true;
	if (lo < ln || strcmp(owner + lo - ln, name) != 0)
		return false;
	return lo == ln || owner[lo - ln - 1] == '.';
}

static bool
zone_name_exists(const struct zone_resolver *zr, const char *name)
{
	size_t i;

	for (i = 0; i < zr->nrecs; i++)
		if (zone_at_or_below(zr->recs[i].owner, name))
			return true;
	return false;
}

static const struct zone_rec *
zone_find_cname(const struct zone_resolver *zr, const char *name)
{
	size_t i;

	for (i = 0; i < zr->nrecs; i++)
		if (zr->recs[i].rr.type == DNS_T_CNAME &&
		    strcmp(zr->recs[i].owner, name) == 0)
			return &zr->recs[i];
	return NULL;
}

/* Copy the (name, type) RRset into the answer; false when there is none. */
static bool
zone_collect(const struct zone_resolver *zr, const char *name,
    uint16_t type, struct dns_answer *ans)
{
	size_t i, n = 0;

	for (i = 0; i < zr->nrecs; i++)
		if (zr->recs[i].rr.type == type &&
		    strcmp(zr->recs[i].owner, name) == 0)
			n++;
	if (n == 0)
		return false;
	ans->rr = arena_calloc(ans->arena, n, sizeof(*ans->rr));
	for (i = 0; i < zr->nrecs; i++)
		if (zr->recs[i].rr.type == type &&
		    strcmp(zr->recs[i].owner, name) == 0)
			dns_rr_copy(ans->arena, &ans->rr[ans->n++],
			    &zr->recs[i].rr);
	return true;
}

static void
zone_set_status(struct dns_answer *ans, enum dns_status st, int rcode,
    const char *why)
{
	ans->status = st;
	ans->rcode = rcode;
	ans->why = why;
}

/* The state machine of one lookup: at cur, answer, chase or give up. */
static struct dns_answer *
zone_answer(const struct zone_resolver *zr, const char *qname,
    uint16_t type)
{
	struct dns_answer *ans = dns_answer_new(qname, type, DNS_OK, NULL);
	const struct zone_failure *f;
	const struct zone_rec *cn;
	const char *cur = ans->qname;
	int hops;

	for (hops = 0; ; hops++) {
		if ((f = zone_find_failure(zr, cur, type)) != NULL) {
			zone_set_status(ans, f->status, f->status ==
			    DNS_SERVFAIL ? 2 : 0, "simulated failure");
			break;
		}
		if (zone_collect(zr, cur, type, ans))
			break;
		if (type != DNS_T_CNAME &&
		    (cn = zone_find_cname(zr, cur)) != NULL) {
			if (hops == ZONE_MAX_CNAMES) {
				zone_set_status(ans, DNS_SERVFAIL, 2,
				    "CNAME chain longer than 8 (or a loop)");
				break;
			}
			cur = ans->canonname = arena_strdup(ans->arena,
			    cn->rr.u.name);
			continue;
		}
		if (zone_name_exists(zr, cur))
			zone_set_status(ans, DNS_NODATA, 0, "no such record");
		else
			zone_set_status(ans, DNS_NXDOMAIN, 3, "no such name");
		break;
	}
	return ans;
}

static void
zone_unlink(struct zone_query *q)
{
	*q->prevp = q->next;
	if (q->next != NULL)
		q->next->prevp = q->prevp;
}

static void
zone_fire(evutil_socket_t fd, short what, void *arg)
{
	struct zone_query *q = arg;
	struct dns_answer *ans = zone_answer(q->zr, q->name, q->type);
	dns_cb *cb = q->common.cb;
	void *cbarg = q->common.arg;

	(void)fd;
	(void)what;
	zone_unlink(q);
	event_free(q->ev);
	free(q);
	cb(ans, cbarg);		/* last: it may free the resolver */
}

static struct dns_query *
zone_query(struct dns_resolver *r, const char *name, uint16_t type,
    dns_cb *cb, void *arg)
{
	static const struct timeval now = { 0, 0 };
	struct zone_resolver *zr = (struct zone_resolver *)r;
	struct zone_query *q;
	size_t i;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		abort();
	q->common.resolver = r;
	q->common.cb = cb;
	q->common.arg = arg;
	q->zr = zr;
	q->type = type;
	for (i = 0; name[i] != '\0' && i < DNS_NAME_WIRE_MAX; i++)
		q->name[i] = (char)tolower((unsigned char)name[i]);
	q->ev = evtimer_new(r->base, zone_fire, q);
	if (q->ev == NULL || evtimer_add(q->ev, &now) != 0)
		abort();	/* out of memory inside libevent */
	q->next = zr->pending;
	q->prevp = &zr->pending;
	if (q->next != NULL)
		q->next->prevp = &q->next;
	zr->pending = q;
	return &q->common;
}

static void
zone_cancel(struct dns_query *dq)
{
	struct zone_query *q = (struct zone_query *)dq;

	zone_unlink(q);
	event_free(q->ev);
	free(q);
}

static void
zone_free(struct dns_resolver *r)
{
	struct zone_resolver *zr = (struct zone_resolver *)r;

	while (zr->pending != NULL)
		zone_cancel(&zr->pending->common);
	free(zr->recs);
	free(zr->fails);
	arena_free(zr->arena);
	free(zr);
}

static const struct dns_backend_ops zone_ops = {
	"zone", false, zone_query, zone_cancel, zone_free,
};

struct dns_resolver *
dns_zone_new(struct event_base *base)
{
	struct zone_resolver *zr;

	if ((zr = calloc(1, sizeof(*zr))) == NULL)
		abort();
	zr->common.ops = &zone_ops;
	zr->common.base = base;
	zr->arena = arena_new(0);
	return &zr->common;
}
