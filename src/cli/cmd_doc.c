/*
 * cmd_doc — `netjes doc man|man-conf`: the manual pages as roff.
 *
 * netjes(8) is made from the command table (each command's summary and
 * help text), netjes.conf(5) from the configuration table (each key's
 * section, syntax, default and description, config_key_describe()), so
 * the pages cannot drift from what the binary does. The build runs this
 * to make the installed pages; the command is hidden from `netjes help`.
 * A key without a description is an error (exit 1): the build fails
 * rather than ship a page that leaves a key out.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "netjes_version.h"

/* Text as roff: backslashes and hyphens escaped, and a line that would
 * start with a control character made literal. */
static void
doc_roff_text(struct buf *b, const char *s)
{
	bool bol = true;

	for (; *s != '\0'; s++) {
		if (bol && (*s == '.' || *s == '\''))
			buf_append_str(b, "\\&");
		bol = *s == '\n';
		if (*s == '\\')
			buf_append_str(b, "\\e");
		else if (*s == '-')
			buf_append_str(b, "\\-");
		else
			buf_append_char(b, *s);
	}
}

static void
doc_header(struct buf *b, const char *title, int section, const char *name,
    const char *what)
{
	buf_printf(b, ".TH %s %d \"\" \"netjes %s\" \"netjes\"\n.SH NAME\n",
	    title, section, NETJES_VERSION);
	doc_roff_text(b, name);
	buf_append_str(b, " \\- ");
	doc_roff_text(b, what);
	buf_append_char(b, '\n');
}

static int
doc_man(struct buf *b)
{
	const struct cli_cmd *c;

	doc_header(b, "NETJES", 8, "netjes",
	    "mail server: SMTP in, authentication checks, Maildir delivery");
	buf_append_str(b, ".SH SYNOPSIS\n.B netjes\n.I COMMAND\n"
	    ".RI [ ARGS ]\n"
	    ".SH DESCRIPTION\n"
	    "One binary: the server (\\fBnetjes serve\\fR) and the tools "
	    "an operator uses next to it. Results go to standard output, "
	    "diagnostics to standard error; every command that prints a "
	    "result accepts \\fB\\-\\-json\\fR.\n"
	    ".SH COMMANDS\n");
	for (c = cli_commands; c->name != NULL; c++) {
		if (c->summary == NULL)
			continue;
		buf_printf(b, ".SS %s\n", c->name);
		doc_roff_text(b, c->summary);
		buf_append_str(b, ".\n.PP\n.nf\n");
		doc_roff_text(b, c->usage);
		buf_append_str(b, ".fi\n");
	}
	buf_append_str(b, ".SH EXIT STATUS\n"
	    "0 on success, 1 on a failure (the reason is on standard error), "
	    "2 on a usage error.\n"
	    ".SH ENVIRONMENT\n.TP\n.B NETJES_DATA\n"
	    "The data directory when the configuration names none.\n"
	    ".SH FILES\n.TP\n.I /etc/netjes/netjes.conf\n"
	    "The configuration, as the systemd unit passes it with "
	    "\\fB\\-c\\fR; see \\fBnetjes.conf\\fR(5).\n"
	    ".TP\n.I DATA_DIR/users\n"
	    "The users, a Dovecot passwd\\-file (\\fBnetjes user\\fR).\n"
	    ".SH SEE ALSO\n\\fBnetjes.conf\\fR(5), \\fBdovecot\\fR(1), "
	    "\\fBsystemctl\\fR(1)\n");
	return CLI_EXIT_OK;
}

static void
doc_conf_section(struct buf *b, const struct config_key_info *k)
{
	if (k->named)
		buf_printf(b, ".SS [%s \"NAME\"]\n", k->section);
	else
		buf_printf(b, ".SS [%s]\n", k->section);
	if (k->section_doc != NULL) {
		doc_roff_text(b, k->section_doc);
		buf_append_char(b, '\n');
	}
}

static void
doc_conf_key(struct buf *b, const struct config_key_info *k, const char *def)
{
	buf_append_str(b, ".TP\n\\fB");
	doc_roff_text(b, k->key);
	buf_append_str(b, "\\fR = \\fI");
	doc_roff_text(b, k->syntax);
	buf_append_str(b, "\\fR\n");
	doc_roff_text(b, k->desc);
	buf_append_str(b, "\nDefault: ");
	if (def[0] == '\0')
		buf_append_str(b, "empty");
	else
		doc_roff_text(b, def);
	buf_append_str(b, ".\n");
}

static int
doc_man_conf(struct buf *b)
{
	struct config_key_info k;
	struct buf def = BUF_INIT;
	const char *section = "";
	size_t n;
	int rc;

	doc_header(b, "NETJES.CONF", 5, "netjes.conf",
	    "configuration file of netjes");
	buf_append_str(b, ".SH DESCRIPTION\n"
	    "An INI file: \\fB[section]\\fR and \\fB[section \"name\"]\\fR "
	    "headers, then \\fIkey\\fR = \\fIvalue\\fR lines. Keys may be "
	    "indented. A line starting with # or ; is a comment, and so is "
	    "the rest of a line after whitespace and ;. Values are not "
	    "quoted and do not continue on the next line; a key line holds "
	    "at most 199 bytes.\n.PP\n"
	    "Every mistake is an error with its line: an unknown section or "
	    "key, a bad value, a key given twice. A file with errors is not "
	    "used at all; \\fBnetjes config check \\-c\\fR \\fIFILE\\fR "
	    "lists them, and \\fBnetjes config show\\fR prints the "
	    "configuration netjes would run with.\n.PP\n"
	    "SIGHUP makes \\fBnetjes serve\\fR read the file again; "
	    "listeners, data_dir, mail_root, hostname, [dns] and log_target "
	    "need a restart.\n"
	    ".SH SECTIONS AND KEYS\n");
	for (n = 0; (rc = config_key_describe(n, &k, &def)) >= 0; n++) {
		if (rc != 0) {
			fprintf(stderr, "netjes doc: key '%s' of [%s] has no "
			    "description in the config table\n", k.key,
			    k.section);
			buf_free(&def);
			return CLI_EXIT_FAIL;
		}
		if (strcmp(section, k.section) != 0)
			doc_conf_section(b, &k);
		section = k.section;
		doc_conf_key(b, &k, buf_cstr(&def));
		def.len = 0;
	}
	buf_free(&def);
	buf_append_str(b, ".SH FILES\n.I /etc/netjes/netjes.conf\n"
	    ".PP\nAn annotated example with every key is installed as "
	    "\\fInetjes.conf.example\\fR with the documentation.\n"
	    ".SH SEE ALSO\n\\fBnetjes\\fR(8)\n");
	return CLI_EXIT_OK;
}

int
cmd_doc(int argc, char **argv)
{
	struct buf b = BUF_INIT;
	int rc;

	if (argc != 2)
		return cli_usage("doc", "want man or man-conf");
	if (strcmp(argv[1], "man") == 0)
		rc = doc_man(&b);
	else if (strcmp(argv[1], "man-conf") == 0)
		rc = doc_man_conf(&b);
	else
		return cli_usage("doc", "unknown page '%s' (man or man-conf)",
		    argv[1]);
	if (rc == CLI_EXIT_OK)
		fwrite(buf_cstr(&b), 1, b.len, stdout);
	buf_free(&b);
	return rc;
}
