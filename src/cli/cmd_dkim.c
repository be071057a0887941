/*
 * cmd_dkim — `netjes dkim keygen | sign | verify`.
 *
 *	netjes dkim keygen --domain D --selector S [--algorithm rsa|ed25519]
 *	    [--bits N] [--out KEYFILE] [--json]
 *	netjes dkim sign --domain D --selector S --key KEYFILE
 *	    [--algorithm rsa-sha256|ed25519-sha256] [--canon H/B]
 *	    [--headers a:b:c] [--identity I] [--expire SECONDS] < in > out
 *	netjes dkim verify [--zone FILE | --nameserver HOST:PORT]
 *	    [--dns-timeout S] [--now UNIXTIME] [--json] < message
 *
 * Files saved by Unix tools have bare LF line ends; mail on the wire has
 * CRLF, and that is what signatures cover. So both sign and verify read
 * every bare LF as CRLF. sign writes its output in the input's style: a
 * message that came with LF line ends leaves with LF line ends (the
 * signature field too), otherwise CRLF.
 *
 * verify prints one line per signature, "RESULT d=D s=S a=A", with the
 * reason in parentheses for anything but a plain pass, or "none" for an
 * unsigned message; exit 0 whenever results were computed. --now sets
 * the verification clock (x= expiry, t= in the future), so a message can
 * be judged as of its arrival and a result reproduced later.
 */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/common/dkim_keygen.h"
#include "auth/dkim/dkim_sign.h"
#include "auth/dkim/dkim_verify.h"
#include "cli/cli.h"
#include "core/json.h"

enum {
	OPT_DOMAIN = 0x2001, OPT_SELECTOR, OPT_ALGORITHM, OPT_BITS, OPT_OUT,
	OPT_KEY, OPT_CANON, OPT_HEADERS, OPT_IDENTITY, OPT_EXPIRE, OPT_ZONE,
	OPT_NOW,
};

static int
read_stream(FILE *f, struct buf *b)
{
	char chunk[65536];
	size_t got;

	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(b, chunk, got);
	return ferror(f) ? -1 : 0;
}

/* Bare LF becomes CRLF. Returns true when the input had a bare LF and
 * no CRLF at all (a Unix text file). */
static bool
normalize_crlf(const struct buf *in, struct buf *out)
{
	size_t i;
	bool bare = false, crlf = false;

	buf_reserve(out, in->len + in->len / 16 + 1);
	for (i = 0; i < in->len; i++) {
		if (in->data[i] == '\n') {
			if (i > 0 && in->data[i - 1] == '\r')
				crlf = true;
			else {
				bare = true;
				buf_append_char(out, '\r');
			}
		}
		buf_append_char(out, in->data[i]);
	}
	return bare && !crlf;
}

static int
parse_opts(const char *cmd, int argc, char **argv,
    const struct option *longopts, int (*take)(int, const char *, void *),
    void *arg, struct cli_dns *dns)
{
	int opt, rc;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == '?')
			return cli_usage(cmd, "unknown or incomplete option "
			    "'%s'", argv[optind - 1]);
		if (dns != NULL) {
			rc = cli_dns_option(cmd, opt, optarg, dns);
			if (rc < 0)
				return CLI_EXIT_USAGE;
			if (rc > 0)
				continue;
		}
		if ((rc = take(opt, optarg, arg)) != 0)
			return rc;
	}
	if (optind < argc)
		return cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* --- keygen --------------------------------------------------------- */

struct keygen_args {
	const char	*domain, *selector, *algorithm, *out;
	int		 bits;
	bool		 json;
};

static int
keygen_take(int opt, const char *arg, void *p)
{
	struct keygen_args *a = p;
	char *end;
	long v;

	switch (opt) {
	case OPT_DOMAIN: a->domain = arg; return 0;
	case OPT_SELECTOR: a->selector = arg; return 0;
	case OPT_ALGORITHM: a->algorithm = arg; return 0;
	case OPT_OUT: a->out = arg; return 0;
	case CLI_OPT_JSON: a->json = true; return 0;
	case OPT_BITS:
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno != 0 || *end != '\0' || v < 1024 || v > 8192)
			return cli_usage("dkim", "--bits wants 1024 to 8192, "
			    "not '%s'", arg);
		a->bits = (int)v;
		return 0;
	}
	return cli_usage("dkim", "unexpected option");
}

static int
dkim_keygen_cmd(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "domain", 1, NULL, OPT_DOMAIN },
		{ "selector", 1, NULL, OPT_SELECTOR },
		{ "algorithm", 1, NULL, OPT_ALGORITHM },
		{ "bits", 1, NULL, OPT_BITS },
		{ "out", 1, NULL, OPT_OUT },
		{ "json", 0, NULL, CLI_OPT_JSON },
		{ NULL, 0, NULL, 0 },
	};
	struct keygen_args a = { NULL, NULL, "rsa", NULL, 0, false };
	struct buf txt = BUF_INIT, out = BUF_INIT, path = BUF_INIT;
	struct buf name = BUF_INIT;
	enum dkim_key_type type;
	EVP_PKEY *pk;
	char why[256];
	struct json j;
	size_t i;
	int rc;

	if ((rc = parse_opts("dkim", argc, argv, longopts, keygen_take, &a,
	    NULL)) != 0)
		return rc;
	if (a.domain == NULL || a.selector == NULL)
		return cli_usage("dkim", "keygen needs --domain and "
		    "--selector");
	if (strcmp(a.algorithm, "rsa") == 0)
		type = DKIM_KEY_RSA;
	else if (strcmp(a.algorithm, "ed25519") == 0)
		type = DKIM_KEY_ED25519;
	else
		return cli_usage("dkim", "--algorithm is rsa or ed25519, not "
		    "'%s'", a.algorithm);
	if (a.bits != 0 && type == DKIM_KEY_ED25519)
		return cli_usage("dkim", "--bits is for RSA keys");
	if (a.out != NULL)
		buf_append_str(&path, a.out);
	else
		buf_printf(&path, "%s.%s.key", a.domain, a.selector);

	if ((pk = dkim_keygen_new(type, a.bits, why, sizeof(why))) == NULL ||
	    dkim_keygen_write(pk, path.data, why, sizeof(why)) != 0 ||
	    dkim_keygen_txt(pk, &txt) != 0) {
		fprintf(stderr, "netjes dkim: %s\n", why);
		EVP_PKEY_free(pk);
		buf_free(&path);
		buf_free(&txt);
		return CLI_EXIT_FAIL;
	}
	if (a.json) {
		buf_printf(&name, "%s._domainkey.%s", a.selector, a.domain);
		json_init(&j, &out);
		json_obj_begin(&j);
		json_kv_str(&j, "name", name.data);
		json_kv_str(&j, "value", txt.data);
		json_key(&j, "strings");
		json_arr_begin(&j);
		for (i = 0; i < txt.len; i += 255)
			json_strn(&j, txt.data + i,
			    txt.len - i > 255 ? 255 : txt.len - i);
		json_end(&j);
		json_kv_str(&j, "algorithm", a.algorithm);
		json_kv_int(&j, "bits", EVP_PKEY_get_bits(pk));
		json_kv_str(&j, "key_file", path.data);
		json_end(&j);
	} else {
		buf_printf(&out, "%s._domainkey.%s. IN TXT ", a.selector,
		    a.domain);
		dkim_keygen_txt_strings(txt.data, txt.len, &out);
		fprintf(stderr, "netjes dkim: private key written to %s "
		    "(mode 0600)\n", path.data);
	}
	cli_print(&out);
	EVP_PKEY_free(pk);
	buf_free(&out);
	buf_free(&txt);
	buf_free(&path);
	buf_free(&name);
	return CLI_EXIT_OK;
}

/* --- sign ----------------------------------------------------------- */

struct sign_args {
	struct dkim_sign_options	 o;
	const char			*key, *algorithm, *canon;
};

static int
sign_take(int opt, const char *arg, void *p)
{
	struct sign_args *a = p;
	char *end;
	long v;

	switch (opt) {
	case OPT_DOMAIN: a->o.domain = arg; return 0;
	case OPT_SELECTOR: a->o.selector = arg; return 0;
	case OPT_KEY: a->key = arg; return 0;
	case OPT_ALGORITHM: a->algorithm = arg; return 0;
	case OPT_CANON: a->canon = arg; return 0;
	case OPT_HEADERS: a->o.headers = arg; return 0;
	case OPT_IDENTITY: a->o.identity = arg; return 0;
	case OPT_EXPIRE:
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno != 0 || *end != '\0' || v <= 0 ||
		    v > 10L * 366 * 86400)
			return cli_usage("dkim", "--expire wants seconds, "
			    "not '%s'", arg);
		a->o.expire = v;
		return 0;
	}
	return cli_usage("dkim", "unexpected option");
}

static int
dkim_sign_cmd(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "domain", 1, NULL, OPT_DOMAIN },
		{ "selector", 1, NULL, OPT_SELECTOR },
		{ "key", 1, NULL, OPT_KEY },
		{ "algorithm", 1, NULL, OPT_ALGORITHM },
		{ "canon", 1, NULL, OPT_CANON },
		{ "headers", 1, NULL, OPT_HEADERS },
		{ "identity", 1, NULL, OPT_IDENTITY },
		{ "expire", 1, NULL, OPT_EXPIRE },
		{ NULL, 0, NULL, 0 },
	};
	struct sign_args a;
	struct buf in = BUF_INIT, msg = BUF_INIT, sig = BUF_INIT;
	struct dkim_signer *s = NULL;
	EVP_PKEY *pk = NULL;
	char why[256];
	bool unix_lf;
	size_t i;
	int rc;

	memset(&a, 0, sizeof(a));
	dkim_sign_options_init(&a.o);
	if ((rc = parse_opts("dkim", argc, argv, longopts, sign_take, &a,
	    NULL)) != 0)
		return rc;
	if (a.o.domain == NULL || a.o.selector == NULL || a.key == NULL)
		return cli_usage("dkim", "sign needs --domain, --selector and "
		    "--key");
	if (a.algorithm != NULL) {
		a.o.alg = dkim_alg_parse(a.algorithm, strlen(a.algorithm));
		if (a.o.alg != DKIM_ALG_RSA_SHA256 &&
		    a.o.alg != DKIM_ALG_ED25519_SHA256)
			return cli_usage("dkim", "--algorithm is rsa-sha256 "
			    "or ed25519-sha256, not '%s'", a.algorithm);
	}
	if (a.canon != NULL && dkim_canon_parse(a.canon, strlen(a.canon),
	    &a.o.header_canon, &a.o.body_canon) != 0)
		return cli_usage("dkim", "--canon is HEADER/BODY with simple "
		    "or relaxed, not '%s'", a.canon);
	if ((pk = dkim_keygen_load(a.key, why, sizeof(why))) == NULL) {
		fprintf(stderr, "netjes dkim: %s\n", why);
		return CLI_EXIT_FAIL;
	}
	a.o.key = pk;
	if ((s = dkim_sign_new(&a.o, why, sizeof(why))) == NULL) {
		fprintf(stderr, "netjes dkim: %s\n", why);
		EVP_PKEY_free(pk);
		return CLI_EXIT_FAIL;
	}
	rc = CLI_EXIT_FAIL;
	if (read_stream(stdin, &in) != 0) {
		fprintf(stderr, "netjes dkim: cannot read the message: %s\n",
		    strerror(errno));
		goto out;
	}
	unix_lf = normalize_crlf(&in, &msg);
	dkim_sign_message(s, msg.data ? msg.data : "", msg.len);
	if (dkim_sign_finish(s, &sig, why, sizeof(why)) != 0) {
		fprintf(stderr, "netjes dkim: %s\n", why);
		goto out;
	}
	if (unix_lf) {
		for (i = 0; i < sig.len; i++)
			if (!(sig.data[i] == '\r' && i + 1 < sig.len &&
			    sig.data[i + 1] == '\n'))
				fputc(sig.data[i], stdout);
		fwrite(in.data ? in.data : "", 1, in.len, stdout);
	} else {
		fwrite(sig.data, 1, sig.len, stdout);
		fwrite(msg.data ? msg.data : "", 1, msg.len, stdout);
	}
	rc = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
	dkim_sign_free(s);
	EVP_PKEY_free(pk);
	buf_free(&in);
	buf_free(&msg);
	buf_free(&sig);
	return rc;
}

/* --- verify --------------------------------------------------------- */

struct verify_args {
	const char	*zone;
	bool		 json;
	long long	 now;	/* 0: the real time */
};

static int
verify_take(int opt, const char *arg, void *p)
{
	struct verify_args *a = p;

	switch (opt) {
	case OPT_ZONE: a->zone = arg; return 0;
	case CLI_OPT_JSON: a->json = true; return 0;
	case OPT_NOW: return cli_unixtime("dkim", "--now", arg, &a->now);
	}
	return cli_usage("dkim", "unexpected option");
}

static struct dns_resolver *
zone_resolver(const char *path, struct event_base *base)
{
	struct dns_resolver *r;
	struct buf text = BUF_INIT;
	char err[256];
	FILE *f;

	if ((f = fopen(path, "r")) == NULL || read_stream(f, &text) != 0) {
		fprintf(stderr, "netjes dkim: cannot read %s: %s\n", path,
		    strerror(errno));
		if (f != NULL)
			fclose(f);
		buf_free(&text);
		return NULL;
	}
	fclose(f);
	if ((r = dns_zone_new(base)) == NULL) {
		fprintf(stderr, "netjes dkim: cannot set up a zone\n");
		buf_free(&text);
		return NULL;
	}
	err[0] = '\0';
	if (dns_zone_load(r, buf_cstr(&text), text.len, NULL, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", path, err);
		dns_resolver_free(r);
		r = NULL;
	}
	buf_free(&text);
	return r;
}

static void
verify_keys_done(struct dkim_verify *v, void *arg)
{
	(void)v;
	*(bool *)arg = true;
}

static void
verify_print(const struct dkim_sig_result *r, size_t n, bool json,
    struct buf *out)
{
	struct json j;
	size_t i;

	if (json) {
		json_init(&j, out);
		json_arr_begin(&j);
		if (n == 0) {
			json_obj_begin(&j);
			json_kv_str(&j, "result", "none");
			json_kv_str(&j, "domain", "");
			json_kv_str(&j, "selector", "");
			json_kv_str(&j, "algorithm", "");
			json_kv_str(&j, "reason", "no DKIM-Signature field");
			json_end(&j);
		}
		for (i = 0; i < n; i++) {
			json_obj_begin(&j);
			json_kv_str(&j, "result", dkim_result_name(r[i].result));
			json_kv_str(&j, "domain", r[i].domain);
			json_kv_str(&j, "selector", r[i].selector);
			json_kv_str(&j, "algorithm", r[i].algorithm);
			json_key(&j, "reason");
			if (r[i].reason != NULL)
				json_str(&j, r[i].reason);
			else
				json_null(&j);
			json_key(&j, "identity");
			if (r[i].identity != NULL)
				json_str(&j, r[i].identity);
			else
				json_null(&j);
			json_kv_int(&j, "key_bits", r[i].key_bits);
			json_kv_bool(&j, "testing", r[i].testing);
			json_kv_bool(&j, "partial_body", r[i].partial_body);
			json_kv_str(&j, "b", r[i].b_prefix ? r[i].b_prefix :
			    "");
			json_end(&j);
		}
		json_end(&j);
		return;
	}
	if (n == 0)
		buf_append_str(out, "none\n");
	for (i = 0; i < n; i++) {
		buf_printf(out, "%s d=%s s=%s a=%s",
		    dkim_result_name(r[i].result), r[i].domain[0] ?
		    r[i].domain : "-", r[i].selector[0] ? r[i].selector : "-",
		    r[i].algorithm[0] ? r[i].algorithm : "-");
		if (r[i].reason != NULL)
			buf_printf(out, " (%s)", r[i].reason);
		buf_append_char(out, '\n');
	}
}

static int
dkim_verify_cmd(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "zone", 1, NULL, OPT_ZONE },
		{ "json", 0, NULL, CLI_OPT_JSON },
		{ "now", 1, NULL, OPT_NOW },
		CLI_LONGOPTS_DNS,
		{ NULL, 0, NULL, 0 },
	};
	struct verify_args a = { NULL, false, 0 };
	struct dkim_verify_options vo;
	struct cli_dns dns = { NULL, 0 };
	struct buf in = BUF_INIT, msg = BUF_INIT, out = BUF_INIT;
	struct event_base *base = NULL;
	struct dns_resolver *r = NULL;
	struct dkim_verify *v = NULL;
	const struct dkim_sig_result *res;
	bool done = false;
	size_t n;
	int rc;

	if ((rc = parse_opts("dkim", argc, argv, longopts, verify_take, &a,
	    &dns)) != 0)
		return rc;
	if (a.zone != NULL && dns.nameserver != NULL)
		return cli_usage("dkim", "--zone and --nameserver exclude "
		    "each other");
	if (read_stream(stdin, &in) != 0) {
		fprintf(stderr, "netjes dkim: cannot read the message: %s\n",
		    strerror(errno));
		buf_free(&in);
		return CLI_EXIT_FAIL;
	}
	normalize_crlf(&in, &msg);
	buf_free(&in);
	rc = CLI_EXIT_FAIL;
	memset(&vo, 0, sizeof(vo));
	vo.now = (time_t)a.now;
	vo.clock_skew = -1;
	v = dkim_verify_new(&vo);
	dkim_verify_message(v, msg.data ? msg.data : "", msg.len);
	if (!dkim_verify_keys_done(v)) {
		if ((base = event_base_new()) == NULL) {
			fprintf(stderr, "netjes dkim: cannot create an event "
			    "loop\n");
			goto out;
		}
		r = a.zone != NULL ? zone_resolver(a.zone, base) :
		    cli_dns_resolver(&dns, NULL, base);
		if (r == NULL)
			goto out;
		if (dkim_verify_lookup(v, r, verify_keys_done, &done) > 0)
			while (!done &&
			    event_base_loop(base, EVLOOP_ONCE) == 0)
				;
		if (!dkim_verify_keys_done(v)) {
			fprintf(stderr, "netjes dkim: the key lookups did not "
			    "finish\n");
			goto out;
		}
	}
	n = dkim_verify_finish(v, &res);
	verify_print(res, n, a.json, &out);
	cli_print(&out);
	rc = CLI_EXIT_OK;
out:
	dkim_verify_free(v);
	if (r != NULL)
		dns_resolver_free(r);
	if (base != NULL)
		event_base_free(base);
	buf_free(&msg);
	buf_free(&out);
	return rc;
}

int
cmd_dkim(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage("dkim", "needs keygen, sign or verify");
	if (strcmp(argv[1], "keygen") == 0)
		return dkim_keygen_cmd(argc - 1, argv + 1);
	if (strcmp(argv[1], "sign") == 0)
		return dkim_sign_cmd(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		return dkim_verify_cmd(argc - 1, argv + 1);
	return cli_usage("dkim", "unknown subcommand '%s'", argv[1]);
}
