/*
 * log — one event, one line. See log.h.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "core/buf.h"

static enum log_level	 log_cur_level = LOG_LEVEL_INFO;
static enum log_target	 log_cur_target = LOG_TARGET_STDERR;

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
	if (target == LOG_TARGET_SYSLOG)
		openlog(ident ? ident : "netjes", LOG_PID | LOG_NDELAY,
		    LOG_MAIL);
}

void
log_set_level(enum log_level level)
{
	log_cur_level = level;
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

void
log_event(enum log_level level, const char *event, const char *fmt, ...)
{
	struct buf line = BUF_INIT;
	va_list ap;

	if (!log_enabled(level))
		return;
	if (log_cur_target == LOG_TARGET_STDERR) {
		char ts[32];
		struct timespec now;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		buf_printf(&line, "%s.%03ldZ ", ts, now.tv_nsec / 1000000);
	}
	buf_printf(&line, "level=%s event=%s", log_level_names[level], event);
	if (fmt != NULL && fmt[0] != '\0') {
		buf_append_char(&line, ' ');
		va_start(ap, fmt);
		buf_vprintf(&line, fmt, ap);
		va_end(ap);
	}
	if (log_cur_target == LOG_TARGET_SYSLOG)
		syslog(log_syslog_priority(level), "%s", buf_cstr(&line));
	else {
		buf_append_char(&line, '\n');
		fwrite(line.data, 1, line.len, stderr);
	}
	buf_free(&line);
}

const char *
log_quote(char *out, size_t n, const char *value)
{
	const unsigned char *p;
	size_t o = 0;
	int plain = value[0] != '\0';

	for (p = (const unsigned char *)value; *p && plain; p++)
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' ||
		    *p == 0x7f)
			plain = 0;
	if (plain) {
		snprintf(out, n, "%s", value);
		return out;
	}
	if (n < 3) {
		if (n > 0)
			out[0] = '\0';
		return out;
	}
	out[o++] = '"';
	for (p = (const unsigned char *)value; *p && o + 5 < n; p++) {
		if (*p == '"' || *p == '\\') {
			out[o++] = '\\';
			out[o++] = (char)*p;
		} else if (*p < ' ' || *p == 0x7f)
			o += (size_t)snprintf(out + o, n - o, "\\x%02x", *p);
		else
			out[o++] = (char)*p;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}
