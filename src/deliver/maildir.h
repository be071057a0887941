/*
 * maildir — delivery of one message into a Maildir++ mailbox.
 *
 * The Maildir discipline (https://cr.yp.to/proto/maildir.html): write
 * tmp/<unique>, fsync, rename into new/<unique>,S=<size>, fsync new/.
 * Unique names are "<sec>.M<usec>P<pid>Q<count>.<host>" ("/" and ":" in
 * the host written as \057 and \072); the rename never replaces a file.
 * The Maildir (cur/ new/ tmp/) is created on first delivery, and so is a
 * Maildir++ folder: "Junk" is the directory .Junk with its own cur/ new/
 * tmp/ and an empty "maildirfolder" file, "Lists.netjes" is
 * .Lists.netjes. Every directory created is made durable by an fsync of
 * its parent before the message counts as delivered.
 *
 * The message is written as prefix (the header lines the server adds:
 * Received:, Authentication-Results:, Delivered-To:) followed by the
 * spooled content, streamed from its file descriptor, never held in
 * memory whole. CRLF line ends become LF unless keep_crlf is set (Maildir
 * readers expect LF).
 *
 * Errors are classified: a full disk, a quota, permissions, a read-only
 * or failing file system, a broken path are all temporary (the message
 * stays queued and is retried: a mailbox problem is the operator's to
 * fix, never a reason to drop mail); only EFBIG (the message is larger
 * than the mailbox may hold) is permanent.
 */
#ifndef NETJES_DELIVER_MAILDIR_H
#define NETJES_DELIVER_MAILDIR_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAILDIR_FOLDER_MAX	200

enum maildir_status {
	MAILDIR_OK = 0,
	MAILDIR_TEMPFAIL,	/* defer: keep queued, retry later (4xx) */
	MAILDIR_PERMFAIL,	/* give up on this recipient (5xx, DSN) */
};

struct maildir_result {
	enum maildir_status	 status;
	int			 err;		/* errno behind a failure, or 0 */
	char			 dsn[8];	/* RFC 3463 code: "2.0.0", "4.3.1" */
	char			 reason[512];	/* for logs and DSNs */
	char			 path[PATH_MAX];	/* the delivered file */
	uint64_t		 size;		/* bytes written */
};

struct maildir_delivery {
	const char	*maildir;	/* absolute path of the Maildir */
	const char	*folder;	/* NULL or "" = inbox; "Junk", "A.B" */
	const char	*hostname;	/* for unique names; NULL = gethostname */
	const void	*prefix;	/* header bytes written first, or NULL */
	size_t		 prefix_len;
	int		 content_fd;	/* read with pread from 0 to EOF; -1: none */
	bool		 keep_crlf;	/* false: CRLF -> LF */
};

/* Delivers; returns res->status. res is always filled in. */
enum maildir_status maildir_deliver(const struct maildir_delivery *,
	    struct maildir_result *res);

/*
 * Creates the Maildir (and folder, when not NULL or "") if missing,
 * durably. Returns res->status.
 */
enum maildir_status maildir_create(const char *maildir, const char *folder,
	    struct maildir_result *res);

/*
 * Maildir++ folder names: dot-separated parts of letters, digits, and
 * " _-+&,", no empty part, at most MAILDIR_FOLDER_MAX bytes.
 */
bool	 maildir_folder_valid(const char *folder);

/* Fills res for errno err after "what": the classification above. */
void	 maildir_classify(int err, const char *what,
	    struct maildir_result *res);

/* A unique base name as described above (for tests and logs). */
void	 maildir_unique_name(char *out, size_t n, const char *hostname);

#endif
