/*
 * dkim_verify — check every DKIM-Signature of one message (RFC 6376 6).
 *
 * The verifier follows the message as the SMTP server receives it:
 *
 *	v = dkim_verify_new(&opts);
 *	dkim_verify_header(v, header_section, len);	// signatures parsed
 *	dkim_verify_lookup(v, resolver, keys_done, arg);	// keys over DNS
 *	dkim_verify_body(v, chunk, n); ...		// streamed body hash
 *	(once keys_done has run) n = dkim_verify_finish(v, &results);
 *	dkim_verify_free(v);
 *
 * Memory is the header section plus a fixed amount per signature; the
 * body is never kept. Key lookups go out as soon as the header is in, in
 * parallel with the body. Instead of dkim_verify_lookup() a caller (a
 * test, a cached key) may hand in key records with dkim_verify_key().
 *
 * Each signature gets its own result (dkim.h) and, for anything but a
 * plain pass, a reason a person can read. A pass that covers only part
 * of the body (l=) is flagged partial_body and explained: l= lets anyone
 * append content, so it is weak (RFC 6376 8.2). DNS trouble is always a
 * temperror, never a permanent verdict.
 */
#ifndef NETJES_AUTH_DKIM_VERIFY_H
#define NETJES_AUTH_DKIM_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "auth/common/dkim.h"
#include "dns/dns.h"

struct dkim_verify_options {
	time_t		 now;		/* 0: time(NULL) at dkim_verify_new */
	unsigned	 max_signatures; /* 0: 8; more get neutral */
	int		 min_rsa_bits;	/* 0: 1024 (RFC 8301) */
	long		 clock_skew;	/* seconds t= may be ahead; <0: 300 */
	bool		 partial_body_is_policy; /* l= short of the body:
					 * policy instead of a weak pass */
};

struct dkim_sig_result {
	enum dkim_result	 result;
	const char		*domain;	/* d=, "" when unknown */
	const char		*selector;	/* s=, "" when unknown */
	const char		*algorithm;	/* a= as written, "" */
	const char		*identity;	/* i=, or NULL */
	const char		*b_prefix;	/* first 12 chars of b=, for
						 * header.b (RFC 6008) */
	const char		*reason;	/* NULL for a plain pass */
	int			 key_bits;	/* 0 when no key was used */
	bool			 testing;	/* key has t=y */
	bool			 partial_body;	/* l= short of the body */
	int64_t			 body_limit;	/* l=, -1 when absent */
	uint64_t		 body_length;	/* canonical body octets */
};

struct dkim_verify;

typedef void dkim_verify_cb(struct dkim_verify *, void *arg);

struct dkim_verify	*dkim_verify_new(const struct dkim_verify_options *);
void			 dkim_verify_free(struct dkim_verify *);

/* The header section, with or without the empty line after it. Once. */
void	 dkim_verify_header(struct dkim_verify *, const char *p, size_t n);
/* Body bytes, CRLF line ends, any chunking. */
void	 dkim_verify_body(struct dkim_verify *, const char *p, size_t n);
/* Both at once: a whole message (header, empty line, body). */
void	 dkim_verify_message(struct dkim_verify *, const char *p, size_t n);
/* The same, in pieces of any size as the message arrives, so the body
 * is hashed while it streams in; feed_end after the last piece. */
void	 dkim_verify_feed(struct dkim_verify *, const char *p, size_t n);
void	 dkim_verify_feed_end(struct dkim_verify *);

/* Signatures found (including the ones decided without a key). */
size_t	 dkim_verify_count(const struct dkim_verify *);
/* "s._domainkey.d" for signature i if it still needs its key, else NULL. */
const char *dkim_verify_key_name(const struct dkim_verify *, size_t i);
/*
 * Hand in the outcome of the key lookup for signature i: the status and,
 * for DNS_OK, the TXT records (each one's strings joined). why: the DNS
 * layer's reason, for the report.
 */
void	 dkim_verify_key(struct dkim_verify *, size_t i,
	    enum dns_status, const char *const *txt, const size_t *len,
	    size_t ntxt, const char *why);
/*
 * Look every needed key up with dns_query(); returns how many lookups
 * went out. When that is more than 0, cb runs from the event loop once
 * all are in; when it is 0, cb never runs and finish may follow at once.
 */
size_t	 dkim_verify_lookup(struct dkim_verify *, struct dns_resolver *,
	    dkim_verify_cb *cb, void *arg);
bool	 dkim_verify_keys_done(const struct dkim_verify *);
/* Stop the lookups still out (the message's DNS deadline passed): their
 * signatures get temperror with why; the lookup callback will not run. */
void	 dkim_verify_expire(struct dkim_verify *, const char *why);

/*
 * After the body and the keys: compute and return the results (valid
 * until dkim_verify_free). Zero results means the message is unsigned.
 */
size_t	 dkim_verify_finish(struct dkim_verify *,
	    const struct dkim_sig_result **);

#endif
