/* Unit tests for auth/authres: rendering and folding, the RFC 8601
 * grammar (with the RFC's own examples), round trips, and forgeries. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "auth/authres.h"
#include "core/arena.h"
#include "msg/header.h"

static int
parse(struct arena *a, const char *s, struct authres_header *h)
{
	const char *why = NULL;
	int rc = authres_parse(s, strlen(s), a, h, &why);

	if (rc != 0)
		assert_non_null(why);
	return rc;
}

static void
test_render_fold(void **state)
{
	struct arena *a = arena_new(0);
	struct authres_header h;
	struct authres_resinfo *ri;
	struct authres_render_options o;
	struct buf b = BUF_INIT;
	const char *line, *nl;

	(void)state;
	authres_init(&h, a, "mx.example.org");
	ri = authres_add(&h, a, "iprev", "pass");
	authres_resinfo_prop(ri, a, "policy", "iprev", "192.0.2.1");
	ri->props[0].comment = "mail.example.com";
	ri = authres_add(&h, a, "spf", "pass");
	authres_resinfo_prop(ri, a, "smtp", "mailfrom",
	    "a-long-local-part-for-folding@subdomain.example.com");
	ri = authres_add(&h, a, "dkim", "pass");
	authres_resinfo_prop(ri, a, "header", "d", "example.com");
	authres_resinfo_prop(ri, a, "header", "s", "sel");
	authres_resinfo_prop(ri, a, "header", "b", "ab/+cd=e");
	ri = authres_add(&h, a, "dmarc", "fail");
	authres_resinfo_comment(ri, a, "p=reject sp=reject pct=100 "
	    "dis=quarantine sampled-out and some more words to fold");
	authres_resinfo_prop(ri, a, "header", "from", "example.com");
	authres_resinfo_prop(ri, a, "policy", "applied-disposition",
	    "quarantine");
	memset(&o, 0, sizeof(o));
	o.eol = "\n";
	authres_render(&h, &o, &b);
	/* every line within 78 columns, continuation lines start with TAB */
	for (line = b.data; line != NULL; line = nl ? nl + 1 : NULL) {
		size_t len;

		nl = strchr(line, '\n');
		len = nl ? (size_t)(nl - line) : strlen(line);
		assert_true(len + (line[0] == '\t' ? 7 : 0) <= 78);
		if (line != b.data)
			assert_int_equal(line[0], '\t');
	}
	assert_non_null(strstr(b.data, "Authentication-Results: "
	    "mx.example.org;\n\tiprev=pass policy.iprev=192.0.2.1 "
	    "(mail.example.com);\n"));
	assert_non_null(strstr(b.data, "header.b=\"ab/+cd=e\""));
	assert_non_null(strstr(b.data, "smtp.mailfrom="
	    "a-long-local-part-for-folding@subdomain.example.com"));
	assert_null(strstr(b.data, ";\n\tdmarc=fail (p=reject sp=reject "
	    "pct=100 dis=quarantine sampled-out and some more words to "
	    "fold)"));	/* folded inside the comment */
	/* and it parses back to the same results */
	{
		struct authres_header back;
		struct arena *a2 = arena_new(0);

		assert_int_equal(parse(a2, b.data + strlen(AUTHRES_FIELD) + 1,
		    &back), 0);
		assert_string_equal(back.authserv_id, "mx.example.org");
		assert_int_equal(back.n, 4);
		assert_string_equal(back.results[2].method, "dkim");
		assert_string_equal(authres_prop_get(&back.results[2],
		    "header", "b"), "ab/+cd=e");
		assert_string_equal(authres_prop_get(&back.results[0],
		    "policy", "iprev"), "192.0.2.1");
		assert_string_equal(back.results[0].props[0].comment,
		    "mail.example.com");
		assert_string_equal(back.results[3].comment, "p=reject "
		    "sp=reject pct=100 dis=quarantine sampled-out and some "
		    "more words to fold");
		arena_free(a2);
	}
	buf_free(&b);
	arena_free(a);
}

static void
test_render_none_and_prefix(void **state)
{
	struct arena *a = arena_new(0);
	struct authres_header h;
	struct authres_render_options o;
	struct buf b = BUF_INIT;

	(void)state;
	authres_init(&h, a, "mx.example.org");
	memset(&o, 0, sizeof(o));
	authres_render(&h, &o, &b);
	assert_string_equal(b.data,
	    "Authentication-Results: mx.example.org; none");
	buf_reset(&b);
	o.field = "ARC-Authentication-Results";
	o.prefix = "i=1; ";
	o.final_eol = true;
	authres_add(&h, a, "spf", "pass");
	authres_render(&h, &o, &b);
	assert_string_equal(b.data, "ARC-Authentication-Results: i=1; "
	    "mx.example.org;\r\n\tspf=pass\r\n");
	buf_free(&b);
	arena_free(a);
}

static void
test_parse_rfc_examples(void **state)
{
	struct arena *a = arena_new(0);
	struct authres_header h;
	const struct authres_resinfo *ri;

	(void)state;
	/* RFC 8601 Appendix B */
	assert_int_equal(parse(a, " example.org 1; none", &h), 0);
	assert_true(h.none);
	assert_int_equal(h.version, 1);
	assert_int_equal(h.n, 0);

	assert_int_equal(parse(a, " example.com;\r\n"
	    "                  spf=pass smtp.mailfrom=example.net", &h), 0);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.results[0].method, "spf");
	assert_string_equal(authres_prop_get(&h.results[0], "smtp",
	    "mailfrom"), "example.net");

	assert_int_equal(parse(a, " example.com;\r\n"
	    "          auth=pass (cram-md5) smtp.auth=sender@example.net;\r\n"
	    "          spf=pass smtp.mailfrom=example.net", &h), 0);
	assert_int_equal(h.n, 2);
	assert_string_equal(h.results[0].comment, "cram-md5");
	assert_string_equal(authres_prop_get(&h.results[0], "smtp", "auth"),
	    "sender@example.net");

	assert_int_equal(parse(a, " example.com;\r\n"
	    "    sender-id=fail header.from=example.com;\r\n"
	    "    dkim=pass (good signature) header.d=example.com", &h), 0);
	ri = authres_find(&h, "dkim");
	assert_non_null(ri);
	assert_string_equal(ri->comment, "good signature");

	assert_int_equal(parse(a, " mail-router.example.net;\r\n"
	    "    dkim=pass (good signature) header.d=newyork.example.com\r\n"
	    "          header.b=oINEO8hg;\r\n"
	    "    dkim=fail (bad signature) header.d=newyork.example.com\r\n"
	    "          header.b=EToRSuvU", &h), 0);
	assert_int_equal(h.n, 2);
	assert_string_equal(authres_prop_get(&h.results[1], "header", "b"),
	    "EToRSuvU");

	/* reason, method version, quoted values, comments everywhere */
	assert_int_equal(parse(a, "(c0) \"quoted id\" (c1) ; (c2) "
	    "dkim (c3) / 1 = (c4) fail (c5) reason = \"bad \\\"sig\\\"\" "
	    "header (x) . (y) d = example.com (c6) header.i=\"a b\"@x.example",
	    &h), 0);
	assert_string_equal(h.authserv_id, "quoted id");
	assert_int_equal(h.results[0].method_version, 1);
	assert_string_equal(h.results[0].result, "fail");
	assert_string_equal(h.results[0].reason, "bad \"sig\"");
	assert_string_equal(h.results[0].comment, "c5");
	assert_string_equal(h.results[0].props[0].comment, "c6");
	assert_string_equal(authres_prop_get(&h.results[0], "header", "i"),
	    "a b@x.example");
	/* nested comment, case folded */
	assert_int_equal(parse(a, "x; SPF=PASS (a (nested) one) "
	    "SMTP.MailFrom=u@x.example;", &h), 0);
	assert_string_equal(h.results[0].method, "spf");
	assert_string_equal(h.results[0].result, "pass");
	assert_string_equal(h.results[0].comment, "a (nested) one");
	assert_string_equal(authres_prop_get(&h.results[0], "smtp",
	    "mailfrom"), "u@x.example");
	arena_free(a);
}

static void
test_parse_errors(void **state)
{
	struct arena *a = arena_new(0);
	struct authres_header h;
	static const char *const bad[] = {
		"", "   ", "example.org", "example.org; ", ";spf=pass",
		"x; spf", "x; spf=", "x; =pass", "x; spf=pass smtp",
		"x; spf=pass smtp.", "x; spf=pass smtp.mailfrom",
		"x; spf=pass (unterminated", "x; spf=pass \"q",
		"x; none; spf=pass", "x; spf=pass reason=a reason=b",
		"x; spf=pass smtp.mailfrom=a reason=late",
		"x; dkim/=pass", "x; spf=pass }", "x spf=pass",
		"x; spf=pass;;", "x; spf=pass)",
	};
	size_t i;
	char deep[300];

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(a, bad[i], &h) == 0)
			fail_msg("'%s' should not parse", bad[i]);
	memset(deep, '(', sizeof(deep));
	memcpy(deep, "x; ", 3);
	deep[sizeof(deep) - 1] = '\0';
	assert_int_equal(parse(a, deep, &h), -1);
	arena_free(a);
}

static void
test_parse_arc(void **state)
{
	struct arena *a = arena_new(0);
	struct authres_header h;
	unsigned inst = 0;
	const char *why = NULL;
	const char *s = " i=2; lists.example.org;\r\n\tspf=pass "
	    "smtp.mailfrom=jqd@d1.example; dkim=pass header.i=@d1.example";

	(void)state;
	assert_int_equal(authres_parse_arc(s, strlen(s), a, &inst, &h, &why),
	    0);
	assert_int_equal(inst, 2);
	assert_string_equal(h.authserv_id, "lists.example.org");
	assert_int_equal(h.n, 2);
	assert_string_equal(authres_prop_get(&h.results[1], "header", "i"),
	    "@d1.example");
	assert_int_equal(authres_parse_arc("x; spf=pass", 11, a, &inst, &h,
	    &why), -1);
	assert_int_equal(authres_parse_arc("i=; x; spf=pass", 15, a, &inst,
	    &h, &why), -1);
	arena_free(a);
}

static void
test_authserv_id(void **state)
{
	char id[64];

	(void)state;
	assert_true(authres_authserv_id(" (c) mx.example.org; spf=pass", 29,
	    id, sizeof(id)));
	assert_string_equal(id, "mx.example.org");
	assert_false(authres_authserv_id(" ; spf=pass", 11, id, sizeof(id)));
	assert_false(authres_authserv_id(" toolong.example.org;", 21, id, 8));
}

static void
test_forgeries(void **state)
{
	static const char msg[] =
	    "Received: from x\r\n"
	    "Authentication-Results: MX.example.org; spf=pass\r\n"
	    "Authentication-Results: other.example; dkim=pass\r\n"
	    "authentication-results: (forged)\r\n mx.example.org;\r\n"
	    " dkim=pass header.d=bank.example\r\n"
	    "Subject: hi\r\n"
	    "\r\n"
	    "body\r\n";
	struct arena *a = arena_new(0);
	struct hdr_section hs;
	struct buf out = BUF_INIT;
	size_t idx[4];

	(void)state;
	hdr_parse(msg, sizeof(msg) - 1, a, &hs);
	assert_int_equal(authres_find_ours(&hs, "mx.example.org", idx, 4), 2);
	assert_int_equal(idx[0], 1);
	assert_int_equal(idx[1], 3);
	assert_int_equal(authres_strip_ours(msg, sizeof(msg) - 1, &hs,
	    "mx.example.org", AUTHRES_STRIP_DELETE, &out), 2);
	assert_string_equal(out.data, "Received: from x\r\n"
	    "Authentication-Results: other.example; dkim=pass\r\n"
	    "Subject: hi\r\n\r\nbody\r\n");
	buf_reset(&out);
	assert_int_equal(authres_strip_ours(msg, sizeof(msg) - 1, &hs,
	    "mx.example.org", AUTHRES_STRIP_RENAME, &out), 2);
	assert_non_null(strstr(out.data, "X-Forged-Authentication-Results: "
	    "MX.example.org; spf=pass\r\n"));
	assert_non_null(strstr(out.data, "X-Forged-Authentication-Results: "
	    "(forged)\r\n mx.example.org;\r\n dkim=pass"));
	assert_int_equal(authres_find_ours(&hs, "nobody.example", idx, 4), 0);
	buf_free(&out);
	arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_fold),
		cmocka_unit_test(test_render_none_and_prefix),
		cmocka_unit_test(test_parse_rfc_examples),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_arc),
		cmocka_unit_test(test_authserv_id),
		cmocka_unit_test(test_forgeries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
