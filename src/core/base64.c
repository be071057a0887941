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

/*
 * One table lookup per input byte instead of a chain of range checks:
 * the 6-bit value of an alphabet character, PD for '=', WS for the four
 * whitespace bytes BASE64_IGNORE_WS may skip, XX for everything else.
 * The checks were data-dependent branches that mispredict on random
 * base64 (b=, p=); the table leaves one well-predicted branch.
 */
#define XX	0xff
#define PD	0x40
#define WS	0x41

static const uint8_t b64_table[256] = {
	XX, XX, XX, XX, XX, XX, XX, XX, XX, WS, WS, XX, XX, WS, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	WS, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, 62, XX, XX, XX, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, XX, XX, XX, PD, XX, XX,
	XX,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, XX, XX, XX, XX, XX,
	XX, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
};

#undef XX

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

/* Feeds one symbol value (0..63) or PD; writes decoded bytes at *o. */
static int
b64_feed(struct b64_state *st, uint8_t v, uint8_t **o)
{
	if (st->done)
		return -1;
	if (v == PD) {
		/* "x=" and "=" never; "xx=" needs a second '='. */
		if (st->nsym + st->npad < 2)
			return -1;
		st->npad++;
		if (st->nsym + st->npad < 4)
			return 0;
		return b64_finish_padded(st, o);
	}
	if (st->npad > 0 || v > 63)
		return -1;
	st->bits = st->bits << 6 | v;
	if (++st->nsym < 4)
		return 0;
	*(*o)++ = (uint8_t)(st->bits >> 16);
	*(*o)++ = (uint8_t)(st->bits >> 8);
	*(*o)++ = (uint8_t)st->bits;
	st->bits = 0;
	st->nsym = 0;
	return 0;
}

/*
 * Whole quanta of four alphabet characters, while there are any: the
 * common case of DKIM b=, bh= and key p= runs between folds. Stops at
 * the first quantum with anything else in it (whitespace, padding, a bad
 * byte), which the byte-at-a-time path then judges. Only called between
 * quanta and before any padding, so it cannot change the verdict.
 */
static size_t
b64_quanta(const unsigned char *s, size_t n, uint8_t **o)
{
	uint8_t a, b, c, d;
	uint8_t *w = *o;
	size_t i = 0;

	for (; i + 4 <= n; i += 4) {
		a = b64_table[s[i]];
		b = b64_table[s[i + 1]];
		c = b64_table[s[i + 2]];
		d = b64_table[s[i + 3]];
		if ((a | b | c | d) > 63)
			break;
		*w++ = (uint8_t)(a << 2 | b >> 4);
		*w++ = (uint8_t)(b << 4 | c >> 2);
		*w++ = (uint8_t)(c << 6 | d);
	}
	*o = w;
	return i;
}

int
base64_decode(const char *s, size_t n, unsigned flags, struct buf *out)
{
	const unsigned char *in = (const unsigned char *)s;
	struct b64_state st = { 0, 0, 0, false };
	bool ws_ok = (flags & BASE64_IGNORE_WS) != 0;
	size_t old = out->len, i = 0;
	uint8_t *o, v;

	buf_reserve(out, n / 4 * 3 + 3);
	o = (uint8_t *)out->data + old;
	while (i < n) {
		if (st.nsym == 0 && !st.done) {
			i += b64_quanta(in + i, n - i, &o);
			if (i == n)
				break;
		}
		v = b64_table[in[i]];
		if (v == WS && ws_ok) {
			i++;
			continue;
		}
		if (v == WS || b64_feed(&st, v, &o) != 0)
			break;
		i++;
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
