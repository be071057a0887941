/*
 * strnum — numbers in untrusted text, read one strict way.
 *
 * Every format netjes parses (queue envelopes, CIDR prefixes, zone
 * files, SMTP xtext) wants the same two things: a hex digit of either
 * case, and a decimal number without sign, space or leading zero that
 * fits a bound. Pure functions over a pointer and a length: no locale,
 * no errno, no NUL needed (unlike strtoul, which takes "+1", " 1" and
 * "0x1").
 */
#ifndef NETJES_CORE_STRNUM_H
#define NETJES_CORE_STRNUM_H

#include <stddef.h>
#include <stdint.h>

/* 0..15 for [0-9a-fA-F], else -1. */
int	strnum_hex_digit(int c);

/*
 * s[0..n) as "0" or [1-9][0-9]*, at most max: 0 with *out set, or -1
 * (empty, another character, a leading zero, above max; *out is left).
 */
int	strnum_decimal(const char *s, size_t n, uint64_t max, uint64_t *out);

#endif
