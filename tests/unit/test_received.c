/* Unit tests for smtp/received: the Received: header, golden outputs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "smtp/received.h"

static void
base(struct received_info *r)
{
	memset(r, 0, sizeof(*r));
	r->helo = "mail.example.org";
	r->client_ip = "192.0.2.1";
	r->hostname = "mx.example.test";
	r->protocol = "ESMTP";
	r->queue_id = "1k135dqvcwa0000e5334";
	r->when = 1700000000;	/* Tue, 14 Nov 2023 22:13:20 UTC */
	r->gmtoff = 0;
}

static void
golden(const struct received_info *r, const char *want)
{
	struct buf b = BUF_INIT;

	received_format(r, &b);
	assert_string_equal(buf_cstr(&b), want);
	buf_free(&b);
}

static void
test_plain(void **state)
{
	struct received_info r;

	(void)state;
	base(&r);
	golden(&r, "Received: from mail.example.org ([192.0.2.1])\r\n"
	    "\tby mx.example.test (netjes) with ESMTP id "
	    "1k135dqvcwa0000e5334;\r\n"
	    "\tTue, 14 Nov 2023 22:13:20 +0000\r\n");
}

static void
test_everything(void **state)
{
	struct received_info r;

	(void)state;
	base(&r);
	r.client_rdns = "mail.example.org";
	r.auth_user = "alice@example.test";
	r.protocol = received_protocol(true, true, true, false);
	r.tls_version = "TLSv1.3";
	r.tls_cipher = "TLS_AES_256_GCM_SHA384";
	r.for_rcpt = "bob@example.test";
	r.client_ip = "2001:db8::25";
	r.gmtoff = -(3 * 3600 + 30 * 60);
	golden(&r, "Received: from mail.example.org (mail.example.org "
	    "[2001:db8::25])\r\n"
	    "\t(authenticated as alice@example.test)\r\n"
	    "\tby mx.example.test (netjes) with ESMTPSA id "
	    "1k135dqvcwa0000e5334\r\n"
	    "\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384)\r\n"
	    "\tfor <bob@example.test>;\r\n"
	    "\tTue, 14 Nov 2023 18:43:20 -0330\r\n");
}

/* Client text cannot break out of the header or its comment. */
static void
test_hostile_text(void **state)
{
	struct received_info r;

	(void)state;
	base(&r);
	r.helo = "evil)\r\nX-Injected: 1 (";
	r.auth_user = "a(b)\r\nc";
	r.client_rdns = "";
	golden(&r, "Received: from evil???X-Injected:?1?? ([192.0.2.1])\r\n"
	    "\t(authenticated as a?b???c)\r\n"
	    "\tby mx.example.test (netjes) with ESMTP id "
	    "1k135dqvcwa0000e5334;\r\n"
	    "\tTue, 14 Nov 2023 22:13:20 +0000\r\n");
	r.helo = "";
	r.auth_user = "";
	golden(&r, "Received: from unknown ([192.0.2.1])\r\n"
	    "\tby mx.example.test (netjes) with ESMTP id "
	    "1k135dqvcwa0000e5334;\r\n"
	    "\tTue, 14 Nov 2023 22:13:20 +0000\r\n");
}

static void
test_protocol_words(void **state)
{
	(void)state;
	assert_string_equal(received_protocol(false, true, true, true),
	    "SMTP");
	assert_string_equal(received_protocol(true, false, false, false),
	    "ESMTP");
	assert_string_equal(received_protocol(true, true, false, false),
	    "ESMTPS");
	assert_string_equal(received_protocol(true, false, true, false),
	    "ESMTPA");
	assert_string_equal(received_protocol(true, true, true, true),
	    "UTF8SMTPSA");
}

static void
test_date(void **state)
{
	char d[64];

	(void)state;
	received_date(0, 0, d, sizeof(d));
	assert_string_equal(d, "Thu, 1 Jan 1970 00:00:00 +0000");
	received_date(1700000000, 2 * 3600, d, sizeof(d));
	assert_string_equal(d, "Wed, 15 Nov 2023 00:13:20 +0200");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_everything),
		cmocka_unit_test(test_hostile_text),
		cmocka_unit_test(test_protocol_words),
		cmocka_unit_test(test_date),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
