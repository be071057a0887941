/*
 * cli_msg — reading, writing and verifying a message on the command
 * line. See cli_msg.h.
 */
#include "cli/cli_msg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "auth/common/dkim_keygen.h"

int
cli_msg_read(const char *cmd, struct buf *raw, struct buf *msg,
    bool *unix_lf)
{
	struct buf in = BUF_INIT;
	bool lf;

	if (cli_read_stream(stdin, &in) != 0) {
		fprintf(stderr, "netjes %s: cannot read the message: %s\n",
		    cmd, strerror(errno));
		buf_free(&in);
		return -1;
	}
	lf = cli_msg_crlf(&in, msg);
	if (msg->data == NULL)
		buf_append(msg, "", 0);
	if (unix_lf != NULL)
		*unix_lf = lf;
	if (raw != NULL)
		*raw = in;
	else
		buf_free(&in);
	return 0;
}

bool
cli_msg_crlf(const struct buf *in, struct buf *out)
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

int
cli_msg_write(const struct buf *fields, const struct buf *raw,
    const struct buf *msg, bool unix_lf)
{
	size_t i;

	if (unix_lf) {
		for (i = 0; i < fields->len; i++)
			if (!(fields->data[i] == '\r' && i + 1 < fields->len &&
			    fields->data[i + 1] == '\n'))
				fputc(fields->data[i], stdout);
		fwrite(raw->data ? raw->data : "", 1, raw->len, stdout);
	} else {
		fwrite(fields->data ? fields->data : "", 1, fields->len,
		    stdout);
		fwrite(msg->data ? msg->data : "", 1, msg->len, stdout);
	}
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

EVP_PKEY *
cli_msg_key(const char *cmd, const char *path)
{
	EVP_PKEY *pk;
	char why[256];

	if ((pk = dkim_keygen_load(path, why, sizeof(why))) == NULL)
		fprintf(stderr, "netjes %s: %s\n", cmd, why);
	return pk;
}

int
cli_msg_sign_alg(const char *cmd, const char *arg, enum dkim_alg *alg)
{
	*alg = dkim_alg_parse(arg, strlen(arg));
	if (*alg != DKIM_ALG_RSA_SHA256 && *alg != DKIM_ALG_ED25519_SHA256)
		return cli_usage(cmd, "--algorithm is rsa-sha256 or "
		    "ed25519-sha256, not '%s'", arg);
	return 0;
}

static void
dkim_keys_done(struct dkim_verify *v, void *arg)
{
	(void)v;
	*(bool *)arg = true;
}

struct dkim_verify *
cli_msg_dkim(const struct buf *msg, time_t now, struct cli_resolver *res)
{
	struct dkim_verify_options vo;
	struct dkim_verify *v;
	bool done = false;

	memset(&vo, 0, sizeof(vo));
	vo.now = now;
	vo.clock_skew = -1;
	v = dkim_verify_new(&vo);
	dkim_verify_message(v, msg->data ? msg->data : "", msg->len);
	if (dkim_verify_keys_done(v))
		return v;
	if (cli_resolver_get(res) == NULL) {
		dkim_verify_free(v);
		return NULL;
	}
	if (dkim_verify_lookup(v, res->r, dkim_keys_done, &done) > 0)
		cli_resolver_wait(res, &done);
	return v;
}
