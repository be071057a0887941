/*
 * Fuzz target for queue/dsn: the original message (its header section)
 * and the failure reason are untrusted bytes that end up in a
 * notification. Whatever they hold, the notification must keep its
 * MIME structure: exactly one closing boundary at the end, no bare
 * CR or LF, no control character in the report fields.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "queue/dsn.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	char reason[128];
	struct dsn_rcpt r;
	struct dsn_request q;
	struct buf b = BUF_INIT;
	size_t hlen, i, rl = size < sizeof(reason) - 1 ? size :
	    sizeof(reason) - 1;

	memcpy(reason, p, rl);
	reason[rl] = '\0';
	hlen = dsn_header_section(p, size);
	if (hlen > size)
		abort();
	memset(&r, 0, sizeof(r));
	r.addr = reason;
	r.orcpt = reason;
	r.reason = reason;
	r.action = size % 2 ? DSN_FAILED : DSN_DELAYED;
	memset(&q, 0, sizeof(q));
	q.reporting_mta = "mx.example.test";
	q.queue_id = "0bn1x8c7m2q30004z9rd";
	q.sender = reason;
	q.arrival = 1700000000;
	q.now = 1700003600;
	q.rcpts = &r;
	q.nrcpts = 1;
	q.headers = p;
	q.headers_len = hlen;
	dsn_build(&q, &b);
	for (i = 0; i < b.len; i++) {
		if (b.data[i] == '\n' && (i == 0 || b.data[i - 1] != '\r'))
			abort();
		if (b.data[i] == '\r' && (i + 1 == b.len ||
		    b.data[i + 1] != '\n'))
			abort();
	}
	if (b.len < 4 || memcmp(b.data + b.len - 4, "--\r\n", 4) != 0)
		abort();
	buf_free(&b);
	return 0;
}
