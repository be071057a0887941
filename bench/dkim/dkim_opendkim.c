/*
 * dkim_opendkim — DKIM verify and sign throughput of libopendkim (the
 * library inside opendkim(8), Debian's libopendkim-dev), one core, in
 * process, on the same corpus and key as dkim_netjes.
 *
 *	dkim_opendkim verify PUBTXT LIST SECONDS
 *	dkim_opendkim sign KEY.pem LIST SECONDS [ed25519]
 *
 * The message goes in the way the milter feeds it: one dkim_header() per
 * header field (folding kept, no final CRLF), dkim_eoh(), the body in one
 * dkim_body(), dkim_eom(). Keys: dkim_set_key_lookup() answers from
 * memory (the warm-cache equivalent of dkim_netjes's dkim_verify_key()).
 * Signing: dkim_sign() with the PEM text per message (libopendkim takes
 * the key that way and parses it each time: that is its API's cost),
 * rsa-sha256 (ed25519-sha256 with the last argument), relaxed/relaxed,
 * OpenDKIM's default header selection.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <opendkim/dkim.h>

#include "lib/benchutil.h"

static char *txt;
static size_t txt_len;
static char *keypem;
static dkim_alg_t sign_alg = DKIM_SIGN_RSASHA256;
static DKIM_LIB *lib;

static DKIM_CBSTAT
key_lookup(DKIM *d, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	(void)d;
	(void)sig;
	if (txt_len + 1 > buflen)
		return DKIM_CBSTAT_ERROR;
	memcpy(buf, txt, txt_len + 1);
	return DKIM_CBSTAT_CONTINUE;
}

/* Feed header fields one by one, then the body. 0 or -1. */
static int
feed(DKIM *d, const char *m, size_t n)
{
	size_t i = 0, start;

	while (i < n) {
		if (i + 1 < n && m[i] == '\r' && m[i + 1] == '\n') {
			i += 2;	/* the empty line */
			break;
		}
		start = i;
		for (;;) {
			const char *e = memchr(m + i, '\n', n - i);

			i = e == NULL ? n : (size_t)(e - m) + 1;
			if (i >= n || (m[i] != ' ' && m[i] != '\t'))
				break;
		}
		if (dkim_header(d, (u_char *)m + start, i - start - 2) !=
		    DKIM_STAT_OK)
			return -1;
	}
	if (dkim_eoh(d) != DKIM_STAT_OK)
		return -1;
	if (i < n && dkim_body(d, (u_char *)m + i, n - i) != DKIM_STAT_OK)
		return -1;
	return 0;
}

static const char *
verify_one(const char *m, size_t n)
{
	DKIM_STAT st;
	DKIM *d = dkim_verify(lib, (const u_char *)"bench", NULL, &st);
	const char *out = "fail";

	if (d == NULL)
		return "error";
	if (feed(d, m, n) == 0) {
		st = dkim_eom(d, NULL);
		if (st == DKIM_STAT_OK)
			out = "pass";
		else if (st == DKIM_STAT_NOSIG)
			out = "none";
	}
	dkim_free(d);
	return out;
}

static const char *
sign_one(const char *m, size_t n)
{
	unsigned char hdr[4096];
	DKIM_STAT st;
	DKIM *d = dkim_sign(lib, (const u_char *)"bench", NULL,
	    (dkim_sigkey_t)keypem, (const u_char *)"s2048",
	    (const u_char *)"bench.example", DKIM_CANON_RELAXED,
	    DKIM_CANON_RELAXED, sign_alg, -1, &st);
	const char *out = "error";

	if (d == NULL)
		return out;
	if (feed(d, m, n) == 0 && dkim_eom(d, NULL) == DKIM_STAT_OK &&
	    dkim_getsighdr(d, hdr, sizeof(hdr), 16) == DKIM_STAT_OK)
		out = "ok";
	dkim_free(d);
	return out;
}

int
main(int argc, char **argv)
{
	struct bench_check chk;
	char **paths, **msg;
	size_t n, i, *len, count = 0, nok = 0, bytes = 0;
	const char *(*one)(const char *, size_t);
	double secs, t0, t;

	if (argc == 6 && strcmp(argv[5], "ed25519") == 0)
		sign_alg = DKIM_SIGN_ED25519SHA256;
	else if (argc != 5) {
		fprintf(stderr, "usage: dkim_opendkim verify|sign PUBTXT|KEY "
		    "LIST SECONDS [ed25519]\n");
		return 2;
	}
	secs = atof(argv[4]);
	if ((lib = dkim_init(NULL, NULL)) == NULL)
		return 1;
	if (strcmp(argv[1], "verify") == 0) {
		txt = bench_read_file(argv[2], &txt_len);
		while (txt_len > 0 && (txt[txt_len - 1] == '\n' ||
		    txt[txt_len - 1] == '\r'))
			txt[--txt_len] = '\0';
		if (dkim_set_key_lookup(lib, key_lookup) != DKIM_STAT_OK)
			return 1;
		one = verify_one;
	} else if (strcmp(argv[1], "sign") == 0) {
		keypem = bench_read_file(argv[2], NULL);
		one = sign_one;
	} else
		return 2;

	paths = bench_read_lines(argv[3], &n);
	msg = calloc(n, sizeof(*msg));
	len = calloc(n, sizeof(*len));
	if (msg == NULL || len == NULL)
		abort();
	for (i = 0; i < n; i++) {
		msg[i] = bench_read_file(paths[i], &len[i]);
		bytes += len[i];
	}
	bench_check_init(&chk);
	for (i = 0; i < n; i++) {
		const char *r = one(msg[i], len[i]);

		nok += strcmp(r, "pass") == 0 || strcmp(r, "ok") == 0;
		bench_check_add(&chk, r);
	}
	t0 = bench_now();
	do {
		for (i = 0; i < n; i++)
			(void)one(msg[i], len[i]);
		count += n;
		t = bench_now() - t0;
	} while (t < secs);
	printf("BENCH impl=opendkim op=%s n=%zu secs=%.3f rate=%.1f "
	    "check=%016llx ok=%zu/%zu avg_bytes=%zu\n", argv[1], count, t,
	    (double)count / t, (unsigned long long)chk.h, nok, n, bytes / n);
	dkim_close(lib);
	return 0;
}
