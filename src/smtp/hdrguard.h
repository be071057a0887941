/*
 * hdrguard — neutralise forged Authentication-Results while the message
 * streams into the spool.
 *
 * An incoming Authentication-Results field that names our authserv-id
 * was not written by us (RFC 8601 5): left alone it would sit in the
 * mailbox next to our genuine one and look just as real. The guard sits
 * between the DATA decoder and the spool and renames such a field to
 * X-Forged-Authentication-Results (the same name authres_strip_ours()
 * uses), keeping its value so a person can still see what was claimed.
 *
 * It works on the header section only and keeps bounded memory: lines
 * pass straight through, except an Authentication-Results field, which
 * is held (its first line and continuations) until the next field
 * shows where it ends, at most HDRGUARD_HOLD_MAX octets. A longer field
 * is judged by what has been seen (the authserv-id comes first in the
 * value) and then passed on. After the empty line that ends the header
 * section, every octet passes unchanged. Pure: no I/O but the output
 * callback, no globals.
 *
 * With rename_spam, incoming X-Spam-Flag, X-Spam-Score and X-Spam-Status
 * fields (SpamAssassin's, which netjes writes too) get the prefix
 * X-Original- (X-Original-X-Spam-Flag, ...): a Sieve rule or a mail client that reads them must
 * see only our verdict, and a sender cannot pass off "X-Spam-Flag: NO".
 */
#ifndef NETJES_SMTP_HDRGUARD_H
#define NETJES_SMTP_HDRGUARD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

#define HDRGUARD_HOLD_MAX	(16 * 1024)	/* octets held at a time */

/* Where the guarded bytes go; -1 on an error (passed back to the caller). */
typedef int hdrguard_out_cb(void *arg, const char *p, size_t n);

struct hdrguard {
	const char	*authserv_id;
	hdrguard_out_cb	*out;
	void		*out_arg;
	struct buf	 hold;		/* the held field, then a partial line */
	size_t		 line;		/* where the partial line starts */
	bool		 holding;	/* hold[0..line) is an AR field */
	bool		 passing;	/* this line (and its field) goes out
					 * as it comes: it outgrew the hold */
	bool		 mid_line;	/* passing, inside a line */
	bool		 body;		/* past the header section */
	size_t		 renamed;	/* fields renamed so far */
	/* set by the caller when we add X-Spam-Flag, -Score and -Status
	 * ourselves: incoming ones get the prefix X-Original- */
	bool		 rename_spam;
	size_t		 renamed_spam;
};

void	 hdrguard_init(struct hdrguard *, const char *authserv_id,
	    hdrguard_out_cb *, void *out_arg);
/* Guard p[0..n); 0, or -1 when the callback failed. */
int	 hdrguard_feed(struct hdrguard *, const char *p, size_t n);
/* The content ended: write out whatever is held. 0 or -1. */
int	 hdrguard_finish(struct hdrguard *);
void	 hdrguard_free(struct hdrguard *);

#endif
