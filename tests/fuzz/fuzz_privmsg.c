/*
 * Fuzz target for priv/privmsg: what the root key holder parses from
 * the unprivileged server. A header either decodes to a known type with
 * a bounded length or is refused; a SIGN payload either yields an
 * operation and an input inside the payload or is refused.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "priv/privmsg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *in;
	struct privmsg m;
	enum privmsg_op op;
	size_t inlen;

	if (privmsg_parse_header(data, size, &m) != 0)
		return 0;
	if (m.len > PRIVMSG_PAYLOAD_MAX || privmsg_type_name(m.type) == NULL)
		abort();
	/* the payload is what follows, as far as it goes */
	m.payload = data + PRIVMSG_HEADER_LEN;
	if (m.len > size - PRIVMSG_HEADER_LEN)
		m.len = size - PRIVMSG_HEADER_LEN;
	if (privmsg_parse_sign(&m, &op, &in, &inlen) == 0 &&
	    (in != m.payload + 1 || inlen != m.len - 1 || inlen == 0 ||
	    inlen > PRIVMSG_SIGN_MAX))
		abort();
	return 0;
}
