/* Unit tests for smtp/sasl: PLAIN (RFC 4616) and LOGIN, every path. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "core/base64.h"
#include "smtp/sasl.h"

/* base64 of raw[0..n), in a static buffer */
static const char *
b64(const char *raw, size_t n)
{
	static char out[SASL_LINE_MAX * 2];
	struct buf b = BUF_INIT;

	base64_encode(raw, n, &b);
	assert_true(b.len < sizeof(out));
	memcpy(out, buf_cstr(&b), b.len + 1);
	buf_free(&b);
	return out;
}

static enum sasl_status
start(struct sasl *s, const char *mech, const char *initial)
{
	return sasl_start(s, mech, strlen(mech), initial,
	    initial != NULL ? strlen(initial) : 0);
}

static enum sasl_status
step(struct sasl *s, const char *line)
{
	return sasl_step(s, line, strlen(line));
}

/* PLAIN with the message as initial response. */
static enum sasl_status
plain_raw(struct sasl *s, const char *raw, size_t n)
{
	return start(s, "PLAIN", b64(raw, n));
}

static void
test_mech_parse(void **state)
{
	enum sasl_mech m;

	(void)state;
	assert_int_equal(sasl_mech_parse("PLAIN", 5, &m), 0);
	assert_int_equal(m, SASL_MECH_PLAIN);
	assert_int_equal(sasl_mech_parse("login", 5, &m), 0);
	assert_int_equal(m, SASL_MECH_LOGIN);
	assert_int_equal(sasl_mech_parse("CRAM-MD5", 8, &m), -1);
	assert_int_equal(sasl_mech_parse("PLAINX", 6, &m), -1);
	assert_int_equal(sasl_mech_parse("PLAI", 4, &m), -1);
	assert_int_equal(sasl_mech_parse("", 0, &m), -1);
	assert_string_equal(sasl_mech_name(SASL_MECH_PLAIN), "PLAIN");
	assert_string_equal(sasl_mech_name(SASL_MECH_LOGIN), "LOGIN");
}

static void
test_unknown_mech(void **state)
{
	struct sasl s;

	(void)state;
	assert_int_equal(start(&s, "CRAM-MD5", NULL), SASL_ERROR);
	assert_string_equal(sasl_reply(&s), SASL_REPLY_UNKNOWN_MECH);
	assert_string_equal(sasl_reply(&s),
	    "504 5.5.4 Unrecognized authentication mechanism");
	assert_null(sasl_creds(&s));
	sasl_clear(&s);
}

static void
test_plain_initial_response(void **state)
{
	struct sasl s;
	const struct sasl_creds *c;

	(void)state;
	/* RFC 4616 section 4's example, without an authzid */
	assert_int_equal(start(&s, "PLAIN", "AHRpbQB0YW5zdGFhZnRhbnN0YWFm"),
	    SASL_DONE);
	assert_non_null(c = sasl_creds(&s));
	assert_string_equal(c->authzid, "");
	assert_string_equal(c->authcid, "tim");
	assert_string_equal(c->password, "tanstaaftanstaaf");
	assert_int_equal(c->password_len, 16);
	sasl_clear(&s);
	assert_null(sasl_creds(&s));
	assert_int_equal(s.state, SASL_S_IDLE);
}

static void
test_plain_two_step(void **state)
{
	struct sasl s;
	const struct sasl_creds *c;
	static const char msg[] = "\0user@example.org\0pa ss";

	(void)state;
	assert_int_equal(start(&s, "plain", NULL), SASL_CONTINUE);
	assert_string_equal(sasl_challenge(&s), "");	/* "334 " */
	assert_int_equal(step(&s, b64(msg, sizeof(msg) - 1)), SASL_DONE);
	assert_non_null(c = sasl_creds(&s));
	assert_string_equal(c->authcid, "user@example.org");
	assert_string_equal(c->password, "pa ss");
	sasl_clear(&s);
}

static void
test_plain_authzid_equal(void **state)
{
	struct sasl s;
	static const char msg[] = "u@x.test\0u@x.test\0pw";

	(void)state;
	assert_int_equal(plain_raw(&s, msg, sizeof(msg) - 1), SASL_DONE);
	assert_string_equal(sasl_creds(&s)->authzid, "u@x.test");
	sasl_clear(&s);
}

static void
test_plain_authzid_other(void **state)
{
	struct sasl s;
	static const char msg[] = "admin@x.test\0u@x.test\0pw";

	(void)state;
	assert_int_equal(plain_raw(&s, msg, sizeof(msg) - 1), SASL_ERROR);
	assert_string_equal(sasl_reply(&s), SASL_REPLY_AUTHZID);
	assert_memory_equal(sasl_reply(&s), "535 5.7.8 ", 10);
	assert_null(sasl_creds(&s));
	/* the password was wiped on failure */
	assert_int_equal(s.creds.password[0], '\0');
	assert_int_equal(s.creds.password_len, 0);
	sasl_clear(&s);
}

static void
test_plain_nul_tricks(void **state)
{
	static const struct {
		const char *raw;
		size_t n;
		const char *reply;
	} bad[] = {
		{ "user\0pw", 7, SASL_REPLY_MALFORMED },	/* one NUL */
		{ "userpw", 6, SASL_REPLY_MALFORMED },		/* none */
		{ "\0\0pw", 4, SASL_REPLY_MALFORMED },		/* no authcid */
		{ "\0user\0", 6, SASL_REPLY_MALFORMED },	/* no password */
		{ "\0user\0pw\0", 9, SASL_REPLY_MALFORMED },	/* NUL in pw */
		{ "\0user\0p\0w", 9, SASL_REPLY_MALFORMED },
		{ "\0\0\0", 3, SASL_REPLY_MALFORMED },
		{ "", 0, SASL_REPLY_MALFORMED },
		{ "\0us\ter\0pw", 9, SASL_REPLY_MALFORMED },	/* control */
		{ "\0us\rer\0pw", 9, SASL_REPLY_MALFORMED },
		{ "a\nb\0a\nb\0pw", 10, SASL_REPLY_MALFORMED },
		{ "\0us\x7f" "er\0pw", 9, SASL_REPLY_MALFORMED },
	};
	struct sasl s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(plain_raw(&s, bad[i].raw, bad[i].n),
		    SASL_ERROR);
		assert_string_equal(sasl_reply(&s), bad[i].reply);
		assert_null(sasl_creds(&s));
		sasl_clear(&s);
	}
}

static void
test_plain_empty_initial_response(void **state)
{
	struct sasl s;

	(void)state;
	/* "=" is an empty response: no PLAIN message can be empty */
	assert_int_equal(start(&s, "PLAIN", "="), SASL_ERROR);
	assert_string_equal(sasl_reply(&s), SASL_REPLY_MALFORMED);
	sasl_clear(&s);
	/* "=" as a continuation line means the same */
	assert_int_equal(start(&s, "PLAIN", NULL), SASL_CONTINUE);
	assert_int_equal(step(&s, "="), SASL_ERROR);
	assert_string_equal(sasl_reply(&s), SASL_REPLY_MALFORMED);
	sasl_clear(&s);
	/* and so does an empty line */
	assert_int_equal(start(&s, "PLAIN", NULL), SASL_CONTINUE);
	assert_int_equal(step(&s, ""), SASL_ERROR);
	assert_string_equal(sasl_reply(&s), SASL_REPLY_MALFORMED);
	sasl_clear(&s);
}

static void
test_cancel(void **state)
{
	struct sasl s;

	(void)state;
	assert_int_equal(start(&s, "PLAIN", NULL), SASL_CONTINUE);
	assert_int_equal(step(&s, "*"), SASL_ERROR);
	assert_string_equal(sasl_reply(&s), "501 5.7.0 Authentication aborted");
	sasl_clear(&s);

	assert_int_equal(start(&s, "LOGIN", NULL), SASL_CONTINUE);
	assert_int_equal(step(&s, "*"), SASL_ERROR);
	assert_string_equal(sasl_reply(&s), SASL_REPLY_ABORTED);
	sasl_clear(&s);

	/* cancelling at the password prompt wipes the user name too */
	assert_int_equal(start(&s, "LOGIN", NULL), SASL_CONTINUE);
	assert_int_equal(step(&s, "dXNlcg=="), SASL_CONTINUE);
	assert_int_equal(step(&s, "*"), SASL_ERROR);
	assert_string_equal(sasl_reply(&s), SASL_REPLY_ABORTED);
	assert_string_equal(s.creds.authcid, "");
	sasl_clear(&s);

	/* "*" with anything else is just bad base64 */
	assert_int_equal(start(&s, "PLAIN", NULL), SASL_CONTINUE);
	assert_int_equal(step(&s, "**"), SASL_ERROR);
	assert_string_equal(sasl_reply(&s), SASL_REPLY_BAD_BASE64);
	sasl_clear(&s);
}

static void
test_bad_base64(void **state)
{
	static const char *const bad[] = {
		"AHRpbQB0YW5zdGFhZnRhbnN0YWFm=",	/* not a multiple of 4 */
		"AHRp bQB0",		/* space */
		"AHRpbQB0YW5zdGFhZnRhbnN0YWF",
		"Zg=a",			/* padding inside */
		"Zh==",			/* non-zero unused bits */
		"Zm9=",			/* non-zero unused bits */
		"====",
		"Z===",
		"Zg==Zg==",		/* padding before the end */
		"AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r",
		"-_-_",			/* base64url */
	};
	struct sasl s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(start(&s, "PLAIN", NULL), SASL_CONTINUE);
		assert_int_equal(step(&s, bad[i]), SASL_ERROR);
		assert_string_equal(sasl_reply(&s),
		    "501 5.5.2 Cannot decode base64 response");
		sasl_clear(&s);
	}
	/* the same in an initial response */
	assert_int_equal(start(&s, "PLAIN", "Zh=="), SASL_ERROR);
	assert_string_equal(sasl_reply(&s), SASL_REPLY_BAD_BASE64);
	sasl_clear(&s);
	assert_int_equal(start(&s, "LOGIN", "dXNlcg="), SASL_ERROR);
	assert_string_equal(sasl_reply(&s), SASL_REPLY_BAD_BASE64);
	sasl_clear(&s);
}

static void
test_login_two_step(void **state)
{
	struct sasl s;
	const struct sasl_creds *c;

	(void)state;
	assert_int_equal(start(&s, "LOGIN", NULL), SASL_CONTINUE);
	assert_string_equal(sasl_challenge(&s), "VXNlcm5hbWU6");	/* Username: */
	assert_int_equal(step(&s, b64("tim@x.test", 10)), SASL_CONTINUE);
	assert_string_equal(sasl_challenge(&s), "UGFzc3dvcmQ6");	/* Password: */
	assert_null(sasl_creds(&s));
	assert_int_equal(step(&s, b64("tanstaaf", 8)), SASL_DONE);
	assert_non_null(c = sasl_creds(&s));
	assert_string_equal(c->authzid, "");
	assert_string_equal(c->authcid, "tim@x.test");
	assert_string_equal(c->password, "tanstaaf");
	/* after DONE there is nothing more to step */
	assert_int_equal(step(&s, "Zg=="), SASL_ERROR);
	assert_string_equal(sasl_reply(&s), SASL_REPLY_SEQUENCE);
	assert_null(sasl_creds(&s));
	sasl_clear(&s);
}

static void
test_login_initial_response(void **state)
{
	struct sasl s;

	(void)state;
	/* AUTH LOGIN dXNlcg== : the user name up front */
	assert_int_equal(start(&s, "LOGIN", "dXNlcg=="), SASL_CONTINUE);
	assert_string_equal(sasl_challenge(&s), "UGFzc3dvcmQ6");
	assert_int_equal(step(&s, "cHc="), SASL_DONE);
	assert_string_equal(sasl_creds(&s)->authcid, "user");
	assert_string_equal(sasl_creds(&s)->password, "pw");
	sasl_clear(&s);

	/* an empty user name or password is refused */
	assert_int_equal(start(&s, "LOGIN", "="), SASL_ERROR);
	assert_string_equal(sasl_reply(&s), SASL_REPLY_MALFORMED);
	sasl_clear(&s);
	assert_int_equal(start(&s, "LOGIN", "dXNlcg=="), SASL_CONTINUE);
	assert_int_equal(step(&s, "="), SASL_ERROR);
	assert_string_equal(sasl_reply(&s), SASL_REPLY_MALFORMED);
	sasl_clear(&s);
}

static void
test_login_nul_in_fields(void **state)
{
	struct sasl s;

	(void)state;
	assert_int_equal(start(&s, "LOGIN", NULL), SASL_CONTINUE);
	assert_int_equal(step(&s, b64("us\0er", 5)), SASL_ERROR);
	assert_string_equal(sasl_reply(&s), SASL_REPLY_MALFORMED);
	sasl_clear(&s);
	assert_int_equal(start(&s, "LOGIN", NULL), SASL_CONTINUE);
	assert_int_equal(step(&s, b64("user", 4)), SASL_CONTINUE);
	assert_int_equal(step(&s, b64("pw\0", 3)), SASL_ERROR);
	assert_string_equal(sasl_reply(&s), SASL_REPLY_MALFORMED);
	sasl_clear(&s);
	/* control bytes are fine in a password, not in a user name */
	assert_int_equal(start(&s, "LOGIN", NULL), SASL_CONTINUE);
	assert_int_equal(step(&s, b64("user", 4)), SASL_CONTINUE);
	assert_int_equal(step(&s, b64("p\tw\x7f", 4)), SASL_DONE);
	sasl_clear(&s);
}

static void
test_utf8(void **state)
{
	struct sasl s;
	static const char good[] = "\0j\xc3\xb6rg@b\xc3\xbc.test\0p\xc3\xa4ss"
	    "\xf0\x9f\x94\x91";
	static const char *const bad[] = {
		"\0u\xc3\0pw",			/* truncated */
		"\0u\0p\xff",			/* never valid */
		"\0u\0p\xc0\xaf",		/* overlong '/' */
		"\0u\0p\xe0\x80\xaf",		/* overlong */
		"\0u\0p\xed\xa0\x80",		/* surrogate */
		"\0u\0p\xf4\x90\x80\x80",	/* over U+10FFFF */
		"\0u\0p\x80",			/* stray continuation */
	};
	size_t i;

	(void)state;
	assert_int_equal(plain_raw(&s, good, sizeof(good) - 1), SASL_DONE);
	assert_string_equal(sasl_creds(&s)->authcid,
	    "j\xc3\xb6rg@b\xc3\xbc.test");
	sasl_clear(&s);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = strlen(bad[i] + 1) + 1;

		n += strlen(bad[i] + n) + 1;
		n += strlen(bad[i] + n);
		assert_int_equal(plain_raw(&s, bad[i], n), SASL_ERROR);
		assert_string_equal(sasl_reply(&s), SASL_REPLY_BAD_UTF8);
		sasl_clear(&s);
	}
}

static void
test_long_inputs(void **state)
{
	static char raw[SASL_LINE_MAX];
	static char line[SASL_LINE_MAX + 2];
	struct sasl s;
	size_t n;

	(void)state;
	/* the longest fields pass */
	memset(raw, 'a', sizeof(raw));
	raw[0] = '\0';
	raw[1 + SASL_ID_MAX] = '\0';
	n = 1 + SASL_ID_MAX + 1 + SASL_PASS_MAX;
	assert_int_equal(plain_raw(&s, raw, n), SASL_DONE);
	assert_int_equal(strlen(sasl_creds(&s)->authcid), SASL_ID_MAX);
	assert_int_equal(sasl_creds(&s)->password_len, SASL_PASS_MAX);
	sasl_clear(&s);

	/* one more octet in either is refused */
	memset(raw, 'a', sizeof(raw));
	raw[0] = '\0';
	raw[2 + SASL_ID_MAX] = '\0';
	n = 2 + SASL_ID_MAX + 1 + 10;
	assert_int_equal(plain_raw(&s, raw, n), SASL_ERROR);
	assert_string_equal(sasl_reply(&s), SASL_REPLY_TOO_LONG);
	sasl_clear(&s);
	memset(raw, 'a', sizeof(raw));
	raw[0] = '\0';
	raw[5] = '\0';
	n = 6 + SASL_PASS_MAX + 1;
	assert_int_equal(plain_raw(&s, raw, n), SASL_ERROR);
	assert_string_equal(sasl_reply(&s), SASL_REPLY_TOO_LONG);
	sasl_clear(&s);
	memset(raw, 'a', sizeof(raw));
	assert_int_equal(start(&s, "LOGIN", NULL), SASL_CONTINUE);
	assert_int_equal(sasl_step(&s, b64(raw, SASL_ID_MAX + 1),
	    strlen(b64(raw, SASL_ID_MAX + 1))), SASL_ERROR);
	assert_string_equal(sasl_reply(&s), SASL_REPLY_TOO_LONG);
	sasl_clear(&s);

	/* a line over SASL_LINE_MAX is refused before decoding */
	memset(line, 'A', sizeof(line));
	assert_int_equal(start(&s, "PLAIN", NULL), SASL_CONTINUE);
	assert_int_equal(sasl_step(&s, line, SASL_LINE_MAX + 4),
	    SASL_ERROR);
	assert_string_equal(sasl_reply(&s), SASL_REPLY_TOO_LONG);
	sasl_clear(&s);
	/* at SASL_LINE_MAX it decodes (all NULs), then the password
	 * field is too long */
	assert_int_equal(start(&s, "PLAIN", NULL), SASL_CONTINUE);
	assert_int_equal(sasl_step(&s, line, SASL_LINE_MAX), SASL_ERROR);
	assert_string_equal(sasl_reply(&s), SASL_REPLY_TOO_LONG);
	sasl_clear(&s);
}

static void
test_step_without_start(void **state)
{
	struct sasl s;

	(void)state;
	sasl_clear(&s);
	assert_int_equal(step(&s, "Zg=="), SASL_ERROR);
	assert_string_equal(sasl_reply(&s), SASL_REPLY_SEQUENCE);
	/* after an error, too */
	assert_int_equal(step(&s, "Zg=="), SASL_ERROR);
	sasl_clear(&s);
}

static void
test_restart_wipes(void **state)
{
	struct sasl s;
	static const char msg[] = "\0u\0secret";

	(void)state;
	assert_int_equal(plain_raw(&s, msg, sizeof(msg) - 1), SASL_DONE);
	/* a new exchange on the same struct starts clean */
	assert_int_equal(start(&s, "LOGIN", NULL), SASL_CONTINUE);
	assert_string_equal(s.creds.password, "");
	assert_string_equal(s.creds.authcid, "");
	assert_int_equal(s.mech, SASL_MECH_LOGIN);
	sasl_clear(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mech_parse),
		cmocka_unit_test(test_unknown_mech),
		cmocka_unit_test(test_plain_initial_response),
		cmocka_unit_test(test_plain_two_step),
		cmocka_unit_test(test_plain_authzid_equal),
		cmocka_unit_test(test_plain_authzid_other),
		cmocka_unit_test(test_plain_nul_tricks),
		cmocka_unit_test(test_plain_empty_initial_response),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_bad_base64),
		cmocka_unit_test(test_login_two_step),
		cmocka_unit_test(test_login_initial_response),
		cmocka_unit_test(test_login_nul_in_fields),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_long_inputs),
		cmocka_unit_test(test_step_without_start),
		cmocka_unit_test(test_restart_wipes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
