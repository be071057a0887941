/*
 * facts — what the authentication checks learnt about one message, in
 * the types of src/auth/. The checks fill it as their answers come in;
 * DMARC builds on SPF and DKIM through it (its progress callback looks
 * here), and the outputs (Authentication-Results, --json) read it.
 * A NULL pointer or a false done flag: that check has not finished (or
 * does not run).
 */
#ifndef NETJES_FILTER_FACTS_H
#define NETJES_FILTER_FACTS_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/authres.h"
#include "auth/dkim/dkim_verify.h"
#include "auth/dmarc/dmarc.h"
#include "auth/iprev.h"
#include "auth/spf/spf.h"
#include "msg/from.h"
#include "msg/header.h"

struct check_facts {
	const struct iprev_outcome	*iprev;
	const struct spf_outcome	*spf_helo;
	const struct spf_outcome	*spf_mailfrom;
	/* the header section, parsed once at CHECK_HEADERS */
	const struct hdr_section	*headers;
	const struct from_result	*from;
	bool				 dkim_done;
	const struct dkim_sig_result	*dkim;
	size_t				 ndkim;
	const struct dmarc_outcome	*dmarc;
	bool				 arc_done;
	const struct authres_resinfo	*arc;		/* NULL: none */
	/* From the driver: a DKIM verifier that was fed the whole message
	 * as it streamed in (dkim_verify_feed, _feed_end), so the body is
	 * hashed by the end of data. The DKIM check takes it over at
	 * HEADERS; NULL: the check hashes the message itself. */
	struct dkim_verify		*dkim_stream;
};

#endif
