/*
 * spf_netjes — SPF evaluations per second through netjes's own library:
 * spf_check_start() on a libevent loop, resolving through the libunbound
 * backend (dns_unbound_new, cache on, as `netjes serve` runs it)
 * forwarding to the benchmark's caching DNS server.
 *
 *	spf_netjes [-j INFLIGHT] [-n PASSES] [-z ZONEFILE] NAMESERVER CASES
 *	    SECONDS
 *
 * CASES holds "IP SENDER HELO" lines. One untimed pass warms the caches
 * and fixes the result of every case (the check hash); then the cases
 * are evaluated one after the other, each to completion, until SECONDS
 * have passed. One evaluation at a time, on one thread (libunbound's
 * resolver thread aside): the same shape as the libspf2 and pyspf loops.
 *
 * -j K keeps K evaluations in flight on the one loop instead, as the SMTP
 * server does with K sessions. -z answers from the in-memory zone backend
 * (dns_zone) loaded with the benchmark's zone file instead of libunbound:
 * the SPF engine's own cost, with DNS reduced to a hash lookup.
 *
 * -n P makes the timed part exactly P passes over the cases, however
 * long they take (one at a time only): for instruction counts under
 * callgrind, where the difference between two values of P is the cost
 * of that many evaluations with start-up and warm-up cancelled out.
 */
#include <event2/event.h>
#include <getopt.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/spf.h"
#include "dns/dns.h"
#include "lib/benchutil.h"

struct bench_case {
	struct ip_addr	 ip;
	const char	*sender;
	const char	*helo;
};

struct eval_state {
	bool		 done;
	enum spf_result	 result;
};

static void
on_done(const struct spf_outcome *o, void *arg)
{
	struct eval_state *st = arg;

	st->result = o->result;
	st->done = true;
}

/* Seconds of CPU used by the whole process, libunbound's thread too. */
static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static enum spf_result
eval(struct event_base *base, struct dns_resolver *r,
    const struct bench_case *bc, struct arena *out)
{
	struct spf_request req;
	struct eval_state st = { false, SPF_RESULT_NONE };

	memset(&req, 0, sizeof(req));
	req.ip = bc->ip;
	req.sender = bc->sender;
	req.helo = bc->helo;
	req.identity = SPF_IDENTITY_MAILFROM;
	(void)spf_check_start(base, r, &req, out, on_done, &st);
	while (!st.done && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
	if (!st.done) {
		fprintf(stderr, "spf_netjes: evaluation did not finish\n");
		exit(1);
	}
	arena_reset(out);
	return st.result;
}

/* K evaluations in flight; a finished slot is refilled from the loop. */
struct slot {
	struct arena		*out;
	struct eval_state	 st;
	bool			 busy;
};

static size_t
run_inflight(struct event_base *base, struct dns_resolver *r,
    const struct bench_case *cases, size_t n, size_t k, double secs,
    double *elapsed)
{
	struct slot *sl = calloc(k, sizeof(*sl));
	struct spf_request req;
	size_t next = 0, done = 0, i, busy;
	double t0 = bench_now();
	bool stop = false;

	if (sl == NULL)
		abort();
	for (i = 0; i < k; i++)
		sl[i].out = arena_new(0);
	for (;;) {
		busy = 0;
		for (i = 0; i < k; i++) {
			if (sl[i].busy && sl[i].st.done) {
				sl[i].busy = false;
				done++;
				arena_reset(sl[i].out);
			}
			if (!sl[i].busy && !stop) {
				memset(&req, 0, sizeof(req));
				req.ip = cases[next % n].ip;
				req.sender = cases[next % n].sender;
				req.helo = cases[next % n].helo;
				next++;
				sl[i].st.done = false;
				sl[i].busy = true;
				(void)spf_check_start(base, r, &req, sl[i].out,
				    on_done, &sl[i].st);
			}
			busy += sl[i].busy;
		}
		if (!stop && (done & 255) == 0 && bench_now() - t0 >= secs)
			stop = true;
		if (busy == 0)
			break;
		if (event_base_loop(base, EVLOOP_ONCE) != 0)
			abort();
	}
	*elapsed = bench_now() - t0;
	for (i = 0; i < k; i++)
		arena_free(sl[i].out);
	free(sl);
	return done;
}

static struct dns_resolver *
zone_resolver(struct event_base *base, const char *path)
{
	struct dns_resolver *r = dns_zone_new(base);
	size_t len;
	char *text = bench_read_file(path, &len), err[256];

	if (r == NULL || dns_zone_load(r, text, len, NULL, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "spf_netjes: %s: %s\n", path, err);
		exit(1);
	}
	free(text);
	return r;
}

int
main(int argc, char **argv)
{
	struct dns_options o = { NULL, 5.0, true, 0, NULL, false };
	struct bench_case *cases;
	struct bench_check chk;
	struct event_base *base;
	struct dns_resolver *r;
	struct arena *out;
	const char *err = NULL;
	char **lines, *ip, *save;
	size_t n, i, count = 0;
	double secs, t0, t, c0, cpu;
	unsigned hist[SPF_RESULT_PERMERROR + 1] = { 0 };
	const char *zone = NULL, *impl = "netjes";
	size_t inflight = 0, passes = 0;
	int opt;

	while ((opt = getopt(argc, argv, "j:n:z:")) != -1) {
		switch (opt) {
		case 'j': inflight = (size_t)atol(optarg); break;
		case 'n': passes = (size_t)atol(optarg); break;
		case 'z': zone = optarg; break;
		default: return 2;
		}
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (argc != 4) {
		fprintf(stderr, "usage: spf_netjes [-j INFLIGHT] [-n PASSES] "
		    "[-z ZONEFILE] NAMESERVER CASES SECONDS\n");
		return 2;
	}
	o.nameserver = argv[1];
	secs = atof(argv[3]);
	lines = bench_read_lines(argv[2], &n);
	if ((cases = calloc(n, sizeof(*cases))) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		save = NULL;
		ip = strtok_r(lines[i], " ", &save);
		cases[i].sender = strtok_r(NULL, " ", &save);
		cases[i].helo = strtok_r(NULL, " ", &save);
		if (ip == NULL || cases[i].helo == NULL ||
		    ip_parse(ip, strlen(ip), &cases[i].ip) != 0) {
			fprintf(stderr, "spf_netjes: bad case line %zu\n", i + 1);
			return 1;
		}
	}
	if ((base = event_base_new()) == NULL)
		return 1;
	if (zone != NULL)
		r = zone_resolver(base, zone);
	else if ((r = dns_unbound_new(base, &o, &err)) == NULL) {
		fprintf(stderr, "spf_netjes: resolver: %s\n", err ? err : "?");
		return 1;
	}
	out = arena_new(0);

	bench_check_init(&chk);
	for (i = 0; i < n; i++) {
		enum spf_result res = eval(base, r, &cases[i], out);

		hist[res]++;
		bench_check_add(&chk, spf_result_name(res));
	}

	c0 = cpu_now();
	if (inflight > 1) {
		count = run_inflight(base, r, cases, n, inflight, secs, &t);
	} else {
		t0 = bench_now();
		do {
			for (i = 0; i < n; i++)
				(void)eval(base, r, &cases[i], out);
			count += n;
			t = bench_now() - t0;
		} while (passes > 0 ? count < passes * n : t < secs);
	}
	cpu = cpu_now() - c0;

	printf("BENCH impl=%s op=spf inflight=%zu dns=%s n=%zu secs=%.3f "
	    "rate=%.1f cpu=%.3f cpu_rate=%.1f check=%016llx pass=%u "
	    "fail=%u softfail=%u neutral=%u none=%u temperror=%u "
	    "permerror=%u\n", impl,
	    inflight > 1 ? inflight : 1, zone ? "zone" : "unbound", count, t,
	    (double)count / t, cpu, (double)count / cpu,
	    (unsigned long long)chk.h,
	    hist[SPF_RESULT_PASS], hist[SPF_RESULT_FAIL],
	    hist[SPF_RESULT_SOFTFAIL], hist[SPF_RESULT_NEUTRAL],
	    hist[SPF_RESULT_NONE], hist[SPF_RESULT_TEMPERROR],
	    hist[SPF_RESULT_PERMERROR]);
	arena_free(out);
	dns_resolver_free(r);
	event_base_free(base);
	free(cases);
	return 0;
}
