/*
 * json — a small streaming JSON writer for --json output.
 *
 * The writer tracks nesting and commas so callers only say what they
 * write: json_obj_begin / json_key / json_str / json_end. Strings are
 * escaped per RFC 8259; bytes that are not valid UTF-8 are written as
 * U+FFFD so the output is always valid JSON, whatever the input held.
 */
#ifndef NETJES_CORE_JSON_H
#define NETJES_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define JSON_MAX_DEPTH	32

struct json {
	struct buf	*out;
	int		 depth;
	bool		 need_comma[JSON_MAX_DEPTH];
	char		 closer[JSON_MAX_DEPTH];
	bool		 after_key;
};

void	json_init(struct json *, struct buf *out);
void	json_obj_begin(struct json *);
void	json_arr_begin(struct json *);
void	json_end(struct json *);		/* closes the innermost */
void	json_key(struct json *, const char *);
void	json_str(struct json *, const char *);
void	json_strn(struct json *, const char *, size_t);
void	json_int(struct json *, int64_t);
/* A number already written as JSON text ("1.5"), for fractions. */
void	json_number(struct json *, const char *);
void	json_bool(struct json *, bool);
void	json_null(struct json *);

/* key + value in one call, for objects */
void	json_kv_str(struct json *, const char *key, const char *value);
void	json_kv_int(struct json *, const char *key, int64_t value);
void	json_kv_bool(struct json *, const char *key, bool value);

#endif
