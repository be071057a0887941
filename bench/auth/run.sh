#!/bin/sh
# bench/auth — full message authentication per second and CPU time per
# message: netjes (iprev + SPF HELO and MAIL FROM + every DKIM signature
# + DMARC + ARC) vs rspamd restricted to its SPF, DKIM, DMARC and ARC
# modules, side by side in one run, on one corpus (bench/auth/corpus.py),
# against one warm caching DNS server.
#
# Like bench/spf, the run lives in a private network and mount namespace
# (unshare -mn, needs root): nsd on 127.0.0.1:5353 serves the corpus's
# zones, Debian's unbound on 127.0.0.1:53 caches in front of it, and a
# bind-mounted /etc/resolv.conf names that unbound. netjes asks it
# through libunbound (--nameserver 127.0.0.1:53, its answer cache on);
# rspamd through its own resolver, configured to the same address.
#
# rspamd runs as a private instance (its own config, db and run
# directories under the temporary directory) with one scanner worker,
# driven over its HTTP protocol by bench/auth/auth_rspamd.py with the
# same number of requests in flight as netjes keeps checks in flight.
# Its CPU time is read from /proc for the worker alone, so the Python
# client's cost is not counted for it.
#
#	AUTH_SECONDS   timed seconds per implementation (default 10)
#	AUTH_MESSAGES  corpus size (default 300)
#	AUTH_INFLIGHT  checks / requests in flight (default 64)
#	AUTH_CALLGRIND set: instead of the timed runs, count the netjes
#	               driver's instructions per message under callgrind
#	               (all threads): exactly 1 and 3 passes after the
#	               warm-up, difference over 2 x the corpus, so start-up
#	               and warm-up cancel out; profiles are kept in
#	               $AUTH_CALLGRIND if it names a directory
#	AUTH_DRIVER    the netjes driver to run (default: the one built)
#	AUTH_HOLD      seconds to pause once everything runs (debugging,
#	               with nsenter -t PID -n -m; the pid is printed)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)

. "$HERE/../lib/common.sh"
BENCH_TARGETS="bench/auth_netjes"
bench_enter_netns auth 900 "unshare -mn for a private loopback and resolv.conf"
SECS=${AUTH_SECONDS:-10}
NMSG=${AUTH_MESSAGES:-300}
K=${AUTH_INFLIGHT:-64}
bench_begin
T=$BENCH_TMP

timeout 600 $PY "$HERE/corpus.py" "$T" "$NMSG"

# --- DNS: nsd with the corpus's zones, unbound caching in front -------
# zones.txt holds "ZONE FILE" lines, "example" first (bench_dns waits for
# the first zone); the paths have no blanks, so word splitting is safe
# shellcheck disable=SC2046
bench_dns $(cat "$T/zones.txt")
D=${AUTH_DRIVER:-$BUILD/bench/auth_netjes}

callgrind_ir() {	# passes
	timeout 1200 valgrind --tool=callgrind \
	    --callgrind-out-file="$T/callgrind.$1" "$D" -j "$K" -n "$1" \
	    127.0.0.1:53 "$T/cases.txt" 1 >/dev/null 2>"$T/valgrind.$1" ||
	    return 1
	[ -d "$AUTH_CALLGRIND" ] && cp "$T/callgrind.$1" "$AUTH_CALLGRIND/"
	sed -n 's/^summary: //p' "$T/callgrind.$1"
}
if [ -n "${AUTH_CALLGRIND:-}" ]; then
	ir1=$(callgrind_ir 1)
	ir3=$(callgrind_ir 3)
	echo "BENCH impl=netjes op=auth-instructions n=$NMSG" \
	    "ir_1pass=$ir1 ir_3pass=$ir3" \
	    "ir_per_msg=$(( (ir3 - ir1) / (2 * NMSG) ))"
	exit 0
fi

# --- rspamd: a private instance, only SPF, DKIM, DMARC and ARC ----------
R="$T/rspamd"
mkdir -p "$R/db" "$R/run" "$R/log"
cat > "$R/rspamd.conf" <<CONF
# Only the authentication modules: the C dkim module (filters), and
# the spf, dmarc and arc Lua plugins, which load because their sections
# exist; every other plugin has no section and stays unloaded, and no
# rules (\$RULESDIR/rspamd.lua) are loaded at all.
options {
  pidfile = "$R/run/rspamd.pid";
  filters = "dkim";
  dns {
    nameserver = ["127.0.0.1:53"];
    timeout = 2s;
    sockets = 16;
    retransmits = 2;
  }
  local_addrs = [];
  hs_cache_dir = "$R/db/";
  cache_file = "$R/db/symbols.cache";
  stats_file = "$R/db/stats.ucl";
  task_timeout = 8s;
  url_tld = "\${SHAREDIR}/effective_tld_names.dat";
}
# No per-message log line (notice level): the netjes driver logs nothing
# either, so both sides do the checks and only the checks.
logging {
  type = "file";
  filename = "$R/log/rspamd.log";
  level = "error";
}
worker "normal" {
  bind_socket = "127.0.0.1:11333";
  count = 1;
  mime = true;
}
modules {
  path = "\${PLUGINSDIR}";
}
.include "\$CONFDIR/actions.conf"
.include "\$CONFDIR/groups.conf"
spf {
  spf_cache_size = 2k;
  spf_cache_expire = 1d;
}
dkim {
  dkim_cache_size = 2k;
  dkim_cache_expire = 1d;
  time_jitter = 6h;
  skip_multi = false;
}
dmarc {
}
arc {
  sign_inbound = false;
  sign_local = false;
  sign_authenticated = false;
}
CONF
bench_bg rspamd -f -i -u root -g root -c "$R/rspamd.conf" \
    --var="DBDIR=$R/db" --var="RUNDIR=$R/run" --var="LOGDIR=$R/log"
RMAIN=$(echo $BENCH_PIDS | awk '{ print $NF }')

# The scanner worker: the child of the main process titled "normal".
rspamd_workers() {
	for p in $(pgrep -P "$RMAIN"); do
		if tr '\0' ' ' < "/proc/$p/cmdline" | grep -q normal; then
			printf '%s,' "$p"
		fi
	done
}
# rspamd takes a while to load its configuration (tens of seconds on a
# busy machine): one poller, bounded, rather than a process per try.
if ! timeout 300 $PY -c 'import time, urllib.request as u
while True:
    try:
        u.urlopen("http://127.0.0.1:11333/ping", timeout=1)
        break
    except OSError:
        time.sleep(0.2)'; then
	echo "bench/auth: rspamd did not start" >&2
	cat "$R/log/rspamd.log" >&2 || true
	exit 1
fi
RW=$(rspamd_workers)
if [ -z "$RW" ]; then
	echo "bench/auth: no rspamd scanner worker found" >&2
	exit 1
fi
if [ -n "${AUTH_HOLD:-}" ]; then	# debugging: nsenter -t PID -n -m
	echo "bench/auth: holding, pid $$, tmp $T" >&2
	sleep "$AUTH_HOLD"
fi

# CPU seconds (utime + stime) of the given processes, from /proc.
cpu_of() {
	for p in "$@"; do
		cut -d')' -f2 "/proc/$p/stat"
	done | awk -v hz="$(getconf CLK_TCK)" \
	    '{ t += $12 + $13 } END { printf "%.3f\n", t / hz }'
}
UB=$(cat "$T/unbound.pid")
# unbound's CPU per message during a run: rspamd has no DNS cache of its
# own and asks unbound for every lookup; netjes answers from its cache.
ub_us() {	# cpu-before cpu-after BENCH-line
	awk -v a="$1" -v b="$2" -v n="$(bench_field "$3" n)" \
	    'BEGIN { printf "%.1f\n", (b - a) * 1e6 / n }'
}

echo "auth: $NMSG messages (bench/auth/corpus.py), ${SECS}s per" \
    "implementation, $K in flight, warm caches"
u0=$(cpu_of "$UB")
N=$(timeout $((SECS * 3 + 300)) "$D" -j "$K" -o "$T/netjes.results" \
    127.0.0.1:53 "$T/cases.txt" "$SECS")
u1=$(cpu_of "$UB")
RS=$(timeout $((SECS * 3 + 300)) $PY "$HERE/auth_rspamd.py" \
    127.0.0.1:11333 "$T/cases.txt" "$SECS" "$K" "$RW" "$T/rspamd.results")
u2=$(cpu_of "$UB")
echo "  $N"
echo "  $RS"
echo "  rspamd $(timeout 120 rspamadm --var="DBDIR=$R/db" \
    --var="RUNDIR=$R/run" --var="LOGDIR=$R/log" configdump \
    -c "$R/rspamd.conf" -m 2>/dev/null | grep '^Modules enabled')"

rn=$(bench_field "$N" rate); rr=$(bench_field "$RS" rate)
cn=$(bench_field "$N" cpu_us); cr=$(bench_field "$RS" cpu_us)
printf '\n  %-8s %12s %14s %16s\n' "" "msgs/s" "CPU-us/msg" \
    "netjes/this (CPU)"
printf '  %-8s %12s %14s %16s\n' netjes "$rn" "$cn" "1.00x"
printf '  %-8s %12s %14s %16s\n' rspamd "$rr" "$cr" \
    "$(bench_ratio "$cr" "$cn")x"
echo "  wall-clock ratio netjes/rspamd: $(bench_ratio "$rn" "$rr")x;" \
    "busy share of one core: netjes $(bench_ratio \
    "$(bench_field "$N" cpu_s)" "$(bench_field "$N" secs)")," \
    "rspamd worker $(bench_ratio "$(bench_field "$RS" cpu_s)" \
    "$(bench_field "$RS" secs)")"
echo "  unbound CPU-us/msg during the run: netjes $(ub_us "$u0" "$u1" "$N")," \
    "rspamd $(ub_us "$u1" "$u2" "$RS")"

# Both must have done the checks: pass counts, then per-message agreement.
echo "  netjes passes: iprev=$(bench_field "$N" iprev)" \
    "spf=$(bench_field "$N" spf) spf_helo=$(bench_field "$N" spf_helo)" \
    "dkim(all)=$(bench_field "$N" dkim) dmarc=$(bench_field "$N" dmarc)" \
    "arc=$(bench_field "$N" arc) (no ARC: $(bench_field "$N" arc_none))"
echo "  rspamd symbols: R_SPF_ALLOW=$(bench_field "$RS" R_SPF_ALLOW)" \
    "R_DKIM_ALLOW=$(bench_field "$RS" R_DKIM_ALLOW)" \
    "DMARC_POLICY_ALLOW=$(bench_field "$RS" DMARC_POLICY_ALLOW)" \
    "ARC_ALLOW=$(bench_field "$RS" ARC_ALLOW)" \
    "(ARC_NA: $(bench_field "$RS" ARC_NA))"
$PY "$HERE/compare.py" "$T/netjes.results" "$T/rspamd.results"
