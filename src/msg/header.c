/*
 * header — RFC 5322 section 2.2 header-section splitter. See header.h.
 *
 * One pass over the lines: a line starting with SP or HTAB continues the
 * field before it (RFC 5322 2.2.3), an empty line ends the section, any
 * other line starts a field. The field array grows in the caller's arena.
 */
#include "msg/header.h"

#include <string.h>

static bool
hdr_is_ftext(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

static struct hdr_field *
hdr_push(struct arena *a, struct hdr_section *s, size_t *cap)
{
	struct hdr_field *nf;

	if (s->n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		nf = arena_calloc(a, *cap, sizeof(*nf));
		if (s->n)
			memcpy(nf, s->fields, s->n * sizeof(*nf));
		s->fields = nf;
	}
	nf = &s->fields[s->n++];
	memset(nf, 0, sizeof(*nf));
	return nf;
}

static void
hdr_start_field(struct hdr_field *f, const char *p, size_t pos,
    size_t content_end)
{
	const char *colon;
	size_t i, nend;

	f->start = pos;
	f->name = p + pos;
	colon = memchr(p + pos, ':', content_end - pos);
	if (colon == NULL) {
		f->flags |= HDR_F_NO_COLON;
		f->name_len = content_end - pos;
		f->value = p + content_end;
		f->value_len = 0;
		return;
	}
	nend = (size_t)(colon - p);
	while (nend > pos && (p[nend - 1] == ' ' || p[nend - 1] == '\t')) {
		nend--;
		f->flags |= HDR_F_OBS_WSP;
	}
	f->name_len = nend - pos;
	if (f->name_len == 0)
		f->flags |= HDR_F_BAD_NAME;
	for (i = pos; i < nend; i++)
		if (!hdr_is_ftext((unsigned char)p[i])) {
			f->flags |= HDR_F_BAD_NAME;
			break;
		}
	f->value = colon + 1;
	f->value_len = content_end - (size_t)(colon + 1 - p);
}

size_t
hdr_parse(const char *p, size_t n, struct arena *a, struct hdr_section *out)
{
	struct hdr_field *cur = NULL;
	const char *nl;
	size_t pos = 0, cap = 0, line_end, content_end, next;
	bool bare_lf, has_eol;

	memset(out, 0, sizeof(*out));
	while (pos < n) {
		nl = memchr(p + pos, '\n', n - pos);
		has_eol = nl != NULL;
		line_end = has_eol ? (size_t)(nl - p) : n;
		next = has_eol ? line_end + 1 : n;
		content_end = line_end;
		bare_lf = false;
		if (has_eol) {
			if (line_end > pos && p[line_end - 1] == '\r')
				content_end--;
			else
				bare_lf = true;
		}
		if (content_end == pos && has_eol) {
			out->complete = true;
			if (bare_lf)
				out->flags |= HDR_F_BARE_LF;
			pos = next;
			break;
		}
		if (p[pos] == ' ' || p[pos] == '\t') {
			if (cur == NULL) {
				cur = hdr_push(a, out, &cap);
				cur->flags |= HDR_F_ORPHAN_FOLD | HDR_F_NO_COLON;
				cur->start = pos;
				cur->name = p + pos;
				cur->name_len = 0;
				cur->value = p + pos;
			}
		} else {
			cur = hdr_push(a, out, &cap);
			hdr_start_field(cur, p, pos, content_end);
		}
		cur->value_len = content_end - (size_t)(cur->value - p);
		cur->end = next;
		if (bare_lf)
			cur->flags |= HDR_F_BARE_LF;
		if (!has_eol)
			cur->flags |= HDR_F_NO_EOL;
		out->flags |= cur->flags;
		pos = next;
	}
	out->body_offset = pos;
	return out->n;
}

bool
hdr_name_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i;
	unsigned char x, y;

	if (alen != blen)
		return false;
	for (i = 0; i < alen; i++) {
		x = (unsigned char)a[i];
		y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return false;
	}
	return true;
}

bool
hdr_name_is(const struct hdr_field *f, const char *name)
{
	if (f->flags & HDR_F_NO_COLON)
		return false;
	return hdr_name_eq(f->name, f->name_len, name, strlen(name));
}
