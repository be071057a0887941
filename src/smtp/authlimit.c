/*
 * authlimit — recent SMTP AUTH failures per client address. See
 * authlimit.h.
 *
 * The table is a flat array of cap entries; an entry whose failures
 * count is 0 is free. Nothing is ever removed eagerly: an entry past
 * its window reads as 0 failures and is reused by the next new client.
 */
#include "smtp/authlimit.h"

#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* A counter stops here; far beyond any max_failures (config allows 1000) */
#define AUTHLIMIT_FAILURES_MAX	1000000u

struct authlimit_entry {
	struct ip_addr	 client;	/* the key: IPv4, or an IPv6 /64 */
	unsigned	 failures;	/* 0 = free */
	double		 last;		/* time of the last failure */
};

struct authlimit {
	struct authlimit_entry	*v;
	size_t			 cap;
};

struct authlimit *
authlimit_new(size_t cap)
{
	struct authlimit *t;

	if (cap == 0)
		cap = 1;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((t->v = calloc(cap, sizeof(*t->v))) == NULL) {
		free(t);
		return NULL;
	}
	t->cap = cap;
	return t;
}

void
authlimit_free(struct authlimit *t)
{
	if (t == NULL)
		return;
	free(t->v);
	free(t);
}

/* The client an address belongs to: v4-mapped unmapped, IPv6 cut to its
 * /64, every other byte zero so ip_equal() compares clients. */
static struct ip_addr
authlimit_client(const struct ip_addr *ip)
{
	struct ip_addr c;

	memset(&c, 0, sizeof(c));
	c.family = ip->family;
	memcpy(c.a, ip->a, sizeof(c.a));
	ip_unmap_v4(&c);
	if (c.family == AF_INET6)
		memset(c.a + 8, 0, 8);
	else if (c.family == AF_INET)
		memset(c.a + 4, 0, sizeof(c.a) - 4);
	return c;
}

/* Free, or its window passed. A clock that went back keeps the entry. */
static bool
authlimit_expired(const struct authlimit_entry *e,
    const struct authlimit_rules *r, double now)
{
	return e->failures == 0 || now - e->last >= r->window;
}

/* The one entry of a client, expired or not (a client never has two). */
static struct authlimit_entry *
authlimit_find(const struct authlimit *t, const struct ip_addr *client)
{
	size_t i;

	for (i = 0; i < t->cap; i++)
		if (t->v[i].failures > 0 && ip_equal(&t->v[i].client, client))
			return &t->v[i];
	return NULL;
}

/* An entry for a new client: a free or expired one, else the oldest. */
static struct authlimit_entry *
authlimit_take(struct authlimit *t, const struct authlimit_rules *r,
    double now)
{
	struct authlimit_entry *oldest = &t->v[0];
	size_t i;

	for (i = 0; i < t->cap; i++) {
		if (authlimit_expired(&t->v[i], r, now))
			return &t->v[i];
		if (t->v[i].last < oldest->last)
			oldest = &t->v[i];
	}
	return oldest;
}

unsigned
authlimit_failures(const struct authlimit *t,
    const struct authlimit_rules *r, const struct ip_addr *ip, double now)
{
	struct ip_addr client = authlimit_client(ip);
	const struct authlimit_entry *e = authlimit_find(t, &client);

	return e != NULL && !authlimit_expired(e, r, now) ? e->failures : 0;
}

unsigned
authlimit_fail(struct authlimit *t, const struct authlimit_rules *r,
    const struct ip_addr *ip, double now)
{
	struct ip_addr client = authlimit_client(ip);
	struct authlimit_entry *e = authlimit_find(t, &client);

	if (e == NULL) {
		e = authlimit_take(t, r, now);
		e->client = client;
		e->failures = 0;
	} else if (authlimit_expired(e, r, now))
		e->failures = 0;	/* a new window starts */
	if (e->failures < AUTHLIMIT_FAILURES_MAX)
		e->failures++;
	e->last = now;
	return e->failures;
}

unsigned
authlimit_raise(struct authlimit *t, const struct authlimit_rules *r,
    const struct ip_addr *ip, double now, unsigned count)
{
	struct ip_addr client = authlimit_client(ip);
	struct authlimit_entry *e = authlimit_find(t, &client);

	if (count == 0)
		return authlimit_failures(t, r, ip, now);
	if (e == NULL) {
		e = authlimit_take(t, r, now);
		e->client = client;
		e->failures = 0;
	} else if (authlimit_expired(e, r, now))
		e->failures = 0;
	if (count > AUTHLIMIT_FAILURES_MAX)
		count = AUTHLIMIT_FAILURES_MAX;
	if (count > e->failures) {
		e->failures = count;
		e->last = now;
	}
	return e->failures;
}

const char *
authlimit_client_text(const struct ip_addr *ip, char *out, size_t n)
{
	struct ip_addr client = authlimit_client(ip);
	char text[IP_STRLEN];

	ip_format(&client, text, sizeof(text));
	snprintf(out, n, "%s%s", text, client.family == AF_INET6 ? "/64" :
	    "");
	return out;
}

bool
authlimit_blocked(const struct authlimit_rules *r, unsigned failures)
{
	return r->max_failures > 0 && failures >= r->max_failures;
}

double
authlimit_delay(const struct authlimit_rules *r, unsigned failures)
{
	double d = r->delay;
	unsigned i;

	if (failures == 0 || !(d > 0))
		return 0;
	/* doubling until the cap, so a large count cannot overflow */
	for (i = 1; i < failures && d < AUTHLIMIT_DELAY_MAX; i++)
		d *= 2;
	return d < AUTHLIMIT_DELAY_MAX ? d : AUTHLIMIT_DELAY_MAX;
}

size_t
authlimit_clients(const struct authlimit *t, const struct authlimit_rules *r,
    double now)
{
	size_t i, n = 0;

	for (i = 0; i < t->cap; i++)
		if (!authlimit_expired(&t->v[i], r, now))
			n++;
	return n;
}
