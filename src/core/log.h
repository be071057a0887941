/*
 * log — one event, one line.
 *
 * Every line is `level=LEVEL event=NAME key=value ...`, so a log can be
 * grepped by queue id or parsed by a machine. Lines go to stderr (with a
 * timestamp) or to syslog (which adds its own; errors are copied to
 * stderr as well when it is a terminal, so a failed start by hand shows
 * its reason). Stderr is the target until log_init(). Values that may contain
 * spaces or quotes, and every value that came from the network, are
 * written with log_quote() by the caller; as a last line of defence
 * log_event() escapes any control or invalid UTF-8 byte left in the
 * finished line, so no caller's slip can split it.
 *
 * With the json format (`[server] log_format = json`) the same line is
 * written as one JSON object: {"ts", "level", "event", then each key
 * with its value as a string}, for log shippers that want JSON. Values
 * keep their escapes (an ESC is the four characters \x1b in both
 * formats), so both say the same thing.
 */
#ifndef NETJES_CORE_LOG_H
#define NETJES_CORE_LOG_H

#include <stddef.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

enum log_target {
	LOG_TARGET_STDERR = 0,
	LOG_TARGET_SYSLOG,
};

enum log_format {
	LOG_FORMAT_TEXT = 0,	/* level=... event=... key=value */
	LOG_FORMAT_JSON,	/* one object a line */
};

void	log_init(enum log_level, enum log_target, const char *ident);
void	log_set_level(enum log_level);
int	log_level_parse(const char *, enum log_level *);	/* 0 or -1 */
int	log_target_parse(const char *, enum log_target *);	/* 0 or -1 */
void	log_set_format(enum log_format);
int	log_format_parse(const char *, enum log_format *);	/* 0 or -1 */
const char *log_format_name(enum log_format);

/*
 * The key=value text of a line (as log_event() builds it: bare values,
 * or double-quoted ones with \" and \\ inside) as the members of a JSON
 * object, appended to out without braces: "k":"v","k2":"v2". Every
 * value becomes a string. Pure; for the json format and its tests.
 */
struct buf;
void	log_kv_json(const char *kv, struct buf *out);
int	log_enabled(enum log_level);

/* fmt holds the key=value pairs after the event name. */
void	log_event(enum log_level, const char *event, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * Untrusted text (anything from the network: HELO names, addresses,
 * AUTH user names, header values, DNS names) never goes into a line as
 * it is; it could end the line and forge the next one, or drive the
 * terminal that shows the log. Every byte that could is written \xNN:
 * C0 controls (CR, LF, NUL, ESC ...), DEL, octets that are not valid
 * UTF-8 (overlong forms and surrogates too), and the UTF-8 forms of the
 * C1 controls and of the bidirectional overrides. Valid UTF-8 beyond
 * those is kept, so an international address stays readable.
 *
 * log_escape() writes src[0..srclen) so into dst (size dstlen, always
 * NUL-terminated when dstlen > 0), with '"' and '\' backslash-escaped
 * as well. It never splits an escape or a UTF-8 sequence: when the
 * room runs out it stops before. Returns how many octets of src it
 * wrote (srclen when all fitted).
 */
size_t	log_escape(char *dst, size_t dstlen, const char *src, size_t srclen);

/* Room for one quoted value of a line: a path, an address, a name.
 * A longer value is cut, marked with "..." inside the quotes. */
#define LOG_QUOTE_MAX	1024

/*
 * Quote a value for a key=value line: returned as is when it is not
 * empty and holds no space, quote, '=', '\' or byte log_escape() would
 * escape, otherwise in double quotes, escaped as log_escape() does.
 * Writes into out (size n, always NUL-terminated); a value cut short
 * ends in `..."`. log_quote_len() takes a length, so NULs in the value
 * are escaped too; log_quote_addr() writes an address in angle
 * brackets: <a@b>, <> for the null path, or "<\"a b\"@c>".
 */
const char *log_quote(char *out, size_t n, const char *value);
const char *log_quote_len(char *out, size_t n, const char *value,
	    size_t len);
const char *log_quote_addr(char *out, size_t n, const char *addr);

#define log_error(ev, ...)	log_event(LOG_LEVEL_ERROR, ev, __VA_ARGS__)
#define log_warn(ev, ...)	log_event(LOG_LEVEL_WARN, ev, __VA_ARGS__)
#define log_info(ev, ...)	log_event(LOG_LEVEL_INFO, ev, __VA_ARGS__)
#define log_debug(ev, ...)	log_event(LOG_LEVEL_DEBUG, ev, __VA_ARGS__)

#endif
