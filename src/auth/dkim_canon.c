/*
 * dkim_canon — RFC 6376 3.4 canonicalization. See dkim_canon.h.
 *
 * The body canonicalizers are small state machines over four facts: a CR
 * that may begin a CRLF, white space that may be the end of a line
 * (relaxed), the number of line ends held back because only empty lines
 * followed them so far, and whether anything else was written. Runs of
 * ordinary bytes go through in one piece.
 */
#include "auth/dkim_canon.h"

#include <stdlib.h>
#include <string.h>

int
dkim_canon_parse(const char *v, size_t n, enum dkim_canon *header,
    enum dkim_canon *body)
{
	const char *slash = memchr(v, '/', n);
	size_t hl = slash ? (size_t)(slash - v) : n;
	enum dkim_canon *dst[2] = { header, body };
	const char *part[2] = { v, slash ? slash + 1 : NULL };
	size_t len[2] = { hl, slash ? n - hl - 1 : 0 };
	int i;

	*body = DKIM_CANON_SIMPLE;
	for (i = 0; i < 2; i++) {
		if (part[i] == NULL)
			break;
		if (len[i] == 6 && memcmp(part[i], "simple", 6) == 0)
			*dst[i] = DKIM_CANON_SIMPLE;
		else if (len[i] == 7 && memcmp(part[i], "relaxed", 7) == 0)
			*dst[i] = DKIM_CANON_RELAXED;
		else
			return -1;
	}
	return 0;
}

const char *
dkim_canon_name(enum dkim_canon c)
{
	return c == DKIM_CANON_RELAXED ? "relaxed" : "simple";
}

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

void
dkim_canon_header(enum dkim_canon c, const char *field, size_t len,
    bool crlf, struct buf *out)
{
	const char *colon, *v, *end;
	size_t nl, i;
	bool wsp = false, started = false;
	char ch;

	if (c == DKIM_CANON_SIMPLE) {
		buf_append(out, field, len);
		if (crlf)
			buf_append(out, "\r\n", 2);
		return;
	}
	colon = memchr(field, ':', len);
	nl = colon ? (size_t)(colon - field) : len;
	while (nl > 0 && is_wsp(field[nl - 1]))
		nl--;
	buf_reserve(out, len + 3);
	for (i = 0; i < nl; i++) {
		ch = field[i];
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch + ('a' - 'A'));
		buf_append_char(out, ch);
	}
	buf_append_char(out, ':');
	if (colon != NULL) {
		end = field + len;
		for (v = colon + 1; v < end; v++) {
			if (*v == '\r' && v + 1 < end && v[1] == '\n') {
				v++;	/* unfold: the CRLF goes */
				continue;
			}
			if (is_wsp(*v)) {
				wsp = true;
				continue;
			}
			if (wsp && started)
				buf_append_char(out, ' ');
			wsp = false;
			started = true;
			buf_append_char(out, *v);
		}
	}
	if (crlf)
		buf_append(out, "\r\n", 2);
}

void
dkim_canon_headers(enum dkim_canon c, const struct hdr_section *hs,
    const struct dkim_hname *h, size_t nh, size_t skip, struct buf *out)
{
	const struct hdr_field *f;
	bool *used;
	size_t i, k;

	used = calloc(hs->n ? hs->n : 1, sizeof(*used));
	if (used == NULL)
		abort();
	for (i = 0; i < nh; i++) {
		for (k = hs->n; k-- > 0;) {
			f = &hs->fields[k];
			if (used[k] || k == skip || (f->flags & HDR_F_NO_COLON))
				continue;
			if (!hdr_name_eq(f->name, f->name_len, h[i].p,
			    h[i].len))
				continue;
			used[k] = true;
			dkim_canon_header(c, f->name,
			    (size_t)(f->value + f->value_len - f->name),
			    true, out);
			break;
		}
	}
	free(used);
}

/* --- body ----------------------------------------------------------- */

static void
canon_flush(struct dkim_body_canon *bc)
{
	if (bc->stage_len > 0) {
		bc->sink(bc->arg, bc->stage, bc->stage_len);
		bc->stage_len = 0;
	}
}

static void
canon_out(struct dkim_body_canon *bc, const char *p, size_t n)
{
	if (n >= sizeof(bc->stage) / 2) {
		canon_flush(bc);
		bc->sink(bc->arg, p, n);
		return;
	}
	if (bc->stage_len + n > sizeof(bc->stage))
		canon_flush(bc);
	memcpy(bc->stage + bc->stage_len, p, n);
	bc->stage_len += n;
}

/* Ordinary bytes of a line: first the line ends held back (they were not
 * at the end of the body after all), then the held white space. */
static void
canon_content(struct dkim_body_canon *bc, const char *p, size_t n)
{
	while (bc->pending_crlf > 0) {
		canon_out(bc, "\r\n", 2);
		bc->pending_crlf--;
	}
	if (bc->wsp_pending) {
		canon_out(bc, " ", 1);
		bc->wsp_pending = false;
	}
	canon_out(bc, p, n);
	bc->any_content = true;
}

void
dkim_body_canon_init(struct dkim_body_canon *bc, enum dkim_canon c,
    dkim_canon_sink *sink, void *arg)
{
	memset(bc, 0, sizeof(*bc));
	bc->canon = c;
	bc->sink = sink;
	bc->arg = arg;
}

static void
canon_simple(struct dkim_body_canon *bc, const char *p, size_t n)
{
	const char *cr;
	size_t i = 0, end;

	while (i < n) {
		if (bc->cr_pending) {
			bc->cr_pending = false;
			if (p[i] == '\n') {
				bc->pending_crlf++;
				i++;
				continue;
			}
			canon_content(bc, "\r", 1);
		}
		cr = memchr(p + i, '\r', n - i);
		end = cr ? (size_t)(cr - p) : n;
		if (end > i)
			canon_content(bc, p + i, end - i);
		if (cr != NULL) {
			bc->cr_pending = true;
			i = end + 1;
		} else
			i = n;
	}
}

static void
canon_relaxed(struct dkim_body_canon *bc, const char *p, size_t n)
{
	size_t i = 0, j;
	char c;

	while (i < n) {
		c = p[i];
		if (bc->cr_pending) {
			bc->cr_pending = false;
			if (c == '\n') {
				bc->wsp_pending = false;
				bc->pending_crlf++;
				i++;
				continue;
			}
			canon_content(bc, "\r", 1);
		}
		if (c == ' ' || c == '\t') {
			bc->wsp_pending = true;
			i++;
			continue;
		}
		if (c == '\r') {
			bc->cr_pending = true;
			i++;
			continue;
		}
		for (j = i + 1; j < n && p[j] != ' ' && p[j] != '\t' &&
		    p[j] != '\r'; j++)
			;
		canon_content(bc, p + i, j - i);
		i = j;
	}
}

void
dkim_body_canon_update(struct dkim_body_canon *bc, const char *p, size_t n)
{
	if (n == 0)
		return;
	if (bc->canon == DKIM_CANON_RELAXED)
		canon_relaxed(bc, p, n);
	else
		canon_simple(bc, p, n);
}

void
dkim_body_canon_final(struct dkim_body_canon *bc)
{
	if (bc->cr_pending) {
		bc->cr_pending = false;
		canon_content(bc, "\r", 1);
	}
	bc->wsp_pending = false;
	/*
	 * simple: one CRLF ends the body whatever it was (an empty body is
	 * a single CRLF, 3.4.3); relaxed: the same, but an empty body stays
	 * empty (3.4.4).
	 */
	if (bc->canon == DKIM_CANON_SIMPLE || bc->any_content)
		canon_out(bc, "\r\n", 2);
	bc->pending_crlf = 0;
	canon_flush(bc);
}

/* --- body hash ------------------------------------------------------ */

static void
body_hash_sink(void *arg, const char *p, size_t n)
{
	struct dkim_body_hash *h = arg;
	uint64_t take = n;

	h->length += n;
	if (h->limited) {
		if (h->hashed >= h->limit)
			return;
		if (take > h->limit - h->hashed)
			take = h->limit - h->hashed;
	}
	if (take > 0)
		EVP_DigestUpdate(h->md, p, (size_t)take);
	h->hashed += take;
}

int
dkim_body_hash_init(struct dkim_body_hash *h, enum dkim_canon c,
    const EVP_MD *md, int64_t limit)
{
	memset(h, 0, sizeof(*h));
	h->md = EVP_MD_CTX_new();
	if (h->md == NULL || EVP_DigestInit_ex(h->md, md, NULL) != 1) {
		EVP_MD_CTX_free(h->md);
		h->md = NULL;
		return -1;
	}
	if (limit >= 0) {
		h->limited = true;
		h->limit = (uint64_t)limit;
	}
	dkim_body_canon_init(&h->canon, c, body_hash_sink, h);
	return 0;
}

void
dkim_body_hash_update(struct dkim_body_hash *h, const char *p, size_t n)
{
	dkim_body_canon_update(&h->canon, p, n);
}

int
dkim_body_hash_final(struct dkim_body_hash *h, unsigned char *out)
{
	unsigned int len = 0;

	dkim_body_canon_final(&h->canon);
	if (EVP_DigestFinal_ex(h->md, out, &len) != 1)
		return -1;
	return (int)len;
}

void
dkim_body_hash_free(struct dkim_body_hash *h)
{
	EVP_MD_CTX_free(h->md);
	h->md = NULL;
}
