/*
 * Fuzz target for smtp/sasl. The first byte picks the mechanism name
 * (PLAIN, LOGIN, lowercase, unknown) and whether the first line is an
 * initial response; the rest is split at '\n' into client lines. Checks
 * the machine's promises: one status per call that matches its state,
 * challenges and replies from the known set, credentials that are
 * bounded, NUL-free, with a non-empty user and password and an authzid
 * that is empty or the user's. Any violation aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/sasl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_status(const struct sasl *s, enum sasl_status st)
{
	const struct sasl_creds *c;
	const char *r;

	switch (st) {
	case SASL_CONTINUE:
		if (strcmp(sasl_challenge(s), "") != 0 &&
		    strcmp(sasl_challenge(s), "VXNlcm5hbWU6") != 0 &&
		    strcmp(sasl_challenge(s), "UGFzc3dvcmQ6") != 0)
			abort();
		if (sasl_creds(s) != NULL)
			abort();
		break;
	case SASL_DONE:
		if ((c = sasl_creds(s)) == NULL)
			abort();
		if (strlen(c->authcid) == 0 || strlen(c->authcid) > SASL_ID_MAX ||
		    strlen(c->authzid) > SASL_ID_MAX ||
		    c->password_len == 0 || c->password_len > SASL_PASS_MAX ||
		    strlen(c->password) != c->password_len)
			abort();
		if (c->authzid[0] != '\0' && strcmp(c->authzid, c->authcid) != 0)
			abort();
		break;
	case SASL_ERROR:
		r = sasl_reply(s);
		if (r == NULL || r[0] < '4' || r[0] > '5' || strlen(r) < 10 ||
		    sasl_creds(s) != NULL || s->creds.password_len != 0)
			abort();
		break;
	default:
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const mechs[] = { "PLAIN", "LOGIN", "plain",
	    "login", "CRAM-MD5", "" };
	const char *p = (const char *)data, *end, *nl, *mech;
	enum sasl_status st;
	struct sasl s;
	size_t n;

	if (size == 0)
		return 0;
	mech = mechs[(data[0] & 0x7f) % 6];
	p++;
	end = (const char *)data + size;
	nl = memchr(p, '\n', (size_t)(end - p));
	n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
	if (data[0] & 0x80) {
		st = sasl_start(&s, mech, strlen(mech), p, n);
		p = nl != NULL ? nl + 1 : end;
	} else
		st = sasl_start(&s, mech, strlen(mech), NULL, 0);
	check_status(&s, st);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		st = sasl_step(&s, p, n);
		check_status(&s, st);
		p = nl != NULL ? nl + 1 : end;
	}
	sasl_clear(&s);
	if (sasl_creds(&s) != NULL || s.creds.password[0] != '\0')
		abort();
	return 0;
}
