/*
 * Fuzz target for smtp/smtp_data (DATA and BDAT content) and
 * smtp/smtp_line (command lines): the decoders must give the same result
 * whatever the pieces the stream arrives in.
 *
 * Input: a 4-byte header, then the stream. Header byte 0 picks the mode
 * (DATA, BDAT, BDAT binary, command lines) and the bare CR/LF policy,
 * byte 1 a size limit, bytes 2-3 the seed of the piece sizes (and for
 * BDAT where the chunks end). Each stream is decoded at once and in
 * pseudo-random pieces; everything observable must agree. A DATA
 * message that was accepted must also survive a round trip: dot-stuffed
 * again and decoded, it comes back the same.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "smtp/smtp_data.h"
#include "smtp/smtp_line.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint32_t
next_rand(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

static int
sink_fn(void *arg, const char *p, size_t n)
{
	buf_append(arg, p, n);
	return 0;
}

struct outcome {
	struct buf	 out;
	size_t		 used;
	int		 last_ev;
	uint64_t	 size;
	unsigned	 flags;
	int		 code;
};

static unsigned
flags_of(const struct smtp_data *d)
{
	return (unsigned)d->too_big | (unsigned)d->bare_cr << 1 |
	    (unsigned)d->bare_lf << 2 | (unsigned)d->nul << 3 |
	    (unsigned)d->sink_failed << 4 | (unsigned)d->ended << 5;
}

/* Pieces: 0 = all at once, else sizes 1..maxpiece from seed. */
static size_t
piece(uint32_t *seed, size_t left, size_t maxpiece)
{
	size_t k;

	if (maxpiece == 0)
		return left;
	k = 1 + next_rand(seed) % maxpiece;
	return k < left ? k : left;
}

static void
run_data(const char *s, size_t n, const struct smtp_data_opts *o_in,
    uint32_t seed, size_t maxpiece, struct outcome *r)
{
	struct smtp_data_opts o = *o_in;
	struct smtp_data d;
	struct smtp_reply rep;
	enum smtp_data_event ev = SMTP_DATA_MORE;
	size_t off = 0;

	buf_init(&r->out);
	o.sink = sink_fn;
	o.sink_arg = &r->out;
	smtp_data_init(&d, &o);
	while (off < n && ev == SMTP_DATA_MORE) {
		size_t k = piece(&seed, n - off, maxpiece);
		size_t used = smtp_data_feed(&d, s + off, k, &ev);

		if (used > k || (ev == SMTP_DATA_MORE && used != k))
			abort();
		off += used;
	}
	r->used = off;
	r->last_ev = ev;
	r->size = d.size;
	r->flags = flags_of(&d);
	r->code = smtp_data_verdict(&d, &rep) == 0 ? 250 : rep.code;
}

/* BDAT: the stream is cut into chunks at positions drawn from cseed;
 * the last chunk is LAST. */
static void
run_bdat(const char *s, size_t n, const struct smtp_data_opts *o_in,
    uint32_t cseed, uint32_t seed, size_t maxpiece, struct outcome *r)
{
	struct smtp_data_opts o = *o_in;
	struct smtp_data d;
	struct smtp_reply rep;
	enum smtp_data_event ev = SMTP_DATA_MORE;
	size_t off = 0;

	buf_init(&r->out);
	o.sink = sink_fn;
	o.sink_arg = &r->out;
	smtp_data_init_bdat(&d, &o);
	for (;;) {
		size_t chunk = n - off, got = 0;
		bool last;

		if (chunk > 0)
			chunk = next_rand(&cseed) % (chunk + 1);
		last = off + chunk == n && (next_rand(&cseed) & 1);
		if (off + chunk == n && chunk == 0)
			last = true;
		smtp_data_bdat_chunk(&d, chunk, last);
		ev = SMTP_DATA_MORE;
		do {
			size_t k = piece(&seed, n - off - got, maxpiece);
			size_t used = smtp_data_feed(&d, s + off + got, k, &ev);

			if (used > k || (ev == SMTP_DATA_MORE && used != k))
				abort();
			got += used;
		} while (ev == SMTP_DATA_MORE);
		if (got != chunk)
			abort();
		off += chunk;
		if (ev == SMTP_DATA_END)
			break;
		if (ev != SMTP_DATA_CHUNK_END || last)
			abort();
	}
	r->used = off;
	r->last_ev = ev;
	r->size = d.size;
	r->flags = flags_of(&d);
	r->code = smtp_data_verdict(&d, &rep) == 0 ? 250 : rep.code;
}

static void
run_lines(const char *s, size_t n, uint32_t seed, size_t maxpiece,
    struct outcome *r)
{
	struct smtp_line l;
	enum smtp_line_event ev;
	const char *line;
	size_t off = 0, len;

	buf_init(&r->out);
	smtp_line_init(&l);
	while (off < n) {
		size_t k = piece(&seed, n - off, maxpiece);

		while (k > 0) {
			size_t used = smtp_line_feed(&l, s + off, k, &ev, &line,
			    &len);

			if (used == 0 || used > k)
				abort();
			if (ev == SMTP_LINE_NONE && used != k)
				abort();
			off += used;
			k -= used;
			if (ev != SMTP_LINE_NONE)
				buf_append_char(&r->out, (char)('0' + ev));
			if (ev == SMTP_LINE_OK) {
				if (len > SMTP_LINE_MAX - 2 || line[len] != '\0'
				    || memchr(line, '\r', len) != NULL ||
				    memchr(line, '\n', len) != NULL)
					abort();
				buf_append(&r->out, line, len);
				buf_append_char(&r->out, '|');
			}
		}
	}
	r->used = off;
	r->last_ev = smtp_line_pending(&l);
	r->size = 0;
	r->flags = 0;
	r->code = 0;
}

static void
same(const struct outcome *a, const struct outcome *b)
{
	if (a->used != b->used || a->last_ev != b->last_ev ||
	    a->size != b->size || a->flags != b->flags || a->code != b->code ||
	    a->out.len != b->out.len ||
	    (a->out.len > 0 && memcmp(a->out.data, b->out.data, a->out.len)))
		abort();
}

/* Dot-stuffs a decoded DATA message and appends the end sequence. */
static void
stuff(const struct buf *msg, struct buf *wire)
{
	size_t i;
	bool bol = true;

	for (i = 0; i < msg->len; i++) {
		if (bol && msg->data[i] == '.')
			buf_append_char(wire, '.');
		buf_append_char(wire, msg->data[i]);
		bol = msg->data[i] == '\n';
	}
	buf_append(wire, ".\r\n", 3);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_data_opts o;
	struct outcome whole, pieces;
	uint32_t seed;
	const char *s;
	size_t n, maxpiece;
	int mode;

	if (size < 4)
		return 0;
	mode = data[0] & 3;
	memset(&o, 0, sizeof(o));
	o.bare = (data[0] & 4) ? SMTP_BARE_NORMALIZE : SMTP_BARE_REJECT;
	o.binary = mode == 2;
	o.max_size = data[1] == 0 ? 0 : (uint64_t)data[1] * 4;
	seed = (uint32_t)data[2] << 8 | data[3];
	maxpiece = 1 + (data[3] & 15);
	s = (const char *)data + 4;
	n = size - 4;

	switch (mode) {
	case 0:
		run_data(s, n, &o, seed, 0, &whole);
		run_data(s, n, &o, seed, maxpiece, &pieces);
		same(&whole, &pieces);
		buf_free(&pieces.out);
		run_data(s, n, &o, seed, 1, &pieces);
		same(&whole, &pieces);
		buf_free(&pieces.out);
		if (whole.code == 250 && whole.last_ev == SMTP_DATA_END &&
		    o.bare == SMTP_BARE_REJECT) {
			struct buf wire = BUF_INIT;
			struct outcome again;

			if (whole.out.len > 0 && (whole.out.len < 2 ||
			    memcmp(whole.out.data + whole.out.len - 2, "\r\n",
			    2) != 0))
				abort();
			stuff(&whole.out, &wire);
			run_data(wire.data, wire.len, &o, seed, maxpiece,
			    &again);
			if (again.used != wire.len || again.code != 250 ||
			    again.out.len != whole.out.len ||
			    (whole.out.len > 0 && memcmp(again.out.data,
			    whole.out.data, whole.out.len) != 0))
				abort();
			buf_free(&again.out);
			buf_free(&wire);
		}
		break;
	case 1:
	case 2:
		run_bdat(s, n, &o, seed ^ 0x5a5a, seed, 0, &whole);
		run_bdat(s, n, &o, seed ^ 0x5a5a, seed, maxpiece, &pieces);
		same(&whole, &pieces);
		buf_free(&pieces.out);
		if (whole.used != n)
			abort();
		if (o.max_size == 0 && o.binary && whole.out.len != n)
			abort();
		break;
	default:
		run_lines(s, n, seed, 0, &whole);
		run_lines(s, n, seed, maxpiece, &pieces);
		same(&whole, &pieces);
		buf_free(&pieces.out);
		run_lines(s, n, seed, 1, &pieces);
		same(&whole, &pieces);
		buf_free(&pieces.out);
		break;
	}
	buf_free(&whole.out);
	return 0;
}
