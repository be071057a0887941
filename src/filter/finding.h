/*
 * finding — what one check says about a message: the unit every later
 * output is made of (the verdict, Authentication-Results, X-Spam-*, the
 * log line, the SMTP reply, `netjes analyze`).
 *
 * A finding has a symbol (stable, upper case: SPF_FAIL, DKIM_VALID,
 * IPREV_NONE; rules, logs and scripts key on it), a score (0 for a pure
 * authentication fact), a reason one person can read aloud to another
 * ("the sender's domain example.org does not list 192.0.2.1 as a sender
 * (SPF -all)"), the check that made it, and for authentication checks
 * the RFC 8601 result to show in Authentication-Results. A finding may
 * also ask for an action of its own, whatever the score: DMARC
 * p=reject asks for a refusal, a greylist for a temporary one; the
 * verdict (verdict.h) weighs those requests against exemptions.
 *
 * A reason can be written at once (findings_add) or on demand
 * (findings_add_lazy: a function and what it reads), so a message
 * nobody asks about costs no formatting: the verdict words only the
 * finding that decided, and `netjes analyze` every one. Read a reason
 * with finding_reason().
 *
 * Everything lives in the transaction's arena; a findings list never
 * frees anything itself.
 */
#ifndef NETJES_FILTER_FINDING_H
#define NETJES_FILTER_FINDING_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct authres_resinfo;

/* What a finding may ask for beyond its score, weakest first. */
enum finding_wants {
	FINDING_WANTS_NOTHING = 0,
	FINDING_WANTS_JUNK,		/* deliver to the Junk folder */
	FINDING_WANTS_TEMPFAIL,		/* 4xx: try again later */
	FINDING_WANTS_REJECT,		/* 5xx: refuse */
};

#define FINDING_SYMBOL_MAX	48	/* octets, A-Z 0-9 _ */
#define FINDING_REASON_MAX	512	/* octets; longer reasons are cut */

/* The reason of a lazy finding, from ctx, into a (or a literal). */
typedef const char *finding_explain_fn(const void *ctx, struct arena *a);

struct finding {
	const char			*check;		/* "spf", "dmarc" */
	const char			*symbol;	/* "SPF_FAIL" */
	double				 score;
	const char			*reason;	/* one sentence, or NULL: */
	finding_explain_fn		*explain;	/* made from ctx */
	const void			*ctx;
	enum finding_wants		 wants;
	const struct authres_resinfo	*authres;	/* or NULL */
};

struct findings {
	struct arena			*arena;
	struct finding			*v;
	size_t				 n;
	size_t				 cap;
};

void		 findings_init(struct findings *, struct arena *);

/*
 * Add a finding; reason is a printf format. The symbol must be a valid
 * symbol (finding_symbol_valid) and check a literal: both are kept as
 * pointers. Returns the finding (to set wants or authres), never NULL
 * (the arena aborts when memory runs out).
 */
struct finding	*findings_add(struct findings *, const char *check,
		    const char *symbol, double score, const char *fmt, ...)
		    __attribute__((format(printf, 5, 6)));

/* The same with the reason made on demand by explain(ctx, arena); ctx
 * must live as long as the arena. */
struct finding	*findings_add_lazy(struct findings *, const char *check,
		    const char *symbol, double score, finding_explain_fn *explain,
		    const void *ctx);

/* The finding's one sentence (made now, into a, when it is lazy). */
const char	*finding_reason(const struct finding *, struct arena *a);

/* The first finding with symbol, or NULL. */
const struct finding *findings_get(const struct findings *,
		    const char *symbol);

/* The sum of every score. */
double		 findings_score(const struct findings *);

/* A-Z, 0-9 and '_', starting with a letter, at most FINDING_SYMBOL_MAX. */
bool		 finding_symbol_valid(const char *);

/* "nothing", "junk", "tempfail", "reject" */
const char	*finding_wants_name(enum finding_wants);

#endif
