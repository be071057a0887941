/*
 * dmarc_record — the DMARC policy record, RFC 7489 6.3 and 6.4, plus
 * the np tag of DMARCbis (policy for non-existent subdomains).
 *
 * dmarc_record_parse() is a pure function over the TXT text. The record
 * must start with "v=DMARC1" (exact case); anything else is not a DMARC
 * record and is skipped by discovery. Tag names are case-insensitive,
 * unknown tags are ignored, and invalid values of optional tags fall
 * back to their defaults (6.3: "syntax errors in the remainder of the
 * record SHOULD be discarded in favor of default values"). A missing or
 * invalid p (or an invalid sp) makes the record invalid, except for the
 * fallback of 6.6.3: when rua holds at least one valid URI the record is
 * treated as "p=none" (rua_fallback set).
 */
#ifndef NETJES_AUTH_DMARC_RECORD_H
#define NETJES_AUTH_DMARC_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"

enum dmarc_policy {
	DMARC_POLICY_UNSET = 0,	/* tag absent */
	DMARC_POLICY_NONE,
	DMARC_POLICY_QUARANTINE,
	DMARC_POLICY_REJECT,
};

enum dmarc_align {
	DMARC_ALIGN_RELAXED = 0,
	DMARC_ALIGN_STRICT,
};

enum dmarc_record_status {
	DMARC_RECORD_OK = 0,
	DMARC_RECORD_NOT_DMARC,	/* does not start with v=DMARC1 */
	DMARC_RECORD_INVALID,	/* v=DMARC1, but unusable */
};

#define DMARC_MAX_URIS	8

struct dmarc_record {
	enum dmarc_policy	 p;	/* never UNSET when OK */
	enum dmarc_policy	 sp;	/* UNSET: as p */
	enum dmarc_policy	 np;	/* UNSET: as sp */
	enum dmarc_align	 adkim, aspf;
	unsigned		 pct;	/* 0..100, default 100 */
	unsigned long		 ri;	/* default 86400 */
	const char		*fo;	/* default "0" */
	const char		*rf;	/* default "afrf" */
	const char		*rua[DMARC_MAX_URIS];
	size_t			 nrua;
	const char		*ruf[DMARC_MAX_URIS];
	size_t			 nruf;
	bool			 rua_fallback;	/* p missing or invalid, acted
						 * as p=none because of rua */
	/* Tags whose values were invalid and replaced by defaults, as
	 * "pct=200 adkim=x", for the explanation; NULL when none. */
	const char		*ignored;
};

enum dmarc_record_status dmarc_record_parse(const char *p, size_t n,
	    struct arena *, struct dmarc_record *out, const char **reason);

const char	*dmarc_policy_name(enum dmarc_policy);	/* "reject", ... */

#endif
