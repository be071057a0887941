/*
 * json — streaming JSON writer. See json.h.
 */
#include "core/json.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void
json_init(struct json *j, struct buf *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
}

/* Emit the separator a new value needs at the current position. */
static void
json_value_prefix(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0) {
		if (j->need_comma[j->depth])
			buf_append_char(j->out, ',');
		j->need_comma[j->depth] = true;
	}
}

static void
json_open(struct json *j, char c)
{
	json_value_prefix(j);
	if (j->depth + 1 >= JSON_MAX_DEPTH)
		abort();	/* a programming error: our output is shallow */
	buf_append_char(j->out, c);
	j->depth++;
	j->need_comma[j->depth] = false;
	j->closer[j->depth] = c == '{' ? '}' : ']';
}

void
json_obj_begin(struct json *j)
{
	json_open(j, '{');
}

void
json_arr_begin(struct json *j)
{
	json_open(j, '[');
}

void
json_end(struct json *j)
{
	if (j->depth <= 0)
		abort();	/* unbalanced: a programming error */
	buf_append_char(j->out, j->closer[j->depth]);
	j->depth--;
}

void
json_key(struct json *j, const char *key)
{
	json_str(j, key);
	buf_append_char(j->out, ':');
	j->after_key = true;
}

/* Length of a valid UTF-8 sequence at p (max n bytes), or 0. */
static size_t
json_utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void
json_strn(struct json *j, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, l;

	json_value_prefix(j);
	buf_append_char(j->out, '"');
	while (i < n) {
		unsigned char c = p[i];

		if (c == '"' || c == '\\') {
			buf_append_char(j->out, '\\');
			buf_append_char(j->out, (char)c);
			i++;
		} else if (c == '\n') {
			buf_append_str(j->out, "\\n"), i++;
		} else if (c == '\r') {
			buf_append_str(j->out, "\\r"), i++;
		} else if (c == '\t') {
			buf_append_str(j->out, "\\t"), i++;
		} else if (c < 0x20 || c == 0x7f) {
			buf_printf(j->out, "\\u%04x", c), i++;
		} else if ((l = json_utf8_len(p + i, n - i)) > 0) {
			buf_append(j->out, p + i, l);
			i += l;
		} else {
			buf_append_str(j->out, "\\ufffd");
			i++;
		}
	}
	buf_append_char(j->out, '"');
}

void
json_str(struct json *j, const char *s)
{
	if (s == NULL) {
		json_null(j);
		return;
	}
	json_strn(j, s, strlen(s));
}

void
json_int(struct json *j, int64_t v)
{
	json_value_prefix(j);
	buf_printf(j->out, "%" PRId64, v);
}

void
json_number(struct json *j, const char *text)
{
	json_value_prefix(j);
	buf_append_str(j->out, text);
}

void
json_bool(struct json *j, bool v)
{
	json_value_prefix(j);
	buf_append_str(j->out, v ? "true" : "false");
}

void
json_null(struct json *j)
{
	json_value_prefix(j);
	buf_append_str(j->out, "null");
}

void
json_kv_str(struct json *j, const char *key, const char *value)
{
	json_key(j, key);
	json_str(j, value);
}

void
json_kv_int(struct json *j, const char *key, int64_t value)
{
	json_key(j, key);
	json_int(j, value);
}

void
json_kv_bool(struct json *j, const char *key, bool value)
{
	json_key(j, key);
	json_bool(j, value);
}
