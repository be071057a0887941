/*
 * authres — Authentication-Results (RFC 8601): build, render, parse,
 * strip forgeries. See authres.h.
 *
 * Rendering puts each resinfo on its own folded line and folds inside a
 * resinfo between words when a line would pass the width. Parsing walks
 * the RFC 8601 2.2 grammar with a small cursor that skips CFWS (nested
 * comments, folding) and remembers the last comment it skipped, so a
 * comment after a result or a property value can be kept.
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "auth/authres.h"

/* --- building ------------------------------------------------------- */

void
authres_init(struct authres_header *h, struct arena *a, const char *id)
{
	memset(h, 0, sizeof(*h));
	h->authserv_id = arena_strdup(a, id != NULL ? id : "localhost");
}

static char *
lower_dup(struct arena *a, const char *s, size_t n)
{
	char *d = arena_strndup(a, s, n);
	size_t i;

	for (i = 0; i < n; i++)
		d[i] = (char)tolower((unsigned char)d[i]);
	return d;
}

static struct authres_resinfo *
grow_results(struct authres_header *h, struct arena *a)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 8;
		struct authres_resinfo *r = arena_calloc(a, cap, sizeof(*r));

		if (h->n > 0)
			memcpy(r, h->results, h->n * sizeof(*r));
		h->results = r;
		h->cap = cap;
	}
	memset(&h->results[h->n], 0, sizeof(h->results[0]));
	return &h->results[h->n++];
}

struct authres_resinfo *
authres_add(struct authres_header *h, struct arena *a, const char *method,
    const char *result)
{
	struct authres_resinfo *ri = grow_results(h, a);

	ri->method = lower_dup(a, method, strlen(method));
	ri->result = lower_dup(a, result, strlen(result));
	h->none = false;
	return ri;
}

static struct authres_prop *
grow_props(struct authres_resinfo *ri, struct arena *a)
{
	if (ri->nprops == ri->props_cap) {
		size_t cap = ri->props_cap ? ri->props_cap * 2 : 4;
		struct authres_prop *p = arena_calloc(a, cap, sizeof(*p));

		if (ri->nprops > 0)
			memcpy(p, ri->props, ri->nprops * sizeof(*p));
		ri->props = p;
		ri->props_cap = cap;
	}
	memset(&ri->props[ri->nprops], 0, sizeof(ri->props[0]));
	return &ri->props[ri->nprops++];
}

static const char *
dup_or_null(struct arena *a, const char *s)
{
	return s != NULL ? arena_strdup(a, s) : NULL;
}

void
authres_add_resinfo(struct authres_header *h, struct arena *a,
    const struct authres_resinfo *src)
{
	struct authres_resinfo *ri = authres_add(h, a, src->method,
	    src->result);
	size_t i;

	ri->method_version = src->method_version;
	ri->reason = dup_or_null(a, src->reason);
	ri->comment = dup_or_null(a, src->comment);
	for (i = 0; i < src->nprops; i++) {
		struct authres_prop *p = grow_props(ri, a);

		p->ptype = arena_strdup(a, src->props[i].ptype);
		p->property = arena_strdup(a, src->props[i].property);
		p->value = arena_strdup(a, src->props[i].value);
		p->comment = dup_or_null(a, src->props[i].comment);
	}
}

void
authres_resinfo_reason(struct authres_resinfo *ri, struct arena *a,
    const char *reason)
{
	ri->reason = dup_or_null(a, reason);
}

void
authres_resinfo_comment(struct authres_resinfo *ri, struct arena *a,
    const char *comment)
{
	if (comment == NULL || comment[0] == '\0')
		return;
	if (ri->comment == NULL)
		ri->comment = arena_strdup(a, comment);
	else
		ri->comment = arena_printf(a, "%s; %s", ri->comment, comment);
}

void
authres_resinfo_prop(struct authres_resinfo *ri, struct arena *a,
    const char *ptype, const char *property, const char *value)
{
	struct authres_prop *p;

	if (value == NULL || value[0] == '\0')
		return;
	p = grow_props(ri, a);
	p->ptype = lower_dup(a, ptype, strlen(ptype));
	p->property = lower_dup(a, property, strlen(property));
	p->value = arena_strdup(a, value);
}

/* --- rendering ------------------------------------------------------ */

/* RFC 2045 token characters. */
static bool
is_token_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	return strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* RFC 5322 atext. */
static bool
is_atext(unsigned char c)
{
	if (isalnum(c))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool
is_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!is_token_char((unsigned char)*s))
			return false;
	return true;
}

static bool
is_dot_atom(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return false;
		} else if (!is_atext((unsigned char)s[i]))
			return false;
	}
	return true;
}

/* [ [ local-part ] "@" ] domain-name, with a dot-atom local part. */
static bool
is_addr_value(const char *s)
{
	const char *at = strchr(s, '@');
	size_t i, dn;
	const char *d;

	if (at == NULL || strchr(at + 1, '@') != NULL)
		return false;
	if (at > s && !is_dot_atom(s, (size_t)(at - s)))
		return false;
	d = at + 1;
	dn = strlen(d);
	if (dn == 0 || d[0] == '.' || d[0] == '-' || d[dn - 1] == '.')
		return false;
	for (i = 0; i < dn; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c == '.') {
			if (d[i + 1] == '.' || d[i + 1] == '-' ||
			    (i > 0 && d[i - 1] == '-'))
				return false;
		} else if (!isalnum(c) && c != '-' && c != '_')
			return false;
	}
	return true;
}

static void
put_quoted(struct buf *b, const char *s)
{
	buf_append_char(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			continue;
		if (c == '"' || c == '\\')
			buf_append_char(b, '\\');
		buf_append_char(b, (char)c);
	}
	buf_append_char(b, '"');
}

static void
put_value(struct buf *b, const char *s, bool pvalue)
{
	if (is_token(s) || (pvalue && is_addr_value(s)))
		buf_append_str(b, s);
	else
		put_quoted(b, s);
}

/* Comment text with ( ) \ escaped and control bytes dropped. */
static void
put_comment(struct buf *b, const char *s)
{
	buf_append_char(b, '(');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			continue;
		if (c == '(' || c == ')' || c == '\\')
			buf_append_char(b, '\\');
		buf_append_char(b, (char)c);
	}
	buf_append_char(b, ')');
}

/* The words of one resinfo, separated by single spaces; the folder may
 * turn any of those spaces into a line break. */
void
authres_render_resinfo(const struct authres_resinfo *ri, struct buf *b)
{
	size_t i;

	buf_append_str(b, ri->method);
	if (ri->method_version > 0)
		buf_printf(b, "/%u", ri->method_version);
	buf_printf(b, "=%s", ri->result);
	if (ri->comment != NULL) {
		buf_append_char(b, ' ');
		put_comment(b, ri->comment);
	}
	if (ri->reason != NULL) {
		buf_append_str(b, " reason=");
		put_quoted(b, ri->reason);
	}
	for (i = 0; i < ri->nprops; i++) {
		const struct authres_prop *p = &ri->props[i];

		buf_printf(b, " %s.%s=", p->ptype, p->property);
		put_value(b, p->value, true);
		if (p->comment != NULL) {
			buf_append_char(b, ' ');
			put_comment(b, p->comment);
		}
	}
}

struct folder {
	struct buf		*out;
	const char		*eol;
	size_t			 width;
	size_t			 col;
};

/* Break text into words at spaces outside quoted strings; a space inside
 * a comment is FWS and may fold. */
static void
fold_words(struct folder *f, const char *s, size_t n, bool new_line)
{
	size_t i = 0, depth = 0;
	bool quoted = false;

	if (new_line) {
		buf_append_str(f->out, f->eol);
		buf_append_char(f->out, '\t');
		f->col = 8;
	}
	while (i < n) {
		size_t start = i, len;
		bool esc = false;

		/* quoted and depth carry over words: a comment may fold */
		while (i < n) {
			char c = s[i];

			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"' && depth == 0)
				quoted = !quoted;
			else if (c == '(' && !quoted)
				depth++;
			else if (c == ')' && !quoted && depth > 0)
				depth--;
			else if (c == ' ' && !quoted)
				break;
			i++;
		}
		len = i - start;
		if (start > 0 || !new_line) {
			if (f->col + 1 + len > f->width && f->col > 8) {
				buf_append_str(f->out, f->eol);
				buf_append_char(f->out, '\t');
				f->col = 8;
			} else {
				buf_append_char(f->out, ' ');
				f->col++;
			}
		}
		buf_append(f->out, s + start, len);
		f->col += len;
		while (i < n && s[i] == ' ')
			i++;
	}
}

void
authres_render(const struct authres_header *h,
    const struct authres_render_options *o, struct buf *out)
{
	struct folder f;
	struct buf w = BUF_INIT;
	const char *field = o && o->field ? o->field : AUTHRES_FIELD;
	size_t i, start = out->len;

	f.out = out;
	f.eol = o && o->eol ? o->eol : "\r\n";
	f.width = o && o->width ? o->width : AUTHRES_WIDTH;
	buf_printf(out, "%s:", field);
	f.col = out->len - start;
	buf_reset(&w);
	if (o && o->prefix)
		buf_append_str(&w, o->prefix);
	put_value(&w, h->authserv_id, false);
	if (h->version > 0)
		buf_printf(&w, " %u", h->version);
	buf_append_char(&w, ';');
	if (h->n == 0)
		buf_append_str(&w, " none");
	fold_words(&f, buf_cstr(&w), w.len, false);
	for (i = 0; i < h->n; i++) {
		buf_reset(&w);
		authres_render_resinfo(&h->results[i], &w);
		if (i + 1 < h->n)
			buf_append_char(&w, ';');
		fold_words(&f, buf_cstr(&w), w.len, true);
	}
	if (o && o->final_eol)
		buf_append_str(out, f.eol);
	buf_free(&w);
}

/* --- parsing -------------------------------------------------------- */

#define COMMENT_DEPTH_MAX	64

struct cur {
	const char	*p;
	size_t		 n;
	size_t		 i;
	struct arena	*a;
	const char	*comment;	/* last comment skipped, or NULL */
	const char	*err;
};

static bool
at_end(const struct cur *c)
{
	return c->i >= c->n;
}

static int
peek(const struct cur *c)
{
	return c->i < c->n ? (unsigned char)c->p[c->i] : -1;
}

/* One comment starting at '('; its text (escapes resolved, nested
 * comments kept with their parentheses) goes to c->comment. */
static bool
skip_comment(struct cur *c)
{
	struct buf t = BUF_INIT;
	int depth = 0;

	while (c->i < c->n) {
		unsigned char ch = (unsigned char)c->p[c->i++];

		if (ch == '\\') {
			if (c->i >= c->n)
				break;
			ch = (unsigned char)c->p[c->i++];
			if (depth >= 1)
				buf_append_char(&t, (char)ch);
			continue;
		}
		if (ch == '(') {
			if (++depth > COMMENT_DEPTH_MAX) {
				c->err = "comments nested too deeply";
				buf_free(&t);
				return false;
			}
			if (depth > 1)
				buf_append_char(&t, '(');
			continue;
		}
		if (ch == ')') {
			if (--depth == 0) {
				c->comment = arena_strndup(c->a, buf_cstr(&t),
				    t.len);
				buf_free(&t);
				return true;
			}
			buf_append_char(&t, ')');
			continue;
		}
		if (ch == '\r' || ch == '\n' || ch == '\t')
			ch = ' ';	/* unfolded: one space per run */
		if (ch == ' ' && t.len > 0 && t.data[t.len - 1] == ' ')
			continue;
		buf_append_char(&t, (char)ch);
	}
	buf_free(&t);
	c->err = "unterminated comment";
	return false;
}

/* CFWS; false only on a broken comment. Remembers the last comment. */
static bool
skip_cfws(struct cur *c)
{
	c->comment = NULL;
	while (c->i < c->n) {
		char ch = c->p[c->i];

		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
			c->i++;
		else if (ch == '(') {
			if (!skip_comment(c))
				return false;
		} else
			break;
	}
	return true;
}

static bool
is_ldh(int ch)
{
	return ch >= 0 && (isalnum(ch) || ch == '-' || ch == '_');
}

/* Keyword (ldh-str), lowercased; NULL when there is none. */
static const char *
keyword(struct cur *c)
{
	size_t s = c->i;

	while (c->i < c->n && is_ldh((unsigned char)c->p[c->i]))
		c->i++;
	if (c->i == s)
		return NULL;
	return lower_dup(c->a, c->p + s, c->i - s);
}

/* quoted-string at '"', contents unescaped. */
static const char *
quoted(struct cur *c)
{
	struct buf t = BUF_INIT;
	const char *r;

	c->i++;
	while (c->i < c->n) {
		unsigned char ch = (unsigned char)c->p[c->i++];

		if (ch == '"') {
			r = arena_strndup(c->a, buf_cstr(&t), t.len);
			buf_free(&t);
			return r;
		}
		if (ch == '\\') {
			if (c->i >= c->n)
				break;
			ch = (unsigned char)c->p[c->i++];
		} else if (ch == '\r' || ch == '\n')
			continue;
		buf_append_char(&t, (char)ch);
	}
	buf_free(&t);
	c->err = "unterminated quoted string";
	return NULL;
}

/* value = token / quoted-string (RFC 2045). */
static const char *
value(struct cur *c)
{
	size_t s = c->i;

	if (peek(c) == '"')
		return quoted(c);
	while (c->i < c->n && is_token_char((unsigned char)c->p[c->i]))
		c->i++;
	if (c->i == s) {
		c->err = "value expected";
		return NULL;
	}
	return arena_strndup(c->a, c->p + s, c->i - s);
}

/* pvalue: a value, or [ [ local-part ] "@" ] domain-name, where the
 * local part may be a quoted string. Bytes stop at CFWS and ';'. */
static const char *
pvalue(struct cur *c)
{
	struct buf t = BUF_INIT;
	const char *r;

	if (peek(c) == '"') {
		const char *q = quoted(c);

		if (q == NULL)
			return NULL;
		if (peek(c) != '@')
			return q;
		buf_append_str(&t, q);
	}
	while (c->i < c->n) {
		unsigned char ch = (unsigned char)c->p[c->i];

		if (ch <= 0x20 || ch == 0x7f || ch == ';' || ch == '(' ||
		    ch == ')' || ch == '"' || ch == '\\')
			break;
		buf_append_char(&t, (char)ch);
		c->i++;
	}
	if (t.len == 0) {
		/* An empty value is seen in the wild ("smtp.mailfrom=" for
		 * the null sender); keep it as "". */
		buf_free(&t);
		return arena_strdup(c->a, "");
	}
	r = arena_strndup(c->a, buf_cstr(&t), t.len);
	buf_free(&t);
	return r;
}

static bool
expect(struct cur *c, char ch, const char *err)
{
	if (!skip_cfws(c))
		return false;
	if (peek(c) != (unsigned char)ch) {
		c->err = err;
		return false;
	}
	c->i++;
	return true;
}

static bool
parse_resinfo(struct cur *c, struct authres_header *out)
{
	struct authres_resinfo *ri;
	const char *method, *result;
	unsigned version = 0;

	/* methodspec */
	if ((method = keyword(c)) == NULL) {
		c->err = "method expected";
		return false;
	}
	if (!skip_cfws(c))
		return false;
	if (peek(c) == '/') {
		c->i++;
		if (!skip_cfws(c))
			return false;
		if (!isdigit(peek(c))) {
			c->err = "method version expected";
			return false;
		}
		while (isdigit(peek(c))) {
			version = version * 10 + (unsigned)(peek(c) - '0');
			if (version > 9999) {
				c->err = "method version too large";
				return false;
			}
			c->i++;
		}
	}
	if (!expect(c, '=', "'=' expected after the method"))
		return false;
	if (!skip_cfws(c))
		return false;
	if ((result = keyword(c)) == NULL) {
		c->err = "result expected";
		return false;
	}
	if (out->n >= AUTHRES_MAX_RESULTS) {
		c->err = "too many results";
		return false;
	}
	ri = grow_results(out, c->a);
	ri->method = method;
	ri->result = result;
	ri->method_version = version;

	for (;;) {
		const char *ptype, *prop, *val;
		size_t save;
		struct authres_prop *pp;

		if (!skip_cfws(c))
			return false;
		if (c->comment != NULL && ri->nprops == 0 && ri->reason == NULL)
			ri->comment = ri->comment == NULL ? c->comment :
			    arena_printf(c->a, "%s; %s", ri->comment,
			    c->comment);
		else if (c->comment != NULL && ri->nprops > 0 &&
		    ri->props[ri->nprops - 1].comment == NULL)
			ri->props[ri->nprops - 1].comment = c->comment;
		if (at_end(c) || peek(c) == ';')
			return true;
		save = c->i;
		if ((ptype = keyword(c)) == NULL) {
			c->err = "property expected";
			return false;
		}
		if (!skip_cfws(c))
			return false;
		if (strcmp(ptype, "reason") == 0 && peek(c) == '=') {
			c->i++;
			if (!skip_cfws(c))
				return false;
			if (ri->reason != NULL || ri->nprops > 0) {
				c->err = "reason out of place";
				return false;
			}
			if ((val = value(c)) == NULL)
				return false;
			ri->reason = val;
			continue;
		}
		if (peek(c) != '.') {
			c->i = save;
			c->err = "'.' expected in a property";
			return false;
		}
		c->i++;
		if (!skip_cfws(c))
			return false;
		if ((prop = keyword(c)) == NULL) {
			c->err = "property name expected";
			return false;
		}
		if (!expect(c, '=', "'=' expected after the property"))
			return false;
		if (!skip_cfws(c))
			return false;
		if ((val = pvalue(c)) == NULL)
			return false;
		if (ri->nprops >= AUTHRES_MAX_PROPS) {
			c->err = "too many properties";
			return false;
		}
		pp = grow_props(ri, c->a);
		pp->ptype = ptype;
		pp->property = prop;
		pp->value = val;
	}
}

static int
parse_body(struct cur *c, struct authres_header *out, const char **reason)
{
	const char *id;

	if (!skip_cfws(c))
		goto err;
	if ((id = value(c)) == NULL)
		goto err;
	out->authserv_id = id;
	if (!skip_cfws(c))
		goto err;
	if (isdigit(peek(c))) {
		unsigned v = 0;

		while (isdigit(peek(c))) {
			v = v * 10 + (unsigned)(peek(c) - '0');
			if (v > 9999) {
				c->err = "version too large";
				goto err;
			}
			c->i++;
		}
		out->version = v;
		if (!skip_cfws(c))
			goto err;
	}
	if (peek(c) != ';') {
		c->err = at_end(c) ? "no results (not even 'none')" :
		    "';' expected after the authserv-id";
		goto err;
	}
	for (;;) {
		/* at ';' */
		c->i++;
		if (!skip_cfws(c))
			goto err;
		if (at_end(c)) {
			/* a trailing ';' is common in the wild */
			if (out->n == 0) {
				c->err = "no results (not even 'none')";
				goto err;
			}
			break;
		}
		if (out->n == 0 && c->n - c->i >= 4 &&
		    strncasecmp(c->p + c->i, "none", 4) == 0 &&
		    !is_ldh(c->i + 4 < c->n ? (unsigned char)c->p[c->i + 4] :
		    -1)) {
			size_t save = c->i;

			c->i += 4;
			if (!skip_cfws(c))
				goto err;
			if (at_end(c)) {
				out->none = true;
				break;
			}
			if (peek(c) != '=') {
				c->err = "nothing may follow 'none'";
				goto err;
			}
			c->i = save;
		}
		if (!parse_resinfo(c, out))
			goto err;
		if (at_end(c))
			break;
		if (peek(c) != ';') {
			c->err = "';' expected between results";
			goto err;
		}
	}
	return 0;
err:
	if (reason != NULL)
		*reason = c->err != NULL ? c->err : "syntax error";
	return -1;
}

int
authres_parse(const char *p, size_t n, struct arena *a,
    struct authres_header *out, const char **reason)
{
	struct cur c = { p, n, 0, a, NULL, NULL };

	memset(out, 0, sizeof(*out));
	return parse_body(&c, out, reason);
}

int
authres_parse_arc(const char *p, size_t n, struct arena *a,
    unsigned *instance, struct authres_header *out, const char **reason)
{
	struct cur c = { p, n, 0, a, NULL, NULL };
	unsigned v = 0;
	bool digits = false;

	memset(out, 0, sizeof(*out));
	*instance = 0;
	if (!skip_cfws(&c))
		goto err;
	if (peek(&c) != 'i' && peek(&c) != 'I') {
		c.err = "'i=' expected";
		goto err;
	}
	c.i++;
	if (!expect(&c, '=', "'=' expected after 'i'") || !skip_cfws(&c))
		goto err;
	while (isdigit(peek(&c))) {
		v = v * 10 + (unsigned)(peek(&c) - '0');
		if (v > 9999) {
			c.err = "instance too large";
			goto err;
		}
		digits = true;
		c.i++;
	}
	if (!digits) {
		c.err = "instance number expected";
		goto err;
	}
	if (!expect(&c, ';', "';' expected after the instance"))
		goto err;
	*instance = v;
	return parse_body(&c, out, reason);
err:
	if (reason != NULL)
		*reason = c.err != NULL ? c.err : "syntax error";
	return -1;
}

bool
authres_authserv_id(const char *p, size_t n, char *out, size_t outlen)
{
	struct arena *a = arena_new(256);
	struct cur c = { p, n, 0, a, NULL, NULL };
	const char *id;
	bool ok = false;

	if (outlen > 0)
		out[0] = '\0';
	if (skip_cfws(&c) && (id = value(&c)) != NULL &&
	    strlen(id) < outlen && id[0] != '\0') {
		memcpy(out, id, strlen(id) + 1);
		ok = true;
	}
	arena_free(a);
	return ok;
}

const struct authres_resinfo *
authres_find(const struct authres_header *h, const char *method)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->results[i].method, method) == 0)
			return &h->results[i];
	return NULL;
}

const char *
authres_prop_get(const struct authres_resinfo *ri, const char *ptype,
    const char *property)
{
	size_t i;

	for (i = 0; i < ri->nprops; i++)
		if (strcasecmp(ri->props[i].ptype, ptype) == 0 &&
		    strcasecmp(ri->props[i].property, property) == 0)
			return ri->props[i].value;
	return NULL;
}

/* --- forgeries ------------------------------------------------------ */

static bool
claims_ours(const struct hdr_field *f, const char *id)
{
	char got[256];

	if (!hdr_name_is(f, AUTHRES_FIELD))
		return false;
	if (!authres_authserv_id(f->value, f->value_len, got, sizeof(got)))
		return false;
	return strcasecmp(got, id) == 0;
}

size_t
authres_find_ours(const struct hdr_section *hs, const char *id,
    size_t *idx, size_t max)
{
	size_t i, k = 0;

	for (i = 0; i < hs->n; i++) {
		if (!claims_ours(&hs->fields[i], id))
			continue;
		if (k < max)
			idx[k] = i;
		k++;
	}
	return k;
}

size_t
authres_strip_ours(const char *msg, size_t n, const struct hdr_section *hs,
    const char *id, enum authres_strip_mode mode, struct buf *out)
{
	size_t i, pos = 0, k = 0;

	for (i = 0; i < hs->n; i++) {
		const struct hdr_field *f = &hs->fields[i];

		if (!claims_ours(f, id) || f->end > n)
			continue;
		buf_append(out, msg + pos, f->start - pos);
		if (mode == AUTHRES_STRIP_RENAME) {
			size_t after = (size_t)(f->name - msg) + f->name_len;

			buf_append_str(out, AUTHRES_FORGED_FIELD);
			buf_append(out, msg + after, f->end - after);
		}
		pos = f->end;
		k++;
	}
	buf_append(out, msg + pos, n - pos);
	return k;
}
