/*
 * Fuzz target for queue/spool_envelope: the parser of envelope files,
 * which after a crash or a disk fault may be torn or damaged.
 *
 * Each input is parsed twice: as it is (a random file almost never has
 * a valid checksum, which is the point of the checksum), and with a
 * correct end line appended, so the fields behind the checksum get
 * fuzzed too. Whatever parses must format and parse back to the same
 * envelope; a rejection must come with a reason. Anything else aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "queue/spool_envelope.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
same_string(const char *a, const char *b)
{
	if (a == NULL || b == NULL || strcmp(a, b) != 0)
		abort();
}

static void
check_round_trip(const struct spool_envelope *e)
{
	struct arena *a = arena_new(0);
	struct spool_envelope g;
	struct buf b = BUF_INIT;
	const char *reason = NULL;
	size_t i;

	spool_envelope_format(e, &b);
	if (spool_envelope_parse(b.data, b.len, a, &g, &reason) != 0)
		abort();
	if (strcmp(e->id, g.id) != 0 || e->received != g.received ||
	    e->size != g.size || e->ret != g.ret || e->body != g.body ||
	    e->smtputf8 != g.smtputf8 || e->nrcpts != g.nrcpts)
		abort();
	same_string(e->mail_from, g.mail_from);
	same_string(e->envid, g.envid);
	same_string(e->client_ip, g.client_ip);
	same_string(e->client_helo, g.client_helo);
	same_string(e->auth_user, g.auth_user);
	same_string(e->folder, g.folder);
	same_string(e->prepend, g.prepend);
	if (e->prepend[0] != '\0' && !spool_prepend_valid(e->prepend,
	    strlen(e->prepend)))
		abort();
	for (i = 0; i < e->nrcpts; i++) {
		same_string(e->rcpts[i].addr, g.rcpts[i].addr);
		same_string(e->rcpts[i].orig, g.rcpts[i].orig);
		same_string(e->rcpts[i].orcpt, g.rcpts[i].orcpt);
		same_string(e->rcpts[i].reason, g.rcpts[i].reason);
		if (e->rcpts[i].notify != g.rcpts[i].notify ||
		    e->rcpts[i].state != g.rcpts[i].state ||
		    e->rcpts[i].attempts != g.rcpts[i].attempts)
			abort();
	}
	buf_free(&b);
	arena_free(a);
}

static void
parse_one(const char *s, size_t n)
{
	struct arena *a = arena_new(0);
	struct spool_envelope e;
	const char *reason = NULL;

	if (spool_envelope_parse(s, n, a, &e, &reason) == 0)
		check_round_trip(&e);
	else if (reason == NULL)
		abort();
	arena_free(a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct buf b = BUF_INIT;
	size_t i, rcpts = 0;

	parse_one(s, size);

	/* The same bytes as the body of a correctly sealed file. */
	for (i = 0; i + 5 <= size; i++)
		if ((i == 0 || s[i - 1] == '\n') && memcmp(s + i, "rcpt ", 5) == 0)
			rcpts++;
	buf_append(&b, s, size);
	if (size > 0 && s[size - 1] != '\n')
		buf_append_char(&b, '\n');
	buf_printf(&b, "end %zu %08x\n", rcpts,
	    (unsigned)spool_crc32(0, b.data, b.len));
	parse_one(b.data, b.len);
	buf_free(&b);
	return 0;
}
