/*
 * explain — every output made from one message's findings and verdict:
 * the Authentication-Results header (RFC 8601), SpamAssassin's
 * X-Spam-* headers (so existing Sieve rules and mail clients keep
 * working), and the JSON of `netjes analyze`. Nothing here decides
 * anything: it only puts the findings and the verdict into words.
 */
#ifndef NETJES_FILTER_EXPLAIN_H
#define NETJES_FILTER_EXPLAIN_H

#include "auth/authres.h"
#include "core/buf.h"
#include "filter/finding.h"
#include "filter/verdict.h"

struct arena;
struct json;

/* The RFC 8601 results of the findings, in the order receivers and
 * people expect (iprev, spf mailfrom, spf helo, dkim, dmarc, arc, then
 * any other method in the order found). */
void	 explain_authres(const struct findings *, const char *authserv_id,
	    struct arena *, struct authres_header *out);

/*
 * X-Spam-Flag (only when marked), X-Spam-Score and X-Spam-Status in
 * SpamAssassin's format ("Yes, score=7.1 required=5.0 tests=A,B"),
 * folded, CRLF line ends, appended to out. required is the policy's
 * add_header threshold.
 */
void	 explain_spam_headers(const struct findings *, const struct verdict *,
	    double required, struct buf *out);

struct check_facts;

/* One object with what each authentication check found: iprev, spf
 * (mailfrom, helo), dkim (an array), dmarc (with policy and
 * disposition), arc, and authentication_results when it is not NULL.
 * The contract of `netjes auth --json`. */
void	 explain_facts_json(const struct check_facts *, struct json *,
	    const char *authres_text);

/* The "findings" array: symbol, score, check, reason, wants. */
void	 explain_findings_json(const struct findings *, struct json *);

#endif
