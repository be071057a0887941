/*
 * smtp_cmd — the SMTP command parser and the reply formatter. See
 * smtp_cmd.h for the interface.
 *
 * The parser is deliberately a little liberal where real clients are
 * sloppy and harmless ("MAIL FROM: <a@b>" with a space after the colon,
 * trailing spaces, verbs and keywords in any case) and strict where
 * sloppiness is an attack surface: no control octets anywhere, paths
 * only between angle brackets, every ESMTP parameter checked for syntax,
 * duplicates and announcement. Addresses themselves are judged by
 * addr_parse_path() (core/addr), so the relay battery has one place to
 * hold.
 */
#include "smtp/smtp_cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/strnum.h"

/* Enhanced status codes used by the parser (RFC 3463). */
#define ENH_SYNTAX	"5.5.2"	/* syntax error, command unrecognised */
#define ENH_ARGS	"5.5.4"	/* invalid command arguments */
#define ENH_BAD_FROM	"5.1.7"	/* bad sender's mailbox address syntax */
#define ENH_BAD_RCPT	"5.1.3"	/* bad destination mailbox address syntax */
#define ENH_NON_ASCII	"5.6.7"	/* non-ASCII address without SMTPUTF8 */

static const struct {
	const char	*name;
	enum smtp_verb	 verb;
} verb_table[] = {
	{ "HELO", SMTP_VERB_HELO },
	{ "EHLO", SMTP_VERB_EHLO },
	{ "MAIL", SMTP_VERB_MAIL },
	{ "RCPT", SMTP_VERB_RCPT },
	{ "DATA", SMTP_VERB_DATA },
	{ "BDAT", SMTP_VERB_BDAT },
	{ "RSET", SMTP_VERB_RSET },
	{ "NOOP", SMTP_VERB_NOOP },
	{ "QUIT", SMTP_VERB_QUIT },
	{ "HELP", SMTP_VERB_HELP },
	{ "VRFY", SMTP_VERB_VRFY },
	{ "EXPN", SMTP_VERB_EXPN },
	{ "STARTTLS", SMTP_VERB_STARTTLS },
	{ "AUTH", SMTP_VERB_AUTH },
};

/* First words of HTTP requests: a proxy scanner, not a mail client. */
static const char *const http_methods[] = {
	"GET", "POST", "HEAD", "PUT", "CONNECT", "OPTIONS", "DELETE",
	"PATCH", "TRACE",
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

static bool
is_alpha(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* s[0..n) equals the NUL-terminated word, ASCII case ignored. */
static bool
word_eq(const char *s, size_t n, const char *word)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (word[i] == '\0' || lower((unsigned char)s[i]) !=
		    lower((unsigned char)word[i]))
			return false;
	return word[n] == '\0';
}

static bool
prefix_eq(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && word_eq(s, k, prefix);
}

/* Copies s[0..n) into out[outlen] NUL-terminated; false when too long. */
static bool
copy_str(char *out, size_t outlen, const char *s, size_t n)
{
	if (n >= outlen)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

void
smtp_reply_set(struct smtp_reply *r, int code, const char *enhanced,
    const char *fmt, ...)
{
	va_list ap;

	r->code = code;
	r->enhanced = enhanced;
	va_start(ap, fmt);
	if (vsnprintf(r->text, sizeof(r->text), fmt, ap) < 0)
		r->text[0] = '\0';
	va_end(ap);
}

/* Fails a parse: fills the reply, returns -1. */
static int
fail(struct smtp_cmd *cmd, int code, const char *enhanced,
    const char *text)
{
	smtp_reply_set(&cmd->reply, code, enhanced, "%s", text);
	return -1;
}

/* --- xtext ------------------------------------------------------------ */

ssize_t
smtp_xtext_decode(const char *s, size_t n, bool utf8, char *out,
    size_t outlen)
{
	size_t i, o = 0;
	int c, hi, lo;

	if (outlen == 0)
		return -1;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '+') {
			if (n - i < 3)
				return -1;
			hi = strnum_hex_digit((unsigned char)s[i + 1]);
			lo = strnum_hex_digit((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
			/* No NUL and no controls: the value ends up in
			 * headers and logs. */
			if (c < 0x20 || c == 0x7f)
				return -1;
		} else if (c == '=' || c <= ' ' || c == 0x7f) {
			return -1;
		} else if (c >= 0x80 && !utf8) {
			return -1;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (ssize_t)o;
}

ssize_t
smtp_xtext_encode(const char *s, size_t n, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, o = 0;
	int c;

	if (outlen == 0)
		return -1;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c > ' ' && c < 0x7f && c != '+' && c != '=') {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= outlen)
				return -1;
			out[o++] = '+';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return (ssize_t)o;
}

/* --- ESMTP parameters ------------------------------------------------- */

struct param {
	const char	*kw;
	size_t		 kwlen;
	const char	*val;	/* NULL when there is no "=" */
	size_t		 vallen;
};

/* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
static bool
keyword_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !(is_alpha((unsigned char)s[0]) ||
	    is_digit((unsigned char)s[0])))
		return false;
	for (i = 1; i < n; i++) {
		int c = (unsigned char)s[i];

		if (!is_alpha(c) && !is_digit(c) && c != '-')
			return false;
	}
	return true;
}

/*
 * esmtp-value = 1*(%d33-60 / %d62-126), widened by RFC 6531 to UTF-8;
 * octets >= 0x80 pass here and each parameter judges its own value.
 */
static bool
value_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c <= ' ' || c == '=' || c == 0x7f)
			return false;
	}
	return true;
}

/* Splits one "keyword[=value]" token. */
static bool
param_split(const char *s, size_t n, struct param *p)
{
	const char *eq = memchr(s, '=', n);

	p->kw = s;
	if (eq == NULL) {
		p->kwlen = n;
		p->val = NULL;
		p->vallen = 0;
	} else {
		p->kwlen = (size_t)(eq - s);
		p->val = eq + 1;
		p->vallen = n - p->kwlen - 1;
		if (!value_ok(p->val, p->vallen))
			return false;
	}
	return keyword_ok(p->kw, p->kwlen);
}

static int
param_unsupported(struct smtp_cmd *cmd, const struct param *p)
{
	smtp_reply_set(&cmd->reply, 555, ENH_ARGS,
	    "Unsupported parameter: %.*s", (int)p->kwlen, p->kw);
	return -1;
}

static int
param_duplicate(struct smtp_cmd *cmd, const struct param *p)
{
	smtp_reply_set(&cmd->reply, 555, ENH_ARGS,
	    "Duplicate parameter: %.*s", (int)p->kwlen, p->kw);
	return -1;
}

static int
param_invalid(struct smtp_cmd *cmd, const struct param *p)
{
	smtp_reply_set(&cmd->reply, 501, ENH_ARGS,
	    "Invalid value for parameter %.*s", (int)p->kwlen, p->kw);
	return -1;
}

/* size-value = 1*20DIGIT (RFC 1870); a value past 2^64-1 saturates, so
 * the session still answers "too big" rather than "bad syntax". */
static bool
parse_decimal(const char *s, size_t n, size_t maxdigits, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > maxdigits)
		return false;
	for (i = 0; i < n; i++) {
		unsigned d;

		if (!is_digit((unsigned char)s[i]))
			return false;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			v = UINT64_MAX;
		else
			v = v * 10 + d;
	}
	*out = v;
	return true;
}

enum {
	SEEN_SIZE = 0x01, SEEN_BODY = 0x02, SEEN_SMTPUTF8 = 0x04,
	SEEN_RET = 0x08, SEEN_ENVID = 0x10, SEEN_AUTH = 0x20,
	SEEN_NOTIFY = 0x40, SEEN_ORCPT = 0x80,
};

static int
mail_param(struct smtp_cmd *cmd, const struct param *p, unsigned flags,
    unsigned *seen)
{
	struct smtp_mail_args *m = &cmd->mail;
	unsigned bit;

	if (word_eq(p->kw, p->kwlen, "SIZE") && (flags & SMTP_EXT_SIZE))
		bit = SEEN_SIZE;
	else if (word_eq(p->kw, p->kwlen, "BODY") &&
	    (flags & (SMTP_EXT_8BITMIME | SMTP_EXT_BINARYMIME)))
		bit = SEEN_BODY;
	else if (word_eq(p->kw, p->kwlen, "SMTPUTF8") &&
	    (flags & SMTP_EXT_SMTPUTF8))
		bit = SEEN_SMTPUTF8;
	else if (word_eq(p->kw, p->kwlen, "RET") && (flags & SMTP_EXT_DSN))
		bit = SEEN_RET;
	else if (word_eq(p->kw, p->kwlen, "ENVID") && (flags & SMTP_EXT_DSN))
		bit = SEEN_ENVID;
	else if (word_eq(p->kw, p->kwlen, "AUTH") && (flags & SMTP_EXT_AUTH))
		bit = SEEN_AUTH;
	else
		return param_unsupported(cmd, p);
	if (*seen & bit)
		return param_duplicate(cmd, p);
	*seen |= bit;

	if (bit == SEEN_SMTPUTF8) {
		if (p->val != NULL)
			return param_invalid(cmd, p);
		m->smtputf8 = true;
		return 0;
	}
	if (p->val == NULL)
		return param_invalid(cmd, p);

	switch (bit) {
	case SEEN_SIZE:
		if (!parse_decimal(p->val, p->vallen, 20, &m->size))
			return param_invalid(cmd, p);
		m->size_given = true;
		break;
	case SEEN_BODY:
		if (word_eq(p->val, p->vallen, "7BIT") &&
		    (flags & SMTP_EXT_8BITMIME))
			m->body = SMTP_BODY_7BIT;
		else if (word_eq(p->val, p->vallen, "8BITMIME") &&
		    (flags & SMTP_EXT_8BITMIME))
			m->body = SMTP_BODY_8BITMIME;
		else if (word_eq(p->val, p->vallen, "BINARYMIME") &&
		    (flags & SMTP_EXT_BINARYMIME))
			m->body = SMTP_BODY_BINARYMIME;
		else if (word_eq(p->val, p->vallen, "7BIT") ||
		    word_eq(p->val, p->vallen, "8BITMIME") ||
		    word_eq(p->val, p->vallen, "BINARYMIME")) {
			smtp_reply_set(&cmd->reply, 555, ENH_ARGS,
			    "Unsupported BODY type: %.*s", (int)p->vallen,
			    p->val);
			return -1;
		} else
			return param_invalid(cmd, p);
		break;
	case SEEN_RET:
		if (word_eq(p->val, p->vallen, "FULL"))
			m->ret = SMTP_RET_FULL;
		else if (word_eq(p->val, p->vallen, "HDRS"))
			m->ret = SMTP_RET_HDRS;
		else
			return param_invalid(cmd, p);
		break;
	case SEEN_ENVID: {
		char tmp[SMTP_ENVID_MAX + 1];

		if (p->vallen > SMTP_ENVID_MAX ||
		    smtp_xtext_decode(p->val, p->vallen, false, tmp,
		    sizeof(tmp)) < 0)
			return param_invalid(cmd, p);
		copy_str(m->envid, sizeof(m->envid), p->val, p->vallen);
		m->envid_given = true;
		break;
	}
	case SEEN_AUTH:
		m->auth_given = true;
		if (p->vallen == 2 && memcmp(p->val, "<>", 2) == 0) {
			m->auth_null = true;
			break;
		}
		if (smtp_xtext_decode(p->val, p->vallen, false, m->auth,
		    sizeof(m->auth)) <= 0)
			return param_invalid(cmd, p);
		break;
	default:
		break;
	}
	return 0;
}

/* NOTIFY="NEVER" / 1#( "SUCCESS" / "FAILURE" / "DELAY" ) */
static bool
parse_notify(const char *s, size_t n, unsigned *out)
{
	unsigned bits = 0, bit;
	size_t i = 0, j;

	while (i <= n) {
		for (j = i; j < n && s[j] != ','; j++)
			;
		if (word_eq(s + i, j - i, "NEVER"))
			bit = SMTP_NOTIFY_NEVER;
		else if (word_eq(s + i, j - i, "SUCCESS"))
			bit = SMTP_NOTIFY_SUCCESS;
		else if (word_eq(s + i, j - i, "FAILURE"))
			bit = SMTP_NOTIFY_FAILURE;
		else if (word_eq(s + i, j - i, "DELAY"))
			bit = SMTP_NOTIFY_DELAY;
		else
			return false;
		if (bits & bit)
			return false;
		bits |= bit;
		i = j + 1;
	}
	if ((bits & SMTP_NOTIFY_NEVER) && bits != SMTP_NOTIFY_NEVER)
		return false;
	*out = bits;
	return true;
}

/* atext of RFC 5322 3.2.3, for the ORCPT addr-type */
static bool
is_atext(int c)
{
	return is_alpha(c) || is_digit(c) || (c != '\0' &&
	    strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static int
rcpt_param(struct smtp_cmd *cmd, const struct param *p, unsigned flags,
    unsigned *seen)
{
	struct smtp_rcpt_args *r = &cmd->rcpt;
	unsigned bit;

	if (word_eq(p->kw, p->kwlen, "NOTIFY") && (flags & SMTP_EXT_DSN))
		bit = SEEN_NOTIFY;
	else if (word_eq(p->kw, p->kwlen, "ORCPT") && (flags & SMTP_EXT_DSN))
		bit = SEEN_ORCPT;
	else
		return param_unsupported(cmd, p);
	if (*seen & bit)
		return param_duplicate(cmd, p);
	*seen |= bit;
	if (p->val == NULL)
		return param_invalid(cmd, p);

	if (bit == SEEN_NOTIFY) {
		if (!parse_notify(p->val, p->vallen, &r->notify))
			return param_invalid(cmd, p);
	} else {
		/* orcpt-value = addr-type ";" xtext */
		const char *semi = memchr(p->val, ';', p->vallen);
		char tmp[SMTP_ORCPT_MAX + 1];
		size_t tlen, i;

		if (semi == NULL || p->vallen > SMTP_ORCPT_MAX)
			return param_invalid(cmd, p);
		tlen = (size_t)(semi - p->val);
		if (tlen == 0)
			return param_invalid(cmd, p);
		for (i = 0; i < tlen; i++)
			if (!is_atext((unsigned char)p->val[i]))
				return param_invalid(cmd, p);
		if (smtp_xtext_decode(semi + 1, p->vallen - tlen - 1,
		    (flags & SMTP_PARSE_UTF8) != 0, tmp, sizeof(tmp)) <= 0)
			return param_invalid(cmd, p);
		copy_str(r->orcpt_type, sizeof(r->orcpt_type), p->val, tlen);
		copy_str(r->orcpt_addr, sizeof(r->orcpt_addr), semi + 1,
		    p->vallen - tlen - 1);
		r->orcpt_given = true;
	}
	return 0;
}

/* --- MAIL and RCPT ---------------------------------------------------- */

/*
 * p[0] is '<': finds the '>' that closes the path, skipping quoted
 * strings (a quoted local part may hold '>' or a space). NULL when the
 * path is unterminated or holds a space outside quotes.
 */
static const char *
path_end(const char *p, const char *end)
{
	bool quoted = false;
	const char *s;

	for (s = p + 1; s < end; s++) {
		if (quoted) {
			if (*s == '\\') {
				if (++s == end)
					return NULL;
			} else if (*s == '"')
				quoted = false;
		} else if (*s == '"')
			quoted = true;
		else if (*s == '>')
			return s;
		else if (*s == ' ')
			return NULL;
	}
	return NULL;
}

static bool
has_8bit(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

/*
 * "FROM:" or "TO:" already matched; s[0..end) is what follows: optional
 * spaces, the path, then parameters separated by spaces.
 */
static int
parse_envelope(struct smtp_cmd *cmd, const char *s, const char *end,
    unsigned flags)
{
	bool mail = cmd->verb == SMTP_VERB_MAIL;
	const char *enh_bad = mail ? ENH_BAD_FROM : ENH_BAD_RCPT;
	const char *what = mail ? "sender" : "recipient";
	struct mailaddr *addr = mail ? &cmd->mail.path : &cmd->rcpt.path;
	const char *lt, *gt, *reason = NULL;
	unsigned seen = 0, aflags;
	bool utf8;

	while (s < end && *s == ' ')
		s++;
	if (s == end || *s != '<') {
		smtp_reply_set(&cmd->reply, 501, enh_bad,
		    "Bad %s address syntax: the path must be in <>", what);
		return -1;
	}
	lt = s;
	if ((gt = path_end(lt, end)) == NULL) {
		smtp_reply_set(&cmd->reply, 501, enh_bad,
		    "Bad %s address syntax: unterminated path", what);
		return -1;
	}
	s = gt + 1;
	if (s < end && *s != ' ')
		return fail(cmd, 501, ENH_ARGS,
		    "Syntax error: a space must follow the path");

	while (s < end) {
		struct param p;
		const char *tok;

		while (s < end && *s == ' ')
			s++;
		if (s == end)
			break;
		tok = s;
		while (s < end && *s != ' ')
			s++;
		if (!param_split(tok, (size_t)(s - tok), &p))
			return fail(cmd, 501, ENH_ARGS,
			    "Syntax error in parameters");
		if ((mail ? mail_param(cmd, &p, flags, &seen) :
		    rcpt_param(cmd, &p, flags, &seen)) < 0)
			return -1;
	}

	utf8 = mail ? cmd->mail.smtputf8 : (flags & SMTP_PARSE_UTF8) != 0;
	if (!utf8 && has_8bit(lt, (size_t)(gt + 1 - lt))) {
		smtp_reply_set(&cmd->reply, 553, ENH_NON_ASCII,
		    "Non-ASCII %s address needs SMTPUTF8", what);
		return -1;
	}
	aflags = (utf8 ? ADDR_ALLOW_UTF8 : 0) |
	    (mail ? ADDR_ALLOW_NULL : ADDR_ALLOW_NO_DOMAIN);
	if (addr_parse_path(lt, (size_t)(gt + 1 - lt), aflags, addr,
	    &reason) < 0) {
		smtp_reply_set(&cmd->reply, 501, enh_bad,
		    "Bad %s address syntax: %s", what,
		    reason != NULL ? reason : "invalid");
		return -1;
	}
	/* RFC 5321 4.1.1.3: "<Postmaster>" exactly is the one path
	 * without a domain (no source route, no quoting). */
	if (!mail && !addr->is_null && addr->domain[0] == '\0' &&
	    !word_eq(lt + 1, (size_t)(gt - lt - 1), "postmaster")) {
		smtp_reply_set(&cmd->reply, 501, enh_bad,
		    "Bad %s address syntax: a domain is required", what);
		return -1;
	}
	return 0;
}

/* --- the other verbs -------------------------------------------------- */

static int
parse_bdat(struct smtp_cmd *cmd, const char *s, const char *end)
{
	const char *num = s;

	while (s < end && *s != ' ')
		s++;
	if (!parse_decimal(num, (size_t)(s - num), 20, &cmd->bdat.size) ||
	    cmd->bdat.size == UINT64_MAX)
		return fail(cmd, 501, ENH_ARGS, "Syntax: BDAT size [LAST]");
	while (s < end && *s == ' ')
		s++;
	if (s == end)
		return 0;
	if (!word_eq(s, (size_t)(end - s), "LAST"))
		return fail(cmd, 501, ENH_ARGS, "Syntax: BDAT size [LAST]");
	cmd->bdat.last = true;
	return 0;
}

static bool
is_base64_char(int c)
{
	return is_alpha(c) || is_digit(c) || c == '+' || c == '/';
}

/* base64 with padding, or "=" alone for an empty response (RFC 4954 4) */
static bool
initial_response_ok(const char *s, size_t n)
{
	size_t i, pad = 0;

	if (n == 1 && s[0] == '=')
		return true;
	if (n == 0 || n % 4 != 0)
		return false;
	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || !is_base64_char(c))
			return false;
	}
	return pad <= 2;
}

static int
parse_auth(struct smtp_cmd *cmd, const char *s, const char *end)
{
	const char *mech = s, *resp;
	size_t i, mlen;

	while (s < end && *s != ' ')
		s++;
	mlen = (size_t)(s - mech);
	if (mlen == 0 || mlen > SMTP_AUTH_MECH_MAX)
		return fail(cmd, 501, ENH_ARGS,
		    "Syntax: AUTH mechanism [initial-response]");
	for (i = 0; i < mlen; i++) {
		int c = upper((unsigned char)mech[i]);

		if (!(c >= 'A' && c <= 'Z') && !is_digit(c) && c != '-' &&
		    c != '_')
			return fail(cmd, 501, ENH_ARGS,
			    "Syntax: AUTH mechanism [initial-response]");
		cmd->auth.mech[i] = (char)c;
	}
	cmd->auth.mech[mlen] = '\0';
	while (s < end && *s == ' ')
		s++;
	if (s == end)
		return 0;
	resp = s;
	while (s < end && *s != ' ')
		s++;
	if (s != end)
		return fail(cmd, 501, ENH_ARGS,
		    "Syntax: AUTH mechanism [initial-response]");
	if (!initial_response_ok(resp, (size_t)(end - resp)))
		return fail(cmd, 501, ENH_SYNTAX,
		    "Cannot decode the initial response (bad base64)");
	cmd->auth.has_initial = true;
	copy_str(cmd->auth.initial, sizeof(cmd->auth.initial), resp,
	    (size_t)(end - resp));
	return 0;
}

const char *
smtp_verb_name(enum smtp_verb verb)
{
	size_t i;

	for (i = 0; i < NELEM(verb_table); i++)
		if (verb_table[i].verb == verb)
			return verb_table[i].name;
	return "?";
}

int
smtp_cmd_parse(const char *line, size_t len, unsigned flags,
    struct smtp_cmd *cmd)
{
	const char *end = line + len, *s, *arg;
	size_t i, vlen;

	memset(cmd, 0, sizeof(*cmd));
	if (len == 0)
		return fail(cmd, 500, ENH_SYNTAX, "Syntax error: empty command");
	if (len > SMTP_LINE_MAX - 2)
		return fail(cmd, 500, ENH_SYNTAX, "Line too long");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c < ' ' || c == 0x7f)
			return fail(cmd, 500, ENH_SYNTAX,
			    "Syntax error: control characters not allowed");
	}

	for (s = line; s < end && *s != ' '; s++)
		;
	vlen = (size_t)(s - line);
	for (i = 0; i < NELEM(verb_table); i++)
		if (word_eq(line, vlen, verb_table[i].name)) {
			cmd->verb = verb_table[i].verb;
			break;
		}
	if (cmd->verb == SMTP_VERB_UNKNOWN) {
		for (i = 0; i < NELEM(http_methods); i++)
			if (word_eq(line, vlen, http_methods[i]))
				cmd->http = true;
		if (vlen > 0 && line[vlen - 1] == ':')
			cmd->http = true;	/* "Host:", "User-Agent:" */
		return fail(cmd, 500, ENH_SYNTAX, "Command unrecognized");
	}

	/* The argument: after one space, trailing spaces cut. */
	arg = s < end ? s + 1 : end;
	while (end > arg && end[-1] == ' ')
		end--;

	switch (cmd->verb) {
	case SMTP_VERB_HELO:
	case SMTP_VERB_EHLO:
		if (arg == end || *arg == ' ') {
			smtp_reply_set(&cmd->reply, 501, ENH_SYNTAX,
			    "Syntax: %s hostname", smtp_verb_name(cmd->verb));
			return -1;
		}
		copy_str(cmd->helo, sizeof(cmd->helo), arg,
		    (size_t)(end - arg));
		return 0;
	case SMTP_VERB_MAIL:
		if (!prefix_eq(arg, (size_t)(end - arg), "FROM:"))
			return fail(cmd, 501, ENH_ARGS,
			    "Syntax: MAIL FROM:<address>");
		return parse_envelope(cmd, arg + 5, end, flags);
	case SMTP_VERB_RCPT:
		if (!prefix_eq(arg, (size_t)(end - arg), "TO:"))
			return fail(cmd, 501, ENH_ARGS,
			    "Syntax: RCPT TO:<address>");
		return parse_envelope(cmd, arg + 3, end, flags);
	case SMTP_VERB_DATA:
	case SMTP_VERB_RSET:
	case SMTP_VERB_QUIT:
	case SMTP_VERB_STARTTLS:
		if (arg != end) {
			smtp_reply_set(&cmd->reply, 501, ENH_ARGS,
			    "Syntax: %s takes no arguments",
			    smtp_verb_name(cmd->verb));
			return -1;
		}
		return 0;
	case SMTP_VERB_NOOP:
	case SMTP_VERB_HELP:
		copy_str(cmd->text, sizeof(cmd->text), arg,
		    (size_t)(end - arg));
		return 0;
	case SMTP_VERB_VRFY:
	case SMTP_VERB_EXPN:
		if (arg == end) {
			smtp_reply_set(&cmd->reply, 501, ENH_ARGS,
			    "Syntax: %s address", smtp_verb_name(cmd->verb));
			return -1;
		}
		copy_str(cmd->text, sizeof(cmd->text), arg,
		    (size_t)(end - arg));
		return 0;
	case SMTP_VERB_BDAT:
		return parse_bdat(cmd, arg, end);
	case SMTP_VERB_AUTH:
		return parse_auth(cmd, arg, end);
	case SMTP_VERB_UNKNOWN:
		break;
	}
	return fail(cmd, 500, ENH_SYNTAX, "Command unrecognized");
}

/* --- replies ---------------------------------------------------------- */

static void
reply_line(struct buf *out, int code, bool more, const char *enhanced,
    const char *text, size_t n)
{
	char line[SMTP_REPLY_LINE_MAX];
	size_t len, room, i;

	if (code < 100 || code > 999)
		code = 451;	/* a caller bug must not break the framing */
	line[0] = (char)('0' + code / 100);
	line[1] = (char)('0' + code / 10 % 10);
	line[2] = (char)('0' + code % 10);
	len = 3;
	if (more || enhanced != NULL || n > 0)
		line[len++] = more ? '-' : ' ';	/* "250\r\n" when bare */
	if (enhanced != NULL) {
		size_t el = strnlen(enhanced, 16);

		memcpy(line + len, enhanced, el);
		len += el;
		if (n > 0)
			line[len++] = ' ';
	}
	room = sizeof(line) - 2 - len;
	if (n > room)
		n = room;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];

		line[len++] = (c < ' ' || c == 0x7f) ? '?' : (char)c;
	}
	line[len++] = '\r';
	line[len++] = '\n';
	buf_append(out, line, len);
}

void
smtp_reply_lines(struct buf *out, int code, const char *enhanced,
    const char *const *lines, size_t n)
{
	size_t i;

	if (n == 0) {
		reply_line(out, code, false, enhanced, "", 0);
		return;
	}
	for (i = 0; i < n; i++)
		reply_line(out, code, i + 1 < n, enhanced, lines[i],
		    strlen(lines[i]));
}

void
smtp_reply_format(struct buf *out, int code, const char *enhanced,
    const char *text)
{
	size_t n = strlen(text);
	const char *nl;

	if (n > 0 && text[n - 1] == '\n')
		n--;
	while ((nl = memchr(text, '\n', n)) != NULL) {
		reply_line(out, code, true, enhanced, text,
		    (size_t)(nl - text));
		n -= (size_t)(nl - text) + 1;
		text = nl + 1;
	}
	reply_line(out, code, false, enhanced, text, n);
}

void
smtp_reply_append(struct buf *out, const struct smtp_reply *r)
{
	smtp_reply_format(out, r->code, r->enhanced, r->text);
}
