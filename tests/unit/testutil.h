/*
 * testutil — what several unit tests need around the code under test:
 * a scratch directory and its removal. Failures are cmocka failures.
 */
#ifndef NETJES_TESTS_UNIT_TESTUTIL_H
#define NETJES_TESTS_UNIT_TESTUTIL_H

/* A new empty directory, $TMPDIR (else /tmp)/netjes-TAG-test.XXXXXX
 * made by mkdtemp (malloc'ed name). */
char	*testutil_tmpdir(const char *tag);
/* rm -rf path (the string stays the caller's). */
void	 testutil_rm_tree(const char *path);

#endif
