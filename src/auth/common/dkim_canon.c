/*
 * dkim_canon — RFC 6376 3.4 canonicalization. See dkim_canon.h.
 *
 * The body canonicalizers are small state machines over four facts: a CR
 * that may begin a CRLF, white space that may be the end of a line
 * (relaxed), the number of line ends held back because only empty lines
 * followed them so far, and whether anything else was written. Runs of
 * bytes that come out unchanged are found by scanning (memchr for simple,
 * a block of bytes at a time for relaxed) and go out in one piece, so
 * the per-byte cost is the scan, not a call.
 */
#include "auth/common/dkim_canon.h"

#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/*
 * Relaxed header canonicalization writes straight into room reserved in
 * out: the result is never longer than the field plus ':' and CRLF, and
 * a call per byte (buf_append_char) cost more than the rest of the work.
 */
void
dkim_canon_header(enum dkim_canon c, const char *field, size_t len,
    bool crlf, struct buf *out)
{
	const char *colon, *v, *end;
	size_t nl, i;
	bool wsp = false, started = false;
	char ch, *d;

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
	d = out->data + out->len;
	for (i = 0; i < nl; i++) {
		ch = field[i];
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch + ('a' - 'A'));
		*d++ = ch;
	}
	*d++ = ':';
	if (colon != NULL) {
		end = field + len;
		for (v = colon + 1; v < end; v++) {
			ch = *v;
			if (ch == '\r' && v + 1 < end && v[1] == '\n') {
				v++;	/* unfold: the CRLF goes */
				continue;
			}
			if (is_wsp(ch)) {
				wsp = true;
				continue;
			}
			if (wsp && started)
				*d++ = ' ';
			wsp = false;
			started = true;
			*d++ = ch;
		}
	}
	if (crlf) {
		*d++ = '\r';
		*d++ = '\n';
	}
	out->len = (size_t)(d - out->data);
	out->data[out->len] = '\0';
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

static inline void
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

/* Line ends held back, written in blocks: a long run of empty lines
 * inside the body costs a call per 32 of them, not one each. */
static void
canon_out_crlfs(struct dkim_body_canon *bc)
{
	static const char crlfs[] =
	    "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
	    "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n";
	uint64_t k;

	while (bc->pending_crlf > 0) {
		k = bc->pending_crlf < 32 ? bc->pending_crlf : 32;
		canon_out(bc, crlfs, (size_t)k * 2);
		bc->pending_crlf -= k;
	}
}

/* Ordinary bytes of a line: first the line ends held back (they were not
 * at the end of the body after all), then the held white space. */
static inline void
canon_content(struct dkim_body_canon *bc, const char *p, size_t n)
{
	if (bc->pending_crlf > 0)
		canon_out_crlfs(bc);
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

/*
 * A CR left over from the previous chunk: with an LF it ends a line,
 * otherwise it was an ordinary byte. Returns how many bytes of p it used.
 */
static size_t
canon_cr_pending(struct dkim_body_canon *bc, const char *p)
{
	bc->cr_pending = false;
	if (p[0] == '\n') {
		bc->wsp_pending = false;
		bc->pending_crlf++;
		return 1;
	}
	canon_content(bc, "\r", 1);
	return 0;
}

/*
 * simple: a run is everything up to the next CRLF that may begin a
 * trailing empty line (a bare CR is an ordinary byte), found with
 * memchr, and goes out in one piece. A CRLF followed by anything but a
 * CR in the same chunk cannot be trailing, so it stays inside the run:
 * ordinary text is one run per chunk, not one per line.
 */
static void
canon_simple(struct dkim_body_canon *bc, const char *p, size_t n)
{
	const char *cr;
	size_t i = 0, j;

	if (bc->cr_pending)
		i = canon_cr_pending(bc, p);
	while (i < n) {
		if (p[i] == '\r') {
			if (i + 1 == n) {
				bc->cr_pending = true;
				return;
			}
			if (p[i + 1] == '\n') {
				bc->pending_crlf++;
				i += 2;
				continue;
			}
		}
		/* p[i] is content: extend the run to the next line end */
		for (j = i + 1;; j = (size_t)(cr - p) + 1) {
			cr = memchr(p + j, '\r', n - j);
			if (cr == NULL) {
				j = n;
				break;
			}
			if (cr + 1 == p + n || (cr[1] == '\n' &&
			    (cr + 2 == p + n || cr[2] == '\r'))) {
				j = (size_t)(cr - p);
				break;
			}
		}
		canon_content(bc, p + i, j - i);
		i = j;
	}
}

/*
 * relaxed: bytes that need a decision are SP, HT and CR. A run that goes
 * out unchanged is ordinary bytes, bare CRs, and single spaces between
 * ordinary bytes (the common case in text: such a space is neither part
 * of a longer run nor at the end of a line). The scan looks at a block
 * of bytes at a time: with SSE2 (every x86-64) sixteen, compared with
 * the three special values at once; elsewhere eight, with the "has a
 * zero byte" word trick. A block stops the scan only at a tab, a CR, or
 * a space not followed by an ordinary byte; the byte-wise step after it
 * decides those. A CRLF right after content and right before content
 * (neither white space nor a CR) comes out unchanged too, so it stays in
 * the run: one run covers many lines of ordinary text.
 */
static inline bool
relaxed_special(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

#ifdef __SSE2__
/*
 * Index in the 16 bytes at p of the first byte the scan must stop at,
 * or 16. A space stops it unless an ordinary byte follows; a CR unless
 * LF and then an ordinary byte follow (a line end between content: most
 * line ends of a text, which would otherwise leave the block loop once
 * per line). A space in the last lane, or a CR in the last two, stops
 * it: what follows is not in this block.
 */
static inline size_t
relaxed_block(const unsigned char *p)
{
	__m128i v = _mm_loadu_si128((const void *)p);
	unsigned sp, tab, cr, lf, spec, cr_ok, bad;

	sp = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v,
	    _mm_set1_epi8(' ')));
	tab = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v,
	    _mm_set1_epi8('\t')));
	cr = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v,
	    _mm_set1_epi8('\r')));
	lf = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v,
	    _mm_set1_epi8('\n')));
	spec = sp | tab | cr;
	cr_ok = cr & (lf >> 1) & ~(spec >> 2) & 0x3fffu;
	bad = tab | (cr & ~cr_ok) | (sp & ((spec >> 1) | 0x8000u));
	return bad == 0 ? 16 : (size_t)__builtin_ctz(bad);
}
#define RELAXED_BLOCK	16
#else
#define BYTES8(b)	(0x0101010101010101ULL * (uint64_t)(b))

static inline uint64_t
zero_bytes(uint64_t w)
{
	return (w - BYTES8(0x01)) & ~w & BYTES8(0x80);
}

/* Index in the 8 bytes at p of the first special byte, or 8. */
static inline size_t
relaxed_block(const unsigned char *p)
{
	uint64_t w;
	size_t k;

	memcpy(&w, p, 8);
	if ((zero_bytes(w ^ BYTES8(' ')) | zero_bytes(w ^ BYTES8('\t')) |
	    zero_bytes(w ^ BYTES8('\r'))) == 0)
		return 8;
	for (k = 0; !relaxed_special(p[k]); k++)
		;
	return k;
}
#define RELAXED_BLOCK	8
#endif

/* The end of the unchanged run that begins with content byte p[i]. */
static size_t
relaxed_run(const unsigned char *p, size_t i, size_t n)
{
	size_t k;
	unsigned char c;

	i++;
	for (;;) {
		while (n - i >= RELAXED_BLOCK) {
			k = relaxed_block(p + i);
			i += k;
			if (k < RELAXED_BLOCK)
				break;
		}
		if (i >= n)
			return n;
		c = p[i];
		if (!relaxed_special(c))
			i++;
		else if (c == ' ' && i + 1 < n && !relaxed_special(p[i + 1]))
			i += 2;
		else if (c == '\r' && i + 1 < n && p[i + 1] != '\n')
			i++;
		else if (c == '\r' && n - i > 2 && !relaxed_special(p[i + 2]))
			i += 3;		/* CRLF between content bytes */
		else
			return i;
	}
}

static void
canon_relaxed(struct dkim_body_canon *bc, const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0, j;
	char c;

	if (bc->cr_pending)
		i = canon_cr_pending(bc, p);
	while (i < n) {
		c = p[i];
		if (c == ' ' || c == '\t') {
			bc->wsp_pending = true;
			for (i++; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
				;
			continue;
		}
		if (c == '\r') {
			if (i + 1 == n) {
				bc->cr_pending = true;
				return;
			}
			if (p[i + 1] == '\n') {
				bc->wsp_pending = false;
				bc->pending_crlf++;
				i += 2;
				continue;
			}
		}
		j = relaxed_run(u, i, n);
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
