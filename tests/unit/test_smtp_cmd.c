/* Unit tests for smtp/smtp_cmd: command parsing, xtext, reply formatting. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "smtp/smtp_cmd.h"

/* Parses a string with all extensions on; the command is static so the
 * tests can look at it after the call. */
static struct smtp_cmd cmd;

static int
parse_flags(const char *line, unsigned flags)
{
	return smtp_cmd_parse(line, strlen(line), flags, &cmd);
}

static int
parse(const char *line)
{
	return parse_flags(line, SMTP_EXT_ALL);
}

static void
ok(const char *line, enum smtp_verb verb)
{
	if (parse(line) != 0)
		fail_msg("\"%s\": %d %s %s", line, cmd.reply.code,
		    cmd.reply.enhanced, cmd.reply.text);
	assert_int_equal(cmd.verb, verb);
}

/* The line fails with exactly this code and enhanced code. */
static void
err_flags(const char *line, unsigned flags, int code, const char *enh)
{
	if (parse_flags(line, flags) != -1)
		fail_msg("\"%s\" parsed but should fail with %d", line, code);
	if (cmd.reply.code != code ||
	    strcmp(cmd.reply.enhanced, enh) != 0)
		fail_msg("\"%s\": got %d %s %s, want %d %s", line,
		    cmd.reply.code, cmd.reply.enhanced, cmd.reply.text, code,
		    enh);
	assert_true(cmd.reply.text[0] != '\0');
}

static void
err(const char *line, int code, const char *enh)
{
	err_flags(line, SMTP_EXT_ALL, code, enh);
}

/* --- verbs ------------------------------------------------------------ */

static void
test_every_verb(void **state)
{
	(void)state;
	ok("HELO mx.example.org", SMTP_VERB_HELO);
	ok("EHLO mx.example.org", SMTP_VERB_EHLO);
	ok("MAIL FROM:<a@example.org>", SMTP_VERB_MAIL);
	ok("RCPT TO:<b@example.org>", SMTP_VERB_RCPT);
	ok("DATA", SMTP_VERB_DATA);
	ok("BDAT 10", SMTP_VERB_BDAT);
	ok("RSET", SMTP_VERB_RSET);
	ok("NOOP", SMTP_VERB_NOOP);
	ok("QUIT", SMTP_VERB_QUIT);
	ok("HELP", SMTP_VERB_HELP);
	ok("VRFY postmaster", SMTP_VERB_VRFY);
	ok("EXPN staff", SMTP_VERB_EXPN);
	ok("STARTTLS", SMTP_VERB_STARTTLS);
	ok("AUTH PLAIN", SMTP_VERB_AUTH);
}

static void
test_verbs_case_insensitive(void **state)
{
	(void)state;
	ok("ehlo x.example", SMTP_VERB_EHLO);
	ok("EhLo x.example", SMTP_VERB_EHLO);
	ok("helo x.example", SMTP_VERB_HELO);
	ok("mail from:<a@example.org>", SMTP_VERB_MAIL);
	ok("Mail From:<a@example.org>", SMTP_VERB_MAIL);
	ok("rcpt to:<b@example.org>", SMTP_VERB_RCPT);
	ok("rCpT tO:<b@example.org>", SMTP_VERB_RCPT);
	ok("data", SMTP_VERB_DATA);
	ok("quit", SMTP_VERB_QUIT);
	ok("StartTLS", SMTP_VERB_STARTTLS);
	ok("bdat 1 last", SMTP_VERB_BDAT);
	assert_true(cmd.bdat.last);
	ok("auth plain", SMTP_VERB_AUTH);
	assert_string_equal(cmd.auth.mech, "PLAIN");
}

static void
test_verb_names(void **state)
{
	(void)state;
	assert_string_equal(smtp_verb_name(SMTP_VERB_EHLO), "EHLO");
	assert_string_equal(smtp_verb_name(SMTP_VERB_STARTTLS), "STARTTLS");
	assert_string_equal(smtp_verb_name(SMTP_VERB_AUTH), "AUTH");
	assert_string_equal(smtp_verb_name(SMTP_VERB_UNKNOWN), "?");
}

static void
test_unknown_and_malformed_lines(void **state)
{
	(void)state;
	err("", 500, "5.5.2");
	err("FOO", 500, "5.5.2");
	assert_int_equal(cmd.verb, SMTP_VERB_UNKNOWN);
	assert_false(cmd.http);
	err("MAILFROM:<a@b.example>", 500, "5.5.2");
	err("QUITX", 500, "5.5.2");
	err(" QUIT", 500, "5.5.2");
	err("TURN", 500, "5.5.2");
	err("ETRN example.org", 500, "5.5.2");
	/* verb of non-ASCII octets */
	err("\xc3\x89HLO x", 500, "5.5.2");
}

static void
test_control_characters_refused(void **state)
{
	static const char with_nul[] = "NOOP a\0b";

	(void)state;
	err("QUIT\t", 500, "5.5.2");
	err("EHLO a\tb", 500, "5.5.2");
	err("NOOP \x7f", 500, "5.5.2");
	err("NOOP \x1b[31m", 500, "5.5.2");
	assert_int_equal(smtp_cmd_parse(with_nul, sizeof(with_nul) - 1,
	    SMTP_EXT_ALL, &cmd), -1);
	assert_int_equal(cmd.reply.code, 500);
	assert_string_equal(cmd.reply.enhanced, "5.5.2");
}

static void
test_line_too_long(void **state)
{
	char line[SMTP_LINE_MAX + 10];

	(void)state;
	memset(line, 'a', sizeof(line));
	memcpy(line, "NOOP ", 5);
	assert_int_equal(smtp_cmd_parse(line, SMTP_LINE_MAX - 2,
	    SMTP_EXT_ALL, &cmd), 0);
	assert_int_equal(strlen(cmd.text), SMTP_LINE_MAX - 2 - 5);
	assert_int_equal(smtp_cmd_parse(line, SMTP_LINE_MAX - 1,
	    SMTP_EXT_ALL, &cmd), -1);
	assert_int_equal(cmd.reply.code, 500);
}

static void
test_http_probe_flagged(void **state)
{
	(void)state;
	err("GET / HTTP/1.1", 500, "5.5.2");
	assert_true(cmd.http);
	err("POST /cgi-bin/x HTTP/1.0", 500, "5.5.2");
	assert_true(cmd.http);
	err("CONNECT mx.example.org:25 HTTP/1.1", 500, "5.5.2");
	assert_true(cmd.http);
	err("Host: mx.example.org", 500, "5.5.2");
	assert_true(cmd.http);
	err("User-Agent: x", 500, "5.5.2");
	assert_true(cmd.http);
	err("get / HTTP/1.1", 500, "5.5.2");
	assert_true(cmd.http);
}

/* --- HELO, EHLO and the argument-less verbs -------------------------- */

static void
test_helo_argument(void **state)
{
	(void)state;
	ok("EHLO mx.example.org", SMTP_VERB_EHLO);
	assert_string_equal(cmd.helo, "mx.example.org");
	ok("EHLO [192.0.2.1]", SMTP_VERB_EHLO);
	assert_string_equal(cmd.helo, "[192.0.2.1]");
	ok("HELO mx.example.org   ", SMTP_VERB_HELO);
	assert_string_equal(cmd.helo, "mx.example.org");
	/* words after the name are kept for the session's HELO check
	 * (smtp/helo.c) to refuse */
	ok("HELO mx.example.org (hi)", SMTP_VERB_HELO);
	assert_string_equal(cmd.helo, "mx.example.org (hi)");
	err("EHLO", 501, "5.5.2");
	assert_int_equal(cmd.verb, SMTP_VERB_EHLO);
	err("EHLO ", 501, "5.5.2");
	err("HELO", 501, "5.5.2");
	err("HELO  two-spaces.example", 501, "5.5.2");
}

static void
test_no_argument_verbs(void **state)
{
	(void)state;
	ok("DATA ", SMTP_VERB_DATA);
	ok("RSET  ", SMTP_VERB_RSET);
	ok("QUIT", SMTP_VERB_QUIT);
	err("DATA now", 501, "5.5.4");
	assert_int_equal(cmd.verb, SMTP_VERB_DATA);
	err("RSET x", 501, "5.5.4");
	err("QUIT bye", 501, "5.5.4");
	err("STARTTLS x", 501, "5.5.4");
}

static void
test_noop_help_vrfy_expn(void **state)
{
	(void)state;
	ok("NOOP", SMTP_VERB_NOOP);
	assert_string_equal(cmd.text, "");
	ok("NOOP anything at all", SMTP_VERB_NOOP);
	assert_string_equal(cmd.text, "anything at all");
	ok("HELP MAIL", SMTP_VERB_HELP);
	assert_string_equal(cmd.text, "MAIL");
	ok("VRFY <user@example.org>", SMTP_VERB_VRFY);
	assert_string_equal(cmd.text, "<user@example.org>");
	ok("EXPN list", SMTP_VERB_EXPN);
	assert_string_equal(cmd.text, "list");
	err("VRFY", 501, "5.5.4");
	err("EXPN  ", 501, "5.5.4");
}

/* --- MAIL FROM -------------------------------------------------------- */

static void
test_mail_basic(void **state)
{
	(void)state;
	ok("MAIL FROM:<alice@example.org>", SMTP_VERB_MAIL);
	assert_string_equal(cmd.mail.path.local, "alice");
	assert_string_equal(cmd.mail.path.domain, "example.org");
	assert_false(cmd.mail.path.is_null);
	assert_false(cmd.mail.size_given);
	assert_int_equal(cmd.mail.body, SMTP_BODY_UNSET);
	assert_int_equal(cmd.mail.ret, SMTP_RET_UNSET);
	assert_false(cmd.mail.smtputf8);
	assert_false(cmd.mail.envid_given);
	assert_false(cmd.mail.auth_given);
}

static void
test_mail_null_sender(void **state)
{
	(void)state;
	ok("MAIL FROM:<>", SMTP_VERB_MAIL);
	assert_true(cmd.mail.path.is_null);
	ok("MAIL FROM:<> SIZE=100", SMTP_VERB_MAIL);
	assert_true(cmd.mail.path.is_null);
	assert_int_equal(cmd.mail.size, 100);
}

static void
test_mail_space_after_colon_tolerated(void **state)
{
	(void)state;
	ok("MAIL FROM: <a@example.org>", SMTP_VERB_MAIL);
	assert_string_equal(cmd.mail.path.domain, "example.org");
	ok("MAIL FROM:  <a@example.org> SIZE=5", SMTP_VERB_MAIL);
	assert_int_equal(cmd.mail.size, 5);
	ok("MAIL FROM:<a@example.org> ", SMTP_VERB_MAIL);
	ok("MAIL FROM:<a@example.org>  SIZE=1   BODY=8BITMIME  ",
	    SMTP_VERB_MAIL);
	assert_int_equal(cmd.mail.body, SMTP_BODY_8BITMIME);
}

static void
test_mail_syntax_errors(void **state)
{
	(void)state;
	err("MAIL", 501, "5.5.4");
	assert_int_equal(cmd.verb, SMTP_VERB_MAIL);
	err("MAIL <a@example.org>", 501, "5.5.4");
	err("MAIL TO:<a@example.org>", 501, "5.5.4");
	err("MAIL FROM <a@example.org>", 501, "5.5.4");
	err("MAIL  FROM:<a@example.org>", 501, "5.5.4");
	/* the path: brackets required, terminated, valid */
	err("MAIL FROM:a@example.org", 501, "5.1.7");
	err("MAIL FROM:", 501, "5.1.7");
	err("MAIL FROM:<a@example.org", 501, "5.1.7");
	err("MAIL FROM:<a b@example.org>", 501, "5.1.7");
	err("MAIL FROM:<a@>", 501, "5.1.7");
	err("MAIL FROM:<@example.org>", 501, "5.1.7");
	err("MAIL FROM:<a@example.org.>", 501, "5.1.7");
	err("MAIL FROM:<a@@example.org>", 501, "5.1.7");
	err("MAIL FROM:<postmaster>", 501, "5.1.7");
	err("MAIL FROM:<\"unterminated@example.org>", 501, "5.1.7");
	/* something glued to the closing bracket */
	err("MAIL FROM:<a@example.org>SIZE=1", 501, "5.5.4");
	err("MAIL FROM:<a@example.org>>", 501, "5.5.4");
}

static void
test_mail_size(void **state)
{
	(void)state;
	ok("MAIL FROM:<a@example.org> SIZE=12345", SMTP_VERB_MAIL);
	assert_true(cmd.mail.size_given);
	assert_int_equal(cmd.mail.size, 12345);
	ok("MAIL FROM:<a@example.org> size=0", SMTP_VERB_MAIL);
	assert_true(cmd.mail.size_given);
	assert_int_equal(cmd.mail.size, 0);
	ok("MAIL FROM:<a@example.org> SIZE=18446744073709551615",
	    SMTP_VERB_MAIL);
	assert_true(cmd.mail.size == UINT64_MAX);
	/* 20 digits past 2^64 saturate: still "too big", not "bad syntax" */
	ok("MAIL FROM:<a@example.org> SIZE=99999999999999999999",
	    SMTP_VERB_MAIL);
	assert_true(cmd.mail.size == UINT64_MAX);
	err("MAIL FROM:<a@example.org> SIZE=123456789012345678901", 501,
	    "5.5.4");
	err("MAIL FROM:<a@example.org> SIZE=abc", 501, "5.5.4");
	err("MAIL FROM:<a@example.org> SIZE=-1", 501, "5.5.4");
	err("MAIL FROM:<a@example.org> SIZE=1k", 501, "5.5.4");
	err("MAIL FROM:<a@example.org> SIZE", 501, "5.5.4");
	err("MAIL FROM:<a@example.org> SIZE=", 501, "5.5.4");
	err("MAIL FROM:<a@example.org> SIZE=1 SIZE=2", 555, "5.5.4");
	err_flags("MAIL FROM:<a@example.org> SIZE=1",
	    SMTP_EXT_ALL & ~SMTP_EXT_SIZE, 555, "5.5.4");
}

static void
test_mail_body(void **state)
{
	(void)state;
	ok("MAIL FROM:<a@example.org> BODY=7BIT", SMTP_VERB_MAIL);
	assert_int_equal(cmd.mail.body, SMTP_BODY_7BIT);
	ok("MAIL FROM:<a@example.org> BODY=8BITMIME", SMTP_VERB_MAIL);
	assert_int_equal(cmd.mail.body, SMTP_BODY_8BITMIME);
	ok("MAIL FROM:<a@example.org> body=8bitmime", SMTP_VERB_MAIL);
	assert_int_equal(cmd.mail.body, SMTP_BODY_8BITMIME);
	ok("MAIL FROM:<a@example.org> BODY=BINARYMIME", SMTP_VERB_MAIL);
	assert_int_equal(cmd.mail.body, SMTP_BODY_BINARYMIME);
	err("MAIL FROM:<a@example.org> BODY=8BIT", 501, "5.5.4");
	err("MAIL FROM:<a@example.org> BODY=", 501, "5.5.4");
	err("MAIL FROM:<a@example.org> BODY", 501, "5.5.4");
	err("MAIL FROM:<a@example.org> BODY=7BIT BODY=8BITMIME", 555,
	    "5.5.4");
	/* an extension that was not announced */
	err_flags("MAIL FROM:<a@example.org> BODY=BINARYMIME",
	    SMTP_EXT_ALL & ~SMTP_EXT_BINARYMIME, 555, "5.5.4");
	err_flags("MAIL FROM:<a@example.org> BODY=8BITMIME",
	    SMTP_EXT_ALL & ~SMTP_EXT_8BITMIME, 555, "5.5.4");
	err_flags("MAIL FROM:<a@example.org> BODY=8BITMIME", 0, 555,
	    "5.5.4");
}

static void
test_mail_smtputf8(void **state)
{
	(void)state;
	ok("MAIL FROM:<a@example.org> SMTPUTF8", SMTP_VERB_MAIL);
	assert_true(cmd.mail.smtputf8);
	ok("MAIL FROM:<a@example.org> smtputf8 BODY=8BITMIME",
	    SMTP_VERB_MAIL);
	assert_true(cmd.mail.smtputf8);
	ok("MAIL FROM:<j\xc3\xb6rg@example.org> SMTPUTF8", SMTP_VERB_MAIL);
	assert_true(cmd.mail.path.local_utf8);
	assert_string_equal(cmd.mail.path.local, "j\xc3\xb6rg");
	/* parameters may come before the decision matters */
	ok("MAIL FROM:<j\xc3\xb6rg@example.org> BODY=8BITMIME SMTPUTF8",
	    SMTP_VERB_MAIL);
	err("MAIL FROM:<j\xc3\xb6rg@example.org>", 553, "5.6.7");
	err("MAIL FROM:<a@b\xc3\xbc.example>", 553, "5.6.7");
	err("MAIL FROM:<a@example.org> SMTPUTF8=yes", 501, "5.5.4");
	err("MAIL FROM:<a@example.org> SMTPUTF8 SMTPUTF8", 555, "5.5.4");
	err_flags("MAIL FROM:<a@example.org> SMTPUTF8",
	    SMTP_EXT_ALL & ~SMTP_EXT_SMTPUTF8, 555, "5.5.4");
}

static void
test_mail_dsn(void **state)
{
	(void)state;
	ok("MAIL FROM:<a@example.org> RET=FULL ENVID=QQ314159",
	    SMTP_VERB_MAIL);
	assert_int_equal(cmd.mail.ret, SMTP_RET_FULL);
	assert_true(cmd.mail.envid_given);
	assert_string_equal(cmd.mail.envid, "QQ314159");
	ok("MAIL FROM:<a@example.org> ret=hdrs", SMTP_VERB_MAIL);
	assert_int_equal(cmd.mail.ret, SMTP_RET_HDRS);
	/* ENVID is kept as the xtext that was sent */
	ok("MAIL FROM:<a@example.org> ENVID=a+2Bb+3Dc", SMTP_VERB_MAIL);
	assert_string_equal(cmd.mail.envid, "a+2Bb+3Dc");
	err("MAIL FROM:<a@example.org> RET=BODY", 501, "5.5.4");
	err("MAIL FROM:<a@example.org> RET", 501, "5.5.4");
	err("MAIL FROM:<a@example.org> RET=FULL RET=HDRS", 555, "5.5.4");
	err("MAIL FROM:<a@example.org> ENVID=a+ZZ", 501, "5.5.4");
	err("MAIL FROM:<a@example.org> ENVID=a+2", 501, "5.5.4");
	err("MAIL FROM:<a@example.org> ENVID=a+00", 501, "5.5.4");
	err("MAIL FROM:<a@example.org> ENVID=x ENVID=y", 555, "5.5.4");
	err_flags("MAIL FROM:<a@example.org> RET=FULL",
	    SMTP_EXT_ALL & ~SMTP_EXT_DSN, 555, "5.5.4");
	err_flags("MAIL FROM:<a@example.org> ENVID=x",
	    SMTP_EXT_ALL & ~SMTP_EXT_DSN, 555, "5.5.4");
}

static void
test_mail_envid_length(void **state)
{
	char line[400];
	char id[SMTP_ENVID_MAX + 2];

	(void)state;
	memset(id, 'x', sizeof(id));
	id[SMTP_ENVID_MAX] = '\0';
	snprintf(line, sizeof(line), "MAIL FROM:<a@example.org> ENVID=%s",
	    id);
	ok(line, SMTP_VERB_MAIL);
	assert_int_equal(strlen(cmd.mail.envid), SMTP_ENVID_MAX);
	id[SMTP_ENVID_MAX] = 'x';
	id[SMTP_ENVID_MAX + 1] = '\0';
	snprintf(line, sizeof(line), "MAIL FROM:<a@example.org> ENVID=%s",
	    id);
	err(line, 501, "5.5.4");
}

static void
test_mail_auth_param(void **state)
{
	(void)state;
	ok("MAIL FROM:<a@example.org> AUTH=<>", SMTP_VERB_MAIL);
	assert_true(cmd.mail.auth_given);
	assert_true(cmd.mail.auth_null);
	ok("MAIL FROM:<a@example.org> AUTH=e+2Bf@example.org",
	    SMTP_VERB_MAIL);
	assert_true(cmd.mail.auth_given);
	assert_false(cmd.mail.auth_null);
	assert_string_equal(cmd.mail.auth, "e+f@example.org");
	err("MAIL FROM:<a@example.org> AUTH=a+G0", 501, "5.5.4");
	err("MAIL FROM:<a@example.org> AUTH", 501, "5.5.4");
	err("MAIL FROM:<a@example.org> AUTH=<> AUTH=<>", 555, "5.5.4");
	err_flags("MAIL FROM:<a@example.org> AUTH=<>",
	    SMTP_EXT_ALL & ~SMTP_EXT_AUTH, 555, "5.5.4");
}

static void
test_mail_unknown_and_bad_params(void **state)
{
	(void)state;
	err("MAIL FROM:<a@example.org> FOO=bar", 555, "5.5.4");
	assert_non_null(strstr(cmd.reply.text, "FOO"));
	err("MAIL FROM:<a@example.org> XFORWARD", 555, "5.5.4");
	err("MAIL FROM:<a@example.org> NOTIFY=NEVER", 555, "5.5.4");
	err("MAIL FROM:<a@example.org> ORCPT=rfc822;a@example.org", 555,
	    "5.5.4");
	err("MAIL FROM:<a@example.org> REQUIRETLS", 555, "5.5.4");
	/* parameter syntax */
	err("MAIL FROM:<a@example.org> =1", 501, "5.5.4");
	err("MAIL FROM:<a@example.org> -X=1", 501, "5.5.4");
	err("MAIL FROM:<a@example.org> SI_ZE=1", 501, "5.5.4");
	err("MAIL FROM:<a@example.org> SIZE=1=2", 501, "5.5.4");
	/* the first bad parameter decides */
	err("MAIL FROM:<a@example.org> SIZE=1 FOO SIZE=x", 555, "5.5.4");
}

/* --- RCPT TO ---------------------------------------------------------- */

static void
test_rcpt_basic(void **state)
{
	(void)state;
	ok("RCPT TO:<bob@example.org>", SMTP_VERB_RCPT);
	assert_string_equal(cmd.rcpt.path.local, "bob");
	assert_string_equal(cmd.rcpt.path.domain, "example.org");
	assert_int_equal(cmd.rcpt.notify, 0);
	assert_false(cmd.rcpt.orcpt_given);
	ok("RCPT TO: <bob@example.org>", SMTP_VERB_RCPT);
	ok("RCPT TO:<bob@EXAMPLE.Org>", SMTP_VERB_RCPT);
	assert_string_equal(cmd.rcpt.path.domain, "example.org");
	/* the local part keeps its case: the delivery side decides */
	ok("RCPT TO:<Bob@example.org>", SMTP_VERB_RCPT);
	assert_string_equal(cmd.rcpt.path.local, "Bob");
}

static void
test_rcpt_postmaster_without_domain(void **state)
{
	(void)state;
	ok("RCPT TO:<postmaster>", SMTP_VERB_RCPT);
	assert_string_equal(cmd.rcpt.path.domain, "");
	ok("RCPT TO:<Postmaster>", SMTP_VERB_RCPT);
	ok("RCPT TO:<POSTMASTER>", SMTP_VERB_RCPT);
	err("RCPT TO:<root>", 501, "5.1.3");
	err("RCPT TO:<postmaster2>", 501, "5.1.3");
	err("RCPT TO:<\"postmaster\">", 501, "5.1.3");
}

static void
test_rcpt_syntax_errors(void **state)
{
	(void)state;
	err("RCPT", 501, "5.5.4");
	err("RCPT FROM:<a@example.org>", 501, "5.5.4");
	err("RCPT TO <a@example.org>", 501, "5.5.4");
	err("RCPT TO:<>", 501, "5.1.3");
	err("RCPT TO:b@example.org", 501, "5.1.3");
	err("RCPT TO:<b@example.org", 501, "5.1.3");
	err("RCPT TO:<b@>", 501, "5.1.3");
	err("RCPT TO:<b@example..org>", 501, "5.1.3");
	err("RCPT TO:<b@-example.org>", 501, "5.1.3");
	err("RCPT TO:<b@example.org>x", 501, "5.5.4");
	err("RCPT TO:<j\xc3\xb6rg@example.org>", 553, "5.6.7");
	err("RCPT TO:<b@example.org> SIZE=10", 555, "5.5.4");
	err("RCPT TO:<b@example.org> FOO", 555, "5.5.4");
}

static void
test_rcpt_utf8_follows_mail(void **state)
{
	(void)state;
	assert_int_equal(parse_flags("RCPT TO:<j\xc3\xb6rg@example.org>",
	    SMTP_EXT_ALL | SMTP_PARSE_UTF8), 0);
	assert_true(cmd.rcpt.path.local_utf8);
	assert_int_equal(parse_flags("RCPT TO:<j\xc3\xb6rg@example.org>",
	    SMTP_EXT_ALL), -1);
	assert_int_equal(cmd.reply.code, 553);
}

static void
test_rcpt_notify(void **state)
{
	(void)state;
	ok("RCPT TO:<b@example.org> NOTIFY=NEVER", SMTP_VERB_RCPT);
	assert_int_equal(cmd.rcpt.notify, SMTP_NOTIFY_NEVER);
	ok("RCPT TO:<b@example.org> NOTIFY=SUCCESS,FAILURE,DELAY",
	    SMTP_VERB_RCPT);
	assert_int_equal(cmd.rcpt.notify, SMTP_NOTIFY_SUCCESS |
	    SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY);
	ok("RCPT TO:<b@example.org> notify=delay,failure", SMTP_VERB_RCPT);
	assert_int_equal(cmd.rcpt.notify, SMTP_NOTIFY_FAILURE |
	    SMTP_NOTIFY_DELAY);
	err("RCPT TO:<b@example.org> NOTIFY=NEVER,SUCCESS", 501, "5.5.4");
	err("RCPT TO:<b@example.org> NOTIFY=FAILURE,NEVER", 501, "5.5.4");
	err("RCPT TO:<b@example.org> NOTIFY=SUCCESS,SUCCESS", 501, "5.5.4");
	err("RCPT TO:<b@example.org> NOTIFY=SUCCESS,", 501, "5.5.4");
	err("RCPT TO:<b@example.org> NOTIFY=,SUCCESS", 501, "5.5.4");
	err("RCPT TO:<b@example.org> NOTIFY=ALWAYS", 501, "5.5.4");
	err("RCPT TO:<b@example.org> NOTIFY", 501, "5.5.4");
	err("RCPT TO:<b@example.org> NOTIFY=NEVER NOTIFY=NEVER", 555,
	    "5.5.4");
	err_flags("RCPT TO:<b@example.org> NOTIFY=NEVER",
	    SMTP_EXT_ALL & ~SMTP_EXT_DSN, 555, "5.5.4");
}

static void
test_rcpt_orcpt(void **state)
{
	char dec[64];

	(void)state;
	ok("RCPT TO:<b@example.org> ORCPT=rfc822;b+2Bx@example.org",
	    SMTP_VERB_RCPT);
	assert_true(cmd.rcpt.orcpt_given);
	assert_string_equal(cmd.rcpt.orcpt_type, "rfc822");
	assert_string_equal(cmd.rcpt.orcpt_addr, "b+2Bx@example.org");
	assert_int_equal(smtp_xtext_decode(cmd.rcpt.orcpt_addr,
	    strlen(cmd.rcpt.orcpt_addr), false, dec, sizeof(dec)), 15);
	assert_string_equal(dec, "b+x@example.org");
	ok("RCPT TO:<b@example.org> NOTIFY=FAILURE ORCPT=RFC822;b@example.org",
	    SMTP_VERB_RCPT);
	assert_string_equal(cmd.rcpt.orcpt_type, "RFC822");
	assert_int_equal(cmd.rcpt.notify, SMTP_NOTIFY_FAILURE);
	/* RFC 6533 utf-8 type, raw UTF-8 only in an SMTPUTF8 transaction */
	assert_int_equal(parse_flags("RCPT TO:<b@example.org> "
	    "ORCPT=utf-8;j\xc3\xb6rg@example.org",
	    SMTP_EXT_ALL | SMTP_PARSE_UTF8), 0);
	assert_string_equal(cmd.rcpt.orcpt_type, "utf-8");
	err("RCPT TO:<b@example.org> ORCPT=utf-8;j\xc3\xb6rg@example.org",
	    501, "5.5.4");
	err("RCPT TO:<b@example.org> ORCPT=b@example.org", 501, "5.5.4");
	err("RCPT TO:<b@example.org> ORCPT=;b@example.org", 501, "5.5.4");
	err("RCPT TO:<b@example.org> ORCPT=rfc822;", 501, "5.5.4");
	err("RCPT TO:<b@example.org> ORCPT=rfc(822);b@example.org", 501,
	    "5.5.4");
	err("RCPT TO:<b@example.org> ORCPT=rfc822;b+4@example.org", 501,
	    "5.5.4");
	err("RCPT TO:<b@example.org> ORCPT=rfc822;a ORCPT=rfc822;b", 555,
	    "5.5.4");
}

static void
test_rcpt_orcpt_length(void **state)
{
	char line[SMTP_LINE_MAX];
	char addr[SMTP_ORCPT_MAX + 2];

	(void)state;
	/* "rfc822;" + 493 octets = 500 */
	memset(addr, 'a', sizeof(addr));
	addr[SMTP_ORCPT_MAX - 7] = '\0';
	snprintf(line, sizeof(line), "RCPT TO:<b@example.org> ORCPT=rfc822;%s",
	    addr);
	ok(line, SMTP_VERB_RCPT);
	assert_int_equal(strlen(cmd.rcpt.orcpt_addr), SMTP_ORCPT_MAX - 7);
	addr[SMTP_ORCPT_MAX - 7] = 'a';
	addr[SMTP_ORCPT_MAX - 6] = '\0';
	snprintf(line, sizeof(line), "RCPT TO:<b@example.org> ORCPT=rfc822;%s",
	    addr);
	err(line, 501, "5.5.4");
}

/*
 * The relay-abuse shapes: the parser must hand them on as what they are
 * (a local part with '%' or '!' is only a local part; a source route is
 * dropped), never as a different destination, so relay control judges
 * the real domain.
 */
static void
test_relay_shapes(void **state)
{
	(void)state;
	ok("RCPT TO:<a%b.example@c.example>", SMTP_VERB_RCPT);
	assert_string_equal(cmd.rcpt.path.local, "a%b.example");
	assert_string_equal(cmd.rcpt.path.domain, "c.example");

	ok("RCPT TO:<b.example!a@c.example>", SMTP_VERB_RCPT);
	assert_string_equal(cmd.rcpt.path.local, "b.example!a");
	assert_string_equal(cmd.rcpt.path.domain, "c.example");

	ok("RCPT TO:<@a.example,@b.example:u@c.example>", SMTP_VERB_RCPT);
	assert_string_equal(cmd.rcpt.path.local, "u");
	assert_string_equal(cmd.rcpt.path.domain, "c.example");

	ok("RCPT TO:<@a.example:u@c.example>", SMTP_VERB_RCPT);
	assert_string_equal(cmd.rcpt.path.domain, "c.example");

	ok("RCPT TO:<\"u@b.example\"@c.example>", SMTP_VERB_RCPT);
	assert_string_equal(cmd.rcpt.path.local, "u@b.example");
	assert_true(cmd.rcpt.path.local_quoted);
	assert_string_equal(cmd.rcpt.path.domain, "c.example");

	/* a quoted local part may hold '>' and a space */
	ok("RCPT TO:<\"a> b\"@c.example> NOTIFY=NEVER", SMTP_VERB_RCPT);
	assert_string_equal(cmd.rcpt.path.local, "a> b");
	assert_int_equal(cmd.rcpt.notify, SMTP_NOTIFY_NEVER);

	ok("RCPT TO:<u@[192.0.2.1]>", SMTP_VERB_RCPT);
	assert_true(cmd.rcpt.path.ip_literal);
	assert_string_equal(cmd.rcpt.path.domain, "[192.0.2.1]");

	ok("RCPT TO:<u@[IPv6:2001:db8::1]>", SMTP_VERB_RCPT);
	assert_true(cmd.rcpt.path.ip_literal);

	ok("RCPT TO:<U@C.EXAMPLE>", SMTP_VERB_RCPT);
	assert_string_equal(cmd.rcpt.path.domain, "c.example");

	err("RCPT TO:<u@c.example.>", 501, "5.1.3");
	err("RCPT TO:<u@[192.0.2.256]>", 501, "5.1.3");
	err("RCPT TO:<u@[300.1.1.1]>", 501, "5.1.3");
	err("RCPT TO:<u@c.example@d.example>", 501, "5.1.3");
	err("RCPT TO:<@a.example:postmaster>", 501, "5.1.3");
	err("MAIL FROM:<u@c.example.>", 501, "5.1.7");
}

/* --- BDAT and AUTH ---------------------------------------------------- */

static void
test_bdat(void **state)
{
	(void)state;
	ok("BDAT 1000", SMTP_VERB_BDAT);
	assert_int_equal(cmd.bdat.size, 1000);
	assert_false(cmd.bdat.last);
	ok("BDAT 0 LAST", SMTP_VERB_BDAT);
	assert_int_equal(cmd.bdat.size, 0);
	assert_true(cmd.bdat.last);
	ok("BDAT 007 last", SMTP_VERB_BDAT);
	assert_int_equal(cmd.bdat.size, 7);
	assert_true(cmd.bdat.last);
	ok("BDAT 18446744073709551614", SMTP_VERB_BDAT);
	err("BDAT", 501, "5.5.4");
	assert_int_equal(cmd.verb, SMTP_VERB_BDAT);
	err("BDAT x", 501, "5.5.4");
	err("BDAT -5", 501, "5.5.4");
	err("BDAT 5x", 501, "5.5.4");
	err("BDAT 5 FIRST", 501, "5.5.4");
	err("BDAT 5 LAST x", 501, "5.5.4");
	err("BDAT LAST", 501, "5.5.4");
	err("BDAT 18446744073709551615", 501, "5.5.4");
	err("BDAT 99999999999999999999", 501, "5.5.4");
	err("BDAT 123456789012345678901", 501, "5.5.4");
}

static void
test_auth(void **state)
{
	(void)state;
	ok("AUTH PLAIN", SMTP_VERB_AUTH);
	assert_string_equal(cmd.auth.mech, "PLAIN");
	assert_false(cmd.auth.has_initial);
	ok("AUTH PLAIN AHVzZXIAcGFzcw==", SMTP_VERB_AUTH);
	assert_true(cmd.auth.has_initial);
	assert_string_equal(cmd.auth.initial, "AHVzZXIAcGFzcw==");
	ok("AUTH login dXNlcg==", SMTP_VERB_AUTH);
	assert_string_equal(cmd.auth.mech, "LOGIN");
	ok("AUTH PLAIN =", SMTP_VERB_AUTH);
	assert_true(cmd.auth.has_initial);
	assert_string_equal(cmd.auth.initial, "=");
	ok("AUTH SCRAM-SHA-256", SMTP_VERB_AUTH);
	ok("AUTH X_MECH-1", SMTP_VERB_AUTH);
	ok("AUTH ABCDEFGHIJKLMNOPQRST", SMTP_VERB_AUTH);
	err("AUTH ABCDEFGHIJKLMNOPQRSTU", 501, "5.5.4");
	err("AUTH", 501, "5.5.4");
	err("AUTH PL.AIN", 501, "5.5.4");
	err("AUTH PLAIN abc", 501, "5.5.2");
	err("AUTH PLAIN ab=c", 501, "5.5.2");
	err("AUTH PLAIN a===", 501, "5.5.2");
	err("AUTH PLAIN ab!c", 501, "5.5.2");
	err("AUTH PLAIN ==", 501, "5.5.2");
	err("AUTH PLAIN dXNl cg==", 501, "5.5.4");
}

/* --- xtext ------------------------------------------------------------ */

static void
test_xtext_decode(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(smtp_xtext_decode("abc", 3, false, out, sizeof(out)),
	    3);
	assert_string_equal(out, "abc");
	assert_int_equal(smtp_xtext_decode("a+2Bb+3D", 8, false, out,
	    sizeof(out)), 4);
	assert_string_equal(out, "a+b=");
	assert_int_equal(smtp_xtext_decode("+2b+3d", 6, false, out,
	    sizeof(out)), 2);
	assert_string_equal(out, "+=");
	assert_int_equal(smtp_xtext_decode("+20", 3, false, out,
	    sizeof(out)), 1);
	assert_string_equal(out, " ");
	assert_int_equal(smtp_xtext_decode("", 0, false, out, sizeof(out)),
	    0);
	assert_string_equal(out, "");
	/* malformed */
	assert_int_equal(smtp_xtext_decode("a+", 2, false, out, sizeof(out)),
	    -1);
	assert_int_equal(smtp_xtext_decode("a+4", 3, false, out,
	    sizeof(out)), -1);
	assert_int_equal(smtp_xtext_decode("+GG", 3, false, out,
	    sizeof(out)), -1);
	assert_int_equal(smtp_xtext_decode("a=b", 3, false, out,
	    sizeof(out)), -1);
	assert_int_equal(smtp_xtext_decode("a b", 3, false, out,
	    sizeof(out)), -1);
	/* control characters and NUL are not let through */
	assert_int_equal(smtp_xtext_decode("+00", 3, false, out,
	    sizeof(out)), -1);
	assert_int_equal(smtp_xtext_decode("+0D+0A", 6, false, out,
	    sizeof(out)), -1);
	assert_int_equal(smtp_xtext_decode("+7F", 3, false, out,
	    sizeof(out)), -1);
	/* 8-bit only when asked */
	assert_int_equal(smtp_xtext_decode("\xc3\xb6", 2, false, out,
	    sizeof(out)), -1);
	assert_int_equal(smtp_xtext_decode("\xc3\xb6", 2, true, out,
	    sizeof(out)), 2);
	/* too long for out */
	assert_int_equal(smtp_xtext_decode("abcd", 4, false, out, 4), -1);
	assert_int_equal(smtp_xtext_decode("abc", 3, false, out, 4), 3);
	assert_int_equal(smtp_xtext_decode("abc", 3, false, out, 0), -1);
}

static void
test_xtext_encode_roundtrip(void **state)
{
	char enc[128], dec[64];
	const char *s = "a+b=c d\xc3\xa9!~";
	ssize_t n;

	(void)state;
	n = smtp_xtext_encode(s, strlen(s), enc, sizeof(enc));
	assert_true(n > 0);
	assert_string_equal(enc, "a+2Bb+3Dc+20d+C3+A9!~");
	assert_int_equal(smtp_xtext_decode(enc, (size_t)n, true, dec,
	    sizeof(dec)), (ssize_t)strlen(s));
	assert_string_equal(dec, s);
	assert_int_equal(smtp_xtext_encode("+", 1, enc, 3), -1);
	assert_int_equal(smtp_xtext_encode("+", 1, enc, 4), 3);
	assert_int_equal(smtp_xtext_encode("ab", 2, enc, 2), -1);
}

/* --- replies ---------------------------------------------------------- */

static void
test_reply_single_line(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	smtp_reply_format(&b, 250, "2.1.0", "Sender OK");
	assert_string_equal(buf_cstr(&b), "250 2.1.0 Sender OK\r\n");
	buf_reset(&b);
	smtp_reply_format(&b, 220, NULL, "mx.example.org ESMTP netjes");
	assert_string_equal(buf_cstr(&b),
	    "220 mx.example.org ESMTP netjes\r\n");
	buf_reset(&b);
	smtp_reply_format(&b, 250, NULL, "");
	assert_string_equal(buf_cstr(&b), "250\r\n");
	buf_reset(&b);
	smtp_reply_format(&b, 250, "2.0.0", "");
	assert_string_equal(buf_cstr(&b), "250 2.0.0\r\n");
	buf_free(&b);
}

static void
test_reply_multiline(void **state)
{
	struct buf b = BUF_INIT;
	static const char *const ehlo[] = {
		"mx.example.org", "PIPELINING", "SIZE 10240000", "8BITMIME",
	};

	(void)state;
	smtp_reply_format(&b, 250, NULL,
	    "mx.example.org\nPIPELINING\nSIZE 10240000\n8BITMIME\n");
	assert_string_equal(buf_cstr(&b),
	    "250-mx.example.org\r\n"
	    "250-PIPELINING\r\n"
	    "250-SIZE 10240000\r\n"
	    "250 8BITMIME\r\n");
	buf_reset(&b);
	smtp_reply_lines(&b, 250, NULL, ehlo, 4);
	assert_string_equal(buf_cstr(&b),
	    "250-mx.example.org\r\n"
	    "250-PIPELINING\r\n"
	    "250-SIZE 10240000\r\n"
	    "250 8BITMIME\r\n");
	buf_reset(&b);
	smtp_reply_format(&b, 550, "5.7.1", "first\nsecond");
	assert_string_equal(buf_cstr(&b),
	    "550-5.7.1 first\r\n550 5.7.1 second\r\n");
	buf_reset(&b);
	smtp_reply_format(&b, 214, "2.0.0", "a\n\nb");
	assert_string_equal(buf_cstr(&b),
	    "214-2.0.0 a\r\n214-2.0.0\r\n214 2.0.0 b\r\n");
	buf_reset(&b);
	smtp_reply_lines(&b, 221, "2.0.0", NULL, 0);
	assert_string_equal(buf_cstr(&b), "221 2.0.0\r\n");
	buf_free(&b);
}

static void
test_reply_cannot_be_forged(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	/* text echoed from a client: a CR must not start a reply line */
	smtp_reply_format(&b, 501, "5.5.4", "bad: x\r250 2.0.0 fake\x01");
	assert_string_equal(buf_cstr(&b),
	    "501 5.5.4 bad: x?250 2.0.0 fake?\r\n");
	buf_free(&b);
}

static void
test_reply_cut_to_512(void **state)
{
	struct buf b = BUF_INIT;
	char text[2000];

	(void)state;
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	smtp_reply_format(&b, 554, "5.7.1", text);
	assert_int_equal(b.len, SMTP_REPLY_LINE_MAX);
	assert_memory_equal(b.data, "554 5.7.1 xxx", 13);
	assert_memory_equal(b.data + b.len - 3, "x\r\n", 3);
	buf_reset(&b);
	smtp_reply_format(&b, 250, NULL, text);
	assert_int_equal(b.len, SMTP_REPLY_LINE_MAX);
	buf_free(&b);
}

static void
test_reply_append_and_set(void **state)
{
	struct buf b = BUF_INIT;
	struct smtp_reply r;
	char longtext[400];

	(void)state;
	assert_int_equal(parse("MAIL FROM:<a@example.org> FOO=1"), -1);
	smtp_reply_append(&b, &cmd.reply);
	assert_string_equal(buf_cstr(&b),
	    "555 5.5.4 Unsupported parameter: FOO\r\n");
	buf_reset(&b);
	smtp_reply_set(&r, 250, "2.0.0", "Ok: queued as %s", "Q1");
	smtp_reply_append(&b, &r);
	assert_string_equal(buf_cstr(&b), "250 2.0.0 Ok: queued as Q1\r\n");
	memset(longtext, 'y', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	smtp_reply_set(&r, 250, NULL, "%s", longtext);
	assert_int_equal(strlen(r.text), SMTP_REPLY_TEXT_MAX - 1);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_verb),
		cmocka_unit_test(test_verbs_case_insensitive),
		cmocka_unit_test(test_verb_names),
		cmocka_unit_test(test_unknown_and_malformed_lines),
		cmocka_unit_test(test_control_characters_refused),
		cmocka_unit_test(test_line_too_long),
		cmocka_unit_test(test_http_probe_flagged),
		cmocka_unit_test(test_helo_argument),
		cmocka_unit_test(test_no_argument_verbs),
		cmocka_unit_test(test_noop_help_vrfy_expn),
		cmocka_unit_test(test_mail_basic),
		cmocka_unit_test(test_mail_null_sender),
		cmocka_unit_test(test_mail_space_after_colon_tolerated),
		cmocka_unit_test(test_mail_syntax_errors),
		cmocka_unit_test(test_mail_size),
		cmocka_unit_test(test_mail_body),
		cmocka_unit_test(test_mail_smtputf8),
		cmocka_unit_test(test_mail_dsn),
		cmocka_unit_test(test_mail_envid_length),
		cmocka_unit_test(test_mail_auth_param),
		cmocka_unit_test(test_mail_unknown_and_bad_params),
		cmocka_unit_test(test_rcpt_basic),
		cmocka_unit_test(test_rcpt_postmaster_without_domain),
		cmocka_unit_test(test_rcpt_syntax_errors),
		cmocka_unit_test(test_rcpt_utf8_follows_mail),
		cmocka_unit_test(test_rcpt_notify),
		cmocka_unit_test(test_rcpt_orcpt),
		cmocka_unit_test(test_rcpt_orcpt_length),
		cmocka_unit_test(test_relay_shapes),
		cmocka_unit_test(test_bdat),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_xtext_decode),
		cmocka_unit_test(test_xtext_encode_roundtrip),
		cmocka_unit_test(test_reply_single_line),
		cmocka_unit_test(test_reply_multiline),
		cmocka_unit_test(test_reply_cannot_be_forged),
		cmocka_unit_test(test_reply_cut_to_512),
		cmocka_unit_test(test_reply_append_and_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
