/*
 * privsep — the root parent and the unprivileged child. See privsep.h.
 */
#include "priv/privsep.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "priv/keyholder.h"

/* Sanitizer runtimes read /proc/self at exit: a process that is not
 * dumpable cannot, and would report a failure that is not one. */
#if defined(__SANITIZE_ADDRESS__)
#define PRIVSEP_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PRIVSEP_SANITIZED 1
#endif
#endif
#ifndef PRIVSEP_SANITIZED
#define PRIVSEP_SANITIZED 0
#endif

/* ---- the account ---------------------------------------------------- */

int
privsep_account(const struct config *cfg, struct privsep_account *a,
    char *err, size_t errlen)
{
	struct passwd *pw;
	struct group *gr;
	const char *user = cfg->server_user;

	memset(a, 0, sizeof(*a));
	if (geteuid() != 0) {
		a->uid = geteuid();
		a->gid = getegid();
		pw = getpwuid(a->uid);
		snprintf(a->name, sizeof(a->name), "%s",
		    pw != NULL ? pw->pw_name : "?");
		return 0;
	}
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "started as root, and the account '%s' "
		    "([server] user) does not exist; create it with: "
		    "useradd --system --home-dir /nonexistent "
		    "--shell /usr/sbin/nologin %s", user, user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "[server] user '%s' is root: name an "
		    "unprivileged account", user);
		return -1;
	}
	a->drop = true;
	a->uid = pw->pw_uid;
	a->gid = pw->pw_gid;
	snprintf(a->name, sizeof(a->name), "%s", pw->pw_name);
	if (cfg->server_group[0] != '\0') {
		if ((gr = getgrnam(cfg->server_group)) == NULL) {
			snprintf(err, errlen, "[server] group '%s' does not "
			    "exist", cfg->server_group);
			return -1;
		}
		if (gr->gr_gid == 0) {
			snprintf(err, errlen, "[server] group '%s' is root's "
			    "group: name an unprivileged one",
			    cfg->server_group);
			return -1;
		}
		a->gid = gr->gr_gid;
	}
	return 0;
}

/* ---- directories ---------------------------------------------------- */

static uid_t privsep_walk_uid;
static gid_t privsep_walk_gid;

static int
privsep_walk_chown(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	/* lchown: a symlink in a Maildir is never followed out of it */
	return lchown(path, privsep_walk_uid, privsep_walk_gid) == -1 ? -1 :
	    0;
}

/*
 * dir (made when missing, mode 0700) owned by the account. A directory
 * root owned is handed over with everything below it: the first start
 * after an upgrade from a version that ran as root.
 */
static int
privsep_own_dir(const char *dir, const struct privsep_account *a,
    char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", dir);
		return -1;
	}
	if (st.st_uid == a->uid && st.st_gid == a->gid)
		return 0;
	privsep_walk_uid = a->uid;
	privsep_walk_gid = a->gid;
	if (nftw(dir, privsep_walk_chown, 16, FTW_PHYS | FTW_MOUNT) == -1) {
		snprintf(err, errlen, "cannot hand %s to %s: %s", dir,
		    a->name, strerror(errno));
		return -1;
	}
	log_info("privsep.handover", "dir=%s user=%s", dir, a->name);
	return 0;
}

/* The users file, when there is one, readable by the account only. */
static int
privsep_own_file(const char *path, const struct privsep_account *a,
    char *err, size_t errlen)
{
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot open %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fchown(fd, a->uid, a->gid) == -1 || fchmod(fd, 0600) == -1) {
		snprintf(err, errlen, "cannot hand %s to %s: %s", path,
		    a->name, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
privsep_prepare(const struct config *cfg, const char *mail_root,
    const struct privsep_account *a, char *err, size_t errlen)
{
	char path[PATH_MAX];

	if (!a->drop)
		return 0;
	if (chmod(cfg->data_dir, 0711) == -1) {
		snprintf(err, errlen, "cannot set the mode of %s: %s",
		    cfg->data_dir, strerror(errno));
		return -1;
	}
	if (snprintf(path, sizeof(path), "%s/spool", cfg->data_dir) >=
	    (int)sizeof(path)) {
		snprintf(err, errlen, "data directory path too long");
		return -1;
	}
	if (privsep_own_dir(path, a, err, errlen) == -1 ||
	    privsep_own_dir(mail_root, a, err, errlen) == -1)
		return -1;
	/* the LMDB state store (store/kv_lmdb.c) */
	if (snprintf(path, sizeof(path), "%s/state", cfg->data_dir) >=
	    (int)sizeof(path)) {
		snprintf(err, errlen, "data directory path too long");
		return -1;
	}
	if (privsep_own_dir(path, a, err, errlen) == -1)
		return -1;
	if (cfg->users_file[0] != '\0')
		snprintf(path, sizeof(path), "%s", cfg->users_file);
	else if (snprintf(path, sizeof(path), "%s/users", cfg->data_dir) >=
	    (int)sizeof(path)) {
		snprintf(err, errlen, "data directory path too long");
		return -1;
	}
	return privsep_own_file(path, a, err, errlen);
}

/* ---- the channel ---------------------------------------------------- */

/*
 * fsutil_write_all() with send(MSG_NOSIGNAL): a channel whose other end
 * died gives EPIPE here whether or not the process ignores SIGPIPE (the
 * server does, the unit tests and other callers need not).
 */
static int
privsep_write_all(int fd, const void *p, size_t n)
{
	const unsigned char *b = p;
	ssize_t w;

	while (n > 0) {
		if ((w = send(fd, b, n, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* 0, 1 at end of file before the first octet, -1 otherwise. */
static int
privsep_read_all(int fd, void *p, size_t n)
{
	unsigned char *b = p;
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		if ((r = read(fd, b + got, n - got)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return got == 0 ? 1 : -1;
		got += (size_t)r;
	}
	return 0;
}

int
privsep_send(int fd, uint32_t type, uint32_t arg, const void *payload,
    size_t len)
{
	unsigned char hdr[PRIVMSG_HEADER_LEN];

	if (privmsg_header(hdr, type, arg, len) == -1 ||
	    privsep_write_all(fd, hdr, sizeof(hdr)) == -1 ||
	    (len > 0 && privsep_write_all(fd, payload, len) == -1))
		return -1;
	return 0;
}

int
privsep_recv(int fd, struct privmsg *m, unsigned char **buf)
{
	unsigned char hdr[PRIVMSG_HEADER_LEN];
	int rc;

	*buf = NULL;
	if ((rc = privsep_read_all(fd, hdr, sizeof(hdr))) != 0)
		return rc;
	if (privmsg_parse_header(hdr, sizeof(hdr), m) == -1 ||
	    (*buf = malloc(m->len + 1)) == NULL)
		return -1;
	if (m->len > 0 && privsep_read_all(fd, *buf, m->len) != 0) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	(*buf)[m->len] = '\0';
	m->payload = *buf;
	return 0;
}

/* ---- the child ------------------------------------------------------ */

/* Irreversibly become a; exits on any failure (half-dropped is worse
 * than not started). */
static void
privsep_drop(const struct privsep_account *a)
{
	char q[LOG_QUOTE_MAX];
	uid_t ru, eu, su;

	if (a->drop && (setgroups(1, &a->gid) == -1 ||
	    setresgid(a->gid, a->gid, a->gid) == -1 ||
	    setresuid(a->uid, a->uid, a->uid) == -1)) {
		log_error("privsep.drop", "result=failed user=%s error=%s",
		    a->name, log_quote(q, sizeof(q), strerror(errno)));
		_exit(1);
	}
	if (a->drop && (setuid(0) != -1 || getresuid(&ru, &eu, &su) == -1 ||
	    ru != a->uid || eu != a->uid || su != a->uid)) {
		log_error("privsep.drop", "result=failed user=%s "
		    "error=still-privileged", a->name);
		_exit(1);
	}
	/* setuid made the process undumpable; the sanitizers need it, and
	 * the child holds nothing the account could not read anyway */
	if (PRIVSEP_SANITIZED)
		(void)prctl(PR_SET_DUMPABLE, 1);
}

static void
privsep_child(const struct privsep_account *a, const char *data_dir,
    pid_t parent)
{
	char q[LOG_QUOTE_MAX], e[LOG_QUOTE_MAX];
	sigset_t none;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (chdir(data_dir) == -1) {
		log_error("privsep.chdir", "result=failed dir=%s error=%s",
		    log_quote(q, sizeof(q), data_dir),
		    log_quote(e, sizeof(e), strerror(errno)));
		_exit(1);
	}
	privsep_drop(a);
}

/* ---- the parent ----------------------------------------------------- */

static int privsep_sigpipe[2] = { -1, -1 };

/*
 * A signal for the child goes down the self-pipe, unless the kernel sent
 * it to the whole process group (a terminal's ^C): the child, in the
 * same group, has its own copy already. SIGCHLD only wakes the loop.
 */
static void
privsep_on_signal(int sig, siginfo_t *si, void *ctx)
{
	unsigned char b = (unsigned char)sig;
	int saved = errno;

	(void)ctx;
	if (sig != SIGCHLD && si != NULL && si->si_code == SI_KERNEL)
		b = SIGCHLD;
	(void)write(privsep_sigpipe[1], &b, 1);
	errno = saved;
}

static int
privsep_signals(void)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGTERM, SIGCHLD };
	struct sigaction sa;
	size_t i;

	if (pipe2(privsep_sigpipe, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = privsep_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART | SA_SIGINFO;
	for (i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		if (sigaction(sigs[i], &sa, NULL) == -1)
			return -1;
	return 0;
}

static void
privsep_signals_close(void)
{
	close(privsep_sigpipe[0]);
	close(privsep_sigpipe[1]);
	privsep_sigpipe[0] = privsep_sigpipe[1] = -1;
}

/* Forward the signals that arrived; 1 once the child has exited. */
static int
privsep_on_signals(pid_t child, int *status)
{
	unsigned char sigs[32];
	ssize_t n, i;
	int ws;

	while ((n = read(privsep_sigpipe[0], sigs, sizeof(sigs))) > 0)
		for (i = 0; i < n; i++)
			if (sigs[i] != SIGCHLD)
				(void)kill(child, sigs[i]);
	if (waitpid(child, &ws, WNOHANG) != child)
		return 0;
	if (WIFEXITED(ws))
		*status = WEXITSTATUS(ws);
	else {
		log_error("privsep.child", "result=killed signal=%d",
		    WTERMSIG(ws));
		*status = 1;
	}
	return 1;
}

/* Serve the key holder until the child is gone. */
static int
privsep_parent(struct keyholder *kh, int fd, pid_t child)
{
	struct pollfd pfd[2];
	int status = 1, ws;

	pfd[0].fd = privsep_sigpipe[0];
	pfd[0].events = POLLIN;
	pfd[1].fd = fd;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, pfd[1].fd == -1 ? 1 : 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if ((pfd[0].revents & POLLIN) &&
		    privsep_on_signals(child, &status))
			return status;
		if (pfd[1].fd != -1 && (pfd[1].revents & (POLLIN | POLLHUP |
		    POLLERR)) && keyholder_serve(kh, fd) != 0) {
			/* the child closed its end: it is on its way out */
			pfd[1].fd = -1;
		}
	}
	(void)kill(child, SIGTERM);
	(void)waitpid(child, &ws, 0);
	return status;
}

int
privsep_fork(const struct privsep_account *a, const char *data_dir,
    struct keyholder *kh, const int *child_fds, size_t nchild_fds,
    int *chan_fd, int *status, char *err, size_t errlen)
{
	size_t i;

	pid_t parent = getpid(), child;
	sigset_t all, old;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	/* no signal lands between the fork and the handlers being set */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if ((child = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(sv[0]);
		close(sv[1]);
		for (i = 0; i < nchild_fds; i++)
			close(child_fds[i]);
		return -1;
	}
	if (child == 0) {
		close(sv[0]);
		privsep_child(a, data_dir, parent);
		*chan_fd = sv[1];
		return 0;
	}
	close(sv[1]);
	for (i = 0; i < nchild_fds; i++)
		close(child_fds[i]);
	if (privsep_signals() == -1) {
		snprintf(err, errlen, "signal setup: %s", strerror(errno));
		sigprocmask(SIG_SETMASK, &old, NULL);
		(void)kill(child, SIGKILL);
		(void)waitpid(child, NULL, 0);
		close(sv[0]);
		return -1;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	/* root's memory holds the keys: no core dump, no ptrace */
	if (!PRIVSEP_SANITIZED)
		(void)prctl(PR_SET_DUMPABLE, 0);
	log_info("privsep.start", "child=%ld user=%s uid=%lu", (long)child,
	    a->name, (unsigned long)a->uid);
	*status = privsep_parent(kh, sv[0], child);
	close(sv[0]);
	privsep_signals_close();
	return 1;
}
