/*
 * base64 — RFC 4648 section 4 encoding and decoding. See base64.h.
 *
 * The decoder accepts exactly the canonical encoding: the standard
 * alphabet only (no URL-safe variant), the input is whole 4-character
 * quanta, '=' appears only as the padding of the last quantum ("xx==" or
 * "xxx="), and the bits that padding leaves unused must be zero (RFC 4648
 * 3.5), so every byte string has one accepted spelling. Unpadded input is
 * rejected. With BASE64_IGNORE_WS, SP, HTAB, CR and LF are skipped
 * anywhere, including inside and after the padding; nothing else is.
 */
#include "core/base64.h"

#include <stdbool.h>
#include <stdint.h>

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
base64_encoded_len(size_t n)
{
	return (n / 3 + (n % 3 != 0)) * 4;
}

void
base64_encode(const void *p, size_t n, struct buf *out)
{
	const uint8_t *in = p;
	char *o;
	uint32_t v;
	size_t i;

	buf_reserve(out, base64_encoded_len(n));
	o = out->data + out->len;
	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*o++ = b64_alphabet[v >> 18];
		*o++ = b64_alphabet[(v >> 12) & 0x3f];
		*o++ = b64_alphabet[(v >> 6) & 0x3f];
		*o++ = b64_alphabet[v & 0x3f];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		*o++ = b64_alphabet[v >> 18];
		*o++ = b64_alphabet[(v >> 12) & 0x3f];
		*o++ = '=';
		*o++ = '=';
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*o++ = b64_alphabet[v >> 18];
		*o++ = b64_alphabet[(v >> 12) & 0x3f];
		*o++ = b64_alphabet[(v >> 6) & 0x3f];
		*o++ = '=';
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
}

/* The 6-bit value of an alphabet character, or -1. */
static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static bool
b64_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Decoder state: up to four symbol values of the current quantum, and how
 * many '=' have been seen (once padding starts only '=' may follow, and
 * after a complete padded quantum nothing may).
 */
struct b64_state {
	uint32_t	bits;
	unsigned	nsym;	/* symbols in the current quantum, 0..3 */
	unsigned	npad;	/* '=' seen, 0..2 */
	bool		done;	/* a padded quantum ended the data */
};

/* Ends the data with "xx==" or "xxx="; the unused low bits must be 0. */
static int
b64_finish_padded(struct b64_state *st, uint8_t **o)
{
	if (st->nsym == 2) {
		if ((st->bits & 0x0f) != 0)
			return -1;
		*(*o)++ = (uint8_t)(st->bits >> 4);
	} else {
		if ((st->bits & 0x03) != 0)
			return -1;
		*(*o)++ = (uint8_t)(st->bits >> 10);
		*(*o)++ = (uint8_t)(st->bits >> 2);
	}
	st->nsym = 0;
	st->done = true;
	return 0;
}

/* Feeds one non-whitespace character; writes decoded bytes at *o. */
static int
b64_feed(struct b64_state *st, char c, uint8_t **o)
{
	int v;

	if (st->done)
		return -1;
	if (c == '=') {
		/* "x=" and "=" never; "xx=" needs a second '='. */
		if (st->nsym + st->npad < 2)
			return -1;
		st->npad++;
		if (st->nsym + st->npad < 4)
			return 0;
		return b64_finish_padded(st, o);
	}
	if (st->npad > 0 || (v = b64_value((unsigned char)c)) < 0)
		return -1;
	st->bits = st->bits << 6 | (uint32_t)v;
	if (++st->nsym < 4)
		return 0;
	*(*o)++ = (uint8_t)(st->bits >> 16);
	*(*o)++ = (uint8_t)(st->bits >> 8);
	*(*o)++ = (uint8_t)st->bits;
	st->bits = 0;
	st->nsym = 0;
	return 0;
}

int
base64_decode(const char *s, size_t n, unsigned flags, struct buf *out)
{
	struct b64_state st = { 0, 0, 0, false };
	size_t old = out->len, i;
	uint8_t *o;

	buf_reserve(out, n / 4 * 3 + 3);
	o = (uint8_t *)out->data + old;
	for (i = 0; i < n; i++) {
		if ((flags & BASE64_IGNORE_WS) && b64_is_ws(s[i]))
			continue;
		if (b64_feed(&st, s[i], &o) != 0)
			break;
	}
	if (i < n || st.nsym != 0 || (st.npad != 0 && !st.done)) {
		out->len = old;
		out->data[old] = '\0';
		return -1;
	}
	out->len = (size_t)((char *)o - out->data);
	out->data[out->len] = '\0';
	return 0;
}
