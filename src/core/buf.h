/*
 * buf — growable byte buffers.
 *
 * A buf owns its bytes; it always keeps a NUL after the last byte so the
 * contents can be handed to C string functions when they are text, but the
 * length is the truth (contents may hold NULs). Allocation failure is a
 * broken invariant for a mail server of this size: buf aborts rather than
 * return half-built data.
 */
#ifndef NETJES_CORE_BUF_H
#define NETJES_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;	/* NUL-terminated; NULL until the first append */
	size_t	 len;
	size_t	 cap;
};

#define BUF_INIT { NULL, 0, 0 }

void	 buf_init(struct buf *);
void	 buf_free(struct buf *);
void	 buf_reset(struct buf *);		/* len = 0, keeps memory */
void	 buf_reserve(struct buf *, size_t more);
void	 buf_append(struct buf *, const void *, size_t);
void	 buf_append_str(struct buf *, const char *);
void	 buf_append_char(struct buf *, char);
void	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3), nonnull(2)));
void	 buf_vprintf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0), nonnull(2)));
const char *buf_cstr(const struct buf *);	/* "" when empty */
char	*buf_steal(struct buf *);		/* caller frees; buf emptied */

#endif
