/*
 * sasl — SASL PLAIN and LOGIN, server side. See sasl.h.
 *
 * Decoding goes into a fixed buffer on the stack (never a growing heap
 * buffer, whose reallocations would leave copies of a password behind)
 * and that buffer is wiped before every return.
 */
#include "smtp/sasl.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

/* Base64 of "Username:" and "Password:", the LOGIN prompts. */
#define LOGIN_PROMPT_USER	"VXNlcm5hbWU6"
#define LOGIN_PROMPT_PASS	"UGFzc3dvcmQ6"

/* Decoded bytes of the longest line we accept. */
#define DECODED_MAX		(SASL_LINE_MAX / 4 * 3)

static const signed char b64val[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6,
	['G'] = 7, ['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12,
	['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18,
	['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
	['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
	['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
	['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
	['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
	['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54,
	['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60,
	['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
};	/* value + 1; 0 = not in the alphabet */

/*
 * Strict RFC 4648 decoding into out (room for DECODED_MAX bytes): the
 * length is a multiple of 4, '=' only as padding of the last quantum,
 * unused bits zero. A lone "=" is the empty response (RFC 4954 4).
 * Returns the decoded length or -1.
 */
static long
sasl_b64_decode(const char *s, size_t n, unsigned char *out)
{
	size_t i, o = 0;

	if (n == 1 && s[0] == '=')
		return 0;
	if (n % 4 != 0 || n > SASL_LINE_MAX)
		return -1;
	for (i = 0; i < n; i += 4) {
		int v[4], pad = 0, k;
		uint32_t q;

		for (k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)s[i + k];

			if (c == '=' && i + 4 == n && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad > 0 || b64val[c] == 0)
				return -1;
			v[k] = b64val[c] - 1;
		}
		q = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
		    (uint32_t)v[2] << 6 | (uint32_t)v[3];
		if ((pad == 1 && (q & 0xff) != 0) ||
		    (pad == 2 && (q & 0xffff) != 0))
			return -1;
		out[o++] = (unsigned char)(q >> 16);
		if (pad < 2)
			out[o++] = (unsigned char)(q >> 8);
		if (pad < 1)
			out[o++] = (unsigned char)q;
	}
	return (long)o;
}

/* Well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
static int
utf8_valid(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = p[i];
		size_t len, k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else
			return 0;
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

/* Any C0 control byte or DEL: not in an identity (it would reach logs). */
static int
has_control(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return 1;
	return 0;
}

static void
wipe_creds(struct sasl_creds *c)
{
	explicit_bzero(c->authzid, sizeof(c->authzid));
	explicit_bzero(c->authcid, sizeof(c->authcid));
	explicit_bzero(c->password, sizeof(c->password));
	c->password_len = 0;
}

static enum sasl_status
sasl_fail(struct sasl *s, const char *reply)
{
	wipe_creds(&s->creds);
	s->state = SASL_S_FAILED;
	s->reply = reply;
	s->challenge[0] = '\0';
	return SASL_ERROR;
}

static enum sasl_status
sasl_continue(struct sasl *s, enum sasl_state next, const char *challenge)
{
	s->state = next;
	s->reply = NULL;
	strcpy(s->challenge, challenge);	/* our constants, short */
	return SASL_CONTINUE;
}

/*
 * Check one decoded field and copy it into dst (room for max + 1).
 * Returns NULL or the reply that rejects it.
 */
static const char *
sasl_field(char *dst, size_t max, const unsigned char *p, size_t n,
    int identity)
{
	if (n > max)
		return SASL_REPLY_TOO_LONG;
	if (memchr(p, '\0', n) != NULL)
		return SASL_REPLY_MALFORMED;
	if (!utf8_valid(p, n))
		return SASL_REPLY_BAD_UTF8;
	if (identity && has_control(p, n))
		return SASL_REPLY_MALFORMED;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return NULL;
}

/* The authzid must be empty or the authcid itself: no proxy auth. */
static enum sasl_status
sasl_finish(struct sasl *s)
{
	if (s->creds.authcid[0] == '\0' || s->creds.password_len == 0)
		return sasl_fail(s, SASL_REPLY_MALFORMED);
	if (s->creds.authzid[0] != '\0' &&
	    strcmp(s->creds.authzid, s->creds.authcid) != 0)
		return sasl_fail(s, SASL_REPLY_AUTHZID);
	s->state = SASL_S_DONE;
	s->reply = NULL;
	s->challenge[0] = '\0';
	return SASL_DONE;
}

/* PLAIN: message = [authzid] NUL authcid NUL passwd (RFC 4616 2). */
static enum sasl_status
sasl_plain(struct sasl *s, const unsigned char *p, size_t n)
{
	const unsigned char *nul1, *nul2, *end = p + n;
	const char *bad;

	if ((nul1 = memchr(p, '\0', n)) == NULL ||
	    (nul2 = memchr(nul1 + 1, '\0', (size_t)(end - nul1 - 1))) == NULL)
		return sasl_fail(s, SASL_REPLY_MALFORMED);
	/* a third NUL lands in the password and is refused by sasl_field() */
	if ((bad = sasl_field(s->creds.authzid, SASL_ID_MAX, p,
	    (size_t)(nul1 - p), 1)) != NULL ||
	    (bad = sasl_field(s->creds.authcid, SASL_ID_MAX, nul1 + 1,
	    (size_t)(nul2 - nul1 - 1), 1)) != NULL ||
	    (bad = sasl_field(s->creds.password, SASL_PASS_MAX, nul2 + 1,
	    (size_t)(end - nul2 - 1), 0)) != NULL)
		return sasl_fail(s, bad);
	s->creds.password_len = (size_t)(end - nul2 - 1);
	return sasl_finish(s);
}

/* One decoded response in the current state. */
static enum sasl_status
sasl_response(struct sasl *s, const unsigned char *p, size_t n)
{
	const char *bad;

	switch (s->state) {
	case SASL_S_PLAIN_RESPONSE:
		return sasl_plain(s, p, n);
	case SASL_S_LOGIN_USER:
		if ((bad = sasl_field(s->creds.authcid, SASL_ID_MAX, p, n,
		    1)) != NULL)
			return sasl_fail(s, bad);
		if (n == 0)
			return sasl_fail(s, SASL_REPLY_MALFORMED);
		return sasl_continue(s, SASL_S_LOGIN_PASS, LOGIN_PROMPT_PASS);
	case SASL_S_LOGIN_PASS:
		if ((bad = sasl_field(s->creds.password, SASL_PASS_MAX, p, n,
		    0)) != NULL)
			return sasl_fail(s, bad);
		s->creds.password_len = n;
		return sasl_finish(s);
	default:
		return sasl_fail(s, SASL_REPLY_SEQUENCE);
	}
}

/* Decode one line from the client and feed it to the machine. */
static enum sasl_status
sasl_line(struct sasl *s, const char *line, size_t n)
{
	unsigned char dec[DECODED_MAX] = { 0 };
	enum sasl_status st;
	long len;

	if (n == 1 && line[0] == '*')
		return sasl_fail(s, SASL_REPLY_ABORTED);
	if (n > SASL_LINE_MAX)
		return sasl_fail(s, SASL_REPLY_TOO_LONG);
	if ((len = sasl_b64_decode(line, n, dec)) < 0)
		st = sasl_fail(s, SASL_REPLY_BAD_BASE64);
	else
		st = sasl_response(s, dec, (size_t)len);
	explicit_bzero(dec, sizeof(dec));
	return st;
}

int
sasl_mech_parse(const char *s, size_t n, enum sasl_mech *out)
{
	if (n == 5 && strncasecmp(s, "PLAIN", 5) == 0)
		*out = SASL_MECH_PLAIN;
	else if (n == 5 && strncasecmp(s, "LOGIN", 5) == 0)
		*out = SASL_MECH_LOGIN;
	else
		return -1;
	return 0;
}

const char *
sasl_mech_name(enum sasl_mech m)
{
	switch (m) {
	case SASL_MECH_PLAIN:
		return "PLAIN";
	case SASL_MECH_LOGIN:
		return "LOGIN";
	default:
		return "NONE";
	}
}

enum sasl_status
sasl_start(struct sasl *s, const char *mech, size_t mechlen,
    const char *initial, size_t initlen)
{
	enum sasl_mech m;

	sasl_clear(s);
	if (sasl_mech_parse(mech, mechlen, &m) != 0)
		return sasl_fail(s, SASL_REPLY_UNKNOWN_MECH);
	s->mech = m;
	if (m == SASL_MECH_PLAIN) {
		/* PLAIN's server challenge is empty: "334 " */
		if (initial == NULL)
			return sasl_continue(s, SASL_S_PLAIN_RESPONSE, "");
		s->state = SASL_S_PLAIN_RESPONSE;
	} else {
		/* LOGIN: an initial response, if any, is the user name */
		if (initial == NULL)
			return sasl_continue(s, SASL_S_LOGIN_USER,
			    LOGIN_PROMPT_USER);
		s->state = SASL_S_LOGIN_USER;
	}
	return sasl_line(s, initial, initlen);
}

enum sasl_status
sasl_step(struct sasl *s, const char *line, size_t n)
{
	switch (s->state) {
	case SASL_S_PLAIN_RESPONSE:
	case SASL_S_LOGIN_USER:
	case SASL_S_LOGIN_PASS:
		return sasl_line(s, line, n);
	default:
		return sasl_fail(s, SASL_REPLY_SEQUENCE);
	}
}

const char *
sasl_challenge(const struct sasl *s)
{
	return s->challenge;
}

const char *
sasl_reply(const struct sasl *s)
{
	return s->reply != NULL ? s->reply : SASL_REPLY_SEQUENCE;
}

const struct sasl_creds *
sasl_creds(const struct sasl *s)
{
	return s->state == SASL_S_DONE ? &s->creds : NULL;
}

void
sasl_clear(struct sasl *s)
{
	wipe_creds(&s->creds);
	memset(s->challenge, 0, sizeof(s->challenge));
	s->mech = SASL_MECH_NONE;
	s->state = SASL_S_IDLE;
	s->reply = NULL;
}
