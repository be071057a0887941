/*
 * authres — Authentication-Results header fields (RFC 8601): build,
 * render (folded at 78 columns), parse, and strip forgeries.
 *
 * One vocabulary serves both directions: a struct authres_header is an
 * authserv-id plus a list of resinfo (method=result, an optional reason,
 * comments, and ptype.property=value pairs). The checks (iprev, SPF,
 * DKIM, DMARC, ARC) each add one resinfo; authres_render() writes the
 * field. authres_parse() reads the value of a received field, comments
 * and CFWS included, into the same struct, so ARC (which quotes the
 * results in ARC-Authentication-Results) and the analysis tools read AR
 * fields with the grammar they were written in.
 *
 * The parser is pure: bytes in, a struct out, every string from the
 * given arena, no I/O. It never trusts the input: lengths are bounded,
 * values are kept as written (quotes removed, quoted-pairs resolved).
 *
 * Incoming fields that claim our authserv-id were not written by us
 * (RFC 8601 5): authres_find_ours() lists them, authres_strip_ours()
 * copies a header section without them (or renamed).
 *
 * The ARC module does not add code here: it builds its resinfo
 * ("arc=pass" with smtp.remote-ip, or what it sees fit) with the same
 * authres_resinfo_* helpers, and auth.h carries the hook through which
 * `netjes auth` asks ARC for it.
 */
#ifndef NETJES_AUTH_AUTHRES_H
#define NETJES_AUTH_AUTHRES_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"
#include "msg/header.h"

#define AUTHRES_FIELD		"Authentication-Results"
#define AUTHRES_WIDTH		78	/* fold before this column */
#define AUTHRES_MAX_RESULTS	64	/* resinfo per parsed field */
#define AUTHRES_MAX_PROPS	16	/* properties per parsed resinfo */
#define AUTHRES_MAX_COMMENTS	4	/* comments kept per resinfo */

/* ptype "." property "=" value, e.g. smtp.mailfrom=user@example.com */
struct authres_prop {
	const char	*ptype;		/* lowercase: "smtp", "header", ... */
	const char	*property;	/* lowercase: "mailfrom", "d", ... */
	const char	*value;		/* as written, unquoted */
	const char	*comment;	/* a comment after the value, or NULL */
};

struct authres_resinfo {
	const char		*method;	/* lowercase: "spf", "dkim" */
	unsigned		 method_version; /* "dkim/1": 1; 0 absent */
	const char		*result;	/* lowercase: "pass", ... */
	const char		*reason;	/* reason= value, or NULL */
	const char		*comment;	/* comment(s) after the result,
						 * joined by "; ", or NULL */
	struct authres_prop	*props;
	size_t			 nprops;
	size_t			 props_cap;	/* for the builders */
};

struct authres_header {
	const char		*authserv_id;	/* as written (case kept) */
	unsigned		 version;	/* 0 when absent, else 1 */
	bool			 none;		/* "; none": no results */
	struct authres_resinfo	*results;
	size_t			 n;
	size_t			 cap;		/* for the builders */
};

/* --- building (every string copied into the arena) ----------------- */

void	 authres_init(struct authres_header *, struct arena *,
	    const char *authserv_id);
/* Append "method=result"; returns the new resinfo for props/reason. */
struct authres_resinfo *authres_add(struct authres_header *, struct arena *,
	    const char *method, const char *result);
/* Append an existing resinfo (a deep copy into the arena). */
void	 authres_add_resinfo(struct authres_header *, struct arena *,
	    const struct authres_resinfo *);
void	 authres_resinfo_reason(struct authres_resinfo *, struct arena *,
	    const char *reason);
void	 authres_resinfo_comment(struct authres_resinfo *, struct arena *,
	    const char *comment);
/* NULL or "" values are skipped: a property is only written when known. */
void	 authres_resinfo_prop(struct authres_resinfo *, struct arena *,
	    const char *ptype, const char *property, const char *value);

/* --- rendering ------------------------------------------------------ */

struct authres_render_options {
	const char	*field;	/* NULL: "Authentication-Results" */
	const char	*prefix; /* written before the authserv-id, e.g.
				 * "i=1; " for ARC-Authentication-Results;
				 * NULL: none */
	const char	*eol;	/* line break inside the folded field:
				 * NULL: "\r\n" */
	unsigned	 width;	/* 0: AUTHRES_WIDTH */
	bool		 final_eol; /* end with eol too */
};

/*
 * Write "Authentication-Results: id; method=result ...;" folded so no
 * line is longer than width where a break is possible (a single token
 * longer than a line stays whole). Values are quoted when they are not
 * a token (RFC 2045) and not an addr-spec-like "local@domain" (8601
 * 2.2); "none" when there are no results.
 */
void	 authres_render(const struct authres_header *,
	    const struct authres_render_options *, struct buf *out);
/* One resinfo unfolded, "spf=pass smtp.mailfrom=a@b.example". */
void	 authres_render_resinfo(const struct authres_resinfo *,
	    struct buf *out);

/* --- parsing -------------------------------------------------------- */

/*
 * Parse the value of an Authentication-Results field: everything after
 * the colon (folding and comments allowed). 0 on success; -1 with
 * *reason (static text) on a syntax error, and out then holds what was
 * parsed before the error. Unknown methods and ptypes are kept: the
 * grammar, not the registry, decides validity.
 */
int	 authres_parse(const char *p, size_t n, struct arena *,
	    struct authres_header *out, const char **reason);
/*
 * The value of an ARC-Authentication-Results field (RFC 8617 4.1.1):
 * "i=N;" then the AR value. *instance gets N (1..50 is the caller's to
 * check). 0 or -1 as above.
 */
int	 authres_parse_arc(const char *p, size_t n, struct arena *,
	    unsigned *instance, struct authres_header *out,
	    const char **reason);

/* Just the authserv-id of a field value, into out (NUL-terminated);
 * false when there is none or it does not fit. */
bool	 authres_authserv_id(const char *p, size_t n, char *out,
	    size_t outlen);

/* The first resinfo with this method (lowercase), or NULL. */
const struct authres_resinfo *authres_find(const struct authres_header *,
	    const char *method);
/* The value of ptype.property in a resinfo, or NULL. */
const char *authres_prop_get(const struct authres_resinfo *,
	    const char *ptype, const char *property);

/* --- forgeries ------------------------------------------------------ */

/*
 * Indices (into hs->fields) of the Authentication-Results fields whose
 * authserv-id equals ours (ASCII case-insensitive): write at most max
 * into idx, return how many there are.
 */
size_t	 authres_find_ours(const struct hdr_section *hs,
	    const char *authserv_id, size_t *idx, size_t max);

enum authres_strip_mode {
	AUTHRES_STRIP_DELETE,	/* drop the field */
	AUTHRES_STRIP_RENAME,	/* "X-Forged-Authentication-Results:" */
};
#define AUTHRES_FORGED_FIELD	"X-Forged-Authentication-Results"

/*
 * Append msg[0..n) to out with every field authres_find_ours() names
 * deleted or renamed; hs is hdr_parse() of the same bytes. Returns how
 * many fields were changed.
 */
size_t	 authres_strip_ours(const char *msg, size_t n,
	    const struct hdr_section *hs, const char *authserv_id,
	    enum authres_strip_mode, struct buf *out);

#endif
