/*
 * Unit tests for deliver/local: users and virtual domains, case, sub-
 * addressing with "+" and "-", aliases (one to many, nested, remote,
 * self-reference, loops), postmaster (RFC 5321 4.5.1), catch-all, and a
 * few relay-battery shapes that must never match a local user.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "deliver/local.h"

struct fixture {
	struct local_table	*t;
	struct arena		*a;
	struct local_result	 r;
};

static void
must(int rc, const char *why)
{
	if (rc != 0)
		fail_msg("table: %s", why ? why : "?");
}

/* example.test and example.net; alice, bob, john-doe, carol@net. */
static struct local_table *
base_table(void)
{
	struct local_table *t = local_table_new("/var/mail");
	const char *why = NULL;
	static const char *const sales[] = { "alice", "bob@example.test" };
	static const char *const team[] = { "sales", "carol@example.net",
	    "partner@elsewhere.example" };

	must(local_table_add_domain(t, "example.test", NULL, &why), why);
	must(local_table_add_domain(t, "Example.NET", NULL, &why), why);
	must(local_table_add_user(t, "alice@example.test", NULL, &why), why);
	must(local_table_add_user(t, "Bob@example.test", NULL, &why), why);
	must(local_table_add_user(t, "john-doe@example.test", NULL, &why), why);
	must(local_table_add_user(t, "carol@example.net", "/srv/mail/carol",
	    &why), why);
	must(local_table_add_alias(t, "sales@example.test", sales, 2, &why),
	    why);
	must(local_table_add_alias(t, "team@example.test", team, 3, &why),
	    why);
	return t;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *why = NULL;

	f->t = base_table();
	must(local_table_seal(f->t, &why), why);
	f->a = arena_new(0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	local_table_free(f->t);
	arena_free(f->a);
	free(f);
	return 0;
}

static enum local_status
res(struct fixture *f, const char *local, const char *domain)
{
	return local_resolve(f->t, local, domain, f->a, &f->r);
}

static void
test_users_and_case(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(res(f, "alice", "example.test"), LOCAL_FOUND);
	assert_int_equal(f->r.ndests, 1);
	assert_int_equal(f->r.nremote, 0);
	assert_string_equal(f->r.dests[0].user, "alice@example.test");
	assert_string_equal(f->r.dests[0].maildir,
	    "/var/mail/example.test/alice");
	assert_string_equal(f->r.dests[0].folder, "");
	assert_string_equal(f->r.dests[0].detail, "");

	assert_int_equal(res(f, "ALICE", "example.test"), LOCAL_FOUND);
	assert_string_equal(f->r.dests[0].user, "alice@example.test");
	assert_int_equal(res(f, "bob", "example.test"), LOCAL_FOUND);
	assert_string_equal(f->r.dests[0].user, "bob@example.test");
	assert_string_equal(f->r.dests[0].maildir, "/var/mail/example.test/bob");
	assert_int_equal(res(f, "Carol", "example.net"), LOCAL_FOUND);
	assert_string_equal(f->r.dests[0].maildir, "/srv/mail/carol");

	/* Users are per domain. */
	assert_int_equal(res(f, "alice", "example.net"), LOCAL_UNKNOWN);
	assert_int_equal(res(f, "mallory", "example.test"), LOCAL_UNKNOWN);
	assert_int_equal(res(f, "alice", "elsewhere.example"),
	    LOCAL_NOT_LOCAL);
	assert_int_equal(res(f, "alice", ""), LOCAL_UNKNOWN);
	assert_true(local_table_is_local_domain(f->t, "example.net"));
	assert_false(local_table_is_local_domain(f->t, "example.org"));
}

static void
test_subaddress_plus(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(res(f, "alice+Lists", "example.test"), LOCAL_FOUND);
	assert_string_equal(f->r.dests[0].user, "alice@example.test");
	assert_string_equal(f->r.dests[0].detail, "Lists");	/* case kept */
	assert_int_equal(res(f, "alice+", "example.test"), LOCAL_FOUND);
	assert_string_equal(f->r.dests[0].detail, "");
	assert_int_equal(res(f, "alice+a+b", "example.test"), LOCAL_FOUND);
	assert_string_equal(f->r.dests[0].detail, "a+b");
	assert_int_equal(res(f, "john-doe+x", "example.test"), LOCAL_FOUND);
	assert_string_equal(f->r.dests[0].user, "john-doe@example.test");
	/* "-" is not a separator by default. */
	assert_int_equal(res(f, "alice-lists", "example.test"), LOCAL_UNKNOWN);
	/* An empty base is not a user. */
	assert_int_equal(res(f, "+alice", "example.test"), LOCAL_UNKNOWN);
	/* An alias with a detail expands like the alias. */
	assert_int_equal(res(f, "sales+q3", "example.test"), LOCAL_FOUND);
	assert_int_equal(f->r.ndests, 2);
}

static void
test_subaddress_separators(void **state)
{
	struct local_table *t = base_table();
	struct arena *a = arena_new(0);
	struct local_result r;
	const char *why = NULL;

	(void)state;
	assert_int_equal(local_table_set_separators(t, "a", &why), -1);
	assert_int_equal(local_table_set_separators(t, "@", &why), -1);
	must(local_table_set_separators(t, "+-", &why), why);
	must(local_table_seal(t, &why), why);
	assert_int_equal(local_resolve(t, "alice-lists", "example.test", a,
	    &r), LOCAL_FOUND);
	assert_string_equal(r.dests[0].detail, "lists");
	/* The user with a separator in the name is found first. */
	assert_int_equal(local_resolve(t, "john-doe", "example.test", a, &r),
	    LOCAL_FOUND);
	assert_string_equal(r.dests[0].user, "john-doe@example.test");
	assert_string_equal(r.dests[0].detail, "");
	/* Longest existing base: john-doe, not john (who does not exist). */
	assert_int_equal(local_resolve(t, "john-doe-news", "example.test", a,
	    &r), LOCAL_FOUND);
	assert_string_equal(r.dests[0].user, "john-doe@example.test");
	assert_string_equal(r.dests[0].detail, "news");
	assert_int_equal(local_resolve(t, "alice+x-y", "example.test", a, &r),
	    LOCAL_FOUND);
	assert_string_equal(r.dests[0].user, "alice@example.test");
	assert_string_equal(r.dests[0].detail, "x-y");
	assert_int_equal(local_resolve(t, "john", "example.test", a, &r),
	    LOCAL_UNKNOWN);
	local_table_free(t);

	/* Subaddressing off. */
	t = base_table();
	must(local_table_set_separators(t, "", &why), why);
	must(local_table_seal(t, &why), why);
	assert_int_equal(local_resolve(t, "alice+x", "example.test", a, &r),
	    LOCAL_UNKNOWN);
	local_table_free(t);
	arena_free(a);
}

static void
test_aliases_expand(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(res(f, "Sales", "example.test"), LOCAL_FOUND);
	assert_int_equal(f->r.ndests, 2);
	assert_string_equal(f->r.dests[0].user, "alice@example.test");
	assert_string_equal(f->r.dests[1].user, "bob@example.test");

	/* Nested, across domains, with a remote target; no duplicates. */
	assert_int_equal(res(f, "team", "example.test"), LOCAL_FOUND);
	assert_int_equal(f->r.ndests, 3);
	assert_string_equal(f->r.dests[0].user, "alice@example.test");
	assert_string_equal(f->r.dests[1].user, "bob@example.test");
	assert_string_equal(f->r.dests[2].user, "carol@example.net");
	assert_int_equal(f->r.nremote, 1);
	assert_string_equal(f->r.remote[0], "partner@elsewhere.example");
}

static void
test_alias_diamond_and_self(void **state)
{
	struct local_table *t = base_table();
	struct arena *a = arena_new(0);
	struct local_result r;
	const char *why = NULL;
	static const char *const both[] = { "sales", "alice", "bob+x" };
	static const char *const keep[] = { "alice", "archive@example.net" };
	static const char *const arch[] = { "carol@example.net" };
	static const char *const ghost[] = { "ghost" };

	(void)state;
	must(local_table_add_alias(t, "both@example.test", both, 3, &why), why);
	/* alice keeps her own copy and sends one to the archive. */
	must(local_table_add_alias(t, "alice@example.test", keep, 2, &why),
	    why);
	must(local_table_add_alias(t, "archive@example.net", arch, 1, &why),
	    why);
	must(local_table_add_alias(t, "ghost@example.test", ghost, 1, &why),
	    why);
	must(local_table_seal(t, &why), why);

	assert_int_equal(local_resolve(t, "alice", "example.test", a, &r),
	    LOCAL_FOUND);
	assert_int_equal(r.ndests, 2);
	assert_string_equal(r.dests[0].user, "alice@example.test");
	assert_string_equal(r.dests[1].user, "carol@example.net");

	assert_int_equal(local_resolve(t, "both", "example.test", a, &r),
	    LOCAL_FOUND);
	assert_int_equal(r.ndests, 3);	/* alice once, bob once, carol */

	/* An alias naming itself without a user behind it is broken. */
	assert_int_equal(local_resolve(t, "ghost", "example.test", a, &r),
	    LOCAL_BROKEN);
	local_table_free(t);
	arena_free(a);
}

static void
test_alias_loops(void **state)
{
	struct local_table *t = local_table_new("/var/mail");
	struct arena *a = arena_new(0);
	struct local_result r;
	const char *why = NULL;
	static const char *const to_b[] = { "b" }, *const to_c[] = { "c" };
	static const char *const to_a[] = { "a", "real" };
	static const char *const to_nobody[] = { "nobody" };
	char name[32], next[32];
	const char *tp[1];
	int i;

	(void)state;
	must(local_table_add_domain(t, "example.test", NULL, &why), why);
	must(local_table_add_user(t, "real@example.test", NULL, &why), why);
	must(local_table_add_alias(t, "a@example.test", to_b, 1, &why), why);
	must(local_table_add_alias(t, "b@example.test", to_c, 1, &why), why);
	must(local_table_add_alias(t, "c@example.test", to_a, 2, &why), why);
	must(local_table_add_alias(t, "dangling@example.test", to_nobody, 1,
	    &why), why);
	/* A chain deeper than the limit, without a cycle. */
	for (i = 0; i < LOCAL_ALIAS_DEPTH_MAX + 2; i++) {
		snprintf(name, sizeof(name), "d%d@example.test", i);
		snprintf(next, sizeof(next), "d%d", i + 1);
		tp[0] = next;
		must(local_table_add_alias(t, name, tp, 1, &why), why);
	}
	snprintf(name, sizeof(name), "d%d@example.test", i);
	must(local_table_add_user(t, name, NULL, &why), why);
	must(local_table_seal(t, &why), why);

	assert_int_equal(local_resolve(t, "a", "example.test", a, &r),
	    LOCAL_LOOP);
	assert_string_equal(r.reason, "alias loop");
	assert_int_equal(local_resolve(t, "c", "example.test", a, &r),
	    LOCAL_LOOP);
	assert_int_equal(local_resolve(t, "d0", "example.test", a, &r),
	    LOCAL_LOOP);
	assert_string_equal(r.reason, "aliases nested too deep");
	assert_int_equal(local_resolve(t, "d5", "example.test", a, &r),
	    LOCAL_FOUND);
	/* A target that resolves to nobody: a table error, not a bounce. */
	assert_int_equal(local_resolve(t, "dangling", "example.test", a, &r),
	    LOCAL_BROKEN);
	assert_non_null(strstr(r.reason, "nobody@example.test"));
	local_table_free(t);
	arena_free(a);
}

static void
test_postmaster_always_resolves(void **state)
{
	struct fixture *f = *state;
	struct local_table *t;
	struct local_result r;
	const char *why = NULL;
	static const char *const pm[] = { "alice" };

	assert_int_equal(res(f, "postmaster", "example.test"), LOCAL_FOUND);
	assert_string_equal(f->r.dests[0].user, "postmaster@example.test");
	assert_string_equal(f->r.dests[0].maildir,
	    "/var/mail/example.test/postmaster");
	assert_int_equal(res(f, "PostMaster", "example.net"), LOCAL_FOUND);
	assert_string_equal(f->r.dests[0].user, "postmaster@example.net");
	/* "<postmaster>" without a domain: the first domain configured. */
	assert_int_equal(res(f, "POSTMASTER", ""), LOCAL_FOUND);
	assert_string_equal(f->r.dests[0].user, "postmaster@example.test");
	assert_int_equal(res(f, "postmaster", NULL), LOCAL_FOUND);
	assert_int_equal(res(f, "postmaster+x", "example.test"), LOCAL_UNKNOWN);

	/* An alias by that name wins over the own mailbox: the way to send
	 * postmaster to a person. */
	t = base_table();
	must(local_table_add_alias(t, "postmaster@example.test", pm, 1, &why),
	    why);
	must(local_table_seal(t, &why), why);
	assert_int_equal(local_resolve(t, "postmaster", "example.test", f->a,
	    &r), LOCAL_FOUND);
	assert_string_equal(r.dests[0].user, "alice@example.test");
	local_table_free(t);
}

static void
test_catchall(void **state)
{
	struct fixture *f = *state;
	struct local_table *t;
	struct local_result r;
	const char *why = NULL;
	static const char *const to_unknown[] = { "nosuchuser" };

	/* Off by default. */
	assert_int_equal(res(f, "anything", "example.test"), LOCAL_UNKNOWN);

	t = local_table_new("/var/mail");
	must(local_table_add_domain(t, "example.test", "alice", &why), why);
	must(local_table_add_user(t, "alice@example.test", NULL, &why), why);
	must(local_table_add_user(t, "bob@example.test", NULL, &why), why);
	must(local_table_add_alias(t, "typo@example.test", to_unknown, 1,
	    &why), why);
	must(local_table_seal(t, &why), why);
	assert_int_equal(local_resolve(t, "whoever", "example.test", f->a, &r),
	    LOCAL_FOUND);
	assert_string_equal(r.dests[0].user, "alice@example.test");
	assert_int_equal(local_resolve(t, "bob", "example.test", f->a, &r),
	    LOCAL_FOUND);
	assert_string_equal(r.dests[0].user, "bob@example.test");
	/* The catch-all does not hide a broken alias. */
	assert_int_equal(local_resolve(t, "typo", "example.test", f->a, &r),
	    LOCAL_BROKEN);
	local_table_free(t);
}

/* Shapes from the relay battery: none of them is alice. */
static void
test_relay_shapes_are_not_users(void **state)
{
	struct fixture *f = *state;
	static const char *const locals[] = {
		"alice%elsewhere.example", "alice!elsewhere.example",
		"alice@elsewhere.example", "elsewhere.example!alice",
		"@example.test:alice", "alice.", ".alice", "alice/../bob",
		"alice ", " alice", "\"alice\"",
	};
	size_t i;

	for (i = 0; i < sizeof(locals) / sizeof(*locals); i++) {
		if (res(f, locals[i], "example.test") != LOCAL_UNKNOWN)
			fail_msg("\"%s\" resolved", locals[i]);
	}
}

static void
test_table_validation(void **state)
{
	struct local_table *t = local_table_new("/var/mail");
	const char *why = NULL;
	static const char *const none[] = { "x" };
	static const char *const badt[] = { "a/b" };

	(void)state;
	assert_int_equal(local_table_add_domain(t, "bad domain", NULL, &why),
	    -1);
	assert_int_equal(local_table_add_domain(t, "a..b", NULL, &why), -1);
	assert_int_equal(local_table_add_domain(t, "example.test", "a/b",
	    &why), -1);
	assert_int_equal(local_table_add_user(t, "../x@example.test", NULL,
	    &why), -1);
	assert_int_equal(local_table_add_user(t, "a/b@example.test", NULL,
	    &why), -1);
	assert_int_equal(local_table_add_user(t, ".hidden@example.test", NULL,
	    &why), -1);
	assert_int_equal(local_table_add_user(t, "nodomain", NULL, &why), -1);
	assert_int_equal(local_table_add_alias(t, "x@example.test", none, 0,
	    &why), -1);
	assert_int_equal(local_table_add_alias(t, "x@example.test", badt, 1,
	    &why), -1);
	local_table_free(t);

	/* A user outside every local domain, a duplicate. */
	t = local_table_new("/var/mail");
	must(local_table_add_domain(t, "example.test", NULL, &why), why);
	must(local_table_add_user(t, "a@example.org", NULL, &why), why);
	assert_int_equal(local_table_seal(t, &why), -1);
	assert_string_equal(why, "user in a domain that is not local");
	local_table_free(t);
	t = local_table_new("/var/mail");
	must(local_table_add_domain(t, "example.test", NULL, &why), why);
	must(local_table_add_user(t, "a@example.test", NULL, &why), why);
	must(local_table_add_user(t, "A@Example.Test", NULL, &why), why);
	assert_int_equal(local_table_seal(t, &why), -1);
	assert_string_equal(why, "duplicate user");
	local_table_free(t);
	/* No mail root cannot make Maildir paths; a relative one (the
	 * server runs in its data directory) can. */
	t = local_table_new("");
	must(local_table_add_domain(t, "example.test", NULL, &why), why);
	assert_int_equal(local_table_add_user(t, "a@example.test", NULL, &why),
	    -1);
	local_table_free(t);
	t = local_table_new("mail");
	must(local_table_add_domain(t, "example.test", NULL, &why), why);
	must(local_table_add_user(t, "a@example.test", NULL, &why), why);
	must(local_table_seal(t, &why), why);
	local_table_free(t);
}

static void
test_many_users(void **state)
{
	struct local_table *t = local_table_new("/var/mail");
	struct arena *a = arena_new(0);
	struct local_result r;
	const char *why = NULL;
	char addr[64], local[32];
	int i;

	(void)state;
	must(local_table_add_domain(t, "example.test", NULL, &why), why);
	for (i = 0; i < 20000; i++) {
		snprintf(addr, sizeof(addr), "user%d@example.test", i);
		must(local_table_add_user(t, addr, NULL, &why), why);
	}
	must(local_table_seal(t, &why), why);
	for (i = 0; i < 20000; i += 997) {
		snprintf(local, sizeof(local), "USER%d+tag", i);
		assert_int_equal(local_resolve(t, local, "example.test", a, &r),
		    LOCAL_FOUND);
		snprintf(addr, sizeof(addr), "user%d@example.test", i);
		assert_string_equal(r.dests[0].user, addr);
	}
	assert_int_equal(local_resolve(t, "user20000", "example.test", a, &r),
	    LOCAL_UNKNOWN);
	local_table_free(t);
	arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_users_and_case, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_subaddress_plus, setup,
		    teardown),
		cmocka_unit_test(test_subaddress_separators),
		cmocka_unit_test_setup_teardown(test_aliases_expand, setup,
		    teardown),
		cmocka_unit_test(test_alias_diamond_and_self),
		cmocka_unit_test(test_alias_loops),
		cmocka_unit_test_setup_teardown(test_postmaster_always_resolves,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_catchall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_shapes_are_not_users,
		    setup, teardown),
		cmocka_unit_test(test_table_validation),
		cmocka_unit_test(test_many_users),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
