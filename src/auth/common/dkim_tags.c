/*
 * dkim_tags — RFC 6376 3.2 tag-list parser. See dkim_tags.h.
 *
 *   tag-list  = tag-spec *( ";" tag-spec ) [ ";" ]
 *   tag-spec  = [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
 *   tag-name  = ALPHA *ALNUMPUNC
 *   tag-value = [ tval *( 1*(WSP / FWS) tval ) ]
 *   tval      = 1*VALCHAR            VALCHAR = %x21-3A / %x3C-7E
 */
#include "core/reason.h"
#include "auth/common/dkim_tags.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/base64.h"
#include "core/buf.h"
#include "msg/header.h"

static bool
is_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* VALCHAR = %x21-3A / %x3C-7E: printable, not ';' */
static bool
is_valchar(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != ';';
}

/* The end of the run of VALCHAR that starts at p[i]. */
static size_t
valchar_run(const char *p, size_t i, size_t n)
{
	while (i < n && is_valchar((unsigned char)p[i]))
		i++;
	return i;
}

/* Length of the folding white space at p[i..n) (0 if none). A CRLF counts
 * only when white space follows it, as FWS demands. */
static size_t
fws_len(const char *p, size_t i, size_t n)
{
	size_t j = i;

	for (;;) {
		if (j < n && is_wsp((unsigned char)p[j]))
			j++;
		else if (j + 2 < n && p[j] == '\r' && p[j + 1] == '\n' &&
		    is_wsp((unsigned char)p[j + 2]))
			j += 3;
		else
			return j - i;
	}
}

static void
printable_name(char *out, size_t outlen, const char *p, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n && k + 1 < outlen; i++) {
		unsigned char c = (unsigned char)p[i];
		out[k++] = (c >= 0x21 && c <= 0x7e) ? (char)c : '?';
	}
	out[k] = '\0';
}

int
dkim_tags_parse(const char *p, size_t n, struct dkim_tags *out, char *why,
    size_t whylen)
{
	struct dkim_tag *t;
	size_t i = 0, k, name_start, name_end, vstart, vend_trim;
	char name[24];
	unsigned char c;

	out->n = 0;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	for (;;) {
		i += fws_len(p, i, n);
		if (i >= n)
			return 0;
		/* RFC 6376 3.2: tag-spec *(";" tag-spec) [";"]: only the
		 * last ';' may have nothing after it */
		if (p[i] == ';') {
			reason_set(why, whylen, "empty tag-spec at offset %zu",
			    i);
			return -1;
		}
		name_start = i;
		if (!is_alpha((unsigned char)p[i])) {
			reason_set(why, whylen, "invalid tag name at offset %zu "
			    "(byte 0x%02x)", i, (unsigned char)p[i]);
			return -1;
		}
		while (i < n && (is_alpha((unsigned char)p[i]) ||
		    is_digit((unsigned char)p[i]) || p[i] == '_'))
			i++;
		name_end = i;
		printable_name(name, sizeof(name), p + name_start,
		    i - name_start);
		i += fws_len(p, i, n);
		if (i >= n || p[i] != '=') {
			reason_set(why, whylen, i >= n || p[i] == ';' ?
			    "tag '%s' has no '='" :
			    "invalid character in tag name '%s'", name);
			return -1;
		}
		i++;
		if (out->n == DKIM_TAGS_MAX) {
			reason_set(why, whylen, "more than %d tags",
			    DKIM_TAGS_MAX);
			return -1;
		}
		t = &out->tag[out->n];
		t->name = p + name_start;
		t->name_len = name_end - name_start;
		t->spec_value_start = i;
		i += fws_len(p, i, n);
		vstart = i;
		vend_trim = i;
		while (i < n && p[i] != ';') {
			if (is_valchar((unsigned char)p[i])) {
				/* a run of VALCHAR (most of b=) in one loop */
				i = valchar_run(p, i, n);
				vend_trim = i;
				continue;
			}
			k = fws_len(p, i, n);
			if (k == 0) {
				c = (unsigned char)p[i];
				reason_set(why, whylen, "invalid byte 0x%02x in "
				    "the value of tag '%s'", c, name);
				return -1;
			}
			i += k;
		}
		t->value = p + vstart;
		t->value_len = vend_trim - vstart;
		t->spec_value_end = i;
		for (k = 0; k < out->n; k++)
			if (out->tag[k].name_len == t->name_len &&
			    memcmp(out->tag[k].name, t->name,
			    t->name_len) == 0) {
				reason_set(why, whylen, "duplicate tag '%s'",
				    name);
				return -1;
			}
		out->n++;
		if (i < n)
			i++;	/* the ';' */
	}
}

const struct dkim_tag *
dkim_tags_get(const struct dkim_tags *tags, const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0; i < tags->n; i++)
		if (tags->tag[i].name_len == len &&
		    memcmp(tags->tag[i].name, name, len) == 0)
			return &tags->tag[i];
	return NULL;
}

bool
dkim_tag_value_is(const struct dkim_tag *t, const char *s)
{
	size_t len = strlen(s);

	return t->value_len == len && memcmp(t->value, s, len) == 0;
}

char *
dkim_tag_lower(struct arena *a, const struct dkim_tag *t)
{
	char *s = arena_strndup(a, t->value, t->value_len);
	size_t i;

	for (i = 0; i < t->value_len; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] + ('a' - 'A'));
	return s;
}

int
dkim_tag_base64(struct arena *a, const struct dkim_tag *t,
    unsigned char **out, size_t *outlen)
{
	struct buf b = BUF_INIT;

	if (base64_decode(t->value, t->value_len, BASE64_IGNORE_WS, &b) != 0 ||
	    b.len == 0) {
		buf_free(&b);
		return -1;
	}
	*out = arena_memdup(a, b.data, b.len);
	*outlen = b.len;
	buf_free(&b);
	return 0;
}

static bool
is_fws_byte(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
dkim_tag_hnames(struct arena *a, const struct dkim_tag *t,
    const char *forbidden, struct dkim_hname **h, size_t *nh)
{
	const char *p = t->value, *end = t->value + t->value_len, *c, *x, *y;
	size_t n = 1, i, flen = forbidden != NULL ? strlen(forbidden) : 0;
	bool from = false;

	for (i = 0; i < t->value_len; i++)
		if (p[i] == ':')
			n++;
	*h = arena_calloc(a, n, sizeof(**h));
	*nh = 0;
	for (;;) {
		c = memchr(p, ':', (size_t)(end - p));
		if (c == NULL)
			c = end;
		for (x = p; x < c && is_fws_byte(*x); x++)
			;
		for (y = c; y > x && is_fws_byte(y[-1]); y--)
			;
		if (x == y)
			return -1;
		for (i = 0; i < (size_t)(y - x); i++)
			if ((unsigned char)x[i] < 33 ||
			    (unsigned char)x[i] > 126)
				return -1;
		if (forbidden != NULL &&
		    hdr_name_eq(x, (size_t)(y - x), forbidden, flen))
			return 2;
		if (hdr_name_eq(x, (size_t)(y - x), "from", 4))
			from = true;
		(*h)[*nh].p = x;
		(*h)[*nh].len = (size_t)(y - x);
		(*nh)++;
		if (c == end)
			break;
		p = c + 1;
	}
	return from ? 0 : 1;
}
