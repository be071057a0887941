/*
 * testutil — scratch directories for unit tests. See testutil.h.
 */
#include "testutil.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *
testutil_tmpdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char tmpl[PATH_MAX], *d;

	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	snprintf(tmpl, sizeof(tmpl), "%s/netjes-%s-test.XXXXXX", base, tag);
	assert_non_null(mkdtemp(tmpl));
	d = strdup(tmpl);
	assert_non_null(d);
	return d;
}

static int
testutil_rm_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
testutil_rm_tree(const char *path)
{
	nftw(path, testutil_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
