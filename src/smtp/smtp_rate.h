/*
 * smtp_rate — how long one DATA or BDAT transfer may take.
 *
 * A client that trickles its message keeps a session and a spool file
 * open for as long as it likes unless something other than the idle
 * timeout watches it (slowloris). Two limits apply to one transfer:
 * a total deadline (10 minutes by default, the time RFC 5321 4.5.3.2.6
 * has a client wait for the reply to the final dot) and, after a grace
 * period, a minimum average rate over the whole transfer. This module
 * is only the arithmetic: given the time since the transfer began and
 * the octets read so far, is it too slow, and when must it be looked
 * at again. The session runs a libevent timer for that moment, so
 * nothing polls.
 *
 * Times are whole milliseconds, octets and rates whole numbers, so the
 * verdict at a boundary is exact (no rounding decides it). Pure: no
 * clock, no I/O.
 */
#ifndef NETJES_SMTP_SMTP_RATE_H
#define NETJES_SMTP_SMTP_RATE_H

#include <stdint.h>

struct smtp_rate_limits {
	uint64_t	deadline_ms;	/* the whole transfer; 0: none */
	uint64_t	grace_ms;	/* no rate check before this */
	uint64_t	min_rate;	/* octets per second; 0: none */
};

enum smtp_rate_verdict {
	SMTP_RATE_OK = 0,
	SMTP_RATE_TOO_SLOW,	/* the average fell below min_rate */
	SMTP_RATE_DEADLINE,	/* deadline_ms passed */
};

/*
 * The verdict for a transfer that has run elapsed_ms and read octets.
 * With SMTP_RATE_OK, *next_ms is the elapsed time at which the verdict
 * can change if no more octets come (always > elapsed_ms), or 0 when it
 * never can (both limits off).
 */
enum smtp_rate_verdict	smtp_rate_check(const struct smtp_rate_limits *,
			    uint64_t elapsed_ms, uint64_t octets,
			    uint64_t *next_ms);

/* "too-slow", "deadline" or "ok", for logs. */
const char		*smtp_rate_verdict_name(enum smtp_rate_verdict);

#endif
