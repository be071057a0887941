/*
 * checks — the list. See checks.h.
 */
#include "filter/checks.h"

#include "core/config.h"
#include "filter/verdict.h"

/* DMARC comes after SPF and DKIM: it builds on their facts. */
const struct check *const checks_all[] = {
	&check_iprev,
	&check_spf,
	&check_dkim,
	&check_dmarc,
	&check_arc,
};

const size_t checks_n = sizeof(checks_all) / sizeof(checks_all[0]);

void
checks_verdict_policy(const struct config *cfg, struct verdict_policy *p)
{
	p->add_header = cfg->verdict_add_header;
	p->junk = cfg->verdict_junk;
	p->tempfail = cfg->verdict_tempfail;
	p->reject = cfg->verdict_reject;
}
