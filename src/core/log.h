/*
 * log — one event, one line.
 *
 * Every line is `level=LEVEL event=NAME key=value ...`, so a log can be
 * grepped by queue id or parsed by a machine. Lines go to stderr (with a
 * timestamp) or to syslog (which adds its own). Values that may contain
 * spaces or quotes are written with log_quote() by the caller.
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

void	log_init(enum log_level, enum log_target, const char *ident);
void	log_set_level(enum log_level);
int	log_level_parse(const char *, enum log_level *);	/* 0 or -1 */
int	log_target_parse(const char *, enum log_target *);	/* 0 or -1 */
int	log_enabled(enum log_level);

/* fmt holds the key=value pairs after the event name. */
void	log_event(enum log_level, const char *event, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * Quote a value for a key=value line: returned as is when it holds no
 * space, quote, '=' or control byte, otherwise in double quotes with
 * backslash escapes. Writes into out (size n, always NUL-terminated).
 */
const char *log_quote(char *out, size_t n, const char *value);

#define log_error(ev, ...)	log_event(LOG_LEVEL_ERROR, ev, __VA_ARGS__)
#define log_warn(ev, ...)	log_event(LOG_LEVEL_WARN, ev, __VA_ARGS__)
#define log_info(ev, ...)	log_event(LOG_LEVEL_INFO, ev, __VA_ARGS__)
#define log_debug(ev, ...)	log_event(LOG_LEVEL_DEBUG, ev, __VA_ARGS__)

#endif
