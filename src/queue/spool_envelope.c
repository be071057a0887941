/*
 * spool_envelope — envelope file format: writer and parser. See
 * spool_envelope.h for the format.
 *
 * The parser trusts nothing: the checksum line is checked before any
 * field is looked at, every token is checked for its alphabet, numbers
 * for overflow, keys for duplicates, and the recipient count in the last
 * line bounds the one allocation that depends on the input.
 */
#include "queue/spool_envelope.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/strnum.h"

#define SPOOL_MAGIC	"netjes-envelope"

static const char spool_id_alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

uint32_t
spool_crc32(uint32_t crc, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;
	int k;

	crc = ~crc;
	for (i = 0; i < n; i++) {
		crc ^= s[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

bool
spool_id_valid(const char *s)
{
	size_t i;

	for (i = 0; i < SPOOL_ID_LEN; i++)
		if (s[i] == '\0' || strchr(spool_id_alphabet, s[i]) == NULL)
			return false;
	return s[SPOOL_ID_LEN] == '\0';
}

/* ---- writer ---------------------------------------------------------- */

static void
put_token(struct buf *b, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	if (v == NULL || *v == '\0') {
		buf_append_char(b, '-');
		return;
	}
	if (strcmp(v, "-") == 0) {
		buf_append_str(b, "%2D");
		return;
	}
	for (p = (const unsigned char *)v; *p != '\0'; p++) {
		if (*p < 0x21 || *p > 0x7e || *p == '%') {
			buf_append_char(b, '%');
			buf_append_char(b, hex[*p >> 4]);
			buf_append_char(b, hex[*p & 0x0f]);
		} else
			buf_append_char(b, (char)*p);
	}
}

static void
put_field(struct buf *b, const char *key, const char *v)
{
	buf_append_str(b, key);
	buf_append_char(b, ' ');
	put_token(b, v);
	buf_append_char(b, '\n');
}

static const char *const ret_names[] = { "-", "full", "hdrs" };
static const char *const body_names[] = { "-", "7bit", "8bitmime",
	"binarymime" };
static const char *const state_names[] = { "pending", "delivered",
	"failed" };

const char *
spool_notify_format(unsigned notify, char *out, size_t n)
{
	struct { unsigned bit; const char *name; } names[] = {
		{ SPOOL_NOTIFY_NEVER, "never" },
		{ SPOOL_NOTIFY_SUCCESS, "success" },
		{ SPOOL_NOTIFY_FAILURE, "failure" },
		{ SPOOL_NOTIFY_DELAY, "delay" },
	};
	size_t i, len = 0;

	if (n == 0)
		return out;
	out[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(*names); i++) {
		if ((notify & names[i].bit) == 0)
			continue;
		len += (size_t)snprintf(out + len, len < n ? n - len : 0,
		    "%s%s", len ? "," : "", names[i].name);
		if (len >= n)
			break;
	}
	return out;
}

void
spool_envelope_format(const struct spool_envelope *env, struct buf *out)
{
	struct buf b = BUF_INIT;
	char num[32], notify[64];
	size_t i;
	uint32_t crc;

	buf_printf(&b, "%s %d\n", SPOOL_MAGIC, SPOOL_ENVELOPE_VERSION);
	put_field(&b, "id", env->id);
	buf_printf(&b, "received %" PRId64 "\n",
	    env->received < 0 ? (int64_t)0 : env->received);
	buf_printf(&b, "size %" PRIu64 "\n", env->size);
	put_field(&b, "from", env->mail_from);
	put_field(&b, "envid", env->envid);
	buf_printf(&b, "ret %s\n", (unsigned)env->ret <= SPOOL_RET_HDRS ?
	    ret_names[env->ret] : "-");
	buf_printf(&b, "body %s\n", (unsigned)env->body <=
	    SPOOL_BODY_BINARYMIME ? body_names[env->body] : "-");
	buf_printf(&b, "smtputf8 %d\n", env->smtputf8 ? 1 : 0);
	put_field(&b, "client-ip", env->client_ip);
	put_field(&b, "client-helo", env->client_helo);
	put_field(&b, "auth-user", env->auth_user);
	put_field(&b, "folder", env->folder);
	/* written only when there is one, so envelopes without it read
	 * exactly as before */
	if (env->prepend != NULL && env->prepend[0] != '\0')
		put_field(&b, "prepend", env->prepend);
	if (env->hold)
		buf_append_str(&b, "hold 1\n");
	if (env->no_dsn)
		buf_append_str(&b, "no-dsn 1\n");
	for (i = 0; i < env->nrcpts; i++) {
		const struct spool_rcpt *r = &env->rcpts[i];

		buf_append_str(&b, "rcpt addr=");
		put_token(&b, r->addr);
		buf_append_str(&b, " orig=");
		put_token(&b, r->orig);
		buf_append_str(&b, " orcpt=");
		put_token(&b, r->orcpt);
		buf_append_str(&b, " notify=");
		put_token(&b, spool_notify_format(r->notify, notify,
		    sizeof(notify)));
		buf_printf(&b, " state=%s", (unsigned)r->state <=
		    SPOOL_RCPT_FAILED ? state_names[r->state] : "pending");
		snprintf(num, sizeof(num), "%u", r->attempts);
		buf_printf(&b, " attempts=%s reason=", num);
		put_token(&b, r->reason);
		if (r->first_attempt > 0)
			buf_printf(&b, " first=%" PRId64, r->first_attempt);
		if (r->next_attempt > 0)
			buf_printf(&b, " next=%" PRId64, r->next_attempt);
		if (r->warned)
			buf_append_str(&b, " warned=1");
		buf_append_char(&b, '\n');
	}
	crc = spool_crc32(0, b.data, b.len);
	buf_printf(&b, "end %zu %08" PRIx32 "\n", env->nrcpts, crc);
	buf_append(out, b.data, b.len);
	buf_free(&b);
}

struct spool_rcpt *
spool_envelope_add_rcpt(struct spool_envelope *env, struct arena *arena,
    const char *addr, const char *orcpt, unsigned notify)
{
	struct spool_rcpt *v, *r;

	if (env->nrcpts >= env->rcpts_cap) {
		env->rcpts_cap = env->nrcpts >= 2 ? env->nrcpts * 2 : 4;
		v = arena_calloc(arena, env->rcpts_cap, sizeof(*v));
		if (env->nrcpts > 0)
			memcpy(v, env->rcpts, env->nrcpts * sizeof(*v));
		env->rcpts = v;
	}
	r = &env->rcpts[env->nrcpts++];
	memset(r, 0, sizeof(*r));
	r->addr = arena_strdup(arena, addr ? addr : "");
	r->orig = "";
	r->orcpt = arena_strdup(arena, orcpt ? orcpt : "");
	r->notify = notify;
	r->state = SPOOL_RCPT_PENDING;
	r->reason = "";
	return r;
}

/*
 * Header lines as they go into the message: at least one line, every
 * line ended by CRLF and no CR or LF anywhere else, the first line not
 * a continuation (it must start a field), no empty line (which would
 * end the header section and turn the rest into body).
 */
bool
spool_prepend_valid(const char *p, size_t n)
{
	size_t i, line = 0;

	if (n < 2 || p[0] == ' ' || p[0] == '\t' || p[n - 2] != '\r' ||
	    p[n - 1] != '\n' || n > SPOOL_PREPEND_MAX)
		return false;
	for (i = 0; i < n; i++) {
		if (p[i] == '\0')
			return false;
		if (p[i] == '\r') {
			if (i + 1 >= n || p[i + 1] != '\n' || i == line)
				return false;
			line = i + 2;
			i++;
		} else if (p[i] == '\n')
			return false;
	}
	return true;
}

size_t
spool_envelope_pending(const struct spool_envelope *env)
{
	size_t i, n = 0;

	for (i = 0; i < env->nrcpts; i++)
		if (env->rcpts[i].state == SPOOL_RCPT_PENDING)
			n++;
	return n;
}

/* ---- parser ---------------------------------------------------------- */

static int
fail(const char **reason, const char *why)
{
	if (reason != NULL)
		*reason = why;
	return -1;
}

/* Decodes one token s[0..n) into an arena string. */
static int
get_token(const char *s, size_t n, struct arena *arena, const char **out,
    const char **reason)
{
	char *d;
	size_t i, j;
	int hi, lo;

	if (n == 0)
		return fail(reason, "empty value");
	if (n == 1 && s[0] == '-') {
		*out = "";
		return 0;
	}
	d = arena_alloc(arena, n + 1);
	for (i = j = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x21 || c > 0x7e)
			return fail(reason, "bad byte in value");
		if (c != '%') {
			d[j++] = (char)c;
			continue;
		}
		if (n - i < 3 || (hi = strnum_hex_digit(s[i + 1])) < 0 ||
		    (lo = strnum_hex_digit(s[i + 2])) < 0)
			return fail(reason, "bad %-escape in value");
		if (hi == 0 && lo == 0)
			return fail(reason, "NUL in value");
		d[j++] = (char)(hi << 4 | lo);
		i += 2;
	}
	d[j] = '\0';
	*out = d;
	return 0;
}

static int
match(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* Index of s[0..n) in names, or -1. */
static int
lookup(const char *s, size_t n, const char *const *names, size_t nnames)
{
	size_t i;

	for (i = 0; i < nnames; i++)
		if (match(s, n, names[i]))
			return (int)i;
	return -1;
}

int
spool_notify_parse(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0, bit;
	size_t i = 0, j;

	while (i < n) {
		for (j = i; j < n && s[j] != ','; j++)
			;
		if (j - i == 5 && strncasecmp(s + i, "never", 5) == 0)
			bit = SPOOL_NOTIFY_NEVER;
		else if (j - i == 7 && strncasecmp(s + i, "success", 7) == 0)
			bit = SPOOL_NOTIFY_SUCCESS;
		else if (j - i == 7 && strncasecmp(s + i, "failure", 7) == 0)
			bit = SPOOL_NOTIFY_FAILURE;
		else if (j - i == 5 && strncasecmp(s + i, "delay", 5) == 0)
			bit = SPOOL_NOTIFY_DELAY;
		else
			return -1;
		if (v & bit)
			return -1;
		v |= bit;
		if (j == n)
			break;
		i = j + 1;
		if (i == n)
			return -1;	/* trailing comma */
	}
	if (v == 0 || ((v & SPOOL_NOTIFY_NEVER) && v != SPOOL_NOTIFY_NEVER))
		return -1;	/* RFC 3461 4.1: NEVER stands alone */
	*out = v;
	return 0;
}

static int
parse_rcpt(const char *s, size_t n, struct arena *arena,
    struct spool_rcpt *r, const char **reason)
{
	enum { F_ADDR = 1, F_ORIG = 2, F_ORCPT = 4, F_NOTIFY = 8,
	    F_STATE = 16, F_ATTEMPTS = 32, F_REASON = 64, F_FIRST = 128,
	    F_NEXT = 256, F_WARNED = 512 };
	unsigned seen = 0, f;
	const char *notify;
	size_t i = 0, j, eq;
	uint64_t u;
	int k;

	r->addr = r->orig = r->orcpt = r->reason = "";
	r->notify = 0;
	r->state = SPOOL_RCPT_PENDING;
	r->attempts = 0;
	r->first_attempt = r->next_attempt = 0;
	r->warned = false;
	while (i < n) {
		for (j = i; j < n && s[j] != ' '; j++)
			;
		for (eq = i; eq < j && s[eq] != '='; eq++)
			;
		if (eq == j)
			return fail(reason, "rcpt field without '='");
		if (match(s + i, eq - i, "addr"))
			f = F_ADDR;
		else if (match(s + i, eq - i, "orig"))
			f = F_ORIG;
		else if (match(s + i, eq - i, "orcpt"))
			f = F_ORCPT;
		else if (match(s + i, eq - i, "notify"))
			f = F_NOTIFY;
		else if (match(s + i, eq - i, "state"))
			f = F_STATE;
		else if (match(s + i, eq - i, "attempts"))
			f = F_ATTEMPTS;
		else if (match(s + i, eq - i, "reason"))
			f = F_REASON;
		else if (match(s + i, eq - i, "first"))
			f = F_FIRST;
		else if (match(s + i, eq - i, "next"))
			f = F_NEXT;
		else if (match(s + i, eq - i, "warned"))
			f = F_WARNED;
		else
			return fail(reason, "unknown rcpt field");
		if (seen & f)
			return fail(reason, "duplicate rcpt field");
		seen |= f;
		eq++;
		switch (f) {
		case F_ADDR:
			if (get_token(s + eq, j - eq, arena, &r->addr,
			    reason) < 0)
				return -1;
			break;
		case F_ORIG:
			if (get_token(s + eq, j - eq, arena, &r->orig,
			    reason) < 0)
				return -1;
			break;
		case F_ORCPT:
			if (get_token(s + eq, j - eq, arena, &r->orcpt,
			    reason) < 0)
				return -1;
			break;
		case F_REASON:
			if (get_token(s + eq, j - eq, arena, &r->reason,
			    reason) < 0)
				return -1;
			break;
		case F_NOTIFY:
			if (get_token(s + eq, j - eq, arena, &notify,
			    reason) < 0)
				return -1;
			if (*notify != '\0' && spool_notify_parse(notify,
			    strlen(notify), &r->notify) < 0)
				return fail(reason, "bad rcpt notify");
			break;
		case F_STATE:
			k = lookup(s + eq, j - eq, state_names,
			    sizeof(state_names) / sizeof(*state_names));
			if (k < 0)
				return fail(reason, "bad rcpt state");
			r->state = (enum spool_rcpt_state)k;
			break;
		case F_ATTEMPTS:
			if (strnum_decimal(s + eq, j - eq, UINT_MAX, &u) < 0)
				return fail(reason, "bad rcpt attempts");
			r->attempts = (unsigned)u;
			break;
		case F_FIRST:
		case F_NEXT:
			if (strnum_decimal(s + eq, j - eq, INT64_MAX, &u) < 0)
				return fail(reason, "bad rcpt time");
			if (f == F_FIRST)
				r->first_attempt = (int64_t)u;
			else
				r->next_attempt = (int64_t)u;
			break;
		case F_WARNED:
			if (!match(s + eq, j - eq, "1"))
				return fail(reason, "bad rcpt warned");
			r->warned = true;
			break;
		}
		if (j == n)
			break;
		i = j + 1;
		if (i == n)
			return fail(reason, "trailing space in rcpt");
	}
	if ((seen & (F_ADDR | F_STATE)) != (F_ADDR | F_STATE))
		return fail(reason, "rcpt without addr or state");
	if (*r->addr == '\0')
		return fail(reason, "empty rcpt addr");
	return 0;
}

/* The "end COUNT CRC" line at s[0..n), without its newline. */
static int
parse_end(const char *s, size_t n, uint64_t *count, uint32_t *crc)
{
	size_t i, sp;
	uint32_t v = 0;
	int h;

	if (n < 4 || memcmp(s, "end ", 4) != 0)
		return -1;
	for (sp = 4; sp < n && s[sp] != ' '; sp++)
		;
	if (sp == n || strnum_decimal(s + 4, sp - 4, SPOOL_RCPT_MAX, count) < 0)
		return -1;
	if (n - sp - 1 != 8)
		return -1;
	for (i = sp + 1; i < n; i++) {
		if ((h = strnum_hex_digit(s[i])) < 0 || (s[i] >= 'A' && s[i] <= 'F'))
			return -1;
		v = v << 4 | (uint32_t)h;
	}
	*crc = v;
	return 0;
}

int
spool_envelope_parse(const char *s, size_t n, struct arena *arena,
    struct spool_envelope *env, const char **reason)
{
	enum { K_ID, K_RECEIVED, K_SIZE, K_FROM, K_ENVID, K_RET, K_BODY,
	    K_SMTPUTF8, K_CLIENT_IP, K_CLIENT_HELO, K_AUTH_USER, K_FOLDER,
	    K_PREPEND, K_RCPT, K_HOLD, K_NO_DSN, K_COUNT };
	static const char *const keys[K_COUNT] = { "id", "received", "size",
	    "from", "envid", "ret", "body", "smtputf8", "client-ip",
	    "client-helo", "auth-user", "folder", "prepend", "rcpt", "hold",
	    "no-dsn" };
	unsigned seen = 0;
	size_t end_start, pos, eol, sp, nr = 0;
	const char *line, *val, *tok;
	size_t llen, vlen;
	uint64_t count, u;
	uint32_t crc;
	int k;

	memset(env, 0, sizeof(*env));
	env->mail_from = env->envid = env->client_ip = env->client_helo =
	    env->auth_user = env->folder = env->prepend = "";

	if (n == 0 || s[n - 1] != '\n')
		return fail(reason, "envelope torn: no final newline");
	for (end_start = n - 1; end_start > 0 && s[end_start - 1] != '\n';
	    end_start--)
		;
	if (parse_end(s + end_start, n - 1 - end_start, &count, &crc) < 0)
		return fail(reason, "envelope torn: no valid end line");
	if (spool_crc32(0, s, end_start) != crc)
		return fail(reason, "envelope checksum mismatch");
	if (count == 0)
		return fail(reason, "envelope without recipients");
	if (count > end_start / 16)	/* a rcpt line is longer than that */
		return fail(reason, "rcpt count larger than the file");
	env->rcpts = arena_calloc(arena, (size_t)count, sizeof(*env->rcpts));

	for (pos = 0; pos < end_start; pos = eol + 1) {
		line = s + pos;
		eol = (size_t)((const char *)memchr(line, '\n',
		    end_start - pos) - s);
		llen = eol - pos;
		if (pos == 0) {
			char magic[32];

			snprintf(magic, sizeof(magic), "%s %d", SPOOL_MAGIC,
			    SPOOL_ENVELOPE_VERSION);
			if (!match(line, llen, magic))
				return fail(reason, "not a version 1 envelope");
			continue;
		}
		for (sp = 0; sp < llen && line[sp] != ' '; sp++)
			;
		if (sp == llen)
			return fail(reason, "line without value");
		k = lookup(line, sp, keys, K_COUNT);
		if (k < 0)
			return fail(reason, "unknown key");
		val = line + sp + 1;
		vlen = llen - sp - 1;
		if (k == K_RCPT) {
			seen |= 1u << K_RCPT;
			if (nr == count)
				return fail(reason, "more rcpt lines than counted");
			if (parse_rcpt(val, vlen, arena, &env->rcpts[nr],
			    reason) < 0)
				return -1;
			nr++;
			continue;
		}
		if (seen & (1u << k))
			return fail(reason, "duplicate key");
		seen |= 1u << k;
		if (memchr(val, ' ', vlen) != NULL)
			return fail(reason, "space in value");
		switch (k) {
		case K_ID:
			if (get_token(val, vlen, arena, &tok, reason) < 0)
				return -1;
			if (!spool_id_valid(tok))
				return fail(reason, "bad queue id");
			memcpy(env->id, tok, SPOOL_ID_LEN + 1);
			break;
		case K_RECEIVED:
			if (strnum_decimal(val, vlen, INT64_MAX, &u) < 0)
				return fail(reason, "bad received time");
			env->received = (int64_t)u;
			break;
		case K_SIZE:
			if (strnum_decimal(val, vlen, INT64_MAX, &u) < 0)
				return fail(reason, "bad size");
			env->size = u;
			break;
		case K_RET:
			k = lookup(val, vlen, ret_names, 3);
			if (k < 0)
				return fail(reason, "bad ret");
			env->ret = (enum spool_ret)k;
			break;
		case K_BODY:
			k = lookup(val, vlen, body_names, 4);
			if (k < 0)
				return fail(reason, "bad body");
			env->body = (enum spool_body)k;
			break;
		case K_SMTPUTF8:
			if (!match(val, vlen, "0") && !match(val, vlen, "1"))
				return fail(reason, "bad smtputf8");
			env->smtputf8 = val[0] == '1';
			break;
		case K_HOLD:
		case K_NO_DSN:
			if (!match(val, vlen, "1"))
				return fail(reason, "bad flag");
			if (k == K_HOLD)
				env->hold = true;
			else
				env->no_dsn = true;
			break;
		default:
			if (get_token(val, vlen, arena, &tok, reason) < 0)
				return -1;
			if (k == K_FROM)
				env->mail_from = tok;
			else if (k == K_ENVID)
				env->envid = tok;
			else if (k == K_CLIENT_IP)
				env->client_ip = tok;
			else if (k == K_CLIENT_HELO)
				env->client_helo = tok;
			else if (k == K_AUTH_USER)
				env->auth_user = tok;
			else if (k == K_PREPEND) {
				if (!spool_prepend_valid(tok, strlen(tok)))
					return fail(reason, "bad prepend");
				env->prepend = tok;
			} else
				env->folder = tok;
			break;
		}
	}
	if (pos == 0)
		return fail(reason, "no version line");
	if (nr != count)
		return fail(reason, "rcpt count mismatch");
	if ((seen & (1u << K_ID | 1u << K_RECEIVED | 1u << K_SIZE |
	    1u << K_FROM)) != (1u << K_ID | 1u << K_RECEIVED | 1u << K_SIZE |
	    1u << K_FROM))
		return fail(reason, "required key missing");
	env->nrcpts = env->rcpts_cap = nr;
	return 0;
}
