/* Unit tests for smtp/smtp_line: the command line splitter. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "smtp/smtp_line.h"

/*
 * Feeds s[0..n) cut at the given offsets (ascending) and writes one
 * token per event into out: "L:<line>" for a line (NULs as \0), "E:long"
 * and "E:bare" for errors, each followed by '|'. A pending partial line
 * at the end shows as "P".
 */
static void
run_cuts(const char *s, size_t n, const size_t *cuts, size_t ncuts,
    struct buf *out)
{
	struct smtp_line l;
	size_t from = 0, k, used, len, i;
	enum smtp_line_event ev;
	const char *line;

	smtp_line_init(&l);
	buf_reset(out);
	for (k = 0; k <= ncuts; k++) {
		size_t to = k < ncuts ? cuts[k] : n;
		const char *p = s + from;
		size_t left = to - from;

		while (left > 0) {
			used = smtp_line_feed(&l, p, left, &ev, &line, &len);
			assert_true(used <= left);
			assert_true(used > 0);
			p += used;
			left -= used;
			switch (ev) {
			case SMTP_LINE_NONE:
				assert_int_equal(left, 0);
				break;
			case SMTP_LINE_OK:
				assert_int_equal(line[len], '\0');
				buf_append_str(out, "L:");
				for (i = 0; i < len; i++) {
					if (line[i] == '\0')
						buf_append_str(out, "\\0");
					else
						buf_append_char(out, line[i]);
				}
				buf_append_char(out, '|');
				break;
			case SMTP_LINE_TOO_LONG:
				buf_append_str(out, "E:long|");
				break;
			case SMTP_LINE_BARE:
				buf_append_str(out, "E:bare|");
				break;
			}
		}
		from = to;
	}
	if (smtp_line_pending(&l))
		buf_append_char(out, 'P');
}

/* The events for the whole input at once, and the same for every
 * one-octet feeding and every split into two pieces. */
static void
expect(const char *s, size_t n, const char *want)
{
	struct buf got = BUF_INIT;
	size_t *cuts, i;

	run_cuts(s, n, NULL, 0, &got);
	if (strcmp(buf_cstr(&got), want) != 0)
		fail_msg("whole: got \"%s\" want \"%s\"", buf_cstr(&got), want);
	cuts = calloc(n + 1, sizeof(*cuts));
	assert_non_null(cuts);
	for (i = 0; i + 1 < n; i++)
		cuts[i] = i + 1;
	run_cuts(s, n, cuts, n > 0 ? n - 1 : 0, &got);
	if (strcmp(buf_cstr(&got), want) != 0)
		fail_msg("1-octet: got \"%s\" want \"%s\"", buf_cstr(&got),
		    want);
	for (i = 0; i <= n; i++) {
		cuts[0] = i;
		run_cuts(s, n, cuts, 1, &got);
		if (strcmp(buf_cstr(&got), want) != 0)
			fail_msg("split at %zu: got \"%s\" want \"%s\"", i,
			    buf_cstr(&got), want);
	}
	free(cuts);
	buf_free(&got);
}

#define EXPECT(lit, want)	expect(lit, sizeof(lit) - 1, want)

static void
test_single_line(void **state)
{
	(void)state;
	EXPECT("EHLO x\r\n", "L:EHLO x|");
	EXPECT("\r\n", "L:|");
	EXPECT("", "");
}

static void
test_pipelined_lines(void **state)
{
	(void)state;
	EXPECT("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n",
	    "L:MAIL FROM:<a@b>|L:RCPT TO:<c@d>|L:DATA|");
}

static void
test_partial_line_pending(void **state)
{
	(void)state;
	EXPECT("QUIT", "P");
	EXPECT("QUIT\r", "P");
	EXPECT("NOOP\r\nQU", "L:NOOP|P");
}

/* One line per call: the caller learns exactly where the next command
 * starts (the octets after STARTTLS or DATA are not the splitter's). */
static void
test_stops_after_each_line(void **state)
{
	static const char in[] = "STARTTLS\r\nEHLO evil\r\n";
	struct smtp_line l;
	enum smtp_line_event ev;
	const char *line;
	size_t len, used;

	(void)state;
	smtp_line_init(&l);
	used = smtp_line_feed(&l, in, sizeof(in) - 1, &ev, &line, &len);
	assert_int_equal(ev, SMTP_LINE_OK);
	assert_int_equal(used, 10);
	assert_int_equal(len, 8);
	assert_memory_equal(line, "STARTTLS", 8);
	assert_false(smtp_line_pending(&l));
}

static void
test_bare_lf_is_not_a_line_end(void **state)
{
	(void)state;
	/* reported at once, the rest up to CRLF dropped, then in step */
	EXPECT("RSET\nMAIL FROM:<x@y>\r\nNOOP\r\n", "E:bare|L:NOOP|");
	EXPECT("\nQUIT\r\n", "E:bare|");
	EXPECT("NOOP\n", "E:bare|P");
	EXPECT("A\nB\nC\r\nD\r\n", "E:bare|L:D|");
}

static void
test_bare_cr_is_not_a_line_end(void **state)
{
	(void)state;
	EXPECT("RSET\rMAIL FROM:<x@y>\r\nNOOP\r\n", "E:bare|L:NOOP|");
	EXPECT("RSET\r\r\nNOOP\r\n", "E:bare|L:NOOP|");
	EXPECT("\r\rQUIT\r\nNOOP\r\n", "E:bare|L:NOOP|");
	EXPECT("A\rB\rC\r\n", "E:bare|");
	EXPECT("A\n\r\nB\r\n", "E:bare|L:B|");
	EXPECT("A\r\n\rB\r\n", "L:A|E:bare|");
}

static void
test_nul_is_kept_for_the_parser(void **state)
{
	(void)state;
	EXPECT("NO\0OP\r\n", "L:NO\\0OP|");
}

static void
test_line_length_limit(void **state)
{
	char in[3 * SMTP_LINE_MAX];
	char want[2 * SMTP_LINE_MAX];
	size_t n;

	(void)state;
	/* 998 octets and CRLF: exactly the limit */
	memset(in, 'a', SMTP_LINE_MAX - 2);
	memcpy(in + SMTP_LINE_MAX - 2, "\r\nQUIT\r\n", 8);
	n = SMTP_LINE_MAX + 6;
	memcpy(want, "L:", 2);
	memset(want + 2, 'a', SMTP_LINE_MAX - 2);
	strcpy(want + SMTP_LINE_MAX, "|L:QUIT|");
	expect(in, n, want);

	/* one more: an error, the rest of the line dropped, then QUIT */
	memset(in, 'a', 2 * SMTP_LINE_MAX);
	memcpy(in + 2 * SMTP_LINE_MAX, "\r\nQUIT\r\n", 8);
	expect(in, 2 * SMTP_LINE_MAX + 8, "E:long|L:QUIT|");
	memset(in, 'a', SMTP_LINE_MAX - 1);
	memcpy(in + SMTP_LINE_MAX - 1, "\r\nQUIT\r\n", 8);
	expect(in, SMTP_LINE_MAX + 7, "E:long|L:QUIT|");

	/* reported before the CRLF arrives, once per line */
	memset(in, 'a', SMTP_LINE_MAX + 5);
	expect(in, SMTP_LINE_MAX + 5, "E:long|P");

	/* a bare LF in the dropped rest is no second error */
	memset(in, 'a', SMTP_LINE_MAX + 5);
	memcpy(in + SMTP_LINE_MAX + 5, "\nx\r\nQUIT\r\n", 10);
	expect(in, SMTP_LINE_MAX + 15, "E:long|L:QUIT|");
}

static void
test_long_line_with_cr_at_the_limit(void **state)
{
	char in[SMTP_LINE_MAX + 16];

	(void)state;
	/* 998 octets, a bare CR, more: bare, not too long */
	memset(in, 'a', SMTP_LINE_MAX - 2);
	memcpy(in + SMTP_LINE_MAX - 2, "\rb\r\nQUIT\r\n", 10);
	expect(in, SMTP_LINE_MAX + 8, "E:bare|L:QUIT|");
}

static void
test_error_replies(void **state)
{
	struct smtp_reply r;

	(void)state;
	smtp_line_error_reply(SMTP_LINE_TOO_LONG, &r);
	assert_int_equal(r.code, 500);
	assert_string_equal(r.enhanced, "5.5.2");
	assert_non_null(strstr(r.text, "too long"));
	smtp_line_error_reply(SMTP_LINE_BARE, &r);
	assert_int_equal(r.code, 500);
	assert_string_equal(r.enhanced, "5.5.2");
	assert_non_null(strstr(r.text, "CRLF"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_line),
		cmocka_unit_test(test_pipelined_lines),
		cmocka_unit_test(test_partial_line_pending),
		cmocka_unit_test(test_stops_after_each_line),
		cmocka_unit_test(test_bare_lf_is_not_a_line_end),
		cmocka_unit_test(test_bare_cr_is_not_a_line_end),
		cmocka_unit_test(test_nul_is_kept_for_the_parser),
		cmocka_unit_test(test_line_length_limit),
		cmocka_unit_test(test_long_line_with_cr_at_the_limit),
		cmocka_unit_test(test_error_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
