/*
 * Unit tests for queue/dsn: the RFC 3464 notification builder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "queue/dsn.h"

static const char original[] =
    "Received: from client.example\r\n"
    "\tby mx.example.test\r\n"
    "From: <sender@example.test>\r\n"
    "Subject: hello\r\n"
    "\r\n"
    "the body must not be attached\r\n";

static void
build(struct buf *b, const struct dsn_rcpt *r, size_t n, const char *hdrs)
{
	struct dsn_request q;

	memset(&q, 0, sizeof(q));
	q.reporting_mta = "mx.example.test";
	q.queue_id = "0bn1x8c7m2q30004z9rd";
	q.envid = "QQ314159";
	q.sender = "sender@example.test";
	q.arrival = 1700000000;
	q.now = 1700003600;
	q.rcpts = r;
	q.nrcpts = n;
	q.headers = hdrs;
	q.headers_len = dsn_header_section(hdrs, strlen(hdrs));
	buf_append_str(b, "");
	dsn_build(&q, b);
	buf_append_char(b, '\0');
}

static void
test_header_section(void **state)
{
	(void)state;
	assert_int_equal(dsn_header_section(original, strlen(original)),
	    strlen(original) - strlen("the body must not be attached\r\n"));
	assert_int_equal(dsn_header_section("A: b\n\nbody", 10), 6);
	assert_int_equal(dsn_header_section("A: b\r\n", 6), 6);
	assert_int_equal(dsn_header_section("", 0), 0);
}

static void
test_failed_report_structure(void **state)
{
	struct dsn_rcpt r[2];
	struct buf b = BUF_INIT;
	const char *s, *part2, *part3;

	(void)state;
	memset(r, 0, sizeof(r));
	r[0].addr = "bob@example.test";
	r[0].orcpt = "rfc822;bob@example.test";
	r[0].action = DSN_FAILED;
	r[0].reason = "5.2.3 message too large for the mailbox";
	r[0].last_attempt = 1700003500;
	r[1].addr = "carol@example.test";
	r[1].action = DSN_FAILED;
	r[1].reason = "4.3.1 disk full; queue lifetime expired";
	build(&b, r, 2, original);
	s = b.data;
	assert_non_null(strstr(s, "\r\nContent-Type: multipart/report; "
	    "report-type=delivery-status;\r\n\tboundary=\""
	    "=_netjes_dsn_0bn1x8c7m2q30004z9rd\"\r\n"));
	assert_non_null(strstr(s, "From: Mail Delivery System "
	    "<MAILER-DAEMON@mx.example.test>\r\n"));
	assert_non_null(strstr(s, "To: <sender@example.test>\r\n"));
	assert_non_null(strstr(s, "Auto-Submitted: auto-replied\r\n"));
	assert_non_null(strstr(s, "Subject: Undelivered Mail Returned to "
	    "Sender\r\n"));
	assert_non_null(strstr(s, "<bob@example.test>: failed: message too "
	    "large for the mailbox (status 5.2.3)"));
	part2 = strstr(s, "Content-Type: message/delivery-status\r\n");
	part3 = strstr(s, "Content-Type: text/rfc822-headers\r\n");
	assert_non_null(part2);
	assert_non_null(part3);
	assert_true(part2 < part3);
	assert_non_null(strstr(part2, "Reporting-MTA: dns; mx.example.test\r\n"
	    "X-Netjes-Queue-ID: 0bn1x8c7m2q30004z9rd\r\n"
	    "Original-Envelope-Id: QQ314159\r\n"
	    "Arrival-Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n\r\n"
	    "Original-Recipient: rfc822;bob@example.test\r\n"
	    "Final-Recipient: rfc822; bob@example.test\r\n"
	    "Action: failed\r\nStatus: 5.2.3\r\n"
	    "Diagnostic-Code: X-netjes; message too large for the mailbox\r\n"
	    "Last-Attempt-Date: Tue, 14 Nov 2023 23:11:40 +0000\r\n\r\n"
	    "Final-Recipient: rfc822; carol@example.test\r\n"
	    "Action: failed\r\nStatus: 4.3.1\r\n"));
	assert_non_null(strstr(part3, "\r\n\r\nReceived: from client.example\r\n"
	    "\tby mx.example.test\r\nFrom: <sender@example.test>\r\n"
	    "Subject: hello\r\n\r\n--=_netjes_dsn_0bn1x8c7m2q30004z9rd--\r\n"));
	assert_null(strstr(s, "the body must not"));
	buf_free(&b);
}

static void
test_delayed_and_hostile_input(void **state)
{
	static const char hostile[] =
	    "X-Trap: --=_netjes_dsn_0bn1x8c7m2q30004z9rd\r\n\r\n";
	struct dsn_rcpt r;
	struct buf b = BUF_INIT;
	const char *s;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.addr = "evil@example.test\r\nBcc: victim@example.org";
	r.action = DSN_DELAYED;
	r.reason = "5.9.9 a delay is never permanent";
	build(&b, &r, 1, hostile);
	s = b.data;
	assert_non_null(strstr(s, "Subject: Delayed Mail (still being "
	    "retried)\r\n"));
	assert_null(strstr(s, "\r\nBcc:"));
	assert_non_null(strstr(s, "Action: delayed\r\nStatus: 4.9.9\r\n"));
	/* the boundary grew until the attached headers no longer hold it */
	assert_non_null(strstr(s, "boundary=\"=_netjes_dsn_"
	    "0bn1x8c7m2q30004z9rd_\""));
	assert_non_null(strstr(s, "\r\n--=_netjes_dsn_0bn1x8c7m2q30004z9rd_--"
	    "\r\n"));
	buf_free(&b);
}

static void
test_reason_without_code(void **state)
{
	struct dsn_rcpt r;
	struct buf b = BUF_INIT;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.addr = "bob@example.test";
	r.action = DSN_FAILED;
	r.reason = "mailbox gone";
	build(&b, &r, 1, "");
	assert_non_null(strstr(b.data, "Status: 5.0.0\r\nDiagnostic-Code: "
	    "X-netjes; mailbox gone\r\n"));
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_section),
		cmocka_unit_test(test_failed_report_structure),
		cmocka_unit_test(test_delayed_and_hostile_input),
		cmocka_unit_test(test_reason_without_code),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
