/*
 * smtp_data — the message content decoder for DATA and BDAT.
 *
 * DATA (RFC 5321 4.1.1.4, 4.5.2): octets go in as they arrive, in pieces
 * of any size; the decoder removes dot-stuffing and stops exactly after
 * the end-of-data sequence CRLF "." CRLF, where the CRLF before the dot
 * may be the one that ended the DATA command. Only that sequence ends
 * the data. A bare CR or a bare LF is never a line end, so a dot after
 * one is content and none of the SMTP smuggling endings (LF.LF,
 * LF.CRLF, CR.CR, CRLF.LF, CRLF.CR, ...) ends anything; the message is
 * marked instead, and with the default policy it is refused after the
 * real end (RFC 5321 2.3.8: CR and LF only as CRLF) while the stream
 * stays in step with the client.
 *
 * BDAT (RFC 3030): each chunk is exactly the announced number of octets,
 * with no dot-stuffing; the decoder counts them off across pieces and
 * chunks. Unless BODY=BINARYMIME, the same bare CR / LF rule holds, over
 * chunk boundaries too (a CR ending one chunk and an LF starting the
 * next are a CRLF), so a message taken by BDAT cannot smuggle when it is
 * relayed by DATA later.
 *
 * Decoded octets go to a sink callback as they come, batched; the
 * message size (RFC 1870: after unstuffing, without the final dot) is
 * counted to the end even past the limit, but the sink receives no more
 * than the limit. No I/O of its own, no allocation.
 */
#ifndef NETJES_SMTP_SMTP_DATA_H
#define NETJES_SMTP_SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smtp/smtp_cmd.h"	/* struct smtp_reply */

/* What to do with a message holding a bare CR or LF. */
enum smtp_bare_policy {
	/* Refuse the message: 554 5.6.0 after its end. The default. */
	SMTP_BARE_REJECT = 0,
	/* Accept it and write each bare CR or LF as CRLF, so the stored
	 * message is canonical; a bare one still never ends a line for
	 * the dot rules, so nothing is smuggled either way. */
	SMTP_BARE_NORMALIZE,
};

enum smtp_data_event {
	SMTP_DATA_MORE = 0,	/* all input used, content goes on */
	SMTP_DATA_CHUNK_END,	/* BDAT: this chunk is complete (not LAST) */
	SMTP_DATA_END,		/* the message is complete */
};

/* Receives decoded octets; returns 0, or -1 to stop being called (the
 * message then fails with 451, but the input is still consumed). */
typedef int (*smtp_data_sink)(void *arg, const char *p, size_t n);

struct smtp_data_opts {
	uint64_t		 max_size;	/* 0: no limit */
	enum smtp_bare_policy	 bare;
	bool			 binary;	/* BDAT with BODY=BINARYMIME */
	smtp_data_sink		 sink;		/* may be NULL: count only */
	void			*sink_arg;
};

struct smtp_data {
	struct smtp_data_opts	 opts;
	bool			 bdat;
	int			 state;		/* private */
	uint64_t		 chunk_left;	/* BDAT: octets of this chunk */
	bool			 last;		/* BDAT: this chunk is LAST */
	bool			 ended;

	/* What the session wants to know after SMTP_DATA_END. */
	uint64_t		 size;		/* decoded octets, all of them */
	bool			 too_big;	/* size > max_size */
	bool			 bare_cr;
	bool			 bare_lf;
	bool			 nul;		/* NUL octets (RFC 5321 4.1.4) */
	bool			 sink_failed;
};

/* A DATA transfer: call after the 354 reply. */
void	 smtp_data_init(struct smtp_data *, const struct smtp_data_opts *);

/* A BDAT transfer: call at the first BDAT of a transaction, then
 * smtp_data_bdat_chunk() for each BDAT command, that one included. */
void	 smtp_data_init_bdat(struct smtp_data *,
	    const struct smtp_data_opts *);
void	 smtp_data_bdat_chunk(struct smtp_data *, uint64_t size, bool last);

/*
 * Consumes octets from in[0..n), returns how many it used: all of them
 * with SMTP_DATA_MORE, else up to and including the last octet of the
 * data or chunk; what follows is the client's next command. A BDAT
 * chunk of size 0 completes on a call with n == 0.
 */
size_t	 smtp_data_feed(struct smtp_data *, const char *in, size_t n,
	    enum smtp_data_event *ev);

/*
 * After SMTP_DATA_END: 0 when the message may be accepted, or -1 with r
 * set: 451 4.3.0 when the sink failed, 552 5.3.4 when it was too big,
 * 554 5.6.0 for a bare CR or LF under SMTP_BARE_REJECT.
 */
int	 smtp_data_verdict(const struct smtp_data *, struct smtp_reply *r);

#endif
