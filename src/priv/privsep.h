/*
 * privsep — least privilege for `netjes serve` (the OpenSMTPD model).
 *
 * Started as root, the server binds its listeners, then forks:
 *
 *	parent	stays root and does two things only: it holds the TLS
 *		private keys and answers signing requests, and it reads
 *		the config file for a reload (keyholder.h). It parses no
 *		network input, no DNS answer and no message.
 *	child	drops to [server] user and group (setgroups, setresgid,
 *		setresuid, checked to be irreversible) and runs everything
 *		else: listeners, sessions, spool, delivery, DNS.
 *
 * The two talk over a socketpair (privmsg.h) and share a process group.
 * Signals go to the parent (the process a service manager knows); it
 * forwards SIGHUP, SIGTERM and SIGINT to the child (not those the kernel
 * sent the whole group, like a terminal's ^C) and exits with the child's
 * status. The child dies with the parent (PR_SET_PDEATHSIG); a service
 * manager that kills with SIGKILL should kill the group (systemd:
 * KillMode=mixed or control-group).
 *
 * Started as an ordinary user, the same two processes run as that
 * user: the key still lives in the parent only.
 */
#ifndef NETJES_PRIV_PRIVSEP_H
#define NETJES_PRIV_PRIVSEP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/config.h"
#include "priv/privmsg.h"

#define PRIVSEP_ERR_MAX	512

/* Who the child runs as. */
struct privsep_account {
	bool	drop;		/* started as root: change to uid/gid */
	uid_t	uid;
	gid_t	gid;
	char	name[64];
};

/*
 * The account for cfg: [server] user and group when started as root
 * (refused: a missing account, with the command that creates it, and
 * root itself), or the current user. 0, or -1 with a reason in err.
 */
int	privsep_account(const struct config *cfg, struct privsep_account *a,
	    char *err, size_t errlen);

/*
 * As root: hand the directories the child writes to the account. The
 * data directory stays root's (mode 0711, so the child may pass but
 * not list or rename: tls/ below it stays root's 0700); DATA_DIR/spool,
 * the mail root and the users file become the account's (a directory
 * that root owned before is handed over with everything below it,
 * once). No-op when not dropping. 0, or -1 with a reason in err.
 */
int	privsep_prepare(const struct config *cfg, const char *mail_root,
	    const struct privsep_account *a, char *err, size_t errlen);

/*
 * Fork; child_fds (the listeners) are the child's alone: the parent
 * closes its copies at once, and after a failed fork. In the child (privileges dropped, working directory data_dir):
 * returns 0 with *chan_fd set to its end of the channel. In the parent:
 * serves the key holder until the child exits, then returns 1 with
 * *status set to the exit status to use. -1 with a reason in err when
 * the fork or the drop failed (in the child, the drop failing exits).
 */
struct keyholder;
int	privsep_fork(const struct privsep_account *a, const char *data_dir,
	    struct keyholder *kh, const int *child_fds, size_t nchild_fds,
	    int *chan_fd, int *status, char *err, size_t errlen);

/* One message over the channel, header and payload; blocking. 0 or -1. */
int	privsep_send(int fd, uint32_t type, uint32_t arg, const void *payload,
	    size_t len);

/* The next message: payload in *buf (malloc'ed, NUL-terminated, the
 * caller frees) and m->payload pointing at it. 0, 1 at end of file, -1
 * on error or a malformed message. */
int	privsep_recv(int fd, struct privmsg *m, unsigned char **buf);

#endif
