/*
 * reason — fill a caller's reason buffer. See reason.h.
 */
#include "core/reason.h"

#include <stdarg.h>
#include <stdio.h>

void
reason_set(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}
