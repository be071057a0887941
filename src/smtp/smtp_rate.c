/*
 * smtp_rate — how long one DATA or BDAT transfer may take. See
 * smtp_rate.h.
 *
 * The average rate octets / elapsed falls below min_rate exactly when
 * elapsed_ms > octets * 1000 / min_rate (integer division: for whole
 * numbers, r * e > B holds iff e > floor(B / r)). That quotient is the
 * transfer's "budget": the moment it becomes too slow unless more
 * octets arrive, which is also when the timer must fire next. Computed
 * this way nothing overflows for any octet count a message can have.
 */
#include "smtp/smtp_rate.h"

/* The last millisecond at which octets still make min_rate on average. */
static uint64_t
smtp_rate_budget_ms(uint64_t octets, uint64_t min_rate)
{
	if (octets > UINT64_MAX / 1000)
		return UINT64_MAX / min_rate;
	return octets * 1000 / min_rate;
}

enum smtp_rate_verdict
smtp_rate_check(const struct smtp_rate_limits *l, uint64_t elapsed_ms,
    uint64_t octets, uint64_t *next_ms)
{
	uint64_t next = 0, budget;

	*next_ms = 0;
	if (l->deadline_ms != 0) {
		if (elapsed_ms >= l->deadline_ms)
			return SMTP_RATE_DEADLINE;
		next = l->deadline_ms;
	}
	if (l->min_rate != 0) {
		budget = smtp_rate_budget_ms(octets, l->min_rate);
		if (elapsed_ms >= l->grace_ms && elapsed_ms > budget)
			return SMTP_RATE_TOO_SLOW;
		/* the first moment past both the grace and the budget:
		 * later than elapsed_ms, as the check above did not fire */
		budget = budget == UINT64_MAX ? UINT64_MAX : budget + 1;
		if (budget < l->grace_ms)
			budget = l->grace_ms;
		if (next == 0 || budget < next)
			next = budget;
	}
	*next_ms = next;
	return SMTP_RATE_OK;
}

const char *
smtp_rate_verdict_name(enum smtp_rate_verdict v)
{
	switch (v) {
	case SMTP_RATE_OK:
		return "ok";
	case SMTP_RATE_TOO_SLOW:
		return "too-slow";
	case SMTP_RATE_DEADLINE:
		return "deadline";
	}
	return "ok";
}
