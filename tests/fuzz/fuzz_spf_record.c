/*
 * Fuzz target for auth/spf/spf_record: spf_record_parse over arbitrary bytes.
 * Whatever parses must hold only what the grammar allows: every
 * domain-spec passes its own check again, CIDR lengths are in range, and
 * a record is never both SPF and not SPF. Anything else aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "auth/spf/spf_record.h"
#include "core/arena.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_spec(const char *spec)
{
	const char *why = NULL;

	if (spec != NULL && spf_domain_spec_check(spec, strlen(spec), &why))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	struct spf_record rec;
	const char *why = NULL;
	enum spf_parse_result r;
	size_t i;

	r = spf_record_parse(a, (const char *)data, size, &rec, &why);
	if ((r == SPF_PARSE_NOT_SPF) == spf_record_is_spf((const char *)data,
	    size))
		abort();
	if (r == SPF_PARSE_ERROR && why == NULL)
		abort();
	if (r == SPF_PARSE_OK) {
		for (i = 0; i < size; i++)
			if (data[i] < 0x20 || data[i] >= 0x7f)
				abort();
		for (i = 0; i < rec.nmechs; i++) {
			const struct spf_mech *m = &rec.mechs[i];

			if (m->text == NULL || m->cidr4 > 32 || m->cidr6 > 128)
				abort();
			check_spec(m->domain_spec);
			if ((m->kind == SPF_MECH_INCLUDE ||
			    m->kind == SPF_MECH_EXISTS) && m->domain_spec == NULL)
				abort();
			if (m->kind == SPF_MECH_IP4 &&
			    (m->net.addr.family != AF_INET || m->net.prefix > 32))
				abort();
			if (m->kind == SPF_MECH_IP6 &&
			    (m->net.addr.family != AF_INET6 ||
			    m->net.prefix > 128))
				abort();
		}
		check_spec(rec.redirect);
		check_spec(rec.exp);
	}
	arena_free(a);
	return 0;
}
