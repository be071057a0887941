/*
 * arc_internal — helpers shared by the ARC parts (arc_chain.c,
 * arc_verify.c, arc_seal.c); not for other modules.
 */
#ifndef NETJES_AUTH_ARC_INTERNAL_H
#define NETJES_AUTH_ARC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/common/dkim_canon.h"
#include "core/buf.h"
#include "msg/header.h"

/* Relaxed canonical form of a whole field, with CRLF. */
void	arc_canon_field(const struct hdr_field *, struct buf *out);

/* The field with its b= value (offsets into the field value) removed,
 * canonicalized, without CRLF: the last input of a signature hash. */
void	arc_canon_unsigned(enum dkim_canon, const struct hdr_field *,
	    size_t b_start, size_t b_end, struct buf *out);

#endif
