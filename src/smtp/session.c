/*
 * session — the SMTP dialogue. See session.h.
 *
 * States (session_enter() is the one place a state is entered and runs
 * its entry action; session_command() is the table of what each command
 * may do in each state):
 *
 *	TLS_HANDSHAKE	smtps, or after STARTTLS: no SMTP bytes yet
 *	BANNER_WAIT	greeting delayed; a client that talks is refused
 *	GREETED		220 sent (or TLS just started): EHLO/HELO wanted
 *	READY		after EHLO/HELO, no transaction
 *	MAIL		MAIL accepted, no recipient yet
 *	RCPT		at least one recipient accepted
 *	DATA		DATA content streams into the spool
 *	BDAT		a BDAT chunk streams into the spool
 *	BDAT_WAIT	between the chunks of one message
 *	BDAT_SKIP	a refused BDAT chunk is read and dropped
 *	CHECK		authentication checks run on the spooled message;
 *			input waits (no reply yet)
 *	COMMIT		the spool commit runs; input waits (no reply yet)
 *	AUTH		a SASL exchange (RFC 4954): lines go to sasl_step()
 *	AUTH_VERIFY	the password check runs, then its reply waits out
 *			the client's failure delay; input waits (no reply yet)
 *	CLOSING		the last reply is queued; free once it is sent
 *
 * Replies go into the output buffer in command order, so pipelined
 * commands are answered in order; input is simply not read while the
 * session is in CHECK or COMMIT, and libevent stops reading the socket
 * once SESSION_INPUT_MAX bytes wait. Command lines come from smtp_line (only
 * CRLF ends a line), content from smtp_data (only CRLF.CRLF ends DATA).
 *
 * Slow clients (slowloris): besides the idle timeout, one transfer
 * (DATA, or BDAT from the first chunk to the last) has a deadline and,
 * after a grace period, a minimum average rate ([limits] data_timeout,
 * min_data_rate, data_rate_grace; the arithmetic is smtp_rate.h). One
 * timer per session fires only when the verdict can change; a transfer
 * that fails gets 451 4.4.2 and the connection closes, because a client
 * still sending cannot be resynchronised. Its partial message is
 * aborted in the spool.
 *
 * The Received: header is written into the spool first, when the
 * content starts (queue id, TLS and recipient are known by then), so it
 * travels with the message. "250 ... queued as ID" is sent only from
 * the spool's commit callback. The content passes through hdrguard on
 * its way into the spool, so an incoming Authentication-Results field
 * that claims our hostname arrives renamed (X-Forged-...).
 *
 * Checks (RFC 8601, RFC 7489 6.6): when the content ended and the DATA
 * decoder accepted it, a message from outside (neither authenticated
 * nor from trusted_networks) is checked before the commit: iprev, SPF
 * for HELO and MAIL FROM, DKIM, DMARC and ARC (auth.h), all at once on
 * the event loop over a read-only mapping of the spooled file (the
 * message is never copied to the heap). Other sessions go on meanwhile.
 * The orchestrator runs everything at end of data; only iprev is also
 * started at connect, so Received can carry the confirmed name, and the
 * second iprev at end of data is answered from the DNS cache.
 * The Authentication-Results header goes into the envelope (prepend),
 * and delivery writes it above our Received. With [auth] dmarc_policy
 * = enforce, a DMARC failure whose applied disposition is reject gets
 * 550 5.7.1 and the message is dropped; quarantine sends it to Junk. A
 * DNS problem (temperror) never rejects: RFC 7489 6.6.3 leaves it to
 * the receiver, and a DNS outage must not turn into bounces. Our own
 * users and trusted networks get no checks and no header: their mail
 * is not inbound, and SPF for a roaming user's address would only say
 * something false.
 *
 * Relay policy: recipients in local domains must resolve (550 5.1.1
 * otherwise, at RCPT time). Any other domain is refused with 550 5.7.1
 * for a client that is neither authenticated nor in trusted_networks;
 * for one that is, with 550 5.3.0, because this server has no outbound
 * delivery yet and must not take a message it cannot deliver (a
 * permanent reply, so the sender learns it at once rather than after
 * days of retries).
 *
 * AUTH failures are counted per client address across sessions
 * (authlimit.h, Postfix's anvil for logins): once a client has failed,
 * each AUTH reply to it waits on a timer (the loop runs on), success
 * or failure alike, since a success that came sooner would tell a
 * client with many connections which guess was right; at max_failures
 * its AUTH gets 421 4.7.0 and the session ends, in this session and in
 * any new one, until the window has passed.
 */
#include "smtp/session.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "auth/authres.h"
#include "auth/iprev.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/log.h"
#include "deliver/delivery.h"
#include "deliver/local.h"
#include "filter/checks.h"
#include "filter/explain.h"
#include "filter/facts.h"
#include "filter/pipeline.h"
#include "filter/verdict.h"
#include "msg/from.h"
#include "msg/header.h"
#include "queue/spool.h"
#include "smtp/authlimit.h"
#include "store/kv.h"
#include "smtp/hdrguard.h"
#include "smtp/helo.h"
#include "smtp/received.h"
#include "smtp/sasl.h"
#include "smtp/sender_auth.h"
#include "smtp/smtp_cmd.h"
#include "smtp/smtp_data.h"
#include "smtp/smtp_line.h"
#include "smtp/smtp_rate.h"
#include "smtp/tls.h"
#include "store/passwd.h"

/* Pending replies beyond which the session stops reading commands */
#define SESSION_OUTPUT_MAX	(64 * 1024)
/* Unprocessed input beyond which libevent stops reading the socket */
#define SESSION_INPUT_MAX	(64 * 1024)
/* "[" address "]:" port */
#define SESSION_ADDR_MAX	(IP_STRLEN + 9)
/* Octets of header section collected for the headers stage; a bigger
 * section is checked at the end of data */
#define SESSION_HDRS_MAX	(256 * 1024)

enum session_state {
	SESSION_TLS_HANDSHAKE,
	SESSION_BANNER_WAIT,
	SESSION_GREETED,
	SESSION_READY,
	SESSION_MAIL,
	SESSION_RCPT,
	SESSION_DATA,
	SESSION_BDAT,
	SESSION_BDAT_WAIT,
	SESSION_BDAT_SKIP,
	SESSION_CHECK,
	SESSION_COMMIT,
	SESSION_AUTH,
	SESSION_AUTH_VERIFY,
	SESSION_CLOSING,
};

struct session {
	struct session_host		*host;
	struct session_conf		*conf;	/* the rules it started with */
	const struct config_listener	*listener;
	struct bufferevent		*bev;
	struct event			*banner_timer;
	enum session_state		 state;
	bool				 tls;
	bool				 banner_sent;
	bool				 ehlo;		/* EHLO rather than HELO */
	bool				 read_paused;
	bool				 stop_after_commit;
	/* the client hung up while its message was checked or committed:
	 * the transaction finishes without it, then the session goes */
	bool				 peer_gone;
	const char			*close_reason;
	const char			*tls_version;
	const char			*tls_cipher;
	uint64_t			 id;
	struct ip_addr			 ip;
	char				 ip_text[IP_STRLEN];
	char				 client[SESSION_ADDR_MAX];
	char				 helo[SMTP_LINE_MAX];
	char				 auth_user[SASL_ID_MAX + 1];
	/* SMTP AUTH in progress: the exchange, the user being checked */
	struct sasl			 sasl;
	struct passwd_job		*auth_job;
	enum sasl_mech			 auth_mech;
	char				 auth_try[SASL_ID_MAX + 1];
	/* the verdict, held while the reply waits out the failure delay */
	enum passwd_result		 auth_result;
	struct event			*auth_delay;
	struct kv_req			*auth_kv;	/* the shared count */
	struct timespec			 started;
	unsigned			 ncommands;
	unsigned			 nerrors;
	struct smtp_line		 lines;
	struct smtp_cmd			 cmd;
	struct buf			 out;		/* one reply, formatted */
	/* the transaction */
	struct arena			*txn;
	struct spool_envelope		 env;
	unsigned			 nrcpt_ok;	/* RCPTs accepted */
	char				*first_rcpt;	/* as given */
	struct spool_msg		*msg;
	size_t				 received_len;	/* our header */
	struct hdrguard			 guard;
	/* the checks of the transaction (filter/): from MAIL to the end
	 * of data, in the transaction's arena */
	struct pipeline			*pipe;
	struct check_txn		 ctxn;
	struct pipeline_env		 penv;
	/* for the one line per message (smtp.message): the verdict, its
	 * findings' symbols and the Message-ID, in the transaction arena */
	const struct verdict		*verdict;
	const char			*symbols;
	const char			*message_id;
	/* the header section as it streams in, so the headers stage (DKIM
	 * keys, the DMARC record) runs while the body still comes */
	struct buf			 hdrs;
	size_t				 hdrs_scan;	/* check_header_end */
	bool				 headers_run;	/* the stage ran */
	bool				 hdrs_overflow;	/* too big: at EOM */
	bool				 dkim_given;	/* s->dkim is the
							 * pipeline's now */
	/* DKIM, fed as the content streams into the spool, so the body
	 * hashes are done by end of data (not in one go on the loop) */
	struct dkim_verify		*dkim;
	/* iprev from connect, for Received (auth repeats it from the DNS
	 * cache at end of data) */
	struct iprev_check		*iprev;
	struct arena			*iprev_arena;
	char				 rdns[256];	/* confirmed, or "" */
	struct smtp_data		 data;
	uint64_t			 bdat_skip;	/* octets to drop */
	enum session_state		 bdat_skip_return;
	uint64_t			 bdat_total;
	/* the transfer being timed (DATA, or BDAT from the first chunk to
	 * the last, or a refused chunk being skipped): smtp_rate.h */
	struct event			*data_timer;
	struct timespec			 data_started;
	uint64_t			 data_octets;	/* read off the wire */
	LIST_ENTRY(session)		 entry;
};

static bool	session_enter(struct session *, enum session_state);
static void	session_process_input(struct session *);
static void	session_on_read(struct bufferevent *, void *);
static void	session_on_write(struct bufferevent *, void *);
static void	session_on_event(struct bufferevent *, short, void *);

/* ---- helpers ------------------------------------------------------ */

static double
session_elapsed(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) +
	    (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

static struct timeval
session_tv(double seconds)
{
	struct timeval tv;

	tv.tv_sec = (time_t)seconds;
	tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
	return tv;
}

static const struct config_limits *
session_limits(const struct session *s)
{
	return &s->conf->cfg->limits;
}

static const char *
session_hostname(const struct session *s)
{
	return s->conf->cfg->hostname;
}

/* ---- output ------------------------------------------------------- */

static void
session_reply(struct session *s, int code, const char *enhanced,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
session_reply(struct session *s, int code, const char *enhanced,
    const char *fmt, ...)
{
	char text[SMTP_REPLY_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	buf_reset(&s->out);
	smtp_reply_format(&s->out, code, enhanced, text);
	evbuffer_add(bufferevent_get_output(s->bev), s->out.data, s->out.len);
}

static void
session_reply_struct(struct session *s, const struct smtp_reply *r)
{
	buf_reset(&s->out);
	smtp_reply_append(&s->out, r);
	evbuffer_add(bufferevent_get_output(s->bev), s->out.data, s->out.len);
}

/* 421 and close; false: s is gone. */
static bool
session_close_with(struct session *s, const char *enhanced,
    const char *reason, const char *text)
{
	session_reply(s, 421, enhanced, "%s %s", session_hostname(s), text);
	s->close_reason = reason;
	return session_enter(s, SESSION_CLOSING);
}

/* A refused command counts; too many and the session ends. */
static bool
session_count_error(struct session *s)
{
	if (++s->nerrors < session_limits(s)->errors)
		return true;
	return session_close_with(s, "4.7.0", "too-many-errors",
	    "Too many errors, closing connection");
}

static bool
session_error(struct session *s, int code, const char *enhanced,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static bool
session_error(struct session *s, int code, const char *enhanced,
    const char *fmt, ...)
{
	char text[SMTP_REPLY_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	session_reply(s, code, enhanced, "%s", text);
	return session_count_error(s);
}

static void
session_pause_reading(struct session *s)
{
	s->read_paused = true;
	bufferevent_disable(s->bev, EV_READ);
}

/* ---- the transaction ---------------------------------------------- */

static void session_collect_headers(struct session *, const char *, size_t);

/* Where hdrguard writes: the message being spooled. */
static int
session_spool_out(void *arg, const char *p, size_t n)
{
	struct session *s = arg;

	if (s->dkim != NULL)
		dkim_verify_feed(s->dkim, p, n);
	if (s->pipe != NULL && !s->headers_run && !s->hdrs_overflow)
		session_collect_headers(s, p, n);
	return spool_write(s->msg, p, n);
}

/* The DKIM verifier and the header copy of a transaction, gone (after
 * the pipeline, which may own the verifier). */
static void
session_txn_free_stream(struct session *s)
{
	if (!s->dkim_given)
		dkim_verify_free(s->dkim);
	s->dkim = NULL;
	s->dkim_given = false;
	buf_free(&s->hdrs);
	s->hdrs_scan = 0;
	s->headers_run = false;
	s->hdrs_overflow = false;
}

static void
session_txn_reset(struct session *s)
{
	pipeline_free(s->pipe);
	s->pipe = NULL;
	session_txn_free_stream(s);
	if (s->msg != NULL && s->state != SESSION_COMMIT)
		spool_abort(s->msg);
	s->msg = NULL;
	hdrguard_free(&s->guard);
	hdrguard_init(&s->guard, session_hostname(s), session_spool_out, s);
	arena_reset(s->txn);
	s->verdict = NULL;
	s->symbols = NULL;
	s->message_id = NULL;
	memset(&s->env, 0, sizeof(s->env));
	s->nrcpt_ok = 0;
	s->first_rcpt = NULL;
	s->bdat_total = 0;
}

/* The command state to return to when a transaction ends. */
static enum session_state
session_idle_state(const struct session *s)
{
	return s->helo[0] != '\0' ? SESSION_READY : SESSION_GREETED;
}

/* AUTH PLAIN LOGIN is offered under TLS (STARTTLS done or smtps) when
 * the users file exists. */
static bool
session_auth_offered(const struct session *s)
{
	return s->tls && s->conf->auth_available && s->conf->users != NULL;
}

/* Extensions in force, for the parser. */
static unsigned
session_parse_flags(const struct session *s)
{
	unsigned f = 0;

	if (s->helo[0] == '\0' || !s->ehlo)
		return 0;
	f = SMTP_EXT_SIZE | SMTP_EXT_8BITMIME | SMTP_EXT_SMTPUTF8 |
	    SMTP_EXT_DSN;
	if (session_auth_offered(s))
		f |= SMTP_EXT_AUTH;
	if (s->env.smtputf8)
		f |= SMTP_PARSE_UTF8;
	return f;
}

/* ---- EHLO, HELO ----------------------------------------------------- */

/*
 * RFC 5321 4.1.1.1: a Domain or an address literal, else 501 and the
 * session stays where it was, so the client may try again. The name is
 * not echoed: the reply would carry the client's bytes, and the log has
 * them, escaped.
 */
static void
session_helo_log_refused(const struct session *s, bool ehlo,
    const char *arg, size_t len, const char *why)
{
	char q[LOG_QUOTE_MAX];

	log_info("smtp.helo_refused", "session=%06" PRIx64 " client=%s "
	    "verb=%s helo=%s reason=%s", s->id, s->ip_text,
	    ehlo ? "EHLO" : "HELO", log_quote_len(q, sizeof(q), arg, len),
	    why);
}

static bool
session_helo_refuse(struct session *s, bool ehlo, const char *why)
{
	session_helo_log_refused(s, ehlo, s->cmd.helo, strlen(s->cmd.helo),
	    why);
	return session_error(s, 501, "5.5.2", "Syntax: %s hostname",
	    ehlo ? "EHLO" : "HELO");
}

/* An EHLO/HELO line the command parser refused (no argument, control
 * octets, ...): the parser's reply stands, the log gets the argument. */
static void
session_helo_unparsed(const struct session *s, const char *line, size_t len)
{
	const char *arg = len > 5 ? line + 5 : "", *why;
	size_t alen = len > 5 ? len - 5 : 0;

	if (len < 4 || (len > 4 && line[4] != ' ') ||
	    (strncasecmp(line, "EHLO", 4) != 0 &&
	    strncasecmp(line, "HELO", 4) != 0))
		return;
	(void)helo_check(arg, alen, &why);
	session_helo_log_refused(s, line[0] == 'E' || line[0] == 'e', arg,
	    alen, why != NULL ? why : "syntax");
}

static bool
session_helo(struct session *s, bool ehlo)
{
	const char *lines[16], *why;
	char first[SMTP_REPLY_LINE_MAX], size[64];
	size_t n = 0;

	if (helo_check(s->cmd.helo, strlen(s->cmd.helo), &why) ==
	    HELO_INVALID)
		return session_helo_refuse(s, ehlo, why);
	session_txn_reset(s);
	snprintf(s->helo, sizeof(s->helo), "%s", s->cmd.helo);
	s->ehlo = ehlo;
	snprintf(first, sizeof(first), "%.255s Hello %.200s [%s]",
	    session_hostname(s), s->helo, s->ip_text);
	if (!ehlo) {
		session_reply(s, 250, NULL, "%s", first);
		return session_enter(s, SESSION_READY);
	}
	snprintf(size, sizeof(size), "SIZE %" PRIu64,
	    session_limits(s)->message_size);
	lines[n++] = first;
	lines[n++] = "PIPELINING";
	lines[n++] = size;
	lines[n++] = "8BITMIME";
	lines[n++] = "ENHANCEDSTATUSCODES";
	lines[n++] = "SMTPUTF8";
	lines[n++] = "CHUNKING";
	lines[n++] = "DSN";
	if (!s->tls)
		lines[n++] = "STARTTLS";
	if (session_auth_offered(s))
		lines[n++] = "AUTH " SASL_MECHS_ADVERTISED;
	buf_reset(&s->out);
	smtp_reply_lines(&s->out, 250, NULL, lines, n);
	evbuffer_add(bufferevent_get_output(s->bev), s->out.data, s->out.len);
	return session_enter(s, SESSION_READY);
}

/* ---- MAIL ------------------------------------------------------------- */

static enum spool_body
session_body(enum smtp_body b)
{
	switch (b) {
	case SMTP_BODY_7BIT:
		return SPOOL_BODY_7BIT;
	case SMTP_BODY_8BITMIME:
		return SPOOL_BODY_8BITMIME;
	case SMTP_BODY_BINARYMIME:
		return SPOOL_BODY_BINARYMIME;
	case SMTP_BODY_UNSET:
		break;
	}
	return SPOOL_BODY_UNSET;
}

/*
 * A logged-in user sends only as an address they own (sender_auth.h);
 * the null sender (bounces) only from trusted networks. Anyone else is
 * not checked here: inbound mail is judged by SPF and DMARC.
 */
static bool
session_sender_allowed(struct session *s, const struct mailaddr *path)
{
	if (s->auth_user[0] == '\0')
		return true;
	if (path->is_null)
		return config_is_trusted(s->conf->cfg, &s->ip);
	return !path->ip_literal && sender_auth_owns(s->conf->local,
	    s->auth_user, path->local, path->domain, s->txn);
}

static bool session_checks_wanted(const struct session *);
static void session_pipe_start(struct session *);

static bool
session_mail(struct session *s)
{
	const struct smtp_mail_args *m = &s->cmd.mail;
	char addr[ADDR_STRLEN], qu[LOG_QUOTE_MAX], qa[LOG_QUOTE_MAX];

	if (m->size_given && m->size > session_limits(s)->message_size)
		return session_error(s, 552, "5.3.4", "Message size exceeds "
		    "fixed limit of %" PRIu64 " octets",
		    session_limits(s)->message_size);
	if (s->listener->mode != LISTENER_SMTP && s->auth_user[0] == '\0')
		return session_error(s, 530, "5.7.0",
		    "Authentication required");
	addr_format(&m->path, addr, sizeof(addr));
	if (!session_sender_allowed(s, &m->path)) {
		log_info("smtp.sender_refused", "session=%06" PRIx64
		    " user=%s from=%s", s->id, log_quote(qu, sizeof(qu),
		    s->auth_user), log_quote_addr(qa, sizeof(qa), addr));
		return session_error(s, 553, "5.7.1", "<%s> not owned by user",
		    addr);
	}
	session_txn_reset(s);
	s->env.mail_from = arena_strdup(s->txn, addr);
	s->env.envid = m->envid_given ? arena_strdup(s->txn, m->envid) : "";
	s->env.ret = m->ret == SMTP_RET_FULL ? SPOOL_RET_FULL :
	    m->ret == SMTP_RET_HDRS ? SPOOL_RET_HDRS : SPOOL_RET_UNSET;
	s->env.body = session_body(m->body);
	s->env.smtputf8 = m->smtputf8;
	if (session_checks_wanted(s))
		session_pipe_start(s);
	session_reply(s, 250, "2.1.0", "Ok");
	return session_enter(s, SESSION_MAIL);
}

/* ---- RCPT ------------------------------------------------------------- */

static unsigned
session_notify(unsigned n)
{
	return (n & SMTP_NOTIFY_NEVER ? SPOOL_NOTIFY_NEVER : 0) |
	    (n & SMTP_NOTIFY_SUCCESS ? SPOOL_NOTIFY_SUCCESS : 0) |
	    (n & SMTP_NOTIFY_FAILURE ? SPOOL_NOTIFY_FAILURE : 0) |
	    (n & SMTP_NOTIFY_DELAY ? SPOOL_NOTIFY_DELAY : 0);
}

/* Adds the resolved mailboxes, once each. */
static void
session_add_dests(struct session *s, const struct local_result *res,
    const char *given)
{
	const struct smtp_rcpt_args *r = &s->cmd.rcpt;
	struct spool_rcpt *sr;
	const char *orcpt = "";
	size_t i, j;
	bool dup;

	if (r->orcpt_given)
		orcpt = arena_printf(s->txn, "%s;%s", r->orcpt_type,
		    r->orcpt_addr);
	for (i = 0; i < res->ndests; i++) {
		dup = false;
		for (j = 0; j < s->env.nrcpts && !dup; j++)
			dup = strcmp(s->env.rcpts[j].addr,
			    res->dests[i].user) == 0;
		if (dup)
			continue;
		sr = spool_envelope_add_rcpt(&s->env, s->txn,
		    res->dests[i].user, orcpt, session_notify(r->notify));
		sr->orig = strcmp(given, res->dests[i].user) != 0 ?
		    arena_strdup(s->txn, given) : "";
	}
}

static bool
session_relay_allowed(const struct session *s)
{
	return s->auth_user[0] != '\0' ||
	    config_is_trusted(s->conf->cfg, &s->ip);
}

static bool
session_rcpt(struct session *s)
{
	const struct smtp_rcpt_args *r = &s->cmd.rcpt;
	struct local_result res;
	char given[ADDR_STRLEN], qa[LOG_QUOTE_MAX];
	bool local;

	if (s->nrcpt_ok >= session_limits(s)->recipients) {
		session_reply(s, 452, "4.5.3", "Too many recipients");
		return true;
	}
	addr_format(&r->path, given, sizeof(given));
	log_quote_addr(qa, sizeof(qa), given);
	local = !r->path.ip_literal && (r->path.domain[0] == '\0' ||
	    local_table_is_local_domain(s->conf->local, r->path.domain));
	if (!local) {
		log_info("smtp.rcpt_refused", "session=%06" PRIx64 " to=%s "
		    "reason=%s", s->id, qa, session_relay_allowed(s) ?
		    "no-outbound" : "relay-denied");
		if (session_relay_allowed(s))
			return session_error(s, 550, "5.3.0", "<%s>: Outbound "
			    "delivery is not available yet", given);
		return session_error(s, 550, "5.7.1", "<%s>: Relay access "
		    "denied", given);
	}
	switch (local_resolve(s->conf->local, r->path.local, r->path.domain,
	    s->txn, &res)) {
	case LOCAL_FOUND:
		if (res.nremote > 0) {
			log_warn("smtp.rcpt_refused", "session=%06" PRIx64
			    " to=%s reason=alias-to-remote", s->id, qa);
			session_reply(s, 451, "4.3.0", "<%s>: Alias target "
			    "elsewhere; outbound delivery is not available "
			    "yet", given);
			return true;
		}
		break;
	case LOCAL_UNKNOWN:
	case LOCAL_NOT_LOCAL:
		log_info("smtp.rcpt_refused", "session=%06" PRIx64 " to=%s "
		    "reason=unknown-user", s->id, qa);
		return session_error(s, 550, "5.1.1", "<%s>: Recipient address "
		    "rejected: User unknown", given);
	case LOCAL_LOOP:
		return session_error(s, 550, "5.4.6", "<%s>: Alias loop",
		    given);
	case LOCAL_BROKEN:
		log_error("smtp.rcpt_refused", "session=%06" PRIx64 " to=%s "
		    "reason=\"%s\"", s->id, qa, res.reason ? res.reason :
		    "broken");
		session_reply(s, 451, "4.3.0", "<%s>: Temporary lookup "
		    "failure", given);
		return true;
	}
	session_add_dests(s, &res, given);
	if (s->nrcpt_ok++ == 0)
		s->first_rcpt = arena_strdup(s->txn, given);
	session_reply(s, 250, "2.1.5", "Ok");
	return session_enter(s, SESSION_RCPT);
}

/* ---- DATA and BDAT ------------------------------------------------------ */

static int
session_sink(void *arg, const char *p, size_t n)
{
	struct session *s = arg;

	return hdrguard_feed(&s->guard, p, n);
}


/* Opens the spool file and writes the Received: header. */
static bool
session_content_begin(struct session *s)
{
	struct received_info ri;
	struct smtp_data_opts opts;
	char reason[SPOOL_REASON_MAX];
	struct buf hdr = BUF_INIT;
	struct tm tm;
	time_t now = time(NULL);

	if ((s->msg = spool_begin(s->host->spool, reason,
	    sizeof(reason))) == NULL) {
		log_error("spool.begin_failed", "session=%06" PRIx64
		    " reason=\"%s\"", s->id, reason);
		return false;
	}
	localtime_r(&now, &tm);
	memset(&ri, 0, sizeof(ri));
	ri.helo = s->helo;
	ri.client_ip = s->ip_text;
	ri.client_rdns = s->rdns[0] != '\0' ? s->rdns : NULL;
	ri.hostname = session_hostname(s);
	ri.protocol = received_protocol(s->ehlo, s->tls, s->auth_user[0] !=
	    '\0', s->env.smtputf8);
	ri.queue_id = spool_msg_id(s->msg);
	ri.tls_version = s->tls ? s->tls_version : NULL;
	ri.tls_cipher = s->tls_cipher;
	ri.for_rcpt = s->nrcpt_ok == 1 ? s->first_rcpt : NULL;
	ri.when = now;
	ri.gmtoff = tm.tm_gmtoff;
	ri.auth_user = s->auth_user[0] != '\0' ? s->auth_user : NULL;
	received_format(&ri, &hdr);
	spool_write(s->msg, hdr.data, hdr.len);
	s->received_len = hdr.len;
	buf_free(&hdr);
	if (session_checks_wanted(s)) {
		s->dkim = dkim_verify_new(NULL);
		/* we write X-Spam-*: a sender's own go aside */
		s->guard.rename_spam = true;
	}
	memset(&opts, 0, sizeof(opts));
	opts.max_size = session_limits(s)->message_size;
	opts.bare = SMTP_BARE_REJECT;
	opts.binary = false;
	opts.sink = session_sink;
	opts.sink_arg = s;
	if (s->state == SESSION_RCPT && s->cmd.verb == SMTP_VERB_BDAT)
		smtp_data_init_bdat(&s->data, &opts);
	else
		smtp_data_init(&s->data, &opts);
	return true;
}

static bool
session_data(struct session *s)
{
	if (!session_content_begin(s)) {
		session_reply(s, 451, "4.3.0", "Local error in processing");
		session_txn_reset(s);
		return session_enter(s, SESSION_READY);
	}
	session_reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
	return session_enter(s, SESSION_DATA);
}

/* A BDAT that cannot be taken: its octets must still be read. */
static bool
session_bdat_refuse(struct session *s, int code, const char *enhanced,
    const char *text)
{
	s->bdat_skip = s->cmd.bdat.size;
	s->bdat_skip_return = s->state;
	session_reply(s, code, enhanced, "%s", text);
	if (!session_count_error(s))
		return false;
	return session_enter(s, SESSION_BDAT_SKIP);
}

static bool
session_bdat(struct session *s)
{
	if (s->state == SESSION_MAIL)
		return session_bdat_refuse(s, 554, "5.5.1",
		    "No valid recipients");
	if (s->state != SESSION_RCPT && s->state != SESSION_BDAT_WAIT)
		return session_bdat_refuse(s, 503, "5.5.1",
		    "Need RCPT command");
	if (s->state == SESSION_RCPT && !session_content_begin(s)) {
		session_txn_reset(s);
		s->state = SESSION_READY;
		return session_bdat_refuse(s, 451, "4.3.0",
		    "Local error in processing");
	}
	smtp_data_bdat_chunk(&s->data, s->cmd.bdat.size, s->cmd.bdat.last);
	s->bdat_total += s->cmd.bdat.size;
	return session_enter(s, SESSION_BDAT);
}

/*
 * The transaction got its final reply (from a callback, not from input
 * processing): back to READY and on with what the client pipelined, or
 * close when the server is stopping.
 */
static void
session_txn_done(struct session *s)
{
	session_txn_reset(s);
	if (s->peer_gone) {
		session_free(s, "eof");
		return;
	}
	if (s->stop_after_commit) {
		session_close_with(s, "4.3.2", "shutdown",
		    "Service shutting down");
		return;
	}
	if (session_enter(s, SESSION_READY))
		session_process_input(s);
}

/* The verdict of a message no check looked at (our user, a trusted
 * network, or no resolver): accept, and why. */
static const struct verdict *
session_unfiltered_verdict(struct session *s)
{
	struct verdict_subject subj;
	struct verdict_policy pol;
	struct findings none;
	struct verdict *v = arena_calloc(s->txn, 1, sizeof(*v));

	memset(&subj, 0, sizeof(subj));
	subj.auth_user = s->auth_user[0] != '\0' ? s->auth_user : NULL;
	subj.trusted = config_is_trusted(s->conf->cfg, &s->ip);
	findings_init(&none, s->txn);
	checks_verdict_policy(s->conf->cfg, &pol);
	verdict_decide(&none, &subj, &pol, s->txn, v);
	if (subj.auth_user == NULL && !subj.trusted)
		v->reason = "no checks (no resolver)";
	return v;
}

/* "<a@b>,<c@d>" of the accepted recipients, quoted for the log. */
static const char *
session_rcpts_text(struct session *s, char *out, size_t n)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < s->env.nrcpts; i++)
		buf_printf(&b, "%s<%s>", i > 0 ? "," : "",
		    s->env.rcpts[i].addr);
	log_quote(out, n, buf_cstr(&b));
	buf_free(&b);
	return out;
}

/*
 * The one line per message: who sent what to whom, over what, and what
 * the verdict made of it (result: queued, refused or failed), so one
 * grep on a queue id or an address answers "what happened to it".
 */
static void
session_message_log(struct session *s, const char *queue_id,
    const char *result)
{
	const struct verdict *v = s->verdict != NULL ? s->verdict :
	    session_unfiltered_verdict(s);
	char qh[LOG_QUOTE_MAX], qf[LOG_QUOTE_MAX], qr[LOG_QUOTE_MAX];
	char qm[LOG_QUOTE_MAX], qw[LOG_QUOTE_MAX], qs[LOG_QUOTE_MAX];

	log_info("smtp.message", "session=%06" PRIx64 " queue_id=%s "
	    "result=%s client=%s client_name=%s helo=%s from=%s rcpts=%s "
	    "message_id=%s size=%" PRIu64 " tls=%s cipher=%s action=%s "
	    "score=%.1f decided_by=%s reason=%s symbols=%s", s->id, queue_id,
	    result, s->ip_text, s->rdns[0] != '\0' ? s->rdns : "-",
	    log_quote(qh, sizeof(qh), s->helo), log_quote_addr(qf,
	    sizeof(qf), s->env.mail_from), session_rcpts_text(s, qr,
	    sizeof(qr)), log_quote(qm, sizeof(qm), s->message_id != NULL ?
	    s->message_id : "-"), s->data.size, s->tls ? s->tls_version :
	    "no", s->tls && s->tls_cipher != NULL ? s->tls_cipher : "-",
	    verdict_action_name(v->action), v->score, v->decider != NULL ?
	    v->decider->symbol : "-", log_quote(qw, sizeof(qw), v->reason),
	    log_quote(qs, sizeof(qs), s->symbols != NULL && s->symbols[0] !=
	    '\0' ? s->symbols : "-"));
}

static void
session_committed(void *arg, const char *id, int err, const char *reason)
{
	struct session *s = arg;
	char qa[LOG_QUOTE_MAX];

	s->msg = NULL;
	if (err != 0) {
		log_error("smtp.commit_failed", "session=%06" PRIx64
		    " queue_id=%s reason=\"%s\"", s->id, id, reason);
		session_message_log(s, id, "failed");
		session_reply(s, 451, "4.3.0", "Local error in processing, "
		    "try again later");
	} else {
		log_info("smtp.accepted", "session=%06" PRIx64 " queue_id=%s "
		    "from=%s nrcpt=%zu size=%" PRIu64 " client=%s tls=%s",
		    s->id, id, log_quote_addr(qa, sizeof(qa),
		    s->env.mail_from), s->env.nrcpts, s->data.size,
		    s->ip_text, s->tls ? s->tls_version : "no");
		session_message_log(s, id, "queued");
		session_reply(s, 250, "2.0.0", "Ok: queued as %s", id);
		delivery_enqueue(s->host->delivery, id, false);
	}
	session_txn_done(s);
}

/*
 * The commit of a session that has gone (the client hung up before the
 * 250): the message is ours all the same, so it goes to delivery now
 * rather than waiting in the spool for the next start.
 */
static void
session_orphan_committed(void *arg, const char *id, int err,
    const char *reason)
{
	struct delivery *d = arg;

	if (err != 0) {
		log_error("smtp.commit_failed", "queue_id=%s session=gone "
		    "reason=\"%s\"", id, reason);
		return;
	}
	log_info("smtp.accepted", "queue_id=%s session=gone", id);
	if (d != NULL)
		delivery_enqueue(d, id, false);
}

/* Queue the commit; its callback answers. */
static bool
session_commit(struct session *s)
{
	if (!session_enter(s, SESSION_COMMIT))
		return false;
	spool_commit_async(s->msg, &s->env, session_committed, s);
	return true;
}

/* v[0..n) without its folding whitespace at either end, in the arena. */
static const char *
session_trim(struct session *s, const char *v, size_t n)
{
	while (n > 0 && (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')) {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' ||
	    v[n - 1] == '\r' || v[n - 1] == '\n'))
		n--;
	return arena_strndup(s->txn, v, n);
}

/* The Message-ID of the spooled message (after our Received), for the
 * message's log line; absent or unreadable: none. */
static void
session_note_message_id(struct session *s)
{
	const struct hdr_section *hs = s->pipe != NULL ?
	    pipeline_facts(s->pipe)->headers : NULL;
	struct hdr_section parsed;
	const char *p;
	size_t n, i;

	/* the headers stage parsed the section already, when it ran */
	if (hs == NULL) {
		if (s->msg == NULL || spool_msg_map(s->msg, &p, &n) != 0 ||
		    n < s->received_len)
			return;
		hdr_parse(p + s->received_len, n - s->received_len, s->txn,
		    &parsed);
		hs = &parsed;
	}
	for (i = 0; i < hs->n; i++) {
		if (!hdr_name_is(&hs->fields[i], "Message-ID"))
			continue;
		s->message_id = session_trim(s, hs->fields[i].value,
		    hs->fields[i].value_len);
		return;
	}
}

/* ---- the check pipeline (filter/) --------------------------------------- */

/* Mail from outside gets checked; our users and trusted hosts do not. */
static bool
session_checks_wanted(const struct session *s)
{
	return s->host->resolver != NULL && s->auth_user[0] == '\0' &&
	    !config_is_trusted(s->conf->cfg, &s->ip);
}

/* A stage the session does not wait for: its lookups go on. */
static void
session_stage_started(struct pipeline *p, enum check_stage stage, void *arg)
{
	(void)p;
	(void)stage;
	(void)arg;
}

/*
 * At MAIL FROM: the transaction's pipeline, and the stages known so
 * far (connect, helo, mail) at once, so iprev and both SPF checks run
 * while the client sends RCPT and DATA. Without a pipeline (out of
 * memory) the message goes unchecked, with a log line.
 */
static void
session_pipe_start(struct session *s)
{
	struct check_txn *t = &s->ctxn;

	memset(t, 0, sizeof(*t));
	t->ip = s->ip;
	t->ip_text = s->ip_text;
	t->helo = s->helo;
	t->mail_from = s->env.mail_from;
	t->authserv_id = session_hostname(s);
	t->tls = s->tls;
	memset(&s->penv, 0, sizeof(s->penv));
	s->penv.base = s->host->base;
	s->penv.resolver = s->host->resolver;
	s->penv.deadline = s->conf->cfg->dns_message_deadline;
	s->penv.cfg = s->conf->cfg;
	s->pipe = pipeline_new(checks_all, checks_n, &s->penv, t, s->txn);
	if (s->pipe == NULL) {
		log_error("smtp.checks_skipped", "session=%06" PRIx64
		    " reason=no-pipeline", s->id);
		return;
	}
	pipeline_run(s->pipe, CHECK_CONNECT, session_stage_started, s);
	pipeline_run(s->pipe, CHECK_HELO, session_stage_started, s);
	pipeline_run(s->pipe, CHECK_MAIL, session_stage_started, s);
}

/* The header section has come in whole: its stage runs now, while the
 * body streams on; the DKIM verifier goes to the pipeline (the session
 * goes on feeding it). */
static void
session_headers_in(struct session *s, size_t header_len)
{
	struct check_txn *t = &s->ctxn;

	t->msg = arena_memdup(s->txn, s->hdrs.data, header_len);
	t->header_len = t->len = header_len;
	if (s->dkim != NULL) {
		pipeline_facts(s->pipe)->dkim_stream = s->dkim;
		s->dkim_given = true;
	}
	s->headers_run = true;
	buf_free(&s->hdrs);
	pipeline_run(s->pipe, CHECK_HEADERS, session_stage_started, s);
}

/* Collect the header section as it is spooled; a section past
 * SESSION_HDRS_MAX waits for the end of data instead. */
static void
session_collect_headers(struct session *s, const char *p, size_t n)
{
	if (s->hdrs.len + n > SESSION_HDRS_MAX) {
		s->hdrs_overflow = true;
		buf_free(&s->hdrs);
		return;
	}
	buf_append(&s->hdrs, p, n);
	/* the scan resumes at the line it stopped in, so many small
	 * pieces cost one pass over the section */
	if (check_header_end(s->hdrs.data, s->hdrs.len, &s->hdrs_scan))
		session_headers_in(s, s->hdrs_scan);
}

/* The first accepted recipient that is never refused (verdict.h), or
 * NULL. */
static const char *
session_exempt_rcpt(const struct session *s)
{
	size_t i;

	for (i = 0; i < s->env.nrcpts; i++)
		if (verdict_exempt(s->env.rcpts[i].addr,
		    s->conf->cfg->verdict_exempt))
			return s->env.rcpts[i].addr;
	return NULL;
}

/* One word for the log: "pass" when any signature passed, else the
 * first signature's result, "none" without one. */
static const char *
session_dkim_summary(const struct check_facts *f)
{
	size_t i;

	for (i = 0; i < f->ndkim; i++)
		if (f->dkim[i].result == DKIM_RESULT_PASS)
			return "pass";
	return f->ndkim > 0 ? dkim_result_name(f->dkim[0].result) : "none";
}

static void
session_check_log(const struct session *s, const struct check_facts *f,
    const struct verdict *v)
{
	const struct dmarc_outcome *d = f->dmarc;
	char qd[LOG_QUOTE_MAX], qr[LOG_QUOTE_MAX];

	log_info("smtp.auth_checked", "session=%06" PRIx64 " queue_id=%s "
	    "iprev=%s spf=%s spf_helo=%s dkim=%s dmarc=%s from_domain=%s "
	    "policy=%s disposition=%s action=%s score=%.1f decided_by=%s "
	    "reason=%s forged_ar=%zu", s->id, spool_msg_id(s->msg),
	    f->iprev != NULL ? iprev_result_name(f->iprev->result) : "none",
	    f->spf_mailfrom != NULL ?
	    spf_result_name(f->spf_mailfrom->result) : "none",
	    f->spf_helo != NULL ? spf_result_name(f->spf_helo->result) :
	    "none", session_dkim_summary(f), d != NULL ?
	    dmarc_result_name(d->result) : "none", log_quote(qd, sizeof(qd),
	    d != NULL && d->header_from != NULL ? d->header_from : "-"),
	    s->conf->cfg->dmarc_monitor ? "monitor" : "enforce", d != NULL ?
	    dmarc_policy_name(d->applied) : "none",
	    verdict_action_name(v->action), v->score, v->decider != NULL ?
	    v->decider->symbol : "-", log_quote(qr, sizeof(qr), v->reason),
	    s->guard.renamed);
}

/* Our headers for the envelope, from the findings and the verdict:
 * X-Spam-*, then Authentication-Results; "" when the rendering is not
 * clean header lines (it never should be). */
static const char *
session_headers_text(struct session *s, const struct findings *f,
    const struct verdict *v, double required)
{
	struct authres_render_options ro;
	struct authres_header h;
	struct buf hdr = BUF_INIT;
	const char *text = "";

	/* X-Spam-* first: Authentication-Results stays right above our
	 * Received, where a reader of the trace looks for it */
	explain_spam_headers(f, v, required, &hdr);
	explain_authres(f, session_hostname(s), s->txn, &h);
	memset(&ro, 0, sizeof(ro));
	ro.eol = "\r\n";
	ro.final_eol = true;
	authres_render(&h, &ro, &hdr);
	if (spool_prepend_valid(hdr.data, hdr.len))
		text = arena_strdup(s->txn, hdr.data);
	else
		log_error("smtp.authres_dropped", "session=%06" PRIx64
		    " queue_id=%s reason=not-a-header-line", s->id,
		    spool_msg_id(s->msg));
	buf_free(&hdr);
	return text;
}

/* The findings' symbols, comma-separated, for the message's line. */
static const char *
session_symbols(struct session *s, const struct findings *f)
{
	struct buf b = BUF_INIT;
	const char *out;
	size_t i;

	for (i = 0; i < f->n; i++)
		buf_printf(&b, "%s%s", i > 0 ? "," : "", f->v[i].symbol);
	out = arena_strdup(s->txn, buf_cstr(&b));
	buf_free(&b);
	return out;
}

/*
 * Every check is done (from the loop): the verdict says what happens.
 * A refusal answers with the deciding reason and queues nothing (never
 * a bounce); otherwise the message is committed with our header, to
 * the folder the verdict names.
 */
static void
session_checked(struct pipeline *p, enum check_stage stage, void *arg)
{
	struct session *s = arg;
	struct verdict_subject subj;
	struct verdict_policy pol;
	struct verdict v;
	const char *folder;

	(void)stage;
	memset(&subj, 0, sizeof(subj));
	subj.exempt_rcpt = session_exempt_rcpt(s);
	checks_verdict_policy(s->conf->cfg, &pol);
	verdict_decide(pipeline_findings(p), &subj, &pol, s->txn, &v);
	session_check_log(s, pipeline_facts(p), &v);
	s->verdict = arena_memdup(s->txn, &v, sizeof(v));
	s->symbols = session_symbols(s, pipeline_findings(p));
	if (!verdict_delivers(v.action)) {
		session_message_log(s, spool_msg_id(s->msg), "refused");
		session_reply(s, v.code, v.status, "%s", v.reply);
		session_txn_done(s);
		return;
	}
	s->env.prepend = session_headers_text(s, pipeline_findings(p), &v,
	    pol.add_header);
	if ((folder = verdict_folder(v.action)) != NULL)
		s->env.folder = folder;
	session_commit(s);
}

/* End of data: the message (after our Received) to the pipeline, and
 * the last stages; the DKIM verifier fed while it streamed in goes
 * with it. */
static bool
session_check_start(struct session *s)
{
	struct check_txn *t = &s->ctxn;
	const char *p;
	size_t n;

	if (s->pipe == NULL || spool_msg_map(s->msg, &p, &n) != 0 ||
	    n < s->received_len)
		return session_commit(s);	/* a map failure says 451 */
	t->msg = p + s->received_len;
	t->len = n - s->received_len;
	if (!s->headers_run)
		t->header_len = check_header_len(t->msg, t->len);
	if (s->dkim != NULL) {
		dkim_verify_feed_end(s->dkim);
		if (!s->dkim_given)
			pipeline_facts(s->pipe)->dkim_stream = s->dkim;
		s->dkim = NULL;		/* the pipeline's, either way */
		s->dkim_given = false;
	}
	if (!session_enter(s, SESSION_CHECK))
		return false;
	if (!s->headers_run)
		pipeline_run(s->pipe, CHECK_HEADERS, session_stage_started, s);
	pipeline_run(s->pipe, CHECK_EOM, session_checked, s);
	return true;
}

/*
 * A logged-in user's From: must name only addresses they own (every
 * mailbox of every From field). No From is left to the reader's MUA;
 * a From we cannot parse is refused, since it could hide anything.
 * "", or the first address not owned (for the reply).
 */
static const char *
session_from_offender(struct session *s)
{
	struct hdr_section hs;
	struct from_result fr;
	const char *p;
	size_t n, i, k;

	if (spool_msg_map(s->msg, &p, &n) != 0 || n < s->received_len)
		return "";	/* the commit reports the spool trouble */
	hdr_parse(p + s->received_len, n - s->received_len, s->txn, &hs);
	switch (from_parse_header(&hs, s->txn, &fr)) {
	case FROM_MISSING:
		return "";
	case FROM_OK:
	case FROM_MULTIPLE_FIELDS:
	case FROM_MULTIPLE_DOMAINS:
		break;
	case FROM_NO_MAILBOX:
	case FROM_NO_DOMAIN:
	case FROM_SYNTAX:
		return "From";
	}
	if (fr.nmailboxes > FROM_MAX_MAILBOXES)
		return "From";
	k = fr.nmailboxes;
	for (i = 0; i < k; i++)
		if (!sender_auth_owns(s->conf->local, s->auth_user,
		    fr.mailboxes[i].local, fr.mailboxes[i].domain, s->txn))
			return arena_printf(s->txn, "%s@%s",
			    fr.mailboxes[i].local, fr.mailboxes[i].domain);
	return "";
}

/* 550 naming the address; the message is dropped. false: s is gone. */
static bool
session_from_refuse(struct session *s, const char *bad)
{
	char q[LOG_QUOTE_MAX], qu[LOG_QUOTE_MAX];

	log_info("smtp.sender_refused", "session=%06" PRIx64 " queue_id=%s "
	    "user=%s header_from=%s", s->id, spool_msg_id(s->msg),
	    log_quote(qu, sizeof(qu), s->auth_user), log_quote(q, sizeof(q),
	    bad));
	session_reply(s, 550, "5.7.1", "<%.300s> not owned by user", bad);
	session_txn_reset(s);
	if (!session_enter(s, SESSION_READY))
		return false;
	return session_count_error(s);
}

/* The content ended: refuse it, or check and commit it and wait. */
static bool
session_content_end(struct session *s)
{
	struct smtp_reply r;
	const char *bad;

	/* a write error sticks in the spool message: the commit reports it */
	(void)hdrguard_finish(&s->guard);
	if (smtp_data_verdict(&s->data, &r) != 0) {
		log_info("smtp.refused", "session=%06" PRIx64 " queue_id=%s "
		    "reply=\"%d %s\"", s->id, spool_msg_id(s->msg), r.code,
		    r.text);
		session_reply_struct(s, &r);
		session_txn_reset(s);
		if (!session_enter(s, SESSION_READY))
			return false;
		return session_count_error(s);
	}
	if (s->auth_user[0] != '\0' &&
	    *(bad = session_from_offender(s)) != '\0')
		return session_from_refuse(s, bad);
	s->env.received = (int64_t)time(NULL);
	s->env.client_ip = s->ip_text;
	s->env.client_helo = s->helo;
	s->env.auth_user = s->auth_user;
	s->env.folder = "";
	s->env.prepend = "";
	if (s->guard.renamed > 0)
		log_info("smtp.forged_authres", "session=%06" PRIx64
		    " queue_id=%s renamed=%zu", s->id, spool_msg_id(s->msg),
		    s->guard.renamed);
	session_note_message_id(s);
	if (session_checks_wanted(s))
		return session_check_start(s);
	return session_commit(s);
}

/* ---- AUTH (RFC 4954) ---------------------------------------------------- */

/* A complete reply line (no CRLF) as is. */
static void
session_reply_raw(struct session *s, const char *line)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);

	evbuffer_add(out, line, strlen(line));
	evbuffer_add(out, "\r\n", 2);
}

/*
 * One line per attempt. A counted failure (failures > 0, the client's
 * count with it) is a warning with the client's address, so that
 * fail2ban-style tools find it at any log level. Never the password.
 */
static void
session_auth_log(struct session *s, const char *user, const char *result,
    unsigned failures)
{
	char quoted[LOG_QUOTE_MAX], count[32] = "";

	if (failures > 0)
		snprintf(count, sizeof(count), " failures=%u", failures);
	log_event(failures > 0 ? LOG_LEVEL_WARN : LOG_LEVEL_INFO, "smtp.auth",
	    "session=%06" PRIx64 " client=%s mech=%s user=%s result=%s%s",
	    s->id, s->ip_text, sasl_mech_name(s->auth_mech),
	    log_quote(quoted, sizeof(quoted), user != NULL ? user : ""),
	    result, count);
}

/* ---- the failure throttle (authlimit.h) ---- */

static struct authlimit_rules
session_authlimit_rules(const struct session *s)
{
	const struct config *c = s->conf->cfg;
	struct authlimit_rules r;

	r.max_failures = c->auth_max_failures;
	r.window = (double)c->auth_failure_window;
	r.delay = c->auth_failure_delay;
	return r;
}

static double
session_now(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* This client's failures inside the window. */
static unsigned
session_auth_failures(const struct session *s)
{
	struct authlimit_rules r = session_authlimit_rules(s);

	return authlimit_failures(s->host->authlimit, &r, &s->ip,
	    session_now());
}

/* The client has failed too often: 421 and close. false: s is gone. */
static bool
session_auth_block(struct session *s, unsigned failures)
{
	log_warn("smtp.auth_blocked", "session=%06" PRIx64 " client=%s "
	    "failures=%u window=%u", s->id, s->ip_text, failures,
	    s->conf->cfg->auth_failure_window);
	sasl_clear(&s->sasl);
	explicit_bzero(s->auth_try, sizeof(s->auth_try));
	return session_close_with(s, "4.7.0", "auth-blocked",
	    "Too many failed authentications, try later");
}

/* The exchange is over without success: wipe it, back to READY. */
static bool
session_auth_end(struct session *s)
{
	sasl_clear(&s->sasl);
	explicit_bzero(s->auth_try, sizeof(s->auth_try));
	return session_enter(s, SESSION_READY);
}

static void session_auth_verified(enum passwd_result, void *);

/* Credentials are ready: start the password check and wait for it. */
static bool
session_auth_verify(struct session *s)
{
	const struct sasl_creds *cr = sasl_creds(&s->sasl);

	snprintf(s->auth_try, sizeof(s->auth_try), "%s", cr->authcid);
	s->auth_job = passwd_verify_async(s->conf->users, s->host->base,
	    cr->authcid, cr->password, session_auth_verified, s);
	sasl_clear(&s->sasl);
	if (s->auth_job == NULL) {
		session_auth_log(s, s->auth_try, "tempfail", 0);
		session_reply_raw(s, SASL_REPLY_TEMPFAIL);
		return session_auth_end(s);
	}
	return session_enter(s, SESSION_AUTH_VERIFY);
}

/* What sasl_start() or sasl_step() said. */
static bool
session_auth_status(struct session *s, enum sasl_status st)
{
	char line[SASL_CHALLENGE_MAX + 8];

	switch (st) {
	case SASL_CONTINUE:
		snprintf(line, sizeof(line), "334 %s",
		    sasl_challenge(&s->sasl));
		session_reply_raw(s, line);
		return session_enter(s, SESSION_AUTH);
	case SASL_DONE:
		return session_auth_verify(s);
	case SASL_ERROR:
		break;
	}
	session_auth_log(s, NULL, "error", 0);
	session_reply_raw(s, sasl_reply(&s->sasl));
	if (!session_auth_end(s))
		return false;
	return session_count_error(s);
}

static bool
session_auth(struct session *s)
{
	struct smtp_cmd *c = &s->cmd;
	struct authlimit_rules r = session_authlimit_rules(s);
	enum sasl_status st;
	enum sasl_mech mech;
	unsigned failures;

	if (!s->tls) {
		session_reply_raw(s, SASL_REPLY_NEED_TLS);
		return session_count_error(s);
	}
	if (!session_auth_offered(s))
		return session_error(s, 503, "5.5.1", "AUTH not available");
	if (s->auth_user[0] != '\0')
		return session_error(s, 503, "5.5.1", "Already authenticated");
	if (s->state != SESSION_READY)
		return session_error(s, 503, "5.5.1", "AUTH not allowed in a "
		    "mail transaction");
	if (authlimit_blocked(&r, (failures = session_auth_failures(s)))) {
		explicit_bzero(c->auth.initial, sizeof(c->auth.initial));
		return session_auth_block(s, failures);
	}
	s->auth_mech = sasl_mech_parse(c->auth.mech, strlen(c->auth.mech),
	    &mech) == 0 ? mech : SASL_MECH_NONE;
	st = sasl_start(&s->sasl, c->auth.mech, strlen(c->auth.mech),
	    c->auth.has_initial ? c->auth.initial : NULL,
	    c->auth.has_initial ? strlen(c->auth.initial) : 0);
	explicit_bzero(c->auth.initial, sizeof(c->auth.initial));
	return session_auth_status(s, st);
}

/* One client line of the exchange. */
static bool
session_auth_line(struct session *s, char *line, size_t len)
{
	enum sasl_status st;

	st = sasl_step(&s->sasl, line, len);
	explicit_bzero(line, len);
	return session_auth_status(s, st);
}

/* The verdict's reply, after the delay if there was one. */
static void
session_auth_answer(struct session *s)
{
	struct authlimit_rules r = session_authlimit_rules(s);
	unsigned failures = session_auth_failures(s);
	bool bad = false;

	/* blocked meanwhile (by this attempt or one in another session):
	 * no verdict, not even a right password's */
	if (authlimit_blocked(&r, failures)) {
		session_auth_block(s, failures);
		return;
	}
	switch (s->auth_result) {
	case PASSWD_OK:
		snprintf(s->auth_user, sizeof(s->auth_user), "%s", s->auth_try);
		session_reply_raw(s, SASL_REPLY_SUCCESS);
		break;
	case PASSWD_BAD:
	case PASSWD_UNKNOWN_USER:
		session_reply_raw(s, SASL_REPLY_BAD_CREDS);
		bad = true;
		break;
	case PASSWD_TEMPFAIL:
		session_reply_raw(s, SASL_REPLY_TEMPFAIL);
		break;
	}
	explicit_bzero(s->auth_try, sizeof(s->auth_try));
	if (s->stop_after_commit) {
		session_close_with(s, "4.3.2", "shutdown",
		    "Service shutting down");
		return;
	}
	if (!session_enter(s, SESSION_READY) ||
	    (bad && !session_count_error(s)))
		return;
	if (s->state == SESSION_READY)
		session_process_input(s);
}

static void
session_on_auth_delay(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	if (s->state == SESSION_AUTH_VERIFY && s->auth_job == NULL)
		session_auth_answer(s);
}

/*
 * The counts are in (the local one, raised to the shared one when there
 * is a store). A failure is counted at once, before any delay, so a
 * client that hangs up rather than wait for the reply still pays for
 * its guess. The delay is the one the client's earlier failures earned,
 * whatever this verdict is.
 */
static void
session_auth_counted(struct session *s, unsigned before, unsigned failures)
{
	struct authlimit_rules r = session_authlimit_rules(s);
	double delay;
	struct timeval tv;

	session_auth_log(s, s->auth_try, passwd_result_name(s->auth_result),
	    failures);
	delay = authlimit_delay(&r, before);
	if (delay > 0 && !authlimit_blocked(&r, failures) &&
	    !s->stop_after_commit) {
		if (s->auth_delay == NULL)
			s->auth_delay = evtimer_new(s->host->base,
			    session_on_auth_delay, s);
		tv = session_tv(delay);
		/* without a timer (out of memory) the reply goes now: the
		 * count and the block still hold */
		if (s->auth_delay != NULL && evtimer_add(s->auth_delay,
		    &tv) == 0)
			return;
	}
	session_auth_answer(s);
}

static bool
session_auth_failed(const struct session *s)
{
	return s->auth_result == PASSWD_BAD ||
	    s->auth_result == PASSWD_UNKNOWN_USER;
}

/* The shared count (kv_incr on a failure, kv_get otherwise): the local
 * one takes it over. A store that cannot answer leaves the local count
 * alone: it is no information, never a block. */
static void
session_auth_shared(const struct kv_result *res, void *arg)
{
	struct session *s = arg;
	struct authlimit_rules r = session_authlimit_rules(s);
	double now = session_now();
	unsigned before, failures, shared = 0;
	char cl[IP_STRLEN + 4];

	s->auth_kv = NULL;
	if (res->status == KV_OK && res->num > 0)
		shared = res->num > UINT32_MAX ? UINT32_MAX :
		    (unsigned)res->num;
	else if (res->status == KV_ERROR)
		log_warn("smtp.auth_store", "session=%06" PRIx64 " client=%s "
		    "result=unavailable action=local-count-only", s->id,
		    authlimit_client_text(&s->ip, cl, sizeof(cl)));
	before = authlimit_failures(s->host->authlimit, &r, &s->ip, now);
	failures = before;
	if (session_auth_failed(s)) {
		failures = authlimit_fail(s->host->authlimit, &r, &s->ip, now);
		/* the shared count includes this failure */
		if (shared > 0)
			before = shared - 1 > before ? shared - 1 : before;
	} else if (shared > before)
		before = shared;
	failures = authlimit_raise(s->host->authlimit, &r, &s->ip, now,
	    shared > failures ? shared : failures);
	session_auth_counted(s, before, session_auth_failed(s) ? failures :
	    0);
}

/* A get's answer is the count as text; an incr's is num already. */
static void
session_auth_shared_get(const struct kv_result *res, void *arg)
{
	struct kv_result r = *res;
	char text[24];

	if (r.status == KV_OK && r.val != NULL && r.vallen < sizeof(text)) {
		memcpy(text, r.val, r.vallen);
		text[r.vallen] = '\0';
		r.num = strtoll(text, NULL, 10);
	}
	session_auth_shared(&r, arg);
}

/* The password check is done (on the loop): the shared count first,
 * when there is a store. */
static void
session_auth_verified(enum passwd_result res, void *arg)
{
	struct session *s = arg;
	struct authlimit_rules r = session_authlimit_rules(s);
	double now = session_now();
	unsigned before, failures = 0;
	char key[IP_STRLEN + 16], cl[IP_STRLEN + 4];
	int n;

	s->auth_job = NULL;
	s->auth_result = res;
	if (s->host->kv != NULL && r.max_failures > 0) {
		n = snprintf(key, sizeof(key), "authfail:%s",
		    authlimit_client_text(&s->ip, cl, sizeof(cl)));
		s->auth_kv = session_auth_failed(s) ?
		    kv_incr(s->host->kv, key, (size_t)n, 1,
		    (unsigned)r.window, session_auth_shared, s) :
		    kv_get(s->host->kv, key, (size_t)n,
		    session_auth_shared_get, s);
		if (s->auth_kv != NULL)
			return;
	}
	before = authlimit_failures(s->host->authlimit, &r, &s->ip, now);
	if (session_auth_failed(s))
		failures = authlimit_fail(s->host->authlimit, &r, &s->ip, now);
	session_auth_counted(s, before, failures);
}

/* ---- STARTTLS --------------------------------------------------------- */

static bool
session_starttls(struct session *s)
{
	struct bufferevent *tls;
	struct timeval idle = session_tv(session_limits(s)->idle_timeout);
	SSL *ssl;

	if (s->tls)
		return session_error(s, 503, "5.5.1", "TLS already active");
	if (s->state == SESSION_GREETED)
		return session_error(s, 503, "5.5.1", "Send EHLO first");
	if (s->state != SESSION_READY)
		return session_error(s, 503, "5.5.1", "STARTTLS in a "
		    "transaction");
	if ((ssl = SSL_new(tls_server_ctx(s->host->tls))) == NULL) {
		ERR_clear_error();
		session_reply(s, 454, "4.7.0", "TLS not available");
		return true;
	}
	session_reply(s, 220, "2.0.0", "Ready to start TLS");
	/* RFC 3207 4.2: whatever the client sent after STARTTLS is void */
	evbuffer_drain(bufferevent_get_input(s->bev),
	    evbuffer_get_length(bufferevent_get_input(s->bev)));
	smtp_line_init(&s->lines);
	tls = bufferevent_openssl_filter_new(s->host->base, s->bev, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (tls == NULL) {
		SSL_free(ssl);
		s->close_reason = "tls-error";
		return session_enter(s, SESSION_CLOSING);
	}
	bufferevent_openssl_set_allow_dirty_shutdown(tls, 1);
	s->bev = tls;
	s->tls = true;
	bufferevent_setcb(s->bev, session_on_read, session_on_write,
	    session_on_event, s);
	bufferevent_set_timeouts(s->bev, &idle, &idle);
	bufferevent_setwatermark(s->bev, EV_READ, 0, SESSION_INPUT_MAX);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	return session_enter(s, SESSION_TLS_HANDSHAKE);
}

/* ---- the command table ------------------------------------------------ */

static bool
session_cmd_helo(struct session *s)
{
	return session_helo(s, false);
}

static bool
session_cmd_ehlo(struct session *s)
{
	return session_helo(s, true);
}

static bool
session_cmd_rset(struct session *s)
{
	session_txn_reset(s);
	session_reply(s, 250, "2.0.0", "Ok");
	return session_enter(s, session_idle_state(s));
}

static bool
session_cmd_noop(struct session *s)
{
	session_reply(s, 250, "2.0.0", "Ok");
	return true;
}

static bool
session_cmd_quit(struct session *s)
{
	session_reply(s, 221, "2.0.0", "Bye");
	s->close_reason = "quit";
	return session_enter(s, SESSION_CLOSING);
}

static bool
session_cmd_help(struct session *s)
{
	session_reply(s, 214, "2.0.0", "See RFC 5321; commands: EHLO "
	    "HELO MAIL RCPT DATA BDAT RSET NOOP QUIT STARTTLS");
	return true;
}

static bool
session_cmd_vrfy(struct session *s)
{
	session_reply(s, 252, "2.5.0", "Cannot VRFY user, but will "
	    "accept message and attempt delivery");
	return true;
}

static bool
session_cmd_expn(struct session *s)
{
	return session_error(s, 502, "5.5.1", "EXPN not available");
}

static bool
session_cmd_unknown(struct session *s)
{
	return session_error(s, 500, "5.5.2", "Command not recognized");
}

#define AT(state)	(1u << (state))

/* In these states a command gets this reply (an error, counted) and its
 * handler does not run. */
struct session_refusal {
	unsigned	 states;		/* AT() bits; 0 ends the list */
	int		 code;
	const char	*enhanced;
	const char	*text;
};

struct session_command_def {
	bool			(*handler)(struct session *);
	/* checked in order, the first that matches answers */
	struct session_refusal	 refuse[3];
};

/* Mid-BDAT (RFC 3030 2): only the next chunk, or giving up. */
#define REFUSE_IN_BDAT \
	{ AT(SESSION_BDAT_WAIT), 503, "5.5.1", "Only BDAT, RSET, NOOP or " \
	    "QUIT during a BDAT transfer" }
#define REFUSE_BEFORE_EHLO(text) \
	{ AT(SESSION_GREETED), 503, "5.5.1", text }

/*
 * Every command, the states it is refused in, and who handles it. The
 * session reaches this table only in the states that read commands
 * (GREETED, READY, MAIL, RCPT, BDAT_WAIT). Refusals that depend on more
 * than the state (STARTTLS under TLS, AUTH without TLS or users) stay
 * in the handlers; a refused BDAT is answered by its handler, since its
 * chunk must still be read and dropped.
 */
static const struct session_command_def session_commands[] = {
	[SMTP_VERB_UNKNOWN] = { session_cmd_unknown, { REFUSE_IN_BDAT } },
	[SMTP_VERB_HELO] = { session_cmd_helo, { REFUSE_IN_BDAT } },
	[SMTP_VERB_EHLO] = { session_cmd_ehlo, { REFUSE_IN_BDAT } },
	[SMTP_VERB_MAIL] = { session_mail, { REFUSE_IN_BDAT,
	    REFUSE_BEFORE_EHLO("Send EHLO or HELO first"),
	    { ~AT(SESSION_READY), 503, "5.5.1", "Nested MAIL command" } } },
	[SMTP_VERB_RCPT] = { session_rcpt, { REFUSE_IN_BDAT,
	    REFUSE_BEFORE_EHLO("Send EHLO or HELO first"),
	    { ~(AT(SESSION_MAIL) | AT(SESSION_RCPT)), 503, "5.5.1",
	    "Need MAIL command" } } },
	[SMTP_VERB_DATA] = { session_data, { REFUSE_IN_BDAT,
	    { AT(SESSION_MAIL), 554, "5.5.1", "No valid recipients" },
	    { ~AT(SESSION_RCPT), 503, "5.5.1", "Need RCPT command" } } },
	[SMTP_VERB_BDAT] = { session_bdat, { { 0 } } },
	[SMTP_VERB_RSET] = { session_cmd_rset, { { 0 } } },
	[SMTP_VERB_NOOP] = { session_cmd_noop, { { 0 } } },
	[SMTP_VERB_QUIT] = { session_cmd_quit, { { 0 } } },
	[SMTP_VERB_HELP] = { session_cmd_help, { REFUSE_IN_BDAT } },
	[SMTP_VERB_VRFY] = { session_cmd_vrfy, { REFUSE_IN_BDAT } },
	[SMTP_VERB_EXPN] = { session_cmd_expn, { REFUSE_IN_BDAT } },
	[SMTP_VERB_STARTTLS] = { session_starttls, { REFUSE_IN_BDAT } },
	[SMTP_VERB_AUTH] = { session_auth, { REFUSE_IN_BDAT,
	    REFUSE_BEFORE_EHLO("Send EHLO first") } },
};

/* The state's refusal of the command, or its handler. */
static bool
session_dispatch(struct session *s, enum smtp_verb verb)
{
	const struct session_command_def *d;
	const struct session_refusal *r;
	size_t i;

	if ((size_t)verb >= sizeof(session_commands) /
	    sizeof(session_commands[0]) || session_commands[verb].handler ==
	    NULL)
		verb = SMTP_VERB_UNKNOWN;
	d = &session_commands[verb];
	for (i = 0; i < sizeof(d->refuse) / sizeof(d->refuse[0]) &&
	    d->refuse[i].states != 0; i++) {
		r = &d->refuse[i];
		if (r->states & AT(s->state))
			return session_error(s, r->code, r->enhanced, "%s",
			    r->text);
	}
	return d->handler(s);
}

static bool
session_command(struct session *s, const char *line, size_t len)
{
	struct smtp_cmd *c = &s->cmd;

	if (++s->ncommands > session_limits(s)->commands)
		return session_close_with(s, "4.7.0", "too-many-commands",
		    "Too many commands, closing connection");
	if (smtp_cmd_parse(line, len, session_parse_flags(s), c) != 0) {
		if (c->http) {
			s->close_reason = "http";
			session_reply(s, 554, "5.7.0", "This is not a web "
			    "server");
			return session_enter(s, SESSION_CLOSING);
		}
		session_helo_unparsed(s, line, len);
		if (c->verb == SMTP_VERB_BDAT)
			/* the size is unknown, so the stream is lost */
			return session_close_with(s, "4.5.2", "bad-bdat",
			    "Malformed BDAT, closing connection");
		session_reply_struct(s, &c->reply);
		return session_count_error(s);
	}
	return session_dispatch(s, c->verb);
}

/* ---- input ---------------------------------------------------------------- */

/* Feed content; false when s is gone or must wait. */
static bool
session_feed_content(struct session *s, struct evbuffer *in)
{
	struct evbuffer_iovec v;
	enum smtp_data_event ev;
	size_t avail = evbuffer_get_length(in), used;

	if (avail == 0 && !(s->state == SESSION_BDAT &&
	    s->data.chunk_left == 0))
		return false;
	v.iov_base = NULL;
	v.iov_len = 0;
	if (avail > 0 && evbuffer_peek(in, -1, NULL, &v, 1) < 1)
		return false;
	used = smtp_data_feed(&s->data, v.iov_base, v.iov_len, &ev);
	evbuffer_drain(in, used);
	s->data_octets += used;
	switch (ev) {
	case SMTP_DATA_MORE:
		return avail > 0;
	case SMTP_DATA_CHUNK_END:
		session_reply(s, 250, "2.0.0", "%" PRIu64 " octets received",
		    s->cmd.bdat.size);
		return session_enter(s, SESSION_BDAT_WAIT);
	case SMTP_DATA_END:
		return session_content_end(s) && s->state != SESSION_COMMIT &&
		    s->state != SESSION_CHECK;
	}
	return false;
}

static bool
session_skip_bdat(struct session *s, struct evbuffer *in)
{
	size_t avail = evbuffer_get_length(in);
	size_t n = s->bdat_skip < avail ? (size_t)s->bdat_skip : avail;

	evbuffer_drain(in, n);
	s->bdat_skip -= n;
	s->data_octets += n;
	if (s->bdat_skip > 0)
		return false;
	return session_enter(s, s->bdat_skip_return);
}

/* One step of line input; false when s is gone or there is no line. */
static bool
session_feed_line(struct session *s, struct evbuffer *in)
{
	struct evbuffer_iovec v;
	enum smtp_line_event ev;
	struct smtp_reply r;
	const char *line;
	size_t used, len;

	if (evbuffer_get_length(in) == 0 ||
	    evbuffer_peek(in, -1, NULL, &v, 1) < 1)
		return false;
	used = smtp_line_feed(&s->lines, v.iov_base, v.iov_len, &ev, &line,
	    &len);
	evbuffer_drain(in, used);
	switch (ev) {
	case SMTP_LINE_NONE:
		return true;
	case SMTP_LINE_OK:
		if (s->state == SESSION_AUTH)
			/* the line is s->lines.buf: wiped after use */
			return session_auth_line(s, s->lines.buf, len);
		return session_command(s, line, len);
	case SMTP_LINE_TOO_LONG:
	case SMTP_LINE_BARE:
		if (s->state == SESSION_AUTH) {
			session_auth_log(s, NULL, "error", 0);
			session_reply_raw(s, ev == SMTP_LINE_TOO_LONG ?
			    SASL_REPLY_TOO_LONG : SASL_REPLY_MALFORMED);
			if (!session_auth_end(s))
				return false;
			return session_count_error(s);
		}
		smtp_line_error_reply(ev, &r);
		session_reply_struct(s, &r);
		return session_count_error(s);
	}
	return false;
}

/* Handle all the input there is, unless output backs up. */
static void
session_process_input(struct session *s)
{
	struct evbuffer *in;
	bool go = true;

	while (go) {
		in = bufferevent_get_input(s->bev);
		switch (s->state) {
		case SESSION_TLS_HANDSHAKE:
		case SESSION_BANNER_WAIT:
		case SESSION_CHECK:
		case SESSION_COMMIT:
		case SESSION_AUTH_VERIFY:
		case SESSION_CLOSING:
			return;
		case SESSION_DATA:
		case SESSION_BDAT:
			go = session_feed_content(s, in);
			break;
		case SESSION_BDAT_SKIP:
			go = session_skip_bdat(s, in);
			break;
		case SESSION_GREETED:
		case SESSION_READY:
		case SESSION_MAIL:
		case SESSION_RCPT:
		case SESSION_BDAT_WAIT:
		case SESSION_AUTH:
			if (evbuffer_get_length(bufferevent_get_output(s->bev))
			    >= SESSION_OUTPUT_MAX) {
				session_pause_reading(s);
				return;
			}
			go = session_feed_line(s, in);
			break;
		}
	}
}

/* ---- the transfer deadline and rate floor ------------------------------ */

/* The states in which the client is sending us a message. */
static bool
session_in_transfer(enum session_state state)
{
	return state == SESSION_DATA || state == SESSION_BDAT ||
	    state == SESSION_BDAT_WAIT || state == SESSION_BDAT_SKIP;
}

static uint64_t
session_ms(double seconds)
{
	return (uint64_t)(seconds * 1000.0 + 0.5);
}

static void
session_data_limits(const struct session *s, struct smtp_rate_limits *l)
{
	const struct config_limits *lim = session_limits(s);

	l->deadline_ms = session_ms(lim->data_timeout);
	l->grace_ms = session_ms(lim->data_rate_grace);
	l->min_rate = lim->min_data_rate;
}

static uint64_t
session_data_elapsed_ms(const struct session *s)
{
	double t = session_elapsed(&s->data_started);

	return t <= 0 ? 0 : (uint64_t)(t * 1000.0);
}

/*
 * Arms the timer for the moment the verdict can change (next, in ms
 * since the transfer began), so a transfer is looked at only when it
 * may have become too slow, never on a polling tick.
 */
static void
session_data_timer_arm(struct session *s, uint64_t elapsed, uint64_t next)
{
	uint64_t ms;
	struct timeval tv;

	if (s->data_timer == NULL || next == 0)
		return;
	ms = next > elapsed ? next - elapsed : 1;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000 * 1000);
	evtimer_add(s->data_timer, &tv);
}

static void
session_data_watch(struct session *s)
{
	struct smtp_rate_limits l;
	uint64_t next;

	clock_gettime(CLOCK_MONOTONIC, &s->data_started);
	s->data_octets = 0;
	session_data_limits(s, &l);
	if (smtp_rate_check(&l, 0, 0, &next) == SMTP_RATE_OK)
		session_data_timer_arm(s, 0, next);
}

/*
 * Too slow or too long: a client still sending cannot be brought back
 * in step, so it gets one reply and the connection closes. The partial
 * message goes with the transaction (spool_abort waits for the writer
 * thread's chunks of it, then unlinks the tmp file), so nothing of it
 * reaches the queue.
 */
static void
session_data_expired(struct session *s, enum smtp_rate_verdict v,
    uint64_t elapsed)
{
	bool deadline = v == SMTP_RATE_DEADLINE;

	log_info("smtp.data_too_slow", "session=%06" PRIx64 " ip=%s "
	    "queue_id=%s bytes=%" PRIu64 " seconds=%.3f limit=%s", s->id,
	    s->ip_text, s->msg != NULL ? spool_msg_id(s->msg) : "none",
	    s->data_octets, (double)elapsed / 1000.0,
	    smtp_rate_verdict_name(v));
	session_txn_reset(s);
	if (deadline)
		session_reply(s, 451, "4.4.2", "Data transfer took too long, "
		    "try again later");
	else
		session_reply(s, 451, "4.4.2", "Data transfer too slow, try "
		    "again later");
	s->close_reason = deadline ? "data-deadline" : "data-too-slow";
	session_enter(s, SESSION_CLOSING);
}

static void
session_on_data_timer(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	struct smtp_rate_limits l;
	enum smtp_rate_verdict v;
	uint64_t elapsed, next;

	(void)fd;
	(void)what;
	if (!session_in_transfer(s->state))
		return;
	session_data_limits(s, &l);
	elapsed = session_data_elapsed_ms(s);
	v = smtp_rate_check(&l, elapsed, s->data_octets, &next);
	if (v == SMTP_RATE_OK)
		session_data_timer_arm(s, elapsed, next);
	else
		session_data_expired(s, v, elapsed);
}

/* ---- states and events ------------------------------------------------------ */

static void
session_send_banner(struct session *s)
{
	s->banner_sent = true;
	session_reply(s, 220, NULL, "%s ESMTP netjes", session_hostname(s));
}

/* Enter a state and run its entry action; false when s was freed. */
static bool
session_enter(struct session *s, enum session_state state)
{
	struct timeval delay;
	bool was_transfer = session_in_transfer(s->state);

	s->state = state;
	/* one clock for the whole transfer, BDAT chunks and the commands
	 * between them included */
	if (session_in_transfer(state) && !was_transfer)
		session_data_watch(s);
	else if (!session_in_transfer(state) && was_transfer &&
	    s->data_timer != NULL)
		evtimer_del(s->data_timer);
	switch (state) {
	case SESSION_TLS_HANDSHAKE:
		break;
	case SESSION_BANNER_WAIT:
		delay = session_tv(session_limits(s)->banner_delay);
		evtimer_add(s->banner_timer, &delay);
		break;
	case SESSION_GREETED:
		if (!s->banner_sent)
			session_send_banner(s);
		break;
	case SESSION_READY:
	case SESSION_MAIL:
	case SESSION_RCPT:
	case SESSION_DATA:
	case SESSION_BDAT:
	case SESSION_BDAT_WAIT:
	case SESSION_BDAT_SKIP:
	case SESSION_CHECK:
	case SESSION_COMMIT:
	case SESSION_AUTH:
	case SESSION_AUTH_VERIFY:
		break;
	case SESSION_CLOSING:
		bufferevent_disable(s->bev, EV_READ);
		if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0) {
			session_free(s, s->close_reason);
			return false;
		}
		break;
	}
	return true;
}

/* The greeting is due; or the handshake finished. */
static void
session_greet(struct session *s)
{
	if (s->banner_timer != NULL && !s->banner_sent &&
	    session_limits(s)->banner_delay > 0) {
		session_enter(s, SESSION_BANNER_WAIT);
		return;
	}
	if (session_enter(s, SESSION_GREETED))
		session_process_input(s);
}

static void
session_on_banner_timer(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	if (s->state != SESSION_BANNER_WAIT)
		return;
	if (session_enter(s, SESSION_GREETED))
		session_process_input(s);
}

static void
session_timeout(struct session *s, short what)
{
	if (s->state == SESSION_TLS_HANDSHAKE || s->state == SESSION_CLOSING ||
	    (what & BEV_EVENT_WRITING)) {
		session_free(s, "timeout");
		return;
	}
	if (s->state == SESSION_CHECK || s->state == SESSION_COMMIT ||
	    s->state == SESSION_AUTH_VERIFY) {
		/* the reply is coming; the client is waiting for it */
		if (!s->peer_gone)
			bufferevent_enable(s->bev, EV_READ);
		return;
	}
	session_close_with(s, "4.4.2", "timeout",
	    "Idle timeout, closing connection");
}

static const char *
session_error_text(struct session *s, char *out, size_t n)
{
	unsigned long e;

	if (s->tls && (e = bufferevent_get_openssl_error(s->bev)) != 0) {
		ERR_error_string_n(e, out, n);
		return out;
	}
	snprintf(out, n, "%s", strerror(EVUTIL_SOCKET_ERROR()));
	return out;
}

static void
session_tls_done(struct session *s)
{
	SSL *ssl = bufferevent_openssl_get_ssl(s->bev);

	s->tls_version = SSL_get_version(ssl);
	s->tls_cipher = SSL_get_cipher_name(ssl);
	log_info("smtp.tls", "session=%06" PRIx64 " version=%s cipher=%s",
	    s->id, s->tls_version, s->tls_cipher);
	/* RFC 3207 4.2: forget everything learnt before the handshake */
	session_txn_reset(s);
	s->helo[0] = '\0';
	s->ehlo = false;
	s->auth_user[0] = '\0';
	session_greet(s);
}

static void
session_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	char text[256], quoted[300];

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		bufferevent_setcb(s->bev, session_on_read, session_on_write,
		    session_on_event, s);
		session_tls_done(s);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		session_timeout(s, what);
		return;
	}
	if (s->state == SESSION_CHECK || s->state == SESSION_COMMIT) {
		/* the message is complete and in the spool: it is delivered
		 * whether or not anyone reads the 250 */
		log_info("smtp.peer_gone", "session=%06" PRIx64 " queue_id=%s "
		    "state=%s", s->id, spool_msg_id(s->msg),
		    s->state == SESSION_CHECK ? "check" : "commit");
		s->peer_gone = true;
		bufferevent_disable(s->bev, EV_READ | EV_WRITE);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		session_free(s, s->state == SESSION_CLOSING ? s->close_reason :
		    "eof");
		return;
	}
	log_info("smtp.error", "session=%06" PRIx64 " error=%s", s->id,
	    log_quote(quoted, sizeof(quoted),
	    session_error_text(s, text, sizeof(text))));
	session_free(s, s->state == SESSION_TLS_HANDSHAKE ? "tls-error" :
	    "error");
}

static void
session_on_read(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	(void)bev;
	if (s->state == SESSION_BANNER_WAIT) {
		log_info("smtp.early_talker", "session=%06" PRIx64
		    " client=%s", s->id, s->client);
		session_reply(s, 554, "5.5.0", "%s SMTP protocol "
		    "violation: talked before the greeting",
		    session_hostname(s));
		s->close_reason = "early-talker";
		session_enter(s, SESSION_CLOSING);
		return;
	}
	session_process_input(s);
}

/* The output buffer drained (low watermark 0). */
static void
session_on_write(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	(void)bev;
	if (s->state == SESSION_CLOSING) {
		session_free(s, s->close_reason);
		return;
	}
	if (s->read_paused) {
		s->read_paused = false;
		bufferevent_enable(s->bev, EV_READ);
		session_process_input(s);
	}
}

/* ---- reverse DNS at connect ------------------------------------------ */

/* The client's confirmed name is in (from the loop). */
static void
session_iprev_done(const struct iprev_outcome *o, void *arg)
{
	struct session *s = arg;
	char q[LOG_QUOTE_MAX];

	s->iprev = NULL;
	if (o->result == IPREV_RESULT_PASS && o->name != NULL)
		snprintf(s->rdns, sizeof(s->rdns), "%s", o->name);
	log_debug("smtp.iprev", "session=%06" PRIx64 " client=%s result=%s "
	    "name=%s", s->id, s->ip_text, iprev_result_name(o->result),
	    log_quote(q, sizeof(q), s->rdns[0] != '\0' ? s->rdns : "-"));
}

/* Ask early, so Received can name the client when DATA comes; a
 * lookup still running then just leaves the name out. */
static void
session_iprev_start(struct session *s)
{
	if (s->host->resolver == NULL || s->ip.family == 0)
		return;
	s->iprev_arena = arena_new(0);
	s->iprev = iprev_check_start(s->host->base, s->host->resolver,
	    &s->ip, s->iprev_arena, session_iprev_done, s);
}

/* ---- life cycle -------------------------------------------------------------- */

static struct bufferevent *
session_bev_new(struct session_host *h, evutil_socket_t fd, bool tls)
{
	struct bufferevent *bev;
	SSL *ssl;

	if (!tls)
		return bufferevent_socket_new(h->base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
	if ((ssl = SSL_new(tls_server_ctx(h->tls))) == NULL) {
		ERR_clear_error();
		return NULL;
	}
	bev = bufferevent_openssl_socket_new(h->base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

static void
session_format_client(const struct sockaddr *sa, struct session *s)
{
	unsigned port = 0;

	if (ip_from_sockaddr(sa, &s->ip) == -1) {
		memset(&s->ip, 0, sizeof(s->ip));
		snprintf(s->ip_text, sizeof(s->ip_text), "unknown");
		snprintf(s->client, sizeof(s->client), "unknown");
		return;
	}
	ip_unmap_v4(&s->ip);
	ip_format(&s->ip, s->ip_text, sizeof(s->ip_text));
	if (sa->sa_family == AF_INET6)
		port = ntohs(((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_port);
	else
		port = ntohs(((const struct sockaddr_in *)(const void *)sa)->
		    sin_port);
	if (s->ip.family == AF_INET6)
		snprintf(s->client, sizeof(s->client), "[%s]:%u", s->ip_text,
		    port);
	else
		snprintf(s->client, sizeof(s->client), "%s:%u", s->ip_text,
		    port);
}

struct session *
session_new(struct session_host *h, const struct config_listener *l,
    evutil_socket_t fd, const struct sockaddr *sa)
{
	struct timeval idle = session_tv(h->conf->cfg->limits.idle_timeout);
	struct session *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->tls = l->mode == LISTENER_SMTPS;
	if ((s->bev = session_bev_new(h, fd, s->tls)) == NULL) {
		free(s);
		return NULL;
	}
	s->host = h;
	s->conf = session_conf_ref(h->conf);
	s->listener = l;
	s->id = ++h->next_id;
	s->close_reason = "eof";
	s->txn = arena_new(0);
	buf_init(&s->out);
	hdrguard_init(&s->guard, s->conf->cfg->hostname, session_spool_out, s);
	smtp_line_init(&s->lines);
	clock_gettime(CLOCK_MONOTONIC, &s->started);
	session_format_client(sa, s);
	session_iprev_start(s);
	if (s->conf->cfg->limits.banner_delay > 0)
		s->banner_timer = evtimer_new(h->base,
		    session_on_banner_timer, s);
	s->data_timer = evtimer_new(h->base, session_on_data_timer, s);
	bufferevent_setcb(s->bev, session_on_read, session_on_write,
	    session_on_event, s);
	bufferevent_set_timeouts(s->bev, &idle, &idle);
	bufferevent_setwatermark(s->bev, EV_READ, 0, SESSION_INPUT_MAX);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	LIST_INSERT_HEAD(&h->sessions, s, entry);
	h->nsessions++;
	log_info("smtp.connect", "session=%06" PRIx64 " listener=%s client=%s",
	    s->id, l->name, s->client);
	if (s->tls)
		session_enter(s, SESSION_TLS_HANDSHAKE);
	else
		session_greet(s);
	return s;
}

void
session_free(struct session *s, const char *reason)
{
	struct session_host *h = s->host;

	log_info("smtp.disconnect", "session=%06" PRIx64 " listener=%s "
	    "client=%s reason=%s duration=%.3f", s->id, s->listener->name,
	    s->client, reason, session_elapsed(&s->started));
	pipeline_free(s->pipe);
	s->pipe = NULL;
	session_txn_free_stream(s);
	if (s->msg != NULL && s->state == SESSION_COMMIT)
		spool_msg_rebind_cb(s->msg, session_orphan_committed,
		    h->delivery);
	else if (s->msg != NULL)
		spool_abort(s->msg);
	s->msg = NULL;
	hdrguard_free(&s->guard);
	if (s->auth_job != NULL)
		passwd_verify_cancel(s->auth_job);
	s->auth_job = NULL;
	sasl_clear(&s->sasl);
	explicit_bzero(s->auth_try, sizeof(s->auth_try));
	LIST_REMOVE(s, entry);
	h->nsessions--;
	if (s->banner_timer != NULL)
		event_free(s->banner_timer);
	if (s->auth_delay != NULL)
		event_free(s->auth_delay);
	kv_cancel(s->auth_kv);
	if (s->data_timer != NULL)
		event_free(s->data_timer);
	/* under STARTTLS the last reply may still sit below the TLS
	 * filter: the tls module lets it reach the socket, then closes */
	if (s->tls)
		tls_server_close(h->tls, s->bev);
	else
		bufferevent_free(s->bev);
	if (s->iprev != NULL)
		iprev_check_cancel(s->iprev);
	arena_free(s->iprev_arena);
	arena_free(s->txn);
	buf_free(&s->out);
	/* after the auth job's cancel: the job's users db lives in conf */
	session_conf_unref(s->conf);
	free(s);
	if (h->on_gone != NULL)
		h->on_gone(h);
}

void
session_shutdown(struct session *s)
{
	switch (s->state) {
	case SESSION_TLS_HANDSHAKE:
	case SESSION_BANNER_WAIT:
		session_free(s, "shutdown");
		break;
	case SESSION_AUTH_VERIFY:
		if (s->auth_job == NULL) {
			/* only the failure delay is left: no need to wait
			 * it out for a shutdown */
			explicit_bzero(s->auth_try, sizeof(s->auth_try));
			session_close_with(s, "4.3.2", "shutdown",
			    "Service shutting down");
			break;
		}
		s->stop_after_commit = true;
		break;
	case SESSION_CHECK:
	case SESSION_COMMIT:
		s->stop_after_commit = true;
		break;
	case SESSION_CLOSING:
		break;
	default:
		session_close_with(s, "4.3.2", "shutdown",
		    "Service shutting down");
		break;
	}
}

void
session_shutdown_all(struct session_host *h)
{
	struct session *s, *next;

	/* session_shutdown() frees at most the session it is given */
	for (s = LIST_FIRST(&h->sessions); s != NULL; s = next) {
		next = LIST_NEXT(s, entry);
		session_shutdown(s);
	}
}

struct session_conf *
session_conf_ref(struct session_conf *c)
{
	c->refs++;
	return c;
}

void
session_conf_unref(struct session_conf *c)
{
	if (--c->refs == 0 && c->on_unused != NULL)
		c->on_unused(c);
}

size_t
session_count_ip(const struct session_host *h, const struct ip_addr *ip)
{
	const struct session *s;
	size_t n = 0;

	LIST_FOREACH(s, &h->sessions, entry)
		if (ip_equal(&s->ip, ip))
			n++;
	return n;
}
