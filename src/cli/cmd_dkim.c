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
 * Both sign and verify read every bare LF as CRLF, and sign writes its
 * output in the input's style (cli_msg.h).
 *
 * verify prints one line per signature, "RESULT d=D s=S a=A", with the
 * reason in parentheses for anything but a plain pass, or "none" for an
 * unsigned message; exit 0 whenever results were computed. --now sets
 * the verification clock (x= expiry, t= in the future), so a message can
 * be judged as of its arrival and a result reproduced later.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/common/dkim_keygen.h"
#include "auth/dkim/dkim_sign.h"
#include "auth/dkim/dkim_verify.h"
#include "cli/cli.h"
#include "cli/cli_msg.h"
#include "core/json.h"

enum {
	OPT_DOMAIN = 0x2001, OPT_SELECTOR, OPT_ALGORITHM, OPT_BITS, OPT_OUT,
	OPT_KEY, OPT_CANON, OPT_HEADERS, OPT_IDENTITY, OPT_EXPIRE, OPT_ZONE,
	OPT_NOW,
};

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

	if ((rc = cli_parse_options("dkim", argc, argv, longopts, keygen_take, &a,
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
	int rc;

	memset(&a, 0, sizeof(a));
	dkim_sign_options_init(&a.o);
	if ((rc = cli_parse_options("dkim", argc, argv, longopts, sign_take, &a,
	    NULL)) != 0)
		return rc;
	if (a.o.domain == NULL || a.o.selector == NULL || a.key == NULL)
		return cli_usage("dkim", "sign needs --domain, --selector and "
		    "--key");
	if (a.algorithm != NULL &&
	    (rc = cli_msg_sign_alg("dkim", a.algorithm, &a.o.alg)) != 0)
		return rc;
	if (a.canon != NULL && dkim_canon_parse(a.canon, strlen(a.canon),
	    &a.o.header_canon, &a.o.body_canon) != 0)
		return cli_usage("dkim", "--canon is HEADER/BODY with simple "
		    "or relaxed, not '%s'", a.canon);
	if ((pk = cli_msg_key("dkim", a.key)) == NULL)
		return CLI_EXIT_FAIL;
	a.o.key = pk;
	if ((s = dkim_sign_new(&a.o, why, sizeof(why))) == NULL) {
		fprintf(stderr, "netjes dkim: %s\n", why);
		EVP_PKEY_free(pk);
		return CLI_EXIT_FAIL;
	}
	rc = CLI_EXIT_FAIL;
	if (cli_msg_read("dkim", &in, &msg, &unix_lf) != 0)
		goto out;
	dkim_sign_message(s, msg.data, msg.len);
	if (dkim_sign_finish(s, &sig, why, sizeof(why)) != 0) {
		fprintf(stderr, "netjes dkim: %s\n", why);
		goto out;
	}
	rc = cli_msg_write(&sig, &in, &msg, unix_lf);
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
	struct cli_dns dns = { NULL, 0 };
	struct cli_resolver res;
	struct buf msg = BUF_INIT, out = BUF_INIT;
	struct dkim_verify *v;
	const struct dkim_sig_result *r;
	size_t n;
	int rc;

	if ((rc = cli_parse_options("dkim", argc, argv, longopts, verify_take,
	    &a, &dns)) != 0)
		return rc;
	if ((rc = cli_resolver_init(&res, "dkim", a.zone, &dns)) != 0)
		return rc;
	if (cli_msg_read("dkim", NULL, &msg, NULL) != 0) {
		buf_free(&msg);
		return CLI_EXIT_FAIL;
	}
	rc = CLI_EXIT_FAIL;
	if ((v = cli_msg_dkim(&msg, (time_t)a.now, &res)) == NULL)
		goto out;
	if (!dkim_verify_keys_done(v))
		fprintf(stderr, "netjes dkim: the key lookups did not "
		    "finish\n");
	else {
		n = dkim_verify_finish(v, &r);
		verify_print(r, n, a.json, &out);
		cli_print(&out);
		rc = CLI_EXIT_OK;
	}
	dkim_verify_free(v);
out:
	cli_resolver_free(&res);
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
