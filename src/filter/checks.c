/*
 * checks — the list. See checks.h.
 */
#include "filter/checks.h"

/* DMARC comes after SPF and DKIM: it builds on their facts. */
const struct check *const checks_all[] = {
	&check_iprev,
	&check_spf,
	&check_dkim,
	&check_dmarc,
	&check_arc,
};

const size_t checks_n = sizeof(checks_all) / sizeof(checks_all[0]);
