/*
 * Unit tests for auth/common/dkim_canon: RFC 6376 3.4 header and body
 * canonicalization, the streaming body canonicalizer under every chunking,
 * header selection (5.4.2) and the l= limit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "auth/common/dkim_canon.h"
#include "core/arena.h"
#include "core/base64.h"

static void
capture(void *arg, const char *p, size_t n)
{
	buf_append(arg, p, n);
}

/* Canonicalize in with the given chunk size (0: all at once). */
static void
canon_chunked(enum dkim_canon c, const char *in, size_t n, size_t chunk,
    struct buf *out)
{
	struct dkim_body_canon bc;
	size_t i, k;

	dkim_body_canon_init(&bc, c, capture, out);
	if (chunk == 0)
		dkim_body_canon_update(&bc, in, n);
	else
		for (i = 0; i < n; i += k) {
			k = n - i < chunk ? n - i : chunk;
			dkim_body_canon_update(&bc, in + i, k);
		}
	dkim_body_canon_final(&bc);
}

/* Check one body in every way of feeding it: whole, in 1-, 2- and
 * 3-byte chunks, and split in two at every offset. */
static void
check_body(enum dkim_canon c, const char *in, const char *want)
{
	struct buf out = BUF_INIT;
	struct dkim_body_canon bc;
	size_t n = strlen(in), chunk, cut;

	for (chunk = 0; chunk <= 3; chunk++) {
		buf_reset(&out);
		canon_chunked(c, in, n, chunk, &out);
		assert_int_equal(out.len, strlen(want));
		assert_memory_equal(buf_cstr(&out), want, out.len);
	}
	for (cut = 0; cut <= n; cut++) {
		buf_reset(&out);
		dkim_body_canon_init(&bc, c, capture, &out);
		dkim_body_canon_update(&bc, in, cut);
		dkim_body_canon_update(&bc, in + cut, n - cut);
		dkim_body_canon_final(&bc);
		assert_int_equal(out.len, strlen(want));
		assert_memory_equal(buf_cstr(&out), want, out.len);
	}
	buf_free(&out);
}

static void
test_body_simple(void **state)
{
	(void)state;
	check_body(DKIM_CANON_SIMPLE, "", "\r\n");
	check_body(DKIM_CANON_SIMPLE, "\r\n", "\r\n");
	check_body(DKIM_CANON_SIMPLE, "\r\n\r\n\r\n", "\r\n");
	check_body(DKIM_CANON_SIMPLE, "a\r\n", "a\r\n");
	check_body(DKIM_CANON_SIMPLE, "a", "a\r\n");
	check_body(DKIM_CANON_SIMPLE, "a\r\n\r\n\r\n", "a\r\n");
	check_body(DKIM_CANON_SIMPLE, "\r\n\r\na\r\n\r\nb", "\r\n\r\na\r\n\r\nb\r\n");
	/* a line of white space is not an empty line for simple */
	check_body(DKIM_CANON_SIMPLE, "a\r\n \r\n", "a\r\n \r\n");
	check_body(DKIM_CANON_SIMPLE, "a  b \t\r\n", "a  b \t\r\n");
	/* bare CR and bare LF are ordinary bytes */
	check_body(DKIM_CANON_SIMPLE, "a\nb\n", "a\nb\n\r\n");
	check_body(DKIM_CANON_SIMPLE, "a\r", "a\r\r\n");
	check_body(DKIM_CANON_SIMPLE, "a\r\r\n", "a\r\r\n");
	check_body(DKIM_CANON_SIMPLE, "\r\r\n\r\n", "\r\r\n");
	check_body(DKIM_CANON_SIMPLE, "a\n\r\n\r\n", "a\n\r\n");
}

static void
test_body_relaxed(void **state)
{
	(void)state;
	check_body(DKIM_CANON_RELAXED, "", "");
	check_body(DKIM_CANON_RELAXED, "\r\n", "");
	check_body(DKIM_CANON_RELAXED, "\r\n\r\n", "");
	check_body(DKIM_CANON_RELAXED, " \r\n\t\r\n  ", "");
	check_body(DKIM_CANON_RELAXED, "a", "a\r\n");
	check_body(DKIM_CANON_RELAXED, "a  b \t\r\n", "a b\r\n");
	check_body(DKIM_CANON_RELAXED, "a \r\n\r\n \r\n", "a\r\n");
	check_body(DKIM_CANON_RELAXED, "  a", " a\r\n");
	check_body(DKIM_CANON_RELAXED, "a  ", "a\r\n");
	check_body(DKIM_CANON_RELAXED, "a\r\n  ", "a\r\n");
	check_body(DKIM_CANON_RELAXED, "a\r\n\r\nb", "a\r\n\r\nb\r\n");
	check_body(DKIM_CANON_RELAXED, "a\r\n \t \r\nb\r\n", "a\r\n\r\nb\r\n");
	check_body(DKIM_CANON_RELAXED, "\t\tx\t\ty\t\t\r\n", " x y\r\n");
	/* bare CR is content, so the white space before it stays */
	check_body(DKIM_CANON_RELAXED, "a \rb", "a \rb\r\n");
	check_body(DKIM_CANON_RELAXED, "a \r", "a \r\r\n");
	check_body(DKIM_CANON_RELAXED, "a\n \n", "a\n \n\r\n");
}

/*
 * The scanning fast paths look at 8 or 16 bytes at a time: put each kind
 * of special byte at every offset of a long line, so it falls at every
 * position in a block and on either side of a block boundary.
 */
static void
test_body_long_lines(void **state)
{
	static const struct {
		const char	*ins;	/* inserted into a run of 'x' */
		const char	*rel;	/* relaxed result of the insertion */
	} cases[] = {
		{ " ", " " },
		{ "  ", " " },
		{ "\t", " " },
		{ " \t ", " " },
		{ "\r", "\r" },
		{ " \r", " \r" },
		{ "\r ", "\r " },
		{ "\n", "\n" },
		{ " \r\n", "\r\n" },
		{ "\t\r\n\r\n", "\r\n\r\n" },
		{ "\r\r\n", "\r\r\n" },
		{ "\xc3\xa9 \xff", "\xc3\xa9 \xff" },
	};
	char in[128], want[128];
	size_t k, pos, len = 40;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		for (pos = 1; pos < len; pos++) {
			memset(in, 'x', pos);
			strcpy(in + pos, cases[k].ins);
			memset(in + strlen(in), 'y', len - pos);
			strcpy(in + pos + strlen(cases[k].ins) + len - pos,
			    "\r\n");
			memset(want, 'x', pos);
			strcpy(want + pos, cases[k].rel);
			memset(want + strlen(want), 'y', len - pos);
			strcpy(want + pos + strlen(cases[k].rel) + len - pos,
			    "\r\n");
			check_body(DKIM_CANON_RELAXED, in, want);
			check_body(DKIM_CANON_SIMPLE, in, in);
		}
	/* white space at the end of a long line, and of the body */
	check_body(DKIM_CANON_RELAXED,
	    "0123456789abcdef0123456789abcde \r\n0123456789abcdef \t",
	    "0123456789abcdef0123456789abcde\r\n0123456789abcdef\r\n");
	check_body(DKIM_CANON_SIMPLE,
	    "0123456789abcdef0123456789abcdef\r\r\r\n\r\n\r\n",
	    "0123456789abcdef0123456789abcdef\r\r\r\n");
}

/* RFC 6376 3.4.5, the worked example. */
static void
test_rfc_example(void **state)
{
	struct buf out = BUF_INIT;
	const char *h1 = "A: X", *h2 = "B : Y\t\r\n\tZ  ";

	(void)state;
	dkim_canon_header(DKIM_CANON_RELAXED, h1, strlen(h1), true, &out);
	dkim_canon_header(DKIM_CANON_RELAXED, h2, strlen(h2), true, &out);
	assert_string_equal(buf_cstr(&out), "a:X\r\nb:Y Z\r\n");
	buf_reset(&out);
	dkim_canon_header(DKIM_CANON_SIMPLE, h1, strlen(h1), true, &out);
	dkim_canon_header(DKIM_CANON_SIMPLE, h2, strlen(h2), true, &out);
	assert_string_equal(buf_cstr(&out), "A: X\r\nB : Y\t\r\n\tZ  \r\n");
	buf_free(&out);
	check_body(DKIM_CANON_RELAXED, " C \r\nD \t E\r\n\r\n\r\n",
	    " C\r\nD E\r\n");
	check_body(DKIM_CANON_SIMPLE, " C \r\nD \t E\r\n\r\n\r\n",
	    " C \r\nD \t E\r\n");
}

static void
test_header_relaxed_edges(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	dkim_canon_header(DKIM_CANON_RELAXED, "SUBJECT:", 8, true, &out);
	dkim_canon_header(DKIM_CANON_RELAXED, "X-Y:   ", 7, false, &out);
	dkim_canon_header(DKIM_CANON_RELAXED, "To:\r\n a@b", 9, true, &out);
	assert_string_equal(buf_cstr(&out), "subject:\r\nx-y:to:a@b\r\n");
	buf_free(&out);
}

static void
test_canon_parse(void **state)
{
	enum dkim_canon h, b;

	(void)state;
	assert_int_equal(dkim_canon_parse("relaxed/simple", 14, &h, &b), 0);
	assert_int_equal(h, DKIM_CANON_RELAXED);
	assert_int_equal(b, DKIM_CANON_SIMPLE);
	assert_int_equal(dkim_canon_parse("relaxed", 7, &h, &b), 0);
	assert_int_equal(h, DKIM_CANON_RELAXED);
	assert_int_equal(b, DKIM_CANON_SIMPLE);
	assert_int_equal(dkim_canon_parse("simple/relaxed", 14, &h, &b), 0);
	assert_int_equal(b, DKIM_CANON_RELAXED);
	assert_int_equal(dkim_canon_parse("nowsp", 5, &h, &b), -1);
	assert_int_equal(dkim_canon_parse("relaxed/", 8, &h, &b), -1);
	assert_int_equal(dkim_canon_parse("Relaxed", 7, &h, &b), -1);
	assert_int_equal(dkim_canon_parse("a/b/c", 5, &h, &b), -1);
}

static void
test_header_selection(void **state)
{
	struct arena *a = arena_new(0);
	struct hdr_section hs;
	struct buf out = BUF_INIT;
	const char *m = "From: one\r\nTo: t\r\nfrom: two\r\nX: x\r\n\r\n";
	struct dkim_hname h[] = {
		{ "from", 4 }, { "FROM", 4 }, { "from", 4 }, { "x", 1 },
		{ "nope", 4 },
	};

	(void)state;
	hdr_parse(m, strlen(m), a, &hs);
	/* bottom-up, each instance once, the third "from" selects nothing */
	dkim_canon_headers(DKIM_CANON_RELAXED, &hs, h, 5, (size_t)-1, &out);
	assert_string_equal(buf_cstr(&out), "from:two\r\nfrom:one\r\nx:x\r\n");
	buf_reset(&out);
	/* the skipped field is never selected */
	dkim_canon_headers(DKIM_CANON_SIMPLE, &hs, h, 1, 2, &out);
	assert_string_equal(buf_cstr(&out), "From: one\r\n");
	buf_free(&out);
	arena_free(a);
}

static void
body_hash_b64(enum dkim_canon c, const char *in, int64_t limit,
    struct buf *b64, uint64_t *length)
{
	struct dkim_body_hash h;
	unsigned char md[EVP_MAX_MD_SIZE];
	int n;

	assert_int_equal(dkim_body_hash_init(&h, c, EVP_sha256(), limit), 0);
	dkim_body_hash_update(&h, in, strlen(in));
	n = dkim_body_hash_final(&h, md);
	assert_int_equal(n, 32);
	*length = h.length;
	dkim_body_hash_free(&h);
	buf_reset(b64);
	base64_encode(md, (size_t)n, b64);
}

static void
test_body_hash(void **state)
{
	struct buf b = BUF_INIT, b2 = BUF_INIT;
	uint64_t len;

	(void)state;
	/* RFC 6376 3.4.3/3.4.4: the well-known empty-body hashes */
	body_hash_b64(DKIM_CANON_SIMPLE, "", -1, &b, &len);
	assert_string_equal(buf_cstr(&b),
	    "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
	body_hash_b64(DKIM_CANON_RELAXED, "\r\n", -1, &b, &len);
	assert_string_equal(buf_cstr(&b),
	    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	assert_int_equal(len, 0);
	/* l= hashes a prefix of the canonical body */
	body_hash_b64(DKIM_CANON_RELAXED, "ab  c\r\nmore text\r\n", 6, &b,
	    &len);
	body_hash_b64(DKIM_CANON_RELAXED, "ab c\r\n", -1, &b2, &len);
	assert_string_equal(buf_cstr(&b), buf_cstr(&b2));
	body_hash_b64(DKIM_CANON_RELAXED, "ab  c\r\nmore text\r\n", 6, &b,
	    &len);
	assert_int_equal(len, 17);
	body_hash_b64(DKIM_CANON_SIMPLE, "x", 0, &b, &len);
	assert_string_equal(buf_cstr(&b),
	    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	buf_free(&b);
	buf_free(&b2);
}

static void
test_many_empty_lines(void **state)
{
	struct buf out = BUF_INIT;
	struct dkim_body_canon bc;
	size_t i;

	(void)state;
	/* 100000 empty lines then text: all come out, none are kept */
	dkim_body_canon_init(&bc, DKIM_CANON_RELAXED, capture, &out);
	for (i = 0; i < 100000; i++)
		dkim_body_canon_update(&bc, "\r\n", 2);
	dkim_body_canon_update(&bc, "x", 1);
	dkim_body_canon_final(&bc);
	assert_int_equal(out.len, 200003);
	for (i = 0; i < 100000; i++)
		assert_memory_equal(out.data + 2 * i, "\r\n", 2);
	assert_memory_equal(out.data + 200000, "x\r\n", 3);
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body_simple),
		cmocka_unit_test(test_body_relaxed),
		cmocka_unit_test(test_body_long_lines),
		cmocka_unit_test(test_rfc_example),
		cmocka_unit_test(test_header_relaxed_edges),
		cmocka_unit_test(test_canon_parse),
		cmocka_unit_test(test_header_selection),
		cmocka_unit_test(test_body_hash),
		cmocka_unit_test(test_many_empty_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
