/*
 * hdrguard — forged Authentication-Results renamed on the way into the
 * spool. See hdrguard.h.
 *
 * The hold buffer holds at most one Authentication-Results field being
 * collected, hold[0..line), followed by the line still arriving,
 * hold[line..len). A line is judged only once it is complete (or has
 * grown past the bound), so a field name split between two TCP reads
 * is seen whole. A line is a run of octets ended by LF: the DATA decoder
 * refuses bare LF and bare CR at the end anyway, and treating every LF
 * as an end here means nothing a reader takes for a new field can slip
 * past unjudged.
 */
#include "smtp/hdrguard.h"

#include <string.h>
#include <strings.h>

#include "auth/authres.h"

#define HDRGUARD_AR		AUTHRES_FIELD
#define HDRGUARD_PREFIX		"X-Forged-"
#define HDRGUARD_SPAM_PREFIX	"X-Original-"

void
hdrguard_init(struct hdrguard *g, const char *authserv_id,
    hdrguard_out_cb *out, void *out_arg)
{
	memset(g, 0, sizeof(*g));
	g->authserv_id = authserv_id;
	g->out = out;
	g->out_arg = out_arg;
	buf_init(&g->hold);
}

void
hdrguard_free(struct hdrguard *g)
{
	buf_free(&g->hold);
}

static bool
hdrguard_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Does p[0..n) start a field named name (name, WSP, ':')? */
static bool
hdrguard_is_field(const char *p, size_t n, const char *name)
{
	size_t k = strlen(name), i;

	if (n < k || strncasecmp(p, name, k) != 0)
		return false;
	for (i = k; i < n && hdrguard_wsp(p[i]); i++)
		;
	return i < n && p[i] == ':';
}

/* Does p[0..n) start an Authentication-Results field? */
static bool
hdrguard_is_ar(const char *p, size_t n)
{
	return hdrguard_is_field(p, n, HDRGUARD_AR);
}

/* One of the spam verdict fields we write ourselves? */
static bool
hdrguard_is_spam(const char *p, size_t n)
{
	return hdrguard_is_field(p, n, "X-Spam-Flag") ||
	    hdrguard_is_field(p, n, "X-Spam-Score") ||
	    hdrguard_is_field(p, n, "X-Spam-Status");
}

/* A line that starts a field other than AR: renamed first when it is a
 * spam verdict field and we write our own. */
static int
hdrguard_write_other(struct hdrguard *g, const char *p, size_t n)
{
	if (g->rename_spam && !g->body && hdrguard_is_spam(p, n)) {
		g->renamed_spam++;
		if (g->out(g->out_arg, HDRGUARD_SPAM_PREFIX,
		    strlen(HDRGUARD_SPAM_PREFIX)) < 0)
			return -1;
	}
	return g->out(g->out_arg, p, n);
}

static bool
hdrguard_is_empty(const char *p, size_t n)
{
	return (n == 1 && p[0] == '\n') || (n == 2 && p[0] == '\r' &&
	    p[1] == '\n');
}

/* Two host names alike but for case and one trailing dot (the root):
 * "MX.Example.Test." is a claim to be mx.example.test as much as the
 * plain spelling is. */
static bool
hdrguard_same_name(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);

	if (na > 0 && a[na - 1] == '.')
		na--;
	if (nb > 0 && b[nb - 1] == '.')
		nb--;
	return na == nb && strncasecmp(a, b, na) == 0;
}

/* Does the AR field p[0..n) name our authserv-id? */
static bool
hdrguard_claims_ours(const struct hdrguard *g, const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);
	char id[256];

	if (colon == NULL)
		return false;
	colon++;
	if (!authres_authserv_id(colon, n - (size_t)(colon - p), id,
	    sizeof(id)))
		return false;
	return hdrguard_same_name(id, g->authserv_id);
}

/* Writes the AR field p[0..n), renamed when it claims to be ours. */
static int
hdrguard_write_ar(struct hdrguard *g, const char *p, size_t n)
{
	if (hdrguard_claims_ours(g, p, n)) {
		g->renamed++;
		if (g->out(g->out_arg, HDRGUARD_PREFIX,
		    strlen(HDRGUARD_PREFIX)) < 0)
			return -1;
	}
	return g->out(g->out_arg, p, n);
}

/* A field that starts at p: written as it is, or as an AR field. */
static int
hdrguard_write_field(struct hdrguard *g, const char *p, size_t n)
{
	if (hdrguard_is_ar(p, n))
		return hdrguard_write_ar(g, p, n);
	return hdrguard_write_other(g, p, n);
}

/* The held AR field goes out; the partial line moves to the front. */
static int
hdrguard_release(struct hdrguard *g)
{
	size_t rest = g->hold.len - g->line;
	int rc;

	rc = hdrguard_write_ar(g, g->hold.data, g->line);
	memmove(g->hold.data, g->hold.data + g->line, rest);
	g->hold.len = rest;
	g->line = 0;
	g->holding = false;
	return rc;
}

/* Everything held goes out; the rest of this field passes through. */
static int
hdrguard_spill(struct hdrguard *g, bool mid_line)
{
	int rc = 0;

	if (g->holding)
		rc = hdrguard_write_ar(g, g->hold.data, g->hold.len);
	else if (g->hold.len > 0)
		rc = hdrguard_write_field(g, g->hold.data, g->hold.len);
	buf_reset(&g->hold);
	g->line = 0;
	g->holding = false;
	g->passing = true;
	g->mid_line = mid_line;
	return rc;
}

/* The line hold[line..len) is complete. */
static int
hdrguard_line(struct hdrguard *g)
{
	const char *lp = g->hold.data + g->line;
	size_t ln = g->hold.len - g->line;
	int rc = 0;

	if (g->holding && hdrguard_wsp(lp[0])) {
		g->line = g->hold.len;
		if (g->hold.len > HDRGUARD_HOLD_MAX)
			return hdrguard_spill(g, false);
		return 0;
	}
	if (g->holding) {
		if ((rc = hdrguard_release(g)) < 0)
			return rc;
		lp = g->hold.data;
	}
	if (hdrguard_is_ar(lp, ln)) {
		g->holding = true;
		g->line = g->hold.len;
		return 0;
	}
	if (hdrguard_is_empty(lp, ln))
		g->body = true;
	rc = hdrguard_wsp(lp[0]) ? g->out(g->out_arg, lp, ln) :
	    hdrguard_write_other(g, lp, ln);
	buf_reset(&g->hold);
	g->line = 0;
	return rc;
}

/* The line arriving has outgrown the bound without its LF. */
static int
hdrguard_overflow(struct hdrguard *g)
{
	int rc;

	if (g->holding && !hdrguard_wsp(g->hold.data[g->line]) &&
	    (rc = hdrguard_release(g)) < 0)
		return rc;
	return hdrguard_spill(g, true);
}

/* Passing mode: the current field went out already. */
static size_t
hdrguard_pass(struct hdrguard *g, const char *p, size_t n, int *rc)
{
	const char *e;
	size_t len;

	if (!g->mid_line && !hdrguard_wsp(p[0])) {
		g->passing = false;	/* a new field: judge it */
		return 0;
	}
	e = memchr(p, '\n', n);
	len = e != NULL ? (size_t)(e - p) + 1 : n;
	g->mid_line = e == NULL;
	*rc = g->out(g->out_arg, p, len);
	return len;
}

/* Collect into the hold: up to a line end or the bound. */
static size_t
hdrguard_take(struct hdrguard *g, const char *p, size_t n, int *rc)
{
	const char *e = memchr(p, '\n', n);
	size_t len = e != NULL ? (size_t)(e - p) + 1 : n;
	size_t room = HDRGUARD_HOLD_MAX - (g->hold.len - g->line);

	if (len > room) {
		buf_append(&g->hold, p, room);
		*rc = hdrguard_overflow(g);
		return room;
	}
	buf_append(&g->hold, p, len);
	if (e != NULL)
		*rc = hdrguard_line(g);
	return len;
}

int
hdrguard_feed(struct hdrguard *g, const char *p, size_t n)
{
	size_t used;
	int rc = 0;

	while (n > 0 && rc == 0) {
		if (g->body)
			return g->out(g->out_arg, p, n);
		if (g->passing)
			used = hdrguard_pass(g, p, n, &rc);
		else
			used = hdrguard_take(g, p, n, &rc);
		p += used;
		n -= used;
	}
	return rc;
}

int
hdrguard_finish(struct hdrguard *g)
{
	int rc = 0;

	if (g->body || g->passing)
		return 0;
	if (g->holding)
		rc = hdrguard_release(g);
	if (rc == 0 && g->hold.len > 0)
		rc = hdrguard_write_field(g, g->hold.data, g->hold.len);
	buf_reset(&g->hold);
	g->body = true;
	return rc;
}
