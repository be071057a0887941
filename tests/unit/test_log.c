/* Unit tests for core/log: level parsing, escaping and quoting of
 * untrusted values. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"

static void
test_quote_plain_and_special(void **state)
{
	char out[64];

	(void)state;
	assert_string_equal(log_quote(out, sizeof(out), "abc@example.org"),
	    "abc@example.org");
	assert_string_equal(log_quote(out, sizeof(out), "a b"), "\"a b\"");
	assert_string_equal(log_quote(out, sizeof(out), "k=v"), "\"k=v\"");
	assert_string_equal(log_quote(out, sizeof(out), "q\"\\"),
	    "\"q\\\"\\\\\"");
	assert_string_equal(log_quote(out, sizeof(out), "x\ny"),
	    "\"x\\x0ay\"");
	assert_string_equal(log_quote(out, sizeof(out), ""), "\"\"");
}

static void
test_quote_truncates_safely(void **state)
{
	char out[8];

	(void)state;
	log_quote(out, sizeof(out), "a very long value with spaces");
	/* cut short, but still one quoted token that fits */
	assert_true(strlen(out) < sizeof(out));
	assert_true(out[0] == '"');
	assert_true(out[strlen(out) - 1] == '"');
	assert_true(strlen(out) >= 3);
}

/* log_escape of a literal with its length (NULs included). */
#define ESC(out, lit) log_escape(out, sizeof(out), lit, sizeof(lit) - 1)

static void
test_escape_line_breaks_and_controls(void **state)
{
	char out[128];

	(void)state;
	/* CR LF cannot start a forged line */
	assert_int_equal(ESC(out, "a\r\nlevel=info event=smtp.auth"), 29);
	assert_string_equal(out, "a\\x0d\\x0alevel=info event=smtp.auth");
	assert_null(strchr(out, '\n'));
	/* ESC sequences cannot drive the terminal */
	ESC(out, "\x1b[2J\x1b]0;title\x07");
	assert_string_equal(out, "\\x1b[2J\\x1b]0;title\\x07");
	ESC(out, "nul\0tab\tdel\x7f");
	assert_string_equal(out, "nul\\x00tab\\x09del\\x7f");
	ESC(out, "q\"b\\");
	assert_string_equal(out, "q\\\"b\\\\");
	ESC(out, "plain text, spaces = kept");
	assert_string_equal(out, "plain text, spaces = kept");
}

static void
test_escape_utf8(void **state)
{
	char out[128];

	(void)state;
	/* valid UTF-8 is kept: 2, 3 and 4 octet forms */
	ESC(out, "j\xc3\xb6rg@b\xc3\xbc" "cher.example \xe2\x82\xac \xf0\x9f\x93\xa7");
	assert_string_equal(out,
	    "j\xc3\xb6rg@b\xc3\xbc" "cher.example \xe2\x82\xac \xf0\x9f\x93\xa7");
	/* stray continuation, lone lead, truncated sequence */
	ESC(out, "\x80x\xc3y\xe2\x82");
	assert_string_equal(out, "\\x80x\\xc3y\\xe2\\x82");
	/* overlong forms, surrogates, beyond U+10FFFF, never-valid bytes */
	ESC(out, "\xc0\xaf\xe0\x80\xaf\xed\xa0\x80\xf4\x90\x80\x80\xff");
	assert_string_equal(out, "\\xc0\\xaf\\xe0\\x80\\xaf\\xed\\xa0"
	    "\\x80\\xf4\\x90\\x80\\x80\\xff");
	/* C1 CSI (U+009B) and a right-to-left override (U+202E) */
	ESC(out, "\xc2\x9b" "31m\xe2\x80\xae" "gpj.exe");
	assert_string_equal(out, "\\xc2\\x9b31m\\xe2\\x80\\xae" "gpj.exe");
	/* U+00A0 and U+2030 are fine */
	ESC(out, "\xc2\xa0\xe2\x80\xb0");
	assert_string_equal(out, "\xc2\xa0\xe2\x80\xb0");
}

static void
test_escape_truncation(void **state)
{
	char out[6];
	char big[1];

	(void)state;
	/* "ab\x0d" would need 7 octets: stop before the escape */
	assert_int_equal(log_escape(out, sizeof(out), "ab\r", 3), 2);
	assert_string_equal(out, "ab");
	/* never half a UTF-8 sequence */
	assert_int_equal(log_escape(out, sizeof(out), "abcd\xc3\xb6", 6), 4);
	assert_string_equal(out, "abcd");
	assert_int_equal(log_escape(out, sizeof(out), "abc\xc3\xb6", 5), 5);
	assert_string_equal(out, "abc\xc3\xb6");
	/* nor half a backslash pair */
	assert_int_equal(log_escape(out, sizeof(out), "abcd\"", 5), 4);
	assert_string_equal(out, "abcd");
	assert_int_equal(log_escape(big, sizeof(big), "x", 1), 0);
	assert_string_equal(big, "");
	assert_int_equal(log_escape(big, 0, "x", 1), 0);
}

static void
test_quote_untrusted(void **state)
{
	char out[LOG_QUOTE_MAX];

	(void)state;
	assert_string_equal(log_quote(out, sizeof(out),
	    "x\r\nlevel=error event=forged"),
	    "\"x\\x0d\\x0alevel=error event=forged\"");
	assert_string_equal(log_quote(out, sizeof(out), "\x1b[31m"),
	    "\"\\x1b[31m\"");
	/* 8-bit: valid UTF-8 stays plain, invalid is quoted and escaped */
	assert_string_equal(log_quote(out, sizeof(out), "j\xc3\xb6rg"),
	    "j\xc3\xb6rg");
	assert_string_equal(log_quote(out, sizeof(out), "j\xf6rg"),
	    "\"j\\xf6rg\"");
	assert_string_equal(log_quote_len(out, sizeof(out), "a\0b", 3),
	    "\"a\\x00b\"");
	assert_string_equal(log_quote(out, sizeof(out), NULL), "\"\"");
}

static void
test_quote_addr(void **state)
{
	char out[LOG_QUOTE_MAX];

	(void)state;
	assert_string_equal(log_quote_addr(out, sizeof(out), "a@b.example"),
	    "<a@b.example>");
	assert_string_equal(log_quote_addr(out, sizeof(out), ""), "<>");
	/* a quoted local part cannot close the value and add a key */
	assert_string_equal(log_quote_addr(out, sizeof(out),
	    "\"x> verdict=ham \"@b.example"),
	    "\"<\\\"x> verdict=ham \\\"@b.example>\"");
	assert_string_equal(log_quote_addr(out, sizeof(out), "a\nb@c"),
	    "\"<a\\x0ab@c>\"");
}

static void
test_quote_truncation_keeps_escapes_whole(void **state)
{
	char src[64], out[16];
	size_t n, len;

	(void)state;
	memset(src, '\n', sizeof(src) - 1);
	src[sizeof(src) - 1] = '\0';
	for (n = 0; n <= sizeof(out); n++) {
		memset(out, 'Z', sizeof(out));
		log_quote(out, n, src);
		if (n == 0)
			continue;
		len = strlen(out);
		assert_true(len < n);
		if (len == 0)
			continue;
		/* '"', whole "\x0a" groups, maybe "...", '"' */
		assert_true(out[0] == '"' && out[len - 1] == '"');
		for (size_t i = 1; i + 1 < len && out[i] != '.'; i += 4)
			assert_memory_equal(out + i, "\\x0a", 4);
	}
	log_quote(out, sizeof(out), src);
	assert_string_equal(out, "\"\\x0a\\x0a...\"");
	log_quote_addr(out, sizeof(out), "averyveryverylong@example.org");
	assert_string_equal(out, "\"<averyver...>\"");
}

/* What log_event() wrote to stderr for one event. */
static void
capture(char *out, size_t n, const char *value)
{
	FILE *f = tmpfile();
	int saved = dup(2);
	size_t got;

	assert_non_null(f);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_int_equal(dup2(fileno(f), 2), 2);
	log_init(LOG_LEVEL_INFO, LOG_TARGET_STDERR, NULL);
	/* a careless caller: the value not quoted */
	log_info("test.event", "value=%s end=1", value);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	rewind(f);
	got = fread(out, 1, n - 1, f);
	out[got] = '\0';
	fclose(f);
}

static void
test_event_defangs_unquoted_values(void **state)
{
	char out[512];
	const char *p;

	(void)state;
	capture(out, sizeof(out), "x\r\nlevel=error event=forged \x1b[2J\xff");
	p = strstr(out, " level=info event=test.event value=");
	assert_non_null(p);
	assert_string_equal(p, " level=info event=test.event value=x\\x0d"
	    "\\x0alevel=error event=forged \\x1b[2J\\xff end=1\n");
	/* one line only */
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	capture(out, sizeof(out), "j\xc3\xb6rg");
	assert_non_null(strstr(out, " value=j\xc3\xb6rg end=1\n"));
}

static void
test_kv_json(void **state)
{
	struct buf b = BUF_INIT;
	char q[LOG_QUOTE_MAX], line[256];

	(void)state;
	log_kv_json("a=1 b=x", &b);
	assert_string_equal(buf_cstr(&b), "\"a\":\"1\",\"b\":\"x\"");
	/* quoted values lose their quotes and the text's own escapes;
	 * \xNN stays as written, a JSON string keeps the backslash */
	buf_reset(&b);
	snprintf(line, sizeof(line), "from=%s n=2 empty= bare",
	    log_quote(q, sizeof(q), "a \"b\" \\ \x1b"));
	log_kv_json(line, &b);
	assert_string_equal(buf_cstr(&b), "\"from\":\"a \\\"b\\\" \\\\ "
	    "\\\\x1b\",\"n\":\"2\",\"empty\":\"\",\"bare\":\"\"");
	/* an unterminated quote ends the value at the end of the text */
	buf_reset(&b);
	log_kv_json("k=\"open", &b);
	assert_string_equal(buf_cstr(&b), "\"k\":\"open\"");
	buf_reset(&b);
	log_kv_json("", &b);
	assert_string_equal(buf_cstr(&b), "");
	buf_free(&b);
}

static void
test_json_line(void **state)
{
	char out[512];
	const char *p;

	(void)state;
	log_set_format(LOG_FORMAT_JSON);
	capture(out, sizeof(out), "x\r\ny\x1b");
	log_set_format(LOG_FORMAT_TEXT);
	p = strchr(out, '{');
	assert_non_null(p);
	assert_ptr_equal(p, out);
	assert_non_null(strstr(out, "\"level\":\"info\",\"event\":"
	    "\"test.event\",\"value\":\"x\\\\x0d\\\\x0ay\\\\x1b\","
	    "\"end\":\"1\"}\n"));
	assert_non_null(strstr(out, "{\"ts\":\"20"));
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	assert_int_equal(log_format_parse("JSON", &(enum log_format){ 0 }), 0);
	assert_int_equal(log_format_parse("xml", &(enum log_format){ 0 }), -1);
	assert_string_equal(log_format_name(LOG_FORMAT_JSON), "json");
}

static void
test_level_parse(void **state)
{
	enum log_level l;
	enum log_target t;

	(void)state;
	assert_int_equal(log_level_parse("debug", &l), 0);
	assert_int_equal(l, LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_parse("WARN", &l), 0);
	assert_int_equal(l, LOG_LEVEL_WARN);
	assert_int_equal(log_level_parse("loud", &l), -1);
	assert_int_equal(log_target_parse("syslog", &t), 0);
	assert_int_equal(t, LOG_TARGET_SYSLOG);
	assert_int_equal(log_target_parse("file", &t), -1);
	log_set_level(LOG_LEVEL_WARN);
	assert_true(log_enabled(LOG_LEVEL_ERROR));
	assert_false(log_enabled(LOG_LEVEL_INFO));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote_plain_and_special),
		cmocka_unit_test(test_quote_truncates_safely),
		cmocka_unit_test(test_escape_line_breaks_and_controls),
		cmocka_unit_test(test_escape_utf8),
		cmocka_unit_test(test_escape_truncation),
		cmocka_unit_test(test_quote_untrusted),
		cmocka_unit_test(test_quote_addr),
		cmocka_unit_test(test_quote_truncation_keeps_escapes_whole),
		cmocka_unit_test(test_event_defangs_unquoted_values),
		cmocka_unit_test(test_kv_json),
		cmocka_unit_test(test_json_line),
		cmocka_unit_test(test_level_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
