/*
 * spf — check_host() of RFC 7208 as a non-blocking state machine.
 *
 * The evaluation keeps a stack of frames, one per record being evaluated:
 * the checked domain's record at the bottom, one frame more for every
 * include: in progress (a redirect= replaces its frame, 6.1). Each frame
 * remembers its record and the index of its next mechanism. The machine
 * runs mechanisms that need no DNS (all, ip4, ip6) straight through and
 * stops at the first one that does: it sends exactly one query, records
 * in `state` what the answer is for, and continues in on_answer(). So at
 * most one lookup is ever outstanding; MX hosts and PTR names are looked
 * up one after the other.
 *
 * Limits (4.6.4): 10 DNS-querying terms over the whole evaluation, 10 MX
 * names per mx (more is permerror), 10 PTR names (the rest ignored),
 * more than 2 void lookups (NXDOMAIN or no records) is permerror. DNS
 * trouble (timeout, SERVFAIL) is temperror, never anything permanent,
 * except inside the PTR lookups, where 5.5 says to skip the name.
 *
 * %{p} (7.3) needs the client's validated PTR names: the machine works
 * them out once, when the first mechanism, redirect or explanation that
 * uses p is reached, and hands them to the macro expander.
 *
 * Memory: the check lives in its own arena, with everything it expands;
 * DNS answers (shared, read-only) are let go as soon as they are read.
 * The outcome is written into the caller's arena, and the check frees
 * itself after the callback. The record's TXT lookup is sent from
 * spf_check_start() itself; its answer, like every answer, comes from
 * the loop, so with a warm DNS cache a whole check runs in one loop
 * turn.
 *
 * Parsed records are shared: the parse of a record's text is a pure
 * function of that text, so the result is kept in a small cache keyed by
 * the exact bytes (see "parsed records" below) and every check that meets
 * the same text uses the same immutable parse, holding a reference until
 * it ends. Nothing about DNS is cached here; the TXT lookup still happens
 * on every evaluation, so a changed record is seen as soon as the DNS
 * cache lets it be. The parse also marks the targets that are plain
 * names (spf_mech.plain_name): those are sent as written, with no
 * expansion, escaping or name check per evaluation.
 */
#include <event2/event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "auth/spf/spf.h"
#include "auth/spf/spf_macro.h"
#include "auth/spf/spf_record.h"
#include "core/lru.h"

/* What the outstanding lookup is for. */
enum spf_state {
	SPF_ST_IDLE,		/* no lookup outstanding */
	SPF_ST_RECORD,		/* TXT of the top frame's domain */
	SPF_ST_A,		/* A/AAAA of an a mechanism's target */
	SPF_ST_MX,		/* MX of an mx mechanism's target */
	SPF_ST_MX_ADDR,		/* A/AAAA of one MX host */
	SPF_ST_PTR,		/* PTR of the client address */
	SPF_ST_PTR_ADDR,	/* A/AAAA of one PTR name */
	SPF_ST_EXISTS,		/* A of an exists mechanism's target */
	SPF_ST_EXP,		/* TXT of the explanation's target */
};

/* Where to go on once the PTR names are validated. */
enum spf_after_ptr {
	SPF_AFTER_PTR_TERMS,	/* back into the mechanisms */
	SPF_AFTER_PTR_EXP,	/* expand the exp= domain-spec */
	SPF_AFTER_PTR_EXP_TEXT,	/* expand the explanation text */
};

struct spf_frame {
	const char		*domain;	/* <domain> of this record */
	struct spf_record	 rec;
	size_t			 next;		/* next mechanism to run */
	bool			 included;	/* answers an include: */
};

#define SPF_MAX_FRAMES	(SPF_LOOKUP_LIMIT + 2)
/* Records one check parses: the first, then one per counted include: or
 * redirect=; a few spare for safety (more are parsed privately). */
#define SPF_MAX_HELD	(SPF_LOOKUP_LIMIT + 4)

struct spf_parsed;

struct spf_check {
	struct event_base	*base;
	struct dns_resolver	*resolver;
	struct arena		*a;		/* the check's own memory */
	struct arena		*out;		/* the caller's, for the outcome */
	spf_done_cb		*cb;
	void			*cb_arg;
	struct event		*kick;		/* first step, from the loop */
	struct dns_query	*q;		/* the outstanding lookup */
	enum spf_state		 state;

	enum spf_identity	 identity;
	const char		*record_override;
	const char		*domain;	/* the checked domain */
	struct spf_macro_vars	 vars;

	struct spf_frame	 frames[SPF_MAX_FRAMES];
	size_t			 depth;
	bool			 redirecting;	/* RECORD replaces a frame */

	unsigned		 lookups;
	unsigned		 voids;

	/* The shared parses the frames point into, released at the end. */
	struct spf_parsed	*held[SPF_MAX_HELD];
	size_t			 nheld;

	/* The DNS mechanism being evaluated. */
	const struct spf_mech	*mech;
	const char		*target;
	char			**mx_hosts;
	size_t			 mx_n, mx_next;

	/* PTR validation, at most once per check. */
	bool			 ptr_done;
	bool			 ptr_for_mech;	/* the ptr mechanism asked */
	enum spf_after_ptr	 after_ptr;
	char			**ptr_names;
	size_t			 ptr_n, ptr_next;
	const char		*validated[SPF_PTR_NAMES_MAX];
	const char		*exp_text;	/* waiting for %{p} */

	/* The outcome so far. */
	enum spf_result		 result;
	const char		*mechanism;
	const char		*explanation;
	const char		*reason;
};


static void	 spf_run(struct spf_check *);
static void	 spf_ptr_start(struct spf_check *, enum spf_after_ptr);
static void	 spf_exp_start(struct spf_check *);
static void	 spf_on_answer(struct dns_answer *, void *);
static void	 spf_ip_format(const struct ip_addr *, char out[IP_STRLEN]);
static void	 spf_render_received(const struct spf_outcome *,
		    const char *ip, struct buf *);

const char *
spf_result_name(enum spf_result r)
{
	switch (r) {
	case SPF_RESULT_NONE: return "none";
	case SPF_RESULT_NEUTRAL: return "neutral";
	case SPF_RESULT_PASS: return "pass";
	case SPF_RESULT_FAIL: return "fail";
	case SPF_RESULT_SOFTFAIL: return "softfail";
	case SPF_RESULT_TEMPERROR: return "temperror";
	case SPF_RESULT_PERMERROR: return "permerror";
	}
	return "?";
}

static enum spf_result
qual_result(enum spf_qualifier q)
{
	switch (q) {
	case SPF_QUAL_PASS: return SPF_RESULT_PASS;
	case SPF_QUAL_FAIL: return SPF_RESULT_FAIL;
	case SPF_QUAL_SOFTFAIL: return SPF_RESULT_SOFTFAIL;
	case SPF_QUAL_NEUTRAL: return SPF_RESULT_NEUTRAL;
	}
	return SPF_RESULT_NEUTRAL;
}

static struct spf_frame *
top(struct spf_check *c)
{
	return &c->frames[c->depth - 1];
}

/*
 * A domain check_host() can start with (4.3): at least two labels of 1
 * to 63 letters, digits, hyphens or underscores, at most 253 bytes, and
 * not an IPv4 address.
 */
static bool
domain_checkable(const char *d)
{
	size_t len = strlen(d), label = 0, labels = 0, i;
	bool top_alpha = false;

	if (len > 0 && d[len - 1] == '.')
		len--;
	if (len == 0 || len > SPF_DOMAIN_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char ch = d[i];

		if (ch == '.') {
			if (label == 0)
				return false;
			label = 0;
			top_alpha = false;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return false;
		if (!(ch >= '0' && ch <= '9'))
			top_alpha = true;
		if (label++ == 0)
			labels++;
		if (label > 63)
			return false;
	}
	return label > 0 && labels >= 2 && top_alpha;
}

/* A name a query can be sent for: 1..253 bytes, labels 1..63. */
static bool
name_queryable(const char *d)
{
	size_t len = strlen(d), label = 0, i;

	if (len == 0 || len > SPF_DOMAIN_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (d[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (++label > 63) {
			return false;
		}
	}
	return label > 0;
}

/*
 * Byte classes, one table for the per-byte loops of every check (names
 * sent to DNS, header values): SPF_B_ATEXT is RFC 5322 atext,
 * SPF_B_COMMENT printable ASCII but ( ) \, SPF_B_NAME_ESC what a zone
 * file would misread in a name (controls, space, DEL and up, \ " ( ) ;).
 */
#define SPF_B_ATEXT	1
#define SPF_B_COMMENT	2
#define SPF_B_NAME_ESC	4

static const unsigned char spf_byte_class[256] = {
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	6, 3, 6, 3, 3, 3, 3, 3, 4, 4, 3, 3, 2, 3, 2, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 6, 2, 3, 2, 3,
	2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 4, 2, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
};

static bool
name_byte_escaped(unsigned char ch)
{
	return spf_byte_class[ch] & SPF_B_NAME_ESC;
}

/*
 * The presentation form of a name whose labels may hold any byte (a
 * macro can put spaces or '%' there): bytes a zone file would misread
 * are written as \DDD (RFC 1035 5.1).
 */
static const char *
name_presentation(struct arena *a, const char *name)
{
	size_t n, i, extra = 0;
	char *out, *p;

	for (n = 0; name[n] != '\0'; n++)
		if (name_byte_escaped((unsigned char)name[n]))
			extra += 3;
	if (extra == 0)
		return name;
	out = p = arena_alloc(a, n + extra + 1);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (name_byte_escaped(ch)) {
			*p++ = '\\';
			*p++ = (char)('0' + ch / 100);
			*p++ = (char)('0' + ch / 10 % 10);
			*p++ = (char)('0' + ch % 10);
		} else {
			*p++ = (char)ch;
		}
	}
	*p = '\0';
	return out;
}

/* ---- parsed records ------------------------------------------------
 *
 * Text -> parse, shared between checks. A key is the record's exact
 * bytes (case and spaces included), so a hit is the same parse the text
 * would give again: errors and their reasons included. An entry is
 * freed when it has left the cache (least recently used first, when
 * there are more than SPF_PARSED_ENTRIES entries or SPF_PARSED_BYTES of
 * them) and no running check holds it. Records longer than
 * SPF_PARSED_TEXT_MAX are parsed per check and never kept, so a few huge
 * records cannot push the bound around. The cache belongs to the thread
 * (the event loop's) that runs the checks.
 */
#define SPF_PARSED_ENTRIES	1024
#define SPF_PARSED_BUCKETS	1024	/* a power of two */
#define SPF_PARSED_BYTES	((size_t)4 << 20)
#define SPF_PARSED_TEXT_MAX	4096

struct spf_parsed {
	struct arena		*a;		/* owns this entry and the parse */
	struct lru_node		 node;
	unsigned		 refs;		/* checks holding it */
	bool			 cached;	/* still findable */
	size_t			 bytes;		/* arena_used() after parsing */
	enum spf_parse_result	 result;
	struct spf_record	 rec;
	const char		*why;		/* SPF_PARSE_ERROR */
	const char		*text;
	size_t			 len;
};

/* One core/lru table per thread, set up on first use; bounded by count
 * and by the bytes of the parses. */
struct spf_parsed_cache {
	struct lru_node		*buckets[SPF_PARSED_BUCKETS];
	struct lru		 lru;
	bool			 ready;
	size_t			 bytes;
};

static _Thread_local struct spf_parsed_cache spf_parsed_cache;

/*
 * Eight bytes a step (a record is hashed on every evaluation that meets
 * it); collisions only cost a memcmp, as a match is always compared.
 */
static uint32_t
spf_parsed_hash(const char *p, size_t n)
{
	const uint64_t k = 0x9e3779b97f4a7c15ull;
	uint64_t h = k ^ n, w;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, p + i, n - i);
	h = (h ^ w) * k;
	h ^= h >> 32;
	return (uint32_t)h;
}

static struct spf_parsed_cache *
spf_parsed_cache_of_thread(void)
{
	struct spf_parsed_cache *pc = &spf_parsed_cache;

	if (!pc->ready) {
		lru_init(&pc->lru, pc->buckets, SPF_PARSED_BUCKETS);
		pc->ready = true;
	}
	return pc;
}

static struct spf_parsed *
spf_parsed_oldest(const struct spf_parsed_cache *pc)
{
	struct lru_node *n = lru_oldest(&pc->lru);

	return n != NULL ? LRU_ENTRY(n, struct spf_parsed, node) : NULL;
}

/* Take e out of the cache; it goes when its last holder lets go. */
static void
spf_parsed_evict(struct spf_parsed_cache *pc, struct spf_parsed *e)
{
	lru_remove(&pc->lru, &e->node);
	pc->bytes -= e->bytes;
	e->cached = false;
	if (e->refs == 0)
		arena_free(e->a);
}

static void
spf_parsed_release(struct spf_parsed *e)
{
	if (--e->refs == 0 && !e->cached)
		arena_free(e->a);
}

/* The parse of p[0..n), held once more by the caller. */
static struct spf_parsed *
spf_parsed_get(const char *p, size_t n)
{
	struct spf_parsed_cache *pc = spf_parsed_cache_of_thread();
	uint32_t hash = spf_parsed_hash(p, n);
	struct spf_parsed *e;
	struct lru_node *node;
	struct arena *a;

	for (node = lru_first(&pc->lru, hash); node != NULL;
	    node = lru_next(node, hash)) {
		e = LRU_ENTRY(node, struct spf_parsed, node);
		if (e->len == n && memcmp(e->text, p, n) == 0) {
			lru_touch(&pc->lru, node);
			e->refs++;
			return e;
		}
	}
	a = arena_new(1024 + 2 * n);
	e = arena_calloc(a, 1, sizeof(*e));
	e->a = a;
	e->refs = 1;
	e->text = arena_memdup(a, p, n);
	e->len = n;
	e->result = spf_record_parse(a, p, n, &e->rec, &e->why);
	e->bytes = arena_used(a);
	if (n > SPF_PARSED_TEXT_MAX)
		return e;		/* private: freed on release */
	e->cached = true;
	lru_insert(&pc->lru, &e->node, hash);
	pc->bytes += e->bytes;
	while (spf_parsed_oldest(pc) != e &&
	    (lru_count(&pc->lru) > SPF_PARSED_ENTRIES ||
	    pc->bytes > SPF_PARSED_BYTES))
		spf_parsed_evict(pc, spf_parsed_oldest(pc));
	return e;
}

/* ---- ending ------------------------------------------------------ */

static void
spf_free(struct spf_check *c)
{
	size_t i;

	if (c->q != NULL)
		dns_cancel(c->q);
	if (c->kick != NULL)
		event_free(c->kick);
	for (i = 0; i < c->nheld; i++)
		spf_parsed_release(c->held[i]);
	arena_free(c->a);	/* c lives in it */
}

void
spf_check_cancel(struct spf_check *c)
{
	if (c != NULL)
		spf_free(c);
}

/* a, b and c joined, from arena (no printf: this is per check). */
static char *
concat3(struct arena *arena, const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *p = arena_alloc(arena, la + lb + lc + 1);

	memcpy(p, a, la);
	memcpy(p + la, b, lb);
	memcpy(p + la + lb, c, lc + 1);
	return p;
}

static const char *
out_str(struct arena *a, const char *s)
{
	return s != NULL ? arena_strdup(a, s) : NULL;
}

static void
spf_complete(struct spf_check *c)
{
	struct spf_outcome o;
	struct buf b = BUF_INIT;

	memset(&o, 0, sizeof(o));
	o.result = c->result;
	o.identity = c->identity;
	o.ip = c->vars.ip;
	o.domain = out_str(c->out, c->domain);
	o.sender = out_str(c->out, c->vars.sender);
	o.helo = out_str(c->out, c->vars.helo);
	o.receiver = out_str(c->out, c->vars.receiver);
	o.mechanism = out_str(c->out, c->mechanism);
	o.explanation = out_str(c->out, c->explanation);
	o.reason = out_str(c->out, c->reason);
	o.lookups = c->lookups > SPF_LOOKUP_LIMIT ? SPF_LOOKUP_LIMIT + 1 :
	    c->lookups;
	o.void_lookups = c->voids;
	spf_render_received(&o, c->vars.ip_text, &b);
	o.received_spf = arena_strndup(c->out, buf_cstr(&b), b.len);
	buf_reset(&b);
	spf_render_authres(&o, &b);
	o.authres = arena_strndup(c->out, buf_cstr(&b), b.len);
	buf_free(&b);

	c->cb(&o, c->cb_arg);
	spf_free(c);
}

/* An error ends the whole evaluation, however deep (5.2, 6.1). */
static void
spf_error(struct spf_check *c, enum spf_result r, const char *reason)
{
	c->result = r;
	c->reason = reason;
	spf_complete(c);
}

static void
spf_temperror_dns(struct spf_check *c, const struct dns_answer *ans)
{
	spf_error(c, SPF_RESULT_TEMPERROR, arena_printf(c->a,
	    "DNS %s for %s %s%s%s", dns_status_name(ans->status), ans->qname,
	    dns_type_name(ans->type), ans->why ? ": " : "",
	    ans->why ? ans->why : ""));
}

static bool
dns_trouble(const struct dns_answer *ans)
{
	return ans->status == DNS_TIMEOUT || ans->status == DNS_SERVFAIL ||
	    ans->status == DNS_ERROR;
}

/* Count one void lookup; false (and the check is over) past the limit. */
static bool
spf_void(struct spf_check *c, const char *name)
{
	if (++c->voids <= SPF_VOID_LIMIT)
		return true;
	spf_error(c, SPF_RESULT_PERMERROR, arena_printf(c->a,
	    "more than %d void lookups (the last for %s)", SPF_VOID_LIMIT,
	    name));
	return false;
}

/* The bottom frame decided. */
static void
spf_final(struct spf_check *c, enum spf_result r, const char *mech)
{
	c->result = r;
	c->mechanism = mech;
	if (r == SPF_RESULT_FAIL) {
		spf_exp_start(c);
		return;
	}
	spf_complete(c);
}

/*
 * The top frame produced result r (a mechanism matched, or none did and
 * r is neutral). Returns true when the check is over; false when an
 * include: in the parent did not match and the parent goes on.
 */
static bool
spf_frame_done(struct spf_check *c, enum spf_result r, const char *mech)
{
	for (;;) {
		struct spf_frame *parent;
		const struct spf_mech *inc;

		if (c->depth == 1) {
			spf_final(c, r, mech);
			return true;
		}
		c->depth--;
		parent = top(c);
		inc = &parent->rec.mechs[parent->next - 1];
		/* 5.2: only pass matches; fail, softfail, neutral do not. */
		if (r != SPF_RESULT_PASS)
			return false;
		r = qual_result(inc->qual);
		mech = inc->text;
	}
}

/* ---- lookups ----------------------------------------------------- */

/* Ask for name; plain: it needs no escapes (known from its source). */
static void
spf_query_name(struct spf_check *c, enum spf_state st, const char *name,
    uint16_t type, bool plain)
{
	c->state = st;
	c->q = dns_query(c->resolver, plain ? name :
	    name_presentation(c->a, name), type, spf_on_answer, c);
}

static void
spf_query(struct spf_check *c, enum spf_state st, const char *name,
    uint16_t type)
{
	spf_query_name(c, st, name, type, false);
}

static uint16_t
addr_type(const struct spf_check *c)
{
	return c->vars.ip.family == AF_INET6 ? DNS_T_AAAA : DNS_T_A;
}

/* Does an A/AAAA answer hold an address within prefix of the client? */
static bool
answer_matches(const struct spf_check *c, const struct dns_answer *ans,
    unsigned prefix, bool *any)
{
	size_t i;

	*any = false;
	if (ans->status != DNS_OK)
		return false;
	for (i = 0; i < ans->n; i++) {
		if (ans->rr[i].type != ans->type)
			continue;
		*any = true;
		if (ip_prefix_equal(&ans->rr[i].u.ip, &c->vars.ip, prefix))
			return true;
	}
	return false;
}

/* ---- records ------------------------------------------------------- */

/* Parse text as the top frame's record (or find its parse) and run it. */
static void
spf_install(struct spf_check *c, const char *text, size_t n)
{
	struct spf_frame *f = top(c);
	struct spf_parsed *p;
	enum spf_parse_result res;
	const char *why = NULL;

	c->redirecting = false;
	f->next = 0;
	if (c->nheld < SPF_MAX_HELD) {
		p = spf_parsed_get(text, n);
		c->held[c->nheld++] = p;
		f->rec = p->rec;
		why = p->why;
		res = p->result;
	} else {
		res = spf_record_parse(c->a, text, n, &f->rec, &why);
	}
	switch (res) {
	case SPF_PARSE_OK:
		spf_run(c);
		return;
	case SPF_PARSE_NOT_SPF:
		why = "the record does not start with v=spf1";
		break;
	case SPF_PARSE_ERROR:
		break;
	}
	spf_error(c, SPF_RESULT_PERMERROR, arena_printf(c->a,
	    "syntax error in the record of %s: %s", f->domain, why));
}

static void
spf_no_record(struct spf_check *c, const char *what)
{
	struct spf_frame *f = top(c);

	if (c->depth == 1 && !c->redirecting) {
		c->result = SPF_RESULT_NONE;
		c->reason = arena_printf(c->a, "%s publishes %s", f->domain,
		    what);
		spf_complete(c);
		return;
	}
	spf_error(c, SPF_RESULT_PERMERROR, arena_printf(c->a,
	    "%s target %s publishes %s", f->included && !c->redirecting ?
	    "include" : "redirect", f->domain, what));
}

static void
spf_on_record(struct spf_check *c, struct dns_answer *ans)
{
	const struct dns_rr *found = NULL;
	size_t i, nspf = 0;

	if (dns_trouble(ans)) {
		spf_temperror_dns(c, ans);
		return;
	}
	for (i = 0; ans->status == DNS_OK && i < ans->n; i++) {
		const struct dns_rr *rr = &ans->rr[i];

		if (rr->type != DNS_T_TXT)
			continue;
		if (spf_record_is_spf(rr->u.txt.joined, rr->u.txt.joined_len)) {
			nspf++;
			found = rr;
		}
	}
	if (nspf == 0) {
		spf_no_record(c, ans->status == DNS_NXDOMAIN ?
		    "nothing (NXDOMAIN)" : "no SPF record");
		return;
	}
	if (nspf > 1) {
		spf_error(c, SPF_RESULT_PERMERROR, arena_printf(c->a,
		    "%s publishes %zu SPF records", top(c)->domain, nspf));
		return;
	}
	/* the parse keeps copies of what it needs: no copy of the text */
	spf_install(c, found->u.txt.joined, found->u.txt.joined_len);
}

/* ---- mechanisms -------------------------------------------------- */

/* Does a domain-spec (or explanation) use %{p}? Most have no macro. */
static bool
spec_uses_p(const char *spec)
{
	return strchr(spec, '%') != NULL &&
	    spf_macro_uses_p(spec, strlen(spec));
}

/* Expand a domain-spec for the top frame; NULL spec means <domain>. */
static const char *
spf_target(struct spf_check *c, const char *spec)
{
	char *out = NULL;
	const char *why = NULL;
	size_t n;

	c->vars.domain = top(c)->domain;
	if (spec == NULL)
		return top(c)->domain;
	/* Without a macro, no final dot and short enough, the expansion
	 * is the text itself: no copy (the parse outlives the check). */
	n = strcspn(spec, "%");
	if (spec[n] == '\0' && n > 0 && n <= SPF_DOMAIN_MAX &&
	    spec[n - 1] != '.')
		return spec;
	/* The parser checked the syntax; this cannot fail. */
	if (spf_macro_expand(c->a, spec, strlen(spec), SPF_MACRO_DOMAIN,
	    &c->vars, &out, &why) != 0)
		return "";
	return out;
}

/* Start the redirect= of the top frame (6.1). */
static void
spf_redirect(struct spf_check *c)
{
	struct spf_frame *f = top(c);
	const char *target;

	if (!c->ptr_done && spec_uses_p(f->rec.redirect)) {
		f->next = f->rec.nmechs + 1;	/* resume at the redirect */
		spf_ptr_start(c, SPF_AFTER_PTR_TERMS);
		return;
	}
	if (++c->lookups > SPF_LOOKUP_LIMIT) {
		spf_error(c, SPF_RESULT_PERMERROR, arena_printf(c->a,
		    "more than %d DNS-querying terms (at redirect=%s)",
		    SPF_LOOKUP_LIMIT, f->rec.redirect));
		return;
	}
	target = spf_target(c, f->rec.redirect);
	if (!name_queryable(target)) {
		spf_error(c, SPF_RESULT_PERMERROR, arena_printf(c->a,
		    "redirect target '%s' is not a domain name", target));
		return;
	}
	c->redirecting = true;
	memset(&f->rec, 0, sizeof(f->rec));
	f->domain = target;
	f->next = 0;
	spf_query(c, SPF_ST_RECORD, target, DNS_T_TXT);
}

/* Start one DNS-querying mechanism; the lookup has been counted. */
static void
spf_mech_start(struct spf_check *c, const struct spf_mech *m)
{
	const char *target = m->plain_name ? m->domain_spec :
	    spf_target(c, m->domain_spec);
	bool plain = m->plain_name;	/* queryable and needs no escapes */

	c->mech = m;
	c->target = target;
	switch (m->kind) {
	case SPF_MECH_INCLUDE:
		if (!plain && !name_queryable(target)) {
			spf_error(c, SPF_RESULT_PERMERROR, arena_printf(c->a,
			    "include target '%s' is not a domain name",
			    target));
			return;
		}
		c->frames[c->depth].domain = target;
		c->frames[c->depth].next = 0;
		c->frames[c->depth].included = true;
		memset(&c->frames[c->depth].rec, 0, sizeof(struct spf_record));
		c->depth++;
		spf_query_name(c, SPF_ST_RECORD, target, DNS_T_TXT, plain);
		return;
	case SPF_MECH_PTR:
		c->ptr_for_mech = true;
		spf_ptr_start(c, SPF_AFTER_PTR_TERMS);
		return;
	default:
		break;
	}
	/* a, mx, exists: a name that cannot be asked for finds nothing. */
	if (!plain && !name_queryable(target)) {
		if (spf_void(c, target))
			spf_run(c);
		return;
	}
	if (m->kind == SPF_MECH_A)
		spf_query_name(c, SPF_ST_A, target, addr_type(c), plain);
	else if (m->kind == SPF_MECH_MX)
		spf_query_name(c, SPF_ST_MX, target, DNS_T_MX, plain);
	else
		spf_query_name(c, SPF_ST_EXISTS, target, DNS_T_A, plain);
}

/* A mechanism of the top frame matched. true: the check is over. */
static bool
spf_matched(struct spf_check *c, const struct spf_mech *m)
{
	return spf_frame_done(c, qual_result(m->qual), m->text);
}

static void	spf_run(struct spf_check *);

/*
 * The same from a DNS answer: when the match ended an include: that
 * does not pass (a -a inside it, say), the including record goes on
 * with its next term, so evaluation must be resumed here.
 */
static void
spf_matched_resume(struct spf_check *c, const struct spf_mech *m)
{
	if (!spf_matched(c, m))
		spf_run(c);
}

/*
 * cidr_match(), with the cheap cases first: ip4/ip6 lists are most of a
 * record, and each list entry of the other family, or an IPv4 one, is
 * decided here in a few instructions.
 */
static bool
spf_net_match(const struct cidr *net, const struct ip_addr *ip)
{
	uint32_t a, b, mask;

	if (net->addr.family != ip->family)
		return false;
	if (ip->family != AF_INET || net->prefix > 32)
		return cidr_match(net, ip);
	a = (uint32_t)net->addr.a[0] << 24 | (uint32_t)net->addr.a[1] << 16 |
	    (uint32_t)net->addr.a[2] << 8 | net->addr.a[3];
	b = (uint32_t)ip->a[0] << 24 | (uint32_t)ip->a[1] << 16 |
	    (uint32_t)ip->a[2] << 8 | ip->a[3];
	mask = net->prefix == 0 ? 0 : UINT32_MAX << (32 - net->prefix);
	return ((a ^ b) & mask) == 0;
}

/* The next mechanism that matches no address and needs a term. */
static void
spf_run(struct spf_check *c)
{
	c->state = SPF_ST_IDLE;
	for (;;) {
		struct spf_frame *f = top(c);
		const struct spf_mech *m;

		if (f->next > f->rec.nmechs) {
			/* resuming the redirect after %{p} validation */
			spf_redirect(c);
			return;
		}
		if (f->next == f->rec.nmechs) {
			if (f->rec.redirect != NULL && !f->rec.has_all) {
				spf_redirect(c);
				return;
			}
			if (spf_frame_done(c, SPF_RESULT_NEUTRAL, "default"))
				return;
			continue;
		}
		m = &f->rec.mechs[f->next];
		switch (m->kind) {
		case SPF_MECH_ALL:
			f->next++;
			if (spf_matched(c, m))
				return;
			continue;
		case SPF_MECH_IP4:
		case SPF_MECH_IP6:
			f->next++;
			if (spf_net_match(&m->net, &c->vars.ip) &&
			    spf_matched(c, m))
				return;
			continue;
		default:
			break;
		}
		if (m->domain_spec != NULL && !m->plain_name &&
		    !c->ptr_done && spec_uses_p(m->domain_spec)) {
			spf_ptr_start(c, SPF_AFTER_PTR_TERMS);
			return;
		}
		f->next++;
		if (++c->lookups > SPF_LOOKUP_LIMIT) {
			spf_error(c, SPF_RESULT_PERMERROR, arena_printf(c->a,
			    "more than %d DNS-querying terms (at %s)",
			    SPF_LOOKUP_LIMIT, m->text));
			return;
		}
		spf_mech_start(c, m);
		return;
	}
}

/* The current mechanism did not match: on to the next. */
static void
spf_no_match(struct spf_check *c)
{
	spf_run(c);
}

/*
 * An A/AAAA answer for the a or mx mechanism (name: what was looked up,
 * for the void-lookup count): true when it decided the step (DNS
 * trouble, a match, one void lookup too many), false to go on.
 */
static bool
spf_addr_answer(struct spf_check *c, struct dns_answer *ans,
    const char *name)
{
	const struct spf_mech *m = c->mech;
	unsigned prefix = c->vars.ip.family == AF_INET6 ? m->cidr6 : m->cidr4;
	bool any;

	if (dns_trouble(ans)) {
		spf_temperror_dns(c, ans);
		return true;
	}
	if (answer_matches(c, ans, prefix, &any)) {
		spf_matched_resume(c, m);
		return true;
	}
	return !any && !spf_void(c, name);
}

static void
spf_on_a(struct spf_check *c, struct dns_answer *ans)
{
	if (!spf_addr_answer(c, ans, c->target))
		spf_no_match(c);
}

static void
spf_on_exists(struct spf_check *c, struct dns_answer *ans)
{
	size_t i;

	if (dns_trouble(ans)) {
		spf_temperror_dns(c, ans);
		return;
	}
	for (i = 0; ans->status == DNS_OK && i < ans->n; i++) {
		if (ans->rr[i].type == DNS_T_A) {
			spf_matched_resume(c, c->mech);
			return;
		}
	}
	if (spf_void(c, c->target))
		spf_no_match(c);
}

/* Ask for the addresses of the next MX host, or give up matching. */
static void
spf_mx_next(struct spf_check *c)
{
	while (c->mx_next < c->mx_n) {
		const char *host = c->mx_hosts[c->mx_next++];

		if (!name_queryable(host))
			continue;	/* "." (RFC 7505) and the like */
		spf_query(c, SPF_ST_MX_ADDR, host, addr_type(c));
		return;
	}
	spf_no_match(c);
}

static void
spf_on_mx(struct spf_check *c, struct dns_answer *ans)
{
	size_t i, n = 0;

	if (dns_trouble(ans)) {
		spf_temperror_dns(c, ans);
		return;
	}
	for (i = 0; ans->status == DNS_OK && i < ans->n; i++)
		if (ans->rr[i].type == DNS_T_MX)
			n++;
	if (n == 0) {
		if (spf_void(c, c->target))
			spf_no_match(c);
		return;
	}
	if (n > SPF_MX_LIMIT) {
		spf_error(c, SPF_RESULT_PERMERROR, arena_printf(c->a,
		    "%s has %zu MX records, more than %d (at %s)", c->target,
		    n, SPF_MX_LIMIT, c->mech->text));
		return;
	}
	c->mx_hosts = arena_calloc(c->a, n, sizeof(char *));
	c->mx_n = 0;
	c->mx_next = 0;
	for (i = 0; i < ans->n; i++)
		if (ans->rr[i].type == DNS_T_MX)
			c->mx_hosts[c->mx_n++] = arena_strdup(c->a,
			    ans->rr[i].u.mx.host);
	spf_mx_next(c);
}

static void
spf_on_mx_addr(struct spf_check *c, struct dns_answer *ans)
{
	if (!spf_addr_answer(c, ans, ans->qname))
		spf_mx_next(c);
}

/* ---- PTR: the ptr mechanism and %{p} ------------------------------ */

static void
spf_ptr_done(struct spf_check *c)
{
	c->ptr_done = true;
	c->vars.validated = c->validated;
	switch (c->after_ptr) {
	case SPF_AFTER_PTR_TERMS:
		if (c->ptr_for_mech) {
			/* the ptr mechanism itself (5.5) */
			size_t i;

			c->ptr_for_mech = false;
			for (i = 0; i < c->vars.nvalidated; i++) {
				if (spf_domain_within(c->validated[i],
				    c->target)) {
					spf_matched_resume(c, c->mech);
					return;
				}
			}
		}
		spf_run(c);
		return;
	case SPF_AFTER_PTR_EXP:
		spf_exp_start(c);
		return;
	case SPF_AFTER_PTR_EXP_TEXT:
		spf_exp_start(c);
		return;
	}
}

static void
spf_ptr_next(struct spf_check *c)
{
	while (c->ptr_next < c->ptr_n) {
		const char *name = c->ptr_names[c->ptr_next++];

		if (!name_queryable(name))
			continue;
		spf_query(c, SPF_ST_PTR_ADDR, name, addr_type(c));
		return;
	}
	spf_ptr_done(c);
}

static void
spf_ptr_start(struct spf_check *c, enum spf_after_ptr after)
{
	char rev[IP_REVLEN];

	c->after_ptr = after;
	if (c->ptr_done) {
		/* Only the ptr mechanism gets here with the names known. */
		spf_ptr_done(c);
		return;
	}
	spf_query(c, SPF_ST_PTR, ip_reverse_name(&c->vars.ip, rev,
	    sizeof(rev)), DNS_T_PTR);
}

static bool
counting_ptr_voids(const struct spf_check *c)
{
	return c->ptr_for_mech;
}

static void
spf_on_ptr(struct spf_check *c, struct dns_answer *ans)
{
	size_t i, n = 0;

	/* 5.5: a DNS error makes ptr not match; %{p} is then "unknown". */
	if (ans->status == DNS_NXDOMAIN || ans->status == DNS_NODATA) {
		if (counting_ptr_voids(c) && !spf_void(c, ans->qname))
			return;
	}
	if (ans->status != DNS_OK) {
		spf_ptr_done(c);
		return;
	}
	for (i = 0; i < ans->n && n < SPF_PTR_NAMES_MAX; i++)
		if (ans->rr[i].type == DNS_T_PTR)
			n++;
	c->ptr_names = arena_calloc(c->a, n ? n : 1, sizeof(char *));
	c->ptr_n = 0;
	c->ptr_next = 0;
	for (i = 0; i < ans->n && c->ptr_n < n; i++)
		if (ans->rr[i].type == DNS_T_PTR)
			c->ptr_names[c->ptr_n++] = arena_strdup(c->a,
			    ans->rr[i].u.name);
	spf_ptr_next(c);
}

static void
spf_on_ptr_addr(struct spf_check *c, struct dns_answer *ans)
{
	bool any;
	unsigned full = c->vars.ip.family == AF_INET6 ? 128 : 32;

	/* 5.5: a DNS error on one name skips that name. */
	if (answer_matches(c, ans, full, &any)) {
		c->validated[c->vars.nvalidated++] =
		    c->ptr_names[c->ptr_next - 1];
	} else if (!any && !dns_trouble(ans) && counting_ptr_voids(c) &&
	    !spf_void(c, ans->qname)) {
		return;
	}
	spf_ptr_next(c);
}

/* ---- explanation (6.2) -------------------------------------------- */

/*
 * The explanation when the record gives none: the expansion of
 * "%{d} does not designate %{c} as a permitted sender for %{s}", whose
 * macros are lowercase (no escaping) without transformers, so the
 * expansion is a plain join.
 */
static void
spf_default_explanation(struct spf_check *c)
{
	const char *d = top(c)->domain, *ip = c->vars.ip_text;
	const char *s = c->vars.sender;
	size_t ld = strlen(d), li = strlen(ip), ls = strlen(s);
	static const char mid[] = " does not designate ";
	static const char end[] = " as a permitted sender for ";
	char *p;

	p = arena_alloc(c->a, ld + li + ls + sizeof(mid) + sizeof(end) - 1);
	c->explanation = p;
	memcpy(p, d, ld);
	p += ld;
	memcpy(p, mid, sizeof(mid) - 1);
	p += sizeof(mid) - 1;
	memcpy(p, ip, li);
	p += li;
	memcpy(p, end, sizeof(end) - 1);
	p += sizeof(end) - 1;
	memcpy(p, s, ls + 1);
	spf_complete(c);
}

/* Expand the explanation text; it needs %{p} validated first. */
static void
spf_exp_text(struct spf_check *c, const char *text)
{
	char *out = NULL;
	const char *why = NULL;
	size_t n = strlen(text);

	if (spf_macro_check(text, n, SPF_MACRO_EXPLAIN, NULL, &why) != 0) {
		spf_default_explanation(c);
		return;
	}
	if (!c->ptr_done && spec_uses_p(text)) {
		c->exp_text = text;
		spf_ptr_start(c, SPF_AFTER_PTR_EXP_TEXT);
		return;
	}
	c->vars.domain = top(c)->domain;
	if (spf_macro_expand(c->a, text, n, SPF_MACRO_EXPLAIN, &c->vars, &out,
	    &why) != 0) {
		spf_default_explanation(c);
		return;
	}
	c->explanation = out;
	spf_complete(c);
}

static void
spf_exp_start(struct spf_check *c)
{
	struct spf_frame *f = top(c);
	const char *spec = f->rec.exp, *target;

	c->state = SPF_ST_IDLE;
	if (c->exp_text != NULL) {
		spf_exp_text(c, c->exp_text);
		return;
	}
	if (spec == NULL) {
		spf_default_explanation(c);
		return;
	}
	if (!c->ptr_done && spec_uses_p(spec)) {
		spf_ptr_start(c, SPF_AFTER_PTR_EXP);
		return;
	}
	target = spf_target(c, spec);
	if (!name_queryable(target)) {
		spf_default_explanation(c);
		return;
	}
	spf_query(c, SPF_ST_EXP, target, DNS_T_TXT);
}

static void
spf_on_exp(struct spf_check *c, struct dns_answer *ans)
{
	const struct dns_rr *rr = NULL;
	size_t i, n = 0;

	for (i = 0; ans->status == DNS_OK && i < ans->n; i++) {
		if (ans->rr[i].type == DNS_T_TXT) {
			rr = &ans->rr[i];
			n++;
		}
	}
	/* Any trouble: as if there were no exp= at all (6.2). */
	if (n != 1 || memchr(rr->u.txt.joined, '\0', rr->u.txt.joined_len)) {
		spf_default_explanation(c);
		return;
	}
	spf_exp_text(c, arena_strndup(c->a, rr->u.txt.joined,
	    rr->u.txt.joined_len));
}

/* ---- the loop side ------------------------------------------------- */

static void
spf_on_answer(struct dns_answer *ans, void *arg)
{
	struct spf_check *c = arg;
	enum spf_state st = c->state;

	c->q = NULL;
	switch (st) {
	case SPF_ST_RECORD: spf_on_record(c, ans); break;
	case SPF_ST_A: spf_on_a(c, ans); break;
	case SPF_ST_MX: spf_on_mx(c, ans); break;
	case SPF_ST_MX_ADDR: spf_on_mx_addr(c, ans); break;
	case SPF_ST_PTR: spf_on_ptr(c, ans); break;
	case SPF_ST_PTR_ADDR: spf_on_ptr_addr(c, ans); break;
	case SPF_ST_EXISTS: spf_on_exists(c, ans); break;
	case SPF_ST_EXP: spf_on_exp(c, ans); break;
	case SPF_ST_IDLE: break;
	}
	/* c may be gone now; the answer never belonged to it. */
	dns_answer_free(ans);
}

static void
spf_kick(evutil_socket_t fd, short what, void *arg)
{
	struct spf_check *c = arg;
	struct spf_frame *f;

	(void)fd;
	(void)what;
	if (!domain_checkable(c->domain)) {
		c->result = SPF_RESULT_NONE;
		c->reason = arena_printf(c->a, "'%s' is not a domain name "
		    "SPF can check", c->domain);
		spf_complete(c);
		return;
	}
	c->depth = 1;
	f = top(c);
	f->domain = c->domain;
	if (c->record_override != NULL) {
		spf_install(c, c->record_override,
		    strlen(c->record_override));
		return;
	}
	spf_query(c, SPF_ST_RECORD, c->domain, DNS_T_TXT);
}

struct spf_check *
spf_check_start(struct event_base *base, struct dns_resolver *resolver,
    const struct spf_request *req, struct arena *out, spf_done_cb *cb,
    void *arg)
{
	struct spf_check *c;
	const char *sender = req->sender, *helo = req->helo, *at;
	struct timeval now = { 0, 0 };
	char ip[IP_STRLEN];
	struct arena *a;
	size_t len;

	/* the check lives in its own arena: one block for both, sized for
	 * what a check usually expands (the arena grows when it must) */
	a = arena_new(sizeof(*c) + 1024);
	c = arena_calloc(a, 1, sizeof(*c));
	c->base = base;
	c->resolver = resolver;
	c->a = a;
	c->out = out;
	c->cb = cb;
	c->cb_arg = arg;
	c->identity = req->identity;
	c->record_override = req->record ? arena_strdup(c->a, req->record) :
	    NULL;
	c->result = SPF_RESULT_NEUTRAL;

	helo = arena_strdup(c->a, helo ? helo : "");
	len = strlen(helo);
	if (len > 0 && helo[len - 1] == '.')
		helo = arena_strndup(c->a, helo, len - 1);
	c->vars.helo = helo;
	c->vars.receiver = req->receiver ?
	    arena_strdup(c->a, req->receiver) : NULL;
	c->vars.ip = req->ip;
	ip_unmap_v4(&c->vars.ip);
	c->vars.now = req->now ? req->now : (long long)time(NULL);

	/* 2.3, 2.4, 4.3: the <sender> and the domain it names. */
	if (c->identity == SPF_IDENTITY_HELO || sender == NULL ||
	    sender[0] == '\0')
		sender = concat3(c->a, "postmaster", "@", helo);
	at = strrchr(sender, '@');
	if (at == NULL) {
		c->vars.local = "postmaster";
		c->vars.sender_domain = arena_strdup(c->a, sender);
	} else {
		c->vars.local = at == sender ? "postmaster" :
		    arena_strndup(c->a, sender, (size_t)(at - sender));
		c->vars.sender_domain = arena_strdup(c->a, at + 1);
	}
	len = strlen(c->vars.sender_domain);
	if (len > 0 && c->vars.sender_domain[len - 1] == '.')
		c->vars.sender_domain = arena_strndup(c->a,
		    c->vars.sender_domain, len - 1);
	c->vars.sender = concat3(c->a, c->vars.local, "@",
	    c->vars.sender_domain);
	c->domain = c->identity == SPF_IDENTITY_HELO ? helo :
	    c->vars.sender_domain;
	c->vars.domain = c->domain;
	spf_ip_format(&c->vars.ip, ip);
	c->vars.ip_text = arena_strdup(c->a, ip);

	/*
	 * The usual start, the record's TXT lookup, can go out now: its
	 * answer comes from the loop. Anything that would end the check
	 * at once waits for the loop, so the callback never runs here.
	 */
	if (c->record_override == NULL && domain_checkable(c->domain)) {
		c->depth = 1;
		top(c)->domain = c->domain;
		/* checkable: letters, digits, - _ and dots: no escapes */
		spf_query_name(c, SPF_ST_RECORD, c->domain, DNS_T_TXT, true);
		return c;
	}
	c->kick = evtimer_new(base, spf_kick, c);
	if (c->kick == NULL)
		abort();
	evtimer_add(c->kick, &now);
	return c;
}

/* ---- rendering ----------------------------------------------------- */

/* The longest run of two or more zero groups, the first on a tie. */
static void
spf_ip6_zero_run(const uint16_t g[8], int *start, int *len)
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

/* RFC 5952 text of an IPv6 address that is not v4-mapped. */
static void
spf_ip6_format(const struct ip_addr *ip, char *p)
{
	static const char hex[] = "0123456789abcdef";
	uint16_t g[8];
	int i, start, len, shift;

	for (i = 0; i < 8; i++)
		g[i] = (uint16_t)(ip->a[2 * i] << 8 | ip->a[2 * i + 1]);
	spf_ip6_zero_run(g, &start, &len);
	for (i = 0; i < 8; i++) {
		if (i == start) {
			*p++ = ':';
			*p++ = ':';
			i += len - 1;
			continue;
		}
		if (i > 0 && i != start + len)
			*p++ = ':';
		for (shift = 12; shift > 0 && (g[i] >> shift) == 0; shift -= 4)
			;
		for (; shift >= 0; shift -= 4)
			*p++ = hex[(g[i] >> shift) & 15];
	}
	*p = '\0';
}

/*
 * ip_format()'s text without printf (it runs for every check): IPv4 and
 * IPv6 here, the rare v4-mapped form by ip_format() itself.
 */
static void
spf_ip_format(const struct ip_addr *ip, char out[IP_STRLEN])
{
	char *p = out;
	int i;

	if (ip->family == AF_INET6 && !ip_is_v4mapped(ip)) {
		spf_ip6_format(ip, out);
		return;
	}
	if (ip->family != AF_INET) {
		ip_format(ip, out, IP_STRLEN);
		return;
	}
	for (i = 0; i < 4; i++) {
		unsigned v = ip->a[i];

		if (i > 0)
			*p++ = '.';
		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
	}
	*p = '\0';
}

/*
 * Header text is written straight into the buffer: the room is reserved
 * once, for the worst case, and every piece is a memcpy or a byte store
 * (this runs for every message; per-piece buf calls cost more than the
 * text). Byte classes come from spf_byte_class.
 */
static char *
put_bytes(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

static char *
put_str(char *p, const char *s)
{
	return put_bytes(p, s, strlen(s));
}

/* Text for inside a header comment: printable ASCII, ( ) \\ escaped,
 * anything else as '?'. At most 2 bytes per byte of s. */
static char *
put_comment_text(char *p, const char *s)
{
	if (s == NULL)
		return p;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (spf_byte_class[ch] & SPF_B_COMMENT) {
			*p++ = (char)ch;
		} else if (ch < 0x20 || ch >= 0x7f) {
			*p++ = '?';
		} else {
			*p++ = '\\';
			*p++ = (char)ch;
		}
	}
	return p;
}

/* A dot-atom when it is one, else a quoted-string (RFC 5322 3.2).
 * At most 2 + 2 bytes per byte of s. */
static char *
put_value(char *p, const char *s, bool allow_at)
{
	const char *q;
	bool atom = s[0] != '\0' && s[0] != '.';
	unsigned ats = 0;

	for (q = s; *q && atom; q++) {
		unsigned char ch = (unsigned char)*q;

		if (spf_byte_class[ch] & SPF_B_ATEXT)
			continue;
		if (ch == '.')
			atom = q[1] != '\0' && q[1] != '.';
		else if (allow_at && ch == '@')
			atom = ++ats < 2;
		else
			atom = false;
	}
	if (atom)
		return put_bytes(p, s, (size_t)(q - s));
	*p++ = '"';
	for (q = s; *q; q++) {
		unsigned char ch = (unsigned char)*q;

		if (ch < 0x20 || ch == 0x7f)
			continue;
		if (ch == '"' || ch == '\\')
			*p++ = '\\';
		*p++ = (char)ch;
	}
	*p++ = '"';
	return p;
}

static size_t
len_or_0(const char *s)
{
	return s != NULL ? strlen(s) : 0;
}

/* One "KEY=value;" pair of Received-SPF. */
static char *
put_pair(char *p, const char *key, size_t keylen, const char *v,
    bool allow_at)
{
	p = put_bytes(p, key, keylen);
	p = put_value(p, v, allow_at);
	*p++ = ';';
	return p;
}

/* The comment of Received-SPF, after "(" and the receiver. */
static char *
put_received_comment(char *p, const struct spf_outcome *o, const char *ip)
{
	const char *who = o->sender ? o->sender : "";

	switch (o->result) {
	case SPF_RESULT_PASS:
		p = put_str(p, "domain of ");
		p = put_comment_text(p, who);
		p = put_str(p, " designates ");
		p = put_str(p, ip);
		return put_str(p, " as permitted sender");
	case SPF_RESULT_FAIL:
	case SPF_RESULT_SOFTFAIL:
		p = put_str(p, o->result == SPF_RESULT_FAIL ?
		    "domain of " : "domain of transitioning ");
		p = put_comment_text(p, who);
		p = put_str(p, " does not designate ");
		p = put_str(p, ip);
		return put_str(p, " as permitted sender");
	case SPF_RESULT_NEUTRAL:
		p = put_str(p, ip);
		p = put_str(p, " is neither permitted nor denied by domain "
		    "of ");
		return put_comment_text(p, who);
	case SPF_RESULT_NONE:
		p = put_str(p, "domain of ");
		p = put_comment_text(p, who);
		return put_str(p, " does not publish an SPF record");
	case SPF_RESULT_TEMPERROR:
	case SPF_RESULT_PERMERROR:
		p = put_str(p, o->result == SPF_RESULT_TEMPERROR ?
		    "temporary" : "permanent");
		p = put_str(p, " error evaluating the domain of ");
		return put_comment_text(p, who);
	}
	return p;
}

/* Received-SPF with the client address already as text. */
static void
spf_render_received(const struct spf_outcome *o, const char *ip,
    struct buf *b)
{
	/* fixed text and three addresses, then the worst case per field */
	size_t room = 512 + 3 * strlen(ip) + 4 * len_or_0(o->sender) +
	    4 * len_or_0(o->receiver) + 2 * len_or_0(o->helo) +
	    2 * len_or_0(o->mechanism) + 2 * len_or_0(o->reason);
	char *start, *p;

	buf_reserve(b, room);
	start = p = b->data + b->len;
	p = put_str(p, "Received-SPF: ");
	p = put_str(p, spf_result_name(o->result));
	p = put_str(p, " (");
	if (o->receiver != NULL) {
		p = put_comment_text(p, o->receiver);
		p = put_str(p, ": ");
	}
	p = put_received_comment(p, o, ip);
	p = put_str(p, ") client-ip=");
	p = put_str(p, ip);
	*p++ = ';';
	if (o->identity == SPF_IDENTITY_MAILFROM && o->sender != NULL)
		p = put_pair(p, " envelope-from=", 15, o->sender, true);
	if (o->helo != NULL && o->helo[0] != '\0')
		p = put_pair(p, " helo=", 6, o->helo, false);
	if (o->receiver != NULL)
		p = put_pair(p, " receiver=", 10, o->receiver, false);
	p = put_str(p, o->identity == SPF_IDENTITY_HELO ?
	    " identity=helo;" : " identity=mailfrom;");
	if (o->mechanism != NULL)
		p = put_pair(p, " mechanism=", 11, o->mechanism, false);
	if ((o->result == SPF_RESULT_PERMERROR ||
	    o->result == SPF_RESULT_TEMPERROR) && o->reason != NULL)
		p = put_pair(p, " problem=", 9, o->reason, false);
	p--;			/* no trailing ';' after the last pair */
	*p = '\0';
	b->len += (size_t)(p - start);
}

void
spf_render_received_spf(const struct spf_outcome *o, struct buf *b)
{
	char ip[IP_STRLEN];

	spf_ip_format(&o->ip, ip);
	spf_render_received(o, ip, b);
}

void
spf_render_authres(const struct spf_outcome *o, struct buf *b)
{
	const char *v = o->identity == SPF_IDENTITY_HELO ?
	    (o->helo ? o->helo : "") : (o->sender ? o->sender : "");
	char *start, *p;

	buf_reserve(b, 64 + 2 * strlen(v));
	start = p = b->data + b->len;
	p = put_str(p, "spf=");
	p = put_str(p, spf_result_name(o->result));
	if (o->identity == SPF_IDENTITY_HELO) {
		p = put_str(p, " smtp.helo=");
		p = put_value(p, v, false);
	} else {
		p = put_str(p, " smtp.mailfrom=");
		p = put_value(p, v, true);
	}
	*p = '\0';
	b->len += (size_t)(p - start);
}

void
spf_check_expire(struct spf_check *c, const char *why)
{
	spf_error(c, SPF_RESULT_TEMPERROR, arena_strdup(c->a, why));
}
