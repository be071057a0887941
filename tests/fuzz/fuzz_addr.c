/*
 * Fuzz target for core/addr: both parsers under every flag combination,
 * plus addr_domain_to_ascii. An accepted address must format into
 * ADDR_STRLEN and, when the result still fits the path limit, parse back
 * to the very same struct; anything else aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FLAG_COMBINATIONS	8	/* every subset of the three flags */

static void
check_reparse(const struct mailaddr *a, unsigned flags, bool as_path)
{
	char text[ADDR_STRLEN], path[ADDR_STRLEN + 2];
	struct mailaddr again;
	const char *reason;
	size_t len;
	int rc;

	if (addr_format(a, text, sizeof(text)) == NULL)
		abort();
	len = strlen(text);
	if (len > ADDR_PATH_MAX)
		return;
	if (as_path) {
		path[0] = '<';
		memcpy(path + 1, text, len);
		path[len + 1] = '>';
		rc = addr_parse_path(path, len + 2, flags, &again, &reason);
	} else
		rc = addr_parse_addrspec(text, len, flags, &again, &reason);
	if (rc != 0 || memcmp(a, &again, sizeof(again)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *reason;
	char domain[ADDR_DOMAIN_MAX + 1];
	struct mailaddr a;
	unsigned flags;

	for (flags = 0; flags < FLAG_COMBINATIONS; flags++) {
		reason = NULL;
		if (addr_parse_path(s, size, flags, &a, &reason) == 0)
			check_reparse(&a, flags, true);
		else if (reason == NULL)
			abort();
		reason = NULL;
		if (addr_parse_addrspec(s, size, flags, &a, &reason) == 0)
			check_reparse(&a, flags, false);
		else if (reason == NULL)
			abort();
	}
	if (addr_domain_to_ascii(s, size, domain, sizeof(domain), &reason) == 0
	    && strlen(domain) > ADDR_DOMAIN_MAX)
		abort();
	return 0;
}
