/*
 * cmd_user — `netjes user add|passwd|del|list|verify`: manage the users
 * file (store/passwd.h), the Dovecot-compatible passwd-file SMTP AUTH
 * reads.
 *
 * The file is --users-file PATH, else users_file from the config (-c),
 * else DATA_DIR/users. Passwords never come from argv: from the terminal
 * (no echo, asked twice for add and passwd) when stdin is one, otherwise
 * the first line of stdin. Addresses are checked as RFC 5321 mailboxes
 * and stored with the domain in lowercase A-label form.
 *
 * Exit 0 ok; 1 failure (user exists, not found, passwords differ, wrong
 * password, I/O); 2 usage (a bad address included).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/addr.h"
#include "core/fsutil.h"
#include "core/json.h"
#include "store/passwd.h"

struct user_opts {
	const char	*config;
	const char	*users_file;
	bool		 json;
	const char	*address;	/* NULL for list */
};

#define USER_OPT_USERS_FILE	0x1101

/* Options after the action; argv[0] is the action. 0 ok, -1 after
 * --help, else a usage exit status. */
static int
user_parse_opts(int argc, char **argv, bool want_address, bool allow_json,
    struct user_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "users-file", required_argument, NULL, USER_OPT_USERS_FILE },
		{ "json", no_argument, NULL, CLI_OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1)
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case USER_OPT_USERS_FILE:
			o->users_file = optarg;
			break;
		case CLI_OPT_JSON:
			if (!allow_json)
				return cli_usage("user", "%s takes no --json",
				    argv[0]);
			o->json = true;
			break;
		default:
			return cli_getopt_other("user", ch, argv);
		}
	if (want_address) {
		if (optind >= argc)
			return cli_usage("user", "%s needs an ADDRESS",
			    argv[0]);
		o->address = argv[optind++];
	}
	if (optind < argc)
		return cli_usage("user", "unexpected argument '%s'",
		    argv[optind]);
	return 0;
}

/* The users file to work on, into path, and the account that must be
 * able to read it (owner, CONFIG_ACCOUNT_MAX). 0, or -1 (printed). */
static int
user_file_path(const struct user_opts *o, char *path, size_t n, char *owner)
{
	struct config cfg;
	int rc = 0;

	snprintf(owner, CONFIG_ACCOUNT_MAX, "%s", CONFIG_DEFAULT_USER);
	if (o->users_file != NULL) {
		if ((size_t)snprintf(path, n, "%s", o->users_file) >= n)
			rc = -1;
		return rc;
	}
	if (cli_config_load(o->config, &cfg) != 0) {
		config_free(&cfg);
		return -1;
	}
	snprintf(owner, CONFIG_ACCOUNT_MAX, "%s", cfg.server_user);
	if (cfg.users_file[0] != '\0')
		rc = (size_t)snprintf(path, n, "%s", cfg.users_file) >= n;
	else
		rc = (size_t)snprintf(path, n, "%s/users", cfg.data_dir) >= n;
	config_free(&cfg);
	if (rc != 0)
		fprintf(stderr, "netjes user: users file path too long\n");
	return rc != 0 ? -1 : 0;
}

/*
 * Run as root, an edit leaves a root-owned file the server (which drops
 * to [server] user, privsep.h) could not read: give it to that account,
 * readable by it alone. No account yet: root keeps it, and the server
 * hands it over at its first start.
 */
static void
user_file_give(const char *path, const char *owner)
{
	struct passwd *pw;

	if (geteuid() != 0 || (pw = getpwnam(owner)) == NULL ||
	    pw->pw_uid == 0)
		return;
	if (chown(path, pw->pw_uid, pw->pw_gid) != 0 || chmod(path, 0600) != 0)
		fprintf(stderr, "netjes user: cannot give %s to %s: %s\n",
		    path, owner, strerror(errno));
}

/* The address as stored: checked, domain lowercase A-labels. */
static int
user_address(const char *s, char *out, size_t n)
{
	struct mailaddr a;
	const char *why = NULL;

	if (addr_parse_addrspec(s, strlen(s), ADDR_ALLOW_UTF8, &a,
	    &why) != 0) {
		fprintf(stderr, "netjes user: bad address '%s': %s\n", s,
		    why != NULL ? why : "invalid");
		return -1;
	}
	if (addr_format(&a, out, n) == NULL || strchr(out, ':') != NULL) {
		fprintf(stderr, "netjes user: address '%s' cannot be a user "
		    "name\n", s);
		return -1;
	}
	return 0;
}

/* One line from fd into pw (size n) without its line end. 0, or -1 when
 * the line is too long, empty input or a read error. */
static int
read_line_fd(int fd, char *pw, size_t n)
{
	size_t len = 0;
	char c;
	ssize_t r;

	for (;;) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (c == '\n')
			break;
		if (len + 1 >= n) {
			explicit_bzero(pw, n);
			return -1;
		}
		pw[len++] = c;
	}
	if (r < 0)
		return -1;
	if (len > 0 && pw[len - 1] == '\r')
		len--;
	pw[len] = '\0';
	return 0;
}

/* Prompt on the terminal with echo off. */
static int
read_tty(const char *prompt, char *pw, size_t n)
{
	struct termios old, quiet;
	int fd, rc;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0) {
		fprintf(stderr, "netjes user: cannot open the terminal: %s\n",
		    strerror(errno));
		return -1;
	}
	if (tcgetattr(fd, &old) != 0) {
		close(fd);
		return -1;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	/* echo off before the prompt, so nothing typed after it shows */
	if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		close(fd);
		return -1;
	}
	if (fsutil_write_all(fd, prompt, strlen(prompt)) < 0) {
		tcsetattr(fd, TCSANOW, &old);
		close(fd);
		return -1;
	}
	rc = read_line_fd(fd, pw, n);
	tcsetattr(fd, TCSANOW, &old);
	if (fsutil_write_all(fd, "\n", 1) < 0)
		rc = -1;
	close(fd);
	return rc;
}

/* The password: from the terminal (twice when confirm) or from stdin. */
static int
user_read_password(bool confirm, char *pw, size_t n)
{
	char again[PASSWD_PASS_MAX + 2];
	int rc = 0;

	if (!isatty(STDIN_FILENO)) {
		if (read_line_fd(STDIN_FILENO, pw, n) != 0) {
			fprintf(stderr, "netjes user: cannot read the password "
			    "from stdin (longer than %d octets?)\n",
			    PASSWD_PASS_MAX);
			return -1;
		}
	} else {
		if (read_tty("Password: ", pw, n) != 0)
			return -1;
		if (confirm) {
			if (read_tty("Retype password: ", again,
			    sizeof(again)) != 0 || strcmp(pw, again) != 0) {
				fprintf(stderr, "netjes user: the passwords "
				    "differ\n");
				rc = -1;
			}
			explicit_bzero(again, sizeof(again));
		}
	}
	if (rc == 0 && pw[0] == '\0') {
		fprintf(stderr, "netjes user: empty password\n");
		rc = -1;
	}
	if (rc == 0 && strlen(pw) > PASSWD_PASS_MAX) {
		fprintf(stderr, "netjes user: password longer than %d "
		    "octets\n", PASSWD_PASS_MAX);
		rc = -1;
	}
	if (rc != 0)
		explicit_bzero(pw, n);
	return rc;
}

/* add and passwd: read, hash, write. */
static int
user_set(int argc, char **argv, bool add)
{
	struct user_opts o = { 0 };
	char path[PATH_MAX], user[ADDR_STRLEN], hash[PASSWD_HASH_MAX + 1];
	char pw[PASSWD_PASS_MAX + 2], err[PATH_MAX + 128];
	char owner[CONFIG_ACCOUNT_MAX];
	enum passwd_edit r;
	int rc;

	if ((rc = user_parse_opts(argc, argv, true, false, &o)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (user_address(o.address, user, sizeof(user)) != 0)
		return CLI_EXIT_USAGE;
	if (user_file_path(&o, path, sizeof(path), owner) != 0)
		return CLI_EXIT_FAIL;
	if (user_read_password(true, pw, sizeof(pw)) != 0)
		return CLI_EXIT_FAIL;
	rc = passwd_hash_new(pw, hash, sizeof(hash));
	explicit_bzero(pw, sizeof(pw));
	if (rc != 0) {
		fprintf(stderr, "netjes user: cannot hash the password\n");
		return CLI_EXIT_FAIL;
	}
	if (add) {
		/* the data directory of a fresh install may not exist yet;
		 * one level only (not mkdir -p), so a mistyped path is an
		 * error and not a new tree */
		char dir[PATH_MAX];
		char *slash;

		snprintf(dir, sizeof(dir), "%s", path);
		if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
			*slash = '\0';
			if (mkdir(dir, 0750) != 0 && errno != EEXIST)
				fprintf(stderr, "netjes user: cannot create "
				    "%s: %s\n", dir, strerror(errno));
		}
		r = passwd_file_add(path, user, hash, err, sizeof(err));
	} else
		r = passwd_file_set(path, user, hash, err, sizeof(err));
	switch (r) {
	case PASSWD_EDIT_OK:
		user_file_give(path, owner);
		printf("%s: %s\n", user, add ? "added" : "password changed");
		return CLI_EXIT_OK;
	case PASSWD_EDIT_EXISTS:
		fprintf(stderr, "netjes user: %s already exists in %s\n",
		    user, path);
		return CLI_EXIT_FAIL;
	case PASSWD_EDIT_NOT_FOUND:
		fprintf(stderr, "netjes user: no user %s in %s\n", user, path);
		return CLI_EXIT_FAIL;
	default:
		fprintf(stderr, "netjes user: %s\n", err);
		return CLI_EXIT_FAIL;
	}
}

static int
user_del(int argc, char **argv)
{
	struct user_opts o = { 0 };
	char path[PATH_MAX], user[ADDR_STRLEN], err[PATH_MAX + 128];
	char owner[CONFIG_ACCOUNT_MAX];
	int rc;

	if ((rc = user_parse_opts(argc, argv, true, false, &o)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (user_address(o.address, user, sizeof(user)) != 0)
		return CLI_EXIT_USAGE;
	if (user_file_path(&o, path, sizeof(path), owner) != 0)
		return CLI_EXIT_FAIL;
	switch (passwd_file_del(path, user, err, sizeof(err))) {
	case PASSWD_EDIT_OK:
		user_file_give(path, owner);
		printf("%s: deleted\n", user);
		return CLI_EXIT_OK;
	case PASSWD_EDIT_NOT_FOUND:
		fprintf(stderr, "netjes user: no user %s in %s\n", user, path);
		return CLI_EXIT_FAIL;
	default:
		fprintf(stderr, "netjes user: %s\n", err);
		return CLI_EXIT_FAIL;
	}
}

static void
user_list_json(const char *path, const struct passwd_list *l)
{
	struct buf b = BUF_INIT;
	struct json j;
	size_t i;

	json_init(&j, &b);
	json_obj_begin(&j);
	json_kv_str(&j, "file", path);
	json_key(&j, "users");
	json_arr_begin(&j);
	for (i = 0; i < l->nentries; i++)
		json_str(&j, l->entries[i].user);
	json_end(&j);
	json_key(&j, "errors");
	json_arr_begin(&j);
	for (i = 0; i < l->nerrors; i++) {
		json_obj_begin(&j);
		json_kv_int(&j, "line", (int64_t)l->errors[i].line);
		json_kv_str(&j, "reason", l->errors[i].reason);
		json_end(&j);
	}
	json_end(&j);
	json_end(&j);
	cli_print(&b);
	buf_free(&b);
}

static int
user_list(int argc, char **argv)
{
	struct user_opts o = { 0 };
	char path[PATH_MAX], owner[CONFIG_ACCOUNT_MAX];
	struct passwd_db *db;
	const struct passwd_list *l;
	struct stat st;
	size_t i;
	int rc;

	if ((rc = user_parse_opts(argc, argv, false, true, &o)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (user_file_path(&o, path, sizeof(path), owner) != 0)
		return CLI_EXIT_FAIL;
	/* the server reads a missing file as "no users yet", but someone
	 * who lists them has most likely named the wrong file */
	if (stat(path, &st) != 0) {
		fprintf(stderr, "netjes user: cannot read the users file %s: "
		    "%s%s\n", path, strerror(errno), errno == ENOENT ?
		    " ('netjes user add' creates it)" : "");
		return CLI_EXIT_FAIL;
	}
	if ((db = passwd_db_new(path)) == NULL)
		return CLI_EXIT_FAIL;
	if (passwd_db_refresh(db) != 0 || (l = passwd_db_list(db)) == NULL) {
		fprintf(stderr, "netjes user: cannot read %s: %s\n", path,
		    strerror(errno));
		passwd_db_free(db);
		return CLI_EXIT_FAIL;
	}
	if (o.json)
		user_list_json(path, l);
	else {
		for (i = 0; i < l->nentries; i++)
			printf("%s\n", l->entries[i].user);
		for (i = 0; i < l->nerrors; i++)
			fprintf(stderr, "%s:%zu: %s\n", path,
			    l->errors[i].line, l->errors[i].reason);
	}
	passwd_db_free(db);
	return CLI_EXIT_OK;
}

static int
user_verify(int argc, char **argv)
{
	struct user_opts o = { 0 };
	char path[PATH_MAX], user[ADDR_STRLEN], pw[PASSWD_PASS_MAX + 2];
	char owner[CONFIG_ACCOUNT_MAX];
	struct passwd_db *db;
	enum passwd_result r;
	int rc;

	if ((rc = user_parse_opts(argc, argv, true, false, &o)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (user_address(o.address, user, sizeof(user)) != 0)
		return CLI_EXIT_USAGE;
	if (user_file_path(&o, path, sizeof(path), owner) != 0)
		return CLI_EXIT_FAIL;
	if (user_read_password(false, pw, sizeof(pw)) != 0)
		return CLI_EXIT_FAIL;
	if ((db = passwd_db_new(path)) == NULL) {
		explicit_bzero(pw, sizeof(pw));
		return CLI_EXIT_FAIL;
	}
	r = passwd_verify(db, user, pw);
	explicit_bzero(pw, sizeof(pw));
	passwd_db_free(db);
	switch (r) {
	case PASSWD_OK:
		printf("%s: ok\n", user);
		return CLI_EXIT_OK;
	case PASSWD_BAD:
		printf("%s: wrong password\n", user);
		return CLI_EXIT_FAIL;
	case PASSWD_UNKNOWN_USER:
		printf("%s: no such user\n", user);
		return CLI_EXIT_FAIL;
	default:
		fprintf(stderr, "netjes user: cannot read %s\n", path);
		return CLI_EXIT_FAIL;
	}
}

int
cmd_user(int argc, char **argv)
{
	/* the CLI reports bad lines itself; keep the library's log quiet */
	log_set_level(LOG_LEVEL_ERROR);
	if (argc < 2)
		return cli_usage("user", "needs an action: add, passwd, del, "
		    "list or verify");
	if (strcmp(argv[1], "add") == 0)
		return user_set(argc - 1, argv + 1, true);
	if (strcmp(argv[1], "passwd") == 0)
		return user_set(argc - 1, argv + 1, false);
	if (strcmp(argv[1], "del") == 0)
		return user_del(argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return user_list(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		return user_verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(cli_find("user")->usage, stdout);
		return CLI_EXIT_OK;
	}
	return cli_usage("user", "unknown action '%s'", argv[1]);
}
