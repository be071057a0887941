/*
 * log — one event, one line. See log.h.
 *
 * Escaping lives here and only here, so what counts as dangerous in a
 * log line is decided once: log_char_len() says which bytes may stand
 * as they are, log_escape() and the quoting functions build on it, and
 * log_event() runs the finished line through it once more.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"

static enum log_level	 log_cur_level = LOG_LEVEL_INFO;
static enum log_target	 log_cur_target = LOG_TARGET_STDERR;
static bool		 log_tty_errors;	/* syslog: errors to the tty too */
static enum log_format	 log_cur_format = LOG_FORMAT_TEXT;

static const char *const log_format_names[] = {
	[LOG_FORMAT_TEXT] = "text",
	[LOG_FORMAT_JSON] = "json",
};

static const char *const log_level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void
log_init(enum log_level level, enum log_target target, const char *ident)
{
	log_cur_level = level;
	log_cur_target = target;
	/* As Postfix does: whoever started the program by hand sees why
	 * it stopped (a port in use, a missing key) even with syslog. */
	log_tty_errors = target == LOG_TARGET_SYSLOG && isatty(STDERR_FILENO);
	if (target == LOG_TARGET_SYSLOG)
		openlog(ident ? ident : "netjes", LOG_PID | LOG_NDELAY,
		    LOG_MAIL);
}

void
log_set_level(enum log_level level)
{
	log_cur_level = level;
}

void
log_set_format(enum log_format f)
{
	log_cur_format = f;
}

int
log_format_parse(const char *s, enum log_format *out)
{
	size_t i;

	for (i = 0; i < sizeof(log_format_names) / sizeof(*log_format_names);
	    i++)
		if (strcasecmp(s, log_format_names[i]) == 0) {
			*out = (enum log_format)i;
			return 0;
		}
	return -1;
}

const char *
log_format_name(enum log_format f)
{
	return (unsigned)f < sizeof(log_format_names) /
	    sizeof(*log_format_names) ? log_format_names[f] : "text";
}

/* One JSON string of p[0..n) (already free of controls: the line went
 * through log_defang): only '"' and '\' need escaping. */
static void
log_json_str(struct buf *out, const char *p, size_t n)
{
	size_t i;

	buf_append_char(out, '"');
	for (i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\')
			buf_append_char(out, '\\');
		buf_append_char(out, p[i]);
	}
	buf_append_char(out, '"');
}

/* A quoted value at p (after its opening quote): its content, the
 * text's own escapes \" and \\ undone (\xNN stays as written), into
 * val; returns where the value ends (after the closing quote). */
static const char *
log_kv_unquote(const char *p, struct buf *val)
{
	while (*p != '\0' && *p != '"') {
		if (*p == '\\' && (p[1] == '"' || p[1] == '\\')) {
			buf_append_char(val, p[1]);
			p += 2;
			continue;
		}
		buf_append_char(val, *p++);
	}
	return *p == '"' ? p + 1 : p;
}

void
log_kv_json(const char *kv, struct buf *out)
{
	struct buf val = BUF_INIT;
	const char *p = kv, *key, *eq;
	bool first = true;
	size_t klen;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		key = p;
		p += strcspn(p, " =");
		klen = (size_t)(p - key);
		eq = *p == '=' ? p : NULL;
		buf_reset(&val);
		if (eq != NULL && eq[1] == '"')
			p = log_kv_unquote(eq + 2, &val);
		else if (eq != NULL) {
			p = eq + 1;
			buf_append(&val, p, strcspn(p, " "));
			p += strcspn(p, " ");
		}
		if (!first)
			buf_append_char(out, ',');
		first = false;
		log_json_str(out, key, klen);
		buf_append_char(out, ':');
		log_json_str(out, val.data != NULL ? val.data : "", val.len);
	}
	buf_free(&val);
}

/* The finished text line as one JSON object: ts (stderr only), level,
 * event, then the pairs. */
static void
log_line_json(const char *ts, enum log_level level, const char *event,
    const char *kv, struct buf *out)
{
	buf_append_char(out, '{');
	if (ts != NULL) {
		buf_append(out, "\"ts\":", 5);
		log_json_str(out, ts, strlen(ts));
		buf_append_char(out, ',');
	}
	buf_append(out, "\"level\":", 8);
	log_json_str(out, log_level_names[level],
	    strlen(log_level_names[level]));
	buf_append(out, ",\"event\":", 9);
	log_json_str(out, event, strlen(event));
	if (kv[0] != '\0') {
		buf_append_char(out, ',');
		log_kv_json(kv, out);
	}
	buf_append_char(out, '}');
}

int
log_enabled(enum log_level level)
{
	return level <= log_cur_level;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	size_t i;

	for (i = 0; i < sizeof(log_level_names) / sizeof(*log_level_names); i++)
		if (strcasecmp(s, log_level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

int
log_target_parse(const char *s, enum log_target *out)
{
	if (strcasecmp(s, "stderr") == 0)
		*out = LOG_TARGET_STDERR;
	else if (strcasecmp(s, "syslog") == 0)
		*out = LOG_TARGET_SYSLOG;
	else
		return -1;
	return 0;
}

static int
log_syslog_priority(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_ERROR:	return LOG_ERR;
	case LOG_LEVEL_WARN:	return LOG_WARNING;
	case LOG_LEVEL_INFO:	return LOG_INFO;
	case LOG_LEVEL_DEBUG:	return LOG_DEBUG;
	}
	return LOG_INFO;
}

/*
 * How many bytes at s[0..n) (n >= 1) may stand as they are: 1 for
 * printable ASCII, 2 to 4 for a well-formed UTF-8 sequence (RFC 3629:
 * shortest form, no surrogate, at most U+10FFFF), 0 when s[0] must be
 * escaped. The C1 controls (U+0080..U+009F: a terminal may take U+009B
 * as CSI) and the bidirectional embeddings, overrides and isolates
 * (U+202A..U+202E, U+2066..U+2069, which reorder what a reader sees)
 * are escaped though valid.
 */
static size_t
log_char_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (s[0] < 0x80)
		return s[0] >= 0x20 && s[0] != 0x7f ? 1 : 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0fu;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07u;
	} else
		return 0;	/* continuation, C0/C1 overlong lead, > F4 */
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	if (cp <= 0x9f || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return len;
}

size_t
log_escape(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0, k;

	if (dstlen == 0)
		return 0;
	while (i < srclen) {
		k = log_char_len(s + i, srclen - i);
		if (k == 0) {
			if (o + 4 >= dstlen)
				break;
			snprintf(dst + o, dstlen - o, "\\x%02x", s[i]);
			o += 4;
			i++;
		} else if (s[i] == '"' || s[i] == '\\') {
			if (o + 2 >= dstlen)
				break;
			dst[o++] = '\\';
			dst[o++] = (char)s[i++];
		} else {
			if (o + k >= dstlen)
				break;
			memcpy(dst + o, s + i, k);
			o += k;
			i += k;
		}
	}
	dst[o] = '\0';
	return i;
}

/* True when value[0..len) may stand unquoted in a key=value line. */
static bool
log_plain(const char *value, size_t len)
{
	const unsigned char *s = (const unsigned char *)value;
	size_t i = 0, k;

	if (len == 0)
		return false;
	while (i < len) {
		if (s[i] == ' ' || s[i] == '"' || s[i] == '=' || s[i] == '\\')
			return false;
		if ((k = log_char_len(s + i, len - i)) == 0)
			return false;
		i += k;
	}
	return true;
}

/*
 * pre, value[0..len), post into out[0..n): as they are when the value is
 * plain and all fits, else quoted and escaped, cut with "..." when the
 * room runs out. pre and post are trusted ASCII without quote or space.
 */
static const char *
log_quote_wrap(char *out, size_t n, const char *pre, const char *value,
    size_t len, const char *post)
{
	size_t pl = strlen(pre), ql = strlen(post), o;
	bool cut;

	if (log_plain(value, len) && pl + len + ql < n) {
		memcpy(out, pre, pl);
		memcpy(out + pl, value, len);
		memcpy(out + pl + len, post, ql + 1);
		return out;
	}
	/* '"' pre ... post '"' NUL, and "..." when cut */
	if (n < pl + ql + 3) {
		if (n > 0)
			out[0] = '\0';
		return out;
	}
	out[0] = '"';
	memcpy(out + 1, pre, pl);
	o = 1 + pl;
	cut = log_escape(out + o, n - o - ql - 1, value, len) < len &&
	    n - o >= ql + 5;
	if (cut)	/* again, leaving room for the mark */
		(void)log_escape(out + o, n - o - ql - 4, value, len);
	o += strlen(out + o);
	if (cut) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	memcpy(out + o, post, ql);
	o += ql;
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

const char *
log_quote_len(char *out, size_t n, const char *value, size_t len)
{
	return log_quote_wrap(out, n, "", value, len, "");
}

const char *
log_quote(char *out, size_t n, const char *value)
{
	return log_quote_len(out, n, value, value != NULL ? strlen(value) :
	    0);
}

const char *
log_quote_addr(char *out, size_t n, const char *addr)
{
	/* the null path: the brackets keep it one token */
	if (addr == NULL || addr[0] == '\0') {
		snprintf(out, n, "%s", "<>");
		return out;
	}
	return log_quote_wrap(out, n, "<", addr, strlen(addr), ">");
}

/* The last line of defence: any byte a caller let through unescaped is
 * written \xNN, so the line stays one line of readable text. */
static void
log_defang(struct buf *line)
{
	const unsigned char *s = (const unsigned char *)line->data;
	struct buf safe = BUF_INIT;
	size_t i, k;

	for (i = 0; i < line->len; i += k)
		if ((k = log_char_len(s + i, line->len - i)) == 0)
			break;
	if (i == line->len)
		return;
	buf_append(&safe, line->data, i);
	while (i < line->len) {
		if ((k = log_char_len(s + i, line->len - i)) == 0) {
			buf_printf(&safe, "\\x%02x", s[i]);
			k = 1;
		} else
			buf_append(&safe, line->data + i, k);
		i += k;
	}
	buf_free(line);
	*line = safe;
}

void
log_event(enum log_level level, const char *event, const char *fmt, ...)
{
	struct buf line = BUF_INIT, ev = BUF_INIT, kv = BUF_INIT;
	char ts[48] = "";
	va_list ap;

	if (!log_enabled(level))
		return;
	if (log_cur_target == LOG_TARGET_STDERR) {
		char day[32];
		struct timespec now;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(ts, sizeof(ts), "%s.%03ldZ", day,
		    now.tv_nsec / 1000000);
	}
	if (fmt != NULL && fmt[0] != '\0') {
		va_start(ap, fmt);
		buf_vprintf(&kv, fmt, ap);
		va_end(ap);
	}
	/* both formats see the defanged text: no control or invalid
	 * UTF-8 byte reaches either */
	buf_append(&ev, event, strlen(event));
	log_defang(&ev);
	log_defang(&kv);
	if (log_cur_format == LOG_FORMAT_JSON)
		log_line_json(ts[0] != '\0' ? ts : NULL, level, buf_cstr(&ev),
		    buf_cstr(&kv), &line);
	else {
		if (ts[0] != '\0')
			buf_printf(&line, "%s ", ts);
		buf_printf(&line, "level=%s event=%s", log_level_names[level],
		    buf_cstr(&ev));
		if (kv.len > 0)
			buf_printf(&line, " %s", buf_cstr(&kv));
	}
	if (log_cur_target == LOG_TARGET_SYSLOG) {
		syslog(log_syslog_priority(level), "%s", buf_cstr(&line));
		if (log_tty_errors && level == LOG_LEVEL_ERROR)
			fprintf(stderr, "netjes: %s\n", buf_cstr(&line));
	} else {
		buf_append_char(&line, '\n');
		fwrite(line.data, 1, line.len, stderr);
	}
	buf_free(&line);
	buf_free(&ev);
	buf_free(&kv);
}

