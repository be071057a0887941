/*
 * from — the From field down to one domain (RFC 5322 3.4, 4.4; RFC 2047
 * encoded words in display names; RFC 7489 6.6.1 outcomes). See from.h.
 *
 * Two passes over the value: a lexer turns it into tokens (atoms, quoted
 * strings, domain literals, specials) with CFWS dropped, then a small
 * recursive-descent parser reads the mailbox-list or group over the
 * tokens. An item is classified by the first special that follows its
 * words: '<' (display name and angle address), ':' (a group), '@' (a
 * bare addr-spec), or ',' ';' and the end (a mailbox without a domain).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/addr.h"
#include "core/base64.h"
#include "core/buf.h"
#include "msg/from.h"

#define COMMENT_DEPTH_MAX	64

enum tok_kind {
	TOK_ATOM,	/* atext run (non-ASCII bytes allowed, RFC 6532) */
	TOK_QSTR,	/* quoted string, contents unescaped */
	TOK_DLIT,	/* [domain literal], brackets kept */
	TOK_SPECIAL,	/* one of < > @ , ; : . */
};

struct tok {
	enum tok_kind	 kind;
	const char	*s;	/* text (from the arena) */
	size_t		 len;
	char		 ch;	/* TOK_SPECIAL */
	bool		 space_before;
};

struct lexer {
	struct tok	*t;
	size_t		 n, cap;
	const char	*err;
};

static bool
is_atext(unsigned char c)
{
	if (isalnum(c) || c >= 0x80)
		return true;
	return strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static struct tok *
push(struct lexer *lx, struct arena *a, enum tok_kind k, bool sp)
{
	if (lx->n == lx->cap) {
		size_t cap = lx->cap ? lx->cap * 2 : 16;
		struct tok *t = arena_calloc(a, cap, sizeof(*t));

		if (lx->n > 0)
			memcpy(t, lx->t, lx->n * sizeof(*t));
		lx->t = t;
		lx->cap = cap;
	}
	memset(&lx->t[lx->n], 0, sizeof(lx->t[0]));
	lx->t[lx->n].kind = k;
	lx->t[lx->n].space_before = sp;
	return &lx->t[lx->n++];
}

static int
lex(const char *p, size_t n, struct arena *a, struct lexer *lx)
{
	size_t i = 0;
	bool sp = false;

	while (i < n) {
		unsigned char c = (unsigned char)p[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			sp = true;
			i++;
		} else if (c == '(') {
			int depth = 0;

			do {
				c = (unsigned char)p[i++];
				if (c == '\\')
					i++;
				else if (c == '(' && ++depth > COMMENT_DEPTH_MAX) {
					lx->err = "comments nested too deeply";
					return -1;
				} else if (c == ')')
					depth--;
			} while (depth > 0 && i < n);
			if (depth > 0) {
				lx->err = "unterminated comment";
				return -1;
			}
			sp = true;
		} else if (c == '"') {
			struct buf b = BUF_INIT;
			struct tok *t;
			bool closed = false;

			for (i++; i < n; i++) {
				c = (unsigned char)p[i];
				if (c == '"') {
					closed = true;
					i++;
					break;
				}
				if (c == '\\' && i + 1 < n)
					c = (unsigned char)p[++i];
				else if (c == '\r' || c == '\n')
					continue;
				buf_append_char(&b, (char)c);
			}
			if (!closed) {
				buf_free(&b);
				lx->err = "unterminated quoted string";
				return -1;
			}
			t = push(lx, a, TOK_QSTR, sp);
			t->s = arena_strndup(a, buf_cstr(&b), b.len);
			t->len = b.len;
			buf_free(&b);
			sp = false;
		} else if (c == '[') {
			size_t s = i;
			struct tok *t;

			while (i < n && p[i] != ']') {
				if (p[i] == '[' && i > s) {
					lx->err = "'[' inside a domain literal";
					return -1;
				}
				i++;
			}
			if (i >= n) {
				lx->err = "unterminated domain literal";
				return -1;
			}
			i++;
			t = push(lx, a, TOK_DLIT, sp);
			t->s = arena_strndup(a, p + s, i - s);
			t->len = i - s;
			sp = false;
		} else if (strchr("<>@,;:.", c) != NULL && c != '\0') {
			struct tok *t = push(lx, a, TOK_SPECIAL, sp);

			t->ch = (char)c;
			i++;
			sp = false;
		} else if (is_atext(c)) {
			size_t s = i;
			struct tok *t;

			while (i < n && is_atext((unsigned char)p[i]))
				i++;
			t = push(lx, a, TOK_ATOM, sp);
			t->s = arena_strndup(a, p + s, i - s);
			t->len = i - s;
			sp = false;
		} else {
			lx->err = c == ')' ? "unbalanced ')'" :
			    "a character that has no place in an address";
			return -1;
		}
	}
	return 0;
}

/* --- RFC 2047 encoded words ---------------------------------------- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode "=?charset?Q|B?text?=" into b (bytes as they are: no charset
 * conversion, the JSON writer and the terminal cope); false when s is
 * not an encoded word. */
static bool
decode_word(const char *s, size_t n, struct buf *b)
{
	const char *q1, *q2, *text;
	size_t tn, i, before = b->len;
	char enc;

	if (n < 8 || s[0] != '=' || s[1] != '?' || s[n - 2] != '?' ||
	    s[n - 1] != '=')
		return false;
	if ((q1 = memchr(s + 2, '?', n - 4)) == NULL)
		return false;
	if (q1 + 3 > s + n - 2 || q1[2] != '?')
		return false;
	enc = (char)tolower((unsigned char)q1[1]);
	q2 = q1 + 2;
	text = q2 + 1;
	tn = (size_t)((s + n - 2) - text);
	if (q1 == s + 2)
		return false;	/* no charset */
	if (enc == 'q') {
		for (i = 0; i < tn; i++) {
			int h, l;

			if (text[i] == '_')
				buf_append_char(b, ' ');
			else if (text[i] == '=' && i + 2 < tn &&
			    (h = hexval((unsigned char)text[i + 1])) >= 0 &&
			    (l = hexval((unsigned char)text[i + 2])) >= 0) {
				buf_append_char(b, (char)(h * 16 + l));
				i += 2;
			} else
				buf_append_char(b, text[i]);
		}
		return true;
	}
	if (enc == 'b') {
		if (base64_decode(text, tn, 0, b) != 0) {
			b->len = before;
			if (b->data != NULL)
				b->data[before] = '\0';
			return false;
		}
		return true;
	}
	return false;
}

/* The display name from tokens [s, e): words joined by one space,
 * encoded words decoded, the space between two encoded words dropped
 * (RFC 2047 6.2). */
static const char *
display_name(const struct tok *t, size_t s, size_t e, struct arena *a)
{
	struct buf b = BUF_INIT;
	bool prev_encoded = false;
	const char *r;
	size_t i;

	for (i = s; i < e; i++) {
		size_t before;
		bool enc;

		if (t[i].kind == TOK_SPECIAL) {
			buf_append_char(&b, t[i].ch);	/* obs-phrase '.' */
			prev_encoded = false;
			continue;
		}
		before = b.len;
		if (i > s && t[i].space_before)
			buf_append_char(&b, ' ');
		enc = t[i].kind == TOK_ATOM &&
		    decode_word(t[i].s, t[i].len, &b);
		if (enc && prev_encoded && b.len > before &&
		    b.data[before] == ' ') {
			memmove(b.data + before, b.data + before + 1,
			    b.len - before - 1);
			b.len--;
			b.data[b.len] = '\0';
		}
		if (!enc)
			buf_append(&b, t[i].s, t[i].len);
		prev_encoded = enc;
	}
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	r = arena_strndup(a, buf_cstr(&b), b.len);
	buf_free(&b);
	return r;
}

/* --- the parser over tokens ---------------------------------------- */

struct parser {
	const struct tok	*t;
	size_t			 n, i;
	struct arena		*a;
	struct from_result	*out;
	const char		*err;
	const char		*no_domain;	/* first reason a mailbox had
						 * no usable domain */
};

static bool
is_special(const struct parser *ps, char ch)
{
	return ps->i < ps->n && ps->t[ps->i].kind == TOK_SPECIAL &&
	    ps->t[ps->i].ch == ch;
}

static bool
is_word(const struct tok *t)
{
	return t->kind == TOK_ATOM || t->kind == TOK_QSTR;
}

static void
add_mailbox(struct parser *ps, const char *display, const char *local,
    const char *domain)
{
	struct from_result *o = ps->out;

	if (o->nmailboxes < FROM_MAX_MAILBOXES) {
		struct from_mailbox *m = &o->mailboxes[o->nmailboxes];

		m->display = display;
		m->local = local;
		m->domain = domain;
	}
	o->nmailboxes++;
}

/* local-part "@" domain, at ps->i; true when it parsed. */
static bool
addr_spec(struct parser *ps, const char *display)
{
	struct buf local = BUF_INIT, dom = BUF_INIT;
	char ascii[ADDR_DOMAIN_MAX + 1];
	const char *why = NULL, *domain = "";
	bool ok = false;

	/* local-part: word *("." word), obsolete CFWS around dots allowed */
	if (ps->i >= ps->n || !is_word(&ps->t[ps->i])) {
		ps->err = "local part expected";
		goto done;
	}
	for (;;) {
		buf_append(&local, ps->t[ps->i].s, ps->t[ps->i].len);
		ps->i++;
		if (!is_special(ps, '.'))
			break;
		ps->i++;
		buf_append_char(&local, '.');
		if (ps->i >= ps->n || !is_word(&ps->t[ps->i])) {
			ps->err = "word expected after '.' in the local part";
			goto done;
		}
	}
	if (!is_special(ps, '@')) {
		/* a mailbox with no domain at all ("From: undisclosed") */
		if (ps->no_domain == NULL)
			ps->no_domain = "a mailbox has no domain";
		add_mailbox(ps, display, arena_strndup(ps->a, buf_cstr(&local),
		    local.len), "");
		ok = true;
		goto done;
	}
	ps->i++;
	if (ps->i < ps->n && ps->t[ps->i].kind == TOK_DLIT) {
		if (ps->no_domain == NULL)
			ps->no_domain = "the From address is an address "
			    "literal, which has no domain";
		ps->i++;
		add_mailbox(ps, display, arena_strndup(ps->a,
		    buf_cstr(&local), local.len), "");
		ok = true;
		goto done;
	}
	if (ps->i >= ps->n || ps->t[ps->i].kind != TOK_ATOM) {
		ps->err = "domain expected after '@'";
		goto done;
	}
	for (;;) {
		buf_append(&dom, ps->t[ps->i].s, ps->t[ps->i].len);
		ps->i++;
		if (!is_special(ps, '.'))
			break;
		ps->i++;
		buf_append_char(&dom, '.');
		if (ps->i >= ps->n || ps->t[ps->i].kind != TOK_ATOM) {
			ps->err = "label expected after '.' in the domain";
			goto done;
		}
	}
	if (addr_domain_to_ascii(buf_cstr(&dom), dom.len, ascii,
	    sizeof(ascii), &why) == 0)
		domain = arena_strdup(ps->a, ascii);
	else if (ps->no_domain == NULL)
		ps->no_domain = arena_printf(ps->a, "the From domain is not "
		    "a valid domain name (%s)", why ? why : "invalid");
	add_mailbox(ps, display, arena_strndup(ps->a, buf_cstr(&local),
	    local.len), domain);
	ok = true;
done:
	buf_free(&local);
	buf_free(&dom);
	return ok;
}

/* "<" [obs-route] addr-spec ">" at ps->i. */
static bool
angle_addr(struct parser *ps, const char *display)
{
	ps->i++;	/* '<' */
	if (is_special(ps, '>')) {
		ps->err = "empty angle address";
		return false;
	}
	if (is_special(ps, '@') || is_special(ps, ',')) {
		/* obs-route: 1*("," / "@" domain) ":" */
		while (ps->i < ps->n && !is_special(ps, ':') &&
		    !is_special(ps, '>'))
			ps->i++;
		if (!is_special(ps, ':')) {
			ps->err = "bad source route";
			return false;
		}
		ps->i++;
	}
	if (!addr_spec(ps, display))
		return false;
	if (!is_special(ps, '>')) {
		ps->err = "'>' expected";
		return false;
	}
	ps->i++;
	return true;
}

/* Where the item at ps->i goes: the first special after its words. */
static char
lookahead(const struct parser *ps)
{
	size_t j;

	for (j = ps->i; j < ps->n; j++) {
		if (ps->t[j].kind != TOK_SPECIAL)
			continue;
		if (ps->t[j].ch == '.')
			continue;
		return ps->t[j].ch;
	}
	return '\0';
}

static bool
mailbox(struct parser *ps)
{
	char la = lookahead(ps);

	if (la == '<') {
		size_t s = ps->i;
		const char *disp;

		while (!is_special(ps, '<'))
			ps->i++;
		disp = display_name(ps->t, s, ps->i, ps->a);
		return angle_addr(ps, disp);
	}
	return addr_spec(ps, NULL);
}

/* mailbox-list or group list items until the end (or ';' in a group). */
static bool
item_list(struct parser *ps, bool in_group)
{
	for (;;) {
		char la;

		/* obs-mbox-list: empty items between commas */
		while (is_special(ps, ','))
			ps->i++;
		if (ps->i >= ps->n || (in_group && is_special(ps, ';')))
			return true;
		la = lookahead(ps);
		if (la == ':' && !in_group) {
			/* group: display-name ":" [group-list] ";" */
			while (!is_special(ps, ':')) {
				if (!is_word(&ps->t[ps->i]) &&
				    !is_special(ps, '.')) {
					ps->err = "bad group name";
					return false;
				}
				ps->i++;
			}
			ps->i++;
			if (!item_list(ps, true))
				return false;
			if (!is_special(ps, ';')) {
				ps->err = "group without its ';'";
				return false;
			}
			ps->i++;
		} else if (la == ':') {
			ps->err = "a group inside a group";
			return false;
		} else if (!mailbox(ps))
			return false;
		if (ps->i >= ps->n)
			return true;
		if (in_group && is_special(ps, ';'))
			return true;
		if (!is_special(ps, ',')) {
			ps->err = "',' expected between addresses";
			return false;
		}
	}
}

static enum from_status
finish(struct from_result *o, enum from_status st, const char *reason)
{
	o->status = st;
	o->reason = st == FROM_OK ? NULL : reason;
	if (st != FROM_OK)
		o->domain = NULL;
	return st;
}

enum from_status
from_parse_value(const char *p, size_t n, struct arena *a,
    struct from_result *out)
{
	struct lexer lx;
	struct parser ps;
	size_t i, k;

	memset(out, 0, sizeof(*out));
	memset(&lx, 0, sizeof(lx));
	out->nfields = 1;
	out->mailboxes = arena_calloc(a, FROM_MAX_MAILBOXES,
	    sizeof(*out->mailboxes));
	if (lex(p, n, a, &lx) != 0)
		return finish(out, FROM_SYNTAX, arena_printf(a,
		    "From is not a mailbox list: %s", lx.err));
	memset(&ps, 0, sizeof(ps));
	ps.t = lx.t;
	ps.n = lx.n;
	ps.a = a;
	ps.out = out;
	if (!item_list(&ps, false))
		return finish(out, FROM_SYNTAX, arena_printf(a,
		    "From is not a mailbox list: %s", ps.err));
	if (out->nmailboxes == 0)
		return finish(out, FROM_NO_MAILBOX, "From holds no mailbox");
	if (ps.no_domain != NULL)
		return finish(out, FROM_NO_DOMAIN, ps.no_domain);
	k = out->nmailboxes < FROM_MAX_MAILBOXES ? out->nmailboxes :
	    FROM_MAX_MAILBOXES;
	if (out->nmailboxes > FROM_MAX_MAILBOXES)
		return finish(out, FROM_MULTIPLE_DOMAINS, arena_printf(a,
		    "From holds %zu mailboxes, more than %d",
		    out->nmailboxes, FROM_MAX_MAILBOXES));
	for (i = 1; i < k; i++)
		if (strcmp(out->mailboxes[i].domain,
		    out->mailboxes[0].domain) != 0)
			return finish(out, FROM_MULTIPLE_DOMAINS,
			    arena_printf(a, "From holds mailboxes in "
			    "different domains (%s, %s)",
			    out->mailboxes[0].domain,
			    out->mailboxes[i].domain));
	out->domain = out->mailboxes[0].domain;
	return finish(out, FROM_OK, NULL);
}

enum from_status
from_parse_header(const struct hdr_section *hs, struct arena *a,
    struct from_result *out)
{
	const struct hdr_field *first = NULL;
	size_t i, count = 0;

	for (i = 0; i < hs->n; i++) {
		const struct hdr_field *f = &hs->fields[i];

		if (f->flags & (HDR_F_NO_COLON | HDR_F_ORPHAN_FOLD))
			continue;
		if (!hdr_name_is(f, "From"))
			continue;
		if (first == NULL)
			first = f;
		count++;
	}
	if (first == NULL) {
		memset(out, 0, sizeof(*out));
		return finish(out, FROM_MISSING, "the message has no From "
		    "field");
	}
	from_parse_value(first->value, first->value_len, a, out);
	out->nfields = count;
	if (count > 1)
		return finish(out, FROM_MULTIPLE_FIELDS, arena_printf(a,
		    "the message has %zu From fields", count));
	return out->status;
}

const char *
from_status_name(enum from_status s)
{
	switch (s) {
	case FROM_OK:			return "ok";
	case FROM_MISSING:		return "missing";
	case FROM_MULTIPLE_FIELDS:	return "multiple-fields";
	case FROM_MULTIPLE_DOMAINS:	return "multiple-domains";
	case FROM_NO_MAILBOX:		return "no-mailbox";
	case FROM_NO_DOMAIN:		return "no-domain";
	case FROM_SYNTAX:		return "syntax";
	}
	return "unknown";
}
