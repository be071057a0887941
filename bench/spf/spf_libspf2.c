/*
 * spf_libspf2 — SPF evaluations per second through libspf2 (Debian's
 * libspf2-dev, the library behind spfquery), in process.
 *
 *	spf_libspf2 [-n PASSES] CASES SECONDS
 *
 * SPF_server_new(SPF_DNS_CACHE): libspf2's default layering, its own
 * in-process DNS cache over the system resolver (res_query, so
 * /etc/resolv.conf: run.sh gives this process a private network and
 * mount namespace whose resolv.conf names the benchmark's DNS server).
 * Same cases, same warm-up pass and check hash as spf_netjes; -n as
 * there (exactly P timed passes, for instruction counts), and the same
 * CPU time figure (cpu_rate: evaluations per second of process CPU).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <spf2/spf.h>

#include "lib/benchutil.h"

struct bench_case {
	const char	*ip;
	const char	*sender;
	const char	*helo;
	bool		 v6;
};

/* Seconds of CPU used by the whole process (all its threads). */
static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static SPF_result_t
eval(SPF_server_t *srv, const struct bench_case *bc)
{
	SPF_request_t *req = SPF_request_new(srv);
	SPF_response_t *resp = NULL;
	SPF_result_t res;

	if (bc->v6)
		SPF_request_set_ipv6_str(req, bc->ip);
	else
		SPF_request_set_ipv4_str(req, bc->ip);
	SPF_request_set_helo_dom(req, bc->helo);
	SPF_request_set_env_from(req, bc->sender);
	SPF_request_query_mailfrom(req, &resp);
	res = resp != NULL ? SPF_response_result(resp) : SPF_RESULT_INVALID;
	SPF_response_free(resp);
	SPF_request_free(req);
	return res;
}

int
main(int argc, char **argv)
{
	struct bench_case *cases;
	struct bench_check chk;
	SPF_server_t *srv;
	char **lines, *save;
	size_t n, i, count = 0;
	double secs, t0, t, c0, cpu;
	unsigned hist[SPF_RESULT_PERMERROR + 1] = { 0 };
	size_t passes = 0;
	int opt;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n')
			return 2;
		passes = (size_t)atol(optarg);
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (argc != 3) {
		fprintf(stderr, "usage: spf_libspf2 [-n PASSES] CASES "
		    "SECONDS\n");
		return 2;
	}
	secs = atof(argv[2]);
	lines = bench_read_lines(argv[1], &n);
	if ((cases = calloc(n, sizeof(*cases))) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		save = NULL;
		cases[i].ip = strtok_r(lines[i], " ", &save);
		cases[i].sender = strtok_r(NULL, " ", &save);
		cases[i].helo = strtok_r(NULL, " ", &save);
		if (cases[i].helo == NULL)
			return 1;
		cases[i].v6 = strchr(cases[i].ip, ':') != NULL;
	}
	if ((srv = SPF_server_new(SPF_DNS_CACHE, 0)) == NULL) {
		fprintf(stderr, "spf_libspf2: SPF_server_new failed\n");
		return 1;
	}

	bench_check_init(&chk);
	for (i = 0; i < n; i++) {
		SPF_result_t res = eval(srv, &cases[i]);

		if (res <= SPF_RESULT_PERMERROR)
			hist[res]++;
		bench_check_add(&chk, SPF_strresult(res));
	}

	t0 = bench_now();
	c0 = cpu_now();
	do {
		for (i = 0; i < n; i++)
			(void)eval(srv, &cases[i]);
		count += n;
		t = bench_now() - t0;
	} while (passes > 0 ? count < passes * n : t < secs);
	cpu = cpu_now() - c0;

	printf("BENCH impl=libspf2 op=spf n=%zu secs=%.3f rate=%.1f "
	    "cpu=%.3f cpu_rate=%.1f check=%016llx pass=%u fail=%u "
	    "softfail=%u neutral=%u none=%u temperror=%u permerror=%u\n",
	    count, t,
	    (double)count / t, cpu, (double)count / cpu,
	    (unsigned long long)chk.h,
	    hist[SPF_RESULT_PASS], hist[SPF_RESULT_FAIL],
	    hist[SPF_RESULT_SOFTFAIL], hist[SPF_RESULT_NEUTRAL],
	    hist[SPF_RESULT_NONE], hist[SPF_RESULT_TEMPERROR],
	    hist[SPF_RESULT_PERMERROR]);
	SPF_server_free(srv);
	free(cases);
	return 0;
}
