/* Unit tests for smtp/smtp_data: the DATA and BDAT content decoder,
 * with the SMTP smuggling battery. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "smtp/smtp_data.h"

struct sink {
	struct buf	 out;
	size_t		 calls;
	size_t		 fail_at;	/* fail on this call (1-based); 0: never */
};

static int
sink_fn(void *arg, const char *p, size_t n)
{
	struct sink *s = arg;

	assert_true(n > 0);
	if (++s->calls == s->fail_at)
		return -1;
	buf_append(&s->out, p, n);
	return 0;
}

/* What one run of the decoder produced. */
struct result {
	struct buf	 out;
	size_t		 used;		/* octets consumed up to the end */
	bool		 ended;
	uint64_t	 size;
	bool		 too_big, bare_cr, bare_lf, nul, sink_failed;
	int		 verdict;
	int		 code;
};

static void
result_free(struct result *r)
{
	buf_free(&r->out);
}

static struct smtp_data_opts
opts_default(void)
{
	struct smtp_data_opts o;

	memset(&o, 0, sizeof(o));
	return o;
}

/* Feeds a DATA stream cut at cuts[0..ncuts) and collects the result.
 * Feeding stops at the end of data; the rest is left unconsumed. */
static void
run_data(const char *s, size_t n, const size_t *cuts, size_t ncuts,
    const struct smtp_data_opts *opts_in, struct result *r)
{
	struct smtp_data_opts opts = *opts_in;
	struct smtp_data d;
	struct sink sk = { BUF_INIT, 0, 0 };
	struct smtp_reply rep;
	enum smtp_data_event ev = SMTP_DATA_MORE;
	size_t from = 0, k, used;

	opts.sink = sink_fn;
	opts.sink_arg = &sk;
	smtp_data_init(&d, &opts);
	memset(r, 0, sizeof(*r));
	for (k = 0; k <= ncuts && ev != SMTP_DATA_END; k++) {
		size_t to = k < ncuts ? cuts[k] : n;

		used = smtp_data_feed(&d, s + from, to - from, &ev);
		assert_true(used <= to - from);
		if (ev == SMTP_DATA_MORE)
			assert_int_equal(used, to - from);
		else
			assert_int_equal(ev, SMTP_DATA_END);
		r->used += used;
		from = to;
	}
	r->out = sk.out;
	r->ended = ev == SMTP_DATA_END;
	r->size = d.size;
	r->too_big = d.too_big;
	r->bare_cr = d.bare_cr;
	r->bare_lf = d.bare_lf;
	r->nul = d.nul;
	r->sink_failed = d.sink_failed;
	r->verdict = smtp_data_verdict(&d, &rep);
	r->code = r->verdict == 0 ? 250 : rep.code;
}

static void
same_result(const struct result *a, const struct result *b,
    const char *how)
{
	if (a->used != b->used || a->ended != b->ended ||
	    a->size != b->size || a->too_big != b->too_big ||
	    a->bare_cr != b->bare_cr || a->bare_lf != b->bare_lf ||
	    a->nul != b->nul || a->code != b->code ||
	    a->out.len != b->out.len ||
	    (a->out.len > 0 && memcmp(a->out.data, b->out.data,
	    a->out.len) != 0))
		fail_msg("%s: result differs from feeding at once "
		    "(used %zu/%zu ended %d/%d code %d/%d out %zu/%zu)", how,
		    a->used, b->used, a->ended, b->ended, a->code, b->code,
		    a->out.len, b->out.len);
}

/*
 * Runs s at once, then octet by octet, then split in two at every
 * offset; all must agree. The whole-input result is left in *r.
 */
static void
run_all_splits(const char *s, size_t n, const struct smtp_data_opts *o,
    struct result *r)
{
	struct result t;
	size_t *cuts, i;
	char how[64];

	run_data(s, n, NULL, 0, o, r);
	cuts = calloc(n + 1, sizeof(*cuts));
	assert_non_null(cuts);
	for (i = 0; i + 1 < n; i++)
		cuts[i] = i + 1;
	run_data(s, n, cuts, n > 0 ? n - 1 : 0, o, &t);
	same_result(r, &t, "1-octet pieces");
	result_free(&t);
	for (i = 0; i <= n; i++) {
		cuts[0] = i;
		run_data(s, n, cuts, 1, o, &t);
		snprintf(how, sizeof(how), "split at %zu", i);
		same_result(r, &t, how);
		result_free(&t);
	}
	free(cuts);
}

#define RUN(lit, o, r)	run_all_splits(lit, sizeof(lit) - 1, o, r)

static void
assert_out(const struct result *r, const char *want, size_t wantlen)
{
	if (r->out.len != wantlen || (wantlen > 0 &&
	    memcmp(r->out.data, want, wantlen) != 0))
		fail_msg("output \"%.*s\" (%zu), want \"%.*s\" (%zu)",
		    (int)r->out.len, r->out.data ? r->out.data : "",
		    r->out.len, (int)wantlen, want, wantlen);
}

#define ASSERT_OUT(r, lit)	assert_out(r, lit, sizeof(lit) - 1)

/* --- DATA basics ------------------------------------------------------ */

static void
test_simple_message(void **state)
{
	struct smtp_data_opts o = opts_default();
	struct result r;

	(void)state;
	RUN("Subject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n", &o, &r);
	assert_true(r.ended);
	assert_int_equal(r.used, 24);
	ASSERT_OUT(&r, "Subject: hi\r\n\r\nbody\r\n");
	assert_int_equal(r.size, 21);
	assert_int_equal(r.verdict, 0);
	assert_false(r.bare_cr || r.bare_lf || r.nul || r.too_big);
	result_free(&r);
}

static void
test_empty_message(void **state)
{
	struct smtp_data_opts o = opts_default();
	struct result r;

	(void)state;
	/* the CRLF of the DATA command is the one before the dot */
	RUN(".\r\nNOOP\r\n", &o, &r);
	assert_true(r.ended);
	assert_int_equal(r.used, 3);
	assert_int_equal(r.out.len, 0);
	assert_int_equal(r.size, 0);
	assert_int_equal(r.verdict, 0);
	result_free(&r);
}

static void
test_dot_unstuffing(void **state)
{
	struct smtp_data_opts o = opts_default();
	struct result r;

	(void)state;
	RUN("..\r\n..x\r\n...\r\na.b\r\n .\r\n.\r\n", &o, &r);
	assert_true(r.ended);
	ASSERT_OUT(&r, ".\r\n.x\r\n..\r\na.b\r\n .\r\n");
	assert_int_equal(r.size, r.out.len);
	assert_int_equal(r.verdict, 0);
	result_free(&r);

	/* a dot line that is not ".": the first dot goes, the rest stays */
	RUN(".x\r\n.\r\n", &o, &r);
	ASSERT_OUT(&r, "x\r\n");
	result_free(&r);
}

static void
test_not_ended_yet(void **state)
{
	struct smtp_data_opts o = opts_default();
	struct result r;

	(void)state;
	RUN("line\r\n.", &o, &r);
	assert_false(r.ended);
	assert_int_equal(r.used, 7);
	ASSERT_OUT(&r, "line\r\n");
	result_free(&r);
	RUN("line\r\n.\r", &o, &r);
	assert_false(r.ended);
	result_free(&r);
	RUN("line\r", &o, &r);
	assert_false(r.ended);
	ASSERT_OUT(&r, "line");
	result_free(&r);
}

static void
test_nul_is_noted_not_refused(void **state)
{
	struct smtp_data_opts o = opts_default();
	struct result r;

	(void)state;
	RUN("a\0b\r\n\0\r\n.\r\n", &o, &r);
	assert_true(r.ended);
	assert_true(r.nul);
	assert_out(&r, "a\0b\r\n\0\r\n", 8);
	assert_int_equal(r.verdict, 0);
	result_free(&r);
}

static void
test_eight_bit_passes(void **state)
{
	struct smtp_data_opts o = opts_default();
	struct result r;

	(void)state;
	RUN("caf\xc3\xa9\xff\r\n.\r\n", &o, &r);
	ASSERT_OUT(&r, "caf\xc3\xa9\xff\r\n");
	assert_int_equal(r.verdict, 0);
	result_free(&r);
}

/* --- the smuggling battery -------------------------------------------- */

/*
 * Each variant is a would-be end of data a lenient server might honour.
 * Put between a message and a smuggled second transaction, none may end
 * the data: only the final CRLF.CRLF does, the whole stream is used, and
 * the variants that hold a bare CR or LF get the message refused.
 */
enum smuggle_kind {
	CLEAN,	/* content, nothing wrong with it */
	BARE,	/* holds a bare CR or LF: refused */
	REAL,	/* a real end of data: the control group */
};

static const struct {
	const char	*seq;
	size_t		 len;
	enum smuggle_kind kind;
} smuggle[] = {
#define V(s, k)	{ s, sizeof(s) - 1, k }

	V("\n.\n", BARE),
	V("\n.\r\n", BARE),
	V("\r.\r", BARE),
	V("\r.\n", BARE),
	V("\r.\r\n", BARE),
	V("\r\n.\n", BARE),
	V("\r\n.\r", BARE),
	V("\n.\r", BARE),
	V("\r\n.\r\r\n", BARE),
	V("\r\r\n.\r\r\n", BARE),
	V("\n\n.\n\n", BARE),
	V("\r\r.\r\r", BARE),
	V("\n\r.\r\n", BARE),
	V("\r\n.\n\r\n", BARE),
	V("\r\n\0.\r\n", CLEAN),
	V("\r\n.\0\r\n", CLEAN),
	V("\0\r\n.\r\n\0", REAL),
	V("\r\n \r\n.\r\n", REAL),
	V("\r\n.\x0b\r\n", CLEAN),
	V("\r\n.\x0c\r\n", CLEAN),
	V("\r\n. \r\n", CLEAN),
	V("\r\n..\r\n", CLEAN),
	V("\r\n\x85.\r\n", CLEAN),
#undef V
};

#define SMUGGLE_HEAD	"From: a@example.org\r\nSubject: x\r\n\r\nhello"
#define SMUGGLE_TAIL	"MAIL FROM:<evil@example.org>\r\n" \
			"RCPT TO:<victim@example.org>\r\nDATA\r\n" \
			"Subject: smuggled\r\n\r\nspoofed\r\n"

static void
test_smuggling_battery(void **state)
{
	struct smtp_data_opts o = opts_default();
	struct result r;
	size_t i, n;
	char in[512];
	const char after[] = "QUIT\r\n";

	(void)state;
	for (i = 0; i < sizeof(smuggle) / sizeof(smuggle[0]); i++) {
		n = 0;
		memcpy(in, SMUGGLE_HEAD, sizeof(SMUGGLE_HEAD) - 1);
		n += sizeof(SMUGGLE_HEAD) - 1;
		memcpy(in + n, smuggle[i].seq, smuggle[i].len);
		n += smuggle[i].len;
		memcpy(in + n, SMUGGLE_TAIL, sizeof(SMUGGLE_TAIL) - 1);
		n += sizeof(SMUGGLE_TAIL) - 1;
		memcpy(in + n, ".\r\n", 3);
		n += 3;
		memcpy(in + n, after, sizeof(after) - 1);

		run_all_splits(in, n + sizeof(after) - 1, &o, &r);
		if (!r.ended)
			fail_msg("variant %zu: data never ended", i);
		if (smuggle[i].kind == REAL) {
			const char *dot = memmem(smuggle[i].seq,
			    smuggle[i].len, "\r\n.\r\n", 5);

			assert_non_null(dot);
			assert_int_equal(r.used, sizeof(SMUGGLE_HEAD) - 1 +
			    (size_t)(dot - smuggle[i].seq) + 5);
			result_free(&r);
			continue;
		}
		if (r.used != n)
			fail_msg("variant %zu ended early after %zu of %zu "
			    "octets", i, r.used, n);
		if ((r.bare_cr || r.bare_lf) != (smuggle[i].kind == BARE))
			fail_msg("variant %zu: bare flags %d/%d", i, r.bare_cr,
			    r.bare_lf);
		assert_int_equal(r.code, smuggle[i].kind == BARE ? 554 : 250);
		result_free(&r);
	}
}

/* The same battery with the bare octets written as CRLF: accepted, and
 * no line of the stored message is a lone "." any more than on the
 * wire, because the smuggled dot stays content. */
static void
test_smuggling_battery_normalize(void **state)
{
	struct smtp_data_opts o = opts_default();
	struct result r;

	(void)state;
	o.bare = SMTP_BARE_NORMALIZE;
	RUN("a\n.\nb\r\n.\r\n", &o, &r);
	assert_true(r.ended);
	assert_true(r.bare_lf);
	assert_int_equal(r.verdict, 0);
	ASSERT_OUT(&r, "a\r\n.\r\nb\r\n");
	assert_int_equal(r.size, 9);
	result_free(&r);

	RUN("a\r.\rb\r\n.\r\n", &o, &r);
	assert_true(r.bare_cr);
	assert_int_equal(r.verdict, 0);
	ASSERT_OUT(&r, "a\r\n.\r\nb\r\n");
	result_free(&r);

	/* CRLF "." LF: the dot was stuffing, the LF is bare */
	RUN("a\r\n.\nb\r\n.\r\n", &o, &r);
	ASSERT_OUT(&r, "a\r\n\r\nb\r\n");
	result_free(&r);
}

static void
test_bare_reject_reply(void **state)
{
	struct smtp_data_opts o = opts_default();
	struct smtp_data d;
	struct smtp_reply rep;
	enum smtp_data_event ev;
	static const char in[] = "a\nb\rc\r\n.\r\n";

	(void)state;
	smtp_data_init(&d, &o);
	assert_int_equal(smtp_data_feed(&d, in, sizeof(in) - 1, &ev),
	    sizeof(in) - 1);
	assert_int_equal(ev, SMTP_DATA_END);
	assert_int_equal(smtp_data_verdict(&d, &rep), -1);
	assert_int_equal(rep.code, 554);
	assert_string_equal(rep.enhanced, "5.6.0");
	assert_non_null(strstr(rep.text, "CR and LF"));
	/* feeding after the end uses nothing */
	assert_int_equal(smtp_data_feed(&d, "x", 1, &ev), 0);
	assert_int_equal(ev, SMTP_DATA_END);
}

/* --- size limit and sink failures ------------------------------------- */

static void
test_size_limit_counts_but_stops_storing(void **state)
{
	struct smtp_data_opts o = opts_default();
	struct result r;

	(void)state;
	o.max_size = 10;
	RUN("0123456789abcdef\r\n.\r\nQUIT\r\n", &o, &r);
	assert_true(r.ended);
	assert_int_equal(r.used, 21);
	assert_int_equal(r.size, 18);
	assert_true(r.too_big);
	ASSERT_OUT(&r, "0123456789");
	assert_int_equal(r.code, 552);
	result_free(&r);

	/* exactly at the limit is fine */
	o.max_size = 6;
	RUN("abcd\r\n.\r\n", &o, &r);
	assert_false(r.too_big);
	assert_int_equal(r.size, 6);
	assert_int_equal(r.verdict, 0);
	result_free(&r);
	o.max_size = 5;
	RUN("abcd\r\n.\r\n", &o, &r);
	assert_true(r.too_big);
	ASSERT_OUT(&r, "abcd\r");
	result_free(&r);
}

static void
test_size_limit_large_message(void **state)
{
	struct smtp_data_opts o = opts_default();
	struct smtp_data d;
	struct sink sk = { BUF_INIT, 0, 0 };
	struct smtp_reply rep;
	enum smtp_data_event ev;
	char block[1000];
	size_t i;

	(void)state;
	memset(block, 'x', sizeof(block));
	memcpy(block + sizeof(block) - 2, "\r\n", 2);
	o.max_size = 50000;
	o.sink = sink_fn;
	o.sink_arg = &sk;
	smtp_data_init(&d, &o);
	for (i = 0; i < 100; i++) {
		assert_int_equal(smtp_data_feed(&d, block, sizeof(block), &ev),
		    sizeof(block));
		assert_int_equal(ev, SMTP_DATA_MORE);
	}
	assert_int_equal(smtp_data_feed(&d, ".\r\n", 3, &ev), 3);
	assert_int_equal(ev, SMTP_DATA_END);
	assert_int_equal(d.size, 100000);
	assert_int_equal(sk.out.len, 50000);
	assert_int_equal(smtp_data_verdict(&d, &rep), -1);
	assert_int_equal(rep.code, 552);
	assert_string_equal(rep.enhanced, "5.3.4");
	buf_free(&sk.out);
}

static void
test_sink_failure(void **state)
{
	struct smtp_data_opts o = opts_default();
	struct smtp_data d;
	struct sink sk = { BUF_INIT, 0, 1 };
	struct smtp_reply rep;
	enum smtp_data_event ev;
	static const char in[] = "abc\r\n.\r\n";

	(void)state;
	o.sink = sink_fn;
	o.sink_arg = &sk;
	smtp_data_init(&d, &o);
	assert_int_equal(smtp_data_feed(&d, in, 2, &ev), 2);
	assert_int_equal(smtp_data_feed(&d, in + 2, sizeof(in) - 3, &ev),
	    sizeof(in) - 3);
	assert_int_equal(ev, SMTP_DATA_END);
	assert_true(d.sink_failed);
	assert_int_equal(sk.calls, 1);	/* not called again after failing */
	assert_int_equal(smtp_data_verdict(&d, &rep), -1);
	assert_int_equal(rep.code, 451);
	assert_string_equal(rep.enhanced, "4.3.0");
	buf_free(&sk.out);
}

static void
test_verdict_order(void **state)
{
	struct smtp_data_opts o = opts_default();
	struct result r;

	(void)state;
	/* too big and bare: the size wins, the message is incomplete */
	o.max_size = 3;
	RUN("a\nbcdef\r\n.\r\n", &o, &r);
	assert_true(r.too_big);
	assert_true(r.bare_lf);
	assert_int_equal(r.code, 552);
	result_free(&r);
}

static void
test_no_sink_counts_only(void **state)
{
	struct smtp_data_opts o = opts_default();
	struct smtp_data d;
	enum smtp_data_event ev;

	(void)state;
	smtp_data_init(&d, &o);
	assert_int_equal(smtp_data_feed(&d, "abc\r\n.\r\n", 8, &ev), 8);
	assert_int_equal(ev, SMTP_DATA_END);
	assert_int_equal(d.size, 5);
}

/* --- BDAT ------------------------------------------------------------- */

/* Feeds one BDAT chunk of s[0..n) plus trailing octets after it, in
 * pieces of step octets; returns the event of the chunk's end. */
static enum smtp_data_event
bdat_chunk(struct smtp_data *d, const char *s, size_t n, bool last,
    const char *after, size_t step)
{
	enum smtp_data_event ev = SMTP_DATA_MORE;
	char buf[1024];
	size_t total, off = 0, used, k;

	assert_true(n + strlen(after) <= sizeof(buf));
	memcpy(buf, s, n);
	memcpy(buf + n, after, strlen(after));
	total = n + strlen(after);
	smtp_data_bdat_chunk(d, n, last);
	if (n == 0) {
		assert_int_equal(smtp_data_feed(d, buf, total, &ev), 0);
		return ev;
	}
	while (off < total) {
		k = total - off < step ? total - off : step;
		used = smtp_data_feed(d, buf + off, k, &ev);
		off += used;
		if (ev != SMTP_DATA_MORE)
			break;
		assert_int_equal(used, k);
	}
	assert_int_equal(off, n);	/* never a byte past the chunk */
	return ev;
}

static void
test_bdat_exact_counts_no_unstuffing(void **state)
{
	struct smtp_data_opts o = opts_default();
	struct sink sk = { BUF_INIT, 0, 0 };
	struct smtp_data d;
	struct smtp_reply rep;
	size_t step;

	(void)state;
	o.sink = sink_fn;
	o.sink_arg = &sk;
	for (step = 1; step <= 20; step++) {
		buf_reset(&sk.out);
		smtp_data_init_bdat(&d, &o);
		assert_int_equal(bdat_chunk(&d, "..\r\n.\r\n", 7, false,
		    "BDAT 5 LAST\r\n", step), SMTP_DATA_CHUNK_END);
		assert_int_equal(bdat_chunk(&d, "x\r\n\r\n", 5, true,
		    "QUIT\r\n", step), SMTP_DATA_END);
		assert_int_equal(sk.out.len, 12);
		assert_memory_equal(sk.out.data, "..\r\n.\r\nx\r\n\r\n", 12);
		assert_int_equal(d.size, 12);
		assert_int_equal(smtp_data_verdict(&d, &rep), 0);
	}
	buf_free(&sk.out);
}

static void
test_bdat_zero_chunks(void **state)
{
	struct smtp_data_opts o = opts_default();
	struct smtp_data d;
	struct smtp_reply rep;

	(void)state;
	smtp_data_init_bdat(&d, &o);
	assert_int_equal(bdat_chunk(&d, "", 0, false, "BDAT", 1),
	    SMTP_DATA_CHUNK_END);
	assert_int_equal(bdat_chunk(&d, "a\r\n", 3, false, "", 1),
	    SMTP_DATA_CHUNK_END);
	assert_int_equal(bdat_chunk(&d, "", 0, true, "QUIT\r\n", 1),
	    SMTP_DATA_END);
	assert_int_equal(d.size, 3);
	assert_int_equal(smtp_data_verdict(&d, &rep), 0);
}

static void
test_bdat_crlf_across_chunks(void **state)
{
	struct smtp_data_opts o = opts_default();
	struct smtp_data d;
	struct smtp_reply rep;

	(void)state;
	smtp_data_init_bdat(&d, &o);
	assert_int_equal(bdat_chunk(&d, "a\r", 2, false, "", 1),
	    SMTP_DATA_CHUNK_END);
	assert_int_equal(bdat_chunk(&d, "\nb\r\n", 4, true, "", 1),
	    SMTP_DATA_END);
	assert_false(d.bare_cr || d.bare_lf);
	assert_int_equal(smtp_data_verdict(&d, &rep), 0);
}

static void
test_bdat_bare_cr_lf(void **state)
{
	struct smtp_data_opts o = opts_default();
	struct smtp_data d;
	struct smtp_reply rep;

	(void)state;
	smtp_data_init_bdat(&d, &o);
	assert_int_equal(bdat_chunk(&d, "a\n.\nb\r\n", 7, true, "", 3),
	    SMTP_DATA_END);
	assert_true(d.bare_lf);
	assert_int_equal(smtp_data_verdict(&d, &rep), -1);
	assert_int_equal(rep.code, 554);

	/* a CR that ends the whole message is bare */
	smtp_data_init_bdat(&d, &o);
	assert_int_equal(bdat_chunk(&d, "a\r\nb\r", 5, true, "", 2),
	    SMTP_DATA_END);
	assert_true(d.bare_cr);
	assert_int_equal(smtp_data_verdict(&d, &rep), -1);

	/* a CR before a chunk boundary and a non-LF after it */
	smtp_data_init_bdat(&d, &o);
	assert_int_equal(bdat_chunk(&d, "a\r", 2, false, "", 2),
	    SMTP_DATA_CHUNK_END);
	assert_int_equal(bdat_chunk(&d, "b\r\n", 3, true, "", 2),
	    SMTP_DATA_END);
	assert_true(d.bare_cr);
}

static void
test_bdat_binarymime_passes_everything(void **state)
{
	struct smtp_data_opts o = opts_default();
	struct sink sk = { BUF_INIT, 0, 0 };
	struct smtp_data d;
	struct smtp_reply rep;

	(void)state;
	o.binary = true;
	o.sink = sink_fn;
	o.sink_arg = &sk;
	smtp_data_init_bdat(&d, &o);
	assert_int_equal(bdat_chunk(&d, "\n\r\0.\r", 5, true, "", 2),
	    SMTP_DATA_END);
	assert_false(d.bare_cr || d.bare_lf || d.nul);
	assert_int_equal(sk.out.len, 5);
	assert_memory_equal(sk.out.data, "\n\r\0.\r", 5);
	assert_int_equal(smtp_data_verdict(&d, &rep), 0);
	buf_free(&sk.out);

	/* DATA never decodes binary, whatever the options say */
	smtp_data_init(&d, &o);
	assert_false(d.opts.binary);
}

static void
test_bdat_size_limit(void **state)
{
	struct smtp_data_opts o = opts_default();
	struct sink sk = { BUF_INIT, 0, 0 };
	struct smtp_data d;
	struct smtp_reply rep;

	(void)state;
	o.max_size = 4;
	o.sink = sink_fn;
	o.sink_arg = &sk;
	smtp_data_init_bdat(&d, &o);
	assert_int_equal(bdat_chunk(&d, "abc", 3, false, "", 7),
	    SMTP_DATA_CHUNK_END);
	assert_int_equal(bdat_chunk(&d, "def\r\n", 5, true, "NOOP\r\n", 7),
	    SMTP_DATA_END);
	assert_int_equal(d.size, 8);
	assert_true(d.too_big);
	assert_int_equal(sk.out.len, 4);
	assert_int_equal(smtp_data_verdict(&d, &rep), -1);
	assert_int_equal(rep.code, 552);
	buf_free(&sk.out);
}

static void
test_bdat_huge_chunk_counts(void **state)
{
	struct smtp_data_opts o = opts_default();
	struct smtp_data d;
	enum smtp_data_event ev;
	char block[4096];
	size_t i;

	(void)state;
	memset(block, 'z', sizeof(block));
	o.max_size = 1;
	smtp_data_init_bdat(&d, &o);
	smtp_data_bdat_chunk(&d, (uint64_t)sizeof(block) * 64 + 1, true);
	for (i = 0; i < 64; i++) {
		assert_int_equal(smtp_data_feed(&d, block, sizeof(block), &ev),
		    sizeof(block));
		assert_int_equal(ev, SMTP_DATA_MORE);
	}
	assert_int_equal(smtp_data_feed(&d, block, sizeof(block), &ev), 1);
	assert_int_equal(ev, SMTP_DATA_END);
	assert_int_equal(d.size, sizeof(block) * 64 + 1);
	assert_true(d.too_big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_message),
		cmocka_unit_test(test_empty_message),
		cmocka_unit_test(test_dot_unstuffing),
		cmocka_unit_test(test_not_ended_yet),
		cmocka_unit_test(test_nul_is_noted_not_refused),
		cmocka_unit_test(test_eight_bit_passes),
		cmocka_unit_test(test_smuggling_battery),
		cmocka_unit_test(test_smuggling_battery_normalize),
		cmocka_unit_test(test_bare_reject_reply),
		cmocka_unit_test(test_size_limit_counts_but_stops_storing),
		cmocka_unit_test(test_size_limit_large_message),
		cmocka_unit_test(test_sink_failure),
		cmocka_unit_test(test_verdict_order),
		cmocka_unit_test(test_no_sink_counts_only),
		cmocka_unit_test(test_bdat_exact_counts_no_unstuffing),
		cmocka_unit_test(test_bdat_zero_chunks),
		cmocka_unit_test(test_bdat_crlf_across_chunks),
		cmocka_unit_test(test_bdat_bare_cr_lf),
		cmocka_unit_test(test_bdat_binarymime_passes_everything),
		cmocka_unit_test(test_bdat_size_limit),
		cmocka_unit_test(test_bdat_huge_chunk_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
