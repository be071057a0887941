/*
 * test_dns_unbound — the settings the libunbound backend gives a context:
 * the production resolver (no nameserver) gets none of the test settings
 * (loopback servers, private zones) and does get the root trust anchor;
 * a nameserver, or the explicit local option, gets the test settings and
 * no trust anchor unless one is given. Also that a resolver with each set
 * of settings can be created (libunbound accepts them).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>
#include <string.h>
#include <unistd.h>

#include "dns/dns.h"

static const char *test_settings[] = { "do-not-query-localhost:",
    "unblock-lan-zones:", "insecure-lan-zones:", "zone-remove", NULL };

/* The value of setting name, or NULL when the list does not have it. */
static const char *
setting(const struct dns_options *o, const char *name)
{
	struct dns_unbound_setting set[DNS_UNBOUND_SETTINGS_MAX];
	size_t n, i;

	n = dns_unbound_settings(o, set, DNS_UNBOUND_SETTINGS_MAX);
	assert_true(n <= DNS_UNBOUND_SETTINGS_MAX);
	for (i = 0; i < n; i++)
		if (strcmp(set[i].name, name) == 0)
			return set[i].value;
	return NULL;
}

static void
production_has_no_test_settings(void **state)
{
	struct dns_options o;
	size_t i;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.cache = true;
	o.trust_anchor = DNS_ROOT_KEY;
	for (i = 0; test_settings[i] != NULL; i++)
		assert_null(setting(&o, test_settings[i]));
	assert_string_equal(setting(&o, "trust-anchor-file:"), DNS_ROOT_KEY);
	/* an empty nameserver is "none", as the config writes it */
	o.nameserver = "";
	for (i = 0; test_settings[i] != NULL; i++)
		assert_null(setting(&o, test_settings[i]));
}

static void
nameserver_gets_test_settings(void **state)
{
	struct dns_options o;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.nameserver = "127.0.0.1:5353";
	assert_string_equal(setting(&o, "do-not-query-localhost:"), "no");
	assert_string_equal(setting(&o, "unblock-lan-zones:"), "yes");
	assert_string_equal(setting(&o, "zone-remove"), "test.");
	assert_null(setting(&o, "trust-anchor-file:"));
	assert_string_equal(setting(&o, "msg-cache-size:"), "0");
}

static void
explicit_local_option(void **state)
{
	struct dns_options o;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.local = true;
	o.cache = true;
	assert_string_equal(setting(&o, "do-not-query-localhost:"), "no");
	assert_null(setting(&o, "msg-cache-size:"));
}

static void
count_past_max(void **state)
{
	struct dns_unbound_setting one[1];
	struct dns_options o;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.local = true;
	assert_true(dns_unbound_settings(&o, one, 1) > 1);
	assert_string_equal(one[0].name, "infra-keep-probing:");
}

/* libunbound takes every setting: creating the resolver succeeds. */
static void
contexts_accept_settings(void **state)
{
	struct event_base *base = event_base_new();
	struct dns_resolver *r;
	struct dns_options o;
	const char *err = NULL;

	(void)state;
	memset(&o, 0, sizeof(o));
	r = dns_unbound_new(base, &o, &err);	/* root key if installed */
	assert_non_null(r);
	dns_resolver_free(r);
	if (access(DNS_ROOT_KEY, R_OK) == 0) {
		o.trust_anchor = DNS_ROOT_KEY;
		r = dns_unbound_new(base, &o, &err);
		assert_non_null(r);
		dns_resolver_free(r);
	}
	o.trust_anchor = NULL;
	o.nameserver = "127.0.0.1:5353";
	r = dns_unbound_new(base, &o, &err);
	assert_non_null(r);
	dns_resolver_free(r);
	o.trust_anchor = "/nonexistent/root.key";
	assert_null(dns_unbound_new(base, &o, &err));
	assert_non_null(err);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(production_has_no_test_settings),
		cmocka_unit_test(nameserver_gets_test_settings),
		cmocka_unit_test(explicit_local_option),
		cmocka_unit_test(count_past_max),
		cmocka_unit_test(contexts_accept_settings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
