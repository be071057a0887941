/*
 * Fuzz target for smtp/smtp_cmd: one command line of arbitrary bytes.
 * The first byte picks the extension flags. A success must hold only
 * sane values; a failure must carry a well-formed reply that formats to
 * exactly one CRLF-terminated reply line. xtext must round-trip.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "smtp/smtp_cmd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_reply_text(const struct buf *b, int code)
{
	size_t i, crlf = 0;

	if (b->len < 5 || b->len > SMTP_REPLY_LINE_MAX)
		abort();
	if (b->data[0] != '0' + code / 100 || b->data[3] != ' ')
		abort();
	for (i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];

		if (c == '\r') {
			if (i + 2 != b->len || b->data[i + 1] != '\n')
				abort();
			crlf++;
		} else if (c == '\n' && (i == 0 || b->data[i - 1] != '\r'))
			abort();
	}
	if (crlf != 1)
		abort();
}

static void
check_cmd(const struct smtp_cmd *cmd)
{
	switch (cmd->verb) {
	case SMTP_VERB_MAIL:
		if (!cmd->mail.path.is_null && cmd->mail.path.domain[0] == '\0')
			abort();
		if (memchr(cmd->mail.auth, '\0', sizeof(cmd->mail.auth)) ==
		    NULL || strlen(cmd->mail.envid) > SMTP_ENVID_MAX)
			abort();
		break;
	case SMTP_VERB_RCPT:
		if (cmd->rcpt.path.is_null)
			abort();
		if (cmd->rcpt.path.domain[0] == '\0' &&
		    strcmp(cmd->rcpt.path.local, "postmaster") != 0)
			abort();
		if ((cmd->rcpt.notify & SMTP_NOTIFY_NEVER) &&
		    cmd->rcpt.notify != SMTP_NOTIFY_NEVER)
			abort();
		break;
	case SMTP_VERB_AUTH:
		if (cmd->auth.mech[0] == '\0')
			abort();
		break;
	case SMTP_VERB_HELO:
	case SMTP_VERB_EHLO:
		if (cmd->helo[0] == '\0' || cmd->helo[0] == ' ')
			abort();
		break;
	case SMTP_VERB_UNKNOWN:
		abort();	/* an unknown verb never parses */
	default:
		break;
	}
}

static void
check_xtext(const char *s, size_t n)
{
	char enc[3 * 256 + 1], dec[256 + 1];
	ssize_t e, d;
	size_t i;
	bool plain = true;

	if (n > 256)
		n = 256;
	e = smtp_xtext_encode(s, n, enc, sizeof(enc));
	if (e < 0)
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			plain = false;
	d = smtp_xtext_decode(enc, (size_t)e, false, dec, sizeof(dec));
	if (plain && (d != (ssize_t)n || memcmp(dec, s, n) != 0))
		abort();
	if (!plain && d >= 0)
		abort();
	/* and decoding the raw input must not overrun */
	(void)smtp_xtext_decode(s, n, true, dec, sizeof(dec));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_cmd cmd;
	struct buf b = BUF_INIT;
	unsigned flags;
	const char *line;

	if (size == 0)
		return 0;
	flags = data[0] & SMTP_EXT_ALL;
	if (data[0] & 0x80)
		flags |= SMTP_PARSE_UTF8;
	line = (const char *)data + 1;
	size--;

	if (smtp_cmd_parse(line, size, flags, &cmd) == 0) {
		check_cmd(&cmd);
	} else {
		if (cmd.reply.code < 500 || cmd.reply.code > 555 ||
		    cmd.reply.enhanced == NULL || cmd.reply.text[0] == '\0')
			abort();
		smtp_reply_append(&b, &cmd.reply);
		check_reply_text(&b, cmd.reply.code);
	}
	buf_reset(&b);
	/* any text formats into well-formed lines */
	{
		char text[600];
		size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;

		memcpy(text, line, n);
		text[n] = '\0';
		smtp_reply_format(&b, 250, "2.0.0", text);
		if (b.len < 2 || memcmp(b.data + b.len - 2, "\r\n", 2) != 0)
			abort();
	}
	buf_free(&b);
	check_xtext(line, size);
	return 0;
}
