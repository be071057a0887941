/*
 * sender_auth — sender ownership for logged-in users. See sender_auth.h.
 *
 * Ownership is decided by the same resolution that delivers mail
 * (local_resolve), so "what reaches me" and "what I may send as" can
 * never disagree.
 */
#include "smtp/sender_auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "deliver/local.h"

bool
sender_auth_owns(const struct local_table *t, const char *user,
    const char *local, const char *domain, struct arena *a)
{
	struct local_result res;
	const char *at = strrchr(user, '@');
	size_t i, llen = strlen(local);

	if (user[0] == '\0' || domain[0] == '\0')
		return false;
	/* the user's own address, even outside the recipient table */
	if (at != NULL && (size_t)(at - user) == llen &&
	    strncasecmp(user, local, llen) == 0 &&
	    strcasecmp(at + 1, domain) == 0)
		return true;
	if (!local_table_is_local_domain(t, domain))
		return false;
	if (local_resolve(t, local, domain, a, &res) != LOCAL_FOUND ||
	    res.via_catchall)
		return false;
	for (i = 0; i < res.ndests; i++)
		if (strcasecmp(res.dests[i].user, user) == 0)
			return true;
	return false;
}
