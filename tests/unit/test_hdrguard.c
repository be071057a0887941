/* Unit tests for smtp/hdrguard: forged Authentication-Results renamed
 * while the content streams into the spool. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "smtp/hdrguard.h"

#define OURS	"mx.example.test"

static int
collect(void *arg, const char *p, size_t n)
{
	buf_append(arg, p, n);
	return 0;
}

static bool rename_spam;	/* the guard's rename_spam for guard() */
static size_t renamed_spam;	/* what the last guard() renamed of them */

/* Guards s fed in pieces of at most step octets; returns renamed. */
static size_t
guard(const char *s, size_t n, size_t step, struct buf *out)
{
	struct hdrguard g;
	size_t i, k, renamed;

	buf_reset(out);
	hdrguard_init(&g, OURS, collect, out);
	g.rename_spam = rename_spam;
	for (i = 0; i < n; i += k) {
		k = n - i < step ? n - i : step;
		assert_int_equal(hdrguard_feed(&g, s + i, k), 0);
	}
	assert_int_equal(hdrguard_finish(&g), 0);
	renamed = g.renamed;
	renamed_spam = g.renamed_spam;
	hdrguard_free(&g);
	return renamed;
}

/* The same output whatever the cut, and it equals want. */
static void
check(const char *in, const char *want, size_t want_renamed)
{
	static const size_t steps[] = { 1, 2, 3, 7, 64, 100000 };
	struct buf out = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(*steps); i++) {
		assert_int_equal(guard(in, strlen(in), steps[i], &out),
		    want_renamed);
		assert_int_equal(out.len, strlen(want));
		assert_memory_equal(out.data, want, out.len);
	}
	buf_free(&out);
}

static void
test_ours_is_renamed_others_kept(void **state)
{
	(void)state;
	check("Received: from a\r\n\tby b\r\n"
	    "Authentication-Results: mx.example.test; spf=pass\r\n"
	    "Authentication-Results: other.example; spf=pass\r\n"
	    "Subject: hi\r\n\r\nbody\r\n",
	    "Received: from a\r\n\tby b\r\n"
	    "X-Forged-Authentication-Results: mx.example.test; spf=pass\r\n"
	    "Authentication-Results: other.example; spf=pass\r\n"
	    "Subject: hi\r\n\r\nbody\r\n", 1);
}

static void
test_spam_headers_renamed_when_asked(void **state)
{
	static const char in[] =
	    "X-Spam-Flag: NO\r\n"
	    "x-spam-score :  -100\r\n"
	    "X-Spam-Status: No, score=-100.0\r\n\ttests=ALL_TRUSTED\r\n"
	    "X-Spam-Level: *****\r\n"
	    "X-Spam-Flagged: yes\r\n"
	    "Authentication-Results: mx.example.test; spf=pass\r\n"
	    "Subject: X-Spam-Flag: NO\r\n\r\n"
	    "X-Spam-Flag: NO\r\n";

	(void)state;
	/* not asked (no verdict of ours is written): all kept */
	rename_spam = false;
	check(in, "X-Spam-Flag: NO\r\n"
	    "x-spam-score :  -100\r\n"
	    "X-Spam-Status: No, score=-100.0\r\n\ttests=ALL_TRUSTED\r\n"
	    "X-Spam-Level: *****\r\n"
	    "X-Spam-Flagged: yes\r\n"
	    "X-Forged-Authentication-Results: mx.example.test; spf=pass\r\n"
	    "Subject: X-Spam-Flag: NO\r\n\r\n"
	    "X-Spam-Flag: NO\r\n", 1);
	assert_int_equal(renamed_spam, 0);
	/* asked: exactly the three fields we write, in the header section
	 * only, folded lines kept with their field */
	rename_spam = true;
	check(in, "X-Original-X-Spam-Flag: NO\r\n"
	    "X-Original-x-spam-score :  -100\r\n"
	    "X-Original-X-Spam-Status: No, score=-100.0\r\n"
	    "\ttests=ALL_TRUSTED\r\n"
	    "X-Spam-Level: *****\r\n"
	    "X-Spam-Flagged: yes\r\n"
	    "X-Forged-Authentication-Results: mx.example.test; spf=pass\r\n"
	    "Subject: X-Spam-Flag: NO\r\n\r\n"
	    "X-Spam-Flag: NO\r\n", 1);
	assert_int_equal(renamed_spam, 3);
	rename_spam = false;
}

static void
test_case_comments_and_folding(void **state)
{
	(void)state;
	/* the id in another case, behind a comment, the field folded,
	 * WSP before the colon, the name in lower case */
	check("authentication-results :\r\n (forged) MX.Example.Test;\r\n"
	    "\tdkim=pass header.d=bank.example\r\n"
	    "From: a@b\r\n\r\n",
	    "X-Forged-authentication-results :\r\n (forged) "
	    "MX.Example.Test;\r\n\tdkim=pass header.d=bank.example\r\n"
	    "From: a@b\r\n\r\n", 1);
	/* the id with the root's trailing dot, in another case */
	check("Authentication-Results: MX.EXAMPLE.TEST.; spf=pass\r\n\r\n",
	    "X-Forged-Authentication-Results: MX.EXAMPLE.TEST.; spf=pass"
	    "\r\n\r\n", 1);
	/* a field that only looks similar is left alone (a dot is not a
	 * wildcard: "mx.example.tes." is not ours) */
	check("Authentication-Results: mx.example.tes.; x=y\r\n\r\n",
	    "Authentication-Results: mx.example.tes.; x=y\r\n\r\n", 0);
	check("Authentication-Results-Extra: mx.example.test; x=y\r\n"
	    "Authentication-Results: mx.example.test.evil; x=y\r\n\r\n",
	    "Authentication-Results-Extra: mx.example.test; x=y\r\n"
	    "Authentication-Results: mx.example.test.evil; x=y\r\n\r\n", 0);
}

static void
test_body_is_never_touched(void **state)
{
	(void)state;
	check("Subject: x\r\n\r\n"
	    "Authentication-Results: mx.example.test; spf=pass\r\n",
	    "Subject: x\r\n\r\n"
	    "Authentication-Results: mx.example.test; spf=pass\r\n", 0);
	/* a message with only a header section, the AR field last */
	check("Subject: x\r\nAuthentication-Results: mx.example.test; "
	    "spf=pass\r\n",
	    "Subject: x\r\nX-Forged-Authentication-Results: "
	    "mx.example.test; spf=pass\r\n", 1);
	/* no line end at all (BDAT) */
	check("Authentication-Results: mx.example.test; none",
	    "X-Forged-Authentication-Results: mx.example.test; none", 1);
}

/* A field longer than the hold is judged by its start and passed on;
 * the field after it is judged again. */
static void
test_bounded_hold(void **state)
{
	struct buf in = BUF_INIT, want = BUF_INIT, out = BUF_INIT;
	size_t i;

	(void)state;
	buf_append_str(&in, "Authentication-Results: mx.example.test;\r\n");
	buf_append_str(&want, "X-Forged-Authentication-Results: "
	    "mx.example.test;\r\n");
	for (i = 0; i < HDRGUARD_HOLD_MAX / 20; i++) {
		buf_append_str(&in, "\tx-filler=abcdefghi\r\n");
		buf_append_str(&want, "\tx-filler=abcdefghi\r\n");
	}
	/* one very long line, then another forged field */
	buf_append_str(&in, "X-Long: ");
	buf_append_str(&want, "X-Long: ");
	for (i = 0; i < 2 * HDRGUARD_HOLD_MAX; i++) {
		buf_append_char(&in, 'a');
		buf_append_char(&want, 'a');
	}
	buf_append_str(&in, "\r\n\tcontinued\r\n");
	buf_append_str(&want, "\r\n\tcontinued\r\n");
	buf_append_str(&in, "Authentication-Results: mx.example.test; a=b\r\n"
	    "\r\nbody\r\n");
	buf_append_str(&want, "X-Forged-Authentication-Results: "
	    "mx.example.test; a=b\r\n\r\nbody\r\n");
	assert_int_equal(guard(in.data, in.len, 1000, &out), 2);
	assert_int_equal(out.len, want.len);
	assert_memory_equal(out.data, want.data, out.len);
	assert_int_equal(guard(in.data, in.len, 1, &out), 2);
	assert_memory_equal(out.data, want.data, out.len);
	buf_free(&in);
	buf_free(&want);
	buf_free(&out);
}

/* A single forged line longer than the hold is still renamed. */
static void
test_long_forged_line(void **state)
{
	struct buf in = BUF_INIT, out = BUF_INIT;
	size_t i;

	(void)state;
	buf_append_str(&in, "Authentication-Results: mx.example.test; x=");
	for (i = 0; i < 3 * HDRGUARD_HOLD_MAX; i++)
		buf_append_char(&in, 'z');
	buf_append_str(&in, "\r\n\r\n");
	assert_int_equal(guard(in.data, in.len, 4096, &out), 1);
	assert_int_equal(out.len, in.len + strlen("X-Forged-"));
	assert_memory_equal(out.data, "X-Forged-Authentication-Results: ",
	    33);
	buf_free(&in);
	buf_free(&out);
}

static int
failing(void *arg, const char *p, size_t n)
{
	(void)arg;
	(void)p;
	(void)n;
	return -1;
}

static void
test_output_error_is_reported(void **state)
{
	struct hdrguard g;
	static const char m[] = "Subject: x\r\n\r\nbody\r\n";

	(void)state;
	hdrguard_init(&g, OURS, failing, NULL);
	assert_int_equal(hdrguard_feed(&g, m, sizeof(m) - 1), -1);
	hdrguard_free(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ours_is_renamed_others_kept),
		cmocka_unit_test(test_spam_headers_renamed_when_asked),
		cmocka_unit_test(test_case_comments_and_folding),
		cmocka_unit_test(test_body_is_never_touched),
		cmocka_unit_test(test_bounded_hold),
		cmocka_unit_test(test_long_forged_line),
		cmocka_unit_test(test_output_error_is_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
