/*
 * dkim_fold — a tag list written as a folded header field. See
 * dkim_fold.h.
 */
#include "auth/common/dkim_fold.h"

#include <stdarg.h>
#include <string.h>

#include "core/base64.h"

void
dkim_fold_add(struct dkim_fold *f, const char *sep, const char *tok,
    size_t n)
{
	size_t seplen = strlen(sep);

	if (f->col + seplen + n > DKIM_FOLD_WIDTH && f->col > 8) {
		buf_append(f->out, "\r\n\t", 3);
		f->col = 8;
	} else {
		buf_append(f->out, sep, seplen);
		f->col += seplen;
	}
	buf_append(f->out, tok, n);
	f->col += n;
}

void
dkim_fold_tag(struct dkim_fold *f, const char *fmt, ...)
{
	struct buf t = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&t, fmt, ap);
	va_end(ap);
	dkim_fold_add(f, " ", t.data, t.len);
	buf_free(&t);
}

void
dkim_fold_hlist(struct dkim_fold *f, const struct dkim_hname *h, size_t n)
{
	struct buf t = BUF_INIT;
	size_t i;

	for (i = 0; i < n; i++) {
		buf_reset(&t);
		buf_append_str(&t, i == 0 ? "h=" : ":");
		buf_append(&t, h[i].p, h[i].len);
		if (i + 1 == n)
			buf_append_char(&t, ';');
		dkim_fold_add(f, i == 0 ? " " : "", t.data, t.len);
	}
	buf_free(&t);
}

void
dkim_fold_b64(struct dkim_fold *f, const unsigned char *sig, size_t n)
{
	struct buf b64 = BUF_INIT;
	size_t i, chunk;

	base64_encode(sig, n, &b64);
	for (i = 0; i < b64.len; i += chunk) {
		chunk = DKIM_FOLD_WIDTH > f->col ? DKIM_FOLD_WIDTH - f->col : 0;
		if (chunk == 0) {
			buf_append(f->out, "\r\n\t", 3);
			f->col = 8;
			chunk = DKIM_FOLD_WIDTH - f->col;
		}
		if (chunk > b64.len - i)
			chunk = b64.len - i;
		buf_append(f->out, b64.data + i, chunk);
		f->col += chunk;
	}
	buf_append(f->out, "\r\n", 2);
	buf_free(&b64);
}
