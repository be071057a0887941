/*
 * arc — the Authenticated Received Chain (RFC 8617): validate the chain
 * of a received message and seal it as a forwarder.
 *
 * An ARC set is three fields with one instance number i= (1..50):
 * ARC-Authentication-Results (AAR: what that hop's checks said),
 * ARC-Message-Signature (AMS: a DKIM-Signature without v=, over the
 * message as that hop saw it) and ARC-Seal (AS: a signature over every
 * set up to its own, relaxed header canonicalization, cv= telling what
 * that hop thought of the chain it received).
 *
 * Validation (5.2) in three steps, like dkim_verify:
 *   arc_chain_parse()  pure: collect the sets and check the structure
 *                      (every instance 1..N exactly once per field, N at
 *                      most 50, cv=none only at i=1, cv=pass above, no
 *                      cv=fail at the top), parse every AMS and AS;
 *   keys               one lookup per AMS and AS (async, dns.h);
 *   finish             the newest AMS must verify (body hash and header
 *                      signature), every AS from N down to 1 must verify;
 *                      older AMSs only tell the oldest-pass instance.
 * The result is none (no ARC fields), pass or fail, with a reason for
 * anything but pass. DNS trouble fails the chain too (ARC has no
 * temperror) but sets `temporary`, so a caller can defer, not reject.
 *
 * Sealing (5.1): arc_seal() builds the next set from the verdict on the
 * incoming chain: cv=none for a message without a chain, pass or fail
 * otherwise; with cv=fail the seal covers only the new set (5.1.2). A
 * chain that already carries cv=fail at its top, or has 50 sets, is not
 * sealed again.
 *
 * The AMS and AS reuse the DKIM parts in auth/common/: dkim_tags for the
 * tag lists, dkim_fold to write them, dkim_canon for canonicalization and
 * the streamed body hash, dkim_keycache for key records and the check
 * of a signature; the signer's dkim_sign_digest() (auth/dkim/) signs.
 */
#ifndef NETJES_AUTH_ARC_H
#define NETJES_AUTH_ARC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "auth/common/dkim.h"
#include "core/arena.h"
#include "core/buf.h"
#include "dns/dns.h"
#include "msg/header.h"

#define ARC_MAX_INSTANCE	50

enum arc_result {
	ARC_RESULT_NONE = 0,	/* no ARC fields */
	ARC_RESULT_PASS,
	ARC_RESULT_FAIL,
};

/* The cv= of an ARC-Seal. */
enum arc_cv {
	ARC_CV_NONE = 0,
	ARC_CV_PASS,
	ARC_CV_FAIL,
	ARC_CV_INVALID,		/* absent or another word */
};

const char	*arc_result_name(enum arc_result);	/* "none" ... */
const char	*arc_cv_name(enum arc_cv);

/* --- the pure chain parser ------------------------------------------ */

/* One parsed AMS or AS. Strings are from the arena given to the parser. */
struct arc_sig {
	size_t			 field;		/* index into the header */
	enum dkim_alg		 alg;
	const char		*domain;	/* d=, lowercased */
	const char		*selector;	/* s= */
	enum dkim_canon		 hc, bc;	/* AMS c=; AS: relaxed */
	struct dkim_hname	*h;		/* AMS h= */
	size_t			 nh;
	unsigned char		*b, *bh;	/* decoded b= (and AMS bh=) */
	size_t			 b_len, bh_len;
	size_t			 b_start, b_end; /* b= value in the field
						 * value (offsets) */
	int64_t			 limit;		/* AMS l=, -1 when absent */
	int64_t			 timestamp;	/* t=, -1 when absent */
	int64_t			 expire;	/* AMS x=, -1 when absent */
	enum arc_cv		 cv;		/* AS cv= */
};

struct arc_set {
	size_t		 aar, ams, as;	/* field indices; (size_t)-1: absent */
	const char	*aar_value;	/* the AAR after "i=N;", trimmed */
	struct arc_sig	 ams_sig, as_sig;
};

struct arc_chain {
	enum arc_result	 result;	/* NONE, PASS (structure fine, the
					 * signatures still to check) or
					 * FAIL */
	const char	*reason;	/* for FAIL */
	unsigned	 n;		/* the highest instance found (0..50) */
	bool		 top_cv_fail;	/* the AS of instance n says cv=fail */
	struct arc_set	 set[ARC_MAX_INSTANCE + 1];	/* [1..n] */
};

/*
 * Collect and check the ARC sets of a parsed header section. Pure: no
 * I/O; strings go to the arena. Returns chain->result.
 */
enum arc_result	 arc_chain_parse(const struct hdr_section *,
		    struct arena *, struct arc_chain *chain);

/*
 * The instance number of an ARC-Authentication-Results value: "i=N;"
 * then the results. 0 when it is not there or not 1..999; *rest points
 * after the ';'.
 */
unsigned	 arc_aar_instance(const char *p, size_t n, const char **rest);

/* --- validation ----------------------------------------------------- */

/* The clock: an AMS whose x= is before now fails (it has DKIM's tag
 * semantics, RFC 8617 4.1.2), and so does an AMS or AS whose t= is
 * more than clock_skew ahead of now. */
struct arc_verify_options {
	time_t		 now;		/* 0: time(NULL) */
	int		 min_rsa_bits;	/* 0: 1024 (RFC 8301) */
	long		 clock_skew;	/* seconds t= may be ahead; 0: 300 */
};

struct arc_set_result {
	unsigned		 instance;
	enum arc_cv		 cv;
	const char		*ams_domain, *ams_selector;
	const char		*as_domain, *as_selector;
	enum dkim_result	 ams;		/* PASS or FAIL (or NONE when
						 * not checked) */
	enum dkim_result	 as;
	const char		*ams_reason;	/* NULL on pass */
	const char		*as_reason;
	const char		*aar;		/* "authserv-id; results" */
};

struct arc_verdict {
	enum arc_result		 result;
	const char		*reason;	/* NULL on pass */
	bool			 temporary;	/* failed on DNS trouble */
	unsigned		 instances;	/* N; 0 when none */
	unsigned		 oldest_pass;	/* 0: every AMS verifies */
	const struct arc_set_result *sets;	/* sets[0] is i=1 */
	size_t			 nsets;
};

struct arc_verify;
typedef void arc_verify_cb(struct arc_verify *, void *arg);

struct arc_verify *arc_verify_new(const struct arc_verify_options *);
void	 arc_verify_free(struct arc_verify *);
/* The header section (with or without its empty line). Once. */
void	 arc_verify_header(struct arc_verify *, const char *p, size_t n);
void	 arc_verify_body(struct arc_verify *, const char *p, size_t n);
void	 arc_verify_message(struct arc_verify *, const char *p, size_t n);

/* Key slots: 2 per set (AMS, AS). Name "s._domainkey.d" of a slot that
 * still needs its key, else NULL. */
size_t	 arc_verify_key_count(const struct arc_verify *);
const char *arc_verify_key_name(const struct arc_verify *, size_t slot);
/* Hand in a lookup outcome (as dkim_verify_key()). */
void	 arc_verify_key(struct arc_verify *, size_t slot, enum dns_status,
	    const char *const *txt, const size_t *len, size_t ntxt,
	    const char *why);
/* Look every needed key up; cb runs from the event loop once all are in
 * when more than 0 went out. */
size_t	 arc_verify_lookup(struct arc_verify *, struct dns_resolver *,
	    arc_verify_cb *cb, void *arg);
bool	 arc_verify_keys_done(const struct arc_verify *);
/* Stop the lookups still out (the message's DNS deadline passed): their
 * keys count as DNS trouble; the lookup callback will not run. */
void	 arc_verify_expire(struct arc_verify *);

/* After the body and the keys; valid until arc_verify_free(). */
const struct arc_verdict *arc_verify_finish(struct arc_verify *);

/* --- sealing -------------------------------------------------------- */

struct arc_seal_options {
	const char	*domain;	/* d= */
	const char	*selector;	/* s= */
	EVP_PKEY	*key;		/* borrowed: RSA or Ed25519 */
	enum dkim_alg	 alg;		/* UNKNOWN: from the key */
	const char	*aar;		/* the AAR payload: "authserv-id;
					 * method=result ..." (may be folded
					 * with CRLF + white space) */
	const char	*headers;	/* AMS h= as "from:to"; NULL: the DKIM
					 * default set plus DKIM-Signature */
	time_t		 now;		/* t=; 0: time(NULL) */
	long		 expire;	/* > 0: AMS x= = t= + expire */
};

/*
 * Append the new set (ARC-Seal, ARC-Message-Signature,
 * ARC-Authentication-Results, in that order, CRLF line ends) for the
 * message p[0..n) (CRLF line ends), whose incoming chain was judged
 * `incoming` by arc_verify. 0, or -1 with a reason (nothing appended).
 */
int	 arc_seal(const struct arc_seal_options *, const char *p, size_t n,
	    const struct arc_verdict *incoming, struct buf *out, char *why,
	    size_t whylen);

/* --- for the check pipeline (arc_auth.c, used by filter/check_arc.c) -- */

struct arena;
struct authres_resinfo;
struct dns_resolver;
struct event_base;
struct ip_addr;

/* done: called once, from the event loop (never from inside start),
 * with the resinfo to add ("arc" method; its strings may come from
 * out; the callee copies it), or NULL when ARC has nothing to say. */
typedef void arc_auth_done_cb(void *done_arg,
	    const struct authres_resinfo *arc);

/* Validate the ARC chain of msg[0..n) (CRLF line ends) as of now
 * (seconds since the epoch; 0: time(NULL)). Returns a handle for
 * cancel; NULL means done will never be called (no ARC result). */
void	*arc_auth_start(struct event_base *, struct dns_resolver *,
	    const char *msg, size_t n, const struct ip_addr *client,
	    long long now, struct arena *out, arc_auth_done_cb *done,
	    void *done_arg);
/* Stop a running validation: done will not be called. */
void	 arc_auth_cancel(void *handle);
/* The message's DNS deadline passed: done runs now, from here, with
 * what is known (missing keys are DNS trouble). */
void	 arc_auth_expire(void *handle);

#endif
