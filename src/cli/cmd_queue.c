/*
 * cmd_queue — `netjes queue list|show|retry|hold|release|delete`: look at
 * and act on the messages in the spool (queue/spool.h) of the config's
 * data directory, while the daemon runs or not.
 *
 * Every change is an atomic rewrite of the envelope (spool_update) or
 * its removal (spool_remove), made under the exclusive queue lock, so it
 * never crosses a delivery round of the daemon, which holds the lock
 * shared and reads the envelope again before every round; the daemon
 * watches queue/ and acts on the change at once. Run as root on a spool
 * owned by the daemon's account, the files written are given to that
 * account (spool.c), so the daemon can still read them.
 *
 * hold: never tried nor expired until released. release: back in the
 * queue, every pending recipient due now. retry: every pending recipient
 * due now (a held message stays held). delete: gone, without a DSN.
 *
 * Exit 0 ok; 1 not found or failure; 2 usage.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "core/arena.h"
#include "core/json.h"
#include "queue/spool.h"

struct queue_opts {
	const char	*config;
	bool		 json;
	const char	*id;		/* NULL for list */
};

static const char *const queue_state_names[] = {
	[SPOOL_RCPT_PENDING] = "pending",
	[SPOOL_RCPT_DELIVERED] = "delivered",
	[SPOOL_RCPT_FAILED] = "failed",
};

/* Options after the verb (argv[0]). 0 ok, -1 after --help, else a usage
 * exit status. */
static int
queue_parse_opts(int argc, char **argv, bool want_id, struct queue_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
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
		case CLI_OPT_JSON:
			o->json = true;
			break;
		default:
			return cli_getopt_other("queue", ch, argv);
		}
	if (want_id) {
		if (optind >= argc)
			return cli_usage("queue", "%s needs a queue ID",
			    argv[0]);
		o->id = argv[optind++];
		if (!spool_id_valid(o->id))
			return cli_usage("queue", "'%s' is not a queue ID",
			    o->id);
	}
	if (optind < argc)
		return cli_usage("queue", "unexpected argument '%s'",
		    argv[optind]);
	return 0;
}

/* The spool of the config, opened; NULL (printed) when there is none. */
static struct spool *
queue_open(const struct queue_opts *o)
{
	char dir[PATH_MAX], reason[SPOOL_REASON_MAX];
	struct config cfg;
	struct spool *sp;
	struct stat st;
	int err;

	if (cli_config_load(o->config, &cfg) != 0) {
		config_free(&cfg);
		return NULL;
	}
	if ((size_t)snprintf(dir, sizeof(dir), "%s/spool", cfg.data_dir) >=
	    sizeof(dir)) {
		config_free(&cfg);
		fprintf(stderr, "netjes queue: spool path too long\n");
		return NULL;
	}
	config_free(&cfg);
	/* never create a spool here: a typo in -c must not make one */
	err = stat(dir, &st) != 0 ? errno : !S_ISDIR(st.st_mode) ? ENOTDIR : 0;
	if (err != 0) {
		fprintf(stderr, "netjes queue: no spool at %s: %s\n", dir,
		    strerror(err));
		return NULL;
	}
	if ((sp = spool_open(dir, reason, sizeof(reason))) == NULL)
		fprintf(stderr, "netjes queue: %s\n", reason);
	return sp;
}

static void
queue_time(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0) {
		snprintf(out, n, "-");
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
queue_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The queue ids in queue/, sorted (oldest first). */
static char **
queue_ids(struct spool *sp, size_t *n)
{
	char path[PATH_MAX], **v = NULL;
	struct dirent *de;
	size_t cap = 0;
	DIR *dp;

	*n = 0;
	snprintf(path, sizeof(path), "%s/queue", spool_dir(sp));
	if ((dp = opendir(path)) == NULL)
		return NULL;
	while ((de = readdir(dp)) != NULL) {
		if (strlen(de->d_name) != SPOOL_ID_LEN + 4 ||
		    strcmp(de->d_name + SPOOL_ID_LEN, ".env") != 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((v = realloc(v, cap * sizeof(*v))) == NULL)
				abort();
		}
		if ((v[*n] = strndup(de->d_name, SPOOL_ID_LEN)) == NULL)
			abort();
		if (spool_id_valid(v[*n]))
			(*n)++;
		else
			free(v[*n]);
	}
	closedir(dp);
	if (*n > 0)
		qsort(v, *n, sizeof(*v), queue_cmp);
	return v;
}

/* The earliest next attempt of a pending recipient; 0 = due now or none. */
static int64_t
queue_next(const struct spool_envelope *env)
{
	int64_t next = 0;
	size_t i;

	for (i = 0; i < env->nrcpts; i++)
		if (env->rcpts[i].state == SPOOL_RCPT_PENDING &&
		    (next == 0 || env->rcpts[i].next_attempt < next))
			next = env->rcpts[i].next_attempt;
	return next;
}

static void
queue_json_message(struct json *j, const struct spool_envelope *env,
    bool full)
{
	size_t i;

	json_obj_begin(j);
	json_kv_str(j, "id", env->id);
	json_kv_int(j, "received", env->received);
	json_kv_int(j, "size", (int64_t)env->size);
	json_kv_str(j, "from", env->mail_from);
	json_kv_bool(j, "hold", env->hold);
	json_kv_bool(j, "no_dsn", env->no_dsn);
	json_kv_int(j, "pending", (int64_t)spool_envelope_pending(env));
	json_kv_int(j, "next_attempt", queue_next(env));
	if (full) {
		json_kv_str(j, "client_ip", env->client_ip);
		json_kv_str(j, "client_helo", env->client_helo);
		json_kv_str(j, "auth_user", env->auth_user);
		json_kv_str(j, "folder", env->folder);
		json_kv_str(j, "envid", env->envid);
	}
	json_key(j, "recipients");
	json_arr_begin(j);
	for (i = 0; i < env->nrcpts; i++) {
		const struct spool_rcpt *r = &env->rcpts[i];

		json_obj_begin(j);
		json_kv_str(j, "address", r->addr);
		json_kv_str(j, "state", (unsigned)r->state <=
		    SPOOL_RCPT_FAILED ? queue_state_names[r->state] : "?");
		json_kv_int(j, "attempts", r->attempts);
		json_kv_int(j, "first_attempt", r->first_attempt);
		json_kv_int(j, "next_attempt", r->next_attempt);
		json_kv_bool(j, "warned", r->warned);
		json_kv_str(j, "reason", r->reason);
		json_end(j);
	}
	json_end(j);
	json_end(j);
}

static int
queue_list(const struct queue_opts *o, struct spool *sp)
{
	struct spool_envelope env;
	char reason[SPOOL_REASON_MAX], when[32], next[32];
	struct buf b = BUF_INIT;
	struct json j;
	char **ids;
	size_t n, i;
	int rc = CLI_EXIT_OK;

	ids = queue_ids(sp, &n);
	if (o->json) {
		json_init(&j, &b);
		json_obj_begin(&j);
		json_kv_str(&j, "spool", spool_dir(sp));
		json_key(&j, "messages");
		json_arr_begin(&j);
	}
	for (i = 0; i < n; i++) {
		struct arena *a = arena_new(0);

		if (spool_load(sp, ids[i], a, &env, reason,
		    sizeof(reason)) != 0) {
			/* delivered (or deleted) meanwhile: not listed */
			if (strstr(reason, strerror(ENOENT)) == NULL) {
				fprintf(stderr, "netjes queue: %s: %s\n",
				    ids[i], reason);
				rc = CLI_EXIT_FAIL;
			}
		} else if (o->json)
			queue_json_message(&j, &env, false);
		else {
			queue_time(env.received, when, sizeof(when));
			queue_time(queue_next(&env), next, sizeof(next));
			buf_printf(&b, "%s %s %8" PRIu64 " <%s> %zu/%zu "
			    "pending %s next=%s\n", env.id, when, env.size,
			    env.mail_from, spool_envelope_pending(&env),
			    env.nrcpts, env.hold ? "held" : "active", next);
		}
		arena_free(a);
		free(ids[i]);
	}
	free(ids);
	if (o->json) {
		json_end(&j);
		json_end(&j);
		cli_print(&b);
	} else if (b.len > 0)
		fwrite(b.data, 1, b.len, stdout);
	else
		printf("queue is empty\n");
	buf_free(&b);
	return rc;
}

static int
queue_show(const struct queue_opts *o, const struct spool_envelope *env)
{
	char when[32], first[32], next[32];
	struct buf b = BUF_INIT;
	struct json j;
	size_t i;

	if (o->json) {
		json_init(&j, &b);
		queue_json_message(&j, env, true);
		cli_print(&b);
		buf_free(&b);
		return CLI_EXIT_OK;
	}
	queue_time(env->received, when, sizeof(when));
	printf("id: %s\nreceived: %s\nsize: %" PRIu64 "\nfrom: <%s>\n"
	    "state: %s\nclient: %s (%s)\n", env->id, when, env->size,
	    env->mail_from, env->hold ? "held" : "active",
	    env->client_ip[0] ? env->client_ip : "-",
	    env->client_helo[0] ? env->client_helo : "-");
	if (env->auth_user[0] != '\0')
		printf("auth: %s\n", env->auth_user);
	if (env->no_dsn)
		printf("dsn: never\n");
	for (i = 0; i < env->nrcpts; i++) {
		const struct spool_rcpt *r = &env->rcpts[i];

		queue_time(r->first_attempt, first, sizeof(first));
		queue_time(r->next_attempt, next, sizeof(next));
		printf("rcpt: <%s> %s attempts=%u first=%s next=%s%s\n",
		    r->addr, (unsigned)r->state <= SPOOL_RCPT_FAILED ?
		    queue_state_names[r->state] : "?", r->attempts, first,
		    next, r->warned ? " warned" : "");
		if (r->reason[0] != '\0')
			printf("  last: %s\n", r->reason);
	}
	return CLI_EXIT_OK;
}

enum queue_verb { QUEUE_SHOW, QUEUE_RETRY, QUEUE_HOLD, QUEUE_RELEASE,
	QUEUE_DELETE };

/* Applies verb to env in place; true when the envelope changed. */
static bool
queue_apply(enum queue_verb verb, struct spool_envelope *env)
{
	size_t i;

	switch (verb) {
	case QUEUE_HOLD:
		env->hold = true;
		return true;
	case QUEUE_RELEASE:
		env->hold = false;
		/* FALLTHROUGH */
	case QUEUE_RETRY:
		for (i = 0; i < env->nrcpts; i++)
			if (env->rcpts[i].state == SPOOL_RCPT_PENDING)
				env->rcpts[i].next_attempt = 0;
		return true;
	case QUEUE_SHOW:
	case QUEUE_DELETE:
		break;
	}
	return false;
}

static int
queue_one(const struct queue_opts *o, struct spool *sp, enum queue_verb verb,
    const char *name)
{
	struct spool_envelope env;
	char reason[SPOOL_REASON_MAX];
	struct arena *a = arena_new(0);
	struct buf b = BUF_INIT;
	struct json j;
	int lock = -1, rc = CLI_EXIT_OK;

	if (verb != QUEUE_SHOW &&
	    (lock = spool_lock(sp, true)) < 0) {
		fprintf(stderr, "netjes queue: cannot lock the queue: %s\n",
		    strerror(errno));
		arena_free(a);
		return CLI_EXIT_FAIL;
	}
	if (spool_load(sp, o->id, a, &env, reason, sizeof(reason)) != 0) {
		if (strstr(reason, strerror(ENOENT)) != NULL)
			fprintf(stderr, "netjes queue: %s: no such message in "
			    "the queue\n", o->id);
		else
			fprintf(stderr, "netjes queue: %s: %s\n", o->id,
			    reason);
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	if (verb == QUEUE_SHOW) {
		rc = queue_show(o, &env);
		goto out;
	}
	if (verb == QUEUE_DELETE ? spool_remove(sp, env.id, reason,
	    sizeof(reason)) != 0 : queue_apply(verb, &env) &&
	    spool_update(sp, &env, reason, sizeof(reason)) != 0) {
		fprintf(stderr, "netjes queue: %s: %s\n", o->id, reason);
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	if (o->json) {
		json_init(&j, &b);
		json_obj_begin(&j);
		json_kv_str(&j, "id", env.id);
		json_kv_str(&j, "action", name);
		json_kv_str(&j, "result", "ok");
		if (verb != QUEUE_DELETE)
			json_kv_bool(&j, "hold", env.hold);
		json_end(&j);
		cli_print(&b);
	} else if (verb == QUEUE_RETRY && env.hold)
		printf("%s: due now, but held: release it to deliver\n",
		    env.id);
	else
		printf("%s: %s\n", env.id, verb == QUEUE_DELETE ? "deleted" :
		    verb == QUEUE_HOLD ? "held" : "due now");
out:
	spool_unlock(lock);
	buf_free(&b);
	arena_free(a);
	return rc;
}

int
cmd_queue(int argc, char **argv)
{
	static const struct { const char *name; enum queue_verb verb; }
	    verbs[] = {
		{ "show", QUEUE_SHOW }, { "retry", QUEUE_RETRY },
		{ "hold", QUEUE_HOLD }, { "release", QUEUE_RELEASE },
		{ "delete", QUEUE_DELETE },
	};
	struct queue_opts o;
	struct spool *sp;
	size_t i;
	int rc;

	memset(&o, 0, sizeof(o));
	if (argc < 2)
		return cli_usage("queue", "needs list, show, retry, hold, "
		    "release or delete");
	if (strcmp(argv[1], "list") == 0) {
		if ((rc = queue_parse_opts(argc - 1, argv + 1, false, &o)) != 0)
			return rc < 0 ? CLI_EXIT_OK : rc;
		if ((sp = queue_open(&o)) == NULL)
			return CLI_EXIT_FAIL;
		rc = queue_list(&o, sp);
		spool_free(sp);
		return rc;
	}
	for (i = 0; i < sizeof(verbs) / sizeof(*verbs); i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			break;
	if (i == sizeof(verbs) / sizeof(*verbs)) {
		if (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0) {
			fputs(cli_find("queue")->usage, stdout);
			return CLI_EXIT_OK;
		}
		return cli_usage("queue", "unknown action '%s'", argv[1]);
	}
	if ((rc = queue_parse_opts(argc - 1, argv + 1, true, &o)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if ((sp = queue_open(&o)) == NULL)
		return CLI_EXIT_FAIL;
	rc = queue_one(&o, sp, verbs[i].verb, verbs[i].name);
	spool_free(sp);
	return rc;
}
