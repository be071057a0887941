/*
 * local — recipient resolution for local delivery. See local.h.
 *
 * The table keeps three sorted arrays (domains, users, aliases) keyed by
 * lowercase strings and answers with bsearch, so a lookup costs a few
 * string compares even with many thousands of users. Table strings live
 * in the table's own arena; results live in the caller's arena.
 *
 * Resolution is a depth-first walk. The stack of addresses being
 * expanded (aliases, postmaster and catch-all redirections) is the loop
 * detector: meeting an address that is already on it is a loop.
 */
#include "deliver/local.h"

#include <stdlib.h>
#include <string.h>

#include "core/arena.h"

struct local_domain {
	const char	*name;
	const char	*catchall;	/* NULL: off */
};

struct local_user {
	const char	*key;		/* local@domain, lowercase */
	const char	*maildir;
};

struct local_alias {
	const char	*key;
	const char	**targets;	/* full addresses, lowercase */
	size_t		 ntargets;
};

struct local_table {
	struct arena		*arena;
	const char		*mail_root;
	char			 separators[16];
	const char		*primary;	/* the first domain added */
	struct local_domain	*domains;
	size_t			 ndomains, capdomains;
	struct local_user	*users;
	size_t			 nusers, capusers;
	struct local_alias	*aliases;
	size_t			 naliases, capaliases;
	bool			 sealed;
};

static int
fail(const char **reason, const char *why)
{
	if (reason != NULL)
		*reason = why;
	return -1;
}

static void
grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return;
	*cap = *cap ? *cap * 2 : 16;
	*v = realloc(*v, *cap * size);
	if (*v == NULL)
		abort();
}

static void
ascii_lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* A local part we are willing to turn into a path component. */
static bool
local_part_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 64 || s[0] == '.')
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f || c == '/' || c == '@' ||
		    c == '\\')
			return false;
	}
	return true;
}

/* A lowercase LDH domain (A-labels), no empty labels. */
static bool
domain_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 255 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.' && s[i + 1] == '.')
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.'))
			return false;
	}
	return true;
}

/*
 * Copies addr into the table arena lowercased and checks it.
 * default_domain (may be NULL) completes a bare local part.
 */
static char *
canon_addr(struct local_table *t, const char *addr,
    const char *default_domain)
{
	const char *at = strrchr(addr, '@');
	char *s;

	if (at == NULL) {
		if (default_domain == NULL ||
		    !local_part_ok(addr, strlen(addr)))
			return NULL;
		s = arena_printf(t->arena, "%s@%s", addr, default_domain);
	} else {
		if (!local_part_ok(addr, (size_t)(at - addr)))
			return NULL;
		s = arena_strdup(t->arena, addr);
	}
	ascii_lower(s);
	if (!domain_ok(strrchr(s, '@') + 1))
		return NULL;
	return s;
}

struct local_table *
local_table_new(const char *mail_root)
{
	struct local_table *t;

	t = calloc(1, sizeof(*t));
	if (t == NULL)
		abort();
	t->arena = arena_new(0);
	t->mail_root = arena_strdup(t->arena, mail_root ? mail_root : "");
	strcpy(t->separators, LOCAL_SEPARATORS_DEFAULT);
	return t;
}

void
local_table_free(struct local_table *t)
{
	if (t == NULL)
		return;
	free(t->domains);
	free(t->users);
	free(t->aliases);
	arena_free(t->arena);
	free(t);
}

int
local_table_add_domain(struct local_table *t, const char *domain,
    const char *catchall, const char **reason)
{
	struct local_domain *d;
	char *name;

	if (t->sealed)
		return fail(reason, "table already sealed");
	name = arena_strdup(t->arena, domain);
	ascii_lower(name);
	if (!domain_ok(name))
		return fail(reason, "invalid domain name");
	grow((void **)&t->domains, &t->capdomains, t->ndomains,
	    sizeof(*t->domains));
	d = &t->domains[t->ndomains];
	d->name = name;
	d->catchall = NULL;
	if (catchall != NULL && *catchall != '\0' &&
	    (d->catchall = canon_addr(t, catchall, name)) == NULL)
		return fail(reason, "invalid catch-all address");
	t->ndomains++;
	if (t->primary == NULL)
		t->primary = name;
	return 0;
}

int
local_table_add_user(struct local_table *t, const char *addr,
    const char *maildir, const char **reason)
{
	struct local_user *u;
	const char *key, *at;

	if (t->sealed)
		return fail(reason, "table already sealed");
	if (strchr(addr, '@') == NULL ||
	    (key = canon_addr(t, addr, NULL)) == NULL)
		return fail(reason, "invalid user address");
	at = strrchr(key, '@');
	/* paths may be relative: to the data directory the server runs in */
	if ((maildir == NULL || *maildir == '\0') && t->mail_root[0] == '\0')
		return fail(reason, "no mail root");
	grow((void **)&t->users, &t->capusers, t->nusers, sizeof(*t->users));
	u = &t->users[t->nusers++];
	u->key = key;
	u->maildir = maildir != NULL && *maildir != '\0' ?
	    arena_strdup(t->arena, maildir) :
	    arena_printf(t->arena, "%s/%s/%.*s", t->mail_root, at + 1,
	    (int)(at - key), key);
	return 0;
}

int
local_table_add_alias(struct local_table *t, const char *addr,
    const char *const *targets, size_t ntargets, const char **reason)
{
	struct local_alias *a;
	const char *key, **v;
	size_t i;

	if (t->sealed)
		return fail(reason, "table already sealed");
	if (strchr(addr, '@') == NULL ||
	    (key = canon_addr(t, addr, NULL)) == NULL)
		return fail(reason, "invalid alias address");
	if (ntargets == 0)
		return fail(reason, "alias without targets");
	v = arena_calloc(t->arena, ntargets, sizeof(*v));
	for (i = 0; i < ntargets; i++)
		if ((v[i] = canon_addr(t, targets[i],
		    strrchr(key, '@') + 1)) == NULL)
			return fail(reason, "invalid alias target");
	grow((void **)&t->aliases, &t->capaliases, t->naliases,
	    sizeof(*t->aliases));
	a = &t->aliases[t->naliases++];
	a->key = key;
	a->targets = v;
	a->ntargets = ntargets;
	return 0;
}

int
local_table_set_separators(struct local_table *t, const char *seps,
    const char **reason)
{
	size_t i, n = strlen(seps);

	if (n >= sizeof(t->separators))
		return fail(reason, "too many separator characters");
	for (i = 0; i < n; i++)
		if (seps[i] <= 0x20 || seps[i] >= 0x7f || seps[i] == '@' ||
		    seps[i] == '"' || seps[i] == '\\' ||
		    (seps[i] >= 'a' && seps[i] <= 'z') ||
		    (seps[i] >= 'A' && seps[i] <= 'Z') ||
		    (seps[i] >= '0' && seps[i] <= '9'))
			return fail(reason, "invalid separator character");
	memcpy(t->separators, seps, n + 1);
	return 0;
}

static int
cmp_domain(const void *a, const void *b)
{
	return strcmp(((const struct local_domain *)a)->name,
	    ((const struct local_domain *)b)->name);
}

static int
cmp_user(const void *a, const void *b)
{
	return strcmp(((const struct local_user *)a)->key,
	    ((const struct local_user *)b)->key);
}

static int
cmp_alias(const void *a, const void *b)
{
	return strcmp(((const struct local_alias *)a)->key,
	    ((const struct local_alias *)b)->key);
}

static const struct local_domain *
find_domain(const struct local_table *t, const char *name)
{
	struct local_domain k = { name, NULL };

	if (t->ndomains == 0)
		return NULL;
	return bsearch(&k, t->domains, t->ndomains, sizeof(k), cmp_domain);
}

static const struct local_user *
find_user(const struct local_table *t, const char *key)
{
	struct local_user k = { key, NULL };

	if (t->nusers == 0)
		return NULL;
	return bsearch(&k, t->users, t->nusers, sizeof(k), cmp_user);
}

static const struct local_alias *
find_alias(const struct local_table *t, const char *key)
{
	struct local_alias k = { key, NULL, 0 };

	if (t->naliases == 0)
		return NULL;
	return bsearch(&k, t->aliases, t->naliases, sizeof(k), cmp_alias);
}

int
local_table_seal(struct local_table *t, const char **reason)
{
	size_t i;

	if (t->ndomains > 0)
		qsort(t->domains, t->ndomains, sizeof(*t->domains),
		    cmp_domain);
	if (t->nusers > 0)
		qsort(t->users, t->nusers, sizeof(*t->users), cmp_user);
	if (t->naliases > 0)
		qsort(t->aliases, t->naliases, sizeof(*t->aliases),
		    cmp_alias);
	for (i = 1; i < t->ndomains; i++)
		if (strcmp(t->domains[i - 1].name, t->domains[i].name) == 0)
			return fail(reason, "duplicate domain");
	for (i = 1; i < t->nusers; i++)
		if (strcmp(t->users[i - 1].key, t->users[i].key) == 0)
			return fail(reason, "duplicate user");
	for (i = 1; i < t->naliases; i++)
		if (strcmp(t->aliases[i - 1].key, t->aliases[i].key) == 0)
			return fail(reason, "duplicate alias");
	for (i = 0; i < t->nusers; i++)
		if (find_domain(t, strrchr(t->users[i].key, '@') + 1) == NULL)
			return fail(reason, "user in a domain that is not local");
	for (i = 0; i < t->naliases; i++)
		if (find_domain(t, strrchr(t->aliases[i].key, '@') + 1) ==
		    NULL)
			return fail(reason, "alias in a domain that is not local");
	if (t->ndomains > 0 && t->mail_root[0] == '\0')
		return fail(reason, "no mail root");
	t->sealed = true;
	return 0;
}

bool
local_table_is_local_domain(const struct local_table *t, const char *domain)
{
	return find_domain(t, domain) != NULL;
}

/* ---- resolution -------------------------------------------------------- */

struct walk {
	const struct local_table	*t;
	struct arena			*arena;
	struct local_result		*res;
	const char			*stack[LOCAL_ALIAS_DEPTH_MAX];
	size_t				 depth;
	size_t				 capdests, capremote;
};

static enum local_status
walk_fail(struct walk *w, enum local_status st, const char *why)
{
	w->res->status = st;
	w->res->reason = why;
	return st;
}

static bool
on_stack(const struct walk *w, const char *key)
{
	size_t i;

	for (i = 0; i < w->depth; i++)
		if (strcmp(w->stack[i], key) == 0)
			return true;
	return false;
}

static enum local_status
add_dest(struct walk *w, const char *user, const char *maildir,
    const char *detail)
{
	struct local_result *res = w->res;
	struct local_dest *v;
	size_t i;

	for (i = 0; i < res->ndests; i++)
		if (strcmp(res->dests[i].user, user) == 0)
			return LOCAL_FOUND;
	if (res->ndests + res->nremote >= LOCAL_DESTS_MAX)
		return walk_fail(w, LOCAL_BROKEN,
		    "alias expands to too many recipients");
	if (res->ndests == w->capdests) {
		w->capdests = w->capdests ? w->capdests * 2 : 4;
		v = arena_calloc(w->arena, w->capdests, sizeof(*v));
		if (res->ndests > 0)
			memcpy(v, res->dests, res->ndests * sizeof(*v));
		res->dests = v;
	}
	res->dests[res->ndests].user = user;
	res->dests[res->ndests].maildir = maildir;
	res->dests[res->ndests].folder = "";
	res->dests[res->ndests].detail = detail;
	res->ndests++;
	return LOCAL_FOUND;
}

static enum local_status
add_remote(struct walk *w, const char *addr)
{
	struct local_result *res = w->res;
	const char **v;
	size_t i;

	for (i = 0; i < res->nremote; i++)
		if (strcmp(res->remote[i], addr) == 0)
			return LOCAL_FOUND;
	if (res->ndests + res->nremote >= LOCAL_DESTS_MAX)
		return walk_fail(w, LOCAL_BROKEN,
		    "alias expands to too many recipients");
	if (res->nremote == w->capremote) {
		w->capremote = w->capremote ? w->capremote * 2 : 4;
		v = arena_calloc(w->arena, w->capremote, sizeof(*v));
		if (res->nremote > 0)
			memcpy(v, res->remote, res->nremote * sizeof(*v));
		res->remote = v;
	}
	res->remote[res->nremote++] = addr;
	return LOCAL_FOUND;
}

static enum local_status resolve(struct walk *w, const char *key,
	    const char *orig_local, bool top);

/* Follows a redirection from key (alias, postmaster, catch-all). */
static enum local_status
redirect(struct walk *w, const char *key, const char *const *targets,
    size_t n)
{
	const struct local_user *u;
	enum local_status st;
	size_t i;

	if (on_stack(w, key))
		return walk_fail(w, LOCAL_LOOP, "alias loop");
	if (w->depth == LOCAL_ALIAS_DEPTH_MAX)
		return walk_fail(w, LOCAL_LOOP, "aliases nested too deep");
	w->stack[w->depth++] = key;
	for (i = 0; i < n; i++) {
		if (strcmp(targets[i], key) == 0) {
			/* "alice -> alice, archive": the user herself. */
			if ((u = find_user(w->t, key)) == NULL)
				return walk_fail(w, LOCAL_BROKEN,
				    "alias names itself but no such user");
			st = add_dest(w, u->key, u->maildir, "");
		} else
			st = resolve(w, targets[i], NULL, false);
		if (st != LOCAL_FOUND)
			return st;
	}
	w->depth--;
	return LOCAL_FOUND;
}

/* key: lowercase local@domain; orig_local: as given (for the detail). */
static enum local_status
resolve(struct walk *w, const char *key, const char *orig_local, bool top)
{
	const struct local_table *t = w->t;
	const struct local_domain *dom;
	const struct local_alias *a;
	const struct local_user *u;
	const char *at = strrchr(key, '@'), *domain = at + 1, *detail;
	size_t llen = (size_t)(at - key), pos;
	char *base;

	dom = find_domain(t, domain);
	if (dom == NULL)
		return add_remote(w, key);

	/* 1. the exact address */
	if ((a = find_alias(t, key)) != NULL)
		return redirect(w, a->key, (const char *const *)a->targets,
		    a->ntargets);
	if ((u = find_user(t, key)) != NULL)
		return add_dest(w, u->key, u->maildir, "");

	/* 2. subaddress: the longest existing base wins */
	for (pos = llen; pos-- > 1; ) {
		if (strchr(t->separators, key[pos]) == NULL)
			continue;
		base = arena_printf(w->arena, "%.*s@%s", (int)pos, key,
		    domain);
		/* The detail keeps the case the client gave it. */
		detail = arena_strndup(w->arena, (orig_local != NULL ?
		    orig_local : key) + pos + 1, llen - pos - 1);
		if ((a = find_alias(t, base)) != NULL)
			return redirect(w, a->key,
			    (const char *const *)a->targets, a->ntargets);
		if ((u = find_user(t, base)) != NULL)
			return add_dest(w, u->key, u->maildir, detail);
	}

	/* 3. postmaster, RFC 5321 4.5.1 */
	if (llen == 10 && memcmp(key, "postmaster", 10) == 0) {
		return add_dest(w, key, arena_printf(w->arena,
		    "%s/%s/postmaster", t->mail_root, domain), "");
	}

	/* 4. catch-all, only for the address the client gave */
	if (top && dom->catchall != NULL) {
		w->res->via_catchall = true;
		return redirect(w, key, &dom->catchall, 1);
	}

	if (top)
		return walk_fail(w, LOCAL_UNKNOWN, "no such user here");
	w->res->reason = arena_printf(w->arena,
	    "alias target %s does not exist", key);
	w->res->status = LOCAL_BROKEN;
	return LOCAL_BROKEN;
}

enum local_status
local_resolve(const struct local_table *t, const char *local,
    const char *domain, struct arena *arena, struct local_result *res)
{
	struct walk w;
	char *key, *lc;
	enum local_status st;

	if (!t->sealed)
		abort();	/* a bug: lookups before local_table_seal() */
	memset(res, 0, sizeof(*res));
	memset(&w, 0, sizeof(w));
	w.t = t;
	w.arena = arena;
	w.res = res;

	lc = arena_strdup(arena, local);
	ascii_lower(lc);
	if (domain == NULL || *domain == '\0') {
		/* Only "<postmaster>" may come without a domain. */
		if (strcmp(lc, "postmaster") != 0)
			return walk_fail(&w, LOCAL_UNKNOWN,
			    "address without a domain");
		if (t->primary == NULL)
			return walk_fail(&w, LOCAL_BROKEN,
			    "no local domain for postmaster");
		domain = t->primary;
	}
	if (find_domain(t, domain) == NULL)
		return walk_fail(&w, LOCAL_NOT_LOCAL, "not a local domain");
	if (strlen(lc) > 64 * 4 || memchr(lc, '@', strlen(lc)) != NULL ||
	    *lc == '\0')
		return walk_fail(&w, LOCAL_UNKNOWN, "no such user here");
	key = arena_printf(arena, "%s@%s", lc, domain);
	st = resolve(&w, key, local, true);
	if (st == LOCAL_FOUND) {
		res->status = LOCAL_FOUND;
		res->reason = "ok";
	}
	return res->status;
}
