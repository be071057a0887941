/*
 * Fuzz target for core/base64. Checks the round trip both ways: any bytes
 * encode and decode back to themselves, and any input the strict decoder
 * accepts is the canonical encoding of what it decoded to (with
 * BASE64_IGNORE_WS: once the whitespace is removed). A failed decode must
 * leave the output buffer as it was. Any violation aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_round_trip(const uint8_t *data, size_t size)
{
	struct buf enc = BUF_INIT, dec = BUF_INIT;

	base64_encode(data, size, &enc);
	if (enc.len != base64_encoded_len(size))
		abort();
	if (base64_decode(enc.data, enc.len, 0, &dec) != 0 ||
	    dec.len != size || (size > 0 && memcmp(dec.data, data, size) != 0))
		abort();
	buf_free(&enc);
	buf_free(&dec);
}

/* s without SP, HTAB, CR, LF when flags say so. */
static void
strip_ws(const char *s, size_t n, unsigned flags, struct buf *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if ((flags & BASE64_IGNORE_WS) && (s[i] == ' ' ||
		    s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
			continue;
		buf_append_char(out, s[i]);
	}
}

static void
check_decode(const char *s, size_t n, unsigned flags)
{
	struct buf dec = BUF_INIT, enc = BUF_INIT, canon = BUF_INIT;

	buf_append_str(&dec, "pre");
	if (base64_decode(s, n, flags, &dec) != 0) {
		if (dec.len != 3 || memcmp(dec.data, "pre", 4) != 0)
			abort();
		buf_free(&dec);
		return;
	}
	base64_encode(dec.data + 3, dec.len - 3, &enc);
	strip_ws(s, n, flags, &canon);
	if (enc.len != canon.len ||
	    (enc.len > 0 && memcmp(enc.data, canon.data, enc.len) != 0))
		abort();
	buf_free(&dec);
	buf_free(&enc);
	buf_free(&canon);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_round_trip(data, size);
	check_decode((const char *)data, size, 0);
	check_decode((const char *)data, size, BASE64_IGNORE_WS);
	return 0;
}
