/*
 * smtp_data — the message content decoder for DATA and BDAT. See
 * smtp_data.h.
 *
 * One small state machine over octets; the states say where in a line
 * we are and which octets have been seen but not yet decided on (a CR
 * whose LF may come in the next read, a dot at the start of a line that
 * is either stuffing or the end). Decisions are per octet, so cutting
 * the stream into other pieces cannot change the outcome; the unit tests
 * and the fuzz target hold the decoder to that. Runs of plain text are
 * copied in one go.
 */
#include "smtp/smtp_data.h"

#include <string.h>

enum {
	S_BOL = 0,	/* at the start of a line (DATA only) */
	S_DOT,		/* "." at the start of a line, not written */
	S_DOTCR,	/* "." CR at the start of a line */
	S_TEXT,		/* inside a line */
	S_CR,		/* CR seen inside a line, not written */
};

/* Output batch: decoded octets are handed to the sink in blocks. */
struct out {
	struct smtp_data	*d;
	size_t			 len;
	char			 buf[4096];
};

static void
out_flush(struct out *o)
{
	struct smtp_data *d = o->d;
	uint64_t store = o->len, max = d->opts.max_size;

	if (o->len == 0)
		return;
	if (max != 0) {
		uint64_t room = d->size >= max ? 0 : max - d->size;

		if (store > room) {
			store = room;
			d->too_big = true;
		}
	}
	d->size += o->len;
	o->len = 0;
	if (store > 0 && d->opts.sink != NULL && !d->sink_failed &&
	    d->opts.sink(d->opts.sink_arg, o->buf, (size_t)store) < 0)
		d->sink_failed = true;
}

static void
out_put(struct out *o, char c)
{
	if (o->len == sizeof(o->buf))
		out_flush(o);
	o->buf[o->len++] = c;
}

static void
out_write(struct out *o, const char *p, size_t n)
{
	while (n > 0) {
		size_t k = sizeof(o->buf) - o->len;

		if (k == 0) {
			out_flush(o);
			continue;
		}
		if (k > n)
			k = n;
		memcpy(o->buf + o->len, p, k);
		o->len += k;
		p += k;
		n -= k;
	}
}

static void
bare_cr(struct out *o)
{
	o->d->bare_cr = true;
	out_put(o, '\r');
	if (o->d->opts.bare == SMTP_BARE_NORMALIZE)
		out_put(o, '\n');
}

static void
bare_lf(struct out *o)
{
	o->d->bare_lf = true;
	if (o->d->opts.bare == SMTP_BARE_NORMALIZE)
		out_put(o, '\r');
	out_put(o, '\n');
}

static void
data_reset(struct smtp_data *d, const struct smtp_data_opts *opts)
{
	memset(d, 0, sizeof(*d));
	d->opts = *opts;
}

void
smtp_data_init(struct smtp_data *d, const struct smtp_data_opts *opts)
{
	data_reset(d, opts);
	d->opts.binary = false;		/* BINARYMIME never comes by DATA */
	d->state = S_BOL;		/* the DATA line's CRLF counts */
}

void
smtp_data_init_bdat(struct smtp_data *d, const struct smtp_data_opts *opts)
{
	data_reset(d, opts);
	d->bdat = true;
	d->state = S_TEXT;
}

void
smtp_data_bdat_chunk(struct smtp_data *d, uint64_t size, bool last)
{
	d->chunk_left = size;
	d->last = last;
}

/*
 * Runs the state machine over in[0..n). Returns the octets used: n, or
 * fewer when DATA's end-of-data sequence was found (d->ended set).
 */
static size_t
decode(struct smtp_data *d, struct out *o, const char *in, size_t n)
{
	int next_line = d->bdat ? S_TEXT : S_BOL;
	size_t i = 0, j;
	char c;

	if (d->opts.binary) {
		out_write(o, in, n);
		return n;
	}
	while (i < n) {
		c = in[i];
		switch (d->state) {
		case S_TEXT:
			for (j = i; j < n && in[j] != '\r' && in[j] != '\n' &&
			    in[j] != '\0'; j++)
				;
			out_write(o, in + i, j - i);
			if ((i = j) == n)
				break;
			c = in[i++];
			if (c == '\r')
				d->state = S_CR;
			else if (c == '\n')
				bare_lf(o);
			else {
				d->nul = true;
				out_put(o, c);
			}
			break;
		case S_BOL:
			if (c == '.') {
				d->state = S_DOT;
				i++;
			} else
				d->state = S_TEXT;
			break;
		case S_DOT:
			/* A dot that is not the end is stuffing: dropped,
			 * and what follows is ordinary text. */
			if (c == '\r') {
				d->state = S_DOTCR;
				i++;
			} else
				d->state = S_TEXT;
			break;
		case S_DOTCR:
			if (c == '\n') {
				d->ended = true;
				return i + 1;
			}
			bare_cr(o);
			d->state = S_TEXT;
			break;
		case S_CR:
			if (c == '\n') {
				out_put(o, '\r');
				out_put(o, '\n');
				d->state = next_line;
				i++;
			} else {
				bare_cr(o);	/* c is looked at again */
				d->state = S_TEXT;
			}
			break;
		}
	}
	return n;
}

size_t
smtp_data_feed(struct smtp_data *d, const char *in, size_t n,
    enum smtp_data_event *ev)
{
	struct out o;
	size_t used;

	*ev = SMTP_DATA_MORE;
	if (d->ended) {
		*ev = SMTP_DATA_END;
		return 0;
	}
	o.d = d;
	o.len = 0;
	if (!d->bdat) {
		used = decode(d, &o, in, n);
		out_flush(&o);
		if (d->ended)
			*ev = SMTP_DATA_END;
		return used;
	}

	if ((uint64_t)n > d->chunk_left)
		n = (size_t)d->chunk_left;
	used = decode(d, &o, in, n);
	d->chunk_left -= used;
	if (d->chunk_left == 0) {
		if (d->last) {
			/* A CR that ends the message has no LF to come. */
			if (d->state == S_CR && !d->opts.binary)
				bare_cr(&o);
			d->ended = true;
			*ev = SMTP_DATA_END;
		} else
			*ev = SMTP_DATA_CHUNK_END;
	}
	out_flush(&o);
	return used;
}

int
smtp_data_verdict(const struct smtp_data *d, struct smtp_reply *r)
{
	if (d->sink_failed) {
		smtp_reply_set(r, 451, "4.3.0",
		    "Local error while storing the message, try again later");
		return -1;
	}
	if (d->too_big) {
		smtp_reply_set(r, 552, "5.3.4",
		    "Message too big (limit %llu octets)",
		    (unsigned long long)d->opts.max_size);
		return -1;
	}
	if ((d->bare_cr || d->bare_lf) && d->opts.bare == SMTP_BARE_REJECT) {
		smtp_reply_set(r, 554, "5.6.0",
		    "Message refused: bare %s; lines must end with CRLF",
		    d->bare_cr && d->bare_lf ? "CR and LF" :
		    d->bare_cr ? "CR" : "LF");
		return -1;
	}
	return 0;
}
