/*
 * Unit tests for smtp/sender_auth: a logged-in user owns their address,
 * its subaddresses, aliases that reach them, and nothing else (not
 * another user, not an alias that skips them, not a catch-all).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>

#include "core/arena.h"
#include "deliver/local.h"
#include "smtp/sender_auth.h"

static void
must(int rc, const char *why)
{
	if (rc != 0)
		fail_msg("table: %s", why ? why : "?");
}

static struct local_table *
table(void)
{
	struct local_table *t = local_table_new("/var/mail");
	const char *why = NULL;
	static const char *const sales[] = { "alice", "bob@example.test" };
	static const char *const boss[] = { "bob@example.test" };
	static const char *const chain[] = { "sales@example.test" };

	must(local_table_add_domain(t, "example.test", NULL, &why), why);
	must(local_table_add_domain(t, "catch.test", "bob@example.test", &why),
	    why);
	must(local_table_add_user(t, "alice@example.test", NULL, &why), why);
	must(local_table_add_user(t, "bob@example.test", NULL, &why), why);
	must(local_table_add_alias(t, "sales@example.test", sales, 2, &why),
	    why);
	must(local_table_add_alias(t, "boss@example.test", boss, 1, &why), why);
	must(local_table_add_alias(t, "all@example.test", chain, 1, &why), why);
	must(local_table_set_separators(t, "+-", &why), why);
	must(local_table_seal(t, &why), why);
	return t;
}

static bool
owns(const char *user, const char *local, const char *domain)
{
	struct local_table *t = table();
	struct arena *a = arena_new(0);
	bool r = sender_auth_owns(t, user, local, domain, a);

	arena_free(a);
	local_table_free(t);
	return r;
}

static void
test_own_address(void **state)
{
	(void)state;
	assert_true(owns("alice@example.test", "alice", "example.test"));
	assert_true(owns("alice@example.test", "Alice", "example.test"));
	assert_true(owns("Alice@Example.Test", "alice", "example.test"));
	/* not in the table, but still the login itself */
	assert_true(owns("zoe@other.test", "zoe", "other.test"));
}

static void
test_subaddress(void **state)
{
	(void)state;
	assert_true(owns("alice@example.test", "alice+lists", "example.test"));
	assert_true(owns("alice@example.test", "alice-news", "example.test"));
	assert_false(owns("alice@example.test", "bob+x", "example.test"));
}

static void
test_alias(void **state)
{
	(void)state;
	assert_true(owns("alice@example.test", "sales", "example.test"));
	assert_true(owns("bob@example.test", "sales", "example.test"));
	assert_true(owns("alice@example.test", "all", "example.test"));
	assert_false(owns("alice@example.test", "boss", "example.test"));
	assert_true(owns("bob@example.test", "boss", "example.test"));
}

static void
test_not_owned(void **state)
{
	(void)state;
	assert_false(owns("alice@example.test", "bob", "example.test"));
	assert_false(owns("alice@example.test", "alice", "example.net"));
	assert_false(owns("alice@example.test", "nobody", "example.test"));
	assert_false(owns("alice@example.test", "alice", ""));
	assert_false(owns("", "alice", "example.test"));
	/* a catch-all would give bob the whole domain */
	assert_false(owns("bob@example.test", "anything", "catch.test"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_address),
		cmocka_unit_test(test_subaddress),
		cmocka_unit_test(test_alias),
		cmocka_unit_test(test_not_owned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
