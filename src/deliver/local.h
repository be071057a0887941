/*
 * local — who a local recipient address really is.
 *
 * Resolves an envelope recipient in one of our domains to the mailboxes
 * it stands for, over a table of virtual domains, users and aliases built
 * from configuration. Pure logic: no I/O, results in the caller's arena.
 *
 * Lookup order for local@domain (local parts compared case-insensitively
 * in ASCII, RFC 5321 2.4 leaves that to us; domains are lowercase A-labels
 * already):
 *   1. an alias or a user with exactly that address (aliases first);
 *   2. subaddressing: for each separator character in the local part,
 *      from the rightmost one, the part before it ("bob+lists" and, when
 *      "-" is a separator, "bob-lists" -> bob with detail "lists"): the
 *      longest existing name wins, so a user called "john-doe" is still
 *      found as "john-doe+x";
 *   3. postmaster (any case, also the bare "<postmaster>" with an empty
 *      domain): always resolvable, RFC 5321 4.5.1; without a user or
 *      alias of that name (an alias sends it to a person) it goes to a
 *      mailbox postmaster@domain of its own;
 *   4. the domain's catch-all target, when one is set (off by default);
 *   5. otherwise unknown: the SMTP server answers 550 5.1.1 at RCPT.
 *
 * Aliases expand to one or more addresses, recursively; a target in a
 * foreign domain is returned in the remote list. An alias may name a
 * user with its own address ("alice -> alice, archive"): that target is
 * the user, not the alias again. Any other cycle is a loop (LOCAL_LOOP).
 * An alias target that resolves to nobody is a configuration error
 * (LOCAL_BROKEN, a temporary failure) rather than a silent drop.
 *
 * Maildir paths come only from the table: <mail_root>/<domain>/<user>
 * unless the user names one; nothing the client sends becomes a path.
 */
#ifndef NETJES_DELIVER_LOCAL_H
#define NETJES_DELIVER_LOCAL_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct local_table;

#define LOCAL_SEPARATORS_DEFAULT	"+"
#define LOCAL_ALIAS_DEPTH_MAX		16
#define LOCAL_DESTS_MAX			1000

enum local_status {
	LOCAL_FOUND = 0,	/* dests and/or remote filled in */
	LOCAL_UNKNOWN,		/* no such user: 550 5.1.1 */
	LOCAL_NOT_LOCAL,	/* not one of our domains: relay rules apply */
	LOCAL_LOOP,		/* alias loop: 554 5.4.6 */
	LOCAL_BROKEN,		/* table inconsistent: 451 4.3.0, log it */
};

struct local_dest {
	const char	*user;		/* the mailbox: "alice@example.test" */
	const char	*maildir;	/* absolute path of its Maildir */
	const char	*folder;	/* "" = inbox */
	const char	*detail;	/* subaddress tag as given, or "" */
};

struct local_result {
	enum local_status	 status;
	struct local_dest	*dests;
	size_t			 ndests;
	const char		**remote;	/* alias targets elsewhere */
	size_t			 nremote;
	const char		*reason;	/* for logs and replies */
	bool			 via_catchall;	/* found only by the catch-all */
};

/* mail_root: the default Maildir base, e.g. <data_dir>/mail. */
struct local_table *local_table_new(const char *mail_root);
void	 local_table_free(struct local_table *);

/*
 * Each returns 0, or -1 with *reason set (static or table-owned).
 * Addresses are "local@domain"; the local part is matched case-
 * insensitively, so the table keeps it lowercased.
 */
int	 local_table_add_domain(struct local_table *, const char *domain,
	    const char *catchall, const char **reason);	/* catchall NULL: off */
int	 local_table_add_user(struct local_table *, const char *addr,
	    const char *maildir, const char **reason);	/* NULL: default */
/* Targets: "local@domain", or a bare "local" in the alias's domain. */
int	 local_table_add_alias(struct local_table *, const char *addr,
	    const char *const *targets, size_t ntargets, const char **reason);
/* Separator characters for subaddressing; "" turns it off. */
int	 local_table_set_separators(struct local_table *, const char *seps,
	    const char **reason);

/*
 * Ends building: indexes the table and checks it (users in local
 * domains, no duplicates). Lookups are valid only after a 0 return.
 */
int	 local_table_seal(struct local_table *, const char **reason);

bool	 local_table_is_local_domain(const struct local_table *,
	    const char *domain);

/*
 * Resolves local@domain (local in its semantic form, domain lowercase;
 * domain "" only for a bare "postmaster"). Returns res->status.
 */
enum local_status local_resolve(const struct local_table *,
	    const char *local, const char *domain, struct arena *arena,
	    struct local_result *res);

#endif
