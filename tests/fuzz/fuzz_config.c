/*
 * fuzz_config — configuration text from anywhere must never crash the
 * loader, and whatever it accepts must survive a round trip: written
 * back with config_write_ini() and loaded again, it gives the same
 * configuration (unless the writer had to make a line longer than a key
 * line may be, which only very long paths can cause).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static bool
fuzz_has_long_line(const char *s)
{
	const char *nl;

	for (; *s != '\0'; s = nl + 1) {
		if ((nl = strchr(s, '\n')) == NULL)
			nl = s + strlen(s) - 1;
		if (nl - s > 199)
			return true;
	}
	return false;
}

static bool
fuzz_config_equal(const struct config *a, const struct config *b)
{
	size_t i;

	if (strcmp(a->hostname, b->hostname) != 0 ||
	    strcmp(a->data_dir, b->data_dir) != 0 ||
	    a->log_level != b->log_level || a->log_target != b->log_target ||
	    strcmp(a->tls_cert, b->tls_cert) != 0 ||
	    strcmp(a->tls_key, b->tls_key) != 0 ||
	    strcmp(a->dns_nameserver, b->dns_nameserver) != 0 ||
	    a->dns_timeout != b->dns_timeout ||
	    a->nlisteners != b->nlisteners || a->ndomains != b->ndomains)
		return false;
	for (i = 0; i < a->nlisteners; i++)
		if (strcmp(a->listeners[i].name, b->listeners[i].name) != 0 ||
		    strcmp(a->listeners[i].address,
		    b->listeners[i].address) != 0 ||
		    a->listeners[i].port != b->listeners[i].port ||
		    a->listeners[i].mode != b->listeners[i].mode)
			return false;
	for (i = 0; i < a->ndomains; i++)
		if (strcmp(a->domains[i].name, b->domains[i].name) != 0)
			return false;
	return true;
}

static void
fuzz_roundtrip(const struct config *a)
{
	struct config_errors e = { NULL, 0 };
	struct buf b = BUF_INIT;
	struct config c;

	config_write_ini(a, &b);
	config_defaults(&c);
	if (config_load_string(&c, buf_cstr(&b), b.len, "out", &e) != 0) {
		if (!fuzz_has_long_line(buf_cstr(&b)))
			abort();	/* the writer wrote what we reject */
	} else if (!fuzz_config_equal(a, &c))
		abort();		/* the round trip changed something */
	config_errors_free(&e);
	config_free(&c);
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors e = { NULL, 0 };
	struct config c;
	size_t i;

	if (size > 65536)
		return 0;
	config_defaults(&c);
	if (config_load_string(&c, (const char *)data, size, "fuzz", &e) == 0)
		fuzz_roundtrip(&c);
	else if (e.n == 0)
		abort();	/* errors are counted and listed alike */
	for (i = 0; i < e.n; i++)
		if (e.v[i].line < 0 || strlen(e.v[i].reason) == 0)
			abort();
	(void)config_is_local_domain(&c, "example.test");
	config_errors_free(&e);
	config_free(&c);
	return 0;
}
