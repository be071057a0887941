/* Unit tests for core/base64: RFC 4648 vectors and the strict decoder. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "core/base64.h"

/* RFC 4648 section 10. */
static const struct {
	const char *plain;
	const char *encoded;
} rfc4648_vectors[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

/* Decodes a string literal with flags; the result code. */
static int
decode_str(const char *s, unsigned flags, struct buf *out)
{
	return base64_decode(s, strlen(s), flags, out);
}

static int
decode_rc(const char *s, unsigned flags)
{
	struct buf b = BUF_INIT;
	int rc;

	rc = decode_str(s, flags, &b);
	buf_free(&b);
	return rc;
}

static void
test_encoded_len(void **state)
{
	(void)state;
	assert_int_equal(base64_encoded_len(0), 0);
	assert_int_equal(base64_encoded_len(1), 4);
	assert_int_equal(base64_encoded_len(2), 4);
	assert_int_equal(base64_encoded_len(3), 4);
	assert_int_equal(base64_encoded_len(4), 8);
	assert_int_equal(base64_encoded_len(256), 344);
}

static void
test_encode_rfc4648_vectors(void **state)
{
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rfc4648_vectors) / sizeof(rfc4648_vectors[0]);
	    i++) {
		buf_reset(&b);
		base64_encode(rfc4648_vectors[i].plain,
		    strlen(rfc4648_vectors[i].plain), &b);
		assert_string_equal(buf_cstr(&b), rfc4648_vectors[i].encoded);
		assert_int_equal(b.len,
		    base64_encoded_len(strlen(rfc4648_vectors[i].plain)));
	}
	buf_free(&b);
}

static void
test_decode_rfc4648_vectors(void **state)
{
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rfc4648_vectors) / sizeof(rfc4648_vectors[0]);
	    i++) {
		buf_reset(&b);
		assert_int_equal(decode_str(rfc4648_vectors[i].encoded, 0, &b),
		    0);
		assert_int_equal(b.len, strlen(rfc4648_vectors[i].plain));
		assert_string_equal(buf_cstr(&b), rfc4648_vectors[i].plain);
	}
	buf_free(&b);
}

static void
test_encode_appends(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_append_str(&b, "b=");
	base64_encode("foobar", 6, &b);
	assert_string_equal(buf_cstr(&b), "b=Zm9vYmFy");
	buf_free(&b);
}

static void
test_binary_round_trip(void **state)
{
	unsigned char all[256];
	struct buf enc = BUF_INIT, dec = BUF_INIT;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)i;
	for (n = 0; n <= sizeof(all); n++) {
		buf_reset(&enc);
		buf_reset(&dec);
		base64_encode(all, n, &enc);
		assert_int_equal(base64_decode(enc.data, enc.len, 0, &dec), 0);
		assert_int_equal(dec.len, n);
		if (n > 0)
			assert_memory_equal(dec.data, all, n);
	}
	buf_free(&enc);
	buf_free(&dec);
}

static void
test_decode_full_alphabet(void **state)
{
	static const char s[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct buf dec = BUF_INIT, enc = BUF_INIT;

	(void)state;
	assert_int_equal(decode_str(s, 0, &dec), 0);
	assert_int_equal(dec.len, 48);
	base64_encode(dec.data, dec.len, &enc);
	assert_string_equal(buf_cstr(&enc), s);
	buf_free(&dec);
	buf_free(&enc);
}

static void
test_decode_keeps_nul_bytes(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(decode_str("AGEA", 0, &b), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "\0a\0", 3);
	buf_free(&b);
}

/* Strict: padding is required; unpadded input is not guessed at. */
static void
test_decode_requires_padding(void **state)
{
	(void)state;
	assert_int_equal(decode_rc("Zg", 0), -1);
	assert_int_equal(decode_rc("Zg=", 0), -1);
	assert_int_equal(decode_rc("Zm8", 0), -1);
	assert_int_equal(decode_rc("Zm9vYg", 0), -1);
	assert_int_equal(decode_rc("Z", 0), -1);
	assert_int_equal(decode_rc("Zm9vY", 0), -1);
}

static void
test_decode_rejects_misplaced_padding(void **state)
{
	(void)state;
	assert_int_equal(decode_rc("=", 0), -1);
	assert_int_equal(decode_rc("====", 0), -1);
	assert_int_equal(decode_rc("Z===", 0), -1);
	assert_int_equal(decode_rc("Zg==Zg==", 0), -1);
	assert_int_equal(decode_rc("Zm8=Zm8=", 0), -1);
	assert_int_equal(decode_rc("Zg=a", 0), -1);
	assert_int_equal(decode_rc("Zm=v", 0), -1);
	assert_int_equal(decode_rc("Zg===", 0), -1);
	assert_int_equal(decode_rc("Zm8==", 0), -1);
	assert_int_equal(decode_rc("Zm9v=", 0), -1);
	assert_int_equal(decode_rc("Zm9v====", 0), -1);
}

/* RFC 4648 3.5: the bits padding leaves unused must be zero. */
static void
test_decode_rejects_nonzero_trailing_bits(void **state)
{
	(void)state;
	assert_int_equal(decode_rc("Zg==", 0), 0);
	assert_int_equal(decode_rc("Zh==", 0), -1);
	assert_int_equal(decode_rc("Zv==", 0), -1);
	assert_int_equal(decode_rc("Zm8=", 0), 0);
	assert_int_equal(decode_rc("Zm9=", 0), -1);
	assert_int_equal(decode_rc("Zm+=", 0), -1);
}

static void
test_decode_rejects_foreign_bytes(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(decode_rc("Zm9v!mFy", 0), -1);
	assert_int_equal(decode_rc("Zm9v-_Fy", 0), -1);
	assert_int_equal(decode_rc("Zm9v\x80mFy", 0), -1);
	assert_int_equal(base64_decode("Zm9v\0mFy", 8, 0, &b), -1);
	assert_int_equal(decode_rc("Zm9v.", 0), -1);
	buf_free(&b);
}

static void
test_decode_whitespace(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(decode_rc("Zm9v YmFy", 0), -1);
	assert_int_equal(decode_rc("Zm9vYmFy\r\n", 0), -1);
	assert_int_equal(decode_str(" Zm9v\r\n\tYm\nFy ", BASE64_IGNORE_WS,
	    &b), 0);
	assert_string_equal(buf_cstr(&b), "foobar");
	buf_reset(&b);
	assert_int_equal(decode_str("Zm8 = \r\n", BASE64_IGNORE_WS, &b), 0);
	assert_string_equal(buf_cstr(&b), "fo");
	buf_reset(&b);
	assert_int_equal(decode_str("Zg =\t=", BASE64_IGNORE_WS, &b), 0);
	assert_string_equal(buf_cstr(&b), "f");
	buf_reset(&b);
	assert_int_equal(decode_str(" \r\n ", BASE64_IGNORE_WS, &b), 0);
	assert_int_equal(b.len, 0);
	/* Only SP, HTAB, CR and LF are whitespace. */
	assert_int_equal(decode_rc("Zm9v\vYmFy", BASE64_IGNORE_WS), -1);
	assert_int_equal(decode_rc("Zm9v\fYmFy", BASE64_IGNORE_WS), -1);
	/* Whitespace does not hide a padding error. */
	assert_int_equal(decode_rc("Zg= Zg==", BASE64_IGNORE_WS), -1);
	assert_int_equal(decode_rc("Zg== Zg==", BASE64_IGNORE_WS), -1);
	buf_free(&b);
}

/* The 6-bit value of c by the RFC 4648 table, or -1: an independent
 * statement of the alphabet to hold the decoder's lookup table to. */
static int
ref_value(int c)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *at;

	if (c == 0 || (at = strchr(alphabet, c)) == NULL)
		return -1;
	return (int)(at - alphabet);
}

/* Every byte value, in a last quantum and between quanta, with and
 * without BASE64_IGNORE_WS: accepted exactly when it is in the
 * alphabet (decoding to its value), whitespace that may be skipped, or
 * the padding that completes "Zg==". */
static void
test_decode_every_byte(void **state)
{
	struct buf b = BUF_INIT;
	char q[8], mid[9];
	int c, v, rc;
	bool ws;

	(void)state;
	for (c = 0; c < 256; c++) {
		v = ref_value(c);
		ws = c == ' ' || c == '\t' || c == '\r' || c == '\n';
		memcpy(q, "Zm9vYmF", 7);
		q[7] = (char)c;
		buf_reset(&b);
		rc = base64_decode(q, 8, 0, &b);
		if (v >= 0) {
			assert_int_equal(rc, 0);
			assert_int_equal(b.len, 6);
			assert_int_equal((unsigned char)b.data[5],
			    (5 << 6 | v) & 0xff);
		} else
			assert_int_equal(rc, -1);
		memcpy(mid, "Zm9v?YmFy", 9);
		mid[4] = (char)c;
		assert_int_equal(base64_decode(mid, 9, 0, &b), -1);
		buf_reset(&b);
		rc = base64_decode(mid, 9, BASE64_IGNORE_WS, &b);
		assert_int_equal(rc, ws ? 0 : -1);
		if (ws)
			assert_string_equal(buf_cstr(&b), "foobar");
		memcpy(q, "Zm9vZg=", 7);
		q[7] = (char)c;
		assert_int_equal(base64_decode(q, 8, 0, &b), c == '=' ? 0 : -1);
	}
	buf_free(&b);
}

/* A byte out of place anywhere in a long value, whether it falls inside
 * a run of whole quanta or after whitespace: whitespace is skipped
 * under the flag only, anything else, '=' included, is an error. */
static void
test_decode_any_position(void **state)
{
	static const char enc[] =
	    "dGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVyIHRoZSBsYXp5IGRvZw==";
	static const char plain[] =
	    "the quick brown fox jumps over the lazy dog";
	static const char bad[] = { '!', '=', '-', '_', '.', '\v', '\0' };
	struct buf b = BUF_INIT;
	char s[sizeof(enc) + 1];
	size_t n = sizeof(enc) - 1, p, k;

	(void)state;
	for (p = 0; p <= n; p++) {
		memcpy(s, enc, p);
		memcpy(s + p + 1, enc + p, n - p);
		s[p] = ' ';
		buf_reset(&b);
		assert_int_equal(base64_decode(s, n + 1, 0, &b), -1);
		assert_int_equal(base64_decode(s, n + 1, BASE64_IGNORE_WS,
		    &b), 0);
		assert_string_equal(buf_cstr(&b), plain);
		for (k = 0; k < sizeof(bad); k++) {
			s[p] = bad[k];
			buf_reset(&b);
			assert_int_equal(base64_decode(s, n + 1,
			    BASE64_IGNORE_WS, &b), -1);
			assert_int_equal(b.len, 0);
		}
	}
	buf_free(&b);
}

/* A DKIM-style folded b= value. */
static void
test_decode_folded_signature(void **state)
{
	static const char folded[] =
	    "dGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVy\r\n"
	    "\t IHRoZSBsYXp5IGRvZw==";
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(decode_str(folded, BASE64_IGNORE_WS, &b), 0);
	assert_string_equal(buf_cstr(&b),
	    "the quick brown fox jumps over the lazy dog");
	buf_free(&b);
}

static void
test_decode_error_restores_buffer(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_append_str(&b, "keep");
	assert_int_equal(decode_str("Zm9vYmFyZm9vYh==", 0, &b), -1);
	assert_int_equal(b.len, 4);
	assert_string_equal(buf_cstr(&b), "keep");
	assert_int_equal(decode_str("Zm9vYmFy!", 0, &b), -1);
	assert_string_equal(buf_cstr(&b), "keep");
	assert_int_equal(decode_str("Zm9v", 0, &b), 0);
	assert_string_equal(buf_cstr(&b), "keepfoo");
	buf_free(&b);

	assert_int_equal(decode_str("Zm9vYmFy=", 0, &b), -1);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_cstr(&b), "");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encoded_len),
		cmocka_unit_test(test_encode_rfc4648_vectors),
		cmocka_unit_test(test_decode_rfc4648_vectors),
		cmocka_unit_test(test_encode_appends),
		cmocka_unit_test(test_binary_round_trip),
		cmocka_unit_test(test_decode_full_alphabet),
		cmocka_unit_test(test_decode_keeps_nul_bytes),
		cmocka_unit_test(test_decode_requires_padding),
		cmocka_unit_test(test_decode_rejects_misplaced_padding),
		cmocka_unit_test(test_decode_rejects_nonzero_trailing_bits),
		cmocka_unit_test(test_decode_rejects_foreign_bytes),
		cmocka_unit_test(test_decode_whitespace),
		cmocka_unit_test(test_decode_every_byte),
		cmocka_unit_test(test_decode_any_position),
		cmocka_unit_test(test_decode_folded_signature),
		cmocka_unit_test(test_decode_error_restores_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
